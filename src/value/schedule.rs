//! Schedules: a small English grammar (`monthly on first sunday at 01:00`) or a raw cron line,
//! as one value that can list its occurrences in a time zone and compile itself to cron.
//!
//! Cron cannot say "first Sunday of the month" (it ORs day-of-month and day-of-week), "last
//! day of the month", "every other day" or "in 2027". For those the cron line is the nearest
//! superset and a [`Guard`] (a shell test run before the command) removes the extra runs. The
//! guards are evaluated here too ([`Guard::holds`]) with the same arithmetic the shell does, so
//! a test can prove cron + guard fires exactly when the schedule says.
//!
//! Local times that do not exist (the hour skipped when DST starts) are skipped; local times that
//! happen twice (when DST ends) run once, at the first.

use std::fmt;
use std::fmt::Write as _;

use crate::value::zone::Tz;
use chrono::{
    DateTime, Datelike, Duration as ChronoDuration, LocalResult, NaiveDate, NaiveDateTime,
    TimeZone, Timelike, Utc, Weekday,
};

use super::{Duration, TimeOfDay, ValueError};

/// Why a schedule was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScheduleErrorKind {
    /// Unparseable or impossible.
    Invalid,
    /// An interval cron cannot repeat evenly (`every 7m`).
    NotCron,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleError {
    pub kind: ScheduleErrorKind,
    pub error: ValueError,
}

/// A warning about a valid schedule (it skips months; cron ORs its day fields).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleWarning {
    pub kind: WarningKind,
    pub error: ValueError,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WarningKind {
    SkipsMonths,
    CronDayOr,
}

/// Which day of the month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DaySpec {
    Day(u8),
    LastDay,
    /// 1..=4 for first..fourth, 5 for last.
    Nth(u8, Weekday),
}

/// A set of months as a bitmask (bit 1 = January).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Months(u16);

impl Months {
    pub const ALL: Months = Months(0b1_1111_1111_1110);
    pub const QUARTERS: Months = Months((1 << 1) | (1 << 4) | (1 << 7) | (1 << 10));
    pub const HALVES: Months = Months((1 << 1) | (1 << 7));

    pub fn one(m: u32) -> Months {
        Months(1 << m)
    }
    pub fn contains(self, m: u32) -> bool {
        self.0 & (1 << m) != 0
    }
    fn list(self) -> Vec<u32> {
        (1..=12).filter(|&m| self.contains(m)).collect()
    }
}

/// A set of weekdays as a bitmask (bit 0 = Sunday, as in cron).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Days(u8);

impl Days {
    pub const ALL: Days = Days(0b111_1111);
    pub const WEEKDAYS: Days = Days(0b011_1110);
    pub const WEEKENDS: Days = Days(0b100_0001);

    pub fn contains(self, d: Weekday) -> bool {
        self.0 & (1 << d.num_days_from_sunday()) != 0
    }
    fn list(self) -> Vec<u32> {
        (0..7).filter(|&d| self.0 & (1 << d) != 0).collect()
    }
}

/// A raw 5-field cron expression, parsed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cron {
    pub text: String,
    minutes: u64,
    hours: u32,
    dom: u32,
    months: u16,
    dow: u8,
    dom_star: bool,
    dow_star: bool,
}

/// When something happens.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Schedule {
    /// `every 5m`, `every 6h`, `every 2d` (minutes divide the hour, hours the day).
    Every(Duration),
    /// `daily`, `weekdays`, `weekends`, `weekly on mon,thu` at a time.
    Weekly {
        days: Days,
        at: TimeOfDay,
    },
    /// `monthly`, `quarterly`, `semiannually` on a day spec, or `yearly on MM-DD`.
    Monthly {
        months: Months,
        day: DaySpec,
        at: TimeOfDay,
    },
    /// `once on 2027-01-15 at 09:00`.
    Once {
        date: NaiveDate,
        at: TimeOfDay,
    },
    Cron(Cron),
    /// A recurrence (never a one-off, never bounded again) limited to the dates of `bound`.
    Bounded(Box<Schedule>, Bound),
}

/// The dates a recurrence runs on, both ends included, as local dates in the plan's zone:
/// `from 2027-03-01`, `until 2027-03-31`, `from 2027-03-01 until 2027-03-31`,
/// `from 2027-03-01 for 7 days`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Bound {
    pub from: Option<NaiveDate>,
    pub end: End,
}

/// How a [`Bound`] ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum End {
    /// No end: `from DATE` alone.
    Open,
    /// The last date it runs on: `until DATE`.
    Until(NaiveDate),
    /// This many days from `from` (which a parsed bound always has): `for 7 days`.
    Days(u32),
}

impl Bound {
    /// The last date it runs on, if it ends.
    pub fn last(&self) -> Option<NaiveDate> {
        match self.end {
            End::Open => None,
            End::Until(d) => Some(d),
            End::Days(n) => self
                .from?
                .checked_add_signed(ChronoDuration::days(i64::from(n) - 1)),
        }
    }

    /// Whether `date` is inside the bound.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from.is_none_or(|f| date >= f) && self.last().is_none_or(|l| date <= l)
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let date = |d: NaiveDate| d.format("%Y-%m-%d");
        let mut sep = "";
        if let Some(from) = self.from {
            write!(f, "from {}", date(from))?;
            sep = " ";
        }
        match self.end {
            End::Open => Ok(()),
            End::Until(d) => write!(f, "{sep}until {}", date(d)),
            End::Days(1) => write!(f, "{sep}for 1 day"),
            End::Days(n) => write!(f, "{sep}for {n} days"),
        }
    }
}

/// A shell test that must pass before a cron-started command runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guard {
    /// ISO weekday (1 = Monday … 7 = Sunday).
    Weekday(u32),
    /// Tomorrow is the 1st: the last day of the month. `offset` seconds after the run lands
    /// around noon of the next day whatever DST does.
    LastDay {
        offset: i64,
    },
    /// A week from now is in another month: the last seven days of the month.
    LastWeek {
        offset: i64,
    },
    /// The local date's day count since 1970-01-01 is a multiple of `n`.
    EpochDay {
        n: u64,
    },
    Year(i32),
    /// The local date is this one or later.
    From(NaiveDate),
    /// The local date is this one or earlier.
    Until(NaiveDate),
}

/// A schedule compiled for cron: the expression and the guards that narrow it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronPlan {
    pub expr: String,
    pub guards: Vec<Guard>,
    /// Why guards are needed, for the comment above the line.
    pub note: Option<String>,
}

struct Tok<'a> {
    text: &'a str,
    start: usize,
}

fn tokens(s: &str) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            if let Some(st) = start.take() {
                out.push(Tok {
                    text: &s[st..i],
                    start: st,
                });
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(st) = start {
        out.push(Tok {
            text: &s[st..],
            start: st,
        });
    }
    out
}

const GRAMMAR: &str = "schedules: `every 5m`, `daily at 02:00`, `weekdays at 06:00`, `weekly on sunday at 02:00`, `monthly on day 1 at 03:00`, `monthly on first sunday at 01:00`, `quarterly on first sunday at 01:00`, `yearly on 01-15 at 03:00`, `once on 2027-01-15 at 09:00`, `cron 0 2 * * 0`";

fn invalid(
    start: usize,
    end: usize,
    msg: impl Into<String>,
    help: impl Into<String>,
) -> ScheduleError {
    ScheduleError {
        kind: ScheduleErrorKind::Invalid,
        error: ValueError::new(start, end, msg, help),
    }
}

/// Every weekday with the name plans and generated files use, Monday first: the one table.
pub const WEEKDAYS: [(Weekday, &str); 7] = [
    (Weekday::Mon, "monday"),
    (Weekday::Tue, "tuesday"),
    (Weekday::Wed, "wednesday"),
    (Weekday::Thu, "thursday"),
    (Weekday::Fri, "friday"),
    (Weekday::Sat, "saturday"),
    (Weekday::Sun, "sunday"),
];

/// A weekday from its name or an abbreviation (`mon`, `tues`, `thurs`), any case.
fn weekday(s: &str) -> Option<Weekday> {
    let s = s.to_ascii_lowercase();
    if let Some((d, _)) = WEEKDAYS.iter().find(|(_, name)| *name == s) {
        return Some(*d);
    }
    Some(match s.as_str() {
        "mon" => Weekday::Mon,
        "tue" | "tues" => Weekday::Tue,
        "wed" => Weekday::Wed,
        "thu" | "thur" | "thurs" => Weekday::Thu,
        "fri" => Weekday::Fri,
        "sat" => Weekday::Sat,
        "sun" => Weekday::Sun,
        _ => return None,
    })
}

fn weekday_help(word: &str) -> String {
    let names = WEEKDAYS.map(|(_, n)| n);
    match crate::diag::did_you_mean(&word.to_ascii_lowercase(), names) {
        Some(s) => format!("did you mean `{s}`?"),
        None => "weekdays: `monday`…`sunday` or `mon`…`sun`, separated by commas".to_owned(),
    }
}

/// The name of a weekday (`monday`).
pub fn weekday_name(d: Weekday) -> &'static str {
    WEEKDAYS[d.num_days_from_monday() as usize].1
}

const NTH: [&str; 5] = ["first", "second", "third", "fourth", "last"];

