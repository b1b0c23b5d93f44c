//! Durations: `30s`, `5m`, `2h`, `1d`, `1w`, `90d`, `1y` (365 days), compounds such as `1h30m`,
//! rendered the way Prometheus reads them.

use std::fmt::{self, Write as _};

use super::{Result, ValueError};

/// A non-negative length of time, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(u64);

const MS: u64 = 1;
const SECOND: u64 = 1000 * MS;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;
const WEEK: u64 = 7 * DAY;
const YEAR: u64 = 365 * DAY;

/// Units in the order a compound must use them.
const UNITS: &[(&str, u64)] = &[
    ("y", YEAR),
    ("w", WEEK),
    ("d", DAY),
    ("h", HOUR),
    ("m", MINUTE),
    ("s", SECOND),
    ("ms", MS),
];

/// Longest duration a plan may state (100 years): beyond it arithmetic stops meaning anything.
const MAX: u64 = 100 * YEAR;

impl Duration {
    pub const ZERO: Duration = Duration(0);

    pub const fn from_millis(ms: u64) -> Duration {
        Duration(ms)
    }
    pub const fn from_secs(s: u64) -> Duration {
        Duration(s.saturating_mul(SECOND))
    }
    pub const fn from_mins(m: u64) -> Duration {
        Duration(m.saturating_mul(MINUTE))
    }
    pub const fn from_hours(h: u64) -> Duration {
        Duration(h.saturating_mul(HOUR))
    }
    pub const fn from_days(d: u64) -> Duration {
        Duration(d.saturating_mul(DAY))
    }

    pub fn as_millis(self) -> u64 {
        self.0
    }
    pub fn as_secs(self) -> u64 {
        self.0 / SECOND
    }
    pub fn as_mins(self) -> u64 {
        self.0 / MINUTE
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / SECOND as f64
    }
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    #[must_use]
    pub fn saturating_add(self, o: Duration) -> Duration {
        Duration(self.0.saturating_add(o.0))
    }
    #[must_use]
    pub fn saturating_sub(self, o: Duration) -> Duration {
        Duration(self.0.saturating_sub(o.0))
    }
    #[must_use]
    pub fn saturating_mul(self, n: u64) -> Duration {
        Duration(self.0.saturating_mul(n))
    }

    /// Parse a duration. Milliseconds are accepted only when `allow_ms` (latencies); elsewhere a
    /// plan's times are whole seconds or more.
    pub fn parse(text: &str, allow_ms: bool) -> Result<Duration> {
        let help = "write a number and a unit (`s`, `m`, `h`, `d`, `w`, `y`), or a compound such as `1h30m`";
        if text.is_empty() {
            return Err(ValueError::whole(text, "empty duration", help));
        }
        if let Some(i) = text.find(char::is_whitespace) {
            return Err(ValueError::new(
                i,
                i + 1,
                format!("space in duration `{text}`"),
                corrected(text, allow_ms).map_or_else(
                    || "write a duration without spaces, e.g. `1h30m`".to_owned(),
                    |c| format!("write `{c}` (a duration has no spaces)"),
                ),
            ));
        }
        let bytes = text.as_bytes();
        let mut i = 0;
        let mut total: u64 = 0;
        let mut last_unit: Option<usize> = None;
        while i < bytes.len() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i == start {
                let end = super::word_at(text, start).1;
                let (msg, help) = if bytes[start] == b'-' {
                    ("a duration cannot be negative".to_owned(), help.to_owned())
                } else {
                    (
                        format!("expected a number in duration `{text}`"),
                        help.to_owned(),
                    )
                };
                return Err(ValueError::new(start, end.max(start + 1), msg, help));
            }
            if i < bytes.len() && bytes[i] == b'.' {
                let frac_end = i
                    + 1
                    + bytes[i + 1..]
                        .iter()
                        .take_while(|b| b.is_ascii_digit())
                        .count();
                return Err(ValueError::new(
                    start,
                    frac_end,
                    "fractional durations are not supported",
                    "use a smaller unit or a compound, e.g. `1h30m` instead of `1.5h`",
                ));
            }
            let n: u64 = text[start..i]
                .parse()
                .map_err(|_| ValueError::new(start, i, "number too large in duration", help))?;
            let ustart = i;
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            let unit = &text[ustart..i];
            if unit.is_empty() {
                return Err(ValueError::new(
                    start,
                    i.max(start + 1),
                    format!("missing unit after `{n}`"),
                    format!("add a unit, e.g. `{n}s`, `{n}m` or `{n}h`"),
                ));
            }
            let Some(idx) = UNITS.iter().position(|(u, _)| *u == unit) else {
                let zero = text.replace(['O', 'o'], "0");
                let help = if unit.contains(['O', 'o'])
                    && zero != text
                    && Duration::parse(&zero, allow_ms).is_ok()
                {
                    format!("`O` is a letter; did you mean `{zero}`?")
                } else {
                    corrected(text, allow_ms)
                        .map_or_else(|| help.to_owned(), |c| format!("write `{c}`"))
                };
                return Err(ValueError::new(
                    ustart,
                    i,
                    format!("unknown duration unit `{unit}`"),
                    help,
                ));
            };
            if UNITS[idx].0 == "ms" && !allow_ms {
                return Err(ValueError::new(
                    ustart,
                    i,
                    "milliseconds are only allowed for latencies",
                    "durations of schedules, windows and alerts are whole seconds or more",
                ));
            }
            if let Some(prev) = last_unit {
                if idx <= prev {
                    return Err(ValueError::new(
                        start,
                        i,
                        format!("unit `{unit}` out of order in `{text}`"),
                        "write each unit once, largest first: `1d2h30m`",
                    ));
                }
            }
            last_unit = Some(idx);
            total = n
                .checked_mul(UNITS[idx].1)
                .and_then(|v| total.checked_add(v))
                .filter(|&t| t <= MAX)
                .ok_or_else(|| {
                    ValueError::whole(
                        text,
                        "duration longer than 100 years",
                        "use a shorter duration",
                    )
                })?;
        }
        Ok(Duration(total))
    }

    /// The duration in words, with the units of [`Self::prometheus`]: `1 hour 30 minutes`,
    /// `30 days`, `250 milliseconds`, `0 seconds`.
    pub fn words(self) -> String {
        let mut parts = Vec::new();
        let mut rest = self.0;
        for (name, len) in [
            ("day", DAY),
            ("hour", HOUR),
            ("minute", MINUTE),
            ("second", SECOND),
            ("millisecond", MS),
        ] {
            if rest >= len {
                let n = rest / len;
                parts.push(format!("{n} {name}{}", if n == 1 { "" } else { "s" }));
                rest %= len;
            }
        }
        if parts.is_empty() {
            return "0 seconds".to_owned();
        }
        parts.join(" ")
    }

    /// Prometheus duration text with days as the largest unit: `30d`, `1h30m`, `250ms`, `0s`.
    pub fn prometheus(self) -> String {
        if self.0 == 0 {
            return "0s".to_owned();
        }
        let mut rest = self.0;
        let mut out = String::new();
        for (u, len) in [
            ("d", DAY),
            ("h", HOUR),
            ("m", MINUTE),
            ("s", SECOND),
            ("ms", MS),
        ] {
            if rest >= len {
                let _ = write!(out, "{}{u}", rest / len);
                rest %= len;
            }
        }
        out
    }
}

