//! Parsing: YAML text into a [`Node`] tree where every node keeps its byte range.
//!
//! serde-saphyr does the YAML work (YAML 1.2 core scalars, strict booleans, anchors, merge keys)
//! under resource budgets; this module turns its `Spanned` values into a tree, detects duplicate
//! keys (YAML forbids them; we point at both), and maps offsets inside a scalar's decoded text
//! back to the source, through quotes, escapes and block indentation.
//!
//! **Invariant:** parsing never panics and never fails as a whole: it returns a node or the
//! diagnostics that say why there is none.

use std::collections::HashMap;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::SourceFile;
use crate::span::{FileId, Span};

/// Largest file the compiler reads.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;
/// Deepest nesting of YAML collections.
pub const MAX_DEPTH: usize = 32;
/// Most events aliases may replay (alias-bomb guard).
pub const MAX_ALIAS_EVENTS: usize = 100_000;
/// Most nodes in one document.
pub const MAX_NODES: usize = 200_000;

/// A YAML node with its byte range in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub start: u32,
    pub end: u32,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    pub fn span(&self, file: FileId) -> Span {
        Span {
            file,
            start: self.start,
            end: self.end,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The value of `key` in a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// The key node of `key` in a mapping node.
    pub fn key(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, _)| k)
    }

    /// What kind of YAML value this is, for messages ("found a list").
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "nothing",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The scalar as text, the way a user wrote it (`30` for an integer).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
        }
    }
}

/// The node as JSON (for schema validation and free-form Helm values). Keys that are not
/// strings are written as their text.
pub fn to_json(n: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &n.value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::Str(s) => J::String(s.clone()),
        Value::Seq(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| (k.scalar_text().unwrap_or_default(), to_json(v)))
                .collect(),
        ),
    }
}

/// A node as serde-saphyr hands it over: positions in bytes when it knows them.
struct Raw(Node);

struct KindVisitor;

impl<'de> Visitor<'de> for KindVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(KindVisitor)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Raw(n)) = a.next_element()? {
            items.push(n);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some((Raw(k), Raw(v))) = a.next_entry()? {
            entries.push((k, v));
        }
        Ok(Value::Map(entries))
    }
}

struct KindSeed(Value);

impl<'de> Deserialize<'de> for KindSeed {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(KindVisitor).map(KindSeed)
    }
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = serde_saphyr::Spanned::<KindSeed>::deserialize(d)?;
        // `defined` is where the text is (for an alias, the anchored node), which is what a
        // diagnostic about the value must point at.
        let span = s.defined.span();
        let start = span.byte_offset().unwrap_or(u64::from(u32::MAX)) as u32;
        let len = span.byte_len().unwrap_or(0) as u32;
        let value = s.value.0;
        let mut end = start.saturating_add(len);
        // Collections report only their opening position; they end where their last child ends.
        match &value {
            Value::Map(m) => {
                if let Some((_, v)) = m.last() {
                    end = end.max(v.end);
                }
            }
            Value::Seq(items) => {
                if let Some(v) = items.last() {
                    end = end.max(v.end);
                }
            }
            _ => {}
        }
        Ok(Raw(Node { start, end, value }))
    }
}

fn options() -> serde_saphyr::Options {
    options_for(1)
}

/// Most documents in one file read by [`parse_documents`] (a multi-document rule file).
pub const MAX_DOCUMENTS: usize = 1000;

fn options_for(max_documents: usize) -> serde_saphyr::Options {
    let mut opts = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::options::DuplicateKeyPolicy::PassThrough,
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_nodes: MAX_NODES,
            max_documents: max_documents,
        },
    };
    opts.alias_limits.max_total_replayed_events = MAX_ALIAS_EVENTS;
    opts
}

/// `limit/file-size` when `text` is over [`MAX_FILE_BYTES`], with `help` saying how to split it.
fn too_big(file: FileId, text: &str, help: &str) -> Option<Diagnostic> {
    (text.len() > MAX_FILE_BYTES).then(|| {
        Diagnostic::new(
            Code::FileSize,
            format!(
                "file is {} bytes, more than the limit of {MAX_FILE_BYTES}",
                text.len()
            ),
        )
        .at(Span::file_start(file))
        .help(help)
    })
}

