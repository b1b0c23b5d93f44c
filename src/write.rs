//! Writing artefacts: atomically, or checking them against what is on disk.
//!
//! The new tree is staged in a sibling directory (files the output directory holds that upkeep
//! did not generate are carried over), then swapped with the output directory in one step
//! (`renameat2(RENAME_EXCHANGE)` on Linux). A failed or killed build leaves the previous output
//! as it was. A manifest (`.upkeep-manifest`) lists the generated files, so stale ones are
//! removed and `--check` can name them.
//!
//! **Invariant:** nothing is written outside the output directory; artefact paths are relative
//! and made only of validated names.

use std::collections::BTreeSet;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::emit::Artifact;

pub const MANIFEST: &str = ".upkeep-manifest";

fn manifest(out: &Path) -> BTreeSet<PathBuf> {
    read_plain(out, Path::new(MANIFEST))
        .and_then(Result::ok)
        .map(|s| {
            s.lines()
                .filter(|l| !l.is_empty())
                .map(PathBuf::from)
                .collect()
        })
        .unwrap_or_default()
}

/// A relative path with no `..`, root or prefix: one that stays inside the output directory.
fn contained(p: &Path) -> bool {
    p.components().all(|c| matches!(c, Component::Normal(_))) && p.components().next().is_some()
}

/// What the new tree will hold: the generated files and the directories above them.
struct Generated {
    files: BTreeSet<PathBuf>,
    dirs: BTreeSet<PathBuf>,
}

impl Generated {
    fn of(artifacts: &[Artifact]) -> Generated {
        let files: BTreeSet<PathBuf> = artifacts.iter().map(|a| a.path.clone()).collect();
        let dirs = files
            .iter()
            .flat_map(|f| f.ancestors().skip(1))
            .filter(|d| !d.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .collect();
        Generated { files, dirs }
    }
}

/// Carry over what upkeep did not generate. Never through a link: a symbolic link is copied as
/// a link, except where a generated file or directory goes (it is dropped, so nothing is
/// written through it); a special file (FIFO, socket, device) is refused, never opened.
fn copy_foreign(
    from: &Path,
    to: &Path,
    owned: &BTreeSet<PathBuf>,
    generated: &Generated,
    rel: &Path,
) -> io::Result<()> {
    for entry in std::fs::read_dir(from.join(rel))? {
        let entry = entry?;
        let r = rel.join(entry.file_name());
        let ty = entry.file_type()?;
        if ty.is_dir() {
            std::fs::create_dir_all(to.join(&r))?;
            copy_foreign(from, to, owned, generated, &r)?;
        } else if r == Path::new(MANIFEST)
            || owned.contains(&r)
            || generated.files.contains(&r)
            || generated.dirs.contains(&r)
        {
            // Replaced by what this build generates.
        } else if ty.is_symlink() {
            #[cfg(unix)]
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, to.join(&r))?;
        } else if ty.is_file() {
            std::fs::copy(entry.path(), to.join(&r))?;
        } else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "`{}` is a special file (a FIFO, socket or device); upkeep never opens one: remove it",
                    from.join(&r).display()
                ),
            ));
        }
    }
    Ok(())
}

/// Refuse an output path that is not a directory upkeep can replace: a file, or a symbolic
/// link (which would be followed, or replaced by a directory).
fn usable_output(out: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(m) if m.file_type().is_symlink() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "`{}` is a symbolic link; upkeep never writes through one: give the directory it points to",
                out.display()
            ),
        )),
        Ok(m) if !m.is_dir() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "`{}` is a file, not a directory; give a directory for the generated files",
                out.display()
            ),
        )),
        Ok(_) => Ok(()),
    }
}

