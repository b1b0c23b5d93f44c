//! When and how work is done, and what it costs: `roles`, `windows`, `tasks`, `backups`,
//! `runbooks`, `budget`, `environments`, `policies`, `lints`.

use super::Cx;
use super::signals::escalation_step;
use crate::diag::{Code, Diagnostic};
use crate::model::{
    Autoscaling, Backup, BackupKind, BackupLevel, Budget, BudgetCategory, BudgetItem, Cadence,
    Deadline, DiagnosisStep, Downtime, Entries, Environment, Image, KpiOverride, LintLevel, Mute,
    PRUNE_SCHEDULE, Period, Policies, Prune, Ref, ResourceSet, RestoreTest, Retention, Review,
    Role, Runbook, SloOverride, Targets, Task, TaskType, When, Window, WindowKind,
};
use crate::parse::{Node, Value};
use crate::span::{Sp, Span};
use crate::value::{Duration, KubeQuantity, Money, Schedule, Threshold};

pub(super) const ROLE: &[&str] = &["fte", "description", "contact", "standalone"];
pub(super) const WINDOW: &[&str] = &[
    "schedule",
    "duration",
    "kind",
    "mute",
    "downtime",
    "description",
    "standalone",
];
pub(super) const DOWNTIME: &[&str] = &["services", "per_occurrence"];
pub(super) const TASK: &[&str] = &[
    "window",
    "schedule",
    "duration",
    "command",
    "manual",
    "checklist",
    "service",
    "type",
    "owner",
    "description",
    "runbook",
    "environments",
    "level",
];
pub(super) const BACKUP: &[&str] = &[
    "service",
    "description",
    "command",
    "full",
    "incremental",
    "differential",
    "snapshot",
    "weekly",
    "monthly",
    "yearly",
    "rpo",
    "rto",
    "restore_test",
    "owner",
    "runbook",
    "environments",
    "level",
    "prune",
];
pub(super) const BACKUP_LEVEL: &[&str] = &[
    "schedule", "retain", "duration", "command", "manual", "level",
];
pub(super) const PRUNE: &[&str] = &["command", "schedule", "duration", "level"];
pub(super) const RESTORE_TEST: &[&str] = &["schedule", "duration", "command", "manual", "runbook"];
pub(super) const RUNBOOK: &[&str] = &[
    "title",
    "description",
    "symptoms",
    "diagnosis",
    "actions",
    "verify",
    "escalate",
    "standalone",
];
pub(super) const DIAGNOSIS: &[&str] = &["run", "explain"];
pub(super) const BUDGET: &[&str] = &[
    "currency",
    "period",
    "total",
    "lines",
    "allocation",
    "value",
];
pub(super) const BUDGET_ITEM: &[&str] = &["monthly", "quarterly", "yearly", "note"];
pub(super) const ALLOCATION: &[&str] = &["predictive", "preventive", "corrective", "perfective"];
pub(super) const ENVIRONMENT: &[&str] = &[
    "namespace",
    "replicas",
    "image",
    "resources",
    "autoscaling",
    "alerts",
    "env",
    "values",
    "slos",
    "kpis",
];
pub(super) const ENVIRONMENT_SLO: &[&str] = &["objective"];
pub(super) const ENVIRONMENT_KPI: &[&str] = &["warning", "critical"];
pub(super) const IMAGE: &[&str] = &["repository", "tag", "pullPolicy"];
pub(super) const RESOURCES: &[&str] = &["requests", "limits"];
pub(super) const RESOURCE_SET: &[&str] = &["cpu", "memory"];
pub(super) const AUTOSCALING: &[&str] = &["min", "max", "cpu", "memory"];
pub(super) const POLICIES: &[&str] = &[
    "updates",
    "retention",
    "secrets_rotation",
    "targets",
    "reviews",
];
pub(super) const TARGETS: &[&str] = &["uptime", "mttr", "mtbf", "coverage", "error_rate"];
pub(super) const REVIEW: &[&str] = &["schedule", "owner", "description"];

