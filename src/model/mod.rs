//! The typed model of a plan: what `lower` builds from YAML and every later stage reads.
//!
//! Values are typed (durations, thresholds, schedules, percentages) and keep their spans, so
//! checks can blame the exact text; references stay names (with spans) until `resolve` has
//! checked them.
//!
//! **Invariant:** the model holds no YAML; emitters read it without knowing the source format.

use crate::value::zone::Tz;

use crate::span::{FileId, Sp, Span};
use crate::value::{
    Duration, KubeQuantity, Money, Number, Percent, Schedule, Threshold, TimeOfDay, Unit,
};

/// An enum with one name per variant, written once: `ALL`, `KEYS` (name, variant), `name()`
/// and `from_name()` all come from the one table in the invocation.
macro_rules! named {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The names, in variant order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];
            /// Each variant with the name a plan writes.
            pub const KEYS: &'static [(&'static str, $name)] = &[$(($text, $name::$variant)),+];

            /// The name a plan writes.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn from_name(s: &str) -> Option<$name> {
                Self::KEYS.iter().find(|(n, _)| *n == s).map(|(_, v)| *v)
            }
        }
    };
}

/// Named entries in the order they were written. Past a few, they are found by name through
/// an index: a plan may have tens of thousands, each looked up by every reference to it.
#[derive(Clone, Debug)]
pub struct Entries<T> {
    items: Vec<(Sp<String>, T)>,
    /// The position of the first entry of each name; empty while there are few entries.
    index: std::collections::HashMap<String, usize>,
}

/// Entries searched one by one rather than through the index.
const UNINDEXED: usize = 16;

impl<T> Default for Entries<T> {
    fn default() -> Self {
        Entries {
            items: Vec::new(),
            index: std::collections::HashMap::new(),
        }
    }
}

impl<T> Entries<T> {
    pub fn push(&mut self, name: Sp<String>, value: T) {
        self.items.push((name, value));
        if self.items.len() == UNINDEXED {
            for (i, (n, _)) in self.items.iter().enumerate() {
                self.index.entry(n.value.clone()).or_insert(i);
            }
        } else if self.items.len() > UNINDEXED {
            let i = self.items.len() - 1;
            self.index.entry(self.items[i].0.value.clone()).or_insert(i);
        }
    }

    fn position(&self, name: &str) -> Option<usize> {
        if self.items.len() < UNINDEXED {
            self.items.iter().position(|(n, _)| n.value == name)
        } else {
            self.index.get(name).copied()
        }
    }

