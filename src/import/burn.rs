//! Multi-window burn-rate alert sets in a rule file, recognised as the SLO they alert on: the
//! SRE workbook's pattern (`ratio_long > F × budget and ratio_short > F × budget`, or'ed over
//! pairs), as `upkeep build` writes it (`slo:sli_error:ratio_rate1h{…} / 0.005 > 14.4`, see
//! [`crate::model::burn`]) and as sloth does (`max(slo:sli_error:ratio_rate1h{…} > (14.4 *
//! 0.001)) without (sloth_window)`), over recording rules or raw ratios.
//!
//! A set is lifted only when its pairs are exactly upkeep's (the factors and windows of
//! [`crate::model::burn::PAGE`] or [`crate::model::burn::TICKET`]) on one budget, and its SLI,
//! read at 5 minutes, is exactly an indicator a plan can hold: then the plan's burn-rate alerts
//! fire when the originals do. Anything else stays as today, an `expr` KPI.
//!
//! **Invariant:** a rule this module consumes is named in the report with the SLO it became.

use std::collections::BTreeSet;

use promql_parser::label::MatchOp;
use promql_parser::parser::{Expr, LabelModifier};

use super::lift::unparen;
use super::rules::{RuleKind, SourceRule};
use super::sli;
use crate::model::burn::{PAGE, Pair, TICKET};
use crate::value::duration::Duration;

/// An SLO read from its burn-rate alerts.
#[derive(Debug)]
pub(crate) struct BurnSet {
    /// Indices into the rules: the page and the ticket alert.
    pub page: Option<usize>,
    pub ticket: Option<usize>,
    /// The recording rules of the SLO (its SLI at each window, its meta series).
    pub records: Vec<usize>,
    /// The error budget, as a ratio, as the alerts say it.
    pub budget: f64,
    /// The SLO window when the rules carry it (`sloth_window`, a `…ratio_rate30d` record).
    pub window: Option<String>,
    /// The name and service: upkeep's `slo`/`service` labels, sloth's `sloth_slo`/
    /// `sloth_service`, else the alert's name and group.
    pub name: String,
    pub service: String,
    pub indicator: Indicator,
    /// The error ratio over 5 minutes on the raw series.
    pub ratio: String,
    /// The label matchers every selector of the set carries (`plan`, `slo`; `sloth_id`…).
    pub identity: Vec<(String, String)>,
}

/// The SLI of a set.
#[derive(Debug)]
pub(crate) enum Indicator {
    Typed(sli::Typed),
    /// `sum(1 - up{job="J"}) / count(up{job="J"})`.
    Up(String),
}

/// One side of an `and`: a ratio over a window above `factor × budget`.
struct Term {
    window: u64,
    factor_tenths: i64,
    budget: f64,
    identity: Vec<(String, String)>,
    /// The ratio as written (a record's selector, or raw `PromQL`).
    ratio: String,
}