impl Schedule {
    /// Parse a schedule; warnings are returned beside the value.
    pub fn parse(text: &str) -> Result<(Schedule, Vec<ScheduleWarning>), ScheduleError> {
        let toks = tokens(text);
        // No form of the grammar (nor a cron field) has these words: a bound starts at the
        // first of them.
        let Some(at) = toks
            .iter()
            .skip(1)
            .position(|t| BOUND_WORDS.iter().any(|w| t.text.eq_ignore_ascii_case(w)))
            .map(|i| i + 1)
        else {
            return Self::parse_rule(text);
        };
        let (rule, warnings) = Self::parse_rule(text[..toks[at].start].trim_end())?;
        let bound = parse_bound(text, &toks[at..])?;
        let bound_span = (toks[at].start, text.trim_end().len());
        if let Schedule::Once { date, .. } = rule {
            return Err(invalid(
                bound_span.0,
                bound_span.1,
                format!(
                    "a one-off runs once, on {}; `{}` does not apply to it",
                    date.format("%Y-%m-%d"),
                    &text[bound_span.0..bound_span.1]
                ),
                format!("remove `{}`", &text[bound_span.0..bound_span.1]),
            ));
        }
        if let (Some(from), Some(last)) = (bound.from, bound.last()) {
            if first_run_on_or_after(&rule, from).is_none_or(|d| d > last) {
                let until = &text[bound_span.0..bound_span.1];
                let ymd = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
                let help = match first_run_on_or_after(&rule, from) {
                    Some(d) if matches!(bound.end, End::Days(_)) => format!(
                        "use `from {} for {} days`, which reaches its first run on {}",
                        ymd(from),
                        (d - from).num_days() + 1,
                        ymd(d)
                    ),
                    Some(d) => format!(
                        "use `from {} until {}`, which reaches its first run",
                        ymd(from),
                        ymd(d)
                    ),
                    None => "widen the dates or change when it runs".to_owned(),
                };
                return Err(invalid(
                    bound_span.0,
                    bound_span.1,
                    format!("`{}` never runs `{until}`", text[..bound_span.0].trim_end()),
                    help,
                ));
            }
        }
        Ok((Schedule::Bounded(Box::new(rule), bound), warnings))
    }

    /// The first run of a schedule that starts on a date, in `tz`.
    pub fn first_run(&self, tz: Tz) -> Option<DateTime<Tz>> {
        let from = self.bound()?.from?;
        // Any instant before the start date's first hour: iteration starts at the date.
        let before = from.pred_opt()?.and_hms_opt(0, 0, 0)?.and_utc();
        self.occurrences(tz, before).next()
    }

    /// The last run of a schedule that ends on a date, in `tz`, found from the end backwards
    /// (as far as any rule can go without a run).
    pub fn last_run(&self, tz: Tz) -> Option<DateTime<Tz>> {
        let bound = self.bound()?;
        let mut day = bound.last()?;
        for _ in 0..9 * 366 {
            if !bound.contains(day) {
                return None;
            }
            let run = self
                .rule()
                .times_on(day)
                .into_iter()
                .rev()
                .find_map(|t| local_instant(tz, day, t));
            if run.is_some() {
                return run;
            }
            day = day.pred_opt()?;
        }
        None
    }

    /// Where the dates of a schedule's text start (` from …`, ` until …`), if it has any.
    pub fn bound_start(text: &str) -> Option<usize> {
        tokens(text)
            .iter()
            .skip(1)
            .find(|t| BOUND_WORDS.iter().any(|w| t.text.eq_ignore_ascii_case(w)))
            .map(|t| t.start)
    }

    /// The recurrence without its bound.
    pub fn rule(&self) -> &Schedule {
        match self {
            Schedule::Bounded(rule, _) => rule,
            s => s,
        }
    }

    /// The dates it is limited to, if any.
    pub fn bound(&self) -> Option<&Bound> {
        match self {
            Schedule::Bounded(_, b) => Some(b),
            _ => None,
        }
    }

    /// A schedule without a bound.
    fn parse_rule(text: &str) -> Result<(Schedule, Vec<ScheduleWarning>), ScheduleError> {
        let toks = tokens(text);
        let Some(first) = toks.first() else {
            return Err(invalid(0, text.len(), "empty schedule", GRAMMAR));
        };
        let mut warnings = Vec::new();
        let head = first.text.to_ascii_lowercase();
        let end_of = |t: &Tok<'_>| t.start + t.text.len();
        // `... at HH:MM` ending shared by most forms.
        let at = |toks: &[Tok<'_>], idx: usize| -> Result<TimeOfDay, ScheduleError> {
            let Some(kw) = toks.get(idx) else {
                return Err(invalid(
                    text.len(),
                    text.len(),
                    format!("`{text}` needs a time of day"),
                    format!("add it: `{} at 02:00`", text.trim_end()),
                ));
            };
            if !kw.text.eq_ignore_ascii_case("at") {
                return Err(invalid(
                    kw.start,
                    end_of(kw),
                    format!("expected `at`, found `{}`", kw.text),
                    format!("end the schedule with a time: `… at 02:00`; {GRAMMAR}"),
                ));
            }
            let Some(t) = toks.get(idx + 1) else {
                return Err(invalid(
                    end_of(kw),
                    end_of(kw),
                    "missing time after `at`",
                    "write a 24-hour time, e.g. `at 02:00`",
                ));
            };
            let time = TimeOfDay::parse(t.text).map_err(|e| ScheduleError {
                kind: ScheduleErrorKind::Invalid,
                error: e.shift(t.start),
            })?;
            if let Some(extra) = toks.get(idx + 2) {
                return Err(invalid(
                    extra.start,
                    text.trim_end().len(),
                    format!(
                        "unexpected `{}` after the time",
                        &text[extra.start..].trim_end()
                    ),
                    "a schedule ends with its time of day",
                ));
            }
            Ok(time)
        };
        let expect_on = |idx: usize| -> Result<(), ScheduleError> {
            match toks.get(idx) {
                Some(t) if t.text.eq_ignore_ascii_case("on") => Ok(()),
                Some(t) => Err(invalid(
                    t.start,
                    end_of(t),
                    format!("expected `on`, found `{}`", t.text),
                    GRAMMAR,
                )),
                None => Err(invalid(
                    text.len(),
                    text.len(),
                    format!("`{}` needs `on …`", text.trim_end()),
                    GRAMMAR,
                )),
            }
        };
        let schedule = match head.as_str() {
            "every" => return parse_every(text, &toks).map(|s| (s, warnings)),
            "daily" => Schedule::Weekly {
                days: Days::ALL,
                at: at(&toks, 1)?,
            },
            "weekdays" => Schedule::Weekly {
                days: Days::WEEKDAYS,
                at: at(&toks, 1)?,
            },
            "weekends" => Schedule::Weekly {
                days: Days::WEEKENDS,
                at: at(&toks, 1)?,
            },
            "weekly" => {
                expect_on(1)?;
                let at_idx = toks
                    .iter()
                    .position(|t| t.text.eq_ignore_ascii_case("at"))
                    .unwrap_or(toks.len());
                if at_idx <= 2 {
                    let p = toks.get(1).map_or(text.len(), end_of);
                    return Err(invalid(
                        p,
                        p,
                        "missing weekday",
                        "name the days: `weekly on sunday at 02:00` or `weekly on mon,thu at 04:00`",
                    ));
                }
                let mut mask = 0u8;
                for t in &toks[2..at_idx] {
                    let mut off = t.start;
                    for part in t.text.split(',') {
                        if !part.is_empty() {
                            let d = weekday(part).ok_or_else(|| {
                                invalid(
                                    off,
                                    off + part.len(),
                                    format!("`{part}` is not a weekday"),
                                    weekday_help(part),
                                )
                            })?;
                            mask |= 1 << d.num_days_from_sunday();
                        }
                        off += part.len() + 1;
                    }
                }
                Schedule::Weekly {
                    days: Days(mask),
                    at: at(&toks, at_idx)?,
                }
            }
            "monthly" | "quarterly" | "semiannually" | "semiannual" => {
                expect_on(1)?;
                let months = match head.as_str() {
                    "monthly" => Months::ALL,
                    "quarterly" => Months::QUARTERS,
                    _ => Months::HALVES,
                };
                let (day, next) = parse_day_spec(text, &toks, 2)?;
                if let DaySpec::Day(d) = day {
                    if d > 28 {
                        let t = &toks[3];
                        warnings.push(ScheduleWarning {
                            kind: WarningKind::SkipsMonths,
                            error: ValueError::new(t.start, end_of(t), format!("day {d} does not exist in every month; those months are skipped"), "use `last day` to run at the end of every month"),
                        });
                    }
                }
                Schedule::Monthly {
                    months,
                    day,
                    at: at(&toks, next)?,
                }
            }
            "yearly" | "annually" => {
                expect_on(1)?;
                let Some(t) = toks.get(2) else {
                    return Err(invalid(
                        text.len(),
                        text.len(),
                        "missing date",
                        "write the month and day: `yearly on 01-15 at 03:00`",
                    ));
                };
                let bad = || {
                    invalid(
                        t.start,
                        end_of(t),
                        format!("`{}` is not a month and day", t.text),
                        "write `MM-DD`, e.g. `yearly on 01-15 at 03:00`",
                    )
                };
                let (m, d) = t.text.split_once('-').ok_or_else(bad)?;
                let (m, d): (u32, u32) =
                    (m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
                if NaiveDate::from_ymd_opt(2024, m, d).is_none() {
                    return Err(invalid(
                        t.start,
                        end_of(t),
                        format!("`{}` is not a day of the year", t.text),
                        "write `MM-DD` with a real month and day",
                    ));
                }
                if m == 2 && d == 29 {
                    warnings.push(ScheduleWarning {
                        kind: WarningKind::SkipsMonths,
                        error: ValueError::new(
                            t.start,
                            end_of(t),
                            "February 29 exists only in leap years; other years are skipped",
                            "use `02-28` or `03-01`",
                        ),
                    });
                }
                Schedule::Monthly {
                    months: Months::one(m),
                    day: DaySpec::Day(d as u8),
                    at: at(&toks, 3)?,
                }
            }
            "once" => {
                expect_on(1)?;
                let Some(t) = toks.get(2) else {
                    return Err(invalid(
                        text.len(),
                        text.len(),
                        "missing date",
                        "write `once on 2027-01-15 at 09:00`",
                    ));
                };
                let date = NaiveDate::parse_from_str(t.text, "%Y-%m-%d").map_err(|_| {
                    invalid(
                        t.start,
                        end_of(t),
                        format!("`{}` is not a date", t.text),
                        "write `YYYY-MM-DD`, e.g. `once on 2027-01-15 at 09:00`",
                    )
                })?;
                if !(1970..=2200).contains(&date.year()) {
                    return Err(invalid(
                        t.start,
                        end_of(t),
                        format!("year {} is out of range", date.year()),
                        "use a year between 1970 and 2200",
                    ));
                }
                Schedule::Once {
                    date,
                    at: at(&toks, 3)?,
                }
            }
            "cron" => {
                let body_start = toks.get(1).map_or(text.len(), |t| t.start);
                let cron = Cron::parse(&text[body_start..]).map_err(|e| ScheduleError {
                    kind: ScheduleErrorKind::Invalid,
                    error: e.shift(body_start),
                })?;
                if !cron.dom_star && !cron.dow_star {
                    warnings.push(ScheduleWarning {
                        kind: WarningKind::CronDayOr,
                        error: ValueError::new(body_start, text.trim_end().len(), "both day-of-month and day-of-week are restricted; cron runs when EITHER matches", "to mean \"the first Sunday\" write `monthly on first sunday at HH:MM`, which compiles to a guarded cron line"),
                    });
                }
                Schedule::Cron(cron)
            }
            _ => {
                let known = [
                    "every",
                    "daily",
                    "weekdays",
                    "weekends",
                    "weekly",
                    "monthly",
                    "quarterly",
                    "semiannually",
                    "yearly",
                    "once",
                    "cron",
                ];
                let help = match crate::diag::did_you_mean(&head, known) {
                    Some(s) => format!("did you mean `{s}`? {GRAMMAR}"),
                    None => GRAMMAR.to_owned(),
                };
                return Err(invalid(
                    first.start,
                    end_of(first),
                    format!("unknown schedule `{}`", first.text),
                    help,
                ));
            }
        };
        Ok((schedule, warnings))
    }

    /// The occurrences after `after` (exclusive), in the time zone, in order. The iterator
    /// ends when the schedule cannot occur again (a `once` in the past) or nothing occurs
    /// for five years.
    pub fn occurrences(&self, tz: Tz, after: DateTime<Utc>) -> Occurrences<'_> {
        let mut start = after.with_timezone(&tz).date_naive();
        let bound = self.bound().copied();
        if let Some(from) = bound.and_then(|b| b.from) {
            // Straight to the first date it may run on, however far away.
            start = start.max(from);
        }
        Occurrences {
            schedule: self.rule(),
            last: bound.and_then(|b| b.last()),
            tz,
            after,
            day: start,
            pending: Vec::new(),
            empty_days: 0,
        }
    }