pub(super) fn roles(cx: &mut Cx<'_>, n: &Node) -> Entries<Role> {
    let mut out = Entries::default();
    for (name, node, key) in cx.named(n, "roles", false) {
        let path = format!("roles.{}", name.value);
        let Some(o) = cx.object(node, key, &path, ROLE) else {
            continue;
        };
        let fte = o.get("fte").and_then(|f| cx.number(f, &o.path("fte")));
        if let Some(f) = &fte {
            if f.value.is_negative() || f.value > crate::value::Number::int(1000) {
                cx.report(
                    Diagnostic::new(
                        Code::Range,
                        format!("`{}` is {}, outside 0..=1000", o.path("fte"), f.value),
                    )
                    .at(f.span)
                    .label("out of range")
                    .help("FTE is the number of full-time people, e.g. `0.5` or `2`"),
                );
            }
        }
        out.push(
            name,
            Role {
                fte,
                description: o.opt_string(cx, "description"),
                contact: o.opt_string(cx, "contact"),
                standalone: o.opt_string(cx, "standalone"),
            },
        );
    }
    out
}

pub(super) fn windows(cx: &mut Cx<'_>, n: &Node) -> Entries<Window> {
    let mut out = Entries::default();
    for (name, node, key) in cx.named(n, "windows", false) {
        let path = format!("windows.{}", name.value);
        let Some(o) = cx.object(node, key, &path, WINDOW) else {
            continue;
        };
        let schedule = o.req_schedule(cx, "schedule");
        let duration = o.req_duration(cx, "duration");
        let kind = o
            .get("kind")
            .and_then(|k| cx.choice(k, &o.path("kind"), WindowKind::KEYS))
            .map_or(WindowKind::Maintenance, |k| k.value);
        let mute = o.get("mute").map_or(Mute::Nothing, |m| match &m.value {
            Value::Bool(true) => Mute::NonPaging,
            Value::Seq(_) => Mute::Levels(cx.references(m, &o.path("mute"))),
            Value::Bool(false) => Mute::Nothing,
            _ => {
                cx.type_error(
                    m,
                    &o.path("mute"),
                    "`true`, `false` or a list of severity levels",
                );
                Mute::Nothing
            }
        });
        let downtime = o.get("downtime").and_then(|d| {
            let dobj = cx.object(
                d,
                o.key_span("downtime").unwrap_or(key),
                &o.path("downtime"),
                DOWNTIME,
            )?;
            let services = dobj
                .req(cx, "services")
                .map(|s| cx.references(s, &dobj.path("services")));
            let per = dobj.req_duration(cx, "per_occurrence");
            Some(Downtime {
                services: services?,
                per_occurrence: per?,
            })
        });
        if let Some(d) = &duration {
            if d.value.is_zero() {
                cx.report(
                    Diagnostic::new(
                        Code::Range,
                        format!("`{}` must be longer than zero", o.path("duration")),
                    )
                    .at(d.span)
                    .label("zero")
                    .help("give the window's length, e.g. `2h`"),
                );
            }
        }
        let (Some(schedule), Some(duration)) = (schedule, duration) else {
            continue;
        };
        // Alertmanager mutes by recurring time intervals; upkeep writes none for dates yet, and
        // a window that mutes nothing while the plan says it does is worse than an error.
        if let (Some(node), false) = (o.get("schedule"), matches!(mute, Mute::Nothing)) {
            let text = node.as_str().unwrap_or_default();
            if let Some(at) = crate::value::Schedule::bound_start(text) {
                let dates = text[at..].trim_end();
                cx.value_error(
                    Code::ScheduleInvalid,
                    node,
                    &o.path("schedule"),
                    &crate::value::ValueError::new(
                        at,
                        at + dates.len(),
                        format!("a window that mutes cannot be limited to dates (`{dates}`): no Alertmanager time interval is written for them"),
                        format!("remove `{dates}` to mute every occurrence, or set `mute: false`"),
                    ),
                );
            }
        }
        out.push(
            name,
            Window {
                schedule,
                duration,
                kind,
                mute,
                downtime,
                description: o.opt_string(cx, "description"),
                standalone: o.opt_string(cx, "standalone"),
            },
        );
    }
    out
}

