//! A small YAML writer for generated files: block style, two-space indentation, strings quoted
//! only when YAML would read them as something else, comments where a reader needs them.
//!
//! Output is a pure function of the value: keys keep the order they were inserted in.

use std::fmt::Write as _;

/// A YAML value to write.
#[derive(Clone, Debug, PartialEq)]
pub enum Yaml {
    Null,
    Bool(bool),
    Int(i64),
    /// A number already in its canonical text (`0.3`, `1e-05` is never produced).
    Num(String),
    Str(String),
    Seq(Vec<Yaml>),
    Map(Vec<(String, Yaml)>),
    /// A value preceded by comment lines (`# …`).
    Commented(Vec<String>, Box<Yaml>),
    /// Lines already written by [`block`], spliced in at the current indentation: sequence
    /// items inside a [`Yaml::Seq`], or a whole non-empty collection as a mapping's value. The
    /// same rule groups go into the rules file and every environment's Helm values; they are
    /// written once.
    Block(std::sync::Arc<str>),
}

impl Yaml {
    pub fn str(s: impl Into<String>) -> Yaml {
        Yaml::Str(s.into())
    }

    pub fn map() -> Yaml {
        Yaml::Map(Vec::new())
    }

    /// Add an entry to a mapping (no-op on other values).
    #[must_use]
    pub fn with(mut self, key: &str, value: impl Into<Yaml>) -> Yaml {
        if let Yaml::Map(m) = &mut self {
            m.push((key.to_owned(), value.into()));
        }
        self
    }

    /// Add an entry when the value is present.
    #[must_use]
    pub fn with_opt<T: Into<Yaml>>(self, key: &str, value: Option<T>) -> Yaml {
        match value {
            Some(v) => self.with(key, v),
            None => self,
        }
    }

    pub fn push(&mut self, key: &str, value: impl Into<Yaml>) {
        if let Yaml::Map(m) = self {
            m.push((key.to_owned(), value.into()));
        }
    }

    /// The value of `key` in a mapping.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Yaml> {
        match self {
            Yaml::Map(entries) => entries.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    #[must_use]
    pub fn commented(self, lines: Vec<String>) -> Yaml {
        if lines.is_empty() {
            self
        } else {
            Yaml::Commented(lines, Box::new(self))
        }
    }

    fn is_collection(&self) -> bool {
        match self {
            Yaml::Seq(s) => !s.is_empty(),
            Yaml::Map(m) => !m.is_empty(),
            Yaml::Commented(_, v) => v.is_collection(),
            Yaml::Block(b) => !b.is_empty(),
            _ => false,
        }
    }
}

impl From<&str> for Yaml {
    fn from(s: &str) -> Self {
        Yaml::Str(s.to_owned())
    }
}
impl From<String> for Yaml {
    fn from(s: String) -> Self {
        Yaml::Str(s)
    }
}
impl From<&String> for Yaml {
    fn from(s: &String) -> Self {
        Yaml::Str(s.clone())
    }
}
impl From<bool> for Yaml {
    fn from(b: bool) -> Self {
        Yaml::Bool(b)
    }
}
impl From<i64> for Yaml {
    fn from(i: i64) -> Self {
        Yaml::Int(i)
    }
}
impl From<u32> for Yaml {
    fn from(i: u32) -> Self {
        Yaml::Int(i64::from(i))
    }
}
impl From<Vec<Yaml>> for Yaml {
    fn from(v: Vec<Yaml>) -> Self {
        Yaml::Seq(v)
    }
}
impl From<crate::value::Number> for Yaml {
    fn from(n: crate::value::Number) -> Self {
        Yaml::Num(n.to_string())
    }
}

/// Whether a plain scalar would be read back as this exact string.
fn plain_ok(s: &str) -> bool {
    let (Some(first), Some(last)) = (s.chars().next(), s.chars().next_back()) else {
        return false;
    };
    if first.is_whitespace() || last.is_whitespace() || last == ':' {
        return false;
    }
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return false;
    }
    // One pass: control characters (line breaks, tabs), `: ` and ` #` end a plain scalar.
    let mut prev = 0u8;
    let mut ascii = true;
    for &b in s.as_bytes() {
        if b < 0x20 || b == 0x7f || (prev == b':' && b == b' ') || (prev == b' ' && b == b'#') {
            return false;
        }
        ascii &= b < 0x80;
        prev = b;
    }
    // Outside ASCII: C1 controls (NEL), the Unicode line separators and the byte-order mark.
    if !ascii
        && s.chars()
            .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}'))
    {
        return false;
    }
    const SPECIAL: [&str; 13] = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", ".inf", "-.inf", ".nan",
    ];
    if s.len() <= 5 && SPECIAL.iter().any(|w| w.eq_ignore_ascii_case(s)) {
        return false;
    }
    // Numbers, and things YAML 1.1 tools read as numbers, times or dates (`02:00`, `1_000`).
    let numeric = s
        .bytes()
        .all(|b| b.is_ascii_digit() || b"+-.eE_:xXoObB".contains(&b));
    if numeric && s.bytes().any(|b| b.is_ascii_digit()) {
        return false;
    }
    if s.len() >= 10 && s.as_bytes()[4] == b'-' && s[..4].bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    true
}

