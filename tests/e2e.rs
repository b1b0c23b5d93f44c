//! End to end: a bundled plan's generated rules and Alertmanager configuration, run by the real
//! Prometheus (2.42) and Alertmanager (0.25) on 127.0.0.1, fed raw series by a fake exporter
//! (and the real node exporter's textfile collector), delivering to a webhook written here.
//! promtool and amtool prove the files are accepted; these tests prove what they *do*: which
//! alert fires on which data, and which receiver hears about it, how many times.
//!
//! # The harness
//!
//! - `tests/common/servers.rs`: [`Server`](common::servers::Server) (a real binary on a free
//!   port in its own directory, bounded by `timeout`, stopped by PID on drop — also when a test
//!   panics), `FakeExporter`, `Webhook`, a minimal HTTP client.
//! - `tests/e2e/stack.rs`: `Stack::start(&Options::plan("NAME"))` builds `plans/NAME.yaml` with
//!   the real `upkeep`, writes **compressed copies** of `prometheus/NAME.rules.yaml` and
//!   `alertmanager/alertmanager.yaml` (every `for`, `group_wait`, `group_interval` and
//!   `repeat_interval` divided by 60 — a minute becomes a second; scrape and evaluation every
//!   second; range windows such as `rate(x[5m])` are NOT compressed), points every receiver at
//!   the webhook under its own name, and starts Alertmanager, the fake exporter, optionally the
//!   node exporter (`node_exporter: true`, scraped as `job="node"`), and Prometheus. Every
//!   failure message starts with the list of what was compressed, then what Prometheus
//!   (`/api/v1/alerts`), Alertmanager (`/api/v2/alerts`) and the webhook say.
//! - Where time is compressed: only in those copies, by `compress_rules` (the rules' `for` and
//!   group `interval`, divided by `Options::rules_factor`, 60 unless a test sets
//!   `stack::HOUR_FACTOR`, 3600, for an alert whose `for` is hours) and `compress_routes`
//!   (Alertmanager's timers, always divided by 60) in `tests/e2e/stack.rs`, and in the 1 s
//!   scrape and evaluation intervals and `--rules.alert.resend-delay=1s` it starts Prometheus
//!   with. Nothing else is: range windows, thresholds and `time()` run on the real clock.
//!
//! # Scenarios
//!
//! 1. A KPI's warning reaches its level's receiver alone; its critical pages and inhibits it
//!    (`ecplacas`, `error_rate`).
//! 2. A job whose last success is two days old raises its missed alert until it succeeds
//!    (`ecplacas`, `database_optimization`, via the node exporter's textfile collector).
//! 3. A backup that never ran raises its missed alert: the `absent()` rule of
//!    `PostgresIncrementalBackupMissed`, `for: 9h` (`conecta360`, rules ×3600).
//! 4. A KPI whose series vanishes raises its no-data alert, and not while the series is there
//!    (`ecplacas`, `mysql_up`, `MysqlUpNoData`).
//! 5. The harness stops every server by PID when a test panics.
//! 6. An HTTP health check whose server stops answering: the generated probe job and blackbox
//!    module, run by the real blackbox exporter, page once within the check's detection time
//!    (`sigcerh`, `FrontendDown`, the plan's check compressed in a variant, said there).
//!
//! # Adding a scenario
//!
//! 1. Pick an alert in `prometheus/NAME.rules.yaml` of `upkeep build plans/` and the raw
//!    series its recording rule reads.
//! 2. `let mut opts = Options::plan("NAME");`, then give the series that rules read over a
//!    window a past: `opts.history = vec![(series, Past::Counter(per_second))]` (or
//!    `Past::Gauge(v)`) writes a day of it into Prometheus's storage before it starts —
//!    without it `rate(x[5m])` over a few seconds of data reads as a fraction of the rate, and
//!    "lower is worse" KPIs (throughput) fire on their own. Then
//!    `let Some(stack) = Stack::start(&opts) else { return };` (`None` only when a server
//!    binary is missing and skipping is allowed; under CI that fails).
//! 3. Drive data: `stack.exporter.counter(r#"metric{job="…",…}"#, per_second)` (a counter
//!    growing at that rate, so `rate()` is exact), `stack.exporter.gauge(series, value)`,
//!    `stack.exporter.remove(series)`, or `stack.textfile("x.prom", text)` for job metrics
//!    (with `opts.node_exporter = true`). Series keep the `job` and `instance` they are given.
//! 4. Wait, never sleep: `stack.wait_for(what, secs, |s| …Option)` polls; `stack.hold(what,
//!    secs, |s| …Result)` checks that nothing more happens for a while (long enough for a
//!    second notification: a compressed `group_interval` is 5 s).
//! 5. Assert on `stack.firing()`, `stack.alertmanager_state(alert)`, `stack.delivered(receiver,
//!    alert, status)`, `stack.receivers_notified()`; `stack.routes(alert)` asks amtool where the
//!    copy routes an alert, so the expectation is checked against the real router too.
//! 6. Each test is bounded by `Options::bound` (120 s); keep a scenario well inside it.

