//! What an alert's `PromQL` means: a threshold on an indicator (`X > 90`, `X > 90 and Y`), with
//! the indicator recognised where the plan has a typed one (`up`, `histogram_quantile`), or a
//! condition that holds whenever the expression returns anything.
//!
//! **Invariant:** a lift never changes when the alert fires: the indicator and threshold
//! compare exactly what the original compares, or the expression is kept whole (`Presence`).

use promql_parser::label::MatchOp;
use promql_parser::parser::{self, Expr};

/// A comparator a plan threshold can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
        }
    }

    fn flipped(self) -> Op {
        match self {
            Op::Gt => Op::Lt,
            Op::Ge => Op::Le,
            Op::Lt => Op::Gt,
            Op::Le => Op::Ge,
        }
    }

    pub(crate) fn above(self) -> bool {
        matches!(self, Op::Gt | Op::Ge)
    }
}

/// The indicator of an imported KPI.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Indicator {
    /// `up{job="J"}`.
    Up {
        job: String,
    },
    /// `histogram_quantile(Q, sum by (le) (rate(H_bucket{SEL}[W])))` (an empty selector, read
    /// from upkeep's own rules, is the service's job).
    Latency {
        histogram: String,
        quantile: f64,
        window: String,
        selector: String,
    },
    /// `sum(rate(E[W])) / sum(rate(T[W]))`, as a ratio (`scale` 1) or a percentage (100).
    ErrorRatio {
        errors: String,
        total: String,
        window: String,
        scale: u8,
    },
    /// `sum(rate(C{SEL}[W]))`, times the seconds of `per` (`min`, `h`, `d`): upkeep's own
    /// `throughput` (an empty selector is the service's job).
    Throughput {
        counter: String,
        window: String,
        per: &'static str,
        selector: String,
    },
    /// upkeep's own `resource` indicator (`cpu`, `memory`, `disk`).
    Resource(&'static str),
    Expr(String),
}

/// What an alert expression became.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Lifted {
    /// The alert fires for each series of the indicator beyond the threshold.
    Threshold {
        indicator: Indicator,
        op: Op,
        value: f64,
    },
    /// The alert fires for each series the expression returns, whatever its value: the
    /// indicator is 1 for each of them (`!= bool NaN` holds for every value, `NaN` and `Inf`
    /// included), and `0` when there is none, so that "no data" is not an alert.
    Presence(String),
}

/// Lift an alert expression; `Err` with the parser's message when it is not `PromQL`.
pub(crate) fn lift(expr: &str) -> Result<Lifted, String> {
    let ast = crate::value::promql::parse(expr)?;
    Ok(threshold(&ast).unwrap_or_else(|| Lifted::Presence(presence(expr.trim()))))
}

/// The indicator expression of a presence condition.
pub(crate) fn presence(expr: &str) -> String {
    format!("({expr}) != bool NaN or vector(0)")
}

pub(crate) fn unparen(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => unparen(&p.expr),
        other => other,
    }
}

fn comparison(op: &str) -> Option<Op> {
    Some(match op {
        ">" => Op::Gt,
        ">=" => Op::Ge,
        "<" => Op::Lt,
        "<=" => Op::Le,
        _ => return None,
    })
}

