//! Commands that no crontab can carry: a NUL byte (no shell word holds one: the command would
//! run cut short) and a line longer than cron reads (the whole crontab is refused).

use super::Cx;
use crate::diag::{Code, Diagnostic};
use crate::model::jobs::{MAX_COMMAND, crontab_command, jobs};

pub(super) fn check(cx: &mut Cx<'_>) {
    let mut seen = Vec::new();
    for job in jobs(cx.plan, cx.sources) {
        if seen.contains(&job.span) {
            continue;
        }
        let problem = if job.command.contains('\0') {
            Diagnostic::new(
                Code::Type,
                format!(
                    "the command of `{}` holds a NUL character, which no shell command can carry",
                    job.name
                ),
            )
            .label("a NUL character in here")
            .help("remove the NUL character (`\\0` in a double-quoted YAML string)")
        } else {
            let len = crontab_command(cx.plan, &job).len();
            if len <= MAX_COMMAND {
                continue;
            }
            Diagnostic::new(
                Code::Range,
                format!("the crontab line of `{}` would be {len} bytes long; cron reads at most {MAX_COMMAND} and refuses the whole crontab", job.name),
            )
            .label("this command, escaped for cron and wrapped in its time limit and metric")
            .help("put the command in a script on the host and run that, e.g. `command: /usr/local/bin/backup.sh`")
        };
        seen.push(job.span);
        cx.diags.push(problem.at(job.span));
    }
}
