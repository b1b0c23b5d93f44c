//! Every alert a plan produces, with its severity level: KPI thresholds, SLO burn rates, health
//! checks and freshness of automated tasks and backups. Checks (`alert/no-runbook`,
//! `alert/no-level`) and emitters (rules, routes, docs) read this one list, so what is checked is
//! what is generated.
//!
//! A KPI alert's level is its `levels.warning|critical` when given; otherwise the severity
//! matrix cell at the service's `impact` row (or `severity.default_impact`) and the column
//! `severity.likelihood_of.warning|critical`.
//!
//! A missed run takes the `level` its task, backup kind or backup names. Otherwise a task's
//! `…Missed` alert is of warning urgency and a backup's `…BackupMissed` of critical urgency: a
//! backup that did not run leaves the data beyond its RPO, while a maintenance task that did
//! not run can usually wait for its next run. A backup with an `rpo` also raises
//! `…RpoExceeded` (the newest success of its automated levels is older than the RPO) at the
//! level of its missed-backup alerts; an automated restore test raises `…RestoreTestMissed` at
//! warning urgency, as a task does, and so does a backup kind's prune (`…PruneMissed`, or at its
//! `prune.level`).

use super::{Backup, BackupKind, BackupLevel, Level, Plan, Service, Severity, When};
use crate::span::{Sp, Span};
use crate::value::{Duration, Threshold};

/// Which of a KPI's thresholds, or how urgent another alert is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Urgency {
    Warning,
    Critical,
}

impl Urgency {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Urgency::Warning => "warning",
            Urgency::Critical => "critical",
        }
    }
}

/// Which alert of a health check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HealthAlert {
    /// Every attempt of the last `retries` failed, none because of the body: no answer, or
    /// not an accepted one.
    Down,
    /// Every attempt of the last `retries` failed, at least one because the body did not say
    /// what `body` expects: the service answers but is not healthy.
    Unhealthy,
    Flapping,
}

#[derive(Clone, Debug)]
pub(crate) enum Source<'p> {
    Kpi {
        name: &'p Sp<String>,
        threshold: &'p Sp<Threshold>,
    },
    /// Multi-window multi-burn-rate alert; `page` is the fast one.
    Slo { name: &'p Sp<String>, page: bool },
    /// A health check: `…Down` when it fails, `…Unhealthy` when the service answers without
    /// what `body` expects, `…Flapping` when it fails and recovers again and again without
    /// staying down (see `model::probes`).
    Health {
        service: &'p Sp<String>,
        check: HealthAlert,
    },
    /// An automated task, backup level or restore test that did not succeed in time.
    Freshness { name: String },
    /// The newest successful run of a backup's automated levels is older than its RPO.
    Rpo {
        backup: &'p Sp<String>,
        rpo: &'p Sp<Duration>,
    },
    /// A KPI whose indicator has no data: its thresholds cannot be judged.
    NoData { kpi: &'p Sp<String> },
}

/// How long a KPI's condition must hold before it alerts, unless the KPI says (`for: 0s`
/// alerts on one evaluation).
pub(crate) const DEFAULT_KPI_FOR: Duration = Duration::from_mins(5);

impl super::Kpi {
    /// The `for` written for the threshold of `urgency`: its own (`{value, for}`), else the
    /// KPI's; `None` when neither says.
    pub(crate) fn written_for(&self, urgency: Urgency) -> Option<&Sp<Duration>> {
        match urgency {
            Urgency::Warning => self.waits.warning.as_ref(),
            Urgency::Critical => self.waits.critical.as_ref(),
        }
        .or(self.for_.as_ref())
    }

    /// How long the condition of the threshold of `urgency` must hold before it alerts.
    pub(crate) fn wait(&self, urgency: Urgency) -> Duration {
        self.written_for(urgency)
            .map_or(DEFAULT_KPI_FOR, |f| f.value)
    }
}

/// Why no level could be found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LevelError {
    NoSeverity,
    /// No `levels` override and no matrix to look up.
    NoMatrix,
    /// The service has no `impact` and there is no `default_impact`.
    NoImpact,
    /// `likelihood_of` does not say which column this urgency uses.
    NoLikelihood(Urgency),
    /// The level name does not exist (reported as `ref/unknown` already).
    Unknown(String),
}

