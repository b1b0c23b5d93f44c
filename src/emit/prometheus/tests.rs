//! The promtool unit tests of a rules file: for every alert, input series just past its
//! threshold (it must fire, with exactly the expected labels and annotations, once `for` has
//! elapsed, and not before) and at or just inside it (it must not).

use super::{AlertRule, Rules, TestInput, VALUE, matchers, sli_record};
use crate::emit::Context;
use crate::emit::yaml::Yaml;
use crate::value::{Comparator, Duration};

/// A value just past `t` for `op` (and one at or just inside it).
fn past(op: Comparator, t: f64) -> (f64, f64) {
    let d = if t == 0.0 { 0.01 } else { t.abs() * 0.01 };
    match op {
        Comparator::Gt => (t + d, t),
        Comparator::Ge => (t, t - d),
        Comparator::Lt => (t - d, t),
        Comparator::Le => (t, t + d),
    }
}

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

fn input(name: &str, labels: &[(String, String)], value: f64, steps: u64) -> Yaml {
    Yaml::map()
        .with("series", series(name, labels))
        .with("values", format!("{}+0x{steps}", num(value)))
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

fn case(comment: String, inputs: Vec<Yaml>, evals: Vec<Yaml>) -> Yaml {
    Yaml::map()
        .with("interval", "1m")
        .with("input_series", inputs)
        .with("alert_rule_test", evals)
        .commented(vec![comment])
}

/// The test cases of one alert.
fn cases(a: &AlertRule) -> Vec<Yaml> {
    let minute = Duration::from_mins(1);
    let for_mins = a.for_.as_mins();
    let fire_at = a.for_.saturating_add(minute);
    let steps = for_mins + 2;
    let firing = |labels: &[(String, String)], value: f64| {
        vec![
            Yaml::map()
                .with("exp_labels", expected_labels(a, labels))
                .with("exp_annotations", expected_annotations(a, value)),
        ]
    };
    let pending = |evals: &mut Vec<Yaml>| {
        if for_mins >= 1 {
            evals.insert(0, eval(a.for_.saturating_sub(minute), &a.name, vec![]));
        }
    };
    match &a.test {
        TestInput::Untested(_) => Vec::new(),
        TestInput::Threshold {
            series: name,
            series_labels,
            alert_labels,
            op,
            threshold,
        } => {
            let (fire, calm) = past(*op, *threshold);
            let mut evals = vec![eval(fire_at, &a.name, firing(alert_labels, fire))];
            pending(&mut evals);
            vec![
                case(
                    format!(
                        "{}: fires at {} once `{} {}` has held for {}",
                        a.name,
                        num(fire),
                        op.symbol(),
                        num(*threshold),
                        a.for_
                    ),
                    vec![input(name, series_labels, fire, steps)],
                    evals,
                ),
                case(
                    format!("{}: silent at {}", a.name, num(calm)),
                    vec![input(name, series_labels, calm, steps)],
                    vec![eval(fire_at, &a.name, vec![])],
                ),
            ]
        }
        TestInput::Health {
            series: name,
            series_labels,
        } => {
            let mut evals = vec![eval(fire_at, &a.name, firing(series_labels, 0.0))];
            pending(&mut evals);
            vec![
                case(
                    format!("{}: fires when the check has failed for {}", a.name, a.for_),
                    vec![input(name, series_labels, 0.0, steps)],
                    evals,
                ),
                case(
                    format!("{}: silent while the check passes", a.name),
                    vec![input(name, series_labels, 1.0, steps)],
                    vec![eval(fire_at, &a.name, vec![])],
                ),
            ]
        }
        TestInput::Freshness {
            series_labels,
            limit,
        } => {
            // Timestamps before 0 put the last success `limit ± 1m` before the evaluation.
            let at = 300.0;
            let name = "upkeep_task_last_success_timestamp_seconds";
            let old = at - *limit as f64 - 60.0;
            let recent = at - *limit as f64 + 60.0;
            let five = Duration::from_mins(5);
            vec![
                case(
                    format!(
                        "{}: fires when the last success is older than {}",
                        a.name,
                        Duration::from_secs(*limit)
                    ),
                    vec![input(name, series_labels, old, 6)],
                    vec![eval(five, &a.name, firing(series_labels, at - old))],
                ),
                case(
                    format!("{}: silent while the last success is recent enough", a.name),
                    vec![input(name, series_labels, recent, 6)],
                    vec![eval(five, &a.name, vec![])],
                ),
            ]
        }
        TestInput::Burn { labels, windows } => {
            let mut out = Vec::new();
            for (i, (long, short, t)) in windows.iter().enumerate() {
                let hot = t * 1.01;
                let inputs = |short_value: f64| -> Vec<Yaml> {
                    let mut v = Vec::new();
                    for (j, (l, s, _)) in windows.iter().enumerate() {
                        let (lv, sv) = if i == j {
                            (hot, short_value)
                        } else {
                            (0.0, 0.0)
                        };
                        v.push(input(&sli_record(*l), labels, lv, 4));
                        v.push(input(&sli_record(*s), labels, sv, 4));
                    }
                    v
                };
                let two = Duration::from_mins(2);
                out.push(case(
                    format!(
                        "{}: fires when both {} and {} burn faster than {}",
                        a.name,
                        Duration::from_secs(*long),
                        Duration::from_secs(*short),
                        num(*t)
                    ),
                    inputs(hot),
                    vec![eval(two, &a.name, firing(labels, hot))],
                ));
                out.push(case(
                    format!(
                        "{}: silent when only the {} window burns (the {} one recovered)",
                        a.name,
                        Duration::from_secs(*long),
                        Duration::from_secs(*short)
                    ),
                    inputs(0.0),
                    vec![eval(two, &a.name, vec![])],
                ));
            }
            out
        }
    }
}

pub(super) fn test_file(cx: &Context<'_>, rules: &Rules) -> String {
    let tests: Vec<Yaml> = rules.alerts().flat_map(cases).collect();
    let untested: Vec<String> = rules
        .alerts()
        .filter_map(|a| match &a.test {
            TestInput::Untested(why) => Some(format!("Not tested: {} ({why}).", a.name)),
            _ => None,
        })
        .collect();
    let doc = Yaml::map()
        .with(
            "rule_files",
            vec![Yaml::str(format!("{}.rules.yaml", cx.name()))],
        )
        .with("evaluation_interval", "1m")
        .with("tests", tests);
    let mut header = cx.header();
    header.push("Run with: promtool test rules this-file".to_owned());
    header.extend(untested);
    crate::emit::yaml::document(&header, &doc)
}
