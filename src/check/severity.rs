//! The severity matrix and levels, and the alerts that use them: complete and monotonic
//! matrix, response times ordered with urgency, every level notifies someone, every alert has a
//! level, and urgent alerts have a runbook.

use super::Cx;
use crate::diag::{Code, Diagnostic};
use crate::model::alerts::{self, HealthAlert, LevelError, Source};

pub(super) fn check(cx: &mut Cx<'_>) {
    let Some(sev) = cx.plan.severity.as_ref() else {
        alerts_without_severity(cx);
        return;
    };
    let sev = &sev.value;
    // Response times must not shrink as urgency drops.
    for pair in sev.levels.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if b.response.value < a.response.value {
            cx.diags.push(
                Diagnostic::new(
                    Code::ResponseOrder,
                    format!("level `{}` is more urgent than `{}` but has a longer response time ({} > {})", a.name.value, b.name.value, a.response.value, b.response.value),
                )
                .at(a.response.span)
                .label(format!("`{}` (more urgent): {}", a.name.value, a.response.value))
                .with_label(b.response.span, format!("`{}` (less urgent): {}", b.name.value, b.response.value))
                .help("levels are listed most urgent first; fix one of the response times or reorder the levels"),
            );
        }
    }
    for l in &sev.levels {
        if l.notify.is_empty() {
            cx.diags.push(
                Diagnostic::new(
                    Code::NoReceiver,
                    format!("level `{}` notifies nobody", l.name.value),
                )
                .at(l.name.span)
                .label("no `notify` receivers")
                .help(format!(
                    "add the receivers alerts of `{}` go to, e.g. `notify: [pager, slack]`",
                    l.name.value
                )),
            );
        }
    }
    if let Some(m) = &sev.matrix {
        let cols = m.likelihood.len();
        for (row, cells) in &m.impact {
            if cells.value.len() != cols {
                cx.diags.push(
                    Diagnostic::new(
                        Code::MatrixIncomplete,
                        format!(
                            "impact row `{}` has {} cells for {} likelihood columns",
                            row.value,
                            cells.value.len(),
                            cols
                        ),
                    )
                    .at(cells.span)
                    .label(format!("{} cells", cells.value.len()))
                    .with_label(
                        m.likelihood
                            .first()
                            .map_or(row.span, |l| l.span.to(m.likelihood[cols - 1].span)),
                        format!("{cols} columns"),
                    )
                    .help(format!(
                        "give `{}` one level per likelihood column ({})",
                        row.value,
                        m.likelihood
                            .iter()
                            .map(|l| l.value.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                );
            }
        }
        monotonic(cx, sev);
    }
    alert_levels(cx);
    response_times(cx);
}

/// Rows go from the highest impact to the lowest, columns from the lowest likelihood to the
/// highest: urgency must not drop moving right or moving up.
fn monotonic(cx: &mut Cx<'_>, sev: &crate::model::Severity) {
    let Some(m) = &sev.matrix else { return };
    let rank = |name: &str| sev.rank(name);
    let report = |cx: &mut Cx<'_>,
                  worse: &crate::span::Sp<String>,
                  better: &crate::span::Sp<String>,
                  what: &str| {
        cx.diags.push(
            Diagnostic::new(Code::MatrixNotMonotonic, format!("more {what} gives a less urgent level: `{}` after `{}`", worse.value, better.value))
                .at(worse.span)
                .label(format!("less urgent, with more {what}"))
                .with_label(better.span, "more urgent, with less")
                .help("impact rows go from highest to lowest and likelihood columns from lowest to highest; urgency must not drop as either grows"),
        );
    };
    for (_, cells) in &m.impact {
        for pair in cells.value.windows(2) {
            if let (Some(a), Some(b)) = (rank(&pair[0].value), rank(&pair[1].value)) {
                if b > a {
                    report(cx, &pair[1], &pair[0], "likelihood");
                }
            }
        }
    }
    for rows in m.impact.windows(2) {
        let (upper, lower) = (&rows[0].1.value, &rows[1].1.value);
        for (a, b) in upper.iter().zip(lower.iter()) {
            if let (Some(ra), Some(rb)) = (rank(&a.value), rank(&b.value)) {
                if ra > rb {
                    report(cx, a, b, "impact");
                }
            }
        }
    }
}

fn required_levels(cx: &Cx<'_>) -> Vec<String> {
    let Some(sev) = cx.plan.severity.as_ref() else {
        return Vec::new();
    };
    match &sev.value.require_runbook {
        Some(list) => list.iter().map(|l| l.value.clone()).collect(),
        None => sev
            .value
            .levels
            .iter()
            .take(2)
            .map(|l| l.name.value.clone())
            .collect(),
    }
}

fn alert_levels(cx: &mut Cx<'_>) {
    let required = required_levels(cx);
    for alert in alerts::alerts(cx.plan) {
        // A KPI's no-data alert has the level and runbook of its threshold alerts, which are
        // reported already.
        if matches!(alert.source, Source::NoData { .. }) {
            continue;
        }
        match &alert.level {
            Ok(level) => {
                if alert.runbook.is_none() && required.contains(&level.name.value) {
                    let (field, on) = match &alert.source {
                        Source::Kpi { name, .. } => ("runbook", format!("`kpis.{}`", name.value)),
                        Source::Slo { name, .. } => ("runbook", format!("`slos.{}`", name.value)),
                        Source::Health { service, .. } => {
                            ("runbook", format!("`services.{}`", service.value))
                        }
                        // A backup level (`postgres.full`) takes the backup's runbook.
                        Source::Freshness { name } => match name.split_once('.') {
                            Some((backup, _)) => ("runbook", format!("`backups.{backup}`")),
                            None => ("runbook", format!("`tasks.{name}`")),
                        },
                        Source::Rpo { backup, .. } => {
                            ("runbook", format!("`backups.{}`", backup.value))
                        }
                        Source::NoData { kpi } => ("runbook", format!("`kpis.{}`", kpi.value)),
                    };
                    cx.diags.push(
                        Diagnostic::new(
                            Code::NoRunbook,
                            format!(
                                "alert `{}` is `{}` but has no runbook",
                                alert.name, level.name.value
                            ),
                        )
                        .at(alert.span)
                        .label(format!("`{}` alert", level.name.value))
                        .with_label(level.name.span, "this level requires a runbook")
                        .help(format!(
                            "add `{field}:` to {on}, pointing at a runbook that says what to do"
                        )),
                    );
                }
            }
            Err(LevelError::Unknown(_)) => {} // already `ref/unknown`
            Err(e) => {
                let why = match e {
                    LevelError::NoSeverity => "the plan has no `severity` section".to_owned(),
                    LevelError::NoMatrix => {
                        "there is no `severity.matrix` and no explicit `levels`".to_owned()
                    }
                    LevelError::NoImpact => match alert.service {
                        Some(s) => format!(
                            "service `{}` has no `impact` and there is no `severity.default_impact`",
                            s.value
                        ),
                        None => "it concerns no service and there is no `severity.default_impact`"
                            .to_owned(),
                    },
                    LevelError::NoLikelihood(u) => {
                        format!("`severity.likelihood_of.{}` is not set", u.name())
                    }
                    LevelError::Unknown(_) => String::new(),
                };
                cx.diags.push(
                    Diagnostic::new(Code::NoLevel, format!("alert `{}` has no severity level: {why}", alert.name))
                        .at(alert.span)
                        .label("cannot be routed")
                        .help("give the service an `impact`, set `severity.default_impact` and `severity.likelihood_of`, or give the KPI explicit `levels`"),
                );
            }
        }
    }
}

/// A plan with alerts but no severity section: one diagnostic, not one per alert.
fn alerts_without_severity(cx: &mut Cx<'_>) {
    let all = alerts::alerts(cx.plan);
    let Some(first) = all.first() else { return };
    let mut d = Diagnostic::new(
        Code::NoLevel,
        if all.len() == 1 {
            "the plan has an alert but no `severity` section to route it".to_owned()
        } else {
            format!(
                "the plan has {} alerts but no `severity` section to route them",
                all.len()
            )
        },
    )
    .at(first.span)
    .label(format!("alert `{}`", first.name));
    for a in all.iter().skip(1).take(3) {
        d = d.with_label(a.span, format!("alert `{}`", a.name));
    }
    cx.diags.push(d.help("add `severity:` with `levels`, a `matrix` and `likelihood_of` (or import a fragment that has them)"));
}

/// Every alert whose worst-case time to notify exceeds its level's `response`: a health check's
/// detection time (its attempts and timeout) or a KPI's `for`, then one rule evaluation and the
/// level's `group_wait`. SLO burn-rate alerts (their delay depends on how fast the budget
/// burns), no-data alerts (reported with their threshold) and missed-job alerts (measured
/// against their schedule) are not compared.
fn response_times(cx: &mut Cx<'_>) {
    use crate::model::levels;
    use crate::model::probes;
    for alert in alerts::alerts(cx.plan) {
        let Ok(level) = &alert.level else { continue };
        let (detect, how, help) = match &alert.source {
            Source::Health {
                service,
                check: check @ (HealthAlert::Down | HealthAlert::Unhealthy),
            } => {
                let Some(h) = cx
                    .plan
                    .services
                    .get(&service.value)
                    .and_then(|s| s.health.as_ref())
                else {
                    continue;
                };
                let t = probes::timing(h);
                (
                    t.detect,
                    format!(
                        "{} failed attempts {} apart, the last taking up to {}",
                        t.attempts,
                        t.attempt,
                        h.timeout.value.min(t.attempt)
                    ),
                    match shorter(h, detect_budget(level)) {
                        Some(d) => format!(
                            "check more often: `interval: {d}` on `services.{}.health`",
                            service.value
                        ),
                        None => format!(
                            "shorten `timeout` on `services.{}.health`, or give {} a `level` whose `response` allows {}",
                            service.value,
                            if *check == HealthAlert::Down {
                                "the check"
                            } else {
                                "`body`"
                            },
                            t.detect
                                .saturating_add(crate::model::levels::notify_delay(level))
                        ),
                    },
                )
            }
            Source::Kpi { name, .. } => {
                let Some(k) = cx.plan.kpis.get(&name.value) else {
                    continue;
                };
                let wait = k.wait(alert.urgency);
                // The threshold's own `for` when it has one, else the KPI's.
                let own = match alert.urgency {
                    alerts::Urgency::Warning => k.waits.warning.is_some(),
                    alerts::Urgency::Critical => k.waits.critical.is_some(),
                };
                let at = if own {
                    format!("kpis.{}.{}", name.value, alert.urgency.name())
                } else {
                    format!("kpis.{}", name.value)
                };
                (
                    wait,
                    format!("`for: {wait}`"),
                    format!(
                        "shorten the wait: `for: {}` on `{at}`",
                        detect_budget(level)
                    ),
                )
            }
            _ => continue,
        };
        let delay = levels::notify_delay(level);
        let total = detect.saturating_add(delay);
        if total <= level.response.value {
            continue;
        }
        let timers = levels::timers(level);
        cx.diags.push(
            Diagnostic::new(
                Code::ResponseUnmet,
                format!(
                    "alert `{}` can take {total} to notify, longer than level `{}`'s response of {}",
                    alert.name, level.name.value, level.response.value
                ),
            )
            .at(alert.span)
            .label(format!(
                "{detect} to detect ({how}), then {} (one rule evaluation, {}, and `group_wait` {})",
                delay,
                levels::EVALUATION,
                timers.group_wait
            ))
            .with_label(level.response.span, "the promise")
            .help(help),
        );
    }
}

/// What detection may take for an alert of `level` to notify within its response.
fn detect_budget(level: &crate::model::Level) -> crate::value::Duration {
    level
        .response
        .value
        .saturating_sub(crate::model::levels::notify_delay(level))
}

/// The longest `interval` (whole minutes when one works, else seconds) at which `h` detects
/// within `budget`; `None` when even one attempt and its timeout take longer.
fn shorter(
    h: &crate::model::Health,
    budget: crate::value::Duration,
) -> Option<crate::value::Duration> {
    use crate::value::Duration;
    let fits = |d: Duration| {
        let mut h = h.clone();
        h.interval.value = d;
        crate::model::probes::timing(&h).detect <= budget
    };
    let top = budget.min(h.interval.value);
    (1..=top.as_mins())
        .rev()
        .map(Duration::from_mins)
        .chain((1..=top.as_secs().min(59)).rev().map(Duration::from_secs))
        .find(|d| fits(*d))
}
