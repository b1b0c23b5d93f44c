//! Resolution: imports and references.
//!
//! Files and their `imports:` form a graph (petgraph); cycles are reported with every import
//! of the cycle labelled. Each plan is merged with the fragments it reaches: named entries join
//! the plan's, and a name (or singleton section) defined twice is `import/conflict` pointing at
//! both definitions. Then every reference in the merged plan is checked against what exists.
//!
//! **Invariant:** resolution does no I/O; the driver has already loaded every imported file.

use std::collections::{HashMap, HashSet};

use petgraph::graph::{DiGraph, NodeIndex};

use crate::diag::{Code, Diagnostic, Diagnostics, Severity, suggestion_help};
use crate::model::refs::{BUILTIN_ESCALATION_TARGETS, definitions, references};
use crate::model::{DocKind, Document, Entries, Plan, RefKind};
use crate::span::{FileId, Sp, Span};

/// An import edge: `from` imports `to` through the entry `entry`.
#[derive(Clone, Debug)]
pub(crate) struct Import {
    pub from: FileId,
    pub entry: Span,
    pub to: FileId,
}

/// Merge each plan with its imports and check its references. `docs` is indexed by file id;
/// each plan's document is moved out of it into its `Plan` (the fragments stay), so a run holds
/// one copy of every plan.
///
/// A run that checks its plans a batch at a time calls this once per batch with the same
/// `state`: plan names stay unique across batches and each import cycle is reported once.
pub(crate) fn resolve(
    docs: &mut [Option<Document>],
    imports: &[Import],
    roots: &[FileId],
    state: &mut State,
    diags: &mut Diagnostics,
) -> Vec<Plan> {
    let in_cycle = report_cycles(imports, &mut state.in_cycle, diags);
    // What each file imports, in the order written (cycle edges left out): built once, so
    // following the imports of every plan is linear in the imports.
    let mut imported: HashMap<FileId, Vec<FileId>> = HashMap::new();
    for i in imports {
        if !in_cycle.contains(&(i.from, i.to)) {
            imported.entry(i.from).or_default().push(i.to);
        }
    }
    let mut plans: Vec<Plan> = Vec::new();
    for &root in roots {
        let Some(slot) = docs.get_mut(root.0 as usize) else {
            continue;
        };
        if slot.as_ref().is_none_or(|d| d.kind != DocKind::Plan) {
            continue;
        }
        let Some(doc) = slot.take() else { continue };
        if let Some(&first) = state.names.get(doc.metadata.name.value.as_str()) {
            diags.push(
                Diagnostic::new(Code::DuplicatePlan, format!("two plans are named `{}`", doc.metadata.name.value))
                    .at(doc.metadata.name.span)
                    .label("named again here")
                    .with_label(first, "first named here")
                    .help("plan names name the generated files and the `plan` label; give each plan its own"),
            );
            continue;
        }
        state
            .names
            .insert(doc.metadata.name.value.clone(), doc.metadata.name.span);
        let mut plan = doc;
        for f in reachable(root, &imported) {
            if let Some(Some(frag)) = docs.get(f.0 as usize) {
                merge(&mut plan, frag, diags);
            }
        }
        check_references(&plan, diags);
        check_lint_config(&plan, diags);
        plans.push(Plan::resolved(plan));
    }
    plans
}

/// Fragments reachable from `root` through imports, depth-first in the order written, each
/// once; edges inside a cycle are not followed (the cycle is reported instead).
fn reachable(root: FileId, imported: &HashMap<FileId, Vec<FileId>>) -> Vec<FileId> {
    let mut seen = HashSet::from([root]);
    let mut order = Vec::new();
    let mut stack = vec![root];
    while let Some(f) = stack.pop() {
        let Some(next) = imported.get(&f) else {
            continue;
        };
        for &to in next.iter().rev() {
            if seen.insert(to) {
                order.push(to);
                stack.push(to);
            }
        }
    }
    order
}

/// What [`resolve`] remembers between the batches of one run.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// Where each plan name was first given.
    names: HashMap<String, Span>,
    /// Import edges inside a cycle already reported.
    in_cycle: HashSet<(FileId, FileId)>,
}

