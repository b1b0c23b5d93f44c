//! One bundled plan's generated Prometheus rules and Alertmanager configuration, loaded into
//! real servers on 127.0.0.1 with time compressed, fed by a fake exporter (and optionally the
//! real node exporter's textfile collector), delivering to a recording webhook.
//!
//! What is compressed, in copies of the generated files (the generated files are not touched):
//!
//! - every alerting rule's `for` (and a group's `interval`, if any) is divided by
//!   [`Options::rules_factor`], which is [`FACTOR`] unless a test raises it;
//! - every route's `group_wait`, `group_interval` and `repeat_interval` is divided by [`FACTOR`]
//!   (always: Alertmanager's clock is not changed by `rules_factor`);
//! - Prometheus scrapes and evaluates every second.
//!
//! A test whose alert has a `for` of hours (a job's never-succeeded alert is 1.5× its interval:
//! `9h` for a job every 6 hours, nine minutes at [`FACTOR`]) sets `rules_factor` to
//! [`HOUR_FACTOR`] (`9h` → 9 s). Every `for` of the plan's rules is then divided by it — the
//! rules' time runs faster than Alertmanager's, and an alert with a short `for` fires almost as
//! soon as its condition holds.
//!
//! Not compressed: the range windows inside expressions (`rate(x[5m])`, `[30d]`), thresholds,
//! labels, matchers, inhibition and time intervals. A range window longer than the test simply
//! covers all the data the test produced.
//!
//! Every receiver of the Alertmanager copy keeps its name and loses its integrations (Slack,
//! `PagerDuty`, e-mail, webhooks…) for one `webhook_configs` entry posting to the local webhook
//! at `/RECEIVER_NAME`, `send_resolved: true`; that includes the root receiver `unrouted` (for
//! alerts of no plan), which sends nothing in production, so a test can see what would have
//! been dropped.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{
    self,
    servers::{self, FakeExporter, Notification, Server, Webhook},
};

/// Time in the copies runs this many times faster: a minute becomes a second.
pub const FACTOR: u64 = 60;

/// A faster clock for the rules alone ([`Options::rules_factor`]): an hour becomes a second.
pub const HOUR_FACTOR: u64 = 3600;

