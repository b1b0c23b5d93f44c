//! The driver: runs the stages over a set of paths and collects the results.
//!
//! load → parse → schema → lower (per file) → imports loaded transitively → resolve → check.
//! Stages after a failed stage still run where they can; the result always carries every
//! diagnostic and every plan that could be built.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::diag::{Code, Diagnostic, Diagnostics, Severity};
use crate::load::{self, MissingPath};
use crate::model::{DocKind, Document, Plan};
use crate::resolve::{self, Import};
use crate::source::SourceMap;
use crate::span::FileId;

/// Everything one run knows.
#[derive(Debug, Default)]
pub struct Workspace {
    pub sources: SourceMap,
    pub plans: Vec<Plan>,
    /// Diagnostics, sorted and with lint levels applied.
    pub diagnostics: Vec<Diagnostic>,
    /// Plan and fragment files checked.
    pub files: usize,
}

impl Workspace {
    pub fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count()
    }

    pub fn has_io_failure(&self) -> bool {
        self.diagnostics.iter().any(|d| d.code == Code::Unreadable)
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// `--deny warnings`.
    pub deny_warnings: bool,
    /// `upkeep build --runbook-base-url`: the build makes runbook links absolute, so plans
    /// without `metadata.runbook_base_url` are not warned about relative ones.
    pub runbook_base_url: bool,
    /// `--max-input`: most bytes of plan text the run reads (default
    /// [`load::MAX_INPUT_BYTES`]).
    pub max_input: Option<u64>,
    /// Only the diagnostics are wanted (`upkeep check`): plans are checked a batch at a time
    /// and each batch is freed once checked, so memory does not grow with the number of plans,
    /// and the workspace comes back without plans.
    pub check_only: bool,
}

impl Options {
    fn max_input(self) -> u64 {
        self.max_input.unwrap_or(load::MAX_INPUT_BYTES as u64)
    }
}

struct Loader {
    sources: SourceMap,
    docs: Vec<Option<Document>>,
    imports: Vec<Import>,
    diags: Diagnostics,
    /// Files whose schema validation waits for the validator to finish compiling.
    pending: Vec<Pending>,
    /// The directory trees named on the command line (canonical): imports stay inside them.
    trees: Vec<PathBuf>,
    /// What names a file in generated files outside a repository: each directory named on the
    /// command line, or the directory of each file named (canonical).
    anchors: Vec<PathBuf>,
    /// Most bytes of plan text the run reads, imports included.
    max_input: u64,
    /// Files named or found that a later batch will analyse, with whether each was named on
    /// the command line; a file imported before its batch is analysed when imported.
    later: std::collections::HashMap<FileId, bool>,
    /// What each file lowered into, by file id: kept after a plan's document is moved into its
    /// plan, so an import of a plan checked in an earlier batch is still refused.
    kinds: Vec<Option<DocKind>>,
}

/// The tree a path argument names: a directory itself; for a file, the working directory when
/// the file is inside it (a hook names `plans/x.yaml` from the repository's top), else the
/// file's own directory.
fn tree_of(path: &Path) -> PathBuf {
    let canon = crate::load::canonical(path);
    if !canon.is_dir() {
        let cwd = std::env::current_dir()
            .map(|d| crate::load::canonical(&d))
            .unwrap_or_default();
        if !cwd.as_os_str().is_empty() && canon.starts_with(&cwd) {
            return cwd;
        }
    }
    anchor_of(path)
}

/// What generated files name a path from outside a repository: a directory itself, a file's
/// directory.
fn anchor_of(path: &Path) -> PathBuf {
    let canon = crate::load::canonical(path);
    if canon.is_dir() {
        return canon;
    }
    canon.parent().map(Path::to_path_buf).unwrap_or(canon)
}

/// A file's schema validation: done where the file was analysed, handed to the schema thread
/// ([`crate::schema::offload`]), or left for the end of the run when the validator was not
/// ready and that thread was busy. Its result is collected after the checks.
struct Pending {
    /// The validation, when it is left for the end of the run.
    run: Option<Box<dyn FnOnce() + Send>>,
    result: std::sync::mpsc::Receiver<std::thread::Result<Diagnostics>>,
}

