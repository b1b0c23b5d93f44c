//! Regular expressions another program runs: the blackbox exporter matches a health check's
//! response body with Go's `regexp` (RE2 syntax). A plan's pattern is read with
//! `regex-syntax`, whose language is close to RE2's, and refused wherever the two differ
//! (class set operations, the `x`, `u` and `R` flags, `\<` and `\b{start}`, `\u` escapes,
//! Unicode classes beyond the general categories), where RE2 refuses what Rust takes (a
//! repetition of a repetition, counts over 1000), and beyond a size no health check needs.
//! Look-around and backreferences, which neither takes, are refused by the parser itself.
//!
//! **Invariant:** what [`parse`] accepts, Go's `regexp.Compile` accepts.

use regex_syntax::ast::{self, Ast, ClassSetItem, Visitor};

use super::{Result, ValueError};

/// The longest pattern accepted, in bytes.
pub const MAX_LEN: usize = 1024;

/// How deep groups and repetitions may nest.
const NEST_LIMIT: u32 = 32;

/// RE2's largest repetition count (`{1000}`); also the most that nested counts may multiply to.
const MAX_REPEAT: u32 = 1000;

/// The Unicode general categories Go's `regexp` knows (`\pL`, `\p{Lu}`), and `Any`.
const CATEGORIES: &[&str] = &[
    "Any", "C", "Cc", "Cf", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me", "Mn",
    "N", "Nd", "Nl", "No", "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "S", "Sc", "Sk", "Sm",
    "So", "Z", "Zl", "Zp", "Zs",
];

/// `text` checked as an RE2 pattern: the text itself, or where and why RE2 (or this bound)
/// refuses it.
pub fn parse(text: &str) -> Result<String> {
    if text.is_empty() {
        return Err(ValueError::whole(
            text,
            "the pattern is empty",
            "write what the body must contain, e.g. `\"status\":\\s*\"ok\"`",
        ));
    }
    if text.len() > MAX_LEN {
        return Err(ValueError::new(
            MAX_LEN,
            text.len(),
            format!("the pattern is longer than {MAX_LEN} bytes"),
            "match a shorter, distinctive part of the body",
        ));
    }
    let ast = ast::parse::ParserBuilder::new()
        .nest_limit(NEST_LIMIT)
        .octal(false)
        .build()
        .parse(text)
        .map_err(|e| {
            let s = e.span();
            ValueError::new(
                s.start.offset,
                s.end.offset,
                format!("not a regular expression: {}", e.kind()),
                help(e.kind()),
            )
        })?;
    ast::visit(
        &ast,
        Re2 {
            text,
            counts: Vec::new(),
        },
    )?;
    Ok(text.to_owned())
}

fn help(kind: &ast::ErrorKind) -> &'static str {
    use ast::ErrorKind as K;
    match kind {
        K::UnsupportedLookAround => {
            "RE2 has no look-around: match the text itself, e.g. `\"ready\":\\s*true`"
        }
        K::UnsupportedBackreference => {
            "RE2 has no backreferences: write the repeated text out, or escape the digit"
        }
        K::NestLimitExceeded(_) => "nest fewer groups and repetitions",
        _ => "escape the punctuation you mean literally with `\\`, e.g. `\\(` or `\\.`",
    }
}

/// Walks a parsed pattern for what RE2 refuses. `counts` holds the repetition counts of the
/// repetitions being walked, outermost first.
struct Re2<'t> {
    text: &'t str,
    counts: Vec<u32>,
}

impl Re2<'_> {
    fn refuse(&self, span: &ast::Span, message: &str, help: &str) -> ValueError {
        let (start, end) = (span.start.offset, span.end.offset);
        ValueError::new(
            start,
            end,
            format!(
                "`{}` {message}",
                self.text.get(start..end).unwrap_or(self.text)
            ),
            help,
        )
    }
}

