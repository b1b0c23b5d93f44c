//! `upkeep diff`: what a change to the plans means operationally.
//!
//! Both sides are checked and resolved by the driver; the diff compares the resolved plans'
//! facts (never YAML text), so a pure reformat is no change and a renamed entry with the
//! same content is a rename. Plans are matched by `metadata.name`. The generated files of both
//! sides are compared too. Schedules are expanded from the reference instant
//! ([`crate::value::time::reference_instant`]), so the
//! report is the same on every run.
//!
//! **Invariant:** no clock and no terminal here; `cli` picks the exit code from [`Report`].

pub(crate) mod compare;
pub(crate) mod facts;
pub(crate) mod git;
pub mod render;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::diag::{Diagnostics, Severity};
use crate::driver::Workspace;
use crate::model::Plan;
use crate::span::FileId;

pub use compare::{Change, Kind};
pub use facts::Section;

/// Schedules are expanded from this instant (the one reference instant).
pub(crate) fn reference() -> DateTime<Utc> {
    crate::value::time::reference_instant()
}

/// One side of a comparison: a checked workspace and how to name its files.
#[derive(Debug)]
pub struct Side {
    pub ws: Workspace,
    /// Plans' files are named relative to this directory (in generated files' headers, and to
    /// match files across sides).
    pub root: PathBuf,
    /// Shown instead of `root` in file names (`origin/main:`); `None` shows display names.
    pub prefix: Option<String>,
}

impl Side {
    /// A side rooted at `path` (a directory, or a file's directory).
    pub fn new(ws: Workspace, path: &Path, prefix: Option<String>) -> Side {
        let dir = if path.is_file() {
            path.parent().unwrap_or(Path::new(".")).to_path_buf()
        } else {
            path.to_path_buf()
        };
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let mut side = Side {
            ws,
            root: crate::load::canonical(&dir),
            prefix,
        };
        // Generated files name plans relative to the side's root, so both sides agree.
        let ids: Vec<FileId> = side.ws.sources.iter().map(|(id, _)| id).collect();
        for id in ids {
            let origin = side.rel_name(id);
            side.ws.sources.set_origin(id, origin);
        }
        side
    }

    /// The file's path relative to the root, `/`-separated; its display name when outside.
    pub fn rel_name(&self, file: FileId) -> String {
        let f = self.ws.sources.get(file);
        match f.path.strip_prefix(&self.root) {
            Ok(rel) => rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/"),
            Err(_) => f.name.clone(),
        }
    }

    /// The name users see for a file.
    pub fn shown_name(&self, file: FileId) -> String {
        match &self.prefix {
            Some(p) => format!("{p}{}", self.rel_name(file)),
            None => self.ws.sources.get(file).name.clone(),
        }
    }

    /// Replace the root's path in a message by the prefix (a temporary directory by `REV:`).
    fn shown_text(&self, text: &str) -> String {
        match &self.prefix {
            Some(p) => {
                let root = self.root.to_string_lossy();
                text.replace(&format!("{root}/"), p)
                    .replace(root.as_ref(), p.trim_end_matches(':'))
            }
            None => text.to_owned(),
        }
    }
}

/// Which side a diagnostic comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Which {
    Base,
    Head,
}

impl Which {
    pub fn name(self) -> &'static str {
        match self {
            Which::Base => "base",
            Which::Head => "head",
        }
    }
}

/// An error that keeps a plan from being compared.
#[derive(Clone, Debug)]
pub struct Problem {
    pub side: Which,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub code: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Unchanged,
    Changed,
    Added,
    Removed,
    /// Renamed from this name, with the same content.
    Renamed(String),
    /// One side does not check cleanly.
    NotCompared,
}

impl Status {
    pub fn name(&self) -> &'static str {
        match self {
            Status::Unchanged => "unchanged",
            Status::Changed => "changed",
            Status::Added => "added",
            Status::Removed => "removed",
            Status::Renamed(_) => "renamed",
            Status::NotCompared => "not compared",
        }
    }
}

/// A generated file that differs.
#[derive(Clone, Debug)]
pub struct FileChange {
    pub path: String,
    /// A file every plan of a build shares (the Alertmanager configuration): the change is
    /// this plan's part of it.
    pub shared: bool,
    pub kind: Kind,
    pub added_lines: usize,
    pub removed_lines: usize,
}

#[derive(Clone, Debug)]
pub struct PlanDiff {
    pub name: String,
    pub status: Status,
    pub changes: Vec<Change>,
    pub files: Vec<FileChange>,
}

/// The whole comparison.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub plans: Vec<PlanDiff>,
    /// Errors of either side (plans in those files are not compared).
    pub problems: Vec<Problem>,
    /// Errors outside any plan's own file (a fragment): nothing was compared.
    pub blocked: bool,
}