/// Parse one file. Returns the root node, or `None` with the reasons in `diags`.
pub fn parse(file: FileId, source: &SourceFile, diags: &mut Diagnostics) -> Option<Node> {
    let text = source.text.as_str();
    if let Some(d) = too_big(file, text, "split the plan into fragments with `imports:`") {
        diags.push(d);
        return None;
    }
    match serde_saphyr::from_str_with_options::<Raw>(text, options()) {
        Ok(Raw(mut node)) => {
            fix_positions(&mut node, source);
            check_duplicate_keys(file, &mut node, diags);
            Some(node)
        }
        Err(e) => {
            diags.push(yaml_error(file, source, &e));
            None
        }
    }
}

/// Parse a file of one or more YAML documents (`---`-separated), with the budgets of [`parse`];
/// empty documents are left out. Used for the files `upkeep import` reads, never for plans.
pub fn parse_documents(file: FileId, source: &SourceFile, diags: &mut Diagnostics) -> Vec<Node> {
    let text = source.text.as_str();
    if let Some(d) = too_big(
        file,
        text,
        "split the file into smaller files and import them together",
    ) {
        diags.push(d);
        return Vec::new();
    }
    match serde_saphyr::from_multiple_with_options::<Raw>(text, options_for(MAX_DOCUMENTS)) {
        Ok(docs) => docs
            .into_iter()
            .map(|Raw(mut node)| {
                fix_positions(&mut node, source);
                check_duplicate_keys(file, &mut node, diags);
                node
            })
            .filter(|n| n.value != Value::Null)
            .collect(),
        Err(e) => {
            diags.push(yaml_error(file, source, &e));
            Vec::new()
        }
    }
}

/// Positions serde-saphyr could not give in bytes (rare) fall back to the start of the file,
/// and ranges are clamped to the text.
fn fix_positions(node: &mut Node, source: &SourceFile) {
    let len = source.text.len() as u32;
    if node.start > len {
        node.start = 0;
    }
    node.end = node.end.clamp(node.start, len);
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|n| fix_positions(n, source)),
        Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            fix_positions(k, source);
            fix_positions(v, source);
        }),
        _ => {}
    }
}

fn check_duplicate_keys(file: FileId, node: &mut Node, diags: &mut Diagnostics) {
    match &mut node.value {
        Value::Seq(items) => items
            .iter_mut()
            .for_each(|n| check_duplicate_keys(file, n, diags)),
        Value::Map(entries) => {
            let mut seen: HashMap<String, Span> = HashMap::new();
            let mut keep = Vec::with_capacity(entries.len());
            for (k, mut v) in std::mem::take(entries) {
                check_duplicate_keys(file, &mut v, diags);
                let Some(text) = k.scalar_text() else {
                    keep.push((k, v));
                    continue;
                };
                if let Some(first) = seen.get(&text) {
                    diags.push(
                        Diagnostic::new(Code::DuplicateKey, format!("key `{text}` is defined twice in this mapping"))
                            .at(k.span(file))
                            .label("defined again here")
                            .with_label(*first, "first defined here")
                            .help("remove one of them; YAML keys must be unique and the second would silently win elsewhere"),
                    );
                } else {
                    seen.insert(text, k.span(file));
                    keep.push((k, v));
                }
            }
            *entries = keep;
        }
        _ => {}
    }
}