/// The unit a word or a capital stands for: `days` → `d`.
fn unit_word(word: &str) -> Option<&'static str> {
    match word {
        "sec" | "secs" | "second" | "seconds" | "S" => Some("s"),
        "min" | "mins" | "minute" | "minutes" | "M" => Some("m"),
        "hr" | "hrs" | "hour" | "hours" | "H" => Some("h"),
        "day" | "days" | "D" => Some("d"),
        "week" | "weeks" | "W" => Some("w"),
        "year" | "years" | "Y" => Some("y"),
        _ => None,
    }
}

/// What a near miss such as `14 days` or `1hr30m` means (`14d`, `1h30m`): spaces removed and
/// unit words replaced, when the result is a valid duration and differs from `text`. The
/// rewriting is idempotent, so the `parse` below never recurses more than once.
fn corrected(text: &str, allow_ms: bool) -> Option<String> {
    let joined: String = text.split_whitespace().collect();
    let mut out = String::with_capacity(joined.len());
    let mut rest = joined.as_str();
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let (number, after) = rest.split_at(digits);
        let letters = after.len()
            - after
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .len();
        if digits == 0 || letters == 0 {
            return None;
        }
        let (unit, after) = after.split_at(letters);
        out.push_str(number);
        out.push_str(unit_word(unit).unwrap_or(unit));
        rest = after;
    }
    (out != text && Duration::parse(&out, allow_ms).is_ok()).then_some(out)
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.prometheus())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        for (s, w) in [
            ("1h30m", "1 hour 30 minutes"),
            ("1w", "7 days"),
            ("1d1s", "1 day 1 second"),
            ("0s", "0 seconds"),
            ("250ms", "250 milliseconds"),
        ] {
            assert_eq!(Duration::parse(s, true).unwrap().words(), w, "{s}");
        }
    }

    #[test]
    fn parses_and_renders() {
        for (s, r) in [
            ("30s", "30s"),
            ("5m", "5m"),
            ("1h30m", "1h30m"),
            ("90d", "90d"),
            ("1w", "7d"),
            ("1y", "365d"),
            ("0s", "0s"),
            ("2d12h", "2d12h"),
        ] {
            assert_eq!(Duration::parse(s, false).unwrap().prometheus(), r, "{s}");
        }
        assert_eq!(
            Duration::parse("250ms", true).unwrap().prometheus(),
            "250ms"
        );
    }

    #[test]
    fn errors_point_inside() {
        let e = Duration::parse("1h3Om", false).unwrap_err();
        assert_eq!((e.start, e.end), (3, 5));
        let e = Duration::parse("5 m", false).unwrap_err();
        assert_eq!(e.start, 1);
        let e = Duration::parse("1.5h", false).unwrap_err();
        assert!(e.help.contains("1h30m"));
        let e = Duration::parse("30m1h", false).unwrap_err();
        assert!(e.message.contains("out of order"));
        assert!(Duration::parse("200ms", false).is_err());
        assert!(Duration::parse("5", false).unwrap_err().help.contains("5s"));
        assert!(Duration::parse("99999999999999999999s", false).is_err());
        assert!(Duration::parse("", false).is_err());
        assert!(Duration::parse("-5m", false).is_err());
        assert_eq!(
            Duration::parse("10mins", false).unwrap_err().help,
            "write `10m`"
        );
    }

    /// A suggested duration is itself valid: `14 days` is `14d`, not `14days`.
    #[test]
    fn suggestions_parse() {
        for (text, help) in [
            ("14 days", "write `14d` (a duration has no spaces)"),
            ("1h 30m", "write `1h30m` (a duration has no spaces)"),
            ("2hr", "write `2h`"),
            ("1hr30m", "write `1h30m`"),
            ("1h 3x", "write a duration without spaces, e.g. `1h30m`"),
        ] {
            assert_eq!(
                Duration::parse(text, false).unwrap_err().help,
                help,
                "{text}"
            );
        }
    }
}
