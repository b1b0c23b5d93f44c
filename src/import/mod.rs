//! `upkeep import`: the rule files a team already has, read into a plan.
//!
//! Files are read with the limits of `check` ([`crate::load::read`], [`crate::parse`]), each
//! rule is lifted into the typed model where its `PromQL` says what it is (`lift`), and the plan
//! is written with the deterministic YAML writer, every entry commented with the input it came
//! from. The [`Report`] lists every input rule and what it became.
//!
//! **Invariant:** nothing is dropped silently: a rule becomes a KPI, or the report says why it
//! did not, and a field the plan cannot hold is a warning at its key.

mod burn;
mod health;
pub mod into;
mod kpi;
mod lift;
mod rules;
mod sli;
mod slo;
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
use slo::SourceSlo;

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
    /// For an SLO of a spec: what the equivalence test needs.
    pub slo: Option<SloFacts>,
}

/// An SLO of a spec or of a burn-rate alert set, and the alerts of the plan it became.
#[derive(Clone, Debug)]
pub struct SloFacts {
    /// Whether sloth wrote it (its `_gen` rules are the reference).
    pub sloth: bool,
    /// For an SLO read from a rule file's burn-rate alerts: the original page and ticket
    /// alerts, each its name and labels selecting it (the rule file itself is the reference).
    pub originals: [Option<Original>; 2],
    /// The imported plan's name (its alerts carry it as `plan`).
    pub plan: String,
    /// sloth's name of its alerts, if it has any.
    pub alert: Option<String>,
    /// sloth's `sloth_service` and `sloth_slo` labels.
    pub service: String,
    pub name: String,
    /// The error budget, as a ratio.
    pub budget: f64,
    /// The error ratio over 5 minutes, on the raw series (`PromQL`), to build scenarios from.
    pub ratio: Option<String>,
    /// The plan's page and ticket alerts: (alert name, label, value) selecting it.
    pub page: Option<(String, String, String)>,
    pub ticket: Option<(String, String, String)>,
    /// Why its alerts are not expected to match the original's, if they are not.
    pub caveat: Option<String>,
}

/// An original alert: its name and the labels that select it among the others of that name.
pub type Original = (String, Vec<(String, String)>);

/// An input alert and the plan's alert it became.
#[derive(Clone, Debug)]
pub struct AlertFacts {
    pub name: String,
    pub expr: String,
    pub for_: Option<String>,
    pub labels: Vec<(String, String)>,
    /// The KPI, its threshold (`warning` or `critical`), and its alert's name: the KPI and the
    /// level (`HostOutOfMemoryCritical` for level `critical`), as `model::alerts` names it.
    pub kpi: String,
    pub slot: &'static str,
    pub imported: String,
    /// The recording rules the original alert reads, written beside it in the equivalence
    /// test: (name, expression, labels).
    pub records: Vec<Record>,
    /// What the original alert judges on raw series, its recording rules inlined, when it
    /// reads some: the scenarios are found on it.
    pub judged: Option<String>,
}

/// A recording rule: its name, expression and labels.
pub type Record = (String, String, Vec<(String, String)>);

/// How far a rule was lifted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A typed indicator (`up`, `latency`) or an SLO.
    Typed,
    /// An `expr` KPI: its threshold, or the whole condition.
    Expr,
    /// Not imported (a recording rule, an expression that does not parse).
    NotImported,
    /// A rule that a KPI or SLO lifted from upkeep's or sloth's rules writes itself: a
    /// recording rule its alerts read, a `…NoData` alert upkeep writes beside a KPI's.
    Consumed,
}

impl Report {
    pub fn count(&self, o: Outcome) -> usize {
        self.entries.iter().filter(|e| e.outcome == o).count()
    }

    /// How many entries are SLOs of specs.
    pub fn slos(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.rule.starts_with("slo "))
            .count()
    }

    /// `3 files, 40 rules, 2 SLOs: 5 lifted into typed KPIs/SLOs, 35 kept as expr, 2 not
    /// imported` (and `, 12 rules that lifted KPIs and SLOs write themselves` when there are).
    pub fn summary(&self) -> String {
        let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
        let slos = self.slos();
        let consumed = self.count(Outcome::Consumed);
        format!(
            "{}, {}{}: {} lifted into typed KPIs/SLOs, {} kept as expr, {} not imported{}",
            plural(self.files, "file"),
            plural(self.entries.len() - slos, "rule"),
            if slos == 0 {
                String::new()
            } else {
                format!(", {}", plural(slos, "SLO"))
            },
            self.count(Outcome::Typed),
            self.count(Outcome::Expr),
            self.count(Outcome::NotImported),
            if consumed == 0 {
                String::new()
            } else {
                format!(
                    ", {} that lifted KPIs and SLOs write themselves",
                    plural(consumed, "rule")
                )
            }
        )
    }
}

/// Import `paths` into a plan named `name`, on a thread with the stack `check` parses with.
pub fn import(paths: &[PathBuf], name: &str) -> Imported {
    on_stack(|| {
        let mut out = Imported::default();
        if let Some(plan) = read_and_build(paths, &mut out) {
            for e in &mut out.report.entries {
                if let Some(f) = &mut e.slo {
                    name.clone_into(&mut f.plan);
                }
            }
            let header = vec![
                format!("Imported by `upkeep import` from {}.", inputs(&out.sources)),
                "Each entry says which rule or SLO it came from. Check it with `upkeep check`."
                    .to_owned(),
            ];
            out.plan = Some(yaml::document(&header, &plan.to_yaml(name)));
        }
        out
    })
}

/// `f` on a thread with the stack `check` parses with (here, if no thread can be made).
fn on_stack<T: Send>(f: impl Fn() -> T + Sync) -> T {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("upkeep-import".to_owned())
            .stack_size(64 * 1024 * 1024)
            .spawn_scoped(s, &f)
            .map_or_else(
                |_| f(),
                |h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            )
    })
}