pub(super) fn tasks(cx: &mut Cx<'_>, n: &Node) -> Entries<Task> {
    let mut out = Entries::default();
    for (name, node, key) in cx.named(n, "tasks", false) {
        let path = format!("tasks.{}", name.value);
        let Some(o) = cx.object(node, key, &path, TASK) else {
            continue;
        };
        #[derive(Clone, Copy)]
        enum WhenKey {
            Window,
            Schedule,
        }
        let keys = [("window", WhenKey::Window), ("schedule", WhenKey::Schedule)];
        let when = match o.one_of(cx, &keys, "a `window` or a `schedule`") {
            Some((WhenKey::Window, w, _)) => cx.reference(w, &o.path("window")).map(When::Window),
            Some((WhenKey::Schedule, s, _)) => {
                cx.schedule(s, &o.path("schedule")).map(When::Schedule)
            }
            None => None,
        };
        let duration = o.req_duration(cx, "duration");
        let manual = o.opt_bool(cx, "manual").unwrap_or(false);
        let command = o.opt_string(cx, "command");
        if !manual && command.is_none() && o.get("command").is_none() {
            cx.report(
                Diagnostic::new(Code::Missing, format!("missing field `command` in `{path}`"))
                    .at(key)
                    .label("an automated task needs a command")
                    .help("add `command:` with what cron should run, or `manual: true` for a checklist item"),
            );
        }
        let kind = o
            .get("type")
            .and_then(|t| cx.choice(t, &o.path("type"), TaskType::KEYS))
            .map_or(TaskType::Preventive, |t| t.value);
        let checklist = o.opt_strings(cx, "checklist");
        let (Some(when), Some(duration)) = (when, duration) else {
            continue;
        };
        out.push(
            name,
            Task {
                when,
                duration,
                command,
                manual,
                checklist,
                service: o.opt_ref(cx, "service"),
                kind,
                owner: o.opt_ref(cx, "owner"),
                description: o.opt_string(cx, "description"),
                runbook: o.opt_ref(cx, "runbook"),
                environments: o.opt_refs(cx, "environments"),
                level: o.opt_ref(cx, "level"),
            },
        );
    }
    out
}

fn retention(cx: &mut Cx<'_>, n: &Node, path: &str) -> Option<Sp<Retention>> {
    if n.as_str() == Some("forever") {
        return Some(Sp::new(Retention::Forever, cx.span(n)));
    }
    cx.parse(n, path, "a duration such as `30d`, or `forever`", |s| {
        Duration::parse(s, false)
    })
    .map(|d| d.map(Retention::For))
}

pub(super) fn backups(cx: &mut Cx<'_>, n: &Node) -> Entries<Backup> {
    let mut out = Entries::default();
    for (name, node, key) in cx.named(n, "backups", false) {
        let path = format!("backups.{}", name.value);
        let Some(o) = cx.object(node, key, &path, BACKUP) else {
            continue;
        };
        let command = o.opt_string(cx, "command");
        let mut levels = Vec::new();
        for &kind in BackupKind::ALL {
            let Some(l) = o.get(kind.name()) else {
                continue;
            };
            let lkey = o.key_span(kind.name()).unwrap_or(key);
            let lpath = o.path(kind.name());
            let Some(lo) = cx.object(l, lkey, &lpath, BACKUP_LEVEL) else {
                continue;
            };
            let schedule = lo.req_schedule(cx, "schedule");
            let retain = lo
                .req(cx, "retain")
                .and_then(|r| retention(cx, r, &lo.path("retain")));
            let (Some(schedule), Some(retain)) = (schedule, retain) else {
                continue;
            };
            levels.push(BackupLevel {
                kind,
                key: lkey,
                schedule,
                retain,
                duration: lo.opt_positive_duration(
                    cx,
                    "duration",
                    "write how long a run may take, such as `2h`, or leave `duration` out",
                ),
                command: lo.opt_string(cx, "command"),
                manual: lo.opt_bool(cx, "manual").unwrap_or(false),
                level: lo.opt_ref(cx, "level"),
            });
        }
        if BackupKind::ALL.iter().all(|k| o.get(k.name()).is_none()) {
            cx.report(
                Diagnostic::new(Code::Missing, format!("`{path}` has no backup schedule"))
                    .at(key)
                    .label("what is backed up, and when?")
                    .help("add at least one of `full`, `incremental`, `differential`, `snapshot`, `weekly`, `monthly`, `yearly` with `{schedule, retain}`"),
            );
        }
        let restore_test = o.get("restore_test").and_then(|r| {
            let ro = cx.object(
                r,
                o.key_span("restore_test").unwrap_or(key),
                &o.path("restore_test"),
                RESTORE_TEST,
            )?;
            let schedule = ro.req_schedule(cx, "schedule")?;
            Some(RestoreTest {
                schedule,
                duration: ro.opt_duration(cx, "duration"),
                command: ro.opt_string(cx, "command"),
                manual: ro.opt_bool(cx, "manual").unwrap_or(false),
                runbook: ro.opt_ref(cx, "runbook"),
            })
        });
        out.push(
            name,
            Backup {
                service: o.opt_ref(cx, "service"),
                description: o.opt_string(cx, "description"),
                command,
                levels,
                rpo: o.opt_duration(cx, "rpo"),
                rto: o.opt_duration(cx, "rto"),
                restore_test,
                owner: o.opt_ref(cx, "owner"),
                runbook: o.opt_ref(cx, "runbook"),
                environments: o.opt_refs(cx, "environments"),
                level: o.opt_ref(cx, "level"),
                prune: o.get("prune").and_then(|p| {
                    prune(cx, p, o.key_span("prune").unwrap_or(key), &o.path("prune"))
                }),
            },
        );
    }
    out
}

