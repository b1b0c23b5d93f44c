//! Between the compiler's terms and the protocol's: byte offsets and UTF-16 positions, paths
//! and `file:` URIs, [`Diagnostic`]s and theirs.
//!
//! Positions are counted the protocol's way: 0-based lines split at `\n`, `\r\n` and a lone
//! `\r`, and characters in UTF-16 code units (an `é` is one, a `🔥` two), whatever the compiler
//! counts in.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use lsp_types as lsp;

use crate::diag::{Code, Diagnostic, Severity};
use crate::source::SourceFile;
use crate::span::Span;

/// Whether the CR at byte `i` of `bytes` stands alone: a line break to the protocol (which
/// breaks lines at `\n`, `\r\n` and `\r`), not to [`SourceFile::line_col`] (`\n` only).
fn lone_cr(bytes: &[u8], i: usize) -> bool {
    bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n')
}

/// The protocol position of byte `byte` of `file`.
pub(super) fn position(file: &SourceFile, byte: u32) -> lsp::Position {
    let text = file.text.as_str();
    let mut byte = (byte as usize).min(text.len());
    while !text.is_char_boundary(byte) {
        byte -= 1;
    }
    // The line as the compiler counts it (a binary search), then the lone CRs before it and
    // in it, which only the protocol counts (a scan, when the text has a CR at all).
    let (line, _) = file.line_col(byte as u32);
    let mut start = file.offset_of(line, 1).min(byte);
    let mut line = line - 1;
    if text.contains('\r') {
        let bytes = text.as_bytes();
        line += (0..start).filter(|&i| lone_cr(bytes, i)).count();
        let within: Vec<usize> = (start..byte).filter(|&i| lone_cr(bytes, i)).collect();
        if let Some(&last) = within.last() {
            line += within.len();
            start = last + 1;
        }
    }
    let character = text[start..byte].encode_utf16().count();
    lsp::Position::new(line as u32, character as u32)
}

pub(super) fn range(file: &SourceFile, span: Span) -> lsp::Range {
    lsp::Range::new(position(file, span.start), position(file, span.end))
}

/// The byte offset of a protocol position in `text`: past the end of a line is its end, past
/// the last line the end of the text, inside a UTF-16 pair the character's start. Lines end
/// at `\n`, `\r\n` or `\r`, as the protocol says.
pub(super) fn offset(text: &str, pos: lsp::Position) -> usize {
    let bytes = text.as_bytes();
    let next_break = |from: usize| {
        bytes[from..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .map(|i| from + i)
    };
    let mut start = 0;
    for _ in 0..pos.line {
        match next_break(start) {
            Some(i) if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') => start = i + 2,
            Some(i) => start = i + 1,
            None => return text.len(),
        }
    }
    let line = &text[start..next_break(start).unwrap_or(text.len())];
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

/// Where a diagnostic's code links to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Docs {
    /// The book published at this base URL (`initializationOptions.docsBaseUrl`): its sources
    /// are `book/src/diagnostics/CODE.md` (what `upkeep explain` prints), which mdBook renders
    /// as `diagnostics/CODE.html`.
    Web(String),
    /// The explain pages [`explain_pages`] wrote in this directory, as `CODE.md`.
    Local(PathBuf),
}

/// The address of a code's explain page in `docs`.
pub(super) fn explain_page(docs: &Docs, code: Code) -> Option<lsp::Uri> {
    match docs {
        Docs::Web(base) => {
            let base = base.trim_end_matches('/');
            lsp::Uri::from_str(&format!("{base}/diagnostics/{}.html", code.name())).ok()
        }
        Docs::Local(dir) => uri_of(&dir.join(format!("{}.md", code.name()))),
    }
}

/// Every code's explain page (what `upkeep explain CODE` prints) written as `CODE.md` under
/// the user's cache directory (`$XDG_CACHE_HOME`, else `~/.cache`), in a directory of this
/// version's own, so a diagnostic links a page that opens with no network and says what this
/// binary does. A page already there with the same text is left alone; a new one is written
/// beside it and renamed into place. `None` when the directory cannot be made or written.
pub(super) fn explain_pages() -> Option<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .map(|h| h.join(".cache"))
        })?;
    let dir = cache
        .join("upkeep")
        .join(concat!("explain-", env!("CARGO_PKG_VERSION")));
    for &code in Code::ALL {
        let page = dir.join(format!("{}.md", code.name()));
        let text = code.explain();
        if std::fs::read_to_string(&page).is_ok_and(|t| t == text) {
            continue;
        }
        let parent = page.parent()?;
        std::fs::create_dir_all(parent).ok()?;
        let temp = parent.join(format!(
            ".{}.{}.tmp",
            code.name().replace('/', "-"),
            std::process::id()
        ));
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
            .and_then(|()| std::fs::rename(&temp, &page));
        if written.is_err() {
            let _ = std::fs::remove_file(&temp);
            return None;
        }
    }
    Some(dir)
}

/// A diagnostic as the protocol shows it, at `file` (which holds its span): the message with
/// its help line, the code (with a link to its page in the book at `docs`, when the editor
/// gave one), every secondary label as related information, located by `label_at`.
pub(super) fn diagnostic(
    d: &Diagnostic,
    file: Option<&SourceFile>,
    docs: Option<&Docs>,
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
                let page = explain_page(&Docs::Web(base.to_owned()), code).expect("a URI");
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

    /// A lone CR breaks a line for the protocol (as for miette and most editors), though not
    /// for the compiler's `line:column`; positions and offsets agree with the protocol.
    #[test]
    fn a_lone_cr_is_a_line_break() {
        let text = "a: 1\rb: é\r\nc: 🔥y\r\rd\n";
        let f = file(text);
        let at = |needle: &str| text.find(needle).expect("needle") as u32;
        assert_eq!(position(&f, at("b")), lsp::Position::new(1, 0));
        assert_eq!(position(&f, at("é")), lsp::Position::new(1, 3));
        assert_eq!(position(&f, at("c")), lsp::Position::new(2, 0));
        assert_eq!(position(&f, at("y")), lsp::Position::new(2, 5));
        assert_eq!(position(&f, at("d")), lsp::Position::new(4, 0));
        assert_eq!(position(&f, text.len() as u32), lsp::Position::new(5, 0));
        for needle in ["a", "b", "é", "c", "y", "d"] {
            let byte = at(needle);
            assert_eq!(offset(text, position(&f, byte)), byte as usize, "{needle}");
        }
        // The empty line between the two CRs, and past the end of lines.
        assert_eq!(offset(text, lsp::Position::new(3, 0)), at("d") as usize - 1);
        assert_eq!(offset(text, lsp::Position::new(0, 9)), 4);
        assert_eq!(offset(text, lsp::Position::new(1, 9)), at("é") as usize + 2);
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
