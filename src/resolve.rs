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
use crate::model::{DocKind, Document, Entries, Plan, When};
use crate::span::{FileId, Sp, Span};

/// An import edge: `from` imports `to` through the entry `entry`.
#[derive(Clone, Debug)]
pub struct Import {
    pub from: FileId,
    pub entry: Span,
    pub to: FileId,
}

/// Merge each plan with its imports and check its references. `docs` is indexed by file id.
pub fn resolve(
    docs: &[Option<Document>],
    imports: &[Import],
    roots: &[FileId],
    diags: &mut Diagnostics,
) -> Vec<Plan> {
    let in_cycle = report_cycles(imports, diags);
    let mut plans: Vec<Plan> = Vec::new();
    for &root in roots {
        let Some(Some(doc)) = docs.get(root.0 as usize) else {
            continue;
        };
        if doc.kind != DocKind::Plan {
            continue;
        }
        if let Some(first) = plans
            .iter()
            .find(|p| p.metadata.name.value == doc.metadata.name.value)
        {
            diags.push(
                Diagnostic::new(Code::DuplicatePlan, format!("two plans are named `{}`", doc.metadata.name.value))
                    .at(doc.metadata.name.span)
                    .label("named again here")
                    .with_label(first.metadata.name.span, "first named here")
                    .help("plan names name the generated files and the `plan` label; give each plan its own"),
            );
            continue;
        }
        let mut plan = doc.clone();
        for f in reachable(root, imports, &in_cycle) {
            if let Some(Some(frag)) = docs.get(f.0 as usize) {
                merge(&mut plan, frag, diags);
            }
        }
        check_references(&plan, diags);
        check_lint_config(&plan, diags);
        plans.push(plan);
    }
    plans
}

/// Fragments reachable from `root` through imports, depth-first in the order written, each
/// once; edges inside a cycle are not followed (the cycle is reported instead).
fn reachable(
    root: FileId,
    imports: &[Import],
    in_cycle: &HashSet<(FileId, FileId)>,
) -> Vec<FileId> {
    let mut seen = HashSet::from([root]);
    let mut order = Vec::new();
    let mut stack = vec![root];
    while let Some(f) = stack.pop() {
        let next: Vec<FileId> = imports
            .iter()
            .filter(|i| i.from == f && !in_cycle.contains(&(i.from, i.to)))
            .map(|i| i.to)
            .collect();
        for to in next.into_iter().rev() {
            if seen.insert(to) {
                order.push(to);
                stack.push(to);
            }
        }
    }
    order
}

fn report_cycles(imports: &[Import], diags: &mut Diagnostics) -> HashSet<(FileId, FileId)> {
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
    for scc in petgraph::algo::tarjan_scc(&g) {
        let members: HashSet<NodeIndex> = scc.iter().copied().collect();
        let edges: Vec<(FileId, FileId, Span)> = g
            .edge_indices()
            .filter_map(|e| {
                let (a, b) = g.edge_endpoints(e)?;
                (members.contains(&a) && members.contains(&b)).then(|| (g[a], g[b], g[e]))
            })
            .collect();
        if edges.is_empty() {
            continue;
        }
        let mut edges = edges;
        edges.sort_by_key(|(a, _, s)| (*a, s.start));
        for (a, b, _) in &edges {
            in_cycle.insert((*a, *b));
        }
        let (_, _, first) = edges[0];
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

fn merge(plan: &mut Plan, frag: &Document, diags: &mut Diagnostics) {
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

/// Checks references of one kind against the names that exist.
struct Refs<'a> {
    diags: &'a mut Diagnostics,
}

impl Refs<'_> {
    fn check(&mut self, r: Option<&Sp<String>>, what: &str, names: &[&str]) {
        let Some(r) = r else { return };
        if names.contains(&r.value.as_str()) {
            return;
        }
        let help = if names.is_empty() {
            format!(
                "the plan defines no {what}s; define `{}` or remove the reference",
                r.value
            )
        } else {
            suggestion_help(&r.value, names, &format!("{what}s defined"))
        };
        self.diags.push(
            Diagnostic::new(Code::RefUnknown, format!("unknown {what} `{}`", r.value))
                .at(r.span)
                .label(format!("no {what} with this name"))
                .help(help),
        );
    }

    fn check_all<'r>(
        &mut self,
        refs: impl IntoIterator<Item = &'r Sp<String>>,
        what: &str,
        names: &[&str],
    ) {
        for r in refs {
            self.check(Some(r), what, names);
        }
    }
}

