//! Hover: what the schema says of the field under the cursor, and what its value means.
//!
//! The field is found in the file's YAML tree ([`crate::parse`], the compiler's parser) and
//! looked up in the JSON Schema ([`crate::schema::field`]), whose `$defs` type says how to
//! read the value: a `Duration` in words, a `Schedule`'s next occurrences in the plan's time
//! zone, a KPI `Threshold` in the indicator's unit with the level its alert resolves to (from
//! the checked plan, [`crate::model::alerts`]).

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::model::Plan;
use crate::model::alerts::{Source, Urgency, alerts};
use crate::parse::{Node, Value};
use crate::schema::Step;
use crate::span::{FileId, Span};
use crate::value::{Duration, Schedule, Threshold};

/// How many occurrences of a schedule a hover lists.
const OCCURRENCES: usize = 3;

/// The node under the cursor, and the path to it.
pub(super) struct Found<'n> {
    pub path: Vec<Step<'n>>,
    pub node: &'n Node,
    /// Whether the cursor is on a key (the field's name) rather than on its value.
    pub key: bool,
    /// The mapping the key is in, for a key.
    pub map: Option<&'n Node>,
}

fn inside(n: &Node, offset: u32) -> bool {
    n.start <= offset && offset <= n.end
}

/// The scalar or key at `offset` of the tree `root`, and its path.
pub(super) fn locate(root: &Node, offset: u32) -> Option<Found<'_>> {
    let mut path = Vec::new();
    let mut node = root;
    loop {
        match &node.value {
            Value::Map(entries) => {
                let mut next = None;
                for (k, v) in entries {
                    let name = k.as_str().unwrap_or_default();
                    if inside(k, offset) {
                        path.push(Step::Key(name));
                        return Some(Found {
                            path,
                            node: k,
                            key: true,
                            map: Some(node),
                        });
                    }
                    if v.end > v.start && inside(v, offset) {
                        next = Some((name, v));
                        break;
                    }
                }
                let (name, v) = next?;
                path.push(Step::Key(name));
                node = v;
            }
            Value::Seq(items) => {
                node = items
                    .iter()
                    .find(|v| v.end > v.start && inside(v, offset))?;
                path.push(Step::Item);
            }
            _ => {
                return (!path.is_empty()).then_some(Found {
                    path,
                    node,
                    key: false,
                    map: None,
                });
            }
        }
    }
}

fn dotted(path: &[Step<'_>]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Step::Item => s.push_str("[]"),
        }
    }
    s
}

/// The hover at `offset` of `file`: the span it is about, and Markdown.
pub(super) fn hover(
    plans: &[Plan],
    source: &crate::source::SourceFile,
    file: FileId,
    offset: u32,
    now: DateTime<Utc>,
) -> Option<(Span, String)> {
    let mut ignored = crate::diag::Diagnostics::new();
    let root = crate::parse::parse(file, source, &mut ignored)?;
    let fragment = root.get("kind").and_then(Node::as_str) == Some("Fragment");
    let found = locate(&root, offset)?;
    let field = crate::schema::field(fragment, &found.path).unwrap_or_default();
    let mut out = format!("`{}`", dotted(&found.path));
    if !found.key {
        let text = found.node.scalar_text().unwrap_or_default();
        let meaning = match field.def.as_deref() {
            Some("Duration") => duration(&text),
            Some("Schedule") => schedule(plans, file, &text, now),
            Some("Threshold" | "Objective") => threshold(plans, file, offset),
            _ => None,
        };
        if let Some(m) = meaning {
            let _ = write!(out, "\n\n{m}");
        }
    }
    if let Some(doc) = field.doc {
        let _ = write!(out, "\n\n---\n\n{doc}");
    }
    Some((found.node.span(file), out))
}

fn duration(text: &str) -> Option<String> {
    let d = Duration::parse(text, true).ok()?;
    Some(format!("**{}**", d.words()))
}

fn schedule(plans: &[Plan], file: FileId, text: &str, now: DateTime<Utc>) -> Option<String> {
    let (schedule, _) = Schedule::parse(text).ok()?;
    let (tz, whose) = match super::navigate::plans_of(plans, file).next() {
        Some(p) => (
            p.metadata.timezone.value,
            format!(
                "`{}`, the time zone of `{}`",
                p.metadata.timezone.value.name(),
                p.metadata.name.value
            ),
        ),
        None => (
            crate::value::zone::Tz::UTC,
            "UTC (no open plan imports this file)".to_owned(),
        ),
    };
    let next = schedule.next_n(tz, now, OCCURRENCES);
    if next.is_empty() {
        return Some("**no further occurrence**".to_owned());
    }
    let mut out = format!("**next {}**, in {whose}:\n", next.len());
    for t in next {
        let _ = write!(out, "\n- {}", t.format("%a %Y-%m-%d %H:%M %Z"));
    }
    Some(out)
}

