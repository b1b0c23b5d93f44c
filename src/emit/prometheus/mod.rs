//! Prometheus: `prometheus/NAME.rules.yaml` (recording and alerting rules) and
//! `prometheus/NAME.rules.test.yaml` (a promtool unit test for every alert: it fires just past its
//! threshold once `for` has elapsed, and not at or inside it).
//!
//! - KPIs: the indicator is recorded as `kpi:NAME`; each threshold is an alert on that series,
//!   with the threshold converted to the indicator's unit.
//! - SLOs: the SLI's errors and requests are recorded as 5-minute rates; the error ratio over
//!   30m … 6h sums those records (group `NAME.slo.X`), over 1d, 3d and the SLO window too, in a
//!   group evaluated every 5m (`NAME.slo.X.long`): no rule reads raw series over days.
//!   Multi-window multi-burn-rate alerts follow the SRE workbook's factors (14.4×, 6×; 3×, 1×)
//!   and their value is the burn rate.
//! - Health checks: blackbox `probe_success` of the scrape job `prometheus/NAME.scrape.yaml`
//!   configures (HTTP, TCP) or the `upkeep_health_check_success` metric the cron job of a
//!   command probe writes: down when the last `retries` attempts failed, flapping when it keeps
//!   changing state (`model::probes`); with a `body`, unhealthy instead of down when an
//!   attempt failed on the body (`probe_failed_due_to_regex`).
//! - Jobs: every automated task and backup level alerts when
//!   `upkeep_task_last_success_timestamp_seconds` is older than 1.5 × its interval.

pub(crate) mod feed;
pub(crate) mod gofmt;
pub(crate) mod scrape;
mod tests;

use super::yaml::Yaml;
use super::{Artifact, Context};
use crate::model::alerts::{self, Alert, HealthAlert, Source};
use crate::model::burn::{PAGE, Pair, TICKET};
use crate::model::probes;
use crate::model::timeline::{self, ItemKind};
use crate::model::{Indicator, Kpi, Over, Plan, Probe, RatePer, Resource, Slo, SloIndicator};
use crate::span::Sp;
use crate::value::{Comparator, Duration, Family, Number, Threshold, Unit};
use std::fmt::Write as _;

/// The blackbox exporter's gauge of an HTTP attempt that failed on the body: 1 when the body
/// did not match a `fail_if_body_not_matches_regexp` pattern (`probe_success` is 0 then too).
pub(crate) const REGEX_FAILED: &str = "probe_failed_due_to_regex";

/// How long a KPI must have no value before its `NoData` alert fires.
pub(crate) const NO_DATA_FOR: Duration = Duration::from_mins(10);

/// Windows of the SLI error ratios recorded every evaluation (besides 5m, the rates themselves).
pub(crate) const SLI_WINDOWS: [u64; 4] = [30 * 60, 3600, 2 * 3600, 6 * 3600];

/// Windows of the SLI error ratios recorded every [`SLOW_INTERVAL`] (with the SLO window).
pub(crate) const SLI_LONG_WINDOWS: [u64; 2] = [86400, 3 * 86400];

/// The suffix of a rule group evaluated every [`SLOW_INTERVAL`].
pub(crate) const SLOW_GROUP: &str = ".long";

/// How often the groups over days are evaluated: summing a day of records every minute buys
/// nothing a ticket needs.
pub(crate) const SLOW_INTERVAL: Duration = Duration::from_mins(5);

/// The recorded 5-minute rates of an SLI's errors and requests (per SLO, by its labels).
pub(crate) const SLI_ERRORS: &str = "slo:sli_errors:rate5m";
pub(crate) const SLI_REQUESTS: &str = "slo:sli_requests:rate5m";

/// How an alert's value is shown in its description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ValueFormat {
    Seconds,
    Percent,
    Ratio,
    Bytes,
    Plain,
    /// A burn rate: `14.6×`.
    Burn,
}

impl ValueFormat {
    fn of(unit: &Unit) -> ValueFormat {
        match (&unit.family, unit.symbol.as_str()) {
            (Family::Time, "s") => ValueFormat::Seconds,
            (Family::Ratio, "%") => ValueFormat::Percent,
            (Family::Ratio, _) => ValueFormat::Ratio,
            (Family::Bytes, "B") => ValueFormat::Bytes,
            _ => ValueFormat::Plain,
        }
    }

    /// The Go template that shows `$value`, with the unit.
    pub(crate) fn template(self, unit: &str) -> String {
        match self {
            ValueFormat::Seconds => "{{ $value | humanizeDuration }}".to_owned(),
            ValueFormat::Percent => "{{ $value | printf \"%.2f\" }}%".to_owned(),
            ValueFormat::Ratio => "{{ $value | humanizePercentage }}".to_owned(),
            ValueFormat::Bytes => "{{ $value | humanize1024 }}B".to_owned(),
            ValueFormat::Plain if unit.is_empty() || unit == "count" => {
                "{{ $value | humanize }}".to_owned()
            }
            ValueFormat::Plain => format!("{{{{ $value | humanize }}}} {unit}"),
            ValueFormat::Burn => "{{ $value | printf \"%.1f\" }}×".to_owned(),
        }
    }

    /// What that template prints for `v`.
    fn render(self, v: f64, unit: &str) -> String {
        match self {
            ValueFormat::Seconds => gofmt::humanize_duration(v),
            ValueFormat::Percent => format!("{v:.2}%"),
            ValueFormat::Ratio => format!("{}%", gofmt::g(v * 100.0, 4)),
            ValueFormat::Bytes => format!("{}B", gofmt::humanize1024(v)),
            ValueFormat::Plain if unit.is_empty() || unit == "count" => gofmt::humanize(v),
            ValueFormat::Plain => format!("{} {unit}", gofmt::humanize(v)),
            ValueFormat::Burn => format!("{v:.1}×"),
        }
    }
}

/// Placeholder for the alert's value in annotation text.
const VALUE: &str = "\u{0}value\u{0}";

/// An alert rule and what its test needs.
#[derive(Clone, Debug)]
pub(crate) struct AlertRule {
    pub group: String,
    pub name: String,
    pub expr: String,
    pub for_: Duration,
    /// Labels the rule sets.
    pub labels: Vec<(String, String)>,
    /// Annotations; `VALUE` marks where `$value` goes.
    pub annotations: Vec<(String, String)>,
    pub value_format: ValueFormat,
    pub unit: String,
    /// The task or backup level whose success the alert watches.
    pub job: Option<String>,
    pub test: TestInput,
}

