//! Runbook links: the `runbook_url` of an alert is opened from a notification (Slack, an incident,
//! e-mail), where a path relative to the output directory leads nowhere. A plan whose alerts
//! link to runbooks needs a base URL, in its metadata or from `upkeep build --runbook-base-url`.

use super::Cx;
use crate::diag::{Code, Diagnostic};
use crate::model::alerts;

pub(super) fn check(cx: &mut Cx<'_>) {
    if cx.runbook_base_url_given || cx.plan.metadata.runbook_base_url.is_some() {
        return;
    }
    let all = alerts::alerts(cx.plan);
    let linked: Vec<_> = all.iter().filter_map(|a| a.runbook).collect();
    let Some(first) = linked.first() else {
        return;
    };
    let name = &cx.plan.metadata.name;
    let count = match linked.len() {
        1 => "1 alert links".to_owned(),
        n => format!("{n} alerts link"),
    };
    cx.diags.push(
        Diagnostic::new(
            Code::RelativeRunbookUrl,
            format!(
                "{count} to a runbook by a relative path (`runbooks/{}/{}.md`), which a notification cannot open",
                name.value, first.value
            ),
        )
        .at(first.span)
        .label("linked by a relative `runbook_url`")
        .with_label(name.span, "this plan sets no `metadata.runbook_base_url`")
        .help("set `metadata.runbook_base_url: https://…` to where the runbook pages are published, or pass `--runbook-base-url https://…` to `upkeep build`"),
    );
}
