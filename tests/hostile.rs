//! Hostile and careless input: one plan per case under `tests/fixtures/hostile/`. A case whose
//! first lines say `# expect: CODE` must be refused with that code (and nothing written);
//! any other case must build, and its generated files must keep their structure whatever the
//! text in names and fields: as many crontab entries as jobs, a crontab that `crontab -n`
//! accepts, no line a plan's text added.

mod common;

use std::path::Path;
use std::process::Command;

use common::{code, stderr, upkeep_in};

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
    let plan = std::fs::read_to_string(
        common::root().join("tests/fixtures/hostile/multiline_command.yaml"),
    )
    .expect("case");
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
