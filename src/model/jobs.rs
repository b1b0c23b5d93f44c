//! The automated jobs of a plan, as cron and Kubernetes run them: tasks with a command, backup
//! levels, restore tests and command health probes, each with its schedule compiled to cron
//! (expression, guards), its time limit and the shell it runs.
//!
//! Shared by the crontab, the Kubernetes `CronJobs` and the Helm values, so all three run the
//! same thing at the same time, and by the checks, which refuse what cron cannot carry.

use crate::model::timeline::{self, ItemKind};
use crate::model::{BackupLevel, EnvironmentRef, Plan, Probe, RestoreTest, When};
use crate::value::schedule::{CronPlan, Guard};
use crate::value::{Duration, Schedule, TimeOfDay};
use std::fmt::Write as _;

/// Default directory of the `node_exporter` textfile collector.
pub(crate) const TEXTFILE_DIR: &str = "/var/lib/node_exporter/textfile_collector";

/// Cron turns an unescaped `%` into a newline.
fn escape_percent(s: &str) -> String {
    s.replace('%', "\\%")
}

/// The textfile directory a plan's cron jobs write their metrics to.
pub(crate) fn textfile_dir(plan: &Plan) -> &str {
    plan.execution
        .textfile_dir
        .as_ref()
        .map_or(TEXTFILE_DIR, |d| d.value.as_str())
}

/// What follows the five time fields on a job's crontab line.
pub(crate) fn crontab_command(plan: &Plan, job: &Job) -> String {
    escape_percent(&shell(
        &plan.metadata.name.value,
        plan.metadata.timezone.value.name(),
        job,
        Report::Textfile(textfile_dir(plan)),
    ))
}

/// Where the Pushgateway is when `execution.pushgateway` does not say.
pub(crate) const DEFAULT_PUSHGATEWAY: &str = "pushgateway:9091";

/// The shell a Kubernetes `CronJob` of `job` runs: guarded jobs report their real runs to the
/// Pushgateway (see [`Report::Push`]); the others are seen through kube-state-metrics.
pub(crate) fn kubernetes_command(plan: &Plan, job: &Job) -> String {
    let report = if job.cron.guards.is_empty() {
        Report::Nothing
    } else {
        Report::Push(
            plan.execution
                .pushgateway
                .as_ref()
                .map_or(DEFAULT_PUSHGATEWAY, |p| p.value.as_str()),
        )
    };
    shell(
        &plan.metadata.name.value,
        plan.metadata.timezone.value.name(),
        job,
        report,
    )
}

