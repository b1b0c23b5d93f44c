//! Prometheus rule files: a plain `groups:` file, a `PrometheusRule` object, or several of
//! either in one multi-document file, read from the `Node` tree into [`SourceRule`]s.
//!
//! **Invariant:** every field of the input is either read or reported: a field this reader
//! does not know, or one the plan cannot hold, is a warning at its key, never a silent loss.

use crate::diag::{Code, Diagnostic, Diagnostics, Severity};
use crate::parse::Node;
use crate::span::{FileId, Span};

/// One rule of a rule file, as written.
#[derive(Clone, Debug)]
pub(crate) struct SourceRule {
    /// The rule's `- alert:` or `- record:` mapping.
    pub span: Span,
    pub group: String,
    pub kind: RuleKind,
    pub expr: String,
    pub expr_span: Span,
    pub for_: Option<String>,
    /// The value of `for`, when there is one.
    pub for_span: Option<Span>,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    /// The group's `interval`, as written (a plan does not keep it; the equivalence tests
    /// evaluate upkeep's own rules at it).
    pub interval: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RuleKind {
    Alert(String),
    Record(String),
}

/// Whether a document looks like rules: a `groups:` mapping, or a `PrometheusRule`.
pub(crate) fn is_rules(doc: &Node) -> bool {
    doc.get("groups").is_some()
        || doc
            .get("kind")
            .and_then(Node::as_str)
            .is_some_and(|k| k == "PrometheusRule")
}

const GROUP_FIELDS: &[&str] = &[
    "name",
    "rules",
    "interval",
    "limit",
    "query_offset",
    "labels",
];
const RULE_FIELDS: &[&str] = &[
    "alert",
    "record",
    "expr",
    "for",
    "keep_firing_for",
    "labels",
    "annotations",
];

/// The rules of one document.
pub(crate) fn read(
    file: FileId,
    src: &str,
    doc: &Node,
    diags: &mut Diagnostics,
) -> Vec<SourceRule> {
    let groups_parent = if doc.get("kind").and_then(Node::as_str) == Some("PrometheusRule") {
        known(
            file,
            doc,
            &["apiVersion", "kind", "metadata", "spec"],
            diags,
        );
        match doc.get("spec") {
            Some(spec) => {
                known(file, spec, &["groups"], diags);
                spec
            }
            None => {
                diags.push(missing(
                    file,
                    doc,
                    "spec",
                    "a `PrometheusRule` has its groups under `spec.groups`",
                ));
                return Vec::new();
            }
        }
    } else {
        known(file, doc, &["groups"], diags);
        doc
    };
    let Some(groups) = groups_parent.get("groups") else {
        diags.push(missing(
            file,
            groups_parent,
            "groups",
            "a rule file is a mapping with a `groups:` list",
        ));
        return Vec::new();
    };
    let Some(groups) = seq(file, groups, "`groups`", diags) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for g in groups {
        if g.as_map().is_none() {
            diags.push(type_error(
                file,
                g,
                "a group",
                "a mapping with `name` and `rules`",
            ));
            continue;
        }
        known(file, g, GROUP_FIELDS, diags);
        for field in ["interval", "limit", "query_offset", "labels"] {
            if let Some(k) = g.key(field) {
                diags.push(not_kept(file, k, field, "group"));
            }
        }
        let name = g
            .get("name")
            .and_then(Node::scalar_text)
            .unwrap_or_default();
        let interval = g.get("interval").and_then(Node::scalar_text);
        let Some(rules) = g.get("rules") else {
            diags.push(missing(
                file,
                g,
                "rules",
                "a group lists its rules under `rules:`",
            ));
            continue;
        };
        let Some(rules) = seq(file, rules, "`rules`", diags) else {
            continue;
        };
        for r in rules {
            if let Some(mut rule) = read_rule(file, src, r, &name, diags) {
                rule.interval.clone_from(&interval);
                out.push(rule);
            }
        }
    }
    out
}

fn read_rule(
    file: FileId,
    src: &str,
    r: &Node,
    group: &str,
    diags: &mut Diagnostics,
) -> Option<SourceRule> {
    if r.as_map().is_none() {
        diags.push(type_error(
            file,
            r,
            "a rule",
            "a mapping with `alert` or `record` and `expr`",
        ));
        return None;
    }
    known(file, r, RULE_FIELDS, diags);
    if let Some(k) = r.key("keep_firing_for") {
        diags.push(not_kept(file, k, "keep_firing_for", "rule"));
    }
    let kind = match (r.get("alert"), r.get("record")) {
        (Some(a), None) => RuleKind::Alert(scalar(file, a, "`alert`", diags)?),
        (None, Some(rec)) => RuleKind::Record(scalar(file, rec, "`record`", diags)?),
        _ => {
            diags.push(
                Diagnostic::new(
                    Code::Exclusive,
                    "a rule needs exactly one of `alert` and `record`",
                )
                .at(r.span(file))
                .help(
                    "name the alert with `alert: NAME`, or the recorded series with `record: NAME`",
                ),
            );
            return None;
        }
    };
    let Some(expr_node) = r.get("expr") else {
        diags.push(missing(
            file,
            r,
            "expr",
            "every rule has the PromQL it evaluates in `expr`",
        ));
        return None;
    };
    let expr = promql(file, src, expr_node, "`expr`", diags)?;
    let for_ = match r.get("for") {
        Some(f) => Some(scalar(file, f, "`for`", diags)?),
        None => None,
    };
    let labels = string_map(file, r.get("labels"), "`labels`", diags);
    let annotations = string_map(file, r.get("annotations"), "`annotations`", diags);
    Some(SourceRule {
        span: r.span(file),
        group: group.to_owned(),
        kind,
        expr,
        expr_span: expr_node.span(file),
        for_,
        for_span: r.get("for").map(|f| f.span(file)),
        labels,
        annotations,
        interval: None,
    })
}

pub(crate) fn scalar(
    file: FileId,
    n: &Node,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<String> {
    let s = n.scalar_text();
    if s.is_none() {
        diags.push(type_error(file, n, what, "a string"));
    }
    s
}

/// A field of `PromQL` (`src` is the file's text): its text, or a `limit/depth` error where it
/// goes deeper than the parser is given (see [`crate::value::promql::too_deep`]).
pub(crate) fn promql(
    file: FileId,
    src: &str,
    n: &Node,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<String> {
    let text = scalar(file, n, what, diags)?;
    let Some((at, why)) = crate::value::promql::too_deep(&text) else {
        return Some(text);
    };
    diags.push(
        Diagnostic::new(Code::Depth, format!("{what} has {why}"))
            .at(crate::parse::inner_span(file, src, n, at, at + 1))
            .label("too deep from here")
            .help("write the expression shorter: Prometheus rule files nest a few levels and use tens of operators, not hundreds"),
    );
    None
}

pub(crate) fn seq<'n>(
    file: FileId,
    n: &'n Node,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<&'n [Node]> {
    match &n.value {
        crate::parse::Value::Seq(items) => Some(items),
        crate::parse::Value::Null => Some(&[]),
        _ => {
            diags.push(type_error(file, n, what, "a list"));
            None
        }
    }
}

pub(crate) fn string_map(
    file: FileId,
    n: Option<&Node>,
    what: &str,
    diags: &mut Diagnostics,
) -> Vec<(String, String)> {
    let Some(n) = n else { return Vec::new() };
    if n.value == crate::parse::Value::Null {
        return Vec::new();
    }
    let Some(entries) = n.as_map() else {
        diags.push(type_error(file, n, what, "a mapping of names to strings"));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in entries {
        match (k.scalar_text(), v.scalar_text()) {
            (Some(k), Some(v)) => out.push((k, v)),
            (Some(_), None) => diags.push(type_error(file, v, "a label or annotation", "a string")),
            _ => diags.push(type_error(
                file,
                k,
                "a label or annotation name",
                "a string",
            )),
        }
    }
    out
}

/// Report every key of `n` not in `fields`.
pub(crate) fn known(file: FileId, n: &Node, fields: &[&str], diags: &mut Diagnostics) {
    for (k, _) in n.as_map().unwrap_or_default() {
        let Some(name) = k.scalar_text() else {
            continue;
        };
        if !fields.contains(&name.as_str()) {
            diags.push(
                Diagnostic::new(
                    Code::UnknownField,
                    format!("unknown field `{name}` is not imported"),
                )
                .severity(Severity::Warning)
                .at(k.span(file))
                .help(crate::diag::suggestion_help(&name, fields, "known fields")),
            );
        }
    }
}

/// A field a plan has no place for: reported so that nothing is lost silently.
pub(crate) fn not_kept(file: FileId, key: &Node, field: &str, of: &str) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownField,
        format!("the {of} field `{field}` has no place in a plan and is not imported"),
    )
    .severity(Severity::Warning)
    .at(key.span(file))
    .help(format!(
        "keep this {of} in its rule file, or remove `{field}` if the plan's defaults will do"
    ))
}

pub(crate) fn missing(file: FileId, n: &Node, field: &str, help: &str) -> Diagnostic {
    Diagnostic::new(Code::Missing, format!("missing field `{field}`"))
        .at(n.span(file))
        .help(help.to_owned())
}

pub(crate) fn type_error(file: FileId, n: &Node, what: &str, expected: &str) -> Diagnostic {
    Diagnostic::new(
        Code::Type,
        format!("{what} must be {expected}, not {}", n.kind_name()),
    )
    .at(n.span(file))
    .help(format!("write {what} as {expected}"))
}
