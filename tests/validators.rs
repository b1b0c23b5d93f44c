//! A missing validator never passes silently: `common::tool` fails the test unless
//! `UPKEEP_ALLOW_SKIP=1` (and under `CI` even then); an allowed skip is listed in a file that
//! `scripts/test.sh` prints after the run. Environment variables are process-wide and tests run
//! on parallel threads, so the rule is proved on a child process: this test binary, running only
//! `probe`, with the environment each case needs.

mod common;

use std::ffi::OsStr;
use std::process::{Command, Output};

use common::{code, skip_allowed, stderr, stdout};

const ABSENT: &str = "definitely-not-a-tool-xyz";

/// Looks up the validator named by `UPKEEP_PROBE_TOOL`; does nothing when it is not set (as in
/// every ordinary run).
#[test]
fn probe() {
    if let Some(name) = std::env::var_os("UPKEEP_PROBE_TOOL") {
        let found = common::tool(&name.to_string_lossy());
        println!("probe found: {found:?}");
    }
}

/// This test binary running `probe` for the absent tool, with `CI` and `UPKEEP_ALLOW_SKIP` as
/// given (unset when `None`) and the skip list in `list`.
fn run_probe(ci: Option<&str>, allow: Option<&str>, list: &std::path::Path) -> Output {
    let mut cmd = Command::new(std::env::current_exe().expect("test binary"));
    cmd.args(["probe", "--exact", "--nocapture", "--test-threads=1"])
        .env("UPKEEP_PROBE_TOOL", ABSENT)
        .env("UPKEEP_SKIP_FILE", list)
        .env_remove("CI")
        .env_remove("UPKEEP_ALLOW_SKIP");
    if let Some(v) = ci {
        cmd.env("CI", v);
    }
    if let Some(v) = allow {
        cmd.env("UPKEEP_ALLOW_SKIP", v);
    }
    cmd.output().expect("run the test binary")
}

#[test]
fn missing_validator_fails_the_test() {
    let dir = common::scratch("skip-fails");
    let list = dir.join("skipped.txt");
    for (ci, allow) in [
        (None, None),
        (None, Some("0")),
        (None, Some("yes")),
        (Some("true"), None),
        (Some("true"), Some("1")),
        (Some("1"), Some("1")),
    ] {
        let o = run_probe(ci, allow, &list);
        let text = format!("{}{}", stdout(&o), stderr(&o));
        assert_eq!(
            code(&o),
            101,
            "CI={ci:?} UPKEEP_ALLOW_SKIP={allow:?}:\n{text}"
        );
        assert!(
            text.contains(&format!("validator `{ABSENT}` is not installed")),
            "{text}"
        );
        assert!(text.contains("UPKEEP_ALLOW_SKIP=1"), "{text}");
        assert!(!list.exists(), "a failure is not listed as a skip");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn allowed_skip_is_listed() {
    let dir = common::scratch("skip-listed");
    let list = dir.join("skipped.txt");
    for ci in [None, Some(""), Some("false")] {
        let o = run_probe(ci, Some("1"), &list);
        assert_eq!(code(&o), 0, "CI={ci:?}:\n{}", stderr(&o));
        assert!(stdout(&o).contains("probe found: None"), "{}", stdout(&o));
        assert!(stderr(&o).contains("SKIPPED"), "{}", stderr(&o));
    }
    let listed = std::fs::read_to_string(&list).expect("the skip list");
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 3, "{listed}");
    for line in lines {
        assert!(
            line.starts_with("SKIPPED: validators::probe: validator `definitely-not-a-tool-xyz`"),
            "{line}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn skip_allowed_only_when_asked_and_never_under_ci() {
    let s = |v: &'static str| Some(OsStr::new(v));
    assert!(!skip_allowed(None, None));
    assert!(skip_allowed(None, s("1")));
    assert!(!skip_allowed(None, s("0")));
    assert!(!skip_allowed(None, s("true")));
    assert!(!skip_allowed(None, s("")));
    assert!(!skip_allowed(s("true"), s("1")));
    assert!(!skip_allowed(s("1"), s("1")));
    assert!(!skip_allowed(s("yes"), s("1")));
    assert!(skip_allowed(s(""), s("1")));
    assert!(skip_allowed(s("false"), s("1")));
    assert!(skip_allowed(s("0"), s("1")));
}
