//! Every YAML example in the README and the book is checked: the book shows only what the tool
//! accepts, and the generated output it shows is what the tool generates.
//!
//! # The convention
//!
//! Every ```` ```yaml ```` block of `README.md` and `book/src/**/*.md` is in exactly one of
//! these categories, given by the words after `yaml` in its info string:
//!
//! - ```` ```yaml ````: a complete plan or fragment (its first line that is not a comment is
//!   `apiVersion: upkeep/v1`). `upkeep check` on it is clean.
//! - ```` ```yaml snippet ````: top-level sections of a plan (`kpis:`, `backups:` …). They are
//!   merged into the plan [`BASE`], which defines the services, levels and receivers snippets
//!   refer to: a real YAML merge, section by section and, where both are mappings, entry by
//!   entry (a snippet's `services.api` replaces the base's, its `severity.levels` replaces the
//!   base's levels, its `kpis.latency` is added). The result checks clean.
//! - ```` ```yaml files ````: several complete files, each after a `# file: PATH` line. They are
//!   written to a directory, which checks clean.
//! - ```` ```yaml excerpt=PATH ````: lines of the plan `PATH` (`plans/nuam.yaml`). They appear
//!   in `PATH` in one piece, and `PATH` checks clean.
//! - ```` ```yaml output=PATH ````: generated output, the file `PATH` of
//!   `upkeep build plans/ --out DIR`. The lines appear in `DIR/PATH`, in order; a `# …` line
//!   stands for lines left out.
//! - ```` ```yaml other ````: YAML for another tool (a pre-commit or GitHub Actions
//!   configuration). It parses as YAML; `{{#include FILE}}` is read from `FILE`.
//!
//! A deliberately broken example adds `expect=CODE,CODE…` to a `yaml`, `yaml snippet` or
//! `yaml files` block: the check must report exactly those codes (each at least once) instead
//! of nothing. An example on a diagnostic's page (`book/src/diagnostics/CODE.md`) must expect
//! that page's code. A block in no category, or with an unknown word, fails the test with its
//! file and line.
//!
//! Text that is not YAML (a command, a report, a description of a file) goes in a `text`,
//! `console` or `sh` block instead.
//!
//! The README's broken-plan example is run too: its `sed` on a copy of `plans/`, then
//! `upkeep check plans/`, must print exactly the report the README shows
//! (`UPKEEP_BLESS=1 cargo test --test examples` rewrites it). So is every ```` ```console ````
//! block whose commands are all `upkeep …`: what follows `$ upkeep ARGS` is what it prints, with
//! a `…` line for lines left out.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use upkeep::diag::Diagnostics;
use upkeep::parse::Value;
use upkeep::source::SourceFile;
use upkeep::span::FileId;

/// The plan `yaml snippet` blocks are merged into.
const BASE: &str = "tests/fixtures/book/base.yaml";

/// A gap in an `output` block.
const GAP: &str = "# …";

/// One fenced YAML block.
#[derive(Debug)]
struct Block {
    /// `README.md` or `book/src/…`, relative to the crate root.
    page: String,
    /// 1-based line of the opening fence.
    line: usize,
    /// The words after `yaml`.
    words: Vec<String>,
    body: String,
}

impl Block {
    fn at(&self) -> String {
        format!("{}:{}", self.page, self.line)
    }
    fn attr(&self, key: &str) -> Option<&str> {
        self.words
            .iter()
            .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
    }
    fn has(&self, word: &str) -> bool {
        self.words.iter().any(|w| w == word)
    }
}

/// The Markdown files with examples: the README and the book.
fn pages() -> Vec<PathBuf> {
    let mut v = vec![common::root().join("README.md")];
    v.extend(common::files(&common::root().join("book/src"), ".md"));
    v
}

