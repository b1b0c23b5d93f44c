//! Fixture-driven checks: every file (or directory) in `tests/fixtures/check/` is checked and
//! the report a user would see is snapshotted.
//!
//! A fixture's name says what it must produce, and nothing else:
//!
//! - `err_<slug>` produces code `<slug>` as an error (`err_kpi_threshold_order.yaml` ↔
//!   `kpi/threshold-order`, see [`slug`]); `warn_<slug>` produces it as a warning and no error;
//! - a fixture named after a topic rather than a code (`err_duration.yaml`) is listed in
//!   [`TOPICS`] with the codes it demonstrates;
//! - anything else (`ok_…`) is clean.
//!
//! The set of codes a fixture produces must be exactly the expected one: a fixture that also
//! trips an unrelated check (a missing `severity` section, an unused window) hides what it is
//! about, so fix the fixture, or name the second code in [`TOPICS`] when it is the point.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use upkeep::diag::{Code, Severity};

/// Fixtures named after a topic, not a code: the codes each must produce (all at the severity
/// of its prefix), and nothing else.
const TOPICS: &[(&str, &[&str])] = &[
    ("err_api_version", &["schema/type"]),
    ("err_duration", &["schema/type"]),
    // Objectives and thresholds of one environment, checked like the plan's at their own span.
    (
        "err_env_objectives",
        &["kpi/threshold-order", "slo/objective-range"],
    ),
    ("err_fragment_sections", &["schema/unknown-field"]),
    // A health check's `body`: patterns RE2 refuses, a body on a TCP check, a field that is
    // not one scalar.
    ("err_health_body", &["schema/type"]),
    ("err_kind", &["schema/type"]),
    ("err_kube_quantity", &["schema/type"]),
    // PromQL nested deeper than the parser is given (YAML nesting is `err_limit_depth`).
    ("err_limit_depth_promql", &["limit/depth"]),
    ("err_money", &["schema/type"]),
    ("err_names", &["schema/type"]),
    ("err_percentage", &["schema/type"]),
    // Expressions that parse but that the rules around them cannot use.
    ("err_promql_misused", &["promql/syntax"]),
    ("err_quantity", &["schema/type"]),
    // `metadata.runbook_base_url` that is not an absolute HTTP URL.
    ("err_runbook_base_url", &["schema/type"]),
    // A one-off at a local time that daylight saving skips.
    ("err_schedule_skipped_time", &["schedule/invalid"]),
    // A secret in each kind of place, each with its own advice (tests/help.rs applies it).
    ("err_secrets_anywhere", &["secret/inline"]),
    ("err_syntax_tab", &["syntax"]),
    ("err_syntax_tab_after_scalar", &["syntax"]),
    // Commands no crontab can carry: a NUL, a line longer than cron reads.
    ("err_task_command", &["schema/range", "schema/type"]),
    ("err_threshold", &["schema/type"]),
    // A time of day in a field (`oncall.handoff`) and in a schedule: the same mistake reported
    // by the field's own check and by the schedule parser.
    ("err_time", &["schedule/invalid", "schema/type"]),
    ("err_timezone", &["schema/type"]),
    ("err_zero_window", &["schema/range"]),
    // A task on a database at the same time as its backup and its restore test.
    ("warn_task_overlap_backup", &["task/overlap"]),
    ("err_top_level", &["file/not-a-plan"]),
    ("warn_schedule_skips_months", &["schedule/invalid"]),
];

/// The fixture's name: the file stem, or the directory of a `plan.yaml` case.
fn fixture_name(path: &Path) -> &str {
    let name = if path.file_name().is_some_and(|n| n == "plan.yaml") {
        path.parent().and_then(|p| p.file_name())
    } else {
        path.file_stem()
    };
    name.and_then(|n| n.to_str()).unwrap_or_default()
}

