//! What is watched and who answers: `services`, `kpis`, `slos`, `severity`, `receivers`,
//! `oncall`.

use super::{Cx, http_rest, is_http_url};
use crate::diag::{Code, Diagnostic};
use crate::model::{
    Aggregation, AlertLevels, Body, BodyExpect, Channel, Dependency, Entries, Escalation, Handoff,
    Health, Indicator, IndicatorKind, Kpi, Level, LikelihoodOf, Matrix, Oncall, Over, Probe,
    RatePer, Receiver, ReceiverKind, Resource, Rotation, Service, ServiceKind, Severity,
    SeverityLabel, Slo, SloIndicator, SloIndicatorKind, ThresholdWaits,
};
use crate::parse::{Node, Value};
use crate::span::{Sp, Span};
use crate::value::{Duration, Family, Number, Quantity, Threshold, TimeOfDay, Unit};

pub(super) const SERVICE: &[&str] = &[
    "description",
    "kind",
    "job",
    "hosts",
    "port",
    "url",
    "health",
    "depends_on",
    "impact",
    "owner",
    "runbook",
];
pub(super) const HEALTH: &[&str] = &[
    "http", "tcp", "command", "interval", "timeout", "retries", "level", "method", "status", "body",
];
pub(super) const HEALTH_BODY: &[&str] = &["json", "matches", "level", "runbook"];
pub(super) const DEPENDENCY: &[&str] = &["service", "hard"];
pub(super) const KPI: &[&str] = &[
    "service",
    "description",
    "indicator",
    "unit",
    "objective",
    "warning",
    "critical",
    "for",
    "over",
    "runbook",
    "levels",
];
pub(super) const KPI_OVER: &[&str] = Aggregation::NAMES;
pub(super) const INDICATOR: &[&str] = IndicatorKind::NAMES;
pub(super) const LATENCY: &[&str] = &["histogram", "quantile", "window", "selector"];
pub(super) const ERROR_RATIO: &[&str] = &["errors", "total", "window"];
pub(super) const THROUGHPUT: &[&str] = &["counter", "window", "per", "selector"];
pub(super) const UP: &[&str] = &["job"];
pub(super) const KPI_LEVELS: &[&str] = &["warning", "critical"];
pub(super) const KPI_THRESHOLD: &[&str] = &["value", "for"];
pub(super) const SLO: &[&str] = &[
    "service",
    "description",
    "objective",
    "window",
    "indicator",
    "alerting",
    "runbook",
];
pub(super) const SLO_INDICATOR: &[&str] = SloIndicatorKind::NAMES;
pub(super) const SLO_ERROR_RATIO: &[&str] = &["errors", "total"];
pub(super) const SLO_LATENCY: &[&str] = &["histogram", "threshold", "selector"];
pub(super) const SLO_ALERTING: &[&str] = &["page", "ticket"];
pub(super) const SEVERITY: &[&str] = &[
    "levels",
    "matrix",
    "likelihood_of",
    "default_impact",
    "require_runbook",
];
pub(super) const LEVEL: &[&str] = &[
    "response",
    "resolve",
    "notify",
    "repeat",
    "description",
    "severity",
    "pages",
];
pub(super) const MATRIX: &[&str] = &["likelihood", "impact"];
pub(super) const LIKELIHOOD_OF: &[&str] = &["warning", "critical"];
pub(super) const RECEIVER: &[&str] = Channel::NAMES;
pub(super) const SLACK: &[&str] = &[
    "channel",
    "api_url_file",
    "api_url",
    "username",
    "send_resolved",
];
pub(super) const EMAIL: &[&str] = &[
    "to",
    "from",
    "smarthost",
    "auth_username",
    "auth_password_file",
    "auth_password",
];
pub(super) const PAGERDUTY: &[&str] =
    &["routing_key_file", "routing_key", "service_key", "severity"];
pub(super) const OPSGENIE: &[&str] = &["api_key_file", "api_key", "priority", "responders"];
pub(super) const WEBHOOK: &[&str] = &["url", "credentials_file", "max_alerts"];
pub(super) const ONCALL: &[&str] = &[
    "rotation",
    "handoff",
    "primary",
    "secondary",
    "response",
    "escalation",
    "tools",
];
pub(super) const ESCALATION: &[&str] = &["after", "to"];

/// Fields that hold a secret when written inline.
pub const INLINE_SECRETS: &[&str] = &[
    "api_url",
    "auth_password",
    "routing_key",
    "service_key",
    "api_key",
];

const FIVE_MINUTES: Duration = Duration::from_millis(5 * 60 * 1000);