    /// The number of days after which the schedule repeats in local time: its wall-clock times
    /// on a date are those on the date that many days earlier. `None` when they depend on the
    /// day of the month or the month (and for a one-off).
    pub fn period_days(&self) -> Option<u32> {
        match self {
            Schedule::Every(d) => {
                let mins = d.as_mins();
                if mins == 0 {
                    None
                } else if mins < 24 * 60 {
                    Some(1)
                } else {
                    u32::try_from(mins / (24 * 60)).ok()
                }
            }
            Schedule::Weekly { days, .. } => Some(if days.0 == Days::ALL.0 { 1 } else { 7 }),
            // A bound's first and last dates break the repetition.
            Schedule::Monthly { .. } | Schedule::Once { .. } | Schedule::Bounded(..) => None,
            Schedule::Cron(c) => c.period_days(),
        }
    }

    /// The next `n` occurrences after `after`.
    pub fn next_n(&self, tz: Tz, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Tz>> {
        self.occurrences(tz, after).take(n).collect()
    }

    /// Local wall-clock times on `date` (sorted) at which the schedule fires.
    fn times_on(&self, date: NaiveDate) -> Vec<TimeOfDay> {
        match self {
            Schedule::Every(d) => {
                let mins = d.as_mins();
                if mins == 0 {
                    return Vec::new();
                }
                if mins < 24 * 60 {
                    (0..24 * 60)
                        .step_by(mins as usize)
                        .map(TimeOfDay::from_minutes)
                        .collect()
                } else {
                    let days = mins / (24 * 60);
                    if epoch_day(date) % days as i64 == 0 {
                        vec![TimeOfDay::MIDNIGHT]
                    } else {
                        Vec::new()
                    }
                }
            }
            Schedule::Weekly { at, .. }
            | Schedule::Monthly { at, .. }
            | Schedule::Once { at, .. } => {
                if self.runs_on(date) {
                    vec![*at]
                } else {
                    Vec::new()
                }
            }
            Schedule::Cron(c) => c.times_on(date),
            Schedule::Bounded(rule, bound) => {
                if bound.contains(date) {
                    rule.times_on(date)
                } else {
                    Vec::new()
                }
            }
        }
    }

    /// The longest gap between two consecutive runs over a reference year (leap year and DST
    /// included); `None` for a one-off. Used for freshness alerts and RPO checks.
    pub fn max_gap(&self) -> Option<Duration> {
        match self {
            Schedule::Every(d) => Some(*d),
            Schedule::Once { .. } => None,
            // One run on each day they run, at the same time: the gap is in whole days, found
            // from the calendar without walking it (`max_gap` is asked for every job and alert).
            Schedule::Weekly { days, .. } => {
                let on = days.list();
                let around = on.first().map(|first| first + 7);
                on.iter()
                    .zip(on.iter().skip(1).copied().chain(around))
                    .map(|(day, next)| next - day)
                    .max()
                    .map(|gap| Duration::from_days(u64::from(gap)))
            }
            Schedule::Monthly { months, day, .. } => {
                let end = Self::reference_days().last()?;
                let runs: Vec<NaiveDate> = (0..=Self::REFERENCE_MONTHS)
                    .map(|i| {
                        let m = super::time::REFERENCE_DATE.month0() + i;
                        (
                            super::time::REFERENCE_DATE.year() + (m / 12) as i32,
                            m % 12 + 1,
                        )
                    })
                    .filter(|&(_, m)| months.contains(m))
                    .filter_map(|(y, m)| day_in_month(*day, y, m))
                    .filter(|d| (super::time::REFERENCE_DATE..=end).contains(d))
                    .collect();
                runs.windows(2)
                    .map(|w| (w[1] - w[0]).num_days())
                    .max()
                    .filter(|gap| *gap > 0)
                    .map(|gap| Duration::from_days(gap as u64))
            }
            Schedule::Cron(c) => c
                .gap_over(Self::reference_days())
                .map(|mins| Duration::from_mins(mins as u64)),
            // While it runs: the bound only ends the runs.
            Schedule::Bounded(rule, _) => rule.max_gap(),
        }
    }

    /// The longest gap between consecutive runs, found by walking the runs' wall-clock times
    /// over the reference days (no time zone: the gap is the schedule's own). What a cron's
    /// gap is computed to be, checked by the unit tests.
    #[cfg(test)]
    fn walked_gap(&self) -> Option<Duration> {
        let mut prev: Option<NaiveDateTime> = None;
        let mut gap = 0i64;
        for day in Self::reference_days() {
            for t in self.times_on(day) {
                let at = NaiveDateTime::new(day, t.naive());
                if let Some(p) = prev {
                    gap = gap.max((at - p).num_seconds());
                }
                prev = Some(at);
            }
        }
        (gap > 0).then(|| Duration::from_secs(gap as u64))
    }

    /// The two years [`Schedule::max_gap`] looks at (a leap year among them).
    fn reference_days() -> impl Iterator<Item = NaiveDate> {
        super::time::REFERENCE_DATE.iter_days().take(2 * 366)
    }

    /// The months after the first that [`Schedule::reference_days`] reaches into.
    const REFERENCE_MONTHS: u32 = 24;

    /// Whether a schedule that runs at one time of day runs on `date` (never for `every` and
    /// cron, which [`Schedule::times_on`] answers).
    fn runs_on(&self, date: NaiveDate) -> bool {
        match self {
            Schedule::Weekly { days, .. } => days.contains(date.weekday()),
            Schedule::Monthly { months, day, .. } => {
                months.contains(date.month()) && day_matches(*day, date)
            }
            Schedule::Once { date: d, .. } => *d == date,
            Schedule::Bounded(rule, bound) => bound.contains(date) && rule.runs_on(date),
            Schedule::Every(_) | Schedule::Cron(_) => false,
        }
    }

    /// The cron line and guards that run exactly at this schedule's occurrences.
    pub fn to_cron(&self) -> CronPlan {
        let plain = |expr: String| CronPlan {
            expr,
            guards: Vec::new(),
            note: None,
        };
        match self {
            Schedule::Every(d) => {
                let mins = d.as_mins();
                if mins < 60 {
                    plain(if mins <= 1 {
                        "* * * * *".to_owned()
                    } else {
                        format!("*/{mins} * * * *")
                    })
                } else if mins < 24 * 60 {
                    let h = mins / 60;
                    plain(if h == 1 {
                        "0 * * * *".to_owned()
                    } else {
                        format!("0 */{h} * * *")
                    })
                } else {
                    let n = mins / (24 * 60);
                    if n == 1 {
                        plain("0 0 * * *".to_owned())
                    } else {
                        CronPlan {
                            expr: "0 0 * * *".to_owned(),
                            guards: vec![Guard::EpochDay { n }],
                            note: Some(format!(
                                "cron cannot count days across months; runs on days whose number since 1970-01-01 is a multiple of {n}"
                            )),
                        }
                    }
                }
            }
            Schedule::Weekly { days, at } => {
                let dow = if *days == Days::ALL {
                    "*".to_owned()
                } else {
                    cron_list(&days.list())
                };
                plain(format!("{} {} * * {dow}", at.minute, at.hour))
            }
            Schedule::Monthly { months, day, at } => {
                let mon = if *months == Months::ALL {
                    "*".to_owned()
                } else {
                    cron_list(&months.list())
                };
                let (m, h) = (at.minute, at.hour);
                let noon_next = 36 * 3600 - i64::from(at.minutes()) * 60;
                match day {
                    DaySpec::Day(d) => plain(format!("{m} {h} {d} {mon} *")),
                    DaySpec::LastDay => CronPlan {
                        expr: format!("{m} {h} 28-31 {mon} *"),
                        guards: vec![Guard::LastDay { offset: noon_next }],
                        note: Some("cron has no \"last day of the month\"; runs on days 28-31 when tomorrow is the 1st".to_owned()),
                    },
                    DaySpec::Nth(k, wd) if *k <= 4 => {
                        let lo = u32::from(*k) * 7 - 6;
                        CronPlan {
                            expr: format!("{m} {h} {lo}-{} {mon} *", lo + 6),
                            guards: vec![Guard::Weekday(wd.number_from_monday())],
                            note: Some(format!("cron ORs day-of-month and day-of-week; runs on days {lo}-{} only on a {}", lo + 6, weekday_name(*wd))),
                        }
                    }
                    DaySpec::Nth(_, wd) => CronPlan {
                        expr: format!("{m} {h} 22-31 {mon} *"),
                        guards: vec![Guard::Weekday(wd.number_from_monday()), Guard::LastWeek { offset: noon_next + 6 * 86400 }],
                        note: Some(format!("cron has no \"last {0} of the month\"; runs on days 22-31 on a {0} when a week later is next month", weekday_name(*wd))),
                    },
                }
            }
            Schedule::Once { date, at } => CronPlan {
                expr: format!(
                    "{} {} {} {} *",
                    at.minute,
                    at.hour,
                    date.day(),
                    date.month()
                ),
                guards: vec![Guard::Year(date.year())],
                note: Some(format!(
                    "a one-off: cron has no year field, so it is checked ({})",
                    date.year()
                )),
            },
            Schedule::Cron(c) => plain(c.text.clone()),
            Schedule::Bounded(rule, bound) => {
                let mut plan = rule.to_cron();
                plan.guards.extend(bound.from.map(Guard::From));
                plan.guards.extend(bound.last().map(Guard::Until));
                let why = format!("cron has no dates; runs only {bound}");
                plan.note = Some(match plan.note {
                    Some(n) => format!("{n}; {why}"),
                    None => why,
                });
                plan
            }
        }
    }
}

/// Days since 1970-01-01 of a date (negative before it).
pub fn epoch_day(date: NaiveDate) -> i64 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    (date - epoch).num_days()
}

