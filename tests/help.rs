//! Every help line that proposes a change is right: applied to the fixture it was reported on,
//! the diagnostic goes away and nothing new appears.
//!
//! For each diagnostic of each `err_`/`warn_` fixture in `tests/fixtures/check/` (run through
//! the binary, `--format json`, on a copy of the fixture):
//!
//! 1. The edit is the entry of [`FIXES`] for that fixture and message, if there is one.
//!    Otherwise the help line must name the replacement itself (see [`proposal`], which
//!    `upkeep lsp`'s quick fixes read too: "did you mean X?", "write X", "use X, which …",
//!    "remove the quotes: X", "add it: X", with X in back-quotes), and X replaces the text the
//!    diagnostic points at. When X is a whole value
//!    (it starts with the scalar's text before the span, or ends with the text after it:
//!    `1h30m` for the `O` of `1h3Om`, `every 6m` for the `7m` of `every 7m`), it replaces the
//!    whole scalar instead. A help line with neither fails the test: add an entry to [`FIXES`]
//!    that does what the help says (a structural change: add a field, move a section, swap two
//!    values), or, when no text edit can do it, an [`Edit::Outside`] entry that says why.
//! 2. The edited copy is checked again: no diagnostic with the same code and message is left,
//!    the code is reported fewer times than before, and no code is reported more often than
//!    before at any severity (the fix introduced nothing).
//!
//! Entries are matched by fixture and a piece of the message; an entry that matches nothing is
//! stale and fails the test too.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use upkeep::diag::fix::{proposal, proposal_range};

/// How to apply a help line to its fixture.
#[derive(Debug)]
enum Edit {
    /// Replace the text the diagnostic points at (or its whole scalar, as for proposals).
    Span(&'static str),
    /// Replacements `(file, find, replace)`, in order. `file` is relative to the fixture
    /// directory, or `""` for the diagnostic's own file; `find` must occur exactly once, or be
    /// `""` to append `replace` at the end. In `replace` (and in [`Edit::Span`]), `{help}` is the
    /// first back-quoted text of the help line: the edit applies what the help says.
    Text(&'static [(&'static str, &'static str, &'static str)]),
    /// No edit of the fixture's text can apply the help (the reason is given); the diagnostic is
    /// only counted.
    Outside(&'static str),
}

struct Fix {
    fixture: &'static str,
    /// A piece of the diagnostic's message.
    message: &'static str,
    edit: Edit,
}

const fn fix(fixture: &'static str, message: &'static str, edit: Edit) -> Fix {
    Fix {
        fixture,
        message,
        edit,
    }
}

use Edit::{Outside, Span, Text};

