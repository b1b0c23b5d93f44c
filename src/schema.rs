//! The JSON Schema stage: every file is validated against `schemas/plan.schema.json` (the same
//! file editors use), and each violation is mapped back to the YAML node it concerns.
//!
//! Lowering checks the same rules with richer messages; the driver keeps a schema diagnostic
//! only where lowering said nothing about that text, so users see one report per problem while
//! the schema stays a real, independent gate (the test suite runs each on its own).
//!
//! **Invariant:** the schema is compiled once per process and never fetched: it is embedded.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::error::ValidationErrorKind as K;
use serde_json::Value as J;

use crate::diag::{Code, Diagnostic, Diagnostics, suggestion_help};
use crate::parse::{Node, to_json};
use crate::span::{FileId, Span};

/// The schema text, as committed.
pub const SCHEMA: &str = include_str!("../schemas/plan.schema.json");

fn schema_json() -> &'static J {
    static S: OnceLock<J> = OnceLock::new();
    S.get_or_init(|| serde_json::from_str(SCHEMA).unwrap_or(J::Bool(true)))
}

/// A validator for one definition (`Plan` or `Fragment`): validating against the top-level
/// `oneOf` would bury every error under "not valid under any of the given schemas".
fn validator_for(def: &str) -> Option<jsonschema::Validator> {
    let mut s = stripped();
    let obj = s.as_object_mut()?;
    obj.remove("oneOf");
    obj.remove("properties");
    obj.remove("required");
    obj.insert("$ref".to_owned(), J::String(format!("#/$defs/{def}")));
    options().build(&s).ok()
}

/// How validators are built. The `pattern` keyword is the schema's own ([`Pattern`]): its
/// patterns compile with `regex-lite`, several times faster than with `regex` (which the
/// validator's built-in keyword uses; `fancy-regex`, its default, is slower still), and the
/// 52 patterns were half of the schema's compile time, the longest step of checking one plan.
/// Identical patterns (a name's pattern is in most `propertyNames`) compile once.
fn options() -> jsonschema::ValidationOptions<'static> {
    let compiled: Arc<Mutex<HashMap<String, Arc<Pattern>>>> = Arc::default();
    jsonschema::draft202012::options()
        .with_pattern_options(jsonschema::PatternOptions::regex())
        .with_keyword("pattern", move |_, value, _| {
            let Some(pattern) = value.as_str() else {
                return Err(jsonschema::ValidationError::schema("a pattern is a string"));
            };
            let mut known = compiled
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(p) = known.get(pattern) {
                return Ok(Box::new(Shared(Arc::clone(p))));
            }
            let p = Arc::new(Pattern::new(pattern).ok_or_else(|| {
                jsonschema::ValidationError::schema(format!(
                    "`{pattern}` is not a pattern upkeep reads"
                ))
            })?);
            known.insert(pattern.to_owned(), Arc::clone(&p));
            Ok(Box::new(Shared(p)))
        })
}

/// The `pattern` keyword: a string matches the schema's regular expression (other values
/// pass, as the keyword says).
///
/// `regex-lite` compiles fast and matches slowly (no DFA); `regex` the other way round. A
/// pattern is matched with `regex-lite` until it has been used [`Pattern::UPGRADE`] times,
/// then compiled with `regex` and matched with it: one plan compiles no `regex`, a tree of
/// many plans matches its names and values with a DFA.
struct Pattern {
    /// The pattern as both engines read it ([`ecma_syntax`]).
    syntax: String,
    lite: regex_lite::Regex,
    uses: std::sync::atomic::AtomicU32,
    full: OnceLock<Option<regex::Regex>>,
}

impl Pattern {
    const UPGRADE: u32 = 128;

    fn new(ecma: &str) -> Option<Pattern> {
        let syntax = ecma_syntax(ecma)?;
        let lite = regex_lite::Regex::new(&syntax).ok()?;
        Some(Pattern {
            syntax,
            lite,
            uses: std::sync::atomic::AtomicU32::new(0),
            full: OnceLock::new(),
        })
    }

