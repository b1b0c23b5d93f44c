//! `upkeep diff` and the CI features around it, as users run them.
//!
//! - Every fixture pair `tests/fixtures/diff/NAME/{base,head}/` is diffed; the Markdown a
//!   pull request would get is snapshotted and the operational wording each fixture exists for
//!   is asserted (tightened/loosened by the KPI's direction, levels by rank, risky changes
//!   first, moves with next occurrences, renames as renames, a reformat as no change, where
//!   host metrics are read from).
//! - Every value of a plan is changed in turn: whatever still checks must be reported as a
//!   semantic change, so nothing a plan says escapes the diff.
//! - `--git` against a temporary repository; `git` missing is a usage error.
//! - `build --check` names each differing file with a unified diff.
//! - `init` writes a starter plan that checks with no warnings; `graph` prints DOT.
//! - The GitHub Actions example uses the commands the book documents.

mod common;

use common::{code, git, scratch, stderr, stdout, upkeep_in};

use std::path::Path;
use std::process::{Command, Output};

use upkeep::diff::{self, Side};
use upkeep::driver;

const FIXTURES: &str = "tests/fixtures/diff";

fn upkeep(args: &[&str]) -> Output {
    upkeep_in(&common::root(), args)
}

fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(common::root().join(FIXTURES))
        .expect("diff fixtures")
        .filter_map(Result::ok)
        .filter(|e| e.path().join("base").is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// What each fixture exists to show: its exit code, text the report must contain, and text it
/// must not.
fn expectation(name: &str) -> (i32, &'static [&'static str], &'static [&'static str]) {
    match name {
        "reformat" => (
            0,
            &[
                "No semantic change in 1 plan.",
                "The plan means the same, but these files differ in layout or order",
            ],
            &["#### KPIs", "risky", "renamed"],
        ),
        "rename" => (
            1,
            &[
                "- `p95_latency`: renamed from `latency` (same content)",
                "- `P95LatencyP1`: renamed from `LatencyP1` (follows the rename of `kpis.latency`); silences, dashboards and Alertmanager routes that match `alertname=\"LatencyP1\"` no longer match it",
                "- `night`: renamed from `nightly` (same content)",
                "- `disk-space`: renamed from `disk-full` (same content)",
                // The runbook's page follows its name.
                "- `runbooks/shop/disk-space.md`: added",
            ],
            &["`: removed\n", "`: added\n", "risky", "`runbook`"],
        ),
        "muting" => (
            1,
            &[
                "- `levels.P2`: paging turned on",
                "- `levels.P2`: `severity` label of its alerts changed `warning` → `critical`",
                "- `levels.P3`: `severity` label of its alerts changed `info` → `warning`",
                "- `nightly`: now mutes `P3` (was: `P2`, `P3`)",
                "- `sunday`: now mutes every level but `P0` (was: no level) **(risky)**",
                "- `alertmanager/alertmanager.yaml` (the plan's part): changed",
            ],
            &["`nightly`: now mutes `P3` (was: `P2`, `P3`) **(risky)**"],
        ),
        "thresholds" => (
            1,
            &[
                "- `latency`: critical threshold loosened `> 500ms` → `> 800ms` (higher is worse: fires later)",
                "- `latency`: warning threshold tightened `> 250ms` → `> 200ms` (higher is worse: fires sooner)",
                "- `orders`: critical threshold loosened `< 50 orders/min` → `< 30 orders/min` (lower is worse: fires later)",
                "- `orders`: warning threshold tightened `< 110 orders/min` → `< 125 orders/min` (lower is worse: fires sooner)",
                "- `orders`: objective tightened `> 100 orders/min` → `> 120 orders/min` (lower is worse)",
                "- `disk`: critical threshold tightened `> 90%` → `>= 90%` (higher is worse: fires sooner)",
                "- `disk`: warning `for` loosened `10m` → `15m`",
                "- `disk`: critical `for` loosened `10m` → `15m`",
                // The KPI's `for` moved onto one threshold: only that alert waits longer.
                "- `latency`: warning `for` loosened `5m` → `10m`",
                "- `orders`: thresholds now judged on the 30m average (was: each value)",
            ],
            &["risky", "- `latency`: critical `for`"],
        ),
        "levels" => (
            1,
            &[
                // A KPI alert is named after its level: a new level renames it, said as such.
                "- `LatencyP0`: renamed from `LatencyP1`: its critical threshold is at another level, and a KPI alert is named after its level; silences, dashboards and Alertmanager routes that match `alertname=\"LatencyP1\"` no longer match it",
                "- `LatencyP0`: level raised `P1` → `P0`",
                // Two thresholds that swap names (the warning takes the critical's old level).
                "- `OrdersP2`: renamed from `OrdersP1`",
                "- `OrdersP3`: renamed from `OrdersP2`",
                // Both at one level: the level, then the threshold.
                "- `DiskP1Warning`: renamed from `DiskP1`",
                "- `ApiDown`: level lowered `P1` → `P2`",
                "- `DiskP1Critical`: level lowered `P0` → `P1`",
                "- `api`: `impact` lowered `high` → `medium`",
                "- matrix cell `critical` × `high` lowered `P0` → `P1`",
                "- `levels.P2`: response time tightened `4h` → `2h`",
                // A missed job's own level: the field, and the alert that follows it.
                "- `rotate_logs`: level of its missed-run alert lowered `P2` → `P3`",
                "- `vacuum`: level of its missed-run alert set to `P3`",
                "- `VacuumMissed`: level lowered `P1` → `P3`",
                "- `postgres`: level of its missed-backup alerts set to `P1`",
                "- `postgres.full`: level of its missed-backup alert set to `P2`",
                "- `PostgresFullBackupMissed`: level lowered `P0` → `P2`",
            ],
            &["risky"],
        ),
        "hosts" => (
            1,
            &[
                "- host metrics now read from `{job=\"node\", env=\"prod\"}` (was the default `{job=\"node\"}`)",
                "- `api`: host metrics now read from the plan's `{job=\"node\", env=\"prod\"}` (was `{job=\"api-nodes\"}`)",
                "- `postgres`: host metrics now read from `{job=\"db-nodes\"}` (was the default `{job=\"node\"}`)",
                // The disk KPI of `postgres` reads other series.
                "- `prometheus/shop.rules.yaml`: changed",
            ],
            // `payments` follows the plan's on both sides: the plan's line says it.
            &["`payments`", "risky"],
        ),
        "receivers" => (
            1,
            &[
                "### Risky changes\n\n- `shop` · Severity · `levels.P0`: receivers: `pager` removed — the most urgent level `P0` loses a receiver",
                "- `levels.P1`: receivers: `ops-webhook` added",
                "- `chat`: `slack.channel` changed `#shop-ops` → `#shop-incidents`",
                "- `ops-webhook`: added (webhook)",
                "- escalation order: `sre` added",
                "- escalation step to `secondary` changed `timed, after 15m` → `timed, after 10m`",
                // A step without `after` is taken by hand.
                "- escalation step to `dba` changed `timed, after 30m` → `manual, taken by hand`",
                // Without PagerDuty, P0 no longer pages: `mute: true` now mutes it at night.
                "- `levels.P0`: paging turned off **(risky)**",
                "- `nightly`: now mutes every level but `P1` (was: `P2`, `P3`)",
            ],
            &[],
        ),
        "schedules" => (
            1,
            &[
                "- `nightly`: moved `daily at 01:00` → `daily at 00:30`\n  - next before: `Sat 2027-01-02 01:00 CET`, `Sun 2027-01-03 01:00 CET`, `Mon 2027-01-04 01:00 CET`\n  - next after: `Sat 2027-01-02 00:30 CET`, `Sun 2027-01-03 00:30 CET`, `Mon 2027-01-04 00:30 CET`",
                "- `nightly`: `duration` shortened `2h` → `1h30m`",
                "- `rotate_logs`: moved `daily at 01:00` → `daily at 00:30`",
                "- `vacuum`: moved `weekly on sunday at 04:00` → `weekly on saturday at 05:00`",
                "- `security_review`: moved `monthly on first monday at 10:00` → `monthly on second monday at 10:00`",
                "- `postgres.full`: moved `daily at 02:00` → `daily at 03:00`",
                // Dates added, taken away and changed (issue 16, bounded recurrences).
                "- `log_review`: now runs only from `2027-01-04` to `2027-01-10` (was: with no dates)\n  - next before: `Fri 2027-01-01 09:00 CET`, `Sat 2027-01-02 09:00 CET`, `Sun 2027-01-03 09:00 CET`\n  - next after: `Mon 2027-01-04 09:00 CET`",
                "- `cache_check`: now runs with no dates (was: only until `2027-03-31`)",
                "- `archive_check`: now runs only until `2027-04-25` (was: only until `2027-03-28`)",
                "Next occurrences are counted from 2027-01-01T00:00Z.",
            ],
            &["risky", "`postgres.incremental`"],
        ),
        "timezone" => (
            1,
            &[
                "- time zone changed `Europe/Madrid` → `America/New_York`",
                "- `nightly`: schedule `daily at 01:00` moved (the time zone changed)",
                "next after: `Fri 2027-01-01 01:00 EST`",
            ],
            // Hourly backups start at the same instants in both zones.
            &["`postgres.incremental`"],
        ),
        "backups" => (
            1,
            &[
                "- `shop` · Backups · `postgres.full`: retention cut `30d` → `7d` — backup retention is cut",
                "- `shop` · Backups · `postgres.incremental`: removed (was `every 1h`, kept `7d`) — `incremental` backups are removed",
                "- `shop` · Backups · `postgres.restore_test`: removed (was `monthly on first saturday at 10:00`) — backups are no longer restore-tested",
                "- `shop` · Alerts · `PostgresIncrementalBackupMissed`: critical alert removed (was `P0`)",
                "- `postgres`: RPO loosened `1h` → `1d`",
                "- `postgres`: RTO tightened `2h` → `1h`",
                // The time limit of a level: its `duration`, or until the next run, at most 6h.
                "- `postgres.full`: time limit shortened `6h` → `3h`",
                "- `postgres.weekly`: added (`weekly on sunday at 02:30`, kept `90d`)",
            ],
            &[],
        ),
        // issue 16: what enforces `retain`, in operational words.
        "retention" => (
            1,
            &[
                "- `postgres.full.prune`: now deletes `full` backups older than `30d` `daily at 03:00` (was: nothing deleted them)",
                "- `postgres.incremental.prune`: now deletes `incremental` backups older than `7d` `daily at 03:00` (was: nothing deleted them)",
                "- `PostgresFullPruneMissed`: new `P1` alert (runbook `job-failed`)",
                "- `cron/shop.crontab`: changed",
            ],
            &["risky"],
        ),
        "budget" => (
            1,
            &[
                "- total per year raised `150,000 EUR` → `162,000 EUR` (+12,000)",
                "- sum of the lines per year raised `150,000 EUR` → `162,000 EUR` (+12,000)",
                "- line `infrastructure.hosting` raised `5,000 EUR/month` → `6,000 EUR/month` (+1,000)",
                "- `preventive` allocation lowered `40%` → `35%`",
                // The budget table of the runbook overview.
                "- `runbooks/shop/index.md`: changed",
            ],
            &["risky", "prometheus/"],
        ),
        "runbooks" => (
            1,
            &[
                "- `DiskP0`: runbook removed (was `disk-full`) **(risky)**",
                "- `ReplicationLagP0`: new `P0` critical alert without a runbook **(risky)**",
                "- `QueueP0`: new `P0` critical alert (runbook `queue-backlog`)",
                "- `disk-full`: removed (was “Disk almost full”)",
                "- `high-latency`: `actions`: `Check the cache hit ratio` added",
            ],
            &["`QueueP0`: new `P0` critical alert (runbook `queue-backlog`) **(risky)**"],
        ),
        "alerts-removed" => (
            1,
            &[
                "- `ApiDown`: critical alert removed (was `P1`) **(risky)**",
                "- `LatencyP1`: critical alert removed (was `P1`) **(risky)**",
                "- `AvailabilityBurnRateTicket`: alert removed (was `P3`)\n",
                "- `api`: health check removed (was `http http://api:8080/healthz`)",
            ],
            // Parts of the health check go with it.
            &[
                "`health.interval`",
                "`AvailabilityBurnRateTicket`: alert removed (was `P3`) **(risky)**",
            ],
        ),
        "health-body" => (
            1,
            &[
                "- `api`: fields its answer must have set to `\"ready\": true`",
                "- `api`: level of its unhealthy alert set to `P3`",
                "- `ApiUnhealthy`: new `P3` alert (runbook `service-down`)",
                "- `blackbox/blackbox.yaml`: changed",
            ],
            &["`ApiDown`"],
        ),
        "plans" => (
            1,
            &[
                "3 of 3 plans changed (1 added, 1 removed, 1 renamed), **1 risky change**.",
                "### Plan `store` (renamed from `shop`, same content)",
                "### Plan `legacy` (removed)",
                "1 critical alert removed with the plan: `MainframeDown` **(risky)**",
                "### Plan `search` (added)",
                "- `alertmanager/alertmanager.yaml` (the plan's part): added",
            ],
            &[],
        ),
        "environments" => (
            1,
            &[
                "- `shop` · Environments · `prod`: alert rules turned off — alert rules are turned off in an environment",
                "- `prod`: `image.tag` changed `v1.0.0` → `v1.1.0`",
                "- `prod`: `autoscaling.max` changed `10` → `20`",
                "- `dev`: added (1 replica)",
            ],
            &["`staging`"],
        ),
        // Objectives and thresholds of one environment: each a change of that SLO's or KPI's
        // alerting there, said against the plan's value as it appears or goes.
        "env-objectives" => (
            1,
            &[
                "- `production.kpis.disk`: warning threshold tightened `> 80%` → `> 70%` (higher is worse: fires sooner)",
                "- `production.kpis.disk`: critical threshold loosened `> 85%` → `> 92%` (higher is worse: fires later)",
                "- `production.slos.availability`: pages and opens tickets when the 30d objective `99.95%` burns (was `99.9%`, as every environment): stricter",
                "- `staging.slos.availability`: pages and opens tickets when the plan's 30d objective `99.9%` burns again (was `99.5%`): stricter",
                "- `prometheus/staging/shop.rules.yaml`: removed",
            ],
            &["risky"],
        ),
        "fragment" => (
            1,
            &["- `disk-full`: `actions`: `Remove old WAL files` removed"],
            &[],
        ),
        "broken" => (
            1,
            &[
                "`upkeep check` reports errors, so plan `shop` was not compared",
                "- head `head/plan.yaml:36:17` error `kpi/threshold-order`:",
            ],
            &["### Plan `", "No semantic change"],
        ),
        "broken-fragment" => (
            1,
            &[
                "so nothing was compared",
                "- head `head/shared/runbooks.yaml:7:5` error `schema/unknown-field`",
            ],
            &["### Plan `"],
        ),
        other => panic!("fixture `{other}` has no expectation in tests/diff.rs"),
    }
}

