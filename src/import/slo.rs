//! SLO specs: sloth (`prometheus/v1`, the `PrometheusServiceLevel` CRD, `OpenSLO` `v1alpha`),
//! pyrra `ServiceLevelObjective`s and `OpenSLO` `v1` `SLO`/`SLI` documents, read from the `Node`
//! tree into [`SourceSlo`]s. The format is told by the document (`version`, `apiVersion`,
//! `kind`).
//!
//! **Invariant:** as for rule files, every field is read or reported: one this reader does not
//! know is a `schema/unknown-field` warning at its key; an SLI it cannot express is an
//! [`Sli::Unsupported`] with the reason, which the report shows.

use crate::diag::{Code, Diagnostic, Diagnostics, Severity};
use crate::parse::{Node, Value};
use crate::span::{FileId, Span};

use crate::value::Number;

use super::rules::{known, missing, not_kept, promql, scalar, seq, string_map, type_error};

/// The formats of SLO specs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// sloth `version: prometheus/v1`.
    Sloth,
    /// sloth `kind: PrometheusServiceLevel`.
    SlothCrd,
    /// `OpenSLO` `v1alpha`, as sloth reads it.
    OpenSloAlpha,
    /// pyrra `kind: ServiceLevelObjective`.
    Pyrra,
    /// `OpenSLO` `v1` (`SLO`, `SLI`, and the kinds a plan has no place for).
    OpenSlo,
    /// sloth `kind: AlertWindows`: the burn-rate windows of a period, not an SLO.
    SlothWindows,
}

impl Format {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Sloth => "sloth prometheus/v1",
            Format::SlothCrd => "sloth PrometheusServiceLevel",
            Format::OpenSloAlpha => "OpenSLO v1alpha",
            Format::Pyrra => "pyrra ServiceLevelObjective",
            Format::OpenSlo => "OpenSLO v1",
            Format::SlothWindows => "sloth AlertWindows",
        }
    }
}

/// The format of a document, if it is an SLO spec.
pub(crate) fn format(doc: &Node) -> Option<Format> {
    let s = |k: &str| doc.get(k).and_then(Node::as_str);
    let api = s("apiVersion").unwrap_or_default();
    let kind = s("kind").unwrap_or_default();
    Some(match (s("version"), api, kind) {
        (Some("prometheus/v1"), _, _) => Format::Sloth,
        (_, a, "PrometheusServiceLevel") if a.starts_with("sloth.slok.dev/") => Format::SlothCrd,
        (_, a, "AlertWindows") if a.starts_with("sloth.slok.dev/") => Format::SlothWindows,
        (_, "openslo/v1alpha", _) => Format::OpenSloAlpha,
        (_, a, "ServiceLevelObjective") if a.starts_with("pyrra.dev/") => Format::Pyrra,
        (_, "openslo/v1", _) => Format::OpenSlo,
        _ => return None,
    })
}

/// One SLO of a spec, as written.
#[derive(Clone, Debug)]
pub(crate) struct SourceSlo {
    /// The SLO's mapping (its line is the entry's origin).
    pub span: Span,
    pub format: Format,
    pub service: String,
    pub name: String,
    /// Percent (`99.9`), exactly as written; `None` when the spec gives none.
    pub objective: Option<Number>,
    /// The SLO period as plan text (`30d`).
    pub window: String,
    pub description: Option<String>,
    pub sli: Sli,
    pub alerting: Option<Alerting>,
    /// The labels and annotations a sloth SLO gives its series: kept as comments.
    pub notes: Vec<String>,
    /// What the original does that the imported SLO does not (an alert it is not imported
    /// with): a comment, and a part of its line in the report.
    pub remarks: Vec<String>,
    /// Why the imported SLO may not alert exactly as the original (a plugin that changes the
    /// rules): the equivalence test leaves it untested with this reason.
    pub caveat: Option<String>,
}

/// The SLI of an SLO.
#[derive(Clone, Debug)]
pub(crate) enum Sli {
    /// `PromQL` of the errors and of all events, with sloth's `{{.window}}` where the window goes.
    Events { errors: String, total: String },
    /// `PromQL` of the good events and of all events, as `Events`.
    Good { good: String, total: String },
    /// `PromQL` of the error ratio itself (sloth `raw`), with `{{.window}}`.
    Raw(String),
    /// pyrra: selectors of counters of errors and of all requests.
    Counters { errors: String, total: String },
    /// pyrra latency: the bucket selector of the fast requests and the count of all of them.
    Histogram { success: String, total: String },
    /// Cannot be imported, and why.
    Unsupported(String),
}

