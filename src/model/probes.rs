//! What a health check runs, and when it fails: the one meaning of `interval`, `timeout` and
//! `retries` that the Prometheus rules, the scrape configuration, the blackbox exporter
//! modules, the Kubernetes `Probe`s, the cron lines of command checks and the response-time
//! check all read.
//!
//! - `interval` is how often the service is checked, as a seed says "check every 5 minutes".
//! - `retries` is how many attempts one check makes: attempts run every
//!   `interval / retries` (an *attempt*), and the check fails when every attempt of the last
//!   `retries` failed. "Every 5 minutes, 3 retries" probes every 100 s and raises one alert
//!   about five minutes into an outage, not fifteen; one failed attempt (a blip) never alerts.
//! - `timeout` is how long one attempt may take. An attempt never starts before the previous
//!   one could have timed out: the attempt period is at least `timeout`.
//!
//! Command checks run from cron, at most once a minute: their attempt period is rounded up to
//! a whole minute that divides the hour ([`super::jobs::probe_interval`]).

use crate::value::Duration;

use super::{Body, BodyExpect, Health, Plan, Probe};

/// A probe's timing, derived from its `interval`, `timeout` and `retries`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timing {
    /// How often one attempt runs: the scrape interval of an HTTP or TCP check, the cron
    /// interval of a command check.
    pub attempt: Duration,
    /// How many attempts in a row fail before the check fails.
    pub attempts: u32,
    /// The range of the rule's `max_over_time`: it holds exactly the last `attempts` samples
    /// (`attempts − ½` periods, so a sample on the edge cannot count twice).
    pub window: Duration,
    /// The longest time from the start of an outage to the rule's condition holding: the outage
    /// begins just after a successful attempt, `attempts` attempts fail, the last taking its
    /// whole `timeout`.
    pub detect: Duration,
}

/// The range over which a probe's state changes are counted for its `…Flapping` alert.
pub(crate) const FLAP_WINDOW: Duration = Duration::from_hours(1);

/// State changes within [`FLAP_WINDOW`] that make a probe flap: two failures and recoveries.
pub(crate) const FLAP_CHANGES: u32 = 4;

/// The timing of a health check.
pub(crate) fn timing(h: &Health) -> Timing {
    let attempts = h.retries.value.max(1);
    let timeout = h.timeout.value;
    let per = h.interval.value.as_millis() / u64::from(attempts);
    let attempt = match h.probe.value {
        Probe::Command(_) => super::jobs::probe_interval(Duration::from_millis(per)),
        // Whole seconds (Prometheus durations), at least one, never shorter than the timeout.
        Probe::Http(_) | Probe::Tcp(_) => {
            Duration::from_secs(per.div_ceil(1000).max(1)).max(timeout)
        }
    };
    // Half an attempt, in whole seconds when that is at least one.
    let half = match attempt.as_secs() / 2 {
        0 => Duration::from_millis(attempt.as_millis() / 2),
        secs => Duration::from_secs(secs),
    };
    Timing {
        attempt,
        attempts,
        window: attempt
            .saturating_mul(u64::from(attempts))
            .saturating_sub(half),
        detect: attempt
            .saturating_mul(u64::from(attempts))
            .saturating_add(timeout.min(attempt)),
    }
}

/// The RE2 patterns the response body of a check must match (the blackbox exporter's
/// `fail_if_body_not_matches_regexp`: every one of them): the `matches` pattern, or one per
/// `json` field: the field's name and value as JSON writes them, after the `{` or `,` that
/// opens an object's field and before the `,` or `}` that ends it. A field of that name in any
/// object of the body matches; text inside a JSON string cannot (its quotes are escaped).
pub(crate) fn body_patterns(body: &Body) -> Vec<String> {
    match &body.expect.value {
        BodyExpect::Matches(p) => vec![p.clone()],
        BodyExpect::Json(fields) => fields
            .iter()
            .map(|(field, value)| {
                format!(
                    r"[{{,]\s*{}\s*:\s*{}\s*[,}}]",
                    crate::value::re2::literal_text(
                        &serde_json::Value::from(field.as_str()).to_string()
                    ),
                    crate::value::re2::literal_text(value)
                )
            })
            .collect(),
    }
}

/// What the body must contain, in words: `` `"model_loaded": true` ``, or a match for a
/// pattern.
pub(crate) fn body_words(body: &Body) -> String {
    match &body.expect.value {
        BodyExpect::Matches(p) => format!("a match for `{p}`"),
        BodyExpect::Json(fields) => format!("`{}`", json_fields(fields)),
    }
}