#[derive(Clone, Debug)]
pub(crate) struct Alert<'p> {
    /// Prometheus `alertname`, CamelCase: `ResponseTimeP1` (a KPI and its level),
    /// `AvailabilityBurnRatePage`.
    pub name: String,
    pub source: Source<'p>,
    pub urgency: Urgency,
    pub service: Option<&'p Sp<String>>,
    pub level: Result<&'p Level, LevelError>,
    pub runbook: Option<&'p Sp<String>>,
    /// What to blame in a diagnostic about this alert.
    pub span: Span,
}

/// `response_time` → `ResponseTime`; `sri-api` → `SriApi`.
pub(crate) fn camel(name: &str) -> String {
    name.split(['_', '-', '.'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The level of an alert of `urgency` on `service` (or on no service: `default_impact`),
/// unless `explicit` names one.
pub(crate) fn level_for<'p>(
    plan: &'p Plan,
    service: Option<&'p Service>,
    urgency: Urgency,
    explicit: Option<&Sp<String>>,
) -> Result<&'p Level, LevelError> {
    let sev: &Severity = plan
        .severity
        .as_ref()
        .map(|s| &s.value)
        .ok_or(LevelError::NoSeverity)?;
    if let Some(name) = explicit {
        return sev
            .level(&name.value)
            .ok_or_else(|| LevelError::Unknown(name.value.clone()));
    }
    let matrix = sev.matrix.as_ref().ok_or(LevelError::NoMatrix)?;
    let impact = service
        .and_then(|s| s.impact.as_ref())
        .or(sev.default_impact.as_ref())
        .ok_or(LevelError::NoImpact)?;
    let column = match urgency {
        Urgency::Warning => sev.likelihood_of.warning.as_ref(),
        Urgency::Critical => sev.likelihood_of.critical.as_ref(),
    }
    .ok_or(LevelError::NoLikelihood(urgency))?;
    let cell = matrix
        .cell(&impact.value, &column.value)
        .ok_or_else(|| LevelError::Unknown(format!("{}×{}", impact.value, column.value)))?;
    sev.level(&cell.value)
        .ok_or_else(|| LevelError::Unknown(cell.value.clone()))
}

/// Every alert of a plan, in plan order.
pub(crate) fn alerts(plan: &Plan) -> Vec<Alert<'_>> {
    let mut out = Vec::new();
    for (name, kpi) in plan.kpis.iter() {
        let service = plan.services.get(&kpi.service.value);
        for (urgency, threshold, explicit) in [
            (Urgency::Warning, &kpi.warning, &kpi.levels.warning),
            (Urgency::Critical, &kpi.critical, &kpi.levels.critical),
        ] {
            let Some(threshold) = threshold else { continue };
            out.push(Alert {
                // Named below, once both thresholds' levels are known.
                name: String::new(),
                source: Source::Kpi { name, threshold },
                urgency,
                service: Some(&kpi.service),
                level: level_for(plan, service, urgency, explicit.as_ref().map(|r| &r.name)),
                runbook: kpi.runbook.as_ref().map(|r| &r.name),
                span: threshold.span,
            });
        }
    }
    name_kpi_alerts(&mut out);
    // A KPI with thresholds whose indicator yields nothing: the least urgent of its levels.
    for (name, kpi) in plan.kpis.iter() {
        if yields_without_input(&kpi.indicator.value) {
            continue;
        }
        let Some(least) = out
            .iter()
            .filter(|a| matches!(a.source, Source::Kpi { name: n, .. } if n.value == name.value))
            .min_by_key(|a| a.urgency)
        else {
            continue;
        };
        let (level, runbook, span) = (least.level.clone(), least.runbook, least.span);
        out.push(Alert {
            name: format!("{}NoData", camel(&name.value)),
            source: Source::NoData { kpi: name },
            urgency: Urgency::Warning,
            service: Some(&kpi.service),
            level,
            runbook,
            span,
        });
    }
    for (name, slo) in plan.slos.iter() {
        let service = plan.services.get(&slo.service.value);
        for (page, urgency, explicit) in [
            (true, Urgency::Critical, &slo.page),
            (false, Urgency::Warning, &slo.ticket),
        ] {
            // Burn-rate alerts are opt-in: only the ones `alerting` names.
            if explicit.is_none() {
                continue;
            }
            out.push(Alert {
                name: format!(
                    "{}BurnRate{}",
                    camel(&name.value),
                    if page { "Page" } else { "Ticket" }
                ),
                source: Source::Slo { name, page },
                urgency,
                service: Some(&slo.service),
                level: level_for(plan, service, urgency, explicit.as_ref().map(|r| &r.name)),
                runbook: slo.runbook.as_ref().map(|r| &r.name),
                span: explicit.as_ref().map_or(slo.objective.span, |e| e.span),
            });
        }
    }
    for (name, service) in plan.services.iter() {
        if let Some(health) = &service.health {
            out.push(Alert {
                name: format!("{}Down", camel(&name.value)),
                source: Source::Health {
                    service: name,
                    check: HealthAlert::Down,
                },
                urgency: Urgency::Critical,
                service: Some(name),
                level: level_for(
                    plan,
                    Some(service),
                    Urgency::Critical,
                    health.level.as_ref().map(|r| &r.name),
                ),
                runbook: service.runbook.as_ref().map(|r| &r.name),
                span: health.probe.span,
            });
            // An answer without what the body must say: the level the body names, else the
            // matrix's warning cell (the service answers; it is degraded, not down).
            if let Some(body) = &health.body {
                out.push(Alert {
                    name: format!("{}Unhealthy", camel(&name.value)),
                    source: Source::Health {
                        service: name,
                        check: HealthAlert::Unhealthy,
                    },
                    urgency: Urgency::Warning,
                    service: Some(name),
                    level: level_for(
                        plan,
                        Some(service),
                        Urgency::Warning,
                        body.level.as_ref().map(|r| &r.name),
                    ),
                    runbook: body
                        .runbook
                        .as_ref()
                        .or(service.runbook.as_ref())
                        .map(|r| &r.name),
                    span: body.expect.span,
                });
            }
            // A flapping check is a warning about the service: the matrix's warning cell.
            out.push(Alert {
                name: format!("{}Flapping", camel(&name.value)),
                source: Source::Health {
                    service: name,
                    check: HealthAlert::Flapping,
                },
                urgency: Urgency::Warning,
                service: Some(name),
                level: level_for(plan, Some(service), Urgency::Warning, None),
                runbook: service.runbook.as_ref().map(|r| &r.name),
                span: health.probe.span,
            });
        }
    }
    for (name, task) in plan.tasks.iter() {
        if task.manual || task.command.is_none() {
            continue;
        }
        let service_name = task.service.as_ref();
        let service = service_name.and_then(|s| plan.services.get(&s.value));
        let span = match &task.when {
            When::Window(w) => w.span,
            When::Schedule(s) => s.span,
        };
        out.push(Alert {
            name: format!("{}Missed", camel(&name.value)),
            source: Source::Freshness {
                name: name.value.clone(),
            },
            urgency: Urgency::Warning,
            service: service_name.map(|r| &r.name),
            level: level_for(
                plan,
                service,
                Urgency::Warning,
                task.level.as_ref().map(|r| &r.name),
            ),
            runbook: task
                .runbook
                .as_ref()
                .or(plan.execution.runbook.as_ref())
                .map(|r| &r.name),
            span,
        });
    }
    for (name, backup) in plan.backups.iter() {
        let service_name = backup.service.as_ref();
        let service = service_name.and_then(|s| plan.services.get(&s.value));
        let runbook = backup
            .runbook
            .as_ref()
            .or(plan.execution.runbook.as_ref())
            .map(|r| &r.name);
        // A missed run of one of the backup's jobs: `job` did not succeed in time.
        let missed = |alert: &str, kind: BackupKind, job: String, urgency, explicit, span| Alert {
            name: format!("{}{}{alert}", camel(&name.value), camel(kind.name())),
            source: Source::Freshness { name: job },
            urgency,
            service: service_name.map(|r| &r.name),
            level: level_for(plan, service, urgency, explicit),
            runbook,
            span,
        };
        for level in automated_levels(backup) {
            out.push(missed(
                "BackupMissed",
                level.kind,
                format!("{}.{}", name.value, level.kind.name()),
                Urgency::Critical,
                level
                    .level
                    .as_ref()
                    .or(backup.level.as_ref())
                    .map(|r| &r.name),
                level.schedule.span,
            ));
        }
        // A prune that stops fills the disk slowly: of warning urgency, as a task is, unless
        // `prune.level` says otherwise.
        for (prune, level, _) in pruned_levels(backup) {
            out.push(missed(
                "PruneMissed",
                level.kind,
                super::timeline::prune_name(&name.value, level.kind),
                Urgency::Warning,
                prune.level.as_ref().map(|r| &r.name),
                prune.schedule.span,
            ));
        }
        // The data a restore would lose: the newest success of any automated level against the
        // RPO, at the level of the backup's missed-backup alerts.
        if let Some(rpo) = watched_rpo(backup) {
            out.push(Alert {
                name: format!("{}RpoExceeded", camel(&name.value)),
                source: Source::Rpo { backup: name, rpo },
                urgency: Urgency::Critical,
                service: service_name.map(|r| &r.name),
                level: level_for(
                    plan,
                    service,
                    Urgency::Critical,
                    backup.level.as_ref().map(|r| &r.name),
                ),
                runbook,
                span: rpo.span,
            });
        }
        // A restore test that did not run: like a task, of warning urgency; its own runbook
        // (the procedure), else the backup's.
        if let Some(test) = backup
            .restore_test
            .as_ref()
            .filter(|t| !t.manual && t.command.is_some())
        {
            out.push(Alert {
                name: format!("{}RestoreTestMissed", camel(&name.value)),
                source: Source::Freshness {
                    name: format!("{}.restore_test", name.value),
                },
                urgency: Urgency::Warning,
                service: service_name.map(|r| &r.name),
                level: level_for(plan, service, Urgency::Warning, None),
                runbook: test.runbook.as_ref().map(|r| &r.name).or(runbook),
                span: test.schedule.span,
            });
        }
    }
    disambiguate(&mut out);
    out
}