/// `X op N`, `N op X`, `(X op N) and Y`, `(X op N) unless Y`, `up… == 0`.
fn threshold(e: &Expr) -> Option<Lifted> {
    let Expr::Binary(b) = unparen(e) else {
        return None;
    };
    let op = b.op.to_string();
    if b.modifier.as_ref().is_some_and(|m| m.return_bool) {
        return None;
    }
    if op == "and"
        && plain_matching(b.modifier.as_ref())
        && let Some(Lifted::Threshold {
            indicator: indicator @ Indicator::ErrorRatio { .. },
            op: cmp,
            value,
        }) = simple_threshold(&b.lhs)
        && guards_total(&indicator, &b.rhs)
    {
        return Some(Lifted::Threshold {
            indicator,
            op: cmp,
            value,
        });
    }
    if op == "and" || op == "unless" {
        // Filtering by another vector's labels commutes with a filter on the value.
        let Some(Lifted::Threshold {
            indicator: Indicator::Expr(x),
            op: cmp,
            value,
        }) = simple_threshold(&b.lhs)
        else {
            return None;
        };
        let modifier = b
            .modifier
            .as_ref()
            .and_then(|m| m.matching.as_ref())
            .map(|m| {
                let (word, labels) = match m {
                    parser::LabelModifier::Include(l) => ("on", l),
                    parser::LabelModifier::Exclude(l) => ("ignoring", l),
                };
                format!(" {word}({})", labels.labels.join(", "))
            })
            .unwrap_or_default();
        let text = format!("({x}) {op}{modifier} ({})", b.rhs);
        return checked(text).map(|t| Lifted::Threshold {
            indicator: Indicator::Expr(t),
            op: cmp,
            value,
        });
    }
    simple_threshold(e)
}

fn simple_threshold(e: &Expr) -> Option<Lifted> {
    let Expr::Binary(b) = unparen(e) else {
        return None;
    };
    if b.modifier.as_ref().is_some_and(|m| m.return_bool) {
        return None;
    }
    let op = b.op.to_string();
    let (x, value, cmp) = if let Some(v) = constant(&b.rhs) {
        (&*b.lhs, v, comparison(&op))
    } else if let Some(v) = constant(&b.lhs) {
        (&*b.rhs, v, comparison(&op).map(Op::flipped))
    } else {
        return None;
    };
    if constant(x).is_some() || !value.is_finite() {
        return None;
    }
    // `up == 0` is `up < 1`: `up` is 0 or 1.
    let cmp = match (cmp, op.as_str(), up_selector(x)) {
        (Some(c), _, _) => c,
        (None, "==", Some(_)) if value == 0.0 => Op::Lt,
        _ => return None,
    };
    let value = if op == "==" { 1.0 } else { value };
    let indicator = if let Some(job) = up_selector(x) {
        Indicator::Up { job }
    } else if let Some(l) = latency(x) {
        l
    } else if let Some(r) = error_ratio(x) {
        r
    } else {
        Indicator::Expr(checked(x.to_string())?)
    };
    Some(Lifted::Threshold {
        indicator,
        op: cmp,
        value,
    })
}

/// The text of an expression, if it reads back as `PromQL`.
fn checked(text: String) -> Option<String> {
    crate::value::promql::parse(&text).is_ok().then_some(text)
}

