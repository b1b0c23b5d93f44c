//! `upkeep import`: the rule files a team already has, read into a plan.
//!
//! Files are read with the limits of `check` ([`crate::load::read`], [`crate::parse`]), each
//! rule is lifted into the typed model where its `PromQL` says what it is (`lift`), and the plan
//! is written with the deterministic YAML writer, every entry commented with the input it came
//! from. The [`Report`] lists every input rule and what it became.
//!
//! **Invariant:** nothing is dropped silently: a rule becomes a KPI, or the report says why it
//! did not, and a field the plan cannot hold is a warning at its key.

mod lift;
mod rules;
pub mod verify;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::emit::yaml::{self, Yaml};
use crate::model::alerts;
use crate::source::SourceMap;
use crate::value::duration::Duration;
use lift::{Indicator, Lifted, Op};
use rules::{RuleKind, SourceRule};

/// The result of an import.
#[derive(Debug, Default)]
pub struct Imported {
    pub sources: SourceMap,
    pub diagnostics: Diagnostics,
    /// The plan, unless an input could not be read at all.
    pub plan: Option<String>,
    pub report: Report,
}

/// Every input rule and what it became.
#[derive(Debug, Default)]
pub struct Report {
    pub files: usize,
    pub entries: Vec<Entry>,
}

#[derive(Debug)]
pub struct Entry {
    /// `FILE:LINE`.
    pub origin: String,
    /// `alert NAME` or `record NAME`.
    pub rule: String,
    /// `kpis.NAME critical (up)`.
    pub became: String,
    pub outcome: Outcome,
    /// For an imported alert: what it was, and the alert of the plan it became.
    pub alert: Option<AlertFacts>,
}

/// An input alert and the plan's alert it became.
#[derive(Clone, Debug)]
pub struct AlertFacts {
    pub name: String,
    pub expr: String,
    pub for_: Option<String>,
    pub labels: Vec<(String, String)>,
    /// The KPI, and its alert's name (`HostOutOfMemoryCritical`).
    pub kpi: String,
    pub imported: String,
}

/// How far a rule was lifted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A typed indicator (`up`, `latency`) or an SLO.
    Typed,
    /// An `expr` KPI: its threshold, or the whole condition.
    Expr,
    /// Not imported (a recording rule, an expression that does not parse).
    NotImported,
}

impl Report {
    pub fn count(&self, o: Outcome) -> usize {
        self.entries.iter().filter(|e| e.outcome == o).count()
    }

    /// `3 files, 40 rules: 5 lifted into typed KPIs/SLOs, 35 kept as expr, 0 not imported`.
    pub fn summary(&self) -> String {
        let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
        format!(
            "{}, {}: {} lifted into typed KPIs/SLOs, {} kept as expr, {} not imported",
            plural(self.files, "file"),
            plural(self.entries.len(), "rule"),
            self.count(Outcome::Typed),
            self.count(Outcome::Expr),
            self.count(Outcome::NotImported)
        )
    }
}

/// Import `paths` into a plan named `name`, on a thread with the stack `check` parses with.
pub fn import(paths: &[PathBuf], name: &str) -> Imported {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("upkeep-import".to_owned())
            .stack_size(64 * 1024 * 1024)
            .spawn_scoped(s, || import_here(paths, name))
            .map_or_else(
                |_| import_here(paths, name),
                |h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            )
    })
}

