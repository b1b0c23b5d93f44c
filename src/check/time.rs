//! Time: tasks that overflow their window, anything that overlaps a freeze window, automated
//! tasks on one service at the same time, and planned downtime against error budgets.
//!
//! Overlaps are computed on real occurrences in the plan's time zone over a fixed reference year
//! (2027, which has both DST changes in both hemispheres), plus the days around any one-off.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::Cx;
use crate::diag::{Code, Diagnostic, Severity};
use crate::model::timeline::{self, Item, ItemKind};
use crate::model::{Plan, When, WindowKind};
use crate::span::Span;
use crate::value::{Duration, Schedule};

/// A run: start and end instants.
type Run = (DateTime<Utc>, DateTime<Utc>);

fn reference_year() -> (DateTime<Utc>, DateTime<Utc>) {
    let from = crate::value::time::reference_instant();
    (from, from + chrono::Duration::days(366))
}

/// The period over which two items are compared: the reference year, or around a one-off.
fn horizon(a: &Item<'_>, b: &Item<'_>, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    for it in [a, b] {
        if let Schedule::Once { date, at } = it.schedule {
            if let Some(t) = crate::value::schedule::local_instant(tz, *date, *at) {
                let t = t.with_timezone(&Utc);
                return (t - chrono::Duration::days(2), t + chrono::Duration::days(2));
            }
        }
    }
    reference_year()
}

/// Runs of an item starting in `[from - lead, until)`; zero-length items count one minute.
fn runs(
    item: &Item<'_>,
    tz: Tz,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    lead: Duration,
) -> Vec<Run> {
    let len = item
        .duration
        .filter(|d| !d.is_zero())
        .unwrap_or(Duration::from_mins(1));
    let len = chrono::Duration::milliseconds(len.as_millis() as i64);
    let lead = chrono::Duration::milliseconds(lead.as_millis() as i64);
    item.starts(tz, from - lead - chrono::Duration::seconds(1))
        .map(|t| t.with_timezone(&Utc))
        .take_while(|t| *t < until)
        .map(|t| (t, t + len))
        .collect()
}

/// The first pair of overlapping runs, if any (both lists sorted by start).
fn first_overlap(a: &[Run], b: &[Run]) -> Option<(Run, Run)> {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        if x.0 < y.1 && y.0 < x.1 {
            return Some((x, y));
        }
        if x.1 <= y.1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    None
}

fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%a %Y-%m-%d %H:%M").to_string()
}

pub(super) fn check(cx: &mut Cx<'_>) {
    overflow(cx);
    let plan = cx.plan;
    let tz = plan.metadata.timezone.value;
    let items = timeline::items(plan);
    let mut runs = Runs::default();
    freeze(cx, plan, &items, tz, &mut runs);
    task_overlap(cx, plan, &items, tz, &mut runs);
    downtime_budget(cx, plan, tz);
}

/// The runs of each item over a horizon, computed once: a freeze window is compared with every
/// item, and an item with every freeze window and every task on its service.
#[derive(Default)]
struct Runs {
    cache: std::collections::HashMap<(usize, i64, i64), std::rc::Rc<Vec<Run>>>,
}

