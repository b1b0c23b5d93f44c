//! Raw input series for the promtool tests, and what Prometheus computes from them.
//!
//! A test that feeds the recorded `kpi:*` series proves only the comparison; the indicator
//! expression — the part that reads exporter data — goes untried. So every test feeds the series
//! the expression selects (histogram buckets, counters, node and blackbox series), synthesised
//! from its selectors, and this module evaluates the expression on them as Prometheus 2.42 does
//! (range selection `[t - w, t]`, `rate` extrapolation, `histogram_quantile` interpolation,
//! vector matching) to know when the alert fires and with which value and labels. Expressions
//! this evaluator does not know are stated as untested in the test file, never guessed.

use promql_parser::label::{MatchOp, Matcher};
use promql_parser::parser::{self, Expr, LabelModifier, VectorMatchCardinality, VectorSelector};

/// Labels of a sample, sorted, without `__name__`.
pub(crate) type Labels = Vec<(String, String)>;

/// How a synthesised series evolves: a constant gauge, or a counter growing at a rate per second
/// from 0 at the start of the test.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Kind {
    Gauge(f64),
    Counter(f64),
    /// A probe that alternates every sample: 1 at even minutes, 0 at odd ones.
    Flap,
    /// A gauge at `calm` (or a counter growing at `calm` per second) that is at `burst` (grows
    /// at `burst`) from second `from` until second `until`: a spike.
    Spike {
        counter: bool,
        calm: f64,
        burst: f64,
        from: i64,
        until: i64,
    },
}

impl Kind {
    /// The value at second `t` (a sample time).
    fn at(self, t: i64) -> f64 {
        match self {
            Kind::Gauge(c) => c,
            // promtool expands `0+Nx…` as `i * N`.
            Kind::Counter(r) => (t / 60) as f64 * (r * 60.0),
            Kind::Flap => f64::from(u8::from((t / 60) % 2 == 0)),
            Kind::Spike {
                counter: false,
                calm,
                burst,
                from,
                until,
            } => {
                if (from..until).contains(&t) {
                    burst
                } else {
                    calm
                }
            }
            Kind::Spike {
                counter: true,
                calm,
                burst,
                from,
                until,
            } => {
                let (i, m1, m2) = (t / 60, from / 60, until / 60);
                60.0 * (calm * i.min(m1) as f64
                    + burst * (i.min(m2) - m1).max(0) as f64
                    + calm * (i - m2).max(0) as f64)
            }
        }
    }

    /// The same series running at `v` (a gauge's value, a counter's rate).
    fn steady(self, v: f64) -> Kind {
        match self {
            Kind::Gauge(_) | Kind::Flap | Kind::Spike { counter: false, .. } => Kind::Gauge(v),
            Kind::Counter(_) | Kind::Spike { counter: true, .. } => Kind::Counter(v),
        }
    }
}

/// The evaluation step of the subquery a test reads a recording over `window` through
/// (`avg_over_time((INDICATOR)[1h:5m])` for `avg_over_time(kpi:…[1h])`): the evaluation
/// interval of the test file its cases go in (see `tests::pace`). Every minute for a window
/// under an hour; every five minutes (twelve samples an hour or more) for longer ones, so that
/// their cases, which watch for hours, do not evaluate every rule of the file every minute.
pub(crate) fn subquery_step(window: crate::value::Duration) -> crate::value::Duration {
    if window < crate::value::Duration::from_hours(1) {
        crate::value::Duration::from_mins(1)
    } else {
        crate::value::Duration::from_mins(5)
    }
}

/// The most steps a subquery may take here (a day at one a minute).
const SUBQUERY_STEPS: i64 = 1441;

/// `calm` with a spike of `burst` from `from` until `until` (seconds), series by series; `None`
/// unless both are the same series, each a gauge or a counter.
pub(crate) fn spiked(
    calm: &[Series],
    burst: &[Series],
    from: i64,
    until: i64,
) -> Option<Vec<Series>> {
    if calm.len() != burst.len() {
        return None;
    }
    calm.iter()
        .zip(burst)
        .map(|(c, b)| {
            if c.name != b.name || c.labels != b.labels {
                return None;
            }
            let (counter, calm, burst) = match (c.kind, b.kind) {
                (Kind::Gauge(x), Kind::Gauge(y)) => (false, x, y),
                (Kind::Counter(x), Kind::Counter(y)) => (true, x, y),
                _ => return None,
            };
            let kind = if calm.to_bits() == burst.to_bits() {
                c.kind
            } else {
                Kind::Spike {
                    counter,
                    calm,
                    burst,
                    from,
                    until,
                }
            };
            Some(Series { kind, ..c.clone() })
        })
        .collect()
}

/// One input series of a test, sampled every minute from 0.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Series {
    pub name: String,
    pub labels: Labels,
    pub kind: Kind,
}

impl Series {
    /// promtool's expanding notation for `steps` samples `every` seconds apart.
    pub(crate) fn values(&self, steps: u64, every: i64) -> String {
        match self.kind {
            Kind::Gauge(c) => format!("{c}+0x{steps}"),
            Kind::Counter(r) => format!("0+{}x{steps}", r * every as f64),
            Kind::Flap => (0..=steps)
                .map(|i| if i % 2 == 0 { "1" } else { "0" })
                .collect::<Vec<_>>()
                .join(" "),
            // Every sample written out: what `at` computes, to the last bit.
            Kind::Spike { .. } => (0..=steps)
                .map(|i| format!("{}", self.kind.at(i as i64 * every)))
                .collect::<Vec<_>>()
                .join(" "),
        }
    }

    /// Whether the selector selects this series.
    pub(crate) fn matches(&self, vs: &VectorSelector) -> bool {
        vs.name.as_ref().is_none_or(|n| *n == self.name)
            && vs.matchers.matchers.iter().all(|m| {
                let v = if m.name == "__name__" {
                    self.name.as_str()
                } else {
                    self.labels
                        .iter()
                        .find(|(k, _)| *k == m.name)
                        .map_or("", |(_, v)| v.as_str())
                };
                m.is_match(v)
            })
    }
}

/// Why an expression cannot be evaluated here.
pub(crate) type Unsupported = String;