    pub fn get(&self, name: &str) -> Option<&T> {
        self.position(name).map(|i| &self.items[i].1)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut T> {
        self.position(name).map(|i| &mut self.items[i].1)
    }

    pub fn name(&self, name: &str) -> Option<&Sp<String>> {
        self.position(name).map(|i| &self.items[i].0)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Sp<String>, &T)> {
        self.items.iter().map(|(n, v)| (n, v))
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.items.iter().map(|(n, _)| n.value.as_str())
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

named! {
    pub enum DocKind {
        Plan = "Plan",
        Fragment = "Fragment",
    }
}

/// One file, lowered. After `resolve`, a plan's document also holds what it imported.
#[derive(Clone, Debug)]
pub struct Document {
    pub file: FileId,
    pub kind: DocKind,
    pub metadata: Metadata,
    pub imports: Vec<Sp<String>>,
    pub execution: Execution,
    pub services: Entries<Service>,
    pub kpis: Entries<Kpi>,
    pub slos: Entries<Slo>,
    pub severity: Option<Sp<Severity>>,
    pub receivers: Entries<Receiver>,
    pub oncall: Option<Sp<Oncall>>,
    pub roles: Entries<Role>,
    pub windows: Entries<Window>,
    pub tasks: Entries<Task>,
    pub backups: Entries<Backup>,
    pub runbooks: Entries<Runbook>,
    pub budget: Option<Sp<Budget>>,
    pub environments: Entries<Environment>,
    pub policies: Option<Sp<Policies>>,
    pub lints: Lints,
}

/// A resolved plan: a document of kind `Plan` with its imports merged and every reference
/// checked. Only `resolve` makes one, so a stage that takes a `Plan` never sees an
/// unresolved document.
#[derive(Clone, Debug)]
pub struct Plan(Document);

impl Plan {
    /// Wrap a merged document whose references have been checked.
    pub(crate) fn resolved(doc: Document) -> Plan {
        Plan(doc)
    }

    /// Where the node exporter series of `service`'s hosts come from: its own `hosts`, else the
    /// plan's, else [`DEFAULT_HOSTS`]. The label matchers are trimmed.
    pub(crate) fn hosts(&self, service: &str) -> (&str, Hosts) {
        if let Some(h) = self.services.get(service).and_then(|s| s.hosts.as_ref()) {
            return (h.value.trim(), Hosts::Service);
        }
        self.plan_hosts()
    }

    /// The plan's own `hosts`, or [`DEFAULT_HOSTS`].
    pub(crate) fn plan_hosts(&self) -> (&str, Hosts) {
        match &self.metadata.hosts {
            Some(h) => (h.value.trim(), Hosts::Plan),
            None => (DEFAULT_HOSTS, Hosts::Default),
        }
    }
}

/// The label matchers of the node exporter series when neither a service nor the plan says:
/// the node exporter's usual scrape job.
pub(crate) const DEFAULT_HOSTS: &str = "job=\"node\"";

/// Whose `hosts` a service's host metrics are read with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hosts {
    /// The service's own `hosts`.
    Service,
    /// `metadata.hosts`.
    Plan,
    /// Neither: [`DEFAULT_HOSTS`].
    Default,
}

impl std::ops::Deref for Plan {
    type Target = Document;
    fn deref(&self) -> &Document {
        &self.0
    }
}

#[derive(Clone, Debug)]
pub struct Metadata {
    pub name: Sp<String>,
    pub title: Option<Sp<String>>,
    pub description: Option<Sp<String>>,
    pub owner: Option<Sp<String>>,
    pub timezone: Sp<Tz>,
    pub labels: Vec<(Sp<String>, Sp<String>)>,
    pub runbook_base_url: Option<Sp<String>>,
    /// Label matchers of the node exporter series of the plan's hosts (`resource:` KPIs),
    /// unless a service names its own; `job="node"` when neither does.
    pub hosts: Option<Sp<String>>,
}

#[derive(Clone, Debug, Default)]
pub struct Execution {
    pub image: Option<Sp<String>>,
    pub namespace: Option<Sp<String>>,
    pub textfile_dir: Option<Sp<String>>,
    pub service_account: Option<Sp<String>>,
    /// `host:port` of the blackbox exporter that runs the HTTP and TCP health checks.
    pub blackbox: Option<Sp<String>>,
    /// The environments whose Helm values run the tasks and backups that do not list their own
    /// (empty: every environment).
    pub environments: Vec<EnvironmentRef>,
    /// `host:port` of the Pushgateway that guarded Kubernetes jobs report their real runs to.
    pub pushgateway: Option<Sp<String>>,
    /// Runbook of the alert raised when an automated task or backup does not succeed in time,
    /// unless the task or backup names its own.
    pub runbook: Option<RunbookRef>,
}

named! {
    pub enum ServiceKind {
        Service = "service",
        Database = "database",
        Cache = "cache",
        Queue = "queue",
        Frontend = "frontend",
        Worker = "worker",
        Storage = "storage",
        External = "external",
    }
}

#[derive(Clone, Debug)]
pub struct Service {
    pub description: Option<Sp<String>>,
    pub kind: ServiceKind,
    /// Prometheus `job` label; defaults to the service name (span of the name).
    pub job: Sp<String>,
    /// Label matchers of the node exporter series of the hosts the service runs on.
    pub hosts: Option<Sp<String>>,
    pub port: Option<Sp<u16>>,
    pub url: Option<Sp<String>>,
    pub health: Option<Health>,
    pub depends_on: Vec<Dependency>,
    pub impact: Option<ImpactRef>,
    pub owner: Option<RoleRef>,
    pub runbook: Option<RunbookRef>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Probe {
    Http(String),
    Tcp(String),
    Command(String),
}

#[derive(Clone, Debug)]
pub struct Health {
    pub probe: Sp<Probe>,
    pub interval: Sp<Duration>,
    pub timeout: Sp<Duration>,
    /// Attempts per `interval`: the check fails when all of them fail (see `model::probes`).
    pub retries: Sp<u32>,
    /// The level of the `…Down` alert, instead of the matrix cell.
    pub level: Option<LevelRef>,
    /// HTTP method of an `http` check (`GET` unless given).
    pub method: Option<Sp<String>>,
    /// Status codes an `http` check accepts (any 2xx unless given).
    pub status: Vec<Sp<u16>>,
    /// What the response body of an `http` check must contain, with the level of its own
    /// alert (see `model::probes`).
    pub body: Option<Body>,
}

/// `health.body`: what an `http` check's response must say for the service to be healthy.
/// An answer that does not say it fails the check as the body's own `…Unhealthy` alert, not
/// as `…Down`.
#[derive(Clone, Debug)]
pub struct Body {
    pub expect: Sp<BodyExpect>,
    /// The level of the `…Unhealthy` alert, instead of the matrix's warning cell.
    pub level: Option<LevelRef>,
    /// The runbook of the `…Unhealthy` alert, instead of the service's.
    pub runbook: Option<RunbookRef>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyExpect {
    /// `json: {FIELD: VALUE}`: fields of an object in the JSON body, each with its value as
    /// JSON text (`true`, `"ok"`, `3`, `null`), in plan order.
    Json(Vec<(String, String)>),
    /// `matches: PATTERN`: an RE2 regular expression the body must match.
    Matches(String),
}

#[derive(Clone, Debug)]
pub struct Dependency {
    pub service: ServiceRef,
    pub hard: bool,
}

#[derive(Clone, Debug)]
pub struct Kpi {
    pub service: ServiceRef,
    pub description: Option<Sp<String>>,
    pub indicator: Sp<Indicator>,
    pub unit: Sp<Unit>,
    pub objective: Option<Sp<Threshold>>,
    pub warning: Option<Sp<Threshold>>,
    pub critical: Option<Sp<Threshold>>,
    pub for_: Option<Sp<Duration>>,
    /// The `for` of each threshold written as `{value, for}`: it wins over the KPI's `for`.
    pub waits: ThresholdWaits,
    /// What the thresholds judge: the indicator's value at each evaluation, or (`over`) its
    /// average, maximum or minimum over a window.
    pub over: Option<Sp<Over>>,
    pub runbook: Option<RunbookRef>,
    pub levels: AlertLevels,
}

/// A KPI judged on an aggregate of its values over a window (`over: {avg: 1h}`): "avg < 70%"
/// is the hour's average, "peak < 80%" the window's maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Over {
    pub aggregation: Aggregation,
    pub window: Duration,
}

named! {
    /// How `over` aggregates a KPI's values: the keys of `kpis.*.over`.
    pub enum Aggregation {
        Avg = "avg",
        Max = "max",
        Min = "min",
    }
}

impl Aggregation {
    /// The `PromQL` function over a range of the recorded series.
    pub fn function(self) -> &'static str {
        match self {
            Aggregation::Avg => "avg_over_time",
            Aggregation::Max => "max_over_time",
            Aggregation::Min => "min_over_time",
        }
    }

    /// The word for the aggregate: `average`, `maximum`, `minimum`.
    pub fn noun(self) -> &'static str {
        match self {
            Aggregation::Avg => "average",
            Aggregation::Max => "maximum",
            Aggregation::Min => "minimum",
        }
    }
}

impl std::fmt::Display for Over {
    /// `the 1h average`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the {} {}", self.window, self.aggregation.noun())
    }
}

