//! The plans at a git revision, read with `git ls-tree` and `git cat-file` (no checkout) into a
//! temporary directory that mirrors the repository's YAML files, so imports between them
//! resolve as they did at that revision.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A usage problem with `--git`: what went wrong and how to fix it.
#[derive(Debug)]
pub(crate) struct GitError {
    pub message: String,
    pub help: String,
}

fn err(message: impl Into<String>, help: impl Into<String>) -> GitError {
    GitError {
        message: message.into(),
        help: help.into(),
    }
}

/// The YAML files of a revision, written under a temporary directory removed on drop.
#[derive(Debug)]
pub(crate) struct Snapshot {
    /// The temporary directory: the repository's top level at the revision.
    pub dir: PathBuf,
    /// The repository's top level in the working tree (canonical).
    pub toplevel: PathBuf,
    /// The paths asked for, relative to the top level, that exist at the revision (under
    /// `dir`) and in the working tree (as given).
    pub base_paths: Vec<PathBuf>,
    pub head_paths: Vec<PathBuf>,
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn git(args: &[&str], cwd: &Path) -> Result<std::process::Output, GitError> {
    Command::new("git")
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                err(
                    "`git` is not installed or not on the PATH",
                    "install git, or compare two directories: `upkeep diff BASE HEAD`",
                )
            } else {
                err(
                    format!("cannot run `git`: {e}"),
                    "compare two directories instead: `upkeep diff BASE HEAD`",
                )
            }
        })
}

fn stdout_line(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

/// `a/./b/../c` → `a/c`, without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn temp_dir() -> std::io::Result<PathBuf> {
    let base = std::env::temp_dir();
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("upkeep-diff-{}-{n}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 10_000 => {}
            Err(e) => return Err(e),
        }
    }
}

