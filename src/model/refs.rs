//! References: names in a plan that point at another entry.
//!
//! A reference is typed by what it names ([`Ref<to::Runbook>`](Ref) cannot hold a service), and
//! [`references`] is the one walker that lists every reference of a plan with its kind, its
//! span and the entry it is written in. Resolution (`ref/unknown`), the unused-definition lint
//! (`ref/unused`) and the runbook pages' "used by" all read it; adding a reference field means
//! adding it to the model as a `Ref` and to the walker, and the walker destructures every struct
//! it visits without `..`, so a new field does not compile until the walker has looked at it.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use crate::span::Sp;

use super::{
    Backup, BackupKind, BackupLevel, Body, Dependency, Document, Downtime, Environment, Escalation,
    Execution, Health, Kpi, KpiOverride, Level, LikelihoodOf, Matrix, Mute, Oncall, Policies,
    Prune, RestoreTest, Review, Runbook, Service, Severity, Slo, SloOverride, Task, When, Window,
};

named! {
    /// What a reference names; the name is the words messages use ("unknown runbook `x`").
    pub enum RefKind {
        Service = "service",
        Runbook = "runbook",
        Receiver = "receiver",
        Window = "window",
        Role = "role",
        /// A severity level (`P1`).
        Level = "severity level",
        Environment = "environment",
        Slo = "SLO",
        Kpi = "KPI",
        /// A row of the severity matrix (a service's `impact`).
        ImpactRow = "impact row",
        /// A column of the severity matrix.
        Likelihood = "likelihood column",
        /// An escalation step's `to`: a role, a receiver, a level, `primary` or `secondary`.
        EscalationTarget = "escalation target",
    }
}

/// Marker types: what a [`Ref`] points at.
pub mod to {
    use super::RefKind;

    /// A kind of entry a reference can name.
    pub trait Target: 'static {
        const KIND: RefKind;
    }

    macro_rules! targets {
        ($($name:ident),*) => {$(
            #[doc = concat!("A reference to a ", stringify!($name), ".")]
            #[derive(Debug)]
            pub enum $name {}
            impl Target for $name {
                const KIND: RefKind = RefKind::$name;
            }
        )*};
    }
    targets!(
        Service,
        Runbook,
        Receiver,
        Window,
        Role,
        Level,
        Environment,
        Slo,
        Kpi,
        ImpactRow,
        Likelihood,
        EscalationTarget
    );
}

/// A name that refers to an entry of kind `K`, with the span it was written at.
pub struct Ref<K> {
    pub name: Sp<String>,
    kind: PhantomData<fn() -> K>,
}

impl<K: to::Target> Ref<K> {
    pub fn new(name: Sp<String>) -> Self {
        Ref {
            name,
            kind: PhantomData,
        }
    }

    pub fn kind(&self) -> RefKind {
        K::KIND
    }
}

impl<K> Deref for Ref<K> {
    type Target = Sp<String>;
    fn deref(&self) -> &Sp<String> {
        &self.name
    }
}

impl<K> Clone for Ref<K> {
    fn clone(&self) -> Self {
        Ref {
            name: self.name.clone(),
            kind: PhantomData,
        }
    }
}

impl<K> fmt::Debug for Ref<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.name.fmt(f)
    }
}

impl<K> fmt::Display for Ref<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name.value)
    }
}

impl<K> PartialEq for Ref<K> {
    fn eq(&self, other: &Self) -> bool {
        self.name.value == other.name.value
    }
}

impl<K> Eq for Ref<K> {}

pub type ServiceRef = Ref<to::Service>;
pub type RunbookRef = Ref<to::Runbook>;
pub type ReceiverRef = Ref<to::Receiver>;
pub type WindowRef = Ref<to::Window>;
pub type RoleRef = Ref<to::Role>;
pub type LevelRef = Ref<to::Level>;
pub type EnvironmentRef = Ref<to::Environment>;
pub type SloRef = Ref<to::Slo>;
pub type KpiRef = Ref<to::Kpi>;
pub type ImpactRef = Ref<to::ImpactRow>;
pub type LikelihoodRef = Ref<to::Likelihood>;
pub type EscalationRef = Ref<to::EscalationTarget>;

/// The entry a reference is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    Service,
    Kpi,
    Slo,
    Severity,
    Oncall,
    Window,
    Task,
    Backup,
    /// A backup's `restore_test` (the site's name is the backup's).
    RestoreTest,
    Runbook,
    Execution,
    /// A policy review (`policies.reviews.NAME`).
    Review,
    /// An environment's overrides (`environments.NAME.slos`, `.kpis`).
    Environment,
}