/// The labels and annotations of one alert.
pub(crate) type Side = (Vec<(String, String)>, Vec<(String, String)>);

/// The burn-rate alerts of an SLO.
#[derive(Clone, Debug, Default)]
pub(crate) struct Alerting {
    pub name: Option<String>,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    /// The page alert's labels and annotations; `None` when disabled.
    pub page: Option<Side>,
    pub ticket: Option<Side>,
}

/// sloth plugins whose effect on the generated alerts is none: the debug plugin, the info
/// labels, the `VictoriaMetrics` validation, and the core plugins that write the rules of
/// every spec.
const HARMLESS_PLUGINS: &[&str] = &[
    "sloth.dev/core/debug/v1",
    "sloth.dev/contrib/info_labels/v1",
    "sloth.dev/contrib/validate_victoria_metrics/v1",
    "sloth.dev/core/sli_rules/v1",
    "sloth.dev/core/metadata_rules/v1",
    "sloth.dev/core/alert_rules/v1",
];

/// The SLOs of one document.
pub(crate) fn read(
    file: FileId,
    src: &str,
    doc: &Node,
    fmt: Format,
    diags: &mut Diagnostics,
) -> Vec<SourceSlo> {
    match fmt {
        Format::Sloth => {
            known(
                file,
                doc,
                &["version", "service", "labels", "slos", "slo_plugins"],
                diags,
            );
            sloth(file, src, doc, false, diags)
        }
        Format::SlothCrd => {
            known(
                file,
                doc,
                &["apiVersion", "kind", "metadata", "spec"],
                diags,
            );
            let Some(spec) = doc.get("spec") else {
                diags.push(missing(
                    file,
                    doc,
                    "spec",
                    "a `PrometheusServiceLevel` has its SLOs under `spec.slos`",
                ));
                return Vec::new();
            };
            known(
                file,
                spec,
                &["service", "labels", "slos", "sloPlugins"],
                diags,
            );
            sloth(file, src, spec, true, diags)
        }
        Format::OpenSloAlpha => openslo_alpha(file, src, doc, diags),
        Format::Pyrra => pyrra(file, src, doc, diags).into_iter().collect(),
        Format::OpenSlo => openslo(file, src, doc, diags),
        Format::SlothWindows => {
            known(
                file,
                doc,
                &["apiVersion", "kind", "metadata", "spec"],
                diags,
            );
            // Custom burn-rate windows: the plan's are the SRE workbook's, so say it is not kept.
            if let Some(k) = doc.key("kind") {
                diags.push(
                    Diagnostic::new(
                        Code::UnknownField,
                        "sloth's alert windows (`AlertWindows`) have no place in a plan and are not imported",
                    )
                    .severity(Severity::Warning)
                    .at(k.span(file))
                    .help("keep this file for sloth: upkeep's burn-rate windows and factors are the SRE workbook's, whatever the SLO's window"),
                );
            }
            Vec::new()
        }
    }
}

fn text(file: FileId, n: Option<&Node>, what: &str, diags: &mut Diagnostics) -> Option<String> {
    scalar(file, n?, what, diags)
}

