//! Definitions nothing uses: runbooks no alert or task links to, receivers no level notifies,
//! windows that hold nothing and change nothing, roles nobody holds. Only definitions in a
//! plan's own file are reported: a shared fragment is a library, and whether a run sees every
//! plan that imports it depends on which files were named (a pre-commit hook names one).
//!
//! A role, runbook or window marked `standalone: WHY` is kept on purpose (a vendor called by
//! hand, a general procedure): it is not reported unused, and the marker is reported when
//! something does use it (`ref/standalone-used`), so it never hides a later mistake.

use std::collections::{BTreeMap, HashSet};

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::refs::{definitions, references};
use crate::model::{Plan, RefKind, WindowKind};
use crate::span::{Sp, Span};

/// What to do about an unused definition of `kind`.
fn help(kind: RefKind) -> &'static str {
    match kind {
        RefKind::Runbook => {
            "link it from the alert or task it is for (`runbook: NAME` on a KPI, SLO, service or task), remove it, or, kept on purpose, say why with `standalone: WHY`"
        }
        RefKind::Receiver => "add it to the `notify` list of a severity level, or remove it",
        RefKind::Window => {
            "put tasks in it (`window: NAME`), make it `mute: true`, a `freeze`, or declare its `downtime`; remove it; or, kept on purpose, say why with `standalone: WHY`"
        }
        _ => {
            "assign it (`owner:`, `oncall.primary`, an escalation step), remove it, or, kept on purpose (a vendor called by hand), say why with `standalone: WHY`"
        }
    }
}

/// The `standalone` marker of a definition, for the kinds that take one.
fn standalone<'a>(plan: &'a Plan, kind: RefKind, name: &str) -> Option<&'a Sp<String>> {
    match kind {
        RefKind::Runbook => plan.runbooks.get(name)?.standalone.as_ref(),
        RefKind::Window => plan.windows.get(name)?.standalone.as_ref(),
        RefKind::Role => plan.roles.get(name)?.standalone.as_ref(),
        _ => None,
    }
}

pub(crate) fn used(plan: &Plan) -> HashSet<(RefKind, String)> {
    let mut u = HashSet::new();
    for r in references(plan) {
        let name = &r.name.value;
        match r.kind {
            RefKind::Runbook | RefKind::Receiver | RefKind::Window | RefKind::Role => {
                u.insert((r.kind, name.clone()));
            }
            // An escalation step names a role or a receiver (or a level).
            RefKind::EscalationTarget => {
                u.insert((RefKind::Role, name.clone()));
                u.insert((RefKind::Receiver, name.clone()));
            }
            RefKind::Service
            | RefKind::Level
            | RefKind::Environment
            | RefKind::Slo
            | RefKind::Kpi
            | RefKind::ImpactRow
            | RefKind::Likelihood => {}
        }
    }
    // A window that changes something by itself is used without a reference.
    for (name, w) in plan.windows.iter() {
        if w.kind == WindowKind::Freeze
            || !matches!(w.mute, crate::model::Mute::Nothing)
            || w.downtime.is_some()
        {
            u.insert((RefKind::Window, name.value.clone()));
        }
    }
    u
}

pub(crate) fn unused(plans: &[Plan], diags: &mut Diagnostics) {
    // An entry an error dropped may have been the only user of a definition: a file with
    // errors gets no `ref/unused` (it would point at the wrong line).
    let broken: HashSet<crate::span::FileId> = diags
        .iter()
        .filter(|d| d.severity == crate::diag::Severity::Error)
        .filter_map(|d| d.span.map(|s| s.file))
        .collect();
    // Definitions by where they are written, with whether any plan that sees them uses them,
    // and their `standalone` marker.
    let mut defs: BTreeMap<(Span, RefKind), (String, bool, Option<Span>)> = BTreeMap::new();
    for plan in plans.iter().filter(|p| !broken.contains(&p.file)) {
        let used = used(plan);
        for kind in [
            RefKind::Runbook,
            RefKind::Receiver,
            RefKind::Window,
            RefKind::Role,
        ] {
            for n in definitions(plan, kind) {
                if n.span.file != plan.file {
                    continue;
                }
                let marker = standalone(plan, kind, &n.value).map(|s| s.span);
                let e = defs
                    .entry((n.span, kind))
                    .or_insert_with(|| (n.value.clone(), false, marker));
                e.1 |= used.contains(&(kind, n.value.clone()));
            }
        }
    }
    for ((span, kind), (name, is_used, marker)) in defs {
        if let Some(marker) = marker {
            if is_used {
                diags.push(
                    Diagnostic::new(
                        Code::StandaloneUsed,
                        format!("{} `{name}` is marked `standalone` but is used", kind.name()),
                    )
                    .at(marker)
                    .label("says nothing uses it")
                    .with_label(span, "defined here")
                    .help("remove `standalone`: the entry is used, and the marker would keep `ref/unused` silent if that use were ever removed by mistake"),
                );
            }
        } else if !is_used {
            diags.push(
                Diagnostic::new(
                    Code::RefUnused,
                    format!("{} `{name}` is never used", kind.name()),
                )
                .at(span)
                .label("defined here, used nowhere")
                .help(help(kind)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diag::Code;
    use crate::driver::{Options, check_texts};

    /// A task dropped by its own error was the only user of a role: the role is not reported
    /// unused (the README's first broken plan showed such a false `ref/unused`).
    #[test]
    fn a_file_with_errors_reports_nothing_unused() {
        let plan = "apiVersion: upkeep/v1\nkind: Plan\nmetadata: {name: shop, timezone: UTC}\n\
                    roles:\n  qa: {description: Tests}\n\
                    tasks:\n  load-test: {schedule: \"daily at 02:00\", duration: 2hr, manual: true, owner: qa}\n";
        let ws = check_texts(
            vec![("shop.yaml".into(), plan.to_owned())],
            Options::default(),
        );
        assert!(ws.errors() > 0, "{:#?}", ws.diagnostics);
        assert!(
            ws.diagnostics.iter().all(|d| d.code != Code::RefUnused),
            "{:#?}",
            ws.diagnostics
        );
        let fixed = plan.replace("2hr", "2h");
        let ws = check_texts(vec![("shop.yaml".into(), fixed)], Options::default());
        assert!(ws.diagnostics.is_empty(), "{:#?}", ws.diagnostics);
    }
}