impl Section {
    /// The words pages use ("used by the KPI `x`").
    pub fn name(self) -> &'static str {
        match self {
            Section::Service => "service",
            Section::Kpi => "KPI",
            Section::Slo => "SLO",
            Section::Severity => "severity",
            Section::Oncall => "on-call",
            Section::Window => "window",
            Section::Task => "task",
            Section::Backup => "backup",
            Section::RestoreTest => "restore test",
            Section::Runbook => "runbook",
            Section::Execution => "execution",
            Section::Review => "review",
            Section::Environment => "environment",
        }
    }
}

/// Where a reference is written: the section, the entry's name (none for singleton sections)
/// and the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Site<'a> {
    pub section: Section,
    pub entry: Option<&'a str>,
    pub field: &'static str,
}

/// One reference of a plan.
#[derive(Clone, Copy, Debug)]
pub struct Reference<'a> {
    pub kind: RefKind,
    pub name: &'a Sp<String>,
    pub site: Site<'a>,
}

/// The entries a reference of `kind` can name in `doc`, with the spans of their names. An
/// escalation target can name a role, a receiver or a level (or `primary`/`secondary`, which
/// are not entries).
pub fn definitions(doc: &Document, kind: RefKind) -> Vec<&Sp<String>> {
    let sev = doc.severity.as_ref().map(|s| &s.value);
    let matrix = sev.and_then(|s| s.matrix.as_ref());
    match kind {
        RefKind::Service => doc.services.iter().map(|(n, _)| n).collect(),
        RefKind::Runbook => doc.runbooks.iter().map(|(n, _)| n).collect(),
        RefKind::Receiver => doc.receivers.iter().map(|(n, _)| n).collect(),
        RefKind::Window => doc.windows.iter().map(|(n, _)| n).collect(),
        RefKind::Role => doc.roles.iter().map(|(n, _)| n).collect(),
        RefKind::Environment => doc.environments.iter().map(|(n, _)| n).collect(),
        RefKind::Slo => doc.slos.iter().map(|(n, _)| n).collect(),
        RefKind::Kpi => doc.kpis.iter().map(|(n, _)| n).collect(),
        RefKind::Level => sev
            .map(|s| s.levels.iter().map(|l| &l.name).collect())
            .unwrap_or_default(),
        RefKind::ImpactRow => matrix
            .map(|m| m.impact.iter().map(|(r, _)| r).collect())
            .unwrap_or_default(),
        RefKind::Likelihood => matrix
            .map(|m| m.likelihood.iter().collect())
            .unwrap_or_default(),
        RefKind::EscalationTarget => [RefKind::Role, RefKind::Receiver, RefKind::Level]
            .into_iter()
            .flat_map(|k| definitions(doc, k))
            .collect(),
    }
}

/// Names an escalation step may use without defining them.
pub const BUILTIN_ESCALATION_TARGETS: [&str; 2] = ["primary", "secondary"];

struct Walk<'a> {
    out: Vec<Reference<'a>>,
    section: Section,
    entry: Option<&'a str>,
}

impl<'a> Walk<'a> {
    fn at(&mut self, section: Section, entry: Option<&'a str>) {
        self.section = section;
        self.entry = entry;
    }

    fn one<K: to::Target>(&mut self, field: &'static str, r: &'a Ref<K>) {
        self.out.push(Reference {
            kind: K::KIND,
            name: &r.name,
            site: Site {
                section: self.section,
                entry: self.entry,
                field,
            },
        });
    }

    fn opt<K: to::Target>(&mut self, field: &'static str, r: Option<&'a Ref<K>>) {
        if let Some(r) = r {
            self.one(field, r);
        }
    }

    fn all<K: to::Target>(
        &mut self,
        field: &'static str,
        rs: impl IntoIterator<Item = &'a Ref<K>>,
    ) {
        for r in rs {
            self.one(field, r);
        }
    }
}