impl Pending {
    /// The schema's diagnostics that lowering did not already cover.
    fn validate(self) -> Diagnostics {
        if let Some(run) = self.run {
            run();
        }
        match self.result.recv() {
            Ok(Ok(diags)) => diags,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            // Only an earlier job's panic, already raised, stops the schema thread.
            Err(_) => Diagnostics::new(),
        }
    }
}

/// A parsed and lowered file to validate against the schema: its tree, and where lowering
/// already reported something (a schema diagnostic there would repeat it).
struct Tree {
    id: FileId,
    root: crate::parse::Node,
    reported: Vec<crate::span::Span>,
}

impl Tree {
    /// The schema's diagnostics that lowering did not already cover.
    fn validate(self) -> Diagnostics {
        let mut out = Diagnostics::new();
        for d in crate::schema::validate(self.id, &self.root) {
            let covered = d.span.is_some_and(|s| {
                self.reported.iter().any(|ls| {
                    ls.file == s.file && ls.start >= s.start && ls.start <= s.end.max(s.start)
                })
            });
            if !covered {
                out.push(d);
            }
        }
        out
    }

    /// Validate on the schema thread if it can take it, else here if the validator is ready,
    /// else at the end of the run (instead of idling until the compiler finishes).
    fn schedule(self) -> Pending {
        let ready = crate::schema::ready(&self.root);
        let (send, result) = std::sync::mpsc::sync_channel(1);
        let job = move || {
            let validated =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.validate()));
            let _ = send.send(validated);
        };
        let run: Option<Box<dyn FnOnce() + Send>> = match crate::schema::offload(job) {
            Ok(()) => None,
            Err(job) if ready => {
                job();
                None
            }
            Err(job) => Some(Box::new(job)),
        };
        Pending { run, result }
    }
}

impl Loader {
    fn new(trees: Vec<PathBuf>, anchors: Vec<PathBuf>, max_input: u64, diags: Diagnostics) -> Self {
        Loader {
            sources: SourceMap::new(),
            docs: Vec::new(),
            imports: Vec::new(),
            diags,
            pending: Vec::new(),
            trees,
            anchors,
            max_input,
            later: std::collections::HashMap::new(),
            kinds: Vec::new(),
        }
    }

    /// Read, parse, validate and lower one file (once).
    fn file(&mut self, path: &Path, explicit: bool) -> Option<FileId> {
        let before = self.sources.len();
        let id = load::read(path, &mut self.sources, self.max_input, &mut self.diags)?;
        if self.sources.len() == before {
            return Some(id); // already loaded
        }
        self.process(id, explicit);
        Some(id)
    }

    /// Parse, validate and lower a file just added to the source map.
    fn process(&mut self, id: FileId, explicit: bool) {
        let (doc, diags, pending) = analyse(id, self.sources.get(id), explicit);
        self.keep(id, doc, diags, pending);
    }

    fn keep(
        &mut self,
        id: FileId,
        doc: Option<Document>,
        diags: Diagnostics,
        pending: Option<Pending>,
    ) {
        self.pending.extend(pending);
        let i = id.0 as usize;
        if self.kinds.len() <= i {
            self.kinds.resize(i + 1, None);
        }
        self.kinds[i] = doc.as_ref().map(|d| d.kind);
        if self.docs.len() <= i {
            self.docs.resize_with(i + 1, || None);
        }
        self.docs[i] = doc;
        self.diags.extend(diags);
    }
}

