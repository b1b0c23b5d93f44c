//! Helm: `helm/NAME/values-ENV.yaml` for every environment and `helm/NAME/values.schema.json`,
//! the contract a chart consumes: replicas, image, resources, autoscaling and env in the common
//! chart conventions (`helm create`), plus `upkeep.cronJobs` and `upkeep.prometheusRule` (the
//! rules as a `PrometheusRule` spec, left out for environments with `alerts: false`). The
//! environment's free-form `values` are merged last.

use super::kubernetes;
use super::yaml::{self, Yaml};
use super::{Artifact, Context, prometheus};
use crate::model::jobs::Job;
use crate::model::values::{self, Setting};
use crate::model::{Environment, Plan};

fn json_to_yaml(v: &serde_json::Value) -> Yaml {
    match v {
        serde_json::Value::Null => Yaml::Null,
        serde_json::Value::Bool(b) => Yaml::Bool(*b),
        serde_json::Value::Number(n) => n
            .as_i64()
            .map_or_else(|| Yaml::Num(n.to_string()), Yaml::Int),
        serde_json::Value::String(s) => Yaml::Str(s.clone()),
        serde_json::Value::Array(a) => Yaml::Seq(a.iter().map(json_to_yaml).collect()),
        serde_json::Value::Object(m) => Yaml::Map(
            m.iter()
                .map(|(k, v)| (k.clone(), json_to_yaml(v)))
                .collect(),
        ),
    }
}

/// Merge `extra` into `base`, mappings recursively; returns the dotted paths whose value it
/// changed (setting a generated value to what it already is changes nothing).
pub fn merge(base: &mut Yaml, extra: &Yaml, path: &str, replaced: &mut Vec<String>) {
    if let Yaml::Commented(_, inner) = base {
        if matches!(**inner, Yaml::Map(_)) && matches!(extra, Yaml::Map(_)) {
            return merge(inner, extra, path, replaced);
        }
    }
    let (Yaml::Map(b), Yaml::Map(e)) = (&mut *base, extra) else {
        *base = extra.clone();
        return;
    };
    for (k, v) in e {
        let p = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        match b.iter_mut().find(|(bk, _)| bk == k) {
            Some((_, existing)) if is_map(existing) && matches!(v, Yaml::Map(_)) => {
                merge(existing, v, &p, replaced);
            }
            Some((_, existing)) => {
                if uncommented(existing) != v {
                    replaced.push(p);
                }
                *existing = v.clone();
            }
            None => b.push((k.clone(), v.clone())),
        }
    }
}

fn uncommented(y: &Yaml) -> &Yaml {
    match y {
        Yaml::Commented(_, inner) => uncommented(inner),
        other => other,
    }
}

fn is_map(y: &Yaml) -> bool {
    match y {
        Yaml::Map(_) => true,
        Yaml::Commented(_, inner) => is_map(inner),
        _ => false,
    }
}

fn cronjobs(cx: &Context<'_>, jobs: &[Job]) -> Yaml {
    let p = cx.name();
    Yaml::Seq(
        kubernetes::cron_jobs(jobs)
            .map(|j| {
                Yaml::map()
                    .with("name", kubernetes::cronjob_name(p, j))
                    .with("job", j.name.as_str())
                    .with("schedule", j.cron.expr.as_str())
                    .with(
                        "command",
                        crate::model::jobs::kubernetes_command(cx.plan, j),
                    )
                    .with(
                        "activeDeadlineSeconds",
                        i64::try_from(j.timeout.as_secs().max(1)).unwrap_or(i64::MAX),
                    )
                    .with(
                        "startingDeadlineSeconds",
                        i64::try_from(j.start_deadline.as_secs()).unwrap_or(i64::MAX),
                    )
                    .commented(vec![format!("{}: {}", j.name, j.when)])
            })
            .collect(),
    )
}

