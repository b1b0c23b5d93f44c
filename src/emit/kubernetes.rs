//! Kubernetes: `kubernetes/NAME-cronjobs.yaml`, a `batch/v1` `CronJob` per automated task, backup
//! level and restore test, with `.spec.timeZone` (never `CRON_TZ` in the schedule),
//! `concurrencyPolicy: Forbid`, deadlines from the plan's durations, and the same guards as the
//! crontab in the container's command.
//!
//! Health probes are not `CronJobs` here: on Kubernetes the blackbox exporter runs them (the
//! Helm values' `Probe`s). Job outcomes reach Prometheus through kube-state-metrics
//! (`kube_cronjob_status_last_successful_time`), which the Helm values' rules map to the
//! `upkeep_task_last_success_timestamp_seconds` the freshness alerts watch — except for guarded
//! jobs (first Sunday, every N days…), which Kubernetes runs on a wider schedule and which exit
//! 0 on the days their guard skips: they push that metric to the Pushgateway after a real,
//! successful run (`model::jobs::Report::Push`).

use super::yaml::{self, Yaml};
use super::{Artifact, Context};
use crate::model::jobs::{self, Job, JobKind};
use std::fmt::Write as _;

/// A DNS-1123 name: lowercase letters, digits and `-`, at most `max` characters (a short hash
/// keeps long names distinct).
pub(crate) fn dns_name(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    let out = out.trim_matches('-').to_owned();
    if out.len() <= max {
        return out;
    }
    // FNV-1a: stable across runs and machines.
    let hash = s.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let suffix = format!("{:06x}", hash & 0xff_ffff);
    format!("{}-{suffix}", out[..max - 7].trim_end_matches('-'))
}

/// The `CronJob` name of a job: `PLAN-JOB`, at most 52 characters (Kubernetes appends 11 to
/// name the Jobs it creates).
pub(crate) fn cronjob_name(plan: &str, job: &Job) -> String {
    dns_name(&format!("{plan}-{}", job.name), 52)
}

/// The jobs that become `CronJobs`.
pub(crate) fn cron_jobs(jobs: &[Job]) -> impl Iterator<Item = &Job> {
    jobs.iter().filter(|j| j.kind != JobKind::Probe)
}

fn labels(plan: &str, job: &Job) -> Yaml {
    Yaml::map()
        .with("app.kubernetes.io/name", "upkeep-job")
        .with("app.kubernetes.io/part-of", plan)
        .with("app.kubernetes.io/managed-by", "upkeep")
        .with("upkeep.dev/plan", plan)
        .with("upkeep.dev/job", dns_name(&job.name, 63))
}

/// One `CronJob`.
pub(crate) fn cronjob(cx: &Context<'_>, job: &Job) -> Yaml {
    let p = cx.name();
    let tz = cx.plan.metadata.timezone.value.name();
    let ex = &cx.plan.execution;
    let image = ex
        .image
        .as_ref()
        .map_or(crate::model::values::DEFAULT_IMAGE, |i| i.value.as_str());
    let mut meta = Yaml::map().with("name", cronjob_name(p, job));
    if let Some(ns) = &ex.namespace {
        meta.push("namespace", ns.value.as_str());
    }
    meta.push("labels", labels(p, job));
    meta.push(
        "annotations",
        Yaml::map()
            .with("upkeep.dev/job", job.name.as_str())
            .with("upkeep.dev/when", job.when.as_str())
            .with("upkeep.dev/source", job.origin.as_str()),
    );
    let container = Yaml::map()
        .with("name", "job")
        .with("image", image)
        .with(
            "command",
            vec![
                Yaml::str("/bin/sh"),
                Yaml::str("-c"),
                Yaml::str(jobs::kubernetes_command(cx.plan, job)),
            ],
        )
        .with(
            "env",
            vec![Yaml::map().with("name", "TZ").with("value", tz)],
        );
    let mut pod = Yaml::map().with("restartPolicy", "Never");
    if let Some(sa) = &ex.service_account {
        pod.push("serviceAccountName", sa.value.as_str());
    }
    pod.push("containers", vec![container]);
    let mut notes = vec![format!("{}: {} ({})", job.name, job.when, job.origin)];
    if let Some(n) = &job.cron.note {
        notes.push(n.clone());
    }
    Yaml::map()
        .with("apiVersion", "batch/v1")
        .with("kind", "CronJob")
        .with("metadata", meta)
        .with(
            "spec",
            Yaml::map()
                .with("schedule", job.cron.expr.as_str())
                .with("timeZone", tz)
                .with("concurrencyPolicy", "Forbid")
                .with(
                    "startingDeadlineSeconds",
                    i64::try_from(job.start_deadline.as_secs()).unwrap_or(i64::MAX),
                )
                .with("successfulJobsHistoryLimit", 3i64)
                .with("failedJobsHistoryLimit", 3i64)
                .with(
                    "jobTemplate",
                    Yaml::map()
                        .with("metadata", Yaml::map().with("labels", labels(p, job)))
                        .with(
                            "spec",
                            Yaml::map()
                                .with(
                                    "activeDeadlineSeconds",
                                    i64::try_from(job.timeout.as_secs().max(1)).unwrap_or(i64::MAX),
                                )
                                .with("backoffLimit", 0i64)
                                .with(
                                    "template",
                                    Yaml::map()
                                        .with(
                                            "metadata",
                                            Yaml::map().with("labels", labels(p, job)),
                                        )
                                        .with("spec", pod),
                                ),
                        ),
                ),
        )
        .commented(notes)
}

pub(crate) fn render(cx: &Context<'_>, jobs: &[Job]) -> String {
    let mut out = String::new();
    for h in cx.header() {
        let _ = writeln!(out, "# {h}");
    }
    let _ = writeln!(
        out,
        "# Apply with: kubectl apply -f kubernetes/{}-cronjobs.yaml",
        cx.name()
    );
    let docs: Vec<String> = cron_jobs(jobs)
        .map(|j| yaml::document(&[], &cronjob(cx, j)))
        .collect();
    if docs.is_empty() {
        out.push_str("# (no automated jobs)\n");
    }
    for d in docs {
        out.push_str("---\n");
        out.push_str(&d);
    }
    out
}

pub(crate) fn emit(cx: &Context<'_>, jobs: &[Job]) -> Vec<Artifact> {
    vec![Artifact {
        path: format!("kubernetes/{}-cronjobs.yaml", cx.name()).into(),
        content: render(cx, jobs),
    }]
}
