//! `PromQL`: every `expr`, error-ratio expression and label selector is parsed with
//! promql-parser; an error points at the offending character inside the YAML string.
//!
//! The parser reports no positions, so the position is found here: lexer messages name the bad
//! token; an unclosed bracket is found by matching brackets; otherwise the culprit is the first
//! token after which no completion of the prefix parses.

use super::Cx;
use crate::diag::{Code, Diagnostic};
use crate::model::{Indicator, SloIndicator};
use crate::span::Sp;
use promql_parser::parser::value::ValueType;

/// How upkeep uses a piece of plan `PromQL`, which decides what it may be.
#[derive(Clone, Copy, PartialEq)]
enum Use {
    /// Label matchers inside `{…}`.
    Selector,
    /// A whole recording rule (`expr:`): an instant vector or a scalar, comments allowed.
    Alone,
    /// Wrapped in more `PromQL` (`sum(rate(…[5m]))`): an instant vector, on one logical line.
    Embedded,
}

/// Text wrapped around a label selector so it parses as a vector selector.
const SELECTOR_PREFIX: &str = "__selector__{";

pub(super) fn check(cx: &mut Cx<'_>) {
    let mut exprs: Vec<(&Sp<String>, Use, String)> = Vec::new();
    for (name, kpi) in cx.plan.kpis.iter() {
        let at = format!("kpis.{}.indicator", name.value);
        match &kpi.indicator.value {
            Indicator::Expr(e) => exprs.push((e, Use::Alone, format!("{at}.expr"))),
            Indicator::ErrorRatio { errors, total, .. } => {
                exprs.push((errors, Use::Embedded, format!("{at}.error_ratio.errors")));
                exprs.push((total, Use::Embedded, format!("{at}.error_ratio.total")));
            }
            Indicator::Latency {
                selector: Some(s), ..
            } => exprs.push((s, Use::Selector, format!("{at}.latency.selector"))),
            Indicator::Throughput {
                selector: Some(s), ..
            } => exprs.push((s, Use::Selector, format!("{at}.throughput.selector"))),
            _ => {}
        }
    }
    if let Some(h) = &cx.plan.metadata.hosts {
        exprs.push((h, Use::Selector, "metadata.hosts".to_owned()));
    }
    for (name, service) in cx.plan.services.iter() {
        if let Some(h) = &service.hosts {
            exprs.push((h, Use::Selector, format!("services.{}.hosts", name.value)));
        }
    }
    for (name, slo) in cx.plan.slos.iter() {
        let at = format!("slos.{}.indicator", name.value);
        match &slo.indicator.value {
            SloIndicator::ErrorRatio { errors, total } => {
                exprs.push((errors, Use::Embedded, format!("{at}.error_ratio.errors")));
                exprs.push((total, Use::Embedded, format!("{at}.error_ratio.total")));
            }
            SloIndicator::Latency {
                selector: Some(s), ..
            } => exprs.push((s, Use::Selector, format!("{at}.latency.selector"))),
            _ => {}
        }
    }
    for (text, usage, path) in exprs {
        let selector = usage == Use::Selector;
        let (query, shift) = if selector {
            (
                format!("{SELECTOR_PREFIX}{}}}", text.value),
                SELECTOR_PREFIX.len(),
            )
        } else {
            (text.value.clone(), 0)
        };
        let message = match parse(&query) {
            Ok(value_type) => {
                if usage != Use::Selector {
                    misused(cx, text, usage, &path, value_type);
                }
                continue;
            }
            Err(message) => message,
        };
        if let Some((at, why)) = crate::value::promql::too_deep(&query) {
            let at = at.saturating_sub(shift).min(text.value.len());
            let span = cx.within(text.span, Some(&text.value), at, at + 1);
            cx.diags.push(
                Diagnostic::new(Code::Depth, format!("`{path}` has {why}"))
                    .at(span)
                    .label("too deep from here")
                    .help("remove redundant parentheses, or record part of the expression as a KPI of its own"),
            );
            continue;
        }
        let (start, end) = locate(&query, &message);
        let clamp = |i: usize| i.saturating_sub(shift).min(text.value.len());
        let (start, end) = (clamp(start), clamp(end.max(start + 1)));
        let span = cx.within(text.span, Some(&text.value), start, end.max(start));
        let what = if selector {
            "label selector"
        } else {
            "PromQL expression"
        };
        let help = if selector {
            "a selector is a list of label matchers such as `job=\"api\", handler!=\"/health\"`; upkeep adds the metric name".to_owned()
        } else {
            hint(&message)
        };
        cx.diags.push(
            Diagnostic::new(
                Code::PromqlSyntax,
                format!("invalid {what} in `{path}`: {message}"),
            )
            .at(span)
            .label("here")
            .help(help),
        );
    }
}

