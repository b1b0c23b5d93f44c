//! Budget arithmetic, exact: amounts converted to the budget's period, totals per category and
//! overall, and what the value delivered gives back (ROI, payback). The `budget/*` checks and
//! the runbook documentation both read it, so what is checked is what is shown.

use super::{Budget, BudgetCategory, Period};
use crate::value::Number;

/// An amount converted from `per` to the budget's period.
pub(crate) fn per_period(amount: Number, per: Period, budget: Period) -> Option<Number> {
    amount
        .checked_mul(Number::int(budget.months()))?
        .checked_div(Number::int(per.months()))
}

/// The sum of one category's items in the budget's period.
pub(crate) fn category_total(b: &Budget, c: &BudgetCategory) -> Option<Number> {
    c.items.iter().try_fold(Number::ZERO, |acc, i| {
        acc.checked_add(per_period(i.amount.value.amount, i.per, b.period)?)
    })
}

/// The sum of every line in the budget's period.
pub(crate) fn lines_total(b: &Budget) -> Option<Number> {
    b.lines.iter().try_fold(Number::ZERO, |acc, c| {
        acc.checked_add(category_total(b, c)?)
    })
}

/// The value delivered per period (the sum of `value`), when the plan states any.
pub(crate) fn value_total(b: &Budget) -> Option<Number> {
    if b.value.is_empty() {
        return None;
    }
    b.value
        .iter()
        .try_fold(Number::ZERO, |acc, (_, m)| acc.checked_add(m.value.amount))
}

/// What the plan costs per period: the stated total, else the sum of the lines.
pub(crate) fn cost(b: &Budget) -> Option<Number> {
    match &b.total {
        Some(t) => Some(t.value.amount),
        None if b.lines.is_empty() => None,
        None => lines_total(b),
    }
}

/// Value minus cost, per period.
pub(crate) fn net_benefit(b: &Budget) -> Option<Number> {
    value_total(b)?.checked_sub(cost(b)?)
}

/// Return on investment as a ratio: `(value − cost) / cost`.
pub(crate) fn roi(b: &Budget) -> Option<Number> {
    let cost = cost(b).filter(|c| !c.is_zero() && !c.is_negative())?;
    net_benefit(b)?.checked_div(cost)
}

/// Months until the value delivered pays back one period's cost: `cost / value × months`.
pub(crate) fn payback_months(b: &Budget) -> Option<Number> {
    let value = value_total(b).filter(|v| !v.is_zero() && !v.is_negative())?;
    cost(b)?
        .checked_div(value)?
        .checked_mul(Number::int(b.period.months()))
}