fn import_here(paths: &[PathBuf], name: &str) -> Imported {
    let mut out = Imported::default();
    let mut all = Vec::new();
    for path in paths {
        let Some(file) = crate::load::read(
            path,
            &mut out.sources,
            crate::load::MAX_INPUT_BYTES as u64,
            &mut out.diagnostics,
        ) else {
            continue;
        };
        out.report.files += 1;
        let docs = crate::parse::parse_documents(file, out.sources.get(file), &mut out.diagnostics);
        let mut found = false;
        for doc in &docs {
            if rules::is_rules(doc) {
                found = true;
                all.extend(rules::read(file, doc, &mut out.diagnostics));
            }
        }
        if !found && !docs.is_empty() {
            let first = &docs[0];
            out.diagnostics.push(
                Diagnostic::new(
                    Code::NotAPlan,
                    "this file holds no Prometheus rules (`groups:` or a `PrometheusRule`)",
                )
                .at(first.span(file).to(first.span(file)))
                .help("name Prometheus rule files or `PrometheusRule` objects"),
            );
        }
    }
    if out.diagnostics.has_errors() {
        return out;
    }
    let plan = build(&out.sources, &all, &mut out.report, &mut out.diagnostics);
    let header = vec![
        format!(
            "Imported by `upkeep import` from {}.",
            out.sources
                .iter()
                .map(|(_, f)| format!("`{}`", f.name))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        "Each entry says which rule it came from. Check it with `upkeep check`.".to_owned(),
    ];
    out.plan = Some(yaml::document(&header, &plan.to_yaml(name)));
    out
}

/// A threshold of a KPI: comparator, value, level, and the report entry of its rule.
type Slot = (Op, f64, String, usize);

/// A KPI being built.
struct Kpi {
    comments: Vec<String>,
    service: String,
    description: Option<String>,
    indicator: Indicator,
    warning: Option<Slot>,
    critical: Option<Slot>,
    for_: String,
}

#[derive(Default)]
struct Plan {
    services: BTreeMap<String, Vec<String>>,
    kpis: Vec<(String, Kpi)>,
    levels: Vec<String>,
}

/// Conventional severities, most urgent first.
const KNOWN_LEVELS: [(&str, &str); 3] = [("critical", "15m"), ("warning", "4h"), ("info", "1d")];

fn build(
    sources: &SourceMap,
    rules: &[SourceRule],
    report: &mut Report,
    diags: &mut Diagnostics,
) -> Plan {
    let mut plan = Plan::default();
    let mut names = std::collections::BTreeSet::new();
    for r in rules {
        let src = sources.get(r.span.file);
        let (line, _) = src.line_col(r.span.start);
        let origin = format!("{}:{line}", src.name);
        let alert = match &r.kind {
            RuleKind::Alert(a) => a.clone(),
            RuleKind::Record(rec) => {
                report.entries.push(Entry {
                    origin,
                    rule: format!("record {rec}"),
                    became: "not imported: a plan records only its own indicators; keep this rule in its file".to_owned(),
                    outcome: Outcome::NotImported,
                    alert: None,
                });
                continue;
            }
        };
        let lifted = match lift::lift(&r.expr) {
            Ok(l) => l,
            Err(e) => {
                diags.push(
                    Diagnostic::new(
                        Code::PromqlSyntax,
                        format!("`expr` is not valid PromQL: {}", e.trim()),
                    )
                    .at(r.expr_span)
                    .help("fix the expression; Prometheus would reject this rule file too"),
                );
                continue;
            }
        };
        let service = service_name(&r.group);
        plan.services
            .entry(service.clone())
            .or_default()
            .push(format!("from group `{}` of {}", r.group, src.name));
        let severity = r
            .labels
            .iter()
            .find(|(k, _)| k == "severity")
            .map_or_else(|| "warning".to_owned(), |(_, v)| level_name(v));
        if !plan.levels.contains(&severity) {
            plan.levels.push(severity.clone());
        }
        let mut comments = vec![format!("from {origin}, alert `{alert}`")];
        for (k, v) in &r.labels {
            if k != "severity" {
                comments.push(format!(
                    "label {k}: {v} (not kept: KPIs have no labels of their own)"
                ));
            }
        }
        for (k, v) in &r.annotations {
            if k != "summary" {
                comments.push(format!("{k}: {v}"));
            }
        }
        let summary = r
            .annotations
            .iter()
            .find(|(k, _)| k == "summary")
            .map(|(_, v)| v.clone());
        let (indicator, op, value, outcome) = match lifted {
            Lifted::Threshold {
                indicator,
                op,
                value,
            } => {
                let o = if matches!(indicator, Indicator::Expr(_)) {
                    Outcome::Expr
                } else {
                    Outcome::Typed
                };
                (indicator, op, value, o)
            }
            Lifted::Presence(e) => (Indicator::Expr(e), Op::Gt, 0.0, Outcome::Expr),
        };
        let for_ = r.for_.clone().unwrap_or_else(|| "0s".to_owned());
        // A second severity of the same condition joins its KPI.
        let joined = plan.kpis.iter_mut().find(|(_, k)| {
            k.service == service
                && k.indicator == indicator
                && k.for_ == for_
                && k.warning.is_some() != k.critical.is_some()
        });
        let kind = indicator_kind(&indicator);
        if let Some((kname, k)) = joined {
            let existing = k.warning.as_ref().or(k.critical.as_ref()).cloned();
            if let Some((eop, evalue, elevel, eentry)) = existing
                && eop.above() == op.above()
                && elevel != severity
                && evalue.to_bits() != value.to_bits()
            {
                let first_more_urgent = rank(&elevel) < rank(&severity);
                let new_beyond = if op.above() {
                    value > evalue
                } else {
                    value < evalue
                };
                // The more urgent level takes the threshold further out.
                if first_more_urgent != new_beyond {
                    let entry = report.entries.len();
                    let (w, c) = if new_beyond {
                        (
                            (eop, evalue, elevel, eentry),
                            (op, value, severity.clone(), entry),
                        )
                    } else {
                        (
                            (op, value, severity.clone(), entry),
                            (eop, evalue, elevel, eentry),
                        )
                    };
                    k.warning = Some(w);
                    k.critical = Some(c);
                    k.comments.extend(comments);
                    report.entries.push(Entry {
                        origin,
                        rule: format!("alert {alert}"),
                        became: format!("kpis.{kname} ({kind})"),
                        outcome,
                        alert: Some(facts(r, &alert)),
                    });
                    continue;
                }
            }
        }
        // The KPI's alerts are named `…Warning` and `…Critical` after their slot.
        let snaked = snake(&alert);
        let base = ["_critical", "_warning", "_warn", "_crit"]
            .iter()
            .find_map(|s| snaked.strip_suffix(s))
            .filter(|b| !b.is_empty())
            .unwrap_or(&snaked)
            .to_owned();
        // Names are at most 63 characters; room is left for a `_N` that keeps them unique.
        let base = fit(&base, 59, '_');
        let mut name = base.clone();
        let mut n = 2;
        while !names.insert(name.clone()) {
            name = format!("{base}_{n}");
            n += 1;
        }
        let slot = (op, value, severity.clone(), report.entries.len());
        let critical = severity == "critical";
        report.entries.push(Entry {
            origin,
            rule: format!("alert {alert}"),
            became: format!("kpis.{name} ({kind})"),
            outcome,
            alert: Some(facts(r, &alert)),
        });
        plan.kpis.push((
            name,
            Kpi {
                comments,
                service,
                description: summary,
                indicator,
                warning: (!critical).then(|| slot.clone()),
                critical: critical.then_some(slot),
                for_,
            },
        ));
    }
    // Which alert of its KPI each rule became, now that the slots are settled.
    for (name, k) in &plan.kpis {
        for (slot, word) in [(&k.warning, "warning"), (&k.critical, "critical")] {
            let Some((_, _, _, i)) = slot else { continue };
            if let Some(e) = report.entries.get_mut(*i) {
                e.became = e.became.replacen(' ', &format!(" {word} "), 1);
                if let Some(a) = &mut e.alert {
                    a.kpi.clone_from(name);
                    a.imported = format!("{}{}", alerts::camel(name), alerts::camel(word));
                }
            }
        }
    }
    plan
}

/// What the equivalence test needs of an imported alert.
fn facts(r: &SourceRule, alert: &str) -> AlertFacts {
    AlertFacts {
        name: alert.to_owned(),
        expr: r.expr.clone(),
        for_: r.for_.clone(),
        labels: r.labels.clone(),
        kpi: String::new(),
        imported: String::new(),
    }
}

fn indicator_kind(i: &Indicator) -> &'static str {
    match i {
        Indicator::Up { .. } => "up",
        Indicator::Latency { .. } => "latency",
        Indicator::Expr(_) => "expr",
    }
}