/// A KPI threshold alert is named after the KPI and the level it resolves to (what the
/// `level` label says and the pager shows): `UpdatesAvailableInfo`, `MlflowDownMedium`. When
/// both thresholds of the KPI resolve to the same level, the slot follows the level
/// (`DiskUsageHighWarning`, `DiskUsageHighCritical` for level `high`); when no level resolves
/// (`alert/no-level` says why), the slot alone (`DiskUsageWarning`).
fn name_kpi_alerts(out: &mut [Alert<'_>]) {
    let level_of = |a: &Alert<'_>| a.level.as_ref().ok().map(|l| l.name.value.clone());
    let kpi_of = |a: &Alert<'_>| match a.source {
        Source::Kpi { name, .. } => Some(name.value.clone()),
        _ => None,
    };
    let named: Vec<String> = out
        .iter()
        .map(|a| {
            let Some(kpi) = kpi_of(a) else {
                return a.name.clone();
            };
            let other = out
                .iter()
                .find(|o| o.urgency != a.urgency && kpi_of(o).as_ref() == Some(&kpi))
                .map(level_of);
            kpi_alert_name(
                &kpi,
                a.urgency,
                level_of(a).as_deref(),
                other.flatten().as_deref(),
            )
        })
        .collect();
    for (a, n) in out.iter_mut().zip(named) {
        a.name = n;
    }
}

