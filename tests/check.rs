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
