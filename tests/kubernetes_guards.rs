//! Issue 14, point 4: a guarded job on Kubernetes (first Sunday of the month, every N days…)
//! counts as a success only on the days it really ran.
//!
//! Kubernetes cannot schedule "first Sunday": its `CronJob` runs on days 1–7 and the guard in
//! the container exits 0 on the other six, so Kubernetes (and kube-state-metrics'
//! `kube_cronjob_status_last_successful_time`) records a success every day, and a monthly job
//! could fail every month with no missed alert. A guarded job therefore pushes its last-success
//! time to the Pushgateway after a real, successful run, and nothing on the days it skips.
//!
//! The proof runs the generated container command itself, with the real `sh`, `bash`, GNU
//! `timeout` and `date` (told the simulated time through a `date` wrapper that passes `-d
//! @EPOCH`), on every day the `CronJob` fires from January to March 1970 (epoch time, so the
//! promtool test below can start at 0), pushing to the real Pushgateway. The job succeeds on its
//! January run and fails on its February run. Then the generated rules, fed what the Pushgateway
//! held hour by hour, raise the job's missed alert in February, before the March run.

mod common;

use std::path::Path;
use std::process::Command;

/// 1970-01-01 … : the Unix epoch day of a date in 1970.
fn epoch_day(month: u32, day: u32) -> u64 {
    let before: u32 = [31, 28, 31].iter().take(month as usize - 1).sum();
    u64::from(before + day - 1)
}