fn yaml_error(file: FileId, source: &SourceFile, e: &serde_saphyr::Error) -> Diagnostic {
    use serde_saphyr::Error as E;
    use serde_saphyr::budget::BudgetBreach as B;
    let mut inner = e;
    while let E::AliasError { error, .. } | E::WithSnippet { error, .. } = inner {
        inner = error;
    }
    let at = e.location().map_or(0, |loc| {
        loc.span().byte_offset().map_or_else(
            || source.offset_of(loc.line() as usize, loc.column() as usize),
            |b| b as usize,
        )
    });
    let at = at.min(source.text.len());
    let end = next_char_boundary(&source.text, at);
    let span = Span::new(file, at, end);
    let (code, message, help) = match inner {
        E::Budget { breach: B::Depth { .. }, .. } => (
            Code::Depth,
            format!("YAML nesting is deeper than {MAX_DEPTH} levels"),
            "a plan is never this deep; flatten the structure".to_owned(),
        ),
        E::Budget { breach: B::Aliases { .. } | B::Anchors { .. } | B::MergeKeys { .. }, .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. }
        | E::AliasReplayCounterOverflow { .. } => (
            Code::Aliases,
            format!("YAML aliases expand to more than {MAX_ALIAS_EVENTS} nodes"),
            "an alias used inside another repeatedly multiplies the document (an \"alias bomb\"); write the values out or use fewer nested aliases".to_owned(),
        ),
        E::Budget { .. } => (
            Code::Size,
            format!("the document has more than {MAX_NODES} nodes or too much text"),
            "split the plan into fragments with `imports:`".to_owned(),
        ),
        E::MultipleDocuments { .. } => (
            Code::Syntax,
            "a plan file holds exactly one YAML document".to_owned(),
            "remove the `---` separator and put other plans in their own files".to_owned(),
        ),
        _ => {
            let ro = serde_saphyr::render_options! { snippets: serde_saphyr::SnippetMode::Off };
            let text = inner.render_with_options(ro);
            let text = text.split(" at line ").next().unwrap_or(&text).trim().to_owned();
            let help = if text.contains("tab") {
                "indent with spaces; YAML does not allow tabs for indentation"
            } else if text.contains("quote") {
                "close the string with the same quote that opened it"
            } else {
                "fix the YAML syntax at this position (indentation, a missing `:` or an unclosed bracket are the usual causes)"
            };
            (Code::Syntax, text, help.to_owned())
        }
    };
    // The scanner reports a tab where the scalar before it ends, often the line above: point at
    // the tab itself.
    let span = if code == Code::Syntax && message.contains("found a tab") {
        source.text[at..]
            .find('\t')
            .map_or(span, |i| Span::new(file, at + i, at + i + 1))
    } else {
        span
    };
    let label = match code {
        Code::Aliases => "expansion limit reached here",
        Code::Depth => "nesting limit reached here",
        Code::Size => "size limit reached here",
        _ => "here",
    };
    Diagnostic::new(code, message)
        .at(span)
        .label(label)
        .help(help)
}

fn next_char_boundary(s: &str, at: usize) -> usize {
    if at >= s.len() {
        return s.len();
    }
    let mut end = at + 1;
    while end < s.len() && !s.is_char_boundary(end) {
        end += 1;
    }
    end
}

/// Map a byte range of a scalar's decoded text to the source, through quotes, escapes, line
/// folding and block indentation. Falls back to the whole scalar when the text cannot be
/// re-decoded to the same value (for example an alias).
pub fn inner_span(file: FileId, source: &str, node: &Node, start: usize, end: usize) -> Span {
    let whole = node.span(file);
    let Some(decoded) = node.as_str() else {
        return whole;
    };
    let raw = source
        .get(node.start as usize..node.end as usize)
        .unwrap_or("");
    let line_start = source[..node.start as usize]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let indent = node.start as usize - line_start;
    let Some(map) = decode_map(raw, decoded, indent) else {
        return whole;
    };
    let pos = |i: usize| -> usize {
        map.get(i).copied().unwrap_or_else(|| match map.last() {
            // The end of the text: just after its last character, inside a closing quote.
            Some(&last) => next_char_boundary(raw, last),
            None => usize::from(matches!(raw.as_bytes().first(), Some(b'"' | b'\''))),
        })
    };
    let s = pos(start.min(decoded.len()));
    let mut e = if end > start { pos(end - 1) + 1 } else { s };
    while e < raw.len() && !raw.is_char_boundary(e) {
        e += 1;
    }
    Span::new(
        file,
        node.start as usize + s,
        node.start as usize + e.max(s),
    )
}

/// Like [`inner_span`] for a scalar known only by its span: the decoded text is `decoded` when
/// given (block scalars need it), else re-decoded from a plain or quoted scalar.
pub fn span_within(
    file: FileId,
    source: &str,
    scalar: Span,
    decoded: Option<&str>,
    start: usize,
    end: usize,
) -> Span {
    let raw = source
        .get(scalar.start as usize..scalar.end as usize)
        .unwrap_or("");
    let text = match decoded {
        Some(d) => d.to_owned(),
        None => match decode_flow(raw) {
            Some((t, _)) => t,
            None => return scalar,
        },
    };
    let node = Node {
        start: scalar.start,
        end: scalar.end,
        value: Value::Str(text),
    };
    inner_span(file, source, &node, start, end)
}