/// Fixes for help lines that do not name their replacement, or whose replacement needs more
/// than the span (a field to add, a section to move, two values to swap).
#[rustfmt::skip]
const FIXES: &[Fix] = &[
    fix("err_alert_no_level", "`UpCritical`", Text(&[("", "  api: {}", "  api: {impact: critical}")])),
    fix("err_alert_no_level", "`ConnectionsWarning`", Text(&[("", "likelihood_of: {critical: high}", "likelihood_of: {warning: high, critical: high}")])),
    fix("err_alert_no_receiver", "`P1` notifies nobody", Text(&[("", "P1: {response: 1h}", "P1: {response: 1h, notify: [pager]}")])),
    fix("err_api_version", "unsupported apiVersion", Text(&[("", "apiVersion: upkeep/v2", "{help}")])),
    fix("err_backup_retention_short", "`backups.db.weekly` is kept 3d", Span("7d")),
    fix("err_backup_retention_short", "`backups.db.monthly` is kept 30d", Span("31d")),
    fix("err_backup_rpo_unmet", "promises an RPO of 15m", Span("6h")),
    fix("err_budget_allocation_sum", "adds up to 105%", Text(&[("", "perfective: 10%", "perfective: 5%")])),
    fix("err_budget_currency_mismatch", "amount in USD", Span("500 EUR")),
    fix("err_budget_currency_mismatch", "`$` amount", Span("6,000")),
    fix("err_budget_sum_mismatch", "1,000 short", Span("59000")),
    fix("err_duration", "fractional durations", Text(&[("", "1.5h", "1h30m")])),
    fix("err_duration", "milliseconds are only allowed", Text(&[("", "duration: 500ms", "duration: 1s")])),
    fix("err_duration", "missing unit after `90`", Span("90m")),
    fix("err_env_resources", "outside the autoscaling range", Span("3")),
    fix("err_env_resources", "more cpu (2000m)", Span("500m")),
    fix("err_env_resources", "more memory (2Gi)", Span("1Gi")),
    fix("err_env_resources", "target is 0%", Span("70%")),
    fix("err_env_resources", "min 5 above max 2", Text(&[("", "{min: 5, max: 2}", "{min: 2, max: 5}")])),
    fix("err_env_objectives", "has an objective of 100%", Span("{help}")),
    fix("err_env_objectives", "is above critical `> 250ms` (in environment `production`)", Text(&[("", "latency: {critical: \"> 250ms\"}", "latency: {critical: \"> 400ms\"}")])),
    fix("err_env_override_missing", "replaces a warning threshold", Text(&[("", "    critical: \"> 90%\"\n", "    warning: \"> 80%\"\n    critical: \"> 90%\"\n")])),
    fix("err_file_not_a_plan", "is not an upkeep plan", Outside("the file is a Kubernetes manifest; the fix is not to name it, not to edit it")),
    fix("err_file_not_utf8", "UTF-8", Outside("re-encoding the file is not a text edit")),
    fix("err_fragment_sections", "`kpis` is not allowed in a fragment", Text(&[("frag.yaml", "kpis: {}\n", ""), ("plan.yaml", "", "kpis: {}\n")])),
    fix("err_import_conflict", "runbook `disk-full` is defined in two files", Text(&[("plan.yaml", "runbooks:\n  disk-full: {title: Disk full (local copy)}\n", "")])),
    fix("err_import_conflict", "`severity` is defined in two files", Text(&[("shared.yaml", "severity:\n  levels:\n    P1: {response: 1h, notify: [pager]}\n", "")])),
    fix("err_import_cycle", "import cycle", Text(&[("b.yaml", "imports: [a.yaml]\n", "")])),
    fix("err_import_not_a_fragment", "is a plan, not a fragment", Text(&[("other.yaml", "kind: Plan\nmetadata: {name: other}", "kind: Fragment")])),
    fix("err_import_not_found", "does not exist", Text(&[("shared/missing.yaml", "", "apiVersion: upkeep/v1\nkind: Fragment\n")])),
    fix("err_kpi_direction_mismatch", "watch opposite sides", Text(&[("", "critical: \"> 500 req/min\"", "critical: \"< 500 req/min\"")])),
    fix("err_kpi_direction_mismatch", "point the same way", Text(&[("", "objective: \"> 0.1%\"", "objective: \"< 0.1%\"")])),
    fix("err_kpi_threshold_order", "is above critical", Text(&[("", "warning: \"> 500ms\"", "warning: \"> 0.3s\""), ("", "critical: \"> 0.3s\"", "critical: \"> 500ms\"")])),
    fix("err_kpi_unit_mismatch", "`80%` is a ratio", Span("250ms")),
    fix("err_kpi_unit_mismatch", "`2 req/s` is a rate", Span("500ms")),
    fix("err_health_body", "look-around", Text(&[("", "(?=true)", "true")])),
    fix("err_health_body", "class operation", Text(&[("", "[a-z&&[^x]]+", "[a-wyz]+")])),
    fix("err_health_body", "`body` applies to `http` checks only", Text(&[("", "      body: {json: {ready: true}}\n", "")])),
    fix("err_health_body", "must be `true`, `false`", Text(&[("", "{queues: [a, b]}", "{queues: 2}")])),
    fix("err_kube_quantity", "unknown quantity suffix `GB`", Span("G")),
    fix("err_kube_quantity", "`two` is not a Kubernetes quantity", Span("2")),
    fix("err_limit_aliases", "aliases expand", Text(&[("", "      c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n", ""), ("", "      d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n", ""), ("", "      e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n", ""), ("", "      f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n", "")])),
    fix("err_limit_runs", "run more often than the compiler compares", Text(&[("", "w0: {schedule: \"every 1m\"", "w0: {schedule: \"every 1h\""), ("", "w1: {schedule: \"every 1m\"", "w1: {schedule: \"every 1h\""), ("", "w2: {schedule: \"every 1m\"", "w2: {schedule: \"every 1h\""), ("", "w3: {schedule: \"every 1m\"", "w3: {schedule: \"every 1h\"")])),
    fix("err_limit_depth", "nesting is deeper", Text(&[("", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", "[]")])),
    fix("err_limit_depth_promql", "brackets nested deeper", Text(&[("", "(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((up)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))", "up")])),
    fix("err_lint_config", "`schema/type` cannot be configured", Text(&[("", "  schema/type: allow\n", "")])),
    fix("err_money", "`usd` is not an ISO 4217 currency code in `budget.currency`", Span("USD")),
    fix("err_money", "`usd` is not an ISO 4217 currency code in `budget.value", Span("USD")),
    fix("err_money", "malformed amount `49,00`", Span("49,000")),
    fix("err_names", "plan name `../../etc`", Span("shop")),
    fix("err_names", "label `severity` is set by upkeep", Span("tier")),
    fix("err_names", "`team-name` is not a valid Prometheus label name", Span("team_name")),
    fix("err_names", "`Backend` is not a valid name", Span("backend")),
    fix("err_names", "`P 0` is not a valid name", Span("P0")),
    fix("err_percentage", "`101%` is outside", Span("99.9%")),
    fix("err_percentage", "`99.9` is not a percentage", Span("99.9%")),
    fix("err_plan_duplicate_name", "two plans are named `shop`", Span("shop-v2")),
    fix("err_promql_misused", "is a range vector", Span("node_load1")),
    fix("err_promql_misused", "is a string literal", Span("http_requests_total{job=\"api\",code=~\"5..\"}")),
    fix("err_promql_misused", "ends in a `#` comment", Span("")),
    fix("err_promql_syntax", "unclosed left parenthesis", Text(&[("", "[5m]))'}", "[5m])))'}")])),
    fix("err_promql_syntax", "bad number or duration syntax: 5x", Span("{help}")),
    fix("err_promql_syntax", "invalid label selector", Span("=~")),
    fix("err_quantity", "unknown unit `mss`", Span("ms")),
    fix("err_quantity", "malformed number `1,00`", Span("1")),
    fix("err_quantity", "unknown unit `rpm`", Span("req/min")),
    fix("err_schedule_skipped_time", "does not exist in Europe/Madrid", Span("{help}")),
    fix("err_ref_unknown", "impact `critical` but the plan has no severity matrix", Text(&[("", ", impact: critical}", "}")])),
    fix("err_ref_unknown", "unknown runbook `high-latency`", Text(&[("", "", "runbooks:\n  high-latency: {title: High latency}\n")])),
    fix("err_ref_unknown", "unknown window `nightly`", Text(&[("", "", "windows:\n  nightly: {schedule: \"daily at 01:00\", duration: 1h}\n")])),
    fix("err_ref_unknown", "unknown role `dba`", Text(&[("", "", "roles:\n  dba: {fte: 0.5}\n")])),
    fix("err_schedule_invalid", "`fifth` is not a day of the month", Text(&[("", "fifth sunday", "last sunday")])),
    fix("err_schedule_invalid", "`8` is out of range", Span("0")),
    fix("err_schedule_invalid", "`02-30` is not a day of the year", Span("02-28")),
    fix("err_schedule_invalid", "a one-off runs once", Text(&[("", " until 2027-02-01", "")])),
    fix("err_schedule_invalid", "a window that mutes cannot be limited to dates", Text(&[("", "k: {schedule: \"daily at 02:00 from 2027-03-01 for 7 days\"", "k: {schedule: \"daily at 02:00\"")])),
    fix("err_schema_exclusive", "`kpis.latency.indicator` gives", Text(&[("", "      expr: 'histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m]))'\n", "")])),
    fix("err_schema_exclusive", "`tasks.vacuum` gives", Text(&[("", "schedule: \"daily at 03:00\", ", "")])),
    fix("err_schema_missing", "missing field `name` in `metadata`", Text(&[("", "metadata: {title: Shop}", "metadata: {name: shop, title: Shop}")])),
    fix("err_schema_missing", "missing field `service`", Text(&[("", "  errors:\n", "  errors:\n    service: backend\n")])),
    fix("err_schema_missing", "missing field `unit`", Text(&[("", "  errors:\n", "  errors:\n    unit: req/s\n")])),
    fix("err_schema_missing", "missing field `duration`", Text(&[("", "\"daily at 00:00\", ", "\"daily at 00:00\", duration: 1h, ")])),
    fix("err_schema_range", "`services.backend.port` is 70000", Span("7000")),
    fix("err_schema_range", "`services.backend.health.retries` is 0", Span("3")),
    fix("err_schema_range", "quantile 95", Span("{help}")),
    fix("err_schema_type", "`metadata.labels` must be a mapping", Text(&[("", "labels: [team, ops]", "labels: {team: ops}")])),
    fix("err_schema_type", "`services.backend.depends_on` must be a list", Span("[db]")),
    fix("err_schema_type", "`windows.nightly.mute` must be", Span("true")),
    fix("err_schema_type", "`sometimes` is not a valid value", Span("{help}")),
    fix("err_secret_inline", "`chat` has its `api_url` inline", Text(&[("", "api_url: \"https://hooks.slack.com/services/T000/B000/XXXX\"", "api_url_file: /etc/alertmanager/slack-url")])),
    fix("err_secret_inline", "`pager` has its `routing_key` inline", Text(&[("", "routing_key: 0123456789abcdef0123456789abcdef", "routing_key_file: /etc/alertmanager/pd-key")])),
    fix("err_secret_inline", "`mail` has its `auth_password` inline", Text(&[("", "auth_password: hunter2", "auth_password_file: /etc/alertmanager/smtp-password")])),
    fix("err_secret_inline", "`token` in `receivers.sms.webhook.url`", Text(&[("", "url: \"https://sms.example.org/send?token=abc\"", "url: \"https://sms.example.org/send\", credentials_file: /etc/alertmanager/sms-token")])),
    fix("err_secrets_anywhere", "a Slack incoming-webhook URL", Text(&[("", "hook: {webhook: {url: \"https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX\"}}", "hook: {slack: {channel: \"#ops\", api_url_file: /etc/alertmanager/slack-url}}")])),
    fix("err_secrets_anywhere", "a Discord webhook URL", Text(&[("", "url: \"https://discord.com/api/webhooks/123456789/EXAMPLEtoken0123\"", "url: \"https://relay.example.org/discord/ops\", credentials_file: /etc/alertmanager/relay-token")])),
    fix("err_secrets_anywhere", "`password` in `services.api.health.http`", Text(&[("", "?password=hunter2", "")])),
    fix("err_secrets_anywhere", "`Authorization` header", Text(&[("", "-H 'Authorization: Bearer 0123456789abcdefEXAMPLE'", "-H \\\"Authorization: Bearer $(cat /run/secrets/api-token)\\\"")])),
    fix("err_secrets_anywhere", "`DB_PASSWORD`", Text(&[("", "    env: {DB_PASSWORD: hunter2, LOG_LEVEL: info}\n    values:\n", "    values:\n      env: [{name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: shop-db, key: password}}}, {name: LOG_LEVEL, value: info}]\n")])),
    fix("err_secrets_anywhere", "`secretAccessKey`", Text(&[("", "secretAccessKey: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "existingSecret: shop-backup-s3")])),
    fix("err_service_dependency_cycle", "`api`, `queue`, `worker`", Text(&[("", "  queue: {depends_on: [api]}", "  queue: {}")])),
    fix("err_service_dependency_cycle", "`self`", Text(&[("", "  self: {depends_on: [self]}", "  self: {}")])),
    fix("err_severity_matrix_incomplete", "impact row `critical`", Text(&[("", "critical: [P1, P0]", "critical: [P1, P0, P0]")])),
    fix("err_severity_matrix_incomplete", "impact row `low`", Text(&[("", "low: [P1, P1, P0, P0]", "low: [P1, P1, P0]")])),
    fix("err_severity_response_order", "longer response time", Span("10m")),
    fix("err_slo_objective_range", "`slos.perfect`", Span("{help}")),
    fix("err_slo_objective_range", "`slos.nothing`", Span("{help}")),
    fix("err_syntax", "invalid trailing content", Text(&[("", "warning: \"> 150ms\n", "warning: \"> 150ms\"\n")])),
    fix("err_syntax_duplicate_key", "`backend` is defined twice", Text(&[("", "  backend: {job: api-v2}\n", "")])),
    fix("err_syntax_tab_after_scalar", "found a tab", Text(&[("", "\ttimezone: UTC", "  timezone: UTC")])),
    fix("err_syntax_tab", "tabs disallowed", Text(&[("", "\tname: shop", "  name: shop")])),
    fix("err_task_command", "NUL character", Span("rm -rf /tmp/cache/important")),
    fix("err_task_command", "bytes long", Span("/usr/local/bin/report.sh")),
    fix("err_threshold", "has no comparator", Span("> 150ms")),
    fix("err_threshold", "thresholds compare with", Span(">")),
    fix("err_time", "hour `25`", Span("09")),
    fix("err_time", "hour `24`", Span("23")),
    fix("err_top_level", "is not an upkeep plan", Text(&[("", "- apiVersion: upkeep/v1\n- kind: Plan\n", "apiVersion: upkeep/v1\nkind: Plan\nmetadata: {name: shop}\n")])),
    fix("err_zero_window", "`kpis.throughput.indicator.throughput.window`", Span("5m")),
    fix("err_zero_window", "`slos.availability.window`", Span("30d")),
    fix("err_zero_window", "`windows.nightly.duration`", Span("1h")),
    fix("err_window_budget", "139% of the error budget", Span("1m")),
    fix("err_window_freeze_overlap", "window `sunday` overlaps", Text(&[("", "\"weekly on sunday at 04:00\"", "\"weekly on sunday at 02:00\"")])),
    fix("err_window_freeze_overlap", "task `health` overlaps", Text(&[("", "\"daily at 21:50\"", "\"daily at 22:00\"")])),
    fix("err_window_freeze_overlap", "task `drill` overlaps", Text(&[("", "\"once on 2030-03-12 at 10:00\"", "\"once on 2030-03-12 at 23:00\"")])),
    fix("err_window_overflow", "need 1h5m but the window lasts 1h", Span("2h")),
    fix("warn_alert_no_runbook", "`ApiDown`", Text(&[("", "health: {http: \"http://api/health\"}}", "health: {http: \"http://api/health\"}, runbook: ops}"), ("", "", RUNBOOK)])),
    fix("warn_alert_no_runbook", "`ApiFlapping`", Text(&[("", "health: {http: \"http://api/health\"}}", "health: {http: \"http://api/health\"}, runbook: ops}"), ("", "", RUNBOOK)])),
    fix("warn_alert_no_runbook", "`LatencyP0`", Text(&[("", "    critical: \"> 300ms\"\n", "    critical: \"> 300ms\"\n    runbook: ops\n"), ("", "", RUNBOOK)])),
    fix("warn_alert_no_runbook", "`RotateLogsMissed`", Text(&[("", "logrotate /etc/logrotate.conf}", "logrotate /etc/logrotate.conf, runbook: ops}"), ("", "", RUNBOOK)])),
    fix("warn_alert_no_runbook", "`DbFullBackupMissed`", Text(&[("", "    service: api\n    command", "    service: api\n    runbook: ops\n    command"), ("", "", RUNBOOK)])),
    fix("warn_alert_response_unmet", "`ApiDown` can take", Text(&[("", "interval: 5m", "{help}")])),
    fix("warn_alert_response_unmet", "`LatencyP0` can take", Text(&[("", "    critical: \"> 300ms\"\n", "    critical: \"> 300ms\"\n    {help}\n")])),
    fix("warn_backup_no_restore_test", "never restore-tested", Text(&[("", "  db:\n", "  db:\n    {help}\n")])),
    fix("warn_backup_retention_unenforced", "nothing deletes", Text(&[("", "  db:\n", "  db:\n    {help}\n")])),
    fix("warn_env_values_override", "`environments.prod.values.replicaCount`", Text(&[("", "    replicas: 3\n", ""), ("", "      replicaCount: 5\n", ""), ("", "  prod:\n", "  prod:\n    replicas: 5\n")])),
    fix("warn_env_values_override", "`environments.prod.values.upkeep.prometheusRule.enabled`", Text(&[("", "        prometheusRule: {enabled: true}\n", "")])),
    fix("warn_kpi_objective_breached_by_warning", "is breached before the warning", Span("200ms")),
    fix("warn_oncall_timed_after_manual", "step to `management` is timed", Text(&[("", "{after: 1h, to: management}", "{to: management}")])),
    fix("warn_ref_standalone_used", "is marked `standalone`", Text(&[("", ", standalone: \"vendor, called by hand\"", "")])),
    fix("warn_ref_unused", "role `dba`", Text(&[("", "duration: 2h}", "duration: 2h, mute: true}"), ("", "", "oncall: {primary: dba}\n")])),
    fix("warn_ref_unused", "window `sunday`", Text(&[("", "duration: 2h}", "duration: 2h, mute: true}")])),
    fix("warn_schedule_cron_day_or", "both day-of-month and day-of-week", Text(&[("", "cron 0 2 1-7 * 0", "monthly on first sunday at 02:00")])),
    fix("warn_schedule_skips_months", "day 31 does not exist", Text(&[("", "day 31", "{help}")])),
    fix("warn_severity_matrix_not_monotonic", "more ", Text(&[("", "critical: [P1, P2]\n      low: [P0, P1]", "critical: [P1, P0]\n      low: [P2, P1]")])),
    fix("warn_runbook_relative_url", "by a relative path", Text(&[("", "metadata: {name: shop, timezone: Europe/Madrid}", "metadata: {name: shop, timezone: Europe/Madrid, runbook_base_url: \"https://docs.example.org/runbooks\"}")])),
    fix("warn_slo_burn_rate_unreachable", "can never fire", Span("99%")),
    fix("warn_slo_unachievable", "at most 99.85% available", Span("99.8%")),
    fix("warn_task_overlap", "both run on `db`", Text(&[("", "\"weekly on sunday at 03:15\"", "\"weekly on sunday at 04:00\"")])),
    fix("warn_task_overlap_backup", "backup `db.full`", Text(&[("", "\"daily at 03:20\"", "\"daily at 03:30\"")])),
    fix("warn_task_overlap_backup", "restore test `db.restore_test`", Text(&[("", "\"monthly on first sunday at 03:10\"", "\"monthly on first sunday at 03:30\"")])),
    fix("warn_window_budget", "58% of the error budget", Span("1m")),
];

const RUNBOOK: &str = "runbooks:\n  ops: {title: Operations}\n";

#[derive(Clone, Debug)]
struct Diag {
    code: String,
    severity: String,
    message: String,
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    help: String,
}

/// `upkeep check NAME --format json` in `dir`.
fn check(dir: &Path, name: &str) -> Vec<Diag> {
    let o = common::upkeep_in(dir, &["check", name, "--format", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{name}: no JSON ({e}):\n{}{}",
            common::stdout(&o),
            common::stderr(&o)
        )
    });
    let s = |d: &Value, k: &str| d[k].as_str().unwrap_or_default().to_owned();
    let n = |d: &Value, k: &str| d[k].as_u64().unwrap_or_default() as usize;
    v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| Diag {
            code: s(d, "code"),
            severity: s(d, "severity"),
            message: s(d, "message"),
            file: s(d, "file"),
            line: n(d, "line"),
            column: n(d, "column"),
            end_line: n(d, "end_line"),
            end_column: n(d, "end_column"),
            help: s(d, "help"),
        })
        .collect()
}

fn copy(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).expect("mkdir");
        for e in std::fs::read_dir(from).expect("read fixture directory") {
            let e = e.expect("entry");
            copy(&e.path(), &to.join(e.file_name()));
        }
    } else {
        std::fs::copy(from, to).expect("copy fixture");
    }
}

/// The fixtures: `(name, path under tests/fixtures/check)`.
fn fixtures() -> Vec<(String, String)> {
    let dir = common::root().join("tests/fixtures/check");
    let mut v: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(Result::ok)
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            let name = file.strip_suffix(".yaml").unwrap_or(&file).to_owned();
            (name.starts_with("err_") || name.starts_with("warn_")).then_some((name, file))
        })
        .collect();
    v.sort();
    v
}

/// Replace the span of `d` in `text` with `x`, or the whole scalar around it when `x` is a
/// whole value: the range [`proposal_range`] gives, which `upkeep lsp`'s quick fixes apply.
fn replace_span(text: &str, d: &Diag, x: &str) -> String {
    assert_eq!(
        d.line, d.end_line,
        "{}: a replacement for a span over several lines",
        d.message
    );
    let line_start: usize = text.split('\n').take(d.line - 1).map(|l| l.len() + 1).sum();
    let line = text[line_start..].split('\n').next().unwrap_or_default();
    let byte = |column: usize| {
        line_start
            + line
                .char_indices()
                .nth(column - 1)
                .map_or(line.len(), |(i, _)| i)
    };
    let (a, b) = proposal_range(text, byte(d.column), byte(d.end_column), x);
    format!("{}{x}{}", &text[..a], &text[b..])
}

/// The first back-quoted text of a help line.
fn literal(help: &str) -> &str {
    help.split('`').nth(1).unwrap_or_default()
}

/// An edit to apply: the help's own proposal, or an entry of [`FIXES`].
#[derive(Debug)]
enum Applied<'a> {
    Proposal(String),
    Table(&'a Edit),
}

/// Apply `edit` for `d` inside `root` (the copied fixture: a file or a directory).
fn apply(work: &Path, root: &Path, d: &Diag, edit: &Applied<'_>) {
    let own = work.join(&d.file);
    let fill = |s: &str| s.replace("{help}", literal(&d.help));
    let edit = match edit {
        Applied::Proposal(x) => {
            let text = std::fs::read_to_string(&own).expect("read");
            std::fs::write(&own, replace_span(&text, d, x)).expect("write");
            return;
        }
        Applied::Table(edit) => edit,
    };
    match edit {
        Span(x) => {
            let text = std::fs::read_to_string(&own).expect("read");
            std::fs::write(&own, replace_span(&text, d, &fill(x))).expect("write");
        }
        Text(edits) => {
            for (file, find, replace) in *edits {
                let path: PathBuf = if file.is_empty() {
                    own.clone()
                } else {
                    root.join(file)
                };
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).expect("mkdir");
                }
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let replace = fill(replace);
                let new = if find.is_empty() {
                    let sep = if text.is_empty() || text.ends_with('\n') {
                        ""
                    } else {
                        "\n"
                    };
                    format!("{text}{sep}{replace}")
                } else {
                    assert_eq!(
                        text.matches(find).count(),
                        1,
                        "{}: `{find}` must occur once in {}",
                        d.message,
                        path.display()
                    );
                    text.replacen(find, &replace, 1)
                };
                std::fs::write(&path, new).expect("write");
            }
        }
        Outside(_) => {}
    }
}

