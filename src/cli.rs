//! The command line: arguments in, output and exit code out.
//!
//! **Invariant:** this is the only module that knows exit codes, output formats, the terminal
//! and the clock.

/// A line on standard error; a closed stderr (`2>&1 | true`) is not a panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::diag::render::{self, Format, HumanOptions, plural};
use crate::driver::{self, Workspace};

/// Exit code: no errors (warnings allowed unless denied).
pub const EXIT_OK: u8 = 0;
/// Exit code: diagnostics with errors.
pub const EXIT_ERRORS: u8 = 1;
/// Exit code: usage or I/O failure.
pub const EXIT_USAGE: u8 = 2;

#[derive(Parser, Debug)]
#[command(name = "upkeep", version, about = "A compiler for maintenance plans", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
enum FormatArg {
    Human,
    Json,
    Github,
    Sarif,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
enum DenyArg {
    Warnings,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
enum ScheduleFormat {
    Table,
    Json,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
enum DiffFormat {
    Markdown,
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Validate plans and report every problem
    Check {
        /// Plan files or directories (default: the current directory)
        paths: Vec<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value = "human")]
        format: FormatArg,
        /// Most reports drawn in full with their source; the rest take one line each (0: all)
        #[arg(long, value_name = "N", default_value_t = render::DRAW_LIMIT)]
        draw_limit: usize,
        /// Turn warnings into errors
        #[arg(long, value_enum)]
        deny: Option<DenyArg>,
        /// Most plan text one run reads, all files together (default 64MiB)
        #[arg(long, value_name = "SIZE", value_parser = parse_size)]
        max_input: Option<u64>,
    },
    /// Compile plans into deploy artefacts
    Build {
        /// Plan files or directories (default: the current directory)
        paths: Vec<PathBuf>,
        /// Output directory (written atomically)
        #[arg(long)]
        out: PathBuf,
        /// Targets to build (default: all): prometheus, alertmanager, cron, kubernetes, helm, runbooks, calendar
        #[arg(long = "target", value_delimiter = ',')]
        targets: Vec<String>,
        /// Environments to build Helm values for (default: all)
        #[arg(long = "env", value_delimiter = ',')]
        envs: Vec<String>,
        /// Write nothing; exit 1 naming each file that differs from the output directory
        #[arg(long)]
        check: bool,
        /// Directory of templates overriding the built-in ones
        #[arg(long)]
        templates: Option<PathBuf>,
        /// Prefix of the `runbook_url` annotations
        #[arg(long)]
        runbook_base_url: Option<String>,
        /// Most reports drawn in full with their source; the rest take one line each (0: all)
        #[arg(long, value_name = "N", default_value_t = render::DRAW_LIMIT)]
        draw_limit: usize,
        /// Turn warnings into errors
        #[arg(long, value_enum)]
        deny: Option<DenyArg>,
        /// Most plan text one run reads, all files together (default 64MiB)
        #[arg(long, value_name = "SIZE", value_parser = parse_size)]
        max_input: Option<u64>,
    },
    /// Explain a diagnostic code, or list them all
    Explain {
        /// A code such as `kpi/threshold-order`
        code: Option<String>,
    },
    /// Print the JSON Schema of the plan format
    Schema,
    /// List the next occurrences of every window, task and backup of a plan
    Schedule {
        /// A plan file
        plan: PathBuf,
        /// How many occurrences of each (at most 1000)
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=1000))]
        next: u16,
        /// Start from this instant (RFC 3339) instead of now
        #[arg(long)]
        from: Option<String>,
        /// Output format
        #[arg(long, value_enum, default_value = "table")]
        format: ScheduleFormat,
    },
    /// Say what a change to the plans means: thresholds, levels, receivers, schedules, backups…
    ///
    /// Exit code: 0 no semantic change, 1 a semantic change or a side that does not check,
    /// 2 usage error.
    Diff {
        /// BASE and HEAD (plan files or directories); with `--git`, the paths to compare
        /// (default: the current directory)
        paths: Vec<PathBuf>,
        /// Compare the working tree with the plans at this git revision (e.g. `origin/main`)
        #[arg(long, value_name = "REV")]
        git: Option<String>,
        /// Output format
        #[arg(long, value_enum, default_value = "markdown")]
        format: DiffFormat,
    },
    /// Write a commented starter plan to `NAME.yaml` (or to standard output with `-`)
    Init {
        /// The plan's name (lowercase letters, digits and `-`), or `-` for standard output
        /// (the default)
        name: Option<String>,
    },
    /// Read Prometheus rule files and SLO specs into a plan, each entry commented with its origin
    ///
    /// The plan goes to standard output (or `--out`), or into an existing plan (`--into`); the
    /// report of what each rule and SLO became goes to standard error.
    Import {
        /// Prometheus rule files (`groups:`, `PrometheusRule` objects, multi-document YAML) and
        /// SLO specs (sloth `prometheus/v1`, `PrometheusServiceLevel` and `OpenSLO` `v1alpha`; pyrra
        /// `ServiceLevelObjective`; `OpenSLO` `v1`), told apart by their content
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The plan's name
        #[arg(long, default_value = "imported", conflicts_with = "into")]
        name: String,
        /// Write the plan to this file instead of standard output
        #[arg(long, conflicts_with = "into")]
        out: Option<PathBuf>,
        /// Add the imported entries to this plan instead of writing a new one: its text is kept,
        /// its services, levels and receivers are reused, and it must check without an error
        /// before and after
        #[arg(long, value_name = "PLAN")]
        into: Option<PathBuf>,
    },
    /// Print a plan's service dependency graph as Graphviz DOT
    Graph {
        /// A plan file (or a directory: one graph per plan)
        plan: PathBuf,
    },
    /// Serve the Language Server Protocol on standard input and output, for editors
    ///
    /// Diagnostics as `check` reports them, as you type. Exit code: 0 after `shutdown` and
    /// `exit`, 1 when the editor exits without `shutdown`, 2 on an I/O failure.
    Lsp,
}