/// The `for` a threshold gives itself (`warning: {value: "> 90%", for: 10m}`).
#[derive(Clone, Debug, Default)]
pub struct ThresholdWaits {
    pub warning: Option<Sp<Duration>>,
    pub critical: Option<Sp<Duration>>,
}

#[derive(Clone, Debug, Default)]
pub struct AlertLevels {
    pub warning: Option<LevelRef>,
    pub critical: Option<LevelRef>,
}

named! {
    pub enum Resource {
        Cpu = "cpu",
        Memory = "memory",
        Disk = "disk",
    }
}

named! {
    pub enum RatePer {
        Second = "s",
        Minute = "min",
        Hour = "h",
        Day = "d",
    }
}

impl RatePer {
    /// The period, in seconds: what the per-second rate is multiplied by.
    pub fn seconds(self) -> u64 {
        match self {
            RatePer::Second => 1,
            RatePer::Minute => 60,
            RatePer::Hour => 3600,
            RatePer::Day => 86_400,
        }
    }

    /// The `rate()` window when the plan gives none: a few scrapes for a rate per second or
    /// minute, the whole period for a rate per hour or day. A count per day (`> 500 req/d`)
    /// is low enough that five minutes of it is a handful of events, and traffic has a daily
    /// cycle: extrapolating five minutes to a day would cross the threshold every night and
    /// every morning. Over the whole period the value is the count of the last hour or day
    /// (`rate(c[1d]) * 86400` is `increase(c[1d])`), which is what the threshold says.
    pub fn default_window(self) -> Duration {
        match self {
            RatePer::Second | RatePer::Minute => Duration::from_mins(5),
            RatePer::Hour => Duration::from_hours(1),
            RatePer::Day => Duration::from_hours(24),
        }
    }

