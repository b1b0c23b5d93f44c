//! Schedules into what runs them, accepted by the real tools: `crontab -n` on every crontab,
//! `kubernetes-validate --strict` on the `CronJobs` and on the manifests a chart renders from the
//! Helm values, `helm lint`/`helm template`, `check-jsonschema` on the values, and the calendar
//! parsed back by Python's `icalendar` with its recurrences equal to upkeep's own expansion.
//! The generated shell is also run: jobs write their metrics, and every guard's shell text
//! agrees with the compiler's own model of it at every instant its cron line fires in a year.

mod common;

use common::{build, files};

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{TimeZone, Utc};
use upkeep::value::schedule::Schedule;
use upkeep::value::zone::Tz;

#[test]
fn crontabs_pass_crontab_n() {
    let Some(crontab) = common::tool("crontab") else {
        return;
    };
    for source in [
        "plans/",
        "tests/fixtures/emit/every-kind.yaml",
        "tests/fixtures/emit/jobs.yaml",
    ] {
        let out = build(source, "cron", &[]);
        let tabs = files(&out, ".crontab");
        assert!(!tabs.is_empty());
        for t in tabs {
            let text = common::run_ok(Command::new(&crontab).arg("-n").arg(&t));
            assert!(
                text.contains("successfully checked"),
                "{}: {text}",
                t.display()
            );
        }
        let _ = std::fs::remove_dir_all(&out);
    }
}

#[test]
fn cronjobs_pass_kubernetes_validate() {
    let Some(kv) = common::tool("kubernetes-validate") else {
        return;
    };
    for source in ["plans/", "tests/fixtures/emit/every-kind.yaml"] {
        let out = build(source, "k8s", &[]);
        for f in files(&out, "-cronjobs.yaml") {
            let text = common::run_ok(Command::new(&kv).args(["--strict", "-k", "1.30.0"]).arg(&f));
            assert!(
                text.contains("passed") && !text.contains("failed"),
                "{}: {text}",
                f.display()
            );
        }
        let _ = std::fs::remove_dir_all(&out);
    }
}

/// The chart under tests/chart carries the generated values schema (kept equal by this test;
/// `UPKEEP_BLESS=1` rewrites it).
#[test]
fn chart_schema_is_the_generated_one() {
    let path = common::root().join("tests/chart/upkeep-app/values.schema.json");
    if std::env::var_os("UPKEEP_BLESS").is_some() {
        std::fs::write(&path, upkeep::emit::helm::schema()).expect("write the chart schema");
    }
    let committed = std::fs::read_to_string(&path).expect("chart schema");
    assert_eq!(
        committed,
        upkeep::emit::helm::schema(),
        "tests/chart/upkeep-app/values.schema.json is out of date"
    );
}