/// Parse, validate and lower one file: pure, so files are analysed on every core.
///
/// The schema validator compiles on its own thread while the first files are parsed (see
/// [`crate::schema::prepare`]), which then validates what it is given while the checks run;
/// the file's [`Pending`] validation is collected after the checks. A file lowered while that
/// thread is busy is validated here, or, before the validator is ready, after the checks
/// (instead of idling until the compiler finishes): only those few files keep their tree.
fn analyse(
    id: FileId,
    source: &crate::source::SourceFile,
    explicit: bool,
) -> (Option<Document>, Diagnostics, Option<Pending>) {
    let mut diags = Diagnostics::new();
    let Some(root) = crate::parse::parse(id, source, &mut diags) else {
        return (None, diags, None);
    };
    if explicit && !declares_upkeep(&root) {
        diags.push(
            Diagnostic::new(Code::NotAPlan, format!("`{}` is not an upkeep plan", source.name))
                .at(crate::span::Span::file_start(id))
                .label("no `apiVersion: upkeep/v1` here")
                .help("an upkeep plan starts with `apiVersion: upkeep/v1` and `kind: Plan`; pass a directory to check only the plans in it"),
        );
        return (None, diags, None);
    }
    let doc = crate::lower::lower(id, source, &root, &mut diags);
    // Every string of the file, plan or fragment, imported or not: a secret in it is leaked.
    let secrets = crate::check::scan_secrets(id, &source.text, &root);
    // The schema is an independent gate; keep what it finds where lowering said nothing.
    let tree = Tree {
        id,
        root,
        reported: diags.iter().filter_map(|d| d.span).collect(),
    };
    diags.extend(secrets);
    (doc, diags, Some(tree.schedule()))
}

fn declares_upkeep(root: &crate::parse::Node) -> bool {
    root.get("apiVersion")
        .and_then(crate::parse::Node::as_str)
        .is_some_and(|v| v.starts_with("upkeep/"))
}

/// Stack for the pipeline: parsing recurses once per YAML level (bounded by
/// [`crate::parse::MAX_DEPTH`]), and debug builds use large frames.
const STACK: usize = 64 * 1024 * 1024;

/// Load and check everything under `paths`, on a thread whose stack is known to be enough for
/// the deepest input the parser accepts, whatever thread the caller is on.
pub fn check(paths: &[PathBuf], opts: Options) -> Result<Workspace, MissingPath> {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("upkeep-check".to_owned())
            .stack_size(STACK)
            .spawn_scoped(s, || check_here(paths, opts))
            .map_or_else(
                |_| check_here(paths, opts),
                |h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            )
    })
}

/// Check plans held in memory (`(path, text)`; imports are still read from disk, relative to
/// each path). For fuzzing and embedding: the same pipeline as [`check`], without discovery.
pub fn check_texts(files: Vec<(PathBuf, String)>, opts: Options) -> Workspace {
    let files = std::sync::Mutex::new(Some(files));
    let run = || {
        let files = files
            .lock()
            .map(|mut f| f.take().unwrap_or_default())
            .unwrap_or_default();
        let trees = files.iter().map(|(p, _)| tree_of(p)).collect();
        let mut loader = Loader::new(
            trees,
            files.iter().map(|(p, _)| anchor_of(p)).collect(),
            opts.max_input(),
            Diagnostics::new(),
        );
        let count = files.len();
        let mut roots = Vec::new();
        for (path, text) in files {
            let id = loader.sources.add(path, text);
            loader.process(id, true);
            roots.push(id);
        }
        let mut run = Run::new(loader, opts);
        run.step(&roots);
        run.finish(count)
    };
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("upkeep-check".to_owned())
            .stack_size(STACK)
            .spawn_scoped(s, run)
            .map_or_else(
                |_| run(),
                |h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            )
    })
}

