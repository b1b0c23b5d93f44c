//! `upkeep import` on real rule files: every Prometheus rule file of the corpus
//! (`../shared/corpus/prometheus-rules/`) imports without an error, the plan it gives checks
//! clean (no error, no warning), the import is deterministic, and every rule is in the report.
//! Then behaviour: promtool runs each file's original alerts and the imported plan's rules on
//! the same raw series (`upkeep::import::verify`), and every imported alert fires exactly when
//! its original does, with the same series labels. The test prints one summary line over the
//! corpus: files, rules, lifted into typed KPIs/SLOs, kept as expr, equivalent.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use upkeep::driver::{self, Options};
use upkeep::import::verify::Verdict;
use upkeep::import::{self, Outcome};

fn rule_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rule_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(p);
        }
    }
}

fn corpus() -> PathBuf {
    common::root().join("../shared/corpus")
}

#[test]
fn every_corpus_rule_file_imports_into_a_plan_that_checks_clean() {
    let mut files = Vec::new();
    rule_files(&corpus().join("prometheus-rules"), &mut files);
    assert!(
        files.len() >= 110,
        "the corpus has {} rule files",
        files.len()
    );
    let (mut rules, mut typed, mut expr, mut skipped) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for f in &files {
        let imported = import::import(std::slice::from_ref(f), "imported");
        let problems: Vec<String> = imported
            .diagnostics
            .iter()
            .map(|d| format!("{}: {}", d.code.name(), d.message))
            .collect();
        let Some(plan) = imported.plan else {
            failures.push(format!("{}: not imported: {problems:?}", f.display()));
            continue;
        };
        let again = import::import(std::slice::from_ref(f), "imported");
        assert_eq!(
            again.plan.as_deref(),
            Some(plan.as_str()),
            "{}: not deterministic",
            f.display()
        );
        let ws = driver::check_texts(
            vec![(PathBuf::from("imported.yaml"), plan.clone())],
            Options::default(),
        );
        if !ws.diagnostics.is_empty() {
            failures.push(format!("{}:\n{}\n{plan}", f.display(), common::human(&ws)));
        }
        let r = &imported.report;
        let alerts = std::fs::read_to_string(f)
            .expect("read")
            .matches("- alert:")
            .count();
        assert!(
            r.entries.len() >= alerts,
            "{}: {} alerts, {} in the report",
            f.display(),
            alerts,
            r.entries.len()
        );
        rules += r.entries.len();
        typed += r.count(Outcome::Typed);
        expr += r.count(Outcome::Expr);
        skipped += r.count(Outcome::NotImported);
    }
    let equivalence = equivalence(&files);
    assert!(
        failures.is_empty(),
        "{} of {} files:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    let (equivalent, untested, differ) = equivalence;
    println!(
        "import corpus: {} files, {rules} rules, {typed} lifted into typed KPIs/SLOs, {expr} kept as expr, {skipped} not imported, {equivalent} equivalent, {untested} untested",
        files.len()
    );
    assert!(
        differ.is_empty(),
        "{} imported alerts differ from their originals:\n{}",
        differ.len(),
        differ.join("\n")
    );
    // What is proven today (a scenario is untested when upkeep's evaluator does not know a
    // function the expression uses, or Prometheus judges its scenario otherwise): no fewer.
    assert!(
        equivalent >= 630,
        "only {equivalent} of {rules} rules proven equivalent"
    );
    // Lifted into typed indicators today (`up`, `latency`, `error_ratio`): no fewer.
    assert!(typed >= 13, "only {typed} of {rules} rules lifted");
}

fn import_text(name: &str, text: &str) -> import::Imported {
    let dir = common::scratch(name);
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, text).expect("write");
    import::import(&[path], "imported")
}

#[test]
fn two_severities_of_one_condition_are_one_kpi() {
    let imported = import_text(
        "severities",
        r#"
groups:
- name: api
  rules:
  - alert: ApiLatencyHigh
    expr: histogram_quantile(0.99, sum by (le) (rate(http_seconds_bucket{job="api"}[5m]))) > 0.5
    for: 5m
    labels: {severity: warning}
  - alert: ApiLatencyCritical
    expr: histogram_quantile(0.99, sum by (le) (rate(http_seconds_bucket{job="api"}[5m]))) > 1
    for: 5m
    labels: {severity: critical}
  - alert: ApiDown
    expr: up{job="api"} == 0
    labels: {severity: critical}
"#,
    );
    let plan = imported.plan.expect("a plan");
    assert!(
        plan.contains("warning: \"> 0.5s\"") && plan.contains("critical: \"> 1s\""),
        "{plan}"
    );
    assert!(plan.contains("latency:") && plan.contains("up:"), "{plan}");
    assert_eq!(imported.report.count(Outcome::Typed), 3, "{plan}");
    let ws = driver::check_texts(
        vec![(PathBuf::from("imported.yaml"), plan.clone())],
        Options::default(),
    );
    assert!(ws.diagnostics.is_empty(), "{}\n{plan}", common::human(&ws));
}