/// How to make an alert fire (and not fire) in a promtool test.
#[derive(Clone, Debug)]
pub(crate) enum TestInput {
    /// Raw series: `cond`, evaluated on them (see [`feed`]), is the alert's condition and
    /// value; its labels and `extra` (the recording rule's) are the alert's. `fire` makes it
    /// fire, `calm` keeps it silent, and so does each input of `quiet` (the failures another
    /// alert reports instead).
    Feed {
        cond: String,
        extra: Vec<(String, String)>,
        fire: Vec<feed::Series>,
        quiet: Box<[Vec<feed::Series>]>,
        calm: Vec<feed::Series>,
    },
    /// The indicator `indicator` yields nothing: fires with no input at all, silent on `calm`.
    NoData {
        indicator: String,
        labels: Vec<(String, String)>,
        calm: Vec<feed::Series>,
    },
    /// A missed-run alert of work limited to dates: silent before its first run and once its
    /// last run is older than `limit`, firing between (see `tests::dates_cases`).
    Dates(Box<DatesTest>),
    /// Not testable, with the reason (stated in the test file).
    Untested(String),
    /// A burn-rate alert of an SLO: the workbook's scenarios on the raw series its SLI
    /// reads (see `tests::slo_cases`).
    Slo(Box<SloTest>),
}

/// When a missed-run alert of work limited to dates may fire.
#[derive(Clone, Debug)]
pub(crate) struct DatesTest {
    /// The last-success series the alert reads.
    pub labels: Vec<(String, String)>,
    /// The first run (Unix seconds), when the work starts on a date.
    pub first: Option<i64>,
    /// When the last run stops being awaited: the last run plus `limit`.
    pub end: Option<i64>,
    /// How old the last success may be, in seconds.
    pub limit: i64,
    /// Whether this is the rule on a series that does not exist (with `for` of `limit`).
    pub absent: bool,
}

/// What the burn-rate scenarios of an SLO need.
#[derive(Clone, Debug)]
pub(crate) struct SloTest {
    /// The expressions recorded as [`SLI_ERRORS`] and [`SLI_REQUESTS`].
    pub errors: String,
    pub requests: String,
    /// For an `up` SLI, the labels its `up` series carry (a gauge, not counters).
    pub up: Option<Vec<(String, String)>>,
    /// `1 - objective`.
    pub budget: f64,
    pub page: bool,
    pub pairs: [Pair; 2],
    /// The labels of the recorded series.
    pub labels: Vec<(String, String)>,
}

/// A recording rule.
#[derive(Clone, Debug)]
pub(crate) struct RecordRule {
    pub group: String,
    pub record: String,
    pub expr: String,
    pub labels: Vec<(String, String)>,
}

pub(crate) use crate::value::promql::quote;

/// `{a="x", b="y"}`.
pub(crate) fn matchers(labels: &[(&str, &str)]) -> String {
    let inner: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}={}", quote(v)))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// A recording-rule name for a KPI, after the `level:metric:operations` convention:
/// `kpi:response_time:latency`.
pub(crate) fn kpi_record(kpi: &str, ind: &Indicator) -> String {
    let op = match ind {
        Indicator::Resource(r) => r.name(),
        other => other.kind_name(),
    };
    format!("kpi:{}:{op}", kpi.replace('-', "_"))
}

pub(crate) fn sli_record(window_secs: u64) -> String {
    format!(
        "slo:sli_error:ratio_rate{}",
        Duration::from_secs(window_secs)
    )
}

fn is_selector(s: &str) -> bool {
    // Asked for every SLI window of every ratio; parsing (and compiling its regexes) once each.
    thread_local! {
        static KNOWN: std::cell::RefCell<std::collections::HashMap<String, bool>> = std::cell::RefCell::default();
    }
    if let Some(known) = KNOWN.with(|k| k.borrow().get(s).copied()) {
        return known;
    }
    let answer = matches!(
        crate::value::promql::parse(s),
        Ok(promql_parser::parser::Expr::VectorSelector(_))
    );
    KNOWN.with(|k| k.borrow_mut().insert(s.to_owned(), answer));
    answer
}

/// `sum(rate(X[W]))`: a selector, or an expression of counters whose every bare selector is
/// read through `rate(…[W])` (selectors already under a range function stay as written). A
/// ratio of raw counters is a ratio of totals since each counter started, not of this window.
fn sum_rate(s: &str, window: Duration) -> String {
    if is_selector(s) {
        return format!("sum(rate({s}[{window}]))");
    }
    match crate::value::promql::parse(s) {
        Ok(mut ast) => {
            rated(&mut ast, window);
            format!("sum({ast})")
        }
        Err(_) => format!("({s})"),
    }
}

/// Wrap every selector outside a range function in `rate(…[window])`.
fn rated(e: &mut promql_parser::parser::Expr, window: Duration) {
    use promql_parser::parser::{Expr, MatrixSelector};
    match e {
        Expr::VectorSelector(vs) => {
            let Ok(Expr::Call(mut call)) = promql_parser::parser::parse("rate(x[1m])") else {
                return;
            };
            call.args.args = vec![Box::new(Expr::MatrixSelector(MatrixSelector {
                vs: vs.clone(),
                range: std::time::Duration::from_secs(window.as_secs()),
            }))];
            *e = Expr::Call(call);
        }
        Expr::Paren(p) => rated(&mut p.expr, window),
        Expr::Unary(u) => rated(&mut u.expr, window),
        Expr::Aggregate(a) => rated(&mut a.expr, window),
        Expr::Binary(b) => {
            rated(&mut b.lhs, window);
            rated(&mut b.rhs, window);
        }
        Expr::Call(c) => {
            for a in &mut c.args.args {
                rated(a, window);
            }
        }
        _ => {}
    }
}

/// Label matchers for a service: the user's selector, or `job="…"`.
fn service_selector(job: &str, selector: Option<&str>) -> String {
    match selector {
        Some(s) => s.to_owned(),
        None => format!("job={}", quote(job)),
    }
}

const FS_FILTER: &str = "fstype!~\"tmpfs|overlay|squashfs\"";

/// The `PromQL` of a KPI's indicator, in its unit.
pub(crate) fn kpi_expr(plan: &Plan, kpi: &Kpi) -> String {
    let job = plan
        .services
        .get(&kpi.service.value)
        .map_or(kpi.service.value.as_str(), |s| s.job.value.as_str());
    match &kpi.indicator.value {
        Indicator::Expr(e) => e.value.trim().to_owned(),
        Indicator::Latency {
            histogram,
            quantile,
            window,
            selector,
        } => latency_expr(
            &histogram.value,
            &quantile.value.to_string(),
            window.value,
            &service_selector(job, selector.as_ref().map(|s| s.value.as_str())),
        ),
        Indicator::ErrorRatio {
            errors,
            total,
            window,
        } => error_ratio_expr(&errors.value, &total.value, window.value),
        Indicator::Throughput {
            counter,
            window,
            per,
            selector,
        } => throughput_expr(
            &counter.value,
            window.value,
            *per,
            &service_selector(job, selector.as_ref().map(|s| s.value.as_str())),
        ),
        Indicator::Resource(r) => resource_expr(*r, plan.hosts(&kpi.service.value).0),
        Indicator::Up { job: j } => up_expr(j.as_ref().map_or(job, |j| j.value.as_str())),
    }
}

