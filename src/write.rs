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
    std::fs::read_to_string(out.join(MANIFEST))
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

fn copy_foreign(from: &Path, to: &Path, owned: &BTreeSet<PathBuf>, rel: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(from.join(rel))? {
        let entry = entry?;
        let r = rel.join(entry.file_name());
        let ty = entry.file_type()?;
        if ty.is_dir() {
            std::fs::create_dir_all(to.join(&r))?;
            copy_foreign(from, to, owned, &r)?;
        } else if r != Path::new(MANIFEST) && !owned.contains(&r) {
            if ty.is_symlink() {
                #[cfg(unix)]
                std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, to.join(&r))?;
            } else {
                std::fs::copy(entry.path(), to.join(&r))?;
            }
        }
    }
    Ok(())
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
            copy_foreign(out, &stage, &manifest(out), Path::new(""))?;
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

/// Compare `artifacts` with `out` without writing anything.
pub fn check(out: &Path, artifacts: &[Artifact]) -> Vec<Drift> {
    let mut drift = Vec::new();
    for a in artifacts {
        let on_disk = std::fs::read_to_string(out.join(&a.path));
        match on_disk {
            Ok(text) if text == a.content => {}
            Ok(text) => drift.push(Drift {
                path: a.path.clone(),
                kind: DriftKind::Changed,
                diff: unified(&text, &a.content, &a.path),
            }),
            Err(_) => drift.push(Drift {
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