/// Write `artifacts` under `out`, atomically.
pub fn write(out: &Path, artifacts: &[Artifact]) -> io::Result<()> {
    for a in artifacts {
        if !contained(&a.path) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "refusing to write `{}` outside the output directory",
                    a.path.display()
                ),
            ));
        }
    }
    usable_output(out)?;
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let base = out
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    remove_stale_stages(parent, &base);
    let stage = parent.join(format!(".{base}.upkeep-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&stage);
    std::fs::create_dir_all(&stage)?;
    let result = (|| {
        if out.is_dir() {
            let generated = Generated::of(artifacts);
            copy_foreign(out, &stage, &manifest(out), &generated, Path::new(""))?;
        }
        let mut listed = String::new();
        let mut paths: Vec<&PathBuf> = artifacts.iter().map(|a| &a.path).collect();
        paths.sort();
        for p in paths {
            listed.push_str(&p.to_string_lossy());
            listed.push('\n');
        }
        // Files are independent: written on every core (`create_dir_all` tolerates races).
        let written = crate::par::map(artifacts, |a| {
            let dest = stage.join(&a.path);
            if let Some(d) = dest.parent() {
                std::fs::create_dir_all(d)?;
            }
            std::fs::write(dest, &a.content)
        });
        written.into_iter().collect::<io::Result<()>>()?;
        std::fs::write(stage.join(MANIFEST), listed)?;
        swap(&stage, out)
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&stage);
    }
    result
}

/// Replace the regular file `path` with `text` atomically: the text is written to a new file
/// beside it (same directory, same permissions), flushed, and renamed over it, so a reader sees
/// the old text or the new, never a part. A symbolic link or a special file is refused, never
/// written through: nothing is written outside the directory that holds `path`.
pub fn replace(path: &Path, text: &str) -> io::Result<()> {
    use std::io::Write as _;
    let meta = std::fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "`{}` is a symbolic link; upkeep never writes through one: name the file it points to",
                path.display()
            ),
        ));
    }
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{}` is not a regular file", path.display()),
        ));
    }
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "a file name is needed"))?;
    let temp = path.with_file_name(format!(
        ".{}.upkeep-{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    // A file left by a killed run of this process id; a link there is removed, not followed.
    let _ = std::fs::remove_file(&temp);
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        f.write_all(text.as_bytes())?;
        f.set_permissions(meta.permissions())?;
        f.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// Staging directories of builds that were killed (their process is gone) are removed.
fn remove_stale_stages(parent: &Path, base: &str) {
    let prefix = format!(".{base}.upkeep-");
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(&prefix)
            .map(|r| r.trim_end_matches(".old"))
        else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if pid != std::process::id() && !alive(pid) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true // cannot tell: leave it
    }
}

/// Put `stage` at `out`; the previous `out` (if any) is removed afterwards.
fn swap(stage: &Path, out: &Path) -> io::Result<()> {
    if !out.exists() {
        return std::fs::rename(stage, out);
    }
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        if renameat_with(CWD, stage, CWD, out, RenameFlags::EXCHANGE).is_ok() {
            // `stage` now holds the previous output.
            return std::fs::remove_dir_all(stage);
        }
    }
    let old = stage.with_extension("old");
    std::fs::rename(out, &old)?;
    if let Err(e) = std::fs::rename(stage, out) {
        let _ = std::fs::rename(&old, out);
        return Err(e);
    }
    std::fs::remove_dir_all(&old)
}

/// A generated file that differs from disk.
#[derive(Debug)]
pub struct Drift {
    pub path: PathBuf,
    pub kind: DriftKind,
    /// A short unified diff (disk → generated).
    pub diff: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum DriftKind {
    Missing,
    Changed,
    /// On disk from an earlier build, no longer generated.
    Stale,
}

/// The text of `out/rel` when it is a regular file reached without a symbolic link; `None`
/// when it is missing, and `Some(Err)` for a link or a special file, which are never opened.
fn read_plain(out: &Path, rel: &Path) -> Option<Result<String, &'static str>> {
    let mut at = out.to_path_buf();
    let mut last = None;
    for c in rel.components() {
        at.push(c);
        let m = std::fs::symlink_metadata(&at).ok()?;
        if m.file_type().is_symlink() {
            return Some(Err("a symbolic link is in its place; a build replaces it"));
        }
        last = Some(m);
    }
    if !last?.is_file() {
        return Some(Err("a special file or a directory is in its place"));
    }
    Some(std::fs::read_to_string(&at).map_err(|_| "it cannot be read as text"))
}

/// Compare `artifacts` with `out` without writing anything (and without following a link or
/// opening a special file in `out`).
pub fn check(out: &Path, artifacts: &[Artifact]) -> Vec<Drift> {
    let mut drift = Vec::new();
    for a in artifacts {
        let on_disk = match read_plain(out, &a.path) {
            Some(Ok(text)) => Ok(text),
            Some(Err(why)) => {
                drift.push(Drift {
                    path: a.path.clone(),
                    kind: DriftKind::Changed,
                    diff: format!("{why}\n"),
                });
                continue;
            }
            None => Err(()),
        };
        match on_disk {
            Ok(text) if text == a.content => {}
            Ok(text) => drift.push(Drift {
                path: a.path.clone(),
                kind: DriftKind::Changed,
                diff: unified(&text, &a.content, &a.path),
            }),
            Err(()) => drift.push(Drift {
                path: a.path.clone(),
                kind: DriftKind::Missing,
                diff: String::new(),
            }),
        }
    }
    let generated: BTreeSet<&PathBuf> = artifacts.iter().map(|a| &a.path).collect();
    for old in manifest(out) {
        if !generated.contains(&old) && out.join(&old).exists() {
            drift.push(Drift {
                path: old,
                kind: DriftKind::Stale,
                diff: String::new(),
            });
        }
    }
    drift.sort_by(|a, b| a.path.cmp(&b.path));
    drift
}

fn unified(old: &str, new: &str, path: &Path) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let name = path.to_string_lossy();
    let text = diff
        .unified_diff()
        .context_radius(2)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string();
    // Keep it short: the first 40 lines say what changed.
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() > 40 {
        format!(
            "{}\n… {} more lines\n",
            lines[..40].join("\n"),
            lines.len() - 40
        )
    } else {
        text
    }
}
