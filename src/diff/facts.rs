//! The facts of a resolved plan: what it means, without spans, layout or written order where
//! order means nothing. Each section holds named entries; each entry holds fields whose values
//! know how to compare themselves (a threshold knows which way is worse, a level its rank, a
//! schedule its next occurrences from a fixed instant).
//!
//! Two plans that say the same thing in different words (YAML layout, quoting, key order,
//! comments, `1w` for `7d`) have equal facts.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::model::alerts::{self, Source, Urgency};
use crate::model::timeline::{self, ItemKind};
use crate::model::{
    Backup, Budget, Deadline, Environment, Hosts, Indicator, Kpi, Plan, Probe, ReceiverKind,
    Retention, Severity, SloIndicator, When,
};
use crate::model::{jobs, levels};
use crate::span::Sp;
use crate::value::money::group;
use crate::value::{Direction, Duration, Number, Percent, Threshold};

/// How many next occurrences a moved schedule shows.
pub(crate) const NEXT: usize = 3;

/// A part of a plan, in the order the report shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    Metadata,
    Services,
    Kpis,
    Slos,
    Alerts,
    Severity,
    Receivers,
    Oncall,
    Roles,
    Windows,
    Tasks,
    Backups,
    Runbooks,
    Budget,
    Environments,
    Policies,
    Execution,
    Lints,
}

impl Section {
    pub const ALL: [Section; 18] = [
        Section::Metadata,
        Section::Services,
        Section::Kpis,
        Section::Slos,
        Section::Alerts,
        Section::Severity,
        Section::Receivers,
        Section::Oncall,
        Section::Roles,
        Section::Windows,
        Section::Tasks,
        Section::Backups,
        Section::Runbooks,
        Section::Budget,
        Section::Environments,
        Section::Policies,
        Section::Execution,
        Section::Lints,
    ];

    /// The name in the plan format (and in JSON output).
    pub fn key(self) -> &'static str {
        match self {
            Section::Metadata => "metadata",
            Section::Services => "services",
            Section::Kpis => "kpis",
            Section::Slos => "slos",
            Section::Alerts => "alerts",
            Section::Severity => "severity",
            Section::Receivers => "receivers",
            Section::Oncall => "oncall",
            Section::Roles => "roles",
            Section::Windows => "windows",
            Section::Tasks => "tasks",
            Section::Backups => "backups",
            Section::Runbooks => "runbooks",
            Section::Budget => "budget",
            Section::Environments => "environments",
            Section::Policies => "policies",
            Section::Execution => "execution",
            Section::Lints => "lints",
        }
    }

    /// The heading in Markdown.
    pub fn title(self) -> &'static str {
        match self {
            Section::Metadata => "Metadata",
            Section::Services => "Services",
            Section::Kpis => "KPIs",
            Section::Slos => "SLOs",
            Section::Alerts => "Alerts",
            Section::Severity => "Severity",
            Section::Receivers => "Receivers",
            Section::Oncall => "On-call",
            Section::Roles => "Roles",
            Section::Windows => "Windows",
            Section::Tasks => "Tasks",
            Section::Backups => "Backups",
            Section::Runbooks => "Runbooks",
            Section::Budget => "Budget",
            Section::Environments => "Environments",
            Section::Policies => "Policies",
            Section::Execution => "Execution",
            Section::Lints => "Lints",
        }
    }

    /// Sections whose entries are named by the user and can be renamed.
    pub fn renames(self) -> bool {
        matches!(
            self,
            Section::Services
                | Section::Kpis
                | Section::Slos
                | Section::Receivers
                | Section::Roles
                | Section::Windows
                | Section::Tasks
                | Section::Backups
                | Section::Runbooks
                | Section::Environments
        )
    }

    /// The order renames are detected in: referenced sections before the sections that refer
    /// to them, so a renamed runbook does not hide a renamed KPI that uses it.
    pub const RENAME_ORDER: [Section; 10] = [
        Section::Receivers,
        Section::Roles,
        Section::Runbooks,
        Section::Services,
        Section::Windows,
        Section::Kpis,
        Section::Slos,
        Section::Tasks,
        Section::Backups,
        Section::Environments,
    ];
}

/// Which way a change of a duration or percentage goes for the plan's commitments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sense {
    /// Neither better nor worse: lengthened / shortened, raised / lowered.
    Neutral,
    /// Longer is looser (an RPO, a response time, `for:`).
    LongerLooser,
    /// Longer is stricter (MTBF).
    LongerStricter,
    /// Higher is stricter (an SLO objective, an uptime target).
    HigherStricter,
    /// Higher is looser (an error-rate target).
    HigherLooser,
    /// An allowance: grows / shrinks (an error budget).
    Allowance,
}

/// Whose host matchers an entry reads with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HostsFrom {
    /// Its own (a service's `hosts`, or `metadata.hosts`).
    Own,
    /// A service without `hosts`: the plan's.
    Plan,
    /// Nobody's: the default.
    Default,
}

/// A value, with what it takes to compare it in operational terms.
#[derive(Clone, Debug)]
pub(crate) enum Val {
    /// Compared as text.
    Text(String),
    /// Free text (descriptions): changes are named, not quoted.
    Prose(String),
    Flag(bool),
    /// A reference to an entry of a section (compared through renames).
    Ref(Section, String),
    /// A set of references.
    Refs(Section, Vec<String>),
    /// An ordered list of text.
    List(Vec<String>),
    Threshold {
        threshold: Threshold,
        /// The value in the base unit of the KPI's unit family (seconds, ratio, bytes, per
        /// second), with the family: comparable across `300ms` and `0.3s`, and across a change
        /// of the KPI's unit.
        value: Option<(String, Number)>,
        /// Which side is bad for the KPI.
        bad: Option<Direction>,
        /// An alert threshold (warning, critical) rather than the objective.
        alert: bool,
    },
    Duration(Duration, Sense),
    Retention(Retention),
    Percent(Percent, Sense),
    Money {
        amount: Number,
        /// `USD`, `USD/month`.
        unit: String,
    },
    /// A severity level, with its rank (0 is the most urgent) in its own plan.
    Level {
        name: String,
        rank: Option<usize>,
    },
    /// An impact row of the severity matrix, with its rank (0 is the highest).
    Impact {
        name: String,
        rank: Option<usize>,
    },
    /// The levels a window mutes (`muted`), of every level of its plan (`all`, most urgent
    /// first).
    Mutes {
        all: Vec<String>,
        muted: Vec<String>,
        /// The levels of the plan that page.
        paging: Vec<String>,
    },
    /// Where host metrics (node exporter series) are read from: the label matchers, and whose
    /// they are. A service that follows the plan's is the same whatever the plan's are (the
    /// plan's own line says when they change).
    Hosts {
        matchers: String,
        whose: HostsFrom,
    },
    /// What a KPI's thresholds judge: `each value`, or an aggregate over a window
    /// (`the 1h average`).
    Judged(String),
    /// When something happens: the schedule as text and its next starts from [`super::reference()`].
    When {
        shown: String,
        next: Vec<String>,
        instants: Vec<i64>,
        /// The recurrence without its dates, and the dates it is limited to in words
        /// (`from 2027-03-01 to 2027-03-07`), if any.
        rule: String,
        dates: Option<String>,
    },
}

