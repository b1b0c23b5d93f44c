//! A one-off at a local time that does not exist (the hour skipped when daylight saving starts)
//! never happens: recurring schedules skip that day by design, a one-off would silently not run.

use super::Cx;
use crate::diag::{Code, Diagnostic};
use crate::model::timeline;
use crate::value::Schedule;
use crate::value::schedule::local_instant;
use crate::value::time::TimeOfDay;

pub(super) fn check(cx: &mut Cx<'_>) {
    let tz = cx.plan.metadata.timezone.value;
    let mut seen = Vec::new();
    for item in timeline::items(cx.plan) {
        let Schedule::Once { date, at } = item.schedule else {
            continue;
        };
        if seen.contains(&item.when) || local_instant(tz, *date, *at).is_some() {
            continue;
        }
        seen.push(item.when);
        // The first minute after the gap: what the clock reads once it has jumped.
        let after = (1..=24 * 60)
            .map(|m| {
                let m = u32::from(at.hour) * 60 + u32::from(at.minute) + m;
                TimeOfDay {
                    hour: (m / 60 % 24) as u8,
                    minute: (m % 60) as u8,
                }
            })
            .find(|t| local_instant(tz, *date, *t).is_some())
            .unwrap_or(TimeOfDay::MIDNIGHT);
        let day = date.format("%Y-%m-%d");
        cx.diags.push(
            Diagnostic::new(
                Code::ScheduleInvalid,
                format!("{day} {at} does not exist in {tz}: the clocks skip it that night, so this one-off would never run"),
            )
            .at(item.when)
            .label("a local time that is skipped")
            .help(format!("pick a time that exists, e.g. `once on {day} at {after}`")),
        );
    }
}