impl Visitor for Re2<'_> {
    type Output = ();
    type Err = ValueError;

    fn finish(self) -> Result<()> {
        Ok(())
    }

    fn visit_pre(&mut self, ast: &Ast) -> Result<()> {
        match ast {
            Ast::Flags(f) => flags(self, &f.flags)?,
            Ast::Group(g) => match &g.kind {
                ast::GroupKind::NonCapturing(f) => flags(self, f)?,
                ast::GroupKind::CaptureName {
                    starts_with_p,
                    name,
                } => {
                    if !starts_with_p {
                        return Err(self.refuse(
                            &g.span,
                            "is a named group older RE2 versions do not read",
                            "write `(?P<name>…)`",
                        ));
                    }
                    if !name
                        .name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        return Err(self.refuse(
                            &name.span,
                            "is not a group name RE2 takes",
                            "name groups with letters, digits and `_`",
                        ));
                    }
                }
                ast::GroupKind::CaptureIndex(_) => {}
            },
            Ast::Assertion(a) => {
                use ast::AssertionKind as K;
                if !matches!(
                    a.kind,
                    K::StartLine
                        | K::EndLine
                        | K::StartText
                        | K::EndText
                        | K::WordBoundary
                        | K::NotWordBoundary
                ) {
                    return Err(self.refuse(
                        &a.span,
                        "is a word boundary RE2 does not have",
                        "write `\\b`",
                    ));
                }
            }
            Ast::Literal(l) => literal(self, l)?,
            Ast::ClassUnicode(c) => unicode(self, c)?,
            Ast::Repetition(r) => {
                if matches!(*r.ast, Ast::Repetition(_)) {
                    return Err(self.refuse(
                        &r.op.span,
                        "repeats a repetition, which RE2 refuses",
                        "group the inner repetition first, e.g. `(?:a+)*`",
                    ));
                }
                let count = match &r.op.kind {
                    ast::RepetitionKind::Range(range) => match *range {
                        ast::RepetitionRange::Exactly(n)
                        | ast::RepetitionRange::AtLeast(n)
                        | ast::RepetitionRange::Bounded(_, n) => n,
                    },
                    _ => 1,
                };
                let total = self
                    .counts
                    .iter()
                    .try_fold(count.max(1), |acc, c| acc.checked_mul((*c).max(1)));
                if count > MAX_REPEAT || total.is_none_or(|t| t > MAX_REPEAT) {
                    return Err(self.refuse(
                        &r.op.span,
                        &format!("repeats more than RE2's {MAX_REPEAT} times"),
                        "repeat less, or match the text without counting it",
                    ));
                }
                self.counts.push(count);
            }
            _ => {}
        }
        Ok(())
    }

    fn visit_post(&mut self, ast: &Ast) -> Result<()> {
        if matches!(ast, Ast::Repetition(_)) {
            self.counts.pop();
        }
        Ok(())
    }

    fn visit_class_set_item_pre(&mut self, item: &ClassSetItem) -> Result<()> {
        match item {
            ClassSetItem::Bracketed(b) => Err(self.refuse(
                &b.span,
                "is a class inside a class, which RE2 reads as literal brackets",
                "escape the inner `[` as `\\[`",
            )),
            ClassSetItem::Literal(l) => literal(self, l),
            ClassSetItem::Range(r) => {
                literal(self, &r.start)?;
                literal(self, &r.end)
            }
            ClassSetItem::Unicode(c) => unicode(self, c),
            _ => Ok(()),
        }
    }

    fn visit_class_set_binary_op_pre(&mut self, op: &ast::ClassSetBinaryOp) -> Result<()> {
        Err(self.refuse(
            &op.span,
            "is a class operation (`&&`, `--`, `~~`) RE2 does not have",
            "write the class's characters out, e.g. `[a-c]`",
        ))
    }
}

