//! The settings an environment's Helm values carry, as data: what the Helm emitter writes and
//! what `env/values-override` compares an environment's free-form `values` with. One list, so
//! the check and the generated file cannot disagree about which keys upkeep owns.

use serde_json::{Value, json};

use super::{Environment, Plan};
use crate::value::Percent;

/// The job image when `execution.image` is not given: a shell, GNU `date` and tzdata for the
/// guards.
pub(crate) const DEFAULT_IMAGE: &str = "debian:bookworm-slim";

/// A generated value: data, or a slot the Helm emitter fills with what it builds from the
/// jobs and rules (an empty list until then).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Setting {
    Data(Value),
    CronJobs,
    RuleGroups,
}

impl Setting {
    /// The value as the check compares it (slots as empty lists).
    fn data(&self) -> Value {
        match self {
            Setting::Data(v) => v.clone(),
            Setting::CronJobs | Setting::RuleGroups => Value::Array(Vec::new()),
        }
    }
}

/// A percentage target as Kubernetes wants it: whole percent points.
pub(crate) fn whole_percent(p: Percent) -> i64 {
    p.points().to_f64().round() as i64
}

/// The namespace an environment's objects go to.
pub(crate) fn namespace<'p>(plan: &'p Plan, env: &'p Environment) -> Option<&'p str> {
    env.namespace
        .as_ref()
        .or(plan.execution.namespace.as_ref())
        .map(|n| n.value.as_str())
}

/// Every value upkeep generates for `env`, by dotted path (`autoscaling.minReplicas`), in the
/// order the values file writes them.
pub(crate) fn settings(plan: &Plan, env_name: &str, env: &Environment) -> Vec<(String, Setting)> {
    let mut out: Vec<(String, Setting)> = Vec::new();
    let mut data = |path: &str, v: Value| out.push((path.to_owned(), Setting::Data(v)));
    if let Some(r) = &env.replicas {
        data("replicaCount", json!(r.value));
    }
    if let Some(img) = &env.image {
        data("image.repository", json!(img.repository.value));
        if let Some(t) = &img.tag {
            data("image.tag", json!(t.value));
        }
        if let Some(pp) = &img.pull_policy {
            data("image.pullPolicy", json!(pp.value));
        }
    }
    for (set, name) in [(&env.requests, "requests"), (&env.limits, "limits")] {
        if let Some(c) = &set.cpu {
            data(&format!("resources.{name}.cpu"), json!(c.value.text));
        }
        if let Some(m) = &set.memory {
            data(&format!("resources.{name}.memory"), json!(m.value.text));
        }
    }
    match &env.autoscaling {
        Some(a) => {
            data("autoscaling.enabled", json!(true));
            data("autoscaling.minReplicas", json!(a.min.value));
            data("autoscaling.maxReplicas", json!(a.max.value));
            if let Some(c) = &a.cpu {
                data(
                    "autoscaling.targetCPUUtilizationPercentage",
                    json!(whole_percent(c.value)),
                );
            }
            if let Some(m) = &a.memory {
                data(
                    "autoscaling.targetMemoryUtilizationPercentage",
                    json!(whole_percent(m.value)),
                );
            }
        }
        None => data("autoscaling.enabled", json!(false)),
    }
    if !env.env.is_empty() {
        let list: Vec<Value> = env
            .env
            .iter()
            .map(|(k, v)| json!({"name": k.value, "value": v.value}))
            .collect();
        data("env", Value::Array(list));
    }
    data("upkeep.plan", json!(plan.metadata.name.value));
    data("upkeep.environment", json!(env_name));
    data(
        "upkeep.timeZone",
        json!(plan.metadata.timezone.value.name()),
    );
    if let Some(ns) = namespace(plan, env) {
        data("upkeep.namespace", json!(ns));
    }
    let image = plan
        .execution
        .image
        .as_ref()
        .map_or(DEFAULT_IMAGE, |i| i.value.as_str());
    data("upkeep.jobs.image", json!(image));
    if let Some(sa) = &plan.execution.service_account {
        data("upkeep.jobs.serviceAccountName", json!(sa.value));
    }
    out.push(("upkeep.cronJobs".to_owned(), Setting::CronJobs));
    out.push((
        "upkeep.prometheusRule.enabled".to_owned(),
        Setting::Data(json!(env.alerts)),
    ));
    if env.alerts {
        out.push((
            "upkeep.prometheusRule.groups".to_owned(),
            Setting::RuleGroups,
        ));
        let probes = super::probes::blackbox(plan);
        if !probes.is_empty() {
            out.push((
                "upkeep.probes".to_owned(),
                Setting::Data(Value::Array(
                    probes.iter().map(|b| probe_object(plan, b)).collect(),
                )),
            ));
        }
    }
    out
}

/// A Kubernetes object name (DNS-1123: lower case, digits, `-`, at most 63) from plan names.
fn kube_name(s: &str) -> String {
    let name: String = s.replace('_', "-").chars().take(63).collect();
    name.trim_end_matches('-').to_owned()
}

/// A health check as the `name` and `spec` of a `monitoring.coreos.com/v1` `Probe`: the
/// Prometheus Operator scrapes the blackbox exporter as `prometheus/NAME.scrape.yaml` does,
/// with the same job name, module, interval and timeout.
fn probe_object(plan: &Plan, b: &super::probes::Blackbox<'_>) -> Value {
    json!({
        "name": kube_name(&format!("{}-{}", plan.metadata.name.value, b.service)),
        "spec": {
            "jobName": b.job,
            "interval": b.timing.attempt.to_string(),
            "scrapeTimeout": b.health.timeout.value.to_string(),
            "module": b.module,
            "prober": {"url": super::probes::blackbox_address(plan)},
            "targets": {"staticConfig": {"static": [b.target]}},
        }
    })
}

/// The dotted paths of generated values that the environment's free-form `values` replace
/// (setting a generated value to what it already is replaces nothing).
pub(crate) fn overridden(plan: &Plan, env_name: &str, env: &Environment) -> Vec<String> {
    let Some(extra) = &env.values else {
        return Vec::new();
    };
    let generated = settings(plan, env_name, env);
    let mut out = Vec::new();
    walk(&generated, &extra.value, "", &mut out);
    out
}

fn walk(generated: &[(String, Setting)], extra: &Value, path: &str, out: &mut Vec<String>) {
    let Value::Object(map) = extra else { return };
    for (k, v) in map {
        let p = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        if let Some((_, s)) = generated.iter().find(|(g, _)| *g == p) {
            if s.data() != *v {
                out.push(p);
            }
            continue;
        }
        let prefix = format!("{p}.");
        if generated.iter().any(|(g, _)| g.starts_with(&prefix)) {
            if v.is_object() {
                walk(generated, v, &p, out);
            } else {
                out.push(p);
            }
        }
    }
}
