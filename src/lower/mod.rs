//! Lowering: the YAML tree of one file into the typed [`Document`](crate::model::Document).
//!
//! Every field is read through [`Cx`], which checks its type, parses its value syntax, and on
//! any problem records a diagnostic at the exact span and carries on with the next field, so
//! one run reports every independent mistake in a file.
//!
//! **Invariant:** lowering does no I/O and looks at one file only; names that refer to other
//! entries are kept as spanned strings for `resolve`.

mod document;
mod ops;
mod signals;

pub use document::FIELD_TABLE;
pub use document::lower;
pub use signals::INLINE_SECRETS;

use crate::diag::{Code, Diagnostic, Diagnostics, Severity, suggestion_help};
use crate::model::refs::{Ref, to};
use crate::parse::{Node, Value, inner_span};
use crate::span::{FileId, Sp, Span};
use crate::value::{self, Duration, Number, Percent, Schedule, ValueError};

/// What follows `http://` or `https://`, when `s` starts with either.
pub(super) fn http_rest(s: &str) -> Option<&str> {
    s.strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
}

/// An absolute `http://` or `https://` URL with a host and no whitespace or control character:
/// what a webhook posts to and what a runbook link in a notification opens.
pub(crate) fn is_http_url(s: &str) -> bool {
    http_rest(s).is_some_and(|h| !h.is_empty() && !h.starts_with('/'))
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The lowering context of one file.
pub struct Cx<'a> {
    pub file: FileId,
    pub src: &'a str,
    pub diags: &'a mut Diagnostics,
}

/// A mapping whose fields were checked against the known ones.
#[derive(Clone)]
pub struct Obj<'n> {
    pub node: &'n Node,
    /// What to blame when a required field is missing: the key that introduced the mapping.
    pub at: Span,
    pub path: String,
}

