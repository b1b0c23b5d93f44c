//! The pre-commit hooks (`.pre-commit-hooks.yaml`) work with the real `pre-commit`.
//!
//! pre-commit validates the hooks file as a hook repository's manifest. Then the hooks are run
//! the way a consumer repository runs them, on a repository that keeps a plan, generated files
//! and other YAML: its `.pre-commit-config.yaml` is generated from `.pre-commit-hooks.yaml`,
//! every hook copied field by field (entry, args, files, types, `pass_filenames`, …) as a
//! `repo: local` hook, except that it is `language: system` and its entry runs the `upkeep`
//! this test suite built. The hooks themselves are `language: rust`, for which pre-commit
//! would build `upkeep` again with cargo: a second full build of the crate, for nothing the
//! suite does not already prove.

mod common;

use common::{git, run_ok, scratch};

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

/// `.pre-commit-hooks.yaml` as consumer hooks that run this build of `upkeep`.
fn local_hooks() -> Value {
    let text = std::fs::read_to_string(common::root().join(".pre-commit-hooks.yaml"))
        .expect("read .pre-commit-hooks.yaml");
    let hooks: Value = serde_saphyr::from_str(&text).expect(".pre-commit-hooks.yaml is YAML");
    let mut hooks = hooks.as_array().expect("a list of hooks").clone();
    assert_eq!(hooks.len(), 2, "{hooks:?}");
    for hook in &mut hooks {
        let hook = hook.as_object_mut().expect("a hook is a mapping");
        assert_eq!(hook["language"], "rust", "{hook:?}");
        let entry = hook["entry"].as_str().expect("entry");
        let args = entry.strip_prefix("upkeep ").expect("entry runs upkeep");
        let bin = env!("CARGO_BIN_EXE_upkeep");
        assert!(
            !bin.contains(' '),
            "pre-commit splits entry on spaces: {bin}"
        );
        hook.insert("entry".into(), format!("{bin} {args}").into());
        hook.insert("language".into(), "system".into());
    }
    json!({ "repos": [{ "repo": "local", "hooks": hooks }] })
}

/// `pre-commit ARGS` in `dir`, with its cache in a scratch directory: (success, output).
fn pre_commit(pre_commit: &Path, dir: &Path, args: &[&str]) -> (bool, String) {
    let o = Command::new(pre_commit)
        .args(args)
        .current_dir(dir)
        .env("PRE_COMMIT_HOME", dir.with_extension("home"))
        .env("NO_COLOR", "1")
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
fn hooks_file_is_a_valid_manifest() {
    let Some(pre_commit) = common::tool("pre-commit") else {
        return;
    };
    run_ok(
        Command::new(pre_commit)
            .args(["validate-manifest", ".pre-commit-hooks.yaml"])
            .current_dir(common::root()),
    );
}

#[test]
fn hooks_run_under_pre_commit() {
    let Some(pre_commit_bin) = common::tool("pre-commit") else {
        return;
    };
    let run = |args: &[&str], dir: &Path| pre_commit(&pre_commit_bin, dir, args);
    let consumer = scratch("consumer");
    std::fs::create_dir_all(consumer.join("plans")).expect("mkdir");

    // A repository with a plan, its generated files, YAML that is not a plan, and the hooks.
    let fixture = common::root().join("tests/fixtures/diff/thresholds");
    let plan = consumer.join("plans/shop.yaml");
    // With the base URL its runbook links need (the diff fixtures leave it out).
    let text = std::fs::read_to_string(fixture.join("base/plan.yaml")).expect("read plan");
    let text = text.replacen(
        "  owner: sre\n",
        "  owner: sre\n  runbook_base_url: https://docs.example.org/runbooks\n",
        1,
    );
    // The fixture's Sunday vacuum runs while its hourly incremental backup does
    // (`task/overlap`, which covers backups since issue 14); this test is about the hooks, so
    // the vacuum takes 20 minutes, the backups run at half past, and old backups are pruned.
    let text = text
        .replacen(
            "    window: sunday\n    duration: 1h\n",
            "    window: sunday\n    duration: 20m\n",
            1,
        )
        .replacen(
            "incremental: {schedule: \"every 1h\"",
            "incremental: {schedule: \"cron 30 * * * *\"",
            1,
        )
        // Its retention enforced (`backup/retention-unenforced` otherwise).
        .replacen(
            "    command: /usr/local/bin/pg-backup\n",
            "    command: /usr/local/bin/pg-backup\n    prune: \"find /var/backups/postgres/$1 -type f -mmin +$2 -delete\"\n",
            1,
        );
    std::fs::write(&plan, text).expect("write plan");
    std::fs::create_dir_all(consumer.join(".github/workflows")).expect("mkdir");
    std::fs::copy(
        common::root().join("examples/github-actions.yml"),
        consumer.join(".github/workflows/ci.yml"),
    )
    .expect("copy workflow");
    // The repository exists before the first build: generated files name plans by their path
    // in it (outside a repository, from the tree given on the command line).
    git(&consumer, &["init", "-q"]);
    let built = Command::new(env!("CARGO_BIN_EXE_upkeep"))
        .args(["build", "plans/", "--out", "deploy/"])
        .current_dir(&consumer)
        .output()
        .expect("run upkeep");
    assert!(built.status.success());
    let config = serde_json::to_string_pretty(&local_hooks()).expect("JSON");
    // JSON is YAML: pre-commit reads it as it is.
    std::fs::write(consumer.join(".pre-commit-config.yaml"), config).expect("write config");
    git(&consumer, &["add", "-A"]);
    git(&consumer, &["commit", "-q", "-m", "plans"]);
    let (ok, text) = run(&["validate-config", ".pre-commit-config.yaml"], &consumer);
    assert!(ok, "{text}");

    // The documented use: the check hook on a changed plan.
    const CHECK_SHOP: &[&str] = &[
        "run",
        "upkeep-check",
        "--verbose",
        "--files",
        "plans/shop.yaml",
    ];
    let (ok, text) = run(CHECK_SHOP, &consumer);
    assert!(ok, "{text}");
    assert!(
        text.contains("upkeep check....") && text.contains("Passed"),
        "{text}"
    );
    assert!(text.contains("checked 1 file: no problems"), "{text}");

    // Every hook on every file: the generated files and the workflow are YAML but not plans,
    // and the hook is not given them; the generated files are in sync.
    let (ok, text) = run(&["run", "--verbose", "--all-files"], &consumer);
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
    let (ok, text) = run(CHECK_SHOP, &consumer);
    assert!(!ok, "{text}");
    assert!(text.contains("Failed"), "{text}");
    assert!(text.contains("kpi/threshold-order"), "{text}");

    // A valid change without rebuilding fails the build-check hook, naming the stale file.
    let changed = good.replace("    critical: \"> 500ms\"", "    critical: \"> 800ms\"");
    std::fs::write(&plan, &changed).expect("write");
    git(&consumer, &["add", "plans/shop.yaml"]);
    let (ok, text) = run(
        &["run", "upkeep-build-check", "--verbose", "--all-files"],
        &consumer,
    );
    assert!(!ok, "{text}");
    assert!(
        text.contains("deploy/prometheus/shop.rules.yaml: differs"),
        "{text}"
    );
    assert!(text.contains("out of date"), "{text}");

    let _ = std::fs::remove_dir_all(&consumer);
    let _ = std::fs::remove_dir_all(consumer.with_extension("home"));
}
