//! End to end, Alertmanager's side: what the generated configuration *does* with real alerts,
//! in the real Prometheus (2.42) and Alertmanager (0.25) on 127.0.0.1, fed raw series by a fake
//! exporter, delivering to a webhook written here. `tests/emit.rs` proves that amtool accepts
//! the file and routes every level; these tests prove inhibition and muting.
//!
//! # The harness
//!
//! The same as `tests/e2e.rs` (read its header): `tests/common/servers.rs` holds the servers
//! and fakes, `tests/e2e/stack.rs` the wiring. `Stack::start(&Options::plan("NAME"))` builds
//! `plans/NAME.yaml` (or `Options::plan_text`, a variant written beside a copy of
//! `plans/shared/`), writes **compressed copies** of `prometheus/NAME.rules.yaml` and
//! `alertmanager/alertmanager.yaml` (every `for`, `group_wait`, `group_interval` and
//! `repeat_interval` divided by 60; range windows such as `rate(x[5m])` are NOT compressed,
//! hence `Options::history`), points every receiver at the webhook under its own name, and
//! starts the servers. Every failure message ends with what Prometheus, Alertmanager and the
//! webhook say.
//!
//! Scenarios:
//!
//! 1. A KPI's critical silences its warning on the same instance only (`diabetes`, `api_cpu`
//!    on two hosts).
//! 2. A hard dependency that is down silences its dependents' alerts at its level and below,
//!    never a more urgent one (`ecplacas`: `redis` down at P2, `backend` errors at P2 and P0).
//! 3. A muting window open now holds back the levels it mutes and delivers the paging ones
//!    (`sigcerh`, its monthly window moved to now).
//!
//! Each test is bounded by `Options::bound` (120 s). Under `CI=true` a missing server fails;
//! elsewhere `UPKEEP_ALLOW_SKIP=1` skips, loudly.

mod common;
#[path = "e2e/stack.rs"]
mod stack;

use std::collections::BTreeMap;

use serde_json::Value;
use stack::{Options, Past, Stack};

/// The equality matchers of the selector of `metric` in the recording rule `record` of the
/// bundled plan's generated rules: the series a test feeds must match them, whatever job the
/// rules select (read from the rules the compiler writes now, not copied here).
fn selector(plan: &str, record: &str, metric: &str) -> Vec<(String, String)> {
    use promql_parser::label::MatchOp;
    use promql_parser::parser::Expr;
    use promql_parser::util::{ExprVisitor, walk_expr};

    struct Find<'a> {
        metric: &'a str,
        found: Option<Vec<(String, String)>>,
    }
    impl ExprVisitor for Find<'_> {
        type Error = String;
        fn pre_visit(&mut self, e: &Expr) -> Result<bool, String> {
            let vs = match e {
                Expr::VectorSelector(vs) => vs,
                Expr::MatrixSelector(m) => &m.vs,
                _ => return Ok(true),
            };
            let name = vs.name.clone().or_else(|| {
                vs.matchers
                    .matchers
                    .iter()
                    .find(|m| m.name == "__name__")
                    .map(|m| m.value.clone())
            });
            if name.as_deref() == Some(self.metric) {
                let mut labels = Vec::new();
                for m in vs.matchers.matchers.iter().filter(|m| m.name != "__name__") {
                    match m.op {
                        MatchOp::Equal => labels.push((m.name.clone(), m.value.clone())),
                        _ => return Err(format!("`{e}` has a matcher a series cannot hold: {m}")),
                    }
                }
                self.found = Some(labels);
            }
            Ok(true)
        }
    }

    let ws = common::check(&common::root().join(format!("plans/{plan}.yaml")));
    let built = upkeep::driver::build(&ws, &upkeep::emit::Options::default());
    let rules = built
        .artifacts()
        .into_iter()
        .find(|a| a.path == std::path::Path::new(&format!("prometheus/{plan}.rules.yaml")))
        .expect("the rules file");
    let doc: Value = serde_saphyr::from_str(&rules.content).expect("rules YAML");
    let expr = doc["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .find(|r| r["record"] == record)
        .and_then(|r| r["expr"].as_str())
        .unwrap_or_else(|| panic!("no recording rule {record} in the {plan} rules"))
        .to_owned();
    let ast = promql_parser::parser::parse(&expr).expect("the recording rule parses");
    let mut find = Find {
        metric,
        found: None,
    };
    walk_expr(&mut find, &ast).unwrap_or_else(|e| panic!("{e}"));
    find.found
        .unwrap_or_else(|| panic!("`{record}` = `{expr}` does not read `{metric}`"))
}