#[test]
fn fixtures() {
    let names = fixture_names();
    assert!(names.len() >= 15, "fixtures: {names:?}");
    for name in names {
        let dir = common::root().join(FIXTURES).join(&name);
        let o = upkeep_in(&dir, &["diff", "base", "head"]);
        let text = stdout(&o);
        let (exit, contains, absent) = expectation(&name);
        assert_eq!(code(&o), exit, "{name}:\n{text}{}", stderr(&o));
        for c in contains {
            assert!(text.contains(c), "{name}: missing\n{c}\nin\n{text}");
        }
        for a in absent {
            assert!(!text.contains(a), "{name}: unexpected\n{a}\nin\n{text}");
        }
        // Risky changes come first, before any plan.
        if let Some(risky) = text.find("### Risky changes") {
            assert!(
                text.find("### Plan").is_none_or(|p| p > risky),
                "{name}: risky changes must come first"
            );
        }
        insta::assert_snapshot!(format!("fixture_{name}"), format!("exit {exit}\n\n{text}"));
    }
}

/// Each side compared with itself is no change, and the comparison is the same on every run.
#[test]
fn a_side_against_itself_is_no_change() {
    for name in fixture_names() {
        if name.starts_with("broken") {
            continue;
        }
        let dir = common::root().join(FIXTURES).join(&name);
        for side in ["base", "head"] {
            let o = upkeep_in(&dir, &["diff", side, side]);
            assert_eq!(code(&o), 0, "{name}/{side}:\n{}", stdout(&o));
            assert!(stdout(&o).contains("No semantic change"), "{}", stdout(&o));
            assert!(!stdout(&o).contains("Generated files"), "{}", stdout(&o));
        }
        let once = stdout(&upkeep_in(&dir, &["diff", "base", "head"]));
        let twice = stdout(&upkeep_in(&dir, &["diff", "base", "head"]));
        assert_eq!(once, twice, "{name}: not deterministic");
    }
}

