//! The burn-rate scenarios of the SRE workbook (chapter 5), fed as the raw series the SLI reads:
//! request and error counters (or histogram buckets), or `up` targets.
//!
//! - A page: a burn of about 16× (2.2% of a 30-day budget an hour) pages within the hour; a
//!   2-minute spike of 10% errors after six clean hours pages nobody; a steady 1.2× burn for
//!   3.5 days pages nobody.
//! - A ticket: three clean days, then a 1.2× burn opens a ticket once the 3-day window is above
//!   1× (two and a half days later), not when the burn starts.
//!
//! When each alert fires, and with which value, is computed here as Prometheus 2.42 computes
//! the SLI records: 5-minute rates from samples a minute apart (a range includes both ends,
//! so the rate of a window that starts on a sample needs no extrapolation, and a counter that
//! starts at 0 is extrapolated to 0 at most), and longer windows as sums of those records at
//! every evaluation.

use super::super::{AlertRule, SloTest, feed};
use super::{Case, Input, eval, expected_annotations, expected_labels, series};
use crate::emit::yaml::Yaml;
use crate::value::Duration;

/// Requests per second of the synthesised traffic.
const RATE: f64 = 10.0;
const MIN: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// How the raw series of an SLI are driven to an error ratio.
enum Driver {
    /// Counters: series `i` grows by `a_i × ratio + b_i` per second.
    Counters {
        series: Vec<feed::Series>,
        coef: Vec<(f64, f64)>,
        /// How each series counts in the errors and in the requests (per unit of its rate).
        weights: Vec<(f64, f64)>,
    },
    /// `up` targets carrying `labels`.
    Up { labels: feed::Labels },
}

/// What an SLI does over time: from each start (seconds), an error ratio (counters), or a
/// number of the `k` targets down (`up`).
struct Profile {
    steps: Vec<(i64, f64)>,
    k: usize,
}

impl Profile {
    fn at(&self, t: i64) -> f64 {
        self.steps
            .iter()
            .rev()
            .find(|(s, _)| *s <= t)
            .map_or(0.0, |(_, v)| *v)
    }
}

fn driver(t: &SloTest) -> Result<Driver, String> {
    if let Some(labels) = &t.up {
        return Ok(Driver::Up {
            labels: labels.clone(),
        });
    }
    let parse = |s: &str| crate::value::promql::parse(s).map_err(|e| e.clone());
    let (errors, requests) = (parse(&t.errors)?, parse(&t.requests)?);
    let mut series: Vec<feed::Series> = Vec::new();
    for s in feed::synthesize(&errors)?
        .into_iter()
        .chain(feed::synthesize(&requests)?)
    {
        if !series
            .iter()
            .any(|x| x.name == s.name && x.labels == s.labels)
        {
            series.push(feed::Series {
                kind: feed::Kind::Counter(0.0),
                ..s
            });
        }
    }
    // Each series' weight in the errors and the requests: the SLI is a sum of rates.
    let measure = |rates: &[f64]| -> Result<(f64, f64), String> {
        let input: Vec<feed::Series> = series
            .iter()
            .zip(rates)
            .map(|(s, r)| feed::Series {
                kind: feed::Kind::Counter(*r),
                ..s.clone()
            })
            .collect();
        let e = feed::single(&errors, &input, 600)?;
        let q = feed::single(&requests, &input, 600)?;
        match (e, q) {
            (Some(e), Some(q)) => Ok((e, q)),
            _ => Err("its errors or requests yield nothing on the synthesised series".to_owned()),
        }
    };
    let mut weights = Vec::new();
    for i in 0..series.len() {
        let mut rates = vec![0.0; series.len()];
        rates[i] = 1.0;
        weights.push(measure(&rates)?);
    }
    // Two series whose rates give any ratio from 0 to 1 at `RATE` requests per second.
    for i in 0..series.len() {
        for j in i + 1..series.len() {
            let ((ei, qi), (ej, qj)) = (weights[i], weights[j]);
            let det = ei * qj - ej * qi;
            if det.abs() < 1e-12 {
                continue;
            }
            // x_i = R (q_j r − e_j) / det, x_j = R (e_i − q_i r) / det: affine in r.
            let (ai, bi) = (RATE * qj / det, -RATE * ej / det);
            let (aj, bj) = (-RATE * qi / det, RATE * ei / det);
            let ok = |a: f64, b: f64| b >= 0.0 && a + b >= 0.0;
            if ok(ai, bi) && ok(aj, bj) {
                let mut coef = vec![(0.0, 0.0); series.len()];
                coef[i] = (ai, bi);
                coef[j] = (aj, bj);
                // The SLI must read the ratio back (it is not a sum of rates otherwise).
                for r in [0.0, 0.5, 1.0] {
                    let rates: Vec<f64> = coef.iter().map(|(a, b)| a * r + b).collect();
                    let (e, q) = measure(&rates)?;
                    if (e - r * RATE).abs() > 1e-6 || (q - RATE).abs() > 1e-6 {
                        return Err("its errors and requests are not sums of rates".to_owned());
                    }
                }
                return Ok(Driver::Counters {
                    series,
                    coef,
                    weights,
                });
            }
        }
    }
    Err("no two of its series drive the error ratio from 0 to 1".to_owned())
}