pub fn main() -> ExitCode {
    // Commands that read plans validate them against the JSON Schema, whose compile is the
    // longest step of checking one plan: start it before parsing the arguments.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|c| c == "check" || c == "build" || c == "diff")
    {
        crate::schema::prepare();
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    ExitCode::from(run(cli.command))
}

fn run(command: Command) -> u8 {
    match command {
        Command::Check {
            paths,
            format,
            draw_limit,
            deny,
            max_input,
        } => check(paths, format, draw_limit, deny.is_some(), max_input),
        Command::Build {
            paths,
            out,
            targets,
            envs,
            check,
            templates,
            runbook_base_url,
            draw_limit,
            deny,
            max_input,
        } => build(
            paths,
            &out,
            &targets,
            envs,
            check,
            templates.as_deref(),
            runbook_base_url,
            draw_limit,
            deny.is_some(),
            max_input,
        ),
        Command::Explain { code } => explain(code.as_deref()),
        Command::Schema => {
            stdout(crate::schema::SCHEMA);
            EXIT_OK
        }
        Command::Schedule {
            plan,
            next,
            from,
            format,
        } => schedule(&plan, usize::from(next), from.as_deref(), format),
        Command::Diff { paths, git, format } => diff(paths, git.as_deref(), format),
        Command::Init { name } => init(name.as_deref()),
        Command::Graph { plan } => graph(&plan),
        Command::Import {
            files,
            into: Some(plan),
            ..
        } => import_into(&files, &plan),
        Command::Import {
            files, name, out, ..
        } => import(&files, &name, out.as_deref()),
        Command::Lsp => lsp(),
    }
}

/// `upkeep lsp`: the protocol's exit code (0 when `exit` follows `shutdown`, else 1).
fn lsp() -> u8 {
    crate::schema::prepare();
    match crate::lsp::serve(chrono::Utc::now) {
        Ok(crate::lsp::Ended::AfterShutdown) => EXIT_OK,
        Ok(crate::lsp::Ended::WithoutShutdown) => EXIT_ERRORS,
        Err(e) => {
            say!("error: {e}");
            EXIT_USAGE
        }
    }
}

fn stderr_human() -> HumanOptions {
    let tty = std::io::stderr().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let width = if tty {
        terminal_width().unwrap_or(100)
    } else {
        100
    };
    HumanOptions {
        color: tty && !no_color,
        width,
        draw_limit: render::DRAW_LIMIT,
    }
}

fn terminal_width() -> Option<usize> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|&w: &usize| w >= 40)
}

