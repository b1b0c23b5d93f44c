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
    let proof = equivalence(&files);
    assert!(
        failures.is_empty(),
        "{} of {} files:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    println!(
        "import corpus: {} files, {rules} rules, {typed} lifted into typed KPIs/SLOs, {expr} kept as expr, {skipped} not imported, {}",
        files.len(),
        Tally::line(proof.as_ref())
    );
    // Lifted into typed indicators today (`up`, `latency`, `error_ratio`): no fewer.
    assert!(typed >= 13, "only {typed} of {rules} rules lifted");
    // What is proven today (a scenario is untested when upkeep's evaluator does not know a
    // function the expression uses, or Prometheus judges its scenario otherwise): no fewer.
    // Without promtool the test has already failed, or was skipped aloud (`common::tool`).
    if let Some(p) = proof {
        p.assert_none_failed("imported alerts differ from their originals");
        assert!(
            p.equivalent >= 630,
            "only {} of {rules} rules proven equivalent",
            p.equivalent
        );
    }
}

/// What promtool made of the cases of an equivalence test.
#[derive(Default)]
struct Tally {
    equivalent: usize,
    untested: usize,
    /// Cases that differ from their originals, or whose test did not load or run.
    failed: Vec<String>,
}

impl Tally {
    /// Count one case from promtool's report on its test file (`dir` is where it ran).
    fn judge(&mut self, c: &import::verify::Case, dir: &Path, ok: bool, out: &str) {
        match c.verdict(ok, out) {
            Verdict::Equivalent => self.equivalent += 1,
            Verdict::Untested => {
                println!(
                    "untested: {}: {}",
                    c.rule,
                    c.untested.as_deref().unwrap_or(
                        "its scenarios do not make the original alert do what they expect"
                    )
                );
                self.untested += 1;
            }
            v @ (Verdict::Differ | Verdict::Error) => {
                let shown: Vec<&str> = out.lines().take(16).collect();
                self.failed.push(format!(
                    "{} ({v:?}, {}): {}",
                    c.rule,
                    dir.display(),
                    shown.join(" | ")
                ));
            }
        }
    }

    /// A case whose test could not be made or run at all.
    fn fail(&mut self, why: String) {
        self.failed.push(why);
    }

    fn assert_none_failed(&self, what: &str) {
        assert!(
            self.failed.is_empty(),
            "{} {what}, or their tests did not run:\n{}",
            self.failed.len(),
            self.failed.join("\n")
        );
    }

