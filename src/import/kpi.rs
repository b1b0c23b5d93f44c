//! upkeep's own KPI rules in a rule file, recognised as the KPI they were built from: the
//! recording rule `kpi:NAME:KIND` (labels `plan`, `service`, `kpi`) whose expression is the
//! indicator, the alerts on it that carry its `kpi` label (one per threshold, each
//! `RECORD{plan, kpi} OP VALUE` or `AGG_over_time(RECORD{plan, kpi}[W]) OP VALUE` for `over`),
//! and the `…NoData` alert upkeep writes beside them (`absent(RECORD{plan, kpi})` for
//! [`NO_DATA_FOR`]). See `emit::prometheus::rules`.
//!
//! Which threshold an alert is (`warning` or `critical`) is read from the description upkeep
//! writes for it (`… is {{ $value }}, critical above 90%.`): its name follows its level, not
//! its slot, and the `severity` label is the level's conventional word (a `warning` threshold
//! may page). The same description gives the KPI's own description, its objective, the unit of
//! an `expr` indicator (the template that shows `$value`) and `over`'s words, each checked
//! against the expression.
//!
//! **Invariant:** a set is lifted only when every rule that names the KPI is upkeep's own shape
//! and the plan written from it generates the same alerts (the same expressions, `for`, levels
//! and names); otherwise its rules are imported one by one as any other rule.

use promql_parser::label::MatchOp;
use promql_parser::parser::Expr;

use super::lift::{self, Indicator, Op, unparen};
use super::rules::{RuleKind, SourceRule};
use crate::emit::prometheus::{self as prom, ValueFormat};
use crate::model::alerts::{Urgency, camel, kpi_alert_name};
use crate::model::{Aggregation, RatePer, Resource};
use crate::value::duration::Duration;

/// `over`: the aggregation's key (`avg`) and its window (`1h`).
pub(crate) type Over = (&'static str, String);

/// A KPI read back from its rules.
#[derive(Debug)]
pub(crate) struct KpiSet {
    /// Indices into the rules: the recording rule, and the `…NoData` alert if there is one.
    pub record: usize,
    pub no_data: Option<usize>,
    pub name: String,
    pub plan: String,
    pub service: String,
    /// The job a typed indicator reads when its selector is its service's (`job="J"` alone).
    pub job: Option<String>,
    /// The node exporter matchers of a `resource` indicator, when not the default ones.
    pub hosts: Option<String>,
    pub indicator: Indicator,
    /// The unit of an `expr` indicator, as its alerts' descriptions show values.
    pub unit: String,
    /// `over`: the aggregation's key and window.
    pub over: Option<Over>,
    pub description: Option<String>,
    pub objective: Option<String>,
    pub thresholds: Vec<Threshold>,
    /// The expression the alerts judge, on raw series: the recording inlined (as a subquery
    /// under `over`), for the equivalence test's scenarios.
    pub judged: String,
}

/// One threshold alert of a KPI.
#[derive(Debug)]
pub(crate) struct Threshold {
    pub alert: usize,
    pub slot: Urgency,
    pub op: Op,
    pub value: f64,
    /// Its `for`, `0s` when it has none.
    pub for_: String,
    pub level: String,
}

/// upkeep's KPI sets among `rules`.
pub(crate) fn recognise(rules: &[SourceRule]) -> Vec<KpiSet> {
    rules
        .iter()
        .enumerate()
        .filter_map(|(i, r)| set(rules, i, r))
        .collect()
}

fn label<'r>(r: &'r SourceRule, k: &str) -> Option<&'r str> {
    r.labels
        .iter()
        .find(|(l, _)| l == k)
        .map(|(_, v)| v.as_str())
}

fn annotation<'r>(r: &'r SourceRule, k: &str) -> Option<&'r str> {
    r.annotations
        .iter()
        .find(|(l, _)| l == k)
        .map(|(_, v)| v.as_str())
}