fn days_in_month(date: NaiveDate) -> u32 {
    let (y, m) = (date.year(), date.month());
    let next = if m == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(y, m + 1, 1)
    };
    next.and_then(|n| n.pred_opt()).map_or(28, |d| d.day())
}

/// The day of month `m` of year `y` that `spec` names, if the month has it.
fn day_in_month(spec: DaySpec, y: i32, m: u32) -> Option<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(y, m, 1)?;
    let last = days_in_month(first);
    let day = match spec {
        DaySpec::Day(d) => u32::from(d),
        DaySpec::LastDay => last,
        DaySpec::Nth(k, wd) if k <= 4 => {
            let to = (wd.num_days_from_monday() + 7 - first.weekday().num_days_from_monday()) % 7;
            1 + to + 7 * (u32::from(k) - 1)
        }
        DaySpec::Nth(_, wd) => {
            let last_wd = first.with_day(last)?.weekday();
            last - (last_wd.num_days_from_monday() + 7 - wd.num_days_from_monday()) % 7
        }
    };
    NaiveDate::from_ymd_opt(y, m, day)
}

fn day_matches(spec: DaySpec, date: NaiveDate) -> bool {
    match spec {
        DaySpec::Day(d) => date.day() == u32::from(d),
        DaySpec::LastDay => date.day() == days_in_month(date),
        DaySpec::Nth(k, wd) if k <= 4 => {
            date.weekday() == wd && (date.day() - 1) / 7 + 1 == u32::from(k)
        }
        DaySpec::Nth(_, wd) => date.weekday() == wd && date.day() + 7 > days_in_month(date),
    }
}

fn cron_list(items: &[u32]) -> String {
    // Collapse runs into ranges: 1,2,3,4,5 → 1-5.
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < items.len() {
        let mut j = i;
        while j + 1 < items.len() && items[j + 1] == items[j] + 1 {
            j += 1;
        }
        if j >= i + 2 {
            out.push(format!("{}-{}", items[i], items[j]));
        } else {
            out.extend(items[i..=j].iter().map(u32::to_string));
        }
        i = j + 1;
    }
    out.join(",")
}

/// The words a bound starts with.
const BOUND_WORDS: [&str; 3] = ["from", "until", "for"];

/// The first date on or after `from` that `rule` (unbounded) runs on, looking as far as any
/// rule can go without a run (a February 29 eight years away).
fn first_run_on_or_after(rule: &Schedule, from: NaiveDate) -> Option<NaiveDate> {
    from.iter_days()
        .take(9 * 366)
        .find(|d| !rule.times_on(*d).is_empty())
}

/// A `YYYY-MM-DD` date in the years a schedule may name.
fn bound_date(t: &Tok<'_>, example: &str) -> Result<NaiveDate, ScheduleError> {
    let end = t.start + t.text.len();
    let date = NaiveDate::parse_from_str(t.text, "%Y-%m-%d").map_err(|_| {
        invalid(
            t.start,
            end,
            format!("`{}` is not a date", t.text),
            format!("write `YYYY-MM-DD`, e.g. `{example}`"),
        )
    })?;
    if !(1970..=2200).contains(&date.year()) {
        return Err(invalid(
            t.start,
            end,
            format!("year {} is out of range", date.year()),
            "use a year between 1970 and 2200",
        ));
    }
    Ok(date)
}