impl Runs {
    fn of(
        &mut self,
        items: &[Item<'_>],
        i: usize,
        tz: Tz,
        (from, until): (DateTime<Utc>, DateTime<Utc>),
        lead: Duration,
    ) -> std::rc::Rc<Vec<Run>> {
        let key = (i, from.timestamp(), lead.as_millis() as i64);
        self.cache
            .entry(key)
            .or_insert_with(|| std::rc::Rc::new(runs(&items[i], tz, from, until, lead)))
            .clone()
    }
}

fn overflow(cx: &mut Cx<'_>) {
    let plan = cx.plan;
    for (wname, w) in plan.windows.iter() {
        let tasks: Vec<_> = plan
            .tasks
            .iter()
            .filter(|(_, t)| matches!(&t.when, When::Window(n) if n.value == wname.value))
            .collect();
        let total = tasks.iter().fold(Duration::ZERO, |acc, (_, t)| {
            acc.saturating_add(t.duration.value)
        });
        if total > w.duration.value {
            let mut d = Diagnostic::new(
                Code::WindowOverflow,
                format!(
                    "tasks in window `{}` need {} but the window lasts {}",
                    wname.value, total, w.duration.value
                ),
            )
            .at(w.duration.span)
            .label(format!(
                "{} too short",
                total.saturating_sub(w.duration.value)
            ));
            let mut at = Duration::ZERO;
            for (tname, t) in &tasks {
                let end = at.saturating_add(t.duration.value);
                let note = if end > w.duration.value {
                    format!("`{}` runs {at}..{end}, past the end", tname.value)
                } else {
                    format!("`{}` runs {at}..{end}", tname.value)
                };
                d = d.with_label(t.duration.span, note);
                at = end;
            }
            cx.diags.push(d.help("tasks in a window run one after another from its start; lengthen the window, shorten the estimates, or move a task"));
        }
    }
}

fn freeze(cx: &mut Cx<'_>, plan: &Plan, items: &[Item<'_>], tz: Tz, runs: &mut Runs) {
    let is_freeze = |i: &Item<'_>| {
        i.kind == ItemKind::Window
            && plan
                .windows
                .get(&i.name)
                .is_some_and(|w| w.kind == WindowKind::Freeze)
    };
    for (fi, f) in items.iter().enumerate().filter(|(_, i)| is_freeze(i)) {
        for (ii, item) in items.iter().enumerate() {
            if is_freeze(item) || item.kind == ItemKind::Review {
                continue;
            }
            let horizon = horizon(item, f, tz);
            let a = runs.of(items, ii, tz, horizon, Duration::ZERO);
            let b = runs.of(items, fi, tz, horizon, f.duration.unwrap_or_default());
            if let Some((x, y)) = first_overlap(&a, &b) {
                cx.diags.push(
                    Diagnostic::new(
                        Code::FreezeOverlap,
                        format!("{} `{}` overlaps freeze window `{}` (first on {})", item.kind.name(), item.name, f.name, local(x.0, tz)),
                    )
                    .at(item.when)
                    .label(format!("runs {}–{}", local(x.0, tz), x.1.with_timezone(&tz).format("%H:%M")))
                    .with_label(f.when, format!("freeze {}–{}", local(y.0, tz), y.1.with_timezone(&tz).format("%H:%M")))
                    .help("nothing may run in a freeze window; move it outside, or shorten the freeze"),
                );
            }
        }
    }
}

fn task_overlap(cx: &mut Cx<'_>, plan: &Plan, items: &[Item<'_>], tz: Tz, runs: &mut Runs) {
    let tasks: Vec<(usize, &str)> = items
        .iter()
        .enumerate()
        .filter(|(_, i)| i.kind == ItemKind::Task && i.automated)
        .filter_map(|(k, i)| {
            plan.tasks
                .get(&i.name)
                .and_then(|t| t.service.as_ref())
                .map(|s| (k, s.value.as_str()))
        })
        .collect();
    for (k, (ia, sa)) in tasks.iter().enumerate() {
        for (ib, sb) in &tasks[k + 1..] {
            if sa != sb {
                continue;
            }
            let (a, b) = (&items[*ia], &items[*ib]);
            let horizon = horizon(a, b, tz);
            let ra = runs.of(items, *ia, tz, horizon, Duration::ZERO);
            let rb = runs.of(items, *ib, tz, horizon, Duration::ZERO);
            if let Some((x, y)) = first_overlap(&ra, &rb) {
                cx.diags.push(
                    Diagnostic::new(
                        Code::TaskOverlap,
                        format!("tasks `{}` and `{}` both run on `{sa}` at the same time (first on {})", a.name, b.name, local(x.0.max(y.0), tz)),
                    )
                    .at(b.when)
                    .label(format!("`{}` runs {}–{}", b.name, local(y.0, tz), y.1.with_timezone(&tz).format("%H:%M")))
                    .with_label(a.when, format!("`{}` runs {}–{}", a.name, local(x.0, tz), x.1.with_timezone(&tz).format("%H:%M")))
                    .help("shift one of them, or put both in one window so they run one after another"),
                );
            }
        }
    }
}

