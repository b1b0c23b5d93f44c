//! Time zones of the IANA database, as `chrono` date arithmetic uses them.
//!
//! The database is `jiff`'s bundled copy: one compressed byte string in the binary, read when a
//! plan first names a zone. (`chrono-tz`, used before, compiled every transition of every zone
//! into static tables of `&'static str`: 45,000 of the binary's 55,000 start-up relocations,
//! and a fifth of the start-up time of a one-plan `check`; see the book's Performance page.)
//! The bundled copy, not the machine's `/usr/share/zoneinfo`, so that generated files are the
//! same on every machine.
//!
//! [`Tz`] is a small `Copy` handle (an index into the sorted zone names) that implements
//! [`chrono::TimeZone`], so schedules, calendars and checks compute dates with `chrono` in it.

use std::fmt;
use std::sync::OnceLock;

use chrono::{FixedOffset, MappedLocalTime, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike};

/// A time zone: `UTC` or a zone of the bundled IANA database.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tz(u16);

/// The zone names of the database, sorted, with each zone loaded when first used.
struct Db {
    names: Box<[Box<str>]>,
    zones: Box<[OnceLock<jiff::tz::TimeZone>]>,
}

fn db() -> &'static Db {
    static DB: OnceLock<Db> = OnceLock::new();
    DB.get_or_init(|| {
        let mut names: Vec<Box<str>> = jiff::tz::db()
            .available()
            .filter(|n| n.as_str() != "UTC")
            .map(|n| Box::from(n.as_str()))
            .collect();
        names.sort();
        names.dedup();
        // Index 0 is `UTC`; an index past u16 cannot be named (the database has about 600).
        names.truncate(usize::from(u16::MAX) - 1);
        let zones = names.iter().map(|_| OnceLock::new()).collect();
        Db {
            names: names.into_boxed_slice(),
            zones,
        }
    })
}

/// Why a name is not a time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownZone;

impl fmt::Display for UnknownZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a time zone of the IANA database")
    }
}

impl std::error::Error for UnknownZone {}

impl Tz {
    /// Coordinated Universal Time.
    pub const UTC: Tz = Tz(0);

    /// The zone's IANA name, as the plan spells it (`America/Guayaquil`, `UTC`).
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "UTC",
            i => db().names.get(usize::from(i) - 1).map_or("UTC", |n| &**n),
        }
    }

    /// Every zone name of the database, sorted, `UTC` among them.
    pub fn names() -> impl Iterator<Item = &'static str> {
        std::iter::once("UTC").chain(db().names.iter().map(|n| &**n))
    }

    /// The zone's rules; `None` for UTC.
    fn zone(self) -> Option<&'static jiff::tz::TimeZone> {
        let i = usize::from(self.0).checked_sub(1)?;
        let db = db();
        let name = db.names.get(i)?;
        Some(
            db.zones
                .get(i)?
                .get_or_init(|| jiff::tz::TimeZone::get(name).unwrap_or(jiff::tz::TimeZone::UTC)),
        )
    }

    /// The offset in force at a UTC instant, in whole seconds since the epoch.
    fn at(self, secs: i64) -> TzOffset {
        let fix = match self.zone() {
            Some(zone) => fixed(zone.to_offset(timestamp(secs)).seconds()),
            None => fixed(0),
        };
        TzOffset {
            tz: self,
            fix,
            secs,
        }
    }

    /// The abbreviation and daylight saving time of the offset at a UTC instant.
    fn info(self, secs: i64) -> (String, bool) {
        match self.zone() {
            Some(zone) => {
                let info = zone.to_offset_info(timestamp(secs));
                (info.abbreviation().to_owned(), info.dst().is_dst())
            }
            None => ("UTC".to_owned(), false),
        }
    }
}

impl std::str::FromStr for Tz {
    type Err = UnknownZone;

    /// Exactly a name of the database (names are case-sensitive, as in the database).
    fn from_str(s: &str) -> Result<Tz, UnknownZone> {
        if s == "UTC" {
            return Ok(Tz::UTC);
        }
        let names = &db().names;
        let i = names
            .binary_search_by(|n| (**n).cmp(s))
            .map_err(|_| UnknownZone)?;
        u16::try_from(i + 1).map(Tz).map_err(|_| UnknownZone)
    }
}

