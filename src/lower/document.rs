//! The top of a file: `apiVersion`, `kind`, `metadata`, `imports`, `execution`, and the dispatch
//! to each section. Also the table of every object's fields, which the schema test compares
//! with `schemas/plan.schema.json`.

use super::{Cx, Obj, is_http_url, ops, signals};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{DocKind, Document, Entries, Execution, Metadata};
use crate::parse::Node;
use crate::source::SourceFile;
use crate::span::{FileId, Sp, Span};
use crate::value::time::parse_zone;

pub(super) const TOP_PLAN: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "imports",
    "execution",
    "services",
    "kpis",
    "slos",
    "severity",
    "receivers",
    "oncall",
    "roles",
    "windows",
    "tasks",
    "backups",
    "runbooks",
    "budget",
    "environments",
    "policies",
    "lints",
];
pub(super) const TOP_FRAGMENT: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "imports",
    "severity",
    "receivers",
    "oncall",
    "roles",
    "runbooks",
    "windows",
];
pub(super) const METADATA: &[&str] = &[
    "name",
    "title",
    "description",
    "owner",
    "timezone",
    "labels",
    "runbook_base_url",
    "hosts",
];
pub(super) const FRAGMENT_METADATA: &[&str] = &["name", "description"];
pub(super) const EXECUTION: &[&str] = &[
    "image",
    "namespace",
    "textfile_dir",
    "service_account",
    "blackbox",
    "environments",
    "pushgateway",
    "runbook",
];

/// Every object of the format and its fields: `(schema $defs name, fields)`.
pub const FIELD_TABLE: &[(&str, &[&str])] = &[
    ("Plan", TOP_PLAN),
    ("Fragment", TOP_FRAGMENT),
    ("Metadata", METADATA),
    ("FragmentMetadata", FRAGMENT_METADATA),
    ("Execution", EXECUTION),
    ("Service", signals::SERVICE),
    ("Health", signals::HEALTH),
    ("HealthBody", signals::HEALTH_BODY),
    ("Dependency", signals::DEPENDENCY),
    ("Kpi", signals::KPI),
    ("Indicator", signals::INDICATOR),
    ("LatencyIndicator", signals::LATENCY),
    ("ErrorRatioIndicator", signals::ERROR_RATIO),
    ("ThroughputIndicator", signals::THROUGHPUT),
    ("UpIndicator", signals::UP),
    ("KpiLevels", signals::KPI_LEVELS),
    ("KpiThreshold", signals::KPI_THRESHOLD),
    ("KpiOver", signals::KPI_OVER),
    ("Slo", signals::SLO),
    ("SloIndicator", signals::SLO_INDICATOR),
    ("SloErrorRatio", signals::SLO_ERROR_RATIO),
    ("SloLatency", signals::SLO_LATENCY),
    ("SloAlerting", signals::SLO_ALERTING),
    ("Severity", signals::SEVERITY),
    ("Level", signals::LEVEL),
    ("Matrix", signals::MATRIX),
    ("LikelihoodOf", signals::LIKELIHOOD_OF),
    ("Receiver", signals::RECEIVER),
    ("Slack", signals::SLACK),
    ("Email", signals::EMAIL),
    ("PagerDuty", signals::PAGERDUTY),
    ("Opsgenie", signals::OPSGENIE),
    ("Webhook", signals::WEBHOOK),
    ("Oncall", signals::ONCALL),
    ("Escalation", signals::ESCALATION),
    ("Role", ops::ROLE),
    ("Window", ops::WINDOW),
    ("Downtime", ops::DOWNTIME),
    ("Task", ops::TASK),
    ("Backup", ops::BACKUP),
    ("BackupLevel", ops::BACKUP_LEVEL),
    ("Prune", ops::PRUNE),
    ("RestoreTest", ops::RESTORE_TEST),
    ("Runbook", ops::RUNBOOK),
    ("DiagnosisStep", ops::DIAGNOSIS),
    ("Budget", ops::BUDGET),
    ("BudgetItem", ops::BUDGET_ITEM),
    ("Allocation", ops::ALLOCATION),
    ("Environment", ops::ENVIRONMENT),
    ("EnvironmentSlo", ops::ENVIRONMENT_SLO),
    ("EnvironmentKpi", ops::ENVIRONMENT_KPI),
    ("Image", ops::IMAGE),
    ("Resources", ops::RESOURCES),
    ("ResourceSet", ops::RESOURCE_SET),
    ("Autoscaling", ops::AUTOSCALING),
    ("Policies", ops::POLICIES),
    ("Targets", ops::TARGETS),
    ("Review", ops::REVIEW),
];

