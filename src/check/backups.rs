//! Backups: the RPO is met by the most frequent level, each level is kept at least as long as
//! its interval, something deletes what is older than that, and restores are tested.

use super::Cx;
use crate::diag::{Code, Diagnostic};
use crate::model::Retention;
use crate::model::alerts::automated_levels;

pub(super) fn check(cx: &mut Cx<'_>) {
    for (name, b) in cx.plan.backups.iter() {
        // The most frequent level bounds how much data can be lost.
        let most_frequent = b
            .levels
            .iter()
            .filter_map(|l| l.schedule.value.max_gap().map(|g| (g, l)))
            .min_by_key(|(g, _)| *g);
        if let (Some(rpo), Some((gap, level))) = (&b.rpo, most_frequent) {
            if gap > rpo.value {
                cx.diags.push(
                    Diagnostic::new(
                        Code::RpoUnmet,
                        format!("`backups.{}` promises an RPO of {} but its most frequent backup runs every {}", name.value, rpo.value, gap),
                    )
                    .at(rpo.span)
                    .label(format!("up to {gap} of data could be lost"))
                    .with_label(level.schedule.span, format!("`{}`: at most every {gap}", level.kind.name()))
                    .help(format!("back up (or ship the write-ahead log) at least every {}, or state the RPO this schedule gives ({gap})", rpo.value)),
                );
            }
        }
        for l in &b.levels {
            let (Retention::For(keep), Some(gap)) = (l.retain.value, l.schedule.value.max_gap())
            else {
                continue;
            };
            if keep < gap {
                cx.diags.push(
                    Diagnostic::new(
                        Code::RetentionShort,
                        format!("`backups.{}.{}` is kept {} but taken only every {}", name.value, l.kind.name(), keep, gap),
                    )
                    .at(l.retain.span)
                    .label(format!("deleted {} before the next one", gap.saturating_sub(keep)))
                    .with_label(l.schedule.span, format!("at most every {gap}"))
                    .help(format!("keep each backup at least as long as its interval ({gap}), usually several intervals")),
                );
            }
        }
        // Automated kinds with a finite `retain` and no `prune`: the retention is a wish.
        let unenforced: Vec<_> = if b.prune.is_some() {
            Vec::new()
        } else {
            automated_levels(b)
                .filter_map(|l| match l.retain.value {
                    Retention::For(keep) => Some((l, keep)),
                    Retention::Forever => None,
                })
                .collect()
        };
        if let Some((first, _)) = unenforced.first() {
            let what = unenforced
                .iter()
                .map(|(l, keep)| format!("`{}` backups older than {keep}", l.kind.name()))
                .collect::<Vec<_>>()
                .join(", ");
            let mut d = Diagnostic::new(
                Code::RetentionUnenforced,
                format!("nothing deletes {what} (`backups.{}`)", name.value),
            )
            .at(first.retain.span)
            .label("kept this long, then deleted by nothing");
            for (l, _) in &unenforced[1..] {
                d = d.with_label(l.retain.span, "deleted by nothing");
            }
            cx.diags.push(d.help(format!(
                "add `prune: \"find /var/backups/{}/$1 -type f -mmin +$2 -delete\"` to `backups.{}` (your storage's delete command: it runs daily with the kind as `$1` and the retention in minutes as `$2`)",
                name.value, name.value
            )));
        }
        if b.restore_test.is_none() {
            cx.diags.push(
                Diagnostic::new(Code::NoRestoreTest, format!("`backups.{}` is never restore-tested", name.value))
                    .at(name.span)
                    .label("no `restore_test`")
                    .help("add `restore_test: {schedule: \"monthly on first sunday at 04:00\"}`; a backup nobody has restored is a hope"),
            );
        }
    }
}
