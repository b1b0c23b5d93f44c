//! The pictures of time: a reference week and a reference month of windows, tasks and backups as
//! Mermaid Gantt data, and how often each scheduled item happens (for the checklists).
//!
//! Output must not depend on the clock, so the week and the month are fixed: the week starting
//! Monday 2027-03-01 and the month of March 2027, in the plan's time zone (2027 is also the
//! reference year of the time checks; March has the DST change of most northern zones).

use crate::value::zone::Tz;
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use serde::Serialize;

use crate::model::timeline::{Item, ItemKind};
use crate::model::{Plan, When, WindowKind};
use crate::value::{Duration, Schedule};

/// The first day of the week and month the charts show: the first Monday that is the 1st of a
/// month after the reference date (`value::time::REFERENCE_DATE`).
pub(super) const REFERENCE_START: (i32, u32, u32) = (2027, 3, 1);

/// More bars than this for one item in one chart are noise: the item is named under the chart.
const WEEK_LIMIT: usize = 14;
const MONTH_LIMIT: usize = 10;

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Chart {
    /// `week` or `month`.
    pub period: &'static str,
    pub title: String,
    /// d3 time format of the axis (`%a %d`).
    pub axis: String,
    pub sections: Vec<Section>,
    /// Items that happen too often to draw, with their schedule.
    pub frequent: Vec<Note>,
    /// Items that do not happen in the period.
    pub absent: Vec<Note>,
    /// Whether a freeze window is drawn (in red, Mermaid `crit`).
    pub freeze: bool,
    /// Whether an instant (a backup, a review) is drawn (as a diamond, Mermaid `milestone`).
    pub instants: bool,
}

/// One row group: one item and its occurrences.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Section {
    /// `window nightly`, `backup db.full`: safe in a Mermaid section line.
    pub name: String,
    pub bars: Vec<Bar>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Bar {
    /// Safe in a Mermaid task line (no `:`, `#`, `;`).
    pub label: String,
    /// Mermaid tags: `crit` (freeze windows), `milestone` (instants).
    pub tags: Vec<&'static str>,
    /// Local wall time, `YYYY-MM-DD HH:mm`.
    pub start: String,
    /// Mermaid length: `2h`, `45m`, `30s`, `0m`.
    pub length: String,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Note {
    pub name: String,
    pub schedule: String,
}

fn local_midnight(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let naive = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&naive)
        .earliest()
        .or_else(|| {
            // Midnight skipped by a DST change: the first instant of the day.
            tz.from_local_datetime(&(naive + chrono::Duration::hours(1)))
                .earliest()
        })
        .map_or_else(|| Utc.from_utc_datetime(&naive), |t| t.with_timezone(&Utc))
}

fn reference_date(days: u32) -> NaiveDate {
    let (y, m, d) = REFERENCE_START;
    let start = NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    start + chrono::Days::new(u64::from(days))
}

/// Start instants of `item` in `[from, to)`, at most `cap`.
fn starts_between(
    item: &Item<'_>,
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    cap: usize,
) -> Vec<DateTime<Tz>> {
    let after = from - chrono::Duration::seconds(1);
    item.starts(tz, after)
        .take_while(|t| t.with_timezone(&Utc) < to)
        .filter(|t| t.with_timezone(&Utc) >= from)
        .take(cap)
        .collect()
}

