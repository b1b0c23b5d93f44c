//! Quantities (`200ms`, `1000 req/min`, `80%`, `512MiB`, `1000`), percentages and thresholds
//! (`"> 300ms"`), with unit families and exact conversion between units of one family.

use std::fmt;

use super::{Number, Result, ValueError};

/// What a unit measures. Quantities of different families never compare.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// Base unit: the second.
    Time,
    /// Base unit: the ratio (1 = 100%).
    Ratio,
    /// Base unit: the byte.
    Bytes,
    /// Events per second; the noun (`req`, `msg`) says what is counted.
    Rate(String),
    /// A plain count; the noun is optional (`messages`, `connections`).
    Count(Option<String>),
}

impl Family {
    pub fn name(&self) -> String {
        match self {
            Family::Time => "time".to_owned(),
            Family::Ratio => "ratio".to_owned(),
            Family::Bytes => "bytes".to_owned(),
            Family::Rate(n) => format!("rate of {n}"),
            Family::Count(Some(n)) => format!("count of {n}"),
            Family::Count(None) => "count".to_owned(),
        }
    }

    /// Whether quantities of the two families can be compared and converted.
    pub fn compatible(&self, other: &Family) -> bool {
        match (self, other) {
            (Family::Count(a), Family::Count(b)) => a.is_none() || b.is_none() || a == b,
            (a, b) => a == b,
        }
    }
}

/// A unit: its family, the factor to the family's base unit, and its symbol.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Unit {
    pub family: Family,
    pub scale: Number,
    pub symbol: String,
}

fn n(num: i128, den: i128) -> Number {
    Number::new(num, den).unwrap_or(Number::ONE)
}

impl Unit {
    /// Parse a unit symbol: `ms`, `s`, `m`, `min`, `h`, `d`; `%`, `ratio`; `B`, `KB`…`PB`,
    /// `KiB`…`PiB`; `NOUN/s`, `NOUN/min`, `NOUN/h`, `NOUN/d`; `count` or another word (a count).
    pub fn parse(symbol: &str) -> Option<Unit> {
        let time = |scale| {
            Some(Unit {
                family: Family::Time,
                scale,
                symbol: symbol.to_owned(),
            })
        };
        let bytes = |scale| {
            Some(Unit {
                family: Family::Bytes,
                scale,
                symbol: symbol.to_owned(),
            })
        };
        match symbol {
            "ns" => time(n(1, 1_000_000_000)),
            "us" | "µs" => time(n(1, 1_000_000)),
            "ms" => time(n(1, 1000)),
            "s" => time(Number::ONE),
            "m" | "min" => time(Number::int(60)),
            "h" => time(Number::int(3600)),
            "d" => time(Number::int(86400)),
            "%" => Some(Unit {
                family: Family::Ratio,
                scale: n(1, 100),
                symbol: "%".to_owned(),
            }),
            "ratio" => Some(Unit {
                family: Family::Ratio,
                scale: Number::ONE,
                symbol: "ratio".to_owned(),
            }),
            "B" | "bytes" => bytes(Number::ONE),
            "KB" | "kB" => bytes(Number::int(1000)),
            "MB" => bytes(Number::int(1_000_000)),
            "GB" => bytes(Number::int(1_000_000_000)),
            "TB" => bytes(Number::int(1_000_000_000_000)),
            "PB" => bytes(Number::int(1_000_000_000_000_000)),
            "KiB" => bytes(Number::int(1 << 10)),
            "MiB" => bytes(Number::int(1 << 20)),
            "GiB" => bytes(Number::int(1 << 30)),
            "TiB" => bytes(Number::int(1 << 40)),
            "PiB" => bytes(Number::int(1 << 50)),
            "count" => Some(Unit {
                family: Family::Count(None),
                scale: Number::ONE,
                symbol: "count".to_owned(),
            }),
            // Spellings of real units that must not be read as a counted noun.
            "sec" | "secs" | "seconds" | "mins" | "minutes" | "hours" | "mb" | "gb" | "kb"
            | "rps" | "rpm" | "qps" | "percent" => None,
            _ => {
                if let Some((noun, per)) = symbol.split_once('/') {
                    let scale = match per {
                        "s" | "sec" => Number::ONE,
                        "min" | "m" => n(1, 60),
                        "h" => n(1, 3600),
                        "d" => n(1, 86_400),
                        _ => return None,
                    };
                    return is_noun(noun).then(|| Unit {
                        family: Family::Rate(noun.to_owned()),
                        scale,
                        symbol: symbol.to_owned(),
                    });
                }
                // A short word one letter away from a unit is a typo, not a noun (`mss`).
                let near_unit = symbol.len() <= 4
                    && [
                        "ms", "s", "min", "h", "B", "KB", "MB", "GB", "TB", "KiB", "MiB", "GiB",
                        "TiB", "count",
                    ]
                    .iter()
                    .any(|u| crate::diag::edit_distance(symbol, u) == 1);
                (is_noun(symbol) && !near_unit).then(|| Unit {
                    family: Family::Count(Some(symbol.to_owned())),
                    scale: Number::ONE,
                    symbol: symbol.to_owned(),
                })
            }
        }
    }

