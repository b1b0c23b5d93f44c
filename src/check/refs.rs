//! Definitions nothing uses: runbooks no alert or task links to, receivers no level notifies,
//! windows that hold nothing and change nothing, roles nobody holds. Only definitions in a
//! plan's own file are reported: a shared fragment is a library, and whether a run sees every
//! plan that imports it depends on which files were named (a pre-commit hook names one).

use std::collections::{BTreeMap, HashSet};

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{Plan, When, WindowKind};
use crate::span::Span;

/// What kind of definition, in messages.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Kind {
    Runbook,
    Receiver,
    Window,
    Role,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Runbook => "runbook",
            Kind::Receiver => "receiver",
            Kind::Window => "window",
            Kind::Role => "role",
        }
    }

    fn help(self) -> &'static str {
        match self {
            Kind::Runbook => {
                "link it from the alert or task it is for (`runbook: NAME` on a KPI, SLO, service or task), or remove it"
            }
            Kind::Receiver => "add it to the `notify` list of a severity level, or remove it",
            Kind::Window => {
                "put tasks in it (`window: NAME`), make it `mute: true`, a `freeze`, or declare its `downtime`; or remove it"
            }
            Kind::Role => {
                "assign it (`owner:`, `oncall.primary`, an escalation step), or remove it"
            }
        }
    }
}

fn used(plan: &Plan) -> HashSet<(Kind, String)> {
    let mut u = HashSet::new();
    let mut add = |k: Kind, s: &str| {
        u.insert((k, s.to_owned()));
    };
    for (_, k) in plan.kpis.iter() {
        if let Some(r) = &k.runbook {
            add(Kind::Runbook, &r.value);
        }
    }
    for (_, s) in plan.slos.iter() {
        if let Some(r) = &s.runbook {
            add(Kind::Runbook, &r.value);
        }
    }
    for (_, s) in plan.services.iter() {
        if let Some(r) = &s.runbook {
            add(Kind::Runbook, &r.value);
        }
        if let Some(o) = &s.owner {
            add(Kind::Role, &o.value);
        }
    }
    for (_, t) in plan.tasks.iter() {
        if let Some(r) = &t.runbook {
            add(Kind::Runbook, &r.value);
        }
        if let Some(o) = &t.owner {
            add(Kind::Role, &o.value);
        }
        if let When::Window(w) = &t.when {
            add(Kind::Window, &w.value);
        }
    }
    for (_, b) in plan.backups.iter() {
        if let Some(r) = b.restore_test.as_ref().and_then(|r| r.runbook.as_ref()) {
            add(Kind::Runbook, &r.value);
        }
        if let Some(o) = &b.owner {
            add(Kind::Role, &o.value);
        }
        if let Some(r) = &b.runbook {
            add(Kind::Runbook, &r.value);
        }
    }
    if let Some(r) = &plan.execution.runbook {
        add(Kind::Runbook, &r.value);
    }
    for (name, w) in plan.windows.iter() {
        if w.kind == WindowKind::Freeze || w.mute || w.downtime.is_some() {
            add(Kind::Window, &name.value);
        }
    }
    if let Some(sev) = &plan.severity {
        for l in &sev.value.levels {
            for r in &l.notify {
                add(Kind::Receiver, &r.value);
            }
        }
    }
    let mut targets = Vec::new();
    if let Some(o) = &plan.oncall {
        for r in [&o.value.primary, &o.value.secondary].into_iter().flatten() {
            add(Kind::Role, &r.value);
        }
        targets.extend(o.value.escalation.iter().map(|e| e.to.value.clone()));
    }
    targets.extend(
        plan.runbooks
            .iter()
            .filter_map(|(_, r)| r.escalate.as_ref().map(|e| e.to.value.clone())),
    );
    if let Some(p) = &plan.policies {
        for (_, r) in p.value.reviews.iter() {
            if let Some(o) = &r.owner {
                add(Kind::Role, &o.value);
            }
        }
    }
    for t in targets {
        add(Kind::Role, &t);
        add(Kind::Receiver, &t);
    }
    u
}

pub fn unused(plans: &[Plan], diags: &mut Diagnostics) {
    // Definitions by where they are written, with whether any plan that sees them uses them.
    let mut defs: BTreeMap<(Span, Kind), (String, bool)> = BTreeMap::new();
    for plan in plans {
        let used = used(plan);
        let mut visit = |kind: Kind, names: Vec<(Span, &str)>| {
            for (span, name) in names {
                let e = defs
                    .entry((span, kind))
                    .or_insert_with(|| (name.to_owned(), false));
                e.1 |= used.contains(&(kind, name.to_owned()));
            }
        };
        let own = |n: &crate::span::Sp<String>| n.span.file == plan.file;
        visit(
            Kind::Runbook,
            plan.runbooks
                .iter()
                .filter(|(n, _)| own(n))
                .map(|(n, _)| (n.span, n.value.as_str()))
                .collect(),
        );
        visit(
            Kind::Receiver,
            plan.receivers
                .iter()
                .filter(|(n, _)| own(n))
                .map(|(n, _)| (n.span, n.value.as_str()))
                .collect(),
        );
        visit(
            Kind::Window,
            plan.windows
                .iter()
                .filter(|(n, _)| own(n))
                .map(|(n, _)| (n.span, n.value.as_str()))
                .collect(),
        );
        visit(
            Kind::Role,
            plan.roles
                .iter()
                .filter(|(n, _)| own(n))
                .map(|(n, _)| (n.span, n.value.as_str()))
                .collect(),
        );
    }
    for ((span, kind), (name, is_used)) in defs {
        if !is_used {
            diags.push(
                Diagnostic::new(
                    Code::RefUnused,
                    format!("{} `{name}` is never used", kind.name()),
                )
                .at(span)
                .label("defined here, used nowhere")
                .help(kind.help()),
            );
        }
    }
}