/// How a stack is started.
pub struct Options {
    /// A bundled plan: `plans/PLAN.yaml`.
    pub plan: &'static str,
    /// A variant of the plan to build instead of `plans/PLAN.yaml` (a window open now, say):
    /// written to `plans/PLAN.yaml` in a scratch directory beside a copy of `plans/shared/`,
    /// so its imports resolve as the bundled plan's do.
    pub plan_text: Option<String>,
    /// Also run the real node exporter, scraped as `job="node"` (the job the generated rules
    /// read host and job metrics from), its textfile collector reading [`Stack::textfiles`].
    pub node_exporter: bool,
    /// Also run the real blackbox exporter on the generated `blackbox/blackbox.yaml`, and give
    /// Prometheus the generated probe jobs of `prometheus/PLAN.scrape.yaml` as they are (their
    /// `scrape_interval` and `scrape_timeout` untouched), sent to that exporter.
    pub blackbox: bool,
    /// The whole test, start-up included, must be done within this.
    pub bound: Duration,
    /// Series of the fake exporter with a past: each is set on the exporter and written into
    /// Prometheus's storage (`promtool tsdb create-blocks-from openmetrics`) for
    /// [`Options::history_span`] before Prometheus starts, one sample a minute, so
    /// `rate(x[5m])` or `[1d]` sees a service that has been running rather than a few seconds
    /// of data (which `rate()` divides by the whole window).
    pub history: Vec<(&'static str, Past)>,
    pub history_span: Duration,
    /// What every alerting rule's `for` (and a rule group's `interval`) is divided by:
    /// [`FACTOR`] by default, [`HOUR_FACTOR`] for a scenario about an alert whose `for` is
    /// hours. Alertmanager's `group_wait`, `group_interval` and `repeat_interval` are divided
    /// by [`FACTOR`] whatever this is.
    pub rules_factor: u64,
}

/// How a series of [`Options::history`] behaved before the test.
#[derive(Clone, Copy, Debug)]
pub enum Past {
    /// A counter growing this much per second (and going on at that rate on the exporter).
    Counter(f64),
    /// A gauge holding this value.
    Gauge(f64),
}

impl Options {
    pub fn plan(plan: &'static str) -> Options {
        Options {
            plan,
            plan_text: None,
            node_exporter: false,
            blackbox: false,
            bound: Duration::from_secs(120),
            history: Vec::new(),
            history_span: Duration::from_secs(86_400 + 3600),
            rules_factor: FACTOR,
        }
    }
}

/// The running servers. Dropping it stops them (Prometheus first); the directory is kept when
/// the test is failing, removed otherwise.
pub struct Stack {
    pub plan: String,
    /// Configurations, compressed copies, server data and logs.
    pub dir: PathBuf,
    /// Where the node exporter reads `*.prom` files (see [`Stack::textfile`]).
    pub textfiles: PathBuf,
    /// Scraped as `job="fake"` with `honor_labels: true`: series keep the `job` they are given.
    pub exporter: FakeExporter,
    pub webhook: Webhook,
    pub prometheus: Server,
    pub alertmanager: Server,
    pub node_exporter: Option<Server>,
    pub blackbox: Option<Server>,
    /// The compressed copy of `prometheus/PLAN.rules.yaml`.
    pub rules: Value,
    /// The compressed, rewired copy of `alertmanager/alertmanager.yaml` (built from this plan
    /// alone).
    pub alertmanager_config: PathBuf,
    /// What the copies changed, one line per change, for messages.
    pub compressed: Vec<String>,
    /// [`Options::rules_factor`].
    pub rules_factor: u64,
    amtool: PathBuf,
    started: Instant,
    deadline: Instant,
}

impl Stack {
    /// Build the plan with the real binary, write compressed copies, start every server and
    /// wait until Prometheus has loaded the rules and scrapes its targets. `None` when a binary
    /// is missing and skipping is allowed (the reason was printed).
    pub fn start(opts: &Options) -> Option<Stack> {
        let started = Instant::now();
        let deadline = started + opts.bound;
        let promtool = common::tool("promtool")?;
        let amtool = common::tool("amtool")?;
        let plan = opts.plan;
        // Tests run in parallel in one process: each stack has its own directories.
        static STACKS: AtomicUsize = AtomicUsize::new(0);
        let n = STACKS.fetch_add(1, Ordering::Relaxed);
        let dir = common::scratch(&format!("e2e-{plan}-{n}"));
        let source = match &opts.plan_text {
            Some(text) => {
                let plans = dir.join("plans");
                let shared = plans.join("shared");
                std::fs::create_dir_all(&shared).expect("plan directory");
                for f in common::files(&common::root().join("plans/shared"), "") {
                    let name = f.file_name().expect("file name");
                    std::fs::copy(&f, shared.join(name)).expect("copy a shared fragment");
                }
                let path = plans.join(format!("{plan}.yaml"));
                std::fs::write(&path, text).expect("write the plan variant");
                path.to_string_lossy().into_owned()
            }
            None => format!("plans/{plan}.yaml"),
        };
        let out = common::build(&source, &format!("e2e-out-{plan}-{n}"), &[]);
        let mut compressed = Vec::new();

        // Rules.
        let rules_src = out.join(format!("prometheus/{plan}.rules.yaml"));
        let mut rules = read_yaml(&rules_src);
        compress_rules(&mut rules, opts.rules_factor, &mut compressed);
        let rules_copy = dir.join(format!("{plan}.rules.yaml"));
        write_json(&rules_copy, &rules);
        common::run_ok(
            Command::new(&promtool)
                .args(["check", "rules"])
                .arg(&rules_copy),
        );

        // Alertmanager.
        let webhook = Webhook::start();
        let am_src = out.join("alertmanager/alertmanager.yaml");
        let mut am = read_yaml(&am_src);
        compress_routes(&mut am["route"], "route", &mut compressed);
        rewire_receivers(&mut am, &webhook, &mut compressed);
        let am_copy = dir.join(format!("{plan}.alertmanager.yml"));
        write_json(&am_copy, &am);
        common::run_ok(Command::new(&amtool).arg("check-config").arg(&am_copy));
        let probes = opts.blackbox.then(|| {
            (
                read_yaml(&out.join(format!("prometheus/{plan}.scrape.yaml"))),
                std::fs::read_to_string(out.join("blackbox/blackbox.yaml"))
                    .expect("blackbox/blackbox.yaml"),
            )
        });
        let _ = std::fs::remove_dir_all(&out);

        let alertmanager = servers::alertmanager(&dir, &to_json(&am))?;
        let exporter = FakeExporter::start();
        let textfiles = dir.join("textfiles");
        std::fs::create_dir_all(&textfiles).expect("textfile directory");
        let node_exporter = if opts.node_exporter {
            Some(servers::node_exporter(&dir, &textfiles)?)
        } else {
            None
        };

        let mut scrape = vec![json!({
            "job_name": "fake",
            "honor_labels": true,
            "static_configs": [{"targets": [format!("127.0.0.1:{}", exporter.port)]}],
        })];
        if let Some(node) = &node_exporter {
            scrape.push(json!({
                "job_name": "node",
                "static_configs": [{"targets": [format!("127.0.0.1:{}", node.port)]}],
            }));
        }
        let blackbox = match &probes {
            Some((jobs, modules)) => {
                let server = servers::blackbox_exporter(&dir, modules)?;
                let address = format!("127.0.0.1:{}", server.port);
                for job in jobs["scrape_configs"].as_array().expect("scrape_configs") {
                    let mut job = job.clone();
                    for r in job["relabel_configs"]
                        .as_array_mut()
                        .expect("relabel_configs")
                    {
                        if r["target_label"] == "__address__" {
                            r["replacement"] = json!(address);
                        }
                    }
                    compressed.push(format!(
                        "prometheus: probe job {} as generated (scrape_interval {}, scrape_timeout {}), sent to the blackbox exporter at {address}",
                        job["job_name"], job["scrape_interval"], job["scrape_timeout"]
                    ));
                    scrape.push(job);
                }
                Some(server)
            }
            None => None,
        };
        let config = json!({
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
            "rule_files": [rules_copy],
            "alerting": {"alertmanagers": [{
                "api_version": "v2",
                "static_configs": [{"targets": [format!("127.0.0.1:{}", alertmanager.port)]}],
            }]},
            "scrape_configs": scrape,
        });
        compressed.push("prometheus: scrape_interval and evaluation_interval 1s".to_owned());
        if !opts.history.is_empty() {
            backfill(&promtool, &dir, &exporter, opts, &mut compressed);
        }
        // Prometheus resends a firing alert only every `resend-delay` (1m): an alert that fires
        // before it has discovered Alertmanager would wait that long.
        compressed.push("prometheus: --rules.alert.resend-delay 1m → 1s".to_owned());
        let prometheus =
            servers::prometheus(&dir, &to_json(&config), &["--rules.alert.resend-delay=1s"])?;

        let stack = Stack {
            plan: plan.to_owned(),
            dir,
            textfiles,
            exporter,
            webhook,
            prometheus,
            alertmanager,
            node_exporter,
            blackbox,
            rules,
            alertmanager_config: am_copy,
            compressed,
            rules_factor: opts.rules_factor,
            amtool,
            started,
            deadline,
        };
        let groups = stack.rules["groups"].as_array().map_or(0, Vec::len);
        stack.wait_for(
            "Prometheus loads the rules, scrapes every target and knows Alertmanager",
            30,
            |s| {
                let loaded = servers::get_json(s.prometheus.port, "/api/v1/rules").ok()?;
                let targets = servers::get_json(s.prometheus.port, "/api/v1/targets").ok()?;
                let active = targets["data"]["activeTargets"].as_array()?;
                let healthy = active.len() == scrape_count(&config)
                    && active.iter().all(|t| t["health"] == "up");
                let am = servers::get_json(s.prometheus.port, "/api/v1/alertmanagers").ok()?;
                let discovered = !am["data"]["activeAlertmanagers"].as_array()?.is_empty();
                (loaded["data"]["groups"].as_array()?.len() == groups && healthy && discovered)
                    .then_some(())
            },
        );
        Some(stack)
    }