impl fmt::Display for Tz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Debug for Tz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The offset of a [`Tz`] at an instant. Its abbreviation and whether it is daylight saving
/// time are looked up when asked for (only calendars and `%Z` ask), so the checks' thousands
/// of conversions are one binary search each.
#[derive(Clone, Copy)]
pub struct TzOffset {
    tz: Tz,
    fix: FixedOffset,
    /// The UTC instant it is the offset of, in seconds since the epoch.
    secs: i64,
}

/// Offsets are equal when they are the same zone's at the same distance from UTC.
impl PartialEq for TzOffset {
    fn eq(&self, other: &TzOffset) -> bool {
        (self.tz, self.fix) == (other.tz, other.fix)
    }
}

impl Eq for TzOffset {}

impl TzOffset {
    /// The abbreviation (`CEST`); `None` when the database has only a number for it (`-05`,
    /// which [`Display`](fmt::Display) prints) or nothing.
    pub fn abbreviation(&self) -> Option<String> {
        let (abbr, _) = self.tz.info(self.secs);
        Some(abbr).filter(|a| !a.is_empty() && !a.starts_with(['+', '-']))
    }

    /// Whether this offset is daylight saving time.
    pub fn is_dst(&self) -> bool {
        self.tz.info(self.secs).1
    }
}

impl Offset for TzOffset {
    fn fix(&self) -> FixedOffset {
        self.fix
    }
}

/// What `%Z` prints: the abbreviation.
impl fmt::Display for TzOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.tz.info(self.secs).0)
    }
}

impl fmt::Debug for TzOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl TimeZone for Tz {
    type Offset = TzOffset;

    fn from_offset(offset: &TzOffset) -> Tz {
        offset.tz
    }

    fn offset_from_local_date(&self, local: &NaiveDate) -> MappedLocalTime<TzOffset> {
        self.offset_from_local_datetime(&local.and_time(chrono::NaiveTime::MIN))
    }

    /// One offset, none (the local time is skipped when the clocks go forward) or two, the
    /// earlier instant's first (the local time happens twice when they go back).
    fn offset_from_local_datetime(&self, local: &NaiveDateTime) -> MappedLocalTime<TzOffset> {
        let local_secs = local.and_utc().timestamp();
        let Some(zone) = self.zone() else {
            return MappedLocalTime::Single(self.at(local_secs));
        };
        let of = |o: jiff::tz::Offset| TzOffset {
            tz: *self,
            fix: fixed(o.seconds()),
            secs: local_secs - i64::from(o.seconds()),
        };
        match zone.to_ambiguous_timestamp(civil(local)).offset() {
            jiff::tz::AmbiguousOffset::Unambiguous { offset } => {
                MappedLocalTime::Single(of(offset))
            }
            jiff::tz::AmbiguousOffset::Gap { .. } => MappedLocalTime::None,
            jiff::tz::AmbiguousOffset::Fold { before, after } => {
                MappedLocalTime::Ambiguous(of(before), of(after))
            }
        }
    }

    fn offset_from_utc_date(&self, utc: &NaiveDate) -> TzOffset {
        self.offset_from_utc_datetime(&utc.and_time(chrono::NaiveTime::MIN))
    }

    fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> TzOffset {
        self.at(utc.and_utc().timestamp())
    }
}

fn fixed(secs: i32) -> FixedOffset {
    FixedOffset::east_opt(secs).unwrap_or(FixedOffset::east_opt(0).expect("zero is an offset"))
}