fn set(rules: &[SourceRule], i: usize, r: &SourceRule) -> Option<KpiSet> {
    let RuleKind::Record(record) = &r.kind else {
        return None;
    };
    let mut parts = record.splitn(3, ':');
    let (kpi, stem, kind) = (parts.next()?, parts.next()?, parts.next()?);
    let (plan, service, name) = (label(r, "plan")?, label(r, "service")?, label(r, "kpi")?);
    if kpi != "kpi" || name.replace('-', "_") != stem || r.labels.len() != 3 {
        return None;
    }
    let names_it = |x: &SourceRule| label(x, "plan") == Some(plan) && label(x, "kpi") == Some(name);
    if rules
        .iter()
        .filter(|x| matches!(x.kind, RuleKind::Record(_)) && names_it(x))
        .count()
        != 1
    {
        return None;
    }
    let (indicator, job, hosts) = indicator(kind, r.expr.trim());
    let mut no_data = None;
    let mut thresholds = Vec::new();
    let mut over = None;
    let mut said: Option<Said> = None;
    for (j, a) in rules.iter().enumerate() {
        let RuleKind::Alert(alert) = &a.kind else {
            continue;
        };
        if !names_it(a) {
            continue;
        }
        // Every alert that names the KPI is upkeep's, or none is lifted.
        if label(a, "service") != Some(service) {
            return None;
        }
        let ast = crate::value::promql::parse(&a.expr).ok()?;
        if is_no_data(&ast, record, plan, name)
            && a.for_
                .as_deref()
                .and_then(|f| Duration::parse(f, false).ok())
                == Some(prom::NO_DATA_FOR)
            && *alert == format!("{}NoData", camel(name))
            && no_data.replace(j).is_none()
        {
            continue;
        }
        let (op, value, judged) = judged(&ast, record, plan, name)?;
        if thresholds.is_empty() {
            over = judged;
        } else if over != judged {
            return None;
        }
        let s = read_description(annotation(a, "description")?, service, over.as_ref())?;
        if s.op != op {
            return None;
        }
        let for_ = match a.for_.as_deref() {
            None => "0s".to_owned(),
            Some(f) => Duration::parse(f, false).ok()?.to_string(),
        };
        thresholds.push(Threshold {
            alert: j,
            slot: s.slot,
            op,
            value,
            for_,
            level: label(a, "level")?.to_owned(),
        });
        // The KPI's own words are the same in each of its alerts.
        if said
            .as_ref()
            .is_some_and(|p| (&p.what, &p.unit, &p.objective) != (&s.what, &s.unit, &s.objective))
        {
            return None;
        }
        said = Some(s);
    }
    let said = said?;
    // At most one alert per threshold, each named as upkeep names it.
    if thresholds.len() > 2 || (thresholds.len() == 2 && thresholds[0].slot == thresholds[1].slot) {
        return None;
    }
    for t in &thresholds {
        let RuleKind::Alert(alert) = &rules[t.alert].kind else {
            return None;
        };
        let other = thresholds
            .iter()
            .find(|o| o.slot != t.slot)
            .map(|o| o.level.as_str());
        let named = kpi_alert_name(name, t.slot, Some(&t.level), other);
        if *alert != named && *alert != format!("{named}{}", camel(t.slot.name())) {
            return None;
        }
    }
    // The plan writes a `NoData` alert exactly when the indicator can have no value.
    let model = match &indicator {
        Indicator::Expr(e) => crate::model::Indicator::Expr(crate::span::Sp::new(
            e.clone(),
            crate::span::Span::file_start(crate::span::FileId::default()),
        )),
        _ => crate::model::Indicator::Up { job: None },
    };
    if no_data.is_some() == crate::model::alerts::yields_without_input(&model) {
        return None;
    }
    let expr = r.expr.trim();
    let judged = match &over {
        Some((agg, window)) => {
            let w = Duration::parse(window, false).ok()?;
            format!(
                "{}(({expr})[{window}:{}])",
                Aggregation::from_name(agg)?.function(),
                prom::feed::subquery_step(w)
            )
        }
        None => format!("({expr})"),
    };
    let description = Some(said.what).filter(|w| *w != name.replace(['_', '-'], " "));
    Some(KpiSet {
        record: i,
        no_data,
        name: name.to_owned(),
        plan: plan.to_owned(),
        service: service.to_owned(),
        job,
        hosts,
        indicator,
        unit: said.unit,
        over,
        description,
        objective: said.objective,
        thresholds,
        judged,
    })
}

