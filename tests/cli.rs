//! The command line as users and CI run it: exit codes, every output format (SARIF validated by
//! the official SARIF 2.1.0 schema and Microsoft's validator), `explain`, `schema`, `schedule`,
//! colour only on a terminal, `import`.

mod common;

use common::{code, scratch, stderr, stdout};

fn upkeep(args: &[&str]) -> Output {
    common::upkeep_in(&common::root(), args)
}

use std::path::PathBuf;
use std::process::{Command, Output};

const FORMATS: &str = "tests/fixtures/formats";

#[test]
fn bundled_plans_are_clean() {
    let o = upkeep(&["check", "plans/"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("no problems"), "{}", stderr(&o));
}

#[test]
fn exit_codes() {
    assert_eq!(
        code(&upkeep(&["check", "tests/fixtures/check/ok_minimal.yaml"])),
        0
    );
    assert_eq!(
        code(&upkeep(&[
            "check",
            "tests/fixtures/check/err_schema_unknown_field.yaml"
        ])),
        1
    );
    assert_eq!(
        code(&upkeep(&[
            "check",
            "tests/fixtures/check/warn_schedule_cron_day_or.yaml"
        ])),
        0
    );
    assert_eq!(
        code(&upkeep(&[
            "check",
            "--deny",
            "warnings",
            "tests/fixtures/check/warn_schedule_cron_day_or.yaml"
        ])),
        1
    );
    assert_eq!(code(&upkeep(&["check", "no/such/dir"])), 2);
    assert_eq!(code(&upkeep(&["check", "--format", "xml", "plans/"])), 2);
    assert_eq!(code(&upkeep(&["frobnicate"])), 2);
    assert_eq!(code(&upkeep(&["explain", "kpi/nonsense"])), 2);
    assert_eq!(code(&upkeep(&["--version"])), 0);
}

#[test]
fn human_format() {
    let o = upkeep(&["check", FORMATS]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).is_empty(), "human reports go to stderr");
    insta::assert_snapshot!(stderr(&o));
}

#[test]
fn json_format() {
    let o = upkeep(&["check", "--format", "json", FORMATS]);
    assert_eq!(code(&o), 1);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON object");
    for key in ["diagnostics", "files", "errors", "warnings"] {
        assert!(v.get(key).is_some(), "missing `{key}`");
    }
    for d in v["diagnostics"].as_array().expect("array") {
        for key in [
            "code",
            "severity",
            "message",
            "file",
            "line",
            "column",
            "end_line",
            "end_column",
            "help",
            "labels",
        ] {
            assert!(d.get(key).is_some(), "diagnostic without `{key}`: {d}");
        }
    }
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn github_format() {
    let o = upkeep(&["check", "--format", "github", FORMATS]);
    assert_eq!(code(&o), 1);
    for line in stdout(&o).lines() {
        assert!(
            line.starts_with("::error file=") || line.starts_with("::warning file="),
            "{line}"
        );
        assert!(line.contains(",title="), "{line}");
    }
    insta::assert_snapshot!(stdout(&o));
}

/// Past `--draw-limit`, reports take one line each, errors drawn before warnings, and none is
/// dropped: the one-line reports are exactly the JSON report's others, in its order.
#[test]
fn reports_past_the_draw_limit_take_one_line_each() {
    const DIR: &str = "tests/fixtures/check";
    let json = upkeep(&["check", "--format", "json", DIR]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("one JSON object");
    let all: Vec<(String, &str)> = v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            let at = match (d["file"].as_str(), d["line"].as_u64(), d["column"].as_u64()) {
                (Some(f), Some(l), Some(c)) => format!("{f}:{l}:{c}: "),
                (Some(f), ..) => format!("{f}: "),
                _ => String::new(),
            };
            let line = format!(
                "{at}{}[{}]: {}",
                d["severity"].as_str().expect("severity"),
                d["code"].as_str().expect("code"),
                d["message"].as_str().expect("message")
            );
            (line, d["severity"].as_str().expect("severity"))
        })
        .collect();
    let errors = all.iter().filter(|(_, s)| *s == "error").count();
    assert!(
        errors > 2 && errors < all.len(),
        "the fixtures have errors and warnings"
    );
    // A limit below the errors draws errors only; one above them draws the first warnings too.
    for limit in [2, errors + 1] {
        let o = upkeep(&["check", "--draw-limit", &limit.to_string(), DIR]);
        assert_eq!(code(&o), 1);
        let text = stderr(&o);
        let (mut errors_drawn, mut warnings_drawn) = (0, 0);
        let short: Vec<&str> = all
            .iter()
            .filter(|(_, severity)| {
                let (drawn, budget) = if *severity == "error" {
                    (&mut errors_drawn, limit.min(errors))
                } else {
                    (&mut warnings_drawn, limit.saturating_sub(errors))
                };
                *drawn += 1;
                *drawn > budget
            })
            .map(|(line, _)| line.as_str())
            .collect();
        let printed: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("error[") || l.contains("warning["))
            .collect();
        assert_eq!(printed, short, "limit {limit}:\n{text}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[lines.len() - 2],
            format!(
                "{} after the first {limit} took one line each: `--draw-limit 0` draws \
                 every one, `--format json` gives each with its help and labels",
                match short.len() {
                    1 => "1 report".to_owned(),
                    n => format!("{n} reports"),
                },
            ),
        );
        assert_eq!(
            lines[lines.len() - 1],
            format!(
                "checked {} files: {errors} errors, {} warnings",
                v["files"],
                all.len() - errors
            )
        );
    }
    let every = stderr(&upkeep(&["check", "--draw-limit", "0", DIR]));
    assert!(!every.contains("took one line each"), "{every}");
    assert_eq!(every.matches("\n  help: ").count(), {
        let o = upkeep(&["check", "--format", "json", DIR]);
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
        v["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .filter(|d| d["help"].is_string())
            .count()
    });
}