/// Going back is the opposite change.
#[test]
fn reversed_changes_read_the_other_way() {
    let dir = common::root().join(FIXTURES).join("thresholds");
    let text = stdout(&upkeep_in(&dir, &["diff", "head", "base"]));
    assert!(
        text.contains(
            "critical threshold tightened `> 800ms` → `> 500ms` (higher is worse: fires sooner)"
        ),
        "{text}"
    );
    let dir = common::root().join(FIXTURES).join("backups");
    let text = stdout(&upkeep_in(&dir, &["diff", "head", "base"]));
    assert!(text.contains("retention extended `7d` → `30d`"), "{text}");
    assert!(
        !text.contains("retention extended `7d` → `30d` **(risky)**"),
        "{text}"
    );
    let dir = common::root().join(FIXTURES).join("health-body");
    let text = stdout(&upkeep_in(&dir, &["diff", "head", "base"]));
    for line in [
        "- `api`: fields its answer must have removed (was `\"ready\": true`)",
        "- `ApiUnhealthy`: alert removed (was `P3`)",
    ] {
        assert!(text.contains(line), "missing\n{line}\nin\n{text}");
    }
    let dir = common::root().join(FIXTURES).join("hosts");
    let text = stdout(&upkeep_in(&dir, &["diff", "head", "base"]));
    for line in [
        "- host metrics now read from the default `{job=\"node\"}` (was `{job=\"node\", env=\"prod\"}`)",
        "- `api`: host metrics now read from `{job=\"api-nodes\"}` (was the plan's `{job=\"node\", env=\"prod\"}`)",
        "- `postgres`: host metrics now read from the default `{job=\"node\"}` (was `{job=\"db-nodes\"}`)",
    ] {
        assert!(text.contains(line), "missing\n{line}\nin\n{text}");
    }
    let dir = common::root().join(FIXTURES).join("plans");
    let text = stdout(&upkeep_in(&dir, &["diff", "head", "base"]));
    assert!(
        text.contains("### Plan `shop` (renamed from `store`, same content)"),
        "{text}"
    );
}