fn check_here(paths: &[PathBuf], opts: Options) -> Result<Workspace, MissingPath> {
    let mut diags = Diagnostics::new();
    let found = load::discover(paths, opts.max_input(), &mut diags)?;
    if !found.is_empty() {
        crate::schema::prepare();
    }
    let mut loader = Loader::new(
        paths.iter().map(|p| tree_of(p)).collect(),
        paths.iter().map(|p| anchor_of(p)).collect(),
        opts.max_input(),
        diags,
    );
    // Read in order, then analyse the files on every core; results are kept in file order.
    let mut fresh = Vec::new();
    for (path, explicit) in &found {
        let before = loader.sources.len();
        if let Some(id) = load::read(
            path,
            &mut loader.sources,
            loader.max_input,
            &mut loader.diags,
        ) {
            // A file named twice is read once (and checked once).
            if loader.sources.len() > before {
                fresh.push((id, *explicit));
            }
        }
    }
    // A check alone goes a batch of files at a time, each batch freed once checked; enough
    // files per batch to keep every core busy.
    let batch = if opts.check_only { BATCH } else { usize::MAX };
    for (id, explicit) in fresh.iter().skip(batch) {
        loader.later.insert(*id, *explicit);
    }
    let mut run = Run::new(loader, opts);
    for (k, part) in fresh.chunks(batch.min(fresh.len()).max(1)).enumerate() {
        let loader = &mut run.loader;
        let todo: Vec<(FileId, bool)> = if k == 0 {
            part.to_vec()
        } else {
            // Already analysed when an earlier plan imported it.
            part.iter()
                .filter(|(id, _)| loader.later.remove(id).is_some())
                .copied()
                .collect()
        };
        let sources = &loader.sources;
        let analysed = crate::par::map(&todo, |(id, explicit)| {
            analyse(*id, sources.get(*id), *explicit)
        });
        for ((id, _), (doc, diags, pending)) in todo.iter().zip(analysed) {
            loader.keep(*id, doc, diags, pending);
        }
        let part_roots: Vec<FileId> = part.iter().map(|(id, _)| *id).collect();
        run.step(&part_roots);
    }
    Ok(run.finish(found.len()))
}

/// Files a `check_only` run analyses, resolves and checks at a time.
const BATCH: usize = 64;

/// A run past loading: imports, resolution and checks, a batch of root files at a time, then
/// lint levels over everything found.
struct Run {
    loader: Loader,
    opts: Options,
    /// Files whose imports were followed.
    followed: HashSet<FileId>,
    /// Sources whose origin is settled (the first this many).
    named: usize,
    resolved: resolve::State,
    plans: Vec<Plan>,
    /// Each checked plan's file and its `lints:`.
    lints: Vec<(FileId, crate::model::Lints)>,
}

impl Run {
    fn new(loader: Loader, opts: Options) -> Run {
        Run {
            loader,
            opts,
            followed: HashSet::new(),
            named: 0,
            resolved: resolve::State::default(),
            plans: Vec::new(),
            lints: Vec::new(),
        }
    }

    /// Follow the imports of `roots` (analysed already), resolve their plans and check them.
    fn step(&mut self, roots: &[FileId]) {
        self.follow_imports(roots);
        self.name_sources();
        let loader = &mut self.loader;
        let plans = resolve::resolve(
            &mut loader.docs,
            &loader.imports,
            roots,
            &mut self.resolved,
            &mut loader.diags,
        );
        crate::check::run(
            &plans,
            &loader.sources,
            self.opts.runbook_base_url,
            &mut loader.diags,
        );
        self.lints
            .extend(plans.iter().map(|p| (p.file, p.lints.clone())));
        if !self.opts.check_only {
            self.plans.extend(plans);
        }
    }

    /// Imports, depth-first from each root in order, each file once. The order is the same
    /// whether the roots come in one batch or several, so imported files get the same ids (and
    /// their diagnostics the same order) either way.
    fn follow_imports(&mut self, roots: &[FileId]) {
        let loader = &mut self.loader;
        for &root in roots {
            let mut stack = vec![root];
            while let Some(id) = stack.pop() {
                let next = Self::follow(loader, &mut self.followed, id);
                stack.extend(next.into_iter().rev());
            }
        }
    }