/// Whether `e` is `absent(RECORD{plan="P", kpi="N"})`.
fn is_no_data(e: &Expr, record: &str, plan: &str, name: &str) -> bool {
    let Expr::Call(c) = unparen(e) else {
        return false;
    };
    c.func.name == "absent"
        && c.args.args.len() == 1
        && matches!(unparen(&c.args.args[0]), Expr::VectorSelector(vs) if is_record(vs, record, plan, name))
}

/// Whether a selector is exactly `RECORD{plan="P", kpi="N"}`.
fn is_record(
    vs: &promql_parser::parser::VectorSelector,
    record: &str,
    plan: &str,
    name: &str,
) -> bool {
    let ms: Vec<(&str, &str)> = vs
        .matchers
        .matchers
        .iter()
        .filter(|m| m.name != "__name__")
        .filter(|m| matches!(m.op, MatchOp::Equal))
        .map(|m| (m.name.as_str(), m.value.as_str()))
        .collect();
    vs.name.as_deref() == Some(record)
        && vs.offset.is_none()
        && vs.at.is_none()
        && vs.matchers.or_matchers.is_empty()
        && vs
            .matchers
            .matchers
            .iter()
            .filter(|m| m.name != "__name__")
            .count()
            == 2
        && ms.contains(&("plan", plan))
        && ms.contains(&("kpi", name))
}

/// `RECORD{…} OP V` or `AGG_over_time(RECORD{…}[W]) OP V`: the comparator, the value and
/// `over` (its key and window).
fn judged(e: &Expr, record: &str, plan: &str, name: &str) -> Option<(Op, f64, Option<Over>)> {
    let Expr::Binary(b) = unparen(e) else {
        return None;
    };
    if b.modifier.is_some() {
        return None;
    }
    let op = match b.op.to_string().as_str() {
        ">" => Op::Gt,
        ">=" => Op::Ge,
        "<" => Op::Lt,
        "<=" => Op::Le,
        _ => return None,
    };
    let value = lift::constant(&b.rhs)?;
    match unparen(&b.lhs) {
        Expr::VectorSelector(vs) if is_record(vs, record, plan, name) => Some((op, value, None)),
        Expr::Call(c) if c.args.args.len() == 1 => {
            let agg = Aggregation::ALL
                .iter()
                .find(|a| a.function() == c.func.name)?;
            let Expr::MatrixSelector(ms) = unparen(&c.args.args[0]) else {
                return None;
            };
            if !is_record(&ms.vs, record, plan, name) || ms.range.subsec_nanos() != 0 {
                return None;
            }
            let window = Duration::from_secs(ms.range.as_secs()).to_string();
            Some((op, value, Some((agg.name(), window))))
        }
        _ => None,
    }
}

/// What upkeep's description of a KPI alert says:
/// `{The W average of }{what} of `SERVICE` is {{ $value … }}{ UNIT}, SLOT WORDS{ (objective O)}.`
#[derive(Debug)]
struct Said {
    what: String,
    unit: String,
    slot: Urgency,
    op: Op,
    objective: Option<String>,
}

/// The text of a Go template that prints `text` literally (`emit::prometheus::go_literal`),
/// as that text.
fn go_text(s: &str) -> String {
    s.replace("{{ \"{{\" }}", "{{")
}