/// `prune`: a command, or `{command, schedule?, duration?, level?}`.
fn prune(cx: &mut Cx<'_>, n: &Node, key: Span, path: &str) -> Option<Prune> {
    let default = |command: &Sp<String>| {
        let (schedule, _) = Schedule::parse(PRUNE_SCHEDULE).ok()?;
        Some(Sp::new(schedule, command.span))
    };
    if n.as_map().is_none() {
        let command = cx.string(n, path)?;
        return Some(Prune {
            schedule: default(&command)?,
            scheduled: false,
            command,
            duration: None,
            level: None,
        });
    }
    let o = cx.object(n, key, path, PRUNE)?;
    let command = o.req_string(cx, "command")?;
    let schedule = o.opt_schedule(cx, "schedule");
    Some(Prune {
        scheduled: schedule.is_some(),
        schedule: match schedule {
            Some(s) => s,
            None => default(&command)?,
        },
        command,
        duration: o.opt_positive_duration(
            cx,
            "duration",
            "write how long a run may take, such as `30m`, or leave `duration` out",
        ),
        level: o.opt_ref(cx, "level"),
    })
}

pub(super) fn runbooks(cx: &mut Cx<'_>, n: &Node) -> Entries<Runbook> {
    let mut out = Entries::default();
    for (name, node, key) in cx.named(n, "runbooks", false) {
        let path = format!("runbooks.{}", name.value);
        let Some(o) = cx.object(node, key, &path, RUNBOOK) else {
            continue;
        };
        let title = o.req_string(cx, "title");
        let mut diagnosis = Vec::new();
        if let Some(d) = o.get("diagnosis") {
            for (i, item) in cx.list(d, &o.path("diagnosis")).iter().enumerate() {
                let p = format!("{}[{i}]", o.path("diagnosis"));
                if matches!(item.value, Value::Map(_)) {
                    if let Some(so) = cx.object(item, cx.span(item), &p, DIAGNOSIS) {
                        let run = so.opt_string(cx, "run");
                        let explain = so.opt_string(cx, "explain");
                        if run.is_none() && explain.is_none() {
                            so.req(cx, "run");
                        }
                        diagnosis.push(DiagnosisStep { run, explain });
                    }
                } else if let Some(text) = cx.string(item, &p) {
                    diagnosis.push(DiagnosisStep {
                        run: None,
                        explain: Some(text),
                    });
                }
            }
        }
        let escalate = o.get("escalate").and_then(|e| {
            escalation_step(
                cx,
                e,
                o.key_span("escalate").unwrap_or(key),
                &o.path("escalate"),
            )
        });
        let Some(title) = title else { continue };
        out.push(
            name,
            Runbook {
                title,
                description: o.opt_string(cx, "description"),
                symptoms: o.opt_strings(cx, "symptoms"),
                diagnosis,
                actions: o.opt_strings(cx, "actions"),
                verify: o.opt_string(cx, "verify"),
                escalate,
                standalone: o.opt_string(cx, "standalone"),
            },
        );
    }
    out
}

fn money(cx: &mut Cx<'_>, n: &Node, path: &str) -> Option<Sp<Money>> {
    cx.parse(
        n,
        path,
        "an amount such as `4000` or `$4,000`",
        Money::parse,
    )
}

