//! The promtool unit tests of a rules file: for every alert, input series just past its
//! threshold (it must fire, with exactly the expected labels and annotations, once `for` has
//! elapsed, and not before) and at or just inside it (it must not).

use super::{AlertRule, DatesTest, Rules, TestInput, VALUE, feed, matchers};

mod slo;
use crate::emit::Context;
use crate::emit::yaml::Yaml;
use crate::value::Duration;

fn num(v: f64) -> String {
    format!("{v}")
}

fn series(name: &str, labels: &[(String, String)]) -> String {
    let refs: Vec<(&str, &str)> = labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    format!("{name}{}", matchers(&refs))
}

/// The labels an alert carries: the series' and the rule's (the rule wins).
fn expected_labels(a: &AlertRule, series_labels: &[(String, String)]) -> Yaml {
    let mut all: Vec<(String, String)> = a.labels.clone();
    for (k, v) in series_labels {
        if !all.iter().any(|(ak, _)| ak == k) {
            all.push((k.clone(), v.clone()));
        }
    }
    all.sort();
    all.dedup_by(|x, y| x.0 == y.0);
    Yaml::Map(all.into_iter().map(|(k, v)| (k, Yaml::Str(v))).collect())
}

fn expected_annotations(a: &AlertRule, value: f64) -> Yaml {
    let shown = a.value_format.render(value, &a.unit);
    Yaml::Map(
        a.annotations
            .iter()
            .map(|(k, v)| (k.clone(), Yaml::Str(v.replace(VALUE, &shown))))
            .collect(),
    )
}

fn eval(at: Duration, alert: &str, exp: Vec<Yaml>) -> Yaml {
    Yaml::map()
        .with("eval_time", at.to_string())
        .with("alertname", alert)
        .with("exp_alerts", exp)
}

/// A test group, and the evaluation interval of the file it belongs in.
struct Case {
    every: i64,
    /// How far apart the input samples are.
    sample: i64,
    comments: Vec<String>,
    input: Input,
    /// The last evaluation.
    until: i64,
    evals: Vec<Yaml>,
    /// What the evaluations look at, to merge cases (see [`merge`]).
    looks: Vec<Look>,
}

enum Input {
    /// Synthesised series, which can be merged with other cases'.
    Raw(Vec<feed::Series>),
    /// Series written out already (the SLO scenarios), the series they are and the
    /// expressions their alerts read (see [`merge`]).
    Written {
        yaml: Vec<Yaml>,
        series: Vec<feed::Series>,
        reads: Vec<promql_parser::parser::Expr>,
    },
}

/// Whether any selector of `reads` matches any of `series`.
fn reads_any(reads: &[promql_parser::parser::Expr], series: &[feed::Series]) -> bool {
    reads.iter().any(|e| {
        feed::selectors(e)
            .iter()
            .any(|(vs, _)| series.iter().any(|s| s.matches(vs)))
    })
}

/// One evaluation: the alerts named `alert` at `at`, and what they are on the case's own input.
struct Look {
    at: i64,
    alert: String,
    own: Vec<(feed::Labels, f64)>,
}

/// The evaluation intervals of the test files, finest first. promtool evaluates every rule of a
/// file at every `evaluation_interval` up to a group's last `eval_time`, so one 45-day case at
/// 1m would cost 65,000 evaluations of every rule: a case goes into the file with the coarsest
/// interval that still judges it at [`EVALUATIONS`] points or more.
const EVERY: [i64; 4] = [60, 300, 3_600, 43_200];
const EVALUATIONS: i64 = 24;

/// Cases of conditions over ranges watch for at most this long past their `for` (a 30-day
/// `avg_over_time` is shown silent for two days, not thirty).
const LONG: i64 = 2 * 86_400;

/// How often a case that watches until `horizon` is evaluated, and how far apart its input
/// samples are: a condition over ranges (`rate(x[5m])`) needs samples every minute and is
/// evaluated at most every five; one that reads only the latest sample is sampled when it is
/// evaluated.
fn pace(cond: &promql_parser::parser::Expr, horizon: i64) -> (i64, i64) {
    // A subquery stands for a recording read over a range, recorded once per evaluation: the
    // file's interval is its step.
    if let Some(step) = feed::subquery_steps(cond) {
        return (step, 60);
    }
    let instant = feed::longest_range(cond) == 0;
    let every = EVERY
        .into_iter()
        .filter(|s| horizon / s >= EVALUATIONS && (instant || *s <= 300))
        .max()
        .unwrap_or(60);
    (every, if instant { every } else { 60 })
}

