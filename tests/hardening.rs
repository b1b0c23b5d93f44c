//! Hardening: a build killed at any moment leaves the previous output whole; hostile names
//! cannot write outside `--out`; the output does not depend on the working directory or the
//! order files are given in; every input the fuzzers ever found stays fixed.

mod common;

use common::scratch;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_upkeep"))
}

/// Every file under `dir`, by relative path.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(dir).expect("prefix").to_path_buf(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect()
}

/// `n` copies of the bundled plans under `dir`, each with its own plan name.
fn copies(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir.join("shared")).expect("dir");
    std::fs::copy(
        common::root().join("plans/shared/runbooks.yaml"),
        dir.join("shared/runbooks.yaml"),
    )
    .expect("fragment");
    for entry in std::fs::read_dir(common::root().join("plans")).expect("plans") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let stem = path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&path).expect("plan");
        let needle = format!("\n  name: {stem}\n");
        assert!(
            text.contains(&needle),
            "{stem}: no `name: {stem}` line to rename"
        );
        for k in 0..n {
            std::fs::write(
                dir.join(format!("{stem}-{k}.yaml")),
                text.replacen(&needle, &format!("\n  name: {stem}-{k}\n"), 1),
            )
            .expect("write");
        }
    }
}

fn build(cwd: &Path, args: &[&str]) -> std::process::Output {
    bin()
        .current_dir(cwd)
        .arg("build")
        .args(args)
        .output()
        .expect("run upkeep")
}

/// SIGKILL at moments spread over a whole build: the output directory always holds exactly the
/// previous build or exactly the new one, and the next build removes what the killed one left.
#[test]
fn a_killed_build_leaves_the_previous_output_whole() {
    let t = scratch("kill");
    copies(&t.join("a"), 4);
    // Another number of copies: the builds differ in their files (outside a repository the
    // headers name each plan from its tree, `conecta360-0.yaml` in both).
    copies(&t.join("b"), 5);
    assert!(build(&t, &["a", "--out", "ref-a"]).status.success());
    let started = Instant::now();
    assert!(build(&t, &["b", "--out", "ref-b"]).status.success());
    let full = started.elapsed();
    let (ref_a, ref_b) = (tree(&t.join("ref-a")), tree(&t.join("ref-b")));
    assert!(
        ref_a.len() > 150,
        "only {} files: too small a build to interrupt",
        ref_a.len()
    );
    assert_ne!(
        ref_a, ref_b,
        "the two builds must differ (they hold other plans)"
    );
    let out = t.join("out");
    assert!(build(&t, &["a", "--out", "out"]).status.success());
    let (mut old, mut new, mut mid_write) = (0, 0, 0);
    let rounds: u32 = 24;
    for i in 0..rounds {
        let mut child = bin()
            .current_dir(&t)
            .args(["build", "b", "--out", "out"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        if i % 2 == 0 {
            // Anywhere from the start of the build to a little past its usual end.
            std::thread::sleep(full.mul_f64(0.1 + 1.1 * f64::from(i) / f64::from(rounds)));
        } else {
            // While writing: once the staging directory appears, a little later each round.
            let staging = t.join(format!(".out.upkeep-{}", child.id()));
            while !staging.exists() && child.try_wait().expect("wait").is_none() {
                std::thread::sleep(Duration::from_micros(200));
            }
            std::thread::sleep(Duration::from_micros(400 * u64::from(i / 2)));
        }
        let stage = t.join(format!(".out.upkeep-{}", child.id()));
        let _ = child.kill();
        let _ = child.wait();
        if stage.exists() {
            mid_write += 1;
        }
        let now = tree(&out);
        if now == ref_a {
            old += 1;
        } else if now == ref_b {
            new += 1;
            assert!(build(&t, &["a", "--out", "out"]).status.success());
        } else {
            let missing = ref_a.keys().filter(|k| !now.contains_key(*k)).count();
            panic!(
                "round {i}: the output is neither build ({} files, {missing} of the old ones missing)",
                now.len()
            );
        }
    }
    eprintln!(
        "{old} builds killed before the swap ({mid_write} of them while writing), {new} completed (a full build takes {full:?})"
    );
    assert!(
        mid_write >= 3,
        "only {mid_write} of {rounds} kills landed while the build was writing: the test proves nothing"
    );
    assert!(build(&t, &["a", "--out", "out"]).status.success());
    let leftovers: Vec<String> = std::fs::read_dir(&t)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".out."))
        .collect();
    assert!(
        leftovers.is_empty(),
        "staging directories of killed builds were left behind: {leftovers:?}"
    );
    let _ = std::fs::remove_dir_all(&t);
}