/// Lower one parsed file. Returns `None` only when the file is not a usable plan or fragment at
/// all (not a mapping, wrong `apiVersion` or `kind`); every other problem is a diagnostic
/// beside a partial document.
pub fn lower(
    file: FileId,
    source: &SourceFile,
    root: &Node,
    diags: &mut Diagnostics,
) -> Option<Document> {
    let mut cx = Cx {
        file,
        src: &source.text,
        diags,
    };
    let at = root
        .as_map()
        .and_then(|m| m.first())
        .map_or(Span::file_start(file), |(k, _)| cx.span(k));
    if root.as_map().is_none() {
        cx.report(
            Diagnostic::new(
                Code::Type,
                format!("a plan must be a mapping, found {}", root.kind_name()),
            )
            .at(cx.span(root))
            .help("start the file with `apiVersion: upkeep/v1` and `kind: Plan`"),
        );
        return None;
    }
    let kind = read_header(&mut cx, root, at)?;
    let fields = if kind == DocKind::Plan {
        TOP_PLAN
    } else {
        TOP_FRAGMENT
    };
    let top = unknown_top_fields(&mut cx, root, at, kind, fields)?;
    let metadata = read_metadata(&mut cx, &top, kind, source);

    let mut doc = Document {
        file,
        kind,
        metadata,
        imports: Vec::new(),
        execution: Execution::default(),
        services: Entries::default(),
        kpis: Entries::default(),
        slos: Entries::default(),
        severity: None,
        receivers: Entries::default(),
        oncall: None,
        roles: Entries::default(),
        windows: Entries::default(),
        tasks: Entries::default(),
        backups: Entries::default(),
        runbooks: Entries::default(),
        budget: None,
        environments: Entries::default(),
        policies: None,
        lints: Vec::new(),
    };
    let section = |name: &str| top.get(name).map(|n| (n, top.key_span(name).unwrap_or(at)));
    if let Some((n, _)) = section("imports") {
        doc.imports = cx.strings(n, "imports");
    }
    if let Some((n, key)) = section("execution") {
        doc.execution = read_execution(&mut cx, n, key);
    }
    if let Some((n, _)) = section("services") {
        doc.services = signals::services(&mut cx, n);
    }
    if let Some((n, _)) = section("kpis") {
        doc.kpis = signals::kpis(&mut cx, n);
    }
    if let Some((n, _)) = section("slos") {
        doc.slos = signals::slos(&mut cx, n);
    }
    if let Some((n, key)) = section("severity") {
        doc.severity = signals::severity(&mut cx, n, key).map(|s| Sp::new(s, key));
    }
    if let Some((n, _)) = section("receivers") {
        doc.receivers = signals::receivers(&mut cx, n);
    }
    if let Some((n, key)) = section("oncall") {
        doc.oncall = signals::oncall(&mut cx, n, key).map(|o| Sp::new(o, key));
    }
    if let Some((n, _)) = section("roles") {
        doc.roles = ops::roles(&mut cx, n);
    }
    if let Some((n, _)) = section("windows") {
        doc.windows = ops::windows(&mut cx, n);
    }
    if let Some((n, _)) = section("tasks") {
        doc.tasks = ops::tasks(&mut cx, n);
    }
    if let Some((n, _)) = section("backups") {
        doc.backups = ops::backups(&mut cx, n);
    }
    if let Some((n, _)) = section("runbooks") {
        doc.runbooks = ops::runbooks(&mut cx, n);
    }
    if let Some((n, key)) = section("budget") {
        doc.budget = ops::budget(&mut cx, n, key).map(|b| Sp::new(b, key));
    }
    if let Some((n, _)) = section("environments") {
        doc.environments = ops::environments(&mut cx, n);
    }
    if let Some((n, key)) = section("policies") {
        doc.policies = ops::policies(&mut cx, n, key).map(|p| Sp::new(p, key));
    }
    if let Some((n, _)) = section("lints") {
        doc.lints = ops::lints(&mut cx, n);
    }
    Some(doc)
}

