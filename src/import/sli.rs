//! What an SLO spec's SLI is in the plan: a typed `error_ratio` or `latency` indicator where the
//! queries say exactly what upkeep's would compute, or sloth's burn-rate conditions on the raw
//! queries where they do not (kept whole, as `expr` KPIs).
//!
//! **Invariant:** a typed indicator selects exactly the series the original's queries select:
//! `errors` and `total` are the selectors sloth or pyrra read through `sum(rate(…))`.

use promql_parser::label::{MatchOp, Matcher};
use promql_parser::parser::{Expr, VectorSelector};

use super::lift::unparen;
use super::slo::Sli;

/// A typed SLO indicator.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Typed {
    ErrorRatio {
        errors: String,
        total: String,
    },
    /// The share of requests slower than `threshold` seconds; `note` when upkeep's `le`
    /// matcher also accepts another spelling of the bound (`5` and `5.0`).
    Latency {
        histogram: String,
        threshold: String,
        selector: String,
        note: Option<String>,
    },
    /// The share of targets down (`up: {job?}`), read from a rule file's burn-rate alerts.
    Up {
        job: Option<String>,
    },
}

/// sloth's burn-rate pairs for a period of `days`: (budget percent, short, long) of page and
/// ticket, its defaults for 30 days; the factor is `percent / 100 * period / long`.
pub(crate) const SLOTH_PAGE: [(f64, &str, &str); 2] = [(2.0, "5m", "1h"), (5.0, "30m", "6h")];
pub(crate) const SLOTH_TICKET: [(f64, &str, &str); 2] = [(10.0, "2h", "1d"), (10.0, "6h", "3d")];

/// The query with sloth's window placeholder filled in.
pub(crate) fn at_window(query: &str, window: &str) -> String {
    query
        .replace("{{.window}}", window)
        .replace("{{ .window }}", window)
}

/// The SLI as a typed indicator, or why it cannot be one.
pub(crate) fn typed(sli: &Sli) -> Result<Typed, String> {
    match sli {
        Sli::Events { errors, total } => {
            let e = parse(&at_window(errors, "5m"))?;
            let t = parse(&at_window(total, "5m"))?;
            if let (Some(e), Some(t)) = (sum_rate(&e), sum_rate(&t)) {
                return Ok(Typed::ErrorRatio {
                    errors: e.to_string(),
                    total: t.to_string(),
                });
            }
            // `sum(rate(H_count{S}[w])) - sum(rate(H_bucket{S, le="T"}[w]))` over `H_count{S}`.
            if let (Expr::Binary(b), Some(t)) = (unparen(&e), sum_rate(&t))
                && b.op.to_string() == "-"
                && b.modifier.is_none()
                && let (Some(c), Some(bucket)) = (sum_rate(&b.lhs), sum_rate(&b.rhs))
                && same(c, t)
            {
                return latency(bucket, t);
            }
            Err("its queries are not `sum(rate(SELECTOR[{{.window}}]))` of errors and of all events, nor a histogram's slow share".to_owned())
        }
        Sli::Good { good, total } => {
            let g = parse(&at_window(good, "5m"))?;
            let t = parse(&at_window(total, "5m"))?;
            let (Some(g), Some(t)) = (sum_rate(&g), sum_rate(&t)) else {
                return Err("its queries are not `sum(rate(SELECTOR[…]))`".to_owned());
            };
            if g.name.as_deref().is_some_and(|n| n.ends_with("_bucket")) {
                return latency(g, t);
            }
            complement(g, t).map(|errors| Typed::ErrorRatio {
                errors,
                total: t.to_string(),
            })
        }
        Sli::Counters { errors, total } => match (selector(errors), selector(total)) {
            (Ok(e), Ok(t)) => Ok(Typed::ErrorRatio {
                errors: e.to_string(),
                total: t.to_string(),
            }),
            (Err(why), _) | (_, Err(why)) => Err(why),
        },
        Sli::Histogram { success, total } => latency(&selector(success)?, &selector(total)?),
        Sli::Raw(_) => Err(
            "its SLI is a raw error-ratio query; a plan's SLO counts errors and events".to_owned(),
        ),
        Sli::Unsupported(why) => Err(why.clone()),
    }
}