/// What a fixture must produce: the severity and the exact set of codes (empty for clean).
fn expectation(name: &str) -> (Severity, BTreeSet<&'static str>) {
    let (severity, rest) = if let Some(rest) = name.strip_prefix("err_") {
        (Severity::Error, rest)
    } else if let Some(rest) = name.strip_prefix("warn_") {
        (Severity::Warning, rest)
    } else {
        return (Severity::Error, BTreeSet::new());
    };
    if let Some((_, codes)) = TOPICS.iter().find(|(n, _)| *n == name) {
        return (severity, codes.iter().copied().collect());
    }
    let code = Code::ALL
        .iter()
        .find(|c| slug(c.name()) == rest)
        .unwrap_or_else(|| {
            panic!("fixture `{name}` is named after no code; rename it `err_<code slug>` or list it in TOPICS")
        });
    (severity, BTreeSet::from([code.name()]))
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
    let name = fixture_name(path);
    let (severity, expected) = expectation(name);
    let found: BTreeSet<&str> = ws.diagnostics.iter().map(|d| d.code.name()).collect();
    assert_eq!(
        found,
        expected,
        "{} must produce exactly these codes:\n{report}",
        path.display()
    );
    for d in &ws.diagnostics {
        assert!(
            d.severity == severity,
            "{}: `{}` must be a{} {}:\n{report}",
            path.display(),
            d.code.name(),
            if severity == Severity::Error { "n" } else { "" },
            severity.as_str()
        );
        assert!(d.help.is_some(), "every diagnostic has a help line: {d:?}");
        assert!(
            d.span.is_some() || d.file.is_some(),
            "every diagnostic points somewhere: {d:?}"
        );
    }
    insta::assert_snapshot!(report);
}

