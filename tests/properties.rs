//! Properties over random values: rendering then parsing gives the value back (durations,
//! quantities, schedules), and a schedule's cron line with its guards fires exactly when the
//! schedule's own expansion says, over a year, in time zones with and without DST.

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use upkeep::value::schedule::Schedule;
use upkeep::value::zone::Tz;
use upkeep::value::{Duration, Number, Quantity, Unit};

fn duration() -> impl Strategy<Value = Duration> {
    (0u64..=100 * 365 * 86_400).prop_map(Duration::from_secs)
}

proptest! {
    #[test]
    fn durations_round_trip(d in duration()) {
        let text = d.prometheus();
        prop_assert_eq!(Duration::parse(&text, false).unwrap(), d);
    }

    #[test]
    fn latencies_round_trip(ms in 0u64..10_000_000) {
        let d = Duration::from_millis(ms);
        prop_assert_eq!(Duration::parse(&d.prometheus(), true).unwrap(), d);
    }

    #[test]
    fn quantities_round_trip(
        int in 0i64..1_000_000,
        frac in 0i64..1000,
        unit in prop::sample::select(vec!["", "ms", "s", "m", "h", "%", "B", "KB", "MiB", "GiB", "req/s", "req/min", "messages", "USD"]),
    ) {
        let value = Number::int(int).checked_add(Number::new(i128::from(frac), 1000).unwrap()).unwrap();
        let value = if unit == "%" { value.checked_mul(Number::new(1, 10_000).unwrap()).unwrap() } else { value };
        let q = Quantity { value, unit: if unit.is_empty() { None } else { Unit::parse(unit) } };
        let text = q.to_string();
        let back = Quantity::parse(&text).unwrap();
        prop_assert_eq!(back, q, "{}", text);
    }

    #[test]
    fn schedules_round_trip(s in prop_oneof![schedule_text(), bounded_text()]) {
        let (parsed, _) = Schedule::parse(&s).unwrap();
        let rendered = parsed.to_string();
        let (again, _) = Schedule::parse(&rendered).unwrap();
        prop_assert_eq!(again, parsed, "{} -> {}", s, rendered);
    }
}

const TIME: &str = "(0[0-9]|1[0-9]|2[0-3]):(00|15|30|45|59)";

fn schedule_text() -> impl Strategy<Value = String> {
    let day = prop::sample::select(vec![
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]);
    let nth = prop::sample::select(vec!["first", "second", "third", "fourth", "last"]);
    let head = prop::sample::select(vec!["monthly", "quarterly", "semiannually"]);
    prop_oneof![
        prop::sample::select(vec![
            "every 1m",
            "every 5m",
            "every 15m",
            "every 30m",
            "every 1h",
            "every 6h",
            "every 12h",
            "every 1d",
            "every 2d",
            "every 3d",
            "every 7d"
        ])
        .prop_map(str::to_owned),
        TIME.prop_map(|t| format!("daily at {t}")),
        TIME.prop_map(|t| format!("weekdays at {t}")),
        TIME.prop_map(|t| format!("weekends at {t}")),
        (prop::collection::btree_set(day.clone(), 1..4), TIME).prop_map(|(days, t)| {
            format!(
                "weekly on {} at {t}",
                days.into_iter().collect::<Vec<_>>().join(",")
            )
        }),
        (head.clone(), 1u8..=28, TIME).prop_map(|(h, d, t)| format!("{h} on day {d} at {t}")),
        (head.clone(), TIME).prop_map(|(h, t)| format!("{h} on last day at {t}")),
        (head, nth, day, TIME).prop_map(|(h, n, d, t)| format!("{h} on {n} {d} at {t}")),
        (1u32..=12, 1u32..=28, TIME)
            .prop_map(|(m, d, t)| format!("yearly on {m:02}-{d:02} at {t}")),
        (2027i32..=2028, 1u32..=12, 1u32..=28, TIME)
            .prop_map(|(y, m, d, t)| format!("once on {y}-{m:02}-{d:02} at {t}")),
    ]
}

/// A schedule with dates it is limited to, the bounds that leave it runs only.
fn bounded_text() -> impl Strategy<Value = String> {
    let date = |day: u32| {
        (chrono::NaiveDate::from_ymd_opt(2027, 1, 1).expect("date")
            + chrono::Duration::days(i64::from(day)))
        .format("%Y-%m-%d")
        .to_string()
    };
    let bound = prop_oneof![
        (0u32..400, 1u32..90).prop_map(move |(f, n)| format!("from {} for {n} days", date(f))),
        (0u32..400, 0u32..120).prop_map(move |(f, n)| format!(
            "from {} until {}",
            date(f),
            date(f + n)
        )),
        (0u32..400).prop_map(move |f| format!("from {}", date(f))),
        (0u32..400).prop_map(move |f| format!("until {}", date(f))),
    ];
    (schedule_text(), bound)
        .prop_map(|(s, b)| format!("{s} {b}"))
        .prop_filter("a bound that leaves runs, on a recurrence", |s| {
            Schedule::parse(s).is_ok()
        })
}

fn zone() -> impl Strategy<Value = Tz> {
    prop::sample::select(vec![
        "UTC",
        "America/Guayaquil",
        "Europe/Madrid",
        "America/Santiago",
        "Australia/Lord_Howe",
        "America/New_York",
    ])
    .prop_map(|z| z.parse::<Tz>().expect("zone"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// The cron line plus guards runs exactly at the schedule's occurrences.
    #[test]
    fn cron_with_guards_matches_the_schedule(s in prop_oneof![schedule_text(), bounded_text()], tz in zone(), start_day in 0i64..365) {
        let (schedule, _) = Schedule::parse(&s).unwrap();
        let from = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::days(start_day);
        let until = from + chrono::Duration::days(366);
        let expected: Vec<_> = schedule
            .occurrences(tz, from)
            .take_while(|t| t.with_timezone(&Utc) <= until)
            .collect();
        let plan = schedule.to_cron();
        let actual = plan.occurrences(tz, from, until);
        prop_assert_eq!(actual, expected, "{} in {} as `{}` with {:?}", s, tz, plan.expr, plan.guards);
    }
}