pub(super) fn services(cx: &mut Cx<'_>, n: &Node) -> Entries<Service> {
    let mut out = Entries::default();
    for (name, node, key) in cx.named(n, "services", false) {
        let path = format!("services.{}", name.value);
        let Some(obj) = cx.object(node, key, &path, SERVICE) else {
            continue;
        };
        let kind = obj
            .get("kind")
            .and_then(|k| cx.choice(k, &obj.path("kind"), ServiceKind::KEYS))
            .map_or(ServiceKind::Service, |k| k.value);
        let job = obj.opt_string(cx, "job").unwrap_or_else(|| name.clone());
        let port = obj
            .get("port")
            .and_then(|p| cx.integer(p, &obj.path("port"), 1, 65535))
            .map(|p| p.map(|v| v as u16));
        let health = obj.get("health").and_then(|h| {
            health(
                cx,
                h,
                obj.key_span("health").unwrap_or(key),
                &obj.path("health"),
            )
        });
        let mut depends_on = Vec::new();
        if let Some(d) = obj.get("depends_on") {
            for (i, item) in cx.list(d, &obj.path("depends_on")).iter().enumerate() {
                let p = format!("{}[{i}]", obj.path("depends_on"));
                if matches!(item.value, Value::Map(_)) {
                    let Some(o) = cx.object(item, cx.span(item), &p, DEPENDENCY) else {
                        continue;
                    };
                    let Some(service) = o
                        .req(cx, "service")
                        .and_then(|s| cx.reference(s, &o.path("service")))
                    else {
                        continue;
                    };
                    let hard = o.opt_bool(cx, "hard").unwrap_or(true);
                    depends_on.push(Dependency { service, hard });
                } else if let Some(service) = cx.reference(item, &p) {
                    depends_on.push(Dependency {
                        service,
                        hard: true,
                    });
                }
            }
        }
        let service = Service {
            description: obj.opt_string(cx, "description"),
            kind,
            job,
            hosts: obj.opt_string(cx, "hosts"),
            port,
            url: obj.opt_string(cx, "url"),
            health,
            depends_on,
            impact: obj.opt_ref(cx, "impact"),
            owner: obj.opt_ref(cx, "owner"),
            runbook: obj.opt_ref(cx, "runbook"),
        };
        out.push(name, service);
    }
    out
}

/// `host:port`, with a port number (a TCP probe, an SMTP smarthost).
pub(super) fn is_host_port(s: &str) -> bool {
    s.rsplit_once(':')
        .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
}

/// The methods an `http` health check may use.
const HTTP_METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "OPTIONS"];

fn health(cx: &mut Cx<'_>, n: &Node, key: Span, path: &str) -> Option<Health> {
    let obj = cx.object(n, key, path, HEALTH)?;
    #[derive(Clone, Copy)]
    enum ProbeKind {
        Http,
        Tcp,
        Command,
    }
    let (kind, node, key_name) = obj.one_of(
        cx,
        &[
            ("http", ProbeKind::Http),
            ("tcp", ProbeKind::Tcp),
            ("command", ProbeKind::Command),
        ],
        "a probe (`http`, `tcp` or `command`)",
    )?;
    let target = cx.string(node, &obj.path(key_name))?;
    let probe = match kind {
        ProbeKind::Http => {
            if http_rest(&target.value).is_none() {
                cx.report(
                    Diagnostic::new(Code::Type, format!("`{}` is not an HTTP URL", target.value))
                        .at(target.span)
                        .label("expected http:// or https://")
                        .help("write the full URL of the health endpoint, e.g. `http://backend:5000/api/health`"),
                );
                return None;
            }
            Probe::Http(target.value.clone())
        }
        ProbeKind::Tcp => {
            if !is_host_port(&target.value) {
                cx.report(
                    Diagnostic::new(Code::Type, format!("`{}` is not `host:port`", target.value))
                        .at(target.span)
                        .label("expected host:port")
                        .help("write the address to connect to, e.g. `postgres:5432`"),
                );
                return None;
            }
            Probe::Tcp(target.value.clone())
        }
        ProbeKind::Command => Probe::Command(target.value.clone()),
    };
    let span = target.span;
    let interval = obj
        .opt_positive_duration(
            cx,
            "interval",
            "probe at least every few minutes, e.g. `interval: 1m`",
        )
        .unwrap_or(Sp::new(Duration::from_mins(1), key));
    let timeout = obj
        .opt_positive_duration(
            cx,
            "timeout",
            "give the probe time to answer, e.g. `timeout: 10s`",
        )
        .unwrap_or(Sp::new(Duration::from_secs(10), key));
    let retries = obj
        .get("retries")
        .and_then(|r| cx.integer(r, &obj.path("retries"), 1, 100))
        .map_or(Sp::new(3, key), |r| r.map(|v| v as u32));
    let http = matches!(probe, Probe::Http(_));
    let method = obj.opt_line(cx, "method").and_then(|m| {
        if !http {
            cx.report(
                Diagnostic::new(Code::Type, "`method` applies to `http` checks only")
                    .at(m.span)
                    .label("not an HTTP check")
                    .help("remove `method:`"),
            );
            return None;
        }
        if HTTP_METHODS.contains(&m.value.as_str()) {
            return Some(m);
        }
        cx.report(
            Diagnostic::new(
                Code::Type,
                format!("`{}` is not an HTTP method a health check uses", m.value),
            )
            .at(m.span)
            .label("unknown method")
            .help(crate::diag::suggestion_help(
                &m.value,
                HTTP_METHODS,
                "the methods",
            )),
        );
        None
    });
    let mut status = Vec::new();
    if let Some(n) = obj.get("status") {
        let path = obj.path("status");
        for item in cx.list(n, &path) {
            if let Some(code) = cx.integer(item, &path, 100, 599) {
                status.push(code.map(|c| c as u16));
            }
        }
        if !http && let (Some(first), Some(last)) = (status.first(), status.last()) {
            cx.report(
                Diagnostic::new(Code::Type, "`status` applies to `http` checks only")
                    .at(first.span.to(last.span))
                    .label("not an HTTP check")
                    .help("remove `status:`"),
            );
            status.clear();
        }
    }
    let body = obj.get("body").and_then(|b| {
        let key = obj.key_span("body").unwrap_or(key);
        let body = self::body(cx, b, key, &obj.path("body"))?;
        if !http {
            cx.report(
                Diagnostic::new(Code::Type, "`body` applies to `http` checks only")
                    .at(key)
                    .label("not an HTTP check")
                    .help("remove `body:`"),
            );
            return None;
        }
        // The answer to HEAD has no body: every attempt would fail on it.
        if let Some(m) = method.as_ref().filter(|m| m.value == "HEAD") {
            cx.report(
                Diagnostic::new(Code::Type, "a `HEAD` check gets no body to match")
                    .at(m.span)
                    .label("answered without a body")
                    .with_label(key, "`body` expects one")
                    .help("use `GET`, or remove `body:`"),
            );
            return None;
        }
        Some(body)
    });
    Some(Health {
        probe: Sp::new(probe, span),
        interval,
        timeout,
        retries,
        level: obj.opt_ref(cx, "level"),
        method,
        status,
        body,
    })
}