/// The conditions of the rules named alike (a job's `…Missed` is two rules), with their `for`.
type Conds = Vec<(promql_parser::parser::Expr, Duration)>;

/// The conditions of every alert name, when all its rules have one this module can evaluate.
fn conditions(rules: &Rules) -> std::collections::BTreeMap<String, Option<Conds>> {
    let mut out = std::collections::BTreeMap::<String, Option<Conds>>::default();
    for a in rules.alerts() {
        let cond = match &a.test {
            TestInput::Feed { cond, .. } => crate::value::promql::parse(cond).ok(),
            TestInput::NoData { indicator, .. } => {
                crate::value::promql::parse(&format!("absent({indicator})")).ok()
            }
            TestInput::Untested(_) | TestInput::Slo(_) | TestInput::Dates(_) => None,
        };
        let entry = out
            .entry(a.name.clone())
            .or_insert_with(|| Some(Vec::new()));
        match (entry.as_mut(), cond) {
            (Some(v), Some(c)) => v.push((c, a.for_)),
            _ => *entry = None,
        }
    }
    out
}

/// The alerts of the rules `conds` at `at`, evaluated every `every` seconds from 0 on `input`:
/// each series of a condition fires once it has held for the rule's `for`.
fn firing(
    conds: &Conds,
    input: &[feed::Series],
    at: i64,
    every: i64,
) -> Result<Vec<(feed::Labels, f64)>, String> {
    feed::memoized(|| firing_on(conds, input, at, every))
}