mod common;
#[path = "e2e/stack.rs"]
mod stack;

use common::servers;
use stack::{HOUR_FACTOR, Options, Past, Stack};

const PLAN: &str = "ecplacas";
const TOTAL: &str = r#"http_requests_total{job="ecplacas-backend",status="200"}"#;
const ERRORS: &str = r#"http_requests_total{job="ecplacas-backend",status="500"}"#;

/// Exactly the receivers in `want` got notifications, each exactly as many as it says, leaving
/// out the notifications that carry only no-data alerts of KPIs the scenario does not feed
/// (see [`Stack::firing_fed`]).
fn only(s: &Stack, fed: &[&str], want: &[(&str, usize)]) -> Result<(), String> {
    let mut got = std::collections::BTreeMap::new();
    for n in s.notifications() {
        let about_fed = n.alerts().iter().any(|(name, _, _)| {
            !name.ends_with("NoData") || fed.iter().any(|f| name.starts_with(f))
        });
        if about_fed {
            *got.entry(n.path.clone()).or_insert(0) += 1;
        }
    }
    let want: std::collections::BTreeMap<String, usize> =
        want.iter().map(|(r, n)| ((*r).to_owned(), *n)).collect();
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "notifications per receiver are {got:?}, expected exactly {want:?}"
        ))
    }
}

/// The `ecplacas` plan's `error_rate` KPI: `kpi:error_rate = 100 * sum(rate(5xx[5m])) / sum(rate(all[5m]))`,
/// warning (P2) above 0.5, critical (P0) above 1, no `for`. At 0.75% errors only the warning
/// fires and only `ecplacas-P2` hears of it, once; at 20% the critical fires, `ecplacas-P0` hears
/// of it once, and Alertmanager inhibits the warning (same `kpi`) so P2 hears nothing more.
#[test]
fn error_rate_warning_reaches_its_level_alone_then_critical_pages_and_inhibits_it() {
    // The backend has served 100 requests/s for a day, 0.75% of them 5xx. The history matters:
    // with only a few seconds of data, `rate(x[5m])` (and `[1d]`) divides those seconds'
    // increase by the whole window, and the throughput and cost-per-request KPIs would fire too.
    let mut opts = Options::plan(PLAN);
    opts.history = vec![(TOTAL, Past::Counter(99.25)), (ERRORS, Past::Counter(0.75))];
    let Some(stack) = Stack::start(&opts) else {
        return;
    };
    // The plan's matrix, as the real router reads the compressed copy.
    assert_eq!(stack.routes("ErrorRateP2"), ["ecplacas-P2"]);
    assert_eq!(stack.routes("ErrorRateP0"), ["ecplacas-P0"]);
    stack.wait_for(
        "ErrorRateP2 (0.75% > 0.5%) notified to ecplacas-P2",
        30,
        |s| (s.delivered("ecplacas-P2", "ErrorRateP2", "firing") == 1).then_some(()),
    );
    // Long enough for a second notification (compressed group_interval 5m → 5s, twice over).
    stack.hold(
        "only ErrorRateP2, and only once to ecplacas-P2, at 0.75% errors",
        12,
        |s| {
            let firing = s.firing_fed(&["ErrorRate"]);
            if firing != ["ErrorRateP2"] {
                return Err(format!("Prometheus fires {firing:?}"));
            }
            only(s, &["ErrorRate"], &[("ecplacas-P2", 1)])
        },
    );

    // 20% errors: the 5-minute ratio passes 1% within seconds.
    stack.exporter.counter(TOTAL, 80.0);
    stack.exporter.counter(ERRORS, 20.0);
    stack.wait_for("ErrorRateP0 (> 1%) notified to ecplacas-P0", 30, |s| {
        (s.delivered("ecplacas-P0", "ErrorRateP0", "firing") == 1).then_some(())
    });
    stack.wait_for(
        "Alertmanager inhibits ErrorRateP2 while ErrorRateP0 fires",
        10,
        |s| {
            let (state, by) = s.alertmanager_state("ErrorRateP2")?;
            (state == "suppressed" && !by.is_empty()).then_some(())
        },
    );
    stack.hold(
        "ErrorRateP0 once to ecplacas-P0; nothing more to ecplacas-P2 (the warning is inhibited)",
        12,
        |s| {
            let firing = s.firing_fed(&["ErrorRate"]);
            if firing != ["ErrorRateP0", "ErrorRateP2"] {
                return Err(format!("Prometheus fires {firing:?}"));
            }
            only(s, &["ErrorRate"], &[("ecplacas-P0", 1), ("ecplacas-P2", 1)])
        },
    );
    let page = stack
        .notifications()
        .into_iter()
        .find(|n| n.path == "ecplacas-P0" && n.alerts().iter().any(|a| a.0 == "ErrorRateP0"))
        .expect("the page");
    assert_eq!(page.receiver(), "ecplacas-P0", "{}", stack.report());
    let alerts = page.alerts();
    assert_eq!(
        alerts.len(),
        1,
        "the page carries one alert\n{}",
        stack.report()
    );
    assert_eq!(alerts[0].2["level"], "P0");
    assert_eq!(alerts[0].2["kpi"], "error_rate");
}

