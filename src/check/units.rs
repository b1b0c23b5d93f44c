//! The unit contract of `expr:` KPIs: thresholds are converted to the KPI's `unit` and compared
//! with the expression's value as it is. `%` means 0–100, `ratio` 0–1; Prometheus ratios are
//! 0–1. An expression that recognisably yields a ratio, under `unit: "%"`, is compared with 90
//! for `"> 90%"` and can never fire (or, for `<`, always fires).
//!
//! Recognised as 0–1, and nothing else: `up` and series named `*_ratio` (the Prometheus naming
//! convention), through `avg`/`min`/`max` and `avg|min|max_over_time`; `1 - R` for such an `R`;
//! and `A / B` where both sides count the same metric (through `sum`, `rate`, `increase`) and `A`
//! selects a subset of `B` (all of `B`'s matchers and more). An expression scaled by `100 *`
//! is none of these.

use promql_parser::parser::{Expr, VectorSelector};

use super::Cx;
use crate::diag::{Code, Diagnostic};
use crate::model::Indicator;
use crate::value::Family;

pub(super) fn check(cx: &mut Cx<'_>) {
    for (name, kpi) in cx.plan.kpis.iter() {
        let Indicator::Expr(expr) = &kpi.indicator.value else {
            continue;
        };
        let unit = &kpi.unit.value;
        if unit.family != Family::Ratio || unit.symbol != "%" {
            continue;
        }
        /// Remembered for the process (see [`crate::value::promql::remembered`]).
        static KNOWN: crate::par::Memo<String, bool> = crate::par::Memo::new(16_384);
        let ratio = crate::value::promql::remembered(&KNOWN, &expr.value, |ast| {
            ast.is_ok_and(|ast| unit_interval(&ast))
        });
        if !ratio {
            continue;
        }
        // Only thresholds beyond 1 (in `%`) are sure to be out of a ratio's reach.
        let Some(t) = [&kpi.critical, &kpi.warning, &kpi.objective]
            .into_iter()
            .flatten()
            .find(|t| {
                t.value
                    .quantity
                    .convert_to(unit)
                    .is_some_and(|v| v > crate::value::Number::ONE)
            })
        else {
            continue;
        };
        cx.diags.push(
            Diagnostic::new(
                Code::PercentOfRatio,
                format!(
                    "`kpis.{}` is in `%` (0–100) but its expression yields a ratio (0–1): `{}` is compared with {}",
                    name.value,
                    t.value,
                    t.value.quantity.convert_to(unit).map_or_else(String::new, |v| v.to_string())
                ),
            )
            .at(kpi.unit.span)
            .label("0–100")
            .with_label(expr.span, "yields 0–1")
            .with_label(t.span, "out of a ratio's reach")
            .help("write `ratio` (the unit of a 0–1 value; thresholds written in `%` are then compared as 0.9 for 90%), or multiply the expression by 100"),
        );
    }
}

/// Whether `e` recognisably yields a value in 0..=1 (see the module docs).
fn unit_interval(e: &Expr) -> bool {
    match e {
        Expr::Paren(p) => unit_interval(&p.expr),
        Expr::VectorSelector(v) => ratio_series(v),
        Expr::MatrixSelector(m) => ratio_series(&m.vs),
        Expr::Aggregate(a) => {
            matches!(a.op.to_string().as_str(), "avg" | "min" | "max") && unit_interval(&a.expr)
        }
        Expr::Call(c) => {
            matches!(
                c.func.name,
                "avg_over_time" | "min_over_time" | "max_over_time"
            ) && c.args.args.first().is_some_and(|a| unit_interval(a))
        }
        Expr::Binary(b) => match b.op.to_string().as_str() {
            "-" => {
                matches!(&*b.lhs, Expr::NumberLiteral(n) if (n.val - 1.0).abs() < f64::EPSILON)
                    && unit_interval(&b.rhs)
            }
            "/" => match (counted(&b.lhs), counted(&b.rhs)) {
                (Some(part), Some(whole)) => {
                    part.name.is_some()
                        && part.name == whole.name
                        && part.matchers.or_matchers.is_empty()
                        && whole.matchers.or_matchers.is_empty()
                        && part.matchers.matchers.len() > whole.matchers.matchers.len()
                        && whole
                            .matchers
                            .matchers
                            .iter()
                            .all(|m| part.matchers.matchers.contains(m))
                }
                _ => false,
            },
            _ => false,
        },
        _ => false,
    }
}

/// `up`, or a series named like a ratio.
fn ratio_series(v: &VectorSelector) -> bool {
    v.name
        .as_deref()
        .is_some_and(|n| n == "up" || n.ends_with("_ratio"))
}

/// The selector a sum of counter increases counts: `sum(rate(x{…}[5m]))`, `rate(x[5m])`, `x`.
fn counted(e: &Expr) -> Option<&VectorSelector> {
    match e {
        Expr::Paren(p) => counted(&p.expr),
        Expr::VectorSelector(v) => Some(v),
        Expr::MatrixSelector(m) => Some(&m.vs),
        Expr::Aggregate(a) if a.op.to_string() == "sum" => counted(&a.expr),
        Expr::Call(c) if matches!(c.func.name, "rate" | "increase" | "irate") => {
            c.args.args.first().and_then(|a| counted(a))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::unit_interval;

    fn ratio(e: &str) -> bool {
        unit_interval(&promql_parser::parser::parse(e).expect("valid PromQL"))
    }

    #[test]
    fn recognises_ratios() {
        for e in [
            "up",
            "avg(up{job=\"api\"})",
            "min by (instance) (up)",
            "avg_over_time(up{job=\"api\"}[30d])",
            "max(diabetes_model_accuracy_ratio)",
            "1 - avg(up)",
            "(sum(rate(x_total{code=~\"5..\"}[5m])) / sum(rate(x_total[5m])))",
            "sum(increase(x_total{job=\"a\", code=\"500\"}[1h])) / sum(increase(x_total{job=\"a\"}[1h]))",
        ] {
            assert!(ratio(e), "{e} yields 0–1");
        }
    }

    #[test]
    fn does_not_guess() {
        for e in [
            "100 * avg(up)",
            "sum(up)",
            "count(up == 0)",
            "100 * sum(rate(x_total{code=~\"5..\"}[5m])) / sum(rate(x_total[5m]))",
            "sum(rate(x_total[5m])) / sum(rate(x_total{code=~\"5..\"}[5m]))",
            "sum(rate(x_total{code=\"5\"}[5m])) / sum(rate(y_total[5m]))",
            "sum(rate(x_total{code=\"5\"}[5m])) / sum(rate(x_total{job=\"b\"}[5m]))",
            "node_filesystem_avail_bytes / node_filesystem_size_bytes",
            "2 - avg(up)",
            "rate(up[5m])",
        ] {
            assert!(!ratio(e), "{e} is not recognisably 0–1");
        }
    }
}
