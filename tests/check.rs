//! Fixture-driven checks: every file (or directory) in `tests/fixtures/check/` is checked and
//! the report a user would see is snapshotted. Names starting with `err_` must produce at least
//! one error; `warn_` at least one warning and no error; anything else must be clean.

mod common;

use std::path::Path;

fn expectation(path: &Path) -> &'static str {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let name = if name == "plan.yaml" {
        path.parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .unwrap_or_default()
    } else {
        name
    };
    if name.starts_with("err_") {
        "error"
    } else if name.starts_with("warn_") {
        "warning"
    } else {
        "clean"
    }
}

fn run(path: &Path) {
    // A directory case is named by its `plan.yaml` and checked as a whole tree.
    let target = if path.file_name().is_some_and(|n| n == "plan.yaml") {
        path.parent().unwrap_or(path)
    } else {
        path
    };
    let ws = common::check(target);
    let report = common::human(&ws);
    match expectation(path) {
        "error" => assert!(
            ws.errors() > 0,
            "{} must report an error:\n{report}",
            path.display()
        ),
        "warning" => assert!(
            ws.errors() == 0 && ws.warnings() > 0,
            "{} must report warnings only:\n{report}",
            path.display()
        ),
        _ => assert!(
            ws.diagnostics.is_empty(),
            "{} must be clean:\n{report}",
            path.display()
        ),
    }
    for d in &ws.diagnostics {
        assert!(d.help.is_some(), "every diagnostic has a help line: {d:?}");
        assert!(
            d.span.is_some() || d.file.is_some(),
            "every diagnostic points somewhere: {d:?}"
        );
    }
    insta::assert_snapshot!(report);
}

#[test]
fn single_file_fixtures() {
    insta::glob!("fixtures/check/*.yaml", run);
}

#[test]
fn multi_file_fixtures() {
    insta::glob!("fixtures/check/*/plan.yaml", run);
}

/// `kpi/threshold-order` → `kpi_threshold_order`.
fn slug(code: &str) -> String {
    code.replace(['/', '-'], "_")
}

/// Codes whose situation cannot live in a committed file; each is produced by the named test.
const MADE_BY_TESTS: &[(&str, &str)] = &[
    ("file/unreadable", "fn unreadable_file"),
    ("limit/file-size", "fn file_too_large"),
    ("limit/size", "fn too_many_nodes"),
    ("limit/files", "fn too_many_files"),
    ("template/error", "fn broken_template"),
];

/// Families about reading a plan at all: their boundary is every clean fixture.
const READING: &[&str] = &["syntax", "limit", "file", "import", "schema", "template"];

#[test]
fn every_code_has_a_failing_and_a_passing_fixture() {
    let dir = common::root().join("tests/fixtures/check");
    let tests: String = ["tests/cli.rs", "tests/check.rs", "tests/docs.rs"]
        .iter()
        .map(|f| std::fs::read_to_string(common::root().join(f)).unwrap_or_default())
        .collect();
    for code in upkeep::diag::Code::ALL {
        let s = slug(code.name());
        let has = |prefix: &str| {
            dir.join(format!("{prefix}_{s}.yaml")).is_file()
                || dir.join(format!("{prefix}_{s}/plan.yaml")).is_file()
        };
        let made = MADE_BY_TESTS.iter().find(|(c, _)| *c == code.name());
        match made {
            Some((_, test)) => {
                assert!(tests.contains(test), "{}: `{test}` is missing", code.name());
            }
            None => assert!(
                has("err") || has("warn"),
                "{} has no failing fixture (err_{s}.yaml or warn_{s}.yaml)",
                code.name()
            ),
        }
        if !READING.contains(&code.family()) {
            assert!(
                has("ok"),
                "{} has no passing fixture just inside its boundary (ok_{s}.yaml)",
                code.name()
            );
        }
    }
}

/// The bundled plans as first translated from the seed documents, before their findings were
/// resolved: the checks find the seeds' own contradictions, and only those.
#[test]
fn seed_findings() {
    let expected: &[(&str, &[&str])] = &[
        ("conecta360", &["backup/rpo-unmet"]),
        (
            "diabetes",
            &[
                "backup/no-restore-test",
                "kpi/objective-breached-by-warning",
            ],
        ),
        (
            "ecplacas",
            &["kpi/objective-breached-by-warning", "task/overlap"],
        ),
    ];
    for (plan, codes) in expected {
        let ws = common::check(&common::root().join(format!("tests/fixtures/seeds/{plan}.yaml")));
        let mut found: Vec<&str> = ws.diagnostics.iter().map(|d| d.code.name()).collect();
        found.sort_unstable();
        found.dedup();
        assert_eq!(&found, codes, "{plan}:\n{}", common::human(&ws));
        insta::assert_snapshot!(format!("seed_{plan}"), common::human(&ws));
    }
}