/// A `latency` indicator's `PromQL`: the quantile of the histogram's buckets on `sel`.
pub(crate) fn latency_expr(histogram: &str, quantile: &str, window: Duration, sel: &str) -> String {
    format!(
        "histogram_quantile({quantile}, sum by (le) (rate({histogram}_bucket{{{sel}}}[{window}])))"
    )
}

/// An `error_ratio` indicator's `PromQL`, in percent.
pub(crate) fn error_ratio_expr(errors: &str, total: &str, window: Duration) -> String {
    format!(
        "100 * {} / {}",
        sum_rate(errors, window),
        sum_rate(total, window)
    )
}

/// A `throughput` indicator's `PromQL`: the counter's rate on `sel`, per `per`.
pub(crate) fn throughput_expr(counter: &str, window: Duration, per: RatePer, sel: &str) -> String {
    let base = format!("sum(rate({counter}{{{sel}}}[{window}]))");
    match per {
        RatePer::Second => base,
        _ => format!("{base} * {}", per.seconds()),
    }
}

/// A `resource` indicator's `PromQL`, in percent, on the node exporter series of `hosts`.
pub(crate) fn resource_expr(r: Resource, hosts: &str) -> String {
    match r {
        Resource::Cpu => format!(
            "100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{{{hosts}, mode=\"idle\"}}[5m])))"
        ),
        Resource::Memory => format!(
            "100 * (1 - max by (instance) (node_memory_MemAvailable_bytes{{{hosts}}}) / max by (instance) (node_memory_MemTotal_bytes{{{hosts}}}))"
        ),
        Resource::Disk => format!(
            "100 * (1 - max by (instance, mountpoint) (node_filesystem_avail_bytes{{{hosts}, {FS_FILTER}}}) / max by (instance, mountpoint) (node_filesystem_size_bytes{{{hosts}, {FS_FILTER}}}))"
        ),
    }
}

/// An `up` indicator's `PromQL`.
pub(crate) fn up_expr(job: &str) -> String {
    format!("up{{job={}}}", quote(job))
}

/// The condition of a health check's alert on its series (`selector`) over the window of its
/// last attempts; with a `body`, `regex` selects the blackbox exporter's
/// [`REGEX_FAILED`] series of the same probe.
pub(crate) fn health_expr(
    check: HealthAlert,
    selector: &str,
    regex: &str,
    body: bool,
    window: Duration,
) -> String {
    let failed = format!("max_over_time({selector}[{window}]) == 0");
    let on_body = format!("max_over_time({regex}[{window}]) > 0");
    match (check, body) {
        (HealthAlert::Flapping, _) => format!(
            "changes({selector}[{}]) >= {} and max_over_time({selector}[{window}]) == 1",
            probes::FLAP_WINDOW,
            probes::FLAP_CHANGES,
        ),
        (HealthAlert::Down, false) => failed,
        (HealthAlert::Down, true) => format!("{failed} unless {on_body}"),
        (HealthAlert::Unhealthy, _) => format!("{failed} and {on_body}"),
    }
}

/// `le` matcher for a latency threshold: client libraries write `1` or `1.0`.
fn le_matcher(threshold: Number) -> String {
    let t = threshold.to_string();
    if threshold.is_integer() {
        format!("le=~\"{t}(\\\\.0)?\"")
    } else {
        format!("le=\"{t}\"")
    }
}

/// The 5-minute rates of an SLO's errors and requests (recorded as [`SLI_ERRORS`] and
/// [`SLI_REQUESTS`]); for an `up` SLI, the targets down and all targets, at each evaluation.
pub(crate) fn sli_parts(plan: &Plan, slo: &Slo) -> (String, String) {
    let job = plan
        .services
        .get(&slo.service.value)
        .map_or(slo.service.value.as_str(), |s| s.job.value.as_str());
    let five = Duration::from_mins(5);
    match &slo.indicator.value {
        SloIndicator::ErrorRatio { errors, total } => {
            (sum_rate(&errors.value, five), sum_rate(&total.value, five))
        }
        SloIndicator::Latency {
            histogram,
            threshold,
            selector,
        } => {
            let sel = service_selector(job, selector.as_ref().map(|s| s.value.as_str()));
            let all = format!("sum(rate({}_count{{{sel}}}[{five}]))", histogram.value);
            (
                format!(
                    "{all} - sum(rate({}_bucket{{{sel}, {}}}[{five}]))",
                    histogram.value,
                    le_matcher(threshold.value)
                ),
                all,
            )
        }
        SloIndicator::Up { .. } => {
            let up = format!("up{{job={}}}", quote(up_job(plan, slo).unwrap_or(job)));
            (format!("sum(1 - {up})"), format!("count({up})"))
        }
    }
}

/// The `job` label of the `up` series an `up` SLI reads (its own `job`, else its service's).
fn up_job<'p>(plan: &'p Plan, slo: &'p Slo) -> Option<&'p str> {
    let SloIndicator::Up { job } = &slo.indicator.value else {
        return None;
    };
    Some(job.as_ref().map_or_else(
        || {
            plan.services
                .get(&slo.service.value)
                .map_or(slo.service.value.as_str(), |s| s.job.value.as_str())
        },
        |j| j.value.as_str(),
    ))
}

