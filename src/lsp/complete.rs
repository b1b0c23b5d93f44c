//! Completion: the fields a mapping can have, from the JSON Schema at the cursor's path, and
//! the names a reference can take, from the checked plans.
//!
//! The text being typed is rarely a finished document, so the word under the cursor is
//! replaced by a placeholder and the result parsed with the compiler's parser
//! ([`crate::parse`]): where the placeholder lands says what is being typed, a key of some
//! mapping or a value at some path. A value whose schema type is `Reference` is completed
//! with the entries its kind of reference names ([`REFERENCE_FIELDS`] says which kind, and its
//! unit tests hold it to the schema and to the compiler's walker), read with
//! [`crate::model::refs::definitions`] from the plans the file is part of (its own, or those
//! that import it, so a fragment's names are offered in a plan and a plan's in a fragment);
//! a value with a list of allowed values is completed with them.

use crate::model::Plan;
use crate::model::refs::{BUILTIN_ESCALATION_TARGETS, RefKind, definitions};
use crate::parse::Node;
use crate::schema::Step;
use crate::source::SourceFile;
use crate::span::{FileId, Span};

use super::hover::locate;
use super::navigate::plans_of;

/// What a completion offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum What {
    /// A field of the mapping (the text inserted ends with `: `).
    Field,
    /// The name of an entry a reference can name.
    Reference(RefKind),
    /// A value the schema allows.
    Value,
}

/// One completion: what to write, and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Item {
    pub label: String,
    pub insert: String,
    pub what: What,
    /// Markdown: the field's documentation, or where the entry is defined.
    pub doc: Option<String>,
}

/// The field whose value is a reference of each kind, by the `$defs` object that declares it
/// and the property (an item of a list, or a cell of a matrix row, has the property that holds
/// it). Tested against the schema (every `Reference` is here) and against
/// [`crate::model::refs::references`] (every reference the walker lists has this kind).
const REFERENCE_FIELDS: &[(&str, &str, RefKind)] = &[
    ("Execution", "environments", RefKind::Environment),
    ("Execution", "runbook", RefKind::Runbook),
    ("Service", "depends_on", RefKind::Service),
    ("Service", "impact", RefKind::ImpactRow),
    ("Service", "owner", RefKind::Role),
    ("Service", "runbook", RefKind::Runbook),
    ("Health", "level", RefKind::Level),
    ("HealthBody", "level", RefKind::Level),
    ("HealthBody", "runbook", RefKind::Runbook),
    ("Dependency", "service", RefKind::Service),
    ("Kpi", "service", RefKind::Service),
    ("Kpi", "runbook", RefKind::Runbook),
    ("KpiLevels", "warning", RefKind::Level),
    ("KpiLevels", "critical", RefKind::Level),
    ("Slo", "service", RefKind::Service),
    ("Slo", "runbook", RefKind::Runbook),
    ("SloAlerting", "page", RefKind::Level),
    ("SloAlerting", "ticket", RefKind::Level),
    ("Severity", "default_impact", RefKind::ImpactRow),
    ("Severity", "require_runbook", RefKind::Level),
    ("Level", "notify", RefKind::Receiver),
    ("Matrix", "impact", RefKind::Level),
    ("LikelihoodOf", "warning", RefKind::Likelihood),
    ("LikelihoodOf", "critical", RefKind::Likelihood),
    ("Oncall", "primary", RefKind::Role),
    ("Oncall", "secondary", RefKind::Role),
    ("Escalation", "to", RefKind::EscalationTarget),
    ("Window", "mute", RefKind::Level),
    ("Downtime", "services", RefKind::Service),
    ("Task", "window", RefKind::Window),
    ("Task", "service", RefKind::Service),
    ("Task", "owner", RefKind::Role),
    ("Task", "runbook", RefKind::Runbook),
    ("Task", "environments", RefKind::Environment),
    ("Task", "level", RefKind::Level),
    ("Backup", "service", RefKind::Service),
    ("Backup", "owner", RefKind::Role),
    ("Backup", "runbook", RefKind::Runbook),
    ("Backup", "environments", RefKind::Environment),
    ("Backup", "level", RefKind::Level),
    ("BackupLevel", "level", RefKind::Level),
    ("Prune", "level", RefKind::Level),
    ("RestoreTest", "runbook", RefKind::Runbook),
    ("Review", "owner", RefKind::Role),
];

