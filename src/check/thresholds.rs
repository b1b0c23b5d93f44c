//! KPI thresholds: units of one family, directions that agree, warning before critical, and the
//! warning on the right side of the objective.

use super::Cx;
use crate::diag::{Code, Diagnostic};
use crate::model::Kpi;
use crate::span::{Sp, Span};
use crate::value::{Comparator, Direction, Number, Threshold, Unit};

fn quantity_span(cx: &Cx<'_>, t: &Sp<Threshold>) -> Span {
    cx.within(
        t.span,
        None,
        t.value.quantity_range.0,
        t.value.quantity_range.1,
    )
}

fn op_span(cx: &Cx<'_>, t: &Sp<Threshold>) -> Span {
    if t.value.op_range.0 == t.value.op_range.1 {
        return quantity_span(cx, t);
    }
    cx.within(t.span, None, t.value.op_range.0, t.value.op_range.1)
}

/// "higher is worse" / "lower is worse", for messages.
fn worse(d: Direction) -> &'static str {
    match d {
        Direction::Above => "higher is worse",
        Direction::Below => "lower is worse",
    }
}

/// The threshold's value in the KPI's unit, written back in the user's words for messages.
fn value_in(unit: &Unit, t: &Threshold) -> Option<Number> {
    t.quantity.convert_to(unit)
}

pub(super) fn check(cx: &mut Cx<'_>) {
    for (name, kpi) in cx.plan.kpis.iter() {
        check_kpi(cx, &name.value, kpi);
    }
}

fn check_kpi(cx: &mut Cx<'_>, name: &str, kpi: &Kpi) {
    let unit = &kpi.unit.value;
    let thresholds: Vec<(&str, &Sp<Threshold>)> = [
        ("objective", &kpi.objective),
        ("warning", &kpi.warning),
        ("critical", &kpi.critical),
    ]
    .into_iter()
    .filter_map(|(f, t)| t.as_ref().map(|t| (f, t)))
    .collect();

    let mut units_ok = true;
    for (field, t) in &thresholds {
        let Some(u) = &t.value.quantity.unit else {
            continue;
        };
        if !u.family.compatible(&unit.family) {
            units_ok = false;
            let d = Diagnostic::new(Code::UnitMismatch, format!("`{}` is a {} but `kpis.{name}` measures {} (`{}`)", t.value.quantity, u.family.name(), unit.family.name(), unit.symbol))
                .at(quantity_span(cx, t))
                .label(format!("{field} in {}", u.symbol))
                .with_label(kpi.unit.span, format!("the KPI's unit is `{}`", unit.symbol))
                .help(format!("write the {field} in a unit of the same family as `{}`, or as a bare number in `{}`", unit.symbol, unit.symbol));
            cx.diags.push(d);
        }
    }

    // Which side is bad, according to warning and critical; the objective names the good side.
    let alert_dir = match (&kpi.warning, &kpi.critical) {
        (Some(w), Some(c)) => {
            let (wd, cd) = (w.value.direction(), c.value.direction());
            if wd != cd {
                cx.diags.push(
                    Diagnostic::new(Code::DirectionMismatch, format!("warning and critical of `kpis.{name}` watch opposite sides"))
                        .at(op_span(cx, c))
                        .label(format!("critical says {}", worse(cd.unwrap_or(Direction::Above))))
                        .with_label(op_span(cx, w), format!("warning says {}", worse(wd.unwrap_or(Direction::Above))))
                        .help("use the same comparator direction for both: `>`/`>=` when high values are bad, `<`/`<=` when low values are bad"),
                );
                return;
            }
            wd
        }
        (Some(t), None) | (None, Some(t)) => t.value.direction(),
        (None, None) => None,
    };
    if let (Some(obj), Some(dir)) = (&kpi.objective, alert_dir) {
        if let Some(od) = obj.value.direction() {
            if od == dir {
                let alert = kpi.warning.as_ref().or(kpi.critical.as_ref());
                let mut d = Diagnostic::new(
                    Code::DirectionMismatch,
                    format!("the objective of `kpis.{name}` and its alerts point the same way"),
                )
                .at(op_span(cx, obj))
                .label(format!(
                    "the objective says {} is good",
                    if od == Direction::Above {
                        "higher"
                    } else {
                        "lower"
                    }
                ));
                if let Some(a) = alert {
                    d = d.with_label(op_span(cx, a), format!("the alerts say {}", worse(dir)));
                }
                cx.diags.push(d.help(format!(
                    "the objective names the good side and the alerts the bad one: with alerts on `{}` the objective uses `{}`",
                    dir_symbol(dir),
                    dir_symbol(dir.opposite())
                )));
                return;
            }
        }
    }
    if !units_ok {
        return;
    }
    let Some(dir) = alert_dir else { return };

    if let (Some(w), Some(c)) = (&kpi.warning, &kpi.critical) {
        if let (Some(wv), Some(cv)) = (value_in(unit, &w.value), value_in(unit, &c.value)) {
            // The warning must fire strictly before the critical alert as the value worsens.
            let before = match dir {
                Direction::Above => {
                    wv < cv
                        || (wv == cv
                            && w.value.op == Some(Comparator::Ge)
                            && c.value.op == Some(Comparator::Gt))
                }
                Direction::Below => {
                    wv > cv
                        || (wv == cv
                            && w.value.op == Some(Comparator::Le)
                            && c.value.op == Some(Comparator::Lt))
                }
            };
            if !before {
                let (rel, need) = match dir {
                    Direction::Above => (
                        if wv == cv {
                            "at the same value as"
                        } else {
                            "above"
                        },
                        "lower",
                    ),
                    Direction::Below => (
                        if wv == cv {
                            "at the same value as"
                        } else {
                            "below"
                        },
                        "higher",
                    ),
                };
                cx.diags.push(
                    Diagnostic::new(Code::ThresholdOrder, format!("warning `{}` of `kpis.{name}` is {rel} critical `{}`", w.value, c.value))
                        .at(quantity_span(cx, w))
                        .label("the warning would fire after (or with) the critical alert")
                        .with_label(quantity_span(cx, c), "critical")
                        .help(format!("{} here, so the warning must be {need} than the critical threshold; swap them or fix the typo", worse(dir))),
                );
            }
        }
    }
    if let (Some(o), Some(w)) = (&kpi.objective, &kpi.warning) {
        if let (Some(ov), Some(wv)) = (value_in(unit, &o.value), value_in(unit, &w.value)) {
            let late = match dir {
                Direction::Above => wv > ov,
                Direction::Below => wv < ov,
            };
            if late {
                cx.diags.push(
                    Diagnostic::new(Code::ObjectiveBreached, format!("the objective `{}` of `kpis.{name}` is breached before the warning `{}` fires", o.value, w.value))
                        .at(quantity_span(cx, w))
                        .label("fires only after the objective is missed")
                        .with_label(quantity_span(cx, o), "objective")
                        .help(format!(
                            "values between {} and {} miss the objective with no alert; move the warning to the objective or before it, or allow `kpi/objective-breached-by-warning` for this plan with a comment",
                            o.value.quantity, w.value.quantity
                        )),
                );
            }
        }
    }
}

fn dir_symbol(d: Direction) -> &'static str {
    match d {
        Direction::Above => ">",
        Direction::Below => "<",
    }
}