pub(super) fn budget(cx: &mut Cx<'_>, n: &Node, key: Span) -> Option<Budget> {
    let o = cx.object(n, key, "budget", BUDGET)?;
    // A bad currency is reported and the rest of the budget is still checked.
    let currency = o
        .get("currency")
        .and_then(|c| {
            cx.parse(
                c,
                "budget.currency",
                "an ISO 4217 code such as `USD`",
                |s| {
                    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()) {
                        Ok(s.to_owned())
                    } else {
                        Err(crate::value::ValueError::whole(
                            s,
                            format!("`{s}` is not an ISO 4217 currency code"),
                            "write a three-letter code such as `USD` or `EUR`",
                        ))
                    }
                },
            )
        })
        .unwrap_or_else(|| Sp::new("USD".to_owned(), key));
    let period = o
        .get("period")
        .and_then(|p| cx.choice(p, "budget.period", Period::KEYS))
        .map_or(Period::Year, |p| p.value);
    let total = o.get("total").and_then(|t| money(cx, t, "budget.total"));
    let mut lines = Vec::new();
    if let Some(l) = o.get("lines") {
        for (cat, cnode, _) in cx.named(l, "budget.lines", false) {
            let cpath = format!("budget.lines.{}", cat.value);
            let mut items = Vec::new();
            for (item, inode, ikey) in cx.named(cnode, &cpath, false) {
                let ipath = format!("{cpath}.{}", item.value);
                if inode.as_map().is_some() {
                    let Some(io) = cx.object(inode, ikey, &ipath, BUDGET_ITEM) else {
                        continue;
                    };
                    let Some((per, amount, key_name)) = io.one_of(
                        cx,
                        &[
                            ("monthly", Period::Month),
                            ("quarterly", Period::Quarter),
                            ("yearly", Period::Year),
                        ],
                        "an amount per period",
                    ) else {
                        continue;
                    };
                    let Some(amount) = money(cx, amount, &io.path(key_name)) else {
                        continue;
                    };
                    items.push(BudgetItem {
                        name: item,
                        amount,
                        per,
                        note: io.opt_string(cx, "note"),
                    });
                } else if let Some(amount) = money(cx, inode, &ipath) {
                    items.push(BudgetItem {
                        name: item,
                        amount,
                        per: period,
                        note: None,
                    });
                }
            }
            lines.push(BudgetCategory { name: cat, items });
        }
    }
    let mut allocation = Vec::new();
    if let Some(a) = o.get("allocation") {
        if let Some(ao) = cx.object(
            a,
            o.key_span("allocation").unwrap_or(key),
            "budget.allocation",
            ALLOCATION,
        ) {
            for (name, t) in TaskType::KEYS {
                if let Some(p) = ao.get(name).and_then(|v| cx.percent(v, &ao.path(name))) {
                    allocation.push((*t, p));
                }
            }
        }
    }
    let mut value = Vec::new();
    if let Some(v) = o.get("value") {
        for (name, vnode, _) in cx.named(v, "budget.value", false) {
            if let Some(m) = money(cx, vnode, &format!("budget.value.{}", name.value)) {
                value.push((name, m));
            }
        }
    }
    Some(Budget {
        currency,
        period,
        total,
        lines,
        allocation,
        value,
    })
}