/// A failed write (the output's parent is a file) reports the error and writes nothing.
#[test]
fn an_unwritable_output_is_an_error_not_a_partial_tree() {
    let t = scratch("unwritable");
    std::fs::write(t.join("file"), "not a directory").expect("write");
    let out = build(
        &common::root(),
        &[
            "plans/",
            "--out",
            t.join("file/out").to_str().expect("utf-8"),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot write"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(t.join("file")).expect("read"),
        "not a directory"
    );
    let _ = std::fs::remove_dir_all(&t);
}

/// Names that would be paths are rejected before anything is written, and the writer itself
/// refuses a path that leaves the output directory.
#[test]
fn hostile_names_cannot_write_outside_the_output() {
    let t = scratch("names");
    let plans = [
        ("plan", "metadata: {name: \"../../etc\", timezone: UTC}\n"),
        (
            "env",
            "metadata: {name: p, timezone: UTC}\nenvironments:\n  \"../../x\": {replicas: 1}\n",
        ),
        (
            "runbook",
            "metadata: {name: p, timezone: UTC}\nrunbooks:\n  \"../../y\": {title: Y}\n",
        ),
        (
            "task",
            "metadata: {name: p, timezone: UTC}\ntasks:\n  \"a/../../b\": {schedule: \"daily at 02:00\", duration: 1m, manual: true}\n",
        ),
        (
            "absolute",
            "metadata: {name: \"/tmp/evil\", timezone: UTC}\n",
        ),
        ("dot", "metadata: {name: \".\", timezone: UTC}\n"),
    ];
    for (tag, body) in plans {
        let dir = t.join(tag).join("deep");
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(
            dir.join("plan.yaml"),
            format!("apiVersion: upkeep/v1\nkind: Plan\n{body}"),
        )
        .expect("write");
        let before = tree(&t);
        let out = build(&dir, &["plan.yaml", "--out", "out"]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{tag}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("not a valid name")
                || String::from_utf8_lossy(&out.stderr).contains("is not valid"),
            "{tag}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(before, tree(&t), "{tag}: something was written");
    }
    let artifact = upkeep::emit::Artifact {
        path: "../escaped.txt".into(),
        content: String::new(),
    };
    let err = upkeep::write::write(&t.join("out"), &[artifact])
        .expect_err("a path outside the output is refused");
    assert!(
        err.to_string().contains("outside the output directory"),
        "{err}"
    );
    assert!(!t.join("escaped.txt").exists());
    let _ = std::fs::remove_dir_all(&t);
}

/// The same plans give the same bytes from another working directory and in any file order.
#[test]
fn output_does_not_depend_on_directory_or_order() {
    let t = scratch("order");
    let root = common::root();
    assert!(
        build(
            &root,
            &[
                "plans/",
                "--out",
                t.join("from-root").to_str().expect("utf-8")
            ]
        )
        .status
        .success()
    );
    let plans_abs = root.join("plans");
    assert!(
        build(
            &t,
            &[
                plans_abs.to_str().expect("utf-8"),
                "--out",
                "from-elsewhere"
            ]
        )
        .status
        .success()
    );
    let mut files: Vec<String> = ["conecta360", "diabetes", "ecplacas", "nuam", "sigcerh"]
        .iter()
        .map(|p| format!("plans/{p}.yaml"))
        .collect();
    files.reverse();
    let mut args: Vec<&str> = files.iter().map(String::as_str).collect();
    let reversed = t.join("reversed");
    args.extend(["--out", reversed.to_str().expect("utf-8")]);
    assert!(build(&root, &args).status.success());
    files.swap(0, 3);
    files.swap(1, 4);
    let mut args: Vec<&str> = files.iter().map(String::as_str).collect();
    let shuffled = t.join("shuffled");
    args.extend(["--out", shuffled.to_str().expect("utf-8")]);
    assert!(build(&root, &args).status.success());
    let reference = tree(&t.join("from-root"));
    assert!(reference.len() > 40, "only {} files", reference.len());
    for other in ["from-elsewhere", "reversed", "shuffled"] {
        let got = tree(&t.join(other));
        assert_eq!(
            reference.keys().collect::<Vec<_>>(),
            got.keys().collect::<Vec<_>>(),
            "{other}: other files"
        );
        for (path, bytes) in &reference {
            assert!(got[path] == *bytes, "{other}: {} differs", path.display());
        }
    }
    let _ = std::fs::remove_dir_all(&t);
}

/// Inputs the fuzzers found (and other hostile inputs): checking them and building every target
/// in memory terminates without a panic.
#[test]
fn fuzz_findings_stay_fixed() {
    let dir = common::root().join("tests/fixtures/fuzz");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/fixtures/fuzz") {
        let path = entry.expect("entry").path();
        let text = String::from_utf8_lossy(&std::fs::read(&path).expect("read")).into_owned();
        let ws = upkeep::driver::check_texts(
            vec![(path.clone(), text)],
            upkeep::driver::Options::default(),
        );
        let _ = upkeep::diag::render::human(
            &ws.diagnostics,
            &ws.sources,
            ws.files,
            upkeep::diag::render::HumanOptions::default(),
        );
        if ws.errors() == 0 {
            let _ = upkeep::driver::build(&ws, &upkeep::emit::Options::default());
        }
        n += 1;
    }
    assert!(n > 0, "no fuzz fixtures");
}