/// The input files, as the plan's header names them: `` `a.yml`, `b.yml` ``.
fn inputs(sources: &SourceMap) -> String {
    sources
        .iter()
        .map(|(_, f)| format!("`{}`", f.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Read `paths` into `out` (sources, diagnostics, the file count) and build the plan of their
/// rules and SLOs, with the report; `None` when an input has an error.
fn read_and_build(paths: &[PathBuf], out: &mut Imported) -> Option<Plan> {
    let mut all = Vec::new();
    let mut specs = Vec::new();
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
        let src = &out.sources.get(file).text;
        let mut found = false;
        let mut unknown = Vec::new();
        for doc in &docs {
            if rules::is_rules(doc) {
                found = true;
                all.extend(rules::read(file, src, doc, &mut out.diagnostics));
            } else if let Some(fmt) = slo::format(doc) {
                found = true;
                specs.extend(slo::read(file, src, doc, fmt, &mut out.diagnostics));
            } else if doc.value != crate::parse::Value::Null {
                unknown.push(doc);
            }
        }
        let what = "no Prometheus rules (`groups:` or a `PrometheusRule`) and no SLO spec (sloth, pyrra or OpenSLO)";
        if !found {
            if let Some(first) = docs.first() {
                out.diagnostics.push(
                    Diagnostic::new(Code::NotAPlan, format!("this file holds {what}"))
                        .at(first.span(file).to(first.span(file)))
                        .help("name Prometheus rule files, `PrometheusRule` objects, or sloth, pyrra or OpenSLO SLO specs"),
                );
            }
            continue;
        }
        // Beside documents that are imported, one that is not is said, never skipped.
        for doc in unknown {
            let at = doc.key("kind").unwrap_or(doc);
            out.diagnostics.push(
                Diagnostic::new(
                    Code::NotAPlan,
                    format!("this document holds {what}, and is not imported"),
                )
                .severity(crate::diag::Severity::Warning)
                .at(at.span(file))
                .help("keep it in its file: the other documents of this file are imported; one of rules has `groups:` or `kind: PrometheusRule`"),
            );
        }
    }
    if out.diagnostics.has_errors() {
        return None;
    }
    let mut sets = burn::recognise(&all);
    let alerts: std::collections::BTreeSet<usize> = sets
        .iter()
        .flat_map(|s| s.page.iter().chain(&s.ticket).copied())
        .collect();
    // A recording rule another alert still reads stays in its file: it is not the SLO's alone.
    for s in &mut sets {
        s.records.retain(|&j| {
            let RuleKind::Record(name) = &all[j].kind else {
                return false;
            };
            !all.iter().enumerate().any(|(i, r)| {
                matches!(r.kind, RuleKind::Alert(_))
                    && !alerts.contains(&i)
                    && r.expr.contains(name.as_str())
            })
        });
    }
    let kpis = kpi::recognise(&all);
    let checks = health::recognise(&all);
    let consumed: std::collections::BTreeSet<usize> = sets
        .iter()
        .flat_map(|s| s.page.iter().chain(&s.ticket).chain(&s.records).copied())
        .chain(kpis.iter().flat_map(|k| {
            std::iter::once(k.record)
                .chain(k.no_data)
                .chain(k.thresholds.iter().map(|t| t.alert))
        }))
        .chain(
            checks
                .iter()
                .flat_map(|c| [c.down, c.flapping].into_iter().chain(c.unhealthy)),
        )
        .collect();
    let kept: Vec<SourceRule> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| !consumed.contains(i))
        .map(|(_, r)| r.clone())
        .collect();
    let mut plan = build(&out.sources, &kept, &mut out.report, &mut out.diagnostics);
    build_kpi_sets(&out.sources, &all, &kpis, &mut plan, &mut out.report);
    build_health_sets(&out.sources, &all, &checks, &mut plan, &mut out.report);
    build_burn_sets(&out.sources, &all, &sets, &mut plan, &mut out.report);
    build_slos(&out.sources, &specs, &mut plan, &mut out.report);
    Some(plan)
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
    /// The unit of an `expr` indicator, when it is not a count.
    unit: Option<String>,
    /// `over`: the aggregation's key and its window.
    over: Option<kpi::Over>,
    objective: Option<String>,
    /// The `for` of the warning and the critical threshold, when they differ (`for_` is then
    /// the longer).
    waits: Option<[String; 2]>,
}

#[derive(Default)]
struct Plan {
    services: BTreeMap<String, Vec<String>>,
    /// A service's `job`, when a KPI read from upkeep's rules reads it.
    jobs: BTreeMap<String, String>,
    /// A service's `hosts`, when a `resource` KPI read from upkeep's rules reads other ones
    /// than the default.
    hosts: BTreeMap<String, String>,
    /// A service's `health`, read from upkeep's health-check alerts.
    health: BTreeMap<String, Yaml>,
    /// The level of a service's `…Flapping` alert: the plan's severity matrix gives it (the
    /// service's `impact` row, a row per level).
    flapping: BTreeMap<String, String>,
    kpis: Vec<(String, Kpi)>,
    slos: Vec<(String, Slo)>,
    levels: Vec<String>,
    /// The conventional level whose urgency and response a level of another name takes: an
    /// SLO's page level is `critical`'s, its ticket level `warning`'s.
    like: BTreeMap<String, &'static str>,
}

/// An SLO being built.
struct Slo {
    comments: Vec<String>,
    service: String,
    description: Option<String>,
    /// Percent, exactly as the spec said.
    objective: crate::value::Number,
    window: String,
    indicator: sli::Typed,
    page: Option<String>,
    ticket: Option<String>,
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
                    slo: None,
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
        let (for_, mut remarks) = kpi_for(r, diags);
        if let Indicator::Expr(e) = &indicator
            && let Some(range) = lift::sub_second_range(e)
        {
            remarks.push(format!(
                "kept as `expr`: its range `{range}` is finer than a plan's windows (whole seconds)"
            ));
        }
        comments.extend(remarks.iter().cloned());
        let remarked = |became: String| remarks.iter().fold(became, |b, r| format!("{b}; {r}"));
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
                        became: remarked(format!("kpis.{kname} ({kind})")),
                        outcome,
                        alert: Some(facts(r, &alert)),
                        slo: None,
                    });
                    continue;
                }
            }
        }
        // upkeep's own alerts say their KPI in the `kpi` label (their names end in a level);
        // others are often named after their severity (`…Warning`, `…Critical`).
        let snaked = snake(&alert);
        let own = r
            .labels
            .iter()
            .find(|(k, _)| k == "kpi")
            .map(|(_, v)| snake(v))
            .filter(|v| !v.is_empty());
        let base = own.unwrap_or_else(|| {
            ["_critical", "_warning", "_warn", "_crit"]
                .iter()
                .find_map(|s| snaked.strip_suffix(s))
                .filter(|b| !b.is_empty())
                .unwrap_or(&snaked)
                .to_owned()
        });
        // Names are at most 63 characters; room is left for a `_N` that keeps them unique.
        let base = fit(&base, 59, '_');
        let name = unique(&mut names, &base);
        let slot = (op, value, severity.clone(), report.entries.len());
        let critical = severity == "critical";
        report.entries.push(Entry {
            origin,
            rule: format!("alert {alert}"),
            became: remarked(format!("kpis.{name} ({kind})")),
            outcome,
            alert: Some(facts(r, &alert)),
            slo: None,
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
                unit: None,
                over: None,
                objective: None,
                waits: None,
            },
        ));
    }
    // Which alert of its KPI each rule became, now that the slots are settled.
    for (name, k) in &plan.kpis {
        let level = |slot: &Option<Slot>| slot.as_ref().map(|s| s.2.clone());
        for (slot, other, word, urgency) in [
            (&k.warning, &k.critical, "warning", alerts::Urgency::Warning),
            (
                &k.critical,
                &k.warning,
                "critical",
                alerts::Urgency::Critical,
            ),
        ] {
            let Some((_, _, l, i)) = slot else { continue };
            if let Some(e) = report.entries.get_mut(*i) {
                e.became = e.became.replacen(' ', &format!(" {word} "), 1);
                if let Some(a) = &mut e.alert {
                    a.kpi.clone_from(name);
                    a.slot = word;
                    a.imported =
                        alerts::kpi_alert_name(name, urgency, Some(l), level(other).as_deref());
                }
            }
        }
    }
    plan
}