pub(super) fn environments(cx: &mut Cx<'_>, n: &Node) -> Entries<Environment> {
    let mut out = Entries::default();
    for (name, node, key) in cx.named(n, "environments", false) {
        let path = format!("environments.{}", name.value);
        let Some(o) = cx.object(node, key, &path, ENVIRONMENT) else {
            continue;
        };
        let replicas = o
            .get("replicas")
            .and_then(|r| cx.integer(r, &o.path("replicas"), 0, 10_000))
            .map(|r| r.map(|v| v as u32));
        let image = o.get("image").and_then(|i| {
            let io = cx.object(
                i,
                o.key_span("image").unwrap_or(key),
                &o.path("image"),
                IMAGE,
            )?;
            let repository = io.req_string(cx, "repository")?;
            let pull_policy = io.get("pullPolicy").and_then(|p| {
                cx.choice(
                    p,
                    &io.path("pullPolicy"),
                    &[
                        ("Always", "Always"),
                        ("IfNotPresent", "IfNotPresent"),
                        ("Never", "Never"),
                    ],
                )
                .map(|p| p.map(str::to_owned))
            });
            Some(Image {
                repository,
                tag: io.opt_text(cx, "tag"),
                pull_policy,
            })
        });
        let (mut requests, mut limits) = (ResourceSet::default(), ResourceSet::default());
        if let Some(r) = o.get("resources") {
            if let Some(ro) = cx.object(
                r,
                o.key_span("resources").unwrap_or(key),
                &o.path("resources"),
                RESOURCES,
            ) {
                for (field, set) in [("requests", &mut requests), ("limits", &mut limits)] {
                    let Some(s) = ro.get(field) else { continue };
                    let Some(so) = cx.object(
                        s,
                        ro.key_span(field).unwrap_or(key),
                        &ro.path(field),
                        RESOURCE_SET,
                    ) else {
                        continue;
                    };
                    for (res, slot) in [("cpu", &mut set.cpu), ("memory", &mut set.memory)] {
                        if let Some(q) = so.get(res) {
                            *slot = cx.parse(
                                q,
                                &so.path(res),
                                "a Kubernetes quantity such as `500m` or `1Gi`",
                                KubeQuantity::parse,
                            );
                        }
                    }
                }
            }
        }
        let autoscaling = o.get("autoscaling").and_then(|a| {
            let ao = cx.object(
                a,
                o.key_span("autoscaling").unwrap_or(key),
                &o.path("autoscaling"),
                AUTOSCALING,
            )?;
            let min = ao
                .req(cx, "min")
                .and_then(|m| cx.integer(m, &ao.path("min"), 0, 10_000));
            let max = ao
                .req(cx, "max")
                .and_then(|m| cx.integer(m, &ao.path("max"), 1, 10_000));
            let cpu = ao.get("cpu").and_then(|c| cx.percent(c, &ao.path("cpu")));
            let memory = ao
                .get("memory")
                .and_then(|c| cx.percent(c, &ao.path("memory")));
            Some(Autoscaling {
                min: min?.map(|v| v as u32),
                max: max?.map(|v| v as u32),
                cpu,
                memory,
            })
        });
        let alerts = o.opt_bool(cx, "alerts").unwrap_or(true);
        let env = o
            .get("env")
            .map(|e| cx.string_map(e, &o.path("env")))
            .unwrap_or_default();
        let values = o.get("values").and_then(|v| {
            if v.as_map().is_none() {
                cx.report(Diagnostic::new(Code::Type, format!("`{}` must be a mapping, found {}", o.path("values"), v.kind_name())).at(cx.span(v)).help("write Helm values as a mapping, e.g. `values: {podAnnotations: {team: ops}}`"));
                return None;
            }
                        Some(Sp::new(crate::parse::to_json(v), cx.span(v)))
        });
        let mut value_keys = Vec::new();
        if let Some(v) = o.get("values") {
            key_paths(cx, v, "", &mut value_keys);
        }
        let (slos, kpis) = overrides(cx, &o);
        out.push(
            name,
            Environment {
                namespace: o.opt_string(cx, "namespace"),
                replicas,
                image,
                requests,
                limits,
                autoscaling,
                alerts,
                env,
                values,
                value_keys,
                slos,
                kpis,
            },
        );
    }
    out
}

/// An environment's `slos` and `kpis`: the objectives and thresholds that differ there. The
/// names are references (to `slos` and `kpis`), checked by `resolve`.
fn overrides(cx: &mut Cx<'_>, o: &super::Obj<'_>) -> (Vec<SloOverride>, Vec<KpiOverride>) {
    let mut slos = Vec::new();
    for (name, so) in named_objects(cx, o, "slos", ENVIRONMENT_SLO) {
        let objective = so
            .req(cx, "objective")
            .and_then(|v| cx.percent(v, &so.path("objective")));
        if let Some(objective) = objective {
            slos.push(SloOverride {
                slo: Ref::new(name),
                objective,
            });
        }
    }
    let mut kpis = Vec::new();
    for (name, ko) in named_objects(cx, o, "kpis", ENVIRONMENT_KPI) {
        let mut threshold = |field: &str| {
            ko.get(field).and_then(|t| {
                cx.parse(
                    t,
                    &ko.path(field),
                    "a threshold such as `\"> 300ms\"`",
                    |s| Threshold::parse(s, true),
                )
            })
        };
        let (warning, critical) = (threshold("warning"), threshold("critical"));
        if warning.is_some() || critical.is_some() {
            kpis.push(KpiOverride {
                kpi: Ref::new(name),
                warning,
                critical,
            });
        }
    }
    (slos, kpis)
}

