//! upkeep's own health-check alerts in a rule file, recognised as the service's `health` they
//! were built from: `…Down`, `…Flapping` and, with a `body`, `…Unhealthy`, in the plan's
//! `PLAN.health` group, on the blackbox exporter's `probe_success{job="blackbox-PLAN-SERVICE",
//! instance="TARGET"}` (an `http` or `tcp` check) or on `upkeep_health_check_success{plan,
//! service}` (a `command` check). See `emit::prometheus::rules` and `model::probes`.
//!
//! The target is the series' `instance` (the command is in the description upkeep writes);
//! the retries, the attempt period and the timeout are in the `…Down` description (`failed its
//! last 3 attempts (one every 1m40s, each allowed 30s)`), and the interval is the attempt period
//! times the retries. What the body must say is in the `…Unhealthy` description.
//!
//! **Invariant:** a check is lifted only when the plan written from it generates exactly the
//! same three expressions; otherwise its alerts are imported one by one as any other rule.

use super::rules::{RuleKind, SourceRule};
use crate::emit::prometheus::{self as prom, REGEX_FAILED};
use crate::emit::yaml::Yaml;
use crate::model::alerts::{HealthAlert, camel};
use crate::model::{Health, Probe, probes};
use crate::span::{FileId, Sp, Span};
use crate::value::duration::Duration;

/// A service's health check read back from its alerts.
#[derive(Debug)]
pub(crate) struct HealthSet {
    pub service: String,
    pub plan: String,
    /// Indices into the rules: `…Down`, `…Flapping` and `…Unhealthy` if there is one.
    pub down: usize,
    pub flapping: usize,
    pub unhealthy: Option<usize>,
    /// `http`, `tcp` or `command`, and what it probes or runs.
    pub probe: (&'static str, String),
    pub interval: Duration,
    pub timeout: Duration,
    pub retries: u32,
    /// `json: {…}` or `matches: …`, when the check reads the body.
    pub body: Option<Yaml>,
}

fn label<'r>(r: &'r SourceRule, k: &str) -> Option<&'r str> {
    r.labels
        .iter()
        .find(|(l, _)| l == k)
        .map(|(_, v)| v.as_str())
}

fn description(r: &SourceRule) -> Option<String> {
    r.annotations
        .iter()
        .find(|(k, _)| k == "description")
        .map(|(_, v)| v.replace("{{ \"{{\" }}", "{{"))
}

/// upkeep's health checks among `rules`.
pub(crate) fn recognise(rules: &[SourceRule]) -> Vec<HealthSet> {
    rules
        .iter()
        .enumerate()
        .filter_map(|(i, r)| set(rules, i, r))
        .collect()
}

fn set(rules: &[SourceRule], down: usize, r: &SourceRule) -> Option<HealthSet> {
    let RuleKind::Alert(name) = &r.kind else {
        return None;
    };
    let (plan, service) = (label(r, "plan")?, label(r, "service")?);
    let group = format!("{plan}.health");
    if r.group != group || *name != format!("{}Down", camel(service)) {
        return None;
    }
    // The check's alerts: every alert of its group about its service, each upkeep's.
    let mut flapping = None;
    let mut unhealthy = None;
    for (j, a) in rules.iter().enumerate() {
        let RuleKind::Alert(n) = &a.kind else {
            continue;
        };
        if a.group != group || label(a, "service") != Some(service) || j == down {
            continue;
        }
        if label(a, "plan") != Some(plan) || a.for_.is_some() {
            return None;
        }
        let slot = if *n == format!("{}Flapping", camel(service)) {
            &mut flapping
        } else if *n == format!("{}Unhealthy", camel(service)) {
            &mut unhealthy
        } else {
            return None;
        };
        if slot.replace(j).is_some() {
            return None;
        }
    }
    let flapping = flapping?;
    if r.for_.is_some() {
        return None;
    }
    // `The health check of `S` (TARGET) failed its last N attempts (one every A, each allowed T)…`
    let text = description(r)?;
    let rest = text.strip_prefix(&format!("The health check of `{service}` ("))?;
    let at = rest.rfind(") failed its last ")?;
    let target = &rest[..at];
    let rest = &rest[at + ") failed its last ".len()..];
    let (retries, rest) = rest.split_once(" attempts (one every ")?;
    let (attempt, rest) = rest.split_once(", each allowed ")?;
    let (timeout, _) = rest.split_once(')')?;
    let retries: u32 = retries.parse().ok()?;
    let attempt = Duration::parse(attempt, true).ok()?;
    let timeout = Duration::parse(timeout, false).ok()?;
    let (series, labels, probe) = if r.expr.contains("upkeep_health_check_success") {
        let cmd = target.strip_prefix('`')?.strip_suffix('`')?;
        (
            "upkeep_health_check_success",
            vec![("plan", plan.to_owned()), ("service", service.to_owned())],
            ("command", cmd.to_owned()),
        )
    } else {
        let kind = if target.starts_with("http://") || target.starts_with("https://") {
            "http"
        } else {
            "tcp"
        };
        (
            "probe_success",
            vec![
                ("job", format!("blackbox-{plan}-{service}")),
                ("instance", target.to_owned()),
            ],
            (kind, target.to_owned()),
        )
    };
    let interval = interval(probe.0, attempt, timeout, retries)?;
    let at = Span::file_start(FileId::default());
    let health = Health {
        probe: Sp::new(
            match probe.0 {
                "http" => Probe::Http(probe.1.clone()),
                "tcp" => Probe::Tcp(probe.1.clone()),
                _ => Probe::Command(probe.1.clone()),
            },
            at,
        ),
        interval: Sp::new(interval, at),
        timeout: Sp::new(timeout, at),
        retries: Sp::new(retries, at),
        level: None,
        method: None,
        status: Vec::new(),
        body: None,
    };
    let t = probes::timing(&health);
    if t.attempt != attempt {
        return None;
    }
    let refs: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let selector = format!("{series}{}", prom::matchers(&refs));
    let regex = format!("{REGEX_FAILED}{}", prom::matchers(&refs));
    let body = match unhealthy {
        Some(u) => Some(body(&description(&rules[u])?)?),
        None => None,
    };
    let same = |i: usize, check: HealthAlert| {
        rules[i].expr.trim()
            == prom::health_expr(check, &selector, &regex, body.is_some(), t.window)
    };
    let all_same = same(down, HealthAlert::Down)
        && same(flapping, HealthAlert::Flapping)
        && unhealthy.is_none_or(|u| same(u, HealthAlert::Unhealthy));
    all_same.then(|| HealthSet {
        service: service.to_owned(),
        plan: plan.to_owned(),
        down,
        flapping,
        unhealthy,
        probe,
        interval,
        timeout,
        retries,
        body,
    })
}