/// How a job's success reaches Prometheus.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Report<'a> {
    /// Written to the node exporter's textfile collector directory (cron).
    Textfile(&'a str),
    /// Pushed to the Pushgateway at `host:port` (guarded Kubernetes jobs): on the days a guard
    /// skips, the container exits 0 and Kubernetes records a success, so kube-state-metrics
    /// cannot tell a real run from a skipped one. Only a real, successful run pushes.
    Push(&'a str),
    /// Not reported by the job (Kubernetes without guards: kube-state-metrics sees every run).
    Nothing,
}

/// The longest command cron reads on a line (`MAX_COMMAND` in Vixie and Debian cron is 1000 with
/// the newline and the terminating byte); a longer line makes the whole crontab uninstallable.
pub(crate) const MAX_COMMAND: usize = 998;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JobKind {
    Task,
    Backup,
    RestoreTest,
    /// A backup kind's `prune`: deletes the backups older than its `retain`.
    Prune,
    /// A command health probe: writes success or failure, not a last-success time.
    Probe,
}

/// One automated job.
#[derive(Clone, Debug)]
pub(crate) struct Job {
    pub kind: JobKind,
    /// `log_rotation`, `postgres.full`, `postgres.restore_test`, `health.redis`.
    pub name: String,
    /// The `task` label of its metric (the name), or the service of a probe.
    pub service: Option<String>,
    /// The schedule as the plan says it (`daily at 00:00`), with the offset inside a window.
    pub when: String,
    pub cron: CronPlan,
    pub command: String,
    /// The positional parameters of `command` (`$1`, `$2`…): a prune's kind and retention.
    pub args: Vec<String>,
    /// Hard time limit.
    pub timeout: Duration,
    /// How late a start is still worth it (Kubernetes `startingDeadlineSeconds`).
    pub start_deadline: Duration,
    /// Where in the plan it comes from, for comments (`plans/x.yaml:12`).
    pub origin: String,
    /// The environments whose Helm values run it (empty: all).
    pub environments: Vec<String>,
    /// The plan value its command comes from, for diagnostics.
    pub span: crate::span::Span,
}

impl Job {
    /// Whether the Helm values of environment `env` run this job.
    pub(crate) fn runs_in(&self, env: &str) -> bool {
        self.environments.is_empty() || self.environments.iter().any(|e| e == env)
    }
}

/// A schedule started `offset` later, when cron can still say it (same day, same fields).
pub(crate) fn shifted(schedule: &Schedule, offset: Duration) -> Option<Schedule> {
    if offset.is_zero() {
        return Some(schedule.clone());
    }
    let mins = u32::try_from(offset.as_mins()).ok()?;
    let move_at = |at: &TimeOfDay| -> Option<TimeOfDay> {
        let m = at.minutes() + mins;
        (m < 24 * 60 && offset.as_secs() % 60 == 0).then(|| TimeOfDay::from_minutes(m))
    };
    Some(match schedule {
        Schedule::Weekly { days, at } => Schedule::Weekly {
            days: *days,
            at: move_at(at)?,
        },
        Schedule::Monthly { months, day, at } => Schedule::Monthly {
            months: *months,
            day: *day,
            at: move_at(at)?,
        },
        Schedule::Once { date, at } => Schedule::Once {
            date: *date,
            at: move_at(at)?,
        },
        // The dates are local dates: a later time on the same day keeps them.
        Schedule::Bounded(rule, bound) => {
            Schedule::Bounded(Box::new(shifted(rule, offset)?), *bound)
        }
        _ => return None,
    })
}

/// The longest a backup runs when its level gives no `duration`: until the next one is due, and
/// at most this long.
pub(crate) const BACKUP_LIMIT: Duration = Duration::from_hours(6);

/// The longest a restore test runs when it gives no `duration`.
pub(crate) const RESTORE_TEST_LIMIT: Duration = Duration::from_hours(2);

/// The time limit of a backup level's runs: its `duration`, or until the next run is due, at
/// most [`BACKUP_LIMIT`].
pub(crate) fn backup_limit(level: &BackupLevel) -> Duration {
    level.duration.as_ref().map_or_else(
        || {
            level
                .schedule
                .value
                .max_gap()
                .map_or(BACKUP_LIMIT, |gap| gap.min(BACKUP_LIMIT))
        },
        |d| d.value,
    )
}

/// The longest a prune runs when it gives no `duration`.
pub(crate) const PRUNE_LIMIT: Duration = Duration::from_hours(1);

/// What a prune of backups kept `keep` receives as `$2`: the retention in whole minutes, rounded
/// up, so that `find -mmin +$2` deletes exactly the files older than `keep` (GNU `find`
/// compares the age to the second: `-mmin +43200` is "modified more than 30 days ago").
pub(crate) fn prune_minutes(keep: Duration) -> u64 {
    keep.as_secs().div_ceil(60)
}

/// The time limit of a restore test's runs: its `duration`, or [`RESTORE_TEST_LIMIT`].
pub(crate) fn restore_test_limit(test: &RestoreTest) -> Duration {
    test.duration
        .as_ref()
        .map_or(RESTORE_TEST_LIMIT, |d| d.value)
}

/// Every automated job of a plan, in plan order.
pub(crate) fn jobs(plan: &Plan, sources: &crate::source::SourceMap) -> Vec<Job> {
    let mut out = Vec::new();
    let origin = |span: crate::span::Span| {
        let file = sources.get(span.file);
        format!("{}:{}", file.origin, file.line_col(span.start).0)
    };
    for item in timeline::items(plan) {
        if !item.automated {
            continue;
        }
        let mut args = Vec::new();
        let (kind, command, timeout, span) = match item.kind {
            ItemKind::Task => {
                let Some(t) = plan.tasks.get(&item.name) else {
                    continue;
                };
                let Some(cmd) = &t.command else { continue };
                (JobKind::Task, cmd.value.clone(), t.duration.value, cmd.span)
            }
            ItemKind::Backup => {
                let Some((bname, level)) = item.name.split_once('.') else {
                    continue;
                };
                let Some(b) = plan.backups.get(bname) else {
                    continue;
                };
                let Some(l) = b.levels.iter().find(|l| l.kind.name() == level) else {
                    continue;
                };
                let (cmd, span) = match (&l.command, &b.command) {
                    (Some(c), _) => (c.value.clone(), c.span),
                    (None, Some(c)) => (format!("{} {level}", c.value), c.span),
                    (None, None) => continue,
                };
                (JobKind::Backup, cmd, backup_limit(l), span)
            }
            ItemKind::RestoreTest => {
                let Some(bname) = item.name.strip_suffix(".restore_test") else {
                    continue;
                };
                let Some(r) = plan
                    .backups
                    .get(bname)
                    .and_then(|b| b.restore_test.as_ref())
                else {
                    continue;
                };
                let Some(cmd) = &r.command else { continue };
                (
                    JobKind::RestoreTest,
                    cmd.value.clone(),
                    restore_test_limit(r),
                    cmd.span,
                )
            }
            ItemKind::Prune => {
                let Some((bname, _)) = item.name.split_once('.') else {
                    continue;
                };
                let Some(b) = plan.backups.get(bname) else {
                    continue;
                };
                let Some((p, l, keep)) = super::alerts::pruned_levels(b)
                    .find(|(_, l, _)| timeline::prune_name(bname, l.kind) == item.name)
                else {
                    continue;
                };
                args = vec![l.kind.name().to_owned(), prune_minutes(keep).to_string()];
                (
                    JobKind::Prune,
                    p.command.value.clone(),
                    p.duration.as_ref().map_or(PRUNE_LIMIT, |d| d.value),
                    p.command.span,
                )
            }
            ItemKind::Window | ItemKind::Review => continue,
        };
        let (cron, command) = match shifted(item.schedule, item.offset) {
            Some(s) => (s.to_cron(), command),
            None => {
                // Cron cannot say the shifted time: start with the window and wait for the turn.
                let mut plan = item.schedule.to_cron();
                let wait = format!(
                    "starts with its window and waits {} for the tasks before it",
                    item.offset
                );
                plan.note = Some(match plan.note {
                    Some(n) => format!("{n}; {wait}"),
                    None => wait,
                });
                (
                    plan,
                    format!("sleep {} && {command}", item.offset.as_secs()),
                )
            }
        };
        // The task, or the backup a level or restore test belongs to: its service and scope.
        let (service, environments) = match item.kind {
            ItemKind::Task => plan
                .tasks
                .get(&item.name)
                .map(|t| (t.service.as_ref(), t.environments.as_slice())),
            _ => item
                .name
                .split_once('.')
                .and_then(|(b, _)| plan.backups.get(b))
                .map(|b| (b.service.as_ref(), b.environments.as_slice())),
        }
        .unwrap_or_default();
        let service = service.map(|s| s.value.clone());
        let environments: Vec<String> = scope(plan, environments)
            .iter()
            .map(|e| e.value.clone())
            .collect();
        let when = match plan.tasks.get(&item.name).map(|t| &t.when) {
            Some(When::Window(w)) if item.kind == ItemKind::Task && item.offset.is_zero() => {
                format!("at the start of window {} ({})", w.value, item.schedule)
            }
            Some(When::Window(w)) if item.kind == ItemKind::Task => format!(
                "in window {} ({}), {} after it opens",
                w.value, item.schedule, item.offset
            ),
            _ => item.schedule.to_string(),
        };
        let gap = item.schedule.max_gap().unwrap_or(Duration::from_hours(1));
        let start_deadline = match plan.tasks.get(&item.name).map(|t| &t.when) {
            Some(When::Window(w)) => {
                plan.windows
                    .get(&w.value)
                    .map_or(Duration::from_mins(10), |win| {
                        win.duration
                            .value
                            .saturating_sub(item.offset)
                            .saturating_sub(timeout)
                            .max(Duration::from_mins(1))
                    })
            }
            _ => Duration::from_secs((gap.as_secs() / 2).clamp(60, 3600)),
        };
        out.push(Job {
            kind,
            name: item.name.clone(),
            service,
            when,
            cron,
            command,
            args,
            timeout,
            start_deadline,
            origin: origin(item.when),
            environments,
            span,
        });
    }
    for (name, svc) in plan.services.iter() {
        let Some(h) = &svc.health else { continue };
        let Probe::Command(cmd) = &h.probe.value else {
            continue;
        };
        let t = super::probes::timing(h);
        out.push(Job {
            kind: JobKind::Probe,
            name: format!("health.{}", name.value),
            service: Some(name.value.clone()),
            when: format!(
                "every {} (health check of {}: {} attempts per {}, cron runs at most once a minute)",
                t.attempt, name.value, t.attempts, h.interval.value
            ),
            cron: Schedule::Every(t.attempt).to_cron(),
            command: cmd.clone(),
            args: Vec::new(),
            timeout: h.timeout.value,
            start_deadline: Duration::from_mins(1),
            origin: origin(h.probe.span),
            environments: Vec::new(),
            span: h.probe.span,
        });
    }
    out
}

/// The environments a task or backup with `own` environments runs in: its own, else the
/// plan's `execution.environments` (empty: every environment).
pub(crate) fn scope<'p>(plan: &'p Plan, own: &'p [EnvironmentRef]) -> &'p [EnvironmentRef] {
    if own.is_empty() {
        &plan.execution.environments
    } else {
        own
    }
}

/// The cron interval of a command probe: its interval rounded up to a whole minute that divides
/// the hour (cron runs at most once a minute).
pub(crate) fn probe_interval(interval: Duration) -> Duration {
    let mins = interval.as_secs().div_ceil(60).max(1);
    let step = [1u64, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60]
        .into_iter()
        .find(|d| *d >= mins)
        .unwrap_or(60);
    Duration::from_mins(step)
}

/// `'…'` for a shell, with embedded single quotes escaped.
pub(crate) fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The command as one shell word on one line: quoted as it is, or, when it has line breaks or
/// other control characters (a multi-line `command: |`), rebuilt by `printf` from octal
/// escapes, so a crontab line stays one line and the script runs as written.
fn command_word(command: &str) -> String {
    if !command.chars().any(char::is_control) {
        return sh_quote(command);
    }
    let mut format = String::with_capacity(command.len() + 16);
    for c in command.chars() {
        match c {
            '\\' => format.push_str("\\\\"),
            '%' => format.push_str("%%"),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(format, "\\{b:03o}");
                }
            }
            c => format.push(c),
        }
    }
    format!("\"$(printf {})\"", sh_quote(&format))
}

