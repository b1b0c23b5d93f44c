//! Semantic checks over resolved plans: what parses can still page someone at 3am or lose data.
//! One module per family; each reports with its own code (see `upkeep explain CODE`).
//!
//! **Invariant:** checks do no I/O, never read the clock (time-based checks use a fixed
//! reference year) and never modify a plan.

mod backups;
mod budget;
mod environments;
mod graph;
mod jobs;
mod oncall;
mod once;
mod promql;
pub(crate) mod refs;
mod runbooks;
mod secrets;
mod severity;
mod slo;
mod thresholds;
mod time;
mod units;

pub(crate) use secrets::scan as scan_secrets;

use crate::diag::Diagnostics;
use crate::model::Plan;
use crate::source::SourceMap;
use crate::span::Span;

/// What a check of one plan sees.
pub(crate) struct Cx<'a> {
    pub plan: &'a Plan,
    pub sources: &'a SourceMap,
    pub diags: &'a mut Diagnostics,
    /// `upkeep build --runbook-base-url`: runbook links are absolute whatever the plan says.
    pub runbook_base_url_given: bool,
}

impl Cx<'_> {
    /// The span of bytes `start..end` of a scalar's decoded text (for blaming part of a string).
    pub(crate) fn within(
        &self,
        scalar: Span,
        decoded: Option<&str>,
        start: usize,
        end: usize,
    ) -> Span {
        crate::parse::span_within(
            scalar.file,
            &self.sources.get(scalar.file).text,
            scalar,
            decoded,
            start,
            end,
        )
    }
}

/// Run every check on every plan; `runbook_base_url_given` when the build sets the base URL of
/// runbook links (`--runbook-base-url`).
pub(crate) fn run(
    plans: &[Plan],
    sources: &SourceMap,
    runbook_base_url_given: bool,
    diags: &mut Diagnostics,
) {
    // Plans are independent: checked on every core, reported in plan order.
    for found in crate::par::map(plans, |plan| {
        let mut found = Diagnostics::new();
        one(plan, sources, runbook_base_url_given, &mut found);
        environments_own(plan, sources, runbook_base_url_given, &mut found);
        found
    }) {
        diags.extend(found);
    }
    refs::unused(plans, diags);
}

fn one(plan: &Plan, sources: &SourceMap, runbook_base_url_given: bool, diags: &mut Diagnostics) {
    {
        let mut cx = Cx {
            plan,
            sources,
            diags,
            runbook_base_url_given,
        };
        thresholds::check(&mut cx);
        units::check(&mut cx);
        promql::check(&mut cx);
        slo::check(&mut cx);
        graph::check(&mut cx);
        severity::check(&mut cx);
        runbooks::check(&mut cx);
        time::check(&mut cx);
        once::check(&mut cx);
        oncall::check(&mut cx);
        jobs::check(&mut cx);
        backups::check(&mut cx);
        budget::check(&mut cx);
        secrets::check(&mut cx);
        environments::check(&mut cx);
        environments::overrides(&mut cx);
        environments::missing_thresholds(&mut cx);
    }
}

/// The checks again on the plan as each environment with objectives or thresholds of its own
/// sees it (`model::environments::effective`): what they find there and not in the plan comes
/// from an override, at the override's span, and says which environment it is in.
fn environments_own(
    plan: &Plan,
    sources: &SourceMap,
    runbook_base_url_given: bool,
    diags: &mut Diagnostics,
) {
    for (env, effective) in crate::model::environments::effective_all(plan) {
        let mut found = Diagnostics::new();
        one(&effective, sources, runbook_base_url_given, &mut found);
        let fresh: Vec<_> = found
            .into_iter()
            .filter(|d| {
                !diags
                    .iter()
                    .any(|b| b.code == d.code && b.span == d.span && b.message == d.message)
            })
            .collect();
        // The text at fault in that environment is the override: blamed first when the check
        // blamed the plan's own value and labelled the override.
        let spans = crate::model::environments::override_spans(plan, env);
        let overridden = |s: &Span| {
            spans
                .iter()
                .any(|o| o.file == s.file && o.start <= s.start && s.end <= o.end)
        };
        for mut d in fresh {
            d.message = format!("{} (in environment `{env}`)", d.message);
            if let Some(primary) = d.span.filter(|s| !overridden(s)) {
                if let Some(l) = d.labels.iter_mut().find(|l| overridden(&l.span)) {
                    let label = d.label.take().unwrap_or_default();
                    d.label = Some(std::mem::replace(&mut l.message, label));
                    d.span = Some(std::mem::replace(&mut l.span, primary));
                }
            }
            diags.push(d);
        }
    }
}