fn read_header(cx: &mut Cx<'_>, root: &Node, at: Span) -> Option<DocKind> {
    match root.get("apiVersion") {
        None => {
            cx.report(
                Diagnostic::new(Code::Missing, "missing field `apiVersion`")
                    .at(at)
                    .label("a plan starts with its version")
                    .help("add `apiVersion: upkeep/v1` as the first line"),
            );
            return None;
        }
        Some(v) if v.as_str() == Some("upkeep/v1") => {}
        Some(v) => {
            let found = v.scalar_text().unwrap_or_else(|| v.kind_name().to_owned());
            cx.report(
                Diagnostic::new(Code::Type, format!("unsupported apiVersion `{found}`"))
                    .at(cx.span(v))
                    .label("not a version this compiler reads")
                    .help("this compiler reads `apiVersion: upkeep/v1`"),
            );
            return None;
        }
    }
    let Some(k) = root.get("kind") else {
        cx.report(
            Diagnostic::new(Code::Missing, "missing field `kind`")
                .at(at)
                .label("is this a plan or a fragment?")
                .help("add `kind: Plan` (or `kind: Fragment` for a file that plans import)"),
        );
        return None;
    };
    cx.choice(k, "kind", DocKind::KEYS).map(|k| k.value)
}

fn unknown_top_fields<'n>(
    cx: &mut Cx<'_>,
    root: &'n Node,
    at: Span,
    kind: DocKind,
    fields: &[&str],
) -> Option<Obj<'n>> {
    if kind == DocKind::Plan {
        return cx.object(root, at, "", fields);
    }
    // Sections that exist in a plan but not in a fragment deserve a better message than
    // "unknown field".
    for (k, _) in root.as_map().unwrap_or(&[]) {
        let Some(name) = k.as_str() else { continue };
        if fields.contains(&name) {
            continue;
        }
        let d = if TOP_PLAN.contains(&name) {
            Diagnostic::new(Code::UnknownField, format!("`{name}` is not allowed in a fragment"))
                .label("only plans have this section")
                .help("fragments hold `imports`, `severity`, `receivers`, `oncall`, `roles`, `runbooks` and `windows`; move this section into the plan")
        } else {
            Diagnostic::new(
                Code::UnknownField,
                format!("unknown field `{name}` in a fragment"),
            )
            .label("unknown field")
            .help(crate::diag::suggestion_help(name, fields, "known fields"))
        };
        cx.report(d.at(cx.span(k)));
    }
    Some(Obj {
        node: root,
        at,
        path: String::new(),
    })
}