/// The metric line a job writes.
pub(crate) fn metric_line(plan: &str, job: &Job) -> String {
    match job.kind {
        JobKind::Probe => format!(
            "upkeep_health_check_success{{plan=\"{plan}\",service=\"{}\"}}",
            job.service.as_deref().unwrap_or_default()
        ),
        _ => format!(
            "upkeep_task_last_success_timestamp_seconds{{plan=\"{plan}\",task=\"{}\"}}",
            job.name
        ),
    }
}

/// The file a job's metric goes to (`upkeep_PLAN_JOB.prom`).
pub(crate) fn metric_file(dir: &str, plan: &str, job: &Job) -> String {
    let safe: String = job
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{}/upkeep_{plan}_{safe}.prom", dir.trim_end_matches('/'))
}

/// The shell that runs a job: guards, then the command under `timeout`, then its report (see
/// [`Report`]). A textfile is written atomically (a temporary file, then `mv`); a probe writes
/// its result either way.
pub(crate) fn shell(plan: &str, tz: &str, job: &Job, report: Report<'_>) -> String {
    let guards: Vec<String> = job.cron.guards.iter().map(|g| g.shell(tz)).collect();
    let mut run = format!(
        "timeout {} sh -c {}",
        job.timeout.as_secs().max(1),
        command_word(&job.command)
    );
    if !job.args.is_empty() {
        // `sh -c COMMAND NAME ARGS…`: the job's name is `$0`, the arguments `$1`…
        let _ = write!(run, " {}", sh_quote(&job.name));
        for a in &job.args {
            let _ = write!(run, " {}", sh_quote(a));
        }
    }
    let body = match report {
        Report::Nothing => run,
        Report::Push(address) => format!("{run} && {}", push(plan, job, address)),
        Report::Textfile(dir) => {
            let file = metric_file(dir, plan, job);
            let metric = metric_line(plan, job);
            let write = |value: &str| {
                format!(
                    "printf '%s %s\\n' {} {value} > \"$f.$$\" && mv \"$f.$$\" \"$f\"",
                    sh_quote(&metric)
                )
            };
            match job.kind {
                JobKind::Probe => format!(
                    "f={}; if {run} >/dev/null 2>&1; then ok=1; else ok=0; fi; {}",
                    sh_quote(&file),
                    write("\"$ok\"")
                ),
                _ => format!(
                    "f={}; {run} && {{ {}; }}",
                    sh_quote(&file),
                    write("\"$(date +%s)\"")
                ),
            }
        }
    };
    if guards.is_empty() {
        body
    } else {
        format!("{} || exit 0; {body}", guards.join(" && "))
    }
}