/// Load and check; a missing path is a usage error.
fn load(paths: Vec<PathBuf>, opts: driver::Options) -> Result<Workspace, u8> {
    let paths = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths
    };
    driver::check(&paths, opts).map_err(|missing| {
        say!("error: `{}` does not exist", missing.0.display());
        EXIT_USAGE
    })
}

/// Load plans that must check clean (`schedule`, `graph`): otherwise the report, and the exit
/// code to return.
fn load_clean(path: &std::path::Path) -> Result<Workspace, u8> {
    let ws = load(vec![path.to_path_buf()], driver::Options::default())?;
    if ws.errors() > 0 || ws.plans.is_empty() {
        report(&ws.diagnostics, &ws, render::DRAW_LIMIT);
        return Err(exit_code(&ws).max(EXIT_ERRORS));
    }
    Ok(ws)
}

/// The human report of `diags` on standard error.
fn report(diags: &[crate::diag::Diagnostic], ws: &Workspace, draw_limit: usize) {
    report_in(diags, &ws.sources, ws.files, draw_limit);
}

/// The human report of `diags`, whose spans are in `sources`, after reading `files` files.
fn report_in(
    diags: &[crate::diag::Diagnostic],
    sources: &crate::source::SourceMap,
    files: usize,
    draw_limit: usize,
) {
    let mut err = std::io::BufWriter::new(std::io::stderr().lock());
    let _ = render::human_to(
        &mut err,
        diags,
        sources,
        files,
        HumanOptions {
            draw_limit,
            ..stderr_human()
        },
    );
    let _ = err.flush();
}

/// What each input rule and SLO became, then the counts.
fn say_report(report: &crate::import::Report) {
    for e in &report.entries {
        say!("{}: {} → {}", e.origin, e.rule, e.became);
    }
    say!("imported {}", report.summary());
}