/// The mappings whose keys name entries (an environment's own objectives and thresholds), by
/// the `$defs` object and property that hold the mapping. Tested against the walker with
/// [`REFERENCE_FIELDS`].
const REFERENCE_KEYS: &[(&str, &str, RefKind)] = &[
    ("Environment", "slos", RefKind::Slo),
    ("Environment", "kpis", RefKind::Kpi),
];

/// The kind of entry the key at the end of `path` names, when its mapping's keys are names.
fn key_reference_kind(fragment: bool, path: &[Step<'_>]) -> Option<RefKind> {
    let parent = &path[..path.len().checked_sub(1)?];
    let (def, property) = crate::schema::declared_in(fragment, parent)?;
    if !matches!(parent.last(), Some(Step::Key(k)) if *k == property) {
        return None;
    }
    REFERENCE_KEYS
        .iter()
        .find(|(d, p, _)| *d == def && *p == property)
        .map(|&(_, _, kind)| kind)
}

/// What stands for the word being typed while the text is parsed: a plain scalar no plan
/// writes.
const PLACEHOLDER: &str = "zz-upkeep-completion-zz";

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// The completions at `offset` of `source` (file `file` of the checked `plans`), and the span
/// of the word they replace.
pub(super) fn complete(
    plans: &[Plan],
    source: &SourceFile,
    file: FileId,
    offset: u32,
) -> Option<(Span, Vec<Item>)> {
    let text = source.text.as_str();
    let offset = (offset as usize).min(text.len());
    let before = text.get(..offset)?;
    let after = text.get(offset..)?;
    let start = before
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_word(c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = offset + after.find(|c| !is_word(c)).unwrap_or(after.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let indent = &text[line_start..start];
    let rest = &text[end..];
    let rest_of_line = &rest[..rest.find('\n').unwrap_or(rest.len())];
    let colon_follows = rest_of_line.starts_with(':');
    let alone = rest_of_line.trim().is_empty();
    // On a line of its own the word is a key being typed (a value there would continue the
    // line above); after `- ` it may be an item too.
    let mut tries: Vec<bool> = Vec::new(); // whether the placeholder is written as a key
    if indent.chars().all(|c| c == ' ') && alone {
        tries.push(true);
    } else if indent.chars().all(|c| c == ' ' || c == '-') && alone {
        tries.extend([false, true]);
    } else {
        tries.push(false);
    }
    let span = Span {
        file,
        start: start as u32,
        end: end as u32,
    };
    for as_key in tries {
        let patched = format!(
            "{}{PLACEHOLDER}{}{}",
            &text[..start],
            if as_key { ":" } else { "" },
            &text[end..]
        );
        let Some(root) = parse_around(source, file, patched, line_start) else {
            continue;
        };
        let Some(found) = locate(&root, start as u32) else {
            continue;
        };
        if found.node.scalar_text().as_deref() != Some(PLACEHOLDER) {
            continue;
        }
        let fragment = root.get("kind").and_then(Node::as_str) == Some("Fragment");
        let items = if found.key {
            let parent = &found.path[..found.path.len().saturating_sub(1)];
            let written: Vec<String> = found
                .map
                .and_then(Node::as_map)
                .map(|m| m.iter().filter_map(|(k, _)| k.scalar_text()).collect())
                .unwrap_or_default();
            let suffix = if colon_follows { "" } else { ": " };
            if let Some(kind) = key_reference_kind(fragment, &found.path) {
                let mut names = names(plans, file, kind);
                names.retain(|i| !written.contains(&i.label));
                for i in &mut names {
                    i.insert.push_str(suffix);
                }
                return (!names.is_empty()).then_some((span, names));
            }
            crate::schema::fields(fragment, parent)
                .into_iter()
                .filter(|(name, _)| !written.contains(name))
                .map(|(name, field)| Item {
                    insert: format!("{name}{suffix}"),
                    label: name,
                    what: What::Field,
                    doc: field.doc,
                })
                .collect()
        } else {
            values(plans, file, fragment, &found.path)
        };
        if !items.is_empty() {
            return Some((span, items));
        }
    }
    None
}

/// How many lines of a document that does not parse are blanked before completion gives up.
const BLANKED_LINES: usize = 8;

/// `text` (the document with the placeholder) parsed, even when a line half written elsewhere
/// (above or below the cursor) stops the parse. Such lines are blanked (their characters made
/// spaces, so offsets stay) and the parse tried again: first every line that leaves a bracket
/// or a quote open, then the line of each syntax error, up to [`BLANKED_LINES`] times. A
/// syntax error on the cursor's line (starting at `cursor_line`) is the completion's own:
/// nothing is offered.
fn parse_around(
    source: &SourceFile,
    file: FileId,
    mut text: String,
    cursor_line: usize,
) -> Option<Node> {
    for attempt in 0..=BLANKED_LINES {
        let patched = SourceFile::new(source.path.clone(), source.name.clone(), text);
        let mut diags = crate::diag::Diagnostics::new();
        if let Some(root) = crate::parse::parse(file, &patched, &mut diags) {
            return Some(root);
        }
        text = patched.text;
        if attempt == 0 {
            let open: Vec<(usize, usize)> = lines(&text)
                .filter(|&(start, end)| start != cursor_line && leaves_open(&text[start..end]))
                .collect();
            if !open.is_empty() {
                for (start, end) in open {
                    blank(&mut text, start, end);
                }
                continue;
            }
        }
        let at = (diags.iter().find_map(|d| d.span)?.start as usize).min(text.len());
        let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        if start == cursor_line || text[start..end].trim().is_empty() {
            return None;
        }
        blank(&mut text, start, end);
    }
    None
}

/// The byte ranges of the lines of `text`, without their `\n`.
fn lines(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start > text.len() {
            return None;
        }
        let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let line = (start, end);
        start = end + 1;
        Some(line)
    })
}

/// Whether a line leaves a flow bracket or a quoted scalar open (outside a comment).
fn leaves_open(line: &str) -> bool {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    for c in line.chars() {
        match (quote, c) {
            (Some('"'), '"') if previous != '\\' => quote = None,
            (Some('\''), '\'') => quote = None,
            (None, '"' | '\'') if matches!(previous, ' ' | '[' | '{' | ',' | ':') => {
                quote = Some(c);
            }
            (None, '#') if previous == ' ' => break,
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            _ => {}
        }
        previous = c;
    }
    depth != 0 || quote.is_some()
}

/// `text[start..end]` made spaces, keeping its length in bytes (and any `\r`).
fn blank(text: &mut String, start: usize, end: usize) {
    let spaces: String = text[start..end]
        .chars()
        .flat_map(|c| {
            let n = if c == '\r' { 0 } else { c.len_utf8() };
            std::iter::repeat_n(' ', n).chain((c == '\r').then_some('\r'))
        })
        .collect();
    text.replace_range(start..end, &spaces);
}

/// The kind of reference the value at `path` is, when it is one.
fn reference_kind(fragment: bool, path: &[Step<'_>]) -> Option<RefKind> {
    let field = crate::schema::field(fragment, path)?;
    let name = |d: &String| d == "Reference";
    if !field.def.iter().chain(&field.alternatives).any(name) {
        return None;
    }
    let (def, property) = crate::schema::declared_in(fragment, path)?;
    REFERENCE_FIELDS
        .iter()
        .find(|(d, p, _)| *d == def && *p == property)
        .map(|&(_, _, kind)| kind)
}

/// The values the field at `path` can take: entry names for a reference, the schema's list of
/// values otherwise.
fn values(plans: &[Plan], file: FileId, fragment: bool, path: &[Step<'_>]) -> Vec<Item> {
    let Some(kind) = reference_kind(fragment, path) else {
        let field = crate::schema::field(fragment, path).unwrap_or_default();
        return field
            .values
            .into_iter()
            .map(|v| Item {
                label: v.clone(),
                insert: v,
                what: What::Value,
                doc: None,
            })
            .collect();
    };
    names(plans, file, kind)
}

/// The names of the entries a reference of `kind` can name, in the plans `file` is part of.
fn names(plans: &[Plan], file: FileId, kind: RefKind) -> Vec<Item> {
    let kinds = match kind {
        RefKind::EscalationTarget => vec![RefKind::Role, RefKind::Receiver, RefKind::Level],
        k => vec![k],
    };
    let mut out: Vec<Item> = Vec::new();
    for plan in plans_of(plans, file) {
        for &k in &kinds {
            for name in definitions(plan, k) {
                if out.iter().any(|i| i.label == name.value) {
                    continue;
                }
                out.push(Item {
                    label: name.value.clone(),
                    insert: name.value.clone(),
                    what: What::Reference(k),
                    doc: Some(format!("{} `{}`", k.name(), name.value)),
                });
            }
        }
    }
    if kind == RefKind::EscalationTarget {
        for name in BUILTIN_ESCALATION_TARGETS {
            out.push(Item {
                label: name.to_owned(),
                insert: name.to_owned(),
                what: What::Reference(kind),
                doc: Some(format!("the on-call `{name}`")),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::refs::references;

    /// Every field the schema types `Reference` is in [`REFERENCE_FIELDS`], and every entry
    /// of it is such a field.
    #[test]
    fn the_table_covers_every_reference_of_the_schema() {
        let schema: serde_json::Value =
            serde_json::from_str(crate::schema::SCHEMA).expect("the schema");
        let mut found = Vec::new();
        fn walk(v: &serde_json::Value, path: &mut Vec<String>, out: &mut Vec<(String, String)>) {
            match v {
                serde_json::Value::Object(m) => {
                    if m.get("$ref").and_then(|r| r.as_str()) == Some("#/$defs/Reference") {
                        // `$defs/DEF/properties/PROP/...`
                        if let (Some(def), Some(prop)) = (path.get(1), path.get(3)) {
                            out.push((def.clone(), prop.clone()));
                        }
                    }
                    for (k, v) in m {
                        path.push(k.clone());
                        walk(v, path, out);
                        path.pop();
                    }
                }
                serde_json::Value::Array(a) => {
                    for (i, v) in a.iter().enumerate() {
                        path.push(i.to_string());
                        walk(v, path, out);
                        path.pop();
                    }
                }
                _ => {}
            }
        }
        walk(&schema, &mut Vec::new(), &mut found);
        found.sort();
        found.dedup();
        let mut table: Vec<(String, String)> = REFERENCE_FIELDS
            .iter()
            .map(|(d, p, _)| ((*d).to_owned(), (*p).to_owned()))
            .collect();
        table.sort();
        assert_eq!(table, found);
    }

    /// At every reference the compiler's walker lists in the fixture that writes every kind,
    /// the value's path leads to the kind the walker gives it.
    #[test]
    fn the_table_agrees_with_the_walker() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let path = root.join("tests/fixtures/refs/every_reference.yaml");
        let ws = crate::driver::check(&[path], crate::driver::Options::default()).expect("fixture");
        let plan = &ws.plans[0];
        let source = ws.sources.get(plan.file);
        let mut ignored = crate::diag::Diagnostics::new();
        let tree = crate::parse::parse(plan.file, source, &mut ignored).expect("parses");
        let mut seen = std::collections::BTreeSet::new();
        for r in references(plan) {
            let found = locate(&tree, r.name.span.start).expect("a node");
            let kind = if found.key {
                key_reference_kind(false, &found.path)
            } else {
                reference_kind(false, &found.path)
            };
            assert_eq!(kind, Some(r.kind), "{:?} at {:?}", r.name.value, r.site);
            seen.insert(crate::schema::declared_in(false, &found.path));
        }
        assert!(seen.len() >= 30, "the fixture writes most fields: {seen:?}");
    }

    fn completions(text: &str, at: &str) -> Vec<String> {
        let source = SourceFile::new("x.yaml".into(), "x.yaml".to_owned(), text.to_owned());
        let offset = text.find(at).expect("at") + at.len();
        complete(&[], &source, FileId(0), offset as u32)
            .map(|(_, items)| items.into_iter().map(|i| i.insert).collect())
            .unwrap_or_default()
    }

    #[test]
    fn keys_and_values_while_typing() {
        let plan = "apiVersion: upkeep/v1\nkind: Plan\nmetadata: {name: x}\nkpis:\n  errors:\n    service: api\n    ru\n";
        let keys = completions(plan, "    ru");
        assert!(keys.contains(&"runbook: ".to_owned()), "{keys:?}");
        assert!(
            !keys.contains(&"service: ".to_owned()),
            "already written: {keys:?}"
        );
        // In a flow mapping, after a comma.
        let flow = "apiVersion: upkeep/v1\nkind: Plan\nservices:\n  api: {impact: high, de}\n";
        let keys = completions(flow, "high, de");
        assert!(keys.contains(&"depends_on: ".to_owned()), "{keys:?}");
        // A value with a list of allowed values.
        let kinds = "apiVersion: upkeep/v1\nkind: Plan\nservices:\n  api: {kind: da}\n";
        let values = completions(kinds, "kind: da");
        assert!(values.contains(&"database".to_owned()), "{values:?}");
    }

    /// The keys of an environment's `slos` and `kpis` are the plan's SLO and KPI names.
    #[test]
    fn environment_overrides_complete_slo_and_kpi_names() {
        let text = "apiVersion: upkeep/v1\nkind: Plan\nmetadata: {name: x}\nservices:\n  api: {}\nkpis:\n  cpu: {service: api, indicator: {resource: cpu}, warning: \"> 80%\"}\nslos:\n  availability: {service: api, objective: 99.5%, window: 30d, indicator: {up: {}}}\nenvironments:\n  prod:\n    slos:\n      av\n    kpis:\n      c\n";
        let ws = crate::driver::check_texts(
            vec![(std::path::PathBuf::from("x.yaml"), text.to_owned())],
            crate::driver::Options::default(),
        );
        let file = ws.plans[0].file;
        let source = ws.sources.get(file);
        let at = |needle: &str| {
            let offset = text.find(needle).expect("needle") + needle.len();
            complete(&ws.plans, source, file, offset as u32)
                .map(|(_, items)| items.into_iter().map(|i| i.insert).collect::<Vec<_>>())
                .unwrap_or_default()
        };
        assert_eq!(at("      av"), vec!["availability: ".to_owned()]);
        assert_eq!(at("      c"), vec!["cpu: ".to_owned()]);
    }

    /// A line half written elsewhere (above or below, block or flow) does not stop completion;
    /// a syntax error on the cursor's own line does, without a panic.
    #[test]
    fn keys_while_another_line_is_broken() {
        for broken in [
            "    impact: [high\n",
            "    : : x\n",
            "  \"unclosed\n",
            "\tx: 1\n",
        ] {
            for (before, after) in [(broken, ""), ("", broken)] {
                let plan = format!(
                    "apiVersion: upkeep/v1\nkind: Plan\nmetadata: {{name: x}}\nkpis:\n  errors:\n{before}    service: api\n    ru\n{after}"
                );
                let keys = completions(&plan, "    ru");
                assert!(keys.contains(&"runbook: ".to_owned()), "{plan}\n{keys:?}");
            }
        }
        let own = "apiVersion: upkeep/v1\nkind: Plan\nkpis:\n  errors:\n    ru: [x\n";
        assert_eq!(completions(own, "    ru"), Vec::<String>::new());
    }
}