/// A length Mermaid reads: whole days, hours or minutes, else seconds.
pub(super) fn mermaid_length(d: Option<Duration>) -> String {
    let Some(d) = d else {
        return "0m".to_owned();
    };
    let s = d.as_secs();
    if s == 0 {
        "0m".to_owned()
    } else if s % 86_400 == 0 {
        format!("{}d", s / 86_400)
    } else if s % 3600 == 0 {
        format!("{}h", s / 3600)
    } else if s % 60 == 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// Text safe in a Mermaid Gantt line: no `:` (starts the data), `#` or `;` (comments and
/// statement ends), no line breaks.
pub(super) fn mermaid_safe(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            ':' | '#' | ';' | '%' | '\n' | '\r' | '\t' => ' ',
            c => c,
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether the item is a task placed inside a window (drawn as the window).
fn in_window(plan: &Plan, item: &Item<'_>) -> bool {
    item.kind == ItemKind::Task
        && plan
            .tasks
            .get(&item.name)
            .is_some_and(|t| matches!(t.when, When::Window(_)))
}

fn is_freeze(plan: &Plan, item: &Item<'_>) -> bool {
    item.kind == ItemKind::Window
        && plan
            .windows
            .get(&item.name)
            .is_some_and(|w| w.kind == WindowKind::Freeze)
}

fn chart(
    plan: &Plan,
    items: &[Item<'_>],
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    limit: usize,
    period: &'static str,
    title: &str,
    axis: &str,
) -> Chart {
    let tz = plan.metadata.timezone.value;
    let mut sections = Vec::new();
    let mut frequent = Vec::new();
    let mut absent = Vec::new();
    for item in items.iter().filter(|i| !in_window(plan, i)) {
        let starts = starts_between(item, tz, from, to, limit + 1);
        let note = || Note {
            name: item.name.clone(),
            schedule: item.schedule.to_string(),
        };
        if starts.is_empty() {
            absent.push(note());
            continue;
        }
        if starts.len() > limit {
            frequent.push(note());
            continue;
        }
        let freeze = is_freeze(plan, item);
        let instant = item.duration.is_none_or(Duration::is_zero);
        let mut tags = Vec::new();
        if freeze {
            tags.push("crit");
        }
        if instant {
            tags.push("milestone");
        }
        let label = mermaid_safe(&item.name);
        let bars = starts
            .iter()
            .map(|t| Bar {
                label: label.clone(),
                tags: tags.clone(),
                start: t.format("%Y-%m-%d %H:%M").to_string(),
                length: mermaid_length(item.duration),
            })
            .collect();
        let kind = if freeze { "freeze" } else { item.kind.name() };
        sections.push(Section {
            name: mermaid_safe(&format!("{kind} {}", item.name)),
            bars,
        });
    }
    let drawn = |tag: &str| {
        sections
            .iter()
            .any(|s: &Section| s.bars.iter().any(|b| b.tags.contains(&tag)))
    };
    Chart {
        period,
        title: mermaid_safe(title),
        axis: axis.to_owned(),
        freeze: drawn("crit"),
        instants: drawn("milestone"),
        sections,
        frequent,
        absent,
    }
}

/// The reference week (Monday 2027-03-01 to Sunday 2027-03-07).
pub(super) fn week(plan: &Plan, items: &[Item<'_>]) -> Chart {
    let tz = plan.metadata.timezone.value;
    let from = local_midnight(tz, reference_date(0));
    let to = local_midnight(tz, reference_date(7));
    chart(
        plan,
        items,
        (from, to),
        WEEK_LIMIT,
        "week",
        &format!("Week of {} ({})", reference_date(0), tz.name()),
        "%a %d",
    )
}

/// The reference month (March 2027).
pub(super) fn month(plan: &Plan, items: &[Item<'_>]) -> Chart {
    let tz = plan.metadata.timezone.value;
    let from = local_midnight(tz, reference_date(0));
    let to = local_midnight(tz, reference_date(31));
    chart(
        plan,
        items,
        (from, to),
        MONTH_LIMIT,
        "month",
        &format!("{} ({})", reference_date(0).format("%B %Y"), tz.name()),
        "%d",
    )
}

/// How often something happens, for grouping checklists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Frequency {
    Daily,
    Weekly,
    Monthly,
    Quarterly,
    Semiannual,
    Yearly,
    Once,
}

impl Frequency {
    pub(super) const ALL: [Frequency; 7] = [
        Frequency::Daily,
        Frequency::Weekly,
        Frequency::Monthly,
        Frequency::Quarterly,
        Frequency::Semiannual,
        Frequency::Yearly,
        Frequency::Once,
    ];

    pub(super) fn title(self) -> &'static str {
        match self {
            Frequency::Daily => "Daily",
            Frequency::Weekly => "Weekly",
            Frequency::Monthly => "Monthly",
            Frequency::Quarterly => "Quarterly",
            Frequency::Semiannual => "Twice a year",
            Frequency::Yearly => "Yearly",
            Frequency::Once => "Once",
        }
    }
}

/// How often `item` starts in the reference year (2027): daily or more often, weekly, monthly…
pub(super) fn frequency(item: &Item<'_>, tz: Tz) -> Frequency {
    if matches!(item.schedule, Schedule::Once { .. }) {
        return Frequency::Once;
    }
    // Limited to dates: how often it runs while it runs (seven days of a daily task are daily).
    if let Some(gap) = item.schedule.bound().and(item.schedule.rule().max_gap()) {
        return match gap.as_secs().div_ceil(86_400) {
            0 | 1 => Frequency::Daily,
            2..=7 => Frequency::Weekly,
            8..=31 => Frequency::Monthly,
            32..=92 => Frequency::Quarterly,
            93..=184 => Frequency::Semiannual,
            _ => Frequency::Yearly,
        };
    }
    let year = crate::value::time::REFERENCE_DATE;
    let from = local_midnight(tz, year);
    let to = local_midnight(tz, year.with_year(year.year() + 1).unwrap_or(year));
    let n = starts_between(item, tz, from, to, 200).len();
    match n {
        200.. => Frequency::Daily,
        40.. => Frequency::Weekly,
        10.. => Frequency::Monthly,
        3.. => Frequency::Quarterly,
        2 => Frequency::Semiannual,
        // A cron line on 29 February has no start in 2027.
        0 | 1 => Frequency::Yearly,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_labels_mermaid_reads() {
        let d = |s: &str| Duration::parse(s, true).ok();
        assert_eq!(mermaid_length(d("2h")), "2h");
        assert_eq!(mermaid_length(d("90m")), "90m");
        assert_eq!(mermaid_length(d("1d")), "1d");
        assert_eq!(mermaid_length(d("30s")), "30s");
        assert_eq!(mermaid_length(None), "0m");
        assert_eq!(mermaid_safe("a: b # c; d\ne"), "a b c d e");
    }
}