/// A job metric from the textfile collector, as the generated crontab writes it: the `ecplacas` plan's
/// `database_optimization` runs daily, so `DatabaseOptimizationMissed` (P2, no `for`) fires when
/// its last success is older than 1.5 days. Two days old: it fires and `ecplacas-P2` alone hears
/// of it; a fresh success resolves it and P2 gets the resolved notification.
#[test]
fn a_job_that_last_succeeded_two_days_ago_raises_its_missed_alert_until_it_succeeds() {
    let mut opts = Options::plan(PLAN);
    opts.node_exporter = true;
    let Some(stack) = Stack::start(&opts) else {
        return;
    };
    assert_eq!(stack.routes("DatabaseOptimizationMissed"), ["ecplacas-P2"]);
    let file = "upkeep_ecplacas_database_optimization.prom";
    let series = r#"upkeep_task_last_success_timestamp_seconds{plan="ecplacas",task="database_optimization"}"#;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    stack.textfile(file, &format!("{series} {}\n", now - 2 * 86_400));
    stack.wait_for(
        "DatabaseOptimizationMissed notified to ecplacas-P2",
        30,
        |s| (s.delivered("ecplacas-P2", "DatabaseOptimizationMissed", "firing") == 1).then_some(()),
    );
    stack.hold(
        "only DatabaseOptimizationMissed, once, to ecplacas-P2",
        8,
        |s| {
            let firing = s.firing_fed(&[]);
            if firing != ["DatabaseOptimizationMissed"] {
                return Err(format!("Prometheus fires {firing:?}"));
            }
            only(s, &[], &[("ecplacas-P2", 1)])
        },
    );

    stack.textfile(file, &format!("{series} {now}\n"));
    stack.wait_for(
        "DatabaseOptimizationMissed resolved to ecplacas-P2",
        30,
        |s| {
            (s.delivered("ecplacas-P2", "DatabaseOptimizationMissed", "resolved") == 1)
                .then_some(())
        },
    );
    assert!(stack.firing_fed(&[]).is_empty(), "{}", stack.report());
}

/// Prometheus's state of `alertname` (`pending`, `firing`), if it has the alert at all.
fn prometheus_state(s: &Stack, alertname: &str) -> Option<String> {
    s.prometheus_alerts()
        .into_iter()
        .find(|(name, _, _)| name == alertname)
        .map(|(_, state, _)| state)
}

