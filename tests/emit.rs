//! Generated artefacts are accepted by the real tools: promtool checks and unit-tests the rules,
//! amtool checks the Alertmanager configuration and routes an alert of every level to the
//! receivers the plan says, yamllint reads every YAML file. The generated rule tests are not
//! vacuous: a hand-broken rules file fails them. Every generated file is snapshotted and built
//! byte-identically twice.

mod common;

use common::{build, files};

use std::path::{Path, PathBuf};
use std::process::Command;

fn yaml(path: &Path) -> serde_json::Value {
    serde_saphyr::from_str(&std::fs::read_to_string(path).expect("read"))
        .expect("generated YAML parses")
}

fn promtool(out: &Path) {
    let Some(promtool) = common::tool("promtool") else {
        return;
    };
    let rules: Vec<PathBuf> = files(out, ".rules.yaml");
    assert!(!rules.is_empty());
    for r in &rules {
        common::run_ok(Command::new(&promtool).args(["check", "rules"]).arg(r));
    }
    for t in files(out, ".rules.test.yaml") {
        let text = common::run_ok(Command::new(&promtool).args(["test", "rules"]).arg(&t));
        assert!(text.contains("SUCCESS"), "{}: {text}", t.display());
    }
}

/// One configuration serves every plan of the build: amtool accepts it, every level of every
/// plan routes to its own receiver (which holds one integration per channel the level
/// notifies), a plan's alert of no known level reaches its least urgent level's receiver, and
/// an alert of no plan the root receiver.
fn amtool(out: &Path, plans: &[&str]) {
    let Some(amtool) = common::tool("amtool") else {
        return;
    };
    let config = out.join("alertmanager/alertmanager.yaml");
    let found = files(&out.join("alertmanager"), "");
    assert_eq!(
        found,
        std::slice::from_ref(&config),
        "one Alertmanager file for the build"
    );
    common::run_ok(Command::new(&amtool).arg("check-config").arg(&config));
    let doc = yaml(&config);
    let route = |labels: &[String]| -> String {
        let out = Command::new(&amtool)
            .args(["config", "routes", "test", "--config.file"])
            .arg(&config)
            .args(labels)
            .output()
            .expect("run amtool");
        assert!(out.status.success(), "amtool: {out:?}");
        // stderr has a warning about --alertmanager.url; the receivers are on stdout.
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    assert_eq!(route(&["alertname=Other".to_owned()]), "unrouted");
    for plan in plans {
        let source = load_plan(plan);
        let levels = source
            .severity
            .as_ref()
            .map(|s| s.value.levels.clone())
            .unwrap_or_default();
        let least = levels.last().expect("levels");
        assert_eq!(
            route(&[format!("plan={plan}"), "level=no-such-level".to_owned()]),
            format!("{plan}-{}", least.name.value),
            "{plan}: an alert of no known level goes to the least urgent level's receiver"
        );
        for level in &levels {
            let got = route(&[
                format!("plan={plan}"),
                format!("level={}", level.name.value),
            ]);
            let expected = format!("{plan}-{}", level.name.value);
            assert_eq!(
                got, expected,
                "{plan}: level={} routes to {got:?}",
                level.name.value
            );
            let receiver = doc["receivers"]
                .as_array()
                .expect("receivers")
                .iter()
                .find(|r| r["name"] == expected.as_str())
                .expect("receiver");
            let mut want: std::collections::BTreeMap<&str, usize> =
                std::collections::BTreeMap::new();
            for n in &level.notify {
                let kind = source
                    .receivers
                    .get(&n.value)
                    .expect("receiver exists")
                    .kind
                    .kind_name();
                *want.entry(kind).or_default() += 1;
            }
            for (kind, count) in want {
                let key = format!("{kind}_configs");
                assert_eq!(
                    receiver[&key].as_array().map_or(0, Vec::len),
                    count,
                    "{plan}: {expected} should have {count} {key}"
                );
            }
        }
    }
}

fn load_plan(name: &str) -> upkeep::model::Plan {
    let fixture = common::root().join(format!("tests/fixtures/emit/{name}.yaml"));
    let path = if fixture.is_file() {
        fixture
    } else {
        common::root().join(format!("plans/{name}.yaml"))
    };
    let ws = common::check(&path);
    ws.plans
        .into_iter()
        .find(|p| p.metadata.name.value == name)
        .expect("plan")
}

fn yamllint(out: &Path) {
    let Some(yamllint) = common::tool("yamllint") else {
        return;
    };
    for f in files(out, ".yaml") {
        // Long PromQL lines are warnings in the relaxed profile; any error fails.
        let text = common::run_ok(
            Command::new(&yamllint)
                .args(["-d", "relaxed", "-f", "parsable"])
                .arg(&f),
        );
        assert!(!text.contains("[error]"), "{}: {text}", f.display());
    }
}

const PLANS: &[&str] = &["conecta360", "diabetes", "ecplacas", "nuam", "sigcerh"];

#[test]
fn bundled_plans_satisfy_promtool_amtool_and_yamllint() {
    let out = build("plans/", "plans", &[]);
    promtool(&out);
    amtool(&out, PLANS);
    yamllint(&out);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn every_kind_satisfies_promtool_amtool_and_yamllint() {
    let out = build("tests/fixtures/emit/every-kind.yaml", "every", &[]);
    promtool(&out);
    amtool(&out, &["every-kind"]);
    yamllint(&out);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn generated_files_are_snapshotted() {
    // The Alertmanager and blackbox exporter configurations are one file per build: the
    // fixture's are named after it.
    for (source, tag, prefix) in [
        ("plans/", "snap-plans", ""),
        (
            "tests/fixtures/emit/every-kind.yaml",
            "snap-every",
            "every-kind__",
        ),
    ] {
        let out = build(source, tag, &[]);
        // Every file of every target but the runbook pages (snapshotted by tests/docs.rs).
        let mut all = files(&out, "");
        all.retain(|p| {
            p.is_file()
                && !p.to_string_lossy().contains("/.")
                && !p.to_string_lossy().ends_with(".md")
        });
        for f in all {
            let rel = f
                .strip_prefix(&out)
                .expect("prefix")
                .to_string_lossy()
                .replace('/', "__");
            let rel = match rel.as_str() {
                "alertmanager__alertmanager.yaml" => {
                    format!("alertmanager__{prefix}alertmanager.yaml")
                }
                "blackbox__blackbox.yaml" => format!("blackbox__{prefix}blackbox.yaml"),
                _ => rel,
            };
            let text = std::fs::read_to_string(&f).expect("read");
            insta::assert_snapshot!(rel, text);
        }
        let _ = std::fs::remove_dir_all(&out);
    }
}

/// An environment with its own objective and thresholds (issue 16) gets rules of its own, in
/// its Helm values and in `prometheus/ENV/`, whose tests pass on them and fail on the plan's
/// rules: they prove the environment's values, not the plan's. The other environment keeps the
/// plan's rules.
#[test]
fn an_environment_with_its_own_objectives_is_proven_at_them() {
    let out = build("tests/fixtures/emit/every-kind.yaml", "env-objectives", &[]);
    let own = out.join("prometheus/production/every-kind.rules.yaml");
    let text = std::fs::read_to_string(&own).expect("the environment's rules");
    for expr in [
        "kpi=\"latency_ms\"} > 0.2\n",
        "kpi=\"errors\"} > 1\n",
        "slo=\"availability\"} / 0.0005 > 14.4",
    ] {
        assert!(text.contains(expr), "production's rules lack {expr:?}");
    }
    let values = |env: &str| {
        std::fs::read_to_string(out.join(format!("helm/every-kind/values-{env}.yaml")))
            .expect("values")
    };
    assert!(values("production").contains("slo=\"availability\"} / 0.0005 > 14.4"));
    assert!(values("staging").contains("slo=\"availability\"} / 0.001 > 14.4"));
    assert!(!values("staging").contains("slo=\"availability\"} / 0.0005"));
    let Some(promtool) = common::tool("promtool") else {
        return;
    };
    let env_tests = [
        "every-kind.rules.test.yaml",
        "every-kind.1h.rules.test.yaml",
    ];
    for t in env_tests {
        let tests = out.join("prometheus/production").join(t);
        let text = common::run_ok(Command::new(&promtool).args(["test", "rules"]).arg(&tests));
        assert!(text.contains("SUCCESS"), "{t}: {text}");
    }
    std::fs::copy(out.join("prometheus/every-kind.rules.yaml"), &own).expect("the plan's rules");
    for t in env_tests {
        let tests = out.join("prometheus/production").join(t);
        let text = common::run_fails(Command::new(&promtool).args(["test", "rules"]).arg(&tests));
        assert!(text.contains("FAILED"), "{t}: {text}");
    }
    let _ = std::fs::remove_dir_all(out);
}

/// The generated tests catch a rule whose threshold was changed by hand, and a plan change that
/// did not reach the rules.
#[test]
fn rule_tests_catch_a_broken_rule() {
    let Some(promtool) = common::tool("promtool") else {
        return;
    };
    let out = build("tests/fixtures/emit/every-kind.yaml", "broken", &[]);
    let rules = out.join("prometheus/every-kind.rules.yaml");
    let tests = out.join("prometheus/every-kind.rules.test.yaml");
    let original = std::fs::read_to_string(&rules).expect("rules");
    for (from, to) in [
        (
            "kpi:latency:latency{plan=\"every-kind\", kpi=\"latency\"} > 0.25",
            "kpi:latency:latency{plan=\"every-kind\", kpi=\"latency\"} > 0.3",
        ),
        ("for: 5m", "for: 10m"),
        ("level: P0", "level: P1"),
        ("severity: critical", "severity: warning"),
        ("> 0.5\n", "> 5\n"),
        // The RPO alert: its threshold, and the newest backup (not the oldest) against it.
        ("\"}) > 3600\n", "\"}) > 7200\n"),
        (
            "time() - max(upkeep_task_last_success_timestamp_seconds",
            "time() - min(upkeep_task_last_success_timestamp_seconds",
        ),
    ] {
        assert!(
            original.contains(from),
            "the rules file no longer contains {from:?}"
        );
        std::fs::write(&rules, original.replacen(from, to, 1)).expect("write");
        let text = common::run_fails(Command::new(&promtool).args(["test", "rules"]).arg(&tests));
        assert!(text.contains("FAILED"), "{text}");
    }
    // A plan whose threshold changed, tested against the old rules.
    std::fs::write(&rules, &original).expect("restore");
    let plan = std::fs::read_to_string(common::root().join("tests/fixtures/emit/every-kind.yaml"))
        .expect("plan");
    let changed_dir =
        std::env::temp_dir().join(format!("upkeep-emit-changed-{}", std::process::id()));
    std::fs::create_dir_all(&changed_dir).expect("dir");
    std::fs::write(
        changed_dir.join("every-kind.yaml"),
        plan.replace("warning: \"> 250ms\"", "warning: \"> 200ms\""),
    )
    .expect("write");
    let regenerated = build(changed_dir.to_str().expect("utf-8"), "regenerated", &[]);
    std::fs::copy(
        regenerated.join("prometheus/every-kind.rules.test.yaml"),
        &tests,
    )
    .expect("copy tests");
    common::run_fails(Command::new(&promtool).args(["test", "rules"]).arg(&tests));
    for d in [out, regenerated, changed_dir] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn output_is_deterministic() {
    let a = build("plans/", "det-a", &[]);
    let b = build("plans/", "det-b", &[]);
    let all = files(&a, "");
    assert!(all.len() > 40, "only {} files built", all.len());
    for f in all.iter().filter(|p| p.is_file()) {
        let rel = f.strip_prefix(&a).expect("prefix");
        assert_eq!(
            std::fs::read(f).expect("a"),
            std::fs::read(b.join(rel)).expect("b"),
            "{} differs between builds",
            rel.display()
        );
    }
    for d in [a, b] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// A task or backup with `environments:` is a `CronJob`, and a freshness alert, only in those
/// environments' Helm values (conecta360 rotates production's secret: never from `dev`).
#[test]
fn environment_scoped_jobs_stay_in_their_environments() {
    let out = build("plans/conecta360.yaml", "scoped", &[]);
    let values = |env: &str| {
        std::fs::read_to_string(out.join(format!("helm/conecta360/values-{env}.yaml")))
            .expect("values file")
    };
    let prod = values("prod");
    assert!(prod.contains("job: secrets_rotation"), "prod lost its job");
    assert!(
        prod.contains("task: secrets_rotation"),
        "prod lost the freshness alert"
    );
    assert!(prod.contains("job: postgres.full"), "prod lost the backup");
    for env in ["dev", "qa", "staging"] {
        let v = values(env);
        for scoped in ["secrets_rotation", "postgres.full", "archive_closed_cases"] {
            assert!(!v.contains(scoped), "{env} still runs or expects {scoped}");
        }
        // Jobs without `environments:` stay everywhere.
        assert!(
            v.contains("job: archive_old_logs"),
            "{env} lost an unscoped job"
        );
    }
    // The crontab and the plain CronJobs file are not per environment.
    let cron = std::fs::read_to_string(out.join("cron/conecta360.crontab")).expect("crontab");
    assert!(cron.contains("secrets_rotation"));
    let _ = std::fs::remove_dir_all(&out);
}

/// Issue 14, point 3: a backup's RPO alert and its restore test's missed alert follow the
/// backup's `environments:` as its missed-backup alerts do. conecta360's RPO (15m) is met by
/// RDS's own log shipping, a manual level, so it has no RPO alert; with an RPO its automated
/// levels meet (6h), it has.
#[test]
fn rpo_and_restore_test_alerts_stay_in_their_environments() {
    let plan = std::fs::read_to_string(common::root().join("plans/conecta360.yaml")).expect("plan");
    let dir = std::env::temp_dir().join(format!("upkeep-emit-rpo-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("shared")).expect("dir");
    for f in std::fs::read_dir(common::root().join("plans/shared")).expect("shared fragments") {
        let f = f.expect("entry").path();
        std::fs::copy(&f, dir.join("shared").join(f.file_name().expect("name"))).expect("copy");
    }
    assert!(plan.contains("    rpo: 15m\n"));
    std::fs::write(
        dir.join("conecta360.yaml"),
        plan.replace("    rpo: 15m\n", "    rpo: 6h\n"),
    )
    .expect("write");
    let out = build(dir.to_str().expect("utf-8"), "rpo-scoped", &[]);
    let values = |env: &str| {
        std::fs::read_to_string(out.join(format!("helm/conecta360/values-{env}.yaml")))
            .expect("values file")
    };
    for alert in ["PostgresRpoExceeded", "PostgresRestoreTestMissed"] {
        assert!(
            values("prod").contains(&format!("alert: {alert}\n")),
            "prod lost {alert}"
        );
        for env in ["dev", "qa", "staging"] {
            assert!(!values(env).contains(alert), "{env} still expects {alert}");
        }
    }
    promtool(&out);
    for d in [out, dir] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// Issue 13, point 13: a missed job alerts at the level its task, its backup or the backup's kind
/// names; without one, a task takes the matrix's warning column and a backup its critical column.
/// Issue 14, point 3: a backup's RPO alert takes the backup's level (else the critical column),
/// an automated restore test's missed alert the warning column. The rules, the routes and the
/// runbook page all carry it.
#[test]
fn missed_job_alerts_take_the_level_the_plan_names() {
    let out = build("tests/fixtures/emit/missed-levels.yaml", "missed", &[]);
    let rules = yaml(&out.join("prometheus/missed-levels.rules.yaml"));
    let mut levels = std::collections::BTreeMap::new();
    for group in rules["groups"].as_array().expect("groups") {
        for rule in group["rules"].as_array().expect("rules") {
            if let Some(alert) = rule["alert"].as_str() {
                let level = rule["labels"]["level"].as_str().expect("level label");
                let seen = levels.insert(alert.to_owned(), level.to_owned());
                assert!(
                    seen.is_none_or(|l| l == level),
                    "the rules of {alert} disagree on its level"
                );
            }
        }
    }
    let expected = [
        ("AnalyzeMissed", "P1"),
        ("VacuumMissed", "P3"),
        ("DbFullBackupMissed", "P0"),
        ("ArchiveWeeklyBackupMissed", "P2"),
        ("ArchiveMonthlyBackupMissed", "P3"),
        ("DbRpoExceeded", "P0"),
        ("ArchiveRpoExceeded", "P2"),
        ("ArchiveRestoreTestMissed", "P1"),
        // A prune takes the warning column, as a task (`P1` for `critical`), or its `level`.
        ("DbFullPruneMissed", "P1"),
        ("ArchiveWeeklyPruneMissed", "P3"),
        ("ArchiveMonthlyPruneMissed", "P3"),
    ];
    assert_eq!(
        levels,
        expected
            .iter()
            .map(|(a, l)| ((*a).to_owned(), (*l).to_owned()))
            .collect(),
    );
    let page = std::fs::read_to_string(out.join("runbooks/missed-levels/job-failed.md"))
        .expect("runbook page");
    for (alert, level) in expected {
        assert!(
            page.contains(&format!("| `{alert}` | {level} |")),
            "the runbook page does not show {alert} at {level}:\n{page}"
        );
    }
    promtool(&out);
    amtool(&out, &["missed-levels"]);
    let _ = std::fs::remove_dir_all(&out);
}

/// Issue 13, points 5, 9 and 11: burn-rate factors are the workbook's whatever the SLO window
/// (a 7-day SLO once got 0.7× and 0.233×, so a burn slower than sustainable opened tickets); the
/// value is the burn rate and the description names both pairs, not the one that may not have
/// fired; no rule reads raw series over days, and the groups over days are evaluated every 5m.
#[test]
fn burn_rates_are_the_workbooks_whatever_the_window() {
    let out = build("tests/fixtures/emit/every-kind.yaml", "burn", &[]);
    let rules = yaml(&out.join("prometheus/every-kind.rules.yaml"));
    let mut seen = 0;
    for group in rules["groups"].as_array().expect("groups") {
        let name = group["name"].as_str().unwrap_or_default();
        let long = name.rsplit('.').next() == Some("long");
        if name.contains(".slo.") {
            assert_eq!(
                group["interval"].as_str(),
                long.then_some("5m"),
                "group {name}"
            );
        }
        for r in group["rules"].as_array().expect("rules") {
            let expr = r["expr"].as_str().unwrap_or_default();
            // A range of days reads only the SLI's 5-minute records.
            for (i, _) in expr.match_indices("d])") {
                let before = &expr[..i];
                let call = before.rfind("sum_over_time(").map(|s| &before[s..]);
                assert!(
                    call.is_some_and(|c| c.starts_with("sum_over_time(slo:sli_")),
                    "`{expr}` reads raw series over days"
                );
            }
            let Some(alert) = r["alert"].as_str() else {
                continue;
            };
            if !alert.contains("BurnRate") {
                continue;
            }
            seen += 1;
            let factors: Vec<&str> = expr
                .split("> ")
                .skip(1)
                .map(|s| s.split_whitespace().next().unwrap_or_default())
                .collect();
            let (want, pairs) = if alert.ends_with("Page") {
                (["14.4", "14.4", "6", "6"], "over 1h, or over 6h")
            } else {
                (["3", "3", "1", "1"], "over 1d, or over 3d")
            };
            assert_eq!(factors, want, "{alert}: `{expr}`");
            assert_eq!(long, !alert.ends_with("Page"), "{alert} in group {name}");
            let description = r["annotations"]["description"].as_str().unwrap_or_default();
            assert!(
                description.contains("{{ $value | printf \"%.1f\" }}× the sustainable rate")
                    && description.contains(pairs),
                "{alert}: {description}"
            );
        }
    }
    assert!(seen >= 3, "only {seen} burn-rate alerts");
    let _ = std::fs::remove_dir_all(&out);
}

/// Issue 13, points 1, 3, 4 and 10, proven by a promtool test written by hand rather than
/// generated (`tests/fixtures/emit/every-kind.sre.test.yaml`): raw exporter data fed as an SRE
/// would, against the rules `upkeep build` writes. A generated test agrees with the generator
/// by construction; this one does not know how the rules are written.
#[test]
fn raw_exporter_data_raises_what_an_sre_expects() {
    let Some(promtool) = common::tool("promtool") else {
        return;
    };
    let out = build("tests/fixtures/emit/every-kind.yaml", "sre", &[]);
    let test = out.join("prometheus/every-kind.sre.test.yaml");
    std::fs::copy(
        common::root().join("tests/fixtures/emit/every-kind.sre.test.yaml"),
        &test,
    )
    .expect("copy the test");
    let text = common::run_ok(Command::new(&promtool).args(["test", "rules"]).arg(&test));
    assert!(text.contains("SUCCESS"), "{text}");
    let _ = std::fs::remove_dir_all(&out);
}

/// Issue 16, bounded recurrences: a job limited to dates is awaited from its first run until its
/// last run is overdue. The generated tests at those dates pass, and fail on rules whose dates
/// were taken out by hand (the alert would then fire before the first run, or forever after the
/// last).
#[test]
fn work_limited_to_dates_is_awaited_only_at_its_dates() {
    let out = build("tests/fixtures/emit/dates.yaml", "dates", &[]);
    let tests = out.join("prometheus/dates.dates.rules.test.yaml");
    assert!(tests.is_file(), "no test file at the plan's dates");
    let crontab = std::fs::read_to_string(out.join("cron/dates.crontab")).expect("crontab");
    assert!(
        crontab.contains(
            "-ge 20270117 ] && [ \"$(TZ=America/Lima date +\\%Y\\%m\\%d)\" -le 20270123 ]"
        ),
        "{crontab}"
    );
    promtool(&out);
    let Some(promtool) = common::tool("promtool") else {
        return;
    };
    let rules = out.join("prometheus/dates.rules.yaml");
    let original = std::fs::read_to_string(&rules).expect("rules");
    for gate in [
        // review_logs: after its last run, and before its first.
        " and on() vector(time()) < 1800842400",
        " and on() vector(time()) >= 1800194400",
    ] {
        assert!(
            original.contains(gate),
            "the rules no longer contain {gate:?}"
        );
        std::fs::write(&rules, original.replace(gate, "")).expect("write");
        let text = common::run_fails(Command::new(&promtool).args(["test", "rules"]).arg(&tests));
        assert!(text.contains("FAILED"), "{text}");
    }
    let _ = std::fs::remove_dir_all(&out);
}
