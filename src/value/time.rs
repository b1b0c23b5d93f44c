//! Times of day (`02:00`) and time zones (IANA names through chrono-tz).

use std::fmt;

use crate::value::zone::Tz;

use super::{Result, ValueError};

/// The instant everything that must not depend on the clock starts from: checks compare
/// schedules over the year after it, `diff` lists next occurrences after it, the calendar
/// feed starts its events and stamps them with it, the runbook pages count a year from it.
/// 2027-01-01T00:00:00Z. (`upkeep schedule` starts from the clock, or `--from`.)
pub const REFERENCE_DATE: chrono::NaiveDate = match chrono::NaiveDate::from_ymd_opt(2027, 1, 1) {
    Some(d) => d,
    None => chrono::NaiveDate::MIN,
};

/// [`REFERENCE_DATE`] at midnight UTC.
pub fn reference_instant() -> chrono::DateTime<chrono::Utc> {
    REFERENCE_DATE.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// A wall-clock time in the plan's time zone, to the minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay {
    pub hour: u8,
    pub minute: u8,
}

impl TimeOfDay {
    pub const MIDNIGHT: TimeOfDay = TimeOfDay { hour: 0, minute: 0 };

    pub fn parse(text: &str) -> Result<TimeOfDay> {
        let help = "write a 24-hour time `HH:MM`, e.g. `02:00` or `23:30`";
        let Some((h, m)) = text.split_once(':') else {
            return Err(ValueError::whole(
                text,
                format!("`{text}` is not a time of day"),
                help,
            ));
        };
        let valid =
            |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
        if !valid(h) || m.len() != 2 || !valid(m) {
            return Err(ValueError::whole(
                text,
                format!("`{text}` is not a time of day"),
                help,
            ));
        }
        let hour: u8 = h.parse().unwrap_or(99);
        let minute: u8 = m.parse().unwrap_or(99);
        if hour > 23 {
            return Err(ValueError::new(
                0,
                h.len(),
                format!("hour `{h}` is not in 00..23"),
                help,
            ));
        }
        if minute > 59 {
            return Err(ValueError::new(
                h.len() + 1,
                text.len(),
                format!("minute `{m}` is not in 00..59"),
                help,
            ));
        }
        Ok(TimeOfDay { hour, minute })
    }

    pub fn minutes(self) -> u32 {
        u32::from(self.hour) * 60 + u32::from(self.minute)
    }

    pub fn from_minutes(m: u32) -> TimeOfDay {
        let m = m % (24 * 60);
        TimeOfDay {
            hour: (m / 60) as u8,
            minute: (m % 60) as u8,
        }
    }

    pub fn naive(self) -> chrono::NaiveTime {
        chrono::NaiveTime::from_hms_opt(u32::from(self.hour), u32::from(self.minute), 0)
            .unwrap_or_default()
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

/// Parse an IANA time zone name, suggesting the nearest known name on a typo.
pub fn parse_zone(text: &str) -> Result<Tz> {
    if let Ok(tz) = text.parse::<Tz>() {
        return Ok(tz);
    }
    let names = Tz::names();
    let lower = text.to_lowercase();
    let exact_ci = Tz::names().find(|t| t.to_lowercase() == lower);
    let help = match exact_ci {
        Some(t) => format!("time zone names are case-sensitive: `{t}`"),
        None => match crate::diag::did_you_mean(text, names) {
            Some(s) => format!("did you mean `{s}`?"),
            None => {
                "use an IANA name such as `America/Guayaquil`, `Europe/Madrid` or `UTC`".to_owned()
            }
        },
    };
    Err(ValueError::whole(
        text,
        format!("unknown time zone `{text}`"),
        help,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(
            TimeOfDay::parse("02:00").unwrap(),
            TimeOfDay { hour: 2, minute: 0 }
        );
        assert_eq!(TimeOfDay::parse("9:05").unwrap().to_string(), "09:05");
        assert_eq!(TimeOfDay::parse("24:00").unwrap_err().end, 2);
        assert_eq!(TimeOfDay::parse("23:60").unwrap_err().start, 3);
        assert!(TimeOfDay::parse("2pm").is_err());
        assert!(TimeOfDay::parse("02:0").is_err());
    }

    #[test]
    fn zones() {
        assert!(parse_zone("America/Guayaquil").is_ok());
        assert!(
            parse_zone("america/guayaquil")
                .unwrap_err()
                .help
                .contains("case-sensitive")
        );
        assert!(
            parse_zone("America/Guayakil")
                .unwrap_err()
                .help
                .contains("America/Guayaquil")
        );
    }
}
