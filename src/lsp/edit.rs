//! Edits the server offers: rename of a service or runbook (every reference the compiler knows,
//! and the definition), and quick fixes for the diagnostics whose fix is mechanical, as
//! [`crate::diag::fix`] reads them: a help line that names the replacement ("did you mean
//! `x`?", "write `x`", …; what `tests/help.rs` applies to every fixture), and a missing field,
//! added to the mapping the diagnostic points at.
//!
//! Edits are returned as a `WorkspaceEdit`'s `changes` (URI → edits), which every client
//! applies, written as JSON: the protocol types key that map by `Uri`, a poor key.

use std::collections::BTreeMap;

use lsp_types as lsp;
use serde_json::{Value, json};

use super::analysis::Analysis;
use super::{convert, navigate};
use crate::diag::fix;
use crate::model::refs::RefKind;
use crate::parse::{Node, Value as NodeValue};
use crate::span::{FileId, Span};

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
    file: FileId,
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

/// Quick fixes for the diagnostics the editor sends back, computed on the text they were
/// published for (the last check of `uri`): the help's replacement, or the missing field.
///
/// Each is read as `published` has it (the same code and message, the nearest): an editor
/// may send back less than it was given (Neovim 0.7 drops nothing but turns UTF-16 columns
/// into bytes).
pub(super) fn code_actions(
    analysis: &Analysis,
    published: &[lsp::Diagnostic],
    uri: &lsp::Uri,
    diagnostics: &[lsp::Diagnostic],
) -> Vec<Value> {
    let mut out = Vec::new();
    for sent in diagnostics {
        if sent.source.as_deref() != Some("upkeep") {
            continue;
        }
        let distance = |p: &lsp::Diagnostic| {
            let (a, b) = (p.range.start, sent.range.start);
            (a.line.abs_diff(b.line), a.character.abs_diff(b.character))
        };
        let d = published
            .iter()
            .filter(|p| p.code == sent.code && p.message == sent.message)
            .min_by_key(|p| distance(p))
            .unwrap_or(sent);
        let Some((file, start)) = analysis.at(uri, d.range.start) else {
            continue;
        };
        let source = analysis.ws.sources.get(file);
        let text = source.text.as_str();
        let end = convert::offset(text, d.range.end).max(start as usize);
        let help = d
            .data
            .as_ref()
            .and_then(|v| v.get("help"))
            .and_then(Value::as_str);
        let message = d.message.split("\nhelp: ").next().unwrap_or_default();
        let code = match &d.code {
            Some(lsp::NumberOrString::String(c)) => c.as_str(),
            _ => "",
        };
        let (title, at, new_text) = if let Some(x) = help.and_then(fix::proposal) {
            let (a, b) = fix::proposal_range(text, start as usize, end, x);
            (format!("replace with `{x}`"), (a, b), x.to_owned())
        } else if let Some(field) = fix::missing_field(message).filter(|_| code == "schema/missing")
        {
            let top = message.ends_with(" in the plan") || !message.contains("` in ");
            let Some((at, new_text)) = add_field(source, file, (start, end as u32), field, top)
            else {
                continue;
            };
            (format!("add `{field}:`"), (at, at), new_text)
        } else {
            continue;
        };
        let span = Span {
            file,
            start: at.0 as u32,
            end: at.1 as u32,
        };
        let range = convert::range(source, span);
        let edit = workspace_edit([(uri.as_str().to_owned(), range, new_text)]);
        out.push(json!({
            "title": title,
            "kind": "quickfix",
            "diagnostics": [sent],
            "isPreferred": true,
            "edit": edit,
        }));
    }
    out
}

/// Where to insert `field: ` into the mapping a missing-field diagnostic at `key` points at
/// (the key or list item that holds it; the whole document when `top`), and the text: in a
/// flow mapping, first (`{field: , title: x}`); in a block mapping, a line before its first
/// key at that key's indentation; at the top, a line at the end.
fn add_field(
    source: &crate::source::SourceFile,
    file: FileId,
    key: (u32, u32),
    field: &str,
    top: bool,
) -> Option<(usize, String)> {
    let mut ignored = crate::diag::Diagnostics::new();
    let root = crate::parse::parse(file, source, &mut ignored)?;
    let map = if top { &root } else { holder(&root, key)? };
    let entries = map.as_map()?;
    let text = source.text.as_str();
    if text.get(map.start as usize..)?.starts_with('{') {
        return Some(match entries.first() {
            Some((k, _)) => (k.start as usize, format!("{field}: , ")),
            None => (map.start as usize + 1, format!("{field}: ")),
        });
    }
    if top {
        let sep = if text.is_empty() || text.ends_with('\n') {
            ""
        } else {
            "\n"
        };
        return Some((text.len(), format!("{sep}{field}: \n")));
    }
    let first = entries.first()?.0.start as usize;
    let line_start = text.get(..first)?.rfind('\n').map_or(0, |i| i + 1);
    let indent = " ".repeat(text.get(line_start..first)?.chars().count());
    Some((first, format!("{field}: \n{indent}")))
}

/// The mapping held by the key (or the list item) at `key`.
fn holder(node: &Node, key: (u32, u32)) -> Option<&Node> {
    let at = |n: &Node| (n.start, n.end) == key && n.as_map().is_some();
    match &node.value {
        NodeValue::Map(entries) => entries.iter().find_map(|(k, v)| {
            if (k.start, k.end) == key && v.as_map().is_some() {
                Some(v)
            } else {
                holder(v, key)
            }
        }),
        NodeValue::Seq(items) => items
            .iter()
            .find_map(|v| if at(v) { Some(v) } else { holder(v, key) }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("api-2"));
        assert!(!valid_name("Api"));
        assert!(!valid_name(""));
        assert!(!valid_name("a b"));
        assert!(!valid_name(&"a".repeat(64)));
    }
}
