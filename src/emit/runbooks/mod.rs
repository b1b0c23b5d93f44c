//! Runbook documentation: `runbooks/NAME/index.md` (overview, severity, on-call, services,
//! KPIs and SLOs, calendar, checklists, backups, budget, policies), one page per runbook at
//! `runbooks/NAME/RUNBOOK.md` (where `runbook_url` annotations point) and a postmortem
//! template, rendered from minijinja templates.
//!
//! - The templates are `templates/*.md.j2`, compiled in; `--templates DIR` replaces any of them
//!   by file name (`Options::templates`). Templates receive plain data (`context`) and escape
//!   plan text with the filters `md`, `heading`, `code`, `cell_code` and `codeblock`.
//! - A template that does not compile or render is a `template/error` diagnostic naming the
//!   template file and line; pages of the other templates are still returned, but the caller
//!   writes nothing while errors are reported.
//! - Undefined values are errors (strict mode), so a misspelt field in an override fails
//!   instead of printing nothing.
//! - Output is normalised: no trailing blanks, at most one blank line in a row outside code
//!   blocks, one final newline.

mod calendar;
pub(crate) mod context;
pub(crate) mod markdown;

use std::path::PathBuf;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, Value};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior};
use serde::Serialize;

use super::{Artifact, Context};
use crate::diag::{Code, Diagnostic, Diagnostics};

/// The built-in templates, by the file name an override uses.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    (
        "index.md.j2",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/templates/index.md.j2"
        )),
    ),
    (
        "runbook.md.j2",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/templates/runbook.md.j2"
        )),
    ),
    (
        "postmortem.md.j2",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/templates/postmortem.md.j2"
        )),
    ),
];

fn string_arg(v: &Value) -> Result<Option<String>, Error> {
    if v.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            "the filter got an undefined value",
        ));
    }
    if v.is_none() {
        return Ok(None);
    }
    Ok(Some(
        v.as_str().map_or_else(|| v.to_string(), str::to_owned),
    ))
}

/// The fuel of one render of an override template. The built-in pages of the bundled plans and
/// of the benchmark's synthetic plan take between 10,000 and 30,000; this leaves a hundredfold
/// headroom and bounds a runaway override at about a tenth of a second and 128 MiB. The
/// built-in templates run without fuel: their work grows with the plan, which the input limits
/// bound, and a plan that checks must build (9,000 tasks with checklists took more than this).
pub(crate) const TEMPLATE_FUEL: u64 = 2_000_000;

/// Fuel added per byte of plan text when overrides are in use. The index of 9,000 tasks with
/// checklists (1 MB, near the node limit) fits in the base plus 2 units per byte: eightfold
/// headroom.
const FUEL_PER_BYTE: u64 = 16;

fn environment<'a>(cx: &'a Context<'_>, diags: &mut Diagnostics) -> Environment<'a> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Byte ranges in errors, for diagnostics that point into an override.
    env.set_debug(!cx.opts.template_files.is_empty());
    if let Ok(syntax) = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    env.set_auto_escape_callback(|_| AutoEscape::None);
    // A bound on what one page may cost (instructions, and about 64 bytes of data per unit), so
    // an override with a runaway loop is a diagnostic, not a hang or an out-of-memory kill.
    // Built-in pages render alongside overrides in the same environment: the bound grows with
    // the plan's text, so the pages of any plan that checks still fit.
    if !cx.opts.templates.is_empty() {
        let text: usize = cx.sources.iter().map(|(_, f)| f.text.len()).sum();
        env.set_fuel(Some(TEMPLATE_FUEL + FUEL_PER_BYTE * text as u64));
    }
    env.add_filter("md", |v: Value| {
        Ok(string_arg(&v)?
            .map(|s| markdown::text(&s))
            .unwrap_or_default())
    });
    env.add_filter("heading", |v: Value| {
        Ok(string_arg(&v)?
            .map(|s| markdown::heading(&s))
            .unwrap_or_default())
    });
    env.add_filter("code", |v: Value| {
        Ok(string_arg(&v)?
            .map(|s| markdown::code(&s, false))
            .unwrap_or_default())
    });
    env.add_filter("cell_code", |v: Value| {
        Ok(string_arg(&v)?
            .map(|s| markdown::code(&s, true))
            .unwrap_or_default())
    });
    env.add_filter("codeblock", |v: Value, lang: Option<String>| {
        Ok(string_arg(&v)?
            .map(|s| markdown::block(&s, lang.as_deref().unwrap_or("")))
            .unwrap_or_default())
    });
    env.add_filter("anchor", |v: Value| {
        Ok(string_arg(&v)?
            .map(|s| markdown::anchor(&s))
            .unwrap_or_default())
    });
    for (name, source) in TEMPLATES {
        if !cx.opts.templates.contains_key(*name) {
            if let Err(e) = env.add_template(name, source) {
                report(cx, diags, name, &e);
            }
        }
    }
    for (name, source) in &cx.opts.templates {
        if let Err(e) = env.add_template(name, source) {
            report(cx, diags, name, &e);
        }
    }
    env
}