/// Decode a plain or quoted (flow) scalar: its text and, for every byte of it, the byte of
/// `raw` it came from.
fn decode_flow(raw: &str) -> Option<(String, Vec<usize>)> {
    if matches!(raw.as_bytes().first(), Some(b'|' | b'>')) {
        return None;
    }
    let mut out = Vec::new();
    let mut text = String::new();
    let push = |text: &mut String, out: &mut Vec<usize>, c: char, at: usize| {
        text.push(c);
        out.extend(std::iter::repeat_n(at, c.len_utf8()));
    };
    match raw.as_bytes().first() {
        Some(b'"' | b'\'') => {
            let quote = char::from(raw.as_bytes()[0]);
            let mut chars = raw.char_indices().skip(1).peekable();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' if quote == '"' => {
                        let (_, e) = chars.next()?;
                        let c = match e {
                            'n' => '\n',
                            't' => '\t',
                            '"' => '"',
                            '\\' => '\\',
                            '/' => '/',
                            _ => return None,
                        };
                        push(&mut text, &mut out, c, i);
                    }
                    '\'' if quote == '\'' && chars.peek().map(|&(_, c)| c) == Some('\'') => {
                        chars.next();
                        push(&mut text, &mut out, '\'', i);
                    }
                    c if c == quote => break,
                    '\n' => return None,
                    c => push(&mut text, &mut out, c, i),
                }
            }
        }
        _ => {
            if raw.contains('\n') {
                return None;
            }
            for (i, c) in raw.char_indices() {
                push(&mut text, &mut out, c, i);
            }
        }
    }
    Some((text, out))
}

/// For every byte of `decoded`, the byte of `raw` it came from. `None` when `raw` does not
/// decode to `decoded` under the rules tried here.
fn decode_map(raw: &str, decoded: &str, indent: usize) -> Option<Vec<usize>> {
    let mut out: Vec<usize> = Vec::with_capacity(decoded.len());
    let mut text = String::with_capacity(decoded.len());
    let push = |text: &mut String, out: &mut Vec<usize>, c: char, at: usize| {
        text.push(c);
        out.extend(std::iter::repeat_n(at, c.len_utf8()));
    };
    let bytes = raw.as_bytes();
    match bytes.first() {
        Some(b'"') => {
            let mut chars = raw.char_indices().skip(1).peekable();
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => {
                        let (_, e) = chars.next()?;
                        let c = match e {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            '0' => '\0',
                            '"' => '"',
                            '\\' => '\\',
                            '/' => '/',
                            ' ' => ' ',
                            'x' | 'u' | 'U' => {
                                let n = match e {
                                    'x' => 2,
                                    'u' => 4,
                                    _ => 8,
                                };
                                let mut v = 0u32;
                                for _ in 0..n {
                                    v = v * 16 + chars.next()?.1.to_digit(16)?;
                                }
                                char::from_u32(v)?
                            }
                            _ => return None,
                        };
                        push(&mut text, &mut out, c, i);
                    }
                    '\n' => fold_lines(&mut chars, &mut text, &mut out, i),
                    c => push(&mut text, &mut out, c, i),
                }
            }
        }
        Some(b'\'') => {
            let mut chars = raw.char_indices().skip(1).peekable();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\'' if chars.peek().map(|&(_, c)| c) == Some('\'') => {
                        chars.next();
                        push(&mut text, &mut out, '\'', i);
                    }
                    '\'' => break,
                    '\n' => fold_lines(&mut chars, &mut text, &mut out, i),
                    c => push(&mut text, &mut out, c, i),
                }
            }
        }
        _ => {
            // Plain scalars fold lines; block scalars (whose range starts at the content) keep
            // them and strip the indentation of the first line.
            if let Some(m) = try_block(raw, decoded, indent) {
                return Some(m);
            }
            let mut chars = raw.char_indices().peekable();
            while let Some((i, c)) = chars.next() {
                if c == '\n' {
                    // Trim trailing spaces already pushed before folding.
                    while text.ends_with(' ') {
                        text.pop();
                        out.pop();
                    }
                    fold_lines(&mut chars, &mut text, &mut out, i);
                } else {
                    push(&mut text, &mut out, c, i);
                }
            }
            let trimmed = text.trim_end().len();
            text.truncate(trimmed);
            out.truncate(trimmed);
        }
    }
    (text == decoded).then_some(out)
}

fn fold_lines<I: Iterator<Item = (usize, char)>>(
    chars: &mut std::iter::Peekable<I>,
    text: &mut String,
    out: &mut Vec<usize>,
    at: usize,
) {
    // A line break followed by indentation folds into one space; empty lines become `\n`.
    let mut newlines = 0;
    while let Some(&(_, c)) = chars.peek() {
        match c {
            ' ' | '\t' => {
                chars.next();
            }
            '\n' => {
                newlines += 1;
                chars.next();
            }
            _ => break,
        }
    }
    if newlines == 0 {
        text.push(' ');
        out.push(at);
    } else {
        for _ in 0..newlines {
            text.push('\n');
            out.push(at);
        }
    }
}