    /// The summary's end: `N equivalent, M untested`, or that promtool was missing.
    fn line(t: Option<&Tally>) -> String {
        t.map_or_else(
            || "equivalence SKIPPED (no promtool)".to_owned(),
            |t| format!("{} equivalent, {} untested", t.equivalent, t.untested),
        )
    }
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

/// A burn-rate alert set on raw ratios: `(E) / (T)` at each window.
fn burn_set(factors: [(&str, &str, &str); 2]) -> String {
    let ratio = |w: &str| {
        format!(
            "(sum(rate(http_requests_total{{job=\"api\",code=~\"5..\"}}[{w}])) / sum(rate(http_requests_total{{job=\"api\"}}[{w}])))"
        )
    };
    let pair = |(f, long, short): (&str, &str, &str)| {
        format!(
            "({} > ({f} * 0.001) and {} > ({f} * 0.001))",
            ratio(long),
            ratio(short)
        )
    };
    format!(
        "groups:\n- name: api-slo\n  rules:\n  - alert: ApiErrorBudgetBurn\n    expr: '{} or {}'\n    labels: {{severity: critical}}\n",
        pair(factors[0]),
        pair(factors[1])
    )
}

#[test]
fn a_burn_rate_alert_set_on_raw_ratios_is_an_slo_only_with_upkeeps_pairs() {
    let imported = import_text(
        "burn-raw",
        &burn_set([("14.4", "1h", "5m"), ("6", "6h", "30m")]),
    );
    let plan = imported.plan.expect("a plan");
    assert!(
        plan.contains("objective: 99.9%")
            && plan.contains("window: 30d")
            && plan.contains("errors: http_requests_total{code=~\"5..\",job=\"api\"}")
            && plan.contains("page: critical")
            && plan.contains("window 30d assumed"),
        "{plan}"
    );
    let e = &imported.report.entries[0];
    assert!(
        e.became.starts_with(
            "slos.api_error_budget_burn page (error_ratio, objective 99.9%, window 30d assumed"
        ),
        "{e:?}"
    );
    let ws = driver::check_texts(
        vec![(PathBuf::from("imported.yaml"), plan.clone())],
        Options::default(),
    );
    assert!(ws.diagnostics.is_empty(), "{}\n{plan}", common::human(&ws));
    // And it fires when the original does (promtool, on the raw series).
    let file = std::env::temp_dir()
        .join(format!("upkeep-test-burn-raw-{}", std::process::id()))
        .join("burn-raw.yaml");
    if let Some(p) = burn_equivalence(&[file], "burn-raw-equivalence") {
        p.assert_none_failed("the SLO lifted from raw ratios differs from its alert");
        assert_eq!((p.equivalent, p.untested), (1, 0));
    }
    // sloth's factors for a 28-day period are not upkeep's: the alert would fire otherwise, so
    // it stays an `expr` KPI, as does a set with one pair changed.
    for other in [
        [("13.44", "1h", "5m"), ("5.6", "6h", "30m")],
        [("14.4", "1h", "5m"), ("6", "6h", "1h")],
    ] {
        let imported = import_text("burn-other", &burn_set(other));
        let plan = imported.plan.expect("a plan");
        assert!(!plan.contains("slos:") && plan.contains("expr:"), "{plan}");
        assert_eq!(imported.report.count(Outcome::Expr), 1, "{plan}");
    }
}

/// A latency SLO on a whole-second bucket: upkeep (like sloth and pyrra) matches both spellings
/// of the bound, `le=~"1(\\.0)?"`. Its burn-rate alerts lift back into the latency SLO, and
/// fire as the originals do (promtool).
#[test]
fn a_latency_slo_on_a_whole_second_bucket_is_lifted() {
    let case = common::scratch("import-whole-le");
    common::run_ok(
        std::process::Command::new(env!("CARGO_BIN_EXE_upkeep"))
            .arg("build")
            .arg(common::root().join("tests/fixtures/emit/every-kind.yaml"))
            .args(["--out", "out", "--target", "prometheus"])
            .current_dir(&case),
    );
    let rules = case.join("out/prometheus/every-kind.rules.yaml");
    let text = std::fs::read_to_string(&rules).expect("read rules");
    assert!(
        text.contains(r#"le=~"1(\\.0)?""#),
        "the fixture's `fast` SLO moved"
    );
    let imported = import::import(std::slice::from_ref(&rules), "every-kind");
    let plan = imported.plan.expect("a plan");
    let e = imported
        .report
        .entries
        .iter()
        .find(|e| e.rule == "alert FastBurnRateTicket")
        .expect("the ticket alert of `fast`");
    assert!(
        e.became
            .starts_with("slos.fast ticket (latency, objective 95%, window 28d"),
        "{e:?}"
    );
    assert!(
        plan.contains("histogram: http_request_duration_seconds\n        threshold: 1s\n"),
        "{plan}"
    );
    let ws = driver::check_texts(
        vec![(PathBuf::from("imported.yaml"), plan.clone())],
        Options::default(),
    );
    assert!(ws.diagnostics.is_empty(), "{}\n{plan}", common::human(&ws));
    if let Some(p) = burn_equivalence(&[rules], "import-whole-le-equivalence") {
        p.assert_none_failed("SLOs lifted from every-kind's burn-rate alerts differ from them");
        // `availability` page and ticket, `fast` ticket, `db` page.
        assert_eq!((p.equivalent, p.untested), (4, 0));
    }
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

/// `promtool test rules A B …` in `case` on the test files `tests`, in two processes side by
/// side when there are several: for each file, whether it passed and its section of the report
/// (the whole report of its process when promtool printed no section for it).
fn promtool_tests(promtool: &Path, case: &Path, tests: &[String]) -> Vec<(String, bool, String)> {
    // promtool writes each file's header to stdout and its failures to stderr: both go to one
    // file, in the order written, so that each failure is under its file's header.
    let run = |chunk: &[String], log: &str| {
        let path = case.join(log);
        let file = std::fs::File::create(&path).expect("create promtool's report");
        std::process::Command::new(promtool)
            .args(["test", "rules"])
            .args(chunk)
            .current_dir(case)
            .stdout(file.try_clone().expect("share promtool's report"))
            .stderr(file)
            .status()
            .expect("run promtool");
        let out = std::fs::read_to_string(&path).expect("read promtool's report");
        let sections: Vec<&str> = out.split("Unit Testing:  ").collect();
        chunk
            .iter()
            .map(|name| {
                let own = sections
                    .iter()
                    .find(|s| s.lines().next() == Some(name.as_str()));
                match own {
                    Some(s) => {
                        let passed = s.lines().nth(1).map(str::trim) == Some("SUCCESS");
                        (name.clone(), passed, format!("Unit Testing:  {s}"))
                    }
                    None => (name.clone(), false, out.clone()),
                }
            })
            .collect::<Vec<_>>()
    };
    match tests.len() {
        0 => return Vec::new(),
        1 => return run(tests, "promtool.out"),
        _ => {}
    }
    let (a, b) = tests.split_at(tests.len().div_ceil(2));
    std::thread::scope(|s| {
        let first = s.spawn(|| run(a, "promtool-1.out"));
        let mut out = run(b, "promtool-2.out");
        let mut all = first.join().expect("promtool thread");
        all.append(&mut out);
        all
    })
}

/// Write the files of an equivalence test into `case`, run its tests with promtool, and count
/// its cases.
fn run_cases(promtool: &Path, case: &Path, eq: &import::verify::Equivalence, tally: &mut Tally) {
    for (name, text) in &eq.files {
        std::fs::write(case.join(name), text).expect("write test");
    }
    let outputs = promtool_tests(promtool, case, &eq.tests);
    for c in &eq.cases {
        if let Some(why) = &c.untested {
            println!("untested: {}: {why}", c.rule);
            tally.untested += 1;
            continue;
        }
        match outputs.iter().find(|(name, _, _)| *name == c.file) {
            Some((_, ok, out)) => tally.judge(c, case, *ok, out),
            None => tally.fail(format!("{}: no test file `{}`", c.rule, c.file)),
        }
    }
}

/// Run the equivalence test of every file; `None` when promtool is missing and that is allowed.
fn equivalence(files: &[PathBuf]) -> Option<Tally> {
    proven(files, "import-equivalence", &|report, _, rules| {
        import::verify::equivalence(report, rules)
    })
}

/// Import each of `files`, build the plan, and run the equivalence test `test` makes of the
/// import's report, the file and the built rules (their text); `None` when promtool is missing
/// and that is allowed.
fn proven(
    files: &[PathBuf],
    scratch: &str,
    test: &dyn Fn(&import::Report, &Path, &str) -> import::verify::Equivalence,
) -> Option<Tally> {
    let promtool = common::tool("promtool")?;
    let dir = common::scratch(scratch);
    let mut tally = Tally::default();
    for (n, f) in files.iter().enumerate() {
        let imported = import::import(std::slice::from_ref(f), "imported");
        let Some(plan) = imported.plan else {
            tally.fail(format!("{}: not imported", f.display()));
            continue;
        };
        let case = built(&dir.join(n.to_string()), &plan);
        let rules = std::fs::read_to_string(case.join("out/prometheus/imported.rules.yaml"))
            .expect("read built rules");
        let eq = test(&imported.report, f, &rules);
        run_cases(&promtool, &case, &eq, &mut tally);
    }
    Some(tally)
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
    // PromQL nested deeper than the parser is given, in a rule and in a sloth query: an error
    // at the first bracket too deep, not a stack overflow.
    let parens = |n: usize| format!("{}x{}", "(".repeat(n), ")".repeat(n));
    let deep_rule = format!(
        "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: '{} > 1'\n",
        parens(100_000)
    );
    let deep_slo = format!(
        "version: prometheus/v1\nservice: api\nslos:\n  - name: a\n    objective: 99.9\n    sli:\n      raw:\n        error_ratio_query: '{}'\n",
        parens(100_000)
    );
    for (name, text) in [("deep-promql", deep_rule), ("deep-slo", deep_slo)] {
        let imported = import_text(name, &text);
        assert!(imported.plan.is_none(), "{name}");
        let d = imported
            .diagnostics
            .iter()
            .find(|d| d.code.name() == "limit/depth")
            .unwrap_or_else(|| panic!("{name}: {:?}", diagnosed(&imported)));
        let span = d.span.expect("a span");
        let src = imported.sources.get(span.file);
        assert_eq!(src.slice(span), "(", "{name}");
        // The 257th bracket of the expression.
        let expr_start = src.text.find("((").expect("the expression");
        assert_eq!(
            span.start as usize - expr_start,
            upkeep::value::promql::MAX_DEPTH
        );
        assert!(d.help.is_some(), "{name}");
    }
}

#[test]
fn sloth_generated_rule_files_import_into_plans_that_check_clean() {
    let mut files = Vec::new();
    rule_files(&corpus().join("sloth/_gen"), &mut files);
    assert!(files.len() >= 15, "{} files", files.len());
    let mut lifted = 0;
    for f in &files {
        let imported = import::import(std::slice::from_ref(f), "imported");
        let plan = imported
            .plan
            .unwrap_or_else(|| panic!("{}: not imported", f.display()));
        // The recording rules stay in their file, or are read by an SLO lifted from the
        // burn-rate alerts that read them; the report says which.
        let records = std::fs::read_to_string(f)
            .expect("read")
            .matches("record:")
            .count();
        assert_eq!(
            imported.report.count(Outcome::NotImported) + imported.report.count(Outcome::Consumed),
            records,
            "{}",
            f.display()
        );
        lifted += imported
            .report
            .entries
            .iter()
            .filter(|e| e.became.contains("burn-rate alert set"))
            .count();
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
    // sloth's page and ticket alerts lifted into SLOs today (the rest: periods other than 30
    // days, whose factors are not upkeep's, and SLIs a plan cannot hold): no fewer.
    assert!(lifted >= 26, "only {lifted} sloth alerts lifted into SLOs");
    let proof = burn_equivalence(&files, "import-sloth-gen-equivalence");
    println!(
        "import sloth _gen: {} files, {lifted} burn-rate alerts lifted into SLOs, {}",
        files.len(),
        Tally::line(proof.as_ref())
    );
    if let Some(p) = proof {
        p.assert_none_failed("SLOs lifted from sloth's alerts differ from them");
        assert!(
            p.equivalent >= 26,
            "only {} lifted alerts proven equivalent",
            p.equivalent
        );
    }
}

/// The equivalence test of the SLOs lifted from the burn-rate alert sets of rule `files`,
/// against the files themselves; `None` when promtool is missing and that is allowed.
fn burn_equivalence(files: &[PathBuf], scratch: &str) -> Option<Tally> {
    proven(files, scratch, &|report, f, rules| {
        let original = import::verify::plain_rules(f).expect("rules");
        import::verify::slo_equivalence(report, &original, rules)
    })
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
    let proof = slo_equivalence();
    println!(
        "import SLO corpus: {} files, {slos} SLOs, {typed} lifted into typed SLOs, {expr} kept as expr, {skipped} not imported, {}",
        files.len(),
        Tally::line(proof.as_ref())
    );
    // What is imported and proven today: no fewer.
    assert!(
        slos >= 47 && typed >= 33 && expr >= 5,
        "{slos} SLOs, {typed} typed, {expr} expr"
    );
    // sloth's page and ticket alerts proven today (the rest: plugins that change sloth's rules,
    // and SLIs upkeep's evaluator cannot feed): no fewer. Without promtool the test has already
    // failed, or was skipped aloud (`common::tool`).
    if let Some(p) = proof {
        p.assert_none_failed("imported SLO alerts differ from sloth's");
        assert!(
            p.equivalent >= 24,
            "only {} sloth SLO alerts proven equivalent",
            p.equivalent
        );
    }
}

/// Run the equivalence test of every sloth spec against the rules sloth generated from it
/// (`sloth/_gen/`); `None` when promtool is missing and that is allowed.
fn slo_equivalence() -> Option<Tally> {
    let promtool = common::tool("promtool")?;
    let dir = common::scratch("import-slo-equivalence");
    let mut tally = Tally::default();
    let mut specs = Vec::new();
    rule_files(&corpus().join("sloth"), &mut specs);
    specs.retain(|f| f.parent() == Some(corpus().join("sloth").as_path()));
    for (n, f) in specs.iter().enumerate() {
        let generated = corpus()
            .join("sloth/_gen")
            .join(f.file_name().expect("a file name"));
        if !generated.exists() {
            tally.fail(format!(
                "{}: sloth's rules `{}` are missing",
                f.display(),
                generated.display()
            ));
            continue;
        }
        let imported = import::import(std::slice::from_ref(f), "imported");
        let Some(plan) = imported.plan else {
            tally.fail(format!("{}: not imported", f.display()));
            continue;
        };
        let case = built(&dir.join(n.to_string()), &plan);
        let original = import::verify::plain_rules(&generated).expect("sloth's rules");
        let rules = std::fs::read_to_string(case.join("out/prometheus/imported.rules.yaml"))
            .expect("read built rules");
        let eq = import::verify::slo_equivalence(&imported.report, &original, &rules);
        run_cases(&promtool, &case, &eq, &mut tally);
    }
    Some(tally)
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

/// `text` written as `name.yaml` beside nothing else, imported, and its plan checked: the
/// import, its diagnostics, and the report line of each entry.
fn import_checked(name: &str, text: &str) -> (import::Imported, Vec<(String, String, String)>) {
    let imported = import_text(name, text);
    let ds = diagnosed(&imported);
    if let Some(plan) = &imported.plan {
        let ws = driver::check_texts(
            vec![(PathBuf::from("imported.yaml"), plan.clone())],
            Options::default(),
        );
        assert!(ws.diagnostics.is_empty(), "{}\n{plan}", common::human(&ws));
    }
    (imported, ds)
}

/// Whether `ds` (see [`diagnosed`]) has `code` at severity `sev` on the text `at`.
fn has(ds: &[(String, String, String)], code: &str, sev: &str, at: &str) -> bool {
    ds.iter().any(|(c, s, a)| c == code && s == sev && a == at)
}

#[test]
fn documents_that_are_not_imported_are_warnings_at_their_kind() {
    // A rule object beside a ConfigMap in one multi-document file.
    let (imported, ds) = import_checked(
        "rules-and-configmap",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: a}\nspec:\n  groups:\n  - name: a\n    rules:\n    - alert: A\n      expr: x > 1\n---\n",
    );
    assert!(imported.plan.is_some(), "{ds:?}");
    assert!(has(&ds, "file/not-a-plan", "warning", "kind"), "{ds:?}");
    assert_eq!(ds.len(), 1, "{ds:?}");
    // An OpenSLO v1alpha `Service` beside its `SLO`.
    let (imported, ds) = import_checked(
        "openslo-alpha-service",
        "apiVersion: openslo/v1alpha\nkind: Service\nmetadata: {name: api}\nspec: {description: the API}\n---\napiVersion: openslo/v1alpha\nkind: SLO\nmetadata: {name: avail}\nspec:\n  service: api\n  objectives:\n    - ratioMetrics:\n        good: {source: prometheus, queryType: promql, query: 'sum(rate(r{job=\"a\",code!~\"5..\"}[{{.window}}]))'}\n        total: {source: prometheus, queryType: promql, query: 'sum(rate(r{job=\"a\"}[{{.window}}]))'}\n      target: 0.99\n",
    );
    assert!(imported.plan.is_some(), "{ds:?}");
    assert!(
        has(&ds, "schema/unknown-field", "warning", "kind"),
        "{ds:?}"
    );
    assert!(
        ds.iter().any(|(c, _, _)| c == "schema/unknown-field")
            && ds
                .iter()
                .filter(|(c, _, _)| c == "schema/unknown-field")
                .count()
                == 1,
        "{ds:?}"
    );
    assert_eq!(imported.report.count(Outcome::Typed), 1);
}

/// An `OpenSLO` `v1alpha` SLO with `target` and the `good` metric as given.
fn openslo_alpha(target: &str, good: &str) -> String {
    format!(
        "apiVersion: openslo/v1alpha\nkind: SLO\nmetadata: {{name: avail, displayName: Availability}}\nspec:\n  service: api\n  objectives:\n    - ratioMetrics:\n        incremental: true\n        good: {good}\n        total: {{source: prometheus, queryType: promql, query: 'sum(rate(r{{job=\"a\"}}[{{{{.window}}}}]))'}}\n      target: {target}\n"
    )
}

const GOOD: &str = "{source: prometheus, queryType: promql, query: 'sum(rate(r{job=\"a\",code!~\"5..\"}[{{.window}}]))'}";

#[test]
fn openslo_targets_are_written_exactly_as_given() {
    // 0.99999 × 100 is 99.99900000000001 in binary floating point; 0.57 × 100 is 56.99999….
    for (target, objective) in [("0.99999", "99.999%"), ("0.57", "57%"), ("0.999", "99.9%")] {
        let (imported, ds) = import_checked("exact", &openslo_alpha(target, GOOD));
        let plan = imported.plan.expect("a plan");
        assert!(
            plan.contains(&format!("objective: {objective}\n")),
            "{target}: {ds:?}\n{plan}"
        );
        assert!(plan.contains("display name: Availability"), "{plan}");
    }
}

#[test]
fn openslo_sources_and_query_types_are_read_and_others_refused() {
    for (good, why) in [
        (
            "{source: datadog, queryType: query, query: 'sum:requests.ok{*}'}",
            "its `good` query's source is `datadog`, not Prometheus",
        ),
        (
            "{source: prometheus, queryType: metricsql, query: 'sum(rate(r[{{.window}}]))'}",
            "its `good` query is `queryType: metricsql`, not PromQL",
        ),
        (
            "{queryType: promql, query: 'sum(rate(r[{{.window}}]))'}",
            "its `good` query names no `source`",
        ),
    ] {
        let (imported, ds) = import_checked("sources", &openslo_alpha("0.99", good));
        let e = &imported.report.entries[0];
        assert_eq!(e.outcome, Outcome::NotImported, "{e:?} {ds:?}");
        assert!(
            e.became.starts_with(&format!("not imported: {why}")),
            "{e:?}"
        );
    }
    // A field of a metric the reader does not know is a warning, `incremental` a boolean.
    let (imported, ds) = import_checked(
        "metric-fields",
        &openslo_alpha(
            "0.99",
            "{source: prometheus, queryType: promql, query: 'sum(rate(r{job=\"a\",code!~\"5..\"}[{{.window}}]))', region: eu}",
        ),
    );
    assert!(
        has(&ds, "schema/unknown-field", "warning", "region"),
        "{ds:?}"
    );
    assert_eq!(imported.report.count(Outcome::Typed), 1);
    let (imported, ds) = import_checked(
        "incremental",
        &openslo_alpha("0.99", GOOD).replace("incremental: true", "incremental: sometimes"),
    );
    assert!(imported.plan.is_none());
    assert!(has(&ds, "schema/type", "error", "sometimes"), "{ds:?}");
}

/// A pyrra SLO with `alerting` as given.
fn pyrra(alerting: &str) -> String {
    format!(
        "apiVersion: pyrra.dev/v1alpha1\nkind: ServiceLevelObjective\nmetadata: {{name: api, namespace: web}}\nspec:\n  target: \"99.5\"\n  window: 4w\n  indicator:\n    ratio:\n      errors: {{metric: 'http_requests_total{{job=\"api\",code=~\"5..\"}}'}}\n      total: {{metric: 'http_requests_total{{job=\"api\"}}'}}\n{alerting}"
    )
}

#[test]
fn pyrra_alerting_is_followed_and_what_is_not_imported_is_said() {
    let alerts = |i: &import::Imported| i.plan.as_deref().is_some_and(|p| p.contains("alerting:"));
    for (alerting, burn, absent) in [
        ("", true, true),
        ("  alerting: {burnrates: false}\n", false, true),
        // `disabled: false` does not turn the burn rates back on.
        (
            "  alerting: {disabled: false, burnrates: false}\n",
            false,
            true,
        ),
        ("  alerting: {disabled: true}\n", false, true),
        ("  alerting: {absent: false}\n", true, false),
        (
            "  alerting: {burnrates: false, absent: false, absentName: ApiAbsent}\n",
            false,
            false,
        ),
    ] {
        let (imported, ds) = import_checked("pyrra-alerting", &pyrra(alerting));
        assert!(ds.is_empty(), "{alerting}: {ds:?}");
        let e = &imported.report.entries[0];
        assert_eq!(e.outcome, Outcome::Typed, "{alerting}: {e:?}");
        assert_eq!(alerts(&imported), burn, "{alerting}: {:?}", imported.plan);
        assert_eq!(
            e.became
                .contains("no burn-rate alerts, as pyrra writes none"),
            !burn,
            "{alerting}: {e:?}"
        );
        assert_eq!(
            e.became
                .contains("pyrra's absent alert `SLOMetricAbsent` on `http_requests_total{job=\"api\"}` not imported"),
            absent,
            "{alerting}: {e:?}"
        );
    }
    let (imported, ds) = import_checked(
        "pyrra-absent-name",
        &pyrra("  alerting: {absentName: ApiAbsent}\n"),
    );
    assert!(ds.is_empty(), "{ds:?}");
    assert!(imported.report.entries[0].became.contains("`ApiAbsent`"));
    let (imported, ds) =
        import_checked("pyrra-bad-flag", &pyrra("  alerting: {burnrates: nope}\n"));
    assert!(imported.plan.is_none());
    assert!(has(&ds, "schema/type", "error", "nope"), "{ds:?}");
}

#[test]
fn times_finer_than_a_second_are_kept_or_said() {
    let (imported, ds) = import_checked(
        "sub-second",
        "groups:\n- name: api\n  rules:\n  - alert: Errors\n    expr: sum(rate(failed[500ms])) / sum(rate(all[500ms])) > 0.05\n    labels: {severity: warning}\n  - alert: Slow\n    expr: rate(x[1m]) > 1\n    for: 1500ms\n    labels: {severity: warning}\n",
    );
    let plan = imported.plan.clone().expect("a plan");
    // The range stays exact in an `expr` indicator, and the report says why it is not typed.
    assert!(plan.contains("[500ms]"), "{plan}");
    let errors = &imported.report.entries[0];
    assert_eq!(errors.outcome, Outcome::Expr, "{errors:?}");
    assert!(
        errors
            .became
            .contains("its range `500ms` is finer than a plan's windows"),
        "{errors:?}"
    );
    // `for: 1500ms` waits 2s, with a warning at the value and a report line.
    assert!(plan.contains("for: 2s"), "{plan}");
    assert!(has(&ds, "schema/range", "warning", "1500ms"), "{ds:?}");
    assert!(
        imported.report.entries[1]
            .became
            .contains("`for: 1500ms` is written `2s`"),
        "{:?}",
        imported.report.entries[1]
    );
}

/// The bundled plans copied into a scratch directory `tag` (with the fragment they import and
/// the schema their first line names): the directory.
fn bundled_copy(tag: &str) -> PathBuf {
    let dir = common::scratch(tag);
    for sub in ["plans", "plans/shared", "schemas"] {
        std::fs::create_dir_all(dir.join(sub)).expect("mkdir");
        for f in common::files(&common::root().join(sub), ".yaml")
            .into_iter()
            .chain(common::files(&common::root().join(sub), ".json"))
        {
            if f.parent() == Some(common::root().join(sub).as_path()) {
                let name = f.file_name().expect("a name");
                std::fs::copy(&f, dir.join(sub).join(name)).expect("copy");
            }
        }
    }
    dir
}

/// Whether every line of `old` is in `new`, in order, each whole: `new` is `old` with lines
/// added (and the number of lines added).
fn only_lines_added(old: &str, new: &str) -> Option<usize> {
    let mut rest = new.split_inclusive('\n');
    let mut added = 0;
    'old: for line in old.split_inclusive('\n') {
        for l in rest.by_ref() {
            if l == line {
                continue 'old;
            }
            added += 1;
        }
        return None;
    }
    Some(added + rest.count())
}

const REDIS: &str = "prometheus-rules/awesome-prometheus-alerts/redis/oliver006-redis-exporter.yml";

#[test]
fn import_into_a_bundled_plan_keeps_its_text_and_checks_clean() {
    let runs: Vec<String> = ["into-a", "into-b"]
        .iter()
        .map(|tag| {
            let dir = bundled_copy(tag);
            let rules = corpus().join(REDIS);
            let plan = dir.join("plans/ecplacas.yaml");
            let before = std::fs::read_to_string(&plan).expect("read");
            let o = common::upkeep_in(
                &dir,
                &["import", &rules.to_string_lossy(), "--into", "plans/ecplacas.yaml"],
            );
            let report = common::stderr(&o);
            assert_eq!(common::code(&o), 0, "{report}");
            assert!(common::stdout(&o).is_empty());
            // The plan's matrix gives the levels: the new service has the default impact.
            assert!(
                report.contains("alert RedisDown → kpis.redis_down critical (expr); level `P3` (the plan's severity matrix)"),
                "{report}"
            );
            assert!(report.contains("12 KPIs added"), "{report}");
            let after = std::fs::read_to_string(&plan).expect("read");
            let added = only_lines_added(&before, &after).expect("every line of the plan is kept, in order");
            assert!(added > 100, "{added} lines added");
            assert!(!after.contains("levels:\n      critical: critical"), "{after}");
            // The plan and everything it imports check clean.
            let o = common::upkeep_in(&dir, &["check", "plans/"]);
            assert_eq!(common::code(&o), 0, "{}", common::stderr(&o));
            assert!(common::stderr(&o).contains("no problems"), "{}", common::stderr(&o));
            // Again: everything is the plan's already, and nothing is written.
            let o = common::upkeep_in(
                &dir,
                &["import", &rules.to_string_lossy(), "--into", "plans/ecplacas.yaml"],
            );
            assert_eq!(common::code(&o), 0, "{}", common::stderr(&o));
            assert!(common::stderr(&o).contains("12 KPIs already in the plan"), "{}", common::stderr(&o));
            assert_eq!(std::fs::read_to_string(&plan).expect("read"), after);
            after
        })
        .collect();
    assert_eq!(runs[0], runs[1], "two imports into two copies differ");
}

#[test]
fn import_into_reuses_services_and_renames_what_collides() {
    let dir = bundled_copy("into-names");
    // A group named like the plan's `redis` service; an alert named like its `mysql_up` KPI
    // but saying something else; an SLO on a service the plan has; a severity the plan names
    // its levels after.
    std::fs::write(
        dir.join("rules.yml"),
        "groups:\n- name: redis\n  rules:\n  - alert: MysqlUp\n    expr: redis_up < 1\n    labels: {severity: critical}\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("slo.yml"),
        "version: prometheus/v1\nservice: backend\nslos:\n  - name: latency\n    objective: 99.5\n    sli:\n      events:\n        error_query: sum(rate(http_requests_total{job=\"backend\",code=~\"5..\"}[{{.window}}]))\n        total_query: sum(rate(http_requests_total{job=\"backend\"}[{{.window}}]))\n",
    )
    .expect("write");
    let plan = dir.join("plans/ecplacas.yaml");
    let before = std::fs::read_to_string(&plan).expect("read");
    let o = common::upkeep_in(
        &dir,
        &[
            "import",
            "rules.yml",
            "slo.yml",
            "--into",
            "plans/ecplacas.yaml",
        ],
    );
    let report = common::stderr(&o);
    assert_eq!(common::code(&o), 0, "{report}");
    assert!(report.contains("service `redis` is the plan's"), "{report}");
    assert!(
        report.contains("service `backend` is the plan's"),
        "{report}"
    );
    assert!(
        report
            .contains("kpis.mysql_up is added as kpis.mysql_up_2: the plan has another `mysql_up`"),
        "{report}"
    );
    assert!(
        report.contains("slos.latency is added as slos.latency_2"),
        "{report}"
    );
    // `redis` has `impact: medium`; the SLO's levels are the matrix's for `backend` (critical).
    assert!(
        report.contains("kpis.mysql_up_2 critical (expr); level `P2`"),
        "{report}"
    );
    let after = std::fs::read_to_string(&plan).expect("read");
    only_lines_added(&before, &after).expect("the plan's lines are kept");
    assert!(
        after.contains("  mysql_up_2:\n    service: redis\n"),
        "{after}"
    );
    assert!(
        after.contains("  latency_2:\n    service: backend\n"),
        "{after}"
    );
    assert!(
        after.contains("    alerting:\n      page: P0\n      ticket: P2\n"),
        "{after}"
    );
    assert!(
        !after.contains("\n  redis: {}"),
        "the plan's service is not added again"
    );
    let o = common::upkeep_in(&dir, &["check", "plans/"]);
    assert_eq!(common::code(&o), 0, "{}", common::stderr(&o));
}

#[test]
fn import_into_what_is_not_a_plan_is_a_diagnostic_and_writes_nothing() {
    let dir = bundled_copy("into-errors");
    let rules = corpus().join(REDIS).to_string_lossy().into_owned();
    let run = |plan: &str| common::upkeep_in(&dir, &["import", &rules, "--into", plan]);
    // Missing: an I/O failure naming the file.
    let o = run("plans/missing.yaml");
    assert_eq!(common::code(&o), 2, "{}", common::stderr(&o));
    assert!(
        common::stderr(&o).contains("file/unreadable"),
        "{}",
        common::stderr(&o)
    );
    // A fragment: at its `kind`, with what to name instead.
    let fragment = dir.join("plans/shared/runbooks.yaml");
    let kept = std::fs::read_to_string(&fragment).expect("read");
    let o = run("plans/shared/runbooks.yaml");
    assert_eq!(common::code(&o), 1, "{}", common::stderr(&o));
    let err = common::stderr(&o);
    assert!(
        err.contains("file/not-a-plan") && err.contains("is a fragment"),
        "{err}"
    );
    assert!(err.contains("runbooks.yaml:8:7"), "{err}");
    assert_eq!(std::fs::read_to_string(&fragment).expect("read"), kept);
    // Not YAML: the syntax error, in the plan.
    std::fs::write(
        dir.join("plans/broken.yaml"),
        "apiVersion: upkeep/v1\nkind: Plan\nmetadata: [\n",
    )
    .expect("write");
    let o = run("plans/broken.yaml");
    assert_eq!(common::code(&o), 1, "{}", common::stderr(&o));
    assert!(
        common::stderr(&o).contains("syntax"),
        "{}",
        common::stderr(&o)
    );
    // A plan with an error of its own: its report, and nothing written.
    let plan = dir.join("plans/nuam.yaml");
    let wrong = std::fs::read_to_string(&plan).expect("read").replacen(
        "timezone:",
        "timezone: Mars/Olympus\n  x-timezone:",
        1,
    );
    std::fs::write(&plan, &wrong).expect("write");
    let o = run("plans/nuam.yaml");
    assert_eq!(common::code(&o), 1, "{}", common::stderr(&o));
    assert!(
        common::stderr(&o).contains("fix them before importing into it"),
        "{}",
        common::stderr(&o)
    );
    assert_eq!(std::fs::read_to_string(&plan).expect("read"), wrong);
    // A symbolic link to a plan: never written through.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("ecplacas.yaml", dir.join("plans/link.yaml")).expect("link");
        let target = std::fs::read_to_string(dir.join("plans/ecplacas.yaml")).expect("read");
        let o = run("plans/link.yaml");
        assert_eq!(common::code(&o), 2, "{}", common::stderr(&o));
        assert!(
            common::stderr(&o).contains("symbolic link"),
            "{}",
            common::stderr(&o)
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("plans/ecplacas.yaml")).expect("read"),
            target
        );
    }
    // `--into` names where the plan goes: not with `--out` or `--name`.
    let o = common::upkeep_in(
        &dir,
        &[
            "import",
            &rules,
            "--into",
            "plans/ecplacas.yaml",
            "--out",
            "x.yaml",
        ],
    );
    assert_eq!(common::code(&o), 2);
    // Nothing but the links and files the test made is left in the plans' directory.
    let left: Vec<PathBuf> = common::files(&dir.join("plans"), "")
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".upkeep-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// The differences the round trip expects, each named, with why the rules cannot carry it:
/// (plan, section, subject, field, why). A field of `*` is the whole entry; a plan or subject of
/// `*` is every one (a field the rules never carry, whichever entry it is in).
const ROUND_TRIP_EXPECTED: &[(&str, &str, &str, &str, &str)] = &[
    ("*", "slos", "*", "description", DESC),
    ("*", "slos", "*", "runbook", RUNBOOK),
    ("*", "kpis", "*", "runbook", RUNBOOK),
    ("*", "alerts", "*", "runbook", RUNBOOK),
    ("*", "services", "*", "health.body.runbook", RUNBOOK),
    ("*", "kpis", "*", "levels.warning", MATRIX),
    ("*", "kpis", "*", "levels.critical", MATRIX),
    ("*", "services", "*", "health.level", MATRIX),
    ("*", "services", "*", "health.body.level", MATRIX),
    (
        "conecta360",
        "services",
        "casos",
        "health.interval",
        INTERVAL,
    ),
    (
        "conecta360",
        "services",
        "elasticsearch",
        "health.interval",
        INTERVAL,
    ),
    ("ecplacas", "services", "nginx", "health.interval", INTERVAL),
    ("ecplacas", "services", "redis", "health.interval", INTERVAL),
    ("ecplacas", "slos", "availability_yearly", "*", NOALERTS),
    ("ecplacas", "slos", "latency", "indicator", SELECTOR),
];

/// An SLO's `description` is the plan's prose: its alerts' annotations say what burns, not it.
const DESC: &str = "an SLO's description is not written into its rules";
/// The rules carry the runbook's URL (`runbook_url`, kept as a comment), not the plan's runbook
/// entry the SLO, KPI, health check and their alerts refer to.
const RUNBOOK: &str = "the rules carry a runbook's URL, not the plan's runbook";
/// Each alert carries the level it resolved to (`level`), not whether the plan named it or its
/// severity matrix chose it: the import names it (and each alert's level is compared).
const MATRIX: &str = "the rules carry an alert's level, not whether the severity matrix chose it";
/// A health check's rules hold its attempt period (`interval / retries`, at least `timeout`; a
/// command's on whole minutes), and several intervals give the same one: the import writes the
/// roundest, and the alerts are the same.
const INTERVAL: &str = "the rules hold the attempt period, which several intervals give";
/// An SLO without `alerting` has no burn-rate alerts: its recording rules alone are no alert
/// set, and stay in the rule file.
const NOALERTS: &str = "an SLO without alerting writes no burn-rate alerts to lift";
/// A latency SLO without `selector` reads its service's `job`; the rules hold the matcher, not
/// the service's job, so the import writes the selector out (the same series).
const SELECTOR: &str = "the service's job is not in the rules: the selector is written out";

/// What of a plan the round trip compares, read from the rules upkeep generated for it: its
/// KPIs (the `kpi` label of their recording rules), the services with a health check (the
/// `service` label of the alerts of the `PLAN.health` group), and the alerts of both.
#[derive(Default)]
struct Lifted {
    kpis: std::collections::BTreeSet<String>,
    checked: std::collections::BTreeSet<String>,
    alerts: std::collections::BTreeSet<String>,
}

impl Lifted {
    /// Add the KPI and health-check alerts of `rules` (a rules file's text) whose KPI or service
    /// is among `of` (itself when `None`).
    fn read(&mut self, plan: &str, rules: &str, of: Option<&Lifted>) {
        let doc: serde_json::Value = serde_saphyr::from_str(rules).expect("rules YAML");
        let health = format!("{plan}.health");
        for g in doc["groups"].as_array().expect("groups") {
            for r in g["rules"].as_array().expect("rules") {
                let label = |k: &str| r["labels"][k].as_str().map(str::to_owned);
                let kpi = label("kpi").filter(|k| of.is_none_or(|o| o.kpis.contains(k)));
                let service = label("service")
                    .filter(|_| g["name"].as_str() == Some(health.as_str()))
                    .filter(|s| of.is_none_or(|o| o.checked.contains(s)));
                if kpi.is_none() && service.is_none() {
                    continue;
                }
                if let Some(a) = r["alert"].as_str() {
                    self.alerts.insert(a.to_owned());
                }
                if of.is_none() {
                    self.kpis.extend(kpi);
                    self.checked.extend(service);
                }
            }
        }
    }

    /// Whether a change of the diff is about what the import lifts from upkeep's own rules.
    fn compared(&self, section: &str, subject: &str, field: &str) -> bool {
        match section {
            "slos" => true,
            "kpis" => self.kpis.contains(subject),
            "services" => self.checked.contains(subject) && field.starts_with("health"),
            "alerts" => {
                self.alerts.contains(subject)
                    || subject.ends_with("BurnRatePage")
                    || subject.ends_with("BurnRateTicket")
            }
            _ => false,
        }
    }
}

/// Round trip: every bundled plan is built, its generated rules are imported
/// (`upkeep import out/prometheus/PLAN.rules.yaml`), and `upkeep diff` of the original against
/// the import shows no change in what the import lifts from upkeep's own rules: its SLOs
/// (objective, window, indicator, page and ticket levels) and their burn-rate alerts, its KPIs
/// (indicator, unit, thresholds, `for`, `over`, objective, levels, description) and their
/// alerts, and its services' health checks and their alerts. The diff's facts are restricted
/// here, in the test, to those entries (found in the rules generated for the original and for
/// the import): a plan's receivers, windows, tasks, backups and runbooks are not read back from
/// a rule file. Every other difference in those entries is listed in [`ROUND_TRIP_EXPECTED`]; a
/// new one, or one listed that no longer happens, fails the test. Then the lifted SLOs' and
/// KPIs' alerts are proven to fire as the originals do (promtool).
#[test]
fn bundled_plans_round_trip_through_their_generated_rules() {
    let root = common::root();
    let dir = common::scratch("import-round-trip");
    let bin = env!("CARGO_BIN_EXE_upkeep");
    common::run_ok(
        std::process::Command::new(bin)
            .arg("build")
            .arg(root.join("plans"))
            .args(["--out"])
            .arg(dir.join("out"))
            .args(["--target", "prometheus"]),
    );
    let mut plans: Vec<PathBuf> = std::fs::read_dir(root.join("plans"))
        .expect("plans")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    plans.sort();
    assert!(plans.len() >= 5, "{plans:?}");
    let mut seen = Vec::new();
    let mut unexpected = Vec::new();
    let mut rules = Vec::new();
    let (mut slo_alerts, mut kpi_alerts, mut checks) = (0, 0, 0);
    for p in &plans {
        let name = p.file_stem().and_then(|s| s.to_str()).expect("name");
        let generated = dir.join(format!("out/prometheus/{name}.rules.yaml"));
        let imported = dir.join(format!("{name}.yaml"));
        common::run_ok(
            std::process::Command::new(bin)
                .arg("import")
                .arg(&generated)
                .args(["--name", name, "--out"])
                .arg(&imported),
        );
        // What is compared: the original's KPIs and health checks, and their alerts in both.
        let mut lifted = Lifted::default();
        let text = std::fs::read_to_string(&generated).expect("read rules");
        lifted.read(name, &text, None);
        let again = dir.join(format!("{name}-again"));
        common::run_ok(
            std::process::Command::new(bin)
                .arg("build")
                .arg(&imported)
                .args(["--out"])
                .arg(&again)
                .args(["--target", "prometheus"]),
        );
        let text = std::fs::read_to_string(again.join(format!("prometheus/{name}.rules.yaml")))
            .expect("read the import's rules");
        let original = std::mem::take(&mut lifted);
        lifted.read(name, &text, Some(&original));
        lifted.kpis = original.kpis;
        lifted.checked = original.checked;
        lifted.alerts.extend(original.alerts);
        rules.push(generated);
        let o = std::process::Command::new(bin)
            .arg("diff")
            .arg(p)
            .arg(&imported)
            .args(["--format", "json"])
            .output()
            .expect("run diff");
        let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
            panic!(
                "{name}: diff JSON: {e}: {}",
                String::from_utf8_lossy(&o.stdout)
            )
        });
        assert_eq!(json["errors"], serde_json::json!([]), "{name}: {json}");
        let text = std::fs::read_to_string(&imported).expect("read import");
        slo_alerts += text
            .matches("of a multi-window burn-rate alert set")
            .count();
        kpi_alerts += text.matches(", its warning alert `").count()
            + text.matches(", its critical alert `").count();
        checks += text.matches(", its down alert `").count();
        for c in json["plans"][0]["changes"].as_array().expect("changes") {
            let section = c["section"].as_str().unwrap_or_default();
            let subject = c["subject"].as_str().unwrap_or_default();
            let field = c["field"].as_str().unwrap_or("*");
            if !lifted.compared(section, subject, field) {
                continue;
            }
            let any = |want: &str, is: &str| want == "*" || want == is;
            if let Some(i) = ROUND_TRIP_EXPECTED.iter().position(|(p, s, n, f, _)| {
                any(p, name) && *s == section && any(n, subject) && *f == field
            }) {
                seen.push(i);
            } else {
                unexpected.push(format!(
                    "{name}: {section} `{subject}` {field}: {}",
                    c["message"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    let stale: Vec<String> = ROUND_TRIP_EXPECTED
        .iter()
        .enumerate()
        .filter(|(i, _)| !seen.contains(i))
        .map(|(_, e)| e)
        .map(|(p, s, n, f, why)| format!("{p}: {s} `{n}` {f} ({why})"))
        .collect();
    assert!(
        unexpected.is_empty() && stale.is_empty(),
        "round trip: unexpected differences:\n{}\nexpected but not found:\n{}",
        unexpected.join("\n"),
        stale.join("\n")
    );
    let proof = burn_equivalence(&rules, "import-round-trip-equivalence");
    let kpi_proof = kpi_equivalence(&rules, "import-round-trip-kpi-equivalence");
    println!(
        "import round trip: {} plans, {slo_alerts} SLO burn-rate alerts, {kpi_alerts} KPI alerts and {checks} health checks lifted back, {} expected differences; SLOs {}; KPIs {}",
        plans.len(),
        ROUND_TRIP_EXPECTED.len(),
        Tally::line(proof.as_ref()),
        Tally::line(kpi_proof.as_ref())
    );
    if let Some(p) = proof {
        p.assert_none_failed("SLOs lifted from upkeep's own burn-rate alerts differ from them");
        assert!(
            p.untested == 0 && p.equivalent >= slo_alerts,
            "{} equivalent of {slo_alerts}",
            p.equivalent
        );
    }
    if let Some(p) = kpi_proof {
        p.assert_none_failed("KPIs lifted from upkeep's own KPI rules differ from them");
        assert!(
            p.equivalent + p.untested >= kpi_alerts && p.equivalent * 10 >= kpi_alerts * 9,
            "{} equivalent, {} untested of {kpi_alerts}",
            p.equivalent,
            p.untested
        );
    }
}

/// The equivalence test of the alerts of the KPIs read back from upkeep's own KPI rules in
/// `files`, each original alert beside the recording rule it reads; `None` when promtool is
/// missing and that is allowed.
fn kpi_equivalence(files: &[PathBuf], scratch: &str) -> Option<Tally> {
    proven(files, scratch, &|report, _, rules| {
        import::verify::kpi_equivalence(report, rules)
    })
}

/// upkeep's KPI rules: a record `kpi:NAME:KIND`, a threshold alert and its no-data alert.
fn upkeep_kpi(description: &str, no_data_for: &str) -> String {
    format!(
        r#"
groups:
- name: p.kpis
  rules:
  - record: kpi:queue_depth:expr
    expr: max(queue_depth{{job="q"}})
    labels: {{plan: p, service: q, kpi: queue_depth}}
  - alert: QueueDepthHigh
    expr: kpi:queue_depth:expr{{plan="p", kpi="queue_depth"}} > 100
    for: 5m
    labels: {{severity: critical, level: high, plan: p, service: q, kpi: queue_depth}}
    annotations:
      description: "{description}"
  - alert: QueueDepthNoData
    expr: absent(kpi:queue_depth:expr{{plan="p", kpi="queue_depth"}})
    for: {no_data_for}
    labels: {{severity: critical, level: high, plan: p, service: q, kpi: queue_depth}}
"#
    )
}

#[test]
fn upkeeps_kpi_rules_are_one_kpi_and_edited_ones_are_rules_as_any_other() {
    let said = "Jobs waiting of `q` is {{ $value | humanize }} jobs, warning above 100 (objective <= 100 jobs).";
    let imported = import_text("kpi-own", &upkeep_kpi(said, "10m"));
    let plan = imported.plan.expect("plan");
    assert!(
        plan.contains("queue_depth:\n")
            && plan.contains("description: Jobs waiting")
            && plan.contains("unit: jobs")
            && plan.contains("objective: <= 100 jobs")
            && plan.contains("warning: \"> 100\"")
            && plan.contains("warning: high"),
        "{plan}"
    );
    assert_eq!(plan.matches("indicator:").count(), 1, "{plan}");
    let ws = driver::check_texts(
        vec![(PathBuf::from("imported.yaml"), plan.clone())],
        Options::default(),
    );
    assert!(ws.diagnostics.is_empty(), "{}\n{plan}", common::human(&ws));
    // The no-data alert upkeep writes is part of the KPI, never a KPI of its own.
    assert!(
        imported
            .report
            .entries
            .iter()
            .any(|e| e.rule == "alert QueueDepthNoData" && e.outcome == Outcome::Consumed)
    );
    // Not upkeep's: a description that does not say the threshold, a no-data alert that waits
    // otherwise. Each rule is imported on its own, as before.
    for text in [upkeep_kpi("Jobs waiting.", "10m"), upkeep_kpi(said, "15m")] {
        let imported = import_text("kpi-edited", &text);
        assert!(
            !imported
                .report
                .entries
                .iter()
                .any(|e| e.became.contains("upkeep's own KPI rules")),
            "{:?}",
            imported.report.entries
        );
    }
}