impl Val {
    /// The value as users write it (without backticks).
    pub(crate) fn shown(&self) -> String {
        match self {
            Val::Text(s) | Val::Prose(s) | Val::Ref(_, s) | Val::Judged(s) => s.clone(),
            Val::Flag(b) => b.to_string(),
            Val::Refs(_, v) | Val::List(v) => v.join(", "),
            Val::Threshold { threshold, .. } => threshold.to_string(),
            Val::Duration(d, _) => d.to_string(),
            Val::Retention(r) => r.to_string(),
            Val::Percent(p, _) => p.to_string(),
            Val::Money { amount, unit } => format!("{} {unit}", group(*amount)),
            Val::Level { name, .. } | Val::Impact { name, .. } => name.clone(),
            Val::When { shown, .. } => shown.clone(),
            Val::Hosts { matchers, .. } => format!("{{{matchers}}}"),
            Val::Mutes { all, muted, .. } => {
                let all: Vec<&str> = all.iter().map(String::as_str).collect();
                let muted: Vec<&str> = muted.iter().map(String::as_str).collect();
                levels::describe(&all, &muted, str::to_owned)
            }
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Field {
    pub key: String,
    /// How the report names it (Markdown).
    pub label: String,
    pub val: Val,
    /// Why losing it is risky.
    pub risk_removed: Option<String>,
    /// Why weakening it (loosened, lowered, cut, turned off, losing an item) is risky.
    pub risk_weakened: Option<String>,
}

/// Where an alert comes from, so a renamed KPI (or service, task, backup) renames its alerts
/// instead of removing and adding them: the alert is `camel(name) + suffix`. A KPI threshold
/// alert also has its slot: its name follows its level, so a new level renames it too.
#[derive(Clone, Debug)]
pub(crate) struct Origin {
    pub section: Section,
    pub name: String,
    pub suffix: String,
    pub slot: Option<&'static str>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Entry {
    /// Shown when the entry is added or removed.
    pub summary: String,
    pub fields: Vec<Field>,
    /// Replaces "added" / "removed" when set.
    pub added: Option<String>,
    pub removed: Option<String>,
    pub risk_added: Option<String>,
    pub risk_removed: Option<String>,
    pub origin: Option<Origin>,
}

impl Entry {
    fn with_summary(summary: impl Into<String>) -> Self {
        Entry {
            summary: summary.into(),
            ..Entry::default()
        }
    }

    pub(crate) fn field(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.key == key)
    }

    fn push(&mut self, key: impl Into<String>, val: Val) -> &mut Field {
        let key = key.into();
        let label = format!("`{key}`");
        self.labelled(key, label, val)
    }

    fn labelled(
        &mut self,
        key: impl Into<String>,
        label: impl Into<String>,
        val: Val,
    ) -> &mut Field {
        let key = key.into();
        // Keys are unique within an entry; a later duplicate gets a suffix rather than hiding.
        let key = if self.field(&key).is_some() {
            let mut n = 2;
            while self.field(&format!("{key}#{n}")).is_some() {
                n += 1;
            }
            format!("{key}#{n}")
        } else {
            key
        };
        self.fields.push(Field {
            key,
            label: label.into(),
            val,
            risk_removed: None,
            risk_weakened: None,
        });
        self.fields.last_mut().expect("just pushed")
    }

    fn text(&mut self, key: &str, v: Option<impl ToString>) {
        if let Some(v) = v {
            self.push(key, Val::Text(v.to_string()));
        }
    }

    fn prose(&mut self, key: &str, v: Option<&Sp<String>>) {
        if let Some(v) = v {
            self.push(key, Val::Prose(v.value.clone()));
        }
    }

    fn reference(&mut self, key: &str, section: Section, v: Option<&Sp<String>>) {
        if let Some(v) = v {
            self.push(key, Val::Ref(section, v.value.clone()));
        }
    }

    fn duration(&mut self, key: &str, v: Option<Duration>, sense: Sense) {
        if let Some(v) = v {
            self.push(key, Val::Duration(v, sense));
        }
    }

    fn list(&mut self, key: &str, v: &[Sp<String>]) {
        if !v.is_empty() {
            self.push(key, Val::List(v.iter().map(|s| s.value.clone()).collect()));
        }
    }

    fn refs<K>(&mut self, key: &str, v: &[crate::model::Ref<K>]) {
        if !v.is_empty() {
            self.push(key, Val::List(v.iter().map(|s| s.value.clone()).collect()));
        }
    }
}

/// Entries of one section by name (`""` for the section's own settings; `backup.full` for a
/// part of an entry).
pub(crate) type Entries = BTreeMap<String, Entry>;

/// Everything a plan means, by section.
#[derive(Clone, Debug, Default)]
pub(crate) struct Facts {
    pub sections: BTreeMap<Section, Entries>,
}

impl Facts {
    pub(crate) fn section(&self, s: Section) -> Option<&Entries> {
        self.sections.get(&s)
    }

    fn entries(&mut self, s: Section) -> &mut Entries {
        self.sections.entry(s).or_default()
    }

    fn insert(&mut self, s: Section, name: impl Into<String>, e: Entry) {
        let entries = self.entries(s);
        let mut name = name.into();
        while entries.contains_key(&name) {
            name.push('\'');
        }
        entries.insert(name, e);
    }
}

/// The facts of `plan`, with schedules expanded from `from`.
pub(crate) fn facts(plan: &Plan, from: DateTime<Utc>) -> Facts {
    let mut f = Facts::default();
    let ranks = Ranks::of(plan);
    metadata(plan, &mut f);
    execution(plan, &mut f);
    services(plan, &ranks, &mut f);
    kpis(plan, &ranks, &mut f);
    slos(plan, &ranks, &mut f);
    alert_facts(plan, &ranks, &mut f);
    severity(plan, &ranks, &mut f);
    receivers(plan, &mut f);
    oncall(plan, &mut f);
    roles(plan, &mut f);
    windows(plan, &mut f);
    tasks(plan, &ranks, &mut f);
    backups(plan, &ranks, &mut f);
    schedules(plan, from, &mut f);
    runbooks(plan, &mut f);
    budget(plan, &mut f);
    environments(plan, &mut f);
    policies(plan, &mut f);
    lints(plan, &mut f);
    f
}

/// Ranks of levels and impact rows in one plan.
struct Ranks<'p> {
    severity: Option<&'p Severity>,
}

impl<'p> Ranks<'p> {
    fn of(plan: &'p Plan) -> Self {
        Ranks {
            severity: plan.severity.as_ref().map(|s| &s.value),
        }
    }

    fn level(&self, name: &str) -> Val {
        Val::Level {
            name: name.to_owned(),
            rank: self.severity.and_then(|s| s.rank(name)),
        }
    }

    fn impact(&self, name: &str) -> Val {
        Val::Impact {
            name: name.to_owned(),
            rank: self
                .severity
                .and_then(|s| s.matrix.as_ref())
                .and_then(|m| m.impact.iter().position(|(r, _)| r.value == name)),
        }
    }

    fn most_urgent(&self) -> Option<&'p str> {
        self.severity
            .and_then(|s| s.levels.first())
            .map(|l| l.name.value.as_str())
    }

    /// Levels whose alerts need a runbook (as `alert/no-runbook` decides).
    fn requires_runbook(&self, level: &str) -> bool {
        let Some(sev) = self.severity else {
            return false;
        };
        match &sev.require_runbook {
            Some(list) => list.iter().any(|l| l.value == level),
            None => sev.levels.iter().take(2).any(|l| l.name.value == level),
        }
    }
}

