//! Everything in a plan that happens at a time: windows, tasks (on their own schedule or inside
//! a window, one after another from its start), backup levels, their prunes, restore tests and
//! policy reviews, each with its effective timing. Emitters (cron, Kubernetes, calendar, docs)
//! and checks (overlaps, freezes) all read this one list.

use std::fmt::Write as _;

use crate::value::zone::Tz;
use chrono::{DateTime, Utc};

use super::{Plan, When};
use crate::span::Span;
use crate::value::{Duration, Schedule};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ItemKind {
    Window,
    Task,
    Backup,
    RestoreTest,
    /// A backup kind's `prune` (`db.full.prune`).
    Prune,
    Review,
}

impl ItemKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            ItemKind::Window => "window",
            ItemKind::Task => "task",
            ItemKind::Backup => "backup",
            ItemKind::RestoreTest => "restore test",
            ItemKind::Prune => "prune",
            ItemKind::Review => "review",
        }
    }
}

/// One scheduled thing.
#[derive(Clone, Debug)]
pub(crate) struct Item<'p> {
    pub kind: ItemKind,
    /// `nightly`, `log_rotation`, `postgres.full`, `postgres.restore_test`.
    pub name: String,
    /// The schedule it follows (a task in a window follows the window's).
    pub schedule: &'p Schedule,
    /// Delay after each occurrence of `schedule` (a task's place in its window).
    pub offset: Duration,
    pub duration: Option<Duration>,
    /// Runs by itself (cron or a Kubernetes `CronJob`) rather than being a person's checklist or a period.
    pub automated: bool,
    /// The `schedule` (or `window`) value that says when it happens.
    pub when: Span,
}

impl Item<'_> {
    /// Start instants after `after`, in the plan's time zone.
    pub(crate) fn starts(
        &self,
        tz: Tz,
        after: DateTime<Utc>,
    ) -> impl Iterator<Item = DateTime<Tz>> + '_ {
        let offset = chrono::Duration::milliseconds(self.offset.as_millis() as i64);
        let shifted_after = after - offset;
        self.schedule
            .occurrences(tz, shifted_after)
            .map(move |t| t + offset)
    }
}

/// Every scheduled item of a plan, in the order of the plan.
pub(crate) fn items(plan: &Plan) -> Vec<Item<'_>> {
    let mut out = Vec::new();
    for (name, w) in plan.windows.iter() {
        out.push(Item {
            kind: ItemKind::Window,
            name: name.value.clone(),
            schedule: &w.schedule.value,
            offset: Duration::ZERO,
            duration: Some(w.duration.value),
            automated: false,
            when: w.schedule.span,
        });
    }
    // Tasks in one window run one after another, in the order written.
    let mut used: Vec<(String, Duration)> = Vec::new();
    for (name, t) in plan.tasks.iter() {
        let when = match &t.when {
            When::Schedule(s) => s.span,
            When::Window(w) => w.span,
        };
        let (schedule, offset) = match &t.when {
            When::Schedule(s) => (&s.value, Duration::ZERO),
            When::Window(w) => {
                let Some(win) = plan.windows.get(&w.value) else {
                    continue;
                };
                let slot = match used.iter_mut().find(|(n, _)| *n == w.value) {
                    Some(slot) => slot,
                    None => {
                        used.push((w.value.clone(), Duration::ZERO));
                        used.last_mut().expect("just pushed")
                    }
                };
                let offset = slot.1;
                slot.1 = slot.1.saturating_add(t.duration.value);
                (&win.schedule.value, offset)
            }
        };
        out.push(Item {
            kind: ItemKind::Task,
            name: name.value.clone(),
            schedule,
            offset,
            duration: Some(t.duration.value),
            automated: !t.manual && t.command.is_some(),
            when,
        });
    }
    for (name, b) in plan.backups.iter() {
        for l in &b.levels {
            out.push(Item {
                kind: ItemKind::Backup,
                name: format!("{}.{}", name.value, l.kind.name()),
                schedule: &l.schedule.value,
                offset: Duration::ZERO,
                duration: l.duration.as_ref().map(|d| d.value),
                automated: !l.manual && (l.command.is_some() || b.command.is_some()),
                when: l.schedule.span,
            });
        }
        for (p, l, _) in super::alerts::pruned_levels(b) {
            out.push(Item {
                kind: ItemKind::Prune,
                name: prune_name(&name.value, l.kind),
                schedule: &p.schedule.value,
                offset: Duration::ZERO,
                duration: p.duration.as_ref().map(|d| d.value),
                automated: true,
                when: p.schedule.span,
            });
        }
        if let Some(r) = &b.restore_test {
            out.push(Item {
                kind: ItemKind::RestoreTest,
                name: format!("{}.restore_test", name.value),
                schedule: &r.schedule.value,
                offset: Duration::ZERO,
                duration: r.duration.as_ref().map(|d| d.value),
                automated: !r.manual && r.command.is_some(),
                when: r.schedule.span,
            });
        }
    }
    if let Some(p) = &plan.policies {
        for (name, r) in p.reviews.iter() {
            out.push(Item {
                kind: ItemKind::Review,
                name: name.value.clone(),
                schedule: &r.schedule.value,
                offset: Duration::ZERO,
                duration: None,
                automated: false,
                when: r.schedule.span,
            });
        }
    }
    out
}