    fn is_match(&self, s: &str) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        if self.uses.load(Relaxed) < Self::UPGRADE {
            self.uses.fetch_add(1, Relaxed);
            return self.lite.is_match(s);
        }
        match self
            .full
            .get_or_init(|| regex::Regex::new(&self.syntax).ok())
        {
            Some(full) => full.is_match(s),
            None => self.lite.is_match(s),
        }
    }
}

/// A [`Pattern`] as each place of the schema that has it holds it.
struct Shared(Arc<Pattern>);

impl<'i> jsonschema::Keyword<'i> for Shared {
    fn validate(&self, instance: &'i J) -> Result<(), jsonschema::ValidationError<'i>> {
        if self.is_valid(instance) {
            Ok(())
        } else {
            Err(jsonschema::ValidationError::custom(format!(
                "does not match `{}`",
                self.0.syntax
            )))
        }
    }

    fn is_valid(&self, instance: &'i J) -> bool {
        instance.as_str().is_none_or(|s| self.0.is_match(s))
    }
}

/// ECMA-262's white space and line terminators: what `\s` matches in a JSON Schema pattern
/// (`regex-lite`'s `\s` is ASCII's).
const ECMA_SPACE: &str = r"\t\n\x0B\x0C\r \u{A0}\u{1680}\u{2000}-\u{200A}\u{2028}\u{2029}\u{202F}\u{205F}\u{3000}\u{FEFF}";

/// A JSON Schema (ECMA-262) pattern in the syntax `regex-lite` and `regex` read: `\s`, `\S`
/// and `.` are spelled out as ECMA-262 means them; `\d`, `\w`, `\b`, anchors, classes, groups and
/// counted repetition mean the same in both. `None` for what this translation does not
/// cover (`\S` inside a class, Unicode property classes, look-around, back-references): the
/// test `every_pattern_matches_as_ecma_262_says` holds the schema to it.
fn ecma_syntax(pattern: &str) -> Option<String> {
    let mut out = String::with_capacity(pattern.len() * 2);
    let mut chars = pattern.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                's' if in_class => out.push_str(ECMA_SPACE),
                's' => {
                    out.push('[');
                    out.push_str(ECMA_SPACE);
                    out.push(']');
                }
                'S' if !in_class => {
                    out.push_str("[^");
                    out.push_str(ECMA_SPACE);
                    out.push(']');
                }
                'S' | 'p' | 'P' | 'k' | 'c' | '1'..='9' => return None,
                e => {
                    out.push('\\');
                    out.push(e);
                }
            },
            '.' if !in_class => out.push_str(r"[^\n\r\u{2028}\u{2029}]"),
            '(' if chars.as_str().starts_with("?=")
                || chars.as_str().starts_with("?!")
                || chars.as_str().starts_with("?<") =>
            {
                return None;
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    Some(out)
}

static PLAN: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
static FRAGMENT: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();

/// The keywords only editors read.
const ANNOTATIONS: [&str; 5] = [
    "description",
    "markdownDescription",
    "examples",
    "title",
    "$comment",
];

/// Keywords whose value maps names to subschemas: the names are not keywords.
const NAMED: [&str; 4] = [
    "properties",
    "patternProperties",
    "$defs",
    "dependentSchemas",
];

/// [`SCHEMA`] as validators read it: parsed without the keywords only editors read
/// (descriptions, examples), a tenth less to compile. Dropping them while parsing never
/// allocates the schema's longest strings, nor a second copy of the whole tree. Diagnostics
/// still take their help lines from the full schema.
fn stripped() -> J {
    let mut json = serde_json::Deserializer::from_str(SCHEMA);
    serde::de::DeserializeSeed::deserialize(Stripped(Place::Schema), &mut json)
        .unwrap_or(J::Bool(true))
}

/// What a JSON value is, for [`Stripped`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// A schema: its annotation keywords are dropped.
    Schema,
    /// A map of names to schemas ([`NAMED`]).
    Named,
    /// Data (`const`, `enum`, `default`): kept whole.
    Data,
}

/// Parses a JSON value, dropping [`ANNOTATIONS`] where it is a schema.
struct Stripped(Place);

