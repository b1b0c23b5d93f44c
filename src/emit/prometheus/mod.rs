//! Prometheus: `prometheus/NAME.rules.yaml` (recording and alerting rules) and
//! `prometheus/NAME.rules.test.yaml` (a promtool unit test for every alert: it fires just past its
//! threshold once `for` has elapsed, and not at or inside it).
//!
//! - KPIs: the indicator is recorded as `kpi:NAME`; each threshold is an alert on that series,
//!   with the threshold converted to the indicator's unit.
//! - SLOs: the error ratio is recorded over 5m, 30m, 1h, 2h, 6h, 1d, 3d and the SLO window;
//!   multi-window multi-burn-rate alerts follow the SRE workbook, with factors derived from the
//!   SLO window (14.4 = 2% of a 30-day budget in one hour).
//! - Health checks: blackbox `probe_success` (HTTP, TCP) or the `upkeep_health_check_success`
//!   metric the cron job of a command probe writes, failing for `interval × retries`.
//! - Jobs: every automated task and backup level alerts when
//!   `upkeep_task_last_success_timestamp_seconds` is older than 1.5 × its interval.

pub(crate) mod gofmt;
mod tests;

use super::yaml::Yaml;
use super::{Artifact, Context};
use crate::model::alerts::{self, Alert, Source};
use crate::model::burn::{PAGE, TICKET, burn_factor};
use crate::model::timeline::{self, ItemKind};
use crate::model::{Indicator, Kpi, Plan, Probe, RatePer, Resource, Slo, SloIndicator};
use crate::value::{Comparator, Duration, Family, Number, Threshold, Unit};

/// Windows of the SLI recording rules.
pub(crate) const SLI_WINDOWS: [u64; 7] =
    [5 * 60, 30 * 60, 3600, 2 * 3600, 6 * 3600, 86400, 3 * 86400];

/// How an alert's value is shown in its description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ValueFormat {
    Seconds,
    Percent,
    Ratio,
    Bytes,
    Plain,
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
    fn template(self, unit: &str) -> String {
        match self {
            ValueFormat::Seconds => "{{ $value | humanizeDuration }}".to_owned(),
            ValueFormat::Percent => "{{ $value | printf \"%.2f\" }}%".to_owned(),
            ValueFormat::Ratio => "{{ $value | humanizePercentage }}".to_owned(),
            ValueFormat::Bytes => "{{ $value | humanize1024 }}B".to_owned(),
            ValueFormat::Plain if unit.is_empty() || unit == "count" => {
                "{{ $value | humanize }}".to_owned()
            }
            ValueFormat::Plain => format!("{{{{ $value | humanize }}}} {unit}"),
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
    pub test: TestInput,
}

/// How to make an alert fire (and not fire) in a promtool test.
#[derive(Clone, Debug)]
pub(crate) enum TestInput {
    /// One series compared with a threshold: `series` with `series_labels` is fed; the alert
    /// carries `alert_labels` from it.
    Threshold {
        series: String,
        series_labels: Vec<(String, String)>,
        alert_labels: Vec<(String, String)>,
        op: Comparator,
        threshold: f64,
    },
    /// Not testable, with the reason (stated in the test file).
    Untested(String),
    /// SLI series of the burn-rate windows.
    Burn {
        labels: Vec<(String, String)>,
        windows: Vec<(u64, u64, f64)>,
    },
    /// A 0/1 health series.
    Health {
        series: String,
        series_labels: Vec<(String, String)>,
    },
    /// A last-success timestamp older than `limit` seconds.
    Freshness {
        series_labels: Vec<(String, String)>,
        limit: u64,
    },
}

/// A recording rule.
#[derive(Clone, Debug)]
pub(crate) struct RecordRule {
    pub group: String,
    pub record: String,
    pub expr: String,
    pub labels: Vec<(String, String)>,
}

/// A `PromQL` string literal.
pub(crate) fn quote(s: &str) -> String {
    format!(
        "\"{}\"",
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    )
}

/// `{a="x", b="y"}`.
pub(crate) fn matchers(labels: &[(&str, &str)]) -> String {
    let inner: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}={}", quote(v)))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// A recording-rule name for a KPI: `kpi:response_time`.
pub(crate) fn kpi_record(kpi: &str) -> String {
    format!("kpi:{}", kpi.replace('-', "_"))
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
        promql_parser::parser::parse(s),
        Ok(promql_parser::parser::Expr::VectorSelector(_))
    );
    KNOWN.with(|k| k.borrow_mut().insert(s.to_owned(), answer));
    answer
}