#[test]
fn helm_values_pass_schema_lint_template_and_kubernetes_validate() {
    let out = build("plans/", "helm", &[]);
    let values = files(&out, ".yaml")
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/helm/"))
        .collect::<Vec<_>>();
    assert!(
        values.len() >= 9,
        "expected the values of every environment, found {}",
        values.len()
    );
    if let Some(cj) = common::tool("check-jsonschema") {
        for v in &values {
            let schema = v.parent().expect("dir").join("values.schema.json");
            common::run_ok(Command::new(&cj).arg("--schemafile").arg(&schema).arg(v));
        }
    }
    let (Some(helm), Some(kv)) = (common::tool("helm"), common::tool("kubernetes-validate")) else {
        return;
    };
    let chart = common::root().join("tests/chart/upkeep-app");
    for v in &values {
        common::run_ok(Command::new(&helm).arg("lint").arg(&chart).arg("-f").arg(v));
        let rendered = common::run_ok(
            Command::new(&helm)
                .args(["template", "release"])
                .arg(&chart)
                .arg("-f")
                .arg(v),
        );
        // PrometheusRule is a CRD the validator has no schema for; the rest is core Kubernetes.
        let core: Vec<&str> = rendered
            .split("\n---")
            .filter(|d| d.contains("kind:") && !d.contains("kind: PrometheusRule"))
            .collect();
        assert!(
            core.iter().any(|d| d.contains("kind: Deployment")),
            "{}: no Deployment rendered",
            v.display()
        );
        let file = out.join(format!(
            "rendered-{}.yaml",
            v.file_stem().expect("stem").to_string_lossy()
        ));
        std::fs::write(&file, core.join("\n---")).expect("write");
        let text = common::run_ok(
            Command::new(&kv)
                .args(["--strict", "-k", "1.30.0"])
                .arg(&file),
        );
        assert!(!text.contains("failed"), "{}: {text}", v.display());
        let parsed: serde_json::Value =
            serde_saphyr::from_str(&std::fs::read_to_string(v).expect("values"))
                .expect("values parse");
        let with_rules =
            parsed["upkeep"]["prometheusRule"]["enabled"] == serde_json::Value::Bool(true);
        assert_eq!(
            rendered.contains("kind: PrometheusRule"),
            with_rules,
            "{}: PrometheusRule rendered iff alerts are on",
            v.display()
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// Every event of every calendar recurs exactly as upkeep expands the schedule.
#[test]
fn calendars_parse_and_recur_as_upkeep_expands() {
    let Some(python) = common::tool("python3") else {
        return;
    };
    let script = common::root().join("tests/support/ics_occurrences.py");
    let probe = Command::new(&python)
        .args(["-c", "import icalendar, dateutil"])
        .output()
        .expect("python");
    if !probe.status.success() {
        common::missing("the Python packages icalendar and dateutil");
        return;
    }
    let out = build("plans/", "ics", &[]);
    let n = 8;
    for ics in files(&out, ".ics") {
        let plan = ics
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let parsed: serde_json::Value = serde_json::from_str(&common::run_ok(
            Command::new(&python)
                .arg(&script)
                .arg(&ics)
                .arg(n.to_string()),
        ))
        .expect("json");
        let sched = Command::new(env!("CARGO_BIN_EXE_upkeep"))
            .args([
                "schedule",
                &format!("plans/{plan}.yaml"),
                "--next",
                &n.to_string(),
                "--from",
                "2026-12-31T23:59:59Z",
                "--format",
                "json",
            ])
            .current_dir(common::root())
            .output()
            .expect("schedule");
        let sched: serde_json::Value =
            serde_json::from_slice(&sched.stdout).expect("schedule json");
        let mut compared = 0;
        let mut seen = std::collections::BTreeSet::new();
        for item in sched["items"].as_array().expect("items") {
            let kind = item["kind"].as_str().unwrap_or_default();
            let name = item["name"].as_str().unwrap_or_default();
            let category = match kind {
                "window" => {
                    let freeze = parsed.as_object().expect("obj").keys().any(|k| {
                        k.starts_with(&format!("freeze-{}@", name.replace(['.', '_'], "-")))
                    });
                    if freeze { "freeze" } else { "maintenance" }
                }
                "task" => "task",
                "restore test" => "restore-test",
                "review" => "review",
                _ => continue,
            };
            let uid = format!("{category}-{}@{plan}.upkeep", name.replace(['.', '_'], "-"));
            let Some(event) = parsed.get(&uid) else {
                continue;
            };
            seen.insert(uid.clone());
            if event["description"]
                .as_str()
                .unwrap_or_default()
                .starts_with("Starts ")
            {
                continue; // a task that starts later in its window on another day: one event for the window
            }
            let ics_starts = &event["starts"];
            let ours: Vec<&serde_json::Value> =
                item["next"].as_array().expect("next").iter().collect();
            let theirs: Vec<&serde_json::Value> = ics_starts
                .as_array()
                .expect("starts")
                .iter()
                .take(ours.len())
                .collect();
            assert_eq!(
                ours, theirs,
                "{plan}: {uid} recurs differently in the calendar"
            );
            compared += 1;
        }
        assert!(compared > 0, "{plan}: no event compared");
        let events: std::collections::BTreeSet<String> =
            parsed.as_object().expect("obj").keys().cloned().collect();
        let unmatched: Vec<&String> = events.difference(&seen).collect();
        assert!(
            unmatched.is_empty(),
            "{plan}: calendar events that match nothing upkeep schedules: {unmatched:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// Runs the command of a crontab line with `shell`, as cron does (`\%` turned back into `%`).
fn run_crontab_line(shell: &str, line: &str) -> std::process::ExitStatus {
    let command = line
        .splitn(6, ' ')
        .nth(5)
        .expect("five fields and a command")
        .replace("\\%", "%");
    Command::new(shell)
        .args(["-c", &command])
        .status()
        .expect("a shell")
}

/// Generated crontab lines, run as cron would (after turning `\%` back into `%`): success writes
/// the last-success metric atomically; failure and timeouts write nothing; probes write 1 or 0.
#[test]
fn crontab_lines_run_and_write_metrics() {
    let dir = Path::new("/tmp/upkeep-jobs-textfile");
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("textfile dir");
    let out = build("tests/fixtures/emit/jobs.yaml", "run", &[]);
    let tab = std::fs::read_to_string(out.join("cron/jobs.crontab")).expect("crontab");

    let mut ran = 0;
    for line in tab.lines() {
        if line.is_empty()
            || line.starts_with('#')
            || line.starts_with("SHELL=")
            || line.starts_with("PATH=")
            || line.starts_with("CRON_TZ=")
        {
            continue;
        }
        let _ = run_crontab_line("/bin/sh", line);
        ran += 1;
    }
    assert_eq!(ran, 6, "four tasks and two probes");
    let read =
        |name: &str| std::fs::read_to_string(dir.join(format!("upkeep_jobs_{name}.prom"))).ok();
    let ok = read("succeeds").expect("a successful task writes its metric");
    assert!(
        ok.starts_with(
            "upkeep_task_last_success_timestamp_seconds{plan=\"jobs\",task=\"succeeds\"} "
        ),
        "{ok}"
    );
    let ts: i64 = ok
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("a timestamp");
    assert!(
        (ts - Utc::now().timestamp()).abs() < 120,
        "timestamp {ts} is not now"
    );
    assert!(read("quotes").is_some(), "quotes in commands survive");
    assert!(read("fails").is_none(), "a failed task writes nothing");
    assert!(
        read("too_slow").is_none(),
        "a task killed by its time limit writes nothing"
    );
    assert_eq!(
        read("health_ok").as_deref(),
        Some("upkeep_health_check_success{plan=\"jobs\",service=\"ok\"} 1\n")
    );
    assert_eq!(
        read("health_broken").as_deref(),
        Some("upkeep_health_check_success{plan=\"jobs\",service=\"broken\"} 0\n")
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| !e.file_name().to_string_lossy().ends_with(".prom"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary files left behind: {leftovers:?}"
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// A backup's `prune`, run as cron runs its generated lines (in bash): each kind with a finite
/// `retain` gets its kind as `$1` and its retention in minutes as `$2`, so `find -mmin +$2`
/// deletes exactly the files older than `retain`; the kind kept `forever` is never pruned;
/// each successful run writes its last-success metric (issue 16).
#[test]
fn prune_lines_delete_exactly_the_backups_older_than_retain() {
    let root = std::env::temp_dir().join(format!("upkeep-prune-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (store, textfile) = (root.join("store"), root.join("textfile"));
    std::fs::create_dir_all(&textfile).expect("textfile dir");
    let plan = root.join("prune.yaml");
    std::fs::write(
        &plan,
        format!(
            "apiVersion: upkeep/v1\nkind: Plan\nmetadata: {{name: prune, timezone: UTC}}\n\
             execution: {{textfile_dir: {textfile}}}\n\
             backups:\n  db:\n    command: \"true\"\n\
             \x20   full: {{schedule: \"daily at 02:00\", retain: 2d}}\n\
             \x20   incremental: {{schedule: \"every 6h\", retain: 1d}}\n\
             \x20   yearly: {{schedule: \"yearly on 01-01 at 03:00\", retain: forever}}\n\
             \x20   prune: \"find '{store}'/$1 -type f -mmin +$2 -delete\"\n\
             \x20   restore_test: {{schedule: \"monthly on first sunday at 04:00\", manual: true}}\n\
             severity:\n  levels: {{P1: {{response: 1h, notify: [mail]}}}}\n\
             \x20 matrix: {{likelihood: [low, high], impact: {{low: [P1, P1]}}}}\n\
             \x20 likelihood_of: {{warning: low, critical: high}}\n  default_impact: low\n\
             receivers:\n  mail: {{email: {{to: ops@example.org, from: upkeep@example.org, smarthost: \"localhost:25\"}}}}\n",
            textfile = textfile.display(),
            store = store.display(),
        ),
    )
    .expect("plan");
    // Ages in minutes, each a few minutes from its kind's retention (2d = 2880, 1d = 1440).
    let files: &[(&str, &str, u64, bool)] = &[
        ("full", "old", 2880 + 3, true),
        ("full", "young", 2880 - 3, false),
        ("full", "new", 0, false),
        ("incremental", "old", 1440 + 3, true),
        ("incremental", "ancient", 40 * 1440, true),
        ("incremental", "young", 1440 - 3, false),
        ("yearly", "ancient", 800 * 1440, false),
    ];
    for (kind, name, age, _) in files {
        std::fs::create_dir_all(store.join(kind)).expect("kind dir");
        let path = store.join(kind).join(name);
        std::fs::write(&path, "backup").expect("file");
        let touched = Command::new("touch")
            .arg("-d")
            .arg(format!("{age} minutes ago"))
            .arg(&path)
            .status()
            .expect("touch");
        assert!(touched.success());
    }
    let out = build(&plan.to_string_lossy(), "prune", &[]);
    let tab = std::fs::read_to_string(out.join("cron/prune.crontab")).expect("crontab");
    let mut ran = Vec::new();
    let mut lines = tab.lines();
    while let Some(line) = lines.next() {
        let Some(job) = line.strip_prefix("# prune ") else {
            continue;
        };
        let entry = lines.next().expect("the job's line follows its comment");
        assert!(run_crontab_line("bash", entry).success(), "{job}: {entry}");
        ran.push(job.split(':').next().unwrap_or_default().to_owned());
    }
    assert_eq!(ran, ["db.full.prune", "db.incremental.prune"], "{tab}");
    for (kind, name, _, deleted) in files {
        assert_eq!(
            !store.join(kind).join(name).exists(),
            *deleted,
            "{kind}/{name} should {}be deleted",
            if *deleted { "" } else { "not " }
        );
    }
    for job in ["db_full_prune", "db_incremental_prune"] {
        let metric = std::fs::read_to_string(textfile.join(format!("upkeep_prune_{job}.prom")))
            .unwrap_or_else(|_| panic!("{job} wrote no metric"));
        let task = job.replace("db_", "db.").replace("_prune", ".prune");
        assert!(
            metric.starts_with(&format!(
                "upkeep_task_last_success_timestamp_seconds{{plan=\"prune\",task=\"{task}\"}} "
            )),
            "{metric}"
        );
    }
    let _ = std::fs::remove_dir_all(&root);
    let _ = std::fs::remove_dir_all(&out);
}

/// A `date` that answers for `$FAKE_NOW` unless asked about a given date.
fn fake_date() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("upkeep-fake-date-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let script = "#!/bin/sh\nfor a in \"$@\"; do case \"$a\" in -d|-d*) exec /bin/date \"$@\";; esac; done\nexec /bin/date -d \"@$FAKE_NOW\" \"$@\"\n";
    let path = dir.join("date");
    std::fs::write(&path, script).expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    dir
}

#[test]
fn guards_in_shell_agree_with_the_compiler() {
    let bin = fake_date();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let cases = [
        ("monthly on last day at 23:30", "Europe/Madrid"),
        ("monthly on last sunday at 00:30", "America/Santiago"),
        ("monthly on first sunday at 01:00", "America/Guayaquil"),
        ("quarterly on third friday at 22:00", "Australia/Lord_Howe"),
        ("every 3d", "America/New_York"),
        ("once on 2027-10-31 at 02:30", "Europe/Madrid"),
        (
            "daily at 09:00 from 2027-03-01 for 7 days",
            "America/Guayaquil",
        ),
        (
            "weekly on sunday at 23:30 until 2027-03-28",
            "Pacific/Chatham",
        ),
    ];
    let from = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
    let until = Utc.with_ymd_and_hms(2028, 1, 1, 0, 0, 0).unwrap();
    let mut checked = 0;
    for (text, zone) in cases {
        let tz: Tz = zone.parse().expect("zone");
        let (schedule, _) = Schedule::parse(text).expect("schedule");
        let plan = schedule.to_cron();
        assert!(!plan.guards.is_empty(), "{text} should need a guard");
        // Every instant the bare cron line fires, guard or not.
        let bare = upkeep::value::schedule::CronPlan {
            expr: plan.expr.clone(),
            guards: Vec::new(),
            note: None,
        };
        for at in bare.occurrences(tz, from, until) {
            for g in &plan.guards {
                let status = Command::new("/bin/sh")
                    .args(["-c", &g.shell(zone)])
                    .env("PATH", &path)
                    .env("FAKE_NOW", at.timestamp().to_string())
                    .status()
                    .expect("sh");
                assert_eq!(
                    status.success(),
                    g.holds(at),
                    "{text} in {zone}: guard {g:?} at {at}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} guard evaluations");
    let _ = std::fs::remove_dir_all(bin);
}
