//! `PromQL` text: the one entry to promql-parser for text a user wrote (a plan's expressions,
//! an imported rule file's), bounded before the parser sees it, and the one writer of `PromQL`
//! string literals.
//!
//! The parser and the walks over its tree recurse once per level of nesting, and its time
//! grows with the square of a chain of operators: `((((…))))` or `x + x + … + x` a hundred
//! thousand times fits in a plan file, and would overflow the stack or take hours. [`parse`]
//! refuses an expression nested deeper than [`MAX_DEPTH`] brackets, or with more than
//! [`MAX_OPERATORS`] operators (each a level of the parser's tree), before parsing it.
//!
//! **Invariant:** no text reaches promql-parser through [`parse`] beyond those bounds, counted
//! outside string literals and comments.

use std::fmt::Write as _;

use promql_parser::parser::Expr;

/// Deepest bracket nesting an expression may have. Real rules nest a few levels (7 at most in
/// the import corpus); the parser's recursion stays far within the stack of any thread.
pub const MAX_DEPTH: usize = 256;

/// Most operators an expression may have (`+`, `>=`, `and`…; a comparison of two characters
/// counts twice, as do the `=` of label matchers). The longest expression of the import
/// corpus, a sloth burn-rate alert, has 75.
pub const MAX_OPERATORS: usize = 1024;

/// Each byte of `q` outside string literals and `#` comments, with its offset. Quotes follow
/// `PromQL`: `"…"` and `'…'` with backslash escapes, `` `…` `` raw.
fn code(q: &str) -> impl Iterator<Item = (usize, u8)> + '_ {
    let b = q.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() {
            let c = b[i];
            i += 1;
            match c {
                b'"' | b'\'' | b'`' => {
                    while i < b.len() && b[i] != c {
                        if b[i] == b'\\' && c != b'`' {
                            i += 1;
                        }
                        i += 1;
                    }
                    i += 1;
                }
                b'#' => {
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                }
                _ => return Some((i - 1, c)),
            }
        }
        None
    })
}

/// Each bracket of `q` (`(`, `)`, `[`, `]`, `{`, `}`) outside string literals and `#` comments:
/// its byte offset and the bracket.
pub fn brackets(q: &str) -> impl Iterator<Item = (usize, u8)> + '_ {
    code(q).filter(|(_, c)| matches!(c, b'(' | b')' | b'[' | b']' | b'{' | b'}'))
}

/// The offset of each operator character (`+-*/%^<>=!`) and operator word (`and`, `or`,
/// `unless`, `atan2`) of `q`, outside string literals and comments.
fn operators(q: &str) -> impl Iterator<Item = usize> + '_ {
    let b = q.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b':';
    code(q).filter_map(move |(i, c)| {
        if b"+-*/%^<>=!".contains(&c) {
            return Some(i);
        }
        if c.is_ascii_alphabetic() && (i == 0 || !word(b[i - 1])) {
            let end = b[i..]
                .iter()
                .position(|&c| !word(c))
                .map_or(b.len(), |n| i + n);
            let w = &q[i..end];
            return ["and", "or", "unless", "atan2"]
                .iter()
                .any(|k| w.eq_ignore_ascii_case(k))
                .then_some(i);
        }
        None
    })
}

/// Where `q` goes beyond what [`parse`] gives the parser, and how: the byte offset of the
/// first bracket nested deeper than [`MAX_DEPTH`] or of the operator after the first
/// [`MAX_OPERATORS`], and what it is beyond (`brackets nested deeper than 256 levels`).
pub fn too_deep(q: &str) -> Option<(usize, String)> {
    let mut depth = 0usize;
    for (at, c) in brackets(q) {
        if matches!(c, b'(' | b'[' | b'{') {
            depth += 1;
            if depth > MAX_DEPTH {
                return Some((
                    at,
                    format!("brackets nested deeper than {MAX_DEPTH} levels"),
                ));
            }
        } else {
            depth = depth.saturating_sub(1);
        }
    }
    operators(q).nth(MAX_OPERATORS).map(|at| {
        (
            at,
            format!("more than {MAX_OPERATORS} operators, each a level of nesting to the parser"),
        )
    })
}