/// `health.body`: exactly one of `json` (fields and their values) or `matches` (an RE2
/// pattern), and the level of its alert.
fn body(cx: &mut Cx<'_>, n: &Node, key: Span, path: &str) -> Option<Body> {
    #[derive(Clone, Copy)]
    enum Form {
        Json,
        Matches,
    }
    let obj = cx.object(n, key, path, HEALTH_BODY)?;
    let level = obj.opt_ref(cx, "level");
    let runbook = obj.opt_ref(cx, "runbook");
    let (form, node, name) = obj.one_of(
        cx,
        &[("json", Form::Json), ("matches", Form::Matches)],
        "what the body must contain (`json` or `matches`)",
    )?;
    let at = cx.span(node);
    let expect = match form {
        Form::Matches => BodyExpect::Matches(
            cx.parse(
                node,
                &obj.path(name),
                "an RE2 regular expression",
                crate::value::re2::parse,
            )?
            .value,
        ),
        Form::Json => {
            let path = obj.path(name);
            let Some(entries) = node.as_map().filter(|e| !e.is_empty()) else {
                cx.report(
                    Diagnostic::new(
                        Code::Type,
                        format!("`{path}` must be a mapping of fields to values"),
                    )
                    .at(at)
                    .label("expected fields")
                    .help("name the fields the body must have, e.g. `json: {status: ok}`"),
                );
                return None;
            };
            let mut fields = Vec::new();
            for (k, v) in entries {
                let field = cx.string(k, &format!("a field in `{path}`"))?;
                let json = match &v.value {
                    Value::Bool(b) => b.to_string(),
                    Value::Int(i) => i.to_string(),
                    Value::Null => "null".to_owned(),
                    Value::Str(s) => serde_json::Value::from(s.as_str()).to_string(),
                    _ => {
                        cx.report(
                            Diagnostic::new(
                                Code::Type,
                                format!(
                                    "`{path}.{}` must be `true`, `false`, `null`, an integer or a string",
                                    field.value
                                ),
                            )
                            .at(cx.span(v))
                            .label(format!("found {}", v.kind_name()))
                            .help("compare one scalar field; for anything else write a pattern with `matches:`"),
                        );
                        return None;
                    }
                };
                if field.value.len() + json.len() > crate::value::re2::MAX_LEN {
                    cx.report(
                        Diagnostic::new(
                            Code::Range,
                            format!(
                                "`{path}.{}` is longer than {} bytes",
                                field.value,
                                crate::value::re2::MAX_LEN
                            ),
                        )
                        .at(cx.span(v))
                        .label("too long")
                        .help("compare a shorter field or value"),
                    );
                    return None;
                }
                fields.push((field.value, json));
            }
            BodyExpect::Json(fields)
        }
    };
    Some(Body {
        expect: Sp::new(expect, at),
        level,
        runbook,
    })
}

