//! Shared test helpers: running the compiler on fixtures, rendering what users see, and
//! finding external validators.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use upkeep::diag::render::{self, HumanOptions};
use upkeep::driver::{self, Workspace};

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
        },
    )
}

/// An external validator. Missing: under `CI` the test fails; locally it is skipped loudly.
pub fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "validator `{name}` is not installed and CI is set; run ./scripts/install-validators.sh"
        );
        eprintln!(
            "SKIPPED: validator `{name}` is not installed (run ./scripts/install-validators.sh)"
        );
    }
    found
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
