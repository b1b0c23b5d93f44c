//! Time: tasks that overflow their window, anything that overlaps a freeze window, automated
//! tasks on one service at the same time (with each other, and with the backups and restore
//! tests of that service), and planned downtime against error budgets.
//!
//! Overlaps are computed on real occurrences in the plan's time zone over a fixed reference year
//! (2027, which has both DST changes in both hemispheres), plus the days around any one-off.
//! Two schedules that repeat every few days (`every 1m`, `daily`, `weekly on …`) are compared
//! only where their first overlap can be: the first days of the year and the days around each
//! change of the time zone's offset (see [`periodic_horizon`]); the answer is the same as over
//! the whole year. What is expanded is bounded ([`MAX_WORK`]); past it the plan gets
//! `limit/runs` instead of a check that would not end.

use std::fmt::Write as _;

use crate::value::zone::Tz;
use chrono::{DateTime, Utc};

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

/// Where two items are compared: disjoint periods `(after, until)` in order, each holding the
/// runs that start after `after` and before `until`.
type Horizon = Vec<(DateTime<Utc>, DateTime<Utc>)>;

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

/// The length of an item's runs; zero-length items count one minute.
fn run_len(item: &Item<'_>) -> chrono::Duration {
    let len = item
        .duration
        .filter(|d| !d.is_zero())
        .unwrap_or(Duration::from_mins(1));
    chrono::Duration::milliseconds(len.as_millis() as i64)
}

/// The hours of the reference year (and a day either side) at whose end the time zone's
/// offset changes: found once per time zone and process ([`walk_offsets`]), as the plans of
/// one tree share a handful of zones.
fn offset_changes(tz: Tz) -> std::sync::Arc<[DateTime<Utc>]> {
    /// At most one entry per zone of the time zone database.
    static KNOWN: crate::par::Memo<Tz, std::sync::Arc<[DateTime<Utc>]>> =
        crate::par::Memo::new(usize::MAX);
    KNOWN.get(&tz, || walk_offsets(tz).into())
}

/// The hours of the reference year and a day either side after which `tz` changes its offset.
/// A day whose offset at its end is the offset at its start is taken to have no change (no
/// zone changes its offset and back within a day: the unit test holds every zone of the
/// database to an hour-by-hour walk); the others are walked hour by hour, which finds every
/// change at a twentieth of the cost of walking every hour.
fn walk_offsets(tz: Tz) -> Vec<DateTime<Utc>> {
    let offset = offset_at(tz);
    let (from, until) = reference_year();
    let (hour, day) = (chrono::Duration::hours(1), chrono::Duration::days(1));
    let mut out = Vec::new();
    let mut d = from - day;
    while d < until + day {
        if offset(d) != offset(d + day) {
            let mut t = d;
            let mut current = offset(t);
            while t < d + day {
                let o = offset(t + hour);
                if o != current {
                    out.push(t);
                    current = o;
                }
                t += hour;
            }
        }
        d += day;
    }
    out
}

/// The offset of `tz` at an instant.
fn offset_at(tz: Tz) -> impl Fn(DateTime<Utc>) -> chrono::FixedOffset {
    use chrono::Offset as _;
    use chrono::TimeZone as _;
    move |t: DateTime<Utc>| tz.offset_from_utc_datetime(&t.naive_utc()).fix()
}

/// Where two items that both repeat every few days can first overlap, over the period
/// `(from - lead, until)`; `None` when that is most of the period anyway.
///
/// Both items repeat every `period` days in local time, so between two changes of the
/// offset their runs in UTC repeat every `period` days: if a run first overlaps another more
/// than a period after such a change, the same two runs a period earlier overlapped already.
/// The first overlapping run of each item (what [`first_overlap`] reports) therefore starts
/// within a period, plus the length of both runs, of the start or of a change of offset.
fn periodic_horizon(
    a: &Item<'_>,
    b: &Item<'_>,
    changes: &[DateTime<Utc>],
    (from, until): (DateTime<Utc>, DateTime<Utc>),
    lead: Duration,
) -> Option<Horizon> {
    let (pa, pb) = (a.schedule.period_days()?, b.schedule.period_days()?);
    let period = i64::from(pa / gcd(pa, pb)).checked_mul(i64::from(pb))?;
    if period > 31 {
        return None;
    }
    let lead = chrono::Duration::milliseconds(lead.as_millis() as i64);
    let margin = run_len(a) + run_len(b) + lead + chrono::Duration::days(1);
    let reach = chrono::Duration::days(period) + margin;
    let start = from - lead - chrono::Duration::seconds(1);
    let mut out: Horizon = vec![(start, from + reach)];
    for &c in changes {
        let (s, e) = ((c - margin).max(start), c + reach);
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    for seg in &mut out {
        seg.1 = seg.1.min(until);
    }
    out.retain(|(s, e)| s < e);
    let covered: chrono::Duration = out.iter().map(|(s, e)| *e - *s).sum();
    (covered < (until - start) / 2).then_some(out)
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a.max(1) } else { gcd(b, a % b) }
}