/// The interval of a check whose attempts run every `attempt`: the roundest duration (a whole
/// hour, half hour, … second) among those that give that period. An HTTP or TCP check attempts
/// every `interval / retries` rounded up to the second, or every `timeout` if longer; a
/// command check on the next whole minute that divides the hour (`model::jobs::probe_interval`).
/// The rules do not say which of those the plan wrote: the round one is the likely one, and
/// the alerts are the same whichever it was.
fn interval(kind: &str, attempt: Duration, timeout: Duration, retries: u32) -> Option<Duration> {
    let n = u64::from(retries);
    let a = attempt.as_secs();
    // The attempt period is the least whole value at or above `interval / retries`, after one
    // below it: `(below × n, a × n]` seconds.
    let below = if kind == "command" {
        [0u64, 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60]
            .windows(2)
            .find(|w| w[1] * 60 == a)
            .map(|w| w[0] * 60)?
    } else if attempt == timeout {
        0
    } else {
        a - 1
    };
    let (lo, hi) = (below * n, a * n);
    [3600u64, 1800, 900, 600, 300, 60, 30, 15, 10, 5, 1]
        .iter()
        .map(|step| hi / step * step)
        .find(|m| *m > lo)
        .map(Duration::from_secs)
}

/// What the `…Unhealthy` description says the body must contain: `` `"f": true` `` (`json`) or
/// ``a match for `P` `` (`matches`).
fn body(description: &str) -> Option<Yaml> {
    let (_, rest) = description.split_once(", at least one because the answer did not contain ")?;
    let expected = rest.strip_suffix(": the service is up but not healthy.")?;
    if let Some(p) = expected
        .strip_prefix("a match for `")
        .and_then(|p| p.strip_suffix('`'))
    {
        return Some(Yaml::map().with("matches", p));
    }
    let fields = expected.strip_prefix('`')?.strip_suffix('`')?;
    let serde_json::Value::Object(object) =
        serde_json::from_str::<serde_json::Value>(&format!("{{{fields}}}")).ok()?
    else {
        return None;
    };
    // Only when the fields read back as written (in their order).
    let pairs: Vec<(String, String)> = object
        .iter()
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect();
    if probes::json_fields(&pairs) != fields {
        return None;
    }
    let json = object
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::Null => Yaml::Null,
                serde_json::Value::Bool(b) => Yaml::Bool(b),
                serde_json::Value::Number(n) => Yaml::Num(n.to_string()),
                serde_json::Value::String(s) => Yaml::Str(s),
                _ => return None,
            };
            Some((k, v))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Yaml::map().with("json", Yaml::Map(json)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_read_back_from_its_words() {
        let d = "The health check of `api` (https://x/health) failed its last 3 attempts (one every 1m40s, each allowed 10s), at least one because the answer did not contain `\"model_loaded\": true`: the service is up but not healthy.";
        let y = body(d).unwrap();
        assert!(matches!(y, Yaml::Map(ref m) if m[0].0 == "json"), "{y:?}");
        let d = "…, at least one because the answer did not contain a match for `ok|up`: the service is up but not healthy.";
        assert!(matches!(body(d).unwrap(), Yaml::Map(ref m) if m[0].0 == "matches"));
        assert!(body("no body here").is_none());
    }
}