    /// The unit of the rate: `req/s`, `req/min`, `req/h`, `req/d`.
    pub fn unit(self) -> Option<Unit> {
        Unit::parse(&format!("req/{}", self.name()))
    }
}

#[derive(Clone, Debug)]
pub enum Indicator {
    Expr(Sp<String>),
    Latency {
        histogram: Sp<String>,
        quantile: Sp<Number>,
        window: Sp<Duration>,
        selector: Option<Sp<String>>,
    },
    ErrorRatio {
        errors: Sp<String>,
        total: Sp<String>,
        window: Sp<Duration>,
    },
    Throughput {
        counter: Sp<String>,
        window: Sp<Duration>,
        per: RatePer,
        selector: Option<Sp<String>>,
    },
    Resource(Resource),
    Up {
        job: Option<Sp<String>>,
    },
}

named! {
    /// The kinds of KPI indicator: the keys of `kpis.*.indicator`.
    pub enum IndicatorKind {
        Expr = "expr",
        Latency = "latency",
        ErrorRatio = "error_ratio",
        Throughput = "throughput",
        Resource = "resource",
        Up = "up",
    }
}

impl Indicator {
    pub fn kind(&self) -> IndicatorKind {
        match self {
            Indicator::Expr(_) => IndicatorKind::Expr,
            Indicator::Latency { .. } => IndicatorKind::Latency,
            Indicator::ErrorRatio { .. } => IndicatorKind::ErrorRatio,
            Indicator::Throughput { .. } => IndicatorKind::Throughput,
            Indicator::Resource(_) => IndicatorKind::Resource,
            Indicator::Up { .. } => IndicatorKind::Up,
        }
    }