/// Every reference in `doc`, in the order of its sections and entries.
pub fn references(doc: &Document) -> Vec<Reference<'_>> {
    let mut w = Walk {
        out: Vec::new(),
        section: Section::Service,
        entry: None,
    };
    let Document {
        file: _,
        kind: _,
        metadata: _,
        imports: _,
        execution,
        services,
        kpis,
        slos,
        severity,
        receivers: _,
        oncall,
        roles: _,
        windows,
        tasks,
        backups,
        runbooks,
        budget: _,
        environments,
        policies,
        lints: _,
    } = doc;
    for (name, s) in services.iter() {
        w.at(Section::Service, Some(&name.value));
        service(&mut w, s);
    }
    for (name, k) in kpis.iter() {
        w.at(Section::Kpi, Some(&name.value));
        kpi(&mut w, k);
    }
    for (name, s) in slos.iter() {
        w.at(Section::Slo, Some(&name.value));
        slo(&mut w, s);
    }
    if let Some(s) = severity {
        w.at(Section::Severity, None);
        severity_refs(&mut w, &s.value);
    }
    if let Some(o) = oncall {
        w.at(Section::Oncall, None);
        oncall_refs(&mut w, &o.value);
    }
    for (name, win) in windows.iter() {
        w.at(Section::Window, Some(&name.value));
        window(&mut w, win);
    }
    for (name, t) in tasks.iter() {
        w.at(Section::Task, Some(&name.value));
        task(&mut w, t);
    }
    for (name, b) in backups.iter() {
        w.at(Section::Backup, Some(&name.value));
        backup(&mut w, &name.value, b);
    }
    for (name, rb) in runbooks.iter() {
        w.at(Section::Runbook, Some(&name.value));
        runbook(&mut w, rb);
    }
    for (name, env) in environments.iter() {
        w.at(Section::Environment, Some(&name.value));
        environment(&mut w, env);
    }
    w.at(Section::Execution, None);
    let Execution {
        image: _,
        namespace: _,
        textfile_dir: _,
        service_account: _,
        blackbox: _,
        environments,
        pushgateway: _,
        runbook,
    } = execution;
    w.opt("runbook", runbook.as_ref());
    w.all("environments", environments);
    if let Some(p) = policies {
        let Policies {
            updates: _,
            retention: _,
            secrets_rotation: _,
            targets: _,
            reviews,
        } = &p.value;
        for (name, r) in reviews.iter() {
            w.at(Section::Review, Some(&name.value));
            let Review {
                schedule: _,
                owner,
                description: _,
            } = r;
            w.opt("owner", owner.as_ref());
        }
    }
    w.out
}

fn service<'a>(w: &mut Walk<'a>, s: &'a Service) {
    let Service {
        description: _,
        hosts: _,
        kind: _,
        job: _,
        port: _,
        url: _,
        health,
        depends_on,
        impact,
        owner,
        runbook,
    } = s;
    if let Some(Health {
        probe: _,
        interval: _,
        timeout: _,
        retries: _,
        level,
        method: _,
        status: _,
        body,
    }) = health
    {
        w.opt("health.level", level.as_ref());
        if let Some(Body {
            expect: _,
            level,
            runbook,
        }) = body
        {
            w.opt("health.body.level", level.as_ref());
            w.opt("health.body.runbook", runbook.as_ref());
        }
    }
    for d in depends_on {
        let Dependency { service, hard: _ } = d;
        w.one("depends_on", service);
    }
    w.opt("impact", impact.as_ref());
    w.opt("owner", owner.as_ref());
    w.opt("runbook", runbook.as_ref());
}

fn kpi<'a>(w: &mut Walk<'a>, k: &'a Kpi) {
    let Kpi {
        service,
        description: _,
        indicator: _,
        unit: _,
        objective: _,
        warning: _,
        critical: _,
        for_: _,
        waits: _,
        over: _,
        runbook,
        levels,
    } = k;
    w.one("service", service);
    w.opt("runbook", runbook.as_ref());
    w.opt("levels.warning", levels.warning.as_ref());
    w.opt("levels.critical", levels.critical.as_ref());
}

fn slo<'a>(w: &mut Walk<'a>, s: &'a Slo) {
    let Slo {
        service,
        description: _,
        objective: _,
        window: _,
        indicator: _,
        page,
        ticket,
        runbook,
    } = s;
    w.one("service", service);
    w.opt("alerting.page", page.as_ref());
    w.opt("alerting.ticket", ticket.as_ref());
    w.opt("runbook", runbook.as_ref());
}

fn severity_refs<'a>(w: &mut Walk<'a>, s: &'a Severity) {
    let Severity {
        levels,
        matrix,
        likelihood_of,
        default_impact,
        require_runbook,
    } = s;
    for l in levels {
        let Level {
            name: _,
            response: _,
            resolve: _,
            notify,
            repeat: _,
            description: _,
            severity: _,
            pages: _,
        } = l;
        w.all("levels.notify", notify);
    }
    if let Some(m) = matrix {
        let Matrix {
            likelihood: _,
            impact,
        } = m;
        for (_, cells) in impact {
            w.all("matrix.impact", &cells.value);
        }
    }
    let LikelihoodOf { warning, critical } = likelihood_of;
    w.opt("likelihood_of.warning", warning.as_ref());
    w.opt("likelihood_of.critical", critical.as_ref());
    w.opt("default_impact", default_impact.as_ref());
    if let Some(req) = require_runbook {
        w.all("require_runbook", req);
    }
}