/// One series of the scenario: runs of samples, each `start + step × i` for `i` in `0..=n`
/// (promtool's `start+stepxn`).
struct Fed {
    name: String,
    labels: feed::Labels,
    runs: Vec<(f64, f64, usize)>,
}

/// `v` to a millionth: the printed input is short, and the model reads the same numbers.
fn micro(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

impl Fed {
    /// A counter from 0 growing by `steps[k]` into sample `k + 1`.
    fn counter(name: &str, labels: feed::Labels, steps: &[f64]) -> Fed {
        let mut runs: Vec<(f64, f64, usize)> =
            vec![(0.0, steps.first().copied().unwrap_or(0.0), 0)];
        for &d in steps {
            let last = runs.len() - 1;
            let (start, step, n) = runs[last];
            if step.to_bits() == d.to_bits() {
                runs[last].2 = n + 1;
            } else {
                runs.push((micro(start + step * n as f64 + d), d, 0));
            }
        }
        Fed {
            name: name.to_owned(),
            labels,
            runs,
        }
    }

    /// A gauge with `values`.
    fn gauge(name: &str, labels: feed::Labels, values: &[f64]) -> Fed {
        let mut runs: Vec<(f64, f64, usize)> = Vec::new();
        for &v in values {
            match runs.last_mut() {
                Some((start, _, n)) if start.to_bits() == v.to_bits() => *n += 1,
                _ => runs.push((v, 0.0, 0)),
            }
        }
        Fed {
            name: name.to_owned(),
            labels,
            runs,
        }
    }

    fn values(&self) -> Vec<f64> {
        self.runs
            .iter()
            .flat_map(|&(start, step, n)| (0..=n).map(move |i| start + step * i as f64))
            .collect()
    }

    fn notation(&self) -> String {
        self.runs
            .iter()
            .map(|&(start, step, n)| {
                if step == 0.0 {
                    format!("{start}x{n}")
                } else {
                    format!("{start}+{step}x{n}")
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The series of `profile` sampled every `sample` seconds until `until`, and the SLI's errors
/// and requests (5-minute rates, or targets down and all) recorded at each of `grid`'s times.
fn feed(
    d: &Driver,
    profile: &Profile,
    sample: i64,
    until: i64,
    every: i64,
) -> (Vec<Fed>, Vec<Option<(f64, f64)>>) {
    let n = (until / sample) as usize + 1;
    let grid = (until / every) as usize + 1;
    match d {
        Driver::Counters {
            series,
            coef,
            weights,
        } => {
            let fed: Vec<Fed> = series
                .iter()
                .zip(coef)
                .map(|(s, (a, b))| {
                    // The step into sample k grows at the rate of the time it starts.
                    let steps: Vec<f64> = (1..n)
                        .map(|k| {
                            micro((a * profile.at((k as i64 - 1) * sample) + b) * sample as f64)
                        })
                        .collect();
                    Fed::counter(&s.name, s.labels.clone(), &steps)
                })
                .collect();
            let values: Vec<Vec<f64>> = fed.iter().map(Fed::values).collect();
            let records = (0..grid)
                .map(|g| {
                    let t = g as i64 * every;
                    // Before 5m, the window starts before the first sample: a counter from 0
                    // is extrapolated to 0 at the window's start, no further.
                    (t >= sample).then(|| {
                        let (k, back) =
                            ((t / sample) as usize, ((t - 300).max(0) / sample) as usize);
                        let mut e = 0.0;
                        let mut q = 0.0;
                        for (v, (we, wq)) in values.iter().zip(weights) {
                            let rate = (v[k] - v[back]) / 300.0;
                            e += we * rate;
                            q += wq * rate;
                        }
                        (e, q)
                    })
                })
                .collect();
            (fed, records)
        }
        Driver::Up { labels } => {
            let fed: Vec<Fed> = (0..profile.k)
                .map(|i| {
                    let mut l = labels.clone();
                    l.push(("instance".to_owned(), format!("slo-target-{i:03}")));
                    let values: Vec<f64> = (0..n)
                        .map(|k| {
                            let down = profile.at(k as i64 * sample);
                            if (i as f64) < down { 0.0 } else { 1.0 }
                        })
                        .collect();
                    Fed::gauge("up", l, &values)
                })
                .collect();
            let values: Vec<Vec<f64>> = fed.iter().map(Fed::values).collect();
            let records = (0..grid)
                .map(|g| {
                    let k = (g as i64 * every / sample) as usize;
                    let down = values.iter().filter(|v| v[k] == 0.0).count();
                    Some((down as f64, profile.k as f64))
                })
                .collect();
            (fed, records)
        }
    }
}

/// The burn-rate alert of `t` over `records` (one per `every` seconds): when it fires, with
/// its value, at each evaluation.
fn alert(t: &SloTest, records: &[Option<(f64, f64)>], every: i64) -> Vec<Option<f64>> {
    let mut sums = vec![(0.0, 0.0)];
    for r in records {
        let (e, q) = r.unwrap_or((0.0, 0.0));
        let last = sums[sums.len() - 1];
        sums.push((last.0 + e, last.1 + q));
    }
    let burn = |g: usize, window: u64| -> Option<f64> {
        let (e, q) = if window == 300 {
            records[g]?
        } else {
            // A range includes both ends.
            let from = g.saturating_sub((window as i64 / every) as usize);
            let (hi, lo) = (sums[g + 1], sums[from]);
            (hi.0 - lo.0, hi.1 - lo.1)
        };
        (q > 0.0).then(|| e / q / t.budget)
    };
    (0..records.len())
        .map(|g| {
            t.pairs.iter().find_map(|p| {
                let f = p.factor().to_f64();
                let long = burn(g, p.long)?;
                let short = burn(g, p.short)?;
                (long > f && short > f).then_some(long)
            })
        })
        .collect()
}

/// One scenario: what happens, fed for how long, sampled and evaluated how often.
struct Scenario {
    what: String,
    profile: Profile,
    until: i64,
    sample: i64,
    every: i64,
    /// Evaluations judged: `None` for the first firing (and the one before it).
    at: Vec<i64>,
    /// Whether the alert must fire at all (the `at` evaluations say where).
    fires: bool,
}

fn case(a: &AlertRule, t: &SloTest, d: &Driver, s: Scenario) -> Result<Case, String> {
    let (fed, records) = feed(d, &s.profile, s.sample, s.until, s.every);
    let fired = alert(t, &records, s.every);
    let onset = fired.iter().position(Option::is_some);
    let expect = |g: usize| -> Vec<Yaml> {
        fired[g].map_or_else(Vec::new, |v| {
            vec![
                Yaml::map()
                    .with("exp_labels", expected_labels(a, &t.labels))
                    .with("exp_annotations", expected_annotations(a, v)),
            ]
        })
    };
    let mut at: Vec<usize> = s.at.iter().map(|x| (x / s.every) as usize).collect();
    let mut what = s.what;
    match (s.fires, onset) {
        (true, Some(g)) => {
            at.extend([g.saturating_sub(1), g]);
            what = format!(
                "{what}: fires at {}",
                Duration::from_secs((g as i64 * s.every) as u64)
            );
        }
        (true, None) => return Err(format!("{what}: it never fires")),
        (false, Some(g)) => {
            return Err(format!(
                "{what}: it fires at {}",
                Duration::from_secs((g as i64 * s.every) as u64)
            ));
        }
        (false, None) => what += ": silent throughout",
    }
    at.sort_unstable();
    at.dedup();
    let evals = at
        .into_iter()
        .filter(|g| *g < fired.len())
        .map(|g| {
            eval(
                Duration::from_secs((g as i64 * s.every) as u64),
                &a.name,
                expect(g),
            )
        })
        .collect();
    let inputs = fed
        .iter()
        .map(|f| {
            Yaml::map()
                .with("series", series(&f.name, &f.labels))
                .with("values", f.notation())
        })
        .collect();
    let reads = [&t.errors, &t.requests]
        .into_iter()
        .map(|e| crate::value::promql::parse(e).map_err(|e| e.clone()))
        .collect::<Result<_, _>>()?;
    Ok(Case {
        every: s.every,
        sample: s.sample,
        comments: vec![format!("{}: {what}", a.name)],
        input: Input::Written {
            yaml: inputs,
            series: fed
                .into_iter()
                .map(|f| feed::Series {
                    name: f.name,
                    labels: f.labels,
                    kind: feed::Kind::Gauge(0.0),
                })
                .collect(),
            reads,
        },
        until: s.until,
        evals,
        looks: Vec::new(),
    })
}

/// `k` targets and how many are down for a ratio near `ratio`, within `(lo, hi)`.
fn targets(ratio: f64, lo: f64, hi: f64) -> Option<(usize, f64)> {
    (1..=200usize).find_map(|k| {
        let down = (ratio * k as f64).round().max(1.0);
        let r = down / k as f64;
        (r > lo && r < hi && down <= k as f64).then_some((k, down))
    })
}

/// The workbook's scenarios for the burn-rate alert `a`.
pub(super) fn cases(a: &AlertRule, t: &SloTest) -> Result<Vec<Case>, String> {
    let d = driver(t)?;
    let up = matches!(d, Driver::Up { .. });
    let b = t.budget;
    let mut out = Vec::new();
    if t.page {
        // About 16×: 2.2% of a 30-day budget an hour, from two clean hours on.
        let f = t.pairs[0].factor().to_f64();
        let (k, level) = if up {
            targets(16.0 * b, f * b * 1.02, (18.0 * b).min(1.0 + 1e-9))
                .ok_or("no number of targets gives a 16× burn")?
        } else {
            (0, (16.0 * b).min(1.0))
        };
        let ratio = if up { level / k as f64 } else { level };
        if ratio <= f * b * 1.01 {
            return Err("an error ratio above the page's burn rate is impossible".to_owned());
        }
        // Two clean hours first, so that the 6h window, diluted, does not fire first.
        let start = 2 * HOUR;
        let burn = ratio / b;
        out.push(case(
            a,
            t,
            &d,
            Scenario {
                what: format!(
                    "a {burn:.1}× burn from 2h (every request an error is {:.0}×)",
                    1.0 / b
                ),
                profile: Profile {
                    steps: vec![(0, 0.0), (start, level)],
                    k,
                },
                until: start + 65 * MIN,
                sample: MIN,
                every: MIN,
                at: vec![start + 30 * MIN],
                fires: true,
            },
        )?);
        // A 2-minute spike of 10% errors after six clean hours (the 6h window would be
        // diluted less after a shorter history than Prometheus keeps in production).
        let spike = 0.1;
        if spike * 2.0 / 60.0 / b <= f {
            let (k, level) = if up { (10, 1.0) } else { (0, spike) };
            let start = 6 * HOUR;
            out.push(case(
                a,
                t,
                &d,
                Scenario {
                    what: "10% errors for 2m after six clean hours".to_owned(),
                    profile: Profile {
                        steps: vec![(0, 0.0), (start, level), (start + 2 * MIN, 0.0)],
                        k,
                    },
                    until: start + 30 * MIN,
                    sample: MIN,
                    every: MIN,
                    at: vec![
                        start + MIN,
                        start + 2 * MIN,
                        start + 3 * MIN,
                        start + 5 * MIN,
                        start + 10 * MIN,
                        start + 30 * MIN,
                    ],
                    fires: false,
                },
            )?);
        }
    }
    // A slow burn: about 1.2× from three clean days on (a ticket once the 3-day window is
    // above 1×, never a page), evaluated hourly. `up` targets are sampled hourly, one of `k`
    // down one hour in seven (a 6-hour window always holds one); counters every minute.
    let start = 3 * DAY;
    let (k, sample, every, steps, burn) = if up {
        let k = ((1.0 / (7.0 * 1.3 * b)).round() as usize).max(1);
        let mut steps = vec![(0, 0.0)];
        let mut h = start;
        while h < start + 4 * DAY {
            steps.push((h, 1.0));
            steps.push((h + HOUR, 0.0));
            h += 7 * HOUR;
        }
        (k, HOUR, HOUR, steps, 1.0 / (7.0 * k as f64) / b)
    } else {
        let level = (1.2 * b).min(1.0);
        (0, MIN, HOUR, vec![(0, 0.0), (start, level)], level / b)
    };
    if burn <= 1.0 {
        return Ok(out);
    }
    // The page must stay silent through it; the ticket must open (the evaluations before and
    // at its first firing are added).
    let (at, fires) = if t.page {
        (
            vec![start + every, start + DAY, start + 3 * DAY + 12 * HOUR],
            false,
        )
    } else {
        (vec![start + every, start + 3 * DAY + 12 * HOUR], true)
    };
    out.push(case(
        a,
        t,
        &d,
        Scenario {
            what: format!("a {burn:.1}× burn for 3.5d after three clean days"),
            profile: Profile { steps, k },
            until: start + 3 * DAY + 12 * HOUR,
            sample,
            every,
            at,
            fires,
        },
    )?);
    Ok(out)
}