/// Urgency order of a level: the conventional ones first, others after.
fn rank(level: &str) -> usize {
    KNOWN_LEVELS
        .iter()
        .position(|(l, _)| *l == level)
        .unwrap_or(KNOWN_LEVELS.len())
}

/// A severity label as a level name (`[A-Za-z0-9_-]+`).
fn level_name(v: &str) -> String {
    let s: String = v
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() {
        "warning".to_owned()
    } else {
        s
    }
}

/// `HostOutOfMemory` → `host_out_of_memory`.
fn snake(s: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = true;
        } else {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    let out = out.trim_matches('_').to_owned();
    if out.is_empty() || !out.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        format!("alert_{out}")
    } else {
        out
    }
}

/// `name` cut to at most `max` characters, without a trailing separator.
fn fit(name: &str, max: usize, sep: char) -> String {
    let cut: String = name.chars().take(max).collect();
    let cut = cut.trim_end_matches(sep);
    if cut.is_empty() {
        name.chars().take(1).collect()
    } else {
        cut.to_owned()
    }
}

/// A rule group's name as a service name (groups whose names are equal in their first 63
/// characters share a service).
fn service_name(group: &str) -> String {
    let s = fit(&snake(group).replace('_', "-"), 63, '-');
    if s.starts_with("alert-") && group.is_empty() {
        "imported".to_owned()
    } else {
        s
    }
}

/// Seconds rounded up to a whole hour, or a whole minute below one.
fn round_up_hour(secs: u64) -> u64 {
    let unit = if secs >= 3600 { 3600 } else { 60 };
    secs.div_ceil(unit) * unit
}

/// A threshold as plan text: `> 90`, `< 0.5s`.
fn threshold(op: Op, value: f64, unit: &str) -> String {
    format!("{} {value}{unit}", op.symbol())
}