/// The burn-rate alert sets among `rules`, each consumed whole.
pub(crate) fn recognise(rules: &[SourceRule]) -> Vec<BurnSet> {
    let mut sets: Vec<BurnSet> = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        let RuleKind::Alert(alert) = &r.kind else {
            continue;
        };
        let Some((page, terms)) = alert_terms(rules, r) else {
            continue;
        };
        let identity = terms[0].identity.clone();
        let budget = terms[0].budget;
        // Two alerts of one SLO: the same selectors, the same budget.
        if let Some(s) = sets.iter_mut().find(|s| {
            s.identity == identity && !s.identity.is_empty() && same_budget(s.budget, budget)
        }) {
            let slot = if page { &mut s.page } else { &mut s.ticket };
            if slot.is_none() {
                *slot = Some(i);
            }
            continue;
        }
        let Some(ratio) = five_minutes(rules, &terms) else {
            continue;
        };
        let Some(indicator) = indicator(&ratio.0, &ratio.1) else {
            continue;
        };
        let upkeep = label(r, "plan").is_some() && label(r, "slo").is_some();
        let (name, service) = if upkeep {
            (
                label(r, "slo").unwrap_or_default(),
                label(r, "service").unwrap_or_else(|| r.group.clone()),
            )
        } else if let (Some(n), Some(s)) = (
            identity_of(&identity, "sloth_slo"),
            identity_of(&identity, "sloth_service"),
        ) {
            (n, s)
        } else {
            (alert.clone(), r.group.clone())
        };
        let windows: BTreeSet<u64> = PAGE
            .iter()
            .chain(&TICKET)
            .flat_map(|p| [p.long, p.short])
            .collect();
        let records: Vec<usize> = if identity.is_empty() {
            Vec::new()
        } else {
            rules
                .iter()
                .enumerate()
                .filter(|(_, x)| match &x.kind {
                    RuleKind::Record(n) => {
                        (n.starts_with("slo:") || n == "sloth_slo_info")
                            && identity.iter().all(|kv| x.labels.contains(kv))
                    }
                    RuleKind::Alert(_) => false,
                })
                .map(|(j, _)| j)
                .collect()
        };
        // The SLO window: the one SLI window the alerts do not read.
        let found: BTreeSet<u64> = records
            .iter()
            .filter_map(|j| {
                let x = &rules[*j];
                let RuleKind::Record(n) = &x.kind else {
                    return None;
                };
                n.strip_prefix("slo:sli_error:ratio_rate")?;
                record_window(x)
            })
            .filter(|w| !windows.contains(w))
            .collect();
        let window = match found.iter().collect::<Vec<_>>().as_slice() {
            [w] => Some(Duration::from_secs(**w).to_string()),
            _ => None,
        };
        sets.push(BurnSet {
            page: page.then_some(i),
            ticket: (!page).then_some(i),
            records,
            budget,
            window,
            name,
            service,
            indicator,
            ratio: format!("({}) / ({})", ratio.0, ratio.1),
            identity,
        });
    }
    sets
}

fn same_budget(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

fn label(r: &SourceRule, k: &str) -> Option<String> {
    r.labels
        .iter()
        .find(|(l, _)| l == k)
        .map(|(_, v)| v.clone())
}

fn identity_of(identity: &[(String, String)], k: &str) -> Option<String> {
    identity
        .iter()
        .find(|(l, _)| l == k)
        .map(|(_, v)| v.clone())
}

/// Whether an alert is a page (`true`) or ticket set, and its terms, when its pairs are exactly
/// upkeep's on one budget and one set of selectors.
fn alert_terms(rules: &[SourceRule], r: &SourceRule) -> Option<(bool, Vec<Term>)> {
    if r.for_.is_some() {
        return None;
    }
    let ast = crate::value::promql::parse(&r.expr).ok()?;
    let mut pairs = Vec::new();
    or_pairs(&ast, &mut pairs)?;
    let mut terms = Vec::new();
    let mut found: Vec<(i64, u64, u64)> = Vec::new();
    for (a, b) in pairs {
        let (a, b) = (term(rules, a)?, term(rules, b)?);
        if a.factor_tenths != b.factor_tenths || a.window == b.window {
            return None;
        }
        found.push((
            a.factor_tenths,
            a.window.max(b.window),
            a.window.min(b.window),
        ));
        terms.extend([a, b]);
    }
    let first = terms.first()?;
    if terms
        .iter()
        .any(|t| !same_budget(t.budget, first.budget) || t.identity != first.identity)
    {
        return None;
    }
    found.sort_unstable();
    let of = |set: &[Pair]| {
        let mut v: Vec<(i64, u64, u64)> = set
            .iter()
            .map(|p| (p.factor_tenths, p.long, p.short))
            .collect();
        v.sort_unstable();
        v
    };
    let page = if found == of(&PAGE) {
        true
    } else if found == of(&TICKET) {
        false
    } else {
        return None;
    };
    Some((page, terms))
}

/// `(A and B) or (C and D)`: the pairs.
fn or_pairs<'e>(e: &'e Expr, out: &mut Vec<(&'e Expr, &'e Expr)>) -> Option<()> {
    let Expr::Binary(b) = unparen(e) else {
        return None;
    };
    if b.modifier.as_ref().is_some_and(|m| m.matching.is_some()) {
        return None;
    }
    match b.op.to_string().as_str() {
        "or" => {
            or_pairs(&b.lhs, out)?;
            or_pairs(&b.rhs, out)
        }
        "and" => {
            out.push((&b.lhs, &b.rhs));
            Some(())
        }
        _ => None,
    }
}

