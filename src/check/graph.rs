//! The service dependency graph (petgraph): cycles are errors; an SLO stricter than the product
//! of its hard dependencies' SLOs is a warning.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use super::Cx;
use crate::diag::{Code, Diagnostic};
use crate::model::{Plan, Slo, SloIndicator};
use crate::span::Span;
use crate::value::Number;

/// Services as nodes; `depends_on` entries as edges, with the entry's span and whether the
/// dependency is hard.
pub(super) type ServiceGraph<'p> = DiGraph<&'p str, (Span, bool)>;

/// The service graph and the node of each service.
pub(super) fn service_graph(plan: &Plan) -> (ServiceGraph<'_>, HashMap<&str, NodeIndex>) {
    let mut g = DiGraph::new();
    let mut idx = HashMap::new();
    for name in plan.services.names() {
        idx.insert(name, g.add_node(name));
    }
    for (name, s) in plan.services.iter() {
        for d in &s.depends_on {
            if let (Some(&a), Some(&b)) = (
                idx.get(name.value.as_str()),
                idx.get(d.service.value.as_str()),
            ) {
                g.add_edge(a, b, (d.service.span, d.hard));
            }
        }
    }
    (g, idx)
}

pub(super) fn check(cx: &mut Cx<'_>) {
    let (g, idx) = service_graph(cx.plan);
    // Each edge into the component of its two ends, in one pass: linear in the graph.
    let sccs = petgraph::algo::tarjan_scc(&g);
    let mut component = vec![usize::MAX; g.node_count()];
    for (c, scc) in sccs.iter().enumerate() {
        for n in scc {
            component[n.index()] = c;
        }
    }
    let mut inside: Vec<Vec<(Span, &str, &str)>> = vec![Vec::new(); sccs.len()];
    for e in g.edge_references() {
        let (a, b) = (e.source(), e.target());
        if component[a.index()] == component[b.index()] {
            inside[component[a.index()]].push((e.weight().0, g[a], g[b]));
        }
    }
    for (scc, mut edges) in sccs.iter().zip(inside) {
        if edges.is_empty() {
            continue;
        }
        edges.sort_by_key(|(s, _, _)| (s.file, s.start));
        let names: Vec<&str> = {
            let mut n: Vec<&str> = scc.iter().map(|&i| g[i]).collect();
            n.sort_unstable();
            n
        };
        let (first, a, b) = edges[0];
        let mut d = Diagnostic::new(
            Code::DependencyCycle,
            format!(
                "services depend on each other in a cycle: {}",
                name_list(&names)
            ),
        )
        .at(first)
        .label(format!("`{a}` depends on `{b}`"));
        for &(span, a, b) in &edges[1..] {
            d = d.with_label(span, format!("`{a}` depends on `{b}`"));
        }
        cx.diags.push(d.help("dependencies say which way failure propagates; remove the edge that points the wrong way"));
    }
    unachievable(cx, &g, &idx);
}

/// Most services a cycle's message names; the labels show every edge.
const NAMED_IN_CYCLE: usize = 20;

/// "`a`, `b`, `c`", or the first [`NAMED_IN_CYCLE`] and how many more.
fn name_list(names: &[&str]) -> String {
    let mut out = names
        .iter()
        .take(NAMED_IN_CYCLE)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > NAMED_IN_CYCLE {
        let _ = write!(out, " and {} more", names.len() - NAMED_IN_CYCLE);
    }
    out
}

/// Availability-like SLOs (error ratio or up), the ones that multiply along dependencies.
fn availability(slo: &Slo) -> bool {
    matches!(
        slo.indicator.value,
        SloIndicator::ErrorRatio { .. } | SloIndicator::Up { .. }
    )
}

fn unachievable(cx: &mut Cx<'_>, g: &ServiceGraph<'_>, idx: &HashMap<&str, NodeIndex>) {
    let plan = cx.plan;
    // The strictest availability objective each service promises.
    let mut best: HashMap<&str, (&Slo, &str)> = HashMap::new();
    for (name, slo) in plan.slos.iter() {
        if !availability(slo) {
            continue;
        }
        let e = best
            .entry(slo.service.value.as_str())
            .or_insert((slo, name.value.as_str()));
        if slo.objective.value > e.0.objective.value {
            *e = (slo, name.value.as_str());
        }
    }
    for (name, slo) in plan.slos.iter() {
        if !availability(slo) {
            continue;
        }
        let Some(&start) = idx.get(slo.service.value.as_str()) else {
            continue;
        };
        // Every service reachable through hard dependencies, each once.
        let mut seen = HashSet::from([start]);
        let mut stack = vec![start];
        let mut deps = Vec::new();
        while let Some(n) = stack.pop() {
            for e in g.edges(n) {
                if !e.weight().1 {
                    continue;
                }
                let t = e.target();
                if seen.insert(t) {
                    stack.push(t);
                    if let Some(&(dslo, dname)) = best.get(g[t]) {
                        deps.push((g[t], dslo, dname));
                    }
                }
            }
        }
        if deps.is_empty() {
            continue;
        }
        let product = deps.iter().try_fold(Number::ONE, |acc, (_, d, _)| {
            acc.checked_mul(d.objective.value.ratio())
        });
        let Some(product) = product else { continue };
        if slo.objective.value.ratio() > product {
            let shown = crate::value::Percent(product);
            let mut d = Diagnostic::new(
                Code::SloUnachievable,
                format!("`slos.{}` promises {} but `{}` can be at most {} available through its hard dependencies", name.value, slo.objective.value, slo.service.value, round_percent(shown)),
            )
            .at(slo.objective.span)
            .label("stricter than its dependencies allow");
            for (svc, dslo, dname) in &deps {
                d = d.with_label(
                    dslo.objective.span,
                    format!("`{svc}` promises {} (`slos.{dname}`)", dslo.objective.value),
                );
            }
            cx.diags.push(d.help("lower this objective, raise the dependencies' objectives, or mark a dependency the service survives without as `{service: NAME, hard: false}`"));
        }
    }
}

/// A percentage rounded to 4 decimals for messages (`99.8001%`).
fn round_percent(p: crate::value::Percent) -> String {
    let v = p.points().to_f64();
    let s = format!("{v:.4}");
    format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
}
