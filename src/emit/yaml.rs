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
    if s.is_empty() || s != s.trim() || s.contains('\n') || s.contains('\t') {
        return false;
    }
    let first = s.chars().next().unwrap_or(' ');
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "true"
            | "false"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "y"
            | "n"
            | "null"
            | "~"
            | ".inf"
            | "-.inf"
            | ".nan"
    ) {
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

/// A scalar string as YAML: plain when safe, else double-quoted with escapes.
pub fn scalar(s: &str) -> String {
    if plain_ok(s) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn inline(v: &Yaml) -> Option<String> {
    Some(match v {
        Yaml::Null => "null".to_owned(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Int(i) => i.to_string(),
        Yaml::Num(n) => n.clone(),
        Yaml::Str(s) => scalar(s),
        Yaml::Seq(s) if s.is_empty() => "[]".to_owned(),
        Yaml::Map(m) if m.is_empty() => "{}".to_owned(),
        _ => return None,
    })
}

fn comments(out: &mut String, lines: &[String], indent: usize) {
    for l in lines {
        let _ = writeln!(out, "{:indent$}# {l}", "");
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
        other => {
            let _ = writeln!(out, "{:indent$}{}", "", inline(other).unwrap_or_default());
        }
    }
}

fn write_entry(out: &mut String, key: &str, val: &Yaml, indent: usize) {
    let (notes, val) = match val {
        Yaml::Commented(c, inner) => (c.as_slice(), inner.as_ref()),
        v => (&[][..], v),
    };
    comments(out, notes, indent);
    let k = scalar(key);
    match val {
        Yaml::Str(s) if s.contains('\n') && !s.trim_end_matches('\n').contains("\n\n\n") => {
            // Multi-line text as a literal block, trailing newline kept or stripped exactly.
            let chomp = if s.ends_with('\n') { "" } else { "-" };
            let _ = writeln!(out, "{:indent$}{k}: |{chomp}", "");
            for line in s.trim_end_matches('\n').split('\n') {
                if line.is_empty() {
                    out.push('\n');
                } else {
                    let _ = writeln!(out, "{:width$}{line}", "", width = indent + 2);
                }
            }
        }
        v if v.is_collection() => {
            let _ = writeln!(out, "{:indent$}{k}:", "");
            write_value(out, v, indent + 2);
        }
        v => {
            let _ = writeln!(out, "{:indent$}{k}: {}", "", inline(v).unwrap_or_default());
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
            // The first entry on the dash line, the rest aligned under it.
            let mut first = String::new();
            write_entry(&mut first, &m[0].0, &m[0].1, indent + 2);
            let first = first.trim_start_matches(' ');
            let _ = write!(out, "{:indent$}- {first}", "");
            for (k, v) in &m[1..] {
                write_entry(out, k, v, indent + 2);
            }
        }
        Yaml::Seq(s) if !s.is_empty() => {
            let _ = writeln!(out, "{:indent$}-", "");
            write_value(out, item, indent + 2);
        }
        other => {
            let _ = writeln!(out, "{:indent$}- {}", "", inline(other).unwrap_or_default());
        }
    }
}

/// A whole document, with header comment lines.
pub fn document(header: &[String], v: &Yaml) -> String {
    let mut out = String::new();
    comments(&mut out, header, 0);
    write_value(&mut out, v, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