    /// Convert a value in this unit to `to` (same family).
    pub fn convert(&self, value: Number, to: &Unit) -> Option<Number> {
        value.checked_mul(self.scale)?.checked_div(to.scale)
    }
}

/// A counted noun: a lowercase word (`req`, `messages`) or a currency code (`USD`).
fn is_noun(s: &str) -> bool {
    let word =
        (2..=24).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    let currency = s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase());
    word || currency
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.symbol)
    }
}

/// A number with an optional unit. Without a unit, the number is in the unit of whatever it is
/// compared with (a KPI's unit).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Quantity {
    pub value: Number,
    pub unit: Option<Unit>,
}

impl Quantity {
    /// Parse `200ms`, `1.5 s`, `1000 req/min`, `80%`, `512MiB`, `1000`, `1,000 req/min`.
    pub fn parse(text: &str) -> Result<Quantity> {
        let help = "write a number and a unit, e.g. `200ms`, `99.5%`, `1000 req/min`, `512MiB`";
        let t = text.trim_end();
        let lead = text.len() - text.trim_start().len();
        let t = t.trim_start();
        if t.is_empty() {
            return Err(ValueError::whole(text, "empty quantity", help));
        }
        let num_end = t
            .char_indices()
            .find(|&(i, c)| {
                !(c.is_ascii_digit()
                    || c == '.'
                    || c == ','
                    || (i == 0 && (c == '-' || c == '+'))
                    || ((c == 'e' || c == 'E')
                        && t[i + 1..].starts_with(|d: char| d.is_ascii_digit() || d == '-')
                        && i > 0))
            })
            .map_or(t.len(), |(i, _)| i);
        let num_text = &t[..num_end];
        if num_text.is_empty() {
            return Err(ValueError::new(
                lead,
                lead + t.len(),
                format!("`{t}` does not start with a number"),
                help,
            ));
        }
        let plain = thousands(num_text).ok_or_else(|| {
            ValueError::new(
                lead,
                lead + num_end,
                format!("malformed number `{num_text}`"),
                "write digits with an optional decimal point, e.g. `1500` or `0.25`",
            )
        })?;
        let value = Number::parse(&plain).ok_or_else(|| {
            ValueError::new(
                lead,
                lead + num_end,
                format!("malformed number `{num_text}`"),
                "write digits with an optional decimal point, e.g. `1500` or `0.25`",
            )
        })?;
        let rest = &t[num_end..];
        let unit_text = rest.trim_start();
        let ustart = lead + num_end + (rest.len() - unit_text.len());
        if unit_text.is_empty() {
            return Ok(Quantity { value, unit: None });
        }
        let unit = Unit::parse(unit_text).ok_or_else(|| {
            let hint = match unit_text {
                "sec" | "secs" | "seconds" => " (write `s`)".to_owned(),
                "mb" | "Mb" => " (write `MB` or `MiB`)".to_owned(),
                "gb" | "Gb" => " (write `GB` or `GiB`)".to_owned(),
                "rps" => " (write `req/s`)".to_owned(),
                "rpm" => " (write `req/min`)".to_owned(),
                _ => String::new(),
            };
            ValueError::new(
                ustart,
                lead + t.len(),
                format!("unknown unit `{unit_text}`{hint}"),
                "units: `ms` `s` `m` `h` (time), `%` (percent), `B` `KB` `MB` `GB` `KiB` `MiB` `GiB` (bytes), `req/s` `req/min` (rates), or a word for a count",
            )
        })?;
        if unit.family == Family::Ratio
            && unit.symbol == "%"
            && (value > Number::int(100) || value.is_negative())
        {
            return Err(ValueError::new(
                lead,
                lead + t.len(),
                format!("`{t}` is outside 0%..100%"),
                "a percentage is between 0% and 100%",
            ));
        }
        Ok(Quantity {
            value,
            unit: Some(unit),
        })
    }

