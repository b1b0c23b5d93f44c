//! The source map: every file the compiler has read, its display name and text, and the
//! conversion from byte offsets to the 1-based lines and character columns users see.
//!
//! **Invariant:** files are only added, never removed or changed, so a [`FileId`] stays valid for
//! the whole run.

use std::path::{Path, PathBuf};

use crate::span::{FileId, Span};

/// A control character, or a character some reader takes for a line break (NEL, U+2028/9):
/// what must not reach a line-based file from a plan unescaped.
pub fn breaks_lines(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

#[derive(Debug)]
pub struct SourceFile {
    /// Path as given or discovered (used to resolve imports).
    pub path: PathBuf,
    /// Name shown in diagnostics: the path relative to the working directory when possible,
    /// with `/` separators on every platform.
    pub name: String,
    /// Name in generated files: the path relative to the repository root (the nearest
    /// directory with `.git`), so the output does not depend on the working directory; the
    /// shown name outside a repository, until the driver names it from the tree given on the
    /// command line.
    pub origin: String,
    /// Whether `origin` is relative to a repository root.
    pub in_repo: bool,
    pub text: String,
    line_starts: Vec<u32>,
    /// Whether a CR stands alone somewhere (a line break to miette, not to [`Self::line_col`]).
    lone_cr: bool,
}

impl SourceFile {
    pub fn new(path: PathBuf, name: String, text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| (i + 1) as u32),
        );
        let repo = origin_name(&path);
        let bytes = text.as_bytes();
        let lone_cr = bytes
            .iter()
            .enumerate()
            .any(|(i, &b)| b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
        SourceFile {
            in_repo: repo.is_some(),
            origin: repo.unwrap_or_else(|| name.clone()),
            path,
            name,
            text,
            line_starts,
            lone_cr,
        }
    }

    /// The whole lines around `len` bytes at `start`, with `before` lines before them and more
    /// than `after` lines after: (offset of the first line, its 0-based line number, the text).
    /// What a renderer that counts lines from the start of its text needs to show the span in
    /// context without reading the whole file. The whole file when a lone CR (a line break to
    /// such a renderer) makes the line numbers differ.
    pub fn lines_around(
        &self,
        start: usize,
        len: usize,
        before: usize,
        after: usize,
    ) -> (usize, usize, &str) {
        if self.lone_cr {
            return (0, 0, &self.text);
        }
        let line_of = |byte: usize| match self.line_starts.binary_search(&(byte as u32)) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = start.min(self.text.len());
        let end = (start + len).min(self.text.len());
        let first = line_of(start).saturating_sub(before);
        let last = line_of(end).saturating_add(after).saturating_add(2);
        let from = self.line_starts[first] as usize;
        let to = self
            .line_starts
            .get(last)
            .map_or(self.text.len(), |&s| s as usize);
        match self.text.get(from..to) {
            Some(text) => (from, first, text),
            None => (0, 0, &self.text),
        }
    }

    /// 1-based line and 1-based column counted in Unicode scalar values.
    pub fn line_col(&self, byte: u32) -> (usize, usize) {
        let byte = (byte as usize).min(self.text.len());
        let line = match self.line_starts.binary_search(&(byte as u32)) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line] as usize;
        let col = self
            .text
            .get(start..byte)
            .map_or(byte - start, |s| s.chars().count());
        (line + 1, col + 1)
    }

    /// Byte offset of a 1-based line and character column (used for parser errors that only
    /// know the position in characters).
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let rest = &self.text[start as usize..];
        let within = rest
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(rest.len(), |(i, _)| i);
        start as usize + within
    }

    pub fn slice(&self, span: Span) -> &str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }
}

#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    /// The first file added under each path (a run reads thousands: no linear search).
    by_path: std::collections::HashMap<PathBuf, FileId>,
    /// The text held, in bytes.
    bytes: usize,
}

impl SourceMap {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, path: PathBuf, text: String) -> FileId {
        let name = display_name(&path);
        self.push(SourceFile::new(path, name, text))
    }

    /// Add a file identified by `key` (its canonical path) and shown as `shown`.
    pub fn add_with_key(&mut self, key: PathBuf, shown: &Path, text: String) -> FileId {
        self.push(SourceFile::new(key, display_name(shown), text))
    }

    fn push(&mut self, file: SourceFile) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.by_path.entry(file.path.clone()).or_insert(id);
        self.bytes += file.text.len();
        self.files.push(file);
        id
    }

    /// The text of every file, in bytes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Name a file differently in generated files (a diff names both sides from their roots).
    pub fn set_origin(&mut self, id: FileId, origin: String) {
        if let Some(f) = self.files.get_mut(id.0 as usize) {
            f.origin = origin;
        }
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn find(&self, path: &Path) -> Option<FileId> {
        self.by_path.get(path).copied()
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }
}

/// `path` relative to `root`, with `/` separators, when it is inside it.
pub(crate) fn relative_to(path: &Path, root: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}

/// The path of a file relative to the root of the repository that holds it.
fn origin_name(path: &Path) -> Option<String> {
    let full = std::fs::canonicalize(path).ok()?;
    let root = full.ancestors().skip(1).find(|d| d.join(".git").exists())?;
    relative_to(&full, root)
}

/// A stable, platform-independent name for a path: relative to the current directory when it is
/// inside it, with `/` separators and without a leading `./`.
pub fn display_name(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let rel = cwd
        .as_deref()
        .and_then(|cwd| path.strip_prefix(cwd).ok())
        .unwrap_or(path);
    // Lexical normalisation: `plans/../common/x.yaml` is shown as `common/x.yaml`.
    let mut parts: Vec<String> = Vec::new();
    for c in rel.components() {
        match c {
            std::path::Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            std::path::Component::ParentDir => {
                if parts.last().is_some_and(|l| l != "..") {
                    parts.pop();
                } else {
                    parts.push("..".to_owned());
                }
            }
            std::path::Component::Prefix(p) => {
                parts.push(p.as_os_str().to_string_lossy().into_owned());
            }
            std::path::Component::RootDir | std::path::Component::CurDir => {}
        }
    }
    let joined = parts.join("/");
    if rel.has_root() {
        format!("/{joined}")
    } else {
        joined
    }
}