impl Report {
    /// Whether the plans mean something different.
    pub fn semantic_change(&self) -> bool {
        self.plans.iter().any(|p| {
            matches!(
                p.status,
                Status::Added | Status::Removed | Status::Renamed(_)
            ) || !p.changes.is_empty()
        })
    }

    /// Risky changes, plan by plan.
    pub fn risky(&self) -> impl Iterator<Item = (&str, &Change)> {
        self.plans.iter().flat_map(|p| {
            p.changes
                .iter()
                .filter(|c| c.risk.is_some())
                .map(move |c| (p.name.as_str(), c))
        })
    }

    /// Whether a schedule moved (the report then says from which instant occurrences count).
    pub fn moved(&self) -> bool {
        self.plans
            .iter()
            .any(|p| p.changes.iter().any(|c| c.kind == Kind::Moved))
    }
}

fn errors(side: &Side, which: Which) -> Vec<(Option<FileId>, Problem)> {
    side.ws
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| {
            let (file, name, line, column) = match d.span {
                Some(s) => {
                    let (l, c) = side.ws.sources.get(s.file).line_col(s.start);
                    (Some(s.file), side.shown_name(s.file), l, c)
                }
                None => (
                    None,
                    side.shown_text(d.file.as_deref().unwrap_or_default()),
                    0,
                    0,
                ),
            };
            (
                file,
                Problem {
                    side: which,
                    file: name,
                    line,
                    column,
                    code: d.code.name().to_owned(),
                    message: side.shown_text(&d.message),
                },
            )
        })
        .collect()
}

/// Plans by name (the first of a duplicated name).
fn by_name(side: &Side) -> BTreeMap<&str, &Plan> {
    let mut m = BTreeMap::new();
    for p in &side.ws.plans {
        m.entry(p.metadata.name.value.as_str()).or_insert(p);
    }
    m
}

/// The generated files of a plan, by path.
fn artefacts(side: &Side, plan: &Plan) -> BTreeMap<String, String> {
    let opts = crate::emit::Options::default();
    crate::driver::build_plan(&side.ws, plan, &opts, &mut Diagnostics::new())
        .into_iter()
        .map(|a| {
            (
                a.path
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/"),
                a.content,
            )
        })
        .collect()
}

fn file_changes(
    base: &BTreeMap<String, String>,
    head: &BTreeMap<String, String>,
) -> Vec<FileChange> {
    let paths: BTreeSet<&String> = base.keys().chain(head.keys()).collect();
    let mut out = Vec::new();
    for p in paths {
        let (kind, a, b) = match (base.get(p), head.get(p)) {
            (Some(a), Some(b)) if a == b => continue,
            (Some(a), Some(b)) => (Kind::Changed, a.as_str(), b.as_str()),
            (Some(a), None) => (Kind::Removed, a.as_str(), ""),
            (None, Some(b)) => (Kind::Added, "", b.as_str()),
            (None, None) => continue,
        };
        let diff = similar::TextDiff::from_lines(a, b);
        let (mut added, mut removed) = (0, 0);
        for c in diff.iter_all_changes() {
            match c.tag() {
                similar::ChangeTag::Insert => added += 1,
                similar::ChangeTag::Delete => removed += 1,
                similar::ChangeTag::Equal => {}
            }
        }
        out.push(FileChange {
            shared: p == crate::emit::alertmanager::PATH,
            path: p.clone(),
            kind,
            added_lines: added,
            removed_lines: removed,
        });
    }
    out
}

/// A one-line account of a whole plan, for plans added or removed.
fn plan_summary(plan: &Plan) -> String {
    let mut parts = Vec::new();
    let alerts = crate::model::alerts::alerts(plan).len();
    for (n, what) in [
        (plan.services.len(), "service"),
        (plan.kpis.len(), "KPI"),
        (plan.slos.len(), "SLO"),
        (alerts, "alert"),
        (plan.windows.len(), "window"),
        (plan.tasks.len(), "task"),
        (plan.backups.len(), "backup"),
        (plan.runbooks.len(), "runbook"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}{}", if n == 1 { "" } else { "s" }));
        }
    }
    if parts.is_empty() {
        "nothing".to_owned()
    } else {
        parts.join(", ")
    }
}

fn whole_plan(plan: &Plan, added: bool) -> Vec<Change> {
    let summary = plan_summary(plan);
    let mut out = vec![Change {
        section: Section::Metadata,
        subject: None,
        field: None,
        kind: if added { Kind::Added } else { Kind::Removed },
        message: format!(
            "plan {} ({summary})",
            if added { "added" } else { "removed" }
        ),
        before: (!added).then(|| summary.clone()),
        after: added.then_some(summary),
        details: Vec::new(),
        risk: None,
    }];
    if !added {
        let f = facts::facts(plan, reference());
        let critical: Vec<String> = f
            .section(Section::Alerts)
            .into_iter()
            .flatten()
            .filter(|(_, e)| e.risk_removed.is_some())
            .map(|(k, _)| format!("`{k}`"))
            .collect();
        if !critical.is_empty() {
            out.push(Change {
                section: Section::Alerts,
                subject: None,
                field: None,
                kind: Kind::Removed,
                message: format!(
                    "{} critical alert{} removed with the plan: {}",
                    critical.len(),
                    if critical.len() == 1 { "" } else { "s" },
                    critical.join(", ")
                ),
                before: None,
                after: None,
                details: Vec::new(),
                risk: Some("critical alerts are removed".to_owned()),
            });
        }
    }
    out
}

