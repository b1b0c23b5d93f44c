//! Alertmanager: `alertmanager/alertmanager.yaml`, one complete configuration for every plan
//! of a build. Each plan contributes a [`Part`]; [`emit`] puts them together.
//!
//! - A route per plan (`plan` matcher) holding one route per severity level (`level` matcher),
//!   to one receiver per level (`PLAN-LEVEL`) that holds every channel the level notifies;
//!   `group_wait`, `group_interval` and `repeat_interval` from the level (`model::levels::timers`). A plan's alert that matches no level route goes to its
//!   least urgent level's receiver; an alert of no plan to the root receiver [`UNROUTED`].
//! - Inhibition never lets an alert silence one of a more urgent level: a KPI's critical
//!   silences its warning on the same series; an SLO's page silences its ticket; a hard
//!   dependency that is down silences the alerts of the services that need it at its level and
//!   below.
//! - Maintenance windows become `time_intervals` in the plan's time zone: a window mutes the
//!   levels its `mute` says (`true`: those that do not page); planned `downtime` mutes the
//!   services it names at every level.

use chrono::Weekday;

use super::yaml::Yaml;
use super::{Artifact, Context};
use crate::model::alerts::{self, HealthAlert, Source};
use crate::model::{Indicator, Kpi, Level, Mute, Plan, ReceiverKind, Resource, Window, WindowKind};
use crate::value::schedule::{DaySpec, Days, Months};
use crate::value::{Duration, Schedule, TimeOfDay};

fn matcher(k: &str, v: &str) -> Yaml {
    Yaml::Str(format!("{k}={}", super::prometheus::quote(v)))
}

fn regex_matcher(k: &str, re: &str) -> Yaml {
    Yaml::Str(format!("{k}=~{}", super::prometheus::quote(re)))
}

fn receiver_name(plan: &str, level: &str) -> String {
    format!("{plan}-{level}")
}

fn interval_name(plan: &str, window: &str) -> String {
    format!("{plan}-{window}")
}

const WEEKDAYS: [Weekday; 7] = [
    Weekday::Sun,
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
];

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn hhmm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// One Alertmanager time interval: a time range and the day constraints it applies on.
#[derive(Clone, Default, PartialEq)]
struct Span {
    start: u32,
    end: u32,
    weekdays: Vec<Weekday>,
    days: Vec<String>,
    months: Vec<u32>,
    years: Vec<i32>,
}

impl Span {
    fn same_days(&self, o: &Span) -> bool {
        self.weekdays == o.weekdays
            && self.days == o.days
            && self.months == o.months
            && self.years == o.years
    }

    /// The interval with the time ranges of every span on the same days.
    fn yaml(&self, times: &[(u32, u32)], location: &str) -> Yaml {
        let times: Vec<Yaml> = times
            .iter()
            .map(|(s, e)| {
                Yaml::map()
                    .with("start_time", hhmm(*s))
                    .with("end_time", hhmm(*e))
            })
            .collect();
        let mut y = Yaml::map().with("times", times);
        if !self.weekdays.is_empty() {
            y.push(
                "weekdays",
                Yaml::Seq(
                    self.weekdays
                        .iter()
                        .map(|d| Yaml::str(crate::value::schedule::weekday_name(*d)))
                        .collect(),
                ),
            );
        }
        if !self.days.is_empty() {
            y.push(
                "days_of_month",
                Yaml::Seq(self.days.iter().map(Yaml::str).collect()),
            );
        }
        if !self.months.is_empty() {
            y.push(
                "months",
                Yaml::Seq(
                    self.months
                        .iter()
                        .map(|m| Yaml::str(MONTHS[(*m - 1) as usize]))
                        .collect(),
                ),
            );
        }
        if !self.years.is_empty() {
            y.push(
                "years",
                Yaml::Seq(
                    self.years
                        .iter()
                        .map(|y| Yaml::str(y.to_string()))
                        .collect(),
                ),
            );
        }
        y.with("location", location)
    }
}

fn days_of(days: Days) -> Vec<Weekday> {
    WEEKDAYS
        .iter()
        .copied()
        .filter(|d| days.contains(*d))
        .collect()
}

fn month_list(months: Months) -> Vec<u32> {
    if months == Months::ALL {
        Vec::new()
    } else {
        (1..=12).filter(|m| months.contains(*m)).collect()
    }
}