/// `R / B > F`, `R > (F * B)`, either in `max(…) without (sloth_window)`.
fn term(rules: &[SourceRule], e: &Expr) -> Option<Term> {
    let e = match unparen(e) {
        Expr::Aggregate(a)
            if a.op.to_string() == "max"
                && a.param.is_none()
                && matches!(&a.modifier, Some(LabelModifier::Exclude(l)) if l.labels.iter().all(|l| l == "sloth_window")) =>
        {
            &*a.expr
        }
        other => other,
    };
    let Expr::Binary(b) = unparen(e) else {
        return None;
    };
    if b.op.to_string() != ">" || b.modifier.is_some() {
        return None;
    }
    let (ratio, factor, budget) = match (unparen(&b.lhs), unparen(&b.rhs)) {
        (Expr::Binary(d), Expr::NumberLiteral(f)) if d.op.to_string() == "/" => {
            let Expr::NumberLiteral(budget) = unparen(&d.rhs) else {
                return None;
            };
            (&*d.lhs, f.val, budget.val)
        }
        (r, Expr::Binary(m)) if m.op.to_string() == "*" => {
            let (Expr::NumberLiteral(f), Expr::NumberLiteral(budget)) =
                (unparen(&m.lhs), unparen(&m.rhs))
            else {
                return None;
            };
            (r, f.val, budget.val)
        }
        _ => return None,
    };
    let tenths = (factor * 10.0).round();
    if (tenths - factor * 10.0).abs() > 1e-9 || !(budget > 0.0 && budget < 1.0) {
        return None;
    }
    let (window, identity) = match unparen(ratio) {
        Expr::VectorSelector(vs) => {
            let identity = equalities(vs)?;
            let rec = record(rules, vs.name.as_deref()?, &identity)?;
            (record_window(rec)?, identity)
        }
        raw => (uniform_range(raw)?, Vec::new()),
    };
    Some(Term {
        window,
        factor_tenths: tenths as i64,
        budget,
        identity,
        ratio: ratio.to_string(),
    })
}

/// The matchers of a plain selector, all `=`, but `__name__`, sorted.
fn equalities(vs: &promql_parser::parser::VectorSelector) -> Option<Vec<(String, String)>> {
    if vs.offset.is_some() || vs.at.is_some() || !vs.matchers.or_matchers.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for m in vs.matchers.matchers.iter().filter(|m| m.name != "__name__") {
        if !matches!(m.op, MatchOp::Equal) {
            return None;
        }
        out.push((m.name.clone(), m.value.clone()));
    }
    out.sort();
    Some(out)
}

/// The one recording rule named `name` whose labels include `identity`.
fn record<'r>(
    rules: &'r [SourceRule],
    name: &str,
    identity: &[(String, String)],
) -> Option<&'r SourceRule> {
    let mut found = rules.iter().filter(|r| {
        r.kind == RuleKind::Record(name.to_owned())
            && identity.iter().all(|kv| r.labels.contains(kv))
    });
    let one = found.next()?;
    found.next().is_none().then_some(one)
}

/// A recording rule's window: its `sloth_window` label, the end of its name
/// (`…ratio_rate30m`), or the one range its expression reads.
fn record_window(r: &SourceRule) -> Option<u64> {
    let secs = |s: &str| Duration::parse(s, false).ok().map(Duration::as_secs);
    if let Some(w) = label(r, "sloth_window") {
        return secs(&w);
    }
    if let RuleKind::Record(n) = &r.kind
        && let Some(w) = n.rsplit_once("_rate").and_then(|(_, w)| secs(w))
    {
        return Some(w);
    }
    uniform_range(&crate::value::promql::parse(&r.expr).ok()?)
}