/// `sum(rate(SEL[W]))` for a selector, the expression itself otherwise.
fn sum_rate(s: &str, window: Duration) -> String {
    if is_selector(s) {
        format!("sum(rate({s}[{window}]))")
    } else {
        format!("({s})")
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
        } => {
            let sel = service_selector(job, selector.as_ref().map(|s| s.value.as_str()));
            format!(
                "histogram_quantile({}, sum by (le) (rate({}_bucket{{{sel}}}[{}])))",
                quantile.value, histogram.value, window.value
            )
        }
        Indicator::ErrorRatio {
            errors,
            total,
            window,
        } => {
            format!(
                "100 * {} / {}",
                sum_rate(&errors.value, window.value),
                sum_rate(&total.value, window.value)
            )
        }
        Indicator::Throughput {
            counter,
            window,
            per,
            selector,
        } => {
            let sel = service_selector(job, selector.as_ref().map(|s| s.value.as_str()));
            let base = format!("sum(rate({}{{{sel}}}[{}]))", counter.value, window.value);
            match per {
                RatePer::Second => base,
                RatePer::Minute => format!("{base} * 60"),
            }
        }
        Indicator::Resource(r) => {
            let j = format!("job={}", quote(job));
            match r {
                Resource::Cpu => format!(
                    "100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{{{j}, mode=\"idle\"}}[5m])))"
                ),
                Resource::Memory => format!(
                    "100 * (1 - node_memory_MemAvailable_bytes{{{j}}} / node_memory_MemTotal_bytes{{{j}}})"
                ),
                Resource::Disk => {
                    format!(
                        "100 * (1 - node_filesystem_avail_bytes{{{j}, {FS_FILTER}}} / node_filesystem_size_bytes{{{j}, {FS_FILTER}}})"
                    )
                }
            }
        }
        Indicator::Up { job: j } => format!(
            "up{{job={}}}",
            quote(j.as_ref().map_or(job, |j| j.value.as_str()))
        ),
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

/// The error ratio of an SLO over a window.
pub(crate) fn sli_expr(plan: &Plan, slo: &Slo, window: Duration) -> String {
    let job = plan
        .services
        .get(&slo.service.value)
        .map_or(slo.service.value.as_str(), |s| s.job.value.as_str());
    match &slo.indicator.value {
        SloIndicator::ErrorRatio { errors, total } => format!(
            "{} / {}",
            sum_rate(&errors.value, window),
            sum_rate(&total.value, window)
        ),
        SloIndicator::Latency {
            histogram,
            threshold,
            selector,
        } => {
            let sel = service_selector(job, selector.as_ref().map(|s| s.value.as_str()));
            format!(
                "1 - (sum(rate({h}_bucket{{{sel}, {le}}}[{window}])) / sum(rate({h}_count{{{sel}}}[{window}])))",
                h = histogram.value,
                le = le_matcher(threshold.value)
            )
        }
        SloIndicator::Up { job: j } => {
            format!(
                "1 - avg(avg_over_time(up{{job={}}}[{window}]))",
                quote(j.as_ref().map_or(job, |j| j.value.as_str()))
            )
        }
    }
}

/// How to test a KPI alert: feed the recorded `kpi:NAME` series, unless the indicator yields a
/// value with no input (`… or vector(0)`), which would collide with the fed series; then feed
/// the raw series when the expression passes its value through unchanged.
fn threshold_test(
    ind: &Indicator,
    record: &str,
    labels: &[(String, String)],
    op: Comparator,
    threshold: f64,
) -> TestInput {
    use promql_parser::parser::Expr;
    let Indicator::Expr(e) = ind else {
        return TestInput::Threshold {
            series: record.to_owned(),
            series_labels: labels.to_vec(),
            alert_labels: labels.to_vec(),
            op,
            threshold,
        };
    };
    let Ok(ast) = promql_parser::parser::parse(&e.value) else {
        return TestInput::Untested("the expression does not parse".to_owned());
    };
    if !yields_without_input(&ast) {
        return TestInput::Threshold {
            series: record.to_owned(),
            series_labels: labels.to_vec(),
            alert_labels: labels.to_vec(),
            op,
            threshold,
        };
    }
    let Some((sel, keeps_labels)) = passthrough(&ast) else {
        return TestInput::Untested("its expression yields a value without any input series, and no single series passes through it unchanged".to_owned());
    };
    let Expr::VectorSelector(vs) = sel else {
        return TestInput::Untested(String::new());
    };
    let input: Vec<(String, String)> = vs
        .matchers
        .matchers
        .iter()
        .filter(|m| matches!(m.op, promql_parser::label::MatchOp::Equal))
        .map(|m| (m.name.clone(), m.value.clone()))
        .collect();
    let mut alert_labels = if keeps_labels {
        input.clone()
    } else {
        Vec::new()
    };
    alert_labels.extend(labels.iter().cloned());
    TestInput::Threshold {
        series: vs.name.clone().unwrap_or_default(),
        series_labels: input,
        alert_labels,
        op,
        threshold,
    }
}

fn fn_name(e: &promql_parser::parser::Expr) -> Option<&'static str> {
    match e {
        promql_parser::parser::Expr::Call(c) => Some(c.func.name),
        _ => None,
    }
}

