//! Burn-rate alerting of SLOs, after the SRE workbook (chapter 5, "Alerting on SLOs"): what the
//! Prometheus emitter writes and what `slo/burn-rate-unreachable` checks.
//!
//! A burn rate is the error ratio divided by the error budget (`1 - objective`): at 1× the
//! budget lasts exactly the SLO window. The factors are the workbook's and do not depend on the
//! window: 14.4× spends 2% of a 30-day budget in an hour, whatever the window is. (Deriving them
//! from the window, as `upkeep` once did, gave a 7-day SLO factors below 1, so a burn slower than
//! sustainable opened tickets.)

use crate::value::Number;

/// One multi-window condition: the burn rate must exceed `factor` over both the `long` window
/// and the `short` one (seconds) — the short window makes the alert stop soon after the burn
/// does.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pair {
    /// Tenths: 144 is 14.4×.
    pub factor_tenths: i64,
    pub long: u64,
    pub short: u64,
}

impl Pair {
    pub(crate) fn factor(self) -> Number {
        Number::new(i128::from(self.factor_tenths), 10).unwrap_or(Number::ONE)
    }
}

/// Pages: 14.4× over 1h and 5m (2% of a 30-day budget in an hour), or 6× over 6h and 30m (5% in
/// six hours).
pub(crate) const PAGE: [Pair; 2] = [
    Pair {
        factor_tenths: 144,
        long: 3600,
        short: 5 * 60,
    },
    Pair {
        factor_tenths: 60,
        long: 6 * 3600,
        short: 30 * 60,
    },
];

/// Tickets: 3× over 1d and 2h (10% of a 30-day budget in a day), or 1× over 3d and 6h (10% in
/// three days).
pub(crate) const TICKET: [Pair; 2] = [
    Pair {
        factor_tenths: 30,
        long: 86400,
        short: 2 * 3600,
    },
    Pair {
        factor_tenths: 10,
        long: 3 * 86400,
        short: 6 * 3600,
    },
];