/// The error ratio of an SLI at a window, as `PromQL`, for a kept `expr` condition (`None` when
/// the SLI has no query that can be written as one).
pub(crate) fn ratio_at(sli: &Sli, window: &str) -> Option<String> {
    let text = match sli {
        Sli::Events { errors, total } => format!(
            "({}) / ({})",
            at_window(errors, window).trim(),
            at_window(total, window).trim()
        ),
        Sli::Good { good, total } => format!(
            "1 - ({}) / ({})",
            at_window(good, window).trim(),
            at_window(total, window).trim()
        ),
        Sli::Raw(q) => format!("({})", at_window(q, window).trim()),
        Sli::Counters { errors, total } => {
            format!("sum(rate({errors}[{window}])) / sum(rate({total}[{window}]))")
        }
        Sli::Histogram { success, total } => {
            format!("1 - sum(rate({success}[{window}])) / sum(rate({total}[{window}]))")
        }
        Sli::Unsupported(_) => return None,
    };
    crate::value::promql::parse(&text).is_ok().then_some(text)
}

/// sloth's page or ticket condition on the raw SLI queries: what its generated alert computes
/// from the series it records, with its factors for the period.
pub(crate) fn burn_condition(
    sli: &Sli,
    budget: f64,
    period_days: f64,
    page: bool,
) -> Option<String> {
    let pairs = if page { SLOTH_PAGE } else { SLOTH_TICKET };
    let mut parts = Vec::new();
    for (percent, short, long) in pairs {
        let long_days = crate::value::duration::Duration::parse(long, false)
            .ok()?
            .as_secs() as f64
            / 86_400.0;
        let factor = percent / 100.0 * period_days / long_days;
        let limit = factor * budget;
        parts.push(format!(
            "(\n  {} > {limit}\nand\n  {} > {limit}\n)",
            ratio_at(sli, short)?,
            ratio_at(sli, long)?
        ));
    }
    let text = parts.join("\nor\n");
    crate::value::promql::parse(&text).is_ok().then_some(text)
}

fn parse(q: &str) -> Result<Expr, String> {
    crate::value::promql::parse(q).map_err(|e| format!("its query is not PromQL ({})", e.trim()))
}

fn selector(s: &str) -> Result<VectorSelector, String> {
    match parse(s)? {
        Expr::VectorSelector(vs) if plain(&vs) => Ok(vs),
        _ => Err(format!("`{s}` is not a plain selector")),
    }
}

fn plain(vs: &VectorSelector) -> bool {
    vs.offset.is_none()
        && vs.at.is_none()
        && vs.matchers.or_matchers.is_empty()
        && vs.name.is_some()
}

/// `sum(rate(SEL[5m]))` (no grouping; sloth's window filled in with 5m): the selector.
fn sum_rate(e: &Expr) -> Option<&VectorSelector> {
    super::lift::sum_rate(e)
        .filter(|(_, range)| range.as_secs() == 300)
        .map(|(vs, _)| vs)
}

/// The matchers of a selector but `__name__`, as text, sorted.
fn matchers(vs: &VectorSelector) -> Vec<String> {
    let mut m = super::lift::matchers(vs);
    m.sort();
    m
}

fn same(a: &VectorSelector, b: &VectorSelector) -> bool {
    a.name == b.name && matchers(a) == matchers(b)
}