/// `--max-input SIZE`: bytes, or a whole number of `KiB`, `MiB` or `GiB`.
fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let scale: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        other => return Err(format!("unknown unit `{other}`; write e.g. `256MiB`")),
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{text}` is not a size; write e.g. `256MiB`"))
}

fn exit_code(ws: &Workspace) -> u8 {
    if ws.has_io_failure() {
        EXIT_USAGE
    } else if ws.errors() > 0 {
        EXIT_ERRORS
    } else {
        EXIT_OK
    }
}

fn check(
    paths: Vec<PathBuf>,
    format: FormatArg,
    draw_limit: usize,
    deny: bool,
    max_input: Option<u64>,
) -> u8 {
    // The reports need only the sources and the diagnostics: plans are freed as they are checked.
    let opts = driver::Options {
        deny_warnings: deny,
        max_input,
        check_only: true,
        ..driver::Options::default()
    };
    let ws = match load(paths, opts) {
        Ok(ws) => ws,
        Err(code) => return code,
    };
    let format = match format {
        FormatArg::Human => Format::Human,
        FormatArg::Json => Format::Json,
        FormatArg::Github => Format::Github,
        FormatArg::Sarif => Format::Sarif,
    };
    // Written as they are made: a report of a hundred thousand diagnostics is never held whole.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let (diags, sources) = (&ws.diagnostics, &ws.sources);
    let _ = match format {
        Format::Human => {
            report(diags, &ws, draw_limit);
            return exit_code(&ws);
        }
        Format::Json => render::json_to(&mut out, diags, sources, ws.files),
        Format::Github => render::github_to(&mut out, diags, sources),
        Format::Sarif => render::sarif_to(&mut out, diags, sources),
    };
    let _ = out.flush();
    exit_code(&ws)
}

/// Read every template override in `dir` (`*.j2`).
/// The template overrides in `dir`: file name, path and text.
fn read_templates(dir: &std::path::Path) -> Result<Vec<(String, PathBuf, String)>, String> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read templates directory `{}`: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "j2") {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            // Never open a FIFO or device (it would block or never end); a link to a
            // regular file is fine, as for any file named on the command line.
            if !std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                return Err(format!(
                    "template `{}` is not a regular file; remove it or replace it with the template's text",
                    path.display()
                ));
            }
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read template `{}`: {e}", path.display()))?;
            out.push((name, path, text));
        }
    }
    out.sort();
    Ok(out)
}

#[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)]
fn build(
    paths: Vec<PathBuf>,
    out: &std::path::Path,
    targets: &[String],
    envs: Vec<String>,
    check: bool,
    templates: Option<&std::path::Path>,
    runbook_base_url: Option<String>,
    draw_limit: usize,
    deny: bool,
    max_input: Option<u64>,
) -> u8 {
    use crate::emit::{self, Target};
    let mut selected = Vec::new();
    for t in targets {
        match Target::from_name(t) {
            Some(t) => selected.push(t),
            None => {
                let names: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
                say!("error: unknown target `{t}`");
                say!(
                    "help: {}",
                    crate::diag::suggestion_help(t, &names, "targets")
                );
                return EXIT_USAGE;
            }
        }
    }
    let templates = match templates.map(read_templates).transpose() {
        Ok(t) => t.unwrap_or_default(),
        Err(e) => {
            say!("error: {e}");
            return EXIT_USAGE;
        }
    };
    if let Some(url) = runbook_base_url
        .as_ref()
        .filter(|u| !crate::lower::is_http_url(u))
    {
        say!("error: `--runbook-base-url {url}` is not an absolute HTTP URL");
        say!(
            "help: give the URL the runbook pages are published under, e.g. `https://docs.example.org/runbooks`"
        );
        return EXIT_USAGE;
    }
    let opts = driver::Options {
        deny_warnings: deny,
        runbook_base_url: runbook_base_url.is_some(),
        max_input,
        check_only: false,
    };
    let mut ws = match load(paths, opts) {
        Ok(ws) => ws,
        Err(code) => return code,
    };
    let mut template_files = std::collections::BTreeMap::new();
    let mut template_texts = std::collections::BTreeMap::new();
    for (name, path, text) in templates {
        template_files.insert(name.clone(), ws.sources.add(path, text.clone()));
        template_texts.insert(name, text);
    }
    if !ws.diagnostics.is_empty() {
        report(&ws.diagnostics, &ws, draw_limit);
    }
    if ws.errors() > 0 {
        say!("error: nothing was written because of the errors above");
        return exit_code(&ws);
    }
    if ws.plans.is_empty() {
        // Writing an empty tree would delete every file an earlier build generated.
        say!("error: no plans found, so nothing was written (the output directory is as it was)");
        say!(
            "help: name plan files or directories that hold them (`apiVersion: upkeep/v1`, `kind: Plan`)"
        );
        return EXIT_USAGE;
    }
    if !envs.is_empty() {
        let known: Vec<&str> = ws
            .plans
            .iter()
            .flat_map(|p| p.environments.names())
            .collect();
        for e in &envs {
            if !known.contains(&e.as_str()) {
                say!("error: no plan has an environment `{e}`");
                say!(
                    "help: {}",
                    crate::diag::suggestion_help(e, &known, "environments")
                );
                return EXIT_USAGE;
            }
        }
    }
    let opts = emit::Options {
        targets: selected,
        envs,
        runbook_base_url,
        templates: template_texts,
        template_files,
    };
    let mut built = crate::driver::build(&ws, &opts);
    let emit_diags = std::mem::take(&mut built.diagnostics);
    let artifacts = built.artifacts();
    if emit_diags.has_errors() {
        report(&emit_diags.into_sorted(), &ws, draw_limit);
        say!("error: nothing was written because of the errors above");
        return EXIT_ERRORS;
    }
    if check {
        let drift = crate::write::check(out, &artifacts);
        if drift.is_empty() {
            say!(
                "{} generated files are up to date in {}",
                artifacts.len(),
                out.display()
            );
            return EXIT_OK;
        }
        for d in &drift {
            let what = match d.kind {
                crate::write::DriftKind::Missing => "missing",
                crate::write::DriftKind::Changed => "differs",
                crate::write::DriftKind::Stale => "is no longer generated",
            };
            stdout(&format!(
                "{}: {what}\n{}",
                out.join(&d.path).display(),
                d.diff
            ));
        }
        say!(
            "error: {} of {} generated files are out of date; run `upkeep build` and commit the result",
            drift.len(),
            artifacts.len()
        );
        return EXIT_ERRORS;
    }
    match crate::write::write(out, &artifacts) {
        Ok(()) => {
            say!(
                "wrote {} for {} to {}",
                plural(artifacts.len(), "file"),
                plural(ws.plans.len(), "plan"),
                out.display()
            );
            EXIT_OK
        }
        Err(e) => {
            say!("error: cannot write to `{}`: {e}", out.display());
            EXIT_USAGE
        }
    }
}