    pub fn kind_name(&self) -> &'static str {
        self.kind().name()
    }

    /// The unit of the series the indicator's expression yields: its kind's own (`s` for
    /// latency, `%` for ratios and resources), none for `expr` (the written `unit` says).
    /// Thresholds are compared in it, whatever unit the plan writes them in.
    pub fn native_unit(&self) -> Option<crate::value::Unit> {
        use crate::value::Unit;
        match self {
            Indicator::Expr(_) => None,
            Indicator::Latency { .. } => Unit::parse("s"),
            Indicator::ErrorRatio { .. } | Indicator::Resource(_) => Unit::parse("%"),
            Indicator::Throughput { per, .. } => per.unit(),
            Indicator::Up { .. } => Unit::parse("count"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Slo {
    pub service: ServiceRef,
    pub description: Option<Sp<String>>,
    pub objective: Sp<Percent>,
    pub window: Sp<Duration>,
    pub indicator: Sp<SloIndicator>,
    /// Levels of the burn-rate alerts; an SLO without them is recorded, not alerted.
    pub page: Option<LevelRef>,
    pub ticket: Option<LevelRef>,
    pub runbook: Option<RunbookRef>,
}

named! {
    /// The kinds of SLI: the keys of `slos.*.indicator`.
    pub enum SloIndicatorKind {
        ErrorRatio = "error_ratio",
        Latency = "latency",
        Up = "up",
    }
}

#[derive(Clone, Debug)]
pub enum SloIndicator {
    ErrorRatio {
        errors: Sp<String>,
        total: Sp<String>,
    },
    /// Share of requests slower than `threshold` seconds.
    Latency {
        histogram: Sp<String>,
        threshold: Sp<Number>,
        selector: Option<Sp<String>>,
    },
    Up {
        job: Option<Sp<String>>,
    },
}

#[derive(Clone, Debug)]
pub struct Severity {
    /// Most urgent first.
    pub levels: Vec<Level>,
    pub matrix: Option<Matrix>,
    pub likelihood_of: LikelihoodOf,
    pub default_impact: Option<ImpactRef>,
    pub require_runbook: Option<Vec<LevelRef>>,
}

impl Severity {
    pub fn level(&self, name: &str) -> Option<&Level> {
        self.levels.iter().find(|l| l.name.value == name)
    }

    /// 0 is the most urgent.
    pub fn rank(&self, name: &str) -> Option<usize> {
        self.levels.iter().position(|l| l.name.value == name)
    }
}

#[derive(Clone, Debug)]
pub struct Level {
    pub name: Sp<String>,
    pub response: Sp<Duration>,
    pub resolve: Option<Sp<Duration>>,
    pub notify: Vec<ReceiverRef>,
    pub repeat: Option<Sp<Duration>>,
    pub description: Option<Sp<String>>,
    /// The conventional `severity` label of its alerts, when written (see
    /// [`levels::severity`] for the default).
    pub severity: Option<Sp<SeverityLabel>>,
    /// Whether its alerts page someone, when written (see [`levels::pages`] for the default).
    pub pages: Option<bool>,
}

named! {
    /// The conventional `severity` label the ecosystem routes on (dashboards, shared
    /// Alertmanager routes, PagerDuty): what a level's alerts carry besides `level`.
    pub enum SeverityLabel {
        Critical = "critical",
        Warning = "warning",
        Info = "info",
    }
}

#[derive(Clone, Debug)]
pub struct Matrix {
    pub likelihood: Vec<Sp<String>>,
    /// Rows in the order written; each row's span covers its list.
    pub impact: Vec<MatrixRow>,
}

impl Matrix {
    /// The level at `impact` × `likelihood`.
    pub fn cell(&self, impact: &str, likelihood: &str) -> Option<&LevelRef> {
        let col = self.likelihood.iter().position(|l| l.value == likelihood)?;
        let (_, row) = self.impact.iter().find(|(r, _)| r.value == impact)?;
        row.value.get(col)
    }
}

/// An impact row: its name and its cells (levels), one per likelihood column.
pub type MatrixRow = (Sp<String>, Sp<Vec<LevelRef>>);

#[derive(Clone, Debug, Default)]
pub struct LikelihoodOf {
    pub warning: Option<LikelihoodRef>,
    pub critical: Option<LikelihoodRef>,
}

#[derive(Clone, Debug)]
pub struct Receiver {
    pub kind: ReceiverKind,
    /// Secret fields written inline (`api_url`, `routing_key`…): the field name and its span.
    pub inline_secrets: Vec<Sp<String>>,
}

#[derive(Clone, Debug)]
pub enum ReceiverKind {
    Slack {
        channel: Sp<String>,
        api_url_file: Option<Sp<String>>,
        username: Option<Sp<String>>,
        send_resolved: bool,
    },
    Email {
        to: Sp<String>,
        from: Sp<String>,
        smarthost: Sp<String>,
        auth_username: Option<Sp<String>>,
        auth_password_file: Option<Sp<String>>,
    },
    PagerDuty {
        routing_key_file: Option<Sp<String>>,
        severity: Option<Sp<String>>,
    },
    Opsgenie {
        api_key_file: Option<Sp<String>>,
        priority: Option<Sp<String>>,
        responders: Vec<Sp<String>>,
    },
    /// A generic webhook: the endpoint (not a secret) and the file of its bearer credentials.
    Webhook {
        url: Sp<String>,
        credentials_file: Option<Sp<String>>,
        max_alerts: Option<Sp<u32>>,
    },
}

named! {
    /// The kinds of receiver: the keys of `receivers.*`.
    pub enum Channel {
        Slack = "slack",
        Email = "email",
        PagerDuty = "pagerduty",
        Opsgenie = "opsgenie",
        Webhook = "webhook",
    }
}

impl ReceiverKind {
    pub fn channel(&self) -> Channel {
        match self {
            ReceiverKind::Slack { .. } => Channel::Slack,
            ReceiverKind::Email { .. } => Channel::Email,
            ReceiverKind::PagerDuty { .. } => Channel::PagerDuty,
            ReceiverKind::Opsgenie { .. } => Channel::Opsgenie,
            ReceiverKind::Webhook { .. } => Channel::Webhook,
        }
    }

    pub fn kind_name(&self) -> &'static str {
        self.channel().name()
    }
}

named! {
    pub enum Rotation {
        Daily = "daily",
        Weekly = "weekly",
        Biweekly = "biweekly",
        Monthly = "monthly",
    }
}

#[derive(Clone, Debug)]
pub struct Oncall {
    pub rotation: Option<Sp<Rotation>>,
    pub handoff: Option<Sp<Handoff>>,
    pub primary: Option<RoleRef>,
    pub secondary: Option<RoleRef>,
    pub response: Option<Sp<Duration>>,
    pub escalation: Vec<Escalation>,
    pub tools: Vec<Sp<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handoff {
    pub weekday: Option<chrono::Weekday>,
    pub at: TimeOfDay,
}

#[derive(Clone, Debug)]
pub struct Escalation {
    /// How long after the alert the step is taken; `None` for a step taken by hand, in order,
    /// with no time set (the seed says who, not when).
    pub after: Option<Sp<Duration>>,
    pub to: EscalationRef,
}

#[derive(Clone, Debug)]
pub struct Role {
    pub fte: Option<Sp<Number>>,
    pub description: Option<Sp<String>>,
    pub contact: Option<Sp<String>>,
    /// `standalone: WHY`: kept on purpose though nothing references it (a vendor to call by
    /// hand); `ref/unused` does not report it.
    pub standalone: Option<Sp<String>>,
}

named! {
    pub enum WindowKind {
        Maintenance = "maintenance",
        Freeze = "freeze",
    }
}

#[derive(Clone, Debug)]
pub struct Window {
    pub schedule: Sp<Schedule>,
    pub duration: Sp<Duration>,
    pub kind: WindowKind,
    pub mute: Mute,
    pub downtime: Option<Downtime>,
    pub description: Option<Sp<String>>,
    /// See [`Role::standalone`].
    pub standalone: Option<Sp<String>>,
}

/// What a window's `mute` says (see [`levels::mutes`] for which levels that is).
#[derive(Clone, Debug, Default)]
pub enum Mute {
    /// `false`, or not written.
    #[default]
    Nothing,
    /// `true`: every level that does not page.
    NonPaging,
    /// The levels listed.
    Levels(Vec<LevelRef>),
}

#[derive(Clone, Debug)]
pub struct Downtime {
    pub services: Vec<ServiceRef>,
    pub per_occurrence: Sp<Duration>,
}

named! {
    pub enum TaskType {
        Predictive = "predictive",
        Preventive = "preventive",
        Corrective = "corrective",
        Perfective = "perfective",
    }
}

#[derive(Clone, Debug)]
pub enum When {
    Window(WindowRef),
    Schedule(Sp<Schedule>),
}

#[derive(Clone, Debug)]
pub struct Task {
    pub when: When,
    pub duration: Sp<Duration>,
    pub command: Option<Sp<String>>,
    pub manual: bool,
    pub checklist: Vec<Sp<String>>,
    pub service: Option<ServiceRef>,
    pub kind: TaskType,
    pub owner: Option<RoleRef>,
    pub description: Option<Sp<String>>,
    pub runbook: Option<RunbookRef>,
    /// The environments whose Helm values run it as a `CronJob` (empty: all of them).
    pub environments: Vec<EnvironmentRef>,
    /// The level of its missed-run alert, instead of the matrix's warning column.
    pub level: Option<LevelRef>,
}

named! {
    pub enum BackupKind {
        Full = "full",
        Incremental = "incremental",
        Differential = "differential",
        Snapshot = "snapshot",
        Weekly = "weekly",
        Monthly = "monthly",
        Yearly = "yearly",
    }
}

/// How long a backup is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retention {
    For(Duration),
    Forever,
}

impl std::fmt::Display for Retention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Retention::For(d) => d.fmt(f),
            Retention::Forever => f.write_str("forever"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct BackupLevel {
    pub kind: BackupKind,
    pub key: Span,
    pub schedule: Sp<Schedule>,
    pub retain: Sp<Retention>,
    /// How long a run may take: its time limit (default: `model::jobs::backup_limit`).
    pub duration: Option<Sp<Duration>>,
    pub command: Option<Sp<String>>,
    pub manual: bool,
    /// The level of this kind's missed-backup alert, instead of the backup's `level`.
    pub level: Option<LevelRef>,
}

#[derive(Clone, Debug)]
pub struct Backup {
    pub service: Option<ServiceRef>,
    pub description: Option<Sp<String>>,
    pub command: Option<Sp<String>>,
    pub levels: Vec<BackupLevel>,
    pub rpo: Option<Sp<Duration>>,
    pub rto: Option<Sp<Duration>>,
    pub restore_test: Option<RestoreTest>,
    pub owner: Option<RoleRef>,
    /// What to do when a backup fails (the alert's runbook).
    pub runbook: Option<RunbookRef>,
    /// The environments whose Helm values run it as a `CronJob` (empty: all of them).
    pub environments: Vec<EnvironmentRef>,
    /// The level of its missed-backup alerts, instead of the matrix's critical column.
    pub level: Option<LevelRef>,
    /// What deletes the backups older than their `retain`.
    pub prune: Option<Prune>,
}

/// `backups.NAME.prune`: the command that deletes the backups of one kind older than its
/// `retain`, run once per automated kind with a finite `retain` (see `model::jobs::prunes`).
#[derive(Clone, Debug)]
pub struct Prune {
    /// Run with the kind as `$1` and the retention in whole minutes as `$2`.
    pub command: Sp<String>,
    /// When it runs: the plan's, or [`PRUNE_SCHEDULE`] (spanned at `command`).
    pub schedule: Sp<Schedule>,
    /// Whether `schedule` was written (the default otherwise).
    pub scheduled: bool,
    /// How long a run may take: its time limit (default: `model::jobs::PRUNE_LIMIT`).
    pub duration: Option<Sp<Duration>>,
    /// The level of its missed-run alerts, instead of the matrix's warning column.
    pub level: Option<LevelRef>,
}

/// When a prune runs if its `schedule` is not written: midday, away from the nightly backups.
pub const PRUNE_SCHEDULE: &str = "daily at 12:00";

#[derive(Clone, Debug)]
pub struct RestoreTest {
    pub schedule: Sp<Schedule>,
    pub duration: Option<Sp<Duration>>,
    pub command: Option<Sp<String>>,
    pub manual: bool,
    pub runbook: Option<RunbookRef>,
}

#[derive(Clone, Debug)]
pub struct Runbook {
    pub title: Sp<String>,
    pub description: Option<Sp<String>>,
    pub symptoms: Vec<Sp<String>>,
    pub diagnosis: Vec<DiagnosisStep>,
    pub actions: Vec<Sp<String>>,
    pub verify: Option<Sp<String>>,
    pub escalate: Option<Escalation>,
    /// See [`Role::standalone`].
    pub standalone: Option<Sp<String>>,
}

#[derive(Clone, Debug)]
pub struct DiagnosisStep {
    pub run: Option<Sp<String>>,
    pub explain: Option<Sp<String>>,
}

named! {
    pub enum Period {
        Month = "month",
        Quarter = "quarter",
        Year = "year",
    }
}

impl Period {
    pub fn months(self) -> i64 {
        match self {
            Period::Month => 1,
            Period::Quarter => 3,
            Period::Year => 12,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Budget {
    pub currency: Sp<String>,
    pub period: Period,
    pub total: Option<Sp<Money>>,
    pub lines: Vec<BudgetCategory>,
    pub allocation: Vec<(TaskType, Sp<Percent>)>,
    pub value: Vec<(Sp<String>, Sp<Money>)>,
}

#[derive(Clone, Debug)]
pub struct BudgetCategory {
    pub name: Sp<String>,
    pub items: Vec<BudgetItem>,
}

#[derive(Clone, Debug)]
pub struct BudgetItem {
    pub name: Sp<String>,
    pub amount: Sp<Money>,
    /// The period the amount is stated per (the budget's period for a bare amount).
    pub per: Period,
    pub note: Option<Sp<String>>,
}

#[derive(Clone, Debug)]
pub struct Environment {
    pub namespace: Option<Sp<String>>,
    pub replicas: Option<Sp<u32>>,
    pub image: Option<Image>,
    pub requests: ResourceSet,
    pub limits: ResourceSet,
    pub autoscaling: Option<Autoscaling>,
    pub alerts: bool,
    pub env: Vec<(Sp<String>, Sp<String>)>,
    /// Free-form Helm values, merged last.
    pub values: Option<Sp<serde_json::Value>>,
    /// The dotted path of every key in `values` (through nested mappings) and its span.
    pub value_keys: Vec<(String, Span)>,
    /// The SLO objectives that differ in this environment (`slos: {NAME: {objective}}`).
    pub slos: Vec<SloOverride>,
    /// The KPI thresholds that differ in this environment (`kpis: {NAME: {warning, critical}}`).
    pub kpis: Vec<KpiOverride>,
}

impl Environment {
    /// Whether it overrides an objective or a threshold: its rules are then its own
    /// (see `model::environments::effective`).
    pub fn overrides(&self) -> bool {
        !self.slos.is_empty() || !self.kpis.is_empty()
    }
}

/// `environments.ENV.slos.NAME`: the objective of an SLO in one environment.
#[derive(Clone, Debug)]
pub struct SloOverride {
    pub slo: SloRef,
    pub objective: Sp<Percent>,
}

/// `environments.ENV.kpis.NAME`: the alert thresholds of a KPI in one environment.
#[derive(Clone, Debug)]
pub struct KpiOverride {
    pub kpi: KpiRef,
    pub warning: Option<Sp<Threshold>>,
    pub critical: Option<Sp<Threshold>>,
}

#[derive(Clone, Debug)]
pub struct Image {
    pub repository: Sp<String>,
    pub tag: Option<Sp<String>>,
    pub pull_policy: Option<Sp<String>>,
}

#[derive(Clone, Debug, Default)]
pub struct ResourceSet {
    pub cpu: Option<Sp<KubeQuantity>>,
    pub memory: Option<Sp<KubeQuantity>>,
}

#[derive(Clone, Debug)]
pub struct Autoscaling {
    pub min: Sp<u32>,
    pub max: Sp<u32>,
    pub cpu: Option<Sp<Percent>>,
    pub memory: Option<Sp<Percent>>,
}

named! {
    pub enum Cadence {
        Daily = "daily",
        Weekly = "weekly",
        Monthly = "monthly",
        Quarterly = "quarterly",
        Semiannual = "semiannual",
        Yearly = "yearly",
    }
}

/// "within 48h" or "monthly".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Deadline {
    Within(Duration),
    Every(Cadence),
}

#[derive(Clone, Debug, Default)]
pub struct Policies {
    pub updates: Vec<(Sp<String>, Sp<Deadline>)>,
    pub retention: Vec<(Sp<String>, Sp<Retention>)>,
    pub secrets_rotation: Option<Sp<Duration>>,
    pub targets: Targets,
    pub reviews: Entries<Review>,
}

#[derive(Clone, Debug, Default)]
pub struct Targets {
    pub uptime: Option<Sp<Percent>>,
    pub mttr: Option<Sp<Duration>>,
    pub mtbf: Option<Sp<Duration>>,
    pub coverage: Option<Sp<Percent>>,
    pub error_rate: Option<Sp<Percent>>,
}

#[derive(Clone, Debug)]
pub struct Review {
    pub schedule: Sp<Schedule>,
    pub owner: Option<RoleRef>,
    pub description: Option<Sp<String>>,
}

/// A plan's `lints:`: diagnostic codes and the level each is raised or lowered to, in order.
pub type Lints = Vec<(Sp<String>, Sp<LintLevel>)>;

named! {
    pub enum LintLevel {
        Allow = "allow",
        Warn = "warn",
        Deny = "deny",
    }
}

pub(crate) mod alerts;
pub(crate) mod budget;
pub(crate) mod burn;
pub(crate) mod environments;
pub(crate) mod jobs;
pub mod levels;
pub(crate) mod probes;
pub mod refs;
pub(crate) mod timeline;
pub(crate) mod values;

pub use refs::{
    EnvironmentRef, EscalationRef, ImpactRef, KpiRef, LevelRef, LikelihoodRef, ReceiverRef, Ref,
    RefKind, RoleRef, RunbookRef, ServiceRef, SloRef, WindowRef,
};