pub(super) fn kpis(cx: &mut Cx<'_>, n: &Node) -> Entries<Kpi> {
    let mut out = Entries::default();
    for (name, node, key) in cx.named(n, "kpis", false) {
        let path = format!("kpis.{}", name.value);
        let Some(obj) = cx.object(node, key, &path, KPI) else {
            continue;
        };
        let service = obj
            .req(cx, "service")
            .and_then(|s| cx.reference(s, &obj.path("service")));
        let ind_key = obj.key_span("indicator").unwrap_or(key);
        let indicator = obj
            .req(cx, "indicator")
            .and_then(|i| indicator(cx, i, ind_key, &obj.path("indicator")));
        let unit = match obj.get("unit") {
            Some(u) => cx.parse(u, &obj.path("unit"), "a unit such as `s`, `%` or `req/min`", |s| {
                Unit::parse(s).ok_or_else(|| {
                    crate::value::ValueError::whole(
                        s,
                        format!("unknown unit `{s}`"),
                        "units: `ms` `s` (time), `%` `ratio`, `B` `KiB` `MiB` `GiB` (bytes), `req/s` `req/min` (rates), `count` or a word for a count",
                    )
                })
            }),
            None => None,
        };
        let unit = match (&indicator, unit) {
            (Some(ind), unit) if unit.is_some() || obj.get("unit").is_none() => {
                resolve_unit(cx, ind, unit, key, &path)
            }
            _ => None,
        };
        let threshold = |cx: &mut Cx<'_>, field: &str, require_op: bool| {
            obj.get(field).and_then(|t| {
                cx.parse(
                    t,
                    &obj.path(field),
                    "a threshold such as `\"> 300ms\"`",
                    |s| Threshold::parse(s, require_op),
                )
            })
        };
        // A bare number is in the KPI's written unit (`unit: ms`, `warning: "> 300"` is 300ms,
        // compared as 0.3 with a histogram in seconds), not in the series' unit. (An `expr`
        // series is in its written unit already.)
        let native = indicator.as_ref().and_then(|i| i.value.native_unit());
        let written = obj
            .get("unit")
            .and(unit.as_ref())
            .map(|u| u.value.clone())
            .filter(|u| native.as_ref().is_some_and(|n| n != u));
        let in_unit = |t: Option<Sp<Threshold>>| {
            t.map(|mut t| {
                if t.value.quantity.unit.is_none() {
                    t.value.quantity.unit.clone_from(&written);
                }
                t
            })
        };
        let objective = in_unit(threshold(cx, "objective", false));
        // `warning` and `critical` are a threshold, or `{value: THRESHOLD, for: DURATION}`
        // when that level waits its own time.
        let alerting = |cx: &mut Cx<'_>, field: &str| match obj.get(field) {
            Some(t) if t.as_map().is_some() => {
                let at = obj.key_span(field).unwrap_or(key);
                let Some(o) = cx.object(t, at, &obj.path(field), KPI_THRESHOLD) else {
                    return (None, None);
                };
                let value = o.req(cx, "value").and_then(|v| {
                    cx.parse(
                        v,
                        &o.path("value"),
                        "a threshold such as `\"> 300ms\"`",
                        |s| Threshold::parse(s, true),
                    )
                });
                (value, o.opt_duration(cx, "for"))
            }
            _ => (threshold(cx, field, true), None),
        };
        let (warning, warning_for) = alerting(cx, "warning");
        let (critical, critical_for) = alerting(cx, "critical");
        let (warning, critical) = (in_unit(warning), in_unit(critical));
        let waits = ThresholdWaits {
            warning: warning_for,
            critical: critical_for,
        };
        let for_ = obj.opt_duration(cx, "for");
        let over = obj.get("over").and_then(|o| {
            over(
                cx,
                o,
                obj.key_span("over").unwrap_or(key),
                &obj.path("over"),
            )
        });
        let runbook = obj.opt_ref(cx, "runbook");
        let mut levels = AlertLevels::default();
        if let Some(l) = obj.get("levels") {
            if let Some(lo) = cx.object(
                l,
                obj.key_span("levels").unwrap_or(key),
                &obj.path("levels"),
                KPI_LEVELS,
            ) {
                levels.warning = lo.opt_ref(cx, "warning");
                levels.critical = lo.opt_ref(cx, "critical");
            }
        }
        let (Some(service), Some(indicator), Some(unit)) = (service, indicator, unit) else {
            continue;
        };
        out.push(
            name,
            Kpi {
                service,
                description: obj.opt_string(cx, "description"),
                indicator,
                unit,
                objective,
                warning,
                critical,
                for_,
                waits,
                over,
                runbook,
                levels,
            },
        );
    }
    out
}

/// The longest window `over` aggregates: an average over days is a report, not an alert, and
/// every evaluation reads the whole window of the recorded series.
const LONGEST_OVER: Duration = Duration::from_hours(24);

/// `over: {avg: 1h}`: one aggregation and its window, from one minute (the recorded series has
/// a sample per evaluation) to a day.
fn over(cx: &mut Cx<'_>, n: &Node, key: Span, path: &str) -> Option<Sp<Over>> {
    let obj = cx.object(n, key, path, KPI_OVER)?;
    let (aggregation, node, name) = obj.one_of(
        cx,
        Aggregation::KEYS,
        "an aggregation (`avg`, `max` or `min`) and its window",
    )?;
    let window = cx.duration(node, &obj.path(name))?;
    if window.value < Duration::from_mins(1) || window.value > LONGEST_OVER {
        cx.report(
            Diagnostic::new(
                Code::Range,
                format!(
                    "`{}` is `{}`, outside 1m to {LONGEST_OVER}",
                    obj.path(name),
                    window.value
                ),
            )
            .at(window.span)
            .label("window of the aggregation")
            .help(
                "write `1h` (a window from one minute, the value being recorded once per evaluation, to a day)",
            ),
        );
        return None;
    }
    Some(Sp::new(
        Over {
            aggregation,
            window: window.value,
        },
        cx.span(n),
    ))
}