/// `{a: 1, b: 2}`: a compound value as a YAML flow mapping.
fn flow(pairs: &[(&str, Option<String>)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}: {v}")))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

fn opt(v: Option<&Sp<String>>) -> Option<String> {
    v.map(|s| s.value.clone())
}

fn metadata(plan: &Plan, f: &mut Facts) {
    let m = &plan.metadata;
    let mut e = Entry::default();
    e.text("title", m.title.as_ref());
    e.prose("description", m.description.as_ref());
    e.text("owner", m.owner.as_ref());
    e.labelled(
        "timezone",
        "time zone",
        Val::Text(m.timezone.value.name().to_owned()),
    );
    for (k, v) in &m.labels {
        e.labelled(
            format!("labels.{}", k.value),
            format!("label `{}`", k.value),
            Val::Text(v.value.clone()),
        );
    }
    e.text("runbook_base_url", m.runbook_base_url.as_ref());
    let (matchers, whose) = plan.plan_hosts();
    e.labelled(
        "hosts",
        "host metrics",
        Val::Hosts {
            matchers: matchers.to_owned(),
            whose: match whose {
                Hosts::Default => HostsFrom::Default,
                Hosts::Plan | Hosts::Service => HostsFrom::Own,
            },
        },
    );
    f.insert(Section::Metadata, "", e);
}

fn execution(plan: &Plan, f: &mut Facts) {
    let x = &plan.execution;
    let mut e = Entry::default();
    e.text("image", x.image.as_ref());
    e.text("namespace", x.namespace.as_ref());
    e.text("textfile_dir", x.textfile_dir.as_ref());
    e.text("service_account", x.service_account.as_ref());
    e.text("blackbox", x.blackbox.as_ref());
    e.text("pushgateway", x.pushgateway.as_ref());
    e.refs("environments", &x.environments);
    e.reference(
        "runbook",
        Section::Runbooks,
        x.runbook.as_ref().map(|r| &r.name),
    );
    if !e.fields.is_empty() {
        f.insert(Section::Execution, "", e);
    }
}

fn probe(p: &Probe) -> String {
    match p {
        Probe::Http(u) => format!("http {u}"),
        Probe::Tcp(a) => format!("tcp {a}"),
        Probe::Command(c) => format!("command {c}"),
    }
}

fn services(plan: &Plan, ranks: &Ranks<'_>, f: &mut Facts) {
    for (name, s) in plan.services.iter() {
        let kind = format!("{:?}", s.kind).to_lowercase();
        let mut summary = kind.clone();
        if let Some(i) = &s.impact {
            let _ = write!(summary, ", impact `{}`", i.value);
        }
        let mut e = Entry::with_summary(summary);
        e.push("kind", Val::Text(kind));
        e.prose("description", s.description.as_ref());
        e.push("job", Val::Text(s.job.value.clone()));
        e.text("port", s.port.as_ref());
        e.text("url", s.url.as_ref());
        let (matchers, whose) = plan.hosts(&name.value);
        e.labelled(
            "hosts",
            "host metrics",
            Val::Hosts {
                matchers: matchers.to_owned(),
                whose: match whose {
                    Hosts::Service => HostsFrom::Own,
                    Hosts::Plan => HostsFrom::Plan,
                    Hosts::Default => HostsFrom::Default,
                },
            },
        );
        if let Some(h) = &s.health {
            e.labelled("health", "health check", Val::Text(probe(&h.probe.value)));
            e.push(
                "health.interval",
                Val::Duration(h.interval.value, Sense::LongerLooser),
            );
            e.push(
                "health.timeout",
                Val::Duration(h.timeout.value, Sense::Neutral),
            );
            e.push("health.retries", Val::Text(h.retries.value.to_string()));
            if let Some(l) = &h.level {
                e.labelled(
                    "health.level",
                    "level of its down alert",
                    ranks.level(&l.value),
                );
            }
            e.text("health.method", h.method.as_ref());
            if !h.status.is_empty() {
                let codes: Vec<String> = h.status.iter().map(|c| c.value.to_string()).collect();
                e.push("health.status", Val::Text(codes.join(", ")));
            }
            if let Some(b) = &h.body {
                match &b.expect.value {
                    crate::model::BodyExpect::Json(fields) => e.labelled(
                        "health.body.json",
                        "fields its answer must have",
                        Val::Text(crate::model::probes::json_fields(fields)),
                    ),
                    crate::model::BodyExpect::Matches(p) => e.labelled(
                        "health.body.matches",
                        "pattern its answer must match",
                        Val::Text(p.clone()),
                    ),
                };
                if let Some(l) = &b.level {
                    e.labelled(
                        "health.body.level",
                        "level of its unhealthy alert",
                        ranks.level(&l.value),
                    );
                }
                if let Some(r) = &b.runbook {
                    e.labelled(
                        "health.body.runbook",
                        "runbook of its unhealthy alert",
                        Val::Ref(Section::Runbooks, r.name.value.clone()),
                    );
                }
            }
        }
        let mut hard: Vec<String> = Vec::new();
        let mut soft: Vec<String> = Vec::new();
        for d in &s.depends_on {
            if d.hard {
                hard.push(d.service.value.clone());
            } else {
                soft.push(d.service.value.clone());
            }
        }
        if !hard.is_empty() {
            hard.sort();
            e.labelled(
                "depends_on",
                "hard dependencies",
                Val::Refs(Section::Services, hard),
            );
        }
        if !soft.is_empty() {
            soft.sort();
            e.labelled(
                "depends_on (soft)",
                "soft dependencies",
                Val::Refs(Section::Services, soft),
            );
        }
        if let Some(i) = &s.impact {
            e.push("impact", ranks.impact(&i.value));
        }
        e.reference("owner", Section::Roles, s.owner.as_ref().map(|r| &r.name));
        e.reference(
            "runbook",
            Section::Runbooks,
            s.runbook.as_ref().map(|r| &r.name),
        );
        f.insert(Section::Services, name.value.clone(), e);
    }
}

fn indicator(i: &Indicator) -> String {
    let d = |d: &Sp<Duration>| Some(d.value.to_string());
    match i {
        Indicator::Expr(e) => format!("expr {}", e.value),
        Indicator::Latency {
            histogram,
            quantile,
            window,
            selector,
        } => format!(
            "latency {}",
            flow(&[
                ("histogram", Some(histogram.value.clone())),
                ("quantile", Some(quantile.value.to_string())),
                ("window", d(window)),
                ("selector", opt(selector.as_ref())),
            ])
        ),
        Indicator::ErrorRatio {
            errors,
            total,
            window,
        } => format!(
            "error_ratio {}",
            flow(&[
                ("errors", Some(errors.value.clone())),
                ("total", Some(total.value.clone())),
                ("window", d(window)),
            ])
        ),
        Indicator::Throughput {
            counter,
            window,
            per,
            selector,
        } => format!(
            "throughput {}",
            flow(&[
                ("counter", Some(counter.value.clone())),
                ("window", d(window)),
                ("per", Some(per.name().to_owned())),
                ("selector", opt(selector.as_ref())),
            ])
        ),
        Indicator::Resource(r) => format!("resource {}", format!("{r:?}").to_lowercase()),
        Indicator::Up { job } => format!("up {}", flow(&[("job", opt(job.as_ref()))])),
    }
}

/// Which side is bad for a KPI: the side its alerts watch, else the side its objective avoids.
fn bad_side(kpi: &Kpi) -> Option<Direction> {
    kpi.critical
        .as_ref()
        .or(kpi.warning.as_ref())
        .and_then(|t| t.value.direction())
        .or_else(|| {
            kpi.objective
                .as_ref()
                .and_then(|t| t.value.direction())
                .map(Direction::opposite)
        })
}

fn kpis(plan: &Plan, ranks: &Ranks<'_>, f: &mut Facts) {
    for (name, k) in plan.kpis.iter() {
        let bad = bad_side(k);
        let mut summary: Vec<String> = Vec::new();
        for (what, t) in [("warning", &k.warning), ("critical", &k.critical)] {
            if let Some(t) = t {
                summary.push(format!("{what} `{}`", t.value));
            }
        }
        let mut e = Entry::with_summary(summary.join(", "));
        e.reference("service", Section::Services, Some(&k.service));
        e.prose("description", k.description.as_ref());
        e.push("indicator", Val::Text(indicator(&k.indicator.value)));
        e.push("unit", Val::Text(k.unit.value.symbol.clone()));
        for (key, label, t, alert) in [
            ("objective", "objective", &k.objective, false),
            ("warning", "warning threshold", &k.warning, true),
            ("critical", "critical threshold", &k.critical, true),
        ] {
            if let Some(t) = t {
                e.labelled(
                    key,
                    label,
                    Val::Threshold {
                        threshold: t.value.clone(),
                        value: t
                            .value
                            .quantity
                            .convert_to(&k.unit.value)
                            .and_then(|v| v.checked_mul(k.unit.value.scale))
                            .map(|v| (k.unit.value.family.name(), v)),
                        bad,
                        alert,
                    },
                );
            }
        }
        // Always there, so that adding or removing `over` reads as what the alerts now judge.
        e.labelled(
            "over",
            "thresholds",
            Val::Judged(
                k.over
                    .as_ref()
                    .map_or_else(|| "each value".to_owned(), |o| o.value.to_string()),
            ),
        );
        // How long each alert waits, wherever it is written (the KPI's `for`, the threshold's
        // own, or the default): moving a `for` that changes no wait is no change.
        for (urgency, t) in [
            (Urgency::Warning, &k.warning),
            (Urgency::Critical, &k.critical),
        ] {
            if t.is_some() {
                let name = urgency.name();
                e.labelled(
                    format!("{name}.for"),
                    format!("{name} `for`"),
                    Val::Duration(k.wait(urgency), Sense::LongerLooser),
                );
            }
        }
        e.reference(
            "runbook",
            Section::Runbooks,
            k.runbook.as_ref().map(|r| &r.name),
        );
        if let Some(l) = &k.levels.warning {
            e.labelled("levels.warning", "warning level", ranks.level(&l.value));
        }
        if let Some(l) = &k.levels.critical {
            e.labelled("levels.critical", "critical level", ranks.level(&l.value));
        }
        f.insert(Section::Kpis, name.value.clone(), e);
    }
}

/// `window × (1 − objective)`.
fn error_budget(window: Duration, objective: Percent) -> Option<Duration> {
    let ms = Number::int(i64::try_from(window.as_millis()).ok()?);
    let share = Number::ONE.checked_sub(objective.ratio())?;
    let budget = ms.checked_mul(share)?.to_f64().round();
    if budget.is_finite() && budget >= 0.0 {
        Some(Duration::from_millis(budget as u64))
    } else {
        None
    }
}

fn slos(plan: &Plan, ranks: &Ranks<'_>, f: &mut Facts) {
    for (name, s) in plan.slos.iter() {
        let mut e =
            Entry::with_summary(format!("`{}` over `{}`", s.objective.value, s.window.value));
        e.reference("service", Section::Services, Some(&s.service));
        e.prose("description", s.description.as_ref());
        e.push(
            "objective",
            Val::Percent(s.objective.value, Sense::HigherStricter),
        );
        e.push("window", Val::Duration(s.window.value, Sense::Neutral));
        if let Some(b) = error_budget(s.window.value, s.objective.value) {
            e.labelled(
                "error_budget",
                format!("error budget (per `{}`)", s.window.value),
                Val::Duration(b, Sense::Allowance),
            );
        }
        let ind = match &s.indicator.value {
            SloIndicator::ErrorRatio { errors, total } => format!(
                "error_ratio {}",
                flow(&[
                    ("errors", Some(errors.value.clone())),
                    ("total", Some(total.value.clone())),
                ])
            ),
            SloIndicator::Latency {
                histogram,
                threshold,
                selector,
            } => format!(
                "latency {}",
                flow(&[
                    ("histogram", Some(histogram.value.clone())),
                    ("threshold", Some(threshold.value.to_string())),
                    ("selector", opt(selector.as_ref())),
                ])
            ),
            SloIndicator::Up { job } => format!("up {}", flow(&[("job", opt(job.as_ref()))])),
        };
        e.push("indicator", Val::Text(ind));
        if let Some(l) = &s.page {
            e.labelled("alerting.page", "page level", ranks.level(&l.value));
        }
        if let Some(l) = &s.ticket {
            e.labelled("alerting.ticket", "ticket level", ranks.level(&l.value));
        }
        e.reference(
            "runbook",
            Section::Runbooks,
            s.runbook.as_ref().map(|r| &r.name),
        );
        f.insert(Section::Slos, name.value.clone(), e);
    }
}

fn alert_facts(plan: &Plan, ranks: &Ranks<'_>, f: &mut Facts) {
    for a in alerts::alerts(plan) {
        let level = a.level.as_ref().ok().map(|l| l.name.value.clone());
        let shown_level = level
            .as_deref()
            .map_or_else(|| "no level".to_owned(), |l| format!("`{l}`"));
        let most_urgent = level.is_some() && level.as_deref() == ranks.most_urgent();
        let critical = a.urgency == Urgency::Critical || most_urgent;
        let (section, source) = match &a.source {
            Source::Kpi { name, .. } => (Section::Kpis, name.value.clone()),
            Source::Slo { name, .. } => (Section::Slos, name.value.clone()),
            Source::Health { service, .. } => (Section::Services, service.value.clone()),
            Source::Freshness { name } => match name.split_once('.') {
                Some((backup, _)) => (Section::Backups, backup.to_owned()),
                None => (Section::Tasks, name.clone()),
            },
            Source::Rpo { backup, .. } => (Section::Backups, backup.value.clone()),
            Source::NoData { kpi } => (Section::Kpis, kpi.value.clone()),
        };
        let origin = a
            .name
            .strip_prefix(&alerts::camel(&source))
            .map(|suffix| Origin {
                section,
                name: source.clone(),
                suffix: suffix.to_owned(),
                slot: matches!(a.source, Source::Kpi { .. }).then(|| a.urgency.name()),
            });
        let what = if critical { "critical alert" } else { "alert" };
        let runbook = a.runbook.map(|r| r.value.clone());
        let mut e = Entry {
            summary: shown_level.clone(),
            added: Some(match &runbook {
                Some(r) => format!("new {shown_level} {what} (runbook `{r}`)"),
                None => format!("new {shown_level} {what} without a runbook"),
            }),
            removed: Some(format!("{what} removed (was {shown_level})")),
            risk_removed: critical.then(|| "a critical alert is removed".to_owned()),
            risk_added: (runbook.is_none()
                && level
                    .as_deref()
                    .is_some_and(|l| most_urgent || ranks.requires_runbook(l)))
            .then(|| format!("a new {shown_level} alert has no runbook")),
            origin,
            ..Entry::default()
        };
        match &level {
            Some(l) => {
                e.labelled("level", "level", ranks.level(l));
            }
            None => {
                e.labelled("level", "level", Val::Text("no level".to_owned()));
            }
        }
        if let Some(r) = &runbook {
            e.labelled("runbook", "runbook", Val::Ref(Section::Runbooks, r.clone()))
                .risk_removed = Some("an alert loses its runbook".to_owned());
        }
        f.insert(Section::Alerts, a.name.clone(), e);
    }
}

fn severity(plan: &Plan, ranks: &Ranks<'_>, f: &mut Facts) {
    let Some(sev) = plan.severity.as_ref().map(|s| &s.value) else {
        return;
    };
    for (rank, l) in sev.levels.iter().enumerate() {
        let urgent = rank == 0;
        let mut e = Entry::with_summary(format!(
            "response `{}`, notifies {}",
            l.response.value,
            if l.notify.is_empty() {
                "nobody".to_owned()
            } else {
                l.notify
                    .iter()
                    .map(|n| super::compare::tick(&n.value))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ));
        e.labelled(
            "position",
            "position (1 is the most urgent)",
            Val::Text((rank + 1).to_string()),
        );
        e.labelled(
            "response",
            "response time",
            Val::Duration(l.response.value, Sense::LongerLooser),
        );
        e.duration(
            "resolve",
            l.resolve.as_ref().map(|d| d.value),
            Sense::LongerLooser,
        );
        let mut notify: Vec<String> = l.notify.iter().map(|n| n.value.clone()).collect();
        notify.sort();
        notify.dedup();
        let field = e.labelled("notify", "receivers", Val::Refs(Section::Receivers, notify));
        if urgent {
            let risk = format!("the most urgent level `{}` loses a receiver", l.name.value);
            field.risk_removed = Some(risk.clone());
            field.risk_weakened = Some(risk);
        }
        e.duration("repeat", l.repeat.as_ref().map(|d| d.value), Sense::Neutral);
        e.prose("description", l.description.as_ref());
        let pages = e.labelled("pages", "paging", Val::Flag(levels::pages(plan, l)));
        if urgent {
            pages.risk_weakened = Some(format!(
                "the most urgent level `{}` no longer pages",
                l.name.value
            ));
        }
        e.labelled(
            "severity",
            "`severity` label of its alerts",
            Val::Text(levels::severity(plan, l).name().to_owned()),
        );
        if urgent {
            e.risk_removed = Some("the most urgent level is removed".to_owned());
        }
        f.insert(Section::Severity, format!("levels.{}", l.name.value), e);
    }
    let mut e = Entry::default();
    if let Some(m) = &sev.matrix {
        e.labelled(
            "matrix.likelihood",
            "likelihood columns",
            Val::List(m.likelihood.iter().map(|l| l.value.clone()).collect()),
        );
        e.labelled(
            "matrix.impact",
            "impact rows",
            Val::List(m.impact.iter().map(|(r, _)| r.value.clone()).collect()),
        );
        for (row, cells) in &m.impact {
            for (col, cell) in m.likelihood.iter().zip(cells.value.iter()) {
                e.labelled(
                    format!("matrix.{}.{}", row.value, col.value),
                    format!("matrix cell `{}` × `{}`", row.value, col.value),
                    ranks.level(&cell.value),
                );
            }
        }
    }
    if let Some(w) = &sev.likelihood_of.warning {
        e.push("likelihood_of.warning", Val::Text(w.value.clone()));
    }
    if let Some(c) = &sev.likelihood_of.critical {
        e.push("likelihood_of.critical", Val::Text(c.value.clone()));
    }
    if let Some(i) = &sev.default_impact {
        e.push("default_impact", ranks.impact(&i.value));
    }
    if let Some(r) = &sev.require_runbook {
        e.push(
            "require_runbook",
            Val::List(r.iter().map(|l| l.value.clone()).collect()),
        );
    }
    if !e.fields.is_empty() {
        f.insert(Section::Severity, "", e);
    }
}

fn receivers(plan: &Plan, f: &mut Facts) {
    for (name, r) in plan.receivers.iter() {
        let kind = r.kind.kind_name();
        let mut e = Entry::with_summary(kind);
        e.push("kind", Val::Text(kind.to_owned()));
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                e.push(format!("{kind}.{k}"), Val::Text(v));
            }
        };
        match &r.kind {
            ReceiverKind::Slack {
                channel,
                api_url_file,
                username,
                send_resolved,
            } => {
                put("channel", Some(channel.value.clone()));
                put("api_url_file", opt(api_url_file.as_ref()));
                put("username", opt(username.as_ref()));
                put("send_resolved", Some(send_resolved.to_string()));
            }
            ReceiverKind::Email {
                to,
                from,
                smarthost,
                auth_username,
                auth_password_file,
            } => {
                put("to", Some(to.value.clone()));
                put("from", Some(from.value.clone()));
                put("smarthost", Some(smarthost.value.clone()));
                put("auth_username", opt(auth_username.as_ref()));
                put("auth_password_file", opt(auth_password_file.as_ref()));
            }
            ReceiverKind::PagerDuty {
                routing_key_file,
                severity,
            } => {
                put("routing_key_file", opt(routing_key_file.as_ref()));
                put("severity", opt(severity.as_ref()));
            }
            ReceiverKind::Opsgenie {
                api_key_file,
                priority,
                responders,
            } => {
                put("api_key_file", opt(api_key_file.as_ref()));
                put("priority", opt(priority.as_ref()));
                if !responders.is_empty() {
                    put(
                        "responders",
                        Some(
                            responders
                                .iter()
                                .map(|r| r.value.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                        ),
                    );
                }
            }
            ReceiverKind::Webhook {
                url,
                credentials_file,
                max_alerts,
            } => {
                put("url", Some(url.value.clone()));
                put("credentials_file", opt(credentials_file.as_ref()));
                put(
                    "max_alerts",
                    max_alerts.as_ref().map(|m| m.value.to_string()),
                );
            }
        }
        if !r.inline_secrets.is_empty() {
            let mut s: Vec<String> = r.inline_secrets.iter().map(|s| s.value.clone()).collect();
            s.sort();
            e.labelled("inline_secrets", "inline secrets", Val::List(s));
        }
        f.insert(Section::Receivers, name.value.clone(), e);
    }
}

/// When an escalation step is taken: `after 15m`, or `by hand` (no time set).
fn step_when(s: &crate::model::Escalation) -> String {
    s.after
        .as_ref()
        .map_or_else(|| "by hand".to_owned(), |a| format!("after {}", a.value))
}

fn oncall(plan: &Plan, f: &mut Facts) {
    let Some(o) = plan.oncall.as_ref().map(|o| &o.value) else {
        return;
    };
    let mut e = Entry::default();
    e.text(
        "rotation",
        o.rotation
            .as_ref()
            .map(|r| format!("{:?}", r.value).to_lowercase()),
    );
    e.text(
        "handoff",
        o.handoff.as_ref().map(|h| match h.value.weekday {
            Some(d) => format!("{} {}", crate::value::schedule::weekday_name(d), h.value.at),
            None => h.value.at.to_string(),
        }),
    );
    e.text("primary", o.primary.as_ref());
    e.text("secondary", o.secondary.as_ref());
    e.duration(
        "response",
        o.response.as_ref().map(|d| d.value),
        Sense::LongerLooser,
    );
    if !o.escalation.is_empty() {
        // The order, by whom each step calls; then each step's timing, so a step that becomes
        // manual or timed is said as such.
        e.labelled(
            "escalation",
            "escalation order",
            Val::List(o.escalation.iter().map(|s| s.to.value.clone()).collect()),
        );
        for s in &o.escalation {
            e.labelled(
                format!("escalation.{}", s.to.value),
                format!("escalation step to `{}`", s.to.value),
                Val::Text(match &s.after {
                    Some(a) => format!("timed, after {}", a.value),
                    None => "manual, taken by hand".to_owned(),
                }),
            );
        }
    }
    e.list("tools", &o.tools);
    f.insert(Section::Oncall, "", e);
}

/// `standalone: WHY`: the entry is kept though nothing references it, so `ref/unused` no
/// longer watches it; a reviewer sees the marker come and go, with its reason.
fn standalone(e: &mut Entry, why: Option<&Sp<String>>) {
    if let Some(why) = why {
        e.labelled(
            "standalone",
            "`standalone` (kept with no references; `ref/unused` does not watch it)",
            Val::Text(why.value.clone()),
        );
    }
}

fn roles(plan: &Plan, f: &mut Facts) {
    for (name, r) in plan.roles.iter() {
        let mut e = Entry::with_summary(
            r.fte
                .as_ref()
                .map(|n| format!("{} FTE", n.value))
                .unwrap_or_default(),
        );
        e.text("fte", r.fte.as_ref());
        e.prose("description", r.description.as_ref());
        e.text("contact", r.contact.as_ref());
        standalone(&mut e, r.standalone.as_ref());
        f.insert(Section::Roles, name.value.clone(), e);
    }
}

fn windows(plan: &Plan, f: &mut Facts) {
    for (name, w) in plan.windows.iter() {
        let kind = w.kind.name();
        let mut e = Entry::with_summary(format!(
            "{kind}, `{}` for `{}`",
            w.schedule.value, w.duration.value
        ));
        e.push("duration", Val::Duration(w.duration.value, Sense::Neutral));
        e.push("kind", Val::Text(kind.to_owned()));
        let all: Vec<String> = plan
            .severity
            .iter()
            .flat_map(|s| s.value.levels.iter().map(|l| l.name.value.clone()))
            .collect();
        let muted = levels::muted(plan, w)
            .into_iter()
            .map(|l| l.name.value.clone())
            .collect();
        let paging = plan
            .severity
            .iter()
            .flat_map(|s| s.value.levels.iter())
            .filter(|l| levels::pages(plan, l))
            .map(|l| l.name.value.clone())
            .collect();
        e.labelled("mute", "muted levels", Val::Mutes { all, muted, paging })
            .risk_weakened = Some("a level that pages is muted during the window".to_owned());
        if let Some(d) = &w.downtime {
            let mut s: Vec<String> = d.services.iter().map(|s| s.value.clone()).collect();
            s.sort();
            e.labelled(
                "downtime.services",
                "services down during the window",
                Val::Refs(Section::Services, s),
            );
            e.labelled(
                "downtime.per_occurrence",
                "planned downtime per occurrence",
                Val::Duration(d.per_occurrence.value, Sense::Neutral),
            );
        }
        e.prose("description", w.description.as_ref());
        standalone(&mut e, w.standalone.as_ref());
        f.insert(Section::Windows, name.value.clone(), e);
    }
}

fn tasks(plan: &Plan, ranks: &Ranks<'_>, f: &mut Facts) {
    for (name, t) in plan.tasks.iter() {
        let when = match &t.when {
            When::Window(w) => format!("in window `{}`", w.value),
            When::Schedule(s) => format!("`{}`", s.value),
        };
        let mut e = Entry::with_summary(format!(
            "{}, {when}",
            if t.manual || t.command.is_none() {
                "manual"
            } else {
                "automated"
            }
        ));
        if let When::Window(w) = &t.when {
            e.push("window", Val::Ref(Section::Windows, w.value.clone()));
        }
        e.push("duration", Val::Duration(t.duration.value, Sense::Neutral));
        e.text("command", t.command.as_ref());
        e.labelled(
            "manual",
            "manual (a checklist, not a job)",
            Val::Flag(t.manual),
        );
        e.list("checklist", &t.checklist);
        e.reference(
            "service",
            Section::Services,
            t.service.as_ref().map(|r| &r.name),
        );
        e.push("type", Val::Text(t.kind.name().to_owned()));
        e.reference("owner", Section::Roles, t.owner.as_ref().map(|r| &r.name));
        e.prose("description", t.description.as_ref());
        e.reference(
            "runbook",
            Section::Runbooks,
            t.runbook.as_ref().map(|r| &r.name),
        );
        e.refs(
            "environments",
            crate::model::jobs::scope(plan, &t.environments),
        );
        if let Some(l) = &t.level {
            e.labelled(
                "level",
                "level of its missed-run alert",
                ranks.level(&l.value),
            );
        }
        f.insert(Section::Tasks, name.value.clone(), e);
    }
}

fn backups(plan: &Plan, ranks: &Ranks<'_>, f: &mut Facts) {
    for (name, b) in plan.backups.iter() {
        let scope = crate::model::jobs::scope(plan, &b.environments);
        backup(&name.value, b, scope, ranks, f);
    }
}

fn backup(
    name: &str,
    b: &Backup,
    scope: &[crate::model::EnvironmentRef],
    ranks: &Ranks<'_>,
    f: &mut Facts,
) {
    let levels: Vec<String> = b
        .levels
        .iter()
        .map(|l| format!("{} kept `{}`", l.kind.name(), l.retain.value))
        .collect();
    let mut e = Entry::with_summary(levels.join(", "));
    e.risk_removed = Some("backups are removed".to_owned());
    e.reference(
        "service",
        Section::Services,
        b.service.as_ref().map(|r| &r.name),
    );
    e.prose("description", b.description.as_ref());
    e.text("command", b.command.as_ref());
    if let Some(r) = &b.rpo {
        e.labelled("rpo", "RPO", Val::Duration(r.value, Sense::LongerLooser));
    }
    if let Some(r) = &b.rto {
        e.labelled("rto", "RTO", Val::Duration(r.value, Sense::LongerLooser));
    }
    e.reference("owner", Section::Roles, b.owner.as_ref().map(|r| &r.name));
    e.reference(
        "runbook",
        Section::Runbooks,
        b.runbook.as_ref().map(|r| &r.name),
    );
    e.refs("environments", scope);
    if let Some(l) = &b.level {
        e.labelled(
            "level",
            "level of its missed-backup alerts",
            ranks.level(&l.value),
        );
    }
    f.insert(Section::Backups, name.to_owned(), e);
    for l in &b.levels {
        let mut e =
            Entry::with_summary(format!("`{}`, kept `{}`", l.schedule.value, l.retain.value));
        e.risk_removed = Some(format!("`{}` backups are removed", l.kind.name()));
        e.labelled("retain", "retention", Val::Retention(l.retain.value))
            .risk_weakened = Some("backup retention is cut".to_owned());
        e.labelled(
            "duration",
            "time limit",
            Val::Duration(jobs::backup_limit(l), Sense::Neutral),
        );
        e.text("command", l.command.as_ref());
        e.labelled("manual", "manual", Val::Flag(l.manual));
        if let Some(l) = &l.level {
            e.labelled(
                "level",
                "level of its missed-backup alert",
                ranks.level(&l.value),
            );
        }
        f.insert(Section::Backups, format!("{name}.{}", l.kind.name()), e);
    }
    // What deletes each kind's old backups; its schedule is added by `schedules`.
    for (p, l, keep) in alerts::pruned_levels(b) {
        let (kind, when) = (l.kind.name(), &p.schedule.value);
        let mut e = Entry {
            summary: format!("deletes `{kind}` backups older than `{keep}`, `{when}`"),
            added: Some(format!(
                "now deletes `{kind}` backups older than `{keep}` `{when}` (was: nothing deleted them)"
            )),
            removed: Some(format!(
                "nothing deletes `{kind}` backups older than `{keep}` any more (was: `{when}`)"
            )),
            risk_removed: Some(format!(
                "old `{kind}` backups pile up until the disk is full"
            )),
            ..Entry::default()
        };
        e.labelled(
            "retain",
            "deletes backups older than",
            Val::Retention(Retention::For(keep)),
        );
        e.text("command", Some(&p.command.value));
        e.labelled(
            "duration",
            "time limit",
            Val::Duration(
                p.duration.as_ref().map_or(jobs::PRUNE_LIMIT, |d| d.value),
                Sense::Neutral,
            ),
        );
        if let Some(level) = &p.level {
            e.labelled(
                "level",
                "level of its missed-prune alert",
                ranks.level(&level.value),
            );
        }
        f.insert(Section::Backups, timeline::prune_name(name, l.kind), e);
    }
    if let Some(r) = &b.restore_test {
        let mut e = Entry::with_summary(format!("`{}`", r.schedule.value));
        e.risk_removed = Some("backups are no longer restore-tested".to_owned());
        e.duration(
            "duration",
            r.duration.as_ref().map(|d| d.value),
            Sense::Neutral,
        );
        e.text("command", r.command.as_ref());
        e.labelled("manual", "manual", Val::Flag(r.manual));
        e.reference(
            "runbook",
            Section::Runbooks,
            r.runbook.as_ref().map(|r| &r.name),
        );
        f.insert(Section::Backups, format!("{name}.restore_test"), e);
    }
}

/// Every scheduled item's `when`, added to its entry: windows, tasks, backup levels, restore
/// tests and reviews.
fn schedules(plan: &Plan, from: DateTime<Utc>, f: &mut Facts) {
    let tz = plan.metadata.timezone.value;
    for item in timeline::items(plan) {
        let (section, name) = match item.kind {
            ItemKind::Window => (Section::Windows, item.name.clone()),
            ItemKind::Task => (Section::Tasks, item.name.clone()),
            ItemKind::Backup | ItemKind::RestoreTest | ItemKind::Prune => {
                (Section::Backups, item.name.clone())
            }
            ItemKind::Review => (Section::Policies, format!("reviews.{}", item.name)),
        };
        let mut shown = item.schedule.to_string();
        let mut rule = item.schedule.rule().to_string();
        if !item.offset.is_zero() {
            let _ = write!(shown, " +{}", item.offset);
            let _ = write!(rule, " +{}", item.offset);
        }
        let dates = item.schedule.bound().map(|b| {
            let day = |d: chrono::NaiveDate| format!("`{}`", d.format("%Y-%m-%d"));
            match (b.from, b.last()) {
                (Some(f), Some(l)) => format!("from {} to {}", day(f), day(l)),
                (Some(f), None) => format!("from {} on", day(f)),
                (None, Some(l)) => format!("until {}", day(l)),
                (None, None) => String::new(),
            }
        });
        let starts: Vec<DateTime<crate::value::zone::Tz>> =
            item.starts(tz, from).take(NEXT).collect();
        let val = Val::When {
            shown,
            next: starts
                .iter()
                .map(|t| t.format("%a %Y-%m-%d %H:%M %Z").to_string())
                .collect(),
            instants: starts.iter().map(chrono::DateTime::timestamp).collect(),
            rule,
            dates,
        };
        let entry = f.entries(section).entry(name).or_default();
        entry.fields.insert(
            0,
            Field {
                key: "when".to_owned(),
                label: "schedule".to_owned(),
                val,
                risk_removed: None,
                risk_weakened: None,
            },
        );
    }
}

fn runbooks(plan: &Plan, f: &mut Facts) {
    for (name, r) in plan.runbooks.iter() {
        let mut e = Entry::with_summary(format!("“{}”", r.title.value));
        e.push("title", Val::Text(r.title.value.clone()));
        e.prose("description", r.description.as_ref());
        e.list("symptoms", &r.symptoms);
        if !r.diagnosis.is_empty() {
            e.push(
                "diagnosis",
                Val::List(
                    r.diagnosis
                        .iter()
                        .map(|d| {
                            flow(&[
                                ("run", opt(d.run.as_ref())),
                                ("explain", opt(d.explain.as_ref())),
                            ])
                        })
                        .collect(),
                ),
            );
        }
        e.list("actions", &r.actions);
        e.prose("verify", r.verify.as_ref());
        if let Some(x) = &r.escalate {
            e.labelled(
                "escalate",
                "escalation",
                Val::Text(format!("{} to {}", step_when(x), x.to.value)),
            );
        }
        standalone(&mut e, r.standalone.as_ref());
        f.insert(Section::Runbooks, name.value.clone(), e);
    }
}

fn per_period(
    amount: Number,
    per: crate::model::Period,
    to: crate::model::Period,
) -> Option<Number> {
    amount
        .checked_mul(Number::int(to.months()))?
        .checked_div(Number::int(per.months()))
}

fn budget(plan: &Plan, f: &mut Facts) {
    let Some(b) = plan.budget.as_ref().map(|b| &b.value) else {
        return;
    };
    budget_facts(b, f);
}

fn budget_facts(b: &Budget, f: &mut Facts) {
    let cur = b.currency.value.clone();
    let mut e = Entry::default();
    e.push("currency", Val::Text(cur.clone()));
    e.push("period", Val::Text(b.period.name().to_owned()));
    if let Some(t) = &b.total {
        e.labelled(
            "total",
            format!("total per {}", b.period.name()),
            Val::Money {
                amount: t.value.amount,
                unit: cur.clone(),
            },
        );
    }
    let sum = b
        .lines
        .iter()
        .flat_map(|c| &c.items)
        .try_fold(Number::ZERO, |acc, i| {
            acc.checked_add(per_period(i.amount.value.amount, i.per, b.period)?)
        });
    if let (Some(sum), false) = (sum, b.lines.is_empty()) {
        e.labelled(
            "lines_total",
            format!("sum of the lines per {}", b.period.name()),
            Val::Money {
                amount: sum,
                unit: cur.clone(),
            },
        );
    }
    for c in &b.lines {
        for i in &c.items {
            e.labelled(
                format!("lines.{}.{}", c.name.value, i.name.value),
                format!("line `{}.{}`", c.name.value, i.name.value),
                Val::Money {
                    amount: i.amount.value.amount,
                    unit: format!("{cur}/{}", i.per.name()),
                },
            );
            if let Some(n) = &i.note {
                e.labelled(
                    format!("lines.{}.{}.note", c.name.value, i.name.value),
                    format!("note of line `{}.{}`", c.name.value, i.name.value),
                    Val::Prose(n.value.clone()),
                );
            }
        }
    }
    for (t, p) in &b.allocation {
        e.labelled(
            format!("allocation.{}", t.name()),
            format!("`{}` allocation", t.name()),
            Val::Percent(p.value, Sense::Neutral),
        );
    }
    for (k, v) in &b.value {
        e.labelled(
            format!("value.{}", k.value),
            format!("value `{}`", k.value),
            Val::Money {
                amount: v.value.amount,
                unit: cur.clone(),
            },
        );
    }
    f.insert(Section::Budget, "", e);
}

fn environments(plan: &Plan, f: &mut Facts) {
    for (name, env) in plan.environments.iter() {
        environment(&name.value, env, f);
        overrides(plan, &name.value, env, f);
    }
}

/// What an SLO's burn-rate alerts do, in words: `pages and opens tickets`.
fn slo_alerting(s: &crate::model::Slo) -> &'static str {
    match (&s.page, &s.ticket) {
        (Some(_), Some(_)) => "pages and opens tickets",
        (Some(_), None) => "pages",
        (None, Some(_)) => "opens tickets",
        (None, None) => "records, and alerts nobody,",
    }
}