/// A number: a literal, or arithmetic on literals (`60 * 60 * 48`).
pub(crate) fn constant(e: &Expr) -> Option<f64> {
    match unparen(e) {
        Expr::NumberLiteral(n) => Some(n.val),
        Expr::Unary(u) => constant(&u.expr).map(|v| -v),
        Expr::Binary(b) => {
            let (l, r) = (constant(&b.lhs)?, constant(&b.rhs)?);
            match b.op.to_string().as_str() {
                "+" => Some(l + r),
                "-" => Some(l - r),
                "*" => Some(l * r),
                "/" => Some(l / r),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `up{job="J"}` (and nothing else): the job.
pub(crate) fn up_selector(e: &Expr) -> Option<String> {
    let Expr::VectorSelector(vs) = unparen(e) else {
        return None;
    };
    if vs.name.as_deref() != Some("up") || vs.offset.is_some() || vs.at.is_some() {
        return None;
    }
    let ms: Vec<_> = vs
        .matchers
        .matchers
        .iter()
        .filter(|m| m.name != "__name__")
        .collect();
    match ms.as_slice() {
        [m] if m.name == "job" && matches!(m.op, MatchOp::Equal) && !m.value.is_empty() => {
            Some(m.value.clone())
        }
        _ => None,
    }
}

/// The matchers of a selector but `__name__`, as text, in their order.
pub(crate) fn matchers(vs: &promql_parser::parser::VectorSelector) -> Vec<String> {
    vs.matchers
        .matchers
        .iter()
        .filter(|m| m.name != "__name__")
        .map(ToString::to_string)
        .collect()
}

/// A binary operation's modifier that changes nothing: no `on`/`ignoring`, no `bool`
/// (`and` carries its many-to-many cardinality).
fn plain_matching(m: Option<&parser::BinModifier>) -> bool {
    m.is_none_or(|m| {
        m.matching.is_none()
            && !m.return_bool
            && matches!(
                m.card,
                parser::VectorMatchCardinality::OneToOne
                    | parser::VectorMatchCardinality::ManyToMany
            )
    })
}

/// `sum(rate(SEL[W]))` without grouping: the selector and the window.
pub(crate) fn sum_rate(
    e: &Expr,
) -> Option<(&promql_parser::parser::VectorSelector, std::time::Duration)> {
    let Expr::Aggregate(a) = unparen(e) else {
        return None;
    };
    if a.op.to_string() != "sum" || a.modifier.is_some() || a.param.is_some() {
        return None;
    }
    rate_of(&a.expr)
}

/// `rate(SEL[W])` of a plain, named selector (no `offset`, `@` or `or` of matchers): the
/// selector and the window.
fn rate_of(e: &Expr) -> Option<(&promql_parser::parser::VectorSelector, std::time::Duration)> {
    let Expr::Call(c) = unparen(e) else {
        return None;
    };
    if c.func.name != "rate" || c.args.args.len() != 1 {
        return None;
    }
    let Expr::MatrixSelector(ms) = unparen(&c.args.args[0]) else {
        return None;
    };
    let vs = &ms.vs;
    let plain = vs.offset.is_none() && vs.at.is_none() && vs.matchers.or_matchers.is_empty();
    (plain && vs.name.is_some()).then_some((vs, ms.range))
}

/// A range as a plan window, which is whole seconds: `None` for `500ms` or `1500ms` (kept in
/// an `expr` indicator as written instead).
fn window(range: std::time::Duration) -> Option<String> {
    (range.subsec_nanos() == 0)
        .then(|| crate::value::duration::Duration::from_secs(range.as_secs()).to_string())
}

/// The first range or subquery step of `expr` finer than a second (`[500ms]`), which a plan
/// window cannot hold: why an indicator that would otherwise be typed stays `expr`.
pub(crate) fn sub_second_range(expr: &str) -> Option<String> {
    struct Finder(Option<std::time::Duration>);
    impl promql_parser::util::ExprVisitor for Finder {
        type Error = std::convert::Infallible;
        fn pre_visit(&mut self, e: &Expr) -> Result<bool, Self::Error> {
            let ranges = match e {
                Expr::MatrixSelector(m) => vec![m.range],
                Expr::Subquery(q) => [Some(q.range), q.step].into_iter().flatten().collect(),
                _ => Vec::new(),
            };
            self.0 = self
                .0
                .or(ranges.into_iter().find(|r| r.subsec_nanos() != 0));
            Ok(self.0.is_none())
        }
    }
    let ast = crate::value::promql::parse(expr).ok()?;
    let mut f = Finder(None);
    let _ = promql_parser::util::walk_expr(&mut f, &ast);
    f.0.map(|r| crate::value::duration::Duration::from_millis(r.as_millis() as u64).prometheus())
}

/// `sum(rate(E[W])) / sum(rate(T[W]))`, times 100 on either side or not: the plan's
/// `error_ratio` (whose expression is `100 * sum(rate(E[W])) / sum(rate(T[W]))`).
pub(crate) fn error_ratio(e: &Expr) -> Option<Indicator> {
    let Expr::Binary(b) = unparen(e) else {
        return None;
    };
    if !plain_matching(b.modifier.as_ref()) {
        return None;
    }
    let op = b.op.to_string();
    let (division, scale) = match op.as_str() {
        "*" if constant(&b.rhs) == Some(100.0) => (&*b.lhs, 100),
        "*" if constant(&b.lhs) == Some(100.0) => (&*b.rhs, 100),
        "/" => (e, 1),
        _ => return None,
    };
    let Expr::Binary(d) = unparen(division) else {
        return None;
    };
    if d.op.to_string() != "/" || !plain_matching(d.modifier.as_ref()) {
        return None;
    }
    // `100 * sum(…) / sum(…)` parses as `(100 * sum(…)) / sum(…)`.
    let (numerator, scale) = match unparen(&d.lhs) {
        Expr::Binary(m)
            if scale == 1
                && m.op.to_string() == "*"
                && plain_matching(m.modifier.as_ref())
                && constant(&m.lhs) == Some(100.0) =>
        {
            (&*m.rhs, 100)
        }
        _ => (&*d.lhs, scale),
    };
    let (errors, w1) = sum_rate(numerator)?;
    let (total, w2) = sum_rate(&d.rhs)?;
    if w1 != w2 {
        return None;
    }
    Some(Indicator::ErrorRatio {
        errors: errors.to_string(),
        total: total.to_string(),
        window: window(w1)?,
        scale,
    })
}

/// Whether `guard` is `sum(rate(T[W])) > 0` on the ratio's own total, with errors that are a
/// subset of the total (the same metric, every matcher of the total): where the guard fails
/// the total is 0, so are the errors, and the ratio is `NaN`, which no threshold passes.
fn guards_total(ratio: &Indicator, guard: &Expr) -> bool {
    let Indicator::ErrorRatio {
        errors,
        total,
        window,
        ..
    } = ratio
    else {
        return false;
    };
    let Expr::Binary(g) = unparen(guard) else {
        return false;
    };
    if g.op.to_string() != ">"
        || !plain_matching(g.modifier.as_ref())
        || constant(&g.rhs) != Some(0.0)
    {
        return false;
    }
    let Some((t, w)) = sum_rate(&g.lhs) else {
        return false;
    };
    let same_window = self::window(w).as_ref() == Some(window);
    let (Ok(Expr::VectorSelector(e)), Ok(Expr::VectorSelector(tt))) = (
        crate::value::promql::parse(errors),
        crate::value::promql::parse(total),
    ) else {
        return false;
    };
    same_window
        && t.to_string() == *total
        && e.name == tt.name
        && matchers(&tt).iter().all(|m| matchers(&e).contains(m))
}

/// `histogram_quantile(Q, sum by (le) (rate(H_bucket{SEL}[W])))` with a non-empty selector
/// (the plan's latency indicator adds the service's job when it has none).
pub(crate) fn latency(e: &Expr) -> Option<Indicator> {
    let Expr::Call(c) = unparen(e) else {
        return None;
    };
    if c.func.name != "histogram_quantile" || c.args.args.len() != 2 {
        return None;
    }
    let quantile = constant(&c.args.args[0])?;
    if !(0.0..=1.0).contains(&quantile) {
        return None;
    }
    let Expr::Aggregate(a) = unparen(&c.args.args[1]) else {
        return None;
    };
    let by_le =
        matches!(&a.modifier, Some(parser::LabelModifier::Include(l)) if l.labels == ["le"]);
    if a.op.to_string() != "sum" || !by_le || a.param.is_some() {
        return None;
    }
    let (vs, range) = rate_of(&a.expr)?;
    let histogram = vs.name.as_deref()?.strip_suffix("_bucket")?.to_owned();
    let sel = matchers(vs);
    if sel.is_empty() {
        return None;
    }
    Some(Indicator::Latency {
        histogram,
        quantile,
        window: window(range)?,
        selector: sel.join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(expr: &str) -> Lifted {
        lift(expr).unwrap()
    }

    #[test]
    fn thresholds_on_either_side_and_constants() {
        assert_eq!(
            t("time() - x > 60 * 60 * 48"),
            Lifted::Threshold {
                indicator: Indicator::Expr("time() - x".to_owned()),
                op: Op::Gt,
                value: 172_800.0
            }
        );
        assert!(
            matches!(t("5 > x"), Lifted::Threshold { op: Op::Lt, value, .. } if value.to_bits() == 5f64.to_bits())
        );
    }

    #[test]
    fn and_filters_commute_with_the_threshold() {
        let Lifted::Threshold { indicator, .. } = t("a / b * 100 > 90 and on(instance) b > 0")
        else {
            panic!()
        };
        assert_eq!(
            indicator,
            Indicator::Expr("(a / b * 100) and on(instance) (b > 0)".to_owned())
        );
    }

    #[test]
    fn up_and_latency_are_typed() {
        assert_eq!(
            t(r#"up{job="api"} == 0"#),
            Lifted::Threshold {
                indicator: Indicator::Up {
                    job: "api".to_owned()
                },
                op: Op::Lt,
                value: 1.0
            }
        );
        let Lifted::Threshold { indicator, .. } = t(
            r#"histogram_quantile(0.99, sum by (le) (rate(http_seconds_bucket{job="a"}[5m]))) > 0.5"#,
        ) else {
            panic!()
        };
        assert!(
            matches!(indicator, Indicator::Latency { quantile, .. } if quantile.to_bits() == 0.99f64.to_bits())
        );
    }

    #[test]
    fn errors_over_total_is_an_error_ratio() {
        let Lifted::Threshold {
            indicator, value, ..
        } = t(
            r#"sum(rate(http_total{code=~"5.."}[5m])) / sum(rate(http_total[5m])) * 100 > 5 and sum(rate(http_total[5m])) > 0"#,
        )
        else {
            panic!()
        };
        assert_eq!(
            indicator,
            Indicator::ErrorRatio {
                errors: r#"http_total{code=~"5.."}"#.to_owned(),
                total: "http_total".to_owned(),
                window: "5m".to_owned(),
                scale: 100
            }
        );
        assert_eq!(value.to_bits(), 5f64.to_bits());
        assert!(matches!(
            t("sum(rate(failed[1m])) / sum(rate(all[1m])) > 0.05"),
            Lifted::Threshold {
                indicator: Indicator::ErrorRatio { scale: 1, .. },
                ..
            }
        ));
        // Grouped sums, a guard on another metric than the errors' and unequal windows are
        // not the plan's error ratio.
        for e in [
            "sum by (x) (rate(a[1m])) / sum by (x) (rate(b[1m])) > 0.05",
            "sum(rate(failed[1m])) / sum(rate(all[1m])) > 0.05 and sum(rate(all[1m])) > 0",
            "sum(rate(a[1m])) / sum(rate(b[5m])) > 0.05",
        ] {
            assert!(
                !matches!(
                    t(e),
                    Lifted::Threshold {
                        indicator: Indicator::ErrorRatio { .. },
                        ..
                    }
                ),
                "{e}"
            );
        }
    }

    #[test]
    fn windows_finer_than_a_second_stay_in_the_expression() {
        for (e, range) in [
            (
                "sum(rate(failed[500ms])) / sum(rate(all[500ms])) > 0.05",
                "500ms",
            ),
            (
                r#"histogram_quantile(0.9, sum by (le) (rate(h_bucket{job="a"}[1500ms]))) > 1"#,
                "1s500ms",
            ),
        ] {
            let Lifted::Threshold {
                indicator: Indicator::Expr(x),
                ..
            } = t(e)
            else {
                panic!("{e}: {:?}", t(e));
            };
            assert_eq!(sub_second_range(&x).as_deref(), Some(range), "{x}");
        }
        assert_eq!(sub_second_range("rate(x[5m])"), None);
        assert_eq!(
            sub_second_range("max_over_time(rate(x[1m])[5m:250ms])").as_deref(),
            Some("250ms")
        );
    }

    #[test]
    fn anything_else_is_kept_whole() {
        assert_eq!(
            t("redis_up == 0"),
            Lifted::Presence("(redis_up == 0) != bool NaN or vector(0)".to_owned())
        );
        assert!(matches!(t("x > bool 1"), Lifted::Presence(_)));
        assert!(lift("x >").is_err());
    }
}