/// The time intervals of a window, or why it cannot be expressed.
fn spans(schedule: &Schedule, duration: Duration) -> Result<Vec<Span>, String> {
    let len = (duration.as_secs() / 60) as u32;
    if len >= 24 * 60 {
        return Err(format!(
            "a window of {duration} (a day or longer) cannot be expressed as daily time ranges"
        ));
    }
    // The part on the day it starts and, when it runs past midnight, the part on the next day.
    let split = |at: TimeOfDay| -> (Span, Option<Span>) {
        let start = at.minutes();
        let end = start + len;
        if end <= 24 * 60 {
            (
                Span {
                    start,
                    end,
                    ..Span::default()
                },
                None,
            )
        } else {
            (
                Span {
                    start,
                    end: 24 * 60,
                    ..Span::default()
                },
                Some(Span {
                    start: 0,
                    end: end - 24 * 60,
                    ..Span::default()
                }),
            )
        }
    };
    match schedule {
        Schedule::Weekly { days, at } => {
            let (mut a, b) = split(*at);
            if *days != Days::ALL {
                a.weekdays = days_of(*days);
            }
            let mut out = vec![a];
            if let Some(mut b) = b {
                if *days != Days::ALL {
                    b.weekdays = days_of(*days).into_iter().map(|d| d.succ()).collect();
                    b.weekdays.sort_by_key(Weekday::num_days_from_sunday);
                }
                out.push(b);
            }
            Ok(out)
        }
        Schedule::Monthly { months, day, at } => {
            let (mut a, b) = split(*at);
            a.months = month_list(*months);
            let next_day = |b: &mut Span| -> Result<(), String> {
                b.months = month_list(*months);
                match day {
                    DaySpec::Day(d) if *d < 28 => b.days = vec![(d + 1).to_string()],
                    DaySpec::Nth(k, wd) if *k <= 4 => {
                        let lo = u32::from(*k) * 7 - 5;
                        b.days = vec![format!("{lo}:{}", lo + 6)];
                        b.weekdays = vec![wd.succ()];
                    }
                    _ => return Err("a monthly window that runs past midnight at the end of the month cannot be expressed".to_owned()),
                }
                Ok(())
            };
            match day {
                DaySpec::Day(d) => a.days = vec![d.to_string()],
                DaySpec::LastDay => a.days = vec!["-1".to_owned()],
                DaySpec::Nth(k, wd) if *k <= 4 => {
                    let lo = u32::from(*k) * 7 - 6;
                    a.days = vec![format!("{lo}:{}", lo + 6)];
                    a.weekdays = vec![*wd];
                }
                DaySpec::Nth(_, wd) => {
                    a.days = vec!["-7:-1".to_owned()];
                    a.weekdays = vec![*wd];
                }
            }
            let mut out = vec![a];
            if let Some(mut b) = b {
                next_day(&mut b)?;
                out.push(b);
            }
            Ok(out)
        }
        Schedule::Once { date, at } => {
            use chrono::Datelike;
            let (mut a, b) = split(*at);
            a.years = vec![date.year()];
            a.months = vec![date.month()];
            a.days = vec![date.day().to_string()];
            let mut out = vec![a];
            if let Some(mut b) = b {
                let next = date.succ_opt().ok_or("no next day")?;
                b.years = vec![next.year()];
                b.months = vec![next.month()];
                b.days = vec![next.day().to_string()];
                out.push(b);
            }
            Ok(out)
        }
        Schedule::Every(d) if d.as_mins() < 24 * 60 && len < d.as_mins() as u32 => {
            let step = d.as_mins() as u32;
            Ok((0..24 * 60)
                .step_by(step as usize)
                .flat_map(|m| {
                    let (a, b) = split(TimeOfDay::from_minutes(m));
                    std::iter::once(a).chain(b)
                })
                .collect())
        }
        Schedule::Every(_) => Err("an interval of days (or a window as long as its interval) cannot be expressed in Alertmanager".to_owned()),
        Schedule::Cron(c) => Err(format!("the cron line `{}` is not translated to Alertmanager time intervals", c.text)),
        Schedule::Bounded(_, bound) => Err(format!("a window limited to dates (`{bound}`) is not translated to Alertmanager time intervals")),
    }
}