#[test]
fn prometheus_rule_objects_in_one_multi_document_file() {
    let imported = import_text(
        "multi",
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: a}\nspec:\n  groups:\n  - name: a\n    rules:\n    - alert: A\n      expr: x > 1\n---\napiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: b}\nspec:\n  groups:\n  - name: b\n    rules:\n    - alert: B\n      expr: y < 2\n    - record: job:y:sum\n      expr: sum(y)\n",
    );
    assert_eq!(imported.report.entries.len(), 3);
    assert_eq!(imported.report.count(Outcome::NotImported), 1);
    assert!(imported.plan.is_some());
}

#[test]
fn a_broken_file_is_a_diagnostic_in_that_file_and_unknown_fields_are_warnings() {
    let imported = import_text(
        "broken",
        "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: 'x >'\n    colour: red\n",
    );
    let codes: Vec<(String, String)> = imported
        .diagnostics
        .iter()
        .map(|d| (d.code.name().to_owned(), d.severity.as_str().to_owned()))
        .collect();
    assert!(
        codes.contains(&("promql/syntax".to_owned(), "error".to_owned())),
        "{codes:?}"
    );
    assert!(
        codes.contains(&("schema/unknown-field".to_owned(), "warning".to_owned())),
        "{codes:?}"
    );
    let unknown = imported
        .diagnostics
        .iter()
        .find(|d| d.code.name() == "schema/unknown-field")
        .and_then(|d| d.span)
        .expect("a span");
    assert_eq!(imported.sources.get(unknown.file).slice(unknown), "colour");
    let yaml = import_text("syntax", "groups:\n- name: a\n  rules: [\n");
    assert!(yaml.plan.is_none());
    assert!(yaml.diagnostics.iter().all(|d| d.span.is_some()));
}

/// `plan` written into the directory `case` and built into its `out/prometheus/`.
fn built(case: &Path, plan: &str) -> PathBuf {
    std::fs::create_dir_all(case).expect("mkdir");
    std::fs::write(case.join("plan.yaml"), plan).expect("write plan");
    common::run_ok(
        std::process::Command::new(env!("CARGO_BIN_EXE_upkeep"))
            .args([
                "build",
                "plan.yaml",
                "--out",
                "out",
                "--target",
                "prometheus",
            ])
            .current_dir(case),
    );
    case.to_path_buf()
}

/// `promtool test rules NAME` in `case`: whether it passed, and what it printed.
fn promtool_test(promtool: &Path, case: &Path, name: &str) -> (bool, String) {
    let o = std::process::Command::new(promtool)
        .args(["test", "rules", name])
        .current_dir(case)
        .output()
        .expect("run promtool");
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.success(), out)
}

/// Run the equivalence test of every file: (equivalent, untested, failures).
fn equivalence(files: &[PathBuf]) -> (usize, usize, Vec<String>) {
    let Some(promtool) = common::tool("promtool") else {
        return (0, 0, Vec::new());
    };
    let dir = common::scratch("import-equivalence");
    let (mut equivalent, mut untested, mut differ) = (0, 0, Vec::new());
    for (n, f) in files.iter().enumerate() {
        let imported = import::import(std::slice::from_ref(f), "imported");
        let Some(plan) = imported.plan else { continue };
        let case = built(&dir.join(n.to_string()), &plan);
        let eq = import::verify::equivalence(
            &imported.report,
            "original.rules.yaml",
            "out/prometheus/imported.rules.yaml",
        );
        std::fs::write(case.join("original.rules.yaml"), &eq.original_rules).expect("write");
        let mut outputs = Vec::new();
        for (name, text) in &eq.tests {
            std::fs::write(case.join(name), text).expect("write test");
            let (ok, out) = promtool_test(&promtool, &case, name);
            outputs.push((name.clone(), ok, out));
        }
        for c in &eq.cases {
            if c.untested.is_some() {
                untested += 1;
                continue;
            }
            let Some((_, ok, out)) = outputs.iter().find(|(name, _, _)| *name == c.file) else {
                differ.push(format!("{}: no test file `{}`", c.rule, c.file));
                continue;
            };
            match c.verdict(*ok, out) {
                Verdict::Equivalent => equivalent += 1,
                Verdict::Untested => untested += 1,
                Verdict::Differ => {
                    let shown: Vec<&str> = out.lines().take(16).collect();
                    differ.push(format!(
                        "{} ({}): {}",
                        c.rule,
                        case.display(),
                        shown.join(" | ")
                    ));
                }
            }
        }
    }
    (equivalent, untested, differ)
}