/// Every reference in a merged plan resolves.
pub fn check_references(plan: &Plan, diags: &mut Diagnostics) {
    let services: Vec<&str> = plan.services.names().collect();
    let runbooks: Vec<&str> = plan.runbooks.names().collect();
    let receivers: Vec<&str> = plan.receivers.names().collect();
    let windows: Vec<&str> = plan.windows.names().collect();
    let roles: Vec<&str> = plan.roles.names().collect();
    let environments: Vec<&str> = plan.environments.names().collect();
    let sev = plan.severity.as_ref().map(|s| &s.value);
    let levels: Vec<&str> = sev
        .map(|s| s.levels.iter().map(|l| l.name.value.as_str()).collect())
        .unwrap_or_default();
    let matrix = sev.and_then(|s| s.matrix.as_ref());
    let rows: Vec<&str> = matrix
        .map(|m| m.impact.iter().map(|(r, _)| r.value.as_str()).collect())
        .unwrap_or_default();
    let columns: Vec<&str> = matrix
        .map(|m| m.likelihood.iter().map(|l| l.value.as_str()).collect())
        .unwrap_or_default();
    let mut targets: Vec<&str> = vec!["primary", "secondary"];
    targets.extend(&roles);
    targets.extend(&receivers);
    targets.extend(&levels);

    let mut r = Refs { diags };
    for (_, s) in plan.services.iter() {
        r.check_all(
            s.depends_on.iter().map(|d| &d.service),
            "service",
            &services,
        );
        if matrix.is_some() {
            r.check(s.impact.as_ref(), "impact row", &rows);
        } else if let Some(i) = &s.impact {
            r.diags.push(
                Diagnostic::new(
                    Code::RefUnknown,
                    format!("impact `{}` but the plan has no severity matrix", i.value),
                )
                .at(i.span)
                .label("no matrix row to look up")
                .help("add `severity.matrix` with this impact row, or remove `impact`"),
            );
        }
        r.check(s.owner.as_ref(), "role", &roles);
        r.check(s.runbook.as_ref(), "runbook", &runbooks);
    }
    for (_, k) in plan.kpis.iter() {
        r.check(Some(&k.service), "service", &services);
        r.check(k.runbook.as_ref(), "runbook", &runbooks);
        r.check(k.levels.warning.as_ref(), "severity level", &levels);
        r.check(k.levels.critical.as_ref(), "severity level", &levels);
    }
    for (_, s) in plan.slos.iter() {
        r.check(Some(&s.service), "service", &services);
        r.check(s.page.as_ref(), "severity level", &levels);
        r.check(s.ticket.as_ref(), "severity level", &levels);
        r.check(s.runbook.as_ref(), "runbook", &runbooks);
    }
    if let Some(s) = sev {
        for l in &s.levels {
            r.check_all(&l.notify, "receiver", &receivers);
        }
        if let Some(m) = &s.matrix {
            for (_, cells) in &m.impact {
                r.check_all(cells.value.iter(), "severity level", &levels);
            }
        }
        r.check(
            s.likelihood_of.warning.as_ref(),
            "likelihood column",
            &columns,
        );
        r.check(
            s.likelihood_of.critical.as_ref(),
            "likelihood column",
            &columns,
        );
        r.check(s.default_impact.as_ref(), "impact row", &rows);
        if let Some(req) = &s.require_runbook {
            r.check_all(req.iter(), "severity level", &levels);
        }
    }
    if let Some(o) = &plan.oncall {
        r.check(o.primary.as_ref(), "role", &roles);
        r.check(o.secondary.as_ref(), "role", &roles);
        r.check_all(
            o.escalation.iter().map(|e| &e.to),
            "escalation target",
            &targets,
        );
    }
    for (_, w) in plan.windows.iter() {
        if let Some(d) = &w.downtime {
            r.check_all(d.services.iter(), "service", &services);
        }
    }
    for (_, t) in plan.tasks.iter() {
        if let When::Window(w) = &t.when {
            r.check(Some(w), "window", &windows);
        }
        r.check(t.service.as_ref(), "service", &services);
        r.check(t.owner.as_ref(), "role", &roles);
        r.check(t.runbook.as_ref(), "runbook", &runbooks);
        r.check_all(&t.environments, "environment", &environments);
    }
    for (_, b) in plan.backups.iter() {
        r.check(b.service.as_ref(), "service", &services);
        r.check(b.owner.as_ref(), "role", &roles);
        r.check(
            b.restore_test.as_ref().and_then(|t| t.runbook.as_ref()),
            "runbook",
            &runbooks,
        );
        r.check(b.runbook.as_ref(), "runbook", &runbooks);
        r.check_all(&b.environments, "environment", &environments);
    }
    for (_, rb) in plan.runbooks.iter() {
        r.check(
            rb.escalate.as_ref().map(|e| &e.to),
            "escalation target",
            &targets,
        );
    }
    r.check(plan.execution.runbook.as_ref(), "runbook", &runbooks);
    if let Some(p) = &plan.policies {
        r.check_all(
            p.reviews.iter().filter_map(|(_, v)| v.owner.as_ref()),
            "role",
            &roles,
        );
    }
}