/// An environment's own objectives and thresholds (`ENV.slos.NAME`, `ENV.kpis.NAME`): each a
/// change of that SLO's or KPI's alerting in that environment, said against the plan's value
/// when it appears or goes.
fn overrides(plan: &Plan, env: &str, e: &Environment, f: &mut Facts) {
    for o in &e.slos {
        let Some(s) = plan.slos.get(&o.slo.value) else {
            continue;
        };
        let (own, base) = (o.objective.value, s.objective.value);
        let own_val = Val::Percent(own, Sense::HigherStricter);
        let mut entry = Entry::with_summary(format!("`{own}` (the plan's: `{base}`)"));
        let window = s.window.value;
        let alerting = slo_alerting(s);
        let sense = |from: Percent, to: Percent| match to.cmp(&from) {
            std::cmp::Ordering::Greater => "stricter",
            std::cmp::Ordering::Less => "looser",
            std::cmp::Ordering::Equal => "the same",
        };
        entry.added = Some(format!(
            "{alerting} when the {window} objective `{own}` burns (was `{base}`, as every environment): {}",
            sense(base, own)
        ));
        entry.removed = Some(format!(
            "{alerting} when the plan's {window} objective `{base}` burns again (was `{own}`): {}",
            sense(own, base)
        ));
        if own < base {
            entry.risk_added = Some(format!(
                "`{env}` alerts only at a looser objective than the plan's"
            ));
        }
        if base < own {
            entry.risk_removed = Some(format!(
                "`{env}` now alerts only at the plan's looser objective"
            ));
        }
        entry.labelled("objective", "objective", own_val);
        f.insert(
            Section::Environments,
            format!("{env}.slos.{}", o.slo.value),
            entry,
        );
    }
    for o in &e.kpis {
        let Some(k) = plan.kpis.get(&o.kpi.value) else {
            continue;
        };
        let bad = bad_side(k);
        let val = |t: &crate::value::Threshold| Val::Threshold {
            threshold: t.clone(),
            value: t
                .quantity
                .convert_to(&k.unit.value)
                .and_then(|v| v.checked_mul(k.unit.value.scale))
                .map(|v| (k.unit.value.family.name(), v)),
            bad,
            alert: true,
        };
        let mut entry = Entry::default();
        let (mut added, mut removed, mut summary) = (Vec::new(), Vec::new(), Vec::new());
        let (mut looser, mut stricter_gone) = (false, false);
        let own: Vec<(&str, Sp<crate::value::Threshold>)> =
            crate::model::environments::thresholds(k, o)
                .map(|(field, t)| (field, crate::model::environments::in_unit(k, t)))
                .collect();
        // Both thresholds the KPI has, as the environment sees them: a threshold it starts or
        // stops replacing reads as that threshold moving from or to the plan's.
        for (field, base) in [("warning", &k.warning), ("critical", &k.critical)] {
            let Some(base) = base else { continue };
            let label = format!("{field} threshold");
            let bv = val(&base.value);
            let Some((_, own)) = own.iter().find(|(f, _)| *f == field) else {
                entry.labelled(field, label, bv);
                continue;
            };
            let ov = val(&own.value);
            summary.push(format!(
                "{field} `{}` (the plan's: `{}`)",
                own.value, base.value
            ));
            match crate::diff::compare::said(&label, &bv, &ov) {
                Some((text, weakens)) => {
                    looser |= weakens;
                    added.push(text);
                }
                None => added.push(format!("{label} `{}`, as the plan's", own.value)),
            }
            if let Some((text, weakens)) = crate::diff::compare::said(&label, &ov, &bv) {
                stricter_gone |= weakens;
                removed.push(text);
            }
            entry.labelled(field, label, ov);
        }
        if summary.is_empty() {
            continue;
        }
        entry.summary = summary.join(", ");
        entry.added = Some(format!(
            "{} (every other environment keeps the plan's)",
            added.join("; ")
        ));
        entry.removed = Some(format!(
            "the plan's thresholds again: {}",
            if removed.is_empty() {
                "no change".to_owned()
            } else {
                removed.join("; ")
            }
        ));
        if looser {
            entry.risk_added = Some(format!("`{env}` alerts later than the plan says"));
        }
        if stricter_gone {
            entry.risk_removed = Some(format!("`{env}` alerts later than it did"));
        }
        f.insert(
            Section::Environments,
            format!("{env}.kpis.{}", o.kpi.value),
            entry,
        );
    }
}