#[derive(Clone, Debug)]
enum Value {
    Scalar(f64),
    Vector(Vec<(Labels, f64)>),
}

/// The expression's samples at second `t` on `input`.
pub(crate) fn eval(e: &Expr, input: &[Series], t: i64) -> Result<Vec<(Labels, f64)>, Unsupported> {
    match eval_value(e, input, t)? {
        Value::Vector(v) => Ok(v),
        Value::Scalar(s) => Ok(vec![(Vec::new(), s)]),
    }
}

fn selected<'i>(vs: &VectorSelector, input: &'i [Series]) -> Result<Vec<&'i Series>, Unsupported> {
    if vs.offset.is_some() || vs.at.is_some() {
        return Err("it uses `offset` or `@`".to_owned());
    }
    if !vs.matchers.or_matchers.is_empty() {
        return Err("it uses `or` inside a selector".to_owned());
    }
    Ok(input.iter().filter(|s| s.matches(vs)).collect())
}

/// The samples of a series in `[t - range, t]`, one a minute from 0: known by their ends, so
/// that a 30-day window costs no more than a 5-minute one.
struct Window {
    kind: Kind,
    /// First and last sample time; no samples when `last < first`.
    first: i64,
    last: i64,
}

impl Window {
    fn new(s: &Series, t: i64, range: i64) -> Window {
        let from = (t - range).max(0);
        Window {
            kind: s.kind,
            first: (from + 59) / 60 * 60,
            last: t.div_euclid(60) * 60,
        }
    }

    fn len(&self) -> i64 {
        if self.last < self.first {
            0
        } else {
            (self.last - self.first) / 60 + 1
        }
    }

    fn sample(&self, ts: i64) -> (i64, f64) {
        (ts, self.kind.at(ts))
    }

    fn sum(&self) -> f64 {
        let n = self.len() as f64;
        match self.kind {
            Kind::Gauge(c) => n * c,
            // promtool's values are `i × 60r` for the sample at minute `i`.
            Kind::Counter(r) => r * 60.0 * ((self.first / 60 + self.last / 60) as f64 * n / 2.0),
            Kind::Flap | Kind::Spike { .. } => self.samples().sum(),
        }
    }

    /// Every sample's value, oldest first.
    fn samples(&self) -> impl Iterator<Item = f64> + '_ {
        (0..self.len()).map(|i| self.kind.at(self.first + 60 * i))
    }

    /// The largest (`max`) or smallest sample: one of the ends of a monotonic series.
    fn extreme(&self, max: bool) -> Option<f64> {
        let pick = |a: f64, b: f64| if max { a.max(b) } else { a.min(b) };
        match self.kind {
            Kind::Flap | Kind::Spike { .. } => self.samples().reduce(pick),
            _ => self.ends().map(|(a, b)| pick(a, b)),
        }
    }

    /// How many times the value changed between samples (`changes`).
    fn changes(&self) -> Option<f64> {
        let v: Vec<f64> = self.samples().collect();
        (!v.is_empty()).then(|| {
            v.windows(2)
                .filter(|w| w[0].to_bits() != w[1].to_bits())
                .count() as f64
        })
    }

    fn ends(&self) -> Option<(f64, f64)> {
        (self.len() > 0).then(|| (self.sample(self.first).1, self.sample(self.last).1))
    }
}