    /// Poll `check` every 200 ms until it gives a value; panic after `secs` seconds (or at the
    /// stack's bound, whichever comes first) with `what` and [`Stack::report`].
    pub fn wait_for<T>(
        &self,
        what: &str,
        secs: u64,
        mut check: impl FnMut(&Stack) -> Option<T>,
    ) -> T {
        let until = (Instant::now() + Duration::from_secs(secs)).min(self.deadline);
        loop {
            if let Some(v) = check(self) {
                return v;
            }
            assert!(
                Instant::now() < until,
                "{what}: not seen within {secs}s (or the test's bound)\n{}",
                self.report()
            );
            thread::sleep(Duration::from_millis(200));
        }
    }

    /// Check `invariant` every 200 ms for `secs` seconds; panic at the first violation with its
    /// message and [`Stack::report`]. This is how a test shows that nothing more happens (no
    /// second notification, no other receiver) over a span long enough for it to happen.
    pub fn hold(
        &self,
        what: &str,
        secs: u64,
        mut invariant: impl FnMut(&Stack) -> Result<(), String>,
    ) {
        let until = Instant::now() + Duration::from_secs(secs);
        assert!(
            until <= self.deadline,
            "{what}: holding {secs}s would pass the test's bound\n{}",
            self.report()
        );
        while Instant::now() < until {
            if let Err(why) = invariant(self) {
                panic!("{what}: {why}\n{}", self.report());
            }
            thread::sleep(Duration::from_millis(200));
        }
    }

