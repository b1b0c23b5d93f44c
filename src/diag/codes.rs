//! The diagnostic codes: one table, one place.
//!
//! Each code has a stable kebab-case name in a family (`kpi/threshold-order`), a default
//! severity, a one-line summary, and an explanation page that lives in the book
//! (`book/src/diagnostics/CODE.md`) and is compiled into the binary for `upkeep explain`. A code
//! without a page does not compile.

use super::Severity;

macro_rules! codes {
    ($( $variant:ident = $name:literal, $sev:ident, $summary:literal; )*) => {
        /// A stable diagnostic code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($variant,)* }

        impl Code {
            /// Every code, in the order of the table (grouped by family).
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The kebab-case name users see and write in `lints:`.
            pub fn name(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            /// The severity a diagnostic of this code has unless a check says otherwise.
            pub fn default_severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$sev,)* }
            }

            /// One line saying what the code means.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$variant => $summary,)* }
            }

            /// The explanation page (Markdown), shared with the book.
            pub fn explain(self) -> &'static str {
                match self {
                    $(Code::$variant => include_str!(concat!(
                        env!("CARGO_MANIFEST_DIR"), "/book/src/diagnostics/", $name, ".md"
                    )),)*
                }
            }
        }
    };
}

codes! {
    Syntax = "syntax", Error, "the file is not valid YAML";
    DuplicateKey = "syntax/duplicate-key", Error, "a mapping defines the same key twice";
    FileSize = "limit/file-size", Error, "a file is larger than the compiler reads";
    Depth = "limit/depth", Error, "YAML, or PromQL brackets and operators, nested deeper than the compiler allows";
    Aliases = "limit/aliases", Error, "YAML aliases expand to more than the compiler allows";
    Size = "limit/size", Error, "a document has more nodes or text than the compiler allows";
    Files = "limit/files", Error, "more plan files than the compiler reads in one run";
    Input = "limit/input", Error, "more plan text than the compiler reads in one run";
    Runs = "limit/runs", Error, "schedules that run more often than the compiler compares";
    Unreadable = "file/unreadable", Error, "a file or directory could not be read";
    NotUtf8 = "file/not-utf8", Error, "a file is not UTF-8 text";
    NotAPlan = "file/not-a-plan", Error, "a file named on the command line is not an upkeep plan";
    UnknownField = "schema/unknown-field", Error, "a field the format does not have";
    Type = "schema/type", Error, "a value of the wrong type or malformed syntax";
    Missing = "schema/missing", Error, "a required field is missing";
    Range = "schema/range", Error, "a number outside its allowed range";
    Exclusive = "schema/exclusive", Error, "fields that cannot be used together";
    ScheduleInvalid = "schedule/invalid", Error, "an unparseable or impossible schedule";
    IntervalNotCron = "schedule/interval-not-cron", Error, "an interval cron cannot repeat evenly";
    CronDayOr = "schedule/cron-day-or", Warning, "a cron line restricts both day fields, which cron ORs";
    ImportCycle = "import/cycle", Error, "files import each other in a cycle";
    ImportConflict = "import/conflict", Error, "the same key is defined in two files";
    ImportNotFound = "import/not-found", Error, "an imported file does not exist";
    ImportNotFragment = "import/not-a-fragment", Error, "an import names a file that is not a fragment";
    RefUnknown = "ref/unknown", Error, "a reference to something the plan does not define";
    RefUnused = "ref/unused", Warning, "a runbook, receiver, window or role that nothing uses";
    StandaloneUsed = "ref/standalone-used", Warning, "an entry marked `standalone` that something uses";
    DependencyCycle = "service/dependency-cycle", Error, "services depend on each other in a cycle";
    ThresholdOrder = "kpi/threshold-order", Error, "a KPI's warning threshold is beyond its critical one";
    DirectionMismatch = "kpi/direction-mismatch", Error, "a KPI's objective, warning and critical disagree on which side is bad";
    UnitMismatch = "kpi/unit-mismatch", Error, "a threshold's unit is of another family than the KPI's";
    ObjectiveBreached = "kpi/objective-breached-by-warning", Warning, "the objective is breached before the warning fires";
    PercentOfRatio = "kpi/percent-of-ratio", Warning, "an `expr` KPI in `%` whose expression yields a 0–1 ratio";
    PromqlSyntax = "promql/syntax", Error, "an expression or selector that is not valid PromQL";
    SloObjectiveRange = "slo/objective-range", Error, "an SLO objective of 0% or 100%";
        SloUnachievable = "slo/unachievable", Warning, "an SLO stricter than what its hard dependencies allow";
    BurnUnreachable = "slo/burn-rate-unreachable", Warning, "a burn-rate alert that can never fire at this objective";
    MatrixIncomplete = "severity/matrix-incomplete", Error, "a severity matrix row with missing or extra cells";
    MatrixNotMonotonic = "severity/matrix-not-monotonic", Warning, "more impact or likelihood gives a less urgent level";
    ResponseOrder = "severity/response-order", Error, "a more urgent level with a longer response time";
    NoRunbook = "alert/no-runbook", Warning, "an urgent alert without a runbook";
    ResponseUnmet = "alert/response-unmet", Warning, "an alert cannot notify within its level's response time";
    NoReceiver = "alert/no-receiver", Error, "a severity level that notifies nobody";
    NoLevel = "alert/no-level", Error, "an alert whose severity level cannot be determined";
    TimedAfterManual = "oncall/timed-after-manual", Warning, "a timed escalation step after one taken by hand";
    RelativeRunbookUrl = "runbook/relative-url", Warning, "alerts link to their runbooks by relative paths, which a notification cannot open";
    WindowOverflow = "window/overflow", Error, "tasks in a window need longer than the window";
    FreezeOverlap = "window/freeze-overlap", Error, "a task, backup or window overlaps a freeze window";
    TaskOverlap = "task/overlap", Warning, "automated tasks (or a task and a backup) on one service run at the same time";
    WindowBudget = "window/budget", Error, "planned downtime eats the error budget of a service's SLO";
    RpoUnmet = "backup/rpo-unmet", Error, "the most frequent backup runs less often than the RPO allows";
    RetentionShort = "backup/retention-short", Error, "backups are deleted before the next one is taken";
    NoRestoreTest = "backup/no-restore-test", Warning, "backups that are never restore-tested";
    RetentionUnenforced = "backup/retention-unenforced", Warning, "nothing deletes backups older than their `retain`";
    BudgetSum = "budget/sum-mismatch", Error, "budget lines do not add up to the total";
    AllocationSum = "budget/allocation-sum", Error, "allocation percentages do not add up to 100%";
    CurrencyMismatch = "budget/currency-mismatch", Error, "an amount in another currency than the budget's";
    SecretInline = "secret/inline", Error, "a secret (webhook URL, token, key, password) written in a plan";
        EnvResources = "env/resources", Error, "inconsistent resources or autoscaling in an environment";
    EnvValuesOverride = "env/values-override", Warning, "free-form Helm values that replace a generated value";
    EnvOverrideMissing = "env/override-missing", Error, "an environment replaces a threshold its KPI does not have";
    LintConfig = "lint/config", Error, "an invalid entry in the lint configuration";
        DuplicatePlan = "plan/duplicate-name", Error, "two plans with the same name";
    TemplateError = "template/error", Error, "a documentation template that does not compile or render";
}

impl Code {
    pub fn from_name(name: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.name() == name)
    }

    /// The family, the part before the slash (`kpi` for `kpi/threshold-order`).
    pub fn family(self) -> &'static str {
        self.name().split('/').next().unwrap_or("")
    }
}