/// `from DATE`, `until DATE`, `from DATE until DATE` or `from DATE for N days`, from the
/// bound's first token.
fn parse_bound(text: &str, toks: &[Tok<'_>]) -> Result<Bound, ScheduleError> {
    let end_of = |t: &Tok<'_>| t.start + t.text.len();
    let word = |i: usize| toks.get(i).map(|t| t.text.to_ascii_lowercase());
    let need = |i: usize, what: &str, example: &str| -> Result<&Tok<'_>, ScheduleError> {
        toks.get(i).ok_or_else(|| {
            let p = end_of(&toks[i - 1]);
            invalid(
                p,
                p,
                format!("missing {what} after `{}`", toks[i - 1].text),
                format!("write e.g. `{example}`"),
            )
        })
    };
    let mut i = 0;
    let mut from = None;
    if word(0).as_deref() == Some("from") {
        from = Some(bound_date(
            need(1, "a start date", "from 2027-03-01")?,
            "from 2027-03-01",
        )?);
        i = 2;
    }
    let end = match word(i).as_deref() {
        None => End::Open,
        Some("until") => {
            let t = need(i + 1, "an end date", "until 2027-03-31")?;
            let last = bound_date(t, "until 2027-03-31")?;
            if let Some(f) = from.filter(|f| last < *f) {
                return Err(invalid(
                    t.start,
                    end_of(t),
                    format!(
                        "the end `{}` is before the start `{}`",
                        t.text,
                        f.format("%Y-%m-%d")
                    ),
                    format!("use `{}`, the start, or a later date", f.format("%Y-%m-%d")),
                ));
            }
            i += 2;
            End::Until(last)
        }
        Some("for") => {
            let kw = &toks[i];
            if from.is_none() {
                return Err(invalid(
                    kw.start,
                    text.trim_end().len(),
                    format!(
                        "`{}` has no start to count from",
                        text[kw.start..].trim_end()
                    ),
                    format!(
                        "use `from 2027-03-01 {}`, with the first date it runs",
                        text[kw.start..].trim_end()
                    ),
                ));
            }
            let n_tok = need(i + 1, "a number of days", "for 7 days")?;
            let n: u32 = n_tok.text.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                invalid(
                    n_tok.start,
                    end_of(n_tok),
                    format!("`{}` is not a number of days", n_tok.text),
                    "write a whole number of days, 1 or more: `for 7 days`",
                )
            })?;
            let unit = need(i + 2, "`days`", "for 7 days")?;
            if !["day", "days"].contains(&unit.text.to_ascii_lowercase().as_str()) {
                return Err(invalid(
                    unit.start,
                    end_of(unit),
                    format!("expected `days`, found `{}`", unit.text),
                    format!("count in days: `for {n} days`"),
                ));
            }
            let bound = Bound {
                from,
                end: End::Days(n),
            };
            if bound.last().is_none_or(|l| l.year() > 2200) {
                return Err(invalid(
                    n_tok.start,
                    end_of(n_tok),
                    format!("{n} days from the start run past the year 2200"),
                    "use fewer days, or `from DATE` alone for no end",
                ));
            }
            i += 3;
            End::Days(n)
        }
        Some(_) => {
            let t = &toks[i];
            return Err(invalid(
                t.start,
                end_of(t),
                format!("expected `until` or `for`, found `{}`", t.text),
                "bound a schedule with `from 2027-03-01`, `until 2027-03-31` or `from 2027-03-01 for 7 days`",
            ));
        }
    };
    if let Some(extra) = toks.get(i) {
        let help = if extra.text.eq_ignore_ascii_case("at") {
            "write the time before the dates: `daily at 09:00 from 2027-03-01 for 7 days`"
        } else {
            "a bound ends the schedule: `… from 2027-03-01 for 7 days`"
        };
        return Err(invalid(
            extra.start,
            text.trim_end().len(),
            format!(
                "unexpected `{}` after the dates",
                text[extra.start..].trim_end()
            ),
            help,
        ));
    }
    Ok(Bound { from, end })
}

fn parse_every(text: &str, toks: &[Tok<'_>]) -> Result<Schedule, ScheduleError> {
    let Some(t) = toks.get(1) else {
        return Err(invalid(
            text.len(),
            text.len(),
            "missing interval after `every`",
            "write `every 5m`, `every 6h` or `every 2d`",
        ));
    };
    if let Some(extra) = toks.get(2) {
        let help = if extra.text.eq_ignore_ascii_case("at") {
            "intervals start at midnight; for a time of day use `daily at 02:00`"
        } else {
            "write the interval alone: `every 6h`"
        };
        return Err(invalid(
            extra.start,
            text.trim_end().len(),
            format!("unexpected `{}` after the interval", extra.text),
            help,
        ));
    }
    let end = t.start + t.text.len();
    let d = Duration::parse(t.text, false).map_err(|e| ScheduleError {
        kind: ScheduleErrorKind::Invalid,
        error: e.shift(t.start),
    })?;
    let secs = d.as_secs();
    let not_cron = |msg: String, help: String| ScheduleError {
        kind: ScheduleErrorKind::NotCron,
        error: ValueError::new(t.start, end, msg, help),
    };
    if secs == 0 {
        return Err(invalid(
            t.start,
            end,
            "an interval of zero",
            "write a positive interval such as `every 5m`",
        ));
    }
    if secs % 60 != 0 {
        return Err(not_cron(
            format!(
                "`{}` is not whole minutes; cron runs at most once a minute",
                t.text
            ),
            "use `every 1m` or a multiple of minutes".to_owned(),
        ));
    }
    let mins = secs / 60;
    let nearest = |value: u64, options: &[u64], unit: &str| -> String {
        let best = options
            .iter()
            .min_by_key(|&&o| (o.abs_diff(value), o))
            .copied()
            .unwrap_or(1);
        let other = options
            .iter()
            .filter(|&&o| o != best && o.abs_diff(value) == best.abs_diff(value))
            .copied()
            .next();
        let fmt = |o: u64| {
            if unit == "m" && o == 60 {
                "`every 1h`".to_owned()
            } else if unit == "h" && o == 24 {
                "`every 1d`".to_owned()
            } else {
                format!("`every {o}{unit}`")
            }
        };
        match other {
            Some(o) => format!(
                "use {} or {}, which divide evenly",
                fmt(best.min(o)),
                fmt(best.max(o))
            ),
            None => format!("use {}, which divides evenly", fmt(best)),
        }
    };
    if mins < 60 {
        if 60 % mins != 0 {
            return Err(not_cron(
                format!(
                    "`every {}` does not divide the hour; `*/{mins}` would drift at each hour",
                    t.text
                ),
                nearest(mins, &[1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60], "m"),
            ));
        }
    } else if mins < 24 * 60 {
        if mins % 60 != 0 {
            return Err(not_cron(
                format!("`every {}` is not whole hours", t.text),
                nearest(mins / 60, &[1, 2, 3, 4, 6, 8, 12, 24], "h"),
            ));
        }
        if 24 % (mins / 60) != 0 {
            return Err(not_cron(
                format!(
                    "`every {}` does not divide the day; `*/{}` would drift at midnight",
                    t.text,
                    mins / 60
                ),
                nearest(mins / 60, &[1, 2, 3, 4, 6, 8, 12, 24], "h"),
            ));
        }
    } else if mins % (24 * 60) != 0 {
        return Err(not_cron(
            format!("`every {}` is not whole days", t.text),
            format!("use `every {}d`", (mins / (24 * 60)).max(1)),
        ));
    } else if mins / (24 * 60) > 366 {
        return Err(invalid(
            t.start,
            end,
            format!("`every {}` is longer than a year", t.text),
            "use `yearly on MM-DD at HH:MM`",
        ));
    }
    Ok(Schedule::Every(d))
}

fn parse_day_spec(
    text: &str,
    toks: &[Tok<'_>],
    idx: usize,
) -> Result<(DaySpec, usize), ScheduleError> {
    let end_of = |t: &Tok<'_>| t.start + t.text.len();
    let help = "write `day 15`, `last day`, or `first|second|third|fourth|last WEEKDAY`";
    let Some(t) = toks.get(idx) else {
        return Err(invalid(text.len(), text.len(), "missing day", help));
    };
    let word = t.text.to_ascii_lowercase();
    if word == "day" {
        let Some(n) = toks.get(idx + 1) else {
            return Err(invalid(
                end_of(t),
                end_of(t),
                "missing day number",
                "write e.g. `monthly on day 1 at 03:00`",
            ));
        };
        let d: u8 = n
            .text
            .parse()
            .ok()
            .filter(|d| (1..=31).contains(d))
            .ok_or_else(|| {
                invalid(
                    n.start,
                    end_of(n),
                    format!("`{}` is not a day of the month", n.text),
                    "days of the month are 1..31",
                )
            })?;
        return Ok((DaySpec::Day(d), idx + 2));
    }
    let Some(k) = NTH.iter().position(|n| *n == word) else {
        let hint = match crate::diag::did_you_mean(&word, NTH.iter().copied().chain(["day"])) {
            Some(s) => format!("did you mean `{s}`? {help}"),
            None => help.to_owned(),
        };
        return Err(invalid(
            t.start,
            end_of(t),
            format!("`{}` is not a day of the month", t.text),
            hint,
        ));
    };
    let Some(w) = toks.get(idx + 1) else {
        return Err(invalid(
            end_of(t),
            end_of(t),
            format!("`{}` of what?", t.text),
            "add `day` or a weekday: `last day`, `first sunday`",
        ));
    };
    if k == 4 && w.text.eq_ignore_ascii_case("day") {
        return Ok((DaySpec::LastDay, idx + 2));
    }
    let wd = weekday(w.text).ok_or_else(|| {
        invalid(
            w.start,
            end_of(w),
            format!("`{}` is not a weekday", w.text),
            weekday_help(w.text),
        )
    })?;
    Ok((DaySpec::Nth(k as u8 + 1, wd), idx + 2))
}

/// Iterator over a schedule's occurrences; see [`Schedule::occurrences`].
pub struct Occurrences<'a> {
    /// The recurrence, without its bound.
    schedule: &'a Schedule,
    /// The bound's last date.
    last: Option<NaiveDate>,
    tz: Tz,
    after: DateTime<Utc>,
    day: NaiveDate,
    /// The current day's occurrences still to return, in reverse order (popped from the end).
    pending: Vec<DateTime<Tz>>,
    empty_days: u32,
}

/// Days without an occurrence after which iteration stops (five years).
const GIVE_UP_DAYS: u32 = 5 * 366;

/// The instant of a local wall-clock time: `None` in a DST gap, the first of two in an overlap.
pub fn local_instant(tz: Tz, date: NaiveDate, at: TimeOfDay) -> Option<DateTime<Tz>> {
    match tz.from_local_datetime(&NaiveDateTime::new(date, at.naive())) {
        LocalResult::Single(t) => Some(t),
        LocalResult::Ambiguous(a, b) => Some(a.min(b)),
        LocalResult::None => None,
    }
}

impl Iterator for Occurrences<'_> {
    type Item = DateTime<Tz>;

    fn next(&mut self) -> Option<DateTime<Tz>> {
        loop {
            if let Some(t) = self.pending.pop() {
                return Some(t);
            }
            if self.empty_days > GIVE_UP_DAYS || self.last.is_some_and(|l| self.day > l) {
                return None;
            }
            if let Schedule::Once { date, .. } = self.schedule {
                if self.day > *date {
                    return None;
                }
            }
            let date = self.day;
            self.day = date.succ_opt()?;
            let after = self.after;
            if let Schedule::Weekly { at, .. }
            | Schedule::Monthly { at, .. }
            | Schedule::Once { at, .. } = self.schedule
            {
                // One time on the days it runs: most days are skipped without building a list.
                let t = self
                    .schedule
                    .runs_on(date)
                    .then(|| local_instant(self.tz, date, *at))
                    .flatten()
                    .filter(|t| t.with_timezone(&Utc) > after);
                if let Some(t) = t {
                    self.empty_days = 0;
                    return Some(t);
                }
                self.empty_days += 1;
                continue;
            }
            self.pending.extend(
                self.schedule
                    .times_on(date)
                    .into_iter()
                    .filter_map(|t| local_instant(self.tz, date, t))
                    .filter(|t| t.with_timezone(&Utc) > after),
            );
            self.pending.reverse();
            if self.pending.is_empty() {
                self.empty_days += 1;
            } else {
                self.empty_days = 0;
            }
        }
    }
}