/// Every entry of [`TOPICS`] names a fixture that exists and codes that exist.
#[test]
fn topics_name_real_fixtures_and_codes() {
    let dir = common::root().join("tests/fixtures/check");
    for (name, codes) in TOPICS {
        assert!(
            dir.join(format!("{name}.yaml")).is_file()
                || dir.join(name).join("plan.yaml").is_file(),
            "TOPICS lists `{name}`, which is not a fixture"
        );
        for c in *codes {
            assert!(Code::from_name(c).is_some(), "TOPICS: `{c}` is not a code");
        }
    }
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
    ("limit/input", "fn too_much_input"),
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
    // The seeds name no host for the runbooks (`runbook/relative-url`); the bundled plans
    // assume one. A backup that starts with a task on its service (`task/overlap`): conecta360's
    // incremental with the rotation of the database credentials, diabetes's model backup with
    // the API check every 5 minutes; the bundled plans shift the backups. Nothing deletes the
    // old backups (`backup/retention-unenforced`): the bundled plans add the seeds' own
    // deletions as `prune`, or say why there is none.
    let expected: &[(&str, &[&str])] = &[
        (
            "conecta360",
            &[
                "backup/retention-unenforced",
                "backup/rpo-unmet",
                "runbook/relative-url",
                "task/overlap",
            ],
        ),
        (
            "diabetes",
            &[
                "alert/response-unmet",
                "backup/no-restore-test",
                "backup/retention-unenforced",
                "kpi/objective-breached-by-warning",
                "runbook/relative-url",
                "task/overlap",
            ],
        ),
        (
            "ecplacas",
            &[
                "backup/retention-unenforced",
                "kpi/objective-breached-by-warning",
                "runbook/relative-url",
                "task/overlap",
            ],
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

/// `upkeep check` resolves and checks its plans a batch at a time and frees each batch (so a
/// thousand plans do not all sit in memory); `build` checks them all at once. Both must find the
/// same problems, including where batches meet: a plan importing a fragment or a plan that a
/// later batch would read, an import cycle seen from two batches, two plans of one name in
/// different batches, unused entries and lint levels.
#[test]
fn checking_in_batches_finds_what_checking_at_once_finds() {
    let dir = std::env::temp_dir().join(format!("upkeep-batches-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let plan = |name: &str, imports: &[&str], extra: &str| {
        let imports = if imports.is_empty() {
            String::new()
        } else {
            format!("imports: [{}]\n", imports.join(", "))
        };
        format!(
            "apiVersion: upkeep/v1\nkind: Plan\nmetadata: {{name: {name}, timezone: UTC}}\n{imports}\
             services:\n  api: {{description: API}}\n\
             runbooks:\n  unused-{name}: {{title: Never linked, actions: [Look]}}\n{extra}"
        )
    };
    let mut files: Vec<(String, String)> = Vec::new();
    for i in 0..150 {
        let name = format!("p{i:03}");
        let text = match i {
            // A fragment and a plan that sort into the last batch, imported from the first,
            // and a plan of the first batch imported from a later one.
            0 => plan(&name, &["zz-shared.yaml"], ""),
            1 => plan(&name, &["p140.yaml"], ""),
            120 => plan(&name, &["p005.yaml", "zz-shared.yaml"], ""),
            // One cycle, reached from the first batch and from the second.
            2 | 70 => plan(&name, &["zz-cycle-a.yaml"], ""),
            // The same plan name in two batches.
            3 | 100 => plan("twice", &[], ""),
            // A lint level for a file in a later batch.
            90 => plan(&name, &[], "lints:\n  ref/unused: allow\n"),
            _ => plan(&name, &[], ""),
        };
        files.push((format!("{name}.yaml"), text));
    }
    files.push((
        "zz-shared.yaml".into(),
        "apiVersion: upkeep/v1\nkind: Fragment\nroles:\n  dba: {description: Databases}\n".into(),
    ));
    files.push((
        "zz-cycle-a.yaml".into(),
        "apiVersion: upkeep/v1\nkind: Fragment\nimports: [zz-cycle-b.yaml]\n".into(),
    ));
    files.push((
        "zz-cycle-b.yaml".into(),
        "apiVersion: upkeep/v1\nkind: Fragment\nimports: [zz-cycle-a.yaml]\n".into(),
    ));
    for (name, text) in &files {
        std::fs::write(dir.join(name), text).expect("write plan");
    }
    // The directory, and the plan files named one by one (the fragments are then read only
    // through imports, in the order imports are followed).
    let plans: Vec<std::path::PathBuf> = files
        .iter()
        .filter(|(name, _)| name.starts_with('p'))
        .map(|(name, _)| dir.join(name))
        .collect();
    let run = |check_only: bool, paths: &[std::path::PathBuf]| {
        let ws = upkeep::driver::check(
            paths,
            upkeep::driver::Options {
                check_only,
                ..upkeep::driver::Options::default()
            },
        )
        .expect("tree exists");
        (
            upkeep::diag::render::json(&ws.diagnostics, &ws.sources, ws.files),
            ws.diagnostics,
            ws.plans.len(),
        )
    };
    let (named_batched, _, _) = run(true, &plans);
    let (named_at_once, _, _) = run(false, &plans);
    let (batched, diags, kept) = run(true, std::slice::from_ref(&dir));
    let (at_once, _, plans) = run(false, std::slice::from_ref(&dir));
    let _ = std::fs::remove_dir_all(&dir);
    let same = |a: &str, b: &str, what: &str| {
        if let Some((x, y)) = a.lines().zip(b.lines()).find(|(x, y)| x != y) {
            panic!(
                "{what}: checking in batches differs from checking at once: `{x}` against `{y}`"
            );
        }
        assert_eq!(a.len(), b.len(), "{what}");
    };
    same(&named_batched, &named_at_once, "plan files named");
    assert_eq!(kept, 0, "a check-only run keeps no plans");
    assert_eq!(plans, 149, "every plan but the second `twice` is checked");
    same(&batched, &at_once, "directory");
    let count = |code: Code| diags.iter().filter(|d| d.code == code).count();
    assert_eq!(count(Code::ImportCycle), 1, "{batched}");
    assert_eq!(count(Code::ImportNotFragment), 2, "{batched}");
    assert_eq!(count(Code::DuplicatePlan), 1, "{batched}");
    // Every plan's runbook but p001's and p120's (files with errors), p090's (allowed) and the
    // second `twice`'s (not checked).
    assert_eq!(count(Code::RefUnused), 146, "{batched}");
}