/// A backup that never ran. `conecta360`'s `postgres.incremental` backup runs every 6 hours; its
/// `PostgresIncrementalBackupMissed` (level `critical`) has two rules: `time() - last success >
/// 9h`, which needs a last success to compare, and `absent(upkeep_task_last_success_timestamp_seconds
/// {plan="conecta360", task="postgres.incremental"})` `for: 9h` (1.5× the interval), for a job
/// whose metric never reached Prometheus. Nothing here reports the job (no node exporter, no such
/// series on the fake exporter), so the second rule must fire: pending first, for its whole `for`,
/// then firing, delivered once to `conecta360-critical`, with the "reported no success"
/// description of the `absent()` rule.
///
/// Nine hours is nine minutes at the usual ×60, so this stack divides the rules' `for` by 3600
/// (`Options::rules_factor = HOUR_FACTOR`): `9h` → 9 s, while Alertmanager keeps ×60. The plan's
/// other jobs' never-ran rules have a `for` of `1d12h` or more (36 s or more here), after this
/// test is done. `kafka_brokers{job="kafka"}` is served (3 brokers) because its KPI is
/// `max(kafka_brokers) or on() vector(0)`: without the series it reads 0 brokers and
/// `KafkaBrokersCritical` would fire too.
#[test]
fn a_backup_that_never_ran_raises_its_missed_alert() {
    const ALERT: &str = "PostgresIncrementalBackupMissed";
    let mut opts = Options::plan("conecta360");
    opts.rules_factor = HOUR_FACTOR;
    opts.history = vec![(r#"kafka_brokers{job="kafka"}"#, Past::Gauge(3.0))];
    let Some(stack) = Stack::start(&opts) else {
        return;
    };
    assert_eq!(stack.routes(ALERT), ["conecta360-critical"]);
    // Its two rules, as compressed: the overdue one (no `for`) and the never-ran one.
    let rules: Vec<(String, String)> = stack.rules["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .filter(|r| r["alert"] == ALERT)
        .map(|r| {
            let expr = r["expr"].as_str().unwrap_or_default();
            let kind = if expr.starts_with("absent(") {
                "absent"
            } else {
                "overdue"
            };
            (kind.to_owned(), r["for"].as_str().unwrap_or("-").to_owned())
        })
        .collect();
    assert_eq!(
        rules,
        [
            ("overdue".to_owned(), "-".to_owned()),
            ("absent".to_owned(), "9s".to_owned())
        ],
        "{}",
        stack.report()
    );
    stack.wait_for(
        "PostgresIncrementalBackupMissed pending (its absent() rule holds, for: 9h → 9s)",
        8,
        |s| (prometheus_state(s, ALERT)? == "pending").then_some(()),
    );
    assert_eq!(
        stack.delivered("conecta360-critical", ALERT, "firing"),
        0,
        "delivered while still pending\n{}",
        stack.report()
    );
    stack.wait_for(
        "PostgresIncrementalBackupMissed notified to conecta360-critical",
        30,
        |s| (s.delivered("conecta360-critical", ALERT, "firing") == 1).then_some(()),
    );
    // Long enough for a second notification (compressed group_interval 5m → 5s, twice over),
    // and well before the plan's next never-ran rule (`for: 1d12h` → 36 s) fires.
    stack.hold(
        "only PostgresIncrementalBackupMissed, once, to conecta360-critical",
        10,
        |s| {
            let firing = s.firing_fed(&[]);
            if firing != [ALERT] {
                return Err(format!("Prometheus fires {firing:?}"));
            }
            only(s, &[], &[("conecta360-critical", 1)])
        },
    );
    let n = stack
        .notifications()
        .into_iter()
        .find(|n| n.path == "conecta360-critical" && n.alerts().iter().any(|a| a.0 == ALERT))
        .expect("the notification");
    let alerts = n.body["alerts"].as_array().cloned().unwrap_or_default();
    assert_eq!(alerts.len(), 1, "one alert\n{}", stack.report());
    let labels = &alerts[0]["labels"];
    assert_eq!(labels["task"], "postgres.incremental");
    assert_eq!(labels["level"], "critical");
    assert_eq!(labels["severity"], "critical");
    let description = alerts[0]["annotations"]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(
        description.contains("has reported no success for 9h"),
        "the absent() rule's description, not the overdue one's: {description:?}\n{}",
        stack.report()
    );
}

/// Vanished series raise the no-data alert. `ecplacas`'s `mysql_up` KPI is
/// `kpi:mysql_up:expr = mysql_up{job="mysql"}`, a gauge read as it is, and `MysqlUpNoData`
/// (level P0) is `absent(kpi:mysql_up:expr{plan="ecplacas", kpi="mysql_up"})` `for: 10m`
/// (10 s here). While the exporter serves `mysql_up 1` the KPI is 1: neither `MysqlUpP0`
/// (`< 1`) nor `MysqlUpNoData` is even pending, for longer than that `for`. Once the exporter
/// stops serving it, it goes pending, fires no sooner than 10 s later, and `ecplacas-P0` hears
/// of it once.
///
/// Why a gauge KPI: when a series disappears from a scrape Prometheus writes a staleness marker,
/// and an instant selector (`mysql_up{…}`) returns nothing from the next evaluation on, so the
/// recording rule stops and `absent()` holds within about two seconds. A `rate(x[5m])` KPI
/// would go on yielding a value from the samples still in its window (range selectors ignore
/// staleness markers) for up to five real minutes, since range windows are not compressed.
/// The series is given a past (`Options::history`) so that it is on the exporter before
/// Prometheus starts and in storage for its first rule evaluation: otherwise `absent()` would
/// hold, briefly, before the first scrape.
#[test]
fn a_kpi_whose_series_vanishes_raises_its_no_data_alert() {
    const SERIES: &str = r#"mysql_up{job="mysql"}"#;
    const NO_DATA: &str = "MysqlUpNoData";
    let mut opts = Options::plan(PLAN);
    opts.history = vec![(SERIES, Past::Gauge(1.0))];
    let Some(stack) = Stack::start(&opts) else {
        return;
    };
    assert_eq!(stack.routes(NO_DATA), ["ecplacas-P0"]);
    assert_eq!(stack.rule(NO_DATA)["for"], "10s", "{}", stack.report());
    stack.wait_for("kpi:mysql_up:expr is 1", 10, |s| {
        (s.query(r#"kpi:mysql_up:expr{plan="ecplacas", kpi="mysql_up"}"#) == [1.0]).then_some(())
    });
    // Longer than the compressed `for` (10 s): had the KPI no value, MysqlUpNoData would fire.
    stack.hold(
        "no MysqlUp alert, not even pending, while mysql_up is served",
        12,
        |s| {
            let about: Vec<_> = s
                .prometheus_alerts()
                .into_iter()
                .filter(|(name, _, _)| name.starts_with("MysqlUp"))
                .map(|(name, state, _)| format!("{name} {state}"))
                .collect();
            if !about.is_empty() {
                return Err(format!("Prometheus has {about:?}"));
            }
            only(s, &["MysqlUp"], &[])
        },
    );

    stack.exporter.remove(SERIES);
    let removed = std::time::Instant::now();
    stack.wait_for("MysqlUpNoData pending once mysql_up is gone", 10, |s| {
        (prometheus_state(s, NO_DATA)? == "pending").then_some(())
    });
    stack.wait_for("MysqlUpNoData notified to ecplacas-P0", 30, |s| {
        (s.delivered("ecplacas-P0", NO_DATA, "firing") == 1).then_some(())
    });
    assert!(
        removed.elapsed() >= std::time::Duration::from_secs(10),
        "MysqlUpNoData was delivered {:?} after the series went, before its `for` (10 s)\n{}",
        removed.elapsed(),
        stack.report()
    );
    stack.hold(
        "only MysqlUpNoData (not MysqlUpP0), once, to ecplacas-P0",
        8,
        |s| {
            let firing = s.firing_fed(&["MysqlUp"]);
            if firing != [NO_DATA] {
                return Err(format!("Prometheus fires {firing:?}"));
            }
            only(s, &["MysqlUp"], &[("ecplacas-P0", 1)])
        },
    );
}

/// The harness itself: a server started in a test that panics is gone afterwards, every PID.
#[test]
fn servers_are_stopped_by_pid_when_a_test_panics() {
    let dir = common::scratch("e2e-harness");
    let pids = std::sync::Mutex::new(Vec::new());
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let Some(am) =
            servers::alertmanager(&dir, "route: {receiver: x}\nreceivers: [{name: x}]\n")
        else {
            return;
        };
        pids.lock().expect("pids").extend(am.pids());
        panic!("a deliberate panic, to show the server is stopped while unwinding");
    }));
    let pids = pids.into_inner().expect("pids");
    if pids.is_empty() {
        return; // skipped: no alertmanager
    }
    assert!(result.is_err());
    assert_eq!(
        pids.len(),
        2,
        "the timeout wrapper and the server: {pids:?}"
    );
    for pid in pids {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        assert!(
            stat.is_empty() || stat.contains(") Z"),
            "process {pid} still runs after the panic: {stat}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Health checks, end to end: the generated probe jobs and blackbox modules run by the real
/// blackbox exporter against a local HTTP server, with the plan's `…Down` alert delivered by
/// the real Prometheus and Alertmanager, once, within its detection time.
///
/// Time is compressed in the plan itself (a variant of `sigcerh`): the frontend's check,
/// "every 5 minutes, timeout 30 s, 3 retries", becomes every 5 s with a 1 s timeout and 3
/// retries — attempts every 2 s (5 s / 3, rounded up to a whole second), down when the last 3
/// failed, known at worst 3 × 2 s + 1 s = 7 s into the outage. Alertmanager's timers are
/// compressed by the harness (÷60: the critical level's `group_wait` of 30s is 0.5 s). The
/// backend and OCR checks (hard dependencies of the frontend) probe a server that always
/// answers, so no dependency inhibits the frontend's alert.
#[test]
fn an_http_check_that_stops_answering_pages_once_within_its_detection_time() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    let healthy = Arc::new(AtomicBool::new(true));
    let flag = Arc::clone(&healthy);
    let frontend = servers::HttpServer::start(Box::new(move |_| {
        if flag.load(Ordering::Relaxed) {
            (200, "ok".to_owned())
        } else {
            (503, "down".to_owned())
        }
    }));
    let others = servers::HttpServer::start(Box::new(|_| (200, "ok".to_owned())));
    let plan = std::fs::read_to_string(common::root().join("plans/sigcerh.yaml")).expect("plan");
    let mut variant = plan.clone();
    for (from, to) in [
        (
            r#"health: {http: "https://certificados.ugel.gob.pe", interval: 5m, timeout: 30s, retries: 3}"#,
            format!(
                r#"health: {{http: "http://127.0.0.1:{}/", interval: 5s, timeout: 1s, retries: 3}}"#,
                frontend.port
            ),
        ),
        (
            r#"health: {http: "http://backend:3000/api/health", interval: 5m, timeout: 30s, retries: 3}"#,
            format!(
                r#"health: {{http: "http://127.0.0.1:{}/api/health", interval: 5s, timeout: 1s, retries: 3}}"#,
                others.port
            ),
        ),
        (
            r#"health: {http: "http://ocr:8000/health", interval: 5m, timeout: 30s, retries: 3}"#,
            format!(
                r#"health: {{http: "http://127.0.0.1:{}/health", interval: 5s, timeout: 1s, retries: 3}}"#,
                others.port
            ),
        ),
    ] {
        assert!(
            variant.contains(from),
            "plans/sigcerh.yaml no longer has {from}"
        );
        variant = variant.replace(from, &to);
    }
    let mut opts = Options::plan("sigcerh");
    opts.plan_text = Some(variant);
    opts.blackbox = true;
    let Some(stack) = Stack::start(&opts) else {
        return;
    };
    assert_eq!(stack.routes("FrontendDown"), ["sigcerh-critical"]);
    let up = format!(
        r#"probe_success{{job="blackbox-sigcerh-frontend",instance="http://127.0.0.1:{}/"}}"#,
        frontend.port
    );
    stack.wait_for("the blackbox exporter reports the frontend up", 20, |s| {
        (s.query(&up) == [1.0]).then_some(())
    });

    healthy.store(false, Ordering::Relaxed);
    let outage = Instant::now();
    // Detection (7 s, above), one attempt's phase (2 s), one evaluation (1 s), `group_wait`
    // (0.5 s) and Prometheus' resend delay (1 s), rounded up.
    let within = Duration::from_secs(12);
    stack.wait_for("FrontendDown notified to sigcerh-critical", 30, |s| {
        (s.delivered("sigcerh-critical", "FrontendDown", "firing") == 1).then_some(())
    });
    let took = outage.elapsed();
    assert!(
        took <= within,
        "FrontendDown took {took:?}, more than its detection time {within:?}\n{}",
        stack.report()
    );
    // Once: no second notification while the outage lasts (shorter than the compressed
    // `repeat_interval`, 15m → 15 s), and no flapping alert beside it.
    stack.hold(
        "FrontendDown once, nothing else about the frontend",
        8,
        |s| {
            let n = s.delivered("sigcerh-critical", "FrontendDown", "firing");
            if n != 1 {
                return Err(format!("FrontendDown notified {n} times"));
            }
            let firing: Vec<String> = s
                .firing()
                .into_iter()
                .filter(|a| a.starts_with("Frontend") && !a.ends_with("NoData"))
                .collect();
            if firing != ["FrontendDown"] {
                return Err(format!("Prometheus fires {firing:?}"));
            }
            Ok(())
        },
    );

    healthy.store(true, Ordering::Relaxed);
    stack.wait_for("FrontendDown resolved to sigcerh-critical", 30, |s| {
        (s.delivered("sigcerh-critical", "FrontendDown", "resolved") == 1).then_some(())
    });
}