/// Whether the expression gives samples even when no input series exists.
fn yields_without_input(e: &promql_parser::parser::Expr) -> bool {
    use promql_parser::parser::Expr;
    match e {
        Expr::NumberLiteral(_) => true,
        Expr::Call(_) => matches!(
            fn_name(e),
            Some("vector" | "absent" | "absent_over_time" | "time")
        ),
        Expr::Paren(p) => yields_without_input(&p.expr),
        Expr::Aggregate(a) => yields_without_input(&a.expr),
        Expr::Unary(u) => yields_without_input(&u.expr),
        Expr::Binary(b) if b.op.to_string() == "or" => {
            yields_without_input(&b.lhs) || yields_without_input(&b.rhs)
        }
        _ => false,
    }
}

/// The selector whose value the expression returns unchanged for one constant input series, and
/// whether its labels survive (no aggregation on the way).
fn passthrough(e: &promql_parser::parser::Expr) -> Option<(&promql_parser::parser::Expr, bool)> {
    use promql_parser::parser::Expr;
    match e {
        Expr::VectorSelector(_) => Some((e, true)),
        Expr::Paren(p) => passthrough(&p.expr),
        Expr::Aggregate(a)
            if matches!(a.op.to_string().as_str(), "max" | "min" | "avg" | "sum") =>
        {
            passthrough(&a.expr).map(|(s, _)| (s, false))
        }
        Expr::Binary(b) if b.op.to_string() == "or" => passthrough(&b.lhs),
        _ => None,
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
                !matches!(r, Rule::Alert(a) if matches!(a.test, TestInput::Freshness { .. })
                    && a.labels.iter().any(|(k, v)| k == "task" && jobs.contains(&v.as_str())))
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
        let record = kpi_record(&name.value);
        let series_labels = vec![
            ("plan".to_owned(), p.to_owned()),
            ("service".to_owned(), kpi.service.value.clone()),
            ("kpi".to_owned(), name.value.clone()),
        ];
        items.push(Rule::Record(RecordRule {
            group: group.clone(),
            record: record.clone(),
            expr: kpi_expr(plan, kpi),
            labels: series_labels.clone(),
        }));
        let what = kpi
            .description
            .as_ref()
            .map_or_else(|| name.value.replace(['_', '-'], " "), |d| d.value.clone());
        let unit = &kpi.unit.value;
        let fmt = ValueFormat::of(unit);
        let unit_sym = if fmt == ValueFormat::Plain {
            unit.symbol.clone()
        } else {
            String::new()
        };
        for a in all
            .iter()
            .filter(|a| matches!(a.source, Source::Kpi { name: n, .. } if n.value == name.value))
        {
            let Source::Kpi { threshold, .. } = a.source else {
                continue;
            };
            let Some(value) = threshold.value.quantity.convert_to(unit) else {
                continue;
            };
            let op = threshold.value.op.unwrap_or(Comparator::Gt);
            let expr = format!(
                "{record}{} {} {value}",
                matchers(&[("plan", p), ("kpi", &name.value)]),
                op.symbol()
            );
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
            let description = format!(
                "{what} of `{}` is {VALUE}, {} {}{objective}.",
                kpi.service.value,
                a.urgency.name(),
                threshold_words(&threshold.value)
            );
            items.push(Rule::Alert(AlertRule {
                group: group.clone(),
                name: a.name.clone(),
                expr,
                for_: kpi.for_.as_ref().map_or(Duration::ZERO, |f| f.value),
                labels: base_labels(a, &[("kpi", &name.value)]),
                annotations: annotate(a, summary, description),
                value_format: fmt,
                unit: unit_sym.clone(),
                test: threshold_test(
                    &kpi.indicator.value,
                    &record,
                    &series_labels,
                    op,
                    value.to_f64(),
                ),
            }));
        }
    }

    // SLOs.
    for (name, slo) in plan.slos.iter() {
        let group = format!("{p}.slo.{}", name.value);
        let labels = vec![
            ("plan".to_owned(), p.to_owned()),
            ("service".to_owned(), slo.service.value.clone()),
            ("slo".to_owned(), name.value.clone()),
        ];
        let mut windows: Vec<u64> = SLI_WINDOWS.to_vec();
        if !windows.contains(&slo.window.value.as_secs()) {
            windows.push(slo.window.value.as_secs());
        }
        for w in &windows {
            items.push(Rule::Record(RecordRule {
                group: group.clone(),
                record: sli_record(*w),
                expr: sli_expr(plan, slo, Duration::from_secs(*w)),
                labels: labels.clone(),
            }));
        }
        let budget = Number::ONE
            .checked_sub(slo.objective.value.ratio())
            .unwrap_or(Number::ZERO);
        items.push(Rule::Record(RecordRule {
            group: group.clone(),
            record: "slo:objective:ratio".to_owned(),
            expr: format!("vector({})", slo.objective.value.ratio()),
            labels: labels.clone(),
        }));
        items.push(Rule::Record(RecordRule {
            group: group.clone(),
            record: "slo:error_budget:ratio".to_owned(),
            expr: format!("vector({budget})"),
            labels: labels.clone(),
        }));
        let sel = matchers(&[("plan", p), ("slo", &name.value)]);
        items.push(Rule::Record(RecordRule {
            group: group.clone(),
            record: "slo:error_budget_remaining:ratio".to_owned(),
            expr: format!(
                "1 - {}{sel} / slo:error_budget:ratio{sel}",
                sli_record(slo.window.value.as_secs())
            ),
            labels: labels.clone(),
        }));
        for a in all
            .iter()
            .filter(|a| matches!(a.source, Source::Slo { name: n, .. } if n.value == name.value))
        {
            let Source::Slo { page, .. } = a.source else {
                continue;
            };
            let specs = if page { PAGE } else { TICKET };
            let mut branches = Vec::new();
            let mut test_windows = Vec::new();
            for (share, long, short) in specs {
                let f = burn_factor(share, slo.window.value, long);
                let t = f.checked_mul(budget).map_or(1.0, Number::to_f64);
                branches.push(format!(
                    "(\n  {}{sel} > ({f} * {budget})\nand\n  {}{sel} > ({f} * {budget})\n)",
                    sli_record(long),
                    sli_record(short)
                ));
                test_windows.push((long, short, t));
            }
            let expr = branches.join("\nor\n");
            let speed = if page { "fast" } else { "steadily" };
            let (f0, long0) = (
                burn_factor(specs[0].0, slo.window.value, specs[0].1),
                Duration::from_secs(specs[0].1),
            );
            let summary = format!(
                "{} of {} is burning its error budget {speed}",
                name.value.replace(['_', '-'], " "),
                slo.service.value
            );
            let description = format!(
                "The error ratio of `{}` over {long0} is {VALUE}: at {f0}× the sustainable rate the {} error budget of {} ({}) is spent in {} of the window.",
                slo.service.value,
                slo.window.value,
                name.value,
                slo.objective.value,
                if page {
                    "an hour for 2%"
                } else {
                    "a day for 10%"
                }
            );
            items.push(Rule::Alert(AlertRule {
                group: group.clone(),
                name: a.name.clone(),
                expr,
                for_: Duration::ZERO,
                labels: base_labels(a, &[("slo", &name.value)]),
                annotations: annotate(a, summary, description),
                value_format: ValueFormat::Ratio,
                unit: String::new(),
                test: TestInput::Burn {
                    labels: labels.clone(),
                    windows: test_windows,
                },
            }));
        }
    }

    // Health checks.
    for a in all
        .iter()
        .filter(|a| matches!(a.source, Source::Health { .. }))
    {
        let Source::Health { service } = a.source else {
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
                vec![("instance".to_owned(), url.clone())],
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
        let refs: Vec<(&str, &str)> = series_labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        // A command probe runs from cron, at its interval rounded up to whole minutes.
        let interval = match &health.probe.value {
            Probe::Command(_) => crate::emit::jobs::probe_interval(health.interval.value),
            _ => health.interval.value,
        };
        let for_ = interval.saturating_mul(u64::from(health.retries.value));
        items.push(Rule::Alert(AlertRule {
            group: format!("{p}.health"),
            name: a.name.clone(),
            expr: format!("{series}{} == 0", matchers(&refs)),
            for_,
            labels: base_labels(a, &[]),
            annotations: annotate(
                a,
                format!("{} is down", service.value),
                format!("The health check of `{}` ({target}) has failed for more than {for_} ({} checks every {}).", service.value, health.retries.value, interval),
            ),
            value_format: ValueFormat::Plain,
            unit: String::new(),
            test: TestInput::Health { series, series_labels },
        }));
    }

    // Jobs that did not succeed in time.
    let scheduled = timeline::items(plan);
    for a in all
        .iter()
        .filter(|a| matches!(a.source, Source::Freshness { .. }))
    {
        let Source::Freshness { name } = &a.source else {
            continue;
        };
        let Some(item) = scheduled
            .iter()
            .find(|i| &i.name == name && matches!(i.kind, ItemKind::Task | ItemKind::Backup))
        else {
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
        items.push(Rule::Alert(AlertRule {
            group: format!("{p}.jobs"),
            name: a.name.clone(),
            expr: format!(
                "time() - upkeep_task_last_success_timestamp_seconds{} > {limit}",
                matchers(&refs)
            ),
            for_: Duration::ZERO,
            labels: base_labels(a, &[("task", name)]),
            annotations: annotate(
                a,
                format!("{} {name} has not succeeded in time", item.kind.name()),
                format!(
                    "`{name}` last succeeded {VALUE} ago; it runs {} and is overdue after {}.",
                    item.schedule,
                    Duration::from_secs(limit)
                ),
            ),
            value_format: ValueFormat::Seconds,
            unit: String::new(),
            test: TestInput::Freshness {
                series_labels,
                limit,
            },
        }));
    }
    Rules::new(items)
}

fn labels_yaml(labels: &[(String, String)]) -> Yaml {
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
        .map(|(name, rules)| Yaml::map().with("name", name).with("rules", rules))
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

pub(crate) fn emit(cx: &Context<'_>, rules: &Rules) -> Vec<Artifact> {
    let name = cx.name();
    vec![
        Artifact {
            path: format!("prometheus/{name}.rules.yaml").into(),
            content: rules_file(cx, rules),
        },
        Artifact {
            path: format!("prometheus/{name}.rules.test.yaml").into(),
            content: tests::test_file(cx, rules),
        },
    ]
}