#[test]
fn json_format() {
    let dir = common::root().join(FIXTURES).join("receivers");
    let o = upkeep_in(&dir, &["diff", "base", "head", "--format", "json"]);
    assert_eq!(code(&o), 1);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("diff JSON");
    assert_eq!(v["semantic_change"], true);
    assert_eq!(v["reference"], "2027-01-01T00:00:00Z");
    let risky = v["risky"].as_array().expect("risky");
    // P0 loses PagerDuty: a receiver, and with it its paging.
    assert_eq!(risky.len(), 2, "{risky:?}");
    assert_eq!(risky[0]["plan"], "shop");
    assert_eq!(risky[0]["section"], "severity");
    assert_eq!(risky[0]["subject"], "levels.P0");
    assert_eq!(risky[0]["field"], "notify");
    assert_eq!(risky[0]["kind"], "removed");
    assert_eq!(risky[1]["subject"], "levels.P0");
    assert_eq!(risky[1]["field"], "pages");
    assert_eq!(risky[1]["kind"], "changed");
    let plan = &v["plans"][0];
    assert_eq!(plan["status"], "changed");
    let kinds: Vec<&str> = plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"added") && kinds.contains(&"changed"),
        "{kinds:?}"
    );
    assert_eq!(plan["files"][0]["path"], "alertmanager/alertmanager.yaml");
    assert_eq!(plan["files"][0]["shared"], true);
    insta::assert_snapshot!("json_receivers", stdout(&o));

    let dir = common::root().join(FIXTURES).join("reformat");
    let o = upkeep_in(&dir, &["diff", "base", "head", "--format", "json"]);
    assert_eq!(code(&o), 0);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("diff JSON");
    assert_eq!(v["semantic_change"], false);
    assert_eq!(v["plans"][0]["status"], "unchanged");
}