/// The fenced blocks of `text` whose info string starts with `lang`: (line, info, body).
fn fenced(text: &str, lang: &str) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, l)) = lines.next() {
        let Some(info) = l.strip_prefix("```") else {
            continue;
        };
        let mut body = String::new();
        for (_, l) in lines.by_ref() {
            if l.starts_with("```") {
                break;
            }
            body.push_str(l);
            body.push('\n');
        }
        let first = info.split_whitespace().next().unwrap_or_default();
        if first == lang {
            out.push((i + 1, info.trim().to_owned(), body));
        }
    }
    out
}

fn blocks() -> Vec<Block> {
    let mut out = Vec::new();
    for path in pages() {
        let text = std::fs::read_to_string(&path).expect("read page");
        let page = path
            .strip_prefix(common::root())
            .expect("under the root")
            .to_string_lossy()
            .into_owned();
        for (line, info, body) in fenced(&text, "yaml") {
            out.push(Block {
                page: page.clone(),
                line,
                words: info.split_whitespace().skip(1).map(str::to_owned).collect(),
                body,
            });
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// YAML with the order of mappings kept (severity levels and matrix rows are ordered), for the
// snippet merge.

#[derive(Clone, Debug)]
enum Yaml {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Yaml>),
    Map(Vec<(String, Yaml)>),
}

impl Yaml {
    /// Parsed by upkeep's own YAML reader (the same scalars, budgets and duplicate-key rule as a
    /// plan), mappings kept in order.
    fn parse(text: &str) -> Result<Yaml, String> {
        let source = SourceFile::new("block.yaml".into(), "block.yaml".into(), text.to_owned());
        let mut diags = Diagnostics::new();
        let root = upkeep::parse::parse(FileId(0), &source, &mut diags);
        match root {
            Some(root) if diags.is_empty() => Ok(Yaml::from(&root.value)),
            _ => Err(diags
                .iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
                .join("; ")),
        }
    }

    fn from(v: &Value) -> Yaml {
        match v {
            Value::Null => Yaml::Null,
            Value::Bool(b) => Yaml::Bool(*b),
            Value::Int(n) => Yaml::Int((*n).into()),
            Value::Float(f) => Yaml::Float(*f),
            Value::Str(s) => Yaml::Str(s.clone()),
            Value::Seq(items) => Yaml::Seq(items.iter().map(|n| Yaml::from(&n.value)).collect()),
            Value::Map(entries) => Yaml::Map(
                entries
                    .iter()
                    .map(|(k, v)| (Yaml::from(&k.value).key(), Yaml::from(&v.value)))
                    .collect(),
            ),
        }
    }

    /// A mapping key as text.
    fn key(&self) -> String {
        match self {
            Yaml::Str(s) => s.clone(),
            other => other.flow(),
        }
    }

    /// Flow style (JSON strings, which YAML reads the same).
    fn flow(&self) -> String {
        let q = |s: &str| serde_json::to_string(s).expect("string");
        match self {
            Yaml::Null => "null".to_owned(),
            Yaml::Bool(b) => b.to_string(),
            Yaml::Int(n) => n.to_string(),
            Yaml::Float(f) => format!("{f:?}"),
            Yaml::Str(s) => q(s),
            Yaml::Seq(v) => format!(
                "[{}]",
                v.iter().map(Yaml::flow).collect::<Vec<_>>().join(", ")
            ),
            Yaml::Map(m) => format!(
                "{{{}}}",
                m.iter()
                    .map(|(k, v)| format!("{}: {}", q(k), v.flow()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// `snippet` merged into `base`: each top-level section of the snippet is merged into the
/// base's entry by entry when both are mappings (an entry of the snippet replaces the base's
/// entry of the same name, a new one is added at the end); any other section replaces the
/// base's. The result is a plan, one section per line.
fn merge(base: &Yaml, snippet: &Yaml) -> String {
    let (Yaml::Map(base), Yaml::Map(snippet)) = (base, snippet) else {
        panic!("a snippet and the base are mappings");
    };
    let mut out = base.clone();
    for (section, value) in snippet {
        match out.iter_mut().find(|(k, _)| k == section) {
            Some((_, Yaml::Map(entries))) if matches!(value, Yaml::Map(_)) => {
                let Yaml::Map(new) = value else {
                    unreachable!()
                };
                for (name, entry) in new {
                    match entries.iter_mut().find(|(k, _)| k == name) {
                        Some(slot) => slot.1 = entry.clone(),
                        None => entries.push((name.clone(), entry.clone())),
                    }
                }
            }
            Some(slot) => slot.1 = value.clone(),
            None => out.push((section.clone(), value.clone())),
        }
    }
    let mut text = String::new();
    for (k, v) in &out {
        match v {
            // The plain form, which file discovery looks for.
            Yaml::Str(s) if k == "apiVersion" || k == "kind" => {
                let _ = writeln!(text, "{k}: {s}");
            }
            _ => {
                let _ = writeln!(text, "{k}: {}", v.flow());
            }
        }
    }
    text
}

// ---------------------------------------------------------------------------------------------

/// The codes `upkeep check TARGET --format json` reports, run in `dir`.
fn codes(dir: &Path, target: &str) -> (BTreeSet<String>, String) {
    let o = common::upkeep_in(dir, &["check", target, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "check {target}: no JSON ({e}): {}{}",
            common::stdout(&o),
            common::stderr(&o)
        )
    });
    let mut found = BTreeSet::new();
    let mut report = String::new();
    for d in v["diagnostics"].as_array().expect("diagnostics") {
        let code = d["code"].as_str().unwrap_or_default().to_owned();
        let _ = writeln!(
            report,
            "  {}:{}: {} {}: {}",
            d["file"].as_str().unwrap_or_default(),
            d["line"],
            d["severity"].as_str().unwrap_or_default(),
            code,
            d["message"].as_str().unwrap_or_default()
        );
        found.insert(code);
    }
    (found, report)
}

/// The codes the block expects (empty: clean).
fn expected(b: &Block) -> BTreeSet<String> {
    b.attr("expect")
        .map(|e| e.split(',').map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Lines of `hay`, from `from`, where `needle` occurs in one piece.
fn find_lines(hay: &[&str], needle: &[&str], from: usize) -> Option<usize> {
    (from..=hay.len().saturating_sub(needle.len())).find(|&i| hay[i..i + needle.len()] == *needle)
}

/// Whether the first line that is not a comment or blank is `apiVersion: upkeep/v1`.
fn is_complete(text: &str) -> bool {
    text.lines()
        .map(str::trim_end)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .is_some_and(|l| l == "apiVersion: upkeep/v1")
}

/// Split a `files` block at its `# file: PATH` lines.
fn split_files(body: &str) -> Result<Vec<(String, String)>, String> {
    let mut files: Vec<(String, String)> = Vec::new();
    for line in body.lines() {
        if let Some(path) = line.strip_prefix("# file: ") {
            files.push((path.trim().to_owned(), String::new()));
        } else if let Some((_, text)) = files.last_mut() {
            text.push_str(line);
            text.push('\n');
        } else if !line.trim().is_empty() {
            return Err("a `files` block starts with a `# file: PATH` line".to_owned());
        }
    }
    if files.is_empty() {
        return Err("a `files` block has `# file: PATH` lines".to_owned());
    }
    Ok(files)
}

struct Run {
    failures: Vec<String>,
    counts: BTreeMap<&'static str, usize>,
    base: Yaml,
    build: Option<PathBuf>,
    checked: BTreeSet<String>,
    /// The generated files `output` blocks show.
    outputs: BTreeSet<String>,
}

impl Run {
    fn fail(&mut self, b: &Block, why: impl fmt::Display) {
        self.failures.push(format!("{}: {why}", b.at()));
    }

    /// Check `target` (a file or directory under `dir`) against what `b` expects.
    fn check(&mut self, b: &Block, dir: &Path, target: &str) {
        let (found, report) = codes(dir, target);
        let want = expected(b);
        if found != want {
            let want = if want.is_empty() {
                "no diagnostics".to_owned()
            } else {
                format!("exactly {want:?}")
            };
            self.fail(b, format!("expected {want}, got:\n{report}"));
        }
    }

    fn plan(&mut self, b: &Block, dir: &Path) {
        if !is_complete(&b.body) {
            self.fail(
                b,
                "a ```yaml block is a complete plan or fragment (first line `apiVersion: upkeep/v1`); \
                 mark a part of one `snippet`, `excerpt=PATH`, `output=PATH` or `other`",
            );
            return;
        }
        std::fs::write(dir.join("plan.yaml"), &b.body).expect("write");
        self.check(b, dir, "plan.yaml");
    }

    fn snippet(&mut self, b: &Block, dir: &Path) {
        let snippet = match Yaml::parse(&b.body) {
            Ok(y @ Yaml::Map(_)) => y,
            Ok(_) => return self.fail(b, "a snippet is a mapping of top-level sections"),
            Err(e) => {
                return self.fail(
                    b,
                    format!(
                        "a snippet must parse as YAML ({e}); show a broken file as a complete plan"
                    ),
                );
            }
        };
        std::fs::write(dir.join("plan.yaml"), merge(&self.base, &snippet)).expect("write");
        self.check(b, dir, "plan.yaml");
    }

    fn files(&mut self, b: &Block, dir: &Path) {
        let files = match split_files(&b.body) {
            Ok(f) => f,
            Err(e) => return self.fail(b, e),
        };
        for (path, text) in &files {
            if !is_complete(text) {
                self.fail(b, format!("`{path}` is not a complete plan or fragment"));
            }
            let p = dir.join("files").join(path);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        }
        self.check(b, dir, "files");
    }

    fn excerpt(&mut self, b: &Block, path: &str) {
        let Ok(text) = std::fs::read_to_string(common::root().join(path)) else {
            return self.fail(b, format!("`{path}` does not exist"));
        };
        let hay: Vec<&str> = text.lines().collect();
        let needle: Vec<&str> = b.body.lines().collect();
        if find_lines(&hay, &needle, 0).is_none() {
            return self.fail(b, format!("these lines are not in `{path}`, in one piece"));
        }
        if self.checked.insert(path.to_owned()) {
            let (found, report) = codes(&common::root(), path);
            if !found.is_empty() {
                self.fail(b, format!("`{path}` does not check clean:\n{report}"));
            }
        }
    }

    fn output(&mut self, b: &Block, path: &str) {
        self.outputs.insert(path.to_owned());
        let dir = self
            .build
            .get_or_insert_with(|| common::build("plans/", "examples-build", &[]))
            .clone();
        let Ok(text) = std::fs::read_to_string(dir.join(path)) else {
            return self.fail(b, format!("`upkeep build plans/` generates no `{path}`"));
        };
        let hay: Vec<&str> = text.lines().collect();
        let mut from = 0;
        let body: Vec<&str> = b.body.lines().collect();
        for chunk in body.split(|l| l.trim() == GAP) {
            if chunk.is_empty() {
                continue;
            }
            match find_lines(&hay, chunk, from) {
                Some(i) => from = i + chunk.len(),
                None => {
                    return self.fail(
                        b,
                        format!(
                            "not in the generated `{path}` (in this order, `{GAP}` for lines left out):\n{}",
                            chunk.join("\n")
                        ),
                    );
                }
            }
        }
    }

    fn other(&mut self, b: &Block) {
        let mut text = b.body.clone();
        if let Some(include) = text
            .trim()
            .strip_prefix("{{#include ")
            .and_then(|r| r.strip_suffix("}}"))
        {
            let page_dir = common::root().join(&b.page);
            let file = page_dir
                .parent()
                .expect("page directory")
                .join(include.trim());
            match std::fs::read_to_string(&file) {
                Ok(t) => text = t,
                Err(e) => return self.fail(b, format!("cannot include {}: {e}", file.display())),
            }
        }
        if let Err(e) = Yaml::parse(&text) {
            self.fail(b, format!("does not parse as YAML: {e}"));
        }
    }
}

/// The generated files the book shows are accepted by their real validators (as every
/// generated file is in `tests/emit.rs` and `tests/probes.rs`): promtool for rules, amtool for
/// Alertmanager, the blackbox exporter for its modules.
fn validate(dir: &Path, outputs: &BTreeSet<String>) {
    for path in outputs {
        let file = dir.join(path);
        let text = std::fs::read_to_string(&file).expect("generated file");
        if let Err(e) = serde_saphyr::from_multiple::<serde::de::IgnoredAny>(&text) {
            panic!("generated {path} is not YAML: {e}");
        }
        let (tool, args): (&str, &[&str]) = if path.ends_with(".scrape.yaml") {
            // Scrape jobs are checked inside a Prometheus configuration (tests/probes.rs).
            continue;
        } else if path.starts_with("prometheus/") {
            ("promtool", &["check", "rules"])
        } else if path.starts_with("blackbox/") {
            (
                "prometheus-blackbox-exporter",
                &["--config.check", "--config.file"],
            )
        } else if path.starts_with("alertmanager/") {
            ("amtool", &["check-config"])
        } else {
            continue;
        };
        if let Some(bin) = common::tool(tool) {
            common::run_ok(std::process::Command::new(bin).args(args).arg(&file));
        }
    }
}

#[test]
fn every_yaml_block_is_checked() {
    let base_text = std::fs::read_to_string(common::root().join(BASE)).expect("base plan");
    let mut run = Run {
        failures: Vec::new(),
        counts: BTreeMap::new(),
        base: Yaml::parse(&base_text).expect("base plan parses"),
        build: None,
        checked: BTreeSet::new(),
        outputs: BTreeSet::new(),
    };
    let (found, report) = codes(&common::root(), BASE);
    assert!(found.is_empty(), "{BASE} must check clean:\n{report}");

    let all = blocks();
    for (i, b) in all.iter().enumerate() {
        let known = |w: &str| {
            ["snippet", "files", "other"].contains(&w)
                || ["expect=", "excerpt=", "output="]
                    .iter()
                    .any(|p| w.starts_with(p))
        };
        if let Some(w) = b.words.iter().find(|w| !known(w)) {
            run.fail(b, format!("unknown word `{w}` in the info string"));
            continue;
        }
        let kinds = usize::from(b.has("snippet"))
            + usize::from(b.has("files"))
            + usize::from(b.has("other"))
            + usize::from(b.attr("excerpt").is_some())
            + usize::from(b.attr("output").is_some());
        if kinds > 1 {
            run.fail(b, "more than one category in the info string");
            continue;
        }
        let checked = kinds == 0 || b.has("snippet") || b.has("files");
        if b.attr("expect").is_some() && !checked {
            run.fail(b, "`expect=` goes on a plan, a snippet or files");
            continue;
        }
        if let Some(code) = b
            .page
            .strip_prefix("book/src/diagnostics/")
            .and_then(|p| p.strip_suffix(".md"))
        {
            if !expected(b).contains(code) {
                run.fail(
                    b,
                    format!("an example on the page of `{code}` must have `expect={code}`"),
                );
            }
        }
        let dir = common::scratch(&format!("example-{i}"));
        let kind = if b.has("snippet") {
            run.snippet(b, &dir);
            "snippet"
        } else if b.has("files") {
            run.files(b, &dir);
            "files"
        } else if b.has("other") {
            run.other(b);
            "other"
        } else if let Some(path) = b.attr("excerpt") {
            run.excerpt(b, path);
            "excerpt"
        } else if let Some(path) = b.attr("output") {
            run.output(b, path);
            "output"
        } else {
            run.plan(b, &dir);
            "plan"
        };
        *run.counts.entry(kind).or_default() += 1;
        let _ = std::fs::remove_dir_all(&dir);
    }
    if let Some(dir) = &run.build {
        validate(dir, &run.outputs);
        let _ = std::fs::remove_dir_all(dir);
    }
    eprintln!("{} YAML blocks: {:?}", all.len(), run.counts);
    assert!(all.len() > 100, "only {} YAML blocks found", all.len());
    assert!(
        run.failures.is_empty(),
        "{} of {} YAML blocks fail (see tests/examples.rs for the convention):\n\n{}",
        run.failures.len(),
        all.len(),
        run.failures.join("\n\n")
    );
}

fn bless() -> bool {
    std::env::var_os("UPKEEP_BLESS").is_some()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read directory") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy");
        }
    }
}

/// The README breaks a bundled plan with `sed` and shows the report: the `sed` line, run on a
/// copy of `plans/`, changes one line, and `upkeep check plans/` then prints exactly the
/// README's ```` ```text ```` block (one error, nothing else) and exits 1.
#[test]
fn readme_broken_plan_report_is_real() {
    let path = common::root().join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README");
    let (line, _, commands) = fenced(&readme, "sh")
        .into_iter()
        .find(|(_, _, b)| b.contains("sed -i"))
        .expect("a ```sh block with `sed -i` in the README");
    let sed = commands
        .lines()
        .find(|l| l.starts_with("sed "))
        .expect("a sed line");
    assert!(
        commands.lines().any(|l| l.trim() == "upkeep check plans/"),
        "README.md:{line}: the block runs `upkeep check plans/`"
    );
    let (_, _, shown) = fenced(&readme, "text")
        .into_iter()
        .find(|(l, _, _)| *l > line)
        .expect("a ```text block after the commands");

    let dir = common::scratch("readme-sed");
    copy_dir(&common::root().join("plans"), &dir.join("plans"));
    let o = std::process::Command::new("sh")
        .args(["-c", sed])
        .current_dir(&dir)
        .output()
        .expect("run sed");
    assert!(o.status.success(), "{sed}: {}", common::stderr(&o));
    let changed: usize = common::files(&dir.join("plans"), ".yaml")
        .iter()
        .map(|p| {
            let rel = p.strip_prefix(&dir).expect("prefix");
            let before = std::fs::read_to_string(common::root().join(rel)).expect("read");
            let after = std::fs::read_to_string(p).expect("read");
            before
                .lines()
                .zip(after.lines())
                .filter(|(a, b)| a != b)
                .count()
        })
        .sum();
    assert_eq!(changed, 1, "`{sed}` must change exactly one line");
    let o = common::upkeep_in(&dir, &["check", "plans/"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(common::code(&o), 1, "{}", common::stderr(&o));
    let report = common::stderr(&o);
    if bless() {
        std::fs::write(&path, readme.replacen(&shown, &report, 1)).expect("write README");
    } else {
        assert_eq!(
            shown, report,
            "README.md: the report after `{sed}` is not what the README shows; run `UPKEEP_BLESS=1 cargo test --test examples`"
        );
    }
}

/// One `$schema` URL: the schema's own `$id`, in the README, the book, the schema's own example
/// and what `upkeep init` writes. Plans in this repository point at the file by a relative path,
/// which must lead to it.
#[test]
fn one_schema_url() {
    let root = common::root();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("schemas/plan.schema.json")).expect("schema"),
    )
    .expect("schema is JSON");
    let id = schema["$id"].as_str().expect("$id");
    let marker = "yaml-language-server: $schema=";
    let urls = |text: &str| -> Vec<String> {
        text.match_indices(marker)
            .map(|(i, _)| {
                text[i + marker.len()..]
                    .split(|c: char| c.is_whitespace() || c == '\\' || c == '`')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    };
    let mut docs: Vec<PathBuf> = pages();
    docs.push(root.join("src/init/starter.yaml"));
    docs.push(root.join("schemas/plan.schema.json"));
    let mut seen = 0;
    for doc in &docs {
        for url in urls(&std::fs::read_to_string(doc).expect("read")) {
            assert_eq!(
                url,
                id,
                "{}: `$schema={url}` is not the schema's `$id`",
                doc.display()
            );
            seen += 1;
        }
    }
    assert!(seen >= 4, "only {seen} `$schema=` lines in the docs");
    let o = common::upkeep_in(&root, &["init", "-"]);
    assert_eq!(common::code(&o), 0, "{}", common::stderr(&o));
    assert_eq!(
        urls(&common::stdout(&o)),
        [id.to_owned()],
        "`upkeep init` writes another `$schema`"
    );
    for dir in ["plans", "tests/fixtures"] {
        for plan in common::files(&root.join(dir), ".yaml") {
            // Fixtures that are not text (`file/not-utf8`) have no `$schema` line.
            let text = std::fs::read_to_string(&plan).unwrap_or_default();
            for url in urls(&text) {
                if url == id {
                    continue;
                }
                let target = plan.parent().expect("parent").join(&url);
                assert!(
                    target.canonicalize().ok()
                        == root.join("schemas/plan.schema.json").canonicalize().ok(),
                    "{}: `$schema={url}` is neither `{id}` nor the path of schemas/plan.schema.json",
                    plan.display()
                );
            }
        }
    }
}

/// A ```` ```console ```` block whose commands are all `upkeep …` shows what they print: each
/// `$ upkeep ARGS` line is run (in a directory holding copies of `plans/` and the seed
/// fixtures, so a build writes there) and the lines after it are its output (standard output,
/// then standard error); a line `…` stands for lines left out. A `schedule` needs `--from`, so
/// that the output does not depend on the day.
#[test]
fn console_examples_print_what_upkeep_prints() {
    let root = common::root();
    let dir = common::scratch("console");
    copy_dir(&root.join("plans"), &dir.join("plans"));
    copy_dir(
        &root.join("tests/fixtures/seeds"),
        &dir.join("tests/fixtures/seeds"),
    );
    let mut failures = Vec::new();
    let mut ran = 0;
    for path in pages() {
        let text = std::fs::read_to_string(&path).expect("read page");
        let page = path
            .strip_prefix(&root)
            .expect("under the root")
            .display()
            .to_string();
        for (line, _, body) in fenced(&text, "console") {
            let mut runs: Vec<(&str, Vec<&str>)> = Vec::new();
            for l in body.lines() {
                match l.strip_prefix("$ ") {
                    Some(cmd) => runs.push((cmd, Vec::new())),
                    None => {
                        if let Some((_, out)) = runs.last_mut() {
                            out.push(l);
                        }
                    }
                }
            }
            if runs.is_empty() || !runs.iter().all(|(c, _)| c.starts_with("upkeep ")) {
                continue;
            }
            for (cmd, shown) in runs {
                let args: Vec<&str> = cmd.split_whitespace().skip(1).collect();
                if args.first() == Some(&"schedule") && !args.contains(&"--from") {
                    failures.push(format!("{page}:{line}: `{cmd}` needs `--from`"));
                    continue;
                }
                let o = common::upkeep_in(&dir, &args);
                ran += 1;
                let real = format!("{}{}", common::stdout(&o), common::stderr(&o));
                let real: Vec<&str> = real.lines().collect();
                let chunks: Vec<&[&str]> = shown.split(|l| l.trim() == "…").collect();
                let mut from = 0;
                let mut ok = true;
                for (i, chunk) in chunks.iter().enumerate() {
                    let at = if i == 0 {
                        (real.len() >= chunk.len() && real[..chunk.len()] == **chunk).then_some(0)
                    } else {
                        find_lines(&real, chunk, from)
                    };
                    match at {
                        Some(a) => from = a + chunk.len(),
                        None => ok = false,
                    }
                }
                if ok && chunks.len() == 1 && from != real.len() {
                    ok = false;
                }
                if !ok {
                    failures.push(format!(
                        "{page}:{line}: `{cmd}` prints (`…` for lines left out):\n{}\nnot:\n{}",
                        real.join("\n"),
                        shown.join("\n")
                    ));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(ran >= 5, "only {ran} commands");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