fn sarif_package() -> Option<PathBuf> {
    if let Ok(out) = Command::new("npm").args(["root", "-g"]).output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
            .join("@microsoft/sarif-multitool-linux");
        if dir.join("sarif-2.1.0.json").is_file() {
            return Some(dir);
        }
    }
    common::missing("the SARIF schema package @microsoft/sarif-multitool-linux");
    None
}

#[test]
fn sarif_format_is_valid_sarif_2_1_0() {
    let o = upkeep(&["check", "--format", "sarif", FORMATS]);
    assert_eq!(code(&o), 1);
    let text = stdout(&o);
    let log: serde_json::Value = serde_json::from_str(&text).expect("SARIF is JSON");
    // Rules carry every explain page; the results are what this run says.
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    assert_eq!(rules.len(), upkeep::diag::Code::ALL.len());
    insta::assert_snapshot!(
        serde_json::to_string_pretty(&log["runs"][0]["results"]).expect("json")
    );
    let dir = std::env::temp_dir().join(format!("upkeep-sarif-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let file = dir.join("check.sarif");
    std::fs::write(&file, &text).expect("write sarif");
    let (Some(validator), Some(pkg)) = (common::tool("check-jsonschema"), sarif_package()) else {
        return;
    };
    common::run_ok(
        Command::new(validator)
            .arg("--schemafile")
            .arg(pkg.join("sarif-2.1.0.json"))
            .arg(&file),
    );
    // Microsoft's validator also applies the SARIF rules beyond the schema.
    let out = common::run_ok(
        Command::new(pkg.join("Sarif.Multitool"))
            .arg("validate")
            .arg(&file)
            .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1"),
    );
    assert!(
        !out.contains(" error "),
        "SARIF validator reports errors:\n{out}"
    );
}

#[test]
fn explain_every_code() {
    for c in upkeep::diag::Code::ALL {
        let o = upkeep(&["explain", c.name()]);
        assert_eq!(code(&o), 0);
        assert_eq!(stdout(&o), c.explain());
        assert!(
            c.explain().starts_with(&format!("# `{}`", c.name())),
            "{} page has no title",
            c.name()
        );
        for section in ["## Why", "## Example", "## Fix"] {
            assert!(
                c.explain().contains(section),
                "{} page lacks `{section}`",
                c.name()
            );
        }
    }
    let list = stdout(&upkeep(&["explain"]));
    assert_eq!(list.lines().count(), upkeep::diag::Code::ALL.len());
}

#[test]
fn schema_command() {
    let o = upkeep(&["schema"]);
    assert_eq!(code(&o), 0);
    assert_eq!(stdout(&o), upkeep::schema::SCHEMA);
}

#[test]
fn schedule_command() {
    let o = upkeep(&[
        "schedule",
        "plans/ecplacas.yaml",
        "--next",
        "3",
        "--from",
        "2027-03-01T00:00:00Z",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    insta::assert_snapshot!(stdout(&o));
    let o = upkeep(&[
        "schedule",
        "plans/conecta360.yaml",
        "--next",
        "2",
        "--from",
        "2027-03-01T00:00:00Z",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert!(v["items"].as_array().is_some_and(|a| !a.is_empty()));
    assert_eq!(
        code(&upkeep(&[
            "schedule",
            "plans/ecplacas.yaml",
            "--from",
            "yesterday"
        ])),
        2
    );
}

/// Colour appears on a terminal and disappears with `NO_COLOR` (a pseudo-terminal from
/// `script`).
#[test]
fn colour_only_on_a_terminal() {
    let Some(script) = common::tool("script") else {
        return;
    };
    let bin = env!("CARGO_BIN_EXE_upkeep");
    let run = |no_color: bool| {
        let mut cmd = Command::new(&script);
        cmd.args([
            "-qec",
            &format!("{bin} check tests/fixtures/check/err_schema_unknown_field.yaml"),
            "/dev/null",
        ])
        .current_dir(common::root());
        if no_color {
            cmd.env("NO_COLOR", "1");
        } else {
            cmd.env_remove("NO_COLOR");
        }
        String::from_utf8_lossy(&cmd.output().expect("script").stdout).into_owned()
    };
    assert!(run(false).contains("\u{1b}["), "no colour on a terminal");
    assert!(!run(true).contains("\u{1b}["), "colour despite NO_COLOR");
    let piped = upkeep(&[
        "check",
        "tests/fixtures/check/err_schema_unknown_field.yaml",
    ]);
    assert!(
        !stderr(&piped).contains("\u{1b}["),
        "colour when not a terminal"
    );
}

fn json_codes(o: &Output) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(&stdout(o)).expect("json");
    v["diagnostics"]
        .as_array()
        .expect("array")
        .iter()
        .map(|d| d["code"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A file whose read fails after it was found (on Linux, /proc/self/mem cannot be read at
/// offset 0): an I/O failure, exit code 2.
#[test]
fn unreadable_file() {
    if !std::path::Path::new("/proc/self/mem").exists() {
        eprintln!("SKIPPED: no /proc on this system");
        return;
    }
    let o = upkeep(&["check", "--format", "json", "/proc/self/mem"]);
    assert_eq!(code(&o), 2);
    assert_eq!(json_codes(&o), ["file/unreadable"]);
}

#[test]
fn file_too_large() {
    let dir = scratch("large");
    let mut text = String::from("apiVersion: upkeep/v1\nkind: Plan\nmetadata: {name: big}\n");
    while text.len() <= upkeep::parse::MAX_FILE_BYTES {
        text.push_str(
            "# padding padding padding padding padding padding padding padding padding\n",
        );
    }
    std::fs::write(dir.join("big.yaml"), text).expect("write");
    let o = upkeep(&["check", "--format", "json", dir.to_str().expect("utf-8")]);
    assert_eq!(code(&o), 1);
    assert_eq!(json_codes(&o), ["limit/file-size"]);
}

#[test]
fn too_much_input() {
    // Files under the per-file limit, together over the limit of one run: refused before any
    // is read.
    let dir = scratch("input");
    let per_file = upkeep::parse::MAX_FILE_BYTES - 1024;
    let mut text = String::from("apiVersion: upkeep/v1\nkind: Plan\nmetadata: {name: p}\n");
    text.push_str(&"#".repeat(per_file - text.len() - 1));
    text.push('\n');
    for i in 0..=upkeep::load::MAX_INPUT_BYTES / per_file {
        std::fs::write(dir.join(format!("p{i}.yaml")), &text).expect("write");
    }
    let o = upkeep(&["check", "--format", "json", dir.to_str().expect("utf-8")]);
    assert_eq!(code(&o), 1);
    assert_eq!(json_codes(&o), ["limit/input"]);
    // The help's advice: a higher limit for the run reads every file.
    let help = stdout(&o);
    let size = help
        .split("--max-input ")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .expect("the help names a --max-input size")
        .to_owned();
    let o = upkeep(&[
        "check",
        "--format",
        "json",
        "--max-input",
        &size,
        dir.to_str().expect("utf-8"),
    ]);
    assert!(
        !json_codes(&o).iter().any(|c| c.starts_with("limit/")),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(
        stdout(&o).contains(&format!(
            "\"files\": {}",
            upkeep::load::MAX_INPUT_BYTES / per_file + 1
        )),
        "{}",
        stdout(&o)
    );
    // A limit below one file's size refuses the tree again; a size that is not one is a usage error.
    let o = upkeep(&[
        "check",
        "--format",
        "json",
        "--max-input",
        "1MiB",
        dir.to_str().expect("utf-8"),
    ]);
    assert_eq!(json_codes(&o), ["limit/input"]);
    let o = upkeep(&["check", "--max-input", "64MB", dir.to_str().expect("utf-8")]);
    assert_eq!(code(&o), 2);
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn too_many_nodes() {
    let dir = scratch("nodes");
    let mut text = String::from(
        "apiVersion: upkeep/v1\nkind: Plan\nmetadata: {name: nodes}\ntasks:\n  t:\n    checklist:\n",
    );
    for _ in 0..=upkeep::parse::MAX_NODES {
        text.push_str("      - x\n");
    }
    std::fs::write(dir.join("plan.yaml"), text).expect("write");
    let o = upkeep(&["check", "--format", "json", dir.to_str().expect("utf-8")]);
    assert_eq!(code(&o), 1);
    assert_eq!(json_codes(&o), ["limit/size"]);
}

#[test]
fn too_many_files() {
    let dir = scratch("files");
    for i in 0..=upkeep::load::MAX_FILES {
        std::fs::write(dir.join(format!("p{i}.yaml")), "apiVersion: upkeep/v1\n").expect("write");
    }
    let o = upkeep(&["check", "--format", "json", dir.to_str().expect("utf-8")]);
    assert_eq!(code(&o), 1);
    assert_eq!(json_codes(&o), ["limit/files"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `upkeep explain | head -1` and friends: a reader that goes away is not a crash.
#[test]
fn a_closed_pipe_is_not_a_panic() {
    for args in [
        &["explain"][..],
        &["schema"],
        &["explain", "kpi/threshold-order"],
        &["init", "-"],
        &["check", "plans/", "--format", "json"],
        &["schedule", "plans/nuam.yaml", "--next", "1000"],
        &["diff", "plans/", "plans/", "--format", "json"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_upkeep"))
            .args(args)
            .current_dir(common::root())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run upkeep");
        drop(child.stdout.take()); // the reader is gone before the first byte
        let out = child.wait_with_output().expect("wait");
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_ne!(out.status.code(), Some(101), "{args:?}: {err}");
    }
}

/// `upkeep build … 2>&1 | true`: standard error closed before the first report line.
#[test]
fn a_closed_stderr_is_not_a_panic() {
    let out_dir = common::fresh("closed-stderr");
    let out_arg = out_dir.to_string_lossy().into_owned();
    for args in [
        &["build", "plans/", "--out", out_arg.as_str()][..],
        &["build", "plans/", "--out", out_arg.as_str(), "--check"],
        &["check", "tests/fixtures/check/err_kpi_threshold_order.yaml"],
        &["explain", "no/such-code"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_upkeep"))
            .args(args)
            .current_dir(common::root())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run upkeep");
        drop(child.stderr.take());
        let status = child.wait().expect("wait");
        assert_ne!(status.code(), Some(101), "{args:?} panicked");
    }
    let _ = std::fs::remove_dir_all(&out_dir);
}

/// Runbook links must open from a notification: a build of a plan without
/// `metadata.runbook_base_url` warns, `--runbook-base-url` makes the links absolute and silences
/// it, and a base that is not an absolute HTTP URL is refused before anything is written.
#[test]
fn runbook_base_url_flag() {
    const PLAN: &str = "tests/fixtures/check/warn_runbook_relative_url.yaml";
    let out = common::fresh("runbook-base-url");
    let out_arg = out.to_string_lossy().into_owned();

    let o = upkeep(&["build", PLAN, "--out", &out_arg, "--target", "prometheus"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("runbook/relative-url"),
        "{}",
        stderr(&o)
    );

    let base = "https://docs.example.org/runbooks/";
    let o = upkeep(&[
        "build",
        PLAN,
        "--out",
        &out_arg,
        "--target",
        "prometheus",
        "--runbook-base-url",
        base,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        !stderr(&o).contains("runbook/relative-url"),
        "{}",
        stderr(&o)
    );
    let rules = common::files(&out, ".rules.yaml");
    let text = std::fs::read_to_string(&rules[0]).expect("rules");
    assert!(
        text.contains("runbook_url: https://docs.example.org/runbooks/shop/slow.md"),
        "{text}"
    );
    assert!(!text.contains("runbook_url: runbooks/"), "{text}");

    for bad in [
        "runbooks",
        "/docs/runbooks",
        "https://",
        "https://docs example.org",
    ] {
        let fresh = common::fresh("runbook-base-url-bad");
        let fresh_arg = fresh.to_string_lossy().into_owned();
        let o = upkeep(&[
            "build",
            PLAN,
            "--out",
            &fresh_arg,
            "--runbook-base-url",
            bad,
        ]);
        assert_eq!(code(&o), 2, "`{bad}`: {}", stderr(&o));
        assert!(
            stderr(&o).contains("is not an absolute HTTP URL"),
            "{}",
            stderr(&o)
        );
        assert!(!fresh.exists(), "`{bad}`: nothing is written");
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// `upkeep explain` states the unit contract of `%` and `ratio` where a user meets it.
#[test]
fn explain_states_the_unit_contract() {
    for name in ["kpi/unit-mismatch", "kpi/percent-of-ratio"] {
        let o = upkeep(&["explain", name]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let text = stdout(&o);
        assert!(
            text.contains("`%` is 0–100") || text.contains("`%` means 0–100"),
            "{name}:\n{text}"
        );
        assert!(text.contains("`ratio`"), "{name}:\n{text}");
    }
}

#[test]
fn import_command() {
    let dir = scratch("import");
    let rules = common::root()
        .join("../shared/corpus/prometheus-rules/awesome-prometheus-alerts/redis/oliver006-redis-exporter.yml");
    let rules = rules.to_str().expect("utf-8");
    let plan = dir.join("redis.yaml");
    let o = upkeep(&[
        "import",
        rules,
        "--name",
        "redis",
        "--out",
        plan.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let report = stderr(&o);
    assert!(
        report.contains(":9: alert RedisDown → kpis.redis_down critical (expr)"),
        "{report}"
    );
    assert!(
        report.ends_with("imported 1 file, 12 rules: 0 lifted into typed KPIs/SLOs, 12 kept as expr, 0 not imported\n"),
        "{report}"
    );
    let o = upkeep(&["check", plan.to_str().expect("utf-8")]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // To standard output without `--out`, the same plan.
    let o = upkeep(&["import", rules, "--name", "redis"]);
    assert_eq!(stdout(&o), std::fs::read_to_string(&plan).expect("read"));
    // An imported plan is then edited: a second import never overwrites it, and the help's
    // file name is free.
    std::fs::write(&plan, "# edited\n").expect("edit");
    let o = upkeep(&[
        "import",
        rules,
        "--name",
        "redis",
        "--out",
        plan.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&plan).expect("read"), "# edited\n");
    let suggested = stderr(&o)
        .split("--out ")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .expect("the help names a file")
        .to_owned();
    let o = upkeep(&["import", rules, "--name", "redis", "--out", &suggested]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(std::path::Path::new(&suggested).is_file());
    // A missing file is an I/O failure; a file that is not YAML an error with its span.
    assert_eq!(code(&upkeep(&["import", "no/such/rules.yml"])), 2);
    let bad = dir.join("bad.yml");
    std::fs::write(&bad, "groups:\n- name: a\n  rules: [\n").expect("write");
    let o = upkeep(&["import", bad.to_str().expect("utf-8")]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("bad.yml:"), "{}", stderr(&o));
}