#[test]
fn usage_errors() {
    let dir = common::root().join(FIXTURES).join("thresholds");
    for args in [
        &["diff"][..],
        &["diff", "base"],
        &["diff", "base", "head", "head"],
        &["diff", "base", "nowhere"],
        &["diff", "base", "head", "--format", "xml"],
    ] {
        let o = upkeep_in(&dir, args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stdout(&o).is_empty(), "{args:?}");
    }
    let o = upkeep_in(&dir, &["diff", "base"]);
    assert!(stderr(&o).contains("give BASE and HEAD"), "{}", stderr(&o));
}

/// Files and directories mix: a plan file against the directory holding its next version.
#[test]
fn files_and_directories() {
    let dir = common::root().join(FIXTURES).join("thresholds");
    let o = upkeep_in(&dir, &["diff", "base/plan.yaml", "head"]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("critical threshold loosened `> 500ms` → `> 800ms`"));
    // The generated files' headers name `plan.yaml` on both sides: only real changes differ.
    let o = upkeep_in(&dir, &["diff", "base/plan.yaml", "base"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(!stdout(&o).contains("Generated files"), "{}", stdout(&o));
}

#[test]
fn git_revision() {
    let repo = scratch("git");
    git(&repo, &["init", "-q"]);
    let plans = repo.join("plans");
    std::fs::create_dir_all(plans.join("shared")).expect("mkdir");
    let fixture = common::root().join(FIXTURES).join("fragment/base");
    let plan = std::fs::read_to_string(fixture.join("plan.yaml")).expect("plan");
    std::fs::write(plans.join("shop.yaml"), &plan).expect("write");
    std::fs::copy(
        fixture.join("shared/runbooks.yaml"),
        plans.join("shared/runbooks.yaml"),
    )
    .expect("copy fragment");
    std::fs::write(repo.join("README.md"), "not a plan\n").expect("write");
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "base"]);

    // A clean working tree: no change.
    let o = upkeep_in(&repo, &["diff", "--git", "HEAD"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("No semantic change in 1 plan."),
        "{}",
        stdout(&o)
    );

    // An uncommitted change, against HEAD, from the top and from inside `plans/`.
    let changed = plan.replace("    critical: \"> 500ms\"", "    critical: \"> 800ms\"");
    assert_ne!(changed, plan);
    std::fs::write(plans.join("shop.yaml"), &changed).expect("write");
    for (cwd, args) in [
        (repo.clone(), &["diff", "--git", "HEAD"][..]),
        (repo.clone(), &["diff", "--git", "HEAD", "plans"]),
        (plans.clone(), &["diff", "--git", "HEAD", "."]),
        (plans.clone(), &["diff", "--git", "HEAD", "shop.yaml"]),
    ] {
        let o = upkeep_in(&cwd, args);
        assert_eq!(code(&o), 1, "{args:?}: {}{}", stdout(&o), stderr(&o));
        let text = stdout(&o);
        assert!(
            text.contains(
                "critical threshold loosened `> 500ms` → `> 800ms` (higher is worse: fires later)"
            ),
            "{args:?}: {text}"
        );
        // The headers of generated files name the plan the same way on both sides.
        assert!(
            text.contains("- `prometheus/shop.rules.yaml`: changed (+3 −3 lines)"),
            "{text}"
        );
    }

    // A change in the imported fragment, committed; compared with the commit before.
    git(&repo, &["commit", "-q", "-am", "loosen"]);
    let fragment = std::fs::read_to_string(plans.join("shared/runbooks.yaml")).expect("read");
    std::fs::write(
        plans.join("shared/runbooks.yaml"),
        fragment.replace("Remove old WAL files, ", ""),
    )
    .expect("write");
    git(&repo, &["commit", "-q", "-am", "fragment"]);
    let o = upkeep_in(&repo, &["diff", "--git", "HEAD~2"]);
    assert_eq!(code(&o), 1);
    let text = stdout(&o);
    assert!(text.contains("critical threshold loosened"), "{text}");
    assert!(
        text.contains("`disk-full`: `actions`: `Remove old WAL files` removed"),
        "{text}"
    );

    // A plan broken at the revision: its diagnostics name the revision's file.
    std::fs::write(
        plans.join("shop.yaml"),
        changed.replace("    warning: \"> 250ms\"", "    warning: \"> 900ms\""),
    )
    .expect("write");
    git(&repo, &["commit", "-q", "-am", "broken"]);
    std::fs::write(plans.join("shop.yaml"), &changed).expect("write");
    let o = upkeep_in(&repo, &["diff", "--git", "HEAD"]);
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("- base `HEAD:plans/shop.yaml:37:17` error `kpi/threshold-order`"),
        "{}",
        stdout(&o)
    );

    // A plan deleted in the working tree, and a path only the revision has.
    std::fs::remove_file(plans.join("shop.yaml")).expect("rm");
    let o = upkeep_in(&repo, &["diff", "--git", "HEAD~1"]);
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("### Plan `shop` (removed)"),
        "{}",
        stdout(&o)
    );
    let o = upkeep_in(&repo, &["diff", "--git", "HEAD~1", "plans/shop.yaml"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stdout(&o).contains("(removed)"), "{}", stdout(&o));

    // Usage errors.
    for (args, says) in [
        (&["diff", "--git", "no-such-branch"][..], "is not a commit"),
        (&["diff", "--git", "HEAD", "nowhere"], "exists neither"),
        (&["diff", "--git=-x"], "is not a git revision"),
        (
            &["diff", "--git", "HEAD", "/"],
            "outside the git repository",
        ),
    ] {
        let o = upkeep_in(&repo, args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
    }
    let outside = scratch("git-outside");
    let o = upkeep_in(&outside, &["diff", "--git", "HEAD"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("not inside a git repository"),
        "{}",
        stderr(&o)
    );

    // No temporary directory is left behind by this process's runs.
    let _ = std::fs::remove_dir_all(&repo);
    let _ = std::fs::remove_dir_all(&outside);
}

#[test]
fn git_missing_is_a_usage_error() {
    let empty = scratch("no-git");
    let o = Command::new(env!("CARGO_BIN_EXE_upkeep"))
        .args(["diff", "--git", "HEAD"])
        .current_dir(common::root())
        .env("PATH", &empty)
        .output()
        .expect("run upkeep");
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("`git` is not installed or not on the PATH"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("help: "), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&empty);
}

/// Every number in a plan is changed in turn (`30d` → `31d`, `02:00` → `03:00`,
/// `> 250ms` → `> 251ms`, `P1` → `P2`…), and the last word of every line (`Service down` →
/// `Service downx`, a command, a channel, a metric): each change that still checks must be
/// reported as a semantic change, so nothing a plan says escapes the diff. `every` takes one
/// mutation in that many (the bundled plans are long).
fn every_change_is_reported(plan: &Path, fragments: Option<&Path>, every: usize) -> (usize, usize) {
    let text = std::fs::read_to_string(plan).expect("plan");
    let name = plan.file_name().expect("file name");
    let work = scratch(&format!("mutations-{}", name.to_string_lossy()));
    for side in ["base", "head"] {
        let dir = work.join(side);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join(name), &text).expect("write");
        if let Some(f) = fragments {
            let to = dir.join(f.file_name().expect("fragment dir"));
            std::fs::create_dir_all(&to).expect("mkdir");
            for entry in std::fs::read_dir(f).expect("fragments").flatten() {
                std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
            }
        }
    }
    let (base_dir, head_dir) = (work.join("base"), work.join("head"));
    let base_ws =
        driver::check(std::slice::from_ref(&base_dir), driver::Options::default()).expect("base");
    assert_eq!(base_ws.errors(), 0);
    let base = Side::new(base_ws, &base_dir, None);

    // (start, end, replacement) in `text`.
    let mut mutations: Vec<(usize, usize, String)> = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let code = line.split(" #").next().unwrap_or_default();
        if code.trim_start().starts_with('#') {
            continue;
        }
        let bytes = code.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if !bytes[i].is_ascii_digit() {
                i += 1;
                continue;
            }
            let j = (i..bytes.len())
                .find(|&k| !bytes[k].is_ascii_digit())
                .unwrap_or(bytes.len());
            if let Ok(n) = code[i..j].parse::<u64>() {
                let bumped = format!("{:0width$}", n + 1, width = j - i);
                mutations.push((start + i, start + j, bumped));
            }
            i = j;
        }
        if let Some(end) = code.rfind(|c: char| c.is_ascii_alphabetic()) {
            mutations.push((start + end + 1, start + end + 1, "x".to_owned()));
        }
    }

    let mut tried = 0;
    let mut clean = 0;
    for (from, to, with) in mutations.iter().step_by(every) {
        tried += 1;
        let mutated = format!("{}{with}{}", &text[..*from], &text[*to..]);
        std::fs::write(head_dir.join(name), &mutated).expect("write");
        let ws = driver::check(std::slice::from_ref(&head_dir), driver::Options::default())
            .expect("head");
        if ws.errors() > 0 {
            continue;
        }
        clean += 1;
        let head = Side::new(ws, &head_dir, None);
        let report = diff::diff(&base, &head);
        let line_no = text[..*from].lines().count();
        let what = format!(
            "{}:{line_no}: `{}` with `{with}` for `{}`",
            name.to_string_lossy(),
            text.lines()
                .nth(line_no.saturating_sub(1))
                .unwrap_or_default()
                .trim(),
            &text[*from..*to]
        );
        assert!(
            report.semantic_change(),
            "{what} is not reported as a change:\n{}",
            diff::render::markdown(&report)
        );
    }
    let _ = std::fs::remove_dir_all(&work);
    (tried, clean)
}