/// `H_bucket{S, le="T"}` over `H_count{S}`: the latency indicator.
fn latency(bucket: &VectorSelector, count: &VectorSelector) -> Result<Typed, String> {
    let why = || "its queries are not a histogram bucket over the histogram's count".to_owned();
    let h = bucket
        .name
        .as_deref()
        .and_then(|n| n.strip_suffix("_bucket"))
        .ok_or_else(why)?;
    if count.name.as_deref() != Some(&format!("{h}_count")) {
        return Err(why());
    }
    let le: Vec<&Matcher> = bucket
        .matchers
        .matchers
        .iter()
        .filter(|m| m.name == "le")
        .collect();
    let [le] = le.as_slice() else {
        return Err(why());
    };
    // A whole-second bound as upkeep, sloth and pyrra write it for both spellings of a bucket
    // (`le=~"1(\\.0)?"`): the same series as upkeep's own matcher for that bound.
    let (bound, both) = match &le.op {
        MatchOp::Equal => (le.value.as_str(), false),
        MatchOp::Re(_) => (whole_bound(&le.value).ok_or_else(why)?, true),
        _ => return Err(why()),
    };
    let rest: Vec<String> = matchers(bucket)
        .into_iter()
        .filter(|m| !m.starts_with("le="))
        .collect();
    if rest != matchers(count) {
        return Err("its bucket and count select different series".to_owned());
    }
    let t: f64 = bound.parse().map_err(|_| why())?;
    let number = crate::value::Number::parse(bound).ok_or_else(why)?;
    if !t.is_finite() || t <= 0.0 || rest.is_empty() {
        return Err(why());
    }
    let note = (!both && (number.to_string() != bound || number.is_integer())).then(|| {
        format!(
            "upkeep's bucket matcher for {number} also accepts the other spelling of the bound; the original reads only `le=\"{bound}\"`"
        )
    });
    Ok(Typed::Latency {
        histogram: h.to_owned(),
        threshold: number.to_string(),
        selector: rest.join(", "),
        note,
    })
}

/// The whole number `N` of a bucket regex that matches exactly `N` and `N.0`: `N(\.0)?`,
/// `N|N\.0` or `N\.0|N` (the regex itself, after the `PromQL` string's escapes). A leading
/// zero is refused: upkeep writes the bound without it, which is other series.
fn whole_bound(re: &str) -> Option<&str> {
    let digits = |n: &str| {
        !n.is_empty()
            && !n.starts_with('0')
            && n.len() <= 15
            && n.bytes().all(|b| b.is_ascii_digit())
    };
    if let Some(n) = re.strip_suffix("(\\.0)?")
        && digits(n)
    {
        return Some(n);
    }
    let (a, b) = re.split_once('|')?;
    [(a, b), (b, a)]
        .into_iter()
        .find(|(n, dotted)| digits(n) && dotted.strip_prefix(*n) == Some("\\.0"))
        .map(|(n, _)| n)
}

