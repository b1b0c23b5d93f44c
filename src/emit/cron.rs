//! Cron: `cron/NAME.crontab`, one commented line per automated task, backup level, restore test
//! and command health probe, in the plan's time zone (`CRON_TZ`).
//!
//! What cron cannot say (the first Sunday, the last day, every other day, a year) is the
//! nearest cron line plus a guard; `%` is escaped as cron requires. Every command runs under
//! `timeout` and, when it succeeds, writes its last-success time for the `node_exporter` textfile
//! collector, which the Prometheus rules watch.

use super::{Artifact, Context};
use crate::model::jobs::{self, Job, JobKind};
use std::fmt::Write as _;

fn kind_word(job: &Job) -> &'static str {
    match job.kind {
        JobKind::Task => "task",
        JobKind::Backup => "backup",
        JobKind::RestoreTest => "restore test",
        JobKind::Prune => "prune",
        JobKind::Probe => "health probe",
    }
}

pub(crate) fn render(cx: &Context<'_>, jobs: &[Job]) -> String {
    let p = cx.name();
    let tz = cx.plan.metadata.timezone.value.name();
    let dir = jobs::textfile_dir(cx.plan);
    let mut out = String::new();
    for h in cx.header() {
        let _ = writeln!(out, "# {h}");
    }
    let _ = writeln!(
        out,
        "#\n# Plan `{p}`: its automated tasks, backups and health probes. Install as the user that runs them:\n#   crontab cron/{p}.crontab\n# For cronie, or Vixie/Debian cron with the system time zone set to {tz} (it ignores CRON_TZ).\n# Not for BusyBox crond: it ignores CRON_TZ and keeps the \\% escapes, which breaks every metric line.\n# On success each job writes its metric to {} (node_exporter --collector.textfile.directory).",
        super::one_line(dir)
    );
    out.push_str(
        "SHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n",
    );
    let _ = writeln!(out, "CRON_TZ={tz}");
    if jobs.is_empty() {
        out.push_str("\n# (no automated jobs)\n");
    }
    for job in jobs {
        out.push('\n');
        let _ = writeln!(
            out,
            "# {} {}: {}; time limit {} ({})",
            kind_word(job),
            job.name,
            job.when,
            job.timeout,
            super::one_line(&job.origin)
        );
        if let Some(note) = &job.cron.note {
            let _ = writeln!(out, "# {}", super::one_line(note));
        }
        for g in &job.cron.guards {
            let _ = writeln!(out, "#   guard: {}", jobs::guard_words(g));
        }
        let _ = writeln!(
            out,
            "{} {}",
            job.cron.expr,
            jobs::crontab_command(cx.plan, job)
        );
    }
    out
}

pub(crate) fn emit(cx: &Context<'_>, jobs: &[Job]) -> Vec<Artifact> {
    vec![Artifact {
        path: format!("cron/{}.crontab", cx.name()).into(),
        content: render(cx, jobs),
    }]
}