/// Report each import cycle not in `reported` (and add it there); every edge inside a cycle.
/// A cycle is complete when first seen: fragments are loaded with all their imports.
fn report_cycles(
    imports: &[Import],
    reported: &mut HashSet<(FileId, FileId)>,
    diags: &mut Diagnostics,
) -> HashSet<(FileId, FileId)> {
    let mut g: DiGraph<FileId, Span> = DiGraph::new();
    let mut idx: HashMap<FileId, NodeIndex> = HashMap::new();
    let mut node =
        |g: &mut DiGraph<FileId, Span>, f: FileId| *idx.entry(f).or_insert_with(|| g.add_node(f));
    for i in imports {
        let a = node(&mut g, i.from);
        let b = node(&mut g, i.to);
        g.add_edge(a, b, i.entry);
    }
    let mut in_cycle = HashSet::new();
    // Each edge into the component of its two ends, in one pass: linear in the graph.
    let sccs = petgraph::algo::tarjan_scc(&g);
    let mut component = vec![usize::MAX; g.node_count()];
    for (c, scc) in sccs.iter().enumerate() {
        for n in scc {
            component[n.index()] = c;
        }
    }
    let mut inside: Vec<Vec<(FileId, FileId, Span)>> = vec![Vec::new(); sccs.len()];
    for e in g.edge_indices() {
        if let Some((a, b)) = g.edge_endpoints(e) {
            if component[a.index()] == component[b.index()] {
                inside[component[a.index()]].push((g[a], g[b], g[e]));
            }
        }
    }
    for edges in inside {
        if edges.is_empty() {
            continue;
        }
        let mut edges = edges;
        edges.sort_by_key(|(a, _, s)| (*a, s.start));
        for (a, b, _) in &edges {
            in_cycle.insert((*a, *b));
        }
        let (a, b, first) = edges[0];
        if !reported.insert((a, b)) {
            continue;
        }
        let mut d = Diagnostic::new(Code::ImportCycle, "import cycle")
            .at(first)
            .label(if edges.len() == 1 {
                "this file imports itself"
            } else {
                "this import starts a cycle"
            });
        for (_, _, span) in &edges[1..] {
            d = d.with_label(*span, "which imports back here");
        }
        diags.push(d.help("imports must form a tree; move what both files need into a third fragment that neither imports"));
    }
    in_cycle
}

fn merge_entries<T: Clone>(
    what: &str,
    into: &mut Entries<T>,
    from: &Entries<T>,
    diags: &mut Diagnostics,
) {
    for (name, v) in from.iter() {
        if let Some(first) = into.name(&name.value) {
            diags.push(
                Diagnostic::new(
                    Code::ImportConflict,
                    format!("{what} `{}` is defined in two files", name.value),
                )
                .at(name.span)
                .label("defined again here")
                .with_label(first.span, "first defined here")
                .help(format!(
                    "keep one definition of `{}`, or rename one of them",
                    name.value
                )),
            );
        } else {
            into.push(name.clone(), v.clone());
        }
    }
}

fn merge_single<T: Clone>(
    what: &str,
    into: &mut Option<Sp<T>>,
    from: Option<&Sp<T>>,
    diags: &mut Diagnostics,
) {
    let Some(f) = from else { return };
    match into {
        Some(first) => diags.push(
            Diagnostic::new(
                Code::ImportConflict,
                format!("`{what}` is defined in two files"),
            )
            .at(f.span)
            .label("defined again here")
            .with_label(first.span, "first defined here")
            .help(format!(
                "a plan has one `{what}` section; keep it in the plan or in one fragment"
            )),
        ),
        None => *into = Some(f.clone()),
    }
}

fn merge(plan: &mut Document, frag: &Document, diags: &mut Diagnostics) {
    merge_single(
        "severity",
        &mut plan.severity,
        frag.severity.as_ref(),
        diags,
    );
    merge_single("oncall", &mut plan.oncall, frag.oncall.as_ref(), diags);
    merge_entries("receiver", &mut plan.receivers, &frag.receivers, diags);
    merge_entries("role", &mut plan.roles, &frag.roles, diags);
    merge_entries("runbook", &mut plan.runbooks, &frag.runbooks, diags);
    merge_entries("window", &mut plan.windows, &frag.windows, diags);
}

/// The names a reference of `kind` may name in `plan`.
fn targets(plan: &Document, kind: RefKind) -> Vec<&str> {
    let mut names: Vec<&str> = definitions(plan, kind)
        .into_iter()
        .map(|n| n.value.as_str())
        .collect();
    if kind == RefKind::EscalationTarget {
        names.extend(BUILTIN_ESCALATION_TARGETS);
    }
    names
}