/// Write to standard output, ignoring a closed pipe (`upkeep explain | head` must not panic,
/// as `print!` does).
fn stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn explain(code: Option<&str>) -> u8 {
    use crate::diag::Code;
    let Some(name) = code else {
        let width = Code::ALL.iter().map(|c| c.name().len()).max().unwrap_or(0);
        let mut list = String::new();
        for c in Code::ALL {
            let _ = writeln!(
                list,
                "{:width$}  {:7}  {}",
                c.name(),
                c.default_severity().as_str(),
                c.summary()
            );
        }
        stdout(&list);
        return EXIT_OK;
    };
    match Code::from_name(name) {
        Some(c) => {
            stdout(c.explain());
            EXIT_OK
        }
        None => {
            let names: Vec<&str> = Code::ALL.iter().map(|c| c.name()).collect();
            say!("error: unknown code `{name}`");
            say!(
                "help: {}",
                crate::diag::suggestion_help(name, &names, "codes")
            );
            say!("      `upkeep explain` lists every code");
            EXIT_USAGE
        }
    }
}

fn schedule(path: &std::path::Path, n: usize, from: Option<&str>, format: ScheduleFormat) -> u8 {
    let from = match from {
        Some(s) => match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(t) => t.with_timezone(&chrono::Utc),
            Err(e) => {
                say!(
                    "error: `--from {s}` is not an RFC 3339 time ({e}); write e.g. `2027-01-01T00:00:00Z`"
                );
                return EXIT_USAGE;
            }
        },
        None => chrono::Utc::now(),
    };
    let ws = match load_clean(path) {
        Ok(ws) => ws,
        Err(code) => return code,
    };
    let n = n.min(1000);
    let mut out = String::new();
    for plan in &ws.plans {
        let listing = crate::model::timeline::listing(plan, from, n);
        match format {
            ScheduleFormat::Table => out.push_str(&crate::model::timeline::table(plan, &listing)),
            ScheduleFormat::Json => out.push_str(&crate::model::timeline::json(plan, &listing)),
        }
    }
    stdout(&out);
    EXIT_OK
}