fn firing_on(
    conds: &Conds,
    input: &[feed::Series],
    at: i64,
    every: i64,
) -> Result<Vec<(feed::Labels, f64)>, String> {
    let mut out = Vec::new();
    for (cond, for_) in conds {
        let mut since: Vec<(feed::Labels, i64)> = Vec::new();
        let mut now = Vec::new();
        for t in (0..=at).step_by(every as usize) {
            now = feed::eval(cond, input, t)?;
            since.retain(|(l, _)| now.iter().any(|(n, _)| n == l));
            for (l, _) in &now {
                if !since.iter().any(|(s, _)| s == l) {
                    since.push((l.clone(), t));
                }
            }
        }
        for (l, v) in now {
            if since
                .iter()
                .any(|(s, start)| *s == l && at - start >= for_.as_secs() as i64)
            {
                out.push((l, v));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn same(a: &[(feed::Labels, f64)], b: &[(feed::Labels, f64)]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.0 == y.0 && (x.1 - y.1).abs() <= 1e-9 * x.1.abs().max(1.0))
}

/// Whether an evaluation of `looks` can see any of `series`.
fn sees(conds: &Conds, series: &[feed::Series]) -> bool {
    conds.iter().any(|(c, _)| {
        feed::selectors(c)
            .iter()
            .any(|(vs, _)| series.iter().any(|s| s.matches(vs)))
    })
}

/// The cases as few groups as they can be: cases of one file whose alerts differ are merged
/// when every evaluation of each sees on the merged input what it saw on its own (checked by
/// evaluating every condition that selects a series of the other). promtool's cost is the
/// groups' evaluations times the rules, so two hundred one-alert groups cost far more than a
/// few merged ones.
fn merge(cases: Vec<Case>, conds: &std::collections::BTreeMap<String, Option<Conds>>) -> Vec<Case> {
    let conds_of = |name: &str| conds.get(name).and_then(Option::as_ref);
    let mergeable = |c: &Case| {
        matches!(c.input, Input::Raw(_)) && c.looks.iter().all(|l| conds_of(&l.alert).is_some())
    };
    let mut groups: Vec<Case> = Vec::new();
    'cases: for mut c in cases {
        // At real dates a group holds one case of each alert: the two rules of a missed-run
        // alert must not be active at once on another case's series, and every group costs
        // some 3,000 evaluations.
        if c.every == DATES_EVERY {
            let alert = c.looks.first().map(|l| l.alert.clone());
            let joins = |g: &Case| {
                g.every == DATES_EVERY && !g.looks.iter().any(|l| Some(&l.alert) == alert.as_ref())
            };
            if let Some(g) = groups.iter_mut().find(|g| joins(g)) {
                if let (
                    Input::Written {
                        yaml: gy,
                        series: gs,
                        ..
                    },
                    Input::Written { yaml, series, .. },
                ) = (&mut g.input, &mut c.input)
                {
                    gy.append(yaml);
                    gs.append(series);
                }
                g.until = g.until.max(c.until);
                g.comments.append(&mut c.comments);
                g.evals.append(&mut c.evals);
                g.looks.append(&mut c.looks);
                continue;
            }
            groups.push(c);
            continue;
        }
        // Written scenarios share a group when they are the same input (an SLO's page and
        // ticket on one slow burn), or when neither reads the other's series.
        if let Input::Written {
            yaml,
            series,
            reads,
        } = &mut c.input
        {
            for g in &mut groups {
                let Input::Written {
                    yaml: gy,
                    series: gs,
                    reads: gr,
                } = &mut g.input
                else {
                    continue;
                };
                if (g.every, g.sample) != (c.every, c.sample) {
                    continue;
                }
                if *gy == *yaml && g.until == c.until {
                } else if !reads_any(gr, series) && !reads_any(reads, gs) {
                    gy.append(yaml);
                    gs.append(series);
                    gr.append(reads);
                } else {
                    continue;
                }
                g.until = g.until.max(c.until);
                g.comments.append(&mut c.comments);
                g.evals.append(&mut c.evals);
                continue 'cases;
            }
        }
        if mergeable(&c) {
            for g in &mut groups {
                if !mergeable(g) || (g.every, g.sample) != (c.every, c.sample) {
                    continue;
                }
                if g.looks
                    .iter()
                    .any(|l| c.looks.iter().any(|m| m.alert == l.alert))
                {
                    continue;
                }
                let (Input::Raw(gi), Input::Raw(ci)) = (&g.input, &c.input) else {
                    continue;
                };
                if gi
                    .iter()
                    .any(|s| ci.iter().any(|t| t.name == s.name && t.labels == s.labels))
                {
                    continue;
                }
                let mut both = gi.clone();
                both.extend(ci.iter().cloned());
                let holds = |looks: &[Look], other: &[feed::Series]| {
                    looks.iter().all(|l| {
                        let Some(cs) = conds_of(&l.alert) else {
                            return false;
                        };
                        !sees(cs, other)
                            || firing(cs, &both, l.at, c.every).is_ok_and(|f| same(&f, &l.own))
                    })
                };
                if holds(&g.looks, ci) && holds(&c.looks, gi) {
                    g.input = Input::Raw(both);
                    g.until = g.until.max(c.until);
                    g.comments.extend(c.comments);
                    g.evals.extend(c.evals);
                    g.looks.extend(c.looks);
                    continue 'cases;
                }
            }
        }
        groups.push(c);
    }
    groups
}

impl Case {
    fn yaml(self) -> Yaml {
        let inputs = match self.input {
            Input::Raw(series) => feed_input(&series, self.until, self.sample),
            Input::Written { yaml, .. } => yaml,
        };
        Yaml::map()
            .with(
                "interval",
                Duration::from_secs(self.sample as u64).to_string(),
            )
            .with("input_series", inputs)
            .with("alert_rule_test", self.evals)
            .commented(self.comments)
    }
}

/// A case on synthesised series, with the evaluations `(at, expected alerts)` of `alert`.
fn raw_case(
    comment: String,
    (every, sample): (i64, i64),
    conds: Option<&Conds>,
    alert: &str,
    input: Vec<feed::Series>,
    evals: Vec<(i64, Vec<Yaml>)>,
) -> Case {
    let until = evals.iter().map(|e| e.0).max().unwrap_or(0);
    let looks = evals
        .iter()
        .map(|(at, _)| Look {
            at: *at,
            alert: alert.to_owned(),
            own: conds
                .and_then(|c| firing(c, &input, *at, every).ok())
                .unwrap_or_default(),
        })
        .collect();
    Case {
        every,
        sample,
        comments: vec![comment],
        input: Input::Raw(input),
        until,
        evals: evals
            .into_iter()
            .map(|(at, exp)| eval(Duration::from_secs(at as u64), alert, exp))
            .collect(),
        looks,
    }
}

/// When the alert fires on `input`: the first evaluation (every `step` seconds from 0 to
/// `horizon`, at or after `from`) at which `cond` has held for `for_`, with the alert's labels
/// and value.
fn simulate(
    cond: &promql_parser::parser::Expr,
    input: &[feed::Series],
    for_: Duration,
    (from, horizon, step): (i64, i64, i64),
) -> Result<Option<(i64, feed::Labels, f64)>, String> {
    feed::memoized(|| simulate_on(cond, input, for_, (from, horizon, step)))
}

fn simulate_on(
    cond: &promql_parser::parser::Expr,
    input: &[feed::Series],
    for_: Duration,
    (from, horizon, step): (i64, i64, i64),
) -> Result<Option<(i64, feed::Labels, f64)>, String> {
    let mut since = None;
    for t in (0..=horizon).step_by(step as usize) {
        let samples = feed::eval(cond, input, t)?;
        match samples.as_slice() {
            [] => since = None,
            [(labels, v)] => {
                let start = *since.get_or_insert(t);
                if t >= from && t - start >= for_.as_secs() as i64 {
                    return Ok(Some((t, labels.clone(), *v)));
                }
            }
            _ => return Err("it yields several series on the synthesised input".to_owned()),
        }
    }
    Ok(None)
}

/// The labels of an alert from a sample: the sample's, then `extra` (a recording rule's), then
/// the rule's own, each winning over the one before.
fn with_labels(sample: &[(String, String)], extra: &[(String, String)]) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = extra.to_vec();
    for (k, v) in sample {
        if !all.iter().any(|(ak, _)| ak == k) {
            all.push((k.clone(), v.clone()));
        }
    }
    all
}

/// The input series until `until`, sampled every `sample` seconds.
fn feed_input(series: &[feed::Series], until: i64, sample: i64) -> Vec<Yaml> {
    let steps = (until / sample) as u64 + 1;
    series
        .iter()
        .map(|s| {
            Yaml::map()
                .with("series", self::series(&s.name, &s.labels))
                .with("values", s.values(steps, sample))
        })
        .collect()
}

/// A case that fires, and one that stays silent, for a condition on raw series.
fn feed_cases(
    a: &AlertRule,
    conds: Option<&Conds>,
    cond: &str,
    extra: &[(String, String)],
    fire: &[feed::Series],
    calm: &[feed::Series],
) -> Result<Vec<Case>, String> {
    let ast = crate::value::promql::parse(cond).map_err(|e| e.clone())?;
    let full = feed::longest_range(&ast).min(LONG);
    let horizon = full + a.for_.as_secs() as i64 + 600;
    let pace = self::pace(&ast, horizon);
    let step = pace.0;
    let horizon = (horizon + step - 1) / step * step;
    let Some((at, labels, value)) = simulate(&ast, fire, a.for_, (0, horizon, step))? else {
        return Err("the synthesised input does not make it fire".to_owned());
    };
    // Silent once every window it reads is full: before, a `rate` over a window longer than the
    // test so far sees less than the input's rate, as it would for a series just created.
    if simulate(&ast, calm, a.for_, (full, horizon, step))?.is_some() {
        return Err("the synthesised calm input makes it fire".to_owned());
    }
    let warm = simulate(&ast, calm, a.for_, (0, horizon, step))?.is_some();
    // Judged where the fire case fired and a while later; or, when it fires while its windows
    // fill, once they are full.
    let quiet = if warm {
        horizon
    } else {
        horizon.min((at + 600 + step - 1) / step * step)
    };
    let labels = with_labels(&labels, extra);
    let alerting = vec![
        Yaml::map()
            .with("exp_labels", expected_labels(a, &labels))
            .with("exp_annotations", expected_annotations(a, value)),
    ];
    let mut evals = Vec::new();
    if at >= step {
        evals.push((at - step, vec![]));
    }
    evals.push((at, alerting));
    let shown = |input: &[feed::Series]| shown(input);
    let mut cases = vec![
        raw_case(
            format!(
                "{}: fires after {} on {}",
                a.name,
                Duration::from_secs(at as u64),
                shown(fire)
            ),
            pace,
            conds,
            &a.name,
            fire.to_vec(),
            evals,
        ),
        raw_case(
            if warm {
                format!(
                    "{}: silent at {} on {} (it fires while its {} window fills)",
                    a.name,
                    Duration::from_secs(quiet as u64),
                    shown(calm),
                    Duration::from_secs(full as u64)
                )
            } else {
                format!(
                    "{}: silent for {} on {}",
                    a.name,
                    Duration::from_secs(quiet as u64),
                    shown(calm)
                )
            },
            pace,
            conds,
            &a.name,
            calm.to_vec(),
            vec![(quiet, vec![])],
        ),
    ];
    cases.extend(spike_case(a, conds, &ast, extra, fire, calm)?);
    Ok(cases)
}

/// A case that stays silent on the failures another alert reports instead (a health check's
/// `…Down` while the body is what fails): silent once every window it reads is full of them,
/// and a while after.
fn quiet_case(
    a: &AlertRule,
    conds: Option<&Conds>,
    cond: &str,
    input: &[feed::Series],
) -> Result<Case, String> {
    let ast = crate::value::promql::parse(cond).map_err(|e| e.clone())?;
    let full = feed::longest_range(&ast).min(LONG);
    let horizon = full + a.for_.as_secs() as i64 + 600;
    let pace = self::pace(&ast, horizon);
    let horizon = (horizon + pace.0 - 1) / pace.0 * pace.0;
    if simulate(&ast, input, a.for_, (0, horizon, pace.0))?.is_some() {
        return Err(format!(
            "it fires on {}, which must keep it silent",
            shown(input)
        ));
    }
    Ok(raw_case(
        format!(
            "{}: silent for {} on {}",
            a.name,
            Duration::from_secs(horizon as u64),
            shown(input)
        ),
        pace,
        conds,
        &a.name,
        input.to_vec(),
        [(full + pace.0 - 1) / pace.0 * pace.0, horizon]
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|at| (at, vec![]))
            .collect(),
    ))
}