/// Families whose diagnostics are about reading the plan at all; `lints:` cannot change them.
const FIXED_FAMILIES: &[&str] = &["syntax", "limit", "file", "schema", "import", "lint", "ref"];

fn check_lint_config(plan: &Plan, diags: &mut Diagnostics) {
    let names: Vec<&str> = Code::ALL.iter().map(|c| c.name()).collect();
    for (code, _) in &plan.lints {
        match Code::from_name(&code.value) {
            None => diags.push(
                Diagnostic::new(Code::LintConfig, format!("unknown diagnostic code `{}`", code.value))
                    .at(code.span)
                    .label("not a code")
                    .help(suggestion_help(&code.value, &names, "codes")),
            ),
            Some(c) if FIXED_FAMILIES.contains(&c.family()) => diags.push(
                Diagnostic::new(Code::LintConfig, format!("`{}` cannot be configured", code.value))
                    .at(code.span)
                    .label("not a lint")
                    .help("only semantic checks can be allowed, warned or denied; problems reading the plan are always errors"),
            ),
            Some(_) => {}
        }
    }
}

/// Apply a plan's `lints:` and `--deny warnings` to the diagnostics in its files: `allow`
/// drops a warning, `deny` makes it an error; errors stay errors.
pub fn apply_lints(
    lints: &[(Sp<String>, Sp<crate::model::LintLevel>)],
    files: &HashSet<FileId, impl std::hash::BuildHasher>,
    diags: Diagnostics,
) -> Diagnostics {
    use crate::model::LintLevel;
    let mut out = Diagnostics::new();
    for mut d in diags {
        let in_plan = d.span.is_some_and(|s| files.contains(&s.file));
        let level = if in_plan {
            lints
                .iter()
                .rev()
                .find(|(c, _)| c.value == d.code.name())
                .map(|(_, l)| l.value)
        } else {
            None
        };
        if d.severity == Severity::Warning {
            match level {
                Some(LintLevel::Allow) => continue,
                Some(LintLevel::Deny) => d.severity = Severity::Error,
                Some(LintLevel::Warn) | None => {}
            }
        }
        out.push(d);
    }
    out
}
