//! The probes behind the health-check alerts: `prometheus/NAME.scrape.yaml`, a
//! `scrape_configs` file (Prometheus' `scrape_config_files`, or pasted under `scrape_configs:`)
//! with one blackbox exporter job per HTTP or TCP check, and the modules those jobs name, which
//! every plan of a build shares in `blackbox/blackbox.yaml` (the exporter reads one file).
//!
//! The job's `scrape_interval` is the check's attempt period and its `scrape_timeout` the
//! check's `timeout` (`model::probes`); the module's `timeout` is the same, so the exporter
//! gives up before Prometheus does. The job name is the `job` label the alerts select.

use super::super::yaml::{self, Yaml};
use super::super::{Artifact, Context};
use crate::model::Plan;
use crate::model::probes::{self, Blackbox};

/// `prometheus/NAME.scrape.yaml`, when the plan has an HTTP or TCP check.
pub(crate) fn scrape_file(cx: &Context<'_>) -> Option<Artifact> {
    let checks = probes::blackbox(cx.plan);
    if checks.is_empty() {
        return None;
    }
    let address = probes::blackbox_address(cx.plan);
    let jobs: Vec<Yaml> = checks.iter().map(|b| job(b, address)).collect();
    let mut header = cx.header();
    header.push(format!(
        "The blackbox exporter jobs of the health checks: list this file under `scrape_config_files` (Prometheus 2.43+) or copy its jobs under `scrape_configs`. The exporter at {address} needs blackbox/blackbox.yaml."
    ));
    Some(Artifact {
        path: format!("prometheus/{}.scrape.yaml", cx.name()).into(),
        content: yaml::document(&header, &Yaml::map().with("scrape_configs", jobs)),
    })
}

fn job(b: &Blackbox<'_>, address: &str) -> Yaml {
    Yaml::map()
        .with("job_name", b.job.as_str())
        .with("metrics_path", "/probe")
        .with(
            "params",
            Yaml::map().with("module", vec![Yaml::str(&b.module)]),
        )
        .with("scrape_interval", b.timing.attempt.to_string())
        .with("scrape_timeout", b.health.timeout.value.to_string())
        .with(
            "static_configs",
            vec![Yaml::map().with("targets", vec![Yaml::str(b.target)])],
        )
        .with(
            "relabel_configs",
            vec![
                Yaml::map()
                    .with("source_labels", vec![Yaml::str("__address__")])
                    .with("target_label", "__param_target"),
                Yaml::map()
                    .with("source_labels", vec![Yaml::str("__param_target")])
                    .with("target_label", "instance"),
                Yaml::map()
                    .with("target_label", "__address__")
                    .with("replacement", address),
            ],
        )
        .commented(vec![format!(
            "{} `{}`: {} attempts per {}, one every {}",
            if b.http {
                "HTTP check of"
            } else {
                "TCP check of"
            },
            b.service,
            b.timing.attempts,
            b.health.interval.value,
            b.timing.attempt
        )])
}

/// The blackbox exporter modules of one plan, by module name.
pub(crate) fn modules(plan: &Plan) -> Vec<(String, Yaml)> {
    probes::blackbox(plan)
        .iter()
        .map(|b| (b.module.clone(), module(b)))
        .collect()
}

fn module(b: &Blackbox<'_>) -> Yaml {
    let timeout = b.health.timeout.value.to_string();
    if !b.http {
        return Yaml::map().with("prober", "tcp").with("timeout", timeout);
    }
    let mut http = Yaml::map().with(
        "method",
        b.health.method.as_ref().map_or("GET", |m| m.value.as_str()),
    );
    if !b.health.status.is_empty() {
        http.push(
            "valid_status_codes",
            b.health
                .status
                .iter()
                .map(|c| Yaml::Int(i64::from(c.value)))
                .collect::<Vec<_>>(),
        );
    }
    if let Some(body) = &b.health.body {
        // An answer without it fails the attempt with `probe_failed_due_to_regex` 1, which
        // the rules tell apart from the service being down.
        http.push(
            "fail_if_body_not_matches_regexp",
            probes::body_patterns(body)
                .into_iter()
                .map(Yaml::Str)
                .collect::<Vec<_>>(),
        );
    }
    if b.target.starts_with("https://") {
        // An https check fails on a plain-HTTP redirect and on a certificate that does not
        // verify: the promise is a working TLS endpoint.
        http.push("fail_if_not_ssl", true);
        http.push(
            "tls_config",
            Yaml::map().with("insecure_skip_verify", false),
        );
    }
    Yaml::map()
        .with("prober", "http")
        .with("timeout", timeout)
        .with("http", http)
}

/// `blackbox/blackbox.yaml`: the modules of every plan of the build, in plan order.
pub(crate) fn blackbox_file(parts: &[(String, Yaml)]) -> Option<Artifact> {
    if parts.is_empty() {
        return None;
    }
    let header = vec![
        format!(
            "Generated by upkeep {}. Do not edit: change the plans and run `upkeep build`.",
            env!("CARGO_PKG_VERSION")
        ),
        "The blackbox exporter modules of the health checks (prometheus-blackbox-exporter --config.file=blackbox/blackbox.yaml)."
            .to_owned(),
    ];
    Some(Artifact {
        path: "blackbox/blackbox.yaml".into(),
        content: yaml::document(
            &header,
            &Yaml::map().with("modules", Yaml::Map(parts.to_vec())),
        ),
    })
}