/// `jiff`'s instant for seconds since the epoch, clamped to the years it covers (-9999..=9999).
fn timestamp(secs: i64) -> jiff::Timestamp {
    let secs = secs.clamp(
        jiff::Timestamp::MIN.as_second(),
        jiff::Timestamp::MAX.as_second(),
    );
    jiff::Timestamp::from_second(secs).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// `jiff`'s civil date and time for `chrono`'s, clamped to the years `jiff` covers.
fn civil(t: &NaiveDateTime) -> jiff::civil::DateTime {
    use chrono::Datelike as _;
    let year = t.year().clamp(-9999, 9999) as i16;
    jiff::civil::DateTime::new(
        year,
        t.month() as i8,
        t.day() as i8,
        t.hour() as i8,
        t.minute() as i8,
        t.second().min(59) as i8,
        t.nanosecond().min(999_999_999) as i32,
    )
    .unwrap_or(jiff::civil::DateTime::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(h, min, 0))
            .expect("a date")
    }

    #[test]
    fn names_parse_back_and_utc_is_first() {
        assert_eq!("UTC".parse::<Tz>(), Ok(Tz::UTC));
        assert_eq!(Tz::UTC.name(), "UTC");
        let mut n = 0;
        for name in Tz::names() {
            let tz: Tz = name.parse().expect("a listed name parses");
            assert_eq!(tz.name(), name);
            n += 1;
        }
        assert!(n > 400, "{n} zones");
        assert_eq!("europe/madrid".parse::<Tz>(), Err(UnknownZone));
        assert_eq!("Mars/Olympus".parse::<Tz>(), Err(UnknownZone));
    }

    #[test]
    fn offsets_abbreviations_and_daylight_saving() {
        let madrid: Tz = "Europe/Madrid".parse().expect("zone");
        let winter = madrid.offset_from_utc_datetime(&utc(2027, 1, 15, 12, 0));
        assert_eq!(winter.fix().local_minus_utc(), 3600);
        assert_eq!(winter.to_string(), "CET");
        assert!(!winter.is_dst());
        let summer = madrid.offset_from_utc_datetime(&utc(2027, 7, 15, 12, 0));
        assert_eq!(summer.fix().local_minus_utc(), 7200);
        assert!(summer.is_dst());
        let quito: Tz = "America/Guayaquil".parse().expect("zone");
        let o = quito.offset_from_utc_datetime(&utc(2027, 1, 15, 12, 0));
        assert_eq!(
            (o.fix().local_minus_utc(), o.to_string()),
            (-5 * 3600, "-05".into())
        );
        assert_eq!(o.abbreviation(), None);
        assert_eq!(summer.abbreviation().as_deref(), Some("CEST"));
    }

    #[test]
    fn skipped_and_repeated_local_times() {
        let madrid: Tz = "Europe/Madrid".parse().expect("zone");
        // 2027-03-28 02:30 does not exist; 2027-10-31 02:30 happens twice.
        assert_eq!(
            madrid.from_local_datetime(&utc(2027, 3, 28, 2, 30)),
            MappedLocalTime::None
        );
        match madrid.from_local_datetime(&utc(2027, 10, 31, 2, 30)) {
            MappedLocalTime::Ambiguous(a, b) => {
                assert!(a < b);
                assert_eq!(a.offset().to_string(), "CEST");
                assert_eq!(b.offset().to_string(), "CET");
            }
            other => panic!("{other:?}"),
        }
        let t = madrid
            .from_local_datetime(&utc(2027, 6, 1, 9, 0))
            .single()
            .expect("one instant");
        assert_eq!(t.naive_utc(), utc(2027, 6, 1, 7, 0));
        // Arithmetic keeps the zone: a day after 2027-03-27 09:00 CET is 09:00 CEST.
        let before = madrid
            .from_local_datetime(&utc(2027, 3, 27, 9, 0))
            .single()
            .expect("one instant");
        let after = before + chrono::Duration::days(1);
        assert_eq!(after.format("%H:%M %Z").to_string(), "10:00 CEST");
    }

    #[test]
    fn far_instants_do_not_panic() {
        let madrid: Tz = "Europe/Madrid".parse().expect("zone");
        let _ = madrid.offset_from_utc_datetime(&NaiveDateTime::MAX);
        let _ = madrid.offset_from_utc_datetime(&NaiveDateTime::MIN);
        let _ = madrid.from_local_datetime(&NaiveDateTime::MAX);
        let _ = madrid.from_local_datetime(&NaiveDateTime::MIN);
    }
}
