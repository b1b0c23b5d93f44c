//! What the templates receive: plain, serializable data built from the model. Plan text is
//! passed as written (templates escape it with the `md`, `code` and `cell_code` filters);
//! values upkeep computes (durations, levels, amounts, links) are passed ready to print.

use serde::Serialize;

use super::calendar::{self, Chart, Frequency};
use crate::model::alerts::{self, Alert, HealthAlert, LevelError, Source, Urgency};
use crate::model::levels;
use crate::model::refs::{RefKind, Section, references};
use crate::model::timeline::{self, Item, ItemKind};
use crate::model::{
    Deadline, Plan, Probe, ReceiverKind, Rotation, ServiceKind, When, WindowKind, budget,
};
use crate::span::Sp;
use crate::value::money::group;
use crate::value::{Duration, Number, Percent};

/// File names of the pages every plan has, next to the runbook pages.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Files {
    pub index: String,
    pub postmortem: String,
}

impl Files {
    /// `index.md` and `postmortem.md`, unless a runbook already has that name (its page must be
    /// where `runbook_url` points): then `_index.md` / `_postmortem.md`, which no runbook name
    /// can take.
    pub(crate) fn of(plan: &Plan) -> Files {
        let pick = |name: &str| {
            if plan.runbooks.contains(name) {
                format!("_{name}.md")
            } else {
                format!("{name}.md")
            }
        };
        Files {
            index: pick("index"),
            postmortem: pick("postmortem"),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct PlanInfo {
    pub name: String,
    /// The title, or the name when there is none.
    pub title: String,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub timezone: String,
    pub labels: Vec<Pair>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Pair {
    pub name: String,
    pub value: String,
}

/// A runbook reference: `href` is the page, absent when the plan does not define the runbook.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Link {
    pub name: String,
    pub title: String,
    pub href: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct AlertRow {
    pub name: String,
    /// The severity level, when one could be found.
    pub level: Option<String>,
    /// Why there is no level.
    pub level_missing: Option<String>,
    /// The level's response time.
    pub response: Option<String>,
    pub urgency: &'static str,
    /// What raises it: `kpi`, `slo`, `health` or `freshness`.
    pub source: &'static str,
    /// The KPI, SLO, service, task or backup level (`db.full`) it watches.
    pub subject: String,
    pub service: Option<String>,
    /// When it fires, in words.
    pub fires: String,
    pub runbook: Option<Link>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct RunbookRow {
    pub link: Link,
    pub description: Option<String>,
    pub alerts: usize,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Receiver {
    pub name: String,
    /// `Slack #ops`, `e-mail to ops@example.org`.
    pub target: String,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct LevelRow {
    pub name: String,
    pub response: String,
    pub resolve: Option<String>,
    pub repeat: Option<String>,
    pub description: Option<String>,
    pub notify: Vec<Receiver>,
    /// Whether its alerts page someone.
    pub pages: bool,
    /// The conventional `severity` label of its alerts (`critical`, `warning`, `info`).
    pub label: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct MatrixColumn {
    pub name: String,
    /// `warning`, `critical` or `warning, critical`: which alerts use this column.
    pub used_by: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct MatrixCell {
    pub level: String,
    pub response: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct MatrixRowCx {
    pub impact: String,
    /// Services rated at this impact (and `default` when it is `default_impact`).
    pub services: Vec<String>,
    pub default: bool,
    pub cells: Vec<MatrixCell>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct MatrixCx {
    pub columns: Vec<MatrixColumn>,
    pub rows: Vec<MatrixRowCx>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct SeverityCx {
    pub levels: Vec<LevelRow>,
    pub matrix: Option<MatrixCx>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Step {
    /// `None`: a step taken by hand, with no time set.
    pub after: Option<String>,
    pub to: String,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct OncallCx {
    pub rotation: Option<String>,
    pub handoff: Option<String>,
    pub primary: Option<String>,
    pub secondary: Option<String>,
    pub response: Option<String>,
    pub escalation: Vec<Step>,
    pub tools: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct RoleRow {
    pub name: String,
    pub fte: Option<String>,
    pub contact: Option<String>,
    pub description: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct ServiceRow {
    pub name: String,
    pub kind: &'static str,
    pub job: String,
    pub port: Option<u16>,
    pub url: Option<String>,
    /// The probe: `name` is `HTTP`, `TCP` or `command`, `value` what it checks.
    pub health: Option<Pair>,
    pub depends_on: Vec<String>,
    pub impact: Option<String>,
    pub owner: Option<String>,
    pub runbook: Option<Link>,
    pub description: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct GraphNode {
    /// `s0`, `s1`…: never a Mermaid keyword.
    pub id: String,
    pub label: String,
    /// Mermaid shape delimiters for the kind (`[(` `)]` for a database).
    pub open: &'static str,
    pub close: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct GraphEdge {
    pub from: String,
    pub to: String,
    pub hard: bool,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Graph {
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct KpiRow {
    pub name: String,
    pub service: String,
    pub description: Option<String>,
    pub indicator: &'static str,
    pub unit: String,
    pub objective: Option<String>,
    pub warning: Option<String>,
    pub critical: Option<String>,
    /// The KPI's `for`, when written.
    pub for_: Option<String>,
    /// The `for` of each threshold: its own (`{value, for}`), else the KPI's, when written.
    pub warning_for: Option<String>,
    pub critical_for: Option<String>,
    /// What the thresholds judge when not each value: `the 1h average`.
    pub over: Option<String>,
    pub warning_level: Option<String>,
    pub critical_level: Option<String>,
    pub runbook: Option<Link>,
    /// The thresholds of the environments with their own (`environments.ENV.kpis`).
    pub warning_envs: Vec<EnvValue>,
    pub critical_envs: Vec<EnvValue>,
}

/// A value of one environment that differs from the plan's.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct EnvValue {
    pub env: String,
    pub value: String,
}

/// The objective and error budget of an SLO in an environment with its own objective.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct SloEnv {
    pub env: String,
    pub objective: String,
    pub budget: String,
    pub budget_minutes: String,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct SloRow {
    pub name: String,
    pub service: String,
    pub description: Option<String>,
    pub indicator: &'static str,
    pub objective: String,
    pub window: String,
    /// The share of the window that may fail: `0.1%`.
    pub budget: String,
    /// That share in minutes of the window: `43.2`.
    pub budget_minutes: String,
    pub page: Option<String>,
    pub ticket: Option<String>,
    pub runbook: Option<Link>,
    /// The environments with objectives of their own (`environments.ENV.slos`).
    pub environments: Vec<SloEnv>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct WindowTask {
    pub name: String,
    /// Delay from the window's start.
    pub offset: String,
    pub duration: String,
    pub automated: bool,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct WindowRow {
    pub name: String,
    pub kind: &'static str,
    pub freeze: bool,
    pub schedule: String,
    pub duration: String,
    /// The levels it mutes, in words (`every level but P0`, `P3, P4`); none when it mutes none.
    pub mute: Option<String>,
    pub downtime: Option<String>,
    pub description: Option<String>,
    pub tasks: Vec<WindowTask>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct TaskRow {
    pub name: String,
    /// The window it runs in, if any.
    pub window: Option<String>,
    /// Delay from the window's start.
    pub offset: Option<String>,
    /// The schedule it follows (its window's when it is in one).
    pub schedule: String,
    pub frequency: &'static str,
    pub duration: String,
    pub kind: &'static str,
    pub automated: bool,
    pub manual: bool,
    pub command: Option<String>,
    pub service: Option<String>,
    pub owner: Option<String>,
    pub description: Option<String>,
    pub runbook: Option<Link>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct CalendarCx {
    pub timezone: String,
    pub week: Chart,
    pub month: Chart,
    pub windows: Vec<WindowRow>,
    pub tasks: Vec<TaskRow>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct ChecklistEntry {
    pub name: String,
    /// `task` or `restore test`.
    pub kind: &'static str,
    pub schedule: String,
    pub window: Option<String>,
    pub duration: Option<String>,
    pub owner: Option<String>,
    pub service: Option<String>,
    pub description: Option<String>,
    pub items: Vec<String>,
    pub runbook: Option<Link>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct ChecklistGroup {
    pub frequency: &'static str,
    pub entries: Vec<ChecklistEntry>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct BackupLevelRow {
    pub kind: &'static str,
    pub schedule: String,
    pub retain: String,
    pub automated: bool,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct RestoreTestCx {
    pub schedule: String,
    pub duration: Option<String>,
    pub automated: bool,
    pub command: Option<String>,
    pub runbook: Option<Link>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct BackupRow {
    pub name: String,
    pub service: Option<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub rpo: Option<String>,
    pub rto: Option<String>,
    pub levels: Vec<BackupLevelRow>,
    pub restore_test: Option<RestoreTestCx>,
    pub runbook: Option<Link>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct BudgetItemRow {
    pub name: String,
    /// As written: `4,000 per month`.
    pub amount: String,
    /// Converted to the budget's period: `48,000`.
    pub per_period: String,
    pub note: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct BudgetCategoryRow {
    pub name: String,
    pub total: String,
    /// Share of the lines' total: `32.6%`.
    pub share: Option<String>,
    pub items: Vec<BudgetItemRow>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct AllocationRow {
    pub kind: &'static str,
    pub share: String,
    pub amount: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct BudgetCx {
    pub currency: String,
    /// `year`, `quarter`, `month`.
    pub period: &'static str,
    pub total: Option<String>,
    pub lines_total: Option<String>,
    pub categories: Vec<BudgetCategoryRow>,
    pub allocation: Vec<AllocationRow>,
    pub value: Vec<Pair>,
    pub value_total: Option<String>,
    pub net_benefit: Option<String>,
    /// `144.2%`.
    pub roi: Option<String>,
    /// Months: `4.9`.
    pub payback_months: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct ReviewRow {
    pub name: String,
    pub schedule: String,
    pub owner: Option<String>,
    pub description: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct PoliciesCx {
    pub updates: Vec<Pair>,
    pub retention: Vec<Pair>,
    pub secrets_rotation: Option<String>,
    pub targets: Vec<Pair>,
    pub reviews: Vec<ReviewRow>,
}

/// `index.md.j2`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct IndexCx {
    /// The "generated, do not edit" line.
    pub generated: String,
    pub plan: PlanInfo,
    pub files: Files,
    pub runbooks: Vec<RunbookRow>,
    pub alerts: Vec<AlertRow>,
    /// Alerts that link to no runbook page.
    pub unlinked: Vec<AlertRow>,
    pub severity: Option<SeverityCx>,
    pub oncall: Option<OncallCx>,
    pub roles: Vec<RoleRow>,
    pub services: Vec<ServiceRow>,
    pub graph: Graph,
    pub kpis: Vec<KpiRow>,
    pub slos: Vec<SloRow>,
    pub calendar: CalendarCx,
    pub checklists: Vec<ChecklistGroup>,
    pub backups: Vec<BackupRow>,
    pub budget: Option<BudgetCx>,
    pub policies: Option<PoliciesCx>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct DiagnosisCx {
    pub run: Option<String>,
    pub explain: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct UsedBy {
    /// `task`, `backup`, `restore test`, `service`, `KPI`, `SLO`.
    pub kind: &'static str,
    pub name: String,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct RunbookCx {
    pub name: String,
    pub title: String,
    pub description: Option<String>,
    pub symptoms: Vec<String>,
    pub diagnosis: Vec<DiagnosisCx>,
    pub actions: Vec<String>,
    pub verify: Option<String>,
    pub escalate: Option<Step>,
}

/// `runbook.md.j2`, once per runbook.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct RunbookPageCx {
    pub generated: String,
    pub plan: PlanInfo,
    pub files: Files,
    pub runbook: RunbookCx,
    pub alerts: Vec<AlertRow>,
    pub used_by: Vec<UsedBy>,
    pub severity: Option<SeverityCx>,
    pub oncall: Option<OncallCx>,
}

/// `postmortem.md.j2`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct PostmortemCx {
    pub generated: String,
    pub plan: PlanInfo,
    pub files: Files,
    pub severity: Option<SeverityCx>,
    pub services: Vec<ServiceRow>,
    pub slos: Vec<SloRow>,
    pub targets: Vec<Pair>,
    pub runbooks: Vec<RunbookRow>,
    pub roles: Vec<RoleRow>,
}

fn text(s: Option<&Sp<String>>) -> Option<String> {
    s.map(|s| s.value.clone())
}

fn dur(d: Option<&Sp<Duration>>) -> Option<String> {
    d.map(|d| d.value.to_string())
}

/// A number for people: grouped thousands, at most `decimals` decimals, no trailing zeros.
pub(crate) fn num(n: Number, decimals: usize) -> String {
    if n.is_integer() {
        return group(n);
    }
    let s = format!("{:.*}", decimals, n.to_f64());
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    };
    let (int, frac) = s
        .split_once('.')
        .map_or((s.as_str(), None), |(a, b)| (a, Some(b)));
    let int = Number::parse(int).map_or_else(|| int.to_owned(), group);
    match frac {
        Some(f) => format!("{int}.{f}"),
        None => int,
    }
}

fn percent(ratio: Number) -> String {
    format!(
        "{}%",
        num(ratio.checked_mul(Number::int(100)).unwrap_or(ratio), 1)
    )
}

pub(crate) fn plan_info(plan: &Plan) -> PlanInfo {
    let m = &plan.metadata;
    PlanInfo {
        name: m.name.value.clone(),
        title: m
            .title
            .as_ref()
            .map_or_else(|| m.name.value.clone(), |t| t.value.clone()),
        description: text(m.description.as_ref()),
        owner: text(m.owner.as_ref()),
        timezone: m.timezone.value.name().to_owned(),
        labels: m
            .labels
            .iter()
            .map(|(k, v)| Pair {
                name: k.value.clone(),
                value: v.value.clone(),
            })
            .collect(),
    }
}

pub(crate) fn link(plan: &Plan, name: &str) -> Link {
    let rb = plan.runbooks.get(name);
    Link {
        name: name.to_owned(),
        title: rb.map_or_else(|| name.to_owned(), |r| r.title.value.clone()),
        href: rb.map(|_| format!("{name}.md")),
    }
}

fn link_opt(plan: &Plan, name: Option<&Sp<String>>) -> Option<Link> {
    name.map(|n| link(plan, &n.value))
}

fn receiver(plan: &Plan, name: &str) -> Receiver {
    let target = match plan.receivers.get(name).map(|r| &r.kind) {
        Some(ReceiverKind::Slack { channel, .. }) => format!("Slack {}", channel.value),
        Some(ReceiverKind::Email { to, .. }) => format!("e-mail to {}", to.value),
        Some(ReceiverKind::PagerDuty { .. }) => "PagerDuty".to_owned(),
        Some(ReceiverKind::Opsgenie { responders, .. }) if !responders.is_empty() => {
            let names: Vec<&str> = responders.iter().map(|r| r.value.as_str()).collect();
            format!("Opsgenie ({})", names.join(", "))
        }
        Some(ReceiverKind::Opsgenie { .. }) => "Opsgenie".to_owned(),
        Some(ReceiverKind::Webhook { url, .. }) => format!("webhook {}", url.value),
        None => "undefined receiver".to_owned(),
    };
    Receiver {
        name: name.to_owned(),
        target,
    }
}

/// Who an escalation target is: `primary (maintenance-team)`, `level P1`, a role, a receiver.
fn target(plan: &Plan, to: &str) -> String {
    let role = |name: &str| match plan.roles.get(name).and_then(|r| r.contact.as_ref()) {
        Some(c) => format!("{name}, {}", c.value),
        None => name.to_owned(),
    };
    let oncall = plan.oncall.as_ref().map(|o| &o.value);
    let person = match to {
        "primary" => Some(oncall.and_then(|o| o.primary.as_ref())),
        "secondary" => Some(oncall.and_then(|o| o.secondary.as_ref())),
        _ => None,
    };
    if let Some(who) = person {
        return match who {
            Some(r) => format!("{to} on-call ({})", role(&r.value)),
            None => format!("{to} on-call"),
        };
    }
    if let Some(level) = plan.severity.as_ref().and_then(|s| s.value.level(to)) {
        let notify: Vec<&str> = level.notify.iter().map(|n| n.value.as_str()).collect();
        return if notify.is_empty() {
            format!("level {to}")
        } else {
            format!("level {to} ({})", notify.join(", "))
        };
    }
    if plan.roles.contains(to) {
        return role(to);
    }
    if plan.receivers.contains(to) {
        let r = receiver(plan, to);
        return format!("{to} ({})", r.target);
    }
    to.to_owned()
}

fn level_missing(e: &LevelError) -> String {
    match e {
        LevelError::NoSeverity => "no severity levels in the plan".to_owned(),
        LevelError::NoMatrix => "no severity matrix and no levels override".to_owned(),
        LevelError::NoImpact => "the service has no impact and there is no default".to_owned(),
        LevelError::NoLikelihood(u) => format!("likelihood_of.{} is not set", u.name()),
        LevelError::Unknown(l) => format!("unknown level {l}"),
    }
}

fn fires(plan: &Plan, a: &Alert<'_>) -> String {
    match &a.source {
        Source::Kpi { name, threshold } => {
            let for_ = plan
                .kpis
                .get(&name.value)
                .and_then(|k| k.written_for(a.urgency))
                .filter(|f| !f.value.is_zero())
                .map(|f| format!(" for {}", f.value))
                .unwrap_or_default();
            let over = plan
                .kpis
                .get(&name.value)
                .and_then(|k| k.over.as_ref())
                .map(|o| format!(" on {}", o.value))
                .unwrap_or_default();
            let envs: Vec<String> = crate::model::environments::kpi_thresholds(
                plan,
                &name.value,
                a.urgency == Urgency::Critical,
            )
            .into_iter()
            .map(|(env, t)| format!("{env}: {}", t.value))
            .collect();
            let envs = if envs.is_empty() {
                String::new()
            } else {
                format!(" ({})", envs.join(", "))
            };
            format!("KPI {} {}{envs}{over}{for_}", name.value, threshold.value)
        }
        Source::Slo { name, page } => {
            let objective = plan.slos.get(&name.value).map_or_else(String::new, |s| {
                let envs: Vec<String> = crate::model::environments::objectives(plan, &name.value)
                    .into_iter()
                    .map(|(env, o)| format!("{env}: {}", o.value))
                    .collect();
                if envs.is_empty() {
                    String::new()
                } else {
                    format!(" ({}, {})", s.objective.value, envs.join(", "))
                }
            });
            if *page {
                format!(
                    "SLO {}{objective} burns its error budget fast (page)",
                    name.value
                )
            } else {
                format!(
                    "SLO {}{objective} burns its error budget slowly (ticket)",
                    name.value
                )
            }
        }
        Source::Health {
            service,
            check: HealthAlert::Down,
        } => format!("the health check of {} fails", service.value),
        Source::Health {
            service,
            check: HealthAlert::Unhealthy,
        } => format!(
            "the health check of {} answers without {}",
            service.value,
            plan.services
                .get(&service.value)
                .and_then(|s| s.health.as_ref()?.body.as_ref())
                .map_or_else(String::new, crate::model::probes::body_words)
        ),
        Source::Health {
            service,
            check: HealthAlert::Flapping,
        } => format!(
            "the health check of {} fails and recovers again and again",
            service.value
        ),
        Source::Freshness { name } if name.ends_with(".restore_test") => {
            format!("restore test {name} did not succeed in time")
        }
        Source::Freshness { name } if name.split('.').nth(2) == Some("prune") => {
            format!("prune {name} (deleting old backups) did not succeed in time")
        }
        Source::Freshness { name } if name.contains('.') => {
            format!("backup {name} did not succeed in time")
        }
        Source::Rpo { backup, rpo } => format!(
            "the newest backup of {} is older than its RPO ({})",
            backup.value, rpo.value
        ),
        Source::Freshness { name } => format!("task {name} did not succeed in time"),
        Source::NoData { kpi } => format!("KPI {} has no data", kpi.value),
    }
}

fn alert_row(plan: &Plan, a: &Alert<'_>) -> AlertRow {
    let (level, response, level_missing) = match &a.level {
        Ok(l) => (
            Some(l.name.value.clone()),
            Some(l.response.value.to_string()),
            None,
        ),
        Err(e) => (None, None, Some(level_missing(e))),
    };
    let (source, subject) = match &a.source {
        Source::Kpi { name, .. } => ("kpi", name.value.clone()),
        Source::Slo { name, .. } => ("slo", name.value.clone()),
        Source::Health { service, .. } => ("health", service.value.clone()),
        Source::Freshness { name } => ("freshness", name.clone()),
        Source::Rpo { backup, .. } => ("rpo", backup.value.clone()),
        Source::NoData { kpi } => ("nodata", kpi.value.clone()),
    };
    AlertRow {
        name: a.name.clone(),
        level,
        level_missing,
        response,
        urgency: a.urgency.name(),
        source,
        subject,
        service: a.service.map(|s| s.value.clone()),
        fires: fires(plan, a),
        runbook: link_opt(plan, a.runbook),
    }
}

pub(crate) fn alert_rows(plan: &Plan) -> Vec<AlertRow> {
    alerts::alerts(plan)
        .iter()
        .map(|a| alert_row(plan, a))
        .collect()
}

pub(crate) fn runbook_rows(plan: &Plan, alerts: &[AlertRow]) -> Vec<RunbookRow> {
    plan.runbooks
        .iter()
        .map(|(name, rb)| RunbookRow {
            link: link(plan, &name.value),
            description: text(rb.description.as_ref()),
            alerts: alerts
                .iter()
                .filter(|a| a.runbook.as_ref().is_some_and(|l| l.name == name.value))
                .count(),
        })
        .collect()
}

pub(crate) fn severity(plan: &Plan) -> Option<SeverityCx> {
    let sev = &plan.severity.as_ref()?.value;
    let levels = sev
        .levels
        .iter()
        .map(|l| LevelRow {
            name: l.name.value.clone(),
            response: l.response.value.to_string(),
            resolve: dur(l.resolve.as_ref()),
            repeat: dur(l.repeat.as_ref()),
            description: text(l.description.as_ref()),
            notify: l.notify.iter().map(|n| receiver(plan, &n.value)).collect(),
            pages: levels::pages(plan, l),
            label: levels::severity(plan, l).name(),
        })
        .collect();
    let matrix = sev.matrix.as_ref().map(|m| {
        let used = |col: &str| {
            let mut u = Vec::new();
            if sev
                .likelihood_of
                .warning
                .as_ref()
                .is_some_and(|w| w.value == col)
            {
                u.push("warning");
            }
            if sev
                .likelihood_of
                .critical
                .as_ref()
                .is_some_and(|c| c.value == col)
            {
                u.push("critical");
            }
            (!u.is_empty()).then(|| u.join(", "))
        };
        MatrixCx {
            columns: m
                .likelihood
                .iter()
                .map(|c| MatrixColumn {
                    name: c.value.clone(),
                    used_by: used(&c.value),
                })
                .collect(),
            rows: m
                .impact
                .iter()
                .map(|(row, cells)| MatrixRowCx {
                    impact: row.value.clone(),
                    services: plan
                        .services
                        .iter()
                        .filter(|(_, s)| s.impact.as_ref().is_some_and(|i| i.value == row.value))
                        .map(|(n, _)| n.value.clone())
                        .collect(),
                    default: sev
                        .default_impact
                        .as_ref()
                        .is_some_and(|d| d.value == row.value),
                    cells: cells
                        .value
                        .iter()
                        .map(|c| MatrixCell {
                            level: c.value.clone(),
                            response: sev.level(&c.value).map(|l| l.response.value.to_string()),
                        })
                        .collect(),
                })
                .collect(),
        }
    });
    Some(SeverityCx { levels, matrix })
}

pub(crate) fn oncall(plan: &Plan) -> Option<OncallCx> {
    let o = &plan.oncall.as_ref()?.value;
    Some(OncallCx {
        rotation: o.rotation.as_ref().map(|r| {
            match r.value {
                Rotation::Daily => "daily",
                Rotation::Weekly => "weekly",
                Rotation::Biweekly => "every two weeks",
                Rotation::Monthly => "monthly",
            }
            .to_owned()
        }),
        handoff: o.handoff.as_ref().map(|h| match h.value.weekday {
            Some(d) => format!("{d} {}", h.value.at),
            None => h.value.at.to_string(),
        }),
        primary: text(o.primary.as_ref().map(|r| &r.name)),
        secondary: text(o.secondary.as_ref().map(|r| &r.name)),
        response: dur(o.response.as_ref()),
        escalation: o
            .escalation
            .iter()
            .map(|e| Step {
                after: e.after.as_ref().map(|a| a.value.to_string()),
                to: target(plan, &e.to.value),
            })
            .collect(),
        tools: o.tools.iter().map(|t| t.value.clone()).collect(),
    })
}

pub(crate) fn roles(plan: &Plan) -> Vec<RoleRow> {
    plan.roles
        .iter()
        .map(|(name, r)| RoleRow {
            name: name.value.clone(),
            fte: r.fte.as_ref().map(|f| f.value.to_string()),
            contact: text(r.contact.as_ref()),
            description: text(r.description.as_ref()),
        })
        .collect()
}

pub(crate) fn services(plan: &Plan) -> Vec<ServiceRow> {
    plan.services
        .iter()
        .map(|(name, s)| ServiceRow {
            name: name.value.clone(),
            kind: s.kind.name(),
            job: s.job.value.clone(),
            port: s.port.as_ref().map(|p| p.value),
            url: text(s.url.as_ref()),
            health: s.health.as_ref().map(|h| {
                let (name, value) = match &h.probe.value {
                    Probe::Http(u) => ("HTTP", u),
                    Probe::Tcp(a) => ("TCP", a),
                    Probe::Command(c) => ("command", c),
                };
                Pair {
                    name: name.to_owned(),
                    value: value.clone(),
                }
            }),
            depends_on: s
                .depends_on
                .iter()
                .map(|d| {
                    if d.hard {
                        d.service.value.clone()
                    } else {
                        format!("{} (soft)", d.service.value)
                    }
                })
                .collect(),
            impact: text(s.impact.as_ref().map(|r| &r.name)),
            owner: text(s.owner.as_ref().map(|r| &r.name)),
            runbook: link_opt(plan, s.runbook.as_ref().map(|r| &r.name)),
            description: text(s.description.as_ref()),
        })
        .collect()
}

pub(crate) fn graph(plan: &Plan) -> Graph {
    let id = |name: &str| {
        plan.services
            .names()
            .position(|n| n == name)
            .map(|i| format!("s{i}"))
    };
    let nodes = plan
        .services
        .iter()
        .enumerate()
        .map(|(i, (name, s))| {
            let (open, close) = match s.kind {
                ServiceKind::Database | ServiceKind::Storage | ServiceKind::Cache => ("[(", ")]"),
                ServiceKind::Queue => (">", "]"),
                ServiceKind::Frontend => ("([", "])"),
                ServiceKind::External => ("{{", "}}"),
                ServiceKind::Service | ServiceKind::Worker => ("[", "]"),
            };
            GraphNode {
                id: format!("s{i}"),
                label: calendar::mermaid_safe(&name.value).replace('"', "'"),
                open,
                close,
            }
        })
        .collect();
    let mut edges = Vec::new();
    for (name, s) in plan.services.iter() {
        for d in &s.depends_on {
            if let (Some(from), Some(to)) = (id(&name.value), id(&d.service.value)) {
                edges.push(GraphEdge {
                    from,
                    to,
                    hard: d.hard,
                });
            }
        }
    }
    Graph { nodes, edges }
}

fn level_of(a: &Alert<'_>) -> String {
    match &a.level {
        Ok(l) => l.name.value.clone(),
        Err(e) => format!("none ({})", level_missing(e)),
    }
}

pub(crate) fn kpis(plan: &Plan, all: &[Alert<'_>]) -> Vec<KpiRow> {
    plan.kpis
        .iter()
        .map(|(name, k)| {
            let level = |u: Urgency| {
                all.iter()
                    .find(|a| {
                        a.urgency == u
                            && matches!(&a.source, Source::Kpi { name: n, .. } if n.value == name.value)
                    })
                    .map(level_of)
            };
            KpiRow {
                name: name.value.clone(),
                service: k.service.value.clone(),
                description: text(k.description.as_ref()),
                indicator: k.indicator.value.kind_name(),
                unit: k.unit.value.to_string(),
                objective: k.objective.as_ref().map(|t| t.value.to_string()),
                warning: k.warning.as_ref().map(|t| t.value.to_string()),
                critical: k.critical.as_ref().map(|t| t.value.to_string()),
                for_: dur(k.for_.as_ref()),
                warning_for: dur(k.written_for(Urgency::Warning)),
                critical_for: dur(k.written_for(Urgency::Critical)),
                over: k.over.as_ref().map(|o| o.value.to_string()),
                warning_level: level(Urgency::Warning),
                critical_level: level(Urgency::Critical),
                runbook: link_opt(plan, k.runbook.as_ref().map(|r| &r.name)),
                warning_envs: env_thresholds(plan, &name.value, false),
                critical_envs: env_thresholds(plan, &name.value, true),
            }
        })
        .collect()
}

fn env_thresholds(plan: &Plan, kpi: &str, critical: bool) -> Vec<EnvValue> {
    crate::model::environments::kpi_thresholds(plan, kpi, critical)
        .into_iter()
        .map(|(env, t)| EnvValue {
            env: env.to_owned(),
            value: t.value.to_string(),
        })
        .collect()
}

/// The share of `window` that may fail under `objective`, and that share in minutes.
fn error_budget(objective: Percent, window: crate::value::Duration) -> (String, String) {
    let share = Number::ONE
        .checked_sub(objective.ratio())
        .unwrap_or(Number::ZERO);
    let minutes = Number::new(i128::from(window.as_millis()), 60_000)
        .and_then(|m| m.checked_mul(share))
        .map_or_else(|| "?".to_owned(), |m| num(m, 2));
    (Percent(share).to_string(), minutes)
}

pub(crate) fn slos(plan: &Plan) -> Vec<SloRow> {
    plan.slos
        .iter()
        .map(|(name, s)| {
            let (share, minutes) = error_budget(s.objective.value, s.window.value);
            let environments = crate::model::environments::objectives(plan, &name.value)
                .into_iter()
                .map(|(env, o)| {
                    let (budget, budget_minutes) = error_budget(o.value, s.window.value);
                    SloEnv {
                        env: env.to_owned(),
                        objective: o.value.to_string(),
                        budget,
                        budget_minutes,
                    }
                })
                .collect();
            SloRow {
                name: name.value.clone(),
                service: s.service.value.clone(),
                description: text(s.description.as_ref()),
                indicator: match s.indicator.value {
                    crate::model::SloIndicator::ErrorRatio { .. } => "error_ratio",
                    crate::model::SloIndicator::Latency { .. } => "latency",
                    crate::model::SloIndicator::Up { .. } => "up",
                },
                objective: s.objective.value.to_string(),
                window: s.window.value.to_string(),
                budget: share,
                budget_minutes: minutes,
                page: text(s.page.as_ref().map(|r| &r.name)),
                ticket: text(s.ticket.as_ref().map(|r| &r.name)),
                runbook: link_opt(plan, s.runbook.as_ref().map(|r| &r.name)),
                environments,
            }
        })
        .collect()
}

fn frequency_of(plan: &Plan, items: &[Item<'_>], kind: ItemKind, name: &str) -> Frequency {
    let tz = plan.metadata.timezone.value;
    items
        .iter()
        .find(|i| i.kind == kind && i.name == name)
        .map_or(Frequency::Once, |i| calendar::frequency(i, tz))
}

pub(crate) fn calendar(plan: &Plan, items: &[Item<'_>]) -> CalendarCx {
    let windows = plan
        .windows
        .iter()
        .map(|(name, w)| WindowRow {
            name: name.value.clone(),
            kind: w.kind.name(),
            freeze: w.kind == WindowKind::Freeze,
            schedule: w.schedule.value.to_string(),
            duration: w.duration.value.to_string(),
            mute: {
                let muted = levels::muted(plan, w);
                let names: Vec<&str> = muted.iter().map(|l| l.name.value.as_str()).collect();
                let all: Vec<&str> = plan
                    .severity
                    .iter()
                    .flat_map(|s| s.value.levels.iter().map(|l| l.name.value.as_str()))
                    .collect();
                (!muted.is_empty()).then(|| levels::describe(&all, &names, str::to_owned))
            },
            downtime: w.downtime.as_ref().map(|d| {
                let names: Vec<&str> = d.services.iter().map(|s| s.value.as_str()).collect();
                format!("{} down for {}", names.join(", "), d.per_occurrence.value)
            }),
            description: text(w.description.as_ref()),
            tasks: items
                .iter()
                .filter(|i| {
                    i.kind == ItemKind::Task
                        && plan.tasks.get(&i.name).is_some_and(
                            |t| matches!(&t.when, When::Window(n) if n.value == name.value),
                        )
                })
                .map(|i| WindowTask {
                    name: i.name.clone(),
                    offset: i.offset.to_string(),
                    duration: i.duration.map(|d| d.to_string()).unwrap_or_default(),
                    automated: i.automated,
                })
                .collect(),
        })
        .collect();
    let tasks = plan
        .tasks
        .iter()
        .map(|(name, t)| {
            let item = items
                .iter()
                .find(|i| i.kind == ItemKind::Task && i.name == name.value);
            let (window, schedule) = match &t.when {
                When::Window(w) => (
                    Some(w.value.clone()),
                    plan.windows
                        .get(&w.value)
                        .map(|w| w.schedule.value.to_string())
                        .unwrap_or_default(),
                ),
                When::Schedule(s) => (None, s.value.to_string()),
            };
            TaskRow {
                name: name.value.clone(),
                offset: window.as_ref().and(item.map(|i| i.offset.to_string())),
                window,
                schedule,
                frequency: frequency_of(plan, items, ItemKind::Task, &name.value).title(),
                duration: t.duration.value.to_string(),
                kind: t.kind.name(),
                automated: !t.manual && t.command.is_some(),
                manual: t.manual,
                command: text(t.command.as_ref()),
                service: text(t.service.as_ref().map(|r| &r.name)),
                owner: text(t.owner.as_ref().map(|r| &r.name)),
                description: text(t.description.as_ref()),
                runbook: link_opt(plan, t.runbook.as_ref().map(|r| &r.name)),
            }
        })
        .collect();
    CalendarCx {
        timezone: plan.metadata.timezone.value.name().to_owned(),
        week: calendar::week(plan, items),
        month: calendar::month(plan, items),
        windows,
        tasks,
    }
}

/// Manual tasks and manual restore tests, by how often they happen.
pub(crate) fn checklists(
    plan: &Plan,
    items: &[Item<'_>],
    tasks: &[TaskRow],
) -> Vec<ChecklistGroup> {
    let mut entries: Vec<(Frequency, ChecklistEntry)> = Vec::new();
    for (name, t) in plan.tasks.iter() {
        if !t.manual {
            continue;
        }
        let Some(row) = tasks.iter().find(|r| r.name == name.value) else {
            continue;
        };
        entries.push((
            frequency_of(plan, items, ItemKind::Task, &name.value),
            ChecklistEntry {
                name: name.value.clone(),
                kind: "task",
                schedule: row.schedule.clone(),
                window: row.window.clone(),
                duration: Some(row.duration.clone()),
                owner: row.owner.clone(),
                service: row.service.clone(),
                description: row.description.clone(),
                items: t.checklist.iter().map(|c| c.value.clone()).collect(),
                runbook: row.runbook.clone(),
            },
        ));
    }
    for (name, b) in plan.backups.iter() {
        let Some(r) = b.restore_test.as_ref().filter(|r| r.manual) else {
            continue;
        };
        let item_name = format!("{}.restore_test", name.value);
        entries.push((
            frequency_of(plan, items, ItemKind::RestoreTest, &item_name),
            ChecklistEntry {
                name: item_name,
                kind: "restore test",
                schedule: r.schedule.value.to_string(),
                window: None,
                duration: dur(r.duration.as_ref()),
                owner: text(b.owner.as_ref().map(|r| &r.name)),
                service: text(b.service.as_ref().map(|r| &r.name)),
                description: None,
                items: Vec::new(),
                runbook: link_opt(plan, r.runbook.as_ref().map(|r| &r.name)),
            },
        ));
    }
    Frequency::ALL
        .iter()
        .filter_map(|f| {
            let group: Vec<ChecklistEntry> = entries
                .iter()
                .filter(|(g, _)| g == f)
                .map(|(_, e)| e.clone())
                .collect();
            (!group.is_empty()).then(|| ChecklistGroup {
                frequency: f.title(),
                entries: group,
            })
        })
        .collect()
}

pub(crate) fn backups(plan: &Plan) -> Vec<BackupRow> {
    plan.backups
        .iter()
        .map(|(name, b)| BackupRow {
            name: name.value.clone(),
            service: text(b.service.as_ref().map(|r| &r.name)),
            description: text(b.description.as_ref()),
            owner: text(b.owner.as_ref().map(|r| &r.name)),
            rpo: dur(b.rpo.as_ref()),
            rto: dur(b.rto.as_ref()),
            levels: b
                .levels
                .iter()
                .map(|l| BackupLevelRow {
                    kind: l.kind.name(),
                    schedule: l.schedule.value.to_string(),
                    retain: l.retain.value.to_string(),
                    automated: !l.manual && (l.command.is_some() || b.command.is_some()),
                })
                .collect(),
            restore_test: b.restore_test.as_ref().map(|r| RestoreTestCx {
                schedule: r.schedule.value.to_string(),
                duration: dur(r.duration.as_ref()),
                automated: !r.manual && r.command.is_some(),
                command: text(r.command.as_ref()),
                runbook: link_opt(plan, r.runbook.as_ref().map(|r| &r.name)),
            }),
            runbook: link_opt(
                plan,
                b.runbook
                    .as_ref()
                    .or(plan.execution.runbook.as_ref())
                    .map(|r| &r.name),
            ),
        })
        .collect()
}

pub(crate) fn budget(plan: &Plan) -> Option<BudgetCx> {
    let b = &plan.budget.as_ref()?.value;
    let cur = &b.currency.value;
    let money = |n: Number| format!("{} {cur}", num(n, 2));
    let lines_total = budget::lines_total(b);
    let cost = budget::cost(b);
    let categories = b
        .lines
        .iter()
        .map(|c| {
            let total = budget::category_total(b, c);
            BudgetCategoryRow {
                name: c.name.value.clone(),
                total: total.map_or_else(|| "?".to_owned(), money),
                share: total
                    .zip(lines_total.filter(|t| !t.is_zero()))
                    .and_then(|(t, all)| t.checked_div(all))
                    .map(percent),
                items: c
                    .items
                    .iter()
                    .map(|i| BudgetItemRow {
                        name: i.name.value.clone(),
                        amount: format!("{} per {}", money(i.amount.value.amount), i.per.name()),
                        per_period: budget::per_period(i.amount.value.amount, i.per, b.period)
                            .map_or_else(|| "?".to_owned(), money),
                        note: text(i.note.as_ref()),
                    })
                    .collect(),
            }
        })
        .collect();
    Some(BudgetCx {
        currency: cur.clone(),
        period: b.period.name(),
        total: b.total.as_ref().map(|t| money(t.value.amount)),
        lines_total: (!b.lines.is_empty())
            .then_some(lines_total)
            .flatten()
            .map(money),
        categories,
        allocation: b
            .allocation
            .iter()
            .map(|(k, p)| AllocationRow {
                kind: k.name(),
                share: p.value.to_string(),
                amount: cost.and_then(|c| c.checked_mul(p.value.ratio())).map(money),
            })
            .collect(),
        value: b
            .value
            .iter()
            .map(|(n, m)| Pair {
                name: n.value.clone(),
                value: money(m.value.amount),
            })
            .collect(),
        value_total: budget::value_total(b).map(money),
        net_benefit: budget::net_benefit(b).map(money),
        roi: budget::roi(b).map(percent),
        payback_months: budget::payback_months(b).map(|m| num(m, 1)),
    })
}

pub(crate) fn policies(plan: &Plan) -> Option<PoliciesCx> {
    let p = &plan.policies.as_ref()?.value;
    let t = &p.targets;
    let mut targets = Vec::new();
    let mut push = |name: &str, v: Option<String>| {
        if let Some(value) = v {
            targets.push(Pair {
                name: name.to_owned(),
                value,
            });
        }
    };
    push("uptime", t.uptime.as_ref().map(|v| v.value.to_string()));
    push("MTTR", dur(t.mttr.as_ref()));
    push("MTBF", dur(t.mtbf.as_ref()));
    push(
        "test coverage",
        t.coverage.as_ref().map(|v| v.value.to_string()),
    );
    push(
        "error rate",
        t.error_rate.as_ref().map(|v| v.value.to_string()),
    );
    Some(PoliciesCx {
        updates: p
            .updates
            .iter()
            .map(|(k, d)| Pair {
                name: k.value.clone(),
                value: match &d.value {
                    Deadline::Within(d) => format!("within {d}"),
                    Deadline::Every(c) => c.name().to_owned(),
                },
            })
            .collect(),
        retention: p
            .retention
            .iter()
            .map(|(k, r)| Pair {
                name: k.value.clone(),
                value: r.value.to_string(),
            })
            .collect(),
        secrets_rotation: dur(p.secrets_rotation.as_ref()),
        targets,
        reviews: p
            .reviews
            .iter()
            .map(|(n, r)| ReviewRow {
                name: n.value.clone(),
                schedule: r.schedule.value.to_string(),
                owner: text(r.owner.as_ref().map(|r| &r.name)),
                description: text(r.description.as_ref()),
            })
            .collect(),
    })
}

pub(crate) fn index(plan: &Plan, generated: &str) -> IndexCx {
    let items = timeline::items(plan);
    let all = alerts::alerts(plan);
    let alerts: Vec<AlertRow> = all.iter().map(|a| alert_row(plan, a)).collect();
    let unlinked = alerts
        .iter()
        .filter(|a| a.runbook.as_ref().is_none_or(|l| l.href.is_none()))
        .cloned()
        .collect();
    let calendar = calendar(plan, &items);
    let checklists = checklists(plan, &items, &calendar.tasks);
    IndexCx {
        generated: generated.to_owned(),
        plan: plan_info(plan),
        files: Files::of(plan),
        runbooks: runbook_rows(plan, &alerts),
        unlinked,
        alerts,
        severity: severity(plan),
        oncall: oncall(plan),
        roles: roles(plan),
        services: services(plan),
        graph: graph(plan),
        kpis: kpis(plan, &all),
        slos: slos(plan),
        calendar,
        checklists,
        backups: backups(plan),
        budget: budget(plan),
        policies: policies(plan),
    }
}

/// What names the runbook but raises no alert that links to it (a manual task, a restore test,
/// a KPI that is only recorded): the alerts table already shows the rest.
fn used_by(plan: &Plan, name: &str, alerts: &[AlertRow]) -> Vec<UsedBy> {
    let alerted = |source: &str, subject: &str| {
        alerts.iter().any(|a| {
            a.source == source
                && (a.subject == subject
                    || a.subject
                        .strip_prefix(subject)
                        .is_some_and(|r| r.starts_with('.')))
        })
    };
    let mut out = Vec::new();
    for r in references(plan) {
        if r.kind != RefKind::Runbook || r.name.value != name {
            continue;
        }
        let entry = r.site.entry.unwrap_or_default();
        // The alerts an entry raises are listed with the runbook already.
        let (kind, name, source) = match r.site.section {
            Section::Service => ("service", entry.to_owned(), "health"),
            Section::Kpi => ("KPI", entry.to_owned(), "kpi"),
            Section::Slo => ("SLO", entry.to_owned(), "slo"),
            Section::Task => ("task", entry.to_owned(), "freshness"),
            Section::Backup => ("backup", entry.to_owned(), "freshness"),
            Section::RestoreTest => ("restore test", format!("{entry}.restore_test"), "freshness"),
            Section::Execution => ("the default of", "execution.runbook".to_owned(), ""),
            Section::Severity
            | Section::Oncall
            | Section::Window
            | Section::Runbook
            | Section::Review
            | Section::Environment => (r.site.section.name(), entry.to_owned(), ""),
        };
        if !alerted(source, &name) {
            out.push(UsedBy { kind, name });
        }
    }
    out
}

pub(crate) fn runbook_pages(plan: &Plan, generated: &str) -> Vec<RunbookPageCx> {
    let alerts = alert_rows(plan);
    let info = plan_info(plan);
    let files = Files::of(plan);
    let severity = severity(plan);
    let oncall = oncall(plan);
    plan.runbooks
        .iter()
        .map(|(name, rb)| {
            (
                name,
                rb,
                alerts
                    .iter()
                    .filter(|a| a.runbook.as_ref().is_some_and(|l| l.name == name.value))
                    .cloned()
                    .collect::<Vec<_>>(),
            )
        })
        .map(|(name, rb, mine)| RunbookPageCx {
            generated: generated.to_owned(),
            plan: info.clone(),
            files: files.clone(),
            runbook: RunbookCx {
                name: name.value.clone(),
                title: rb.title.value.clone(),
                description: text(rb.description.as_ref()),
                symptoms: rb.symptoms.iter().map(|s| s.value.clone()).collect(),
                diagnosis: rb
                    .diagnosis
                    .iter()
                    .map(|d| DiagnosisCx {
                        run: text(d.run.as_ref()),
                        explain: text(d.explain.as_ref()),
                    })
                    .collect(),
                actions: rb.actions.iter().map(|a| a.value.clone()).collect(),
                verify: text(rb.verify.as_ref()),
                escalate: rb.escalate.as_ref().map(|e| Step {
                    after: e.after.as_ref().map(|a| a.value.to_string()),
                    to: target(plan, &e.to.value),
                }),
            },
            used_by: used_by(plan, &name.value, &mine),
            alerts: mine,
            severity: severity.clone(),
            oncall: oncall.clone(),
        })
        .collect()
}

pub(crate) fn postmortem(plan: &Plan, generated: &str) -> PostmortemCx {
    let alerts = alert_rows(plan);
    PostmortemCx {
        generated: generated.to_owned(),
        plan: plan_info(plan),
        files: Files::of(plan),
        severity: severity(plan),
        services: services(plan),
        slos: slos(plan),
        targets: policies(plan).map(|p| p.targets).unwrap_or_default(),
        runbooks: runbook_rows(plan, &alerts),
        roles: roles(plan),
    }
}