/// A KPI threshold: its value in the indicator's unit, and the level its alert resolves to.
fn threshold(plans: &[Plan], file: FileId, offset: u32) -> Option<String> {
    let at = |s: Span| s.file == file && s.start <= offset && offset <= s.end;
    for plan in super::navigate::plans_of(plans, file) {
        for (_, kpi) in plan.kpis.iter() {
            let found = [&kpi.objective, &kpi.warning, &kpi.critical]
                .into_iter()
                .flatten()
                .find(|t| at(t.span));
            let Some(t) = found else { continue };
            let unit = &kpi.unit.value;
            let mut out = in_unit(&t.value, unit);
            for alert in alerts(plan) {
                let Source::Kpi { threshold, .. } = alert.source else {
                    continue;
                };
                if threshold.span != t.span {
                    continue;
                }
                let _ = write!(out, "\n\nalerts as `{}`", alert.name);
                match alert.level {
                    Ok(level) => {
                        let _ = write!(
                            out,
                            " at level **`{}`** (respond within {})",
                            level.name.value,
                            level.response.value.words()
                        );
                        let explicit = match alert.urgency {
                            Urgency::Warning => kpi.levels.warning.is_some(),
                            Urgency::Critical => kpi.levels.critical.is_some(),
                        };
                        if explicit {
                            let _ = write!(out, ", set by `levels.{}`", alert.urgency.name());
                        } else if let Some(cell) =
                            matrix_cell(plan, &kpi.service.name.value, alert.urgency.name())
                        {
                            let _ = write!(out, ", {cell}");
                        }
                    }
                    Err(e) => {
                        let _ = write!(out, " with no level ({e:?})");
                    }
                }
            }
            return Some(out);
        }
    }
    None
}

/// `0.5 s` for `> 500ms` in a KPI in seconds.
fn in_unit(t: &Threshold, unit: &crate::value::Unit) -> String {
    let op = t.op.map(|o| format!("{} ", o.symbol())).unwrap_or_default();
    match &t.quantity.unit {
        Some(u) if u != unit => match t.quantity.convert_to(unit) {
            Some(v) => format!("**`{op}{v} {unit}`** in the indicator's unit (`{unit}`)"),
            None => format!("`{t}`: not convertible to the indicator's unit (`{unit}`)"),
        },
        Some(_) => format!("**`{t}`**, in the indicator's unit"),
        None => format!(
            "**`{op}{} {unit}`**: a bare number is in the indicator's unit",
            t.quantity.value
        ),
    }
}

/// Where the severity matrix puts a KPI alert of `urgency` (`warning`, `critical`) of a
/// service: "from the matrix: impact `high` × likelihood `low`".
fn matrix_cell(plan: &Plan, service: &str, urgency: &str) -> Option<String> {
    let severity = &plan.severity.as_ref()?.value;
    let impact = plan
        .services
        .get(service)
        .and_then(|s| s.impact.as_ref())
        .map(|r| (r.name.value.as_str(), "the service's `impact`"))
        .or_else(|| {
            severity
                .default_impact
                .as_ref()
                .map(|r| (r.name.value.as_str(), "`severity.default_impact`"))
        })?;
    let likelihood = match urgency {
        "warning" => severity.likelihood_of.warning.as_ref(),
        _ => severity.likelihood_of.critical.as_ref(),
    }?;
    Some(format!(
        "from `severity.matrix`: impact `{}` ({}) × likelihood `{}` (`severity.likelihood_of.{urgency}`)",
        impact.0, impact.1, likelihood.name.value
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_to_the_node_under_the_cursor() {
        let text = "services:\n  api: {health: {interval: 30s}}\nwindows:\n  - {duration: 2h}\n";
        let source = crate::source::SourceFile::new(
            std::path::PathBuf::from("x.yaml"),
            "x.yaml".to_owned(),
            text.to_owned(),
        );
        let root = crate::parse::parse(FileId(0), &source, &mut crate::diag::Diagnostics::new())
            .expect("parses");
        let at = |needle: &str| text.find(needle).expect("needle") as u32;
        let f = locate(&root, at("30s") + 1).expect("found");
        assert_eq!(dotted(&f.path), "services.api.health.interval");
        assert!(!f.key);
        let f = locate(&root, at("interval")).expect("found");
        assert!(f.key);
        let f = locate(&root, at("2h")).expect("found");
        assert_eq!(dotted(&f.path), "windows[].duration");
        assert!(locate(&root, 0).is_some_and(|f| f.key));
    }
}