/// The SLOs of specs: a typed SLO where the SLI says exactly what upkeep's indicator computes,
/// else sloth's burn-rate conditions on the raw queries as `expr` KPIs, else a report line.
fn build_slos(sources: &SourceMap, specs: &[SourceSlo], plan: &mut Plan, report: &mut Report) {
    let mut slo_names: std::collections::BTreeSet<String> =
        plan.slos.iter().map(|(n, _)| n.clone()).collect();
    let mut kpi_names: std::collections::BTreeSet<String> =
        plan.kpis.iter().map(|(n, _)| n.clone()).collect();
    for s in specs {
        let src = sources.get(s.span.file);
        let (line, _) = src.line_col(s.span.start);
        let origin = format!("{}:{line}", src.name);
        let rule = format!("slo {}/{}", s.service, s.name);
        let mut entry = Entry {
            origin: origin.clone(),
            rule,
            became: String::new(),
            outcome: Outcome::NotImported,
            alert: None,
            slo: None,
        };
        let hundred = crate::value::Number::int(100);
        let objective = match s.objective {
            Some(o) if !o.is_negative() && !o.is_zero() && o < hundred => o,
            Some(o) => {
                entry.became = format!(
                    "not imported: its objective {o} is not a percentage strictly between 0 and 100"
                );
                report.entries.push(entry);
                continue;
            }
            None => {
                "not imported: it has no objective".clone_into(&mut entry.became);
                report.entries.push(entry);
                continue;
            }
        };
        let budget = 1.0 - objective.to_f64() / 100.0;
        let mut comments = vec![format!(
            "from {origin}, {} SLO `{}` of service `{}`",
            s.format.name(),
            s.name,
            s.service
        )];
        comments.extend(s.notes.iter().cloned());
        comments.extend(s.remarks.iter().cloned());
        let (mut page, mut ticket) = (None, None);
        if let Some(a) = &s.alerting {
            if let Some(n) = &a.name {
                comments.push(format!(
                    "alert name {n} (the plan names its burn-rate alerts itself)"
                ));
            }
            for (k, v) in &a.labels {
                comments.push(format!("alert label {k}: {v} (not kept)"));
            }
            for (k, v) in &a.annotations {
                comments.push(format!("alert annotation {k}: {v}"));
            }
            for (side, default, slot, word) in [
                (&a.page, "critical", &mut page, "page"),
                (&a.ticket, "warning", &mut ticket, "ticket"),
            ] {
                let Some((labels, annotations)) = side else {
                    continue;
                };
                let level = labels
                    .iter()
                    .find(|(k, _)| k == "severity")
                    .map_or_else(|| default.to_owned(), |(_, v)| level_name(v));
                if rank(&level) == KNOWN_LEVELS.len() {
                    plan.like.entry(level.clone()).or_insert(default);
                }
                for (k, v) in labels.iter().filter(|(k, _)| k != "severity") {
                    comments.push(format!("{word} alert label {k}: {v} (not kept)"));
                }
                for (k, v) in annotations {
                    comments.push(format!("{word} alert annotation {k}: {v}"));
                }
                *slot = Some(level);
            }
        }
        let period_days =
            Duration::parse(&s.window, false).map_or(30.0, |d| d.as_secs() as f64 / 86_400.0);
        let sloth = matches!(s.format, slo::Format::Sloth | slo::Format::SlothCrd);
        let mut facts = SloFacts {
            sloth,
            originals: [None, None],
            plan: String::new(),
            alert: s.alerting.as_ref().and_then(|a| a.name.clone()),
            service: s.service.clone(),
            name: s.name.clone(),
            budget,
            ratio: sli::ratio_at(&s.sli, "5m"),
            page: None,
            ticket: None,
            caveat: s.caveat.clone(),
        };
        let service = service_name(&s.service);
        let from = format!(
            "from {} service `{}` of {}",
            s.format.name(),
            s.service,
            src.name
        );
        match sli::typed(&s.sli) {
            Ok(indicator) => {
                // A burn rate above 1/budget needs an error ratio above 1: the check rejects it.
                for (slot, pairs, word) in [
                    (&mut page, crate::model::burn::PAGE, "page"),
                    (&mut ticket, crate::model::burn::TICKET, "ticket"),
                ] {
                    let worst = pairs
                        .iter()
                        .map(|p| p.factor_tenths as f64 / 10.0)
                        .fold(0.0, f64::max);
                    if slot.is_some() && worst * budget >= 1.0 {
                        comments.push(format!(
                            "{word} alert not imported: a {worst}× burn of a {budget} budget needs an error ratio above 1"
                        ));
                        facts.caveat =
                            Some(format!("its {word} alert is not imported (unreachable)"));
                        *slot = None;
                    }
                }
                if !sloth || period_days.to_bits() != 30f64.to_bits() {
                    comments.push("upkeep's burn-rate alerts use the SRE workbook's factors (14.4× and 6× over 1h/5m and 6h/30m; 3× and 1× over 1d/2h and 3d/6h) whatever the window: see the book's Adopting page".to_owned());
                }
                if let sli::Typed::Latency { note: Some(n), .. } = &indicator {
                    comments.push(n.clone());
                }
                let base = fit(&snake(&s.name), 59, '_');
                let name = unique(&mut slo_names, &base);
                let kind = match indicator {
                    sli::Typed::ErrorRatio { .. } => "error_ratio",
                    sli::Typed::Latency { .. } => "latency",
                    sli::Typed::Up { .. } => "up",
                };
                let alert = |page: bool| {
                    (
                        format!(
                            "{}BurnRate{}",
                            alerts::camel(&name),
                            if page { "Page" } else { "Ticket" }
                        ),
                        "slo".to_owned(),
                        name.clone(),
                    )
                };
                facts.page = page.as_ref().map(|_| alert(true));
                facts.ticket = ticket.as_ref().map(|_| alert(false));
                entry.became = format!("slos.{name} ({kind})");
                entry.outcome = Outcome::Typed;
                for l in page.iter().chain(&ticket) {
                    if !plan.levels.contains(l) {
                        plan.levels.push(l.clone());
                    }
                }
                plan.services
                    .entry(service.clone())
                    .or_default()
                    .push(from.clone());
                plan.slos.push((
                    name,
                    Slo {
                        comments,
                        service,
                        description: s.description.clone(),
                        objective,
                        window: s.window.clone(),
                        indicator,
                        page,
                        ticket,
                    },
                ));
            }
            Err(why) => {
                let conds: Vec<(bool, String, String)> = if sloth {
                    [(true, &page), (false, &ticket)]
                        .into_iter()
                        .filter_map(|(p, l)| {
                            let l = l.clone()?;
                            Some((p, l, sli::burn_condition(&s.sli, budget, period_days, p)?))
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                let wanted = usize::from(page.is_some()) + usize::from(ticket.is_some());
                if conds.is_empty() || conds.len() != wanted {
                    entry.became = format!("not imported: {why}");
                    report.entries.push(entry);
                    continue;
                }
                let base = fit(&snake(&s.name), 52, '_');
                let mut became = Vec::new();
                comments.push(format!(
                    "kept as sloth's burn-rate condition on the raw SLI: {why}"
                ));
                for (p, level, cond) in conds {
                    let stem = format!("{base}_{}", if p { "page" } else { "ticket" });
                    let mut name = stem.clone();
                    let mut n = 2;
                    while !kpi_names.insert(name.clone()) {
                        name = format!("{stem}_{n}");
                        n += 1;
                    }
                    let word = if p { "critical" } else { "warning" };
                    let urgency = if p {
                        alerts::Urgency::Critical
                    } else {
                        alerts::Urgency::Warning
                    };
                    let selects = (
                        alerts::kpi_alert_name(&name, urgency, Some(&level), None),
                        "kpi".to_owned(),
                        name.clone(),
                    );
                    if p {
                        facts.page = Some(selects);
                    } else {
                        facts.ticket = Some(selects);
                    }
                    if !plan.levels.contains(&level) {
                        plan.levels.push(level.clone());
                    }
                    became.push(format!("kpis.{name} {word}"));
                    let slot = (Op::Gt, 0.0, level, usize::MAX);
                    plan.services
                        .entry(service.clone())
                        .or_default()
                        .push(from.clone());
                    plan.kpis.push((
                        name,
                        Kpi {
                            comments: comments.clone(),
                            service: service.clone(),
                            description: s.description.clone(),
                            indicator: Indicator::Expr(lift::presence(&cond)),
                            warning: (!p).then(|| slot.clone()),
                            critical: p.then_some(slot),
                            for_: "0s".to_owned(),
                            unit: None,
                            over: None,
                            objective: None,
                            waits: None,
                        },
                    ));
                }
                entry.became = format!("{} (expr: {why})", became.join(", "));
                entry.outcome = Outcome::Expr;
            }
        }
        for r in &s.remarks {
            entry.became.push_str("; ");
            entry.became.push_str(r);
        }
        entry.slo = Some(facts);
        report.entries.push(entry);
    }
}

impl Plan {
    /// Add `level` to the plan's levels, like the conventional level its `severity` names
    /// (else like `default`) when its own name is not one.
    fn take_level(&mut self, level: &str, severity: Option<&str>, default: &'static str) {
        if rank(level) == KNOWN_LEVELS.len() {
            let like = severity
                .and_then(|s| KNOWN_LEVELS.iter().find(|(l, _)| *l == s))
                .map_or(default, |(l, _)| *l);
            self.like.entry(level.to_owned()).or_insert(like);
        }
        if !self.levels.iter().any(|l| l == level) {
            self.levels.push(level.to_owned());
        }
    }
}

/// `FILE:LINE` of a rule.
fn rule_origin(sources: &SourceMap, r: &SourceRule) -> String {
    let src = sources.get(r.span.file);
    format!("{}:{}", src.name, src.line_col(r.span.start).0)
}

/// `base`, or `base_2`, `base_3`… if taken; taken then.
fn unique(names: &mut std::collections::BTreeSet<String>, base: &str) -> String {
    let mut name = base.to_owned();
    let mut n = 2;
    while !names.insert(name.clone()) {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}

/// The KPIs read from upkeep's own KPI rules (`kpi`): each set's recording rule, threshold
/// alerts and `…NoData` alert become one KPI that writes them again, and report lines saying so.
fn build_kpi_sets(
    sources: &SourceMap,
    rules: &[SourceRule],
    sets: &[kpi::KpiSet],
    plan: &mut Plan,
    report: &mut Report,
) {
    let mut names: std::collections::BTreeSet<String> =
        plan.kpis.iter().map(|(n, _)| n.clone()).collect();
    for set in sets {
        let origin = |i: usize| rule_origin(sources, &rules[i]);
        let name = unique(&mut names, &set.name);
        let service = set.service.clone();
        let mut indicator = set.indicator.clone();
        // The service reads the job its typed indicators name, unless another KPI of it names
        // another one: then this one says its own.
        if let Some(job) = &set.job {
            if plan.jobs.get(&service).is_some_and(|j| j != job) {
                let own = format!("job={}", crate::emit::prometheus::quote(job));
                if let Indicator::Latency { selector, .. }
                | Indicator::Throughput { selector, .. } = &mut indicator
                {
                    *selector = own;
                }
            } else {
                plan.jobs.insert(service.clone(), job.clone());
            }
        }
        if let Some(h) = &set.hosts {
            if plan.hosts.get(&service).is_some_and(|x| x != h) {
                indicator = Indicator::Expr(rules[set.record].expr.trim().to_owned());
            } else {
                plan.hosts.insert(service.clone(), h.clone());
            }
        }
        let RuleKind::Record(record) = &rules[set.record].kind else {
            continue;
        };
        let mut comments = vec![format!(
            "from {}, upkeep's KPI `{}` of plan `{}` (its recording rule `{record}`)",
            origin(set.record),
            set.name,
            set.plan
        )];
        plan.services
            .entry(service.clone())
            .or_default()
            .push(format!("from the KPI rules of plan `{}`", set.plan));
        let kind = indicator_kind(&indicator);
        let outcome = if matches!(indicator, Indicator::Expr(_)) {
            Outcome::Expr
        } else {
            Outcome::Typed
        };
        let own = ["severity", "level", "plan", "service", "kpi"];
        let mut slots: [Option<Slot>; 2] = [None, None];
        for t in &set.thresholds {
            let r = &rules[t.alert];
            let RuleKind::Alert(alert) = &r.kind else {
                continue;
            };
            let word = t.slot.name();
            comments.push(format!(
                "from {}, its {word} alert `{alert}`",
                origin(t.alert)
            ));
            for (k, v) in &r.labels {
                if !own.contains(&k.as_str()) {
                    comments.push(format!("{word} alert label {k}: {v} (not kept)"));
                }
            }
            for (k, v) in &r.annotations {
                if k != "summary" && k != "description" {
                    comments.push(format!("{word} alert annotation {k}: {v}"));
                }
            }
            let level = level_name(&t.level);
            let severity = r
                .labels
                .iter()
                .find(|(k, _)| k == "severity")
                .map(|(_, v)| v.as_str());
            plan.take_level(&level, severity, word);
            let other = set
                .thresholds
                .iter()
                .find(|o| o.slot != t.slot)
                .map(|o| level_name(&o.level));
            let entry = report.entries.len();
            let record_rule = &rules[set.record];
            report.entries.push(Entry {
                origin: origin(t.alert),
                rule: format!("alert {alert}"),
                became: format!("kpis.{name} {word} ({kind}: upkeep's own KPI rules)"),
                outcome,
                alert: Some(AlertFacts {
                    records: vec![(
                        record.clone(),
                        record_rule.expr.clone(),
                        record_rule.labels.clone(),
                    )],
                    judged: Some(format!("{} {} {}", set.judged, t.op.symbol(), t.value)),
                    kpi: name.clone(),
                    slot: word,
                    imported: alerts::kpi_alert_name(&name, t.slot, Some(&level), other.as_deref()),
                    ..facts(r, alert)
                }),
                slo: None,
            });
            slots[usize::from(t.slot == alerts::Urgency::Critical)] =
                Some((t.op, t.value, level, entry));
        }
        if let Some(i) = set.no_data {
            if let RuleKind::Alert(alert) = &rules[i].kind {
                comments.push(format!(
                    "from {}, its no-data alert `{alert}` (written again by the KPI)",
                    origin(i)
                ));
                report.entries.push(Entry {
                    origin: origin(i),
                    rule: format!("alert {alert}"),
                    became: format!("kpis.{name}: the no-data alert upkeep writes for it"),
                    outcome: Outcome::Consumed,
                    alert: None,
                    slo: None,
                });
            }
        }
        report.entries.push(Entry {
            origin: origin(set.record),
            rule: format!("record {record}"),
            became: format!("read by kpis.{name}: upkeep records its indicator itself"),
            outcome: Outcome::Consumed,
            alert: None,
            slo: None,
        });
        let fors: Vec<&String> = set.thresholds.iter().map(|t| &t.for_).collect();
        let longest = fors
            .iter()
            .filter_map(|f| Duration::parse(f, false).ok())
            .max()
            .unwrap_or(Duration::ZERO);
        let waits = (fors.len() == 2 && fors[0] != fors[1]).then(|| {
            let of = |u: alerts::Urgency| {
                set.thresholds
                    .iter()
                    .find(|t| t.slot == u)
                    .map(|t| t.for_.clone())
                    .unwrap_or_default()
            };
            [of(alerts::Urgency::Warning), of(alerts::Urgency::Critical)]
        });
        let [warning, critical] = slots;
        plan.kpis.push((
            name,
            Kpi {
                comments,
                service,
                description: set.description.clone(),
                indicator,
                warning,
                critical,
                for_: longest.to_string(),
                unit: Some(set.unit.clone()).filter(|u| u != "count"),
                over: set.over.clone(),
                objective: set.objective.clone(),
                waits,
            },
        ));
    }
}

/// The health checks read from upkeep's own health-check alerts (`health`): each becomes its
/// service's `health`, with report lines saying so.
fn build_health_sets(
    sources: &SourceMap,
    rules: &[SourceRule],
    checks: &[health::HealthSet],
    plan: &mut Plan,
    report: &mut Report,
) {
    for c in checks {
        let origin = |i: usize| rule_origin(sources, &rules[i]);
        let mut notes = Vec::new();
        let mut levels: [Option<String>; 3] = [None, None, None];
        for (k, (i, word)) in [
            (Some(c.down), "down"),
            (c.unhealthy, "unhealthy"),
            (Some(c.flapping), "flapping"),
        ]
        .into_iter()
        .enumerate()
        {
            let Some(i) = i else { continue };
            let r = &rules[i];
            let RuleKind::Alert(alert) = &r.kind else {
                continue;
            };
            notes.push(format!(
                "health: from {}, its {word} alert `{alert}` (plan `{}`)",
                origin(i),
                c.plan
            ));
            for (key, v) in &r.labels {
                if !["severity", "level", "plan", "service"].contains(&key.as_str()) {
                    notes.push(format!("{word} alert label {key}: {v} (not kept)"));
                }
            }
            for (key, v) in &r.annotations {
                if key != "summary" && key != "description" {
                    notes.push(format!("{word} alert annotation {key}: {v}"));
                }
            }
            let get = |key: &str| {
                r.labels
                    .iter()
                    .find(|(l, _)| l == key)
                    .map(|(_, v)| v.clone())
            };
            let default = if k == 0 { "critical" } else { "warning" };
            let level = get("level").map_or_else(|| default.to_owned(), |l| level_name(&l));
            plan.take_level(&level, get("severity").as_deref(), default);
            levels[k] = Some(level);
            report.entries.push(Entry {
                origin: origin(i),
                rule: format!("alert {alert}"),
                became: format!(
                    "services.{}.health {word} ({}: upkeep's own health check)",
                    c.service, c.probe.0
                ),
                outcome: Outcome::Typed,
                alert: None,
                slo: None,
            });
        }
        notes.push(format!(
            "health: its alerts read the probe's series as plan `{}` writes them (its scrape job `blackbox-{}-{}`, or its command check's `plan` label): a plan of another name probes under its own",
            c.plan, c.plan, c.service
        ));
        let [down, unhealthy, flapping] = levels;
        let body = c.body.clone().map(|b| match b {
            Yaml::Map(mut m) => {
                if let Some(l) = &unhealthy {
                    m.push(("level".to_owned(), Yaml::str(l)));
                }
                Yaml::Map(m)
            }
            other => other,
        });
        let health = Yaml::map()
            .with(c.probe.0, c.probe.1.as_str())
            .with("interval", c.interval.to_string())
            .with("timeout", c.timeout.to_string())
            .with("retries", Yaml::Int(i64::from(c.retries)))
            .with_opt("level", down)
            .with_opt("body", body);
        plan.services
            .entry(c.service.clone())
            .or_default()
            .extend(notes);
        plan.health.insert(c.service.clone(), health);
        if let Some(f) = flapping {
            plan.flapping.insert(c.service.clone(), f);
        }
    }
}

/// The SLOs read from burn-rate alert sets (`burn`): each set's alerts and recording rules
/// become one SLO with upkeep's page and ticket alerts, and report lines saying so.
fn build_burn_sets(
    sources: &SourceMap,
    rules: &[SourceRule],
    sets: &[burn::BurnSet],
    plan: &mut Plan,
    report: &mut Report,
) {
    let mut slo_names: std::collections::BTreeSet<String> =
        plan.slos.iter().map(|(n, _)| n.clone()).collect();
    for set in sets {
        let origin = |i: usize| rule_origin(sources, &rules[i]);
        let name = unique(&mut slo_names, &fit(&snake(&set.name), 59, '_'));
        let service = service_name(&set.service);
        let percent = format!("{:.10}", (1.0 - set.budget) * 100.0);
        let percent = percent.trim_end_matches('0').trim_end_matches('.');
        let Some(objective) = crate::value::Number::parse(percent) else {
            continue;
        };
        let mut comments = Vec::new();
        let mut facts = SloFacts {
            sloth: false,
            originals: [None, None],
            plan: String::new(),
            alert: None,
            service: set.service.clone(),
            name: set.name.clone(),
            budget: set.budget,
            ratio: Some(set.ratio.clone()),
            page: None,
            ticket: None,
            caveat: None,
        };
        let mut levels = [None, None];
        for (k, (slot, word, default)) in [
            (set.page, "page", "critical"),
            (set.ticket, "ticket", "warning"),
        ]
        .into_iter()
        .enumerate()
        {
            let Some(i) = slot else { continue };
            let r = &rules[i];
            let RuleKind::Alert(alert) = &r.kind else {
                continue;
            };
            comments.push(format!(
                "from {}, the {word} alert `{alert}` of a multi-window burn-rate alert set",
                origin(i)
            ));
            // upkeep's own rules name the plan's level (`level`) beside its severity.
            let get = |k: &str| {
                r.labels
                    .iter()
                    .find(|(l, _)| l == k)
                    .map(|(_, v)| v.clone())
            };
            let upkeep = get("plan").is_some() && get("slo").is_some();
            let severity = get("severity").map(|v| level_name(&v));
            let level = match (upkeep, get("level")) {
                (true, Some(l)) => level_name(&l),
                _ => severity.clone().unwrap_or_else(|| default.to_owned()),
            };
            plan.take_level(&level, severity.as_deref(), default);
            let own = ["severity", "level", "plan", "service", "slo"];
            for (k, v) in &r.labels {
                if !(upkeep && own.contains(&k.as_str())) && k != "severity" {
                    comments.push(format!("{word} alert label {k}: {v} (not kept)"));
                }
            }
            for (k, v) in &r.annotations {
                comments.push(format!("{word} alert annotation {k}: {v}"));
            }
            let mut selects = set.identity.clone();
            for kv in &r.labels {
                if !selects.contains(kv) {
                    selects.push(kv.clone());
                }
            }
            facts.originals[k] = Some((alert.clone(), selects));
            let mine = (
                format!(
                    "{}BurnRate{}",
                    alerts::camel(&name),
                    if k == 0 { "Page" } else { "Ticket" }
                ),
                "slo".to_owned(),
                name.clone(),
            );
            if k == 0 {
                facts.page = Some(mine);
            } else {
                facts.ticket = Some(mine);
            }
            levels[k] = Some(level);
        }
        let window = set.window.clone().unwrap_or_else(|| {
            comments.push("window 30d assumed: the rules carry no SLO window (no `sloth_window` label, no `slo:sli_error:ratio_rate…` record of a window the alerts do not read); the burn-rate alerts do not depend on it".to_owned());
            "30d".to_owned()
        });
        let indicator = match &set.indicator {
            burn::Indicator::Typed(t) => t.clone(),
            // Written even when it is the service's name: the rules do not say whether the
            // plan wrote it or took its service's.
            burn::Indicator::Up(job) => sli::Typed::Up {
                job: Some(job.clone()),
            },
        };
        if let sli::Typed::Latency { note: Some(n), .. } = &indicator {
            comments.push(n.clone());
        }
        let kind = match indicator {
            sli::Typed::ErrorRatio { .. } => "error_ratio",
            sli::Typed::Latency { .. } => "latency",
            sli::Typed::Up { .. } => "up",
        };
        let mut first = true;
        for (slot, word) in [(set.page, "page"), (set.ticket, "ticket")] {
            let Some(i) = slot else { continue };
            let RuleKind::Alert(alert) = &rules[i].kind else {
                continue;
            };
            report.entries.push(Entry {
                origin: origin(i),
                rule: format!("alert {alert}"),
                became: format!(
                    "slos.{name} {word} ({kind}, objective {objective}%, window {window}{}: a multi-window burn-rate alert set)",
                    if set.window.is_some() { "" } else { " assumed" }
                ),
                outcome: Outcome::Typed,
                alert: None,
                slo: first.then(|| facts.clone()),
            });
            first = false;
        }
        for &i in &set.records {
            let RuleKind::Record(rec) = &rules[i].kind else {
                continue;
            };
            report.entries.push(Entry {
                origin: origin(i),
                rule: format!("record {rec}"),
                became: format!(
                    "read by slos.{name}: upkeep records its SLI and burn rates itself"
                ),
                outcome: Outcome::Consumed,
                alert: None,
                slo: None,
            });
        }
        plan.services
            .entry(service.clone())
            .or_default()
            .push(format!("from the burn-rate alerts of `{}`", set.service));
        let [page, ticket] = levels;
        plan.slos.push((
            name,
            Slo {
                comments,
                service,
                description: None,
                objective,
                window,
                indicator,
                page,
                ticket,
            },
        ));
    }
}

/// A rule's `for` as the KPI's (`0s` when it has none), and what the report says of it. Finer
/// than a second (`1500ms`), which a plan's `for` cannot say, it is rounded up to the second
/// (`2s`), with a warning: the same alert wherever rules are evaluated every whole number of
/// seconds, since an alert fires at the first evaluation at least `for` after it became pending.
fn kpi_for(r: &SourceRule, diags: &mut Diagnostics) -> (String, Vec<String>) {
    let Some(f) = r.for_.as_deref() else {
        return ("0s".to_owned(), Vec::new());
    };
    if Duration::parse(f, false).is_ok() {
        return (f.to_owned(), Vec::new());
    }
    let Ok(d) = Duration::parse(f, true) else {
        return (f.to_owned(), Vec::new());
    };
    let up = Duration::from_secs(d.as_millis().div_ceil(1000));
    let mut warning = Diagnostic::new(
        Code::Range,
        format!("`for: {f}` is finer than a second, which a plan's `for` is not; the imported KPI waits `{up}`"),
    )
    .severity(crate::diag::Severity::Warning)
    .help(format!(
        "write `for: {up}` in the rule file to say what the plan does; it fires at the same evaluation as `{f}` when rules are evaluated every whole number of seconds"
    ));
    if let Some(span) = r.for_span {
        warning = warning.at(span);
    }
    diags.push(warning);
    (
        up.to_string(),
        vec![format!(
            "`for: {f}` is written `{up}`: a plan's `for` is whole seconds"
        )],
    )
}

/// What the equivalence test needs of an imported alert.
fn facts(r: &SourceRule, alert: &str) -> AlertFacts {
    AlertFacts {
        name: alert.to_owned(),
        expr: r.expr.clone(),
        for_: r.for_.clone(),
        labels: r.labels.clone(),
        kpi: String::new(),
        slot: "warning",
        imported: String::new(),
        records: Vec::new(),
        judged: None,
    }
}

fn indicator_kind(i: &Indicator) -> &'static str {
    match i {
        Indicator::Up { .. } => "up",
        Indicator::Latency { .. } => "latency",
        Indicator::ErrorRatio { .. } => "error_ratio",
        Indicator::Throughput { .. } => "throughput",
        Indicator::Resource(_) => "resource",
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

/// The sections of an imported plan, each entry with its comments.
struct Parts {
    services: Vec<(String, Yaml)>,
    kpis: Vec<(String, Yaml)>,
    slos: Vec<(String, Yaml)>,
    /// The levels of the imported severities, when there is an alert.
    severity: Option<Yaml>,
    /// The placeholder receiver the levels notify.
    receivers: Option<Yaml>,
}

/// The one likelihood column of the severity matrix an import writes for the `…Flapping`
/// alerts of the health checks it reads (a row per level: a service's `impact` is its level).
const LIKELIHOOD: &str = "imported";

/// The receiver the levels of an imported plan notify until the team names its own.
const PLACEHOLDER: &str = "imported";

impl Plan {
    /// The severity matrix that gives each health check's `…Flapping` alert its level: a row
    /// per level a service's flapping alert takes (named after it, in `levels` order), one
    /// column.
    fn matrix(&self, levels: &[String]) -> Option<Yaml> {
        let rows: Vec<(String, Yaml)> = self
            .impact_rows(levels)
            .into_iter()
            .map(|(l, row)| (row, Yaml::Seq(vec![Yaml::str(l)])))
            .collect();
        (!rows.is_empty()).then(|| {
            Yaml::map()
                .with("likelihood", Yaml::Seq(vec![Yaml::str(LIKELIHOOD)]))
                .with("impact", Yaml::Map(rows))
        })
    }

    /// The matrix rows of the levels of the `…Flapping` alerts, in `levels` order: (level, row
    /// name). A row is named after its level (`flapping-high`), in lower case as impact names
    /// are.
    fn impact_rows(&self, levels: &[String]) -> Vec<(String, String)> {
        let mut rows: Vec<(String, String)> = Vec::new();
        for l in levels
            .iter()
            .filter(|l| self.flapping.values().any(|f| f == *l))
        {
            let base = format!("flapping-{}", l.to_ascii_lowercase().replace('_', "-"));
            let mut row = base.clone();
            let mut n = 2;
            while rows.iter().any(|(_, r)| *r == row) {
                row = format!("{base}-{n}");
                n += 1;
            }
            rows.push((l.clone(), row));
        }
        rows
    }

    fn to_yaml(&self, name: &str) -> Yaml {
        let parts = self.parts();
        let doc = Yaml::map()
            .with("apiVersion", "upkeep/v1")
            .with("kind", "Plan")
            .with("metadata", Yaml::map().with("name", name));
        if parts.kpis.is_empty() && parts.slos.is_empty() {
            // No alert: no services, levels or receivers to invent.
            return doc;
        }
        let mut doc = doc.with("services", Yaml::Map(parts.services));
        for (key, entries) in [("kpis", parts.kpis), ("slos", parts.slos)] {
            if !entries.is_empty() {
                doc = doc.with(key, Yaml::Map(entries));
            }
        }
        doc.with_opt("severity", parts.severity)
            .with_opt("receivers", parts.receivers)
    }

    /// The levels, most urgent first: the conventional ones in their order (a level of another
    /// name where the one it is like is), then by name.
    fn ordered_levels(&self) -> Vec<String> {
        let like = |l: &String| {
            self.like
                .get(l)
                .map_or_else(|| l.clone(), |s| (*s).to_owned())
        };
        let mut ordered = self.levels.clone();
        ordered.sort_by_key(|l| (rank(&like(l)), l.clone()));
        ordered
    }

    fn parts(&self) -> Parts {
        let rows = self.ordered_levels();
        let impact = self.impact_rows(&rows);
        let services = self
            .services
            .iter()
            .map(|(s, from)| {
                let mut seen: Vec<&String> = Vec::new();
                for f in from {
                    if !seen.contains(&f) {
                        seen.push(f);
                    }
                }
                let notes = seen.iter().map(|s| (*s).clone()).collect();
                let service = Yaml::map()
                    .with_opt("job", self.jobs.get(s).map(String::as_str))
                    .with_opt("hosts", self.hosts.get(s).map(String::as_str))
                    .with_opt(
                        "impact",
                        self.flapping.get(s).and_then(|f| {
                            impact
                                .iter()
                                .find(|(l, _)| l == f)
                                .map(|(_, row)| row.as_str())
                        }),
                    )
                    .with_opt("health", self.health.get(s).cloned());
                (s.clone(), service.commented(notes))
            })
            .collect();
        let kpis = self
            .kpis
            .iter()
            .map(|(n, k)| (n.clone(), k.to_yaml().commented(k.comments.clone())))
            .collect();
        let slos = self
            .slos
            .iter()
            .map(|(n, s)| (n.clone(), s.to_yaml().commented(s.comments.clone())))
            .collect();
        if self.levels.is_empty() {
            return Parts {
                services,
                kpis,
                slos,
                severity: None,
                receivers: None,
            };
        }
        let mut levels = Yaml::map();
        let like = |l: &String| {
            self.like
                .get(l)
                .map_or_else(|| l.clone(), |s| (*s).to_owned())
        };
        // A level answers within its `response`: no sooner than its slowest alert can notify
        // (`for` plus evaluation and grouping), and no sooner than a more urgent level.
        let mut floor = Duration::from_secs(0);
        for l in &rows {
            let known = KNOWN_LEVELS.iter().find(|(k, _)| *k == l.as_str());
            let response = KNOWN_LEVELS
                .iter()
                .find(|(k, _)| *k == like(l).as_str())
                .map_or("1d", |(_, r)| *r);
            let default = Duration::parse(response, false).unwrap_or(Duration::from_secs(86_400));
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
                .with("notify", Yaml::Seq(vec![Yaml::str(PLACEHOLDER)]))
                .with_opt("severity", known.map(|(k, _)| *k));
            levels.push(l, level);
        }
        let severity = Yaml::map()
            .with("levels", levels)
            .with_opt("matrix", self.matrix(&rows))
            .with_opt(
                "likelihood_of",
                (!self.flapping.is_empty()).then(|| {
                    Yaml::map()
                        .with("warning", LIKELIHOOD)
                        .with("critical", LIKELIHOOD)
                }),
            )
            .with("require_runbook", Yaml::Seq(Vec::new()));
        let receivers = Yaml::map().with(
            PLACEHOLDER,
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
        Parts {
            services,
            kpis,
            slos,
            severity: Some(severity),
            receivers: Some(receivers),
        }
    }
}

impl Slo {
    fn to_yaml(&self) -> Yaml {
        let indicator = match &self.indicator {
            sli::Typed::ErrorRatio { errors, total } => Yaml::map().with(
                "error_ratio",
                Yaml::map()
                    .with("errors", errors.as_str())
                    .with("total", total.as_str()),
            ),
            sli::Typed::Latency {
                histogram,
                threshold,
                selector,
                ..
            } => Yaml::map().with(
                "latency",
                Yaml::map()
                    .with("histogram", histogram.as_str())
                    .with("threshold", format!("{threshold}s"))
                    .with("selector", selector.as_str()),
            ),
            sli::Typed::Up { job } => Yaml::map().with(
                "up",
                job.as_ref()
                    .map_or_else(Yaml::map, |j| Yaml::map().with("job", j.as_str())),
            ),
        };
        let mut alerting = Yaml::map();
        if let Some(p) = &self.page {
            alerting.push("page", p.as_str());
        }
        if let Some(t) = &self.ticket {
            alerting.push("ticket", t.as_str());
        }
        let alerting = (self.page.is_some() || self.ticket.is_some()).then_some(alerting);
        Yaml::map()
            .with("service", self.service.as_str())
            .with_opt("description", self.description.as_deref())
            .with("objective", format!("{}%", self.objective))
            .with("window", self.window.as_str())
            .with("indicator", indicator)
            .with_opt("alerting", alerting)
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
                        .with_opt(
                            "selector",
                            Some(selector.as_str()).filter(|s| !s.is_empty()),
                        ),
                ),
                None,
                "s",
            ),
            Indicator::Throughput {
                counter,
                window,
                per,
                selector,
            } => (
                Yaml::map().with(
                    "throughput",
                    Yaml::map()
                        .with("counter", counter.as_str())
                        .with("window", window.as_str())
                        .with("per", *per)
                        .with_opt(
                            "selector",
                            Some(selector.as_str()).filter(|s| !s.is_empty()),
                        ),
                ),
                None,
                "",
            ),
            Indicator::Resource(r) => (Yaml::map().with("resource", *r), None, "%"),
            Indicator::ErrorRatio {
                errors,
                total,
                window,
                scale,
            } => (
                Yaml::map().with(
                    "error_ratio",
                    Yaml::map()
                        .with("errors", errors.as_str())
                        .with("total", total.as_str())
                        .with("window", window.as_str()),
                ),
                None,
                if *scale == 100 { "%" } else { " ratio" },
            ),
            Indicator::Expr(e) => (
                Yaml::map().with("expr", e.as_str()),
                Some(self.unit.as_deref().unwrap_or("count")),
                "",
            ),
        };
        let mut levels = Yaml::map();
        if let Some((_, _, l, _)) = &self.warning {
            levels.push("warning", l.as_str());
        }
        if let Some((_, _, l, _)) = &self.critical {
            levels.push("critical", l.as_str());
        }
        // Each threshold, with its own `for` when the two wait differently.
        let alerting = |slot: &Option<Slot>, k: usize| {
            slot.as_ref().map(|(o, v, _, _)| {
                let t = threshold(*o, *v, suffix);
                match &self.waits {
                    Some(w) => Yaml::map().with("value", t).with("for", w[k].as_str()),
                    None => Yaml::str(t),
                }
            })
        };
        let over = self
            .over
            .as_ref()
            .map(|(agg, window)| Yaml::map().with(agg, window.as_str()));
        Yaml::map()
            .with("service", self.service.as_str())
            .with_opt("description", self.description.as_deref())
            .with("indicator", indicator)
            .with_opt("unit", unit)
            .with_opt("over", over)
            .with_opt("objective", self.objective.as_deref())
            .with_opt("warning", alerting(&self.warning, 0))
            .with_opt("critical", alerting(&self.critical, 1))
            .with_opt("for", self.waits.is_none().then_some(self.for_.as_str()))
            .with("levels", levels)
    }
}