/// For a threshold on an aggregate over a window (`over: {avg: 1h}`): the calm input with a
/// spike of the firing one, short beside the window but long enough for the value itself to
/// cross the threshold. An average over the window stays inside it; a peak fires. Which one
/// happens is evaluated, not assumed, and the comment says it.
fn spike_case(
    a: &AlertRule,
    conds: Option<&Conds>,
    ast: &promql_parser::parser::Expr,
    extra: &[(String, String)],
    fire: &[feed::Series],
    calm: &[feed::Series],
) -> Result<Option<Case>, String> {
    let Some((function, window, instant)) = feed::aggregated(ast) else {
        return Ok(None);
    };
    // Long enough for the indicator's own ranges (`rate(…[5m])`) to fill with the spike.
    let step = feed::subquery_steps(ast).unwrap_or(60);
    let up = |t: i64| (t + step - 1) / step * step;
    let inner = feed::longest_range(&instant);
    let length = up(inner + 120);
    // Beside an average, a spike is short when the window holds three of it.
    if function == "avg_over_time" && 3 * length > window {
        return Ok(None);
    }
    // After every window is full of the calm input (which may fire while they fill, as for a
    // series just created), and with the condition false when the spike starts.
    let start = up(window + inner + 600);
    let for_ = a.for_.as_secs() as i64;
    let horizon = up(start + length + window + for_ + 600);
    let Some(input) = feed::spiked(calm, fire, start, start + length) else {
        return Ok(None);
    };
    if !feed::eval(ast, &input, start)?.is_empty() {
        return Ok(None);
    }
    // The spike must take the value itself past the threshold, or it proves nothing.
    if simulate(&instant, &input, Duration::ZERO, (start, horizon, step))?.is_none() {
        return Ok(None);
    }
    let spike = format!(
        "{} for {} from {}",
        shown(fire),
        Duration::from_secs(length as u64),
        Duration::from_secs(start as u64)
    );
    let case = match simulate(ast, &input, a.for_, (start, horizon, step))? {
        None => raw_case(
            format!(
                "{}: silent for {} through a spike past its threshold ({spike}; otherwise {}): the {} {} stays inside it",
                a.name,
                Duration::from_secs(horizon as u64),
                shown(calm),
                Duration::from_secs(window as u64),
                match function {
                    "avg_over_time" => "average",
                    "max_over_time" => "maximum",
                    "min_over_time" => "minimum",
                    _ => "aggregate",
                }
            ),
            (step, 60),
            conds,
            &a.name,
            input,
            vec![(up(start + length + for_), vec![]), (horizon, vec![])],
        ),
        Some((at, labels, value)) => {
            let labels = with_labels(&labels, extra);
            let alerting = vec![
                Yaml::map()
                    .with("exp_labels", expected_labels(a, &labels))
                    .with("exp_annotations", expected_annotations(a, value)),
            ];
            raw_case(
                format!(
                    "{}: fires after {} on a spike past its threshold ({spike}; otherwise {})",
                    a.name,
                    Duration::from_secs(at as u64),
                    shown(calm)
                ),
                (step, 60),
                conds,
                &a.name,
                input,
                vec![(at - step, vec![]), (at, alerting)],
            )
        }
    };
    Ok(Some(case))
}