#[test]
fn hostile_input_is_bounded_as_for_check() {
    // An alias bomb: each level doubles the one before.
    let mut bomb = String::from("a0: &a0 [x, x]\n");
    for i in 1..40 {
        let _ = writeln!(bomb, "a{i}: &a{i} [*a{}, *a{}]", i - 1, i - 1);
    }
    bomb.push_str("groups: []\n");
    let imported = import_text("bomb", &bomb);
    assert!(imported.plan.is_none());
    let codes: Vec<&str> = imported.diagnostics.iter().map(|d| d.code.name()).collect();
    assert!(codes.iter().any(|c| c.starts_with("limit/")), "{codes:?}");
    // Nesting deeper than the parser's budget.
    let deep = format!("groups: {}{}\n", "[".repeat(200), "]".repeat(200));
    let imported = import_text("deep", &deep);
    assert!(imported.plan.is_none());
    let codes: Vec<&str> = imported.diagnostics.iter().map(|d| d.code.name()).collect();
    assert!(codes.contains(&"limit/depth"), "{codes:?}");
    // More than the file-size limit.
    let big = "# padding\n".repeat(upkeep::parse::MAX_FILE_BYTES / 10 + 1);
    let imported = import_text("big", &big);
    assert!(imported.plan.is_none());
    let codes: Vec<&str> = imported.diagnostics.iter().map(|d| d.code.name()).collect();
    assert_eq!(codes, ["limit/file-size"]);
}

#[test]
fn sloth_generated_rule_files_import_into_plans_that_check_clean() {
    let mut files = Vec::new();
    rule_files(&corpus().join("sloth/_gen"), &mut files);
    assert!(files.len() >= 15, "{} files", files.len());
    for f in &files {
        let imported = import::import(std::slice::from_ref(f), "imported");
        let plan = imported
            .plan
            .unwrap_or_else(|| panic!("{}: not imported", f.display()));
        // The recording rules stay in their file, and the report says so.
        let records = std::fs::read_to_string(f)
            .expect("read")
            .matches("record:")
            .count();
        assert_eq!(
            imported.report.count(Outcome::NotImported),
            records,
            "{}",
            f.display()
        );
        let ws = driver::check_texts(
            vec![(PathBuf::from("imported.yaml"), plan.clone())],
            Options::default(),
        );
        assert!(
            ws.diagnostics.is_empty(),
            "{}:\n{}\n{plan}",
            f.display(),
            common::human(&ws)
        );
    }
}

/// The SLO specs of the corpus: sloth (`sloth/*.yml`, not `_gen/`), sloth's alert windows,
/// pyrra and `OpenSLO`.
fn slo_spec_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["sloth", "pyrra", "openslo"] {
        rule_files(&corpus().join(dir), &mut files);
    }
    files.retain(|f| !f.components().any(|c| c.as_os_str() == "_gen"));
    files
}

