//! iCalendar: `calendar/NAME.ics`, the plan's windows, manual tasks, restore tests and policy
//! reviews as recurring events in the plan's time zone (RRULE, e.g. `BYDAY=1SU` for the first
//! Sunday), with a `VTIMEZONE` built from the zone's real offset changes.
//!
//! Deterministic: events start at their first occurrence on or after the reference instant
//! ([`crate::value::time::reference_instant`], 2027-01-01) and `DTSTAMP`
//! is that same fixed instant. Local times that do not exist are skipped by upkeep's own
//! expansion, while RFC 5545 moves them an hour later; plans rarely schedule into a DST gap.

use crate::value::zone::Tz;
use chrono::{DateTime, NaiveDateTime, Offset, TimeZone, Timelike, Utc, Weekday};
use std::fmt::Write as _;

use super::{Artifact, Context};
use crate::model::timeline::{self, Item, ItemKind};
use crate::model::{Plan, WindowKind};
use crate::value::schedule::{DaySpec, Days, Months};
use crate::value::{Duration, Schedule};

/// Where events and the time zone's transitions start.
fn reference() -> DateTime<Utc> {
    crate::value::time::reference_instant()
}

/// Text as an iCalendar TEXT value (RFC 5545 §3.3.11): `\`, `;` and `,` escaped, every line
/// break (LF, CRLF or a bare CR, which lenient readers take as the end of a content line) as
/// `\n`, and no other control character but tab.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' | '\u{85}' | '\u{2028}' | '\u{2029}' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A content line folded at 75 octets (RFC 5545 §3.1), ending in CRLF.
fn line(out: &mut String, text: &str) {
    let mut count = 0;
    for c in text.chars() {
        let n = c.len_utf8();
        if count + n > 75 {
            out.push_str("\r\n ");
            count = 1;
        }
        out.push(c);
        count += n;
    }
    out.push_str("\r\n");
}

const BYDAY: [(Weekday, &str); 7] = [
    (Weekday::Mon, "MO"),
    (Weekday::Tue, "TU"),
    (Weekday::Wed, "WE"),
    (Weekday::Thu, "TH"),
    (Weekday::Fri, "FR"),
    (Weekday::Sat, "SA"),
    (Weekday::Sun, "SU"),
];

fn day_code(d: Weekday) -> &'static str {
    BYDAY.iter().find(|(w, _)| *w == d).map_or("MO", |(_, c)| c)
}

fn months_part(m: Months) -> String {
    if m == Months::ALL {
        String::new()
    } else {
        let list: Vec<String> = (1..=12)
            .filter(|x| m.contains(*x))
            .map(|x| x.to_string())
            .collect();
        format!(";BYMONTH={}", list.join(","))
    }
}

/// The recurrence rule of a schedule in zone `tz`, or `None` for a one-off (or a cron line
/// RRULE cannot say).
pub(crate) fn rrule(s: &Schedule, tz: Tz) -> Option<String> {
    Some(match s {
        Schedule::Every(d) => {
            let m = d.as_mins();
            if m < 60 {
                format!("FREQ=MINUTELY;INTERVAL={m}")
            } else if m < 24 * 60 {
                format!("FREQ=HOURLY;INTERVAL={}", m / 60)
            } else {
                format!("FREQ=DAILY;INTERVAL={}", m / (24 * 60))
            }
        }
        Schedule::Weekly { days, .. } if *days == Days::ALL => "FREQ=DAILY".to_owned(),
        Schedule::Weekly { days, .. } => {
            let list: Vec<&str> = BYDAY
                .iter()
                .filter(|(w, _)| days.contains(*w))
                .map(|(_, c)| *c)
                .collect();
            format!("FREQ=WEEKLY;BYDAY={}", list.join(","))
        }
        Schedule::Monthly { months, day, .. } => {
            let single = (1..=12).filter(|x| months.contains(*x)).count() == 1;
            let (freq, by_month) = if single {
                ("YEARLY", months_part(*months))
            } else {
                ("MONTHLY", months_part(*months))
            };
            let by_day = match day {
                DaySpec::Day(n) => format!(";BYMONTHDAY={n}"),
                DaySpec::LastDay => ";BYMONTHDAY=-1".to_owned(),
                DaySpec::Nth(k, wd) if *k <= 4 => format!(";BYDAY={k}{}", day_code(*wd)),
                DaySpec::Nth(_, wd) => format!(";BYDAY=-1{}", day_code(*wd)),
            };
            format!("FREQ={freq}{by_month}{by_day}")
        }
        Schedule::Once { .. } => return None,
        Schedule::Cron(c) => return c.rrule(),
        Schedule::Bounded(rule, bound) => {
            let rule = rrule(rule, tz)?;
            match bound.last().and_then(|last| end_of_day(tz, last)) {
                // With a `TZID` start, `UNTIL` must be in UTC (RFC 5545 §3.3.10); it is
                // inclusive, so the last second of the last day. The start needs nothing: the
                // event starts at the first run.
                Some(end) => format!("{rule};UNTIL={}", end.format("%Y%m%dT%H%M%SZ")),
                None => rule,
            }
        }
    })
}