fn environment(name: &str, env: &Environment, f: &mut Facts) {
    let mut e = Entry::with_summary(
        env.replicas
            .as_ref()
            .map(|r| format!("{} replica{}", r.value, if r.value == 1 { "" } else { "s" }))
            .unwrap_or_default(),
    );
    e.text("namespace", env.namespace.as_ref());
    e.text("replicas", env.replicas.as_ref());
    if let Some(i) = &env.image {
        e.push("image.repository", Val::Text(i.repository.value.clone()));
        e.text("image.tag", i.tag.as_ref());
        e.text("image.pull_policy", i.pull_policy.as_ref());
    }
    for (what, set) in [("requests", &env.requests), ("limits", &env.limits)] {
        e.text(&format!("{what}.cpu"), set.cpu.as_ref());
        e.text(&format!("{what}.memory"), set.memory.as_ref());
    }
    if let Some(a) = &env.autoscaling {
        e.push("autoscaling.min", Val::Text(a.min.value.to_string()));
        e.push("autoscaling.max", Val::Text(a.max.value.to_string()));
        if let Some(c) = &a.cpu {
            e.push("autoscaling.cpu", Val::Percent(c.value, Sense::Neutral));
        }
        if let Some(m) = &a.memory {
            e.push("autoscaling.memory", Val::Percent(m.value, Sense::Neutral));
        }
    }
    e.labelled("alerts", "alert rules", Val::Flag(env.alerts))
        .risk_weakened = Some("alert rules are turned off in an environment".to_owned());
    for (k, v) in &env.env {
        e.push(format!("env.{}", k.value), Val::Text(v.value.clone()));
    }
    if let Some(v) = &env.values {
        e.push("values", Val::Text(v.value.to_string()));
    }
    f.insert(Section::Environments, name.to_owned(), e);
}

