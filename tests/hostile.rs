//! Hostile and careless input: one plan per case under `tests/fixtures/hostile/`. A case whose
//! first lines say `# expect: CODE` must be refused with that code (and nothing written);
//! any other case must build, and its generated files must keep their structure whatever the
//! text in names and fields: as many crontab entries as jobs, a crontab that `crontab -n`
//! accepts, no line a plan's text added.

mod common;

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use common::{code, stderr, upkeep_in};

/// The text of the hostile case `name`.
fn case(name: &str) -> String {
    std::fs::read_to_string(common::root().join("tests/fixtures/hostile").join(name)).expect("case")
}

/// A small plan that builds: the cron case with a schedule crontab accepts.
fn small_plan() -> String {
    case("accepted_then_rejected_cron.yaml").replace("cron 0/5 * * * *", "daily at 01:00")
}

/// The crontab's entries (non-comment, non-blank, non-variable lines) and its job headers.
fn crontab_shape(text: &str) -> (usize, usize) {
    let entries = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter(|l| l.split_once('=').is_none_or(|(k, _)| k.contains(' ')))
        .count();
    let headers = text
        .lines()
        .filter(|l| {
            ["# task ", "# backup ", "# restore test ", "# health probe "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .count();
    (entries, headers)
}

fn assert_crontabs_whole(out: &Path, case: &str) {
    let crontabs = common::files(&out.join("cron"), ".crontab");
    assert!(!crontabs.is_empty(), "{case}: no crontab");
    for f in crontabs {
        let text = std::fs::read_to_string(&f).expect("crontab");
        let (entries, headers) = crontab_shape(&text);
        assert_eq!(
            entries,
            headers,
            "{case}: {} has {entries} entries for {headers} jobs:\n{text}",
            f.display()
        );
        assert!(
            !text.contains("upkeep-pwned\n") || text.lines().all(|l| !l.starts_with("* * * * *")),
            "{case}: plan text became a crontab entry:\n{text}"
        );
        if let Some(crontab) = common::tool("crontab") {
            common::run_ok(Command::new(crontab).arg("-n").arg(&f));
        }
    }
}

/// promtool accepts every rules file and its generated tests pass: the tests expect the plan's
/// text in labels and annotations literally, so text that Prometheus expanded would fail them.
fn assert_rules_literal(out: &Path, case: &str) {
    let Some(promtool) = common::tool("promtool") else {
        return;
    };
    for f in common::files(&out.join("prometheus"), ".rules.yaml") {
        common::run_ok(Command::new(&promtool).arg("check").arg("rules").arg(&f));
    }
    for f in common::files(&out.join("prometheus"), ".rules.test.yaml") {
        let text = common::run_ok(
            Command::new(&promtool)
                .arg("test")
                .arg("rules")
                .arg(&f)
                .current_dir(f.parent().expect("dir")),
        );
        assert!(text.contains("SUCCESS"), "{case}: {text}");
    }
}

/// Read leniently (a content line ends at CR, LF or CRLF), a calendar still has one VEVENT per
/// event upkeep wrote and no line that a plan's text made.
fn assert_calendars_whole(out: &Path, case: &str) {
    for f in common::files(&out.join("calendar"), ".ics") {
        let text = std::fs::read_to_string(&f).expect("ics");
        let strict = text.matches("\r\nBEGIN:VEVENT\r\n").count();
        let lenient: Vec<&str> = text.split(['\r', '\n']).collect();
        let begins = lenient.iter().filter(|l| **l == "BEGIN:VEVENT").count();
        assert_eq!(
            begins,
            strict,
            "{case}: {} gains events when read leniently",
            f.display()
        );
        assert!(
            !lenient.iter().any(|l| l.starts_with("SUMMARY:pwned")),
            "{case}: plan text became a calendar line:\n{text}"
        );
    }
}

#[test]
fn hostile_cases() {
    let dir = common::root().join("tests/fixtures/hostile");
    let cases = common::files(&dir, ".yaml");
    assert!(cases.len() >= 2, "no hostile cases");
    for case in cases {
        let name = case
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&case).expect("case");
        let expect = text
            .lines()
            .take_while(|l| l.starts_with('#'))
            .find_map(|l| l.strip_prefix("# expect: "));
        let out = common::fresh(&format!("hostile-{name}"));
        let rel = case.strip_prefix(common::root()).unwrap_or(&case);
        let o = upkeep_in(
            &common::root(),
            &[
                "build",
                &rel.to_string_lossy(),
                "--out",
                &out.to_string_lossy(),
            ],
        );
        match expect {
            Some(want) => {
                assert_eq!(code(&o), 1, "{name} must be refused:\n{}", stderr(&o));
                assert!(
                    stderr(&o).contains(want.trim()),
                    "{name} must report {want}:\n{}",
                    stderr(&o)
                );
                assert!(!out.exists(), "{name}: refused, yet something was written");
            }
            None => {
                assert_eq!(code(&o), 0, "{name} must build:\n{}", stderr(&o));
                assert_crontabs_whole(&out, name);
                assert_rules_literal(&out, name);
                assert_calendars_whole(&out, name);
            }
        }
        let _ = std::fs::remove_dir_all(&out);
    }
}

/// A plan file whose name holds line breaks and a cron entry: the name reaches the generated
/// files' headers and comments, escaped, and adds no line.
#[test]
fn a_file_name_cannot_add_lines() {
    let dir = common::scratch("hostile-file-name");
    let plan = case("multiline_command.yaml");
    let evil = "evil\n* * * * * root touch upkeep-pwned\n\r#.yaml";
    std::fs::write(dir.join(evil), plan).expect("write plan");
    let out = dir.join("out");
    let o = upkeep_in(&dir, &["build", evil, "--out", &out.to_string_lossy()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_crontabs_whole(&out, "file name");
    for f in common::files(&out, "") {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        assert!(
            !text.lines().any(|l| l.starts_with("* * * * * root touch")),
            "{}: the file name added a line:\n{text}",
            f.display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `upkeep ARGS` in the crate root, killed after 20 s: a hang is a failure, not a stuck suite.
fn bounded(args: &[&str]) -> std::process::Output {
    let o = Command::new("timeout")
        .arg("20")
        .arg(env!("CARGO_BIN_EXE_upkeep"))
        .args(args)
        .current_dir(common::root())
        .output()
        .expect("run upkeep");
    assert_ne!(o.status.code(), Some(124), "{args:?} hung");
    o
}

/// `PromQL` nested a million brackets deep, or a chain of a million operators (2 MB, under the
/// file-size limit), overflowed the parser's stack (the chain first took the parser hours);
/// `check` and `import` refuse both at the first bracket or operator too many.
#[test]
fn promql_nested_too_deep_is_refused_not_parsed() {
    let dir = common::scratch("hostile-promql-depth");
    let nested = format!("{}up{}", "(".repeat(1_000_000), ")".repeat(1_000_000));
    let chain = format!("up{}", "+up".repeat(1_000_000));
    for (name, deep, why) in [
        ("nested", nested, "brackets nested deeper than 256 levels"),
        ("chain", chain, "more than 1024 operators"),
    ] {
        let plan = case("../check/ok_promql_syntax.yaml").replace(
            "sum(rate(http_requests_total{code=~\"5..\"}[5m])) / sum(rate(http_requests_total[5m]))",
            &deep,
        );
        assert!(plan.contains(&deep), "the fixture changed");
        let plan_file = dir.join(format!("{name}.plan.yaml"));
        let rules_file = dir.join(format!("{name}.rules.yaml"));
        std::fs::write(&plan_file, plan).expect("write plan");
        std::fs::write(
            &rules_file,
            format!("groups:\n- name: a\n  rules:\n  - alert: A\n    expr: '{deep} > 1'\n"),
        )
        .expect("write rules");
        for (command, file) in [("check", &plan_file), ("import", &rules_file)] {
            let o = bounded(&[command, &file.to_string_lossy()]);
            assert_eq!(code(&o), 1, "{name} {command}: {}", stderr(&o));
            assert!(
                stderr(&o).contains("limit/depth") && stderr(&o).contains(why),
                "{name} {command}: {}",
                stderr(&o)
            );
        }
    }
}

fn mkfifo(path: &Path) {
    common::run_ok(Command::new("mkfifo").arg(path));
}

/// Special files are reported, never opened: a FIFO or `/dev/stdin` as a plan, a FIFO among
/// the templates or in the output directory.
#[test]
fn special_files_are_refused_not_opened() {
    let dir = common::scratch("hostile-special");
    let fifo = dir.join("plan.yaml");
    mkfifo(&fifo);
    for path in [fifo.to_string_lossy().into_owned(), "/dev/stdin".to_owned()] {
        let o = bounded(&["check", &path]);
        assert_eq!(code(&o), 2, "{path}: {}", stderr(&o));
        assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
    }

    let templates = dir.join("templates");
    std::fs::create_dir_all(&templates).expect("mkdir");
    mkfifo(&templates.join("index.md.j2"));
    let out = dir.join("out-templates");
    let o = bounded(&[
        "build",
        "plans/nuam.yaml",
        "--templates",
        &templates.to_string_lossy(),
        "--out",
        &out.to_string_lossy(),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(!out.exists());

    let out = dir.join("out-fifo");
    let o = bounded(&["build", "plans/nuam.yaml", "--out", &out.to_string_lossy()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    mkfifo(&out.join("notes.yaml"));
    let o = bounded(&["build", "plans/nuam.yaml", "--out", &out.to_string_lossy()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("special file"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Links in the output directory are never followed: not to write, not to show a diff.
#[test]
fn links_in_the_output_are_never_followed() {
    let dir = common::scratch("hostile-links");
    let out = dir.join("out");
    let out_arg = out.to_string_lossy().into_owned();
    let o = bounded(&["build", "plans/nuam.yaml", "--out", &out_arg]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    // A generated file replaced by a link to a secret, a generated directory by a link to
    // another directory: `--check` shows neither's content, a build writes through neither.
    let secret = dir.join("secret.txt");
    std::fs::write(&secret, "TOKEN=hunter2\n").expect("secret");
    let victim = dir.join("victim");
    std::fs::create_dir_all(&victim).expect("victim");
    let crontab = out.join("cron/nuam.crontab");
    std::fs::remove_file(&crontab).expect("rm");
    std::os::unix::fs::symlink(&secret, &crontab).expect("link");
    std::fs::remove_dir_all(out.join("kubernetes")).expect("rm");
    std::os::unix::fs::symlink(&victim, out.join("kubernetes")).expect("link");

    let o = bounded(&["build", "plans/nuam.yaml", "--out", &out_arg, "--check"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        !stderr(&o).contains("hunter2"),
        "--check showed a link's target:\n{}",
        stderr(&o)
    );
    let o = bounded(&["build", "plans/nuam.yaml", "--out", &out_arg]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&secret).expect("secret"),
        "TOKEN=hunter2\n"
    );
    assert_eq!(
        std::fs::read_dir(&victim).expect("victim").count(),
        0,
        "wrote through a link"
    );
    assert!(
        !std::fs::symlink_metadata(&crontab)
            .expect("crontab")
            .file_type()
            .is_symlink()
    );

    // An output path that is a file, or a link, is refused before anything moves.
    let file = dir.join("file");
    std::fs::write(&file, "keep me\n").expect("file");
    let o = bounded(&["build", "plans/nuam.yaml", "--out", &file.to_string_lossy()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&file).expect("file"), "keep me\n");
    let link = dir.join("link");
    std::os::unix::fs::symlink(&victim, &link).expect("link");
    let o = bounded(&["build", "plans/nuam.yaml", "--out", &link.to_string_lossy()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_dir(&victim).expect("victim").count(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Imports stay inside the tree named on the command line: an absolute path, a `../` out of
/// it or a link inside it that leads out is refused, and the file is never read or shown.
#[test]
fn imports_stay_inside_the_checked_tree() {
    let dir = common::scratch("hostile-imports");
    let tree = dir.join("tree");
    std::fs::create_dir_all(&tree).expect("mkdir");
    let fragment = "apiVersion: upkeep/v1\nkind: Fragment\nroles:\n  secret-holder: {description: SECRET-CONTENT}\n";
    std::fs::write(dir.join("outside.yaml"), fragment).expect("fragment");
    std::os::unix::fs::symlink(dir.join("outside.yaml"), tree.join("link.yaml")).expect("link");
    for import in ["/etc/passwd", "../outside.yaml", "link.yaml"] {
        let plan = format!(
            "apiVersion: upkeep/v1\nkind: Plan\nmetadata: {{name: shop, timezone: UTC}}\nimports: [\"{import}\"]\n"
        );
        std::fs::write(tree.join("plan.yaml"), plan).expect("plan");
        let o = bounded(&["check", &tree.join("plan.yaml").to_string_lossy()]);
        let err = stderr(&o);
        assert_eq!(code(&o), 1, "{import}: {err}");
        assert!(
            err.contains("outside the tree being checked"),
            "{import}: {err}"
        );
        assert!(
            !err.contains("SECRET-CONTENT") && !err.contains("root:"),
            "{import}: {err}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A build of a tree with no plans writes nothing: it would delete the earlier output.
#[test]
fn a_build_without_plans_keeps_the_output() {
    let dir = common::scratch("hostile-no-plans");
    let out = dir.join("out");
    let out_arg = out.to_string_lossy().into_owned();
    let o = bounded(&["build", "plans/nuam.yaml", "--out", &out_arg]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let before = common::files(&out, "").len();
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let o = bounded(&["build", &empty.to_string_lossy(), "--out", &out_arg]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert_eq!(
        common::files(&out, "").len(),
        before,
        "an empty build removed files"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A command whose crontab line is longer than cron reads is refused at the plan, one byte
/// before cron would refuse the crontab: the longest accepted line passes `crontab -n` and the
/// same line one byte longer does not.
#[test]
fn a_command_cron_cannot_read_is_refused_at_the_plan() {
    let dir = common::scratch("hostile-long-command");
    let base = case("accepted_then_rejected_long_command.yaml");
    let long = "a".repeat(3000);
    let plan = |n: usize| base.replace(&long, &"a".repeat(n));
    let builds = |n: usize| {
        std::fs::write(dir.join("plan.yaml"), plan(n)).expect("write plan");
        let _ = std::fs::remove_dir_all(dir.join("out"));
        code(&upkeep_in(&dir, &["build", "plan.yaml", "--out", "out"])) == 0
    };
    assert!(builds(10) && !builds(3000), "the bounds of the search");
    let (mut ok, mut refused) = (10, 3000);
    while refused - ok > 1 {
        let mid = usize::midpoint(ok, refused);
        if builds(mid) {
            ok = mid;
        } else {
            refused = mid;
        }
    }
    assert!(builds(ok));
    let crontab = dir.join("out/cron/shop.crontab");
    let text = std::fs::read_to_string(&crontab).expect("crontab");
    assert_crontabs_whole(&dir.join("out"), "longest command");
    let Some(cron) = common::tool("crontab") else {
        return;
    };
    let longer = text.replace(&"a".repeat(ok), &"a".repeat(ok + 1));
    let one_more = dir.join("one-more.crontab");
    std::fs::write(&one_more, longer).expect("write");
    let o = Command::new(cron)
        .arg("-n")
        .arg(&one_more)
        .output()
        .expect("crontab");
    assert!(
        !o.status.success(),
        "cron reads a line one byte longer than upkeep allows: the limit is too strict"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Plan text with backtick runs, quoted by a diagnostic in `upkeep diff`'s Markdown, cannot close
/// the message's code spans and turn the rest into emphasis or links in a pull-request comment.
#[test]
fn diff_markdown_keeps_plan_text_literal() {
    let dir = common::scratch("hostile-diff-backticks");
    let base = small_plan();
    let named = |text: &str| base.replace("\n  w: ", &format!("\n  \"w`` {text} ``\": "));
    std::fs::write(dir.join("a.yaml"), named("**bold**")).expect("write");
    std::fs::write(dir.join("b.yaml"), named("[link](https://example.com)")).expect("write");
    let o = upkeep_in(&dir, &["diff", "a.yaml", "b.yaml"]);
    let md = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(md.contains("is not a valid name"), "{md}");
    assert!(
        md.contains("\\*\\*bold\\*\\*") && md.contains("\\[link\\]"),
        "plan text is Markdown again in the diff:\n{md}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Outside a git repository, generated files name the plans from the tree given on the command
/// line: the same bytes whichever directory the build runs from and however the tree is named.
#[test]
fn outside_a_repository_the_output_does_not_depend_on_the_working_directory() {
    let dir = common::scratch("hostile-no-repo");
    assert!(
        !dir.ancestors().any(|d| d.join(".git").exists()),
        "the scratch directory must be outside any repository"
    );
    let plans = dir.join("team/plans");
    std::fs::create_dir_all(&plans).expect("mkdir");
    let source = common::root().join("plans");
    for f in common::files(&source, ".yaml") {
        let to = plans.join(f.strip_prefix(&source).expect("inside"));
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&f, to).expect("copy plan");
    }
    let abs = plans.to_string_lossy().into_owned();
    let runs: [(&Path, &str, &str); 3] = [
        (&dir, "team/plans", "out-a"),
        (&plans, ".", "../../out-b"),
        (Path::new("/"), &abs, "out-c"),
    ];
    let mut outputs = Vec::new();
    for (cwd, tree, out) in runs {
        let out = if out == "out-c" {
            dir.join(out).to_string_lossy().into_owned()
        } else {
            out.to_owned()
        };
        let o = upkeep_in(cwd, &["build", tree, "--out", &out]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let root = if Path::new(&out).is_absolute() {
            Path::new(&out).to_path_buf()
        } else {
            cwd.join(&out)
        };
        let files: Vec<(String, Vec<u8>)> = common::files(&root, "")
            .into_iter()
            .map(|f| {
                let rel = f
                    .strip_prefix(&root)
                    .expect("inside")
                    .to_string_lossy()
                    .into_owned();
                (rel, std::fs::read(&f).expect("read"))
            })
            .collect();
        outputs.push(files);
    }
    assert!(outputs[0].len() > 100, "too few files");
    for other in &outputs[1..] {
        let differ: Vec<&String> = outputs[0]
            .iter()
            .zip(other)
            .filter(|(a, b)| a != b)
            .map(|(a, _)| &a.0)
            .collect();
        assert!(
            differ.is_empty() && outputs[0].len() == other.len(),
            "{} files differ with the working directory: {differ:?}",
            differ.len()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A plan that checks builds, however large within the input limits: 9,000 tasks with
/// checklists checked clean and then ran the runbook index out of template fuel. With an
/// override template too, whose bound grows with the plan.
#[test]
fn a_plan_that_checks_builds_however_large() {
    let dir = common::scratch("hostile-large");
    let mut plan = small_plan();
    plan.push_str("roles:\n  ops: {fte: 1}\ntasks:\n");
    for i in 0..9000 {
        let _ = writeln!(
            plan,
            "  t{i}: {{schedule: \"daily at 09:00\", duration: 1m, owner: ops, manual: true, checklist: [look, fix]}}"
        );
    }
    std::fs::write(dir.join("plan.yaml"), plan).expect("write");
    let o = upkeep_in(&dir, &["check", "plan.yaml"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let templates = dir.join("templates");
    std::fs::create_dir_all(&templates).expect("mkdir");
    std::fs::copy(
        common::root().join("templates/runbook.md.j2"),
        templates.join("runbook.md.j2"),
    )
    .expect("copy template");
    for extra in [&[][..], &["--templates", "templates"][..]] {
        let mut args = vec!["build", "plan.yaml", "--target", "runbooks", "--out", "out"];
        args.extend_from_slice(extra);
        let o = upkeep_in(&dir, &args);
        assert_eq!(code(&o), 0, "build {extra:?}: {}", stderr(&o));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
