//! Shared test helpers: running the compiler on fixtures, rendering what users see, and
//! finding external validators (a missing one fails the test unless `UPKEEP_ALLOW_SKIP=1`).
#![allow(dead_code, unreachable_pub)]

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use upkeep::diag::render::{self, HumanOptions};
use upkeep::driver::{self, Workspace};

pub mod servers;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Check `path` (a file or a directory) from the crate root, so names in reports are relative.
pub fn check(path: &Path) -> Workspace {
    std::env::set_current_dir(root()).expect("cd to crate root");
    let rel = path.strip_prefix(root()).unwrap_or(path);
    driver::check(&[rel.to_path_buf()], driver::Options::default()).expect("fixture exists")
}

/// The report a user sees in a terminal without colour, at a fixed width.
pub fn human(ws: &Workspace) -> String {
    render::human(
        &ws.diagnostics,
        &ws.sources,
        ws.files,
        HumanOptions {
            color: false,
            width: 100,
            draw_limit: 0,
        },
    )
}

/// An external validator on `PATH`. Missing, it fails the test (see [`missing`]); `None` only
/// when skipping was allowed explicitly.
pub fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        missing(&format!("validator `{name}`"));
    }
    found
}

/// Whether a test may pass without a validator it needs: only when `UPKEEP_ALLOW_SKIP=1`, and
/// never under CI (`CI` set to anything but empty, `0` or `false`), where a missing validator
/// would make a green run prove nothing.
pub fn skip_allowed(ci: Option<&OsStr>, allow: Option<&OsStr>) -> bool {
    let ci = ci.is_some_and(|v| !matches!(v.to_str(), Some("" | "0" | "false")));
    !ci && allow.is_some_and(|v| v == "1")
}

/// Where allowed skips are listed, one line each, for `scripts/test.sh` to print after the run
/// (cargo test hides the stderr of passing tests): `target/upkeep-skipped.txt`, or
/// `UPKEEP_SKIP_FILE` (the tests of this very rule use their own file).
pub fn skip_file() -> PathBuf {
    std::env::var_os("UPKEEP_SKIP_FILE").map_or_else(
        || {
            // CARGO_TARGET_TMPDIR is TARGET/tmp, wherever the target directory is.
            Path::new(env!("CARGO_TARGET_TMPDIR"))
                .parent()
                .expect("target directory")
                .join("upkeep-skipped.txt")
        },
        PathBuf::from,
    )
}

/// Something a test needs is not installed (`what`: "validator `promtool`"). The test fails,
/// unless [`skip_allowed`]: then it is skipped, loudly, and listed in [`skip_file`].
pub fn missing(what: &str) {
    let how = "run ./scripts/install-validators.sh";
    assert!(
        skip_allowed(
            std::env::var_os("CI").as_deref(),
            std::env::var_os("UPKEEP_ALLOW_SKIP").as_deref()
        ),
        "{what} is not installed; {how} (or set UPKEEP_ALLOW_SKIP=1 to skip, never under CI)"
    );
    // The test binary (`cli-0123abcd` → `cli`) and the test (libtest names its thread after it).
    let exe = std::env::current_exe().ok();
    let stem = exe
        .as_deref()
        .and_then(Path::file_stem)
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let bin = stem.rsplit_once('-').map_or(stem.as_str(), |(b, _)| b);
    let test = std::thread::current().name().unwrap_or("?").to_owned();
    let test = format!("{bin}::{test}");
    let line = format!("SKIPPED: {test}: {what} is not installed ({how})");
    eprintln!("{line}");
    let file = skip_file();
    if let Some(dir) = file.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    // One write per line, appended: tests in parallel threads and processes do not interleave.
    let _ = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file)
        .and_then(|mut f| f.write_all(format!("{line}\n").as_bytes()));
}

/// Run a validator; panic with its output when it fails.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

/// Run a validator that must reject its input.
pub fn run_fails(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.status.success(),
        "{cmd:?} accepted what it should reject:\n{text}"
    );
    text
}

/// An empty scratch directory of this test process, created.
pub fn scratch(tag: &str) -> PathBuf {
    let dir = fresh(tag);
    std::fs::create_dir_all(&dir).expect("create scratch directory");
    dir
}

/// A path for this test process that does not exist (an output directory to be built).
pub fn fresh(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("upkeep-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// `upkeep ARGS` in `dir`, without `NO_COLOR` from the environment.
pub fn upkeep_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_upkeep"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("run upkeep")
}

/// `upkeep build SOURCE [ARGS] --out DIR` from the crate root, which must succeed; the new DIR.
pub fn build(source: &str, tag: &str, args: &[&str]) -> PathBuf {
    let out = fresh(tag);
    let out_arg = out.to_string_lossy().into_owned();
    let mut all = vec!["build", source];
    all.extend_from_slice(args);
    all.extend(["--out", out_arg.as_str()]);
    let o = upkeep_in(&root(), &all);
    assert!(
        o.status.success(),
        "build {source} failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// The files under `dir` whose path ends with `suffix`, sorted.
pub fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .map(walkdir::DirEntry::into_path)
        .filter(|p| p.is_file() && p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    v
}

/// `git ARGS` in `dir` with a throwaway identity, which must succeed.
pub fn git(dir: &Path, args: &[&str]) -> Output {
    let o = Command::new("git")
        .args(["-c", "user.email=t@t", "-c", "user.name=t"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