fn downtime_budget(cx: &mut Cx<'_>, plan: &Plan, tz: Tz) {
    let (from, until) = reference_year();
    for (sname, _) in plan.services.iter() {
        // Every planned downtime of this service, from all windows.
        let mut events: Vec<(DateTime<Utc>, Duration)> = Vec::new();
        let mut spans: Vec<(Span, String)> = Vec::new();
        for (wname, w) in plan.windows.iter() {
            let Some(d) = &w.downtime else { continue };
            if !d.services.iter().any(|s| s.value == sname.value) {
                continue;
            }
            spans.push((
                d.per_occurrence.span,
                format!(
                    "`{}`: {} per occurrence",
                    wname.value, d.per_occurrence.value
                ),
            ));
            let max_window = plan
                .slos
                .iter()
                .map(|(_, s)| s.window.value)
                .max()
                .unwrap_or_default();
            let horizon_end = until + chrono::Duration::milliseconds(max_window.as_millis() as i64);
            for t in w
                .schedule
                .value
                .occurrences(tz, from - chrono::Duration::seconds(1))
            {
                let t = t.with_timezone(&Utc);
                if t >= horizon_end {
                    break;
                }
                events.push((t, d.per_occurrence.value));
            }
        }
        if events.is_empty() {
            continue;
        }
        events.sort_by_key(|e| e.0);
        for (slo_name, slo) in plan
            .slos
            .iter()
            .filter(|(_, s)| s.service.value == sname.value)
        {
            let window = slo.window.value;
            let budget_ms = crate::value::Number::int(window.as_millis() as i64)
                .checked_mul(
                    crate::value::Number::ONE
                        .checked_sub(slo.objective.value.ratio())
                        .unwrap_or(crate::value::Number::ZERO),
                )
                .map_or(0.0, crate::value::Number::to_f64);
            // The worst window-long period starting in the reference year.
            let w = chrono::Duration::milliseconds(window.as_millis() as i64);
            let (mut j, mut sum, mut worst) = (0usize, 0u64, 0u64);
            for i in 0..events.len() {
                if events[i].0 >= until {
                    break;
                }
                while j < events.len() && events[j].0 < events[i].0 + w {
                    sum += events[j].1.as_millis();
                    j += 1;
                }
                worst = worst.max(sum);
                sum -= events[i].1.as_millis();
            }
            let share = if budget_ms > 0.0 {
                worst as f64 / budget_ms
            } else {
                f64::INFINITY
            };
            if share <= 0.5 {
                continue;
            }
            let severity = if share > 1.0 {
                Severity::Error
            } else {
                Severity::Warning
            };
            let worst_d = Duration::from_millis(worst);
            let budget_d = Duration::from_secs((budget_ms / 1000.0).round() as u64);
            let mut d = Diagnostic::new(
                Code::WindowBudget,
                format!(
                    "planned downtime of `{}` is {} per {}, {:.0}% of the error budget of `slos.{}` ({} at {})",
                    sname.value,
                    worst_d,
                    window,
                    share * 100.0,
                    slo_name.value,
                    budget_d,
                    slo.objective.value
                ),
            )
            .severity(severity)
            .at(spans[0].0)
            .label(spans[0].1.clone());
            for (span, note) in &spans[1..] {
                d = d.with_label(*span, note.clone());
            }
            d = d.with_label(
                slo.objective.span,
                format!("error budget {budget_d} per {window}"),
            );
            let help = if severity == Severity::Error {
                "the planned downtime alone breaks the SLO; shorten it, make releases zero-downtime, or lower the objective"
            } else {
                "more than half of the error budget goes to planned downtime, leaving little for incidents; shorten it or plan fewer occurrences"
            };
            cx.diags.push(d.help(help));
        }
    }
}
