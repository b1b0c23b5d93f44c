//! Loading: finding plan files under the paths given, and reading files (plans and the
//! fragments they import) into the source map.
//!
//! Walking a directory picks only `*.yaml`/`*.yml` files that declare `apiVersion: upkeep/...`,
//! so a monorepo's other YAML is ignored; a file named explicitly must be a plan.
//!
//! **Invariant:** this is the only module that reads plan files from disk.

use std::path::{Path, PathBuf};

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::parse::MAX_FILE_BYTES;
use crate::source::SourceMap;
use crate::span::FileId;

/// Most files one run reads.
pub const MAX_FILES: usize = 20_000;

/// Most bytes of plan text one run reads, all files together, unless `--max-input` says
/// otherwise: every file stays in memory for the whole run (diagnostics show its text), so this
/// bounds memory as [`MAX_FILE_BYTES`] does one file's. About 4,000 plans of realistic size
/// (the benchmark's) fit.
pub const MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;

fn input_limit(total: u64, limit: u64, name: String) -> Diagnostic {
    Diagnostic::new(
        Code::Input,
        format!("the plan files hold {total} bytes, more than the limit of {limit} for one run"),
    )
    .in_file(name)
    .help(format!(
        "check a smaller tree, or split the run (each plan with its imports can be checked on its own); on a machine with the memory, raise the limit: `--max-input {}MiB` (a run holds about ten times its plan text)",
        total.div_ceil(1024 * 1024)
    ))
}

/// A path argument that does not exist: a usage error, not a diagnostic about a plan.
#[derive(Debug)]
pub struct MissingPath(pub PathBuf);

/// The plan files under `paths`, in a stable order (sorted within each directory), each with
/// whether it was named explicitly.
pub fn discover(
    paths: &[PathBuf],
    max_input: u64,
    diags: &mut Diagnostics,
) -> Result<Vec<(PathBuf, bool)>, MissingPath> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|_| MissingPath(p.clone()))?;
        if !meta.is_dir() {
            // A file, or a special file named explicitly: `read` reports the latter.
            out.push((p.clone(), true));
            continue;
        }
        let walker = walkdir::WalkDir::new(p)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !is_skipped_dir(e));
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let path = e.path().map_or_else(|| p.clone(), Path::to_path_buf);
                    diags.push(
                        Diagnostic::new(
                            Code::Unreadable,
                            format!("cannot read `{}`: {e}", crate::source::display_name(&path)),
                        )
                        .in_file(crate::source::display_name(&path))
                        .help("check the permissions of the directory"),
                    );
                    continue;
                }
            };
            if !entry.file_type().is_file() {
                continue;
            }
            let path = entry.path();
            let is_yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
            if is_yaml && declares_upkeep(path) {
                out.push((path.to_path_buf(), false));
            }
        }
    }
    if out.len() > MAX_FILES {
        // Almost certainly the wrong directory: say so instead of parsing them all.
        diags.push(
            Diagnostic::new(
                Code::Files,
                format!(
                    "found {} plan files, more than the limit of {MAX_FILES}",
                    out.len()
                ),
            )
            .in_file(crate::source::display_name(&paths[0]))
            .help("check a smaller tree, or split the run"),
        );
        out.clear();
    }
    // The same before reading anything: the sizes the file system reports.
    let total: u64 = out
        .iter()
        .map(|(p, _)| std::fs::metadata(p).map_or(0, |m| if m.is_file() { m.len() } else { 0 }))
        .sum();
    if total > max_input {
        diags.push(input_limit(
            total,
            max_input,
            crate::source::display_name(&paths[0]),
        ));
        out.clear();
    }
    Ok(out)
}

fn is_skipped_dir(e: &walkdir::DirEntry) -> bool {
    e.file_type().is_dir()
        && e.file_name()
            .to_str()
            .is_some_and(|n| n.starts_with('.') || n == "target" || n == "node_modules")
}

/// Whether a YAML file says `apiVersion: upkeep/...` near its top. Reads at most 64 KiB.
fn declares_upkeep(path: &Path) -> bool {
    use std::io::Read;
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        return true; // read() reports it without opening it
    }
    let Ok(f) = std::fs::File::open(path) else {
        return true;
    };
    let mut buf = Vec::with_capacity(4096);
    if f.take(64 * 1024).read_to_end(&mut buf).is_err() {
        return true;
    }
    text_declares_upkeep(&String::from_utf8_lossy(&buf))
}

/// Whether a text has an `apiVersion: upkeep/...` line: what discovery takes for a plan or a
/// fragment (the language server checks the open documents that do).
pub(crate) fn text_declares_upkeep(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start_matches('\u{feff}');
        l.strip_prefix("apiVersion:")
            .is_some_and(|v| v.trim().trim_matches(['"', '\'']).starts_with("upkeep/"))
    })
}

/// Read a file into the source map (once per canonical path). `None` with a diagnostic when it
/// cannot be read, is too large or is not UTF-8.
pub fn read(
    path: &Path,
    sources: &mut SourceMap,
    max_input: u64,
    diags: &mut Diagnostics,
) -> Option<FileId> {
    let key = canonical(path);
    if let Some(id) = sources.find(&key) {
        return Some(id);
    }
    let name = crate::source::display_name(path);
    // A FIFO, socket or device (`/dev/stdin`) is never opened: it can block or never end.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        diags.push(
            Diagnostic::new(
                Code::Unreadable,
                format!("`{name}` is not a regular file (a FIFO, socket, device or directory)"),
            )
            .in_file(name)
            .help("name plan files; to check text from a pipe, write it to a file first"),
        );
        return None;
    }
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    if size > MAX_FILE_BYTES as u64 {
        diags.push(
            Diagnostic::new(
                Code::FileSize,
                format!("`{name}` is {size} bytes, more than the limit of {MAX_FILE_BYTES}"),
            )
            .in_file(name)
            .help("split the plan into fragments with `imports:`"),
        );
        return None;
    }
    if sources.bytes() as u64 + size > max_input {
        // Imports read after discovery count too.
        diags.push(input_limit(sources.bytes() as u64 + size, max_input, name));
        return None;
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            diags.push(
                Diagnostic::new(Code::Unreadable, format!("cannot read `{name}`: {e}"))
                    .in_file(name)
                    .help("check that the file exists and is readable"),
            );
            return None;
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            diags.push(
                Diagnostic::new(
                    Code::NotUtf8,
                    format!(
                        "`{name}` is not UTF-8 (invalid byte at offset {})",
                        e.utf8_error().valid_up_to()
                    ),
                )
                .in_file(name)
                .help("save the file as UTF-8"),
            );
            return None;
        }
    };
    let text = text
        .strip_prefix('\u{feff}')
        .map(str::to_owned)
        .unwrap_or(text);
    Some(sources.add_with_key(key, path, text))
}

/// The identity of a file: its canonical path when it exists, else the path as given.
pub fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}