impl Guard {
    /// The shell test, with `tz` set explicitly for `date` (the command's own `TZ` is not the
    /// schedule's). `%` is not escaped here; crontab lines must escape it.
    pub fn shell(&self, tz: &str) -> String {
        match self {
            Guard::Weekday(d) => format!("[ \"$(TZ={tz} date +%u)\" = {d} ]"),
            Guard::LastDay { offset } => {
                format!("[ \"$(TZ={tz} date -d @$(( $(date +%s) + {offset} )) +%d)\" = 01 ]")
            }
            Guard::LastWeek { offset } => format!(
                "[ \"$(TZ={tz} date -d @$(( $(date +%s) + {offset} )) +%m)\" != \"$(TZ={tz} date +%m)\" ]"
            ),
            Guard::EpochDay { n } => format!(
                "[ $(( $(TZ=UTC0 date -d \"$(TZ={tz} date +%Y-%m-%d) 12:00\" +%s) / 86400 % {n} )) -eq 0 ]"
            ),
            Guard::Year(y) => format!("[ \"$(TZ={tz} date +%Y)\" = {y} ]"),
            // `YYYYMMDD` compares as a number in the order of the dates.
            Guard::From(d) => format!("[ \"$(TZ={tz} date +%Y%m%d)\" -ge {} ]", d.format("%Y%m%d")),
            Guard::Until(d) => {
                format!("[ \"$(TZ={tz} date +%Y%m%d)\" -le {} ]", d.format("%Y%m%d"))
            }
        }
    }

    /// Whether the shell test passes when run at `at`, evaluated the way the shell does.
    pub fn holds(&self, at: DateTime<Tz>) -> bool {
        let tz = at.timezone();
        match *self {
            Guard::Weekday(d) => at.weekday().number_from_monday() == d,
            Guard::LastDay { offset } => {
                (at + ChronoDuration::seconds(offset))
                    .with_timezone(&tz)
                    .day()
                    == 1
            }
            Guard::LastWeek { offset } => {
                (at + ChronoDuration::seconds(offset))
                    .with_timezone(&tz)
                    .month()
                    != at.month()
            }
            Guard::EpochDay { n } => epoch_day(at.date_naive()).rem_euclid(n as i64) == 0,
            Guard::Year(y) => at.year() == y,
            Guard::From(d) => at.date_naive() >= d,
            Guard::Until(d) => at.date_naive() <= d,
        }
    }
}

impl CronPlan {
    /// The runs of this cron line, guards applied, after `after` — the reference the schedule
    /// expansion must agree with.
    pub fn occurrences(
        &self,
        tz: Tz,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Vec<DateTime<Tz>> {
        let Ok(cron) = Cron::parse(&self.expr) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut day = after.with_timezone(&tz).date_naive();
        let last = until.with_timezone(&tz).date_naive();
        while day <= last {
            for t in cron.times_on(day) {
                if let Some(i) = local_instant(tz, day, t) {
                    let u = i.with_timezone(&Utc);
                    if u > after && u <= until && self.guards.iter().all(|g| g.holds(i)) {
                        out.push(i);
                    }
                }
            }
            let Some(next) = day.succ_opt() else { break };
            day = next;
        }
        out
    }
}

impl Cron {
    /// See [`Schedule::period_days`].
    fn period_days(&self) -> Option<u32> {
        let all_months = (1..=12).all(|m| self.months & (1 << m) != 0);
        let all_doms = (1..=31).all(|d| self.dom & (1 << d) != 0);
        let all_dows = self.dow & 0b111_1111 == 0b111_1111;
        if !all_months {
            return None;
        }
        if self.dom_star || self.dow_star {
            // Both must match: the day of the month must not matter.
            all_doms.then_some(if all_dows { 1 } else { 7 })
        } else {
            // Either may match: one that always does makes every day a day.
            (all_doms || all_dows).then_some(1)
        }
    }

    /// Parse five cron fields (`0 2 * * 0`, names, ranges, steps, lists) or a macro (`@daily`).
    pub fn parse(text: &str) -> Result<Cron, ValueError> {
        let trimmed = text.trim();
        let expanded = match trimmed {
            "@hourly" => "0 * * * *",
            "@daily" | "@midnight" => "0 0 * * *",
            "@weekly" => "0 0 * * 0",
            "@monthly" => "0 0 1 * *",
            "@yearly" | "@annually" => "0 0 1 1 *",
            t if t.starts_with('@') => {
                return Err(ValueError::whole(
                    text,
                    format!("unknown cron macro `{t}`"),
                    "macros: `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`",
                ));
            }
            t => t,
        };
        let fields = tokens(expanded);
        let lead = text.len() - text.trim_start().len();
        if fields.len() != 5 {
            return Err(ValueError::whole(
                text,
                format!(
                    "a cron line has 5 fields (minute hour day-of-month month day-of-week), found {}",
                    fields.len()
                ),
                "e.g. `cron 0 2 * * 0` for Sundays at 02:00",
            ));
        }
        let macro_off = |f: &Tok<'_>| {
            if expanded == trimmed {
                lead + f.start
            } else {
                lead
            }
        };
        let field =
            |i: usize, lo: u32, hi: u32, names: &[&str]| -> Result<(u64, bool), ValueError> {
                let f = &fields[i];
                parse_field(f.text, lo, hi, names).map_err(|(s, e, m)| {
                    let off = macro_off(f);
                    if expanded == trimmed {
                        ValueError::new(off + s, off + e, m.0, m.1)
                    } else {
                        ValueError::whole(text, m.0, m.1)
                    }
                })
            };
        const MONTHS: &[&str] = &[
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ];
        const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
        let (minutes, _) = field(0, 0, 59, &[])?;
        let (hours, _) = field(1, 0, 23, &[])?;
        let (dom, dom_star) = field(2, 1, 31, &[])?;
        let (months, _) = field(3, 1, 12, MONTHS)?;
        let (dow, dow_star) = field(4, 0, 7, DAYS)?;
        // 7 is Sunday too.
        let dow = (dow | (dow >> 7)) & 0x7f;
        // Only day-of-month restricts the day (cron ORs the two when both are restricted): some
        // selected month must have some selected day.
        if dow_star && !dom_star {
            const DAYS_IN: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
            let fires = (1..=12u32).any(|m| {
                months & (1 << m) != 0 && (1..=DAYS_IN[m as usize - 1]).any(|d| dom & (1 << d) != 0)
            });
            if !fires {
                let (a, b) = (
                    macro_off(&fields[2]),
                    macro_off(&fields[3]) + fields[3].text.len(),
                );
                return Err(ValueError::new(
                    a,
                    b.max(a),
                    format!(
                        "`{} {}` never fires: no selected month has that day",
                        fields[2].text, fields[3].text
                    ),
                    "check the day of month and the month (February has at most 29 days; April, June, September and November 30)",
                ));
            }
        }
        Ok(Cron {
            text: fields.iter().map(|f| f.text).collect::<Vec<_>>().join(" "),
            minutes,
            hours: hours as u32,
            dom: dom as u32,
            months: months as u16,
            dow: dow as u8,
            dom_star,
            dow_star,
        })
    }