#[test]
fn every_corpus_slo_spec_imports_into_a_plan_that_checks_clean() {
    let files = slo_spec_files();
    assert!(
        files.len() >= 39,
        "the corpus has {} SLO specs",
        files.len()
    );
    let (mut slos, mut typed, mut expr, mut skipped) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for f in &files {
        let imported = import::import(std::slice::from_ref(f), "imported");
        let errors: Vec<String> = imported
            .diagnostics
            .iter()
            .filter(|d| d.severity.as_str() == "error")
            .map(|d| format!("{}: {}", d.code.name(), d.message))
            .collect();
        let Some(plan) = imported.plan.filter(|_| errors.is_empty()) else {
            failures.push(format!("{}: not imported: {errors:?}", f.display()));
            continue;
        };
        let ws = driver::check_texts(
            vec![(PathBuf::from("imported.yaml"), plan.clone())],
            Options::default(),
        );
        if !ws.diagnostics.is_empty() {
            failures.push(format!("{}:\n{}\n{plan}", f.display(), common::human(&ws)));
        }
        let r = &imported.report;
        slos += r.slos();
        typed += r.count(Outcome::Typed);
        expr += r.count(Outcome::Expr);
        skipped += r.count(Outcome::NotImported);
        // Every entry says what it became, and a line that is not imported says why.
        for e in &r.entries {
            assert!(
                e.outcome != Outcome::NotImported || e.became.starts_with("not imported: "),
                "{}: {e:?}",
                f.display()
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    let (equivalent, untested, differ) = slo_equivalence();
    println!(
        "import SLO corpus: {} files, {slos} SLOs, {typed} lifted into typed SLOs, {expr} kept as expr, {skipped} not imported, {equivalent} equivalent, {untested} untested",
        files.len()
    );
    assert!(
        differ.is_empty(),
        "{} imported SLO alerts differ from sloth's:\n{}",
        differ.len(),
        differ.join("\n")
    );
    // What is imported and proven today: no fewer.
    assert!(
        slos >= 47 && typed >= 33 && expr >= 5,
        "{slos} SLOs, {typed} typed, {expr} expr"
    );
    // sloth's page and ticket alerts proven today (the rest: plugins that change sloth's rules,
    // and SLIs upkeep's evaluator cannot feed): no fewer.
    if common::tool("promtool").is_some() {
        assert!(
            equivalent >= 24,
            "only {equivalent} sloth SLO alerts proven equivalent"
        );
    }
}

/// Run the equivalence test of every sloth spec against the rules sloth generated from it
/// (`sloth/_gen/`): (equivalent, untested, failures).
fn slo_equivalence() -> (usize, usize, Vec<String>) {
    let Some(promtool) = common::tool("promtool") else {
        return (0, 0, Vec::new());
    };
    let dir = common::scratch("import-slo-equivalence");
    let (mut equivalent, mut untested, mut differ) = (0, 0, Vec::new());
    let mut specs = Vec::new();
    rule_files(&corpus().join("sloth"), &mut specs);
    specs.retain(|f| f.parent() == Some(corpus().join("sloth").as_path()));
    for (n, f) in specs.iter().enumerate() {
        let generated = corpus()
            .join("sloth/_gen")
            .join(f.file_name().expect("a file name"));
        if !generated.exists() {
            continue;
        }
        let imported = import::import(std::slice::from_ref(f), "imported");
        let Some(plan) = imported.plan else { continue };
        let case = built(&dir.join(n.to_string()), &plan);
        let original = import::verify::plain_rules(&generated).expect("sloth's rules");
        std::fs::write(case.join("original.rules.yaml"), original).expect("write");
        let eq = import::verify::slo_equivalence(
            &imported.report,
            "original.rules.yaml",
            "out/prometheus/imported.rules.yaml",
        );
        for c in &eq.cases {
            if let Some(why) = &c.untested {
                println!("untested: {}: {why}", c.rule);
                untested += 1;
                continue;
            }
            let Some((name, text)) = eq.tests.iter().find(|(name, _)| *name == c.file) else {
                differ.push(format!("{}: no test file `{}`", c.rule, c.file));
                continue;
            };
            std::fs::write(case.join(name), text).expect("write test");
            let (ok, out) = promtool_test(&promtool, &case, name);
            match c.verdict(ok, &out) {
                Verdict::Equivalent => equivalent += 1,
                Verdict::Untested => {
                    println!(
                        "untested: {}: its scenarios do not make sloth's alert do what they expect",
                        c.rule
                    );
                    untested += 1;
                }
                Verdict::Differ => {
                    let shown: Vec<&str> = out.lines().take(16).collect();
                    differ.push(format!(
                        "{} ({}): {}",
                        c.rule,
                        case.display(),
                        shown.join(" | ")
                    ));
                }
            }
        }
    }
    (equivalent, untested, differ)
}

/// The diagnostics of an import: (code, severity, the text at its span).
fn diagnosed(imported: &import::Imported) -> Vec<(String, String, String)> {
    imported
        .diagnostics
        .iter()
        .map(|d| {
            let at = d
                .span
                .map(|s| imported.sources.get(s.file).slice(s).to_owned())
                .unwrap_or_default();
            (d.code.name().to_owned(), d.severity.as_str().to_owned(), at)
        })
        .collect()
}

#[test]
fn malformed_slo_specs_are_diagnostics_in_their_file_and_unknown_fields_warnings() {
    let has = |ds: &[(String, String, String)], code: &str, sev: &str, at: &str| {
        ds.iter().any(|(c, s, a)| c == code && s == sev && a == at)
    };
    // sloth: an objective that is no number, an `events` SLI without its total, a typo.
    let sloth = import_text(
        "bad-sloth",
        "version: prometheus/v1\nservice: api\nslos:\n  - name: availability\n    objective: high\n    sli:\n      events:\n        error_query: sum(rate(x{code=\"500\"}[{{.window}}]))\n    colour: red\n",
    );
    let ds = diagnosed(&sloth);
    assert!(sloth.plan.is_none(), "{ds:?}");
    assert!(has(&ds, "schema/type", "error", "high"), "{ds:?}");
    assert!(
        has(&ds, "schema/unknown-field", "warning", "colour"),
        "{ds:?}"
    );
    let sloth = import_text(
        "bad-sloth-events",
        "version: prometheus/v1\nservice: api\nslos:\n  - name: availability\n    objective: 99.9\n    sli:\n      events:\n        error_query: sum(rate(x{code=\"500\"}[{{.window}}]))\n",
    );
    let ds = diagnosed(&sloth);
    assert!(
        ds.iter()
            .any(|(c, s, a)| c == "schema/missing" && s == "error" && a.starts_with("error_query")),
        "{ds:?}"
    );
    // pyrra: a window that is no duration, an unknown indicator field.
    let pyrra = import_text(
        "bad-pyrra",
        "apiVersion: pyrra.dev/v1alpha1\nkind: ServiceLevelObjective\nmetadata: {name: api}\nspec:\n  target: \"99\"\n  window: 4 weeks\n  indicator:\n    ratio:\n      errors: {metric: 'x{code=\"500\"}'}\n      total: {metric: 'x'}\n    ratios: {}\n",
    );
    let ds = diagnosed(&pyrra);
    assert!(pyrra.plan.is_none(), "{ds:?}");
    assert!(has(&ds, "schema/type", "error", "4 weeks"), "{ds:?}");
    assert!(
        has(&ds, "schema/unknown-field", "warning", "ratios"),
        "{ds:?}"
    );
    // OpenSLO: objectives that are no list, an unknown field.
    let openslo = import_text(
        "bad-openslo",
        "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: api}\nspec:\n  service: api\n  budgetingMethod: Occurrences\n  objectives: 3\n  colour: red\n",
    );
    let ds = diagnosed(&openslo);
    assert!(openslo.plan.is_none(), "{ds:?}");
    assert!(has(&ds, "schema/type", "error", "3"), "{ds:?}");
    assert!(
        has(&ds, "schema/unknown-field", "warning", "colour"),
        "{ds:?}"
    );
    // sloth's alert windows: read, and said not to be kept.
    let windows = import_text(
        "windows",
        "apiVersion: sloth.slok.dev/v1\nkind: AlertWindows\nspec:\n  sloPeriod: 7d\n",
    );
    let ds = diagnosed(&windows);
    assert!(windows.plan.is_some(), "{ds:?}");
    assert!(
        has(&ds, "schema/unknown-field", "warning", "kind"),
        "{ds:?}"
    );
    // A spec that is not YAML: a syntax error with a span in it.
    let broken = import_text("bad-yaml", "version: prometheus/v1\nslos: [\n");
    assert!(broken.plan.is_none());
    assert!(
        broken.diagnostics.iter().all(|d| d.span.is_some()),
        "{:?}",
        diagnosed(&broken)
    );
    // A sloth SLO and a rule file in one import: one plan with both.
    let dir = common::scratch("mixed");
    std::fs::write(
        dir.join("rules.yml"),
        "groups:\n- name: api\n  rules:\n  - alert: ApiDown\n    expr: up{job=\"api\"} == 0\n    labels: {severity: critical}\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("slo.yml"),
        "version: prometheus/v1\nservice: api\nslos:\n  - name: availability\n    objective: 99.9\n    sli:\n      events:\n        error_query: sum(rate(http_requests_total{job=\"api\",code=~\"5..\"}[{{.window}}]))\n        total_query: sum(rate(http_requests_total{job=\"api\"}[{{.window}}]))\n    alerting:\n      name: ApiErrors\n      page_alert: {labels: {severity: critical}}\n      ticket_alert: {labels: {severity: warning}}\n",
    )
    .expect("write");
    let mixed = import::import(&[dir.join("rules.yml"), dir.join("slo.yml")], "imported");
    let plan = mixed.plan.expect("a plan");
    assert!(plan.contains("slos:") && plan.contains("up:"), "{plan}");
    assert!(
        plan.contains("# from slo.yml:4, sloth prometheus/v1 SLO `availability`")
            || plan.contains("slo.yml:4, sloth"),
        "{plan}"
    );
    assert_eq!(
        mixed.report.summary(),
        "2 files, 1 rule, 1 SLO: 2 lifted into typed KPIs/SLOs, 0 kept as expr, 0 not imported"
    );
    let ws = driver::check_texts(
        vec![(PathBuf::from("imported.yaml"), plan.clone())],
        Options::default(),
    );
    assert!(ws.diagnostics.is_empty(), "{}\n{plan}", common::human(&ws));
}