/// The indicator's unit: the kind's own, or the one written (which must be of the same family
/// for built-in kinds, and is required for `expr`).
fn resolve_unit(
    cx: &mut Cx<'_>,
    ind: &Sp<Indicator>,
    written: Option<Sp<Unit>>,
    key: Span,
    path: &str,
) -> Option<Sp<Unit>> {
    let native = ind.value.native_unit();
    match (native, written) {
        (None, Some(w)) => Some(w),
        (None, None) => {
            cx.report(
                Diagnostic::new(Code::Missing, format!("missing field `unit` in `{path}`"))
                    .at(key)
                    .label("an `expr` indicator needs a unit")
                    .help("say what the expression measures, e.g. `unit: s`, `unit: %` or `unit: req/min`; thresholds are converted to it"),
            );
            None
        }
        (Some(n), None) => Some(Sp::new(n, ind.span)),
        (Some(n), Some(w)) => {
            let latency = matches!(ind.value, Indicator::Latency { .. });
            if latency && w.value.family == Family::Time || w.value == n {
                Some(w)
            } else {
                cx.report(
                    Diagnostic::new(
                        Code::Type,
                        format!(
                            "a `{}` indicator measures `{}`, not `{}`",
                            ind.value.kind_name(),
                            n.symbol,
                            w.value.symbol
                        ),
                    )
                    .at(w.span)
                    .label("does not match the indicator")
                    .with_label(ind.span, "indicator defined here")
                    .help(format!(
                        "remove `unit` (it is `{}`) or use an `expr` indicator",
                        n.symbol
                    )),
                );
                None
            }
        }
    }
}

fn indicator(cx: &mut Cx<'_>, n: &Node, key: Span, path: &str) -> Option<Sp<Indicator>> {
    let obj = cx.object(n, key, path, INDICATOR)?;
    let (kind, node, key_name) = obj.one_of(cx, IndicatorKind::KEYS, "an indicator kind")?;
    let sub_key = obj.key_span(key_name).unwrap_or(key);
    let sub_path = obj.path(key_name);
    let window = |cx: &mut Cx<'_>, o: &super::Obj<'_>| {
        o.opt_positive_duration(
            cx,
            "window",
            "rates are taken over a few scrapes, e.g. `window: 5m`",
        )
        .unwrap_or(Sp::new(FIVE_MINUTES, sub_key))
    };
    let ind = match kind {
        IndicatorKind::Expr => Indicator::Expr(cx.string(node, &sub_path)?),
        IndicatorKind::Latency => {
            let o = cx.object(node, sub_key, &sub_path, LATENCY)?;
            let histogram = o
                .req_string(cx, "histogram")
                .and_then(|h| metric_name(cx, h, &o.path("histogram")));
            let quantile = o
                .req(cx, "quantile")
                .and_then(|q| cx.number(q, &o.path("quantile")));
            if let Some(q) = &quantile {
                if q.value <= Number::ZERO || q.value >= Number::ONE {
                    cx.report(
                        Diagnostic::new(Code::Range, format!("quantile {} is outside (0, 1)", q.value))
                            .at(q.span)
                            .label("not a quantile")
                            .help("a quantile is between 0 and 1 exclusive: `0.95` for p95, `0.99` for p99"),
                    );
                }
            }
            let window = window(cx, &o);
            let selector = o.opt_string(cx, "selector");
            Indicator::Latency {
                histogram: histogram?,
                quantile: quantile?,
                window,
                selector,
            }
        }
        IndicatorKind::ErrorRatio => {
            let o = cx.object(node, sub_key, &sub_path, ERROR_RATIO)?;
            let errors = o.req_string(cx, "errors");
            let total = o.req_string(cx, "total");
            let window = window(cx, &o);
            Indicator::ErrorRatio {
                errors: errors?,
                total: total?,
                window,
            }
        }
        IndicatorKind::Throughput => {
            let o = cx.object(node, sub_key, &sub_path, THROUGHPUT)?;
            let counter = o
                .req_string(cx, "counter")
                .and_then(|c| metric_name(cx, c, &o.path("counter")));
            let per = o
                .get("per")
                .and_then(|p| cx.choice(p, &o.path("per"), RatePer::KEYS))
                .map_or(RatePer::Second, |p| p.value);
            let window = o
                .opt_positive_duration(
                    cx,
                    "window",
                    "rates are taken over a few scrapes, e.g. `window: 5m`",
                )
                .unwrap_or(Sp::new(per.default_window(), sub_key));
            let selector = o.opt_string(cx, "selector");
            Indicator::Throughput {
                counter: counter?,
                window,
                per,
                selector,
            }
        }
        IndicatorKind::Resource => {
            Indicator::Resource(cx.choice(node, &sub_path, Resource::KEYS)?.value)
        }
        IndicatorKind::Up => {
            let job = if matches!(node.value, Value::Null) {
                None
            } else {
                let o = cx.object(node, sub_key, &sub_path, UP)?;
                o.opt_string(cx, "job")
            };
            Indicator::Up { job }
        }
    };
    Some(Sp::new(ind, sub_key))
}