/// A template error as a diagnostic, once per template and message: at the exact text of an
/// override file (the range minijinja reports, or the whole line), else naming the template.
fn report(cx: &Context<'_>, diags: &mut Diagnostics, template: &str, e: &Error) {
    let name = e.name().unwrap_or(template).to_owned();
    let mut message = format!("{} in template `{name}`", e.kind());
    if let Some(detail) = e.detail() {
        message.push_str(": ");
        message.push_str(detail);
    }
    let file = cx.opts.template_files.get(&name).copied();
    let span = file.and_then(|id| {
        let source = cx.sources.get(id);
        let len = source.text.len();
        let (start, end) = match (e.range(), e.line()) {
            (Some(r), _) if r.start <= r.end && r.end <= len => (r.start, r.end),
            (_, Some(line)) if line >= 1 => {
                let start = source.offset_of(line, 1).min(len);
                let end = source.text[start..].find('\n').map_or(len, |n| start + n);
                (start, end)
            }
            _ => (0, 0),
        };
        let fits = |i: usize| source.text.is_char_boundary(i);
        (fits(start) && fits(end)).then(|| crate::span::Span::new(id, start, end))
    });
    if diags
        .iter()
        .any(|d| d.code == Code::TemplateError && d.message == message && d.span == span)
    {
        return;
    }
    let help = if e.kind() == ErrorKind::OutOfFuel {
        format!(
            "a page may take {TEMPLATE_FUEL} units of work (an instruction, or about 64 bytes of output), plus {FUEL_PER_BYTE} per byte of plan text; the built-in pages of the largest bundled plan take under 30000. Look for a loop over a large `range` or a nested loop here"
        )
    } else {
        "fix the template there; the built-in templates in `templates/` show every field a template receives".to_owned()
    };
    let d = Diagnostic::new(Code::TemplateError, message).help(help);
    diags.push(match (span, e.line()) {
        (Some(span), _) => d.at(span).label(e.kind().to_string()),
        (None, Some(line)) => d.in_file(format!("{name}:{line}")),
        (None, None) => d.in_file(name),
    });
}

/// Trailing blanks removed, blank lines outside code blocks collapsed, headings between blank
/// lines, one final newline.
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut fence: Option<usize> = None;
    let mut blank = true;
    for line in text.lines() {
        let line = line.trim_end();
        let ticks = line.trim_start().chars().take_while(|c| *c == '`').count();
        match fence {
            None if ticks >= 3 => fence = Some(ticks),
            Some(n) if ticks >= n && line.trim().chars().all(|c| c == '`') => fence = None,
            _ => {}
        }
        let in_code = fence.is_some() || ticks >= 3;
        let heading = !in_code && line.starts_with('#');
        if line.is_empty() && !in_code {
            if blank {
                continue;
            }
            blank = true;
        } else {
            if heading && !blank {
                out.push('\n');
            }
            blank = false;
        }
        out.push_str(line);
        out.push('\n');
        if heading {
            out.push('\n');
            blank = true;
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    if out.is_empty() {
        out.push('\n');
    }
    out
}

fn render<S: Serialize>(
    cx: &Context<'_>,
    env: &Environment<'_>,
    template: &str,
    data: &S,
    diags: &mut Diagnostics,
) -> Option<String> {
    // A template that failed to compile was reported already.
    let t = env.get_template(template).ok()?;
    match t.render(Value::from(Serde(data))) {
        Ok(text) => Some(normalise(&text)),
        Err(e) => {
            report(cx, diags, template, &e);
            None
        }
    }
}

/// The "generated" line of every page (an HTML comment must not hold `--`).
fn generated(cx: &Context<'_>) -> String {
    cx.header().join(" ").replace("--", "- -")
}

pub(crate) fn emit(cx: &Context<'_>, diags: &mut Diagnostics) -> Vec<Artifact> {
    let env = environment(cx, diags);
    let plan = cx.plan;
    let dir = format!("runbooks/{}", cx.name());
    let header = generated(cx);
    let files = context::Files::of(plan);
    let mut out = Vec::new();
    let index = context::index(plan, &header);
    if let Some(text) = render(cx, &env, "index.md.j2", &index, diags) {
        out.push(Artifact {
            path: PathBuf::from(format!("{dir}/{}", files.index)),
            content: text,
        });
    }
    for page in context::runbook_pages(plan, &header) {
        if let Some(text) = render(cx, &env, "runbook.md.j2", &page, diags) {
            out.push(Artifact {
                path: PathBuf::from(format!("{dir}/{}.md", page.runbook.name)),
                content: text,
            });
        }
    }
    let pm = context::postmortem(plan, &header);
    if let Some(text) = render(cx, &env, "postmortem.md.j2", &pm, diags) {
        out.push(Artifact {
            path: PathBuf::from(format!("{dir}/{}", files.postmortem)),
            content: text,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn normalises_blank_lines_outside_code() {
        assert_eq!(normalise("a  \n\n\n\nb\n\n"), "a\n\nb\n");
        assert_eq!(
            normalise("```sh\nx\n\n\ny\n```\n\n\nz"),
            "```sh\nx\n\n\ny\n```\n\nz\n"
        );
        assert_eq!(normalise("\n\n# T\n"), "# T\n");
        assert_eq!(normalise("a\n## H\nb\n"), "a\n\n## H\n\nb\n");
        assert_eq!(normalise("```\n# comment\n```\n"), "```\n# comment\n```\n");
    }
}
