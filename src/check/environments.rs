//! Environments: requests within limits, a sensible autoscaler, replicas within its range.

use super::Cx;
use crate::diag::{Code, Diagnostic};
use crate::value::Number;

pub(super) fn check(cx: &mut Cx<'_>) {
    for (name, env) in cx.plan.environments.iter() {
        let path = format!("environments.{}", name.value);
        for (res, req, lim) in [
            ("cpu", &env.requests.cpu, &env.limits.cpu),
            ("memory", &env.requests.memory, &env.limits.memory),
        ] {
            if let (Some(r), Some(l)) = (req, lim) {
                if r.value.value > l.value.value {
                    cx.diags.push(
                        Diagnostic::new(Code::EnvResources, format!("`{path}` requests more {res} ({}) than its limit ({})", r.value, l.value))
                            .at(r.span)
                            .label("request")
                            .with_label(l.span, "limit")
                            .help("Kubernetes rejects a container whose requests exceed its limits; raise the limit or lower the request"),
                    );
                }
            }
        }
        let Some(a) = &env.autoscaling else { continue };
        if a.min.value > a.max.value {
            cx.diags.push(
                Diagnostic::new(
                    Code::EnvResources,
                    format!(
                        "`{path}.autoscaling` has min {} above max {}",
                        a.min.value, a.max.value
                    ),
                )
                .at(a.min.span)
                .label("min")
                .with_label(a.max.span, "max")
                .help("swap them or fix the typo"),
            );
        } else if let Some(r) = &env.replicas {
            if r.value < a.min.value || r.value > a.max.value {
                cx.diags.push(
                    Diagnostic::new(
                        Code::EnvResources,
                        format!(
                            "`{path}.replicas` is {}, outside the autoscaling range {}..={}",
                            r.value, a.min.value, a.max.value
                        ),
                    )
                    .at(r.span)
                    .label("replicas")
                    .with_label(a.min.span.to(a.max.span), "autoscaling range")
                    .help(
                        "the autoscaler would override it at once; set replicas within [min, max]",
                    ),
                );
            }
        }
        for (res, target) in [("cpu", &a.cpu), ("memory", &a.memory)] {
            if let Some(t) = target {
                if t.value.ratio() <= Number::ZERO {
                    cx.diags.push(
                        Diagnostic::new(
                            Code::EnvResources,
                            format!("`{path}.autoscaling.{res}` target is {}", t.value),
                        )
                        .at(t.span)
                        .label("never reached")
                        .help("a utilisation target is in (0%, 100%], usually 60%–80%"),
                    );
                }
            }
        }
    }
}

/// A KPI threshold an environment replaces though the KPI does not have it: the environment
/// would alert where no other does, with no inhibition, runbook line or test of its own.
pub(super) fn missing_thresholds(cx: &mut Cx<'_>) {
    for (name, env) in cx.plan.environments.iter() {
        for o in &env.kpis {
            let Some(kpi) = cx.plan.kpis.get(&o.kpi.value) else {
                continue;
            };
            for (field, t, has) in [
                ("warning", &o.warning, kpi.warning.is_some()),
                ("critical", &o.critical, kpi.critical.is_some()),
            ] {
                let Some(t) = t else { continue };
                if has {
                    continue;
                }
                cx.diags.push(
                    Diagnostic::new(
                        Code::EnvOverrideMissing,
                        format!(
                            "`environments.{}.kpis.{}.{field}` replaces a {field} threshold `kpis.{}` does not have",
                            name.value, o.kpi.value, o.kpi.value
                        ),
                    )
                    .at(t.span)
                    .label("nothing to replace")
                    .with_label(o.kpi.span, format!("`kpis.{}` has no `{field}`", o.kpi.value))
                    .help(format!(
                        "give `kpis.{}` a `{field}` threshold (the one every other environment alerts at), or remove `{field}` here",
                        o.kpi.value
                    )),
                );
            }
        }
    }
}

/// Free-form Helm values that replace a value upkeep generates from the plan.
pub(super) fn overrides(cx: &mut Cx<'_>) {
    for (name, env) in cx.plan.environments.iter() {
        for path in crate::model::values::overridden(cx.plan, &name.value, env) {
            let Some((_, span)) = env.value_keys.iter().find(|(p, _)| *p == path) else {
                continue;
            };
            cx.diags.push(
                Diagnostic::new(
                    Code::EnvValuesOverride,
                    format!("`environments.{}.values.{path}` replaces the value upkeep generates for `{path}`", name.value),
                )
                .at(*span)
                .label("overrides a generated value")
                .help(help_for(&path)),
            );
        }
    }
}

fn help_for(path: &str) -> String {
    let field = match path.split('.').next().unwrap_or_default() {
        "replicaCount" => Some("replicas"),
        "image" => Some("image"),
        "resources" => Some("resources"),
        "autoscaling" => Some("autoscaling"),
        "env" => Some("env"),
        _ => None,
    };
    match field {
        Some(f) => format!("set `{f}` on the environment instead, so checks and the diff see it; or allow the override with `lints: {{env/values-override: allow}}`"),
        None => "these values come from the plan (jobs, rules, time zone); change the plan instead, or allow the override with `lints: {env/values-override: allow}`".to_string(),
    }
}
