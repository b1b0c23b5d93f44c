//! `upkeep`: a compiler for maintenance plans.
//!
//! The modules, in pipeline order: [`load`] (find and read files) → [`parse`] (YAML with spans)
//! → [`schema`] (JSON Schema gate) → [`lower`] (typed [`model`], with [`value`] syntax) →
//! `resolve` (imports, references) → `check` (semantic lints) → [`emit`] (artefacts) →
//! [`write`](mod@write) (atomic, or `--check`). [`driver`] runs them;
//! [`diag`] is what they all report into; [`cli`] is the command line. [`import`] reads other
//! tools' rule files into a plan; `lsp` serves the checks to editors.

pub(crate) mod check;
pub mod cli;
pub mod diag;
pub mod diff;
pub mod driver;
pub mod emit;
pub(crate) mod graph;
pub mod import;
pub(crate) mod init;
pub mod load;
pub mod lower;
pub(crate) mod lsp;
pub mod model;
pub(crate) mod par;
pub mod parse;
pub(crate) mod resolve;
pub mod schema;
pub mod source;
pub mod span;
pub mod value;
pub mod write;
