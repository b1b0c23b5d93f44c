//! SLO objectives: strictly between 0% and 100%, or there is no error budget to spend.

use super::Cx;
use crate::diag::{Code, Diagnostic};
use crate::value::Number;

pub fn check(cx: &mut Cx<'_>) {
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
        }
    }
}
