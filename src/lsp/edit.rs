//! Edits the server offers: rename of a service or runbook (every reference the compiler knows,
//! and the definition), and quick fixes that apply a diagnostic's "did you mean `x`?" help.
//!
//! Edits are returned as a `WorkspaceEdit`'s `changes` (URI → edits), which every client
//! applies, written as JSON: the protocol types key that map by `Uri`, a poor key.

use std::collections::BTreeMap;

use lsp_types as lsp;
use serde_json::{Value, json};

use super::analysis::Analysis;
use super::navigate;
use crate::model::refs::RefKind;

/// A `WorkspaceEdit` replacing each location with `text`.
fn workspace_edit(edits: impl IntoIterator<Item = (String, lsp::Range, String)>) -> Value {
    let mut by_uri: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (uri, range, text) in edits {
        by_uri
            .entry(uri)
            .or_default()
            .push(json!({"range": range, "newText": text}));
    }
    json!({ "changes": by_uri })
}

/// Why a rename is refused.
pub(super) enum Refused {
    /// Not on a name, or a kind of entry that is not renamed.
    Nothing,
    BadName(String),
}

/// Whether `name` is an entry name the format accepts (`schemas/plan.schema.json`'s
/// `propertyNames` of named sections).
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.len() <= 63
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Rename the service or runbook at `offset` of `file` to `new_name`, everywhere.
pub(super) fn rename(
    analysis: &Analysis,
    file: crate::span::FileId,
    offset: u32,
    new_name: &str,
) -> Result<Value, Refused> {
    let plans = &analysis.ws.plans;
    let symbol = navigate::symbol_at(plans, file, offset).ok_or(Refused::Nothing)?;
    if !symbol.is(RefKind::Service) && !symbol.is(RefKind::Runbook) {
        return Err(Refused::Nothing);
    }
    if !valid_name(new_name) {
        return Err(Refused::BadName(new_name.to_owned()));
    }
    let edits = navigate::usages(plans, &symbol, true)
        .into_iter()
        .filter_map(|span| analysis.location(span))
        .map(|l| (l.uri.as_str().to_owned(), l.range, new_name.to_owned()));
    Ok(workspace_edit(edits))
}

/// The name a help line suggests: `did you mean `x`?`.
fn suggestion(help: &str) -> Option<&str> {
    let rest = help.strip_prefix("did you mean `")?;
    let (name, tail) = rest.split_once('`')?;
    (tail == "?").then_some(name)
}

/// Quick fixes for the diagnostics the editor sends back (their `data.help` is the help line).
pub(super) fn code_actions(uri: &lsp::Uri, diagnostics: &[lsp::Diagnostic]) -> Vec<Value> {
    let mut out = Vec::new();
    for d in diagnostics {
        if d.source.as_deref() != Some("upkeep") {
            continue;
        }
        let help = d
            .data
            .as_ref()
            .and_then(|v| v.get("help"))
            .and_then(Value::as_str);
        let Some(name) = help.and_then(suggestion) else {
            continue;
        };
        let edit = workspace_edit([(uri.as_str().to_owned(), d.range, name.to_owned())]);
        out.push(json!({
            "title": format!("replace with `{name}`"),
            "kind": "quickfix",
            "diagnostics": [d],
            "isPreferred": true,
            "edit": edit,
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_and_names() {
        assert_eq!(suggestion("did you mean `disk-full`?"), Some("disk-full"));
        assert_eq!(suggestion("runbooks defined: `a`, `b`"), None);
        assert_eq!(suggestion("did you mean `a` or `b`?"), None);
        assert!(valid_name("api-2"));
        assert!(!valid_name("Api"));
        assert!(!valid_name(""));
        assert!(!valid_name("a b"));
        assert!(!valid_name(&"a".repeat(64)));
    }
}