/// Read the YAML files of `rev` and say where the `paths` (relative to `cwd`) are on each side.
pub(crate) fn snapshot(rev: &str, paths: &[PathBuf], cwd: &Path) -> Result<Snapshot, GitError> {
    if rev.is_empty() || rev.starts_with('-') {
        return Err(err(
            format!("`{rev}` is not a git revision"),
            "name a branch, tag or commit, e.g. `--git origin/main`",
        ));
    }
    let top = git(&["rev-parse", "--show-toplevel"], cwd)?;
    if !top.status.success() {
        return Err(err(
            "the current directory is not inside a git repository",
            "run `upkeep diff --git REV` inside the repository, or compare two directories: `upkeep diff BASE HEAD`",
        ));
    }
    let toplevel = PathBuf::from(stdout_line(&top));
    let toplevel = std::fs::canonicalize(&toplevel).unwrap_or(toplevel);
    let spec = format!("{rev}^{{commit}}");
    let commit = git(&["rev-parse", "--verify", "--quiet", &spec], cwd)?;
    if !commit.status.success() {
        return Err(err(
            format!("`{rev}` is not a commit of this repository"),
            format!(
                "check the name with `git rev-parse {rev}`; in CI, fetch it first (e.g. `git fetch origin main`, or `fetch-depth: 0`)"
            ),
        ));
    }
    let commit = stdout_line(&commit);

    // Each path, relative to the top level.
    let cwd_abs = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let mut rels = Vec::new();
    for p in paths {
        let abs = if p.is_absolute() {
            p.clone()
        } else {
            cwd_abs.join(p)
        };
        let abs = std::fs::canonicalize(&abs).unwrap_or_else(|_| normalize(&abs));
        let Ok(rel) = abs.strip_prefix(&toplevel) else {
            return Err(err(
                format!("`{}` is outside the git repository", p.display()),
                format!(
                    "give paths inside `{}`",
                    crate::source::display_name(&toplevel)
                ),
            ));
        };
        rels.push((p.clone(), rel.to_path_buf()));
    }

    let tree = git(&["ls-tree", "-r", "-z", "--full-tree", &commit], &toplevel)?;
    if !tree.status.success() {
        return Err(err(
            format!(
                "cannot list the files of `{rev}`: {}",
                String::from_utf8_lossy(&tree.stderr).trim()
            ),
            "check the repository with `git fsck`",
        ));
    }
    let mut blobs: Vec<(String, PathBuf)> = Vec::new();
    for record in tree.stdout.split(|&b| b == 0) {
        let record = String::from_utf8_lossy(record);
        let Some((meta, path)) = record.split_once('\t') else {
            continue;
        };
        let mut parts = meta.split(' ');
        let (Some(mode), Some(kind), Some(oid)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let path = PathBuf::from(path);
        let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
        let safe = path.components().all(|c| matches!(c, Component::Normal(_)));
        if kind == "blob" && mode != "120000" && yaml && safe {
            blobs.push((oid.to_owned(), path));
        }
    }
    if blobs.len() > crate::load::MAX_FILES {
        return Err(err(
            format!(
                "`{rev}` holds {} YAML files, more than the limit of {}",
                blobs.len(),
                crate::load::MAX_FILES
            ),
            "compare two directories instead: `upkeep diff BASE HEAD`",
        ));
    }
    let dir = temp_dir().map_err(|e| {
        err(
            format!("cannot create a temporary directory: {e}"),
            "check `TMPDIR`",
        )
    })?;
    let mut snap = Snapshot {
        dir: dir.clone(),
        toplevel: toplevel.clone(),
        base_paths: Vec::new(),
        head_paths: Vec::new(),
    };
    write_blobs(&toplevel, &dir, &blobs).map_err(|e| {
        err(
            format!("cannot read the files of `{rev}`: {e}"),
            "check the repository with `git fsck`",
        )
    })?;
    for (given, rel) in rels {
        let at_rev = dir.join(&rel);
        let in_tree = given.exists();
        if !in_tree && !at_rev.exists() {
            return Err(err(
                format!(
                    "`{}` exists neither in the working tree nor at `{rev}`",
                    given.display()
                ),
                "give a plan file or a directory of plans",
            ));
        }
        if at_rev.exists() {
            snap.base_paths.push(at_rev);
        }
        if in_tree {
            snap.head_paths.push(given);
        }
    }
    Ok(snap)
}

/// Write each blob to `dir/path`, reading them all through one `git cat-file --batch`.
fn write_blobs(repo: &Path, dir: &Path, blobs: &[(String, PathBuf)]) -> std::io::Result<()> {
    if blobs.is_empty() {
        return Ok(());
    }
    let mut child = Command::new("git")
        .args(["cat-file", "--batch"])
        .current_dir(repo)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| std::io::Error::other("no stdin"))?;
    let mut input = String::new();
    for (oid, _) in blobs {
        input.push_str(oid);
        input.push('\n');
    }
    let writer = std::thread::spawn(move || {
        let r = stdin.write_all(input.as_bytes());
        drop(stdin);
        r
    });
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| std::io::Error::other("no stdout"))?;
    let mut reader = BufReader::new(stdout);
    let mut result = Ok(());
    for (oid, path) in blobs {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 {
            result = Err(std::io::Error::other(format!(
                "`git cat-file` stopped before {oid}"
            )));
            break;
        }
        let fields: Vec<&str> = header.split_whitespace().collect();
        let size = match fields.as_slice() {
            [_, "blob", size] => size.parse::<u64>().map_err(std::io::Error::other)?,
            _ => {
                result = Err(std::io::Error::other(format!(
                    "unexpected `git cat-file` answer `{}`",
                    header.trim()
                )));
                break;
            }
        };
        let mut content = Vec::new();
        (&mut reader).take(size).read_to_end(&mut content)?;
        let mut newline = [0u8; 1];
        reader.read_exact(&mut newline)?;
        let dest = dir.join(path);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(dest, content)?;
    }
    drop(reader);
    let _ = writer.join();
    let _ = child.wait();
    result
}
