//! Objectives and thresholds by environment: `environments.ENV.slos.NAME.objective` and
//! `environments.ENV.kpis.NAME.{warning, critical}` replace the plan's values in that
//! environment. [`effective`] is the plan as that environment sees it: the checks run on it (so
//! an override is checked like the value it replaces, at its own span) and the rules emitter
//! writes the environment's rules from it, by the one code path of the plan's own rules.

use super::{Kpi, KpiOverride, Plan};
use crate::span::Sp;
use crate::value::Threshold;

/// An override's threshold as the KPI reads it: a bare number is in the KPI's written unit, as
/// on the KPI itself (`unit: ms`, `"> 300"` is 300ms).
pub(crate) fn in_unit(kpi: &Kpi, t: &Sp<Threshold>) -> Sp<Threshold> {
    let mut t = t.clone();
    if t.value.quantity.unit.is_none() {
        let native = kpi.indicator.value.native_unit();
        if native.as_ref() != Some(&kpi.unit.value) {
            t.value.quantity.unit = Some(kpi.unit.value.clone());
        }
    }
    t
}

/// The overrides of `o` that have a threshold to replace on `kpi`: a threshold the KPI does not
/// have is `env/override-missing`, and left out (a new alert in one environment would have no
/// inhibition, runbook line or test of its own).
pub(crate) fn thresholds<'a>(
    kpi: &Kpi,
    o: &'a KpiOverride,
) -> impl Iterator<Item = (&'static str, &'a Sp<Threshold>)> {
    [
        (
            "warning",
            o.warning.as_ref().filter(|_| kpi.warning.is_some()),
        ),
        (
            "critical",
            o.critical.as_ref().filter(|_| kpi.critical.is_some()),
        ),
    ]
    .into_iter()
    .filter_map(|(f, t)| t.map(|t| (f, t)))
}

/// The plan as environment `env` sees it, when it overrides an objective or a threshold of an
/// entry the plan has; `None` when its rules are the plan's.
pub(crate) fn effective(plan: &Plan, env: &str) -> Option<Plan> {
    let e = plan.environments.get(env)?;
    let mut doc = plan.0.clone();
    let mut changed = false;
    for o in &e.slos {
        if let Some(slo) = doc.slos.get_mut(&o.slo.value) {
            slo.objective = o.objective.clone();
            changed = true;
        }
    }
    for o in &e.kpis {
        let Some(kpi) = doc.kpis.get_mut(&o.kpi.value) else {
            continue;
        };
        let replaced: Vec<(&str, Sp<Threshold>)> = thresholds(kpi, o)
            .map(|(f, t)| (f, in_unit(kpi, t)))
            .collect();
        for (field, t) in replaced {
            changed = true;
            match field {
                "warning" => kpi.warning = Some(t),
                _ => kpi.critical = Some(t),
            }
        }
    }
    changed.then(|| Plan::resolved(doc))
}

/// Every environment with rules of its own, in plan order, with its plan.
pub(crate) fn effective_all(plan: &Plan) -> Vec<(&str, Plan)> {
    plan.environments
        .iter()
        .filter(|(_, e)| e.overrides())
        .filter_map(|(n, _)| effective(plan, &n.value).map(|p| (n.value.as_str(), p)))
        .collect()
}

/// The spans of the values environment `env` overrides (objectives and thresholds).
pub(crate) fn override_spans(plan: &Plan, env: &str) -> Vec<crate::span::Span> {
    let Some(e) = plan.environments.get(env) else {
        return Vec::new();
    };
    e.slos
        .iter()
        .map(|o| o.objective.span)
        .chain(
            e.kpis
                .iter()
                .flat_map(|o| o.warning.iter().chain(&o.critical).map(|t| t.span)),
        )
        .collect()
}

/// The objective of SLO `slo` in each environment that has its own, in plan order.
pub(crate) fn objectives<'p>(
    plan: &'p Plan,
    slo: &str,
) -> Vec<(&'p str, &'p Sp<crate::value::Percent>)> {
    plan.environments
        .iter()
        .flat_map(|(env, e)| {
            e.slos
                .iter()
                .filter(move |o| o.slo.value == slo && plan.slos.contains(slo))
                .map(move |o| (env.value.as_str(), &o.objective))
        })
        .collect()
}

/// The `warning` or `critical` threshold of KPI `kpi` in each environment that has its own, in
/// plan order (only where the KPI has that threshold).
pub(crate) fn kpi_thresholds<'p>(
    plan: &'p Plan,
    kpi: &str,
    critical: bool,
) -> Vec<(&'p str, Sp<Threshold>)> {
    let Some(k) = plan.kpis.get(kpi) else {
        return Vec::new();
    };
    let field = if critical { "critical" } else { "warning" };
    plan.environments
        .iter()
        .flat_map(|(env, e)| {
            e.kpis
                .iter()
                .filter(|o| o.kpi.value == kpi)
                .flat_map(|o| thresholds(k, o))
                .filter(|(f, _)| *f == field)
                .map(|(_, t)| (env.value.as_str(), in_unit(k, t)))
        })
        .collect()
}