/// Prometheus 2.42 `extrapolatedRate` for a counter (`rate` when `per_second`, else `increase`).
fn extrapolated(w: &Window, t: i64, range: i64, per_second: bool) -> Option<f64> {
    let n = w.len();
    if n < 2 {
        return None;
    }
    let (t0, v0) = w.sample(w.first);
    let (t1, v1) = w.sample(w.last);
    let result = v1 - v0;
    let range_start = (t - range) as f64;
    let range_end = t as f64;
    let mut to_start = t0 as f64 - range_start;
    let to_end = range_end - t1 as f64;
    let sampled = (t1 - t0) as f64;
    let average = sampled / (n - 1) as f64;
    if result > 0.0 && v0 >= 0.0 {
        let to_zero = sampled * (v0 / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    let threshold = average * 1.1;
    let mut interval = sampled;
    interval += if to_start < threshold {
        to_start
    } else {
        average / 2.0
    };
    interval += if to_end < threshold {
        to_end
    } else {
        average / 2.0
    };
    let mut v = result * (interval / sampled);
    if per_second {
        v /= range as f64;
    }
    Some(v)
}

fn arg(c: &parser::Call, i: usize) -> Result<&Expr, Unsupported> {
    c.args
        .args
        .get(i)
        .map(AsRef::as_ref)
        .ok_or_else(|| format!("`{}` lacks an argument", c.func.name))
}

fn scalar(v: &Value) -> Result<f64, Unsupported> {
    match v {
        Value::Scalar(s) => Ok(*s),
        Value::Vector(_) => Err("a vector where a scalar is expected".to_owned()),
    }
}

fn vector(v: Value) -> Result<Vec<(Labels, f64)>, Unsupported> {
    match v {
        Value::Vector(v) => Ok(v),
        Value::Scalar(_) => Err("a scalar where a vector is expected".to_owned()),
    }
}

/// Memoised values of subquery expressions, by expression and time, while [`memoized`] runs.
type Memo = std::collections::HashMap<(usize, i64), Vec<(Labels, f64)>>;

thread_local! {
    static MEMO: std::cell::RefCell<Option<Memo>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` with the values of subquery expressions remembered: every evaluation in `f` must be
/// on the same input. A condition over a day of a subquery, evaluated every minute of a test,
/// then evaluates its inner expression once a minute rather than 1,440 times.
pub(crate) fn memoized<T>(f: impl FnOnce() -> T) -> T {
    let outer = MEMO.with(|m| m.borrow_mut().replace(Memo::new()));
    let out = f();
    MEMO.with(|m| *m.borrow_mut() = outer);
    out
}

/// `FUNCTION((EXPR)[RANGE:STEP])`: the inner expression at each step in `[t - range, t]`
/// (aligned to multiples of the step from 0, the test's start), aggregated series by series.
fn over_subquery(
    name: &str,
    sq: &parser::SubqueryExpr,
    input: &[Series],
    t: i64,
) -> Result<Value, Unsupported> {
    if sq.offset.is_some() || sq.at.is_some() {
        return Err("a subquery with `offset` or `@`".to_owned());
    }
    let step = sq.step.map_or(60, |s| s.as_secs() as i64).max(1);
    let range = sq.range.as_secs() as i64;
    if range / step >= SUBQUERY_STEPS {
        return Err(format!(
            "a subquery of more than {} steps",
            SUBQUERY_STEPS - 1
        ));
    }
    let from = (t - range).max(0);
    let mut ts = (from + step - 1).div_euclid(step) * step;
    let mut groups: Vec<(Labels, Vec<f64>)> = Vec::new();
    let key = std::ptr::from_ref::<Expr>(&sq.expr) as usize;
    while ts <= t {
        let known = MEMO.with(|m| m.borrow().as_ref().and_then(|m| m.get(&(key, ts)).cloned()));
        let samples = match known {
            Some(v) => v,
            None => {
                let v = vector(eval_value(&sq.expr, input, ts)?)?;
                MEMO.with(|m| {
                    if let Some(m) = m.borrow_mut().as_mut() {
                        m.insert((key, ts), v.clone());
                    }
                });
                v
            }
        };
        for (labels, v) in samples {
            match groups.iter_mut().find(|(l, _)| *l == labels) {
                Some((_, vs)) => vs.push(v),
                None => groups.push((labels, vec![v])),
            }
        }
        ts += step;
    }
    let f = |vs: &[f64]| -> Option<f64> {
        match name {
            "avg_over_time" => Some(vs.iter().sum::<f64>() / vs.len() as f64),
            "sum_over_time" => Some(vs.iter().sum()),
            "max_over_time" => vs.iter().copied().reduce(f64::max),
            "min_over_time" => vs.iter().copied().reduce(f64::min),
            "count_over_time" => Some(vs.len() as f64),
            _ => None,
        }
    };
    Ok(Value::Vector(
        groups
            .into_iter()
            .filter_map(|(l, vs)| Some((l, f(&vs)?)))
            .collect(),
    ))
}

fn call(c: &parser::Call, input: &[Series], t: i64) -> Result<Value, Unsupported> {
    let name = c.func.name;
    if let (
        "avg_over_time" | "sum_over_time" | "max_over_time" | "min_over_time" | "count_over_time",
        Some(Expr::Subquery(sq)),
    ) = (name, c.args.args.first().map(AsRef::as_ref))
    {
        return over_subquery(name, sq, input, t);
    }
    let range_fn = |f: &dyn Fn(&Window, i64) -> Option<f64>| -> Result<Value, Unsupported> {
        let Expr::MatrixSelector(ms) = arg(c, 0)? else {
            return Err(format!("`{name}` of a subquery"));
        };
        let range = ms.range.as_secs() as i64;
        let mut out = Vec::new();
        for s in selected(&ms.vs, input)? {
            if let Some(v) = f(&Window::new(s, t, range), range) {
                out.push((s.labels.clone(), v));
            }
        }
        Ok(Value::Vector(out))
    };
    match name {
        "rate" => range_fn(&|w, r| extrapolated(w, t, r, true)),
        "increase" => range_fn(&|w, r| extrapolated(w, t, r, false)),
        "irate" => range_fn(&|w, _| {
            (w.len() >= 2).then(|| {
                let (a, b) = (w.sample(w.last - 60), w.sample(w.last));
                (b.1 - a.1) / (b.0 - a.0) as f64
            })
        }),
        "avg_over_time" => range_fn(&|w, _| (w.len() > 0).then(|| w.sum() / w.len() as f64)),
        "sum_over_time" => range_fn(&|w, _| (w.len() > 0).then(|| w.sum())),
        "max_over_time" => range_fn(&|w, _| w.extreme(true)),
        "min_over_time" => range_fn(&|w, _| w.extreme(false)),
        "changes" => range_fn(&|w, _| w.changes()),
        "last_over_time" => range_fn(&|w, _| w.ends().map(|(_, b)| b)),
        "count_over_time" => range_fn(&|w, _| (w.len() > 0).then_some(w.len() as f64)),
        "absent_over_time" => {
            let v = vector(range_fn(&|w, _| w.ends().map(|(_, b)| b))?)?;
            let Expr::MatrixSelector(ms) = arg(c, 0)? else {
                return Err("`absent_over_time` of a subquery".to_owned());
            };
            Ok(Value::Vector(absent(v.is_empty(), &ms.vs)))
        }
        "absent" => {
            let Expr::VectorSelector(vs) = arg(c, 0)? else {
                return Err("`absent` of an expression".to_owned());
            };
            let v = vector(eval_value(arg(c, 0)?, input, t)?)?;
            Ok(Value::Vector(absent(v.is_empty(), vs)))
        }
        "time" => Ok(Value::Scalar(t as f64)),
        "vector" => Ok(Value::Vector(vec![(
            Vec::new(),
            scalar(&eval_value(arg(c, 0)?, input, t)?)?,
        )])),
        "scalar" => {
            let v = vector(eval_value(arg(c, 0)?, input, t)?)?;
            Ok(Value::Scalar(if v.len() == 1 { v[0].1 } else { f64::NAN }))
        }
        "abs" | "ceil" | "floor" => {
            let f = match name {
                "abs" => f64::abs,
                "ceil" => f64::ceil,
                _ => f64::floor,
            };
            let v = vector(eval_value(arg(c, 0)?, input, t)?)?;
            Ok(Value::Vector(
                v.into_iter().map(|(l, x)| (l, f(x))).collect(),
            ))
        }
        "clamp_min" | "clamp_max" => {
            let v = vector(eval_value(arg(c, 0)?, input, t)?)?;
            let b = scalar(&eval_value(arg(c, 1)?, input, t)?)?;
            Ok(Value::Vector(
                v.into_iter()
                    .map(|(l, x)| {
                        (
                            l,
                            if name == "clamp_min" {
                                x.max(b)
                            } else {
                                x.min(b)
                            },
                        )
                    })
                    .collect(),
            ))
        }
        "histogram_quantile" => {
            let q = scalar(&eval_value(arg(c, 0)?, input, t)?)?;
            let v = vector(eval_value(arg(c, 1)?, input, t)?)?;
            let mut groups: Vec<(Labels, Vec<(f64, f64)>)> = Vec::new();
            for (labels, x) in v {
                let Some(le) = labels.iter().find(|(k, _)| k == "le") else {
                    continue;
                };
                let upper = match le.1.as_str() {
                    "+Inf" => f64::INFINITY,
                    s => s.parse().map_err(|_| format!("le=\"{s}\""))?,
                };
                let rest: Labels = labels.iter().filter(|(k, _)| k != "le").cloned().collect();
                match groups.iter_mut().find(|(l, _)| *l == rest) {
                    Some((_, b)) => b.push((upper, x)),
                    None => groups.push((rest, vec![(upper, x)])),
                }
            }
            Ok(Value::Vector(
                groups
                    .into_iter()
                    .map(|(l, b)| (l, bucket_quantile(q, b)))
                    .collect(),
            ))
        }
        other => Err(format!("the function `{other}` is not evaluated here")),
    }
}

fn absent(empty: bool, vs: &VectorSelector) -> Vec<(Labels, f64)> {
    if !empty {
        return Vec::new();
    }
    let mut labels: Labels = vs
        .matchers
        .matchers
        .iter()
        .filter(|m| matches!(m.op, MatchOp::Equal) && m.name != "__name__")
        .map(|m| (m.name.clone(), m.value.clone()))
        .collect();
    labels.sort();
    labels.dedup_by(|a, b| a.0 == b.0);
    vec![(labels, 1.0)]
}

/// Prometheus `bucketQuantile`.
fn bucket_quantile(q: f64, mut buckets: Vec<(f64, f64)>) -> f64 {
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    if buckets.len() < 2 || buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
        return f64::NAN;
    }
    let observations = buckets[buckets.len() - 1].1;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    let b = buckets
        .iter()
        .position(|x| x.1 >= rank)
        .unwrap_or(buckets.len() - 1);
    if b == buckets.len() - 1 {
        return buckets[buckets.len() - 2].0;
    }
    if b == 0 && buckets[0].0 <= 0.0 {
        return buckets[0].0;
    }
    let (start, mut count) = (if b == 0 { 0.0 } else { buckets[b - 1].0 }, buckets[b].1);
    if b > 0 {
        count -= buckets[b - 1].1;
        rank -= buckets[b - 1].1;
    }
    let end = buckets[b].0;
    start + (end - start) * (rank / count)
}

/// The labels `by`/`on` keeps or `without`/`ignoring` leaves.
fn kept(labels: &Labels, modifier: &LabelModifier) -> Labels {
    let (names, keep) = match modifier {
        LabelModifier::Include(l) => (l, true),
        LabelModifier::Exclude(l) => (l, false),
    };
    labels
        .iter()
        .filter(|(k, _)| names.labels.contains(k) == keep)
        .cloned()
        .collect()
}

/// An aggregation's group: no labels without `by`/`without`.
fn group_key(labels: &Labels, modifier: Option<&LabelModifier>) -> Labels {
    modifier.map_or_else(Vec::new, |m| kept(labels, m))
}

fn aggregate(a: &parser::AggregateExpr, input: &[Series], t: i64) -> Result<Value, Unsupported> {
    let op = a.op.to_string();
    if a.param.is_some() {
        return Err(format!("the aggregation `{op}` with a parameter"));
    }
    let v = vector(eval_value(&a.expr, input, t)?)?;
    let mut groups: Vec<(Labels, Vec<f64>)> = Vec::new();
    for (labels, x) in v {
        let key = group_key(&labels, a.modifier.as_ref());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, xs)) => xs.push(x),
            None => groups.push((key, vec![x])),
        }
    }
    let f = |xs: &[f64]| -> Result<f64, Unsupported> {
        Ok(match op.as_str() {
            "sum" => xs.iter().sum(),
            "avg" => xs.iter().sum::<f64>() / xs.len() as f64,
            "max" => xs.iter().copied().reduce(f64::max).unwrap_or(f64::NAN),
            "min" => xs.iter().copied().reduce(f64::min).unwrap_or(f64::NAN),
            "count" => xs.len() as f64,
            other => return Err(format!("the aggregation `{other}`")),
        })
    };
    let mut out = Vec::new();
    for (k, xs) in groups {
        out.push((k, f(&xs)?));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Value::Vector(out))
}

#[expect(clippy::float_cmp, reason = "PromQL compares samples exactly")]
fn arith(op: &str, a: f64, b: f64) -> Result<Option<f64>, Unsupported> {
    Ok(Some(match op {
        "+" => a + b,
        "-" => a - b,
        "*" => a * b,
        "/" => a / b,
        "%" => a % b,
        "^" => a.powf(b),
        "==" => return Ok((a == b).then_some(a)),
        "!=" => return Ok((a != b).then_some(a)),
        ">" => return Ok((a > b).then_some(a)),
        "<" => return Ok((a < b).then_some(a)),
        ">=" => return Ok((a >= b).then_some(a)),
        "<=" => return Ok((a <= b).then_some(a)),
        other => return Err(format!("the operator `{other}`")),
    }))
}

fn is_comparison(op: &str) -> bool {
    matches!(op, "==" | "!=" | ">" | "<" | ">=" | "<=")
}

fn binary(b: &parser::BinaryExpr, input: &[Series], t: i64) -> Result<Value, Unsupported> {
    let op = b.op.to_string();
    let bool_ = b.modifier.as_ref().is_some_and(|m| m.return_bool);
    let lhs = eval_value(&b.lhs, input, t)?;
    let rhs = eval_value(&b.rhs, input, t)?;
    let apply = |x: f64, y: f64, keep: f64| -> Result<Option<f64>, Unsupported> {
        let r = arith(&op, x, y)?;
        Ok(if is_comparison(&op) {
            if bool_ {
                Some(if r.is_some() { 1.0 } else { 0.0 })
            } else {
                r.map(|_| keep)
            }
        } else {
            r
        })
    };
    let matching = b.modifier.as_ref().and_then(|m| m.matching.as_ref());
    let vector_left = matches!(lhs, Value::Vector(_));
    match (lhs, rhs) {
        (Value::Scalar(x), Value::Scalar(y)) => {
            Ok(Value::Scalar(apply(x, y, x)?.unwrap_or(f64::NAN)))
        }
        // A vector and a scalar, either side: each sample against the scalar, keeping the
        // sample's value when a comparison filters.
        (Value::Vector(v), Value::Scalar(s)) | (Value::Scalar(s), Value::Vector(v)) => {
            let mut out = Vec::new();
            for (l, x) in v {
                let (a, b) = if vector_left { (x, s) } else { (s, x) };
                if let Some(r) = apply(a, b, x)? {
                    out.push((l, r));
                }
            }
            Ok(Value::Vector(out))
        }
        (Value::Vector(l), Value::Vector(r)) => {
            // Vector matching: all labels without `on`/`ignoring`.
            let sig = |labels: &Labels| -> Labels {
                matching.map_or_else(|| labels.clone(), |m| kept(labels, m))
            };
            match op.as_str() {
                "and" => Ok(Value::Vector(
                    l.into_iter()
                        .filter(|(a, _)| r.iter().any(|(b, _)| sig(a) == sig(b)))
                        .collect(),
                )),
                "unless" => Ok(Value::Vector(
                    l.into_iter()
                        .filter(|(a, _)| !r.iter().any(|(b, _)| sig(a) == sig(b)))
                        .collect(),
                )),
                "or" => {
                    let mut out = l.clone();
                    out.extend(
                        r.into_iter()
                            .filter(|(b, _)| !l.iter().any(|(a, _)| sig(a) == sig(b))),
                    );
                    Ok(Value::Vector(out))
                }
                _ => {
                    let card = b.modifier.as_ref().map(|m| &m.card);
                    if !matches!(card, None | Some(VectorMatchCardinality::OneToOne)) {
                        return Err("`group_left`/`group_right` matching".to_owned());
                    }
                    let mut out = Vec::new();
                    for (a, x) in &l {
                        let partners: Vec<&(Labels, f64)> =
                            r.iter().filter(|(b, _)| sig(a) == sig(b)).collect();
                        if partners.len() > 1 {
                            return Err("many-to-many matching".to_owned());
                        }
                        let Some((_, y)) = partners.first() else {
                            continue;
                        };
                        // Prometheus `resultMetric`: one-to-one matching keeps the `on` labels
                        // (or drops the `ignoring` ones).
                        let labels = sig(a);
                        if let Some(v) = apply(*x, *y, *x)? {
                            out.push((labels, v));
                        }
                    }
                    Ok(Value::Vector(out))
                }
            }
        }
    }
}

fn eval_value(e: &Expr, input: &[Series], t: i64) -> Result<Value, Unsupported> {
    match e {
        Expr::NumberLiteral(n) => Ok(Value::Scalar(n.val)),
        Expr::Paren(p) => eval_value(&p.expr, input, t),
        Expr::Unary(u) => Ok(match eval_value(&u.expr, input, t)? {
            Value::Scalar(s) => Value::Scalar(-s),
            Value::Vector(v) => Value::Vector(v.into_iter().map(|(l, x)| (l, -x)).collect()),
        }),
        Expr::VectorSelector(vs) => {
            // Every series has a sample at every minute: the 5m lookback always finds one.
            Ok(Value::Vector(
                selected(vs, input)?
                    .into_iter()
                    .map(|s| {
                        let at = t / 60 * 60;
                        (s.labels.clone(), s.kind.at(at))
                    })
                    .collect(),
            ))
        }
        Expr::Call(c) => call(c, input, t),
        Expr::Aggregate(a) => aggregate(a, input, t),
        Expr::Binary(b) => binary(b, input, t),
        Expr::MatrixSelector(_) => Err("a range vector outside a function".to_owned()),
        Expr::Subquery(_) => Err("a subquery".to_owned()),
        Expr::StringLiteral(_) => Err("a string literal".to_owned()),
        Expr::Extension(_) => Err("an extension".to_owned()),
    }
}

/// Every selector of an expression, and whether it is read as a counter (under `rate`,
/// `increase` or `irate`).
pub(crate) fn selectors(e: &Expr) -> Vec<(&VectorSelector, bool)> {
    fn walk<'e>(e: &'e Expr, counter: bool, out: &mut Vec<(&'e VectorSelector, bool)>) {
        match e {
            Expr::VectorSelector(vs) => out.push((vs, counter)),
            Expr::MatrixSelector(ms) => out.push((&ms.vs, counter)),
            Expr::Paren(p) => walk(&p.expr, counter, out),
            Expr::Unary(u) => walk(&u.expr, counter, out),
            Expr::Aggregate(a) => walk(&a.expr, counter, out),
            Expr::Binary(b) => {
                walk(&b.lhs, counter, out);
                walk(&b.rhs, counter, out);
            }
            Expr::Call(c) => {
                let counter = counter || matches!(c.func.name, "rate" | "increase" | "irate");
                for a in &c.args.args {
                    walk(a, counter, out);
                }
            }
            Expr::Subquery(s) => walk(&s.expr, counter, out),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(e, false, &mut out);
    out
}

/// The longest range the expression reads, in seconds.
pub(crate) fn longest_range(e: &Expr) -> i64 {
    match e {
        Expr::MatrixSelector(ms) => ms.range.as_secs() as i64,
        Expr::Paren(p) => longest_range(&p.expr),
        Expr::Unary(u) => longest_range(&u.expr),
        Expr::Aggregate(a) => longest_range(&a.expr),
        Expr::Binary(b) => longest_range(&b.lhs).max(longest_range(&b.rhs)),
        Expr::Call(c) => c
            .args
            .args
            .iter()
            .map(|a| longest_range(a))
            .max()
            .unwrap_or(0),
        Expr::Subquery(s) => s.range.as_secs() as i64 + longest_range(&s.expr),
        _ => 0,
    }
}

/// A condition on an aggregate over a subquery (`avg_over_time((X)[1h:1m]) > 70`): the
/// function, the window in seconds, and the same condition on the instantaneous value
/// (`(X) > 70`).
pub(crate) fn aggregated(e: &Expr) -> Option<(&'static str, i64, Expr)> {
    let Expr::Binary(b) = e else {
        return None;
    };
    let Expr::Call(c) = b.lhs.as_ref() else {
        return None;
    };
    if !c.func.name.ends_with("_over_time") {
        return None;
    }
    let Some(Expr::Subquery(sq)) = c.args.args.first().map(AsRef::as_ref) else {
        return None;
    };
    let mut inst = b.clone();
    inst.lhs.clone_from(&sq.expr);
    Some((c.func.name, sq.range.as_secs() as i64, Expr::Binary(inst)))
}

/// The step of the subqueries the expression reads (the finest, in seconds), if any.
pub(crate) fn subquery_steps(e: &Expr) -> Option<i64> {
    match e {
        Expr::Subquery(s) => Some(s.step.map_or(60, |d| d.as_secs() as i64).max(1)),
        Expr::Paren(p) => subquery_steps(&p.expr),
        Expr::Unary(u) => subquery_steps(&u.expr),
        Expr::Aggregate(a) => subquery_steps(&a.expr),
        Expr::Binary(b) => match (subquery_steps(&b.lhs), subquery_steps(&b.rhs)) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        },
        Expr::Call(c) => c.args.args.iter().filter_map(|a| subquery_steps(a)).min(),
        _ => None,
    }
}

/// A value a matcher accepts: the first string its regular expression generates.
fn satisfying(m: &Matcher) -> Option<String> {
    let candidates: Vec<String> = match &m.op {
        MatchOp::Equal => vec![m.value.clone()],
        MatchOp::NotEqual | MatchOp::NotRe(_) => {
            vec![String::new(), "x".to_owned(), "0".to_owned()]
        }
        MatchOp::Re(_) => {
            let hir = regex_syntax::Parser::new().parse(&m.value).ok()?;
            vec![generate(&hir)?]
        }
    };
    candidates.into_iter().find(|c| m.is_match(c))
}

/// The shortest string matching a regular expression, choosing the first branch and the
/// lowest character of each class.
fn generate(h: &regex_syntax::hir::Hir) -> Option<String> {
    use regex_syntax::hir::{Class, HirKind};
    Some(match h.kind() {
        HirKind::Empty | HirKind::Look(_) => String::new(),
        HirKind::Literal(l) => String::from_utf8(l.0.to_vec()).ok()?,
        HirKind::Class(Class::Unicode(c)) => {
            // A printable choice: digits and letters before anything else.
            let inside = |x: char| c.ranges().iter().any(|r| r.start() <= x && x <= r.end());
            ['0', 'a', 'A', '_', '-', ' ']
                .into_iter()
                .find(|x| inside(*x))
                .or_else(|| {
                    c.ranges()
                        .iter()
                        .map(regex_syntax::hir::ClassUnicodeRange::start)
                        .find(|x| !x.is_control())
                })?
                .to_string()
        }
        HirKind::Class(Class::Bytes(c)) => (c.ranges().first()?.start() as char).to_string(),
        HirKind::Repetition(r) => generate(&r.sub)?.repeat(r.min as usize),
        HirKind::Capture(c) => generate(&c.sub)?,
        HirKind::Concat(hs) => hs.iter().map(generate).collect::<Option<String>>()?,
        HirKind::Alternation(hs) => generate(hs.first()?)?,
    })
}

/// One series per selector of the expression that satisfies it, as a counter when it is read
/// by `rate`, `increase` or `irate`.
pub(crate) fn synthesize(e: &Expr) -> Result<Vec<Series>, Unsupported> {
    let mut out: Vec<Series> = Vec::new();
    for (vs, counter) in selectors(e) {
        let name = match &vs.name {
            Some(n) => n.clone(),
            // `{__name__=~"a|b"}`: a name the matcher accepts.
            None => vs
                .matchers
                .matchers
                .iter()
                .find(|m| m.name == "__name__")
                .and_then(satisfying)
                .filter(|n| !n.is_empty())
                .ok_or("a selector without a metric name")?,
        };
        let mut labels = Vec::new();
        for m in vs.matchers.matchers.iter().filter(|m| m.name != "__name__") {
            let v = satisfying(m)
                .ok_or_else(|| format!("no label value found that satisfies `{m}` in `{name}`"))?;
            if !v.is_empty() {
                labels.push((m.name.clone(), v));
            }
        }
        labels.sort();
        labels.dedup_by(|a, b| a.0 == b.0);
        let kind = if counter {
            Kind::Counter(1.0)
        } else {
            Kind::Gauge(1.0)
        };
        // A histogram read without choosing a bucket: the whole ladder of buckets.
        let ladder = counter
            && name.ends_with("_bucket")
            && !vs.matchers.matchers.iter().any(|m| m.name == "le");
        let family: Vec<Labels> = if ladder {
            bounds(e)
                .iter()
                .map(f64::to_string)
                .chain(["+Inf".to_owned()])
                .map(|le| {
                    let mut l = labels.clone();
                    l.push(("le".to_owned(), le));
                    l.sort();
                    l
                })
                .collect()
        } else {
            vec![labels]
        };
        for labels in family {
            match out
                .iter_mut()
                .find(|s| s.name == name && s.labels == labels)
            {
                Some(s) => {
                    if counter {
                        s.kind = kind;
                    }
                }
                None => out.push(Series {
                    name: name.clone(),
                    labels,
                    kind,
                }),
            }
        }
        if !out.last().is_some_and(|s| s.matches(vs)) && !out.iter().any(|s| s.matches(vs)) {
            return Err(format!("no series found that `{vs}` selects"));
        }
    }
    Ok(out)
}

/// The input that drives the expression past `threshold` (`fire`) and the one that keeps it
/// inside (`calm`), found by varying the first series; each with the value the expression then
/// has at `t`.
pub(crate) struct Solved {
    pub fire: Vec<Series>,
    pub calm: Vec<Series>,
}

/// The buckets of a synthesised histogram (the client libraries' defaults, and longer ones).
const LADDER: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// The bucket bounds of a synthesised histogram: [`LADDER`], and each number of the expression
/// with bounds 1% either side of it, so that a latency just past a threshold (`> 0.25`) is
/// told from one just inside it as a real histogram with such buckets would.
fn bounds(e: &Expr) -> Vec<f64> {
    fn numbers(e: &Expr, out: &mut Vec<f64>) {
        match e {
            Expr::NumberLiteral(n) => out.push(n.val),
            Expr::Paren(p) => numbers(&p.expr, out),
            Expr::Unary(u) => numbers(&u.expr, out),
            Expr::Aggregate(a) => numbers(&a.expr, out),
            Expr::Binary(b) => {
                numbers(&b.lhs, out);
                numbers(&b.rhs, out);
            }
            Expr::Call(c) => c.args.args.iter().for_each(|a| numbers(a, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    numbers(e, &mut found);
    let mut out: Vec<f64> = LADDER.to_vec();
    for n in found.into_iter().filter(|n| n.is_finite() && *n > 0.0) {
        out.extend([round3(n * 0.99, false), n, round3(n * 1.01, true)]);
    }
    out.sort_by(f64::total_cmp);
    out.dedup();
    out
}

/// The bucket bound of a histogram ladder series.
fn ladder_le(s: &Series) -> Option<f64> {
    if !s.name.ends_with("_bucket") || !matches!(s.kind, Kind::Counter(_)) {
        return None;
    }
    let le = &s.labels.iter().find(|(k, _)| k == "le")?.1;
    if le == "+Inf" {
        Some(f64::INFINITY)
    } else {
        le.parse().ok()
    }
}

/// For an input holding a histogram's buckets: the histogram's name, and the bounds of the
/// bucket every request falls in.
pub(crate) fn ladder_bucket(input: &[Series]) -> Option<(&str, f64, f64)> {
    let mut les: Vec<(f64, bool, &str)> = input
        .iter()
        .filter_map(|s| Some((ladder_le(s)?, s.kind == Kind::Counter(1.0), s.name.as_str())))
        .collect();
    if les.len() < 2 {
        return None;
    }
    les.sort_by(|a, b| a.0.total_cmp(&b.0));
    let i = les.iter().position(|l| l.1)?;
    let lower = if i == 0 { 0.0 } else { les[i - 1].0 };
    Some((les[i].2, lower, les[i].0))
}

/// The input with its varied quantity set to `v`: the latency of every request when it holds a
/// histogram's buckets (one request a second, each taking `v` seconds), otherwise the value or
/// rate of its first series.
fn with(input: &[Series], v: f64) -> Vec<Series> {
    let mut out = input.to_vec();
    if out.iter().filter(|s| ladder_le(s).is_some()).count() > 1 {
        for s in &mut out {
            if let Some(le) = ladder_le(s) {
                s.kind = Kind::Counter(if v <= le { 1.0 } else { 0.0 });
            }
        }
        return out;
    }
    out[0].kind = out[0].kind.steady(v);
    out
}

/// The single value of the expression at `t`, if it has exactly one sample.
pub(crate) fn single(e: &Expr, input: &[Series], t: i64) -> Result<Option<f64>, Unsupported> {
    let v = eval(e, input, t)?;
    match v.as_slice() {
        [] => Ok(None),
        [(_, x)] => Ok(Some(*x)),
        _ => Err("it yields several series on the synthesised input".to_owned()),
    }
}

/// Round `v` to three significant digits, towards `+∞` when `up`.
fn round3(v: f64, up: bool) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let scale = 10f64.powi(2 - v.abs().log10().floor() as i32);
    let r = if up {
        (v * scale).ceil() / scale
    } else {
        (v * scale).floor() / scale
    };
    // Printed through `{}`: keep it short.
    format!("{r:.12}").parse().unwrap_or(r)
}

/// The input that drives the expression across the threshold (see [`Solved`]): the first
/// series varied, the others at 1 each, or else at 100, 10, 1… (so that a difference of two of
/// them, such as `max_connections - reserved_connections`, is not zero).
pub(crate) fn solve(
    e: &Expr,
    base: &[Series],
    t: i64,
    fires: &dyn Fn(f64) -> bool,
) -> Result<Solved, Unsupported> {
    let first = solve_from(e, base, t, fires);
    if first.is_ok() || base.len() < 2 {
        return first;
    }
    let mut spread = base.to_vec();
    for (i, s) in spread.iter_mut().enumerate().skip(1) {
        let v = 10f64.powi(3 - i.min(3) as i32);
        s.kind = s.kind.steady(v);
    }
    solve_from(e, &spread, t, fires)
        .or_else(|_| solve_from(e, &split(e, base).ok_or(())?, t, fires).map_err(|_| ()))
        .or(first)
}

/// The label that tells the two copies of [`split`] apart.
const SPLIT: &str = "upkeep_copy";

/// Every series twice, the copies told apart by [`SPLIT`] (unless a matcher reads that label):
/// an expression that filters series one against another (`calls and (seconds / calls > 1)`:
/// the share of slow statements) is all or nothing on one series each, and crosses a threshold
/// when one copy passes the filter and the other does not.
fn split(e: &Expr, base: &[Series]) -> Option<Vec<Series>> {
    if selectors(e)
        .iter()
        .any(|(vs, _)| vs.matchers.matchers.iter().any(|m| m.name == SPLIT))
    {
        return None;
    }
    let copy = |which: &'static str| {
        base.iter().map(move |s| {
            let mut labels = s.labels.clone();
            labels.push((SPLIT.to_owned(), which.to_owned()));
            labels.sort();
            Series {
                labels,
                ..s.clone()
            }
        })
    };
    Some(copy("a").chain(copy("b")).collect())
}

fn solve_from(
    e: &Expr,
    base: &[Series],
    t: i64,
    fires: &dyn Fn(f64) -> bool,
) -> Result<Solved, Unsupported> {
    let counter = matches!(base[0].kind, Kind::Counter(_));
    // An infinite value (a ratio over nothing) is no value to test with: Prometheus prints it
    // as `+Inf`, and no real input gives it.
    let f = |v: f64| -> Result<Option<bool>, Unsupported> {
        Ok(single(e, &with(base, v), t)?
            .filter(|x| x.is_finite())
            .map(fires))
    };
    // Candidates from 1e-6 to 1e12, both signs for gauges.
    let mut grid: Vec<f64> = (-6..=12).map(|k| 10f64.powi(k)).collect();
    for k in [2.0, 5.0] {
        grid.extend((-6..=11).map(|p| k * 10f64.powi(p)));
    }
    if !counter {
        let neg: Vec<f64> = grid.iter().map(|g| -g).collect();
        grid.extend(neg);
    }
    grid.push(0.0);
    grid.sort_by(f64::total_cmp);
    let mut states = Vec::new();
    for g in &grid {
        if let Some(s) = f(*g)? {
            states.push((*g, s));
        }
    }
    let Some(pair) = states.windows(2).find(|w| w[0].1 != w[1].1) else {
        return Err("no value of its input series crosses the threshold".to_owned());
    };
    let (mut lo, mut hi, lo_fires) = (pair[0].0, pair[1].0, pair[0].1);
    // To a billionth: the inputs are then moved 1% away and rounded to three digits.
    while (hi - lo).abs() > 1e-9 * lo.abs().max(hi.abs()).max(1e-9) {
        let mid = f64::midpoint(lo, hi);
        match f(mid)? {
            Some(s) if s == lo_fires => lo = mid,
            Some(_) => hi = mid,
            None => break,
        }
    }
    // `lo` and `hi` straddle the threshold; step 1% (at least) away on each side.
    let step = |x: f64, away_up: bool| {
        let d = (x.abs() * 0.01).max(1e-6);
        round3(if away_up { x + d } else { x - d }, away_up)
    };
    let (vf, vc) = if lo_fires {
        (step(lo, false), step(hi, true))
    } else {
        (step(hi, true), step(lo, false))
    };
    if counter && (vf < 0.0 || vc < 0.0) {
        return Err("the threshold needs a counter to decrease".to_owned());
    }
    if f(vf)? != Some(true) || f(vc)? != Some(false) {
        return Err("the threshold is not crossed monotonically by its input".to_owned());
    }
    Ok(Solved {
        fire: with(base, vf),
        calm: with(base, vc),
    })
}

#[cfg(test)]
mod unit {
    use super::*;

    fn p(s: &str) -> Expr {
        parser::parse(s).unwrap()
    }

    #[test]
    fn rate_of_a_linear_counter_is_its_slope_once_the_window_is_full() {
        let e = p("sum(rate(x_total{job=\"a\"}[5m]))");
        let input = synthesize(&e).unwrap();
        assert_eq!(input[0].kind, Kind::Counter(1.0));
        let v = single(&e, &with(&input, 2.5), 600).unwrap().unwrap();
        assert!((v - 2.5).abs() < 1e-9, "{v}");
        // At 2 minutes the range reaches before the first sample: less than the slope.
        let early = single(&e, &with(&input, 2.5), 120).unwrap().unwrap();
        assert!(early < 2.5, "{early}");
    }

    #[test]
    fn a_filtered_share_crosses_its_threshold_on_two_copies() {
        // The share of calls of slow statements: on one statement, 100% or nothing at all.
        let e = p(
            "100 * sum(rate(c_total{job=\"a\"}[5m]) and (rate(s_total{job=\"a\"}[5m]) / rate(c_total{job=\"a\"}[5m]) > 1)) / sum(rate(c_total{job=\"a\"}[5m]))",
        );
        let base = synthesize(&e).unwrap();
        assert!(solve_from(&e, &base, 600, &|v| v > 5.0).is_err());
        let solved = solve(&e, &base, 600, &|v| v > 5.0).unwrap();
        assert_eq!(solved.fire.len(), 4);
        assert!(
            solved
                .fire
                .iter()
                .all(|s| s.labels.iter().any(|(k, _)| k == SPLIT))
        );
    }

    #[test]
    fn error_ratios_select_the_errors_series_in_both_sums() {
        let e = p(
            "100 * sum(rate(h_total{job=\"a\",status=~\"5..\"}[5m])) / sum(rate(h_total{job=\"a\"}[5m]))",
        );
        let input = synthesize(&e).unwrap();
        assert_eq!(input.len(), 2, "{input:?}");
        assert_eq!(input[0].labels[1], ("status".to_owned(), "500".to_owned()));
        let s = solve(&e, &input, 900, &|v| v > 5.0).unwrap();
        let fire = single(&e, &s.fire, 900).unwrap().unwrap();
        let calm = single(&e, &s.calm, 900).unwrap().unwrap();
        assert!(fire > 5.0 && calm <= 5.0, "{fire} {calm}");
    }

    #[test]
    fn histogram_quantile_interpolates_like_prometheus() {
        let b = vec![(0.1, 0.0), (0.2, 10.0), (f64::INFINITY, 10.0)];
        assert!((bucket_quantile(0.5, b) - 0.15).abs() < 1e-12);
    }

    #[test]
    fn a_latency_quantile_is_driven_through_the_bucket_ladder() {
        let e = p("histogram_quantile(0.95, sum by (le) (rate(d_bucket{job=\"a\"}[5m])))");
        let input = synthesize(&e).unwrap();
        assert_eq!(input.len(), bounds(&e).len() + 1, "{input:?}");
        let s = solve(&e, &input, 600, &|v| v > 3.0).unwrap();
        let fire = single(&e, &s.fire, 600).unwrap().unwrap();
        let calm = single(&e, &s.calm, 600).unwrap().unwrap();
        assert!(fire > 3.0 && calm <= 3.0, "{fire} {calm}");
    }

    #[test]
    fn a_regex_metric_name_is_satisfied() {
        let e = p("rate({__name__=~\"n_(rx|tx)_total\",job=\"node\"}[5m])");
        let input = synthesize(&e).unwrap();
        assert_eq!(input[0].name, "n_rx_total");
    }

    #[test]
    fn or_on_vector_zero_yields_without_input() {
        let e = p("max(k{job=\"kafka\"}) or on() vector(0)");
        assert_eq!(eval(&e, &[], 60).unwrap(), vec![(Vec::new(), 0.0)]);
    }
}