/// A literal block scalar: the range starts at the content of the first line, which sits at
/// column `indent`; later lines carry that indentation in the source.
fn try_block(raw: &str, decoded: &str, indent: usize) -> Option<Vec<usize>> {
    let mut text = String::new();
    let mut out = Vec::new();
    let mut offset = 0;
    for (n, line) in raw.split_inclusive('\n').enumerate() {
        let want = if n == 0 { 0 } else { indent };
        let strip = line
            .len()
            .min(want)
            .min(line.len() - line.trim_start_matches(' ').len());
        for (i, c) in line[strip..].char_indices() {
            text.push(c);
            out.extend(std::iter::repeat_n(offset + strip + i, c.len_utf8()));
        }
        offset += line.len();
    }
    // Literal block: same text up to chomping of the final newlines.
    let n = decoded.len().min(text.len());
    if decoded == &text[..n] || decoded.trim_end_matches('\n') == text.trim_end_matches('\n') {
        out.truncate(decoded.len().min(out.len()));
        return (out.len() == decoded.len()).then_some(out);
    }
    None
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;
    use crate::source::SourceFile;

    fn parse_str(text: &str) -> (Option<Node>, Diagnostics, SourceFile) {
        let sf = SourceFile::new("t.yaml".into(), "t.yaml".into(), text.to_owned());
        let mut d = Diagnostics::new();
        let n = parse(FileId(0), &sf, &mut d);
        (n, d, sf)
    }

    #[test]
    fn keeps_times_and_words_as_strings() {
        let (n, d, _) = parse_str("a: 02:00\nb: on\nn: 1\ny: 0755\n");
        assert!(d.is_empty());
        let n = n.unwrap();
        assert_eq!(n.get("a").unwrap().as_str(), Some("02:00"));
        assert_eq!(n.get("b").unwrap().as_str(), Some("on"));
        assert!(n.get("n").is_some());
        assert_eq!(n.get("y").unwrap().as_str(), Some("0755"));
    }

    #[test]
    fn duplicate_keys_point_at_both() {
        let (_, d, _) = parse_str("a: 1\nb: 2\na: 3\n");
        let d: Vec<_> = d.into_iter().collect();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, Code::DuplicateKey);
        assert_eq!(d[0].span.unwrap().start, 10);
        assert_eq!(d[0].labels[0].span.start, 0);
    }

    #[test]
    fn inner_spans_through_quotes_and_blocks() {
        let src = "a: \"x \\\"y\\\" z\"\nb: 'it''s 5x'\nc: |\n  line one\n  two 5q\nd: plain 7z\n";
        let (n, d, _) = parse_str(src);
        assert!(d.is_empty(), "{d:?}");
        let n = n.unwrap();
        let check = |key: &str, needle: &str| {
            let node = n.get(key).unwrap();
            let s = node.as_str().unwrap();
            let i = s.find(needle).unwrap();
            let sp = inner_span(FileId(0), src, node, i, i + needle.len());
            assert_eq!(&src[sp.start as usize..sp.end as usize], needle, "{key}");
        };
        check("a", "z");
        check("b", "5x");
        check("c", "5q");
        check("d", "7z");
        // An empty range at the end of a quoted text stays inside the quotes.
        let src = "e: \"daily\"\n";
        let (n, _, _) = parse_str(src);
        let sp = inner_span(FileId(0), src, n.unwrap().get("e").unwrap(), 5, 5);
        assert_eq!((sp.start, sp.end), (9, 9));
    }

    #[test]
    fn alias_bomb_is_bounded() {
        let mut src = String::from("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
        for i in 0..8 {
            let prev = (b'a' + i) as char;
            let cur = (b'b' + i) as char;
            let refs = vec![format!("*{prev}"); 10].join(",");
            let _ = writeln!(src, "{cur}: &{cur} [{refs}]");
        }
        let (n, d, _) = parse_str(&src);
        assert!(n.is_none());
        assert_eq!(d.iter().next().unwrap().code, Code::Aliases);
    }

    #[test]
    fn deep_nesting_is_bounded() {
        // The driver parses on a large stack; the test does the same.
        let run = || {
            let src = format!("a: {}{}\n", "[".repeat(200), "]".repeat(200));
            let (n, d, _) = parse_str(&src);
            assert!(n.is_none());
            assert_eq!(d.iter().next().unwrap().code, Code::Depth);
        };
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(run)
            .unwrap()
            .join()
            .unwrap();
    }
}