/// The errors of a good/total pair whose good selector is the total's with one more matcher:
/// the total's with that matcher negated (every event is good or an error, never both).
fn complement(good: &VectorSelector, total: &VectorSelector) -> Result<String, String> {
    let why =
        || "its good query is not the total's selector with one more label matcher".to_owned();
    if good.name != total.name {
        return Err(why());
    }
    let t = matchers(total);
    let extra: Vec<&Matcher> = good
        .matchers
        .matchers
        .iter()
        .filter(|m| m.name != "__name__" && !t.contains(&m.to_string()))
        .collect();
    let [m] = extra.as_slice() else {
        return Err(why());
    };
    if matchers(good).len() != t.len() + 1 {
        return Err(why());
    }
    let op = match m.op {
        MatchOp::Equal => "!=",
        MatchOp::NotEqual => "=",
        MatchOp::Re(_) => "!~",
        MatchOp::NotRe(_) => "=~",
    };
    let mut all = t;
    all.push(format!(
        "{}{op}{}",
        m.name,
        crate::value::promql::quote(&m.value)
    ));
    let text = format!(
        "{}{{{}}}",
        total.name.as_deref().unwrap_or_default(),
        all.join(", ")
    );
    crate::value::promql::parse(&text).map_err(|_| why())?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sloth_events_are_error_ratios_and_latencies() {
        let ev = Sli::Events {
            errors: r#"sum(rate(http_total{job="a",code=~"5.."}[{{.window}}]))"#.to_owned(),
            total: r#"sum(rate(http_total{job="a"}[{{.window}}]))"#.to_owned(),
        };
        assert_eq!(
            typed(&ev),
            Ok(Typed::ErrorRatio {
                errors: r#"http_total{code=~"5..",job="a"}"#.to_owned(),
                total: r#"http_total{job="a"}"#.to_owned()
            })
        );
        let lat = Sli::Events {
            errors: r#"(sum(rate(h_count{verb!="WATCH"}[{{.window}}])) - sum(rate(h_bucket{le="0.4",verb!="WATCH"}[{{.window}}])))"#.to_owned(),
            total: r#"sum(rate(h_count{verb!="WATCH"}[{{.window}}]))"#.to_owned(),
        };
        assert!(
            matches!(typed(&lat), Ok(Typed::Latency { threshold, note: None, .. }) if threshold == "0.4")
        );
        // A whole-second bound matched in both spellings is upkeep's own matcher: no note.
        let whole = |le: &str| Sli::Good {
            good: format!("sum(rate(h_bucket{{job=\"a\",le=~\"{le}\"}}[{{{{.window}}}}]))"),
            total: r#"sum(rate(h_count{job="a"}[{{.window}}]))"#.to_owned(),
        };
        for (le, bound) in [
            (r"1(\\.0)?", "1"),
            (r"1|1\\.0", "1"),
            (r"1\\.0|1", "1"),
            (r"12(\\.0)?", "12"),
        ] {
            let t = typed(&whole(le));
            assert!(
                matches!(&t, Ok(Typed::Latency { threshold, note: None, selector, .. })
                    if threshold == bound && selector == r#"job="a""#),
                "{le}: {t:?}"
            );
        }
        // Other regexes are other series: a leading zero, a fraction, another alternative.
        for le in [
            r"01(\\.0)?",
            r"0\\.5(0)?",
            r"1|2",
            r"1(\\.00)?",
            r"1.*",
            r"(\\.0)?",
        ] {
            assert!(typed(&whole(le)).is_err(), "{le}");
        }
        let good = Sli::Good {
            good: r#"sum(rate(r{job="a",code!~"5.."}[{{.window}}]))"#.to_owned(),
            total: r#"sum(rate(r{job="a"}[{{.window}}]))"#.to_owned(),
        };
        assert!(
            matches!(typed(&good), Ok(Typed::ErrorRatio { errors, .. }) if errors.contains(r#"code=~"5..""#))
        );
        assert!(typed(&Sli::Raw("x".to_owned())).is_err());
        // The negated matcher is written as PromQL reads it back: a backslash, a quote and
        // non-ASCII text (a combining accent, which Rust's `{:?}` would escape as `\u{301}`).
        let value = "C:\\tmp \"q\" ñ e\u{301}";
        let good = Sli::Good {
            good: format!(
                "sum(rate(r{{job=\"a\",path!={}}}[{{{{.window}}}}]))",
                crate::value::promql::quote(value)
            ),
            total: r#"sum(rate(r{job="a"}[{{.window}}]))"#.to_owned(),
        };
        let Ok(Typed::ErrorRatio { errors, .. }) = typed(&good) else {
            panic!("{:?}", typed(&good));
        };
        let Ok(Expr::VectorSelector(vs)) = crate::value::promql::parse(&errors) else {
            panic!("{errors}");
        };
        let path = vs.matchers.matchers.iter().find(|m| m.name == "path");
        assert!(
            path.is_some_and(|m| m.value == value && matches!(m.op, MatchOp::Equal)),
            "{errors}"
        );
        assert!(
            burn_condition(
                &Sli::Raw("1 - avg_over_time(s[{{.window}}])".to_owned()),
                0.001,
                30.0,
                true
            )
            .is_some()
        );
    }
}