/// How to test a KPI alert: the indicator on raw series synthesised from its selectors, driven
/// past `threshold` (fire) and kept inside it (calm).
fn threshold_test(
    indicator: &str,
    over: Option<Over>,
    record_labels: &[(String, String)],
    op: Comparator,
    threshold: f64,
    for_: Duration,
) -> TestInput {
    // The alert reads the recording, a sample per evaluation: on raw series that is the
    // indicator as a subquery at the tests' one-minute evaluation interval.
    let judged = match over {
        Some(o) => format!(
            "{}(({indicator})[{}:{}])",
            o.aggregation.function(),
            o.window,
            feed::subquery_step(o.window)
        ),
        None => format!("({indicator})"),
    };
    let cond = format!("{judged} {} {threshold}", op.symbol());
    let untested = |why: String| TestInput::Untested(why);
    let Ok(ast) = crate::value::promql::parse(indicator) else {
        return untested("the expression does not parse".to_owned());
    };
    // Synthesised from the condition, so that a histogram gets buckets at the threshold.
    let synthesized = crate::value::promql::parse(&cond).map(|c| feed::synthesize(&c));
    let base = match synthesized.unwrap_or_else(|_| feed::synthesize(&ast)) {
        Ok(b) if !b.is_empty() => b,
        Ok(_) => return untested("its expression reads no series".to_owned()),
        Err(why) => return untested(why),
    };
    // Judged once every range the expression reads is full of samples.
    let at = feed::longest_range(&ast) + 120 + for_.as_secs() as i64;
    let fires = |v: f64| match op {
        Comparator::Gt => v > threshold,
        Comparator::Ge => v >= threshold,
        Comparator::Lt => v < threshold,
        Comparator::Le => v <= threshold,
    };
    match feed::solve(&ast, &base, at, &fires) {
        Ok(s) => TestInput::Feed {
            cond,
            extra: record_labels.to_vec(),
            fire: s.fire,
            quiet: Box::default(),
            calm: s.calm,
        },
        Err(why) => untested(why),
    }
}

/// Human text of a threshold for annotations: `above 150ms`.
fn threshold_words(t: &Threshold) -> String {
    let word = match t.op {
        Some(Comparator::Gt) => "above",
        Some(Comparator::Ge) => "at or above",
        Some(Comparator::Lt) => "below",
        Some(Comparator::Le) => "at or below",
        None => "at",
    };
    format!("{word} {}", t.quantity)
}

fn plan_labels(plan: &Plan) -> Vec<(String, String)> {
    plan.metadata
        .labels
        .iter()
        .map(|(k, v)| (k.value.clone(), v.value.clone()))
        .collect()
}

fn level_name(a: &Alert<'_>) -> String {
    a.level
        .as_ref()
        .map_or_else(|_| "none".to_owned(), |l| l.name.value.clone())
}

/// A rule of the rules file.
#[derive(Clone, Debug)]
pub(crate) enum Rule {
    Record(RecordRule),
    Alert(AlertRule),
}

/// Everything the rules file holds, in order: each KPI's recording rule before its alerts, each
/// SLO's SLI recordings before its burn-rate alerts.
pub(crate) struct Rules {
    pub items: Vec<Rule>,
    /// The groups, written once (see [`Rules::groups`]).
    written: std::cell::OnceCell<Vec<Yaml>>,
}

impl Rules {
    pub(crate) fn new(items: Vec<Rule>) -> Rules {
        Rules {
            items,
            written: std::cell::OnceCell::new(),
        }
    }

    /// The rule groups as YAML sequence items, written once however many files hold them (the
    /// rules file, and each environment's Helm values).
    /// The groups without the freshness alerts of `jobs` (an environment that does not run
    /// them must not expect them to succeed).
    pub(crate) fn groups_without(&self, jobs: &[&str]) -> Vec<Yaml> {
        if jobs.is_empty() {
            return self.groups();
        }
        let kept: Vec<Rule> = self
            .items
            .iter()
            .filter(|r| {
                !matches!(r, Rule::Alert(a) if a.job.as_deref().is_some_and(|j| jobs.contains(&j)))
            })
            .cloned()
            .collect();
        groups(&Rules::new(kept))
    }

    pub(crate) fn groups(&self) -> Vec<Yaml> {
        self.written
            .get_or_init(|| {
                let groups = groups(self);
                if groups.is_empty() {
                    Vec::new()
                } else {
                    vec![Yaml::Block(super::yaml::block(&Yaml::Seq(groups)))]
                }
            })
            .clone()
    }

    /// The names of the groups, in the order of the file.
    pub(crate) fn group_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for r in &self.items {
            let g = match r {
                Rule::Record(r) => &r.group,
                Rule::Alert(a) => &a.group,
            };
            if !names.contains(g) {
                names.push(g.clone());
            }
        }
        names
    }

    pub(crate) fn alerts(&self) -> impl Iterator<Item = &AlertRule> {
        self.items.iter().filter_map(|r| match r {
            Rule::Alert(a) => Some(a),
            Rule::Record(_) => None,
        })
    }
}