fn write_exe(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// The Pushgateway's value of the job's last-success metric, if it has one.
fn pushed(port: u16) -> Option<f64> {
    let (_, text) = common::servers::http(port, "GET", "/metrics", None).expect("pushgateway");
    text.lines()
        .find(|l| l.starts_with("upkeep_task_last_success_timestamp_seconds{"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn a_first_sunday_job_counts_only_real_runs_and_its_missed_alert_fires_in_the_month_it_fails() {
    let (Some(promtool), Some(_), Some(_)) = (
        common::tool("promtool"),
        common::tool("bash"),
        common::tool("prometheus-pushgateway"),
    ) else {
        return;
    };
    let dir = common::scratch("guards");
    let Some(mut gateway) = common::servers::pushgateway(&dir) else {
        return;
    };
    let plan = format!(
        r##"apiVersion: upkeep/v1
kind: Plan
metadata: {{name: guards, timezone: UTC}}
execution: {{pushgateway: "127.0.0.1:{port}"}}
severity:
  levels:
    P1: {{response: 1d, notify: [chat]}}
receivers:
  chat: {{slack: {{channel: "#ops", api_url_file: /etc/alertmanager/slack-url}}}}
services:
  db: {{}}
tasks:
  monthly-check:
    service: db
    schedule: "monthly on first sunday at 02:00"
    duration: 10m
    command: upkeep-test-job
    level: P1
"##,
        port = gateway.port
    );
    let plan_file = dir.join("guards.yaml");
    std::fs::write(&plan_file, plan).expect("write plan");
    let out = common::build(
        &plan_file.to_string_lossy(),
        "guards-out",
        &["--target", "kubernetes", "--target", "prometheus"],
    );
    let cronjobs: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(out.join("kubernetes/guards-cronjobs.yaml")).expect("cronjobs"),
    )
    .expect("parse");
    assert_eq!(cronjobs["spec"]["schedule"], "0 2 1-7 * *", "{cronjobs}");
    let command =
        cronjobs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"][2]
            .as_str()
            .expect("the container's shell")
            .to_owned();

    // The simulated clock and the job, in front of the real tools on PATH.
    let shims = dir.join("bin");
    std::fs::create_dir_all(&shims).expect("bin");
    write_exe(
        &shims.join("date"),
        "#!/bin/sh\nexec /bin/date -d \"@$UPKEEP_NOW\" \"$@\"\n",
    );
    write_exe(
        &shims.join("upkeep-test-job"),
        "#!/bin/sh\nexit \"${UPKEEP_JOB_EXIT:-0}\"\n",
    );
    let path = format!(
        "{}:{}",
        shims.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    // Every day the CronJob fires (days 1–7 at 02:00) in January, February and March 1970.
    let jan_run = epoch_day(1, 4) * 86_400 + 2 * 3600; // Sunday 4 January
    let feb_run = epoch_day(2, 1) * 86_400 + 2 * 3600; // Sunday 1 February: it fails
    let mut kubernetes_successes = Vec::new();
    let mut history: Vec<(u64, Option<f64>)> = Vec::new();
    for month in 1..=3 {
        for day in 1..=7 {
            let now = epoch_day(month, day) * 86_400 + 2 * 3600;
            let exit = if now == feb_run { "1" } else { "0" };
            let o = Command::new("sh")
                .args(["-c", &command])
                .env("PATH", &path)
                .env("TZ", "UTC")
                .env("UPKEEP_NOW", now.to_string())
                .env("UPKEEP_JOB_EXIT", exit)
                .output()
                .expect("run the container's command");
            if o.status.success() {
                kubernetes_successes.push(now);
            }
            history.push((now, pushed(gateway.port)));
            if month == 1 && day == 3 {
                assert_eq!(pushed(gateway.port), None, "a skipped day pushed a success");
            }
        }
    }
    // What Kubernetes sees: a success every day but the failed first Sunday — its last
    // successful time on 7 February would hide February's failure.
    assert_eq!(kubernetes_successes.len(), 20, "{kubernetes_successes:?}");
    assert!(!kubernetes_successes.contains(&feb_run));
    // What the Pushgateway holds: the January run, and nothing since.
    let after_feb = history
        .iter()
        .find(|(t, _)| *t > feb_run)
        .and_then(|(_, v)| *v);
    assert_eq!(after_feb, Some(jan_run as f64), "{history:?}");
    assert!(
        history
            .iter()
            .filter(|(t, _)| *t < jan_run)
            .all(|(_, v)| v.is_none()),
        "{history:?}"
    );
    // The March run succeeds and pushes again.
    assert_eq!(
        history.last().and_then(|(_, v)| *v),
        Some((epoch_day(3, 1) * 86_400 + 2 * 3600) as f64)
    );
    assert!(gateway.stop(), "the Pushgateway did not stop");

    // The generated rules, fed what the Pushgateway held (scraped hourly until 1 March).
    let hours = epoch_day(3, 1) * 24;
    let before = jan_run / 3600 + 1;
    let values = format!("_x{} {}+0x{}", before - 1, jan_run, hours - before);
    let test = format!(
        r#"rule_files: [guards.rules.yaml]
evaluation_interval: 1h
tests:
  - interval: 1h
    input_series:
      - series: upkeep_task_last_success_timestamp_seconds{{job="upkeep",instance="",plan="guards",task="monthly-check"}}
        values: {values}
    promql_expr_test:
      - expr: count(ALERTS{{alertname="MonthlyCheckMissed",alertstate="firing"}})
        eval_time: {quiet}h
        exp_samples: []
      - expr: count(ALERTS{{alertname="MonthlyCheckMissed",alertstate="firing"}})
        eval_time: {fires}h
        exp_samples:
          - labels: '{{}}'
            value: 1
"#,
        // 25 February: within 1.5 × the longest gap (35 days) of the January run.
        quiet = epoch_day(2, 25) * 24,
        // 27 February, before the March run: more than 52.5 days after 4 January.
        fires = epoch_day(2, 27) * 24,
    );
    let file = out.join("prometheus/guards.month.test.yaml");
    std::fs::write(&file, test).expect("write the test");
    let text = common::run_ok(Command::new(&promtool).args(["test", "rules"]).arg(&file));
    assert!(text.contains("SUCCESS"), "{text}");
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&dir);
}