fn diff(paths: Vec<PathBuf>, rev: Option<&str>, format: DiffFormat) -> u8 {
    use crate::diff::{self, Side};
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let check = |paths: &[PathBuf]| -> Result<Workspace, u8> {
        if paths.is_empty() {
            return Ok(Workspace::default());
        }
        driver::check(paths, driver::Options::default()).map_err(|missing| {
            say!("error: `{}` does not exist", missing.0.display());
            EXIT_USAGE
        })
    };
    // Keeps the revision's files on disk until the report is made.
    let _snapshot;
    let (base, head) = match rev {
        Some(rev) => {
            let paths = if paths.is_empty() {
                vec![PathBuf::from(".")]
            } else {
                paths
            };
            let snap = match diff::git::snapshot(rev, &paths, &cwd) {
                Ok(s) => s,
                Err(e) => {
                    say!("error: {}", e.message);
                    say!("help: {}", e.help);
                    return EXIT_USAGE;
                }
            };
            let base_ws = match check(&snap.base_paths) {
                Ok(ws) => ws,
                Err(code) => return code,
            };
            let head_ws = match check(&snap.head_paths) {
                Ok(ws) => ws,
                Err(code) => return code,
            };
            let base = Side::new(base_ws, &snap.dir, Some(format!("{rev}:")));
            let head = Side::new(head_ws, &snap.toplevel, None);
            _snapshot = snap;
            (base, head)
        }
        None => {
            let [base_path, head_path] = paths.as_slice() else {
                say!(
                    "error: `upkeep diff` compares two sides: give BASE and HEAD (files or directories), or `--git REV`"
                );
                say!(
                    "help: e.g. `upkeep diff old/plans new/plans` or `upkeep diff --git origin/main plans/`"
                );
                return EXIT_USAGE;
            };
            let base_ws = match check(std::slice::from_ref(base_path)) {
                Ok(ws) => ws,
                Err(code) => return code,
            };
            let head_ws = match check(std::slice::from_ref(head_path)) {
                Ok(ws) => ws,
                Err(code) => return code,
            };
            (
                Side::new(base_ws, base_path, None),
                Side::new(head_ws, head_path, None),
            )
        }
    };
    if base.ws.has_io_failure() || head.ws.has_io_failure() {
        for side in [&base, &head] {
            report(&side.ws.diagnostics, &side.ws, render::DRAW_LIMIT);
        }
        return EXIT_USAGE;
    }
    let report = diff::diff(&base, &head);
    let text = match format {
        DiffFormat::Markdown => diff::render::markdown(&report),
        DiffFormat::Json => diff::render::json(&report),
    };
    stdout(&text);
    if !report.problems.is_empty() || report.semantic_change() {
        EXIT_ERRORS
    } else {
        EXIT_OK
    }
}

fn init(name: Option<&str>) -> u8 {
    use crate::init;
    let name = name.unwrap_or("-");
    if name == "-" {
        stdout(&init::starter(init::DEFAULT_NAME, "plan.yaml"));
        return EXIT_OK;
    }
    if !init::valid_name(name) {
        say!(
            "error: `{name}` is not a plan name: use lowercase letters, digits and `-` (at most 63)"
        );
        say!("help: e.g. `upkeep init {}`", init::suggest_name(name));
        return EXIT_USAGE;
    }
    let file = format!("{name}.yaml");
    let text = init::starter(name, &file);
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&file)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    match created {
        Ok(()) => {
            say!("wrote `{file}`; check it with `upkeep check {file}`");
            EXIT_OK
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            say!("error: `{file}` already exists; refusing to overwrite it");
            say!("help: choose another name, or print the starter with `upkeep init -`");
            EXIT_USAGE
        }
        Err(e) => {
            say!("error: cannot write `{file}`: {e}");
            EXIT_USAGE
        }
    }
}