/// What an input is, in words, for a case's comment.
fn shown(input: &[feed::Series]) -> String {
    {
        if input.is_empty() {
            "no series at all".to_owned()
        } else if let Some((name, lower, upper)) = feed::ladder_bucket(input) {
            format!(
                "{name}, one request a second taking more than {}s and at most {}s",
                num(lower),
                num(upper)
            )
        } else {
            input
                .iter()
                .map(|s| match s.kind {
                    feed::Kind::Gauge(v) => format!("{} at {}", s.name, num(v)),
                    feed::Kind::Counter(r) => format!("{} growing {}/s", s.name, num(r)),
                    feed::Kind::Flap => format!("{} alternating 1 and 0", s.name),
                    feed::Kind::Spike {
                        counter,
                        calm,
                        burst,
                        ..
                    } => {
                        let per = if counter { "/s" } else { "" };
                        format!(
                            "{} {} {}{per}, {}{per} in a spike",
                            s.name,
                            if counter { "growing" } else { "at" },
                            num(calm),
                            num(burst)
                        )
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        }
    }
}

/// The test cases of one alert, or why there are none.
fn cases(a: &AlertRule, conds: Option<&Conds>) -> Result<Vec<Case>, String> {
    match &a.test {
        TestInput::Untested(why) => Err(why.clone()),
        TestInput::Feed {
            cond,
            extra,
            fire,
            quiet,
            calm,
        } => {
            let mut cases = feed_cases(a, conds, cond, extra, fire, calm)?;
            for input in quiet {
                cases.push(quiet_case(a, conds, cond, input)?);
            }
            Ok(cases)
        }
        TestInput::NoData {
            indicator,
            labels,
            calm,
        } => {
            // `absent` of the recorded series is `absent` of what the indicator yields.
            let ind = crate::value::promql::parse(indicator).map_err(|e| e.clone())?;
            let horizon =
                (feed::longest_range(&ind).min(LONG) + a.for_.as_secs() as i64 + 600) / 60 * 60;
            let mut since = None;
            for t in (0..=horizon).step_by(60) {
                if feed::eval(&ind, calm, t)?.is_empty() {
                    let start = *since.get_or_insert(t);
                    if t - start >= a.for_.as_secs() as i64 {
                        return Err("the input that gives the KPI a value leaves gaps".to_owned());
                    }
                } else {
                    since = None;
                }
            }
            let at = a.for_.as_secs() as i64;
            let quiet = at + 600;
            let alerting = vec![
                Yaml::map()
                    .with("exp_labels", expected_labels(a, labels))
                    .with("exp_annotations", expected_annotations(a, 1.0)),
            ];
            let mut evals = Vec::new();
            if at >= 60 {
                evals.push((at - 60, vec![]));
            }
            evals.push((at, alerting));
            Ok(vec![
                raw_case(
                    format!("{}: fires after {} without any series", a.name, a.for_),
                    (60, 60),
                    conds,
                    &a.name,
                    Vec::new(),
                    evals,
                ),
                raw_case(
                    format!(
                        "{}: silent for {} while the indicator has data",
                        a.name,
                        Duration::from_secs(quiet as u64)
                    ),
                    (60, 60),
                    conds,
                    &a.name,
                    calm.clone(),
                    vec![(quiet, vec![])],
                ),
            ])
        }
        TestInput::Slo(t) => slo::cases(a, t),
        TestInput::Dates(t) => dates_cases(a, t),
    }
}

/// The evaluation interval of the file that tests alerts at the dates a plan names: promtool
/// evaluates every rule from the Unix epoch, so a week apart (some 3,000 evaluations to 2027).
const DATES_EVERY: i64 = 7 * 86_400;

/// 2200-01-01, the last year a schedule may name, in Unix seconds.
const DATES_HORIZON: i64 = 7_258_118_400;

/// A case at real dates: `input` is a series per `(at, value)`, from `at` on.
fn dates_case(
    a: &AlertRule,
    comment: String,
    input: &[(&DatesTest, i64, f64)],
    at: i64,
    exp: Vec<Yaml>,
) -> Case {
    let series: Vec<feed::Series> = input
        .iter()
        .map(|(t, _, _)| feed::Series {
            name: "upkeep_task_last_success_timestamp_seconds".to_owned(),
            labels: t.labels.clone(),
            kind: feed::Kind::Gauge(0.0),
        })
        .collect();
    let yaml = input
        .iter()
        .map(|(t, when, value)| {
            Yaml::map()
                .with(
                    "series",
                    self::series("upkeep_task_last_success_timestamp_seconds", &t.labels),
                )
                // `_xN` is N missing samples: the sample lands at step N and stays to the year
                // 2200. A series that vanished would hand the alert from one of its rules to
                // the other at one step, which Prometheus records as two samples at once.
                .with("values", {
                    let n = when / DATES_EVERY;
                    format!("_x{n} {value}+0x{}", DATES_HORIZON / DATES_EVERY - n)
                })
        })
        .collect();
    // What the rule reads, so that only cases on other series share a group.
    let reads = crate::value::promql::parse(&a.expr).into_iter().collect();
    Case {
        every: DATES_EVERY,
        sample: DATES_EVERY,
        comments: vec![comment],
        input: Input::Written {
            yaml,
            series,
            reads,
        },
        until: at,
        evals: vec![eval(Duration::from_secs(at as u64), &a.name, exp)],
        // Which alert it is, for [`merge`].
        looks: vec![Look {
            at,
            alert: a.name.clone(),
            own: Vec::new(),
        }],
    }
}

/// The cases of a missed-run alert of work limited to dates, evaluated a week apart: the
/// success-age rule fires on a missed run between the first run and the end, and stays silent
/// after the end on a success at the last run; the absent rule stays silent before the first
/// run and after the end, and fires in between.
fn dates_cases(a: &AlertRule, t: &DatesTest) -> Result<Vec<Case>, String> {
    let step = DATES_EVERY;
    let ceil = |x: i64| (x + step - 1).div_euclid(step) * step;
    let floor = |x: i64| x.div_euclid(step) * step;
    let when = |x: i64| {
        chrono::DateTime::from_timestamp(x, 0).map_or_else(
            || x.to_string(),
            |d| d.format("%Y-%m-%d %H:%M UTC").to_string(),
        )
    };
    let mut out = Vec::new();
    let inside = |start: i64| -> Option<i64> {
        let at = match t.first {
            Some(f) => ceil(f.max(start)),
            None => ceil(start),
        };
        (at > 0 && t.end.is_none_or(|e| at < e)).then_some(at)
    };
    if t.absent {
        let for_ = a.for_.as_secs() as i64;
        if let Some(f) = t.first {
            let at = floor(f) - step;
            if at > for_ {
                out.push(dates_case(
                    a,
                    format!(
                        "{}: silent before the first run ({}), though no success was ever seen",
                        a.name,
                        when(f)
                    ),
                    &[],
                    at,
                    Vec::new(),
                ));
            }
            // Pending from the first evaluation at or after the first run.
            let fire = ceil(f) + ceil(for_);
            if t.end.is_none_or(|e| fire < e) {
                let labels = expected_labels(a, &t.labels);
                out.push(dates_case(
                    a,
                    format!(
                        "{}: fires {} after the first run when no success is seen",
                        a.name,
                        Duration::from_secs(for_ as u64)
                    ),
                    &[],
                    fire,
                    vec![
                        Yaml::map()
                            .with("exp_labels", labels)
                            .with("exp_annotations", expected_annotations(a, 1.0)),
                    ],
                ));
            }
        }
        if let Some(e) = t.end {
            out.push(dates_case(
                a,
                format!(
                    "{}: silent after the last run is no longer awaited ({})",
                    a.name,
                    when(e)
                ),
                &[],
                ceil(e) + step,
                Vec::new(),
            ));
        }
    } else {
        let start = t.end.map_or(step, |e| floor(e - 1) - step);
        let Some(at) = inside(if t.first.is_some() { 0 } else { start }) else {
            return Err("its dates are too short to evaluate a week apart".to_owned());
        };
        let age = t.limit + 3_600;
        let labels = expected_labels(a, &t.labels);
        out.push(dates_case(
            a,
            format!(
                "{}: fires at {} on a success {} old",
                a.name,
                when(at),
                Duration::from_secs(age as u64)
            ),
            &[(t, at, (at - age) as f64)],
            at,
            vec![
                Yaml::map()
                    .with("exp_labels", labels)
                    .with("exp_annotations", expected_annotations(a, age as f64)),
            ],
        ));
        if let Some(e) = t.end {
            let after = ceil(e) + step;
            let last = e - t.limit;
            out.push(dates_case(
                a,
                format!(
                    "{}: silent at {} on the success of the last run ({}), older than {}",
                    a.name,
                    when(after),
                    when(last),
                    Duration::from_secs(t.limit as u64)
                ),
                &[(t, after, last as f64)],
                after,
                Vec::new(),
            ));
        }
    }
    Ok(out)
}

/// The test files, by evaluation interval: `NAME.rules.test.yaml` every minute, and
/// `NAME.EVERY.rules.test.yaml` for the cases that watch longer (see [`EVERY`]).
pub(super) fn test_files(cx: &Context<'_>, rules: &Rules) -> Vec<(String, String)> {
    let conds = conditions(rules);
    let mut all: Vec<Case> = Vec::new();
    let mut untested: Vec<String> = Vec::new();
    for a in rules.alerts() {
        match cases(a, conds.get(&a.name).and_then(Option::as_ref)) {
            Ok(c) => all.extend(c),
            Err(why) => untested.push(format!("Not tested: {} ({why}).", a.name)),
        }
    }
    let mut by_every: Vec<(i64, Vec<Yaml>)> = EVERY
        .iter()
        .chain([&DATES_EVERY])
        .map(|e| (*e, Vec::new()))
        .collect();
    for c in merge(all, &conds) {
        if let Some((_, v)) = by_every.iter_mut().find(|(e, _)| *e == c.every) {
            v.push(c.yaml());
        }
    }
    let name = cx.name();
    let order: Vec<Yaml> = rules.group_names().into_iter().map(Yaml::str).collect();
    let mut files = Vec::new();
    for (every, tests) in by_every {
        let every = Duration::from_secs(every as u64);
        let (path, notes) = if every == Duration::from_mins(1) {
            (
                format!("{name}.rules.test.yaml"),
                std::mem::take(&mut untested),
            )
        } else if tests.is_empty() {
            continue;
        } else if every.as_secs() as i64 == DATES_EVERY {
            (
                format!("{name}.dates.rules.test.yaml"),
                vec![format!(
                    "The alerts of work limited to dates, at those dates: promtool starts at 1970-01-01, so evaluated every {every} (the other cases are in {name}.rules.test.yaml)."
                )],
            )
        } else {
            (
                format!("{name}.{every}.rules.test.yaml"),
                vec![format!(
                    "The alerts that watch for long, evaluated every {every} (the other cases are in {name}.rules.test.yaml)."
                )],
            )
        };
        let doc = Yaml::map()
            .with("rule_files", vec![Yaml::str(format!("{name}.rules.yaml"))])
            .with("evaluation_interval", every.to_string())
            // promtool evaluates the groups of a time step in random order unless told: an
            // SLO's `.long` group reads what its fast group recorded at the same step.
            .with("group_eval_order", order.clone())
            .with("tests", tests);
        let mut header = cx.header();
        header.push("Run with: promtool test rules this-file".to_owned());
        header.extend(notes);
        files.push((path, crate::emit::yaml::document(&header, &doc)));
    }
    files
}
