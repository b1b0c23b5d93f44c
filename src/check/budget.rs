//! The budget: lines add up to the total (monthly and quarterly lines converted to the period),
//! the allocation adds up to 100%, and one currency throughout. The arithmetic (shared with the
//! docs) is in `model::budget`.

use super::Cx;
use crate::diag::{Code, Diagnostic};
use crate::model::Budget;
use crate::model::budget::{category_total, lines_total};
use crate::span::Sp;
use crate::value::money::group;
use crate::value::{Money, Number};

pub(super) fn check(cx: &mut Cx<'_>) {
    let Some(b) = cx.plan.budget.as_ref().map(|b| &b.value) else {
        return;
    };
    currencies(cx, b);
    if let (Some(total), Some(sum)) = (&b.total, lines_total(b)) {
        if total.value.amount != sum && !b.lines.is_empty() {
            let diff = sum.checked_sub(total.value.amount).unwrap_or(Number::ZERO);
            let (word, abs) = if diff.is_negative() {
                ("short of", diff.negated())
            } else {
                ("over", diff)
            };
            let mut d = Diagnostic::new(
                Code::BudgetSum,
                format!(
                    "budget lines add up to {} {} per {}, {} {} the total of {}",
                    group(sum),
                    b.currency.value,
                    b.period.name(),
                    group(abs),
                    word,
                    group(total.value.amount)
                ),
            )
            .at(total.span)
            .label(format!("total {}", group(total.value.amount)));
            for c in &b.lines {
                if let Some(sub) = category_total(b, c) {
                    d = d.with_label(c.name.span, format!("{}: {}", c.name.value, group(sub)));
                }
            }
            cx.diags.push(d.help(format!("monthly and quarterly lines count {}× and {}× per {}; fix the line that is missing or mistyped, or the total", b.period.months(), b.period.months() / 3, b.period.name())));
        }
    }
    if !b.allocation.is_empty() {
        let sum = b
            .allocation
            .iter()
            .try_fold(Number::ZERO, |acc, (_, p)| acc.checked_add(p.value.ratio()));
        if let Some(sum) = sum {
            if sum != Number::ONE {
                let first = &b.allocation[0].1;
                let last = &b.allocation[b.allocation.len() - 1].1;
                cx.diags.push(
                    Diagnostic::new(
                        Code::AllocationSum,
                        format!(
                            "allocation adds up to {}, not 100%",
                            crate::value::Percent(sum)
                        ),
                    )
                    .at(first.span.to(last.span))
                    .label(format!("{} in all", crate::value::Percent(sum)))
                    .help(
                        "predictive, preventive, corrective and perfective shares must make 100%",
                    ),
                );
            }
        }
    }
}

fn currencies(cx: &mut Cx<'_>, b: &Budget) {
    let cur = &b.currency.value;
    let mut amounts: Vec<&Sp<Money>> = b.total.iter().collect();
    amounts.extend(
        b.lines
            .iter()
            .flat_map(|c| c.items.iter().map(|i| &i.amount)),
    );
    amounts.extend(b.value.iter().map(|(_, v)| v));
    for m in amounts {
        let wrong_code = m.value.currency.as_ref().filter(|c| *c != cur);
        let wrong_dollar = m.value.dollar_sign
            && !matches!(
                cur.as_str(),
                "USD" | "CAD" | "AUD" | "NZD" | "MXN" | "CLP" | "COP" | "ARS" | "SGD" | "HKD"
            );
        if let Some(c) = wrong_code {
            cx.diags.push(
                Diagnostic::new(
                    Code::CurrencyMismatch,
                    format!("amount in {c} in a budget in {cur}"),
                )
                .at(m.span)
                .label(c.clone())
                .with_label(b.currency.span, format!("the budget is in {cur}"))
                .help(format!(
                    "convert the amount to {cur}; amounts are added up without conversion"
                )),
            );
        } else if wrong_dollar {
            cx.diags.push(
                Diagnostic::new(
                    Code::CurrencyMismatch,
                    format!("`$` amount in a budget in {cur}"),
                )
                .at(m.span)
                .label("`$`")
                .with_label(b.currency.span, format!("the budget is in {cur}"))
                .help(format!("write the amount without `$`, in {cur}")),
            );
        }
    }
}
