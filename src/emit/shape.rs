//! Structural invariants of a build, whatever the text in a plan's names and fields: as many
//! crontab entries and `CronJobs` as the plan has automated jobs, as many alert rules as it has
//! alerts (two for a job's missed run and for a backup's RPO), as many calendar events as it has
//! events, as many probe jobs and blackbox modules as it has HTTP and TCP checks, and one
//! Alertmanager route per plan with a route per level. Counted on the generated text, so a line
//! that plan text added shows.
//!
//! Every debug build checks them after emitting (the test suite runs one), and the fuzzers call
//! [`crate::driver::shape_violations`].

use std::collections::BTreeSet;

use super::Artifact;
use crate::model::Plan;
use crate::model::alerts::Source;
use crate::model::timeline::ItemKind;

/// What is wrong with the files of `plan` (its own files, and the shared Alertmanager
/// configuration when given), one message each.
pub(crate) fn violations(
    plan: &Plan,
    sources: &crate::source::SourceMap,
    files: &[Artifact],
    shared: &[Artifact],
) -> Vec<String> {
    let name = &plan.metadata.name.value;
    let file = |path: String| {
        files
            .iter()
            .chain(shared)
            .find(|a| a.path.to_string_lossy() == path)
            .map(|a| a.content.as_str())
    };
    let mut out = Vec::new();
    let mut expect = |what: &str, path: &str, found: usize, want: usize| {
        if found != want {
            out.push(format!("{path}: {found} {what}, the plan has {want}"));
        }
    };
    let jobs = crate::model::jobs::jobs(plan, sources);
    if let Some(text) = file(format!("cron/{name}.crontab")) {
        let entries = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .filter(|l| l.split_once('=').is_none_or(|(k, _)| k.contains(' ')))
            .count();
        expect("crontab entries", "cron", entries, jobs.len());
    }
    if let Some(text) = file(format!("kubernetes/{name}-cronjobs.yaml")) {
        let found = text.lines().filter(|l| *l == "kind: CronJob").count();
        let want = super::kubernetes::cron_jobs(&jobs).count();
        expect("CronJobs", "kubernetes", found, want);
    }
    if let Some(text) = file(format!("prometheus/{name}.rules.yaml")) {
        let found: BTreeSet<&str> = text
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("- alert: "))
            .collect();
        let want: BTreeSet<String> = crate::model::alerts::alerts(plan)
            .into_iter()
            .map(|a| a.name)
            .collect();
        expect("alert names", "prometheus", found.len(), want.len());
        // A job's missed-run alert and a backup's RPO alert are two rules each: the age of the
        // newest success, and its absence.
        let items = crate::model::timeline::items(plan);
        for a in crate::model::alerts::alerts(plan) {
            let want = match &a.source {
                Source::Rpo { .. } => 2,
                Source::Freshness { name } => {
                    if items.iter().any(|i| {
                        &i.name == name
                            && i.kind != ItemKind::Window
                            && i.schedule.max_gap().is_some()
                    }) {
                        2
                    } else {
                        0
                    }
                }
                _ => continue,
            };
            let rules = text
                .lines()
                .filter(|l| l.trim_start().strip_prefix("- alert: ") == Some(a.name.as_str()))
                .count();
            expect(&format!("rules of {}", a.name), "prometheus", rules, want);
        }
    }
    let checks = crate::model::probes::blackbox(plan);
    if let Some(text) = file(format!("prometheus/{name}.scrape.yaml")) {
        let found = text
            .lines()
            .filter(|l| l.starts_with("  - job_name: "))
            .count();
        expect("probe jobs", "prometheus", found, checks.len());
    }
    if let Some(text) = file("blackbox/blackbox.yaml".to_owned()) {
        // This plan's modules, each once, at the indentation of a module.
        let found = text
            .lines()
            .filter(|l| {
                l.strip_prefix("  ")
                    .and_then(|l| l.strip_suffix(':'))
                    .is_some_and(|m| checks.iter().any(|c| c.module == m))
            })
            .count();
        expect("blackbox modules", "blackbox", found, checks.len());
    }
    if let Some(text) = file(format!("calendar/{name}.ics")) {
        let found = text.lines().filter(|l| *l == "BEGIN:VEVENT").count();
        let ends = text.lines().filter(|l| *l == "END:VEVENT").count();
        let want = super::calendar::event_count(plan);
        expect("calendar events", "calendar", found, want);
        expect("ends of calendar events", "calendar", ends, want);
    }
    if let Some(text) = file("alertmanager/alertmanager.yaml".to_owned()) {
        match serde_saphyr::from_str::<serde_json::Value>(text) {
            Ok(config) => {
                let matcher = serde_json::json!([format!("plan=\"{name}\"")]);
                let none = Vec::new();
                let routes = config["route"]["routes"].as_array().unwrap_or(&none);
                let mine: Vec<&serde_json::Value> =
                    routes.iter().filter(|r| r["matchers"] == matcher).collect();
                expect("routes for the plan", "alertmanager", mine.len(), 1);
                // A route per level, besides those of services with planned downtime.
                let levels = mine.first().map_or(0, |r| {
                    r["routes"]
                        .as_array()
                        .unwrap_or(&none)
                        .iter()
                        .filter(|l| {
                            l["matchers"].as_array().is_some_and(|m| {
                                m.len() == 1
                                    && m[0].as_str().is_some_and(|t| t.starts_with("level="))
                            })
                        })
                        .count()
                });
                let want = plan.severity.as_ref().map_or(0, |s| s.levels.len());
                expect("level routes", "alertmanager", levels, want);
            }
            Err(e) => out.push(format!("alertmanager: does not parse: {e}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::driver::{Options, build, check_texts, shape_violations};

    /// A line added to any generated file breaks its shape, and is reported.
    #[test]
    fn an_added_line_is_reported() {
        let path = std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/emit/every-kind.yaml"
        ));
        let text = std::fs::read_to_string(&path).expect("every-kind");
        let ws = check_texts(vec![(path, text)], Options::default());
        assert_eq!(ws.errors(), 0);
        let clean = build(&ws, &crate::emit::Options::default());
        assert_eq!(shape_violations(&ws, &clean), Vec::<String>::new());
        let cases = [
            ("cron/", "\n* * * * * touch /tmp/pwned\n"),
            (
                "kubernetes/",
                "\n---\napiVersion: batch/v1\nkind: CronJob\n",
            ),
            (
                "prometheus/every-kind.rules.yaml",
                "\n      - alert: Pwned\n",
            ),
            ("calendar/", "BEGIN:VEVENT\r\nEND:VEVENT\r\n"),
            ("prometheus/every-kind.scrape.yaml", "  - job_name: pwned\n"),
        ];
        for (prefix, extra) in cases {
            let mut broken = build(&ws, &crate::emit::Options::default());
            let file = broken.plans[0]
                .1
                .iter_mut()
                .find(|a| a.path.to_string_lossy().starts_with(prefix))
                .expect("file");
            file.content.push_str(extra);
            assert!(
                !shape_violations(&ws, &broken).is_empty(),
                "{prefix}: not reported"
            );
        }
        // A rule of the RPO alert renamed to another alert: as many names, one rule too few.
        let mut broken = build(&ws, &crate::emit::Options::default());
        let rules = broken.plans[0]
            .1
            .iter_mut()
            .find(|a| a.path.to_string_lossy() == "prometheus/every-kind.rules.yaml")
            .expect("rules");
        let at = rules
            .content
            .rfind("- alert: DbRpoExceeded\n")
            .expect("the RPO alert");
        rules.content.replace_range(
            at..at + "- alert: DbRpoExceeded\n".len(),
            "- alert: DbFullBackupMissed\n",
        );
        assert!(
            !shape_violations(&ws, &broken).is_empty(),
            "a missing rule of DbRpoExceeded: not reported"
        );
        let mut broken = build(&ws, &crate::emit::Options::default());
        let am = &mut broken.shared[0].content;
        *am = am.replacen(
            "  routes:\n",
            "  routes:\n    - matchers:\n        - plan=\"every-kind\"\n      receiver: unrouted\n",
            1,
        );
        assert!(
            !shape_violations(&ws, &broken).is_empty(),
            "alertmanager: not reported"
        );
    }
}
