//! The escalation's order: a step with an `after` is taken that long after the alert; a step
//! without one is taken by hand, when the step before it has not fixed the problem. A timed
//! step after a manual one has a time that nothing can keep: it depends on when someone took
//! the manual step, which no clock knows.

use super::Cx;
use crate::diag::{Code, Diagnostic};

pub(super) fn check(cx: &mut Cx<'_>) {
    let Some(oncall) = cx.plan.oncall.as_ref() else {
        return;
    };
    let steps = &oncall.value.escalation;
    let Some(manual) = steps.iter().position(|s| s.after.is_none()) else {
        return;
    };
    let by_hand = &steps[manual];
    for step in &steps[manual + 1..] {
        let Some(after) = &step.after else { continue };
        cx.diags.push(
            Diagnostic::new(
                Code::TimedAfterManual,
                format!(
                    "the escalation step to `{}` is timed (`after: {}`) but comes after the step to `{}`, which is taken by hand",
                    step.to.value, after.value, by_hand.to.value
                ),
            )
            .at(after.span)
            .label("no clock can keep this time")
            .with_label(by_hand.to.span, "taken by hand: no `after`")
            .help(format!(
                "remove `after: {}` to take this step by hand too, or give the step to `{}` an `after`",
                after.value, by_hand.to.value
            )),
        );
    }
}