pub(crate) fn rules(cx: &Context<'_>) -> Rules {
    let plan = cx.plan;
    let p = cx.name();
    let mut items = Vec::new();
    let all = alerts::alerts(plan);
    let annotate = |a: &Alert<'_>, summary: String, description: String| {
        let mut v = vec![
            ("summary".to_owned(), summary),
            ("description".to_owned(), description),
        ];
        if let Some(rb) = a.runbook {
            v.push(("runbook_url".to_owned(), cx.runbook_url(&rb.value)));
        }
        v
    };
    let base_labels = |a: &Alert<'_>, extra: &[(&str, &str)]| {
        // `severity` is the conventional word the ecosystem routes on; `level` is the plan's.
        let severity = a
            .level
            .as_ref()
            .map_or(crate::model::SeverityLabel::Warning, |l| {
                crate::model::levels::severity(plan, l)
            });
        let mut l = vec![
            ("severity".to_owned(), severity.name().to_owned()),
            ("level".to_owned(), level_name(a)),
            ("plan".to_owned(), p.to_owned()),
        ];
        if let Some(s) = a.service {
            l.push(("service".to_owned(), s.value.clone()));
        }
        l.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        l.extend(plan_labels(plan));
        l
    };

    // KPIs.
    for (name, kpi) in plan.kpis.iter() {
        let group = format!("{p}.kpis");
        let record = kpi_record(&name.value, &kpi.indicator.value);
        let series_labels = vec![
            ("plan".to_owned(), p.to_owned()),
            ("service".to_owned(), kpi.service.value.clone()),
            ("kpi".to_owned(), name.value.clone()),
        ];
        let indicator = kpi_expr(plan, kpi);
        items.push(Rule::Record(RecordRule {
            group: group.clone(),
            record: record.clone(),
            expr: indicator.clone(),
            labels: series_labels.clone(),
        }));
        let what = kpi
            .description
            .as_ref()
            .map_or_else(|| name.value.replace(['_', '-'], " "), |d| d.value.clone());
        // Thresholds are compared in the unit of the series (seconds for a latency written
        // in `ms`), and shown in it.
        let unit = kpi
            .indicator
            .value
            .native_unit()
            .unwrap_or_else(|| kpi.unit.value.clone());
        let fmt = ValueFormat::of(&unit);
        let unit_sym = if fmt == ValueFormat::Plain {
            unit.symbol.clone()
        } else {
            String::new()
        };
        let selector = matchers(&[("plan", p), ("kpi", &name.value)]);
        let mut calm_input = None;
        for a in all
            .iter()
            .filter(|a| matches!(a.source, Source::Kpi { name: n, .. } if n.value == name.value))
        {
            let Source::Kpi { threshold, .. } = a.source else {
                continue;
            };
            let Some(value) = threshold.value.quantity.convert_to(&unit) else {
                continue;
            };
            let for_ = kpi.wait(a.urgency);
            let op = threshold.value.op.unwrap_or(Comparator::Gt);
            // Over a window, the alert reads the recording's aggregate: the value recorded at
            // each evaluation, averaged (or its peak) over the window.
            let judged = match &kpi.over {
                Some(o) => format!(
                    "{}({record}{selector}[{}])",
                    o.value.aggregation.function(),
                    o.value.window
                ),
                None => format!("{record}{selector}"),
            };
            let expr = format!("{judged} {} {value}", op.symbol());
            let objective = kpi
                .objective
                .as_ref()
                .map(|o| format!(" (objective {})", o.value))
                .unwrap_or_default();
            let summary = format!(
                "{}: {} {}",
                kpi.service.value,
                name.value.replace(['_', '-'], " "),
                threshold_words(&threshold.value)
            );
            let (judged_words, over_summary) = match &kpi.over {
                Some(o) => (
                    format!("The {} {} of ", o.value.window, o.value.aggregation.noun()),
                    format!(" ({})", o.value),
                ),
                None => (String::new(), String::new()),
            };
            let summary = format!("{summary}{over_summary}");
            let description = format!(
                "{judged_words}{what} of `{}` is {VALUE}, {} {}{objective}.",
                kpi.service.value,
                a.urgency.name(),
                threshold_words(&threshold.value)
            );
            let test = threshold_test(
                &indicator,
                kpi.over.as_ref().map(|o| o.value),
                &series_labels,
                op,
                value.to_f64(),
                for_,
            );
            if let (None, TestInput::Feed { calm, .. }) = (&calm_input, &test) {
                calm_input = Some(calm.clone());
            }
            items.push(Rule::Alert(AlertRule {
                group: group.clone(),
                name: a.name.clone(),
                expr,
                for_,
                labels: base_labels(a, &[("kpi", &name.value)]),
                annotations: annotate(a, summary, description),
                value_format: fmt,
                unit: unit_sym.clone(),
                job: None,
                test,
            }));
        }
        // No data: the thresholds cannot be judged.
        for a in all
            .iter()
            .filter(|a| matches!(a.source, Source::NoData { kpi: n } if n.value == name.value))
        {
            let absent_labels = vec![
                ("kpi".to_owned(), name.value.clone()),
                ("plan".to_owned(), p.to_owned()),
            ];
            items.push(Rule::Alert(AlertRule {
                group: group.clone(),
                name: a.name.clone(),
                expr: format!("absent({record}{selector})"),
                for_: NO_DATA_FOR,
                labels: base_labels(a, &[("kpi", &name.value)]),
                annotations: annotate(
                    a,
                    format!(
                        "{}: no data for {}",
                        kpi.service.value,
                        name.value.replace(['_', '-'], " ")
                    ),
                    format!(
                        "{what} of `{}` has had no value for {NO_DATA_FOR}: its series are missing (a scrape or exporter failing, a renamed metric, or no traffic), so its thresholds cannot be judged."
                        ,kpi.service.value
                    ),
                ),
                value_format: ValueFormat::Plain,
                unit: String::new(),
                job: None,
                test: match &calm_input {
                    Some(calm) => TestInput::NoData {
                        indicator: indicator.clone(),
                        labels: absent_labels,
                        calm: calm.clone(),
                    },
                    None => TestInput::Untested(
                        "no input was found that gives the KPI a value".to_owned(),
                    ),
                },
            }));
        }
    }

    // SLOs.
    for (name, slo) in plan.slos.iter() {
        let group = format!("{p}.slo.{}", name.value);
        let long_group = format!("{group}{SLOW_GROUP}");
        let labels = vec![
            ("plan".to_owned(), p.to_owned()),
            ("service".to_owned(), slo.service.value.clone()),
            ("slo".to_owned(), name.value.clone()),
        ];
        let sel = matchers(&[("plan", p), ("slo", &name.value)]);
        let record = |group: &str, record: String, expr: String| {
            Rule::Record(RecordRule {
                group: group.to_owned(),
                record,
                expr,
                labels: labels.clone(),
            })
        };
        let (errors, requests) = sli_parts(plan, slo);
        items.push(record(&group, SLI_ERRORS.to_owned(), errors.clone()));
        items.push(record(&group, SLI_REQUESTS.to_owned(), requests.clone()));
        items.push(record(
            &group,
            sli_record(300),
            format!("{SLI_ERRORS}{sel} / {SLI_REQUESTS}{sel}"),
        ));
        // Longer windows sum the 5-minute rates: each request is counted as often in the
        // errors as in the requests, so the ratio is the window's.
        let window_ratio = |w: u64| {
            let w = Duration::from_secs(w);
            format!(
                "sum_over_time({SLI_ERRORS}{sel}[{w}]) / sum_over_time({SLI_REQUESTS}{sel}[{w}])"
            )
        };
        for w in SLI_WINDOWS {
            items.push(record(&group, sli_record(w), window_ratio(w)));
        }
        let mut long_windows = SLI_LONG_WINDOWS.to_vec();
        let window = slo.window.value.as_secs();
        if !long_windows.contains(&window) && !SLI_WINDOWS.contains(&window) && window != 300 {
            long_windows.push(window);
        }
        for w in long_windows {
            items.push(record(&long_group, sli_record(w), window_ratio(w)));
        }
        let budget = Number::ONE
            .checked_sub(slo.objective.value.ratio())
            .unwrap_or(Number::ZERO);
        items.push(record(
            &long_group,
            "slo:objective:ratio".to_owned(),
            format!("vector({})", slo.objective.value.ratio()),
        ));
        items.push(record(
            &long_group,
            "slo:error_budget:ratio".to_owned(),
            format!("vector({budget})"),
        ));
        items.push(record(
            &long_group,
            "slo:error_budget_remaining:ratio".to_owned(),
            format!(
                "1 - {}{sel} / slo:error_budget:ratio{sel}",
                sli_record(window)
            ),
        ));
        for a in all
            .iter()
            .filter(|a| matches!(a.source, Source::Slo { name: n, .. } if n.value == name.value))
        {
            let Source::Slo { page, .. } = a.source else {
                continue;
            };
            let pairs = if page { PAGE } else { TICKET };
            // `and` keeps the left side's value: the burn rate over the long window of the
            // first pair above its factor.
            let expr = pairs
                .iter()
                .map(|pair| {
                    let f = pair.factor();
                    format!(
                        "(\n  {}{sel} / {budget} > {f}\nand\n  {}{sel} / {budget} > {f}\n)",
                        sli_record(pair.long),
                        sli_record(pair.short)
                    )
                })
                .collect::<Vec<_>>()
                .join("\nor\n");
            let words = |pair: &Pair| {
                format!(
                    "{}× over both {} and {}",
                    pair.factor(),
                    Duration::from_secs(pair.long),
                    Duration::from_secs(pair.short)
                )
            };
            let summary = format!(
                "{} of {} is burning its error budget {}",
                name.value.replace(['_', '-'], " "),
                slo.service.value,
                if page { "fast" } else { "steadily" }
            );
            let description = format!(
                "`{}` is spending the {} error budget of {} ({}) at {VALUE} the sustainable rate (the burn rate over {}, or over {} when only that pair is above its factor). This alert fires at {}, or {}; at 1× the budget lasts exactly the window.",
                slo.service.value,
                slo.window.value,
                name.value,
                slo.objective.value,
                Duration::from_secs(pairs[0].long),
                Duration::from_secs(pairs[1].long),
                words(&pairs[0]),
                words(&pairs[1]),
            );
            items.push(Rule::Alert(AlertRule {
                group: if page {
                    group.clone()
                } else {
                    long_group.clone()
                },
                name: a.name.clone(),
                expr,
                for_: Duration::ZERO,
                labels: base_labels(a, &[("slo", &name.value)]),
                annotations: annotate(a, summary, description),
                value_format: ValueFormat::Burn,
                unit: String::new(),
                job: None,
                test: TestInput::Slo(Box::new(SloTest {
                    errors: errors.clone(),
                    requests: requests.clone(),
                    up: up_job(plan, slo).map(|j| vec![("job".to_owned(), j.to_owned())]),
                    budget: budget.to_f64(),
                    page,
                    pairs,
                    labels: labels.clone(),
                })),
            }));
        }
    }

    // Health checks: `…Down` when the last `retries` attempts all failed, `…Flapping` when the
    // probe keeps failing and recovering without staying down (see `model::probes`). With a
    // `body`, an attempt the blackbox exporter failed on the body (`probe_failed_due_to_regex`)
    // is not the service being down: when any of those attempts did, `…Unhealthy` fires at the
    // body's level instead of `…Down`, so one cause pages once.
    for a in all
        .iter()
        .filter(|a| matches!(a.source, Source::Health { .. }))
    {
        let Source::Health { service, check } = a.source else {
            continue;
        };
        let Some(health) = plan
            .services
            .get(&service.value)
            .and_then(|s| s.health.as_ref())
        else {
            continue;
        };
        let (series, series_labels, target) = match &health.probe.value {
            Probe::Http(url) | Probe::Tcp(url) => (
                "probe_success".to_owned(),
                vec![
                    (
                        "job".to_owned(),
                        probes::job_of(plan, &service.value).unwrap_or_default(),
                    ),
                    ("instance".to_owned(), url.clone()),
                ],
                url.clone(),
            ),
            Probe::Command(cmd) => (
                "upkeep_health_check_success".to_owned(),
                vec![
                    ("plan".to_owned(), p.to_owned()),
                    ("service".to_owned(), service.value.clone()),
                ],
                format!("`{cmd}`"),
            ),
        };
        let body = match health.probe.value {
            Probe::Http(_) => health.body.as_ref(),
            _ => None,
        };
        let refs: Vec<(&str, &str)> = series_labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let t = probes::timing(health);
        let selector = format!("{series}{}", matchers(&refs));
        let regex = format!("{REGEX_FAILED}{}", matchers(&refs));
        let expr = health_expr(check, &selector, &regex, body.is_some(), t.window);
        // The probe's series: `probe_success` at `success`, and for a check with a body,
        // `probe_failed_due_to_regex` at `regex` (1 when the body failed the attempt).
        let probe = |success: feed::Kind, regex: f64| {
            let mut input = vec![feed::Series {
                name: series.clone(),
                labels: {
                    let mut l = series_labels.clone();
                    l.sort();
                    l
                },
                kind: success,
            }];
            if body.is_some() {
                input.push(feed::Series {
                    name: REGEX_FAILED.to_owned(),
                    labels: input[0].labels.clone(),
                    kind: feed::Kind::Gauge(regex),
                });
            }
            input
        };
        let down = probe(feed::Kind::Gauge(0.0), 0.0);
        let unhealthy = probe(feed::Kind::Gauge(0.0), 1.0);
        let attempts = format!(
            "{} attempts (one every {}, each allowed {})",
            t.attempts, t.attempt, health.timeout.value
        );
        let (summary, description, fire, quiet) = match check {
            HealthAlert::Flapping => (
                format!("{} keeps failing and recovering", service.value),
                format!(
                    "The health check of `{}` ({target}) changed state at least {} times in the last {} without failing {} attempts in a row: the service is unstable.",
                    service.value,
                    probes::FLAP_CHANGES,
                    probes::FLAP_WINDOW,
                    t.attempts
                ),
                probe(feed::Kind::Flap, 0.0),
                Box::default(),
            ),
            HealthAlert::Down => (
                format!("{} is down", service.value),
                format!(
                    "The health check of `{}` ({target}) failed its last {attempts}{}.",
                    service.value,
                    if body.is_some() {
                        ": no answer, or not an accepted one"
                    } else {
                        ""
                    }
                ),
                down,
                if body.is_some() {
                    Box::from([unhealthy])
                } else {
                    Box::default()
                },
            ),
            HealthAlert::Unhealthy => {
                let expected = body.map_or_else(String::new, probes::body_words);
                (
                    format!("{} answers, but not with {expected}", service.value),
                    format!(
                        "The health check of `{}` ({target}) failed its last {attempts}, at least one because the answer did not contain {expected}: the service is up but not healthy.",
                        service.value
                    ),
                    unhealthy,
                    Box::from([down]),
                )
            }
        };
        items.push(Rule::Alert(AlertRule {
            group: format!("{p}.health"),
            name: a.name.clone(),
            expr: expr.clone(),
            for_: Duration::ZERO,
            labels: base_labels(a, &[]),
            annotations: annotate(a, summary, description),
            value_format: ValueFormat::Ratio,
            unit: String::new(),
            job: None,
            test: TestInput::Feed {
                cond: expr,
                extra: Vec::new(),
                fire,
                quiet,
                calm: probe(feed::Kind::Gauge(1.0), 0.0),
            },
        }));
    }

    // Jobs that did not succeed in time, and backups older than their RPO.
    let scheduled = timeline::items(plan);
    for a in all
        .iter()
        .filter(|a| matches!(a.source, Source::Freshness { .. } | Source::Rpo { .. }))
    {
        if let Source::Rpo { backup, rpo } = &a.source {
            rpo_rules(
                plan,
                p,
                a,
                (backup, rpo.value),
                &annotate,
                base_labels(a, &[("backup", &backup.value)]),
                &mut items,
            );
            continue;
        }
        let Source::Freshness { name } = &a.source else {
            continue;
        };
        let Some(item) = scheduled.iter().find(|i| {
            &i.name == name
                && matches!(
                    i.kind,
                    ItemKind::Task | ItemKind::Backup | ItemKind::RestoreTest | ItemKind::Prune
                )
        }) else {
            continue;
        };
        let Some(gap) = item.schedule.max_gap() else {
            continue;
        };
        let limit = gap.as_secs() * 3 / 2;
        let series_labels = vec![
            ("plan".to_owned(), p.to_owned()),
            ("task".to_owned(), name.clone()),
        ];
        let refs: Vec<(&str, &str)> = series_labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let selector = format!(
            "upkeep_task_last_success_timestamp_seconds{}",
            matchers(&refs)
        );
        let stamp = |at: f64| {
            vec![feed::Series {
                name: "upkeep_task_last_success_timestamp_seconds".to_owned(),
                labels: series_labels.clone(),
                kind: feed::Kind::Gauge(at),
            }]
        };
        let summary = format!("{} {name} has not succeeded in time", item.kind.name());
        let overdue = Duration::from_secs(limit);
        // Work limited to dates is awaited from its first run until its last one is overdue.
        let tz = plan.metadata.timezone.value;
        let shift = item.offset.as_secs() as i64;
        let first = item.schedule.first_run(tz).map(|t| t.timestamp() + shift);
        let end = item
            .schedule
            .last_run(tz)
            .map(|t| t.timestamp() + shift + limit as i64);
        let mut gate = String::new();
        if let Some(f) = first {
            let _ = write!(gate, " and on() vector(time()) >= {f}");
        }
        if let Some(e) = end {
            let _ = write!(gate, " and on() vector(time()) < {e}");
        }
        let dates = |absent: bool| {
            TestInput::Dates(Box::new(DatesTest {
                labels: series_labels.clone(),
                first,
                end,
                limit: limit as i64,
                absent,
            }))
        };
        let bounded = item.schedule.bound().is_some();
        let expr = format!("time() - {selector} > {limit}{gate}");
        items.push(Rule::Alert(AlertRule {
            group: format!("{p}.jobs"),
            name: a.name.clone(),
            expr: expr.clone(),
            for_: Duration::ZERO,
            labels: base_labels(a, &[("task", name)]),
            annotations: annotate(
                a,
                summary.clone(),
                format!(
                    "`{name}` last succeeded {VALUE} ago; it runs {} and is overdue after {overdue}.",
                    item.schedule,
                ),
            ),
            value_format: ValueFormat::Seconds,
            unit: String::new(),
            job: Some(name.clone()),
            test: if bounded {
                dates(false)
            } else {
                TestInput::Feed {
                    cond: expr,
                    extra: Vec::new(),
                    // Succeeded `limit` + 1m before the test starts; or at its end.
                    fire: stamp(-(limit as f64) - 60.0),
                    quiet: Box::default(),
                    calm: stamp(600.0),
                }
            },
        }));
        // Never succeeded (or its metric does not exist): the same alert once Prometheus has
        // watched for as long as the job may take.
        let absent = format!("absent({selector}){gate}");
        items.push(Rule::Alert(AlertRule {
            group: format!("{p}.jobs"),
            name: a.name.clone(),
            expr: absent.clone(),
            for_: overdue,
            labels: base_labels(a, &[("task", name)]),
            annotations: annotate(
                a,
                summary,
                format!(
                    "`{name}` has reported no success for {overdue}: it never ran, or its `upkeep_task_last_success_timestamp_seconds` series does not reach Prometheus (it runs {}).",
                    item.schedule,
                ),
            ),
            value_format: ValueFormat::Plain,
            unit: String::new(),
            job: Some(name.clone()),
            test: if bounded {
                dates(true)
            } else {
                TestInput::Feed {
                cond: absent,
                extra: Vec::new(),
                fire: Vec::new(),
                // Succeeding all along (the stamp keeps up with the clock), so that the other
                // rule of the same name stays silent too.
                quiet: Box::default(),
                calm: vec![feed::Series {
                    name: "upkeep_task_last_success_timestamp_seconds".to_owned(),
                    labels: series_labels.clone(),
                    kind: feed::Kind::Counter(1.0),
                }],
                }
            },
        }));
    }
    Rules::new(items)
}