/// What parsing `query` gives: its type, or the parser's message (remembered for the
/// process, see [`crate::value::promql::remembered`]).
fn parse(query: &str) -> Result<ValueType, String> {
    /// At most this many answers: a few megabytes whatever the input.
    static KNOWN: crate::par::Memo<String, Result<ValueType, String>> =
        crate::par::Memo::new(16_384);
    crate::value::promql::remembered(&KNOWN, query, |ast| ast.map(|ast| ast.value_type()))
}

/// An expression that parses but that the rules upkeep writes around it cannot use: a string,
/// a range vector, a scalar where a vector is summed, or a `#` comment that would swallow what
/// follows it once wrapped.
fn misused(cx: &mut Cx<'_>, text: &Sp<String>, usage: Use, path: &str, got: ValueType) {
    let wanted = match usage {
        Use::Alone => matches!(got, ValueType::Vector | ValueType::Scalar),
        _ => got == ValueType::Vector,
    };
    if !wanted {
        let span = cx.within(text.span, Some(&text.value), 0, text.value.len());
        let (what, help) = match got {
            ValueType::Matrix => (
                "a range vector",
                "drop the `[…]` range, or take a function of it such as `rate(…[5m])`",
            ),
            ValueType::String => (
                "a string literal",
                "write a metric selector such as `http_requests_total{code=~\"5..\"}`, without quotes around it",
            ),
            _ => (
                "a number",
                "write a metric selector such as `http_requests_total{code=~\"5..\"}`; upkeep takes its rate and sums it",
            ),
        };
        let needs = if usage == Use::Alone {
            "an instant vector or a number"
        } else {
            "an instant vector"
        };
        cx.diags.push(
            Diagnostic::new(
                Code::PromqlSyntax,
                format!("`{path}` is {what}; Prometheus needs {needs} here"),
            )
            .at(span)
            .label(what)
            .help(help),
        );
        return;
    }
    if usage == Use::Embedded {
        if let Some(at) = comment_at(&text.value) {
            let span = cx.within(text.span, Some(&text.value), at, text.value.len());
            cx.diags.push(
                Diagnostic::new(
                    Code::PromqlSyntax,
                    format!("`{path}` ends in a `#` comment, which would swallow the PromQL upkeep writes after it"),
                )
                .at(span)
                .label("a comment")
                .help("move the comment out of the string: a YAML comment after the value says the same"),
            );
        }
    }
}

/// Where a `#` comment starts in `q`: a `#` token, outside quoted strings.
fn comment_at(q: &str) -> Option<usize> {
    tokens(q)
        .into_iter()
        .find(|&(start, _)| q.as_bytes()[start] == b'#')
        .map(|(start, _)| start)
}

fn hint(message: &str) -> String {
    if message.contains("unclosed left parenthesis") {
        "add the missing `)`".to_owned()
    } else if message.contains("unknown function") {
        "check the function name against the PromQL functions (`rate`, `increase`, `histogram_quantile`, `avg_over_time`, …)".to_owned()
    } else if message.contains("duration") {
        "durations in PromQL are like `5m`, `1h30m`".to_owned()
    } else {
        "fix the expression here; `promtool check rules` gives the same verdict".to_owned()
    }
}

/// A token of the `PromQL` text, for locating errors.
fn tokens(q: &str) -> Vec<(usize, usize)> {
    let b = q.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c == b'"' || c == b'\'' || c == b'`' {
            i += 1;
            while i < b.len() && b[i] != c {
                // Backquoted strings are raw: a backslash escapes nothing.
                if b[i] == b'\\' && c != b'`' {
                    i += 1;
                }
                i += 1;
            }
            i = (i + 1).min(b.len());
        } else if c.is_ascii_alphanumeric() || c == b'_' || c == b':' || c == b'.' {
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b':' || b[i] == b'.')
            {
                i += 1;
            }
        } else if matches!(
            b.get(i..i + 2),
            Some(b"==" | b"!=" | b"=~" | b"!~" | b">=" | b"<=")
        ) {
            i += 2;
        } else {
            i += q
                .get(i..)
                .and_then(|r| r.chars().next())
                .map_or(1, char::len_utf8);
        }
        // A backslash before a multi-byte character must not end a token inside it.
        while i < b.len() && !q.is_char_boundary(i) {
            i += 1;
        }
        out.push((start, i));
    }
    out
}

/// The byte range of the offending text in `q`, given the parser's message, on character
/// boundaries whatever the text.
fn locate(q: &str, message: &str) -> (usize, usize) {
    let (mut s, mut e) = locate_bytes(q, message);
    s = s.min(q.len());
    while !q.is_char_boundary(s) {
        s -= 1;
    }
    e = e.clamp(s, q.len());
    while !q.is_char_boundary(e) {
        e += 1;
    }
    (s, e)
}