fn push_scalar(out: &mut String, s: &str) {
    if plain_ok(s) {
        out.push_str(s);
        return;
    }
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A value that fits on its key's line; false for non-empty collections.
fn push_inline(out: &mut String, v: &Yaml) -> bool {
    match v {
        Yaml::Null => out.push_str("null"),
        Yaml::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Yaml::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Yaml::Num(n) => out.push_str(n),
        Yaml::Str(s) => push_scalar(out, s),
        Yaml::Seq(s) if s.is_empty() => out.push_str("[]"),
        Yaml::Map(m) if m.is_empty() => out.push_str("{}"),
        _ => return false,
    }
    true
}

fn pad(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    let mut left = n;
    while left > 0 {
        let k = left.min(SPACES.len());
        out.push_str(&SPACES[..k]);
        left -= k;
    }
}

fn comments(out: &mut String, lines: &[String], indent: usize) {
    for l in lines {
        pad(out, indent);
        out.push_str("# ");
        out.push_str(&super::one_line(l));
        out.push('\n');
    }
}

fn write_value(out: &mut String, v: &Yaml, indent: usize) {
    match v {
        Yaml::Map(m) => {
            for (k, val) in m {
                write_entry(out, k, val, indent);
            }
        }
        Yaml::Seq(items) => {
            for item in items {
                write_item(out, item, indent);
            }
        }
        Yaml::Commented(c, inner) => {
            comments(out, c, indent);
            write_value(out, inner, indent);
        }
        Yaml::Block(b) => splice(out, b, indent),
        other => {
            pad(out, indent);
            push_inline(out, other);
            out.push('\n');
        }
    }
}

/// Pre-written lines, indented by `indent` more (blank lines stay blank, so literal blocks keep
/// their exact text).
fn splice(out: &mut String, block: &str, indent: usize) {
    for line in block.lines() {
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
}

fn write_entry(out: &mut String, key: &str, val: &Yaml, indent: usize) {
    let (notes, val) = match val {
        Yaml::Commented(c, inner) => (c.as_slice(), inner.as_ref()),
        v => (&[][..], v),
    };
    comments(out, notes, indent);
    pad(out, indent);
    push_scalar(out, key);
    match val {
        Yaml::Str(s) if s.contains('\n') && !s.trim_end_matches('\n').contains("\n\n\n") => {
            // Multi-line text as a literal block, trailing newline kept or stripped exactly.
            out.push_str(if s.ends_with('\n') { ": |\n" } else { ": |-\n" });
            for line in s.trim_end_matches('\n').split('\n') {
                if !line.is_empty() {
                    pad(out, indent + 2);
                    out.push_str(line);
                }
                out.push('\n');
            }
        }
        v if v.is_collection() => {
            out.push_str(":\n");
            write_value(out, v, indent + 2);
        }
        v => {
            out.push_str(": ");
            push_inline(out, v);
            out.push('\n');
        }
    }
}

fn write_item(out: &mut String, item: &Yaml, indent: usize) {
    let (notes, item) = match item {
        Yaml::Commented(c, inner) => (c.as_slice(), inner.as_ref()),
        v => (&[][..], v),
    };
    comments(out, notes, indent);
    match item {
        Yaml::Map(m) if !m.is_empty() => {
            // The first entry on the dash line (its indentation ends in `- `), the rest aligned
            // under it.
            let start = out.len();
            write_entry(out, &m[0].0, &m[0].1, indent + 2);
            out.replace_range(start + indent..start + indent + 2, "- ");
            for (k, v) in &m[1..] {
                write_entry(out, k, v, indent + 2);
            }
        }
        Yaml::Seq(s) if !s.is_empty() => {
            pad(out, indent);
            out.push_str("-\n");
            write_value(out, item, indent + 2);
        }
        Yaml::Block(b) => splice(out, b, indent),
        other => {
            pad(out, indent);
            out.push_str("- ");
            push_inline(out, other);
            out.push('\n');
        }
    }
}

/// Write a collection once, for [`Yaml::Block`]: a sequence's items or a mapping's entries, at
/// indentation zero.
pub(crate) fn block(v: &Yaml) -> std::sync::Arc<str> {
    let mut out = String::with_capacity(4096);
    write_value(&mut out, v, 0);
    out.into()
}

/// A whole document, with header comment lines.
pub(crate) fn document(header: &[String], v: &Yaml) -> String {
    let mut out = String::with_capacity(4096);
    comments(&mut out, header, 0);
    write_value(&mut out, v, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(s: &str) -> String {
        let mut out = String::new();
        push_scalar(&mut out, s);
        out
    }

    #[test]
    fn quoting() {
        for (s, q) in [
            ("plain", "plain"),
            ("02:00", "\"02:00\""),
            ("yes", "\"yes\""),
            ("1.5", "\"1.5\""),
            ("a: b", "\"a: b\""),
            ("#ops", "\"#ops\""),
            ("", "\"\""),
            ("x > 0.3", "x > 0.3"),
            ("up{job=\"a\"} == 0", "up{job=\"a\"} == 0"),
            ("{{ $value }}", "\"{{ $value }}\""),
            ("*/5 * * * *", "\"*/5 * * * *\""),
            ("2027-01-15", "\"2027-01-15\""),
            ("a # b", "\"a # b\""),
            ("a#b", "a#b"),
            ("key:", "\"key:\""),
            ("a:b", "a:b"),
            ("carriage\rreturn", "\"carriage\\rreturn\""),
            ("bell\u{7}", "\"bell\\u0007\""),
            ("next\u{85}line", "\"next\\u0085line\""),
            ("line\u{2028}separator", "\"line\\u2028separator\""),
            ("\u{a0}padded", "\"\u{a0}padded\""),
            ("café", "café"),
        ] {
            assert_eq!(scalar(s), q, "{s}");
        }
    }

    #[test]
    fn document_shape() {
        let v = Yaml::map()
            .with(
                "groups",
                vec![Yaml::map().with("name", "a").with(
                    "rules",
                    vec![Yaml::map().with("record", "x").with("expr", "up")],
                )],
            )
            .with("text", "line one\nline two\n");
        let out = document(&["Generated".to_owned()], &v);
        assert_eq!(
            out,
            "# Generated\ngroups:\n  - name: a\n    rules:\n      - record: x\n        expr: up\ntext: |\n  line one\n  line two\n"
        );
    }

    #[test]
    fn blocks_read_as_the_values_they_were_written_from() {
        let items = vec![
            Yaml::map()
                .with("name", "a")
                .with("text", "one\n\nthree\n")
                .with("rules", vec![Yaml::map().with("record", "x")]),
            Yaml::map().with("name", "b"),
        ];
        let block = Yaml::Block(block(&Yaml::Seq(items.clone())));
        let extra = Yaml::map().with("name", "c");
        for indent in ["top", "nested"] {
            let wrap = |groups: Yaml| {
                let v = Yaml::map().with("groups", groups);
                if indent == "top" {
                    v
                } else {
                    Yaml::map().with("spec", vec![v])
                }
            };
            let mut whole = items.clone();
            whole.push(extra.clone());
            let expected = document(&[], &wrap(Yaml::Seq(whole)));
            let spliced = document(&[], &wrap(Yaml::Seq(vec![block.clone(), extra.clone()])));
            assert_eq!(spliced, expected, "{indent}");
        }
        let as_value = document(&[], &Yaml::map().with("groups", block.clone()));
        assert_eq!(
            as_value,
            document(&[], &Yaml::map().with("groups", Yaml::Seq(items)))
        );
    }
}