/// Recording rules that turn kube-state-metrics' view of the `CronJobs` into the last-success
/// metric the freshness alerts watch. Guarded jobs are left out: kube-state-metrics counts the
/// days their guard skips as successes, so they push their real runs to the Pushgateway instead
/// (`model::jobs::Report::Push`).
fn kubernetes_freshness(cx: &Context<'_>, jobs: &[Job], namespace: Option<&str>) -> Option<Yaml> {
    let p = cx.name();
    let rules: Vec<Yaml> = kubernetes::cron_jobs(jobs)
        .filter(|j| j.cron.guards.is_empty())
        .map(|j| {
            let name = kubernetes::cronjob_name(p, j);
            let mut m = vec![("cronjob", name.as_str())];
            if let Some(ns) = namespace {
                m.push(("namespace", ns));
            }
            Yaml::map()
                .with("record", "upkeep_task_last_success_timestamp_seconds")
                .with(
                    "expr",
                    format!(
                        "max by (cronjob) (kube_cronjob_status_last_successful_time{})",
                        prometheus::matchers(&m)
                    ),
                )
                .with(
                    "labels",
                    Yaml::map().with("plan", p).with("task", j.name.as_str()),
                )
        })
        .collect();
    (!rules.is_empty()).then(|| {
        Yaml::map()
            .with("name", format!("{p}.jobs-kubernetes"))
            .with("rules", rules)
    })
}

/// The values of one environment, before the free-form `values` are merged.
pub(crate) fn generated(
    cx: &Context<'_>,
    env_name: &str,
    env: &Environment,
    jobs: &[Job],
    rules: &prometheus::Rules,
) -> Yaml {
    let plan: &Plan = cx.plan;
    // Tasks and backups scoped with `environments:` run only there, and only there are they
    // expected to succeed: elsewhere their CronJobs and freshness alerts are left out.
    let elsewhere: Vec<&str> = jobs
        .iter()
        .filter(|j| !j.runs_in(env_name))
        .map(|j| j.name.as_str())
        .collect();
    let jobs: Vec<Job> = jobs
        .iter()
        .filter(|j| j.runs_in(env_name))
        .cloned()
        .collect();
    let jobs = jobs.as_slice();
    let namespace = values::namespace(plan, env);
    let mut v = Yaml::map();
    for (path, setting) in values::settings(plan, env_name, env) {
        let value = match setting {
            Setting::Data(d) => json_to_yaml(&d),
            Setting::CronJobs => cronjobs(cx, jobs),
            Setting::RuleGroups => {
                let mut groups = rules.groups_without(&elsewhere);
                groups.extend(kubernetes_freshness(cx, jobs, namespace));
                groups.into()
            }
        };
        insert(&mut v, &path, value);
    }
    if !env.alerts {
        if let Some(rule) = v
            .get_mut("upkeep")
            .and_then(|up| up.get_mut("prometheusRule"))
        {
            let plain = std::mem::replace(rule, Yaml::Null);
            *rule = plain.commented(vec![format!(
                "`alerts: false` for {env_name}: no rules in this environment"
            )]);
        }
    }
    v
}

/// Set the value at a dotted path, creating the mappings on the way in the order first seen.
fn insert(into: &mut Yaml, path: &str, value: Yaml) {
    let Yaml::Map(entries) = into else { return };
    match path.split_once('.') {
        None => entries.push((path.to_owned(), value)),
        Some((head, rest)) => {
            if !entries.iter().any(|(k, _)| k == head) {
                entries.push((head.to_owned(), Yaml::map()));
            }
            if let Some((_, inner)) = entries.iter_mut().find(|(k, _)| k == head) {
                insert(inner, rest, value);
            }
        }
    }
}