fn flags(re: &Re2<'_>, f: &ast::Flags) -> Result<()> {
    for item in &f.items {
        if let ast::FlagsItemKind::Flag(flag) = &item.kind
            && !matches!(
                flag,
                ast::Flag::CaseInsensitive
                    | ast::Flag::MultiLine
                    | ast::Flag::DotMatchesNewLine
                    | ast::Flag::SwapGreed
            )
        {
            return Err(re.refuse(
                &item.span,
                "is a flag RE2 does not have",
                "use only the flags `i`, `m`, `s` and `U`",
            ));
        }
    }
    Ok(())
}

fn literal(re: &Re2<'_>, l: &ast::Literal) -> Result<()> {
    match &l.kind {
        ast::LiteralKind::HexFixed(
            ast::HexLiteralKind::UnicodeShort | ast::HexLiteralKind::UnicodeLong,
        )
        | ast::LiteralKind::HexBrace(
            ast::HexLiteralKind::UnicodeShort | ast::HexLiteralKind::UnicodeLong,
        ) => Err(re.refuse(
            &l.span,
            "is an escape RE2 does not have",
            "write the character as `\\x{…}`",
        )),
        ast::LiteralKind::Special(ast::SpecialLiteralKind::Space) => Err(re.refuse(
            &l.span,
            "is an escape RE2 does not have",
            "write the space itself",
        )),
        _ => Ok(()),
    }
}

fn unicode(re: &Re2<'_>, c: &ast::ClassUnicode) -> Result<()> {
    let known = match &c.kind {
        ast::ClassUnicodeKind::OneLetter(l) => CATEGORIES.contains(&l.to_string().as_str()),
        ast::ClassUnicodeKind::Named(n) => CATEGORIES.contains(&n.as_str()),
        ast::ClassUnicodeKind::NamedValue { .. } => false,
    };
    if known {
        return Ok(());
    }
    Err(re.refuse(
        &c.span,
        "is a Unicode class this check does not know RE2 to have",
        "use a general category such as `\\pL` or `\\p{Lu}`, or write the characters as a class",
    ))
}

/// A pattern that matches `text` literally (RE2 reads any escaped punctuation as itself).
pub fn literal_text(text: &str) -> String {
    regex_syntax::escape(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(p: &str) -> (String, String) {
        let e = parse(p).expect_err(p);
        (p[e.start..e.end].to_owned(), e.message)
    }

    #[test]
    fn takes_what_health_checks_write() {
        for p in [
            r#""model_loaded":\s*true"#,
            r#"(?i)"status"\s*:\s*"(ok|healthy)""#,
            r"^\{.*\}$",
            r"[[:alpha:]]+\d{1,3}\b",
            r"(?P<v>\pL+)\.x{2,}?",
            r"\x41\x{263a}",
        ] {
            assert_eq!(parse(p).as_deref(), Ok(p), "{p}");
        }
        // RE2's quoting, which regex-syntax does not take: refused, which is safe.
        assert!(parse(r"\Qa.b\E").is_err());
    }

    #[test]
    fn refuses_what_re2_refuses_at_its_text() {
        assert_eq!(refused(r"a(?=b)").0, "(?=");
        assert!(refused(r"(a)\1").1.contains("backreference"));
        assert_eq!(refused(r"[a&&b]").0, "a&&b");
        assert_eq!(refused(r"(?x)a b").0, "x");
        assert_eq!(refused(r"\<word").0, r"\<");
        assert_eq!(refused(r"\u0041").0, r"\u0041");
        assert_eq!(refused(r"\p{Greek}").0, r"\p{Greek}");
        assert_eq!(refused(r"a{1001}").0, "{1001}");
        assert_eq!(refused(r"(?:a{100}){100}").0, "{100}");
        assert_eq!(refused(r"(?<n>a)").0, "(?<n>a)");
        assert_eq!(refused(r"[a[b]]").0, "[b]");
        assert_eq!(refused("(").0, "(");
        assert!(parse("").is_err());
        assert!(parse(&"a".repeat(MAX_LEN + 1)).is_err());
        assert!(parse(&"(".repeat(100)).is_err());
    }
}