fn locate_bytes(q: &str, message: &str) -> (usize, usize) {
    let toks = tokens(q);
    let end_of_input = || {
        let e = toks.last().map_or(q.len(), |t| t.1);
        (e.saturating_sub(1), e)
    };
    // Messages that name the culprit.
    for marker in [
        "syntax: ",
        "name '",
        "character inside braces: '",
        "unexpected character: '",
    ] {
        if let Some(i) = message.find(marker) {
            let rest = &message[i + marker.len()..];
            let word = rest.trim_end_matches('\'');
            let word = word.split('\'').next().unwrap_or(word);
            if !word.is_empty() {
                if let Some(pos) = q.find(word) {
                    return (pos, pos + word.len());
                }
            }
        }
    }
    if message.contains("unclosed left parenthesis")
        || message.contains("unclosed left bracket")
        || message.contains("unclosed left brace")
    {
        if let Some(pos) = unmatched_open(q) {
            return (pos, pos + 1);
        }
    }
    if message.contains("unexpected end of input") {
        return end_of_input();
    }
    // The first token after which the prefix can no longer be completed.
    for (k, &(start, end)) in toks.iter().enumerate() {
        if k > 0 && !q.get(..end).is_some_and(viable) {
            return (start, end);
        }
    }
    end_of_input()
}

/// Whether some completion of `prefix` parses: a filler, the closing brackets it needs, and a
/// tail for a dangling operator or modifier.
fn viable(prefix: &str) -> bool {
    let closers: String = open_brackets(prefix)
        .iter()
        .rev()
        .map(|&b| match b {
            b'(' => ')',
            b'[' => ']',
            _ => '}',
        })
        .collect();
    const FILLERS: [&str; 9] = [
        "",
        "[5m]",
        " 1",
        " x",
        " x[5m]",
        " 1, x[5m]",
        "=\"\"",
        "\"",
        " (1)",
    ];
    const TAILS: [&str; 4] = ["", " 1", " x", " by (x) (1)"];
    FILLERS.iter().any(|f| {
        TAILS
            .iter()
            .any(|t| crate::value::promql::parse(&format!("{prefix}{f}{closers}{t}")).is_ok())
    })
}

/// The brackets still open at the end of `q`, outermost first (quotes and comments respected).
fn open_brackets(q: &str) -> Vec<u8> {
    unclosed(q).into_iter().map(|(_, b)| b).collect()
}

/// The position of the first bracket that is never closed.
fn unmatched_open(q: &str) -> Option<usize> {
    unclosed(q).first().map(|&(at, _)| at)
}

/// The brackets of `q` never closed, outermost first: position and bracket.
fn unclosed(q: &str) -> Vec<(usize, u8)> {
    let mut stack = Vec::new();
    for (at, c) in crate::value::promql::brackets(q) {
        if matches!(c, b'(' | b'[' | b'{') {
            stack.push((at, c));
        } else {
            stack.pop();
        }
    }
    stack
}

#[cfg(test)]
mod tests {
    use super::*;

    fn culprit(q: &str) -> String {
        let msg = promql_parser::parser::parse(q).expect_err("invalid");
        let (s, e) = locate(q, &msg);
        q[s..e].to_owned()
    }

    #[test]
    fn comments_are_found_outside_strings_only() {
        assert_eq!(comment_at(r#"up{job="a"} # x"#), Some(12));
        assert_eq!(comment_at(r#"up{job="a#b"}"#), None);
        assert_eq!(comment_at(r"up{job='a\'#'}"), None);
        assert_eq!(comment_at("up{job=`a\\`} # x"), Some(13));
    }

    #[test]
    fn locates_errors() {
        assert_eq!(culprit("sum(rate(x[5m])"), "(");
        assert_eq!(culprit("rate(x[5x])"), "5x");
        assert_eq!(culprit("foo(x)"), "foo");
        assert_eq!(culprit("x > > 3"), ">");
        assert_eq!(culprit("rate(x[5m]) by (job)"), "by");
        assert_eq!(culprit("up{job=\"a\" == 0"), "0");
    }

    /// Non-ASCII text anywhere in a query (a hostile-input finding: `√2` panicked).
    #[test]
    fn locating_never_splits_a_character() {
        for q in [
            "√2",
            "up{job=ñ}",
            "up{job=\"\\ñ",
            "rate(ñ[5m])",
            "x ≥ 3",
            "sum(é",
            "\"\\é",
            "🙂",
            "up{🙂=\"a\"}",
        ] {
            let Err(msg) = promql_parser::parser::parse(q) else {
                continue;
            };
            let (s, e) = locate(q, &msg);
            assert!(q.get(s..e).is_some(), "{q:?}: {s}..{e}");
        }
    }
}