    /// Load the imports of `id` (once) and record them: the files to follow next, in the order
    /// written.
    fn follow(loader: &mut Loader, followed: &mut HashSet<FileId>, id: FileId) -> Vec<FileId> {
        let mut next = Vec::new();
        if !followed.insert(id) {
            return next;
        }
        let Some(Some(doc)) = loader.docs.get(id.0 as usize) else {
            return next;
        };
        let base = loader
            .sources
            .get(id)
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let shown_base = Path::new(&loader.sources.get(id).name)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        for entry in doc.imports.clone() {
            let target = base.join(&entry.value);
            let inside = !Path::new(&entry.value).is_absolute() && {
                let canon = crate::load::canonical(&target);
                loader.trees.iter().any(|t| canon.starts_with(t))
            };
            if !inside {
                // Never read (or show) a file outside what the run was asked to check.
                loader.diags.push(
                        Diagnostic::new(
                            Code::ImportNotFound,
                            format!(
                                "imported file `{}` is outside the tree being checked",
                                entry.value
                            ),
                        )
                        .at(entry.span)
                        .label("outside the checked tree")
                        .help("imports are relative paths that stay inside the directory named on the command line; copy the fragment into it"),
                    );
                continue;
            }
            if !target.is_file() {
                loader.diags.push(
                    Diagnostic::new(
                        Code::ImportNotFound,
                        format!("imported file `{}` does not exist", entry.value),
                    )
                    .at(entry.span)
                    .label("not found")
                    .help(format!(
                        "imports are relative to this file's directory (`{}`)",
                        crate::source::display_name(&shown_base)
                    )),
                );
                continue;
            }
            // Prefer the path relative to what the user gave, so names in reports stay short.
            let shown = shown_base.join(&entry.value);
            let Some(to) = loader.file(if shown.is_file() { &shown } else { &target }, false)
            else {
                continue;
            };
            if let Some(explicit) = loader.later.remove(&to) {
                loader.process(to, explicit);
            }
            if loader.kinds.get(to.0 as usize).copied().flatten() == Some(DocKind::Plan) {
                loader.diags.push(
                        Diagnostic::new(Code::ImportNotFragment, format!("`{}` is a plan, not a fragment", entry.value))
                            .at(entry.span)
                            .label("imports a plan")
                            .help("only `kind: Fragment` files can be imported; move the shared sections into a fragment"),
                    );
                continue;
            }
            loader.imports.push(Import {
                from: id,
                entry: entry.span,
                to,
            });
            next.push(to);
        }
        next
    }

    /// Outside a repository, generated files name each plan from the tree given on the command
    /// line, so they are the same whatever the working directory.
    fn name_sources(&mut self) {
        let loader = &mut self.loader;
        for i in self.named..loader.sources.len() {
            let id = FileId(i as u32);
            let file = loader.sources.get(id);
            if file.in_repo {
                continue;
            }
            let canon = crate::load::canonical(&file.path);
            let origin = loader
                .anchors
                .iter()
                .filter(|a| canon.starts_with(a))
                .max_by_key(|a| a.as_os_str().len())
                .and_then(|a| crate::source::relative_to(&canon, a));
            if let Some(origin) = origin.filter(|o| !o.is_empty()) {
                loader.sources.set_origin(id, origin);
            }
        }
        self.named = loader.sources.len();
    }

    /// The schema's late findings and lint levels, then the workspace.
    fn finish(self, found: usize) -> Workspace {
        let Run {
            mut loader,
            opts,
            plans,
            lints,
            ..
        } = self;
        let mut diags = std::mem::take(&mut loader.diags);
        for pending in std::mem::take(&mut loader.pending) {
            diags.extend(pending.validate());
        }
        // Lint levels: each plan's `lints:` govern the diagnostics in its own file.
        resolve::apply_lints(lints.iter().map(|(f, l)| (*f, l.as_slice())), &mut diags);
        let mut diagnostics = diags.into_sorted();
        if opts.deny_warnings {
            for d in &mut diagnostics {
                d.severity = Severity::Error;
            }
        }
        // Files parsed and lowered.
        let lowered = loader.kinds.iter().flatten().count();
        let files = lowered.max(found.min(loader.sources.len()));
        Workspace {
            sources: loader.sources,
            plans,
            diagnostics,
            files,
        }
    }
}