/// Compare two checked sides.
pub fn diff(base: &Side, head: &Side) -> Report {
    let mut report = Report::default();
    let mut broken: BTreeSet<String> = BTreeSet::new();
    let mut elsewhere = false;
    let plan_files: BTreeSet<String> = base
        .ws
        .plans
        .iter()
        .map(|p| base.rel_name(p.file))
        .chain(head.ws.plans.iter().map(|p| head.rel_name(p.file)))
        .collect();
    for (side, which) in [(base, Which::Base), (head, Which::Head)] {
        for (file, problem) in errors(side, which) {
            match file.map(|f| side.rel_name(f)) {
                Some(rel) if plan_files.contains(&rel) => {
                    broken.insert(rel);
                }
                _ => elsewhere = true,
            }
            report.problems.push(problem);
        }
    }
    if elsewhere {
        report.blocked = true;
        return report;
    }
    let (b, h) = (by_name(base), by_name(head));
    let is_broken = |side: &Side, p: &Plan| broken.contains(&side.rel_name(p.file));
    let mut added: Vec<&str> = Vec::new();
    let mut removed: Vec<&str> = Vec::new();
    for (name, bp) in &b {
        match h.get(name) {
            Some(hp) => {
                if is_broken(base, bp) || is_broken(head, hp) {
                    report.plans.push(PlanDiff {
                        name: (*name).to_owned(),
                        status: Status::NotCompared,
                        changes: Vec::new(),
                        files: Vec::new(),
                    });
                    continue;
                }
                let changes = compare::compare(
                    &facts::facts(bp, reference()),
                    &facts::facts(hp, reference()),
                );
                let files = file_changes(&artefacts(base, bp), &artefacts(head, hp));
                report.plans.push(PlanDiff {
                    name: (*name).to_owned(),
                    status: if changes.is_empty() {
                        Status::Unchanged
                    } else {
                        Status::Changed
                    },
                    changes,
                    files,
                });
            }
            None => removed.push(name),
        }
    }
    added.extend(h.keys().filter(|n| !b.contains_key(*n)));
    // A plan renamed with the same content.
    let mut renamed: Vec<(&str, &str)> = Vec::new();
    for old in &removed {
        let bp = b[old];
        if is_broken(base, bp) {
            continue;
        }
        let bf = facts::facts(bp, reference());
        let same: Vec<&&str> = added
            .iter()
            .filter(|new| {
                let hp = h[**new];
                !is_broken(head, hp)
                    && !renamed.iter().any(|(_, n)| n == *new)
                    && compare::compare(&bf, &facts::facts(hp, reference())).is_empty()
            })
            .collect();
        if let [new] = same.as_slice() {
            renamed.push((old, new));
        }
    }
    for (old, new) in &renamed {
        let (bp, hp) = (b[old], h[new]);
        report.plans.push(PlanDiff {
            name: (*new).to_owned(),
            status: Status::Renamed((*old).to_owned()),
            changes: Vec::new(),
            files: file_changes(&artefacts(base, bp), &artefacts(head, hp)),
        });
    }
    for old in removed {
        if renamed.iter().any(|(o, _)| *o == old) {
            continue;
        }
        let bp = b[old];
        if is_broken(base, bp) {
            report.plans.push(PlanDiff {
                name: old.to_owned(),
                status: Status::NotCompared,
                changes: Vec::new(),
                files: Vec::new(),
            });
            continue;
        }
        report.plans.push(PlanDiff {
            name: old.to_owned(),
            status: Status::Removed,
            changes: whole_plan(bp, false),
            files: file_changes(&artefacts(base, bp), &BTreeMap::new()),
        });
    }
    for new in added {
        if renamed.iter().any(|(_, n)| *n == new) {
            continue;
        }
        let hp = h[new];
        if is_broken(head, hp) {
            report.plans.push(PlanDiff {
                name: new.to_owned(),
                status: Status::NotCompared,
                changes: Vec::new(),
                files: Vec::new(),
            });
            continue;
        }
        report.plans.push(PlanDiff {
            name: new.to_owned(),
            status: Status::Added,
            changes: whole_plan(hp, true),
            files: file_changes(&BTreeMap::new(), &artefacts(head, hp)),
        });
    }
    report.plans.sort_by(|a, b| a.name.cmp(&b.name));
    report
}