    /// Prometheus's alerts: (alertname, state `pending`/`firing`, labels).
    pub fn prometheus_alerts(&self) -> Vec<(String, String, Value)> {
        let Ok(v) = servers::get_json(self.prometheus.port, "/api/v1/alerts") else {
            return Vec::new();
        };
        v["data"]["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                (
                    str_of(&a["labels"]["alertname"]),
                    str_of(&a["state"]),
                    a["labels"].clone(),
                )
            })
            .collect()
    }

    /// Names of the alerts Prometheus has firing (sorted, repeated per label set).
    pub fn firing(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .prometheus_alerts()
            .into_iter()
            .filter(|(_, state, _)| state == "firing")
            .map(|(name, _, _)| name)
            .collect();
        v.sort();
        v
    }

    /// Like [`Stack::firing`], without the no-data alerts of the KPIs a scenario does not feed
    /// (any KPI whose name does not start with one of `fed`): with no series, `…NoData` is what
    /// they must raise, and a scenario about one KPI leaves the others without series.
    pub fn firing_fed(&self, fed: &[&str]) -> Vec<String> {
        self.firing()
            .into_iter()
            .filter(|a| !a.ends_with("NoData") || fed.iter().any(|f| a.starts_with(f)))
            .collect()
    }

    /// The value of the instant query `promql` now, one per series (empty when it has none or
    /// Prometheus does not answer).
    pub fn query(&self, promql: &str) -> Vec<f64> {
        let encoded: String = promql
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let Ok(v) = servers::get_json(
            self.prometheus.port,
            &format!("/api/v1/query?query={encoded}"),
        ) else {
            return Vec::new();
        };
        v["data"]["result"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["value"][1].as_str()?.parse().ok())
            .collect()
    }

    /// Alertmanager's alerts (`/api/v2/alerts`, active, silenced and inhibited ones included).
    pub fn alertmanager_alerts(&self) -> Vec<Value> {
        servers::get_json(self.alertmanager.port, "/api/v2/alerts")
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
    }

    /// Alertmanager's state of `alertname` (`active`, `suppressed`…) and what inhibits it.
    pub fn alertmanager_state(&self, alertname: &str) -> Option<(String, Vec<String>)> {
        self.alertmanager_alerts()
            .into_iter()
            .find(|a| a["labels"]["alertname"] == alertname)
            .map(|a| {
                let by = a["status"]["inhibitedBy"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(str_of)
                    .collect();
                (str_of(&a["status"]["state"]), by)
            })
    }

    /// Every notification the webhook received.
    pub fn notifications(&self) -> Vec<Notification> {
        self.webhook.received()
    }

    /// How many notifications `receiver` got that carry `alertname` with `status`.
    pub fn delivered(&self, receiver: &str, alertname: &str, status: &str) -> usize {
        self.notifications()
            .iter()
            .filter(|n| n.path == receiver)
            .filter(|n| {
                n.alerts()
                    .iter()
                    .any(|(name, st, _)| name == alertname && st == status)
            })
            .count()
    }

    /// The receivers that got any notification, each with its count.
    pub fn receivers_notified(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for n in self.notifications() {
            *m.entry(n.path.clone()).or_default() += 1;
        }
        m
    }

    /// The alerting rule `alertname` of the compressed rules copy.
    pub fn rule(&self, alertname: &str) -> &Value {
        self.rules["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().into_iter().flatten())
            .find(|r| r["alert"] == alertname)
            .unwrap_or_else(|| panic!("no alert {alertname} in the {} rules", self.plan))
    }

    /// The receivers the Alertmanager copy routes `alertname` to, with the labels its rule
    /// sets, by `amtool config routes test` (the real routing code, not this test's reading).
    pub fn routes(&self, alertname: &str) -> Vec<String> {
        let mut labels = vec![format!("alertname={alertname}")];
        if let Some(map) = self.rule(alertname)["labels"].as_object() {
            labels.extend(map.iter().map(|(k, v)| format!("{k}={}", str_of(v))));
        }
        let out = Command::new(&self.amtool)
            .args(["config", "routes", "test", "--config.file"])
            .arg(&self.alertmanager_config)
            .args(&labels)
            .output()
            .expect("run amtool");
        assert!(out.status.success(), "amtool: {out:?}");
        // stderr has a warning about --alertmanager.url; the receivers are on stdout.
        String::from_utf8_lossy(&out.stdout)
            .split([',', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Write a node exporter textfile (atomically), as a generated cron job does.
    pub fn textfile(&self, name: &str, text: &str) {
        servers::write_textfile(&self.textfiles, name, text);
    }

    /// What the servers and the webhook say now, and what was compressed: for failure messages.
    pub fn report(&self) -> String {
        let mut r = format!(
            "--- e2e stack for plan `{}` after {:.1}s (files in {})\n\
             time compressed in copies of the generated files (rules' `for` ×{}, \
             Alertmanager ×{FACTOR}), and the setup:\n",
            self.plan,
            self.started.elapsed().as_secs_f64(),
            self.dir.display(),
            self.rules_factor
        );
        for c in &self.compressed {
            let _ = writeln!(r, "  {c}");
        }
        r.push_str("Prometheus /api/v1/alerts:\n");
        for (name, state, labels) in self.prometheus_alerts() {
            let _ = writeln!(r, "  {name} {state} {labels}");
        }
        r.push_str("Alertmanager /api/v2/alerts:\n");
        for a in self.alertmanager_alerts() {
            let _ = writeln!(
                r,
                "  {} {} inhibitedBy={} silencedBy={} mutedBy={} receivers={}",
                str_of(&a["labels"]["alertname"]),
                str_of(&a["status"]["state"]),
                a["status"]["inhibitedBy"],
                a["status"]["silencedBy"],
                a["status"]["mutedBy"],
                a["receivers"]
            );
        }
        r.push_str("webhook notifications:\n");
        for n in self.notifications() {
            let _ = writeln!(r, "  {}", n.summary());
        }
        r.push_str("fake exporter serves:\n");
        for l in self.exporter.text().lines().filter(|l| !l.starts_with('#')) {
            let _ = writeln!(r, "  {l}");
        }
        r
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let mut stopped = self.prometheus.stop();
        stopped &= self.alertmanager.stop();
        if let Some(n) = &mut self.node_exporter {
            stopped &= n.stop();
        }
        if let Some(b) = &mut self.blackbox {
            stopped &= b.stop();
        }
        if thread::panicking() {
            eprintln!(
                "e2e: kept {} (configurations, copies, server logs)",
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
            assert!(stopped, "e2e: a server did not stop");
        }
    }
}

/// Set `opts.history` on the exporter and write its past into Prometheus's (not yet started)
/// storage, with the labels a scrape gives it (`instance`, and `job="fake"` unless it has one).
fn backfill(
    promtool: &Path,
    dir: &Path,
    exporter: &FakeExporter,
    opts: &Options,
    log: &mut Vec<String>,
) {
    const STEP: u64 = 60;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let steps = opts.history_span.as_secs() / STEP;
    let mut history = opts.history.clone();
    history.sort_by_key(|(series, _)| *series);
    let mut om = String::new();
    for (series, past) in &history {
        match *past {
            Past::Counter(rate) => exporter.counter(series, rate),
            Past::Gauge(v) => exporter.gauge(series, v),
        }
        let current = exporter.value(series).expect("just set");
        let (name, labels) = servers::split_series(series);
        let mut pairs: BTreeMap<String, String> = labels
            .trim_matches(|c| c == '{' || c == '}')
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().trim_matches('"').to_owned()))
            .collect();
        // `honor_labels: true` keeps an `instance` the series has.
        pairs
            .entry("instance".to_owned())
            .or_insert_with(|| format!("127.0.0.1:{}", exporter.port));
        pairs
            .entry("job".to_owned())
            .or_insert_with(|| "fake".to_owned());
        let labels: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        for k in (1..=steps).rev() {
            let value = match *past {
                Past::Counter(rate) => current - rate * (k * STEP) as f64,
                Past::Gauge(v) => v,
            };
            let _ = writeln!(
                om,
                "{name}{{{}}} {value} {}",
                labels.join(","),
                now - k * STEP
            );
        }
        log.push(format!(
            "history: {series} {past:?} for the {}h before the test (backfilled, a sample a minute)",
            opts.history_span.as_secs() / 3600
        ));
    }
    om.push_str("# EOF\n");
    let input = dir.join("history.om");
    std::fs::write(&input, om).expect("write history");
    let data = dir.join("prometheus/data");
    std::fs::create_dir_all(&data).expect("prometheus data directory");
    common::run_ok(
        Command::new(promtool)
            .args(["tsdb", "create-blocks-from", "openmetrics", "--quiet"])
            .arg(&input)
            .arg(&data),
    );
}

fn str_of(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

fn scrape_count(config: &Value) -> usize {
    config["scrape_configs"].as_array().map_or(0, Vec::len)
}

fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (is it still generated there?)", path.display()));
    serde_saphyr::from_str(&text).expect("generated YAML parses")
}

fn to_json(v: &Value) -> String {
    serde_json::to_string_pretty(v).expect("JSON")
}

/// Prometheus and Alertmanager read YAML, of which JSON is a subset.
fn write_json(path: &Path, v: &Value) {
    std::fs::write(path, to_json(v)).expect("write copy");
}

/// A Prometheus/Alertmanager duration (`1h30m`, `10s`, `500ms`) in milliseconds.
pub fn parse_duration(text: &str) -> u64 {
    let mut total = 0;
    let mut rest = text.trim();
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let n: u64 = rest[..digits]
            .parse()
            .unwrap_or_else(|_| panic!("bad duration {text:?}"));
        rest = &rest[digits..];
        let unit = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let ms = match &rest[..unit] {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            "y" => 365 * 86_400_000,
            u => panic!("bad unit {u:?} in duration {text:?}"),
        };
        total += n * ms;
        rest = &rest[unit..];
    }
    total
}

/// Milliseconds as a duration both servers read: `2s`, `500ms`.
pub fn format_duration(ms: u64) -> String {
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// Divide the duration at `obj[key]` by `factor`, when there is one; (before, after).
fn compress(obj: &mut Value, key: &str, factor: u64) -> Option<(String, String)> {
    let field = obj.get_mut(key)?;
    let before = field.as_str()?.to_owned();
    let after = format_duration(parse_duration(&before) / factor);
    *field = Value::String(after.clone());
    Some((before, after))
}

fn compress_rules(rules: &mut Value, factor: u64, log: &mut Vec<String>) {
    // before → after → the alerts it applies to
    let mut fors: BTreeMap<(u64, String, String), Vec<String>> = BTreeMap::new();
    for group in rules["groups"].as_array_mut().into_iter().flatten() {
        if let Some((b, a)) = compress(group, "interval", factor) {
            log.push(format!(
                "rules (×{factor}): group {} interval {b} → {a}",
                group["name"]
            ));
        }
        for rule in group["rules"].as_array_mut().into_iter().flatten() {
            let name = str_of(&rule["alert"]);
            if let Some((b, a)) = compress(rule, "for", factor) {
                fors.entry((parse_duration(&b), b, a))
                    .or_default()
                    .push(name);
            }
        }
    }
    for ((_, b, a), alerts) in fors {
        log.push(format!(
            "rules (×{factor}): for {b} → {a} ({})",
            alerts.join(", ")
        ));
    }
    log.push("rules: range windows in expressions ([5m], [30d]…) are NOT compressed".to_owned());
}

fn compress_routes(route: &mut Value, path: &str, log: &mut Vec<String>) {
    let mut changes = Vec::new();
    for key in ["group_wait", "group_interval", "repeat_interval"] {
        if let Some((b, a)) = compress(route, key, FACTOR) {
            changes.push(format!("{key} {b} → {a}"));
        }
    }
    if !changes.is_empty() {
        let name = route["receiver"].as_str().unwrap_or("");
        log.push(format!(
            "alertmanager: {path} (receiver {name}): {}",
            changes.join(", ")
        ));
    }
    for (i, child) in route["routes"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .enumerate()
    {
        compress_routes(child, &format!("{path}.routes[{i}]"), log);
    }
}

fn rewire_receivers(am: &mut Value, webhook: &Webhook, log: &mut Vec<String>) {
    let mut names = Vec::new();
    for r in am["receivers"].as_array_mut().into_iter().flatten() {
        let name = str_of(&r["name"]);
        *r = json!({
            "name": name,
            "webhook_configs": [{"url": webhook.url(&name), "send_resolved": true}],
        });
        names.push(name);
    }
    log.push(format!(
        "alertmanager: every receiver's integrations replaced by the local webhook at /NAME ({})",
        names.join(", ")
    ));
}