    /// The value expressed in `to` (a bare number is already in it).
    pub fn convert_to(&self, to: &Unit) -> Option<Number> {
        match &self.unit {
            None => Some(self.value),
            Some(u) if u.family.compatible(&to.family) => u.convert(self.value, to),
            Some(_) => None,
        }
    }

    /// The value in the family's base unit, for comparing two quantities.
    pub fn base(&self) -> Option<Number> {
        match &self.unit {
            None => Some(self.value),
            Some(u) => self.value.checked_mul(u.scale),
        }
    }
}

/// `1,000` → `1000`; commas must group thousands.
fn thousands(s: &str) -> Option<String> {
    if !s.contains(',') {
        return Some(s.to_owned());
    }
    let (int, frac) = s.split_once('.').map_or((s, None), |(a, b)| (a, Some(b)));
    let int_digits = int.trim_start_matches(['-', '+']);
    let groups: Vec<&str> = int_digits.split(',').collect();
    if groups[0].is_empty() || groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3) {
        return None;
    }
    let mut out = String::from(&int[..int.len() - int_digits.len()]);
    out.push_str(&groups.concat());
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    Some(out)
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.unit {
            None => write!(f, "{}", self.value),
            Some(u) if u.symbol.contains('/') || matches!(u.family, Family::Count(Some(_))) => {
                write!(f, "{} {}", self.value, u.symbol)
            }
            Some(u) => write!(f, "{}{}", self.value, u.symbol),
        }
    }
}

/// A percentage, stored as a ratio (`99.9%` is `0.999`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Percent(pub Number);

impl Percent {
    /// Parse `99.9%`; outside 0%..100% is an error.
    pub fn parse(text: &str) -> Result<Percent> {
        let t = text.trim();
        let Some(num) = t.strip_suffix('%') else {
            return Err(ValueError::whole(
                text,
                format!("`{text}` is not a percentage"),
                "write a number followed by `%`, e.g. `99.9%`",
            ));
        };
        let value = Number::parse(num.trim_end()).ok_or_else(|| {
            ValueError::new(
                0,
                num.len(),
                format!("malformed number `{num}`"),
                "write e.g. `99.9%`",
            )
        })?;
        if value.is_negative() || value > Number::int(100) {
            return Err(ValueError::whole(
                text,
                format!("`{t}` is outside 0%..100%"),
                "a percentage is between 0% and 100%",
            ));
        }
        Ok(Percent(
            value.checked_div(Number::int(100)).unwrap_or(Number::ZERO),
        ))
    }

    pub fn ratio(self) -> Number {
        self.0
    }

    pub fn points(self) -> Number {
        self.0.checked_mul(Number::int(100)).unwrap_or(Number::ZERO)
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.points())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Comparator {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparator {
    pub fn symbol(self) -> &'static str {
        match self {
            Comparator::Lt => "<",
            Comparator::Le => "<=",
            Comparator::Gt => ">",
            Comparator::Ge => ">=",
        }
    }

    /// Which way a value must move to satisfy the comparison.
    pub fn direction(self) -> Direction {
        match self {
            Comparator::Lt | Comparator::Le => Direction::Below,
            Comparator::Gt | Comparator::Ge => Direction::Above,
        }
    }
}

/// Which side of a threshold a comparison selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    Above,
    Below,
}

impl Direction {
    #[must_use]
    pub fn opposite(self) -> Direction {
        match self {
            Direction::Above => Direction::Below,
            Direction::Below => Direction::Above,
        }
    }
}

/// A comparator and a quantity: `"< 200ms"`, `">= 1000 req/min"`. The comparator may be absent
/// only where the plan allows a bare target (a KPI objective such as `99.9%`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Threshold {
    pub op: Option<Comparator>,
    pub quantity: Quantity,
    /// Byte range of the comparator and of the quantity within the text.
    pub op_range: (usize, usize),
    pub quantity_range: (usize, usize),
}