impl Cx<'_> {
    pub fn span(&self, n: &Node) -> Span {
        n.span(self.file)
    }

    pub fn report(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn type_error(&mut self, n: &Node, path: &str, expected: &str) {
        let found = n.kind_name();
        let msg = format!("`{path}` must be {expected}, found {found}");
        let numeric = |s: &str| s.trim().parse::<f64>().is_ok();
        let help = match &n.value {
            Value::Null => format!("give `{path}` a value or remove the key"),
            Value::Str(s)
                if (expected.contains("integer") || expected.contains("number")) && numeric(s) =>
            {
                format!("remove the quotes: `{}`", s.trim())
            }
            Value::Str(s)
                if expected.contains("`true`")
                    && matches!(s.as_str(), "yes" | "no" | "on" | "off" | "true" | "false") =>
            {
                "write `true` or `false` without quotes".to_owned()
            }
            Value::Int(_) | Value::Float(_) | Value::Bool(_)
                if expected.contains("string") || expected.contains('`') =>
            {
                "quote the value: `\"…\"`".to_owned()
            }
            _ => format!("write {expected} here"),
        };
        self.report(
            Diagnostic::new(Code::Type, msg)
                .at(self.span(n))
                .label(format!("expected {expected}"))
                .help(help),
        );
    }

    /// The node as a mapping with known `fields`; unknown keys are reported with "did you mean".
    pub fn object<'n>(
        &mut self,
        n: &'n Node,
        at: Span,
        path: &str,
        fields: &[&str],
    ) -> Option<Obj<'n>> {
        let Some(entries) = n.as_map() else {
            self.type_error(n, path, "a mapping");
            return None;
        };
        for (k, _) in entries {
            match k.as_str() {
                Some(name) if fields.contains(&name) => {}
                Some(name) => {
                    let help = suggestion_help(name, fields, "known fields");
                    self.report(
                        Diagnostic::new(
                            Code::UnknownField,
                            format!("unknown field `{name}` in {}", place(path)),
                        )
                        .at(self.span(k))
                        .label("unknown field")
                        .help(help),
                    );
                }
                None => self.type_error(k, &format!("a key in `{path}`"), "a string"),
            }
        }
        Some(Obj {
            node: n,
            at,
            path: path.to_owned(),
        })
    }

    /// A mapping of user-chosen names to entries (`services:`, `kpis:`…).
    pub fn named<'n>(
        &mut self,
        n: &'n Node,
        path: &str,
        level_names: bool,
    ) -> Vec<(Sp<String>, &'n Node, Span)> {
        let Some(entries) = n.as_map() else {
            self.type_error(n, path, "a mapping of names to entries");
            return Vec::new();
        };
        let mut out = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            let Some(name) = k.scalar_text() else {
                self.type_error(k, &format!("a name in `{path}`"), "a string");
                continue;
            };
            let ok = if level_names {
                valid_level_name(&name)
            } else {
                valid_name(&name)
            };
            if !ok {
                let (rule, example) = if level_names {
                    ("letters, digits, `_` and `-`", "`P0`, `critical`")
                } else {
                    (
                        "lowercase letters, digits, `_` and `-`, starting with a letter or digit",
                        "`backend`, `disk-full`",
                    )
                };
                self.report(
                    Diagnostic::new(
                        Code::Type,
                        format!("`{name}` is not a valid name in `{path}`"),
                    )
                    .at(self.span(k))
                    .label("invalid name")
                    .help(format!(
                        "names use {rule} (at most 63 characters), e.g. {example}"
                    )),
                );
                continue;
            }
            out.push((Sp::new(name, self.span(k)), v, self.span(k)));
        }
        out
    }

    /// A list; a single scalar is not promoted.
    pub fn list<'n>(&mut self, n: &'n Node, path: &str) -> &'n [Node] {
        match &n.value {
            Value::Seq(items) => items,
            _ => {
                self.type_error(n, path, "a list");
                &[]
            }
        }
    }

    /// Text: any scalar, written as the user wrote it (`1.10` stays `1.10` when quoted).
    pub fn text(&mut self, n: &Node, path: &str) -> Option<Sp<String>> {
        match &n.value {
            Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
                let raw = match &n.value {
                    Value::Str(s) => s.clone(),
                    _ => self
                        .src
                        .get(n.start as usize..n.end as usize)
                        .map_or_else(|| n.scalar_text().unwrap_or_default(), str::to_owned),
                };
                Some(Sp::new(raw, self.span(n)))
            }
            _ => {
                self.type_error(n, path, "a string");
                None
            }
        }
    }

    /// A non-empty string.
    pub fn string(&mut self, n: &Node, path: &str) -> Option<Sp<String>> {
        let s = self.text(n, path)?;
        if s.value.trim().is_empty() {
            self.report(
                Diagnostic::new(Code::Type, format!("`{path}` is empty"))
                    .at(s.span)
                    .label("empty")
                    .help(format!("write a value for `{path}` or remove it")),
            );
            return None;
        }
        Some(s)
    }

    /// A reference to a named entry (checked later by `resolve`).
    pub fn reference<K: to::Target>(&mut self, n: &Node, path: &str) -> Option<Ref<K>> {
        self.string(n, path).map(Ref::new)
    }

    /// A list of references.
    pub fn references<K: to::Target>(&mut self, n: &Node, path: &str) -> Vec<Ref<K>> {
        self.strings(n, path).into_iter().map(Ref::new).collect()
    }

    pub fn boolean(&mut self, n: &Node, path: &str) -> Option<bool> {
        match n.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.type_error(n, path, "`true` or `false`");
                None
            }
        }
    }

    pub fn integer(&mut self, n: &Node, path: &str, min: i64, max: i64) -> Option<Sp<i64>> {
        let v = match &n.value {
            Value::Int(i) => *i,
            _ => {
                self.type_error(n, path, "an integer");
                return None;
            }
        };
        if v < min || v > max {
            self.report(
                Diagnostic::new(
                    Code::Range,
                    format!("`{path}` is {v}, outside {min}..={max}"),
                )
                .at(self.span(n))
                .label("out of range")
                .help(format!("use a value from {min} to {max}")),
            );
            return None;
        }
        Some(Sp::new(v, self.span(n)))
    }

    /// A plain number (integer or decimal).
    pub fn number(&mut self, n: &Node, path: &str) -> Option<Sp<Number>> {
        let parsed = match &n.value {
            Value::Int(i) => Some(Number::int(*i)),
            Value::Float(_) => self
                .src
                .get(n.start as usize..n.end as usize)
                .and_then(Number::parse),
            Value::Str(s) => Number::parse(s.trim()),
            _ => None,
        };
        if parsed.is_none() {
            self.type_error(n, path, "a number");
        }
        parsed.map(|v| Sp::new(v, self.span(n)))
    }

    /// Parse a value-syntax string, blaming the exact characters on error.
    pub fn parse<T>(
        &mut self,
        n: &Node,
        path: &str,
        expected: &str,
        parser: impl FnOnce(&str) -> value::Result<T>,
    ) -> Option<Sp<T>> {
        let text = match &n.value {
            Value::Str(s) => s.clone(),
            Value::Int(_) | Value::Float(_) => n.scalar_text().unwrap_or_default(),
            _ => {
                self.type_error(n, path, expected);
                return None;
            }
        };
        match parser(&text) {
            Ok(v) => Some(Sp::new(v, self.span(n))),
            Err(e) => {
                self.value_error(Code::Type, n, path, &e);
                None
            }
        }
    }

    pub fn value_error(&mut self, code: Code, n: &Node, path: &str, e: &ValueError) {
        self.value_issue(code, Severity::Error, n, path, e);
    }

    pub fn value_issue(
        &mut self,
        code: Code,
        severity: Severity,
        n: &Node,
        path: &str,
        e: &ValueError,
    ) {
        let span = if matches!(n.value, Value::Str(_)) {
            inner_span(self.file, self.src, n, e.start, e.end)
        } else {
            self.span(n)
        };
        self.report(
            Diagnostic::new(code, format!("{} in `{path}`", e.message))
                .severity(severity)
                .at(span)
                .label("here")
                .help(e.help.clone()),
        );
    }

    pub fn duration(&mut self, n: &Node, path: &str) -> Option<Sp<Duration>> {
        self.parse(n, path, "a duration such as `5m` or `1h30m`", |s| {
            Duration::parse(s, false)
        })
    }

    pub fn percent(&mut self, n: &Node, path: &str) -> Option<Sp<Percent>> {
        self.parse(n, path, "a percentage such as `99.9%`", Percent::parse)
    }

    pub fn schedule(&mut self, n: &Node, path: &str) -> Option<Sp<Schedule>> {
        let Some(text) = n.as_str() else {
            self.type_error(n, path, "a schedule string such as `daily at 02:00`");
            return None;
        };
        match Schedule::parse(text) {
            Ok((s, warnings)) => {
                for w in warnings {
                    let code = match w.kind {
                        value::schedule::WarningKind::SkipsMonths => Code::ScheduleInvalid,
                        value::schedule::WarningKind::CronDayOr => Code::CronDayOr,
                    };
                    self.value_issue(code, Severity::Warning, n, path, &w.error);
                }
                Some(Sp::new(s, self.span(n)))
            }
            Err(e) => {
                let code = match e.kind {
                    value::schedule::ScheduleErrorKind::Invalid => Code::ScheduleInvalid,
                    value::schedule::ScheduleErrorKind::NotCron => Code::IntervalNotCron,
                };
                self.value_error(code, n, path, &e.error);
                None
            }
        }
    }

    /// One of a fixed set of words.
    pub fn choice<T: Copy>(
        &mut self,
        n: &Node,
        path: &str,
        options: &[(&str, T)],
    ) -> Option<Sp<T>> {
        let names: Vec<&str> = options.iter().map(|(o, _)| *o).collect();
        let Some(s) = n.as_str() else {
            let list: Vec<String> = names.iter().map(|o| format!("`{o}`")).collect();
            self.type_error(n, path, &format!("one of {}", list.join(", ")));
            return None;
        };
        if let Some((_, v)) = options.iter().find(|(o, _)| *o == s) {
            return Some(Sp::new(*v, self.span(n)));
        }
        let help = suggestion_help(s, &names, "allowed values");
        self.report(
            Diagnostic::new(
                Code::Type,
                format!("`{s}` is not a valid value for `{path}`"),
            )
            .at(self.span(n))
            .label("not allowed here")
            .help(help),
        );
        None
    }

    /// A list of strings (references or text).
    pub fn strings(&mut self, n: &Node, path: &str) -> Vec<Sp<String>> {
        let items = self.list(n, path);
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if let Some(s) = self.string(item, &format!("{path}[{i}]")) {
                out.push(s);
            }
        }
        out
    }

    /// A mapping of free keys to string values (labels, env).
    pub fn string_map(&mut self, n: &Node, path: &str) -> Vec<(Sp<String>, Sp<String>)> {
        let Some(entries) = n.as_map() else {
            self.type_error(n, path, "a mapping of names to strings");
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, v) in entries {
            let Some(key) = self.string(k, &format!("a key in `{path}`")) else {
                continue;
            };
            if let Some(val) = self.text(v, &format!("{path}.{}", key.value)) {
                out.push((key, val));
            }
        }
        out
    }
}