fn receiver_yaml(plan: &Plan, name: &str, level: &Level) -> Yaml {
    let mut y = Yaml::map().with("name", name);
    let mut slack = Vec::new();
    let mut email = Vec::new();
    let mut pagerduty = Vec::new();
    let mut opsgenie = Vec::new();
    let mut webhook = Vec::new();
    for r in &level.notify {
        let Some(rc) = plan.receivers.get(&r.value) else {
            continue;
        };
        match &rc.kind {
            ReceiverKind::Slack { channel, api_url_file, username, send_resolved } => slack.push(
                Yaml::map()
                    .with_opt("api_url_file", api_url_file.as_ref().map(|f| f.value.clone()))
                    .with("channel", channel.value.as_str())
                    .with_opt("username", username.as_ref().map(|u| u.value.clone()))
                    .with("send_resolved", *send_resolved)
                    .with("title", "[{{ .Status | toUpper }}] {{ .CommonAnnotations.summary }}")
                    .with("text", "{{ range .Alerts }}{{ .Annotations.description }}{{ if .Annotations.runbook_url }}\nRunbook: {{ .Annotations.runbook_url }}{{ end }}\n{{ end }}"),
            ),
            ReceiverKind::Email { to, from, smarthost, auth_username, auth_password_file } => email.push(
                Yaml::map()
                    .with("to", to.value.as_str())
                                        .with("from", from.value.as_str())
                    .with("smarthost", smarthost.value.as_str())
                    .with_opt("auth_username", auth_username.as_ref().map(|f| f.value.clone()))
                    .with_opt("auth_password_file", auth_password_file.as_ref().map(|f| f.value.clone()))
                    .with("send_resolved", true),
            ),
            ReceiverKind::PagerDuty { routing_key_file, severity } => pagerduty.push(
                Yaml::map()
                    .with_opt("routing_key_file", routing_key_file.as_ref().map(|f| f.value.clone()))
                    .with(
                        "severity",
                        severity.as_ref().map_or(PAGERDUTY_SEVERITY, |f| f.value.as_str()),
                    )
                    .with("description", "{{ .CommonAnnotations.summary }}")
                    .with("send_resolved", true),
            ),
            ReceiverKind::Opsgenie { api_key_file, priority, responders } => opsgenie.push(
                Yaml::map()
                    .with_opt("api_key_file", api_key_file.as_ref().map(|f| f.value.clone()))
                    .with("message", "{{ .CommonAnnotations.summary }}")
                    .with_opt("priority", priority.as_ref().map(|f| f.value.clone()))
                    .with_opt(
                        "responders",
                        (!responders.is_empty()).then(|| Yaml::Seq(responders.iter().map(|r| Yaml::map().with("name", r.value.as_str()).with("type", "team")).collect())),
                    ),
            ),
                        ReceiverKind::Webhook { url, credentials_file, max_alerts } => webhook.push(
                Yaml::map()
                    .with("url", url.value.as_str())
                    .with_opt(
                        "http_config",
                        credentials_file.as_ref().map(|f| Yaml::map().with("authorization", Yaml::map().with("type", "Bearer").with("credentials_file", f.value.as_str()))),
                    )
                    .with_opt("max_alerts", max_alerts.as_ref().map(|m| m.value))
                    .with("send_resolved", true),
            ),
        }
    }
    for (key, list) in [
        ("email_configs", email),
        ("opsgenie_configs", opsgenie),
        ("pagerduty_configs", pagerduty),
        ("slack_configs", slack),
        ("webhook_configs", webhook),
    ] {
        if !list.is_empty() {
            y.push(key, Yaml::Seq(list));
        }
    }
    y
}

/// A `PagerDuty` event's severity when the receiver sets none: the alerts' conventional
/// `severity` label (`critical`, `warning` or `info`, all of which `PagerDuty` accepts). Alerts
/// are grouped by `alertname`, and one alert name has one level, so the label is common.
const PAGERDUTY_SEVERITY: &str = "{{ .CommonLabels.severity }}";

/// The root receiver: alerts without a `plan` label (not from upkeep's rules). It notifies
/// nobody; the file's header says so. A receiver of a plan is always `PLAN-LEVEL`, with a `-`,
/// so this name cannot collide with one.
pub(crate) const UNROUTED: &str = "unrouted";

/// One plan's part of the configuration: its route (with a route per level under it), its
/// receivers, inhibit rules and time intervals, and what could not be expressed.
pub(crate) struct Part {
    /// The plan file's repository-relative name, for the header.
    source: String,
    notes: Vec<String>,
    route: Yaml,
    receivers: Vec<Yaml>,
    inhibit: Vec<Yaml>,
    intervals: Vec<Yaml>,
}

/// The labels that tell the series of a KPI apart, besides `plan` and `kpi`: `instance` always
/// (a missing label is equal on both sides), the labels a host metric keeps, and those of a
/// top-level `by (…)` aggregation of an `expr:`.
fn series_labels(kpi: &Kpi) -> Vec<String> {
    let mut out = vec!["instance".to_owned()];
    match &kpi.indicator.value {
        Indicator::Resource(Resource::Disk) => out.push("mountpoint".to_owned()),
        Indicator::Expr(e) => {
            if let Ok(ast) = crate::value::promql::parse(&e.value) {
                out.extend(by_labels(&ast));
            }
        }
        _ => {}
    }
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|l| seen.insert(l.clone()));
    out
}

/// The labels of a `by (…)` aggregation at the top of `e`: through parentheses, and through
/// arithmetic whose other side is a number (`100 * max by (instance) (…)`) or whose result
/// keeps the left side's labels (`a / on (instance) b`).
fn by_labels(e: &promql_parser::parser::Expr) -> Vec<String> {
    use promql_parser::parser::{Expr, LabelModifier};
    match e {
        Expr::Paren(p) => by_labels(&p.expr),
        Expr::Aggregate(a) => match &a.modifier {
            Some(LabelModifier::Include(ls)) => ls.labels.clone(),
            _ => Vec::new(),
        },
        Expr::Binary(b) => match (&*b.lhs, &*b.rhs) {
            (Expr::NumberLiteral(_), other) | (other, Expr::NumberLiteral(_)) => by_labels(other),
            (lhs, _) => by_labels(lhs),
        },
        _ => Vec::new(),
    }
}