fn read_description(d: &str, service: &str, over: Option<&(&'static str, String)>) -> Option<Said> {
    let is = format!(" of `{service}` is ");
    let at = d.rfind(&format!("{is}{{{{ $value | "))?;
    let head = &d[..at];
    let rest = &d[at + is.len()..];
    let what = match over {
        Some((agg, window)) => {
            let noun = Aggregation::from_name(agg)?.noun();
            head.strip_prefix(&format!("The {window} {noun} of "))?
        }
        None => head,
    };
    let (unit, rest) = [
        (ValueFormat::Seconds, "s"),
        (ValueFormat::Percent, "%"),
        (ValueFormat::Ratio, "ratio"),
        (ValueFormat::Bytes, "B"),
    ]
    .iter()
    .find_map(|(f, unit)| {
        rest.strip_prefix(&f.template(""))
            .map(|r| ((*unit).to_owned(), r))
    })
    .or_else(|| {
        let r = rest.strip_prefix(&ValueFormat::Plain.template(""))?;
        let end = r.find(", ")?;
        let unit = r[..end].strip_prefix(' ').unwrap_or("count");
        (!unit.is_empty()).then(|| (unit.to_owned(), &r[end..]))
    })?;
    let rest = rest.strip_prefix(", ")?.strip_suffix('.')?;
    let (slot, rest) = [Urgency::Warning, Urgency::Critical]
        .iter()
        .find_map(|u| Some((*u, rest.strip_prefix(u.name())?.strip_prefix(' ')?)))?;
    let (words, objective) = match rest.rfind(" (objective ") {
        Some(k) => (
            &rest[..k],
            Some(
                rest[k + " (objective ".len()..]
                    .strip_suffix(')')?
                    .to_owned(),
            ),
        ),
        None => (rest, None),
    };
    let objective = objective.filter(|o| crate::value::Threshold::parse(o, false).is_ok());
    let op = [
        ("at or above ", Op::Ge),
        ("at or below ", Op::Le),
        ("above ", Op::Gt),
        ("below ", Op::Lt),
    ]
    .iter()
    .find_map(|(w, op)| words.starts_with(w).then_some(*op))?;
    Some(Said {
        what: go_text(what),
        unit,
        slot,
        op,
        objective,
    })
}

/// Both expressions, parsed, print the same.
fn same_promql(a: &str, b: &str) -> bool {
    let norm = |s: &str| crate::value::promql::parse(s).ok().map(|e| e.to_string());
    norm(a).is_some() && norm(a) == norm(b)
}

/// The job of a selector that is `job="J"` alone.
fn job_only(sel: &str) -> Option<String> {
    let ast = crate::value::promql::parse(&format!("x{{{sel}}}")).ok()?;
    let Expr::VectorSelector(vs) = ast else {
        return None;
    };
    match lift::matchers(&vs).as_slice() {
        [_] => vs
            .matchers
            .matchers
            .iter()
            .find(|m| m.name == "job" && matches!(m.op, MatchOp::Equal))
            .map(|m| m.value.clone()),
        _ => None,
    }
}

/// The indicator a recording expression of `kind` is, typed when it is exactly what upkeep
/// writes for that kind (with the job of a selector that is only the service's, and the hosts
/// of a resource when not the default), else `expr`.
fn indicator(kind: &str, expr: &str) -> (Indicator, Option<String>, Option<String>) {
    typed(kind, expr).unwrap_or_else(|| (Indicator::Expr(expr.to_owned()), None, None))
}

fn typed(kind: &str, expr: &str) -> Option<(Indicator, Option<String>, Option<String>)> {
    let ast = crate::value::promql::parse(expr).ok()?;
    let secs = |w: &str| Duration::parse(w, false).ok();
    // A selector of the service's job is the plan's default: the service gets the job.
    let own = |sel: String| match job_only(&sel) {
        Some(j) => (String::new(), Some(j)),
        None => (sel, None),
    };
    match kind {
        "latency" => {
            let Some(Indicator::Latency {
                histogram,
                quantile,
                window,
                selector,
            }) = lift::latency(&ast)
            else {
                return None;
            };
            let again =
                prom::latency_expr(&histogram, &quantile.to_string(), secs(&window)?, &selector);
            let (selector, job) = own(selector);
            same_promql(&again, expr).then_some((
                Indicator::Latency {
                    histogram,
                    quantile,
                    window,
                    selector,
                },
                job,
                None,
            ))
        }
        "error_ratio" => {
            let Some(Indicator::ErrorRatio {
                errors,
                total,
                window,
                scale: 100,
            }) = lift::error_ratio(&ast)
            else {
                return None;
            };
            let again = prom::error_ratio_expr(&errors, &total, secs(&window)?);
            same_promql(&again, expr).then_some((
                Indicator::ErrorRatio {
                    errors,
                    total,
                    window,
                    scale: 100,
                },
                None,
                None,
            ))
        }
        "throughput" => {
            let (rate, per) = match unparen(&ast) {
                Expr::Binary(b) if b.op.to_string() == "*" => {
                    let n = lift::constant(&b.rhs)?;
                    let per = RatePer::ALL.iter().find(|p| {
                        n.fract() == 0.0 && p.seconds() == n as u64 && **p != RatePer::Second
                    })?;
                    (&*b.lhs, *per)
                }
                other => (other, RatePer::Second),
            };
            let (vs, range) = lift::sum_rate(rate)?;
            let counter = vs.name.clone()?;
            let selector = lift::matchers(vs).join(", ");
            let window = Duration::from_secs(range.as_secs());
            let again = prom::throughput_expr(&counter, window, per, &selector);
            let (selector, job) = own(selector);
            (range.subsec_nanos() == 0 && same_promql(&again, expr)).then(|| {
                (
                    Indicator::Throughput {
                        counter,
                        window: window.to_string(),
                        per: per.name(),
                        selector,
                    },
                    job,
                    None,
                )
            })
        }
        "up" => {
            let job = lift::up_selector(&ast)?;
            same_promql(&prom::up_expr(&job), expr).then_some((Indicator::Up { job }, None, None))
        }
        _ => {
            let r = Resource::from_name(kind)?;
            // The hosts' matchers: the first selector's, but what upkeep adds itself.
            let first = prom::feed::selectors(&ast).first()?.0.clone();
            let hosts: Vec<String> = lift::matchers(&first)
                .into_iter()
                .filter(|m| m != "mode=\"idle\"" && !m.starts_with("fstype!~"))
                .collect();
            let hosts = hosts.join(", ");
            same_promql(&prom::resource_expr(r, &hosts), expr).then(|| {
                let own = (hosts != crate::model::DEFAULT_HOSTS).then_some(hosts);
                (Indicator::Resource(r.name()), None, own)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_say_the_slot_the_unit_and_the_objective() {
        let s = read_description(
            "The 1h average of Uso de CPU of `api` is {{ $value | printf \"%.2f\" }}%, warning above 70% (objective < 70%).",
            "api",
            Some(&("avg", "1h".to_owned())),
        )
        .unwrap();
        assert_eq!(
            (s.what.as_str(), s.unit.as_str(), s.slot, s.op),
            ("Uso de CPU", "%", Urgency::Warning, Op::Gt)
        );
        assert_eq!(s.objective.as_deref(), Some("< 70%"));
        let s = read_description(
            "Brokers {{ \"{{\" }} x of `kafka` is {{ $value | humanize }} brokers, critical below 1.",
            "kafka",
            None,
        )
        .unwrap();
        assert_eq!(
            (s.what.as_str(), s.unit.as_str(), s.slot, s.op),
            ("Brokers {{ x", "brokers", Urgency::Critical, Op::Lt)
        );
        assert!(read_description("CPU of `api` is 90%, warning above 70%.", "api", None).is_none());
    }

    #[test]
    fn typed_indicators_are_read_only_as_upkeep_writes_them() {
        let (i, job, _) = indicator(
            "latency",
            r#"histogram_quantile(0.95, sum by (le) (rate(h_bucket{job="api"}[5m])))"#,
        );
        assert_eq!(job.as_deref(), Some("api"));
        assert!(matches!(i, Indicator::Latency { ref selector, .. } if selector.is_empty()));
        let (i, _, hosts) = indicator(
            "cpu",
            r#"100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{job="node", mode="idle"}[5m])))"#,
        );
        assert_eq!((i, hosts), (Indicator::Resource("cpu"), None));
        let (i, job, _) = indicator(
            "throughput",
            r#"sum(rate(http_requests_total{job="b"}[5m])) * 60"#,
        );
        assert_eq!(job.as_deref(), Some("b"));
        assert!(matches!(i, Indicator::Throughput { per: "min", .. }));
        // Not what upkeep writes for the kind: kept as written.
        let odd = r#"100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{job="node", mode="user"}[5m])))"#;
        assert_eq!(indicator("cpu", odd).0, Indicator::Expr(odd.to_owned()));
    }
}
