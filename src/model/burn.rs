//! Burn-rate alerting of SLOs, after the SRE workbook: what the Prometheus emitter writes and
//! what `slo/burn-rate-unreachable` checks.

use crate::value::{Duration, Number};

/// The multi-window burn-rate alerts: share of the error budget (percent), long and short
/// window (seconds). Pages: 2% of the budget in 1h, 5% in 6h.
pub(crate) const PAGE: [(u64, u64, u64); 2] = [(2, 3600, 5 * 60), (5, 6 * 3600, 30 * 60)];
/// Tickets: 10% of the budget in 1d, 10% in 3d.
pub(crate) const TICKET: [(u64, u64, u64); 2] = [(10, 86400, 2 * 3600), (10, 3 * 86400, 6 * 3600)];

/// The burn-rate factor: `share`% of the budget of `slo_window` spent in `long` seconds.
pub(crate) fn burn_factor(share_percent: u64, slo_window: Duration, long: u64) -> Number {
    Number::int(share_percent as i64)
        .checked_mul(Number::int(slo_window.as_secs() as i64))
        .and_then(|n| n.checked_div(Number::int(100 * long as i64)))
        .unwrap_or(Number::ONE)
}