/// The `alertname` of the threshold of `urgency` of KPI `kpi`, when it resolves to `level`
/// and the KPI's other threshold (if any) to `other`. The importer names the alerts of the
/// plans it writes with it too.
pub(crate) fn kpi_alert_name(
    kpi: &str,
    urgency: Urgency,
    level: Option<&str>,
    other: Option<&str>,
) -> String {
    match level {
        Some(l) if other != Some(l) => format!("{}{}", camel(kpi), camel(l)),
        Some(l) => format!("{}{}{}", camel(kpi), camel(l), camel(urgency.name())),
        None => format!("{}{}", camel(kpi), camel(urgency.name())),
    }
}

/// A KPI alert named after its level may take the name of another alert of the plan (KPI
/// `api` at level `down` and the health check of service `api` are both `ApiDown`): the KPI
/// alert gets its slot after the name (`ApiDownCritical`), so every `alertname` stays one
/// alert. Other collisions (a KPI `a_b` and a KPI `a.b`) are left as they were.
fn disambiguate(out: &mut [Alert<'_>]) {
    let mut taken: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for a in out.iter() {
        *taken.entry(a.name.clone()).or_default() += 1;
    }
    for a in out.iter_mut() {
        if matches!(a.source, Source::Kpi { .. })
            && a.level.is_ok()
            && taken.get(&a.name).is_some_and(|n| *n > 1)
        {
            let longer = format!("{}{}", a.name, camel(a.urgency.name()));
            if !taken.contains_key(&longer) {
                a.name = longer;
            }
        }
    }
}

/// The RPO that a backup's `…RpoExceeded` alert watches: its `rpo`, when an automated level
/// runs at least that often. When only a manual level (snapshots a provider takes) runs that
/// often, nothing upkeep runs reports it, and an alert on the automated levels would fire all
/// the time; when no level does, the RPO is `backup/rpo-unmet` at compile time.
pub(crate) fn watched_rpo(backup: &Backup) -> Option<&Sp<Duration>> {
    let rpo = backup.rpo.as_ref()?;
    automated_levels(backup)
        .filter_map(|l| l.schedule.value.max_gap())
        .min()
        .is_some_and(|gap| gap <= rpo.value)
        .then_some(rpo)
}

/// The levels of a backup that run by themselves (not `manual`, with a command of their own or
/// the backup's), in plan order.
pub(crate) fn automated_levels(backup: &Backup) -> impl Iterator<Item = &BackupLevel> {
    backup
        .levels
        .iter()
        .filter(|l| !l.manual && (l.command.is_some() || backup.command.is_some()))
}

/// The kinds a backup's `prune` deletes, with how long each is kept: its automated kinds with a
/// finite `retain` (none without `prune`).
pub(crate) fn pruned_levels(
    backup: &Backup,
) -> impl Iterator<Item = (&super::Prune, &BackupLevel, Duration)> {
    let prune = backup.prune.as_ref();
    automated_levels(backup).filter_map(move |l| match l.retain.value {
        super::Retention::For(keep) => prune.map(|p| (p, l, keep)),
        super::Retention::Forever => None,
    })
}

/// Whether an indicator yields a value even when none of its series exists (`… or vector(0)`):
/// then "no data" cannot be told apart from a value, and no `NoData` alert is made.
pub(crate) fn yields_without_input(ind: &super::Indicator) -> bool {
    let super::Indicator::Expr(e) = ind else {
        return false;
    };
    /// Remembered for the process (see [`crate::value::promql::remembered`]).
    static KNOWN: crate::par::Memo<String, bool> = crate::par::Memo::new(16_384);
    crate::value::promql::remembered(&KNOWN, &e.value, |ast| ast.is_ok_and(|ast| yields(&ast)))
}

fn yields(e: &promql_parser::parser::Expr) -> bool {
    use promql_parser::parser::Expr;
    match e {
        Expr::NumberLiteral(_) => true,
        Expr::Call(c) => matches!(
            c.func.name,
            "vector" | "absent" | "absent_over_time" | "time"
        ),
        Expr::Paren(p) => yields(&p.expr),
        Expr::Aggregate(a) => yields(&a.expr),
        Expr::Unary(u) => yields(&u.expr),
        Expr::Binary(b) if b.op.to_string() == "or" => yields(&b.lhs) || yields(&b.rhs),
        _ => false,
    }
}