/// A number field, exactly as written in `src` (`0.999` is 999/1000, not the nearest `f64`);
/// a type error when it is not one.
fn number(
    file: FileId,
    src: &str,
    n: &Node,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<Number> {
    let v = match &n.value {
        Value::Int(i) => Some(Number::int(*i)),
        Value::Float(f) => src
            .get(n.start as usize..n.end as usize)
            .and_then(|t| Number::parse(t.trim()))
            .filter(|v| v.to_f64().to_bits() == f.to_bits())
            .or_else(|| Number::from_f64(*f)),
        Value::Str(s) => Number::parse(s.trim()),
        _ => None,
    };
    if v.is_none() {
        diags.push(type_error(file, n, what, "a number"));
    }
    v
}

/// An `OpenSLO` ratio target (`0.999`) as a percentage (`99.9`), exactly.
fn percent(target: Number) -> Option<Number> {
    target.checked_mul(Number::int(100))
}

/// A plugin chain: warnings for plugins that change sloth's rules; the caveat they make.
fn plugins(file: FileId, n: Option<&Node>, diags: &mut Diagnostics) -> Option<String> {
    let n = n?;
    known(file, n, &["chain", "overridePrevious"], diags);
    let chain = seq(file, n.get("chain")?, "`chain`", diags)?;
    let mut changed = Vec::new();
    for p in chain {
        known(file, p, &["id", "priority", "config"], diags);
        let Some(idn) = p.get("id") else {
            diags.push(missing(file, p, "id", "a plugin is named by its `id`"));
            continue;
        };
        let Some(id) = scalar(file, idn, "`id`", diags) else {
            continue;
        };
        if !HARMLESS_PLUGINS.contains(&id.as_str()) {
            diags.push(
                Diagnostic::new(
                    Code::UnknownField,
                    format!("the sloth plugin `{id}` changes the rules sloth generates; the imported SLO is the spec's SLI without it"),
                )
                .severity(Severity::Warning)
                .at(idn.span(file))
                .help("check the imported SLO against the rules sloth generates, or remove the plugin if the plain SLI will do"),
            );
            changed.push(format!("`{id}`"));
        }
    }
    (!changed.is_empty()).then(|| {
        format!(
            "the sloth plugin {} changes the rules sloth generates",
            changed.join(", ")
        )
    })
}

fn sloth(
    file: FileId,
    src: &str,
    spec: &Node,
    crd: bool,
    diags: &mut Diagnostics,
) -> Vec<SourceSlo> {
    let (fmt, errors_key, total_key, ratio_key, page_key, ticket_key, plugins_key) = if crd {
        (
            Format::SlothCrd,
            "errorQuery",
            "totalQuery",
            "errorRatioQuery",
            "pageAlert",
            "ticketAlert",
            "sloPlugins",
        )
    } else {
        (
            Format::Sloth,
            "error_query",
            "total_query",
            "error_ratio_query",
            "page_alert",
            "ticket_alert",
            "slo_plugins",
        )
    };
    let Some(service) = spec.get("service") else {
        diags.push(missing(
            file,
            spec,
            "service",
            "a sloth spec names its `service`",
        ));
        return Vec::new();
    };
    let Some(service) = scalar(file, service, "`service`", diags) else {
        return Vec::new();
    };
    let labels = string_map(file, spec.get("labels"), "`labels`", diags);
    let global_caveat = plugins(file, spec.get(plugins_key), diags);
    let Some(slos) = spec.get("slos") else {
        diags.push(missing(
            file,
            spec,
            "slos",
            "a sloth spec lists its SLOs under `slos:`",
        ));
        return Vec::new();
    };
    let Some(slos) = seq(file, slos, "`slos`", diags) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in slos {
        if s.as_map().is_none() {
            diags.push(type_error(
                file,
                s,
                "an SLO",
                "a mapping with `name`, `objective` and `sli`",
            ));
            continue;
        }
        known(
            file,
            s,
            &[
                "name",
                "objective",
                "description",
                "labels",
                "sli",
                "alerting",
                "plugins",
            ],
            diags,
        );
        let Some(name) = s.get("name").and_then(|n| scalar(file, n, "`name`", diags)) else {
            if s.get("name").is_none() {
                diags.push(missing(file, s, "name", "each sloth SLO has a `name`"));
            }
            continue;
        };
        let Some(objective) = s
            .get("objective")
            .map(|n| number(file, src, n, "`objective`", diags))
        else {
            diags.push(missing(
                file,
                s,
                "objective",
                "each sloth SLO has an `objective` in percent, such as `99.9`",
            ));
            continue;
        };
        let Some(objective) = objective else { continue };
        let description = text(file, s.get("description"), "`description`", diags);
        let mut notes: Vec<String> = labels
            .iter()
            .chain(&string_map(file, s.get("labels"), "`labels`", diags))
            .map(|(k, v)| format!("label {k}: {v} (not kept: an SLO has no labels of its own)"))
            .collect();
        let caveat = match (plugins(file, s.get("plugins"), diags), &global_caveat) {
            (Some(c), _) => Some(c),
            (None, g) => g.clone(),
        };
        let sli = match s.get("sli") {
            None => {
                diags.push(missing(
                    file,
                    s,
                    "sli",
                    "each sloth SLO has an `sli` (`events`, `raw` or `plugin`)",
                ));
                continue;
            }
            Some(sli) => {
                known(file, sli, &["events", "raw", "plugin"], diags);
                if let Some(ev) = sli.get("events") {
                    known(file, ev, &[errors_key, total_key], diags);
                    match (ev.get(errors_key), ev.get(total_key)) {
                        (Some(e), Some(t)) => match (
                            promql(file, src, e, errors_key, diags),
                            promql(file, src, t, total_key, diags),
                        ) {
                            (Some(errors), Some(total)) => Sli::Events { errors, total },
                            _ => continue,
                        },
                        (None, _) => {
                            diags.push(missing(
                                file,
                                ev,
                                errors_key,
                                "an `events` SLI has a query of the errors and one of all events",
                            ));
                            continue;
                        }
                        (_, None) => {
                            diags.push(missing(
                                file,
                                ev,
                                total_key,
                                "an `events` SLI has a query of the errors and one of all events",
                            ));
                            continue;
                        }
                    }
                } else if let Some(raw) = sli.get("raw") {
                    known(file, raw, &[ratio_key], diags);
                    let Some(q) = raw.get(ratio_key) else {
                        diags.push(missing(
                            file,
                            raw,
                            ratio_key,
                            "a `raw` SLI has the query of its error ratio",
                        ));
                        continue;
                    };
                    let Some(q) = promql(file, src, q, ratio_key, diags) else {
                        continue;
                    };
                    Sli::Raw(q)
                } else if let Some(p) = sli.get("plugin") {
                    known(file, p, &["id", "options"], diags);
                    let id = text(file, p.get("id"), "`id`", diags).unwrap_or_default();
                    Sli::Unsupported(format!(
                        "the SLI is computed by the sloth plugin `{id}`; import the rules `sloth generate` writes for it instead"
                    ))
                } else {
                    diags.push(missing(
                        file,
                        sli,
                        "events",
                        "a sloth SLI is one of `events`, `raw` or `plugin`",
                    ));
                    continue;
                }
            }
        };
        let alerting = s.get("alerting").map(|a| {
            known(
                file,
                a,
                &["name", "labels", "annotations", page_key, ticket_key],
                diags,
            );
            let side = |key: &str, diags: &mut Diagnostics| match a.get(key) {
                None => Some((Vec::new(), Vec::new())),
                Some(n) => {
                    known(file, n, &["disable", "labels", "annotations"], diags);
                    if n.get("disable")
                        .is_some_and(|d| d.value == Value::Bool(true))
                    {
                        return None;
                    }
                    Some((
                        string_map(file, n.get("labels"), "`labels`", diags),
                        string_map(file, n.get("annotations"), "`annotations`", diags),
                    ))
                }
            };
            Alerting {
                name: text(file, a.get("name"), "`name`", diags),
                labels: string_map(file, a.get("labels"), "`labels`", diags),
                annotations: string_map(file, a.get("annotations"), "`annotations`", diags),
                page: side(page_key, diags),
                ticket: side(ticket_key, diags),
            }
        });
        let alerting = alerting.or_else(|| {
            Some(Alerting {
                page: Some(Default::default()),
                ticket: Some(Default::default()),
                ..Alerting::default()
            })
        });
        notes.sort();
        notes.dedup();
        out.push(SourceSlo {
            span: s.span(file),
            format: fmt,
            service: service.clone(),
            name,
            objective: Some(objective),
            window: "30d".to_owned(),
            description,
            sli,
            alerting,
            notes,
            remarks: Vec::new(),
            caveat,
        });
    }
    out
}

/// `OpenSLO` `timeWindows`/`timeWindow` as a plan duration: `count` and `unit` (v1alpha) or
/// `duration` (v1); rolling only.
fn time_window(file: FileId, n: Option<&Node>, diags: &mut Diagnostics) -> Result<String, String> {
    let Some(n) = n else {
        return Ok("30d".to_owned());
    };
    let Some(items) = seq(file, n, "the time window", diags) else {
        return Err("its time window is not a list".to_owned());
    };
    let [w] = items else {
        return Err(format!(
            "it has {} time windows; a plan's SLO has one",
            items.len()
        ));
    };
    known(
        file,
        w,
        &["count", "unit", "duration", "isRolling", "calendar"],
        diags,
    );
    if w.get("isRolling")
        .is_some_and(|r| r.value == Value::Bool(false))
        || w.get("calendar").is_some()
    {
        return Err(
            "its time window is a calendar period; a plan's SLO window is rolling".to_owned(),
        );
    }
    let text = if let Some(d) = w.get("duration") {
        scalar(file, d, "`duration`", diags).unwrap_or_default()
    } else {
        let count = w
            .get("count")
            .and_then(Node::scalar_text)
            .unwrap_or_default();
        let unit = match w.get("unit").and_then(Node::as_str).unwrap_or_default() {
            "Second" => "s",
            "Minute" => "m",
            "Hour" => "h",
            "Day" => "d",
            "Week" => "w",
            other => {
                return Err(format!(
                    "its time window unit `{other}` is not a fixed duration"
                ));
            }
        };
        format!("{count}{unit}")
    };
    crate::value::duration::Duration::parse(&text, false)
        .map(|d| d.to_string())
        .map_err(|_| format!("its time window `{text}` is not a duration upkeep reads"))
}

fn openslo_alpha(file: FileId, src: &str, doc: &Node, diags: &mut Diagnostics) -> Vec<SourceSlo> {
    known(
        file,
        doc,
        &["apiVersion", "kind", "metadata", "spec"],
        diags,
    );
    let kind = doc.get("kind").and_then(Node::as_str).unwrap_or_default();
    if kind != "SLO" {
        // sloth reads only the `SLO` documents of OpenSLO v1alpha; the others are said.
        let at = doc.key("kind").unwrap_or(doc);
        diags.push(
            Diagnostic::new(
                Code::UnknownField,
                format!("an OpenSLO v1alpha `{kind}` document has no place in a plan and is not imported"),
            )
            .severity(Severity::Warning)
            .at(at.span(file))
            .help("upkeep imports OpenSLO v1alpha `SLO` documents, as sloth reads them; keep this one for the tools that read it"),
        );
        return Vec::new();
    }
    let metadata = doc.get("metadata");
    if let Some(m) = metadata {
        known(file, m, &["name", "displayName"], diags);
    }
    let name = metadata
        .and_then(|m| m.get("name"))
        .and_then(Node::scalar_text);
    let notes: Vec<String> = metadata
        .and_then(|m| m.get("displayName"))
        .and_then(|d| text(file, Some(d), "`displayName`", diags))
        .map(|d| format!("display name: {d}"))
        .into_iter()
        .collect();
    let Some(spec) = doc.get("spec") else {
        diags.push(missing(
            file,
            doc,
            "spec",
            "an OpenSLO `SLO` has its objectives under `spec`",
        ));
        return Vec::new();
    };
    known(
        file,
        spec,
        &[
            "service",
            "description",
            "budgetingMethod",
            "objectives",
            "timeWindows",
        ],
        diags,
    );
    let service = text(file, spec.get("service"), "`service`", diags)
        .unwrap_or_else(|| "imported".to_owned());
    let description = text(file, spec.get("description"), "`description`", diags);
    let window = time_window(file, spec.get("timeWindows"), diags);
    let method = spec
        .get("budgetingMethod")
        .and_then(Node::as_str)
        .unwrap_or("Occurrences");
    let Some(objectives) = spec.get("objectives") else {
        diags.push(missing(
            file,
            spec,
            "objectives",
            "an OpenSLO `SLO` lists its `objectives`",
        ));
        return Vec::new();
    };
    let Some(objectives) = seq(file, objectives, "`objectives`", diags) else {
        return Vec::new();
    };
    let base = name.unwrap_or_else(|| service.clone());
    let mut out = Vec::new();
    for (i, o) in objectives.iter().enumerate() {
        known(
            file,
            o,
            &["ratioMetrics", "target", "displayName", "value", "op"],
            diags,
        );
        // `value` and `op` compare a threshold metric, which a ratio does not have.
        for field in ["value", "op"] {
            if let Some(k) = o.key(field) {
                diags.push(not_kept(file, k, field, "objective"));
            }
        }
        let mut notes = notes.clone();
        if let Some(d) = text(file, o.get("displayName"), "`displayName`", diags) {
            notes.push(format!("objective display name: {d}"));
        }
        let objective = o
            .get("target")
            .and_then(|t| number(file, src, t, "`target`", diags))
            .and_then(percent);
        let sli = if method != "Occurrences" {
            Sli::Unsupported(format!(
                "its budgeting method is `{method}`; a plan's SLO budgets occurrences"
            ))
        } else if let Some(r) = o.get("ratioMetrics") {
            ratio_metrics(file, src, r, diags)
        } else {
            Sli::Unsupported(
                "it has no `ratioMetrics`; a plan's SLO is a ratio of events".to_owned(),
            )
        };
        let sli = match &window {
            Err(why) => Sli::Unsupported(why.clone()),
            Ok(_) => sli,
        };
        out.push(SourceSlo {
            span: o.span(file),
            format: Format::OpenSloAlpha,
            service: service.clone(),
            name: if objectives.len() > 1 {
                format!("{base}-{}", i + 1)
            } else {
                base.clone()
            },
            objective,
            window: window.clone().unwrap_or_else(|_| "30d".to_owned()),
            description: description.clone(),
            sli,
            alerting: None,
            notes,
            remarks: Vec::new(),
            caveat: None,
        });
    }
    out
}

/// The `ratioMetrics` of an `OpenSLO` `v1alpha` objective: `good` or `bad` over `total`, each
/// a Prometheus query (`source: prometheus`, `queryType: promql`, as sloth requires; sloth's own
/// `source: sloth` too). Another source or query language is not imported, and says which.
fn ratio_metrics(file: FileId, src: &str, r: &Node, diags: &mut Diagnostics) -> Sli {
    known(file, r, &["good", "bad", "total", "incremental"], diags);
    // Whether the values are cumulative: the queries say how they are read (`rate(…)`), and
    // sloth, whose rules are the reference, reads the queries alone.
    if let Some(inc) = r.get("incremental")
        && !matches!(inc.value, Value::Bool(_))
    {
        diags.push(type_error(file, inc, "`incremental`", "`true` or `false`"));
    }
    let query = |key: &str, diags: &mut Diagnostics| -> Result<Option<String>, String> {
        let Some(m) = r.get(key) else {
            return Ok(None);
        };
        known(file, m, &["source", "queryType", "query"], diags);
        let field = |k: &str, diags: &mut Diagnostics| {
            text(file, m.get(k), &format!("`{k}`"), diags).unwrap_or_default()
        };
        let source = field("source", diags);
        let query_type = field("queryType", diags);
        if !matches!(source.to_ascii_lowercase().as_str(), "prometheus" | "sloth") {
            return Err(if source.is_empty() {
                format!(
                    "its `{key}` query names no `source`; upkeep imports Prometheus queries (`source: prometheus`)"
                )
            } else {
                format!("its `{key}` query's source is `{source}`, not Prometheus")
            });
        }
        if !query_type.eq_ignore_ascii_case("promql") {
            return Err(if query_type.is_empty() {
                format!(
                    "its `{key}` query names no `queryType`; upkeep imports PromQL (`queryType: promql`)"
                )
            } else {
                format!("its `{key}` query is `queryType: {query_type}`, not PromQL")
            });
        }
        let Some(q) = m.get("query") else {
            diags.push(missing(file, m, "query", "a ratio metric has its `query`"));
            return Err(format!("its `{key}` metric has no `query`"));
        };
        promql(file, src, q, "`query`", diags)
            .map(Some)
            .ok_or_else(|| format!("its `{key}` query cannot be read"))
    };
    let read = query("good", diags)
        .and_then(|good| Ok((good, query("bad", diags)?, query("total", diags)?)));
    match read {
        Err(why) => Sli::Unsupported(why),
        Ok((Some(good), None, Some(total))) => Sli::Good { good, total },
        Ok((None, Some(errors), Some(total))) => Sli::Events { errors, total },
        Ok(_) => {
            Sli::Unsupported("its ratio has no `good` or `bad` query with a `total`".to_owned())
        }
    }
}

fn pyrra(file: FileId, src: &str, doc: &Node, diags: &mut Diagnostics) -> Option<SourceSlo> {
    known(
        file,
        doc,
        &["apiVersion", "kind", "metadata", "spec"],
        diags,
    );
    let meta = doc.get("metadata");
    let name = meta.and_then(|m| m.get("name")).and_then(Node::scalar_text);
    let Some(spec) = doc.get("spec") else {
        diags.push(missing(
            file,
            doc,
            "spec",
            "a `ServiceLevelObjective` has its target and indicator under `spec`",
        ));
        return None;
    };
    known(
        file,
        spec,
        &[
            "description",
            "indicator",
            "target",
            "window",
            "alerting",
            "serviceLevelName",
        ],
        diags,
    );
    let Some(target) = spec.get("target") else {
        diags.push(missing(
            file,
            spec,
            "target",
            "a pyrra SLO has a `target` in percent, such as `\"99.9\"`",
        ));
        return None;
    };
    let objective = number(file, src, target, "`target`", diags);
    // Read on after a bad target or window, so that one run reports every problem.
    let window = match spec.get("window") {
        Some(w) => scalar(file, w, "`window`", diags).and_then(|text| {
            let d = crate::value::duration::Duration::parse(&text, false).ok();
            if d.is_none() {
                diags.push(type_error(file, w, "`window`", "a duration such as `4w`"));
            }
            d.map(|d| d.to_string())
        }),
        None => {
            diags.push(missing(
                file,
                spec,
                "window",
                "a pyrra SLO has a `window`, such as `4w`",
            ));
            None
        }
    };
    let Some(ind) = spec.get("indicator") else {
        diags.push(missing(
            file,
            spec,
            "indicator",
            "a pyrra SLO has an `indicator` (`ratio` or `latency`)",
        ));
        return None;
    };
    known(
        file,
        ind,
        &["ratio", "latency", "latencyNative", "bool_gauge"],
        diags,
    );
    let metric = |parent: &Node, k: &str, diags: &mut Diagnostics| -> Option<String> {
        let m = parent.get(k)?;
        known(file, m, &["metric"], diags);
        promql(file, src, m.get("metric")?, "`metric`", diags)
    };
    let grouping = |parent: &Node, diags: &mut Diagnostics| {
        if let Some(k) = parent.key("grouping") {
            diags.push(not_kept(file, k, "grouping", "indicator"));
        }
    };
    let sli = if let Some(r) = ind.get("ratio") {
        known(file, r, &["errors", "total", "grouping"], diags);
        grouping(r, diags);
        match (metric(r, "errors", diags), metric(r, "total", diags)) {
            (Some(errors), Some(total)) => Sli::Counters { errors, total },
            _ => {
                diags.push(missing(
                    file,
                    r,
                    "errors",
                    "a `ratio` indicator has `errors.metric` and `total.metric`",
                ));
                return None;
            }
        }
    } else if let Some(l) = ind.get("latency") {
        known(file, l, &["success", "total", "grouping"], diags);
        grouping(l, diags);
        match (metric(l, "success", diags), metric(l, "total", diags)) {
            (Some(success), Some(total)) => Sli::Histogram { success, total },
            _ => {
                diags.push(missing(
                    file,
                    l,
                    "success",
                    "a `latency` indicator has `success.metric` and `total.metric`",
                ));
                return None;
            }
        }
    } else {
        Sli::Unsupported("its indicator is not `ratio` or `latency`".to_owned())
    };
    // pyrra writes burn-rate alerts unless `disabled` (deprecated) or `burnrates: false`, and an
    // absent alert on the total metric unless `absent: false`, whatever `disabled` says.
    let alerting = spec.get("alerting");
    if let Some(a) = alerting {
        known(
            file,
            a,
            &["disabled", "name", "burnrates", "absent", "absentName"],
            diags,
        );
    }
    let flag = |key: &str, default: bool, diags: &mut Diagnostics| {
        let Some(n) = alerting.and_then(|a| a.get(key)) else {
            return default;
        };
        match n.value {
            Value::Bool(b) => b,
            _ => {
                diags.push(type_error(
                    file,
                    n,
                    &format!("`{key}`"),
                    "`true` or `false`",
                ));
                default
            }
        }
    };
    let disabled = flag("disabled", false, diags);
    let burnrates = flag("burnrates", true, diags);
    let absent = flag("absent", true, diags);
    let field = |key: &str, default: &str| {
        alerting
            .and_then(|a| a.get(key))
            .and_then(Node::scalar_text)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| default.to_owned())
    };
    let mut remarks = Vec::new();
    if disabled || !burnrates {
        let why = if disabled {
            "`alerting.disabled: true`"
        } else {
            "`alerting.burnrates: false`"
        };
        remarks.push(format!(
            "no burn-rate alerts, as pyrra writes none ({why}): imported without `alerting`"
        ));
    }
    if absent {
        let total = match &sli {
            Sli::Counters { total, .. } | Sli::Histogram { total, .. } => format!(" on `{total}`"),
            _ => String::new(),
        };
        remarks.push(format!(
            "pyrra's absent alert `{}`{total} not imported: an SLO of a plan has no alert for missing series (add a KPI on the metric, or set `alerting.absent: false` in pyrra)",
            field("absentName", "SLOMetricAbsent")
        ));
    }
    let side = |sev: &str| Some((vec![("severity".to_owned(), sev.to_owned())], Vec::new()));
    let alerting = (!disabled && burnrates).then(|| Alerting {
        name: Some(field("name", "ErrorBudgetBurn")),
        page: side("critical"),
        ticket: side("warning"),
        ..Alerting::default()
    });
    let notes = string_map(file, meta.and_then(|m| m.get("labels")), "`labels`", diags)
        .into_iter()
        .map(|(k, v)| format!("label {k}: {v} (not kept: an SLO has no labels of its own)"))
        .collect();
    let name = name.unwrap_or_else(|| "imported".to_owned());
    let (objective, window) = (objective?, window?);
    Some(SourceSlo {
        span: doc.span(file),
        format: Format::Pyrra,
        service: meta
            .and_then(|m| m.get("namespace"))
            .and_then(Node::scalar_text)
            .unwrap_or_else(|| name.clone()),
        name,
        objective: Some(objective),
        window,
        description: text(file, spec.get("description"), "`description`", diags)
            .filter(|d| !d.is_empty()),
        sli,
        alerting,
        notes,
        remarks,
        caveat: None,
    })
}