/// Labels or annotations, in order.
type Pairs = Vec<(String, String)>;

/// The two rules of a backup's `…RpoExceeded` alert: the newest success of its automated
/// levels is older than the RPO, or none has been seen for as long as the RPO.
fn rpo_rules(
    plan: &Plan,
    p: &str,
    a: &Alert<'_>,
    (backup, rpo): (&Sp<String>, Duration),
    annotate: &dyn Fn(&Alert<'_>, String, String) -> Pairs,
    labels: Pairs,
    items: &mut Vec<Rule>,
) {
    let Some(b) = plan.backups.get(&backup.value) else {
        return;
    };
    let levels: Vec<String> = alerts::automated_levels(b)
        .map(|l| format!("{}.{}", backup.value, l.kind.name()))
        .collect();
    let Some(first) = levels.first().cloned() else {
        return;
    };
    let kinds: Vec<&str> = alerts::automated_levels(b).map(|l| l.kind.name()).collect();
    // `postgres\.(full|incremental)`: any automated level is a point to restore to.
    let pattern = format!("{}\\.({})", regex_literal(&backup.value), kinds.join("|"));
    let selector = format!(
        "upkeep_task_last_success_timestamp_seconds{{plan={}, task=~{}}}",
        quote(p),
        quote(&pattern)
    );
    let limit = rpo.as_secs();
    let stamps = |at: &dyn Fn(usize) -> f64| -> Vec<feed::Series> {
        levels
            .iter()
            .enumerate()
            .map(|(i, task)| feed::Series {
                name: "upkeep_task_last_success_timestamp_seconds".to_owned(),
                labels: vec![
                    ("plan".to_owned(), p.to_owned()),
                    ("task".to_owned(), task.clone()),
                ],
                kind: feed::Kind::Gauge(at(i)),
            })
            .collect()
    };
    let stale = -(limit as f64) - 60.0;
    let summary = format!("backup {} is older than its RPO", backup.value);
    let shown_kinds = kinds.join(", ");
    let expr = format!("time() - max({selector}) > {limit}");
    items.push(Rule::Alert(AlertRule {
        group: format!("{p}.jobs"),
        name: a.name.clone(),
        expr: expr.clone(),
        for_: Duration::ZERO,
        labels: labels.clone(),
        annotations: annotate(
            a,
            summary.clone(),
            format!(
                "The newest successful backup of `{}` ({shown_kinds}) is {VALUE} old, more than its RPO of {rpo}: a restore now would lose more data than the plan allows.",
                backup.value
            ),
        ),
        value_format: ValueFormat::Seconds,
        unit: String::new(),
        job: Some(first.clone()),
        test: TestInput::Feed {
            cond: expr,
            extra: Vec::new(),
            // Every level last succeeded `rpo` + 1m before the test starts; silent while the
            // newest (the first level) is recent, however old the others are.
            fire: stamps(&|_| stale),
            quiet: Box::default(),
            calm: stamps(&|i| if i == 0 { 600.0 } else { stale }),
        },
    }));
    let absent = format!("absent({selector})");
    items.push(Rule::Alert(AlertRule {
        group: format!("{p}.jobs"),
        name: a.name.clone(),
        expr: absent.clone(),
        for_: rpo,
        labels,
        annotations: annotate(
            a,
            summary,
            format!(
                "No backup of `{}` ({shown_kinds}) has reported a success for {rpo}, its RPO: none ever ran, or their `upkeep_task_last_success_timestamp_seconds` series do not reach Prometheus.",
                backup.value
            ),
        ),
        value_format: ValueFormat::Plain,
        unit: String::new(),
        job: Some(first),
        test: TestInput::Feed {
            cond: absent,
            extra: Vec::new(),
            fire: Vec::new(),
            // Succeeding all along, so that the other rule of the same name stays silent too.
            quiet: Box::default(),
            calm: levels
                .iter()
                .map(|task| feed::Series {
                    name: "upkeep_task_last_success_timestamp_seconds".to_owned(),
                    labels: vec![
                        ("plan".to_owned(), p.to_owned()),
                        ("task".to_owned(), task.clone()),
                    ],
                    kind: feed::Kind::Counter(1.0),
                })
                .collect(),
        },
    }));
}

/// `text` as a regular expression that matches it literally (RE2 takes any punctuation escaped).
fn regex_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if !(c.is_alphanumeric() || c == '_' || c == '-' || c == ' ') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Labels as a mapping, in order.
pub(crate) fn labels_yaml(labels: &[(String, String)]) -> Yaml {
    Yaml::Map(
        labels
            .iter()
            .map(|(k, v)| (k.clone(), Yaml::str(v)))
            .collect(),
    )
}

fn dedup_labels(labels: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in labels {
        if !out.iter().any(|(ok, _)| ok == k) {
            out.push((k.clone(), v.clone()));
        }
    }
    out
}

/// The rule groups, as data (the rules file, and the Helm values' `PrometheusRule`).
pub(crate) fn groups(rules: &Rules) -> Vec<Yaml> {
    let mut groups: Vec<(String, Vec<Yaml>)> = Vec::new();
    for r in &rules.items {
        let (group, rule) = match r {
            Rule::Record(r) => (
                &r.group,
                Yaml::map()
                    .with("record", r.record.as_str())
                    .with("expr", r.expr.as_str())
                    .with("labels", labels_yaml(&r.labels)),
            ),
            Rule::Alert(a) => (&a.group, alert_yaml(a)),
        };
        match groups.iter_mut().find(|(g, _)| g == group) {
            Some((_, v)) => v.push(rule),
            None => groups.push((group.clone(), vec![rule])),
        }
    }
    groups
        .into_iter()
        .map(|(name, rules)| {
            let group = Yaml::map().with("name", name.as_str());
            let group = if name.ends_with(SLOW_GROUP) {
                group.with("interval", SLOW_INTERVAL.to_string())
            } else {
                group
            };
            group.with("rules", rules)
        })
        .collect()
}

/// The rules file.
pub(crate) fn rules_file(cx: &Context<'_>, rules: &Rules) -> String {
    super::yaml::document(&cx.header(), &Yaml::map().with("groups", rules.groups()))
}

/// Text as a Go template that prints it literally: Prometheus expands the labels and
/// annotations of alerting rules as Go templates, so a plan's `{{` would run (`{{ 7*7 }}`
/// breaks the file, `{{ with query … }}` runs any query at alert time).
fn go_literal(s: &str) -> String {
    s.replace("{{", "{{ \"{{\" }}")
}

fn alert_yaml(a: &AlertRule) -> Yaml {
    let template = a.value_format.template(&a.unit);
    let annotations: Vec<(String, Yaml)> = a
        .annotations
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                Yaml::str(go_literal(v).replace(VALUE, &template)),
            )
        })
        .collect();
    let labels: Vec<(String, String)> = dedup_labels(&a.labels)
        .into_iter()
        .map(|(k, v)| (k, go_literal(&v)))
        .collect();
    let mut y = Yaml::map()
        .with("alert", a.name.as_str())
        .with("expr", a.expr.as_str());
    if !a.for_.is_zero() {
        y.push("for", a.for_.to_string());
    }
    y.with("labels", labels_yaml(&labels))
        .with("annotations", Yaml::Map(annotations))
}