/// The job that prunes kind `kind` of backup `backup`: `db.full.prune`.
pub(crate) fn prune_name(backup: &str, kind: super::BackupKind) -> String {
    format!("{backup}.{}.prune", kind.name())
}

/// The next `n` starts of every item.
pub(crate) struct Listing<'p> {
    pub rows: Vec<(Item<'p>, Vec<DateTime<Tz>>)>,
}

pub(crate) fn listing(plan: &Plan, from: DateTime<Utc>, n: usize) -> Listing<'_> {
    let tz = plan.metadata.timezone.value;
    let rows = items(plan)
        .into_iter()
        .map(|item| {
            let next: Vec<DateTime<Tz>> = item.starts(tz, from).take(n).collect();
            (item, next)
        })
        .collect();
    Listing { rows }
}

fn describe(item: &Item<'_>) -> String {
    let mut s = item.schedule.to_string();
    if !item.offset.is_zero() {
        let _ = write!(s, " +{}", item.offset);
    }
    if let Some(d) = item.duration {
        let _ = write!(s, ", {d}");
    }
    s
}

/// A table for people: one block per item.
pub(crate) fn table(plan: &Plan, listing: &Listing<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({})",
        plan.metadata.name.value,
        plan.metadata.timezone.value.name()
    );
    let width = listing
        .rows
        .iter()
        .map(|(i, _)| i.kind.name().len() + 1 + i.name.len())
        .max()
        .unwrap_or(0);
    for (item, next) in &listing.rows {
        let label = format!("{} {}", item.kind.name(), item.name);
        let _ = writeln!(out, "  {label:width$}  {}", describe(item));
        if next.is_empty() {
            let _ = writeln!(out, "  {:width$}    (no further occurrence)", "");
        }
        for t in next {
            let _ = writeln!(
                out,
                "  {:width$}    {}",
                "",
                t.format("%a %Y-%m-%d %H:%M %Z")
            );
        }
    }
    out
}

/// The same as JSON.
pub(crate) fn json(plan: &Plan, listing: &Listing<'_>) -> String {
    let items: Vec<serde_json::Value> = listing
        .rows
        .iter()
        .map(|(item, next)| {
            serde_json::json!({
                "kind": item.kind.name(),
                "name": item.name,
                "schedule": item.schedule.to_string(),
                "offset": item.offset.to_string(),
                "duration": item.duration.map(|d| d.to_string()),
                "next": next.iter().map(DateTime::to_rfc3339).collect::<Vec<_>>(),
            })
        })
        .collect();
    let v = serde_json::json!({
        "plan": plan.metadata.name.value,
        "timezone": plan.metadata.timezone.value.name(),
        "items": items,
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}