/// `json` fields as JSON writes them: `"model_loaded": true, "status": "ok"`.
pub(crate) fn json_fields(fields: &[(String, String)]) -> String {
    fields
        .iter()
        .map(|(field, value)| format!("{}: {value}", serde_json::Value::from(field.as_str())))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A health check the blackbox exporter runs (an `http` or `tcp` one).
#[derive(Clone, Debug)]
pub(crate) struct Blackbox<'p> {
    /// The service checked.
    pub service: &'p str,
    /// The Prometheus `job` label of the probe's series, and the scrape job's name:
    /// `blackbox-PLAN-SERVICE`. The alerts select exactly it.
    pub job: String,
    /// The blackbox exporter module: `upkeep_PLAN_SERVICE`.
    pub module: String,
    /// What is probed: the URL, or `host:port`.
    pub target: &'p str,
    pub http: bool,
    pub health: &'p Health,
    pub timing: Timing,
}

/// Where the scrape configuration sends probes when `execution.blackbox` does not say.
pub(crate) const DEFAULT_BLACKBOX: &str = "127.0.0.1:9115";

/// The blackbox exporter's address of a plan.
pub(crate) fn blackbox_address(plan: &Plan) -> &str {
    plan.execution
        .blackbox
        .as_ref()
        .map_or(DEFAULT_BLACKBOX, |b| b.value.as_str())
}

/// The HTTP and TCP health checks of a plan, in service order.
pub(crate) fn blackbox(plan: &Plan) -> Vec<Blackbox<'_>> {
    let name = &plan.metadata.name.value;
    plan.services
        .iter()
        .filter_map(|(service, s)| {
            let health = s.health.as_ref()?;
            let (target, http) = match &health.probe.value {
                Probe::Http(url) => (url.as_str(), true),
                Probe::Tcp(addr) => (addr.as_str(), false),
                Probe::Command(_) => return None,
            };
            Some(Blackbox {
                service: &service.value,
                job: job_name(plan, &service.value),
                module: format!("upkeep_{name}_{}", service.value).replace('-', "_"),
                target,
                http,
                health,
                timing: timing(health),
            })
        })
        .collect()
}

/// The blackbox scrape job of a service's HTTP or TCP check: `blackbox-PLAN-SERVICE`.
fn job_name(plan: &Plan, service: &str) -> String {
    format!("blackbox-{}-{service}", plan.metadata.name.value)
}

/// The Prometheus job of a service's health-check series: the blackbox scrape job of an HTTP
/// or TCP check; `None` for a command check (its series carries `plan` and `service`).
pub(crate) fn job_of(plan: &Plan, service: &str) -> Option<String> {
    let s = plan.services.get(service)?;
    match s.health.as_ref()?.probe.value {
        Probe::Command(_) => None,
        _ => Some(job_name(plan, service)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::{Sp, Span};

    fn health(probe: Probe, interval: u64, timeout: u64, retries: u32) -> Health {
        Health {
            probe: Sp::new(probe, Span::file_start(crate::span::FileId::default())),
            interval: Sp::new(
                Duration::from_secs(interval),
                Span::file_start(crate::span::FileId::default()),
            ),
            timeout: Sp::new(
                Duration::from_secs(timeout),
                Span::file_start(crate::span::FileId::default()),
            ),
            retries: Sp::new(retries, Span::file_start(crate::span::FileId::default())),
            level: None,
            method: None,
            status: Vec::new(),
            body: None,
        }
    }

    #[test]
    fn json_fields_match_a_field_of_an_object_and_nothing_inside_a_string() {
        let body = Body {
            expect: Sp::new(
                BodyExpect::Json(vec![("model_loaded".into(), "true".into())]),
                Span::file_start(crate::span::FileId::default()),
            ),
            level: None,
            runbook: None,
        };
        let [p] = body_patterns(&body).try_into().unwrap();
        let re = regex::Regex::new(&p).unwrap();
        assert!(re.is_match(r#"{"status": "healthy", "model_loaded": true, "n": 150}"#));
        assert!(re.is_match("{\n  \"model_loaded\" : true\n}"));
        assert!(!re.is_match(r#"{"model_loaded": false}"#));
        assert!(!re.is_match(r#"{"model_loaded": trueish}"#));
        assert!(!re.is_match(r#"{"note": "x, \"model_loaded\": true}"}"#));
        assert_eq!(body_words(&body), r#"`"model_loaded": true`"#);
    }

    #[test]
    fn sigcerh_checks_every_100s_and_knows_in_about_five_minutes() {
        let t = timing(&health(Probe::Http("http://x/".into()), 300, 30, 3));
        assert_eq!(t.attempt, Duration::from_secs(100));
        assert_eq!(t.window, Duration::from_secs(250));
        assert_eq!(t.detect, Duration::from_secs(330));
    }

    #[test]
    fn an_attempt_is_never_shorter_than_the_timeout() {
        let t = timing(&health(Probe::Http("http://x/".into()), 15, 10, 3));
        assert_eq!(t.attempt, Duration::from_secs(10));
        assert_eq!(t.window, Duration::from_secs(25));
    }

    #[test]
    fn command_checks_run_on_whole_minutes() {
        let t = timing(&health(Probe::Command("true".into()), 300, 30, 3));
        assert_eq!(t.attempt, Duration::from_mins(2));
        assert_eq!(t.window, Duration::from_mins(5));
        assert_eq!(t.detect, Duration::from_secs(390));
    }
}