fn import(files: &[PathBuf], name: &str, out: Option<&std::path::Path>) -> u8 {
    if !crate::init::valid_name(name) {
        say!(
            "error: `{name}` is not a plan name: use lowercase letters, digits and `-` (at most 63)"
        );
        return EXIT_USAGE;
    }
    let imported = crate::import::import(files, name);
    let diags = imported.diagnostics.into_sorted();
    if !diags.is_empty() {
        report_in(
            &diags,
            &imported.sources,
            imported.report.files,
            render::DRAW_LIMIT,
        );
    }
    let Some(plan) = imported.plan else {
        // A file that could not be read at all is an I/O failure, as for `check`.
        let io = diags.iter().any(|d| d.span.is_none());
        return if io { EXIT_USAGE } else { EXIT_ERRORS };
    };
    say_report(&imported.report);
    match out {
        None => stdout(&plan),
        Some(path) => {
            // As `init`: a plan is edited after it is imported, so an existing file (or a link
            // in its place) is never replaced.
            let created = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .and_then(|mut f| f.write_all(plan.as_bytes()));
            match created {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    say!(
                        "error: `{}` already exists; refusing to overwrite it",
                        path.display()
                    );
                    say!(
                        "help: write to a new file and compare, e.g. `--out {}`, or print the plan by leaving out `--out`",
                        new_name(path).display()
                    );
                    return EXIT_USAGE;
                }
                Err(e) => {
                    say!("error: cannot write `{}`: {e}", path.display());
                    // Nothing half-written stays behind.
                    let _ = std::fs::remove_file(path);
                    return EXIT_USAGE;
                }
            }
        }
    }
    EXIT_OK
}

/// `upkeep import FILES --into PLAN`: the report, the plan's own errors or what the additions
/// would break, and the plan rewritten in place (atomically) when it checks.
fn import_into(files: &[PathBuf], plan: &std::path::Path) -> u8 {
    let mut done = crate::import::into::import_into(files, plan);
    let diags = std::mem::take(&mut done.imported.diagnostics).into_sorted();
    let imported = &done.imported;
    if !diags.is_empty() {
        report_in(
            &diags,
            &imported.sources,
            imported.report.files,
            render::DRAW_LIMIT,
        );
    }
    if let Some(before) = &done.before {
        report(&before.diagnostics, before, render::DRAW_LIMIT);
        say!(
            "error: `{}` has errors; fix them before importing into it",
            plan.display()
        );
        return exit_code(before).max(EXIT_ERRORS);
    }
    let Some(after) = &done.after else {
        let io = diags.iter().any(|d| d.span.is_none());
        return if io { EXIT_USAGE } else { EXIT_ERRORS };
    };
    say_report(&imported.report);
    for line in &done.summary {
        say!("{line}");
    }
    if !done.new.is_empty() {
        say!(
            "with the imported entries, `{}` has these new findings:",
            plan.display()
        );
        report(&done.new, after, render::DRAW_LIMIT);
    }
    let Some(text) = &done.text else {
        say!(
            "error: the imported entries would give `{}` errors; it is left as it was",
            plan.display()
        );
        return EXIT_ERRORS;
    };
    if !done.changed {
        say!("nothing to add: `{}` is left as it was", plan.display());
        return EXIT_OK;
    }
    if let Err(e) = crate::write::replace(plan, text) {
        say!("error: cannot write `{}`: {e}", plan.display());
        return EXIT_USAGE;
    }
    say!("wrote `{}`", plan.display());
    EXIT_OK
}

/// `plan.yaml` → `plan.new.yaml`: where a second import can go beside the first.
fn new_name(path: &std::path::Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    path.with_file_name(format!("{stem}.new{ext}"))
}

fn graph(path: &std::path::Path) -> u8 {
    let ws = match load_clean(path) {
        Ok(ws) => ws,
        Err(code) => return code,
    };
    let mut plans: Vec<&crate::model::Plan> = ws.plans.iter().collect();
    plans.sort_by(|a, b| a.metadata.name.value.cmp(&b.metadata.name.value));
    let out: String = plans.into_iter().map(crate::graph::dot).collect();
    stdout(&out);
    EXIT_OK
}