    /// The RFC 5545 recurrence rule of this line, unless both day fields are restricted (cron
    /// ORs them; a rule cannot).
    pub fn rrule(&self) -> Option<String> {
        if !self.dom_star && !self.dow_star {
            return None;
        }
        let list = |mask: u64, lo: u32, hi: u32| -> Vec<String> {
            (lo..=hi)
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| i.to_string())
                .collect()
        };
        let mut r = String::from("FREQ=DAILY");
        if self.months != 0b1_1111_1111_1110 {
            let _ = write!(
                r,
                ";BYMONTH={}",
                list(u64::from(self.months), 1, 12).join(",")
            );
        }
        if !self.dom_star {
            let _ = write!(
                r,
                ";BYMONTHDAY={}",
                list(u64::from(self.dom), 1, 31).join(",")
            );
        }
        if !self.dow_star {
            const CODES: [&str; 7] = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"];
            let days: Vec<&str> = (0..7)
                .filter(|d| self.dow & (1 << d) != 0)
                .map(|d| CODES[d])
                .collect();
            let _ = write!(r, ";BYDAY={}", days.join(","));
        }
        let _ = write!(
            r,
            ";BYHOUR={};BYMINUTE={}",
            list(u64::from(self.hours), 0, 23).join(","),
            list(self.minutes, 0, 59).join(",")
        );
        Some(r)
    }

    fn times_on(&self, date: NaiveDate) -> Vec<TimeOfDay> {
        if self.runs_on(date) {
            self.times()
        } else {
            Vec::new()
        }
    }

    /// Whether it runs on `date` (cron ORs the day of the month and the day of the week when
    /// both are restricted).
    fn runs_on(&self, date: NaiveDate) -> bool {
        if self.months & (1 << date.month()) == 0 {
            return false;
        }
        let dom_ok = self.dom & (1 << date.day()) != 0;
        let dow_ok = self.dow & (1 << date.weekday().num_days_from_sunday()) != 0;
        if self.dom_star || self.dow_star {
            dom_ok && dow_ok
        } else {
            dom_ok || dow_ok
        }
    }

    /// The longest gap between consecutive runs over `days`, in minutes: within a day the same
    /// times every day it runs, across days from its last time to its first. What walking every
    /// run gives ([`Schedule::walked_gap`], which the unit test holds it to), without the walk:
    /// `max_gap` is asked for every job and alert.
    fn gap_over(&self, days: impl Iterator<Item = NaiveDate>) -> Option<i64> {
        let times: Vec<i64> = self
            .times()
            .iter()
            .map(|t| i64::from(t.minutes()))
            .collect();
        let (&first, &last) = (times.first()?, times.last()?);
        let within = times.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
        let mut gap = within;
        let mut prev: Option<NaiveDate> = None;
        let mut run_days = 0usize;
        for day in days.filter(|d| self.runs_on(*d)) {
            if let Some(p) = prev {
                gap = gap.max((day - p).num_days() * 24 * 60 - last + first);
            }
            prev = Some(day);
            run_days += 1;
        }
        (run_days > 1 || (run_days == 1 && times.len() > 1))
            .then_some(gap)
            .filter(|g| *g > 0)
    }

    /// Every time of a day it runs on.
    fn times(&self) -> Vec<TimeOfDay> {
        let mut out = Vec::new();
        for h in 0..24u32 {
            if self.hours & (1 << h) == 0 {
                continue;
            }
            for m in 0..60u32 {
                if self.minutes & (1 << m) != 0 {
                    out.push(TimeOfDay {
                        hour: h as u8,
                        minute: m as u8,
                    });
                }
            }
        }
        out
    }
}

type FieldError = (usize, usize, (String, String));

/// One cron field into a bitmask; `star` is whether it starts with `*` (cron's rule for OR-ing
/// the day fields).
fn parse_field(text: &str, lo: u32, hi: u32, names: &[&str]) -> Result<(u64, bool), FieldError> {
    let mut mask = 0u64;
    let mut off = 0;
    let value = |s: &str, at: usize| -> Result<u32, FieldError> {
        if let Ok(v) = s.parse::<u32>() {
            if v < lo || v > hi {
                return Err((
                    at,
                    at + s.len(),
                    (
                        format!("`{s}` is out of range {lo}-{hi}"),
                        format!("this field takes {lo}-{hi}"),
                    ),
                ));
            }
            return Ok(v);
        }
        let lower = s.to_ascii_lowercase();
        if let Some(i) = names.iter().position(|n| *n == lower) {
            // Names count from the field's lowest value: `sun` is 0, `jan` is 1.
            return Ok(i as u32 + lo);
        }
        let help = if names.is_empty() {
            format!("this field takes numbers {lo}-{hi}")
        } else {
            format!("this field takes {lo}-{hi} or names like `{}`", names[0])
        };
        Err((
            at,
            at + s.len(),
            (format!("`{s}` is not a valid value"), help),
        ))
    };
    for item in text.split(',') {
        let at = off;
        off += item.len() + 1;
        if item.is_empty() {
            return Err((
                at,
                at + 1,
                (
                    "empty item in cron list".to_owned(),
                    "remove the extra comma".to_owned(),
                ),
            ));
        }
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s
                    .parse()
                    .ok()
                    .filter(|&s| s > 0 && s <= hi)
                    .ok_or_else(|| {
                        (
                            at + r.len() + 1,
                            at + item.len(),
                            (
                                format!("`{s}` is not a valid step"),
                                format!("a step is a number 1-{hi}"),
                            ),
                        )
                    })?;
                (r, step)
            }
            None => (item, 1),
        };
        let (a, b) = if range == "*" {
            (lo, hi)
        } else if let Some((x, y)) = range.split_once('-') {
            let a = value(x, at)?;
            let b = value(y, at + x.len() + 1)?;
            if a > b {
                return Err((
                    at,
                    at + range.len(),
                    (
                        format!("range `{range}` goes backwards"),
                        "write the smaller value first".to_owned(),
                    ),
                ));
            }
            (a, b)
        } else {
            let a = value(range, at)?;
            if item.contains('/') {
                // `0/5`: some crons read "from 0 every 5", Vixie cron and crontab(1) refuse it.
                return Err((
                    at,
                    at + item.len(),
                    (
                        format!("`{item}` puts a step after a single value"),
                        format!("write `{range}-{hi}/{step}`"),
                    ),
                ));
            }
            (a, a)
        };
        let mut v = a;
        while v <= b {
            mask |= 1 << v;
            v += step;
        }
    }
    Ok((mask, text.starts_with('*')))
}

impl fmt::Display for Schedule {
    /// The canonical grammar text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Every(d) => write!(f, "every {}", d.prometheus()),
            Schedule::Weekly { days, at } => {
                if *days == Days::ALL {
                    write!(f, "daily at {at}")
                } else if *days == Days::WEEKDAYS {
                    write!(f, "weekdays at {at}")
                } else if *days == Days::WEEKENDS {
                    write!(f, "weekends at {at}")
                } else {
                    let names: Vec<&str> = [
                        Weekday::Mon,
                        Weekday::Tue,
                        Weekday::Wed,
                        Weekday::Thu,
                        Weekday::Fri,
                        Weekday::Sat,
                        Weekday::Sun,
                    ]
                    .into_iter()
                    .filter(|d| days.contains(*d))
                    .map(|d| {
                        if days.list().len() == 1 {
                            weekday_name(d)
                        } else {
                            &weekday_name(d)[..3]
                        }
                    })
                    .collect();
                    write!(f, "weekly on {} at {at}", names.join(","))
                }
            }
            Schedule::Monthly { months, day, at } => {
                let head = if *months == Months::ALL {
                    "monthly"
                } else if *months == Months::QUARTERS {
                    "quarterly"
                } else if *months == Months::HALVES {
                    "semiannually"
                } else if let (Some(m), DaySpec::Day(d)) = (months.list().first(), day) {
                    if months.list().len() == 1 {
                        return write!(f, "yearly on {m:02}-{d:02} at {at}");
                    }
                    "monthly"
                } else {
                    "monthly"
                };
                match day {
                    DaySpec::Day(d) => write!(f, "{head} on day {d} at {at}"),
                    DaySpec::LastDay => write!(f, "{head} on last day at {at}"),
                    DaySpec::Nth(k, wd) => write!(
                        f,
                        "{head} on {} {} at {at}",
                        NTH[usize::from(*k - 1)],
                        weekday_name(*wd)
                    ),
                }
            }
            Schedule::Once { date, at } => write!(f, "once on {} at {at}", date.format("%Y-%m-%d")),
            Schedule::Cron(c) => write!(f, "cron {}", c.text),
            Schedule::Bounded(rule, bound) => write!(f, "{rule} {bound}"),
        }
    }
}

