//! Value syntax (SPEC §3): the small languages inside YAML strings.
//!
//! Each parser takes the decoded text of one scalar and returns a typed value or a
//! [`ValueError`] whose range points *inside* that text, so the caller can blame the exact
//! characters (`1h3Om` blames the `O`).
//!
//! **Invariant:** parsers are pure: no I/O, no clock, no panics on any input.

pub mod duration;
pub mod kube;
pub mod money;
pub mod number;
pub mod promql;
pub mod quantity;
pub mod re2;
pub mod schedule;
pub mod time;
pub mod zone;

pub use duration::Duration;
pub use kube::KubeQuantity;
pub use money::Money;
pub use number::Number;
pub use quantity::{Comparator, Direction, Family, Percent, Quantity, Threshold, Unit};
pub use schedule::Schedule;
pub use time::TimeOfDay;

/// A problem in a value's text: the byte range within the text, what is wrong, how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueError {
    pub start: usize,
    pub end: usize,
    pub message: String,
    pub help: String,
}

impl ValueError {
    pub fn new(
        start: usize,
        end: usize,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        ValueError {
            start,
            end: end.max(start),
            message: message.into(),
            help: help.into(),
        }
    }

    /// An error about the whole text.
    pub fn whole(text: &str, message: impl Into<String>, help: impl Into<String>) -> Self {
        Self::new(0, text.len(), message, help)
    }

    /// Shift the range by `by` bytes (when the text was a piece of a larger string).
    #[must_use]
    pub fn shift(mut self, by: usize) -> Self {
        self.start += by;
        self.end += by;
        self
    }
}

pub type Result<T> = std::result::Result<T, ValueError>;

/// The byte range of the word (run of non-space characters) at `at` in `s`.
pub(crate) fn word_at(s: &str, at: usize) -> (usize, usize) {
    let start = s[..at.min(s.len())].rfind(' ').map_or(0, |i| i + 1);
    let end = s[at.min(s.len())..].find(' ').map_or(s.len(), |i| at + i);
    (start, end)
}