fn counts(diags: &[Diag]) -> BTreeMap<(String, String), usize> {
    let mut m = BTreeMap::new();
    for d in diags {
        *m.entry((d.code.clone(), d.severity.clone())).or_default() += 1;
    }
    m
}

#[test]
fn every_help_line_applies_and_fixes_its_diagnostic() {
    let src = common::root().join("tests/fixtures/check");
    let mut used = vec![false; FIXES.len()];
    let mut failures = Vec::new();
    let (mut proposed, mut tabled, mut outside) = (0, 0, 0);
    for (i, (name, file)) in fixtures().iter().enumerate() {
        let base = common::scratch(&format!("help-{i}"));
        copy(&src.join(file), &base.join(file));
        let before = check(&base, file);
        assert!(!before.is_empty(), "{name} reports nothing");
        for (j, d) in before.iter().enumerate() {
            let entry = FIXES
                .iter()
                .position(|f| f.fixture == name && d.message.contains(f.message));
            if let Some(k) = entry {
                used[k] = true;
                assert!(
                    proposal(&d.help).is_none(),
                    "{name}: `{}` names its replacement; remove its FIXES entry",
                    d.help
                );
            }
            let edit = match (entry.map(|k| &FIXES[k].edit), proposal(&d.help)) {
                (Some(Outside(why)), _) => {
                    outside += 1;
                    eprintln!("{name}: {}: not applied ({why})", d.code);
                    continue;
                }
                (Some(edit), _) => {
                    tabled += 1;
                    Applied::Table(edit)
                }
                (None, Some(x)) => {
                    proposed += 1;
                    Applied::Proposal(x.to_owned())
                }
                (None, None) => {
                    failures.push(format!(
                        "{name}: {} `{}`: help `{}` proposes a change but FIXES has no entry",
                        d.code, d.message, d.help
                    ));
                    continue;
                }
            };
            let work = common::scratch(&format!("help-{i}-{j}"));
            copy(&src.join(file), &work.join(file));
            apply(&work, &work.join(file), d, &edit);
            let after = check(&work, file);
            let still = after
                .iter()
                .any(|a| a.code == d.code && a.message == d.message);
            let (cb, ca) = (counts(&before), counts(&after));
            let fewer = after.iter().filter(|a| a.code == d.code).count()
                < before.iter().filter(|b| b.code == d.code).count();
            let grown: Vec<String> = ca
                .iter()
                .filter(|(k, n)| cb.get(*k).copied().unwrap_or(0) < **n)
                .map(|((c, s), n)| format!("{c} ({s}) ×{n}"))
                .collect();
            if still || !fewer || !grown.is_empty() {
                failures.push(format!(
                    "{name}: {} `{}`, help `{}`, edit {edit:?}: {}{}\n  after: {:?}",
                    d.code,
                    d.message,
                    d.help,
                    if still || !fewer { "not fixed " } else { "" },
                    if grown.is_empty() {
                        String::new()
                    } else {
                        format!("new: {}", grown.join(", "))
                    },
                    after
                        .iter()
                        .map(|a| format!("{} {}", a.code, a.message))
                        .collect::<Vec<_>>()
                ));
            }
            let _ = std::fs::remove_dir_all(&work);
        }
        let _ = std::fs::remove_dir_all(&base);
    }
    for (k, f) in FIXES.iter().enumerate() {
        if !used[k] {
            failures.push(format!(
                "FIXES entry ({}, `{}`) matches no diagnostic",
                f.fixture, f.message
            ));
        }
    }
    eprintln!("help lines applied: {proposed} as proposed, {tabled} from FIXES, {outside} outside");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