/// The entries of the mapping `field` of `o`, each a mapping with known `fields`.
fn named_objects<'n>(
    cx: &mut Cx<'_>,
    o: &super::Obj<'n>,
    field: &str,
    fields: &[&str],
) -> Vec<(Sp<String>, super::Obj<'n>)> {
    let Some(n) = o.get(field) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, node, key) in cx.named(n, &o.path(field), false) {
        let path = format!("{}.{}", o.path(field), name.value);
        if let Some(obj) = cx.object(node, key, &path, fields) {
            out.push((name, obj));
        }
    }
    out
}

fn deadline(cx: &mut Cx<'_>, n: &Node, path: &str) -> Option<Sp<Deadline>> {
    if let Some(s) = n.as_str() {
        if s.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return cx
                .choice(n, path, Cadence::KEYS)
                .map(|c| c.map(Deadline::Every));
        }
    }
    cx.parse(
        n,
        path,
        "a duration such as `48h` or a cadence such as `monthly`",
        |s| Duration::parse(s, false),
    )
    .map(|d| d.map(Deadline::Within))
}

pub(super) fn policies(cx: &mut Cx<'_>, n: &Node, key: Span) -> Option<Policies> {
    let o = cx.object(n, key, "policies", POLICIES)?;
    let mut p = Policies::default();
    if let Some(u) = o.get("updates") {
        for (k, v, _) in cx.named(u, "policies.updates", false) {
            if let Some(d) = deadline(cx, v, &format!("policies.updates.{}", k.value)) {
                p.updates.push((k, d));
            }
        }
    }
    if let Some(r) = o.get("retention") {
        for (k, v, _) in cx.named(r, "policies.retention", false) {
            if let Some(d) = retention(cx, v, &format!("policies.retention.{}", k.value)) {
                p.retention.push((k, d));
            }
        }
    }
    p.secrets_rotation = o.opt_duration(cx, "secrets_rotation");
    if let Some(t) = o.get("targets") {
        if let Some(to) = cx.object(
            t,
            o.key_span("targets").unwrap_or(key),
            "policies.targets",
            TARGETS,
        ) {
            p.targets = Targets {
                uptime: to
                    .get("uptime")
                    .and_then(|v| cx.percent(v, "policies.targets.uptime")),
                mttr: to.opt_duration(cx, "mttr"),
                mtbf: to.opt_duration(cx, "mtbf"),
                coverage: to
                    .get("coverage")
                    .and_then(|v| cx.percent(v, "policies.targets.coverage")),
                error_rate: to
                    .get("error_rate")
                    .and_then(|v| cx.percent(v, "policies.targets.error_rate")),
            };
        }
    }
    if let Some(r) = o.get("reviews") {
        for (name, node, rkey) in cx.named(r, "policies.reviews", false) {
            let path = format!("policies.reviews.{}", name.value);
            let Some(ro) = cx.object(node, rkey, &path, REVIEW) else {
                continue;
            };
            let Some(schedule) = ro.req_schedule(cx, "schedule") else {
                continue;
            };
            p.reviews.push(
                name,
                Review {
                    schedule,
                    owner: ro.opt_ref(cx, "owner"),
                    description: ro.opt_string(cx, "description"),
                },
            );
        }
    }
    Some(p)
}

pub(super) fn lints(cx: &mut Cx<'_>, n: &Node) -> Vec<(Sp<String>, Sp<LintLevel>)> {
    let Some(entries) = n.as_map() else {
        cx.report(
            Diagnostic::new(
                Code::Type,
                format!("`lints` must be a mapping, found {}", n.kind_name()),
            )
            .at(cx.span(n))
            .help("write e.g. `lints: {alert/no-runbook: deny}`"),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in entries {
        let Some(code) = cx.string(k, "a code in `lints`") else {
            continue;
        };
        let Some(level) = cx.choice(v, &format!("lints.{}", code.value), LintLevel::KEYS) else {
            continue;
        };
        out.push((code, level));
    }
    out
}

/// The dotted path and span of every key of a free-form mapping, through nested mappings.
fn key_paths(cx: &Cx<'_>, n: &Node, prefix: &str, out: &mut Vec<(String, Span)>) {
    let Some(entries) = n.as_map() else { return };
    for (k, v) in entries {
        let key = k.scalar_text().unwrap_or_default();
        let path = if prefix.is_empty() {
            key
        } else {
            format!("{prefix}.{key}")
        };
        out.push((path.clone(), cx.span(k)));
        key_paths(cx, v, &path, out);
    }
}