impl<'de> serde::de::DeserializeSeed<'de> for Stripped {
    type Value = J;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<J, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Stripped {
    type Value = J;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<J, E> {
        Ok(J::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<J, E> {
        Ok(J::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<J, E> {
        Ok(J::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<J, E> {
        Ok(serde_json::Number::from_f64(v).map_or(J::Null, J::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<J, E> {
        Ok(J::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<J, E> {
        Ok(J::String(v))
    }

    fn visit_unit<E>(self) -> Result<J, E> {
        Ok(J::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<J, A::Error> {
        let each = if self.0 == Place::Data {
            Place::Data
        } else {
            Place::Schema
        };
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Stripped(each))? {
            out.push(v);
        }
        Ok(J::Array(out))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<J, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let place = match self.0 {
                Place::Data => Place::Data,
                Place::Schema if ANNOTATIONS.contains(&key.as_str()) => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    continue;
                }
                Place::Schema if NAMED.contains(&key.as_str()) => Place::Named,
                Place::Schema if matches!(key.as_str(), "const" | "enum" | "default") => {
                    Place::Data
                }
                Place::Named | Place::Schema => Place::Schema,
            };
            let v = map.next_value_seed(Stripped(place))?;
            out.insert(key, v);
        }
        Ok(J::Object(out))
    }
}

fn validator(fragment: bool) -> Option<&'static jsonschema::Validator> {
    if fragment {
        FRAGMENT.get_or_init(|| validator_for("Fragment")).as_ref()
    } else {
        PLAN.get_or_init(|| validator_for("Plan")).as_ref()
    }
}

/// Start compiling the plan validator on a background thread, so it is ready (or nearly) by
/// the time the first file is parsed: compiling the schema costs several milliseconds, a third
/// of a one-file `check`. The thread is detached; nothing waits for it but [`validate`] and the
/// work handed to it with [`offload`].
///
/// Called as early as the command is known (before the arguments are parsed), and again by the
/// driver: only the first call starts the thread.
///
/// Once the plan validator is compiled, the thread runs what [`offload`] gives it: validating
/// a file is a tenth of checking one plan, and on the checking thread it was on the longest
/// path of a one-plan `check`. The fragment validator is compiled there too, by the first
/// fragment's validation: a plan that imports one (as most bundled plans do) would otherwise
/// compile it on the checking thread, and one that does not never compiles it.
pub fn prepare() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let spawned = std::thread::Builder::new()
            .name("upkeep-schema".to_owned())
            .spawn(move || {
                validator(false);
                while let Ok(job) = queue.recv() {
                    job();
                    WAITING.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                }
            });
        if spawned.is_ok() {
            let _ = WORKER.set(jobs);
        }
    });
}

/// Work for the schema thread.
type Job = Box<dyn FnOnce() + Send>;

/// Where [`offload`] sends work, once [`prepare`] has started the schema thread.
static WORKER: OnceLock<std::sync::mpsc::Sender<Job>> = OnceLock::new();

/// Jobs given to the schema thread and not finished.
static WAITING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many jobs may wait for the schema thread. When more would, the caller does the work
/// itself: analysing many files keeps every core busy anyway, and a longer queue would only
/// hold their trees in memory.
const QUEUE: usize = 2;

/// Run `job` on the schema thread (after the plan validator it compiles first), or hand it back
/// when that thread is not running or already has two jobs waiting. A job that panics
/// takes the schema thread with it: `job` catches what it must report.
pub fn offload<F: FnOnce() + Send + 'static>(job: F) -> Result<(), F> {
    use std::sync::atomic::Ordering::SeqCst;
    let Some(worker) = WORKER.get() else {
        return Err(job);
    };
    if WAITING.fetch_add(1, SeqCst) >= QUEUE {
        WAITING.fetch_sub(1, SeqCst);
        return Err(job);
    }
    // The thread never drops its end of the queue: it lives as long as the process.
    let _ = worker.send(Box::new(job));
    Ok(())
}

/// Whether validating `root` now would run at once rather than wait for the schema to compile.
pub fn ready(root: &Node) -> bool {
    if is_fragment(root) {
        FRAGMENT.get().is_some()
    } else {
        PLAN.get().is_some()
    }
}

fn is_fragment(root: &Node) -> bool {
    root.get("kind").and_then(Node::as_str) == Some("Fragment")
}

/// The whole schema, as editors use it (for tests and `upkeep schema`).
pub fn full_validator() -> Option<jsonschema::Validator> {
    options().build(schema_json()).ok()
}

/// Validate one file's tree; diagnostics point at YAML spans.
pub fn validate(file: FileId, root: &Node) -> Diagnostics {
    let mut out = Diagnostics::new();
    let Some(v) = validator(is_fragment(root)) else {
        return out;
    };
    let instance = to_json(root);
    // Most files are valid, and answering yes or no is several times cheaper than collecting
    // errors (no paths are built).
    if v.is_valid(&instance) {
        return out;
    }
    for err in v.iter_errors(&instance) {
        let pointer: Vec<String> = err.instance_path().iter().map(|s| s.to_string()).collect();
        let schema_path: Vec<String> = err.schema_path().iter().map(|s| s.to_string()).collect();
        let (node, key_span) = locate(file, root, &pointer);
        let path = dotted(&pointer);
        let place = if path.is_empty() {
            "the plan".to_owned()
        } else {
            format!("`{path}`")
        };
        let node_span = node.span(file);
        let d = match err.kind() {
            K::AdditionalProperties { unexpected } | K::UnevaluatedProperties { unexpected } => {
                let known = known_properties(&schema_path);
                let known: Vec<&str> = known.iter().map(String::as_str).collect();
                for name in unexpected {
                    let span = node.key(name).map_or(node_span, |k| k.span(file));
                    out.push(
                        Diagnostic::new(
                            Code::UnknownField,
                            format!("unknown field `{name}` in {place}"),
                        )
                        .at(span)
                        .label("unknown field")
                        .help(suggestion_help(
                            name,
                            &known,
                            "known fields",
                        )),
                    );
                }
                continue;
            }
            K::Required { property } => {
                let p = property.as_str().unwrap_or_default();
                Diagnostic::new(Code::Missing, format!("missing field `{p}` in {place}"))
                    .at(key_span)
                    .label(format!("`{p}` is required here"))
                    .help(format!("add `{p}:` to {place}"))
            }
            K::Type { kind } => Diagnostic::new(
                Code::Type,
                format!("{place} must be of type {}", type_name(kind)),
            )
            .at(node_span)
            .label("wrong type")
            .help(
                describe(&schema_path)
                    .unwrap_or_else(|| format!("write a value of type {}", type_name(kind))),
            ),
            K::Enum { options } => {
                let opts: Vec<String> = options
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|o| o.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let opts_ref: Vec<&str> = opts.iter().map(String::as_str).collect();
                let found = node.scalar_text().unwrap_or_default();
                Diagnostic::new(
                    Code::Type,
                    format!("`{found}` is not an allowed value for {place}"),
                )
                .at(node_span)
                .label("not allowed")
                .help(suggestion_help(&found, &opts_ref, "allowed values"))
            }
            K::Constant { expected_value } => Diagnostic::new(
                Code::Type,
                format!(
                    "{place} must be `{}`",
                    expected_value.as_str().unwrap_or_default()
                ),
            )
            .at(node_span)
            .label("unexpected value")
            .help(format!(
                "write `{}`",
                expected_value.as_str().unwrap_or_default()
            )),
            K::Pattern { .. } | K::Format { .. } | K::Custom { .. } => Diagnostic::new(
                Code::Type,
                format!(
                    "`{}` is not valid for {place}",
                    node.scalar_text().unwrap_or_default()
                ),
            )
            .at(node_span)
            .label("malformed value")
            .help(
                describe(&schema_path)
                    .unwrap_or_else(|| "see `upkeep schema` for the expected syntax".to_owned()),
            ),
            K::Minimum { .. }
            | K::Maximum { .. }
            | K::ExclusiveMinimum { .. }
            | K::ExclusiveMaximum { .. } => {
                Diagnostic::new(Code::Range, format!("{place} is out of range: {err}"))
                    .at(node_span)
                    .label("out of range")
                    .help(
                        describe(&schema_path)
                            .unwrap_or_else(|| "use a value inside the allowed range".to_owned()),
                    )
            }
            K::MinProperties { .. } => Diagnostic::new(Code::Missing, format!("{place} is empty"))
                .at(key_span)
                .label("needs a value")
                .help(describe(&schema_path).unwrap_or_else(|| "add one of its fields".to_owned())),
            K::MaxProperties { .. } | K::OneOfMultipleValid { .. } => Diagnostic::new(
                Code::Exclusive,
                format!("{place} gives more than one alternative"),
            )
            .at(key_span)
            .label("choose one")
            .help(
                describe(&schema_path)
                    .unwrap_or_else(|| "keep exactly one of the alternatives".to_owned()),
            ),
            K::PropertyNames { .. } => {
                Diagnostic::new(Code::Type, format!("invalid name in {place}"))
                    .at(node_span)
                    .label("invalid name")
                    .help("names use lowercase letters, digits, `_` and `-`")
            }
            K::MinItems { .. } | K::MaxItems { .. } | K::MinLength { .. } | K::MaxLength { .. } => {
                Diagnostic::new(Code::Range, format!("{place}: {err}"))
                    .at(node_span)
                    .label("wrong size")
                    .help(
                        describe(&schema_path).unwrap_or_else(|| "see `upkeep schema`".to_owned()),
                    )
            }
            _ => {
                Diagnostic::new(
                    Code::Type,
                    format!("{place} does not match the plan format"),
                )
                .at(node_span)
                .label("does not match")
                .help(describe(&schema_path).unwrap_or_else(|| {
                    "see `upkeep schema` and the plan format reference".to_owned()
                }))
            }
        };
        out.push(d);
    }
    out
}

/// The node at a JSON pointer, and the span of the key that introduced it (what to blame for
/// a missing field).
fn locate<'n>(file: FileId, root: &'n Node, pointer: &[String]) -> (&'n Node, Span) {
    let mut node = root;
    let mut key = root
        .as_map()
        .and_then(|m| m.first())
        .map_or(Span::file_start(file), |(k, _)| k.span(file));
    for seg in pointer {
        match &node.value {
            crate::parse::Value::Map(entries) => {
                let Some((k, v)) = entries
                    .iter()
                    .find(|(k, _)| k.scalar_text().as_deref() == Some(seg.as_str()))
                else {
                    break;
                };
                key = k.span(file);
                node = v;
            }
            crate::parse::Value::Seq(items) => {
                let Some(v) = seg.parse::<usize>().ok().and_then(|i| items.get(i)) else {
                    break;
                };
                key = v.span(file);
                node = v;
            }
            _ => break,
        }
    }
    (node, key)
}

fn dotted(pointer: &[String]) -> String {
    let mut s = String::new();
    for seg in pointer {
        if seg.parse::<usize>().is_ok() {
            let _ = write!(s, "[{seg}]");
        } else {
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(seg);
        }
    }
    s
}

/// One step from a node of a plan to a child: a key of a mapping, or an item of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step<'a> {
    Key(&'a str),
    Item,
}

/// What the schema says of the field at a path of a plan (or a fragment): its documentation
/// (the Markdown form when there is one), the name of its type in `$defs` (`Duration`,
/// `Schedule`…), which says how to read its value, the `$defs` types of its alternatives when
/// it is one of several (`oneOf`, `anyOf`: a name or a mapping), and the values it allows when
/// they are a list (`enum`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Field {
    pub doc: Option<String>,
    pub def: Option<String>,
    pub alternatives: Vec<String>,
    pub values: Vec<String>,
}

/// The schema of a plan or of a fragment.
fn document(fragment: bool) -> Option<&'static J> {
    schema_json().pointer(if fragment {
        "/$defs/Fragment"
    } else {
        "/$defs/Plan"
    })
}

/// The schema of the field at `path` (the same walk editors do for completion and hover:
/// `properties`, `additionalProperties`, `items`, and into `oneOf`/`anyOf` branches).
pub(crate) fn field(fragment: bool, path: &[Step<'_>]) -> Option<Field> {
    let mut cur = document(fragment)?;
    for step in path {
        cur = child(cur, *step, 0)?.0;
    }
    Some(describe_field(cur))
}

/// The fields the mapping at `path` can have, by name: the properties of its
/// schema and of each of its `oneOf`/`anyOf`/`allOf` branches, with what [`field`] says of
/// each. None for a mapping of names (`services`), whose keys are the plan's to choose.
pub(crate) fn fields(fragment: bool, path: &[Step<'_>]) -> Vec<(String, Field)> {
    let mut cur = document(fragment);
    for step in path {
        cur = cur.and_then(|c| child(c, *step, 0)).map(|(c, _)| c);
    }
    let mut out: Vec<(String, Field)> = Vec::new();
    if let Some(cur) = cur {
        properties(cur, 0, &mut out);
    }
    out
}

fn properties(node: &J, depth: usize, out: &mut Vec<(String, Field)>) {
    if depth > 8 {
        return;
    }
    let (node, _) = deref_named(node);
    if let Some(props) = node.get("properties").and_then(J::as_object) {
        for (name, schema) in props {
            if !out.iter().any(|(n, _)| n == name) {
                out.push((name.clone(), describe_field(schema)));
            }
        }
    }
    for branch in ["oneOf", "anyOf", "allOf"]
        .iter()
        .filter_map(|k| node.get(*k).and_then(J::as_array))
        .flatten()
    {
        properties(branch, depth + 1, out);
    }
}

/// Where the field at `path` is declared: the `$defs` object it is a property of, and the
/// property (`("Kpi", "service")` for `kpis.latency.service`). For an item of a list or an
/// entry of a mapping of names, the property that holds them (`("Service", "depends_on")` for
/// `services.api.depends_on[]`).
pub(crate) fn declared_in(fragment: bool, path: &[Step<'_>]) -> Option<(String, String)> {
    let mut cur = document(fragment)?;
    let mut site = None;
    for step in path {
        let (next, owner) = child(cur, *step, 0)?;
        if let (Step::Key(key), Some(def)) = (step, owner) {
            site = Some((def.to_owned(), (*key).to_owned()));
        }
        cur = next;
    }
    site
}

fn describe_field(cur: &J) -> Field {
    let text = |v: &J| {
        v.get("markdownDescription")
            .or_else(|| v.get("description"))
            .and_then(J::as_str)
            .map(str::to_owned)
    };
    let (target, def) = deref_named(cur);
    let values = target
        .get("enum")
        .and_then(J::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let alternatives = ["oneOf", "anyOf"]
        .iter()
        .filter_map(|k| target.get(*k).and_then(J::as_array))
        .flatten()
        .filter_map(|branch| deref_named(branch).1.map(str::to_owned))
        .collect();
    Field {
        doc: text(cur).or_else(|| text(target)),
        def: def.map(str::to_owned),
        alternatives,
        values,
    }
}

/// The schema a node stands for, following `$ref`s, and the `$defs` name of the last one.
fn deref_named(v: &J) -> (&J, Option<&str>) {
    let root = schema_json();
    let mut cur = v;
    let mut name = None;
    for _ in 0..8 {
        let Some(target) = cur.get("$ref").and_then(J::as_str) else {
            break;
        };
        match target.strip_prefix('#').and_then(|t| root.pointer(t)) {
            Some(next) => {
                name = target.strip_prefix("#/$defs/");
                cur = next;
            }
            None => break,
        }
    }
    (cur, name)
}

/// One step down the schema from `node`, and the `$defs` name of the object whose property
/// the step is (none for an item, an entry of `additionalProperties`, or an inline object).
fn child<'s>(node: &'s J, step: Step<'_>, depth: usize) -> Option<(&'s J, Option<&'s str>)> {
    if depth > 8 {
        return None;
    }
    let (node, name) = deref_named(node);
    let property = match step {
        Step::Key(key) => node.get("properties").and_then(|p| p.get(key)),
        Step::Item => None,
    };
    if let Some(p) = property {
        return Some((p, name));
    }
    let direct = match step {
        Step::Key(_) => node.get("additionalProperties").filter(|a| a.is_object()),
        Step::Item => node.get("items").filter(|i| i.is_object()),
    };
    if let Some(d) = direct {
        return Some((d, None));
    }
    ["oneOf", "anyOf", "allOf"]
        .iter()
        .filter_map(|k| node.get(*k).and_then(J::as_array))
        .flatten()
        .find_map(|branch| child(branch, step, depth + 1))
}

/// Walk the schema along a keyword path, following `$ref`s.
fn walk<'s>(path: &[String]) -> Option<&'s J> {
    let root = schema_json();
    let mut cur = root;
    for seg in path {
        if seg == "$ref" {
            let target = cur.get("$ref")?.as_str()?;
            cur = root.pointer(target.strip_prefix('#')?)?;
            continue;
        }
        cur = match cur {
            J::Object(m) => m.get(seg)?,
            J::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn deref(v: &J) -> &J {
    let mut cur = v;
    for _ in 0..8 {
        match cur
            .get("$ref")
            .and_then(J::as_str)
            .and_then(|t| t.strip_prefix('#'))
            .and_then(|t| schema_json().pointer(t))
        {
            Some(next) => cur = next,
            None => break,
        }
    }
    cur
}

fn known_properties(schema_path: &[String]) -> Vec<String> {
    let parent = &schema_path[..schema_path.len().saturating_sub(1)];
    walk(parent)
        .map(deref)
        .and_then(|s| s.get("properties"))
        .and_then(J::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// A help line from the schema: the description and first example of the failing subschema.
fn describe(schema_path: &[String]) -> Option<String> {
    let parent = &schema_path[..schema_path.len().saturating_sub(1)];
    let s = deref(walk(parent)?);
    let desc = s.get("description").and_then(J::as_str)?;
    let first = desc
        .split(". ")
        .next()
        .unwrap_or(desc)
        .trim_end_matches('.');
    let example = s
        .get("examples")
        .and_then(J::as_array)
        .and_then(|a| a.first())
        .map(|e| match e {
            J::String(s) => format!(", e.g. `{s}`"),
            other if !other.is_object() && !other.is_array() => format!(", e.g. `{other}`"),
            _ => String::new(),
        });
    Some(format!("{first}{}", example.unwrap_or_default()))
}

fn type_name(kind: &jsonschema::error::TypeKind) -> String {
    match kind {
        jsonschema::error::TypeKind::Single(t) => t.to_string(),
        jsonschema::error::TypeKind::Multiple(ts) => {
            let names: Vec<String> = ts.iter().map(|t| t.to_string()).collect();
            names.join(" or ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema without annotations, copied from the parsed tree: the oracle for
    /// [`stripped`], which drops them while parsing.
    fn without_annotations(schema: &J) -> J {
        match schema {
            J::Object(m) => J::Object(
                m.iter()
                    .filter(|(k, _)| !ANNOTATIONS.contains(&k.as_str()))
                    .map(|(k, v)| {
                        let v = match v {
                            J::Object(named) if NAMED.contains(&k.as_str()) => J::Object(
                                named
                                    .iter()
                                    .map(|(n, s)| (n.clone(), without_annotations(s)))
                                    .collect(),
                            ),
                            _ if matches!(k.as_str(), "const" | "enum" | "default") => v.clone(),
                            _ => without_annotations(v),
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            ),
            J::Array(a) => J::Array(a.iter().map(without_annotations).collect()),
            other => other.clone(),
        }
    }

    #[test]
    fn the_schema_parsed_without_annotations_is_the_full_schema_without_them() {
        let full = schema_json();
        let s = stripped();
        assert_eq!(s, without_annotations(full));
        // Something was dropped, and names that are also keywords were kept.
        assert!(!s.to_string().contains("\"description\":\""));
        assert_ne!(&s, full);
    }

    fn patterns(v: &J, out: &mut std::collections::BTreeSet<String>) {
        match v {
            J::Object(m) => {
                for (k, v) in m {
                    match (k.as_str(), v) {
                        ("pattern", J::String(p)) => {
                            out.insert(p.clone());
                        }
                        _ => patterns(v, out),
                    }
                }
            }
            J::Array(a) => a.iter().for_each(|v| patterns(v, out)),
            _ => {}
        }
    }

    fn strings(v: &J, out: &mut std::collections::BTreeSet<String>) {
        match v {
            J::Object(m) => {
                for (k, v) in m {
                    out.insert(k.clone());
                    strings(v, out);
                }
            }
            J::Array(a) => a.iter().for_each(|v| strings(v, out)),
            J::String(s) => {
                out.insert(s.clone());
            }
            J::Number(n) => {
                out.insert(n.to_string());
            }
            _ => {}
        }
    }

    /// Every pattern of the schema, in both engines ([`Pattern`]), accepts exactly the strings the
    /// validator's built-in ECMA-262 engine accepts: every key and value of the bundled plans
    /// and the test fixtures, each also with ECMA-262 white space (a no-break space, a line
    /// separator, a byte-order mark), a carriage return and a newline around it.
    #[test]
    fn every_pattern_matches_as_ecma_262_says() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut found = std::collections::BTreeSet::new();
        patterns(schema_json(), &mut found);
        assert!(found.len() >= 20, "{found:?}");
        let mut samples = std::collections::BTreeSet::new();
        let mut dirs = vec![root.join("plans"), root.join("tests/fixtures")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("read_dir").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    let Ok(text) = std::fs::read_to_string(&path) else {
                        continue;
                    };
                    let source = crate::source::SourceFile::new(path.clone(), String::new(), text);
                    let mut ignored = Diagnostics::new();
                    if let Some(node) = crate::parse::parse(FileId(0), &source, &mut ignored) {
                        strings(&to_json(&node), &mut samples);
                    }
                }
            }
        }
        assert!(samples.len() > 2000, "{}", samples.len());
        let mut variants = Vec::new();
        for s in &samples {
            variants.push(s.clone());
            for ws in ["\u{a0}", "\u{2028}", "\u{feff}", "\r", "\n", "\t", "\u{85}"] {
                variants.push(format!("{ws}{s}"));
                variants.push(format!("{s}{ws}"));
                if let Some((a, b)) = s.split_once(' ') {
                    variants.push(format!("{a}{ws}{b}"));
                }
            }
        }
        for p in &found {
            let ours = Pattern::new(p).unwrap_or_else(|| panic!("`{p}` does not compile"));
            let full = regex::Regex::new(&ours.syntax).expect("regex compiles it");
            let builtin = jsonschema::draft202012::options()
                .build(&serde_json::json!({ "pattern": p }))
                .expect("the built-in compiles it");
            for s in &variants {
                let want = builtin.is_valid(&J::String(s.clone()));
                assert_eq!(ours.lite.is_match(s), want, "`{p}` on {s:?}");
                assert_eq!(full.is_match(s), want, "`{p}` on {s:?} with regex");
            }
        }
    }

    /// A string that breaks a pattern is the same diagnostic as with the built-in keyword.
    #[test]
    fn a_pattern_mismatch_is_a_type_diagnostic_with_the_field_s_help() {
        let source = crate::source::SourceFile::new(
            "x.yaml".into(),
            "x.yaml".to_owned(),
            "apiVersion: upkeep/v1\nkind: Plan\nmetadata: {name: Bad Name}\n".to_owned(),
        );
        let mut diags = Diagnostics::new();
        let root = crate::parse::parse(FileId(0), &source, &mut diags).expect("parses");
        let found = validate(FileId(0), &root);
        let d = found.iter().next().expect("a diagnostic");
        assert_eq!(d.code, Code::Type);
        assert_eq!(d.message, "`Bad Name` is not valid for `metadata.name`");
        assert!(d.help.as_deref().is_some_and(|h| !h.is_empty()), "{d:?}");
    }
}
