//! Diagnostics: what every stage reports, and how reports are collected.
//!
//! A [`Diagnostic`] carries a [`Code`], a severity, a message, the primary span with an optional
//! label, secondary labelled spans and a help line. Stages push into a [`Diagnostics`] sink and go
//! on; nothing stops at the first problem.
//!
//! **Invariant:** this module knows nothing about output formats or exit codes; rendering lives
//! in [`render`], exit codes in `cli`.

mod codes;
pub mod fix;
pub mod render;

pub use codes::Code;

use crate::span::{FileId, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// The exact text to blame. Absent only for problems with no text to point at (a file that
    /// cannot be read); those name the file in `file`.
    pub span: Option<Span>,
    /// Label on the primary span.
    pub label: Option<String>,
    /// Secondary spans: the other side of a conflict, the definition a reference misses…
    pub labels: Vec<Label>,
    pub help: Option<String>,
    /// Path of the file when there is no span.
    pub file: Option<String>,
}

impl Diagnostic {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.default_severity(),
            message: message.into(),
            span: None,
            label: None,
            labels: Vec::new(),
            help: None,
            file: None,
        }
    }

    #[must_use]
    pub fn at(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    #[must_use]
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    #[must_use]
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    #[must_use]
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    #[must_use]
    pub fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }
}

/// The sink every stage reports into.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Diagnostic> {
        self.items.iter_mut()
    }

    /// Keep the diagnostics `keep` says yes to, in place (`keep` may change them).
    pub fn retain(&mut self, keep: impl FnMut(&mut Diagnostic) -> bool) {
        self.items.retain_mut(keep);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.items.iter().filter(|d| d.severity == severity).count()
    }

    /// Whether a diagnostic of this code already blames a span starting where `span` starts.
    pub fn contains_at(&self, code: Code, span: Span) -> bool {
        self.items.iter().any(|d| {
            d.code == code
                && d.span
                    .is_some_and(|s| s.file == span.file && s.start == span.start)
        })
    }

    /// Sorted by file, position and code, with exact repeats removed: the order users read
    /// and the order that makes output deterministic.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        // Unstable: a stable sort would allocate half the list again, at the run's peak. The
        // key is every field, so the order never depends on the order found (a run that checks
        // its plans in batches finds them in another order than one that checks them at once).
        self.items.sort_unstable_by(|a, b| {
            sort_key(a)
                .cmp(&sort_key(b))
                .then_with(|| a.message.cmp(&b.message))
                .then_with(|| a.label.cmp(&b.label))
                .then_with(|| a.help.cmp(&b.help))
                .then_with(|| {
                    let labels = |d: &Diagnostic| -> Vec<_> {
                        d.labels
                            .iter()
                            .map(|l| ((l.span.file, l.span.start, l.span.end), l.message.clone()))
                            .collect()
                    };
                    labels(a).cmp(&labels(b))
                })
        });
        self.items.dedup_by(|a, b| {
            a.code == b.code && a.span == b.span && a.message == b.message && a.file == b.file
        });
        self.items
    }
}

/// Where a diagnostic is, then what it is: the first fields [`Diagnostics::into_sorted`] orders by.
type SortKey<'a> = (Option<(FileId, u32, u32)>, Option<&'a str>, Code, Severity);

fn sort_key(d: &Diagnostic) -> SortKey<'_> {
    (
        d.span.map(|s| (s.file, s.start, s.end)),
        d.file.as_deref(),
        d.code,
        d.severity,
    )
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// The nearest of `candidates` to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word_l = word.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(&word_l, &c.to_lowercase());
        let limit = (word.chars().count().max(c.chars().count()) / 3).max(1);
        let prefix = c.len() >= 3 && (c.starts_with(word) || word.starts_with(c));
        if (d <= limit || prefix) && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Levenshtein distance with adjacent transpositions counted as one edit.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len() > 64 || b.len() > 64 {
        return a.len().max(b.len());
    }
    let mut prev2 = vec![0usize; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0usize; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// "did you mean `x`?" help text, or a list of what is allowed when nothing is close.
pub fn suggestion_help(word: &str, candidates: &[&str], what: &str) -> String {
    if let Some(s) = did_you_mean(word, candidates.iter().copied()) {
        return format!("did you mean `{s}`?");
    }
    if candidates.is_empty() {
        return format!("there are no {what} to choose from");
    }
    if candidates.len() <= 12 {
        let list: Vec<String> = candidates.iter().map(|c| format!("`{c}`")).collect();
        format!("{what}: {}", list.join(", "))
    } else {
        format!(
            "none of the {} {what} is close to `{word}`",
            candidates.len()
        )
    }
}