fn deadline(d: &Deadline) -> String {
    match d {
        Deadline::Within(d) => format!("within {d}"),
        Deadline::Every(c) => c.name().to_owned(),
    }
}

fn policies(plan: &Plan, f: &mut Facts) {
    let Some(p) = plan.policies.as_ref().map(|p| &p.value) else {
        return;
    };
    let mut e = Entry::default();
    for (k, d) in &p.updates {
        e.labelled(
            format!("updates.{}", k.value),
            format!("{} updates", super::compare::tick(&k.value)),
            match &d.value {
                Deadline::Within(w) => Val::Duration(*w, Sense::LongerLooser),
                Deadline::Every(_) => Val::Text(deadline(&d.value)),
            },
        );
    }
    for (k, r) in &p.retention {
        e.labelled(
            format!("retention.{}", k.value),
            format!("{} retention", super::compare::tick(&k.value)),
            Val::Retention(r.value),
        );
    }
    e.duration(
        "secrets_rotation",
        p.secrets_rotation.as_ref().map(|d| d.value),
        Sense::LongerLooser,
    );
    let t = &p.targets;
    if let Some(u) = &t.uptime {
        e.push(
            "targets.uptime",
            Val::Percent(u.value, Sense::HigherStricter),
        );
    }
    e.duration(
        "targets.mttr",
        t.mttr.as_ref().map(|d| d.value),
        Sense::LongerLooser,
    );
    e.duration(
        "targets.mtbf",
        t.mtbf.as_ref().map(|d| d.value),
        Sense::LongerStricter,
    );
    if let Some(c) = &t.coverage {
        e.push(
            "targets.coverage",
            Val::Percent(c.value, Sense::HigherStricter),
        );
    }
    if let Some(r) = &t.error_rate {
        e.push(
            "targets.error_rate",
            Val::Percent(r.value, Sense::HigherLooser),
        );
    }
    if !e.fields.is_empty() {
        f.insert(Section::Policies, "", e);
    }
    for (name, r) in p.reviews.iter() {
        let mut e = Entry::with_summary(format!("`{}`", r.schedule.value));
        e.reference("owner", Section::Roles, r.owner.as_ref().map(|r| &r.name));
        e.prose("description", r.description.as_ref());
        f.insert(Section::Policies, format!("reviews.{}", name.value), e);
    }
}

fn lints(plan: &Plan, f: &mut Facts) {
    if plan.lints.is_empty() {
        return;
    }
    let mut e = Entry::default();
    let mut sorted: Vec<_> = plan.lints.iter().collect();
    sorted.sort_by(|a, b| a.0.value.cmp(&b.0.value));
    for (code, level) in sorted {
        let level = level.value.name();
        e.labelled(
            code.value.clone(),
            format!("lint `{}`", code.value),
            Val::Text(level.to_owned()),
        );
    }
    f.insert(Section::Lints, "", e);
}