/// `metric{labels…}` as the fake exporter writes it, for the life of the test.
fn series(metric: &str, labels: &[(String, String)]) -> &'static str {
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    Box::leak(format!("{metric}{{{}}}", inner.join(",")).into_boxed_str())
}

/// The alerts Alertmanager holds for `alertname`: (labels, state, inhibited by).
fn am_alerts(s: &Stack, alertname: &str) -> Vec<(Value, String, Vec<String>)> {
    s.alertmanager_alerts()
        .into_iter()
        .filter(|a| a["labels"]["alertname"] == alertname)
        .map(|a| {
            let by = a["status"]["inhibitedBy"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect();
            let state = a["status"]["state"].as_str().unwrap_or_default().to_owned();
            (a["labels"].clone(), state, by)
        })
        .collect()
}

/// Alertmanager's fingerprint of the alert `alertname`.
fn fingerprint(s: &Stack, alertname: &str) -> Option<String> {
    s.alertmanager_alerts()
        .into_iter()
        .find(|a| a["labels"]["alertname"] == alertname)
        .and_then(|a| a["fingerprint"].as_str().map(str::to_owned))
}

/// Every alert notified to `receiver` (alertname, status, labels), over all notifications.
fn notified(s: &Stack, receiver: &str) -> Vec<(String, String, Value)> {
    s.notifications()
        .iter()
        .filter(|n| n.path == receiver)
        .flat_map(common::servers::Notification::alerts)
        .collect()
}

/// `diabetes`'s `api_cpu` (`100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{…,
/// mode="idle"}[5m])))`): warning (`high`) above 80%, critical (`critical`) above 90%, no `for`.
/// Host A at 95% fires both, host B at 85% only the warning. Host A's critical silences host
/// A's warning and nothing else: host B's warning stays active and reaches `diabetes-high`
/// (with `equal: [kpi]` alone, the critical on A silenced B's warning too, and nobody heard
/// that B was hot).
///
/// All three alerts fire at the first evaluation, and Prometheus may post the warnings a moment
/// before the critical. Alertmanager flushes a new group at once when its alert is older than
/// the group's `group_wait` (0.5 s compressed), so in that first second a warning can go out
/// before its critical is known. The test checks what Alertmanager decides once all three are
/// there, and what it sends from then on.
#[test]
fn a_critical_silences_its_warning_on_the_same_instance_and_not_on_another() {
    let metric = "node_cpu_seconds_total";
    let labels = selector("diabetes", "kpi:api_cpu:cpu", metric);
    let host = |instance: &str| {
        let mut l = labels.clone();
        l.push(("instance".to_owned(), instance.to_owned()));
        l.push(("cpu".to_owned(), "0".to_owned()));
        series(metric, &l)
    };
    let (a, b) = (host("host-a:9100"), host("host-b:9100"));
    let mut opts = Options::plan("diabetes");
    // Idle seconds per second: host A is 95% busy, host B 85%, and have been for a day.
    opts.history = vec![(a, Past::Counter(0.05)), (b, Past::Counter(0.15))];
    let Some(stack) = Stack::start(&opts) else {
        return;
    };
    assert_eq!(stack.routes("ApiCpuHigh"), ["diabetes-high"]);
    assert_eq!(stack.routes("ApiCpuCritical"), ["diabetes-critical"]);
    let on = |labels: &Value| labels["instance"].as_str().unwrap_or_default().to_owned();
    let warnings = |s: &Stack| -> BTreeMap<String, (String, Vec<String>)> {
        am_alerts(s, "ApiCpuHigh")
            .into_iter()
            .map(|(l, st, by)| (on(&l), (st, by)))
            .collect()
    };
    let critical = stack.wait_for(
        "ApiCpuCritical (host A, 95%) and both warnings in Alertmanager",
        40,
        |s| {
            let critical = fingerprint(s, "ApiCpuCritical")?;
            (warnings(s).len() == 2).then_some(critical)
        },
    );
    // Notifications sent once Alertmanager knows the critical come after these.
    let known = stack.notifications().len();
    let expected = BTreeMap::from([
        (
            "host-a:9100".to_owned(),
            ("suppressed".to_owned(), vec![critical.clone()]),
        ),
        ("host-b:9100".to_owned(), ("active".to_owned(), Vec::new())),
    ]);
    stack.wait_for(
        "host A's warning inhibited by host A's critical, host B's active",
        10,
        |s| (warnings(s) == expected).then_some(()),
    );
    stack.wait_for(
        "ApiCpuCritical notified to diabetes-critical, ApiCpuHigh of host B to diabetes-high",
        20,
        |s| {
            let heard_b = notified(s, "diabetes-high")
                .iter()
                .any(|(n, st, l)| n == "ApiCpuHigh" && st == "firing" && on(l) == "host-b:9100");
            (heard_b && s.delivered("diabetes-critical", "ApiCpuCritical", "firing") >= 1)
                .then_some(())
        },
    );
    stack.hold(
        "host A's warning stays inhibited, host B's active; nobody hears of host A's warning any more",
        10,
        |s| {
            let now = warnings(s);
            if now != expected {
                return Err(format!(
                    "ApiCpuHigh by instance (state, inhibited by) is {now:?}, expected {expected:?}"
                ));
            }
            // (Other KPIs may read the same host series: only `api_cpu`'s alerts are judged.)
            let later: Vec<String> = s
                .notifications()
                .iter()
                .skip(known)
                .flat_map(|n| {
                    n.alerts()
                        .into_iter()
                        .map(move |(a, _, l)| (n.path.clone(), a, l))
                })
                .filter(|(_, a, l)| a == "ApiCpuHigh" && on(l) == "host-a:9100")
                .map(|(receiver, _, _)| receiver)
                .collect();
            if !later.is_empty() {
                return Err(format!(
                    "{later:?} heard host A's warning after its critical was known"
                ));
            }
            Ok(())
        },
    );
    let receivers = |alert: &str| -> Vec<String> {
        let mut r: Vec<String> = stack
            .notifications()
            .iter()
            .filter(|n| n.alerts().iter().any(|(a, _, _)| a == alert))
            .map(|n| n.path.clone())
            .collect();
        r.sort();
        r.dedup();
        r
    };
    assert_eq!(
        receivers("ApiCpuCritical"),
        ["diabetes-critical"],
        "{}",
        stack.report()
    );
    assert!(
        receivers("ApiCpuHigh").iter().all(|r| r == "diabetes-high"),
        "{}",
        stack.report()
    );
    let page = notified(&stack, "diabetes-critical");
    assert!(
        page.iter()
            .filter(|(n, _, _)| n == "ApiCpuCritical")
            .all(|(_, _, l)| l["level"] == "critical" && on(l) == "host-a:9100"),
        "{page:?}\n{}",
        stack.report()
    );
}

const TOTAL: &str = r#"http_requests_total{job="ecplacas-backend",status="200"}"#;
const ERRORS: &str = r#"http_requests_total{job="ecplacas-backend",status="500"}"#;
const REDIS_HEALTH: &str = r#"upkeep_health_check_success{plan="ecplacas",service="redis"}"#;

/// `ecplacas`: `backend` depends hard on `redis`, whose health alert `RedisDown` is P2 (impact
/// medium). While Redis is down, the backend's P2 `ErrorRateP2` is noise and is inhibited;
/// its P0 `ErrorRateP0` is not, and pages `ecplacas-P0` (with every `backend` alert as the
/// target, a cache outage silenced the backend's page, so an outage paged nobody).
#[test]
fn a_hard_dependency_down_inhibits_less_urgent_symptoms_but_never_a_page() {
    let mut opts = Options::plan("ecplacas");
    // 100 requests/s for a day, no errors.
    opts.history = vec![(TOTAL, Past::Counter(100.0)), (ERRORS, Past::Counter(0.0))];
    let Some(stack) = Stack::start(&opts) else {
        return;
    };
    assert_eq!(stack.routes("RedisDown"), ["ecplacas-P2"]);
    assert_eq!(stack.routes("ErrorRateP2"), ["ecplacas-P2"]);
    assert_eq!(stack.routes("ErrorRateP0"), ["ecplacas-P0"]);

    // Redis's health check fails (`for: 3m`, compressed to 3s).
    stack.exporter.gauge(REDIS_HEALTH, 0.0);
    stack.wait_for("RedisDown notified to ecplacas-P2", 30, |s| {
        (s.delivered("ecplacas-P2", "RedisDown", "firing") == 1).then_some(())
    });
    let redis = fingerprint(&stack, "RedisDown").expect("RedisDown in Alertmanager");

    // Then 10% of the backend's requests fail: the 5-minute ratio passes 0.5% (the P2 warning)
    // after some 15 s, then 1% (the P0 critical) after some 30 s.
    stack.exporter.counter(TOTAL, 90.0);
    stack.exporter.counter(ERRORS, 10.0);
    stack.wait_for("ErrorRateP2 (P2) inhibited by RedisDown (P2)", 30, |s| {
        am_alerts(s, "ErrorRateP2")
            .iter()
            .any(|(_, st, by)| st == "suppressed" && by.contains(&redis))
            .then_some(())
    });
    stack.wait_for(
        "ErrorRateP0 (P0) pages ecplacas-P0 although RedisDown fires",
        40,
        |s| (s.delivered("ecplacas-P0", "ErrorRateP0", "firing") == 1).then_some(()),
    );
    stack.hold(
        "ErrorRateP0 is not inhibited; ErrorRateP2 never reaches ecplacas-P2",
        8,
        |s| {
            let critical = am_alerts(s, "ErrorRateP0");
            if critical.iter().any(|(_, st, _)| st != "active") {
                return Err(format!("ErrorRateP0 is {critical:?}"));
            }
            if s.delivered("ecplacas-P2", "ErrorRateP2", "firing") > 0 {
                return Err("ErrorRateP2 was notified despite RedisDown".to_owned());
            }
            let p2: Vec<String> = notified(s, "ecplacas-P2")
                .into_iter()
                .map(|(n, _, _)| n)
                .collect();
            if p2.iter().any(|n| n != "RedisDown") {
                return Err(format!("ecplacas-P2 heard {p2:?}"));
            }
            Ok(())
        },
    );
}

/// `sigcerh`'s monthly maintenance window (`mute: true`), moved to now, in a variant of the
/// plan where warnings page too: `critical` and `warning` page, so the window mutes only
/// `info`. An outage (`PostgresDownCritical`) and a slow front end (`FrontendSlowWarning`) are
/// delivered during the window; pending updates (`UpdatesAvailableInfo`, `info`) are held
/// back: active in Alertmanager (muted by time, not inhibited) but notified to nobody. (A
/// window's `mute: true` used to mute every level but the most urgent, so a paging `warning`
/// route was muted.)
#[test]
fn a_muting_window_holds_back_the_levels_it_mutes_and_delivers_the_paging_ones() {
    use chrono::Timelike;
    let plan = std::fs::read_to_string(common::root().join("plans/sigcerh.yaml")).expect("plan");
    // Opened five minutes ago, in the plan's time zone, for its 3 hours.
    let now = chrono::Utc::now().with_timezone(
        &"America/Lima"
            .parse::<upkeep::value::zone::Tz>()
            .expect("zone"),
    ) - chrono::Duration::minutes(5);
    let bundled = r#"schedule: "monthly on first saturday at 22:00""#;
    let warning = "    warning:\n      response: 1h\n";
    assert!(
        plan.contains(bundled) && plan.contains(warning),
        "the plan changed"
    );
    let variant = plan
        .replacen(
            bundled,
            &format!(
                r#"schedule: "daily at {:02}:{:02}""#,
                now.hour(),
                now.minute()
            ),
            1,
        )
        .replacen(warning, &format!("{warning}      pages: true\n"), 1);
    let mut opts = Options::plan("sigcerh");
    opts.plan_text = Some(variant);
    let Some(stack) = Stack::start(&opts) else {
        return;
    };
    assert_eq!(stack.routes("PostgresDownCritical"), ["sigcerh-critical"]);
    assert_eq!(stack.routes("FrontendSlowWarning"), ["sigcerh-warning"]);
    assert_eq!(stack.routes("UpdatesAvailableInfo"), ["sigcerh-info"]);

    stack.exporter.gauge(r#"pg_up{job="postgres"}"#, 0.0);
    stack.exporter.gauge(
        r#"probe_duration_seconds{job="blackbox-sigcerh-frontend",instance="https://certificados.ugel.gob.pe"}"#,
        7.0,
    );
    stack
        .exporter
        .gauge(r#"apt_upgrades_pending{job="node"}"#, 3.0);
    stack.wait_for(
        "PostgresDownCritical (pages) delivered to sigcerh-critical during the window",
        30,
        |s| (s.delivered("sigcerh-critical", "PostgresDownCritical", "firing") >= 1).then_some(()),
    );
    stack.wait_for(
        "FrontendSlowWarning (pages in this variant) delivered to sigcerh-warning during the window",
        30,
        |s| (s.delivered("sigcerh-warning", "FrontendSlowWarning", "firing") >= 1).then_some(()),
    );
    stack.wait_for(
        "UpdatesAvailableInfo (info) reaches Alertmanager",
        30,
        |s| (!am_alerts(s, "UpdatesAvailableInfo").is_empty()).then_some(()),
    );
    stack.hold(
        "UpdatesAvailableInfo is active but muted: sigcerh-info hears nothing while the window is open",
        10,
        |s| {
            let info = am_alerts(s, "UpdatesAvailableInfo");
            if info.iter().any(|(_, st, by)| st != "active" || !by.is_empty()) {
                return Err(format!("UpdatesAvailableInfo is {info:?}, expected active"));
            }
            if s.receivers_notified().contains_key("sigcerh-info") {
                return Err("sigcerh-info was notified during the window".to_owned());
            }
            Ok(())
        },
    );
}