/// Every reference in a merged plan resolves.
pub(crate) fn check_references(plan: &Document, diags: &mut Diagnostics) {
    let has_matrix = plan
        .severity
        .as_ref()
        .is_some_and(|s| s.value.matrix.is_some());
    let mut names: HashMap<RefKind, (Vec<&str>, HashSet<&str>)> = HashMap::new();
    for r in references(plan) {
        if r.kind == RefKind::ImpactRow && !has_matrix {
            diags.push(
                Diagnostic::new(
                    Code::RefUnknown,
                    format!(
                        "impact `{}` but the plan has no severity matrix",
                        r.name.value
                    ),
                )
                .at(r.name.span)
                .label("no matrix row to look up")
                .help(format!(
                    "add `severity.matrix` with this impact row, or remove `{}`",
                    r.site.field
                )),
            );
            continue;
        }
        let (known, set) = names.entry(r.kind).or_insert_with(|| {
            let known = targets(plan, r.kind);
            let set = known.iter().copied().collect();
            (known, set)
        });
        if set.contains(r.name.value.as_str()) {
            continue;
        }
        let what = r.kind.name();
        let help = if known.is_empty() {
            format!(
                "the plan defines no {what}s; define `{}` or remove the reference",
                r.name.value
            )
        } else {
            suggestion_help(&r.name.value, known, &format!("{what}s defined"))
        };
        diags.push(
            Diagnostic::new(
                Code::RefUnknown,
                format!("unknown {what} `{}`", r.name.value),
            )
            .at(r.name.span)
            .label(format!("no {what} with this name"))
            .help(help),
        );
    }
}

/// Families whose diagnostics are about reading the plan at all; `lints:` cannot change them.
/// An unused entry (`ref/unused`) is a warning about the plan's content, and can be.
const FIXED_FAMILIES: &[&str] = &["syntax", "limit", "file", "schema", "import", "lint", "ref"];

fn check_lint_config(plan: &Document, diags: &mut Diagnostics) {
    let names: Vec<&str> = Code::ALL.iter().map(|c| c.name()).collect();
    for (code, _) in &plan.lints {
        match Code::from_name(&code.value) {
            None => diags.push(
                Diagnostic::new(
                    Code::LintConfig,
                    format!("unknown diagnostic code `{}`", code.value),
                )
                .at(code.span)
                .label("not a code")
                .help(suggestion_help(&code.value, &names, "codes")),
            ),
            Some(c)
                if FIXED_FAMILIES.contains(&c.family())
                    && c != Code::RefUnused
                    && c != Code::StandaloneUsed =>
            {
                diags.push(
                    Diagnostic::new(Code::LintConfig, format!("`{}` cannot be configured", code.value))
                        .at(code.span)
                        .label("not a lint")
                        .help("only semantic checks can be allowed, warned or denied; problems reading the plan are always errors"),
                );
            }
            Some(_) => {}
        }
    }
}

/// Apply a plan's `lints:` and `--deny warnings` to the diagnostics in its files: `allow`
/// drops a warning, `deny` makes it an error; errors stay errors.
pub(crate) fn apply_lints<'a>(
    plans: impl IntoIterator<Item = (FileId, &'a [(Sp<String>, Sp<crate::model::LintLevel>)])>,
    diags: &mut Diagnostics,
) {
    use crate::model::LintLevel;
    // Each file's plans, so every diagnostic is looked at once, not once per plan.
    type Lints = [(Sp<String>, Sp<LintLevel>)];
    let mut by_file: HashMap<FileId, Vec<&Lints>> = HashMap::new();
    for (file, lints) in plans {
        by_file.entry(file).or_default().push(lints);
    }
    // In place: a run with a hundred thousand warnings never holds two lists of them.
    diags.retain(|d| {
        let governing = d.span.and_then(|s| by_file.get(&s.file));
        for lints in governing.into_iter().flatten() {
            let level = lints
                .iter()
                .rev()
                .find(|(c, _)| c.value == d.code.name())
                .map(|(_, l)| l.value);
            if d.severity == Severity::Warning {
                match level {
                    Some(LintLevel::Allow) => return false,
                    Some(LintLevel::Deny) => d.severity = Severity::Error,
                    Some(LintLevel::Warn) | None => {}
                }
            }
        }
        true
    });
}
