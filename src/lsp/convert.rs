//! Between the compiler's terms and the protocol's: byte offsets and UTF-16 positions, paths
//! and `file:` URIs, [`Diagnostic`]s and theirs.
//!
//! Positions are counted the protocol's way: 0-based lines split at `\n`, and characters in
//! UTF-16 code units (an `é` is one, a `🔥` two), whatever the compiler counts in.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use lsp_types as lsp;

use crate::diag::{Code, Diagnostic, Severity};
use crate::source::SourceFile;
use crate::span::Span;

/// The protocol position of byte `byte` of `file`.
pub(super) fn position(file: &SourceFile, byte: u32) -> lsp::Position {
    let byte = (byte as usize).min(file.text.len());
    let (line, _) = file.line_col(byte as u32);
    let start = file.offset_of(line, 1);
    let character = file
        .text
        .get(start..byte)
        .map_or(0, |s| s.encode_utf16().count());
    lsp::Position::new((line - 1) as u32, character as u32)
}

pub(super) fn range(file: &SourceFile, span: Span) -> lsp::Range {
    lsp::Range::new(position(file, span.start), position(file, span.end))
}

/// The byte offset of a protocol position in `text`: past the end of a line is its end, past
/// the last line the end of the text, inside a UTF-16 pair the character's start.
pub(super) fn offset(text: &str, pos: lsp::Position) -> usize {
    let mut start = 0;
    for _ in 0..pos.line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let line = &text[start..];
    let line = &line[..line.find('\n').unwrap_or(line.len())];
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut units = 0;
    for (i, c) in line.char_indices() {
        units += c.len_utf16() as u32;
        if units > pos.character {
            return start + i;
        }
    }
    start + line.len()
}

/// The path a `file:` URI names; `None` for other schemes (`untitled:` buffers).
pub(super) fn path_of(uri: &lsp::Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    // `file:///x` and `file://localhost/x`; another host is not a local file.
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    if !path.starts_with('/') {
        return None;
    }
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(PathBuf::from(String::from_utf8(out).ok()?))
}

/// The `file:` URI of an absolute path.
pub(super) fn uri_of(path: &Path) -> Option<lsp::Uri> {
    let text = path.to_str()?;
    let mut uri = String::from("file://");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            uri.push(b as char);
        } else {
            let _ = write!(uri, "%{b:02X}");
        }
    }
    lsp::Uri::from_str(&uri).ok()
}

/// The address of a code's explain page in the book published at `base`: the book's sources
/// are `book/src/diagnostics/CODE.md` (what `upkeep explain` prints), which mdBook renders as
/// `diagnostics/CODE.html`.
pub(super) fn explain_page(base: &str, code: Code) -> Option<lsp::Uri> {
    let base = base.trim_end_matches('/');
    lsp::Uri::from_str(&format!("{base}/diagnostics/{}.html", code.name())).ok()
}

/// A diagnostic as the protocol shows it, at `file` (which holds its span): the message with
/// its help line, the code (with a link to its page in the book at `docs`, when the editor
/// gave one), every secondary label as related information, located by `label_at`.
pub(super) fn diagnostic(
    d: &Diagnostic,
    file: Option<&SourceFile>,
    docs: Option<&str>,
    label_at: impl Fn(Span) -> Option<lsp::Location>,
) -> lsp::Diagnostic {
    let range = match (d.span, file) {
        (Some(span), Some(file)) => range(file, span),
        _ => lsp::Range::default(),
    };
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .filter_map(|l| {
            Some(lsp::DiagnosticRelatedInformation {
                location: label_at(l.span)?,
                message: l.message.clone(),
            })
        })
        .collect();
    lsp::Diagnostic {
        range,
        severity: Some(match d.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(d.code.name().to_owned())),
        // Only when the editor says where the book is: it has no published address of its own
        // (`upkeep explain CODE` prints the same page offline).
        code_description: docs
            .and_then(|base| explain_page(base, d.code))
            .map(|href| lsp::CodeDescription { href }),
        source: Some("upkeep".to_owned()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: d.help.as_ref().map(|h| serde_json::json!({ "help": h })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile::new(
            PathBuf::from("x.yaml"),
            "x.yaml".to_owned(),
            text.to_owned(),
        )
    }

    #[test]
    fn positions_count_utf16_units() {
        // `é` is 2 bytes and 1 unit, `🔥` 4 bytes and 2 units.
        let text = "a: é🔥x\nb: 🔥\n";
        let f = file(text);
        let x = text.find('x').expect("x") as u32;
        assert_eq!(position(&f, x), lsp::Position::new(0, 6));
        let b = text.find('b').expect("b") as u32;
        assert_eq!(position(&f, b), lsp::Position::new(1, 0));
        assert_eq!(position(&f, text.len() as u32), lsp::Position::new(2, 0));
        for byte in [0, 3, 5, x, b, b + 3] {
            assert_eq!(
                offset(text, position(&f, byte)),
                byte as usize,
                "byte {byte}"
            );
        }
        // Inside the surrogate pair of `🔥`: the character's start.
        assert_eq!(offset(text, lsp::Position::new(0, 5)), 5);
        // Past the end of a line, and of the text.
        assert_eq!(offset(text, lsp::Position::new(0, 99)), x as usize + 1);
        assert_eq!(offset(text, lsp::Position::new(9, 0)), text.len());
        assert_eq!(offset("a\r\nb", lsp::Position::new(0, 9)), 1);
    }

    /// Every code links to a page the book has: its source exists and the book's table of
    /// contents lists it (mdBook renders only what it lists), at the address mdBook gives it.
    #[test]
    fn every_code_links_to_its_page_in_the_book() {
        let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src");
        let summary = std::fs::read_to_string(book.join("SUMMARY.md")).expect("SUMMARY.md");
        for &code in Code::ALL {
            let source = format!("diagnostics/{}.md", code.name());
            assert!(book.join(&source).is_file(), "no {source}");
            assert!(
                summary.contains(&format!("]({source})")),
                "SUMMARY.md lacks {source}"
            );
            for base in [
                "https://docs.example.org/upkeep",
                "https://docs.example.org/upkeep/",
            ] {
                let page = explain_page(base, code).expect("a URI");
                assert_eq!(
                    page.as_str(),
                    format!(
                        "https://docs.example.org/upkeep/{}",
                        source.replace(".md", ".html")
                    )
                );
            }
        }
    }

    #[test]
    fn file_uris_round_trip() {
        let path = Path::new("/tmp/plans dir/año/x#1.yaml");
        let uri = uri_of(path).expect("a URI");
        assert_eq!(uri.as_str(), "file:///tmp/plans%20dir/a%C3%B1o/x%231.yaml");
        assert_eq!(path_of(&uri).as_deref(), Some(path));
        let local = lsp::Uri::from_str("file://localhost/tmp/x.yaml").expect("URI");
        assert_eq!(path_of(&local), Some(PathBuf::from("/tmp/x.yaml")));
        let untitled = lsp::Uri::from_str("untitled:Untitled-1").expect("URI");
        assert_eq!(path_of(&untitled), None);
    }
}
