//! Rendering diagnostics for people (miette's graphical report) and for machines (JSON, GitHub
//! workflow commands, SARIF 2.1.0).
//!
//! **Invariant:** rendering is a pure function of the diagnostics and the source map; the same
//! input renders byte-identically (no timestamps, no absolute paths that were not given).

use std::fmt::{self, Write as _};

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, SourceCode, SourceSpan,
    SpanContents,
};
use serde::Serialize;

use super::{Code, Diagnostic, Severity};
use crate::source::SourceMap;
use crate::span::Span;

/// Output format of `upkeep check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Github,
    Sarif,
}

/// Options for the human format.
#[derive(Clone, Copy, Debug)]
pub struct HumanOptions {
    pub color: bool,
    pub width: usize,
    /// Most reports drawn in full, with their source lines; the others take one line each
    /// (`0`: no limit). Errors are drawn before warnings get what is left.
    pub draw_limit: usize,
}

/// Reports drawn in full by default: a screenful or two of the first problems, like a
/// compiler's error limit, but nothing is dropped: the rest are listed one line each.
pub const DRAW_LIMIT: usize = 100;

impl Default for HumanOptions {
    fn default() -> Self {
        HumanOptions {
            color: false,
            width: 100,
            draw_limit: DRAW_LIMIT,
        }
    }
}

struct NamedText<'a> {
    name: &'a str,
    file: &'a crate::source::SourceFile,
}

impl SourceCode for NamedText<'_> {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        // miette finds the context by scanning its source from the first byte: given the whole
        // file, every label would cost the file's length. It is given the lines around the span
        // instead, and its answer is moved back to the file's lines and offsets.
        let (base, base_line, text) =
            self.file
                .lines_around(span.offset(), span.len(), before, after);
        let local = SourceSpan::new((span.offset() - base).into(), span.len());
        let inner = text.read_span(&local, before, after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.to_owned(),
            inner.data(),
            SourceSpan::new((inner.span().offset() + base).into(), inner.span().len()),
            inner.line() + base_line,
            inner.column(),
            inner.line_count() + base_line,
        )))
    }
}

struct Report<'a> {
    d: &'a Diagnostic,
    source: Option<NamedText<'a>>,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl std::error::Error for Report<'_> {}

fn source_span(span: Span) -> SourceSpan {
    SourceSpan::new((span.start as usize).into(), span.len())
}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.d.code.name()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.d
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let primary = self.d.span?;
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            self.d.label.clone(),
            source_span(primary),
        )];
        for l in &self.d.labels {
            // miette draws one source per report; labels in other files are named in the help.
            if l.span.file == primary.file {
                labels.push(LabeledSpan::new_with_span(
                    Some(l.message.clone()),
                    source_span(l.span),
                ));
            }
        }
        Some(Box::new(labels.into_iter()))
    }
}

/// Notes for labels that point into another file than the primary span (miette shows one
/// source per report).
fn foreign_label_notes(d: &Diagnostic, sources: &SourceMap) -> Vec<String> {
    let Some(primary) = d.span else {
        return Vec::new();
    };
    d.labels
        .iter()
        .filter(|l| l.span.file != primary.file)
        .map(|l| {
            let f = sources.get(l.span.file);
            let (line, col) = f.line_col(l.span.start);
            format!("{}:{line}:{col}: {}", f.name, l.message)
        })
        .collect()
}

/// Most labels the graphical report draws: its layout is quadratic in the labels of one
/// report, and past a screenful more arrows say nothing. The other formats list every label.
pub const MAX_DRAWN_LABELS: usize = 50;