/// Parse `q` with promql-parser, unless it goes beyond [`too_deep`]'s bounds.
pub fn parse(q: &str) -> Result<Expr, String> {
    if let Some((_, why)) = too_deep(q) {
        return Err(why);
    }
    promql_parser::parser::parse(q)
}

/// The longest query whose answers [`remembered`] keeps.
const REMEMBERED_LEN: usize = 256;

/// `f` of what parsing `q` gives, kept in `memo` for the process when `q` is short.
/// promql-parser compiles the regular expression of every matcher (`code=~"5.."`) on each
/// parse, most of its cost, and several checks ask about the same expression (its type, its
/// unit, whether it yields without input), as do the plans of one tree. Each memo keeps small
/// answers, never the tree, and a bounded number of them: memory stays bounded whatever the
/// input.
pub(crate) fn remembered<T: Clone>(
    memo: &crate::par::Memo<String, T>,
    q: &str,
    f: impl FnOnce(Result<Expr, String>) -> T,
) -> T {
    let answer = || f(parse(q));
    if q.len() > REMEMBERED_LEN {
        return answer();
    }
    memo.get(q, answer)
}

/// `s` as a `PromQL` double-quoted string literal, read back as `s` by Prometheus and by
/// promql-parser: backslash, double quote, line feed, carriage return and tab escaped as `\\`,
/// `\"`, `\n`, `\r`, `\t`, other control characters as `\xNN`; everything else (non-ASCII
/// included) as it is, in UTF-8. Not Rust's `{:?}`, whose `\u{…}` and `\0` `PromQL` rejects.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_is_counted_outside_strings_and_comments() {
        let deep = |n: usize| format!("{}x{}", "(".repeat(n), ")".repeat(n));
        assert!(too_deep(&deep(MAX_DEPTH)).is_none());
        assert_eq!(too_deep(&deep(MAX_DEPTH + 1)).map(|d| d.0), Some(MAX_DEPTH));
        assert!(parse(&deep(MAX_DEPTH)).is_ok());
        assert!(parse(&deep(100_000)).is_err_and(|e| e.contains("brackets nested deeper")));
        // Brackets and operators in strings and comments are text.
        let quoted = format!(
            "x{{a=\"{0}\\\"{0}\", b='{0}', c=`{0}`}} # {0}\n",
            "(+".repeat(MAX_OPERATORS)
        );
        assert!(too_deep(&quoted).is_none(), "{quoted}");
        assert!(parse(&quoted).is_ok(), "{:?}", parse(&quoted).err());
    }

    #[test]
    fn operators_are_counted_as_levels() {
        let chain = |n: usize, op: &str| format!("x{}", format!(" {op} x").repeat(n));
        for op in ["+", "and", "OR", "unless", "atan2", "-"] {
            assert!(parse(&chain(MAX_OPERATORS, op)).is_ok(), "{op}");
            let long = chain(100_000, op);
            let (at, why) = too_deep(&long).expect(op);
            assert!(long[at..].starts_with(op), "{op}: {at}");
            assert!(why.starts_with("more than 1024 operators"), "{why}");
        }
        // Names that contain an operator word are not operators.
        let names = format!("sum({})", vec!["order_total"; 2000].join(", "));
        assert!(operators(&names).next().is_none());
    }

    #[test]
    fn quoted_strings_read_back_as_written() {
        for s in [
            "plain",
            r#"back\slash and "quotes""#,
            "line\nfeed\r\ttab\u{0}nul\u{7f}",
            "ñandú é\u{301} 日本 🙂",
        ] {
            let q = quote(s);
            let Ok(Expr::VectorSelector(vs)) = parse(&format!("x{{l={q}}}")) else {
                panic!("{q} does not parse");
            };
            let m = vs.matchers.matchers.iter().find(|m| m.name == "l");
            assert_eq!(m.map(|m| m.value.as_str()), Some(s), "{q}");
        }
        assert_eq!(quote("a\\b\"c\nd"), r#""a\\b\"c\nd""#);
        // Rust's Debug would write `\u{301}`, which PromQL does not read.
        assert_eq!(quote("e\u{301}"), "\"e\u{301}\"");
    }
}
