//! The probes behind the health-check alerts, checked by their real consumers: the scrape jobs
//! of `prometheus/NAME.scrape.yaml` inside a Prometheus configuration (`promtool check
//! config`), the modules of `blackbox/blackbox.yaml` (the blackbox exporter's own
//! `--config.check`), and the `Probe` objects of every environment's Helm values, rendered by
//! the test chart and validated against the Prometheus Operator's CRD schema
//! (`../shared/corpus/crds/`). The alerts select exactly the jobs configured.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn yaml(path: &Path) -> Value {
    serde_saphyr::from_str(&std::fs::read_to_string(path).expect("read")).expect("parse")
}

/// Every `job="…"` a health alert (`…Down`, `…Flapping`) of `rules` selects on `probe_success`.
fn probe_jobs_in_rules(rules: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for g in rules["groups"].as_array().into_iter().flatten() {
        for r in g["rules"].as_array().into_iter().flatten() {
            let expr = r["expr"].as_str().unwrap_or_default();
            let mut rest = expr;
            while let Some(i) = rest.find("probe_success{job=\"") {
                let tail = &rest[i + "probe_success{job=\"".len()..];
                let end = tail.find('"').expect("closing quote");
                out.push(tail[..end].to_owned());
                rest = &tail[end..];
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn scrape_jobs_pass_promtool_and_are_the_jobs_the_alerts_select() {
    let Some(promtool) = common::tool("promtool") else {
        return;
    };
    let out = common::build("plans/", "probes-scrape", &["--target", "prometheus"]);
    let scrapes = common::files(&out.join("prometheus"), ".scrape.yaml");
    assert!(
        scrapes.len() >= 4,
        "expected the scrape jobs of the plans with HTTP checks, found {scrapes:?}"
    );
    let mut all_jobs = Vec::new();
    for s in &scrapes {
        let doc = yaml(s);
        let jobs: Vec<String> = doc["scrape_configs"]
            .as_array()
            .expect("scrape_configs")
            .iter()
            .map(|j| j["job_name"].as_str().expect("job_name").to_owned())
            .collect();
        // The alerts of this plan read exactly these jobs.
        let plan = s
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".scrape.yaml"))
            .expect("plan name");
        let rules = yaml(&out.join(format!("prometheus/{plan}.rules.yaml")));
        let mut sorted = jobs.clone();
        sorted.sort();
        assert_eq!(
            probe_jobs_in_rules(&rules),
            sorted,
            "{plan}: the health alerts select other jobs than the scrape file configures"
        );
        all_jobs.extend(doc["scrape_configs"].as_array().expect("list").clone());
    }
    // One configuration with every generated job, as a Prometheus would load them.
    let config = serde_json::json!({
        "global": {"scrape_interval": "15s", "evaluation_interval": "15s"},
        "scrape_configs": all_jobs,
    });
    let file = out.join("prometheus-with-probes.yml");
    std::fs::write(&file, serde_json::to_string_pretty(&config).expect("json")).expect("write");
    let text = common::run_ok(Command::new(&promtool).args(["check", "config"]).arg(&file));
    assert!(text.contains("SUCCESS"), "{text}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn blackbox_modules_pass_the_exporters_config_check() {
    let Some(exporter) = common::tool("prometheus-blackbox-exporter") else {
        return;
    };
    let out = common::build("plans/", "probes-blackbox", &["--target", "prometheus"]);
    let file = out.join("blackbox/blackbox.yaml");
    let doc = yaml(&file);
    let modules = doc["modules"].as_object().expect("modules");
    // Every module a scrape job names exists, and no other.
    let mut named: Vec<String> = common::files(&out.join("prometheus"), ".scrape.yaml")
        .iter()
        .flat_map(|s| {
            yaml(s)["scrape_configs"]
                .as_array()
                .expect("list")
                .iter()
                .map(|j| {
                    j["params"]["module"][0]
                        .as_str()
                        .expect("module")
                        .to_owned()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    named.sort();
    let mut defined: Vec<String> = modules.keys().cloned().collect();
    defined.sort();
    assert_eq!(named, defined);
    let o = Command::new(&exporter)
        .arg("--config.check")
        .arg(format!("--config.file={}", file.display()))
        .output()
        .expect("run the blackbox exporter");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{text}");
    assert!(text.contains("Config file is ok"), "{text}");
    let _ = std::fs::remove_dir_all(&out);
}

/// The `openAPIV3Schema` of a CRD in the corpus, as a JSON Schema file.
fn crd_schema(crd: &str, into: &Path) -> PathBuf {
    let path = common::root().join("../shared/corpus/crds").join(crd);
    let doc = yaml(&path);
    let schema = &doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    assert!(schema.is_object(), "{}: no openAPIV3Schema", path.display());
    let file = into.join(format!("{crd}.schema.json"));
    std::fs::write(&file, serde_json::to_string(schema).expect("json")).expect("write");
    file
}

#[test]
fn helm_probes_render_and_match_the_probe_crd() {
    let (Some(helm), Some(cj)) = (common::tool("helm"), common::tool("check-jsonschema")) else {
        return;
    };
    let out = common::build("plans/", "probes-helm", &["--target", "helm"]);
    let schema = crd_schema("monitoring.coreos.com_probes.yaml", &out);
    let chart = common::root().join("tests/chart/upkeep-app");
    let mut probes = 0;
    for v in common::files(&out.join("helm"), ".yaml") {
        let values = yaml(&v);
        let want = values["upkeep"]["probes"].as_array().map_or(0, Vec::len);
        let rendered = common::run_ok(
            Command::new(&helm)
                .args(["template", "release"])
                .arg(&chart)
                .arg("-f")
                .arg(&v),
        );
        let docs: Vec<&str> = rendered
            .split("\n---")
            .filter(|d| d.contains("\nkind: Probe"))
            .collect();
        assert_eq!(docs.len(), want, "{}: one Probe per check", v.display());
        for (i, d) in docs.iter().enumerate() {
            let obj: Value = serde_saphyr::from_str(d).expect("rendered Probe parses");
            assert_eq!(obj["apiVersion"], "monitoring.coreos.com/v1");
            let file = out.join(format!(
                "probe-{}-{i}.json",
                v.file_stem().and_then(|s| s.to_str()).unwrap_or("values")
            ));
            std::fs::write(&file, serde_json::to_string(&obj).expect("json")).expect("write");
            common::run_ok(
                Command::new(&cj)
                    .arg("--schemafile")
                    .arg(&schema)
                    .arg(&file),
            );
            probes += 1;
        }
    }
    assert!(
        probes >= 8,
        "expected the Probes of every environment, found {probes}"
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// The plan of [`body_checks_fail_on_the_body_as_the_rules_read_it`]: Diabetes' model check.
const BODY_PLAN: &str = r#"apiVersion: upkeep/v1
kind: Plan
metadata: {name: ml}
severity:
  levels:
    critical: {response: 15m, notify: [mail]}
    high: {response: 2h, notify: [mail]}
  matrix:
    likelihood: [low, high]
    impact:
      critical: [high, critical]
  likelihood_of: {warning: low, critical: high}
  require_runbook: []
receivers:
  mail: {email: {to: ops@example.org, from: upkeep@example.org, smarthost: "localhost:25"}}
services:
  api:
    impact: critical
    health:
      http: "http://api:8002/health"
      body: {json: {model_loaded: true, status: healthy}}
"#;

/// One probe of `module` at `target` by the exporter on `port`: its metrics by name.
fn probe(port: u16, module: &str, target: &str) -> std::collections::BTreeMap<String, f64> {
    let (status, text) = common::servers::http(
        port,
        "GET",
        &format!("/probe?module={module}&target={target}"),
        None,
    )
    .expect("probe");
    assert_eq!(status, 200, "{text}");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            Some((name.split('{').next()?.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// A check's `body`, run by the real blackbox exporter with the module upkeep generated: the
/// series the rules read for each way an answer can fail. A body with every field passes; a
/// body without one fails with `probe_failed_due_to_regex` 1 (`…Unhealthy`, not `…Down`); no
/// answer, or a status the check does not accept, fails with it 0 (`…Down`), whatever the body.
#[test]
fn body_checks_fail_on_the_body_as_the_rules_read_it() {
    let dir = common::scratch("probes-body");
    std::fs::write(dir.join("plan.yaml"), BODY_PLAN).expect("write plan");
    let o = common::upkeep_in(&dir, &["build", "plan.yaml", "--out", "out"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let config = std::fs::read_to_string(dir.join("out/blackbox/blackbox.yaml")).expect("modules");
    assert!(
        config.contains("fail_if_body_not_matches_regexp"),
        "{config}"
    );
    let rules = std::fs::read_to_string(dir.join("out/prometheus/ml.rules.yaml")).expect("rules");
    assert!(
        rules.contains("- alert: ApiUnhealthy")
            && rules.contains("unless max_over_time(probe_failed_due_to_regex"),
        "{rules}"
    );
    let Some(exporter) = common::servers::blackbox_exporter(&dir, &config) else {
        return;
    };
    let answer = |status: u16, body: &'static str| {
        common::servers::HttpServer::start(Box::new(move |_| (status, body.to_owned())))
    };
    let healthy = answer(
        200,
        r#"{"status": "healthy", "version": "2.0.0", "model_loaded": true, "total_predictions": 150}"#,
    );
    let pretty = answer(
        200,
        "{\n  \"model_loaded\" : true,\n  \"status\" : \"healthy\"\n}\n",
    );
    let unloaded = answer(200, r#"{"status": "healthy", "model_loaded": false}"#);
    let missing = answer(200, r#"{"status": "healthy"}"#);
    let quoted = answer(
        200,
        r#"{"status": "healthy", "note": "\"model_loaded\": true,"}"#,
    );
    let erroring = answer(503, r#"{"status": "healthy", "model_loaded": true}"#);
    let closed = common::servers::free_port();
    let url = |port: u16| format!("http://127.0.0.1:{port}/health");
    let cases = [
        ("every field as expected", url(healthy.port), 1.0, 0.0),
        ("the fields on their own lines", url(pretty.port), 1.0, 0.0),
        ("`model_loaded` false", url(unloaded.port), 0.0, 1.0),
        ("no `model_loaded`", url(missing.port), 0.0, 1.0),
        (
            "`model_loaded` only inside a string",
            url(quoted.port),
            0.0,
            1.0,
        ),
        ("a 503 with the right body", url(erroring.port), 0.0, 0.0),
        ("nothing listening", url(closed), 0.0, 0.0),
    ];
    for (what, target, success, regex) in cases {
        let m = probe(exporter.port, "upkeep_ml_api", &target);
        assert_eq!(m.get("probe_success"), Some(&success), "{what}: {m:?}");
        // Absent is 0: the rules read it with `unless`, which an absent series does not stop.
        assert_eq!(
            m.get("probe_failed_due_to_regex").or(Some(&0.0)),
            Some(&regex),
            "{what}: {m:?}"
        );
    }
    drop(exporter);
    let _ = std::fs::remove_dir_all(&dir);
}
