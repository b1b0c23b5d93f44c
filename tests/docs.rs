//! The runbook documentation: markdownlint and lychee (offline, fragments included) accept the
//! pages of every bundled plan and fixture, and both tools do reject a broken page; every page
//! is snapshotted; a broken template override is a `template/error` naming the file and line;
//! Markdown in plan text cannot break a table; every `runbook_url` of the generated rules is a
//! generated page; output is deterministic; no plan makes the generator panic.

mod common;

use common::{build, files, fresh as tmp};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use upkeep::emit::{Options, Target};

fn upkeep(args: &[&str], extra: &[&Path]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_upkeep"));
    cmd.args(args).current_dir(common::root());
    for a in extra {
        cmd.arg(a);
    }
    cmd.output().expect("run upkeep")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

const PLANS: &[&str] = &["conecta360", "diabetes", "ecplacas", "nuam", "sigcerh"];
const EVERY_KIND: &str = "tests/fixtures/emit/every-kind.yaml";
const HOSTILE: &str = "tests/fixtures/docs/markdown-hostile.yaml";

fn markdownlint(dir: &Path) -> Option<Output> {
    let tool = common::tool("markdownlint")?;
    Some(
        Command::new(tool)
            .arg("--config")
            .arg(common::root().join("tests/markdownlint.json"))
            .arg(dir)
            .output()
            .expect("run markdownlint"),
    )
}

fn lychee(dir: &Path) -> Option<Output> {
    let tool = common::tool("lychee")?;
    Some(
        Command::new(tool)
            .args(["--offline", "--include-fragments", "--no-progress"])
            .arg(dir)
            .output()
            .expect("run lychee"),
    )
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Both tools accept the pages under `out/runbooks`.
fn lint_ok(out: &Path) {
    let docs = out.join("runbooks");
    assert!(
        !files(&docs, ".md").is_empty(),
        "no pages under {}",
        docs.display()
    );
    if let Some(o) = markdownlint(&docs) {
        assert!(o.status.success(), "markdownlint:\n{}", text(&o));
    }
    if let Some(o) = lychee(&docs) {
        assert!(o.status.success(), "lychee:\n{}", text(&o));
    }
}

#[test]
fn bundled_plans_pass_markdownlint_and_lychee() {
    let out = build("plans/", "lint-plans", &["--target", "runbooks"]);
    for plan in PLANS {
        for page in ["index.md", "postmortem.md"] {
            assert!(
                out.join(format!("runbooks/{plan}/{page}")).is_file(),
                "{plan}: no {page}"
            );
        }
    }
    lint_ok(&out);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn every_kind_and_hostile_text_pass_markdownlint_and_lychee() {
    for (source, tag) in [(EVERY_KIND, "lint-every"), (HOSTILE, "lint-hostile")] {
        let out = build(source, tag, &["--target", "runbooks"]);
        lint_ok(&out);
        let _ = std::fs::remove_dir_all(&out);
    }
}

/// The linters are not vacuous: a dangling anchor, a missing page and a heading glued to a
/// paragraph are rejected.
#[test]
fn linters_reject_a_broken_page() {
    let out = build(EVERY_KIND, "lint-broken", &["--target", "runbooks"]);
    let index = out.join("runbooks/every-kind/index.md");
    let original = read(&index);
    for (broken, tool) in [
        (
            original.replace("(#severity-levels)", "(#severity-level)"),
            "lychee",
        ),
        (original.replace("(api-down.md)", "(api-up.md)"), "lychee"),
        (
            original.replace("\n\n## Services", "\n## Services"),
            "markdownlint",
        ),
    ] {
        assert_ne!(
            broken, original,
            "the page no longer has what {tool} should catch"
        );
        std::fs::write(&index, &broken).expect("write");
        let o = if tool == "lychee" {
            lychee(&out.join("runbooks"))
        } else {
            markdownlint(&out.join("runbooks"))
        };
        if let Some(o) = o {
            assert!(!o.status.success(), "{tool} accepted a broken page");
        }
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn every_page_is_snapshotted() {
    let out = build("plans/", "snap", &["--target", "runbooks"]);
    let pages = files(&out.join("runbooks"), ".md");
    let plans: std::collections::BTreeSet<String> = pages
        .iter()
        .filter_map(|p| p.parent()?.file_name()?.to_str().map(str::to_owned))
        .collect();
    assert_eq!(plans.into_iter().collect::<Vec<_>>(), PLANS);
    for page in pages {
        let rel = page
            .strip_prefix(&out)
            .expect("prefix")
            .to_string_lossy()
            .replace('/', "__");
        insta::assert_snapshot!(rel, read(&page));
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn output_is_deterministic() {
    let a = build("plans/", "det-a", &["--target", "runbooks"]);
    let b = build("plans/", "det-b", &["--target", "runbooks"]);
    let pages = files(&a, ".md");
    assert!(!pages.is_empty());
    for f in pages {
        let rel = f.strip_prefix(&a).expect("prefix");
        assert_eq!(
            read(&f),
            read(&b.join(rel)),
            "{} differs between builds",
            rel.display()
        );
    }
    assert_eq!(files(&a, ".md").len(), files(&b, ".md").len());
    for d in [a, b] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// A template override that does not compile, or that reads a field that does not exist, stops
/// the build with a `template/error` naming the template file and line; nothing is written.
#[test]
fn broken_template() {
    for (file, text, line) in [
        // An unclosed expression on line 3.
        ("index.md.j2", "# {{ plan.title }}\n\n{{ plan.name }\n", 3),
        // A misspelt field, read on line 2.
        (
            "runbook.md.j2",
            "# {{ runbook.title }}\n{{ runbook.sypmtoms }}\n",
            2,
        ),
        // An unknown filter on line 4.
        ("postmortem.md.j2", "# P\n\nx\n{{ plan.name | shout }}\n", 4),
        // Runaway overrides are bounded (the template fuel), not a hang or an OOM kill: a
        // billion iterations, and a string of ten billion bytes.
        (
            "runbook.md.j2",
            "# R\n{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}\n",
            2,
        ),
        ("index.md.j2", "# I\n\n{{ \"x\" * 10000000000 }}\n", 3),
    ] {
        let dir = tmp("templates");
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join(file), text).expect("write template");
        let out = tmp("broken-out");
        let o = upkeep(
            &["build", "plans/ecplacas.yaml", "--out"],
            &[&out, Path::new("--templates"), &dir],
        );
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{file}:\n{stderr}");
        assert!(stderr.contains("template/error"), "{file}:\n{stderr}");
        // The report points into the override file, at the line (`…/index.md.j2:3:14`).
        let at = format!("{}:{line}:", dir.join(file).display());
        assert!(
            stderr.contains(&at),
            "{file} line {line} not pointed at ({at}):\n{stderr}"
        );
        assert!(!out.exists(), "{file}: something was written");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A working override replaces the built-in template, and only that one.
#[test]
fn template_override_replaces_the_builtin() {
    let dir = tmp("override");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("postmortem.md.j2"),
        "# Incident review for {{ plan.title | md }}\n\nLevels: {{ severity.levels | map(attribute=\"name\") | join(\", \") }}\n",
    )
    .expect("write");
    let out = tmp("override-out");
    let o = upkeep(
        &[
            "build",
            "plans/ecplacas.yaml",
            "--target",
            "runbooks",
            "--out",
        ],
        &[&out, Path::new("--templates"), &dir],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        read(&out.join("runbooks/ecplacas/postmortem.md")),
        "# Incident review for ECPlacas 2.0 — Plan de Mantenimiento Integral\n\nLevels: P0, P1, P2, P3, P4\n"
    );
    assert!(read(&out.join("runbooks/ecplacas/index.md")).contains("## Severity levels"));
    for d in [dir, out] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// The cells of a GitHub table row: split on `|` that is not escaped (GitHub splits on it even
/// inside code spans).
fn cells(row: &str) -> Vec<String> {
    let inner = row.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut out = vec![String::new()];
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let last = out.last_mut().expect("a cell");
                last.push(c);
                if let Some(n) = chars.next() {
                    last.push(n);
                }
            }
            '|' => out.push(String::new()),
            c => out.last_mut().expect("a cell").push(c),
        }
    }
    out.into_iter().map(|c| c.trim().to_owned()).collect()
}

/// Every table in `page`: its rows, the header first.
fn tables(page: &str) -> Vec<Vec<Vec<String>>> {
    let mut out: Vec<Vec<Vec<String>>> = Vec::new();
    let mut current: Vec<Vec<String>> = Vec::new();
    let mut in_code = false;
    for line in page.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        if !in_code && line.starts_with('|') {
            current.push(cells(line));
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// A `|` (and backticks, `<`, `*`, a newline) in a KPI description stays inside its cell, and
/// every row of every table of every page has as many cells as its header.
#[test]
fn markdown_in_plan_text_does_not_break_tables() {
    let out = build(HOSTILE, "pipes", &["--target", "runbooks"]);
    let index = read(&out.join("runbooks/markdown-hostile/_index.md"));
    let kpis = tables(&index)
        .into_iter()
        .find(|t| t[0].first().is_some_and(|c| c == "KPI"))
        .expect("a KPI table");
    let latency = kpis
        .iter()
        .find(|r| r[0] == "`latency`")
        .expect("a row for the latency KPI");
    assert_eq!(latency.len(), kpis[0].len(), "{latency:?}");
    assert_eq!(
        latency[2],
        "p99 \\| p95 latency, \\`histogram_quantile\\` over \\*all\\* routes second line \\<br>",
        "the description is one cell, escaped"
    );
    for page in files(&out.join("runbooks"), ".md") {
        for table in tables(&read(&page)) {
            let width = table[0].len();
            assert!(
                table[1].iter().all(|c| c == "---"),
                "{}: no delimiter row under {:?}",
                page.display(),
                table[0]
            );
            for row in &table {
                assert_eq!(row.len(), width, "{}: {row:?}", page.display());
            }
        }
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// Every `runbook_url` annotation of the generated rules is a generated page: under the base URL
/// (`metadata.runbook_base_url`, or `--runbook-base-url`) with the plan's directory of runbooks
/// below it. `None`: each bundled plan's own base, which ends in `/runbooks/`.
#[test]
fn every_runbook_url_is_a_generated_page() {
    for (source, tag, base, args) in [
        ("plans/", "urls-plans", None, vec![]),
        (
            EVERY_KIND,
            "urls-every",
            Some("https://runbooks.example.org/ops/"),
            vec![],
        ),
        (
            "plans/",
            "urls-flag",
            Some("https://wiki.example.org/runbooks/"),
            vec!["--runbook-base-url", "https://wiki.example.org/runbooks"],
        ),
    ] {
        let out = build(source, tag, &args);
        let mut checked = 0;
        for rules in files(&out.join("prometheus"), ".rules.yaml") {
            let doc: serde_json::Value =
                serde_saphyr::from_str(&read(&rules)).expect("rules parse");
            for group in doc["groups"].as_array().expect("groups") {
                for rule in group["rules"].as_array().expect("rules") {
                    let Some(url) = rule["annotations"]["runbook_url"].as_str() else {
                        continue;
                    };
                    let rel = match base {
                        None => format!(
                            "runbooks/{}",
                            url.split_once("/runbooks/")
                                .unwrap_or_else(|| panic!("{url} is not under a `/runbooks/` base"))
                                .1
                        ),
                        Some(b) => format!(
                            "runbooks/{}",
                            url.strip_prefix(b)
                                .unwrap_or_else(|| panic!("{url} is not under {b}"))
                        ),
                    };
                    assert!(
                        out.join(&rel).is_file(),
                        "{}: runbook_url {url} has no page ({rel})",
                        rules.display()
                    );
                    checked += 1;
                }
            }
        }
        assert!(
            checked > 10,
            "{source}: only {checked} runbook_url annotations"
        );
        let _ = std::fs::remove_dir_all(&out);
    }
}

/// The numbers of the `ECPlacas` seed: ROI (630,000 − 258,000) / 258,000 = 144%, payback
/// 258,000 / 630,000 × 12 = 4.9 months, category totals 84,000 + 144,000 + 30,000; and the
/// error budget of 99.9% over 30 days is 43.2 minutes.
#[test]
fn budget_and_error_budgets_are_computed() {
    let out = build("plans/ecplacas.yaml", "numbers", &["--target", "runbooks"]);
    let index = read(&out.join("runbooks/ecplacas/index.md"));
    for expected in [
        "- ROI: 144.2% ",
        "- Payback: 4.9 months ",
        "- Net benefit: 372,000 USD per year",
        "| `infrastructure` | 84,000 USD | 32.6% |",
        "| `human_resources` | 144,000 USD | 55.8% |",
        "| `tools_software` | 30,000 USD | 11.6% |",
        "| predictive | 40% | 103,200 USD |",
        "| 99.9% | 30d | 0.1% = 43.2 min |",
        "| 95% | 30d | 5% = 2,160 min |",
    ] {
        assert!(
            index.contains(expected),
            "no {expected:?} in the ECPlacas index"
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// The generator returns pages (or diagnostics) for every plan the compiler can load, even one
/// with errors, without panicking; plans without errors render without diagnostics.
#[test]
fn no_plan_makes_the_generator_panic() {
    let mut paths: Vec<PathBuf> = files(&common::root().join("tests/fixtures"), ".yaml");
    paths.extend(files(&common::root().join("plans"), ".yaml"));
    let opts = Options {
        targets: vec![Target::Runbooks],
        ..Options::default()
    };
    let mut rendered = 0;
    for path in paths {
        let ws = common::check(&path);
        let clean = ws.errors() == 0;
        for plan in &ws.plans {
            let mut diags = upkeep::diag::Diagnostics::new();
            let pages = upkeep::driver::build_plan(&ws, plan, &opts, &mut diags);
            if clean {
                assert!(diags.is_empty(), "{}: {diags:?}", path.display());
                assert!(
                    pages.iter().any(|p| p.path.ends_with("index.md")),
                    "{}: no index",
                    path.display()
                );
            }
            rendered += pages.len();
        }
    }
    assert!(rendered > 100, "only {rendered} pages");
}