/// Runs of an item starting in each period of `horizon`, in order.
fn runs(item: &Item<'_>, tz: Tz, horizon: &Horizon, work: &mut Work) -> Vec<Run> {
    let len = run_len(item);
    let mut out = Vec::new();
    for &(after, until) in horizon {
        for t in item.starts(tz, after) {
            let t = t.with_timezone(&Utc);
            if t >= until {
                break;
            }
            if !work.spend(1, item.when) {
                return out;
            }
            out.push((t, t + len));
        }
    }
    out
}

/// The most runs (and comparisons of runs) the time checks of one plan expand: about a
/// quarter of a second. A plan of any sensible size needs a small fraction of it; fifty tasks
/// every minute on one service, compared over a whole year, would need ten times more.
pub(crate) const MAX_WORK: u64 = 2_000_000;

/// What is left of [`MAX_WORK`], and where it ran out.
struct Work {
    left: u64,
    exhausted: Option<Span>,
}

impl Work {
    /// Spend `n` units for the schedule at `at`; false once the budget is gone.
    fn spend(&mut self, n: u64, at: Span) -> bool {
        if self.exhausted.is_some() {
            return false;
        }
        if self.left < n {
            self.exhausted = Some(at);
            return false;
        }
        self.left -= n;
        true
    }

    fn done(&self) -> bool {
        self.exhausted.is_some()
    }
}

/// The first pair of overlapping runs, if any (both lists sorted by start).
fn first_overlap(a: &[Run], b: &[Run], work: &mut Work, at: Span) -> Option<(Run, Run)> {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if (i + j) % 1024 == 1023 && !work.spend(1024, at) {
            return None;
        }
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

/// A run as its local start and end time: `Sun 2027-01-03 02:00–03:00`.
fn hours(run: Run, tz: Tz) -> String {
    format!(
        "{}–{}",
        local(run.0, tz),
        run.1.with_timezone(&tz).format("%H:%M")
    )
}

fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%a %Y-%m-%d %H:%M").to_string()
}

pub(super) fn check(cx: &mut Cx<'_>) {
    overflow(cx);
    let plan = cx.plan;
    let tz = plan.metadata.timezone.value;
    let items = timeline::items(plan);
    let mut runs = Runs {
        cache: std::collections::HashMap::new(),
        changes: offset_changes(tz),
        work: Work {
            left: MAX_WORK,
            exhausted: None,
        },
    };
    freeze(cx, plan, &items, tz, &mut runs);
    task_overlap(cx, plan, &items, tz, &mut runs);
    downtime_budget(cx, plan, tz, &mut runs.work);
    if let Some(at) = runs.work.exhausted {
        cx.diags.push(
            Diagnostic::new(
                Code::Runs,
                format!("the schedules of this plan run more often than the compiler compares ({MAX_WORK} runs); overlaps, freezes and planned downtime are not checked"),
            )
            .at(at)
            .label("the limit was reached expanding this schedule")
            .help("run fewer tasks and windows every few minutes: put frequent automated tasks of one service in one window, or run them less often"),
        );
    }
}

/// Most diagnostics of one kind for one service (or freeze window); the rest are counted in one
/// more, so a plan with hundreds of clashing tasks gets a readable report.
const MAX_PAIRS: usize = 20;

/// An item and a horizon, in milliseconds.
type RunsKey = (usize, Vec<(i64, i64)>);

/// The runs of each item over a horizon, computed once: a freeze window is compared with every
/// item, and an item with every freeze window and every task on its service.
struct Runs {
    cache: std::collections::HashMap<RunsKey, std::rc::Rc<Vec<Run>>>,
    /// Where the plan's time zone changes its offset (see [`offset_changes`]).
    changes: std::sync::Arc<[DateTime<Utc>]>,
    work: Work,
}