/// The JSON Schema of the values contract (draft-07, as Helm applies it).
pub fn schema() -> String {
    let kube_quantity = serde_json::json!({"type": ["string", "number"]});
    let resources = serde_json::json!({
        "type": "object",
        "properties": {"cpu": kube_quantity, "memory": kube_quantity},
        "additionalProperties": false
    });
    let s = serde_json::json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Values generated by upkeep",
        "description": "The contract between upkeep's helm/NAME/values-ENV.yaml and the chart that consumes them.",
        "type": "object",
        "required": ["autoscaling", "upkeep"],
        "properties": {
            "replicaCount": {"type": "integer", "minimum": 0},
            "image": {
                "type": "object",
                "required": ["repository"],
                "properties": {
                    "repository": {"type": "string", "minLength": 1},
                    "tag": {"type": "string"},
                    "pullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]}
                }
            },
            "resources": {
                "type": "object",
                "properties": {"requests": resources, "limits": resources},
                "additionalProperties": false
            },
            "autoscaling": {
                "type": "object",
                "required": ["enabled"],
                "properties": {
                    "enabled": {"type": "boolean"},
                    "minReplicas": {"type": "integer", "minimum": 0},
                    "maxReplicas": {"type": "integer", "minimum": 1},
                    "targetCPUUtilizationPercentage": {"type": "integer", "minimum": 1, "maximum": 100},
                    "targetMemoryUtilizationPercentage": {"type": "integer", "minimum": 1, "maximum": 100}
                }
            },
            "env": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"type": "string", "pattern": "^[-._a-zA-Z][-._a-zA-Z0-9]*$"}, "value": {"type": "string"}}
                }
            },
            "upkeep": {
                "type": "object",
                "required": ["plan", "environment", "timeZone", "jobs", "cronJobs", "prometheusRule"],
                "additionalProperties": false,
                "properties": {
                    "plan": {"type": "string", "pattern": "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"},
                    "environment": {"type": "string"},
                    "timeZone": {"type": "string"},
                    "namespace": {"type": "string"},
                    "jobs": {
                        "type": "object",
                        "required": ["image"],
                        "additionalProperties": false,
                        "properties": {"image": {"type": "string"}, "serviceAccountName": {"type": "string"}}
                    },
                    "cronJobs": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name", "job", "schedule", "command", "activeDeadlineSeconds", "startingDeadlineSeconds"],
                            "additionalProperties": false,
                            "properties": {
                                "name": {"type": "string", "maxLength": 52, "pattern": "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"},
                                "job": {"type": "string"},
                                "schedule": {"type": "string"},
                                "command": {"type": "string"},
                                "activeDeadlineSeconds": {"type": "integer", "minimum": 1},
                                "startingDeadlineSeconds": {"type": "integer", "minimum": 0}
                            }
                        }
                    },
                    "probes": {
                        "type": "array",
                        "description": "One monitoring.coreos.com/v1 Probe per HTTP or TCP health check: its name and spec.",
                        "items": {
                            "type": "object",
                            "required": ["name", "spec"],
                            "additionalProperties": false,
                            "properties": {
                                "name": {"type": "string", "pattern": "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"},
                                "spec": {"type": "object", "required": ["jobName", "prober", "targets"]}
                            }
                        }
                    },
                    "prometheusRule": {
                        "type": "object",
                        "required": ["enabled"],
                        "properties": {
                            "enabled": {"type": "boolean"},
                            "groups": {
                                "type": "array",
                                "items": {"type": "object", "required": ["name", "rules"], "properties": {"name": {"type": "string"}, "rules": {"type": "array"}}}
                            }
                        }
                    }
                }
            }
        }
    });
    let mut text = serde_json::to_string_pretty(&s).unwrap_or_default();
    text.push('\n');
    text
}

/// The Helm values of every environment; `own` holds the rules of the environments with
/// objectives or thresholds of their own, embedded instead of the plan's.
pub(crate) fn emit(
    cx: &Context<'_>,
    jobs: &[Job],
    rules: &prometheus::Rules,
    own: &[(&str, prometheus::Rules)],
) -> Vec<Artifact> {
    let plan = cx.plan;
    if plan.environments.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (name, env) in plan.environments.iter() {
        if !cx.opts.envs.is_empty() && !cx.opts.envs.contains(&name.value) {
            continue;
        }
        let rules = own
            .iter()
            .find(|(e, _)| *e == name.value)
            .map_or(rules, |(_, r)| r);
        let mut values = generated(cx, &name.value, env, jobs, rules);
        if let Some(extra) = &env.values {
            let mut ignored = Vec::new();
            merge(&mut values, &json_to_yaml(&extra.value), "", &mut ignored);
        }
        let mut header = cx.header();
        header.push(format!(
            "Environment `{}`: helm upgrade --install {} CHART -f helm/{}/values-{}.yaml",
            name.value,
            cx.name(),
            cx.name(),
            name.value
        ));
        out.push(Artifact {
            path: format!("helm/{}/values-{}.yaml", cx.name(), name.value).into(),
            content: yaml::document(&header, &values),
        });
    }
    out.push(Artifact {
        path: format!("helm/{}/values.schema.json", cx.name()).into(),
        content: schema(),
    });
    out
}