/// The graphical report of one diagnostic.
pub fn human_one(d: &Diagnostic, sources: &SourceMap, opts: HumanOptions) -> String {
    let trimmed;
    let d = if d.labels.len() > MAX_DRAWN_LABELS {
        let mut t = d.clone();
        let more = t.labels.len() - MAX_DRAWN_LABELS;
        t.labels.truncate(MAX_DRAWN_LABELS);
        let note = format!("… and {more} more places; `--format json` lists every one");
        t.help = Some(match t.help.take() {
            Some(h) => format!("{h}\n{note}"),
            None => note,
        });
        trimmed = t;
        &trimmed
    } else {
        d
    };
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(opts.width)
        .with_word_separator(textwrap::WordSeparator::AsciiSpace)
        .with_links(false);
    let notes = foreign_label_notes(d, sources);
    let mut owned;
    let d = if notes.is_empty() && d.span.is_some() || d.file.is_none() && notes.is_empty() {
        d
    } else {
        owned = d.clone();
        if d.span.is_none() {
            if let Some(file) = &d.file {
                owned.message = format!("{file}: {}", d.message);
            }
        }
        for n in notes {
            owned.help = Some(match owned.help.take() {
                Some(h) => format!("{h}\n{n}"),
                None => n,
            });
        }
        &owned
    };
    let source = d.span.map(|s| {
        let f = sources.get(s.file);
        NamedText {
            name: &f.name,
            file: f,
        }
    });
    let report = Report { d, source };
    let mut out = String::new();
    if handler.render_report(&mut out, &report).is_err() {
        // A span that does not fit its source would be a compiler bug; still say something.
        let _ = writeln!(
            out,
            "{}[{}]: {}",
            d.severity.as_str(),
            d.code.name(),
            d.message
        );
    }
    out
}

/// Every diagnostic as graphical reports followed by a summary line.
pub fn human(
    diags: &[Diagnostic],
    sources: &SourceMap,
    files: usize,
    opts: HumanOptions,
) -> String {
    written(|out| human_to(out, diags, sources, files, opts))
}

/// Below this many reports in a chunk, they are drawn on the calling thread.
const PARALLEL_REPORTS: usize = 8;

/// [`human`], written to `out` as it is rendered: reports are rendered a few hundred at a
/// time on every core, so a run with a hundred thousand warnings neither holds them all nor
/// renders them on one core.
///
/// Past `opts.draw_limit`, reports take one line each ([`short_one`]): drawing is most of the
/// cost of a report of thousands, and no one reads the thousandth snippet. Errors are drawn
/// before warnings: with `N` errors, the first `limit - N` warnings are drawn too.
pub fn human_to(
    out: &mut impl std::io::Write,
    diags: &[Diagnostic],
    sources: &SourceMap,
    files: usize,
    opts: HumanOptions,
) -> std::io::Result<()> {
    let limit = if opts.draw_limit == 0 {
        usize::MAX
    } else {
        opts.draw_limit
    };
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diags.len() - errors;
    let (mut errors_left, mut warnings_left) = (limit.min(errors), limit.saturating_sub(errors));
    let short = diags.len() - errors_left - warnings_left.min(warnings);
    for chunk in diags.chunks(256) {
        let pairs: Vec<(&Diagnostic, bool)> = chunk
            .iter()
            .map(|d| {
                let left = match d.severity {
                    Severity::Error => &mut errors_left,
                    Severity::Warning => &mut warnings_left,
                };
                let draw = *left > 0;
                *left = left.saturating_sub(1);
                (d, draw)
            })
            .collect();
        // A drawn report ends in its own blank line; a one-line report does not.
        let one = |&(d, draw): &(&Diagnostic, bool)| {
            if draw {
                human_one(d, sources, opts) + "\n"
            } else {
                short_one(d, sources)
            }
        };
        // A few reports are drawn sooner than a thread starts (and its 64 MiB stack is mapped,
        // and unmapped with a TLB flush on every core).
        let rendered: Vec<String> = if pairs.len() < PARALLEL_REPORTS {
            pairs.iter().map(one).collect()
        } else {
            crate::par::map(&pairs, one)
        };
        for r in rendered {
            out.write_all(r.as_bytes())?;
        }
    }
    if short > 0 {
        let (drawn, reports) = (diags.len() - short, plural(short, "report"));
        writeln!(
            out,
            "\n{reports} after the first {drawn} took one line each: `--draw-limit 0` draws \
             every one, `--format json` gives each with its help and labels"
        )?;
    }
    out.write_all(summary(diags, files).as_bytes())?;
    out.write_all(b"\n")
}

/// One report on one line, as compilers print them: `file:line:column: severity[code]:
/// message`. Control characters from the plan are escaped: the line stays one line.
pub fn short_one(d: &Diagnostic, sources: &SourceMap) -> String {
    let mut line = String::new();
    if let Some(f) = file_of(d, sources) {
        push_escaped(&mut line, f);
        if let Some(span) = d.span {
            let r = region(span, sources);
            let _ = write!(line, ":{}:{}", r.line, r.column);
        }
        line.push_str(": ");
    }
    let _ = write!(line, "{}[{}]: ", d.severity.as_str(), d.code.name());
    push_escaped(&mut line, &d.message);
    line.push('\n');
    line
}

fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
}

/// `1 file`, `2 files`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// "checked 5 files: 2 errors, 1 warning".
pub fn summary(diags: &[Diagnostic], files: usize) -> String {
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diags.len() - errors;
    if diags.is_empty() {
        format!("checked {}: no problems", plural(files, "file"))
    } else {
        format!(
            "checked {}: {}, {}",
            plural(files, "file"),
            plural(errors, "error"),
            plural(warnings, "warning")
        )
    }
}

/// A position as users count it: 1-based line and column (Unicode scalar values); the end is
/// exclusive, as in SARIF.
#[derive(Serialize, Clone, Copy)]
struct Region {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

fn region(span: Span, sources: &SourceMap) -> Region {
    let f = sources.get(span.file);
    let (line, column) = f.line_col(span.start);
    let (end_line, end_column) = f.line_col(span.end);
    Region {
        line,
        column,
        end_line,
        end_column,
    }
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'static str,
    severity: &'static str,
    message: &'a str,
    file: Option<&'a str>,
    line: Option<usize>,
    column: Option<usize>,
    end_line: Option<usize>,
    end_column: Option<usize>,
    help: Option<&'a str>,
    labels: Vec<JsonLabel<'a>>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    diagnostics: Each<'a, JsonDiagnostic<'a>>,
    files: usize,
    errors: usize,
    warnings: usize,
}

/// A list serialized as it is made, one item at a time: a report of a hundred thousand
/// diagnostics is written without holding it, or its items, in memory.
struct Each<'a, T> {
    diags: &'a [Diagnostic],
    sources: &'a SourceMap,
    item: fn(&'a Diagnostic, &'a SourceMap) -> T,
}

impl<T: Serialize> Serialize for Each<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.diags.iter().map(|d| (self.item)(d, self.sources)))
    }
}

fn file_of<'a>(d: &'a Diagnostic, sources: &'a SourceMap) -> Option<&'a str> {
    d.span
        .map(|s| sources.get(s.file).name.as_str())
        .or(d.file.as_deref())
}

fn json_item<'a>(d: &'a Diagnostic, sources: &'a SourceMap) -> JsonDiagnostic<'a> {
    let r = d.span.map(|s| region(s, sources));
    JsonDiagnostic {
        code: d.code.name(),
        severity: d.severity.as_str(),
        message: &d.message,
        file: file_of(d, sources),
        line: r.map(|r| r.line),
        column: r.map(|r| r.column),
        end_line: r.map(|r| r.end_line),
        end_column: r.map(|r| r.end_column),
        help: d.help.as_deref(),
        labels: d
            .labels
            .iter()
            .map(|l| {
                let r = region(l.span, sources);
                JsonLabel {
                    file: &sources.get(l.span.file).name,
                    line: r.line,
                    column: r.column,
                    end_line: r.end_line,
                    end_column: r.end_column,
                    message: &l.message,
                }
            })
            .collect(),
    }
}

/// The JSON object of SPEC §7.
pub fn json(diags: &[Diagnostic], sources: &SourceMap, files: usize) -> String {
    written(|out| json_to(out, diags, sources, files))
}