impl TimeOfDay {
    /// Local time of an instant, to the minute.
    pub fn of<T: Timelike>(t: &T) -> TimeOfDay {
        TimeOfDay {
            hour: t.hour() as u8,
            minute: t.minute() as u8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Schedule {
        Schedule::parse(s)
            .unwrap_or_else(|e| panic!("{s}: {e:?}"))
            .0
    }

    fn utc(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
    }

    #[test]
    fn grammar_round_trips() {
        for s in [
            "every 5m",
            "every 6h",
            "every 2d",
            "daily at 02:00",
            "weekdays at 06:00",
            "weekends at 03:00",
            "weekly on sunday at 02:00",
            "weekly on mon,thu at 04:00",
            "monthly on day 1 at 03:00",
            "monthly on last day at 23:00",
            "monthly on first sunday at 01:00",
            "quarterly on first sunday at 01:00",
            "yearly on 01-15 at 03:00",
            "once on 2027-01-15 at 09:00",
            "cron 0 2 * * 0",
            "semiannually on second monday at 09:00",
            "daily at 09:00 from 2027-03-01 for 7 days",
            "daily at 09:00 from 2027-03-01 for 1 day",
            "every 6h until 2027-03-01",
            "weekly on mon,thu at 04:00 from 2027-03-01",
            "cron 0 2 * * 0 from 2027-03-01 until 2027-06-30",
        ] {
            assert_eq!(p(s).to_string(), s);
        }
    }

    #[test]
    fn bounded_occurrences_stop_at_the_bound() {
        let tz: Tz = "America/Guayaquil".parse().unwrap();
        let s = p("daily at 09:00 from 2027-03-01 for 7 days");
        let all: Vec<String> = s
            .occurrences(tz, utc(2027, 1, 1))
            .map(|t| t.format("%m-%d %H:%M").to_string())
            .collect();
        assert_eq!(all.len(), 7);
        assert_eq!(all[0], "03-01 09:00");
        assert_eq!(all[6], "03-07 09:00");
        // Started inside the bound, and after it.
        assert_eq!(s.occurrences(tz, utc(2027, 3, 5)).count(), 3);
        assert_eq!(s.occurrences(tz, utc(2027, 3, 8)).count(), 0);
        // A far start is reached at once, and a far end does not keep the iterator busy.
        let far = p("every 1m from 2200-12-30 until 2200-12-31");
        assert_eq!(far.occurrences(tz, utc(2027, 1, 1)).count(), 2 * 24 * 60);
        let plan = s.to_cron();
        assert_eq!(plan.expr, "0 9 * * *");
        let d = |m, day| NaiveDate::from_ymd_opt(2027, m, day).unwrap();
        assert_eq!(plan.guards, [Guard::From(d(3, 1)), Guard::Until(d(3, 7))]);
        assert_eq!(s.max_gap(), Some(Duration::from_days(1)));
    }

    #[test]
    fn bound_errors_point_at_the_bound() {
        let err = |s: &str| Schedule::parse(s).unwrap_err().error;
        let e = err("daily at 09:00 from 2027-03-08 until 2027-03-01");
        assert_eq!(
            &"daily at 09:00 from 2027-03-08 until 2027-03-01"[e.start..e.end],
            "2027-03-01"
        );
        assert!(e.help.contains("`2027-03-08`"), "{}", e.help);
        let text = "weekly on sunday at 02:00 from 2027-03-01 for 3 days";
        let e = err(text);
        assert_eq!(&text[e.start..e.end], "from 2027-03-01 for 3 days");
        assert!(
            e.help.contains("`from 2027-03-01 for 7 days`"),
            "{}",
            e.help
        );
        let text = "daily at 09:00 for 7 days";
        let e = err(text);
        assert_eq!(&text[e.start..e.end], "for 7 days");
        assert!(
            e.help.contains("`from 2027-03-01 for 7 days`"),
            "{}",
            e.help
        );
        let e = err("once on 2027-01-15 at 09:00 until 2027-02-01");
        assert_eq!(e.start, 28);
        let text = "daily at 09:00 from 2027-03-01 for 100000000 days";
        let e = err(text);
        assert_eq!(&text[e.start..e.end], "100000000");
        let text = "daily at 09:00 from 2027-03-01 for 0 days";
        assert_eq!(&text[err(text).start..err(text).end], "0");
        let text = "daily from 2027-03-01 at 09:00";
        assert!(err(text).message.contains("time of day"), "{:?}", err(text));
        let text = "daily at 09:00 from 2027-03-01 for 7 weeks";
        assert_eq!(&text[err(text).start..err(text).end], "weeks");
        let text = "daily at 09:00 until 2027-02-30";
        assert_eq!(&text[err(text).start..err(text).end], "2027-02-30");
    }

    #[test]
    fn first_sunday() {
        let tz: Tz = "America/Guayaquil".parse().unwrap();
        let next = p("monthly on first sunday at 01:00").next_n(tz, utc(2027, 1, 1), 3);
        let days: Vec<String> = next
            .iter()
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .collect();
        assert_eq!(
            days,
            ["2027-01-03 01:00", "2027-02-07 01:00", "2027-03-07 01:00"]
        );
        let plan = p("monthly on first sunday at 01:00").to_cron();
        assert_eq!(plan.expr, "0 1 1-7 * *");
        assert_eq!(plan.guards, vec![Guard::Weekday(7)]);
    }

    #[test]
    fn dst_gap_is_skipped() {
        let tz: Tz = "Europe/Madrid".parse().unwrap();
        // 2027-03-28 02:30 does not exist in Madrid.
        let next = p("daily at 02:30").next_n(tz, utc(2027, 3, 27), 3);
        let days: Vec<String> = next.iter().map(|t| t.format("%m-%d").to_string()).collect();
        assert_eq!(days, ["03-27", "03-29", "03-30"]);
    }

    #[test]
    fn interval_errors() {
        let e = Schedule::parse("every 7m").unwrap_err();
        assert_eq!(e.kind, ScheduleErrorKind::NotCron);
        assert!(e.error.help.contains("`every 6m`"), "{}", e.error.help);
        assert_eq!((e.error.start, e.error.end), (6, 8));
        let e = Schedule::parse("every 5h").unwrap_err();
        assert!(
            e.error.help.contains("every 4h") && e.error.help.contains("every 6h"),
            "{}",
            e.error.help
        );
        assert!(Schedule::parse("every 45s").is_err());
    }

    #[test]
    fn invalid_points_inside() {
        let e = Schedule::parse("weekly on sundy at 02:00").unwrap_err();
        assert_eq!((e.error.start, e.error.end), (10, 15));
        let e = Schedule::parse("daily at 25:00").unwrap_err();
        assert_eq!((e.error.start, e.error.end), (9, 11));
        let e = Schedule::parse("cron 0 2 * * 8").unwrap_err();
        assert_eq!((e.error.start, e.error.end), (13, 14));
        let e = Schedule::parse("dayly at 02:00").unwrap_err();
        assert!(e.error.help.contains("daily"));
        let (_, w) = Schedule::parse("monthly on day 31 at 02:00").unwrap();
        assert_eq!(w[0].kind, WarningKind::SkipsMonths);
        let (_, w) = Schedule::parse("cron 0 2 1-7 * 0").unwrap();
        assert_eq!(w[0].kind, WarningKind::CronDayOr);
    }

    #[test]
    fn max_gaps() {
        assert_eq!(p("every 6h").max_gap(), Some(Duration::from_hours(6)));
        assert_eq!(p("daily at 02:00").max_gap(), Some(Duration::from_days(1)));
        assert_eq!(
            p("weekdays at 02:00").max_gap(),
            Some(Duration::from_days(3))
        );
        assert_eq!(
            p("weekly on sunday at 02:00").max_gap(),
            Some(Duration::from_days(7))
        );
        assert_eq!(p("once on 2027-01-15 at 09:00").max_gap(), None);
    }

    /// A cron's gap, computed from its days and its times, is what walking every run gives.
    #[test]
    fn cron_gap_is_the_walked_gap() {
        for text in [
            "cron */5 * * * *",
            "cron 0 2 * * *",
            "cron 30 1,13 * * *",
            "cron 0 9 * * 1-5",
            "cron 0 3 1 * *",
            "cron 0 3 31 * *",
            "cron 0 3 29 2 *",
            "cron 0 4 1,15 * 0",
            "cron 0,30 0-23/6 * 1,7 *",
            "cron 15 22 * * 6",
            "cron 0 0 1 1 *",
            "cron 0 * 13 * 5",
        ] {
            let s = p(text);
            assert_eq!(s.max_gap(), s.walked_gap(), "{text}");
        }
    }

    /// The day-counting `max_gap` of schedules that run once a day gives what comparing their
    /// runs' wall-clock times gives.
    #[test]
    fn max_gap_in_days_is_the_gap_between_runs() {
        for text in [
            "daily at 02:00",
            "weekdays at 23:59",
            "weekends at 00:00",
            "weekly on mon,thu at 04:00",
            "monthly on day 31 at 01:00",
            "monthly on day 29 at 01:00",
            "monthly on day 1 at 00:00",
            "monthly on last day at 21:00",
            "monthly on last sunday at 21:00",
            "monthly on fourth friday at 21:00",
            "monthly on first monday at 00:00",
            "quarterly on last day at 23:00",
            "quarterly on day 31 at 23:00",
            "yearly on 12-31 at 23:59",
            "yearly on 01-01 at 00:00",
            "monthly on first sunday at 05:00",
            "monthly on last friday at 05:00",
            "quarterly on second monday at 09:00",
            "semiannually on second saturday at 08:00",
            "yearly on 02-29 at 12:00",
        ] {
            let s = p(text);
            let expected = s.walked_gap();
            assert_eq!(s.max_gap(), expected, "{text}");
        }
    }

    #[test]
    fn cron_names_and_macros() {
        let c = Cron::parse("0 4 * jan-mar mon,thu").unwrap();
        assert_eq!(c.months, 0b1110);
        assert_eq!(c.dow, 0b10010);
        assert_eq!(Cron::parse("@daily").unwrap().text, "0 0 * * *");
        assert_eq!(Cron::parse("0 0 * * 7").unwrap().dow, 1);
    }
}