/// The last second of a local date, in UTC.
fn end_of_day(tz: Tz, date: chrono::NaiveDate) -> Option<DateTime<Utc>> {
    let last = date.and_hms_opt(23, 59, 59)?;
    [last, last - chrono::Duration::hours(1)]
        .iter()
        .find_map(|t| tz.from_local_datetime(t).latest())
        .map(|t| t.with_timezone(&Utc))
}

fn fmt_local(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

fn fmt_offset(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.abs();
    format!("{sign}{:02}{:02}", a / 3600, (a % 3600) / 60)
}

fn ical_duration(d: Duration) -> String {
    let s = d.as_secs();
    let (days, h, m) = (s / 86400, (s % 86400) / 3600, (s % 3600) / 60);
    let mut out = String::from("P");
    if days > 0 {
        let _ = write!(out, "{days}D");
    }
    if h > 0 || m > 0 || days == 0 {
        out.push('T');
        if h > 0 {
            let _ = write!(out, "{h}H");
        }
        if m > 0 || h == 0 {
            let _ = write!(out, "{m}M");
        }
    }
    out
}

/// `VTIMEZONE` with every offset change over the eleven years from the reference instant,
/// grouped by kind of change.
fn vtimezone(out: &mut String, tz: Tz) {
    let offset_at = |t: DateTime<Utc>| tz.offset_from_utc_datetime(&t.naive_utc());
    let start = reference();
    let mut transitions: Vec<(DateTime<Utc>, i32, i32, String, bool)> = Vec::new();
    let mut prev = offset_at(start);
    let mut t = start;
    for _ in 0..(11 * 366) {
        let next = t + chrono::Duration::days(1);
        let off = offset_at(next);
        if off.fix() != prev.fix() {
            // Narrow down to the minute.
            let (mut lo, mut hi) = (t, next);
            while hi - lo > chrono::Duration::minutes(1) {
                let mid = lo + (hi - lo) / 2;
                if offset_at(mid).fix() == prev.fix() {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let at = hi.with_second(0).unwrap_or(hi);
            let (from, to) = (prev.fix().local_minus_utc(), off.fix().local_minus_utc());
            let name = off.abbreviation().unwrap_or_default();
            transitions.push((at, from, to, name, off.is_dst()));
        }
        prev = off;
        t = next;
    }
    line(out, "BEGIN:VTIMEZONE");
    line(out, &format!("TZID:{}", tz.name()));
    if transitions.is_empty() {
        let off = offset_at(start);
        let secs = off.fix().local_minus_utc();
        line(out, "BEGIN:STANDARD");
        line(out, "DTSTART:19700101T000000");
        line(out, &format!("TZOFFSETFROM:{}", fmt_offset(secs)));
        line(out, &format!("TZOFFSETTO:{}", fmt_offset(secs)));
        if let Some(n) = off.abbreviation() {
            line(out, &format!("TZNAME:{n}"));
        }
        line(out, "END:STANDARD");
    } else {
        let mut groups: Vec<(i32, i32, String, bool, Vec<NaiveDateTime>)> = Vec::new();
        for (at, from, to, name, dst) in transitions {
            let local = at.naive_utc() + chrono::Duration::seconds(i64::from(from));
            match groups
                .iter_mut()
                .find(|g| g.0 == from && g.1 == to && g.2 == name)
            {
                Some(g) => g.4.push(local),
                None => groups.push((from, to, name, dst, vec![local])),
            }
        }
        for (from, to, name, dst, dates) in groups {
            let kind = if dst { "DAYLIGHT" } else { "STANDARD" };
            line(out, &format!("BEGIN:{kind}"));
            line(out, &format!("DTSTART:{}", fmt_local(dates[0])));
            for d in &dates[1..] {
                line(out, &format!("RDATE:{}", fmt_local(*d)));
            }
            line(out, &format!("TZOFFSETFROM:{}", fmt_offset(from)));
            line(out, &format!("TZOFFSETTO:{}", fmt_offset(to)));
            if !name.is_empty() {
                line(out, &format!("TZNAME:{name}"));
            }
            line(out, &format!("END:{kind}"));
        }
    }
    line(out, "END:VTIMEZONE");
}

fn summary_and_category(cx: &Context<'_>, item: &Item<'_>) -> (String, &'static str, String) {
    let plan = cx.plan;
    match item.kind {
        ItemKind::Window => {
            let w = plan.windows.get(&item.name);
            let freeze = w.is_some_and(|w| w.kind == WindowKind::Freeze);
            let desc = w
                .and_then(|w| w.description.as_ref())
                .map(|d| d.value.clone())
                .unwrap_or_default();
            (
                format!(
                    "{}: {} {}",
                    cx.name(),
                    if freeze {
                        "freeze"
                    } else {
                        "maintenance window"
                    },
                    item.name
                ),
                if freeze { "freeze" } else { "maintenance" },
                desc,
            )
        }
        ItemKind::Task => {
            let t = plan.tasks.get(&item.name);
            let mut desc = t
                .and_then(|t| t.description.as_ref())
                .map(|d| d.value.clone())
                .unwrap_or_default();
            if let Some(t) = t {
                for c in &t.checklist {
                    let _ = write!(desc, "\n- [ ] {}", c.value);
                }
                if let Some(o) = &t.owner {
                    let _ = write!(desc, "\nOwner: {}", o.value);
                }
            }
            (
                format!("{}: {}", cx.name(), item.name),
                "task",
                desc.trim_start().to_owned(),
            )
        }
        ItemKind::RestoreTest => (
            format!(
                "{}: restore test of {}",
                cx.name(),
                item.name.trim_end_matches(".restore_test")
            ),
            "restore-test",
            String::new(),
        ),
        ItemKind::Review => {
            let desc = plan
                .policies
                .as_ref()
                .and_then(|p| p.value.reviews.get(&item.name))
                .and_then(|r| r.description.as_ref())
                .map(|d| d.value.clone())
                .unwrap_or_default();
            (
                format!("{}: review {}", cx.name(), item.name),
                "review",
                desc,
            )
        }
        ItemKind::Prune => (
            format!("{}: prune {}", cx.name(), item.name),
            "prune",
            String::new(),
        ),
        ItemKind::Backup => (
            format!("{}: backup {}", cx.name(), item.name),
            "backup",
            String::new(),
        ),
    }
}

/// Whether an item is in the calendar: windows, tasks people do, restore tests and reviews.
fn wanted(plan: &Plan, item: &Item<'_>) -> bool {
    match item.kind {
        ItemKind::Window | ItemKind::Review | ItemKind::RestoreTest => true,
        ItemKind::Task => plan
            .tasks
            .get(&item.name)
            .is_some_and(|t| t.manual || t.command.is_none()),
        ItemKind::Backup | ItemKind::Prune => false,
    }
}

/// An item's event: the schedule its rule follows, the lead inside its window and its first
/// start; `None` when the calendar leaves it out (automated work, nothing ahead).
fn event(plan: &Plan, item: &Item<'_>) -> Option<(Schedule, Duration, DateTime<Tz>)> {
    if !wanted(plan, item) {
        return None;
    }
    // A task later in its window: shift the rule's time when the day stays the same.
    let (schedule, lead) = match crate::model::jobs::shifted(item.schedule, item.offset) {
        Some(s) => (s, Duration::ZERO),
        None => (item.schedule.clone(), item.offset),
    };
    let first = schedule
        .occurrences(
            plan.metadata.timezone.value,
            reference() - chrono::Duration::seconds(1),
        )
        .next()?;
    Some((schedule, lead, first))
}

/// How many events the calendar of `plan` holds.
pub(crate) fn event_count(plan: &Plan) -> usize {
    timeline::items(plan)
        .iter()
        .filter(|item| event(plan, item).is_some())
        .count()
}

pub(crate) fn render(cx: &Context<'_>) -> String {
    let tz = cx.plan.metadata.timezone.value;
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(
        &mut out,
        &format!("PRODID:-//upkeep//upkeep {}//EN", env!("CARGO_PKG_VERSION")),
    );
    line(&mut out, "CALSCALE:GREGORIAN");
    line(
        &mut out,
        &format!(
            "X-WR-CALNAME:{}",
            escape(&format!(
                "{} maintenance",
                cx.plan
                    .metadata
                    .title
                    .as_ref()
                    .map_or(cx.name(), |t| t.value.as_str())
            ))
        ),
    );
    line(&mut out, &format!("X-WR-TIMEZONE:{}", tz.name()));
    line(
        &mut out,
        &format!("X-WR-CALDESC:{}", escape(&cx.header().join(" "))),
    );
    vtimezone(&mut out, tz);
    let stamp = reference().format("%Y%m%dT%H%M%SZ").to_string();
    for item in timeline::items(cx.plan) {
        let Some((schedule, lead, first)) = event(cx.plan, &item) else {
            continue;
        };
        let (summary, category, mut desc) = summary_and_category(cx, &item);
        if !lead.is_zero() {
            desc = format!("Starts {lead} after its window opens.\n{desc}");
        }
        let length = item
            .duration
            .unwrap_or(Duration::from_hours(1))
            .saturating_add(lead);
        line(&mut out, "BEGIN:VEVENT");
        line(
            &mut out,
            &format!(
                "UID:{}-{}@{}.upkeep",
                category,
                item.name.replace(['.', '_'], "-"),
                cx.name()
            ),
        );
        line(&mut out, &format!("DTSTAMP:{stamp}"));
        line(
            &mut out,
            &format!(
                "DTSTART;TZID={}:{}",
                tz.name(),
                fmt_local(first.naive_local())
            ),
        );
        line(&mut out, &format!("DURATION:{}", ical_duration(length)));
        if let Some(r) = rrule(&schedule, tz) {
            line(&mut out, &format!("RRULE:{r}"));
        }
        line(&mut out, &format!("SUMMARY:{}", escape(&summary)));
        if !desc.is_empty() {
            line(&mut out, &format!("DESCRIPTION:{}", escape(&desc)));
        }
        line(&mut out, &format!("CATEGORIES:{category}"));
        // Work someone does is busy time; windows only say when work may (or may not) happen.
        if matches!(category, "task" | "restore-test" | "review") {
            line(&mut out, "TRANSP:OPAQUE");
        } else {
            line(&mut out, "TRANSP:TRANSPARENT");
        }
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

pub(crate) fn emit(cx: &Context<'_>) -> Vec<Artifact> {
    vec![Artifact {
        path: format!("calendar/{}.ics", cx.name()).into(),
        content: render(cx),
    }]
}