impl<'n> Obj<'n> {
    pub fn get(&self, name: &str) -> Option<&'n Node> {
        self.node.get(name)
    }

    pub fn key_span(&self, name: &str) -> Option<Span> {
        self.node.key(name).map(|k| k.span(self.at.file))
    }

    /// A required field; its absence is reported at the mapping's key.
    pub fn req(&self, cx: &mut Cx<'_>, name: &str) -> Option<&'n Node> {
        let v = self.get(name);
        if v.is_none() {
            cx.report(
                Diagnostic::new(
                    Code::Missing,
                    format!("missing field `{name}` in {}", place(&self.path)),
                )
                .at(self.at)
                .label(format!("`{name}` is required here"))
                .help(format!("add `{name}:` to {}", place(&self.path))),
            );
        }
        v
    }

    pub fn path(&self, field: &str) -> String {
        if self.path.is_empty() {
            field.to_owned()
        } else {
            format!("{}.{field}", self.path)
        }
    }

    pub fn opt_string(&self, cx: &mut Cx<'_>, name: &str) -> Option<Sp<String>> {
        self.get(name).and_then(|n| cx.string(n, &self.path(name)))
    }

    pub fn opt_ref<K: to::Target>(&self, cx: &mut Cx<'_>, name: &str) -> Option<Ref<K>> {
        self.get(name)
            .and_then(|n| cx.reference(n, &self.path(name)))
    }

    pub fn req_ref<K: to::Target>(&self, cx: &mut Cx<'_>, name: &str) -> Option<Ref<K>> {
        self.req(cx, name)
            .and_then(|n| cx.reference(n, &self.path(name)))
    }

    pub fn opt_refs<K: to::Target>(&self, cx: &mut Cx<'_>, name: &str) -> Vec<Ref<K>> {
        self.get(name)
            .map(|n| cx.references(n, &self.path(name)))
            .unwrap_or_default()
    }

    /// A string that must fit on one line (a path, an image, a name): control characters and
    /// line breaks are rejected at the string, since the files it reaches are line-based.
    pub fn opt_line(&self, cx: &mut Cx<'_>, name: &str) -> Option<Sp<String>> {
        let s = self.opt_string(cx, name)?;
        if s.value.chars().any(crate::source::breaks_lines) {
            cx.report(
                Diagnostic::new(
                    Code::Type,
                    format!("`{}` must be one line of text", self.path(name)),
                )
                .at(s.span)
                .label("contains a line break or a control character")
                .help("write it on one line, without control characters"),
            );
            return None;
        }
        Some(s)
    }

    pub fn opt_text(&self, cx: &mut Cx<'_>, name: &str) -> Option<Sp<String>> {
        self.get(name).and_then(|n| cx.text(n, &self.path(name)))
    }

    pub fn req_string(&self, cx: &mut Cx<'_>, name: &str) -> Option<Sp<String>> {
        self.req(cx, name)
            .and_then(|n| cx.string(n, &self.path(name)))
    }

    pub fn opt_duration(&self, cx: &mut Cx<'_>, name: &str) -> Option<Sp<Duration>> {
        self.get(name)
            .and_then(|n| cx.duration(n, &self.path(name)))
    }

    /// A duration that must be longer than zero (a `[0s]` range or a zero window breaks the
    /// rules built from it); `help` says what to write instead.
    pub fn opt_positive_duration(
        &self,
        cx: &mut Cx<'_>,
        name: &str,
        help: &str,
    ) -> Option<Sp<Duration>> {
        let d = self.opt_duration(cx, name)?;
        if d.value.is_zero() {
            cx.report(
                Diagnostic::new(
                    Code::Range,
                    format!("`{}` must be longer than zero", self.path(name)),
                )
                .at(d.span)
                .help(help),
            );
            return None;
        }
        Some(d)
    }

    pub fn req_duration(&self, cx: &mut Cx<'_>, name: &str) -> Option<Sp<Duration>> {
        self.req(cx, name)
            .and_then(|n| cx.duration(n, &self.path(name)))
    }

    pub fn opt_bool(&self, cx: &mut Cx<'_>, name: &str) -> Option<bool> {
        self.get(name).and_then(|n| cx.boolean(n, &self.path(name)))
    }

    pub fn opt_strings(&self, cx: &mut Cx<'_>, name: &str) -> Vec<Sp<String>> {
        self.get(name)
            .map(|n| cx.strings(n, &self.path(name)))
            .unwrap_or_default()
    }

    pub fn opt_schedule(&self, cx: &mut Cx<'_>, name: &str) -> Option<Sp<Schedule>> {
        self.get(name)
            .and_then(|n| cx.schedule(n, &self.path(name)))
    }

    pub fn req_schedule(&self, cx: &mut Cx<'_>, name: &str) -> Option<Sp<Schedule>> {
        self.req(cx, name)
            .and_then(|n| cx.schedule(n, &self.path(name)))
    }

    /// Exactly one of the keys in `options` must be present: the value it stands for, its node
    /// and the key. `options` is an enum's `KEYS` table (or a table of its own), so what is
    /// present is named by a variant, never by a position.
    pub fn one_of<T: Copy>(
        &self,
        cx: &mut Cx<'_>,
        options: &[(&'static str, T)],
        what: &str,
    ) -> Option<(T, &'n Node, &'static str)> {
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        let mut present: Vec<(usize, &Node, Span)> = names
            .iter()
            .enumerate()
            .filter_map(|(i, n)| Some((i, self.get(n)?, self.key_span(n)?)))
            .collect();
        present.sort_by_key(|(_, _, s)| s.start);
        match present.as_slice() {
            [(i, node, _)] => Some((options[*i].1, *node, options[*i].0)),
            [] => {
                let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                cx.report(
                    Diagnostic::new(Code::Missing, format!("{} needs {what}", place(&self.path)))
                        .at(self.at)
                        .label("nothing given here")
                        .help(format!("add one of {}", list.join(", "))),
                );
                None
            }
            [(first, _, first_span), rest @ ..] => {
                let mut d = Diagnostic::new(
                    Code::Exclusive,
                    format!("{} gives {what} more than once", place(&self.path)),
                )
                .at(*first_span)
                .label(format!("`{}` given here", names[*first]));
                let mut given = vec![format!("`{}`", names[*first])];
                for (i, _, span) in rest {
                    d = d.with_label(*span, format!("and `{}` here", names[*i]));
                    given.push(format!("`{}`", names[*i]));
                }
                cx.report(d.help(format!("keep exactly one of {}", given.join(" and "))));
                None
            }
        }
    }
}

/// "`services.api`", or "the plan" for the top level.
fn place(path: &str) -> String {
    if path.is_empty() {
        "the plan".to_owned()
    } else {
        format!("`{path}`")
    }
}

/// Entry names: `[a-z0-9][a-z0-9_-]*`, at most 63 characters.
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Severity level names: `[A-Za-z0-9_-]+`.
pub fn valid_level_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}