/// A Prometheus metric name; a histogram named with its `_bucket` suffix gets a precise hint.
fn metric_name(cx: &mut Cx<'_>, s: Sp<String>, path: &str) -> Option<Sp<String>> {
    let valid = s
        .value
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b':')
        && s.value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':');
    if !valid {
        cx.report(
            Diagnostic::new(Code::Type, format!("`{}` is not a Prometheus metric name in `{path}`", s.value))
                .at(s.span)
                .label("not a metric name")
                .help("write the metric name alone (`http_request_duration_seconds`); label matchers go in `selector`"),
        );
        return None;
    }
    if path.ends_with("histogram") && s.value.ends_with("_bucket") {
        cx.report(
            Diagnostic::new(
                Code::Type,
                format!("write the histogram `{}` without `_bucket`", s.value),
            )
            .at(s.span)
            .label("includes the series suffix")
            .help(format!(
                "use `{}`; upkeep adds `_bucket`, `_sum` and `_count` where needed",
                s.value.trim_end_matches("_bucket")
            )),
        );
        return None;
    }
    Some(s)
}

pub(super) fn slos(cx: &mut Cx<'_>, n: &Node) -> Entries<Slo> {
    let mut out = Entries::default();
    for (name, node, key) in cx.named(n, "slos", false) {
        let path = format!("slos.{}", name.value);
        let Some(obj) = cx.object(node, key, &path, SLO) else {
            continue;
        };
        let service = obj
            .req(cx, "service")
            .and_then(|s| cx.reference(s, &obj.path("service")));
        let objective = obj
            .req(cx, "objective")
            .and_then(|o| cx.percent(o, &obj.path("objective")));
        let window = obj
            .opt_positive_duration(
                cx,
                "window",
                "an objective holds over days, e.g. `window: 30d`",
            )
            .unwrap_or(Sp::new(Duration::from_days(30), key));
        let ind_key = obj.key_span("indicator").unwrap_or(key);
        let indicator = obj
            .req(cx, "indicator")
            .and_then(|i| slo_indicator(cx, i, ind_key, &obj.path("indicator")));
        let (mut page, mut ticket) = (None, None);
        if let Some(a) = obj.get("alerting") {
            if let Some(ao) = cx.object(
                a,
                obj.key_span("alerting").unwrap_or(key),
                &obj.path("alerting"),
                SLO_ALERTING,
            ) {
                page = ao.opt_ref(cx, "page");
                ticket = ao.opt_ref(cx, "ticket");
            }
        }
        let (Some(service), Some(objective), Some(indicator)) = (service, objective, indicator)
        else {
            continue;
        };
        out.push(
            name,
            Slo {
                service,
                description: obj.opt_string(cx, "description"),
                objective,
                window,
                indicator,
                page,
                ticket,
                runbook: obj.opt_ref(cx, "runbook"),
            },
        );
    }
    out
}

fn slo_indicator(cx: &mut Cx<'_>, n: &Node, key: Span, path: &str) -> Option<Sp<SloIndicator>> {
    let obj = cx.object(n, key, path, SLO_INDICATOR)?;
    let (kind, node, key_name) = obj.one_of(cx, SloIndicatorKind::KEYS, "an SLI kind")?;
    let sub_key = obj.key_span(key_name).unwrap_or(key);
    let sub_path = obj.path(key_name);
    let ind = match kind {
        SloIndicatorKind::ErrorRatio => {
            let o = cx.object(node, sub_key, &sub_path, SLO_ERROR_RATIO)?;
            let errors = o.req_string(cx, "errors");
            let total = o.req_string(cx, "total");
            SloIndicator::ErrorRatio {
                errors: errors?,
                total: total?,
            }
        }
        SloIndicatorKind::Latency => {
            let o = cx.object(node, sub_key, &sub_path, SLO_LATENCY)?;
            let histogram = o
                .req_string(cx, "histogram")
                .and_then(|h| metric_name(cx, h, &o.path("histogram")));
            let threshold = o.req(cx, "threshold").and_then(|t| {
                let q = cx.parse(t, &o.path("threshold"), "a latency such as `300ms`", Quantity::parse)?;
                let secs = Unit::parse("s")?;
                match (&q.value.unit, q.value.convert_to(&secs)) {
                    (Some(u), Some(v)) if u.family == Family::Time => Some(Sp::new(v, q.span)),
                    _ => {
                        cx.report(
                            Diagnostic::new(Code::Type, format!("`{}` is not a latency", q.value))
                                .at(q.span)
                                .label("expected a time such as `300ms`")
                                .help("the latency SLI counts requests slower than this; write it with a unit, e.g. `300ms` or `1.5s`"),
                        );
                        None
                    }
                }
            });
            let selector = o.opt_string(cx, "selector");
            SloIndicator::Latency {
                histogram: histogram?,
                threshold: threshold?,
                selector,
            }
        }
        SloIndicatorKind::Up => {
            let job = if matches!(node.value, Value::Null) {
                None
            } else {
                cx.object(node, sub_key, &sub_path, UP)?
                    .opt_string(cx, "job")
            };
            SloIndicator::Up { job }
        }
    };
    Some(Sp::new(ind, sub_key))
}

