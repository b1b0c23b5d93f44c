//! Go to definition and find references, read from the checked plans.
//!
//! The names and their spans are the compiler's: [`references`] lists every reference of a
//! merged plan (its fragments' included, with their spans) and [`definitions`] every entry a
//! reference can name, so what the editor shows is what resolution checked.

use crate::model::Plan;
use crate::model::refs::{RefKind, definitions, references};
use crate::span::{FileId, Span};

/// What a name at a position stands for: the kinds of entry it may be, and the name.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Symbol {
    kinds: Vec<RefKind>,
    pub name: String,
}

impl Symbol {
    /// Whether it is an entry of `kind` and nothing else.
    pub(super) fn is(&self, kind: RefKind) -> bool {
        self.kinds == [kind]
    }
}

/// The kinds of entry a reference of `kind` names: an escalation step names a role, a
/// receiver or a level.
fn targets(kind: RefKind) -> Vec<RefKind> {
    match kind {
        RefKind::EscalationTarget => vec![RefKind::Role, RefKind::Receiver, RefKind::Level],
        k => vec![k],
    }
}

/// The kinds of entry a definition can be.
const DEFINED: [RefKind; 11] = [
    RefKind::Service,
    RefKind::Runbook,
    RefKind::Receiver,
    RefKind::Window,
    RefKind::Role,
    RefKind::Level,
    RefKind::Environment,
    RefKind::Slo,
    RefKind::Kpi,
    RefKind::ImpactRow,
    RefKind::Likelihood,
];

/// Whether an entry of `plan` is defined in `file` (a fragment it imports, or its own file).
pub(super) fn defines_in(plan: &Plan, file: FileId) -> bool {
    DEFINED
        .iter()
        .any(|&k| definitions(plan, k).iter().any(|d| d.span.file == file))
}

/// The plans `file` is part of: its own, or those that import it.
pub(super) fn plans_of(plans: &[Plan], file: FileId) -> impl Iterator<Item = &Plan> {
    plans.iter().filter(move |p| {
        p.file == file
            || references(p).iter().any(|r| r.name.span.file == file)
            || defines_in(p, file)
    })
}

fn contains(span: Span, file: FileId, offset: u32) -> bool {
    span.file == file && span.start <= offset && offset <= span.end
}

/// The reference or definition at `offset` of `file`, in any plan.
pub(super) fn symbol_at(plans: &[Plan], file: FileId, offset: u32) -> Option<Symbol> {
    for plan in plans {
        for r in references(plan) {
            if contains(r.name.span, file, offset) {
                return Some(Symbol {
                    kinds: targets(r.kind),
                    name: r.name.value.clone(),
                });
            }
        }
        for kind in DEFINED {
            for d in definitions(plan, kind) {
                if contains(d.span, file, offset) {
                    return Some(Symbol {
                        kinds: vec![kind],
                        name: d.value.clone(),
                    });
                }
            }
        }
    }
    None
}

/// Where `symbol` is defined, in every plan that defines it (a fragment's entry once).
pub(super) fn definition(plans: &[Plan], symbol: &Symbol) -> Vec<Span> {
    let mut out = Vec::new();
    for plan in plans {
        for &kind in &symbol.kinds {
            out.extend(
                definitions(plan, kind)
                    .into_iter()
                    .filter(|d| d.value == symbol.name)
                    .map(|d| d.span),
            );
        }
    }
    sorted(out)
}

/// Every reference to `symbol` in every plan, and its definitions when `declaration`.
pub(super) fn usages(plans: &[Plan], symbol: &Symbol, declaration: bool) -> Vec<Span> {
    let mut out = Vec::new();
    for plan in plans {
        for r in references(plan) {
            let names_it = r.name.value == symbol.name
                && targets(r.kind).iter().any(|k| symbol.kinds.contains(k));
            if names_it {
                out.push(r.name.span);
            }
        }
    }
    if declaration {
        out.extend(definition(plans, symbol));
    }
    sorted(out)
}

fn sorted(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort();
    spans.dedup();
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::refs::BUILTIN_ESCALATION_TARGETS;

    fn checked(path: &str) -> crate::driver::Workspace {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let ws = crate::driver::check(&[root.join(path)], crate::driver::Options::default())
            .expect("fixture");
        assert_eq!(ws.errors(), 0, "{:#?}", ws.diagnostics);
        ws
    }

    /// From every reference the walker lists, of every kind, definition leads to the entry of
    /// that name, and that entry's references include the reference.
    #[test]
    fn every_reference_leads_to_its_definition_and_back() {
        let ws = checked("tests/fixtures/refs/every_reference.yaml");
        let plan = &ws.plans[0];
        let mut kinds = std::collections::BTreeSet::new();
        for r in references(plan) {
            if BUILTIN_ESCALATION_TARGETS.contains(&r.name.value.as_str()) {
                continue;
            }
            kinds.insert(r.kind.name());
            let span = r.name.span;
            for offset in [span.start, span.end] {
                let symbol = symbol_at(&ws.plans, span.file, offset).expect("a symbol");
                assert_eq!(symbol.name, r.name.value);
                let defs = definition(&ws.plans, &symbol);
                assert_eq!(defs.len(), 1, "{symbol:?}");
                let text = &ws.sources.get(defs[0].file).text;
                assert_eq!(
                    &text[defs[0].start as usize..defs[0].end as usize],
                    r.name.value
                );
                let from_definition = symbol_at(&ws.plans, defs[0].file, defs[0].start)
                    .expect("the definition is a symbol");
                assert!(usages(&ws.plans, &from_definition, false).contains(&span));
                assert!(usages(&ws.plans, &from_definition, true).contains(&defs[0]));
            }
        }
        assert_eq!(kinds.len(), 12, "every kind of reference: {kinds:?}");
    }
}
