//! What a severity level means to the tools downstream, with the defaults a plan need not
//! write: whether its alerts page someone, and the conventional `severity` label they carry
//! (`critical`, `warning`, `info`).
//!
//! The Prometheus rules (labels), the Alertmanager configuration (`PagerDuty` severity), the
//! runbook pages and `upkeep diff` all read these, so what is documented is what is routed.

use super::{Channel, Document, Level, SeverityLabel};

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