/// `PUT /metrics/job/upkeep/plan/PLAN/task/TASK` of the job's last-success time to the
/// Pushgateway at `address`, with bash's `/dev/tcp` (the default image has bash and no curl);
/// fails, and so fails the job, unless the Pushgateway answers 2xx.
fn push(plan: &str, job: &Job, address: &str) -> String {
    let (host, port) = address.rsplit_once(':').unwrap_or((address, "9091"));
    // Plan and task names are `[a-z0-9_.-]`: safe in a URL path and in the script.
    let script = format!(
        "exec 3<>/dev/tcp/{host}/{port} || exit 1; \
         b=\"upkeep_task_last_success_timestamp_seconds $(date +%s)\"; \
         printf 'PUT /metrics/job/upkeep/plan/{plan}/task/{task} HTTP/1.0\\r\\nHost: {address}\\r\\nContent-Type: text/plain\\r\\nContent-Length: %d\\r\\n\\r\\n%s\\n' \"$((${{#b}} + 1))\" \"$b\" >&3; \
         read -r _ code _ <&3; case $code in 2??) ;; *) echo \"pushgateway {address}: HTTP $code\" >&2; exit 1;; esac",
        task = job.name
    );
    format!("bash -c {}", sh_quote(&script))
}

/// Why a guard is there, for comments.
pub(crate) fn guard_words(g: &Guard) -> String {
    match g {
        Guard::Weekday(d) => format!("only on ISO weekday {d}"),
        Guard::LastDay { .. } => "only on the last day of the month".to_owned(),
        Guard::LastWeek { .. } => "only in the last seven days of the month".to_owned(),
        Guard::EpochDay { n } => format!("only every {n} days"),
        Guard::Year(y) => format!("only in {y}"),
        Guard::From(d) => format!("only from {}", d.format("%Y-%m-%d")),
        Guard::Until(d) => format!("only until {}", d.format("%Y-%m-%d")),
    }
}

#[cfg(test)]
mod command_tests {
    use super::command_word;

    /// A multi-line command, written as one shell word, runs exactly as the plan wrote it.
    #[test]
    fn a_multi_line_command_runs_as_written() {
        let script =
            "set -e\nprintf '%s|' \"a b\" 'c\\d'\r\necho 100% \\\\done\n\techo \"$((1+1))\"\n";
        let word = command_word(script);
        assert!(!word.contains(['\n', '\r']), "{word}");
        let run = |cmd: &str| {
            std::process::Command::new("sh")
                .args(["-c", cmd])
                .output()
                .expect("sh")
        };
        let direct = run(script);
        let via = run(&format!("sh -c {word}"));
        assert_eq!(
            String::from_utf8_lossy(&via.stdout),
            String::from_utf8_lossy(&direct.stdout)
        );
        assert_eq!(via.status.code(), direct.status.code());
    }
}