fn openslo(file: FileId, src: &str, doc: &Node, diags: &mut Diagnostics) -> Vec<SourceSlo> {
    known(
        file,
        doc,
        &["apiVersion", "kind", "metadata", "spec"],
        diags,
    );
    let kind = doc.get("kind").and_then(Node::as_str).unwrap_or_default();
    let name = doc
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Node::scalar_text)
        .unwrap_or_else(|| "imported".to_owned());
    let Some(spec) = doc.get("spec") else {
        diags.push(missing(
            file,
            doc,
            "spec",
            "an OpenSLO document has its content under `spec`",
        ));
        return Vec::new();
    };
    let unsupported =
        |why: String, objective: Option<Number>, service: String, window: String| SourceSlo {
            span: doc.span(file),
            format: Format::OpenSlo,
            service,
            name: name.clone(),
            objective,
            window,
            description: None,
            sli: Sli::Unsupported(why),
            alerting: None,
            notes: Vec::new(),
            remarks: Vec::new(),
            caveat: None,
        };
    match kind {
        "SLO" => {}
        "SLI" => {
            known(
                file,
                spec,
                &["description", "thresholdMetric", "ratioMetric"],
                diags,
            );
            return vec![unsupported(
                "an OpenSLO `SLI` alone has no objective; it becomes part of an SLO that references it".to_owned(),
                None,
                "imported".to_owned(),
                "30d".to_owned(),
            )];
        }
        other => {
            return vec![unsupported(
                format!("an OpenSLO `{other}` has no place in a plan"),
                None,
                "imported".to_owned(),
                "30d".to_owned(),
            )];
        }
    }
    known(
        file,
        spec,
        &[
            "description",
            "service",
            "indicator",
            "indicatorRef",
            "timeWindow",
            "budgetingMethod",
            "objectives",
            "alertPolicies",
        ],
        diags,
    );
    let service = text(file, spec.get("service"), "`service`", diags)
        .unwrap_or_else(|| "imported".to_owned());
    let window = time_window(file, spec.get("timeWindow"), diags);
    let method = spec
        .get("budgetingMethod")
        .and_then(Node::as_str)
        .unwrap_or("Occurrences")
        .to_owned();
    let indicator_why = match spec.get("indicator").and_then(|i| i.get("spec")) {
        None => {
            "its indicator is a reference (`indicatorRef`) or missing; import the `SLI` with it"
                .to_owned()
        }
        Some(s) => {
            let source = s
                .get("ratioMetric")
                .and_then(|r| r.get("total"))
                .or_else(|| s.get("thresholdMetric"))
                .and_then(|m| m.get("metricSource"))
                .and_then(|m| m.get("type"))
                .and_then(Node::scalar_text)
                .unwrap_or_default();
            if s.get("thresholdMetric").is_some() {
                "its indicator is a threshold on one metric (`thresholdMetric`); a plan's SLO is a ratio of events".to_owned()
            } else if !source.eq_ignore_ascii_case("prometheus") {
                format!("its metric source is `{source}`, not Prometheus")
            } else {
                "its Prometheus queries are not read yet".to_owned()
            }
        }
    };
    let objectives = spec
        .get("objectives")
        .and_then(|o| seq(file, o, "`objectives`", diags))
        .unwrap_or_default();
    let mut out = Vec::new();
    for (i, o) in objectives.iter().enumerate() {
        known(
            file,
            o,
            &[
                "displayName",
                "op",
                "value",
                "target",
                "targetPercent",
                "timeSliceTarget",
                "timeSliceWindow",
            ],
            diags,
        );
        let objective = o
            .get("target")
            .and_then(|t| number(file, src, t, "`target`", diags))
            .and_then(percent)
            .or_else(|| {
                o.get("targetPercent")
                    .and_then(|t| number(file, src, t, "`targetPercent`", diags))
            });
        let why = if method != "Occurrences" {
            format!(
                "its budgeting method is `{method}` (time slices); a plan's SLO budgets occurrences"
            )
        } else if let Err(w) = &window {
            w.clone()
        } else {
            indicator_why.clone()
        };
        let mut s = unsupported(
            why,
            objective,
            service.clone(),
            window.clone().unwrap_or_else(|_| "30d".to_owned()),
        );
        s.span = o.span(file);
        if objectives.len() > 1 {
            s.name = format!("{name}-{}", i + 1);
        }
        out.push(s);
    }
    out
}