fn oncall_refs<'a>(w: &mut Walk<'a>, o: &'a Oncall) {
    let Oncall {
        rotation: _,
        handoff: _,
        primary,
        secondary,
        response: _,
        escalation,
        tools: _,
    } = o;
    w.opt("primary", primary.as_ref());
    w.opt("secondary", secondary.as_ref());
    for e in escalation {
        let Escalation { after: _, to } = e;
        w.one("escalation.to", to);
    }
}

fn window<'a>(w: &mut Walk<'a>, win: &'a Window) {
    let Window {
        schedule: _,
        duration: _,
        kind: _,
        mute,
        downtime,
        description: _,
        standalone: _,
    } = win;
    match mute {
        Mute::Nothing | Mute::NonPaging => {}
        Mute::Levels(levels) => w.all("mute", levels),
    }
    if let Some(d) = downtime {
        let Downtime {
            services,
            per_occurrence: _,
        } = d;
        w.all("downtime.services", services);
    }
}

fn task<'a>(w: &mut Walk<'a>, t: &'a Task) {
    let Task {
        when,
        duration: _,
        command: _,
        manual: _,
        checklist: _,
        service,
        kind: _,
        owner,
        description: _,
        runbook,
        environments,
        level,
    } = t;
    match when {
        When::Window(win) => w.one("window", win),
        When::Schedule(_) => {}
    }
    w.opt("service", service.as_ref());
    w.opt("owner", owner.as_ref());
    w.opt("runbook", runbook.as_ref());
    w.all("environments", environments);
    w.opt("level", level.as_ref());
}

fn backup<'a>(w: &mut Walk<'a>, name: &'a str, b: &'a Backup) {
    let Backup {
        service,
        description: _,
        command: _,
        levels,
        rpo: _,
        rto: _,
        restore_test,
        owner,
        runbook,
        environments,
        level,
        prune,
    } = b;
    w.opt("level", level.as_ref());
    if let Some(p) = prune {
        let Prune {
            command: _,
            schedule: _,
            scheduled: _,
            duration: _,
            level,
        } = p;
        w.opt("prune.level", level.as_ref());
    }
    for l in levels {
        let BackupLevel {
            kind,
            key: _,
            schedule: _,
            retain: _,
            duration: _,
            command: _,
            manual: _,
            level,
        } = l;
        if let Some(level) = level {
            w.one(level_field(*kind), level);
        }
    }
    w.opt("service", service.as_ref());
    w.opt("owner", owner.as_ref());
    w.opt("runbook", runbook.as_ref());
    w.all("environments", environments);
    if let Some(t) = restore_test {
        let RestoreTest {
            schedule: _,
            duration: _,
            command: _,
            manual: _,
            runbook,
        } = t;
        w.at(Section::RestoreTest, Some(name));
        w.opt("restore_test.runbook", runbook.as_ref());
    }
}

/// The field a backup kind's own `level` is written in.
fn level_field(kind: BackupKind) -> &'static str {
    match kind {
        BackupKind::Full => "full.level",
        BackupKind::Incremental => "incremental.level",
        BackupKind::Differential => "differential.level",
        BackupKind::Snapshot => "snapshot.level",
        BackupKind::Weekly => "weekly.level",
        BackupKind::Monthly => "monthly.level",
        BackupKind::Yearly => "yearly.level",
    }
}

fn environment<'a>(w: &mut Walk<'a>, env: &'a Environment) {
    let Environment {
        namespace: _,
        replicas: _,
        image: _,
        requests: _,
        limits: _,
        autoscaling: _,
        alerts: _,
        env: _,
        values: _,
        value_keys: _,
        slos,
        kpis,
    } = env;
    for o in slos {
        let SloOverride { slo, objective: _ } = o;
        w.one("slos", slo);
    }
    for o in kpis {
        let KpiOverride {
            kpi,
            warning: _,
            critical: _,
        } = o;
        w.one("kpis", kpi);
    }
}