#[test]
fn every_change_that_checks_is_reported() {
    let plan = common::root()
        .join(FIXTURES)
        .join("thresholds/base/plan.yaml");
    let (tried, clean) = every_change_is_reported(&plan, None, 1);
    assert!(tried >= 200 && clean >= 100, "tried {tried}, clean {clean}");
}

/// The same on a bundled plan with every section (environments, policies, execution, budget…),
/// one mutation in seven (all of them, on every bundled plan, found nothing missing).
#[test]
fn every_change_to_a_bundled_plan_that_checks_is_reported() {
    let plans = common::root().join("plans");
    let (tried, clean) =
        every_change_is_reported(&plans.join("ecplacas.yaml"), Some(&plans.join("shared")), 7);
    assert!(tried >= 150 && clean >= 80, "tried {tried}, clean {clean}");
}

#[test]
fn build_check_names_each_differing_file_with_a_diff() {
    let dir = scratch("build-check");
    let out = dir.join("deploy");
    let out_s = out.to_string_lossy().into_owned();
    let plan = dir.join("plan.yaml");
    let plan_s = plan.to_string_lossy().into_owned();
    let fixture = common::root().join(FIXTURES).join("thresholds");
    std::fs::copy(fixture.join("base/plan.yaml"), &plan).expect("copy base");
    let o = upkeep(&["build", &plan_s, "--out", &out_s]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = upkeep(&["build", &plan_s, "--out", &out_s, "--check"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("generated files are up to date"),
        "{}",
        stderr(&o)
    );

    // The plan changed but the files were not rebuilt: each file that differs is named, with a
    // unified diff from what is on disk to what the plan generates.
    let rules = out.join("prometheus/shop.rules.yaml");
    let before = std::fs::read_to_string(&rules).expect("rules");
    std::fs::copy(fixture.join("head/plan.yaml"), &plan).expect("copy head");
    let o = upkeep(&["build", &plan_s, "--out", &out_s, "--check"]);
    assert_eq!(code(&o), 1);
    let text = stdout(&o);
    for file in [
        "prometheus/shop.rules.yaml",
        "prometheus/shop.rules.test.yaml",
    ] {
        assert!(
            text.contains(&format!("{}: differs", out.join(file).display())),
            "{text}"
        );
        assert!(
            text.contains(&format!("--- a/{file}\n+++ b/{file}\n")),
            "{text}"
        );
    }
    assert!(!text.contains("alertmanager/alertmanager.yaml"), "{text}");
    assert!(text.contains("@@ "), "{text}");
    assert!(
        text.contains("-        expr: ") && text.contains("+        expr: "),
        "{text}"
    );
    let differing = text.lines().filter(|l| l.ends_with(": differs")).count();
    assert!(
        stderr(&o).contains(&format!("error: {differing} of "))
            && stderr(&o).contains("generated files are out of date"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_to_string(&rules).expect("rules"),
        before,
        "--check writes nothing"
    );

    // A file removed by hand is missing.
    std::fs::remove_file(out.join("alertmanager/alertmanager.yaml")).expect("rm");
    let o = upkeep(&["build", &plan_s, "--out", &out_s, "--check"]);
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains(&format!(
            "{}: missing",
            out.join("alertmanager/alertmanager.yaml").display()
        )),
        "{}",
        stdout(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn init_writes_a_starter_that_checks_clean() {
    let dir = scratch("init");
    let o = upkeep_in(&dir, &["init", "payments-api"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let file = dir.join("payments-api.yaml");
    let text = std::fs::read_to_string(&file).expect("starter written");
    assert!(text.contains("  name: payments-api "), "{text}");
    assert!(
        text.lines()
            .filter(|l| l.trim_start().starts_with('#'))
            .count()
            > 10
    );
    // No errors and no warnings, even when warnings are denied; and it builds.
    let o = upkeep_in(&dir, &["check", "--deny", "warnings", "payments-api.yaml"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("no problems"), "{}", stderr(&o));
    let o = upkeep_in(&dir, &["build", "payments-api.yaml", "--out", "deploy"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    // Never overwritten.
    std::fs::write(&file, "mine\n").expect("write");
    let o = upkeep_in(&dir, &["init", "payments-api"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "mine\n");

    // To standard output.
    let o = upkeep_in(&dir, &["init", "-"]);
    assert_eq!(code(&o), 0);
    std::fs::write(dir.join("stdout.yaml"), stdout(&o)).expect("write");
    let o = upkeep_in(&dir, &["check", "--deny", "warnings", "stdout.yaml"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    // Names follow the plan-name rule.
    let o = upkeep_in(&dir, &["init", "Payments_API"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("upkeep init payments-api"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.join("Payments_API.yaml").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn graph_is_dot() {
    let o = upkeep(&["graph", "plans/ecplacas.yaml"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let dot = stdout(&o);
    insta::assert_snapshot!("graph_ecplacas", dot);

    // Structure, without Graphviz: one node per service labelled with its kind and impact, one
    // edge per dependency, dashed exactly when soft.
    let ws = common::check(&common::root().join("plans/ecplacas.yaml"));
    let plan = &ws.plans[0];
    assert!(dot.contains("digraph \"ecplacas\" {\n"), "{dot}");
    assert!(dot.ends_with("}\n"));
    assert_eq!(dot.matches('{').count(), dot.matches('}').count());
    let mut edges = 0;
    for (name, s) in plan.services.iter() {
        let impact = s.impact.as_ref().map_or("", |i| i.value.as_str());
        let label = format!(
            "  \"{}\" [label=\"{}\\n{} · impact {impact}\"",
            name.value,
            name.value,
            s.kind.name()
        );
        assert!(dot.contains(&label), "{label}\n{dot}");
        for d in &s.depends_on {
            edges += 1;
            let edge = format!("  \"{}\" -> \"{}\"", name.value, d.service.value);
            let line = dot
                .lines()
                .find(|l| l.starts_with(&edge))
                .unwrap_or_else(|| panic!("no edge {edge}\n{dot}"));
            assert_eq!(line.contains("style=dashed"), !d.hard, "{line}");
        }
    }
    assert!(edges > 0);
    assert_eq!(dot.matches(" -> ").count(), edges);
    assert!(
        dot.contains("[style=dashed];"),
        "ecplacas has a soft dependency"
    );
    assert!(dot.contains("shape=cylinder"), "ecplacas has a database");

    // A plan with errors: the diagnostics, no graph.
    let o = upkeep(&["graph", "tests/fixtures/diff/broken/head/plan.yaml"]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).is_empty());
    assert!(stderr(&o).contains("kpi/threshold-order"));
}

/// The workflow the book shows is the example file, and it runs the documented commands.
#[test]
fn github_actions_example() {
    let path = common::root().join("examples/github-actions.yml");
    let text = std::fs::read_to_string(&path).expect("examples/github-actions.yml");
    let v: serde_json::Value = serde_saphyr::from_str(&text).expect("valid YAML");
    assert!(
        v["on"]["pull_request"].is_object() || v["on"]["pull_request"].is_null(),
        "{v}"
    );
    let steps: Vec<&serde_json::Value> = v["jobs"]
        .as_object()
        .expect("jobs")
        .values()
        .flat_map(|j| j["steps"].as_array().into_iter().flatten())
        .collect();
    let runs: String = steps
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect::<Vec<_>>()
        .join("\n");
    for needle in [
        "upkeep check plans/ --format github",
        "upkeep check plans/ --format sarif",
        "upkeep build plans/ --out deploy/ --check",
        "upkeep diff --git \"origin/$BASE_REF\" plans/ --format markdown",
    ] {
        assert!(runs.contains(needle), "missing `{needle}` in\n{runs}");
    }
    let uses: Vec<&str> = steps.iter().filter_map(|s| s["uses"].as_str()).collect();
    assert!(
        uses.iter().any(|u| u.starts_with("actions/checkout@")),
        "{uses:?}"
    );
    assert!(
        uses.iter()
            .any(|u| u.starts_with("github/codeql-action/upload-sarif@")),
        "{uses:?}"
    );
    let checkout = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/checkout@"))
        })
        .expect("checkout");
    assert_eq!(
        checkout["with"]["fetch-depth"], 0,
        "diff --git needs the base branch"
    );
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.contains("upload-sarif"))
        })
        .expect("upload");
    assert!(upload["with"]["sarif_file"].is_string());
    // Every flag the workflow passes exists.
    for (sub, flags) in [
        ("check", &["--format"][..]),
        ("build", &["--out", "--check"]),
        ("diff", &["--git", "--format"]),
    ] {
        let help = stdout(&upkeep(&[sub, "--help"]));
        for f in flags {
            assert!(help.contains(f), "`upkeep {sub}` has no `{f}`");
        }
    }
    let book = std::fs::read_to_string(common::root().join("book/src/ci.md")).expect("ci.md");
    assert!(
        book.contains("{{#include ../../examples/github-actions.yml}}"),
        "the book includes the example rather than copying it"
    );
    assert!(book.contains("upkeep diff"), "{book}");
}