fn inhibit_rule(source: Vec<Yaml>, target: Vec<Yaml>, equal: &[&str], why: String) -> Yaml {
    Yaml::map()
        .with("source_matchers", source)
        .with("target_matchers", target)
        .with(
            "equal",
            Yaml::Seq(equal.iter().map(|l| Yaml::str(*l)).collect()),
        )
        .commented(vec![why])
}

/// The inhibit rules of a plan. A rule never lets an alert silence one of a more urgent level,
/// and a KPI's critical silences its warning only on the same series.
fn inhibitions(plan: &Plan, p: &str) -> Vec<Yaml> {
    let Some(sev) = plan.severity.as_ref().map(|s| &s.value) else {
        return Vec::new();
    };
    let rank = |a: &alerts::Alert<'_>| a.level.as_ref().ok().and_then(|l| sev.rank(&l.name.value));
    let all = alerts::alerts(plan);
    // Alerts are found by what they come from: a KPI alert's name follows its level.
    let kpi_alert = |kpi: &str, urgency: alerts::Urgency| {
        all.iter().find(|a| {
            a.urgency == urgency
                && matches!(a.source, Source::Kpi { name, .. } if name.value == kpi)
        })
    };
    let slo_alert = |slo: &str, page: bool| {
        all.iter().find(|a| {
            matches!(a.source, Source::Slo { name, page: pg } if name.value == slo && pg == page)
        })
    };
    let mut out = Vec::new();
    // The more urgent alert of a pair silences the other, when it is at least as urgent.
    let mut pair = |source: Option<&alerts::Alert<'_>>,
                    target: Option<&alerts::Alert<'_>>,
                    equal: &[&str],
                    why: String| {
        let (Some(s), Some(t)) = (source, target) else {
            return;
        };
        if let (Some(rs), Some(rt)) = (rank(s), rank(t)) {
            if rs <= rt {
                out.push(inhibit_rule(
                    vec![matcher("plan", p), matcher("alertname", &s.name)],
                    vec![matcher("plan", p), matcher("alertname", &t.name)],
                    equal,
                    why,
                ));
            }
        }
    };
    for (name, kpi) in plan.kpis.iter() {
        let labels = series_labels(kpi);
        let mut equal = vec!["plan", "kpi"];
        equal.extend(labels.iter().map(String::as_str));
        pair(
            kpi_alert(&name.value, alerts::Urgency::Critical),
            kpi_alert(&name.value, alerts::Urgency::Warning),
            &equal,
            format!(
                "KPI `{}`: its critical alert silences its warning on the same series ({})",
                name.value,
                labels.join(", ")
            ),
        );
    }
    for (name, _) in plan.slos.iter() {
        pair(
            slo_alert(&name.value, true),
            slo_alert(&name.value, false),
            &["plan", "slo"],
            format!("SLO `{}`: its page silences its ticket", name.value),
        );
    }
    for (name, svc) in plan.services.iter() {
        for dep in svc.depends_on.iter().filter(|d| d.hard) {
            // The dependency's "down" alerts: its health check, or a KPI on its `up` series; by
            // level, most urgent first.
            let mut down: Vec<(usize, &str)> = all
                .iter()
                .filter(|a| a.service.is_some_and(|s| s.value == dep.service.value))
                .filter(|a| match &a.source {
                    Source::Health { check, .. } => *check == HealthAlert::Down,
                    Source::Kpi { name: k, .. } => {
                        plan.kpis
                            .get(&k.value)
                            .is_some_and(|k| matches!(k.indicator.value, Indicator::Up { .. }))
                            && a.urgency == alerts::Urgency::Critical
                    }
                    _ => false,
                })
                .filter_map(|a| Some((rank(a)?, a.name.as_str())))
                .collect();
            down.sort_unstable();
            let mut ranks: Vec<usize> = down.iter().map(|(r, _)| *r).collect();
            ranks.dedup();
            for r in ranks {
                let level = &sev.levels[r].name.value;
                let names: Vec<&str> = down
                    .iter()
                    .filter(|(dr, _)| *dr == r)
                    .map(|(_, n)| *n)
                    .collect();
                let targets: Vec<&str> = sev.levels[r..]
                    .iter()
                    .map(|l| l.name.value.as_str())
                    .collect();
                let more_urgent = if r == 0 {
                    String::new()
                } else {
                    format!(
                        "; `{}`'s {} alerts still notify",
                        name.value,
                        sev.levels[..r]
                            .iter()
                            .map(|l| format!("`{}`", l.name.value))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                out.push(inhibit_rule(
                    vec![
                        matcher("plan", p),
                        regex_matcher("alertname", &names.join("|")),
                        matcher("service", &dep.service.value),
                        matcher("level", level),
                    ],
                    vec![
                        matcher("plan", p),
                        matcher("service", &name.value),
                        regex_matcher("level", &targets.join("|")),
                    ],
                    &["plan"],
                    format!(
                        "`{}` depends on `{}`: while it is down at `{level}`, `{}` alerts at `{level}` or less urgent are noise{more_urgent}",
                        name.value, dep.service.value, name.value
                    ),
                ));
            }
        }
    }
    out
}

/// One plan's part of the Alertmanager configuration.
pub(crate) fn part(cx: &Context<'_>) -> Part {
    let plan = cx.plan;
    let p = cx.name();
    let tz = plan.metadata.timezone.value.name();
    let levels = plan
        .severity
        .as_ref()
        .map(|s| s.value.levels.as_slice())
        .unwrap_or_default();

    // Time intervals of the windows that mute a level or hold planned downtime.
    let mut intervals = Vec::new();
    let mut notes = Vec::new();
    // Window name → interval name, for the windows that became intervals.
    let mut expressed: Vec<(&str, &Window, String)> = Vec::new();
    let mut downtime: Vec<(String, String)> = Vec::new();
    for (name, w) in plan.windows.iter() {
        let mutes_some = levels
            .iter()
            .any(|l| crate::model::levels::mutes(plan, w, l));
        if w.kind == WindowKind::Freeze || !(mutes_some || w.downtime.is_some()) {
            if !matches!(w.mute, Mute::Nothing) && w.kind != WindowKind::Freeze {
                notes.push(format!(
                    "window `{}` mutes no level: every level pages",
                    name.value
                ));
            }
            continue;
        }
        match spans(&w.schedule.value, w.duration.value) {
            Ok(spans) => {
                let iname = interval_name(p, &name.value);
                let comment = format!(
                    "window `{}`: {}, {}",
                    name.value, w.schedule.value, w.duration.value
                );
                // Ranges on the same days are one interval with several times.
                let mut merged: Vec<(&Span, Vec<(u32, u32)>)> = Vec::new();
                for s in &spans {
                    match merged.iter_mut().find(|(m, _)| m.same_days(s)) {
                        Some((_, times)) => times.push((s.start, s.end)),
                        None => merged.push((s, vec![(s.start, s.end)])),
                    }
                }
                let entries: Vec<Yaml> =
                    merged.iter().map(|(s, times)| s.yaml(times, tz)).collect();
                intervals.push(
                    Yaml::map()
                        .with("name", iname.as_str())
                        .with("time_intervals", entries)
                        .commented(vec![comment]),
                );
                if let Some(d) = &w.downtime {
                    downtime.extend(d.services.iter().map(|s| (s.value.clone(), iname.clone())));
                }
                expressed.push((&name.value, w, iname));
            }
            Err(why) => notes.push(format!("window `{}` is not muted: {why}", name.value)),
        }
    }

    // Routes: one per level; services with planned downtime get their own, muted during it at
    // every level.
    let route = |level: &Level, service: Option<&str>, extra: &[String]| {
        let mut m = vec![matcher("level", &level.name.value)];
        if let Some(s) = service {
            m.push(matcher("service", s));
        }
        let mut mutes: Vec<String> = expressed
            .iter()
            .filter(|(_, w, _)| crate::model::levels::mutes(plan, w, level))
            .map(|(_, _, i)| i.clone())
            .collect();
        mutes.extend(extra.iter().cloned());
        mutes.sort();
        mutes.dedup();
        let mut r = Yaml::map()
            .with("matchers", m)
            .with("receiver", receiver_name(p, &level.name.value));
        // From the level's `response` and `repeat` (see `model::levels::timers`).
        let t = crate::model::levels::timers(level);
        r.push("group_wait", t.group_wait.to_string());
        r.push("group_interval", t.group_interval.to_string());
        r.push("repeat_interval", t.repeat_interval.to_string());
        if !mutes.is_empty() {
            r.push(
                "mute_time_intervals",
                Yaml::Seq(mutes.into_iter().map(Yaml::Str).collect()),
            );
        }
        r
    };
    let mut routes = Vec::new();
    let mut services: Vec<&str> = downtime.iter().map(|(s, _)| s.as_str()).collect();
    services.sort_unstable();
    services.dedup();
    for s in &services {
        let windows: Vec<String> = downtime
            .iter()
            .filter(|(ds, _)| ds == s)
            .map(|(_, w)| w.clone())
            .collect();
        for (rank, l) in levels.iter().enumerate() {
            let r = route(l, Some(s), &windows);
            routes.push(if rank == 0 {
                r.commented(vec![format!(
                    "`{s}` has planned downtime: its alerts are muted at every level during {}",
                    windows.join(", ")
                )])
            } else {
                r
            });
        }
    }
    for l in levels {
        let mut r = route(l, None, &[]);
        // A paging level that a `mute: true` window leaves alone says so.
        let spared: Vec<&str> = expressed
            .iter()
            .filter(|(_, w, _)| {
                matches!(w.mute, Mute::NonPaging) && !crate::model::levels::mutes(plan, w, l)
            })
            .map(|(n, _, _)| *n)
            .collect();
        if !spared.is_empty() {
            r = r.commented(vec![format!(
                "`{}` pages: `mute: true` ({}) does not mute it",
                l.name.value,
                spared
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )]);
        }
        routes.push(r);
    }
    let fallback = levels
        .last()
        .map_or_else(|| UNROUTED.to_owned(), |l| receiver_name(p, &l.name.value));
    let why = match levels.last() {
        Some(l) => format!(
            "plan `{p}`: its alerts that match no level route go to `{fallback}`, the receiver of its least urgent level `{}`",
            l.name.value
        ),
        None => format!("plan `{p}` has no severity levels: its alerts go to the root receiver"),
    };
    let mut plan_route = Yaml::map()
        .with("matchers", vec![matcher("plan", p)])
        .with("receiver", fallback);
    if !routes.is_empty() {
        plan_route.push("routes", routes);
    }

    Part {
        source: super::one_line(cx.source).into_owned(),
        notes: notes
            .into_iter()
            .map(|n| format!("plan `{p}`: {n}"))
            .collect(),
        route: plan_route.commented(vec![why]),
        receivers: levels
            .iter()
            .map(|l| receiver_yaml(plan, &receiver_name(p, &l.name.value), l))
            .collect(),
        inhibit: inhibitions(plan, p),
        intervals,
    }
}

/// `alertmanager/alertmanager.yaml`: one configuration for every plan of the build (`parts` in
/// plan-name order). None without parts.
pub(crate) fn emit(parts: &[Part]) -> Option<Artifact> {
    if parts.is_empty() {
        return None;
    }
    let sources: Vec<&str> = parts.iter().map(|p| p.source.as_str()).collect();
    let mut header = vec![
        format!(
            "Generated by upkeep {} from {}. Do not edit: change the plan{} and run `upkeep build`.",
            env!("CARGO_PKG_VERSION"),
            sources.join(", "),
            if parts.len() == 1 { "" } else { "s" }
        ),
        "One Alertmanager configuration for every plan of the build: a route per plan (`plan=\"NAME\"`),".to_owned(),
        "and under it a route per severity level (`level=\"LEVEL\"`) to the receiver `PLAN-LEVEL`.".to_owned(),
        format!(
            "Alerts without a `plan` label (not from upkeep's rules) go to the root receiver `{UNROUTED}`,"
        ),
        "which notifies nobody: give it integrations, or add routes before the plans', if this".to_owned(),
        "Alertmanager serves other alerts too.".to_owned(),
    ];
    header.extend(parts.iter().flat_map(|p| p.notes.iter().cloned()));
    let mut receivers = vec![Yaml::map().with("name", UNROUTED).commented(vec![
        "alerts of no plan: notifies nobody (see the header)".to_owned(),
    ])];
    receivers.extend(parts.iter().flat_map(|p| p.receivers.iter().cloned()));
    let inhibit: Vec<Yaml> = parts
        .iter()
        .flat_map(|p| p.inhibit.iter().cloned())
        .collect();
    let intervals: Vec<Yaml> = parts
        .iter()
        .flat_map(|p| p.intervals.iter().cloned())
        .collect();
    let mut doc = Yaml::map()
        .with("global", Yaml::map().with("resolve_timeout", "5m"))
        .with(
            "route",
            Yaml::map()
                .with("receiver", UNROUTED)
                .with(
                    "group_by",
                    vec![
                        Yaml::str("plan"),
                        Yaml::str("service"),
                        Yaml::str("alertname"),
                    ],
                )
                .with("group_wait", "30s")
                .with("group_interval", "5m")
                .with("repeat_interval", "4h")
                .with(
                    "routes",
                    Yaml::Seq(parts.iter().map(|p| p.route.clone()).collect()),
                ),
        )
        .with("receivers", receivers);
    if !inhibit.is_empty() {
        doc.push("inhibit_rules", Yaml::Seq(inhibit));
    }
    if !intervals.is_empty() {
        doc.push("time_intervals", Yaml::Seq(intervals));
    }
    Some(Artifact {
        path: PATH.into(),
        content: super::yaml::document(&header, &doc),
    })
}

/// Where the configuration is written, relative to `--out`.
pub(crate) const PATH: &str = "alertmanager/alertmanager.yaml";

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use serde_json::Value;

    use crate::driver::{Options, build, check_texts};

    /// A plan whose levels, dependencies and windows exercise every rule: `P1` pages
    /// (`PagerDuty`), `cache` is down at `P3` and `db` at `P2` (the matrix), `inverted` has its
    /// critical less urgent than its warning.
    const SHOP: &str = r##"apiVersion: upkeep/v1
kind: Plan
metadata: {name: shop, timezone: UTC}
services:
  api: {impact: high, health: {http: "http://api/health"}, depends_on: [cache, db]}
  cache: {impact: low, health: {tcp: "cache:6379"}}
  db: {impact: medium, health: {tcp: "db:5432"}}
kpis:
  cpu: {service: api, indicator: {resource: cpu}, warning: "> 80%", critical: "> 90%"}
  disk: {service: api, indicator: {resource: disk}, warning: "> 80%", critical: "> 90%"}
  queue:
    service: api
    indicator: {expr: '100 * max by (queue, instance) (jobs_waiting) / 5'}
    unit: count
    warning: "> 10"
    critical: "> 100"
  inverted:
    service: api
    indicator: {expr: 'sum(x)'}
    unit: count
    warning: "> 1"
    critical: "> 2"
    levels: {warning: P1, critical: P3}
severity:
  levels:
    P1: {response: 15m, notify: [pager]}
    P2: {response: 1h, notify: [chat]}
    P3: {response: 1d, notify: [chat]}
  matrix:
    likelihood: [low, high]
    impact: {high: [P2, P1], medium: [P3, P2], low: [P3, P3]}
  likelihood_of: {warning: low, critical: high}
receivers:
  pager: {pagerduty: {routing_key_file: /etc/alertmanager/pd-key}}
  chat: {slack: {channel: "#ops", api_url_file: /etc/alertmanager/slack-url}}
windows:
  nightly: {schedule: "daily at 01:00", duration: 1h, mute: true}
  weekly: {schedule: "weekly on sunday at 03:00", duration: 1h, mute: [P3]}
"##;

    /// The build of `plans` (name, text): the shared configuration and every rules file.
    fn built(plans: &[(&str, &str)]) -> (Value, Vec<Value>) {
        let ws = check_texts(
            plans
                .iter()
                .map(|(n, t)| (PathBuf::from(format!("{n}.yaml")), (*t).to_owned()))
                .collect(),
            Options::default(),
        );
        assert_eq!(ws.errors(), 0, "{:#?}", ws.diagnostics);
        let b = build(&ws, &crate::emit::Options::default());
        let config = b
            .shared
            .iter()
            .find(|a| a.path == Path::new(super::PATH))
            .expect("the Alertmanager configuration");
        let rules = b
            .plans
            .iter()
            .flat_map(|(_, files)| files)
            .filter(|a| a.path.to_string_lossy().ends_with(".rules.yaml"))
            .map(|a| serde_saphyr::from_str(&a.content).expect("rules YAML"))
            .collect();
        (
            serde_saphyr::from_str(&config.content).expect("configuration YAML"),
            rules,
        )
    }

    fn strings(v: &Value) -> Vec<&str> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect()
    }

    /// The inhibit rules whose `side` (`source_matchers`…) holds `matcher`.
    fn rules_with<'v>(config: &'v Value, side: &str, matcher: &str) -> Vec<&'v Value> {
        config["inhibit_rules"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| strings(&r[side]).contains(&matcher))
            .collect()
    }

    #[test]
    fn one_configuration_routes_each_plan_then_each_level() {
        let store = SHOP.replace("name: shop", "name: store");
        let (config, _) = built(&[("shop", SHOP), ("store", &store)]);
        let route = &config["route"];
        assert_eq!(route["receiver"], super::UNROUTED);
        let plans = route["routes"].as_array().expect("a route per plan");
        assert_eq!(plans.len(), 2);
        for (r, plan) in plans.iter().zip(["shop", "store"]) {
            assert_eq!(strings(&r["matchers"]), [format!("plan=\"{plan}\"")]);
            // An alert of the plan that matches no level goes to its least urgent level.
            assert_eq!(r["receiver"], format!("{plan}-P3"));
            let levels: Vec<(Vec<&str>, &str)> = r["routes"]
                .as_array()
                .expect("a route per level")
                .iter()
                .map(|l| {
                    (
                        strings(&l["matchers"]),
                        l["receiver"].as_str().unwrap_or(""),
                    )
                })
                .collect();
            assert_eq!(
                levels,
                [
                    (vec!["level=\"P1\""], format!("{plan}-P1").as_str()),
                    (vec!["level=\"P2\""], format!("{plan}-P2").as_str()),
                    (vec!["level=\"P3\""], format!("{plan}-P3").as_str()),
                ]
            );
        }
        let receivers: Vec<&str> = config["receivers"]
            .as_array()
            .expect("receivers")
            .iter()
            .filter_map(|r| r["name"].as_str())
            .collect();
        assert_eq!(
            receivers,
            [
                "unrouted", "shop-P1", "shop-P2", "shop-P3", "store-P1", "store-P2", "store-P3"
            ]
        );
        let intervals: Vec<&str> = config["time_intervals"]
            .as_array()
            .expect("time intervals")
            .iter()
            .filter_map(|i| i["name"].as_str())
            .collect();
        assert_eq!(
            intervals,
            [
                "shop-nightly",
                "shop-weekly",
                "store-nightly",
                "store-weekly"
            ]
        );
        assert!(!rules_with(&config, "source_matchers", "plan=\"store\"").is_empty());
    }

    /// Alerts carry the labels the routes match: `level` (the plan's name for it) and the
    /// conventional `severity`; `PagerDuty` hears the latter.
    #[test]
    fn alerts_carry_their_level_and_a_conventional_severity() {
        let (config, rules) = built(&[("shop", SHOP)]);
        let alerts: Vec<&Value> = rules[0]["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().into_iter().flatten())
            .filter(|r| r["alert"].is_string())
            .collect();
        let labels = |name: &str| {
            let a = alerts
                .iter()
                .find(|a| a["alert"] == name)
                .unwrap_or_else(|| panic!("no alert {name}"));
            (
                a["labels"]["level"].as_str().unwrap_or("").to_owned(),
                a["labels"]["severity"].as_str().unwrap_or("").to_owned(),
            )
        };
        // P1 pages (PagerDuty): critical; P3 is the least urgent of three: info.
        // A KPI alert is named after its level.
        assert_eq!(labels("CpuP1"), ("P1".into(), "critical".into()));
        assert_eq!(labels("CpuP2"), ("P2".into(), "warning".into()));
        assert_eq!(labels("CacheDown"), ("P3".into(), "info".into()));
        let pager = config["receivers"]
            .as_array()
            .expect("receivers")
            .iter()
            .find(|r| r["name"] == "shop-P1")
            .expect("shop-P1");
        assert_eq!(
            pager["pagerduty_configs"][0]["severity"],
            "{{ .CommonLabels.severity }}"
        );
    }

    /// A critical silences its warning only on the same series (`instance` on another host
    /// stays loud), and only when it is at least as urgent.
    #[test]
    fn a_critical_silences_its_warning_on_the_same_series_only() {
        let (config, _) = built(&[("shop", SHOP)]);
        // Each KPI's warning resolves to `P2` and its critical to `P1` (service `api`, impact
        // `high`): the alerts are named after those levels.
        let equal = |kpi: &str| -> Vec<Vec<&str>> {
            rules_with(
                &config,
                "target_matchers",
                &format!("alertname=\"{kpi}P2\""),
            )
            .into_iter()
            .map(|r| {
                assert_eq!(
                    strings(&r["source_matchers"]),
                    ["plan=\"shop\"".to_owned(), format!("alertname=\"{kpi}P1\"")]
                );
                strings(&r["equal"])
            })
            .collect()
        };
        assert_eq!(equal("Cpu"), [["plan", "kpi", "instance"]]);
        assert_eq!(equal("Disk"), [["plan", "kpi", "instance", "mountpoint"]]);
        assert_eq!(equal("Queue"), [["plan", "kpi", "instance", "queue"]]);
        // `inverted`'s critical (P3) is less urgent than its warning (P1): it silences nothing.
        assert!(rules_with(&config, "target_matchers", "alertname=\"InvertedP1\"").is_empty());
        assert!(rules_with(&config, "source_matchers", "alertname=\"InvertedP3\"").is_empty());
    }

    /// A hard dependency that is down silences the alerts of the services that need it at its
    /// own level and less urgent ones, never a more urgent one.
    #[test]
    fn a_dependency_down_never_silences_a_more_urgent_alert() {
        let (config, _) = built(&[("shop", SHOP)]);
        let targets = |down: &str| -> Vec<Vec<&str>> {
            rules_with(
                &config,
                "source_matchers",
                &format!("alertname=~\"{down}\""),
            )
            .into_iter()
            .map(|r| strings(&r["target_matchers"]))
            .collect()
        };
        assert_eq!(
            targets("CacheDown"),
            [["plan=\"shop\"", "service=\"api\"", "level=~\"P3\""]]
        );
        assert_eq!(
            targets("DbDown"),
            [["plan=\"shop\"", "service=\"api\"", "level=~\"P2|P3\""]]
        );
        let source = &rules_with(&config, "source_matchers", "alertname=~\"DbDown\"")[0];
        assert!(strings(&source["source_matchers"]).contains(&"level=\"P2\""));
    }

    /// `mute: true` mutes the levels that do not page; a list mutes exactly those levels.
    #[test]
    fn windows_mute_the_levels_they_say_and_never_a_paging_one_by_default() {
        let (config, _) = built(&[("shop", SHOP)]);
        let mutes = |level: &str| -> Vec<&str> {
            let r = config["route"]["routes"][0]["routes"]
                .as_array()
                .expect("level routes")
                .iter()
                .find(|r| strings(&r["matchers"]) == [format!("level=\"{level}\"")])
                .expect("the level's route");
            strings(&r["mute_time_intervals"])
        };
        assert!(mutes("P1").is_empty(), "P1 pages");
        assert_eq!(mutes("P2"), ["shop-nightly"]);
        assert_eq!(mutes("P3"), ["shop-nightly", "shop-weekly"]);
        // Once P1 says it does not page, `mute: true` mutes it too.
        let quiet = SHOP.replace(
            "P1: {response: 15m, notify: [pager]}",
            "P1: {response: 15m, notify: [pager], pages: false}",
        );
        let (config, _) = built(&[("shop", &quiet)]);
        let p1 = &config["route"]["routes"][0]["routes"][0];
        assert_eq!(strings(&p1["mute_time_intervals"]), ["shop-nightly"]);
    }
}