/// The rules of environment `env`, which has objectives or thresholds of its own, and their
/// tests: `prometheus/ENV/NAME.rules.yaml`, loaded there instead of `prometheus/NAME.rules.yaml`.
/// A directory of their own, so that `rule_files: [prometheus/*.rules.yaml]` never loads both
/// (every alert would fire twice), and no environment name can meet another file's name.
pub(crate) fn emit_environment(cx: &Context<'_>, env: &str, rules: &Rules) -> Vec<Artifact> {
    let name = cx.name();
    let mut header = cx.header();
    header.push(format!(
        "Environment `{env}`, with its own objectives and thresholds (`environments.{env}`): load it there instead of prometheus/{name}.rules.yaml."
    ));
    let mut out = vec![Artifact {
        path: format!("prometheus/{env}/{name}.rules.yaml").into(),
        content: super::yaml::document(&header, &Yaml::map().with("groups", rules.groups())),
    }];
    for (path, content) in tests::test_files(cx, rules) {
        out.push(Artifact {
            path: format!("prometheus/{env}/{path}").into(),
            content,
        });
    }
    out
}

pub(crate) fn emit(cx: &Context<'_>, rules: &Rules) -> Vec<Artifact> {
    let name = cx.name();
    let mut out = vec![Artifact {
        path: format!("prometheus/{name}.rules.yaml").into(),
        content: rules_file(cx, rules),
    }];
    for (path, content) in tests::test_files(cx, rules) {
        out.push(Artifact {
            path: format!("prometheus/{path}").into(),
            content,
        });
    }
    out.extend(scrape::scrape_file(cx));
    out
}