impl Plan {
    fn to_yaml(&self, name: &str) -> Yaml {
        let services = Yaml::Map(
            self.services
                .iter()
                .map(|(s, from)| {
                    let mut seen: Vec<&String> = Vec::new();
                    for f in from {
                        if !seen.contains(&f) {
                            seen.push(f);
                        }
                    }
                    let notes = seen.iter().map(|s| (*s).clone()).collect();
                    (s.clone(), Yaml::map().commented(notes))
                })
                .collect(),
        );
        let kpis = Yaml::Map(
            self.kpis
                .iter()
                .map(|(n, k)| (n.clone(), k.to_yaml().commented(k.comments.clone())))
                .collect(),
        );
        let mut levels = Yaml::map();
        let mut ordered: Vec<&String> = self.levels.iter().collect();
        ordered.sort_by_key(|l| (rank(l), (*l).clone()));
        // A level answers within its `response`: no sooner than its slowest alert can notify
        // (`for` plus evaluation and grouping), and no sooner than a more urgent level.
        let mut floor = Duration::from_secs(0);
        for l in ordered {
            let known = KNOWN_LEVELS.iter().find(|(k, _)| *k == l.as_str());
            let default = Duration::parse(known.map_or("1d", |(_, r)| *r), false)
                .unwrap_or(Duration::from_secs(86_400));
            let slowest = self
                .kpis
                .iter()
                .filter(|(_, k)| {
                    [&k.warning, &k.critical]
                        .iter()
                        .any(|s| s.as_ref().is_some_and(|(_, _, lv, _)| lv == l))
                })
                .filter_map(|(_, k)| Duration::parse(&k.for_, false).ok())
                .map(|f| Duration::from_secs(round_up_hour(f.as_secs() + 600)))
                .max()
                .unwrap_or(default);
            floor = floor.max(default).max(slowest);
            let level = Yaml::map()
                .with("response", floor.to_string())
                .with("notify", Yaml::Seq(vec![Yaml::str("imported")]))
                .with_opt("severity", known.map(|(k, _)| *k));
            levels.push(l, level);
        }
        let severity = Yaml::map()
            .with("levels", levels)
            .with("require_runbook", Yaml::Seq(Vec::new()));
        let receivers = Yaml::map().with(
            "imported",
            Yaml::map()
                .with(
                    "webhook",
                    Yaml::map().with("url", "http://127.0.0.1:9095/upkeep-import"),
                )
                .commented(vec![
                    "A placeholder: where the imported alerts go. Replace it with your receivers."
                        .to_owned(),
                ]),
        );
        let doc = Yaml::map()
            .with("apiVersion", "upkeep/v1")
            .with("kind", "Plan")
            .with("metadata", Yaml::map().with("name", name));
        if self.kpis.is_empty() {
            // No alert: no services, levels or receivers to invent.
            return doc;
        }
        doc.with("services", services)
            .with("kpis", kpis)
            .with("severity", severity)
            .with("receivers", receivers)
    }
}

impl Kpi {
    fn to_yaml(&self) -> Yaml {
        let (indicator, unit, suffix) = match &self.indicator {
            Indicator::Up { job } => (
                Yaml::map().with("up", Yaml::map().with("job", job.as_str())),
                None,
                "",
            ),
            Indicator::Latency {
                histogram,
                quantile,
                window,
                selector,
            } => (
                Yaml::map().with(
                    "latency",
                    Yaml::map()
                        .with("histogram", histogram.as_str())
                        .with("quantile", Yaml::Num(quantile.to_string()))
                        .with("window", window.as_str())
                        .with("selector", selector.as_str()),
                ),
                None,
                "s",
            ),
            Indicator::Expr(e) => (Yaml::map().with("expr", e.as_str()), Some("count"), ""),
        };
        let mut levels = Yaml::map();
        if let Some((_, _, l, _)) = &self.warning {
            levels.push("warning", l.as_str());
        }
        if let Some((_, _, l, _)) = &self.critical {
            levels.push("critical", l.as_str());
        }
        Yaml::map()
            .with("service", self.service.as_str())
            .with_opt("description", self.description.as_deref())
            .with("indicator", indicator)
            .with_opt("unit", unit)
            .with_opt(
                "warning",
                self.warning
                    .as_ref()
                    .map(|(o, v, _, _)| threshold(*o, *v, suffix)),
            )
            .with_opt(
                "critical",
                self.critical
                    .as_ref()
                    .map(|(o, v, _, _)| threshold(*o, *v, suffix)),
            )
            .with("for", self.for_.as_str())
            .with("levels", levels)
    }
}