fn read_metadata(cx: &mut Cx<'_>, top: &Obj<'_>, kind: DocKind, source: &SourceFile) -> Metadata {
    let fallback_name = Sp::new(
        source
            .path
            .file_stem()
            .map_or_else(|| "plan".to_owned(), |s| s.to_string_lossy().into_owned()),
        Span::file_start(cx.file),
    );
    let mut md = Metadata {
        name: fallback_name,
        title: None,
        description: None,
        owner: None,
        timezone: Sp::new(crate::value::zone::Tz::UTC, Span::file_start(cx.file)),
        labels: Vec::new(),
        runbook_base_url: None,
        hosts: None,
    };
    let node = match kind {
        DocKind::Plan => top.req(cx, "metadata"),
        DocKind::Fragment => top.get("metadata"),
    };
    let Some(node) = node else { return md };
    let key = top.key_span("metadata").unwrap_or(top.at);
    let fields = if kind == DocKind::Plan {
        METADATA
    } else {
        FRAGMENT_METADATA
    };
    let Some(obj) = cx.object(node, key, "metadata", fields) else {
        return md;
    };
    let name = match kind {
        DocKind::Plan => obj.req_string(cx, "name"),
        DocKind::Fragment => obj.opt_string(cx, "name"),
    };
    if let Some(name) = name {
        if is_plan_name(&name) {
            md.name = name;
        } else {
            cx.report(
                Diagnostic::new(Code::Type, format!("plan name `{}` is not valid", name.value))
                    .at(name.span)
                    .label("used in file names and labels")
                    .help("a plan name uses lowercase letters, digits and `-` (at most 63 characters), e.g. `ecplacas`"),
            );
        }
    }
    md.title = obj.opt_string(cx, "title");
    md.description = obj.opt_string(cx, "description");
    md.owner = obj.opt_string(cx, "owner");
    if let Some(n) = obj.get("timezone") {
        if let Some(tz) = cx.parse(
            n,
            "metadata.timezone",
            "an IANA time zone such as `America/Guayaquil`",
            parse_zone,
        ) {
            md.timezone = tz;
        }
    }
    if let Some(n) = obj.get("labels") {
        md.labels = cx.string_map(n, "metadata.labels");
        for (k, _) in &md.labels {
            if !is_label_name(&k.value) || k.value.starts_with("__") {
                cx.report(
                    Diagnostic::new(
                        Code::Type,
                        format!("`{}` is not a valid Prometheus label name", k.value),
                    )
                    .at(k.span)
                    .label("invalid label name")
                    .help("label names match `[a-zA-Z_][a-zA-Z0-9_]*` and do not start with `__`"),
                );
            }
            if matches!(
                k.value.as_str(),
                "severity" | "plan" | "service" | "alertname"
            ) {
                cx.report(
                    Diagnostic::new(Code::Type, format!("label `{}` is set by upkeep on every alert", k.value))
                        .at(k.span)
                        .label("reserved label")
                        .help("choose another label name; `severity`, `plan`, `service` and `alertname` are generated"),
                );
            }
        }
    }
    md.runbook_base_url = obj.opt_string(cx, "runbook_base_url");
    if let Some(url) = md
        .runbook_base_url
        .as_ref()
        .filter(|u| !is_http_url(&u.value))
    {
        // Kept as given: the error stops the build, and `runbook/relative-url` would only
        // repeat it.
        let fixed =
            if super::http_rest(&url.value).is_some_and(|h| !h.is_empty() && !h.starts_with('/')) {
                // A space is escaped; line breaks and other control characters are dropped.
                url.value
                    .trim()
                    .chars()
                    .filter(|c| *c == ' ' || !(c.is_whitespace() || c.is_control()))
                    .collect::<String>()
                    .replace(' ', "%20")
            } else {
                format!(
                    "https://docs.example.org/{}",
                    url.value.trim_start_matches(['/', '.'])
                )
            };
        let help = format!(
            "write `{fixed}` (the absolute URL the runbook pages are published under: a host, no spaces)"
        );
        cx.report(
            Diagnostic::new(
                Code::Type,
                format!(
                    "`metadata.runbook_base_url` `{}` is not an absolute HTTP URL",
                    url.value.escape_debug()
                ),
            )
            .at(url.span)
            .label("expected http:// or https://, a host and no spaces")
            .help(help),
        );
    }
    md.hosts = obj.opt_string(cx, "hosts");
    md
}

fn read_execution(cx: &mut Cx<'_>, n: &Node, key: Span) -> Execution {
    let Some(obj) = cx.object(n, key, "execution", EXECUTION) else {
        return Execution::default();
    };
    Execution {
        image: obj.opt_line(cx, "image"),
        namespace: obj.opt_line(cx, "namespace"),
        textfile_dir: obj.opt_line(cx, "textfile_dir"),
        service_account: obj.opt_line(cx, "service_account"),
        blackbox: host_port(
            cx,
            &obj,
            "blackbox",
            "the blackbox exporter's address without a scheme, e.g. `blackbox-exporter:9115`",
        ),
        pushgateway: host_port(
            cx,
            &obj,
            "pushgateway",
            "the Pushgateway's address without a scheme, e.g. `pushgateway.monitoring.svc:9091`",
        ),
        environments: obj.opt_refs(cx, "environments"),
        runbook: obj.opt_ref(cx, "runbook"),
    }
}

/// `[a-z0-9-]+`, starting and ending with a letter or digit, at most 63 characters: safe in
/// file names, Kubernetes names and labels.
pub(super) fn is_plan_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A Prometheus label name.
pub(super) fn is_label_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// `execution.blackbox` or `execution.pushgateway`: an address, `host:port`.
fn host_port(cx: &mut Cx<'_>, obj: &Obj<'_>, field: &str, example: &str) -> Option<Sp<String>> {
    let b = obj.opt_line(cx, field)?;
    if super::signals::is_host_port(&b.value) && !b.value.contains(['/', ' ']) {
        return Some(b);
    }
    cx.report(
        Diagnostic::new(Code::Type, format!("`{}` is not `host:port`", b.value))
            .at(b.span)
            .label("expected host:port")
            .help(format!("write {example}")),
    );
    None
}