impl Runs {
    /// The runs of items `ia` and `ib` (`ib` starting `lead` early) where they can first
    /// overlap.
    fn pair(
        &mut self,
        items: &[Item<'_>],
        (ia, ib): (usize, usize),
        tz: Tz,
        lead: Duration,
    ) -> (std::rc::Rc<Vec<Run>>, std::rc::Rc<Vec<Run>>) {
        let (a, b) = (&items[ia], &items[ib]);
        let whole = horizon(a, b, tz);
        let (ha, hb) = match periodic_horizon(a, b, &self.changes, whole, lead) {
            Some(h) => (h.clone(), h),
            None => {
                let lead_ms = chrono::Duration::milliseconds(lead.as_millis() as i64);
                let one = chrono::Duration::seconds(1);
                (
                    vec![(whole.0 - one, whole.1)],
                    vec![(whole.0 - lead_ms - one, whole.1)],
                )
            }
        };
        (self.of(items, ia, tz, &ha), self.of(items, ib, tz, &hb))
    }

    fn of(
        &mut self,
        items: &[Item<'_>],
        i: usize,
        tz: Tz,
        horizon: &Horizon,
    ) -> std::rc::Rc<Vec<Run>> {
        let key = (
            i,
            horizon
                .iter()
                .map(|(s, e)| (s.timestamp_millis(), e.timestamp_millis()))
                .collect(),
        );
        if let Some(r) = self.cache.get(&key) {
            return r.clone();
        }
        let r = std::rc::Rc::new(runs(&items[i], tz, horizon, &mut self.work));
        self.cache.insert(key, r.clone());
        r
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
        let mut found = 0usize;
        let mut more: Vec<&str> = Vec::new();
        for (ii, item) in items.iter().enumerate() {
            if is_freeze(item) || item.kind == ItemKind::Review {
                continue;
            }
            let (a, b) = runs.pair(items, (ii, fi), tz, f.duration.unwrap_or_default());
            let overlap = first_overlap(&a, &b, &mut runs.work, item.when);
            if runs.work.done() {
                return;
            }
            let Some((x, y)) = overlap else { continue };
            found += 1;
            if found > MAX_PAIRS {
                more.push(&item.name);
                continue;
            }
            cx.diags.push(
                Diagnostic::new(
                    Code::FreezeOverlap,
                    format!(
                        "{} `{}` overlaps freeze window `{}` (first on {})",
                        item.kind.name(),
                        item.name,
                        f.name,
                        local(x.0, tz)
                    ),
                )
                .at(item.when)
                .label(format!("runs {}", hours(x, tz)))
                .with_label(f.when, format!("freeze {}", hours(y, tz)))
                .help("nothing may run in a freeze window; move it outside, or shorten the freeze"),
            );
        }
        if !more.is_empty() {
            cx.diags.push(
                Diagnostic::new(
                    Code::FreezeOverlap,
                    format!(
                        "{} more overlap freeze window `{}`: {}",
                        more.len(),
                        f.name,
                        names(&more)
                    ),
                )
                .at(f.when)
                .label("the freeze window")
                .help(
                    "nothing may run in a freeze window; move them outside, or shorten the freeze",
                ),
            );
        }
    }
}

/// "`a`, `b`, `c`", at most ten, then how many more.
fn names(list: &[&str]) -> String {
    let mut out = list
        .iter()
        .take(10)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if list.len() > 10 {
        let _ = write!(out, " and {} more", list.len() - 10);
    }
    out
}

/// The service an automated task, backup level, restore test or prune runs on.
fn job_service<'p>(plan: &'p Plan, item: &Item<'_>) -> Option<&'p str> {
    if !item.automated {
        return None;
    }
    let service = match item.kind {
        ItemKind::Task => plan.tasks.get(&item.name)?.service.as_ref(),
        ItemKind::Backup | ItemKind::RestoreTest | ItemKind::Prune => {
            let (backup, _) = item.name.split_once('.')?;
            plan.backups.get(backup)?.service.as_ref()
        }
        ItemKind::Window | ItemKind::Review => None,
    };
    service.map(|s| s.value.as_str())
}

/// Automated jobs on one service that run at the same time: two tasks, or a task and a backup
/// level or restore test of a backup of that service (backups among themselves are the backup
/// tool's business). A backup runs for its `duration`; without one, only its first minute
/// counts.
fn task_overlap(cx: &mut Cx<'_>, plan: &Plan, items: &[Item<'_>], tz: Tz, runs: &mut Runs) {
    let tasks: Vec<(usize, &str)> = items
        .iter()
        .enumerate()
        .filter_map(|(k, i)| job_service(plan, i).map(|s| (k, s)))
        .collect();
    // Per service: how many pairs were reported, and the ones past `MAX_PAIRS`.
    let mut found: std::collections::HashMap<&str, (usize, Vec<String>, Span)> =
        std::collections::HashMap::new();
    for (k, (ia, sa)) in tasks.iter().enumerate() {
        for (ib, sb) in &tasks[k + 1..] {
            let (a, b) = (&items[*ia], &items[*ib]);
            if sa != sb || (a.kind != ItemKind::Task && b.kind != ItemKind::Task) {
                continue;
            }
            let (ra, rb) = runs.pair(items, (*ia, *ib), tz, Duration::ZERO);
            let overlap = first_overlap(&ra, &rb, &mut runs.work, b.when);
            if runs.work.done() {
                return;
            }
            let Some((x, y)) = overlap else { continue };
            let seen = found.entry(sa).or_insert((0, Vec::new(), b.when));
            seen.0 += 1;
            if seen.0 > MAX_PAIRS {
                if seen.1.is_empty() {
                    seen.2 = b.when;
                }
                seen.1.push(format!("`{}` and `{}`", a.name, b.name));
                continue;
            }
            let first = local(x.0.max(y.0), tz);
            let (what, help) = if b.kind == ItemKind::Task {
                (
                    format!("tasks `{}` and `{}`", a.name, b.name),
                    "shift one of them, or put both in one window so they run one after another",
                )
            } else {
                (
                    format!("task `{}` and {} `{}`", a.name, b.kind.name(), b.name),
                    "shift one of them so that their runs do not meet (a backup or restore test runs for its `duration`, or its first minute without one)",
                )
            };
            cx.diags.push(
                Diagnostic::new(
                    Code::TaskOverlap,
                    format!("{what} both run on `{sa}` at the same time (first on {first})"),
                )
                .at(b.when)
                .label(format!("`{}` runs {}", b.name, hours(y, tz)))
                .with_label(a.when, format!("`{}` runs {}", a.name, hours(x, tz)))
                .help(help),
            );
        }
    }
    let mut more: Vec<_> = found.into_iter().filter(|(_, f)| !f.1.is_empty()).collect();
    more.sort_by_key(|(_, f)| (f.2.file, f.2.start));
    for (service, (_, pairs, at)) in more {
        let shown = pairs
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        let rest = if pairs.len() > 10 {
            format!(" and {} more", pairs.len() - 10)
        } else {
            String::new()
        };
        cx.diags.push(
            Diagnostic::new(
                Code::TaskOverlap,
                format!(
                    "{} more pairs of tasks run on `{service}` at the same time: {shown}{rest}",
                    pairs.len()
                ),
            )
            .at(at)
            .label("the first of them")
            .help("shift them apart, or put them in one window so they run one after another"),
        );
    }
}

fn downtime_budget(cx: &mut Cx<'_>, plan: &Plan, tz: Tz, work: &mut Work) {
    let (from, until) = reference_year();
    if work.done() {
        return;
    }
    for (sname, _) in plan.services.iter() {
        // Downtime only counts against an SLO of the service.
        if !plan
            .slos
            .iter()
            .any(|(_, s)| s.service.value == sname.value)
        {
            continue;
        }
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
                if !work.spend(1, w.schedule.span) {
                    return;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The day-by-day walk finds the changes of offset an hour-by-hour walk finds, in every
    /// zone of the database.
    #[test]
    fn offsets_change_where_an_hourly_walk_says() {
        for tz in Tz::names().map(|n| n.parse::<Tz>().expect("a listed zone")) {
            let offset = offset_at(tz);
            let (from, until) = reference_year();
            let hour = chrono::Duration::hours(1);
            let mut hourly = Vec::new();
            let mut t = from - chrono::Duration::days(1);
            while t < until + chrono::Duration::days(1) {
                if offset(t) != offset(t + hour) {
                    hourly.push(t);
                }
                t += hour;
            }
            assert_eq!(walk_offsets(tz), hourly, "{tz}");
        }
    }
}
