//! The pre-commit hooks (`.pre-commit-hooks.yaml`) work with the real `pre-commit`: a copy of
//! this repository (its tracked and untracked files, committed in a temporary git repository)
//! is the hook repository, and `pre-commit try-repo` runs its hooks in another temporary
//! repository that keeps a plan, generated files and other YAML. The hooks are
//! `language: rust`, so pre-commit builds `upkeep` with cargo: slow the first time, then cached
//! in `target/precommit` (cargo runs offline, from the crates the test suite already has).

mod common;

use common::{git, scratch};

use std::path::{Path, PathBuf};
use std::process::Command;

/// This repository as it is in the working tree, committed in a fresh git repository.
fn hook_repo(dir: &Path) {
    let root = common::root();
    let listed = git(
        &root,
        &[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
    );
    for name in listed.stdout.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let rel = PathBuf::from(String::from_utf8_lossy(name).into_owned());
        let from = root.join(&rel);
        if !from.is_file() {
            continue; // deleted in the working tree
        }
        let to = dir.join(&rel);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&from, &to).expect("copy");
    }
    assert!(dir.join(".pre-commit-hooks.yaml").is_file());
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "hooks"]);
}

fn try_repo(pre_commit: &Path, consumer: &Path, hooks: &Path, args: &[&str]) -> (bool, String) {
    let home = consumer.with_extension("home");
    let o = Command::new(pre_commit)
        .arg("try-repo")
        .arg(hooks)
        .args(args)
        .arg("--verbose")
        .current_dir(consumer)
        .env("PRE_COMMIT_HOME", &home)
        .env("CARGO_TARGET_DIR", common::root().join("target/precommit"))
        .env("CARGO_NET_OFFLINE", "true")
        // A quick build: the hook is what is tested, not the optimiser.
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
        .output()
        .expect("run pre-commit");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.success(), text)
}

#[test]
fn hooks_run_under_pre_commit() {
    let Some(pre_commit) = common::tool("pre-commit") else {
        return;
    };
    let base = scratch("repos");
    let hooks = base.join("hooks");
    let consumer = base.join("consumer");
    std::fs::create_dir_all(&hooks).expect("mkdir");
    std::fs::create_dir_all(consumer.join("plans")).expect("mkdir");
    hook_repo(&hooks);

    // A repository with a plan, its generated files, and YAML that is not a plan.
    let fixture = common::root().join("tests/fixtures/diff/thresholds");
    let plan = consumer.join("plans/shop.yaml");
    std::fs::copy(fixture.join("base/plan.yaml"), &plan).expect("copy plan");
    std::fs::create_dir_all(consumer.join(".github/workflows")).expect("mkdir");
    std::fs::copy(
        common::root().join("examples/github-actions.yml"),
        consumer.join(".github/workflows/ci.yml"),
    )
    .expect("copy workflow");
    let built = Command::new(env!("CARGO_BIN_EXE_upkeep"))
        .args(["build", "plans/", "--out", "deploy/"])
        .current_dir(&consumer)
        .output()
        .expect("run upkeep");
    assert!(built.status.success());
    git(&consumer, &["init", "-q"]);
    git(&consumer, &["add", "-A"]);
    git(&consumer, &["commit", "-q", "-m", "plans"]);

    // The documented use: the check hook on a changed plan.
    let (ok, text) = try_repo(
        &pre_commit,
        &consumer,
        &hooks,
        &["upkeep-check", "--files", "plans/shop.yaml"],
    );
    assert!(ok, "{text}");
    assert!(
        text.contains("upkeep check....") && text.contains("Passed"),
        "{text}"
    );
    assert!(text.contains("checked 1 file: no problems"), "{text}");

    // Every hook on every file: the generated files and the workflow are YAML but not plans,
    // and the hook is not given them; the generated files are in sync.
    let (ok, text) = try_repo(&pre_commit, &consumer, &hooks, &["--all-files"]);
    assert!(ok, "{text}");
    assert!(text.contains("checked 1 file: no problems"), "{text}");
    assert!(
        text.contains("generated files are up to date in deploy/"),
        "{text}"
    );
    assert!(!text.contains("Failed"), "{text}");

    // A plan with an error fails the check hook, with the diagnostic.
    let good = std::fs::read_to_string(&plan).expect("plan");
    let broken = good.replace("    warning: \"> 250ms\"", "    warning: \"> 600ms\"");
    assert_ne!(broken, good);
    std::fs::write(&plan, &broken).expect("write");
    git(&consumer, &["add", "plans/shop.yaml"]);
    let (ok, text) = try_repo(
        &pre_commit,
        &consumer,
        &hooks,
        &["upkeep-check", "--files", "plans/shop.yaml"],
    );
    assert!(!ok, "{text}");
    assert!(text.contains("Failed"), "{text}");
    assert!(text.contains("kpi/threshold-order"), "{text}");

    // A valid change without rebuilding fails the build-check hook, naming the stale file.
    let changed = good.replace("    critical: \"> 500ms\"", "    critical: \"> 800ms\"");
    std::fs::write(&plan, &changed).expect("write");
    git(&consumer, &["add", "plans/shop.yaml"]);
    let (ok, text) = try_repo(
        &pre_commit,
        &consumer,
        &hooks,
        &["upkeep-build-check", "--all-files"],
    );
    assert!(!ok, "{text}");
    assert!(
        text.contains("deploy/prometheus/shop.rules.yaml: differs"),
        "{text}"
    );
    assert!(text.contains("out of date"), "{text}");

    let _ = std::fs::remove_dir_all(&base);
}