/// The one range every range selector of `e` reads, in seconds.
fn uniform_range(e: &Expr) -> Option<u64> {
    struct Ranges(BTreeSet<std::time::Duration>, bool);
    impl promql_parser::util::ExprVisitor for Ranges {
        type Error = std::convert::Infallible;
        fn pre_visit(&mut self, e: &Expr) -> Result<bool, Self::Error> {
            match e {
                Expr::MatrixSelector(m) => {
                    self.0.insert(m.range);
                }
                Expr::Subquery(_) => self.1 = true,
                _ => {}
            }
            Ok(true)
        }
    }
    let mut r = Ranges(BTreeSet::new(), false);
    let _ = promql_parser::util::walk_expr(&mut r, e);
    match (r.0.iter().collect::<Vec<_>>().as_slice(), r.1) {
        ([d], false) if d.subsec_nanos() == 0 => Some(d.as_secs()),
        _ => None,
    }
}

/// The errors and total of the SLI over 5 minutes: the 5-minute term's ratio (or the 5-minute
/// record beside the alerts' records), a division, each side a record's expression where it is
/// one.
fn five_minutes(rules: &[SourceRule], terms: &[Term]) -> Option<(String, String)> {
    let text = match terms.iter().find(|t| t.window == 300) {
        Some(t) => t.ratio.clone(),
        None => {
            // A ticket set reads no 5-minute ratio; upkeep and sloth record one beside it.
            let t = terms.first()?;
            if t.identity.is_empty() {
                return None;
            }
            let matchers: Vec<String> = t
                .identity
                .iter()
                .map(|(k, v)| format!("{k}={}", crate::emit::prometheus::quote(v)))
                .collect();
            format!("slo:sli_error:ratio_rate5m{{{}}}", matchers.join(", "))
        }
    };
    let ast = crate::value::promql::parse(&text).ok()?;
    let expand = |e: &Expr| -> Option<String> {
        if let Expr::VectorSelector(vs) = unparen(e) {
            let identity = equalities(vs)?;
            return Some(
                record(rules, vs.name.as_deref()?, &identity)?
                    .expr
                    .trim()
                    .to_owned(),
            );
        }
        Some(e.to_string())
    };
    let division = |e: &Expr| -> Option<(String, String)> {
        let Expr::Binary(b) = unparen(e) else {
            return None;
        };
        if b.op.to_string() != "/" || b.modifier.is_some() {
            return None;
        }
        Some((expand(&b.lhs)?, expand(&b.rhs)?))
    };
    if let Some(d) = division(&ast) {
        return Some(d);
    }
    // A record of the ratio: its expression is the division.
    let inner = expand(&ast)?;
    division(&crate::value::promql::parse(&inner).ok()?)
}

/// What the errors and total say, exactly, or `None`.
fn indicator(errors: &str, total: &str) -> Option<Indicator> {
    let norm = |s: &str| crate::value::promql::parse(s).ok().map(|e| e.to_string());
    let (e, t) = (norm(errors)?, norm(total)?);
    if let Ok(Expr::Aggregate(a)) = crate::value::promql::parse(total)
        && a.op.to_string() == "count"
        && let Expr::VectorSelector(vs) = unparen(&a.expr)
        && vs.name.as_deref() == Some("up")
        && let Some(ids) = equalities(vs)
        && let [(k, job)] = ids.as_slice()
        && k == "job"
    {
        let up = format!("up{{job={}}}", crate::emit::prometheus::quote(job));
        return (norm(&format!("sum(1 - {up})"))? == e && norm(&format!("count({up})"))? == t)
            .then(|| Indicator::Up(job.clone()));
    }
    sli::typed(&super::slo::Sli::Events {
        errors: errors.to_owned(),
        total: total.to_owned(),
    })
    .ok()
    .map(Indicator::Typed)
}