/// [`json`], written to `out` as it is made.
pub fn json_to(
    out: &mut impl std::io::Write,
    diags: &[Diagnostic],
    sources: &SourceMap,
    files: usize,
) -> std::io::Result<()> {
    let report = JsonReport {
        diagnostics: Each {
            diags,
            sources,
            item: json_item,
        },
        files,
        errors: diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count(),
        warnings: diags
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count(),
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    out.write_all(b"\n")
}

fn gh_escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn gh_escape_prop(s: &str) -> String {
    gh_escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands, one per diagnostic.
pub fn github(diags: &[Diagnostic], sources: &SourceMap) -> String {
    written(|out| github_to(out, diags, sources))
}

/// [`github`], written to `out` one command at a time.
pub fn github_to(
    out: &mut impl std::io::Write,
    diags: &[Diagnostic],
    sources: &SourceMap,
) -> std::io::Result<()> {
    for d in diags {
        let kind = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut props = Vec::new();
        if let Some(f) = file_of(d, sources) {
            props.push(format!("file={}", gh_escape_prop(f)));
        }
        if let Some(span) = d.span {
            let r = region(span, sources);
            props.push(format!("line={}", r.line));
            props.push(format!("col={}", r.column));
            props.push(format!("endLine={}", r.end_line));
            if r.end_line == r.line {
                props.push(format!("endColumn={}", r.end_column));
            }
        }
        props.push(format!("title={}", gh_escape_prop(d.code.name())));
        let mut msg = d.message.clone();
        if let Some(h) = &d.help {
            msg.push_str("\nhelp: ");
            msg.push_str(h);
        }
        writeln!(
            out,
            "::{kind} {}::{}",
            props.join(","),
            gh_escape_data(&msg)
        )?;
    }
    Ok(())
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn sarif_location(span: Span, sources: &SourceMap) -> serde_json::Value {
    let r = region(span, sources);
    serde_json::json!({
        "physicalLocation": {
            "artifactLocation": { "uri": sources.get(span.file).name },
            "region": {
                "startLine": r.line,
                "startColumn": r.column,
                "endLine": r.end_line,
                "endColumn": r.end_column,
            }
        }
    })
}

/// A SARIF 2.1.0 log with one run; every code is a rule.
pub fn sarif(diags: &[Diagnostic], sources: &SourceMap) -> String {
    written(|out| sarif_to(out, diags, sources))
}

/// One SARIF result.
fn sarif_result(d: &Diagnostic, sources: &SourceMap) -> serde_json::Value {
    let mut text = d.message.clone();
    if let Some(h) = &d.help {
        let _ = write!(text, "\nhelp: {h}");
    }
    let mut result = serde_json::json!({
        "ruleId": d.code.name(),
        "ruleIndex": Code::ALL.iter().position(|c| *c == d.code).unwrap_or(0),
        "level": sarif_level(d.severity),
        "message": { "text": text },
    });
    if let Some(span) = d.span {
        result["locations"] = serde_json::json!([sarif_location(span, sources)]);
    } else if let Some(file) = &d.file {
        result["locations"] = serde_json::json!([{
            "physicalLocation": { "artifactLocation": { "uri": file } }
        }]);
    }
    if !d.labels.is_empty() {
        let related: Vec<serde_json::Value> = d
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let mut loc = sarif_location(l.span, sources);
                loc["id"] = serde_json::json!(i);
                loc["message"] = serde_json::json!({ "text": l.message });
                loc
            })
            .collect();
        result["relatedLocations"] = serde_json::Value::Array(related);
    }
    result
}

/// [`sarif`], written to `out` as it is made: the results are made one at a time into the
/// stream, in the place the rest of the log leaves for them.
pub fn sarif_to(
    out: &mut impl std::io::Write,
    diags: &[Diagnostic],
    sources: &SourceMap,
) -> std::io::Result<()> {
    let rules: Vec<serde_json::Value> = Code::ALL
        .iter()
        .map(|c| {
            serde_json::json!({
                "id": c.name(),
                "shortDescription": { "text": c.summary() },
                "fullDescription": { "text": c.summary() },
                "help": { "text": format!("upkeep explain {}", c.name()), "markdown": c.explain() },
                "defaultConfiguration": { "level": sarif_level(c.default_severity()) },
            })
        })
        .collect();
    let log = serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "upkeep",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": [],
        }]
    });
    // The log with an empty `results`, then the results streamed into that place. Pretty
    // printing gives `"results": []` on a line of its own, at a known indentation.
    let text = serde_json::to_string_pretty(&log).map_err(std::io::Error::other)?;
    let marker = "\n      \"results\": []";
    let Some(at) = text.find(marker) else {
        return Err(std::io::Error::other("SARIF log without results"));
    };
    out.write_all(&text.as_bytes()[..at])?;
    out.write_all(b"\n      \"results\": [")?;
    for (i, d) in diags.iter().enumerate() {
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        let item = serde_json::to_string_pretty(&sarif_result(d, sources))
            .map_err(std::io::Error::other)?;
        // Indent the item to its depth in the log (eight spaces).
        for (k, line) in item.lines().enumerate() {
            if k > 0 {
                out.write_all(b"\n")?;
            }
            out.write_all(b"        ")?;
            out.write_all(line.as_bytes())?;
        }
    }
    if !diags.is_empty() {
        out.write_all(b"\n      ")?;
    }
    out.write_all(b"]")?;
    out.write_all(&text.as_bytes()[at + marker.len()..])?;
    out.write_all(b"\n")
}

/// What a `*_to` writer writes, as a string.
fn written(write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut out = Vec::new();
    let _ = write(&mut out);
    String::from_utf8(out).unwrap_or_default()
}
