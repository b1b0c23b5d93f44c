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
    Depth = "limit/depth", Error, "YAML nesting deeper than the compiler allows";
    Aliases = "limit/aliases", Error, "YAML aliases expand to more than the compiler allows";
    Size = "limit/size", Error, "a document has more nodes or text than the compiler allows";
    Files = "limit/files", Error, "more plan files than the compiler reads in one run";
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
    LintConfig = "lint/config", Error, "an invalid entry in the lint configuration";
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