pub(super) fn severity(cx: &mut Cx<'_>, n: &Node, key: Span) -> Option<Severity> {
    let obj = cx.object(n, key, "severity", SEVERITY)?;
    let mut levels = Vec::new();
    if let Some(l) = obj.req(cx, "levels") {
        for (name, node, lkey) in cx.named(l, "severity.levels", true) {
            let path = format!("severity.levels.{}", name.value);
            let Some(lo) = cx.object(node, lkey, &path, LEVEL) else {
                continue;
            };
            let response = lo.req_duration(cx, "response");
            let notify = lo.opt_refs(cx, "notify");
            let (Some(response),) = (response,) else {
                continue;
            };
            levels.push(Level {
                name,
                response,
                resolve: lo.opt_duration(cx, "resolve"),
                notify,
                repeat: lo.opt_duration(cx, "repeat").filter(|r| {
                    if r.value.is_zero() {
                        cx.report(
                            Diagnostic::new(Code::Range, "`repeat` must be longer than zero")
                                .at(r.span)
                                .label("Alertmanager refuses a zero repeat interval")
                                .help("write how often to re-send a firing alert, e.g. `4h`"),
                        );
                    }
                    !r.value.is_zero()
                }),
                description: lo.opt_string(cx, "description"),
                severity: lo
                    .get("severity")
                    .and_then(|n| cx.choice(n, &lo.path("severity"), SeverityLabel::KEYS)),
                pages: lo.opt_bool(cx, "pages"),
            });
        }
    }
    let matrix = obj.get("matrix").and_then(|m| {
        let mo = cx.object(
            m,
            obj.key_span("matrix").unwrap_or(key),
            "severity.matrix",
            MATRIX,
        )?;
        let likelihood = mo
            .req(cx, "likelihood")
            .map(|l| cx.strings(l, "severity.matrix.likelihood"));
        let mut impact = Vec::new();
        if let Some(rows) = mo.req(cx, "impact") {
            for (row, node, _) in cx.named(rows, "severity.matrix.impact", false) {
                let cells = cx.references(node, &format!("severity.matrix.impact.{}", row.value));
                impact.push((row, Sp::new(cells, cx.span(node))));
            }
        }
        Some(Matrix {
            likelihood: likelihood?,
            impact,
        })
    });
    let mut likelihood_of = LikelihoodOf::default();
    if let Some(l) = obj.get("likelihood_of") {
        if let Some(lo) = cx.object(
            l,
            obj.key_span("likelihood_of").unwrap_or(key),
            "severity.likelihood_of",
            LIKELIHOOD_OF,
        ) {
            likelihood_of.warning = lo.opt_ref(cx, "warning");
            likelihood_of.critical = lo.opt_ref(cx, "critical");
        }
    }
    let require_runbook = obj
        .get("require_runbook")
        .map(|r| cx.references(r, "severity.require_runbook"));
    Some(Severity {
        levels,
        matrix,
        likelihood_of,
        default_impact: obj.opt_ref(cx, "default_impact"),
        require_runbook,
    })
}

