//! What a severity level means to the tools downstream, with the defaults a plan need not
//! write: whether its alerts page someone, the conventional `severity` label they carry
//! (`critical`, `warning`, `info`), and which maintenance windows mute them.
//!
//! The Prometheus rules (labels), the Alertmanager configuration (mutes, `PagerDuty` severity),
//! the runbook pages and `upkeep diff` all read these, so what is documented is what is routed.

use super::{Channel, Document, Level, Mute, SeverityLabel, Window, WindowKind};
use crate::value::Duration;

/// Whether alerts of `level` page someone: its `pages` when written, otherwise whether it
/// notifies a paging tool (`PagerDuty` or Opsgenie).
pub fn pages(doc: &Document, level: &Level) -> bool {
    level.pages.unwrap_or_else(|| {
        level.notify.iter().any(|r| {
            doc.receivers.get(&r.value).is_some_and(|rc| {
                matches!(rc.kind.channel(), Channel::PagerDuty | Channel::Opsgenie)
            })
        })
    })
}

/// The conventional `severity` label of `level`'s alerts: its `severity` when written;
/// otherwise `critical` for a level that [`pages`], `info` for the least urgent level of a plan
/// with three or more levels, and `warning` for the others.
pub fn severity(doc: &Document, level: &Level) -> SeverityLabel {
    if let Some(s) = &level.severity {
        return s.value;
    }
    if pages(doc, level) {
        return SeverityLabel::Critical;
    }
    let levels = doc
        .severity
        .as_ref()
        .map(|s| s.value.levels.as_slice())
        .unwrap_or_default();
    let least = levels
        .last()
        .is_some_and(|l| l.name.value == level.name.value);
    if levels.len() >= 3 && least {
        SeverityLabel::Info
    } else {
        SeverityLabel::Warning
    }
}

/// Whether `window` mutes the alerts of `level` (freeze windows mute nothing; planned
/// `downtime` is not a level's muting: it mutes the services it names, at every level).
pub fn mutes(doc: &Document, window: &Window, level: &Level) -> bool {
    if window.kind == WindowKind::Freeze {
        return false;
    }
    match &window.mute {
        Mute::Nothing => false,
        Mute::NonPaging => !pages(doc, level),
        Mute::Levels(list) => list.iter().any(|l| l.value == level.name.value),
    }
}

/// The levels `window` mutes, most urgent first.
pub fn muted<'d>(doc: &'d Document, window: &Window) -> Vec<&'d Level> {
    doc.severity
        .as_ref()
        .map(|s| s.value.levels.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|l| mutes(doc, window, l))
        .collect()
}

/// `names` in words, against every level of the plan (most urgent first): "every level",
/// "every level but `P0`", "`P3`, `P4`", "no level". `quote` writes one name.
pub fn describe(all: &[&str], names: &[&str], quote: impl Fn(&str) -> String) -> String {
    let list = |v: &[&str]| v.iter().map(|n| quote(n)).collect::<Vec<_>>().join(", ");
    let others: Vec<&str> = all.iter().copied().filter(|n| !names.contains(n)).collect();
    if names.is_empty() {
        "no level".to_owned()
    } else if others.is_empty() {
        "every level".to_owned()
    } else if others.len() < names.len() {
        format!("every level but {}", list(&others))
    } else {
        list(names)
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn muted_levels_in_words() {
        let all = ["P0", "P1", "P2", "P3", "P4"];
        let q = |n: &str| format!("`{n}`");
        assert_eq!(describe(&all, &[], q), "no level");
        assert_eq!(describe(&all, &all, q), "every level");
        assert_eq!(
            describe(&all, &["P1", "P2", "P3", "P4"], q),
            "every level but `P0`"
        );
        assert_eq!(describe(&all, &["P3", "P4"], q), "`P3`, `P4`");
    }
}

/// How Alertmanager batches and repeats a level's notifications, from its `response` (and
/// `repeat`): a level that must be answered sooner waits less before it speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timers {
    /// `group_wait`: the first notification of a group waits this long for alerts that start
    /// together — a thirtieth of `response`, between 10s and 5m.
    pub group_wait: Duration,
    /// `group_interval`: an alert joining a group that was already notified waits this long —
    /// a tenth of `response`, between 1m and 1h.
    pub group_interval: Duration,
    /// `repeat_interval`: an alert still firing is sent again after this long — the level's
    /// `repeat`, else its `response` (nobody answered in time: say it again), never shorter
    /// than `group_interval` (Alertmanager sends repeats on a group's interval).
    pub repeat_interval: Duration,
}

/// The Alertmanager timers of `level` (see [`Timers`]).
pub fn timers(level: &Level) -> Timers {
    let response = level.response.value;
    let part = |div: u64, lo: Duration, hi: Duration| {
        Duration::from_secs(response.as_secs() / div).clamp(lo, hi)
    };
    let group_wait = part(30, Duration::from_secs(10), Duration::from_mins(5));
    let group_interval = part(10, Duration::from_mins(1), Duration::from_hours(1));
    let repeat = level.repeat.as_ref().map_or(response, |r| r.value);
    Timers {
        group_wait,
        group_interval,
        repeat_interval: repeat.max(group_interval),
    }
}

/// The longest time from an alert's condition holding in Prometheus to its first notification:
/// one rule evaluation (Prometheus' default `evaluation_interval`, [`EVALUATION`]) plus the
/// level's `group_wait`.
pub fn notify_delay(level: &Level) -> Duration {
    EVALUATION.saturating_add(timers(level).group_wait)
}

/// The evaluation interval the response check assumes for rule groups without their own:
/// Prometheus' default `evaluation_interval`.
pub const EVALUATION: Duration = Duration::from_mins(1);