/// The artefacts of each checked plan, the files they share, and what emitting found wrong.
#[derive(Debug, Default)]
pub struct Build {
    /// By plan, in plan-name order: the plan's name and its own files.
    pub plans: Vec<(String, Vec<crate::emit::Artifact>)>,
    /// Files of the whole build, made from every plan: one Alertmanager configuration
    /// (`alertmanager/alertmanager.yaml`) serves them all.
    pub shared: Vec<crate::emit::Artifact>,
    /// Problems found while emitting (a broken template override).
    pub diagnostics: Diagnostics,
}

impl Build {
    /// Every artefact, plan by plan, then the shared files.
    pub fn artifacts(self) -> Vec<crate::emit::Artifact> {
        self.plans
            .into_iter()
            .flat_map(|(_, a)| a)
            .chain(self.shared)
            .collect()
    }
}

/// Turn the checked plans of `ws` into artefacts: the one place the emitters are run. Plans
/// are emitted on every core; files name their plan by its source's origin (its path in the
/// repository).
pub fn build(ws: &Workspace, opts: &crate::emit::Options) -> Build {
    let mut plans: Vec<&Plan> = ws.plans.iter().collect();
    plans.sort_by(|a, b| a.metadata.name.value.cmp(&b.metadata.name.value));
    let built = crate::par::map(&plans, |plan| {
        let mut diags = Diagnostics::new();
        let built = emit_plan(ws, plan, opts, &mut diags);
        (plan.metadata.name.value.clone(), built, diags)
    });
    let mut out = Build::default();
    let mut parts = Vec::new();
    let mut blackbox = Vec::new();
    for (name, built, diags) in built {
        out.plans.push((name, built.files));
        parts.extend(built.alertmanager);
        blackbox.extend(built.blackbox);
        out.diagnostics.extend(diags);
    }
    out.shared = crate::emit::shared(&parts, &blackbox);
    if cfg!(debug_assertions) {
        let wrong = shape_violations(ws, &out);
        assert!(
            wrong.is_empty(),
            "generated files lost their shape:\n{}",
            wrong.join("\n")
        );
    }
    out
}

/// What breaks the structural invariants of a build (see `emit::shape`): a crontab entry,
/// `CronJob`, alert rule, calendar event or Alertmanager route more or fewer than the plans
/// have, one message each. Debug builds check it after every build; fuzzers call it.
pub fn shape_violations(ws: &Workspace, build: &Build) -> Vec<String> {
    let mut out = Vec::new();
    for (name, files) in &build.plans {
        let Some(plan) = ws.plans.iter().find(|p| &p.metadata.name.value == name) else {
            continue;
        };
        out.extend(
            crate::emit::shape::violations(plan, &ws.sources, files, &build.shared)
                .into_iter()
                .map(|v| format!("plan `{name}`: {v}")),
        );
    }
    out
}

/// The artefacts of one checked plan of `ws` (see [`build`]): its own files, and the shared
/// files as a build of this plan alone makes them (the Alertmanager configuration with its
/// routes only), so that `upkeep diff` sees a plan's part of them.
pub fn build_plan(
    ws: &Workspace,
    plan: &Plan,
    opts: &crate::emit::Options,
    diags: &mut Diagnostics,
) -> Vec<crate::emit::Artifact> {
    let built = emit_plan(ws, plan, opts, diags);
    let mut files = built.files;
    files.extend(crate::emit::shared(
        &Vec::from_iter(built.alertmanager),
        &built.blackbox,
    ));
    files
}

fn emit_plan(
    ws: &Workspace,
    plan: &Plan,
    opts: &crate::emit::Options,
    diags: &mut Diagnostics,
) -> crate::emit::Built {
    let cx = crate::emit::Context {
        plan,
        source: &ws.sources.get(plan.file).origin,
        sources: &ws.sources,
        opts,
    };
    crate::emit::build(&cx, diags)
}
