//! `upkeep graph`: a plan's service dependency graph as Graphviz DOT.
//!
//! An edge goes from a service to what it depends on: hard dependencies solid, soft ones
//! dashed. Each node is labelled with the service's name, kind and impact (the row of the
//! severity matrix its alerts use). Databases and storage are cylinders; external services
//! have a dashed border. Output is deterministic: services and edges in the order written.

use std::fmt::Write as _;

use crate::model::{Plan, ServiceKind};

/// A DOT string literal.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The graph of one plan.
pub(crate) fn dot(plan: &Plan) -> String {
    let name = &plan.metadata.name.value;
    let default_impact = plan
        .severity
        .as_ref()
        .and_then(|s| s.value.default_impact.as_ref())
        .map(|i| i.value.as_str());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// Service dependencies of plan `{name}`: an edge goes from a service to what it depends on;"
    );
    let _ = writeln!(
        out,
        "// hard dependencies are solid, soft dependencies dashed. Render with `dot -Tsvg`."
    );
    let _ = writeln!(out, "digraph {} {{", quote(name));
    let _ = writeln!(out, "  rankdir=LR;");
    let _ = writeln!(out, "  node [shape=box];");
    for (svc, s) in plan.services.iter() {
        let impact = match (&s.impact, default_impact) {
            (Some(i), _) => format!("impact {}", i.value),
            (None, Some(d)) => format!("impact {d} (default)"),
            (None, None) => "no impact".to_owned(),
        };
        let label = format!("{}\n{} · {impact}", svc.value, s.kind.name());
        let mut attrs = vec![format!("label={}", quote(&label))];
        match s.kind {
            ServiceKind::Database | ServiceKind::Storage => attrs.push("shape=cylinder".to_owned()),
            ServiceKind::External => attrs.push("style=dashed".to_owned()),
            _ => {}
        }
        let _ = writeln!(out, "  {} [{}];", quote(&svc.value), attrs.join(", "));
    }
    for (svc, s) in plan.services.iter() {
        for d in &s.depends_on {
            let _ = write!(
                out,
                "  {} -> {}",
                quote(&svc.value),
                quote(&d.service.value)
            );
            if d.hard {
                out.push_str(";\n");
            } else {
                out.push_str(" [style=dashed];\n");
            }
        }
    }
    out.push_str("}\n");
    out
}
