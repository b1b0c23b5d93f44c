//! SLO objectives: strictly between 0% and 100%, or there is no error budget to spend; and
//! loose enough that each burn-rate alert can fire at all.

use super::Cx;
use crate::diag::{Code, Diagnostic};
use crate::model::burn::{PAGE, TICKET};
use crate::value::{Duration, Number};

pub(super) fn check(cx: &mut Cx<'_>) {
    for (name, slo) in cx.plan.slos.iter() {
        let r = slo.objective.value.ratio();
        if r <= Number::ZERO || r >= Number::ONE {
            let why = if r >= Number::ONE {
                "100% leaves no error budget: every failed request breaks it, and burn rates divide by zero"
            } else {
                "0% promises nothing"
            };
            cx.diags.push(
                Diagnostic::new(
                    Code::SloObjectiveRange,
                    format!(
                        "`slos.{}` has an objective of {}",
                        name.value, slo.objective.value
                    ),
                )
                .at(slo.objective.span)
                .label(why)
                .help("choose an objective strictly between 0% and 100%, such as `99.9%`"),
            );
            continue;
        }
        // An error ratio never exceeds 1: a burn-rate threshold at or above 1 never fires.
        let budget = Number::ONE.checked_sub(r).unwrap_or(Number::ZERO);
        for (level, kind, specs) in [(&slo.page, "page", PAGE), (&slo.ticket, "ticket", TICKET)] {
            let Some(level) = level else { continue };
            for pair in specs {
                let factor = pair.factor();
                let Some(threshold) = factor.checked_mul(budget) else {
                    continue;
                };
                if threshold >= Number::ONE {
                    cx.diags.push(
                        Diagnostic::new(
                            Code::BurnUnreachable,
                            format!(
                                "the {kind} alert of `slos.{}` over {} can never fire: it needs an error ratio above {threshold} ({factor} × {budget})",
                                name.value,
                                Duration::from_secs(pair.long),

                            ),
                        )
                        .at(slo.objective.span)
                        .label(format!("leaves an error budget of {budget}"))
                        .with_label(level.span, format!("{kind} alert"))
                        .help("an error ratio is at most 1; raise the objective, or drop this alert level"),
                    );
                }
            }
        }
    }
}