fn runbook<'a>(w: &mut Walk<'a>, rb: &'a Runbook) {
    let Runbook {
        title: _,
        description: _,
        symptoms: _,
        diagnosis: _,
        actions: _,
        verify: _,
        escalate,
        standalone: _,
    } = rb;
    if let Some(e) = escalate {
        let Escalation { after: _, to } = e;
        w.one("escalate.to", to);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use super::{RefKind, Section, references};
    use crate::diag::Code;
    use crate::driver::{Options, Workspace, check_texts};

    const FIXTURE: &str = include_str!("../../tests/fixtures/refs/every_reference.yaml");

    fn check(text: &str) -> Workspace {
        check_texts(
            vec![(PathBuf::from("every_reference.yaml"), text.to_owned())],
            Options::default(),
        )
    }

    /// Every kind of reference is found by the walker, resolved (renaming any one reference
    /// gives `ref/unknown` exactly there), counted as a use by `ref/unused`, and a runbook's
    /// page shows whatever links to it.
    #[test]
    fn every_reference_kind_is_resolved_counted_and_shown() {
        let ws = check(FIXTURE);
        assert!(ws.diagnostics.is_empty(), "{:#?}", ws.diagnostics);
        let plan = &ws.plans[0];
        let refs = references(plan);

        let kinds: BTreeSet<RefKind> = refs.iter().map(|r| r.kind).collect();
        for &kind in RefKind::ALL {
            assert!(
                kinds.contains(&kind),
                "the fixture has no {} reference, or the walker does not see it",
                kind.name()
            );
        }

        // The walker sees every name the fixture writes as a value: a scalar that names an entry
        // is a definition (the matrix's columns) or a reference the walker lists.
        let mut names: BTreeSet<&str> = super::BUILTIN_ESCALATION_TARGETS.into();
        let mut defined: BTreeSet<u32> = BTreeSet::new();
        for &kind in RefKind::ALL {
            for d in super::definitions(plan, kind) {
                names.insert(&d.value);
                defined.insert(d.span.start);
            }
        }
        let walked: BTreeSet<u32> = refs.iter().map(|r| r.name.span.start).collect();
        let source = ws.sources.get(plan.file);
        let root = crate::parse::parse(plan.file, source, &mut crate::diag::Diagnostics::new())
            .expect("the fixture parses");
        let mut stack = vec![&root];
        while let Some(n) = stack.pop() {
            match &n.value {
                crate::parse::Value::Map(entries) => stack.extend(entries.iter().map(|(_, v)| v)),
                crate::parse::Value::Seq(items) => stack.extend(items),
                crate::parse::Value::Str(s) if names.contains(s.as_str()) => assert!(
                    defined.contains(&n.start) || walked.contains(&n.start),
                    "`{s}` at byte {} names an entry but the walker does not list it",
                    n.start
                ),
                _ => {}
            }
        }

        // Resolved: each reference, renamed, is reported at its own span.
        for r in &refs {
            let (start, end) = (r.name.span.start as usize, r.name.span.end as usize);
            let broken = format!("{}zz-missing{}", &FIXTURE[..start], &FIXTURE[end..]);
            let ws = check(&broken);
            let hit = ws.diagnostics.iter().any(|d| {
                d.code == Code::RefUnknown
                    && d.span
                        .is_some_and(|s| s.start as usize == start && s.len() == "zz-missing".len())
            });
            assert!(
                hit,
                "renaming the {} `{}` in {:?} is not reported as ref/unknown: {:#?}",
                r.kind.name(),
                r.name.value,
                r.site,
                ws.diagnostics
            );
        }

        // Counted as used: what `ref/unused` reports on has a use for every reference to it.
        let used = crate::check::refs::used(plan);
        for r in &refs {
            let kinds: &[RefKind] = match r.kind {
                RefKind::Runbook | RefKind::Receiver | RefKind::Window | RefKind::Role => &[r.kind],
                RefKind::EscalationTarget => &[RefKind::Role, RefKind::Receiver],
                RefKind::Service
                | RefKind::Level
                | RefKind::Environment
                | RefKind::Slo
                | RefKind::Kpi
                | RefKind::ImpactRow
                | RefKind::Likelihood => &[],
            };
            for k in kinds {
                assert!(
                    used.contains(&(*k, r.name.value.clone())),
                    "{:?} is not counted as a use of {} `{}`",
                    r.site,
                    k.name(),
                    r.name.value
                );
            }
        }

        // Shown: a runbook's page names everything that links to it, as an alert or "used by".
        let pages = crate::emit::runbooks::context::runbook_pages(plan, "");
        for r in refs.iter().filter(|r| r.kind == RefKind::Runbook) {
            let page = pages
                .iter()
                .find(|p| p.runbook.name == r.name.value)
                .expect("a page per runbook");
            let entry = r.site.entry.unwrap_or("execution.runbook");
            let shown = page.used_by.iter().any(|u| u.name.starts_with(entry))
                || page.alerts.iter().any(|a| a.subject.starts_with(entry));
            assert!(
                shown || r.site.section == Section::Execution && !page.used_by.is_empty(),
                "the page of runbook `{}` does not show {:?}",
                r.name.value,
                r.site
            );
        }
    }
}
