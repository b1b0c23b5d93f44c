//! The open documents, and what the compiler makes of them.
//!
//! Every open document that declares `apiVersion: upkeep/...` is checked at once with
//! [`driver::check_texts`], as `upkeep check` checks the files it is given: the open texts are
//! in the source map before imports are followed, so a plan that imports an open fragment
//! reads the editor's text of it, unsaved, and a fragment's edit shows in every open plan that
//! imports it. What is not open is read from disk, with the limits of `check`.
//!
//! An open fragment is also checked with the plans on disk that import it ([`Importers`],
//! found by checking the workspace once), so its edits are checked in every plan that imports
//! it (their diagnostics are published too, though they are not open), and navigation inside
//! a fragment open alone sees their references.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::str::FromStr;

use lsp_types as lsp;

use super::{convert, navigate};
use crate::driver::{self, Workspace};
use crate::span::{FileId, Span};

/// A document the editor has open.
#[derive(Debug)]
pub(super) struct Document {
    /// The file it is (canonical when it exists on disk): what imports resolve to.
    pub path: PathBuf,
    pub text: String,
    pub version: i32,
}

/// The open documents, by URI as the editor spells it (the text: `lsp::Uri` caches its parts
/// in cells, which makes a poor key).
#[derive(Debug, Default)]
pub(super) struct Documents {
    pub open: BTreeMap<String, Document>,
}

impl Documents {
    /// Open (or reopen) `uri`; `false` for a URI that names no local file.
    pub(super) fn open(&mut self, uri: &lsp::Uri, text: String, version: i32) -> bool {
        let Some(path) = convert::path_of(uri) else {
            return false;
        };
        let path = crate::load::canonical(&path);
        self.open.insert(
            uri.as_str().to_owned(),
            Document {
                path,
                text,
                version,
            },
        );
        true
    }

    /// Apply edits in order: a change without a range replaces the whole text.
    pub(super) fn change(
        &mut self,
        uri: &lsp::Uri,
        version: i32,
        changes: Vec<lsp::TextDocumentContentChangeEvent>,
    ) -> bool {
        let Some(doc) = self.open.get_mut(uri.as_str()) else {
            return false;
        };
        for change in changes {
            match change.range {
                None => doc.text = change.text,
                Some(r) => {
                    let start = convert::offset(&doc.text, r.start);
                    let end = convert::offset(&doc.text, r.end).max(start);
                    doc.text.replace_range(start..end, &change.text);
                }
            }
        }
        doc.version = version;
        true
    }

    pub(super) fn close(&mut self, uri: &lsp::Uri) -> bool {
        self.open.remove(uri.as_str()).is_some()
    }
}

/// The result of checking the open documents.
#[derive(Debug, Default)]
pub(super) struct Analysis {
    pub ws: Workspace,
    /// Each source file's URI, by file id: the editor's for open documents.
    pub uris: Vec<Option<lsp::Uri>>,
    /// The file ids of the open documents that were checked.
    pub roots: Vec<FileId>,
}

/// The plans on disk that each fragment is part of, by canonical path: from a check of the
/// whole workspace (the working directory), made when first needed and again after files
/// change on disk.
#[derive(Debug, Default)]
pub(super) struct Importers {
    plans: HashMap<PathBuf, Vec<PathBuf>>,
}

impl Importers {
    pub(super) fn scan() -> Importers {
        let mut plans: HashMap<PathBuf, Vec<PathBuf>> = HashMap::new();
        let Ok(root) = std::env::current_dir() else {
            return Importers { plans };
        };
        let Ok(ws) = driver::check(&[root], driver::Options::default()) else {
            return Importers { plans };
        };
        let canonical = |file: FileId| crate::load::canonical(&ws.sources.get(file).path);
        for plan in &ws.plans {
            let path = canonical(plan.file);
            let one = std::slice::from_ref(plan);
            for (file, _) in ws.sources.iter() {
                if file != plan.file && navigate::plans_of(one, file).next().is_some() {
                    plans.entry(canonical(file)).or_default().push(path.clone());
                }
            }
        }
        Importers { plans }
    }

    fn of(&self, fragment: &std::path::Path) -> &[PathBuf] {
        self.plans.get(fragment).map_or(&[], Vec::as_slice)
    }
}