pub(super) fn receivers(cx: &mut Cx<'_>, n: &Node) -> Entries<Receiver> {
    let mut out = Entries::default();
    for (name, node, key) in cx.named(n, "receivers", false) {
        let path = format!("receivers.{}", name.value);
        let Some(obj) = cx.object(node, key, &path, RECEIVER) else {
            continue;
        };
        let Some((channel, body, key_name)) = obj.one_of(
            cx,
            Channel::KEYS,
            "a channel (`slack`, `email`, `pagerduty`, `opsgenie` or `webhook`)",
        ) else {
            continue;
        };
        let sub_key = obj.key_span(key_name).unwrap_or(key);
        let sub_path = obj.path(key_name);
        let fields = match channel {
            Channel::Slack => SLACK,
            Channel::Email => EMAIL,
            Channel::PagerDuty => PAGERDUTY,
            Channel::Opsgenie => OPSGENIE,
            Channel::Webhook => WEBHOOK,
        };
        let Some(o) = cx.object(body, sub_key, &sub_path, fields) else {
            continue;
        };
        // A webhook `url` that carries a credential is found with every other string of the
        // file (`check::secrets::scan`).
        let inline_secrets: Vec<Sp<String>> = INLINE_SECRETS
            .iter()
            .filter(|f| fields.contains(f))
            .filter_map(|f| o.key_span(f).map(|s| Sp::new((*f).to_owned(), s)))
            .collect();
        let kind = match channel {
            Channel::Slack => {
                let Some(channel) = o.req_string(cx, "channel") else {
                    continue;
                };
                ReceiverKind::Slack {
                    channel,
                    api_url_file: o.opt_string(cx, "api_url_file"),
                    username: o.opt_string(cx, "username"),
                    send_resolved: o.opt_bool(cx, "send_resolved").unwrap_or(true),
                }
            }
            Channel::Email => {
                let Some(to) = o.req_string(cx, "to") else {
                    continue;
                };
                // Alertmanager needs both, per receiver or globally; the plan states them.
                let (Some(from), Some(smarthost)) =
                    (o.req_string(cx, "from"), o.req_string(cx, "smarthost"))
                else {
                    continue;
                };
                // Alertmanager refuses a smarthost without a port.
                if !is_host_port(&smarthost.value) {
                    cx.report(
                        Diagnostic::new(
                            Code::Type,
                            format!("`{}` is not `host:port`", smarthost.value),
                        )
                        .at(smarthost.span)
                        .label("Alertmanager needs the SMTP port")
                        .help(format!("write `{}:587`", smarthost.value)),
                    );
                }
                ReceiverKind::Email {
                    to,
                    from,
                    smarthost,
                    auth_username: o.opt_string(cx, "auth_username"),
                    auth_password_file: o.opt_string(cx, "auth_password_file"),
                }
            }
            Channel::PagerDuty => ReceiverKind::PagerDuty {
                routing_key_file: o.opt_string(cx, "routing_key_file"),
                severity: o.opt_string(cx, "severity"),
            },
            Channel::Opsgenie => ReceiverKind::Opsgenie {
                api_key_file: o.opt_string(cx, "api_key_file"),
                priority: o.opt_string(cx, "priority"),
                responders: o.opt_strings(cx, "responders"),
            },
            Channel::Webhook => ReceiverKind::Webhook {
                url: {
                    let Some(url) = o.req_string(cx, "url") else {
                        continue;
                    };
                    if !is_http_url(&url.value) {
                        cx.report(
                            Diagnostic::new(
                                Code::Type,
                                format!("`{}` is not an HTTP URL", url.value),
                            )
                            .at(url.span)
                            .label("expected http:// or https:// and a host")
                            .help(format!(
                                "write `https://{}`",
                                url.value.trim_start_matches('/')
                            )),
                        );
                    }
                    url
                },
                credentials_file: o.opt_string(cx, "credentials_file"),
                max_alerts: o
                    .get("max_alerts")
                    .and_then(|m| cx.integer(m, &o.path("max_alerts"), 0, 10_000))
                    .map(|m| m.map(|v| v as u32)),
            },
        };
        // A receiver needs its secret from a file unless it is e-mail.
        let needs = match channel {
            Channel::Slack => Some("api_url_file"),
            Channel::PagerDuty => Some("routing_key_file"),
            Channel::Opsgenie => Some("api_key_file"),
            Channel::Email | Channel::Webhook => None,
        };
        if let Some(field) = needs {
            if o.get(field).is_none() && inline_secrets.is_empty() {
                o.req(cx, field);
            }
        }
        out.push(
            name,
            Receiver {
                kind,
                inline_secrets,
            },
        );
    }
    out
}

pub(super) fn oncall(cx: &mut Cx<'_>, n: &Node, key: Span) -> Option<Oncall> {
    let obj = cx.object(n, key, "oncall", ONCALL)?;
    let rotation = obj
        .get("rotation")
        .and_then(|r| cx.choice(r, "oncall.rotation", Rotation::KEYS));
    let handoff = obj.get("handoff").and_then(|h| {
        cx.parse(
            h,
            "oncall.handoff",
            "a handoff such as `monday 09:00`",
            parse_handoff,
        )
    });
    let mut escalation = Vec::new();
    if let Some(e) = obj.get("escalation") {
        for (i, item) in cx.list(e, "oncall.escalation").iter().enumerate() {
            if let Some(step) =
                escalation_step(cx, item, cx.span(item), &format!("oncall.escalation[{i}]"))
            {
                escalation.push(step);
            }
        }
    }
    Some(Oncall {
        rotation,
        handoff,
        primary: obj.opt_ref(cx, "primary"),
        secondary: obj.opt_ref(cx, "secondary"),
        response: obj.opt_duration(cx, "response"),
        escalation,
        tools: obj.opt_strings(cx, "tools"),
    })
}

pub(super) fn escalation_step(
    cx: &mut Cx<'_>,
    n: &Node,
    key: Span,
    path: &str,
) -> Option<Escalation> {
    let o = cx.object(n, key, path, ESCALATION)?;
    let after = o.opt_duration(cx, "after");
    let to = o.req_ref(cx, "to");
    Some(Escalation { after, to: to? })
}

fn parse_handoff(s: &str) -> crate::value::Result<Handoff> {
    let (day, time) = match s.split_once(' ') {
        Some((d, t)) => (Some(d), t.trim_start()),
        None => (None, s),
    };
    let weekday = match day {
        Some(d) => Some(d.parse::<chrono::Weekday>().map_err(|_| {
            crate::value::ValueError::new(
                0,
                d.len(),
                format!("`{d}` is not a weekday"),
                "write e.g. `monday 09:00`",
            )
        })?),
        None => None,
    };
    let off = s.len() - time.len();
    let at = TimeOfDay::parse(time).map_err(|e| e.shift(off))?;
    Ok(Handoff { weekday, at })
}