impl Threshold {
    pub fn parse(text: &str, require_op: bool) -> Result<Threshold> {
        let lead = text.len() - text.trim_start().len();
        let t = text.trim();
        let (op, len) = if t.starts_with("<=") || t.starts_with("=<") {
            (Some(Comparator::Le), 2)
        } else if t.starts_with(">=") || t.starts_with("=>") {
            (Some(Comparator::Ge), 2)
        } else if t.starts_with('<') {
            (Some(Comparator::Lt), 1)
        } else if t.starts_with('>') {
            (Some(Comparator::Gt), 1)
        } else if t.starts_with('≤') {
            (Some(Comparator::Le), '≤'.len_utf8())
        } else if t.starts_with('≥') {
            (Some(Comparator::Ge), '≥'.len_utf8())
        } else {
            (None, 0)
        };
        if t.starts_with("==") || t.starts_with("!=") || t.starts_with('=') && op.is_none() {
            return Err(ValueError::new(
                lead,
                lead + t.find(|c: char| c != '=' && c != '!').unwrap_or(1),
                "thresholds compare with `<`, `<=`, `>` or `>=`",
                "say which side is bad, e.g. `\"> 300ms\"` or `\"< 99.5%\"`",
            ));
        }
        if op.is_none() && require_op {
            return Err(ValueError::new(
                lead,
                lead + t.len(),
                format!("threshold `{t}` has no comparator"),
                format!("say which side triggers the alert: `\"> {t}\"` or `\"< {t}\"`"),
            ));
        }
        let rest = &t[len..];
        let qlead = lead + len + (rest.len() - rest.trim_start().len());
        let quantity = Quantity::parse(rest.trim_start()).map_err(|e| e.shift(qlead))?;
        Ok(Threshold {
            op,
            quantity,
            op_range: (lead, lead + len),
            quantity_range: (qlead, lead + t.len()),
        })
    }

    pub fn direction(&self) -> Option<Direction> {
        self.op.map(Comparator::direction)
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op {
            Some(op) => write!(f, "{} {}", op.symbol(), self.quantity),
            None => write!(f, "{}", self.quantity),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        let q = Quantity::parse("300ms").unwrap();
        let s = Unit::parse("s").unwrap();
        assert_eq!(q.convert_to(&s).unwrap().to_string(), "0.3");
        let q = Quantity::parse("1,000 req/min").unwrap();
        let rps = Unit::parse("req/s").unwrap();
        assert_eq!(
            q.convert_to(&rps).unwrap().to_string(),
            "16.666666666666668"
        );
        let q = Quantity::parse("20 req/s").unwrap();
        let rpm = Unit::parse("req/min").unwrap();
        assert_eq!(q.convert_to(&rpm).unwrap().to_string(), "1200");
        let q = Quantity::parse("512MiB").unwrap();
        assert_eq!(q.base().unwrap().to_string(), "536870912");
        let q = Quantity::parse("0.5%").unwrap();
        assert_eq!(
            q.convert_to(&Unit::parse("ratio").unwrap())
                .unwrap()
                .to_string(),
            "0.005"
        );
        assert!(Quantity::parse("80%").unwrap().convert_to(&s).is_none());
        assert_eq!(Quantity::parse("1000").unwrap().unit, None);
        assert_eq!(Quantity::parse("1000").unwrap().to_string(), "1000");
        assert_eq!(
            Quantity::parse("5 messages").unwrap().to_string(),
            "5 messages"
        );
    }

    #[test]
    fn quantity_errors() {
        let e = Quantity::parse("200 mss").unwrap_err();
        assert_eq!((e.start, e.end), (4, 7));
        assert!(Quantity::parse("150%").is_err());
        assert!(Quantity::parse("ms").is_err());
        assert!(Quantity::parse("1,00").is_err());
        assert!(Quantity::parse("").is_err());
        assert!(
            Quantity::parse("10 rps")
                .unwrap_err()
                .message
                .contains("req/s")
        );
    }

    #[test]
    fn thresholds() {
        let t = Threshold::parse("<= 800ms", true).unwrap();
        assert_eq!(t.op, Some(Comparator::Le));
        assert_eq!(t.quantity_range, (3, 8));
        assert_eq!(t.to_string(), "<= 800ms");
        let e = Threshold::parse("> 30 0ms", true).unwrap_err();
        assert_eq!(&"> 30 0ms"[e.start..e.end], "0ms");
        assert!(Threshold::parse("200ms", true).is_err());
        assert!(Threshold::parse("99.9%", false).is_ok());
        assert!(Threshold::parse("== 1", true).is_err());
        assert_eq!(
            Threshold::parse("≤ 800ms", true).unwrap().op,
            Some(Comparator::Le)
        );
    }

    #[test]
    fn percents() {
        assert_eq!(
            Percent::parse("99.9%").unwrap().ratio().to_string(),
            "0.999"
        );
        assert_eq!(Percent::parse("99.9%").unwrap().to_string(), "99.9%");
        assert!(Percent::parse("101%").is_err());
        assert!(Percent::parse("-1%").is_err());
        assert!(Percent::parse("99.9").is_err());
    }
}