/// Check every open plan and fragment, and the plans on disk in `extra`.
pub(super) fn analyse(docs: &Documents, extra: &[PathBuf]) -> Analysis {
    let mut files: Vec<(PathBuf, String)> = docs
        .open
        .values()
        .filter(|d| crate::load::text_declares_upkeep(&d.text))
        .map(|d| (d.path.clone(), d.text.clone()))
        .collect();
    let count = files.len();
    for path in extra {
        if files.iter().any(|(p, _)| p == path) {
            continue;
        }
        let small =
            std::fs::metadata(path).is_ok_and(|m| m.len() <= crate::parse::MAX_FILE_BYTES as u64);
        if let Some(text) = small.then(|| std::fs::read_to_string(path).ok()).flatten() {
            files.push((path.clone(), text));
        }
    }
    let ws = driver::check_texts(files, driver::Options::default());
    let by_path: HashMap<&std::path::Path, &str> = docs
        .open
        .iter()
        .map(|(uri, d)| (d.path.as_path(), uri.as_str()))
        .collect();
    let uris = ws
        .sources
        .iter()
        .map(|(_, f)| {
            let mut path = crate::load::canonical(&f.path);
            if path.is_relative() {
                if let Ok(cwd) = std::env::current_dir() {
                    path = cwd.join(path);
                }
            }
            match by_path.get(path.as_path()) {
                Some(&uri) => lsp::Uri::from_str(uri).ok(),
                None => convert::uri_of(&path),
            }
        })
        .collect();
    // `check_texts` adds the texts first, in order.
    let roots = (0..count).map(|i| FileId(i as u32)).collect();
    Analysis { ws, uris, roots }
}

/// The plans on disk to check with the open documents: those that import an open fragment
/// (an open document that `analysis`, a check of the documents, did not make a plan of), so
/// that an edit of a fragment is checked in every plan that imports it.
pub(super) fn importers_wanted(
    analysis: &Analysis,
    importers: &mut Option<Importers>,
) -> Vec<PathBuf> {
    let fragments: Vec<FileId> = analysis
        .roots
        .iter()
        .copied()
        .filter(|&f| !analysis.ws.plans.iter().any(|p| p.file == f))
        .collect();
    if fragments.is_empty() {
        return Vec::new();
    }
    let index = importers.get_or_insert_with(Importers::scan);
    let mut wanted: Vec<PathBuf> = fragments
        .iter()
        .flat_map(|&f| index.of(&crate::load::canonical(&analysis.ws.sources.get(f).path)))
        .cloned()
        .collect();
    wanted.sort();
    wanted.dedup();
    wanted
}

impl Analysis {
    pub(super) fn uri(&self, file: FileId) -> Option<&lsp::Uri> {
        self.uris.get(file.0 as usize)?.as_ref()
    }

    /// The file of an open document, and the byte offset of a position in it.
    pub(super) fn at(&self, uri: &lsp::Uri, pos: lsp::Position) -> Option<(FileId, u32)> {
        let i = self.uris.iter().position(|u| u.as_ref() == Some(uri))?;
        let file = FileId(i as u32);
        let offset = convert::offset(&self.ws.sources.get(file).text, pos);
        Some((file, offset as u32))
    }

    pub(super) fn location(&self, span: Span) -> Option<lsp::Location> {
        let uri = self.uri(span.file)?.clone();
        let range = convert::range(self.ws.sources.get(span.file), span);
        Some(lsp::Location::new(uri, range))
    }

    /// Every diagnostic, by the URI of its file, linked to its page in the book at `docs`. One
    /// without a span (a file that cannot be read) is shown at the top of every open document
    /// checked, whose check found it.
    pub(super) fn diagnostics(
        &self,
        docs: Option<&convert::Docs>,
    ) -> BTreeMap<String, Vec<lsp::Diagnostic>> {
        let mut out: BTreeMap<String, Vec<lsp::Diagnostic>> = BTreeMap::new();
        let sources = &self.ws.sources;
        for d in &self.ws.diagnostics {
            let label_at = |s: Span| self.location(s);
            match d.span {
                Some(span) => {
                    if let Some(uri) = self.uri(span.file) {
                        let file = sources.get(span.file);
                        out.entry(uri.as_str().to_owned())
                            .or_default()
                            .push(convert::diagnostic(d, Some(file), docs, label_at));
                    }
                }
                None => {
                    for &root in &self.roots {
                        if let Some(uri) = self.uri(root) {
                            out.entry(uri.as_str().to_owned())
                                .or_default()
                                .push(convert::diagnostic(d, None, docs, label_at));
                        }
                    }
                }
            }
        }
        out
    }
}
