//! Money: `4000`, `4000 USD`, `$4,000`, `4,000.50 EUR`. The currency defaults to the budget's.

use std::fmt;

use super::{Number, Result, ValueError};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Money {
    pub amount: Number,
    /// ISO 4217 code when written (`$` is read as "the budget currency, which uses `$`").
    pub currency: Option<String>,
    pub dollar_sign: bool,
}

impl Money {
    pub fn parse(text: &str) -> Result<Money> {
        let help = "write an amount such as `4000`, `4,000.50`, `$4,000` or `4000 USD`";
        let t = text.trim();
        let lead = text.len() - text.trim_start().len();
        let (dollar, body, off) = match t.strip_prefix('$') {
            Some(b) => (
                true,
                b.trim_start(),
                lead + (t.len() - t.strip_prefix('$').map_or(0, str::len))
                    + (b.len() - b.trim_start().len()),
            ),
            None => (false, t, lead),
        };
        let (num, cur) = match body.rsplit_once(' ') {
            Some((n, c)) if c.chars().all(|ch| ch.is_ascii_alphabetic()) => (n.trim_end(), Some(c)),
            _ => (body, None),
        };
        if let Some(c) = cur {
            if c.len() != 3 || !c.chars().all(|ch| ch.is_ascii_uppercase()) {
                let s = off + body.len() - c.len();
                return Err(ValueError::new(
                    s,
                    s + c.len(),
                    format!("`{c}` is not an ISO 4217 currency code"),
                    "write a three-letter code such as `USD` or `EUR`",
                ));
            }
        }
        let plain = if num.contains(',') {
            let (int, frac) = num
                .split_once('.')
                .map_or((num, None), |(a, b)| (a, Some(b)));
            let groups: Vec<&str> = int.split(',').collect();
            if groups[0].is_empty()
                || groups[0].len() > 3
                || groups[1..].iter().any(|g| g.len() != 3)
            {
                return Err(ValueError::new(
                    off,
                    off + num.len(),
                    format!("malformed amount `{num}`"),
                    "commas must separate groups of three digits: `4,000`",
                ));
            }
            let mut s = groups.concat();
            if let Some(f) = frac {
                s.push('.');
                s.push_str(f);
            }
            s
        } else {
            num.to_owned()
        };
        let amount = Number::parse(&plain)
            .filter(|n| !plain.contains(['e', 'E']) && !n.is_negative())
            .ok_or_else(|| {
                ValueError::new(
                    off,
                    off + num.len().max(1),
                    format!("malformed amount `{num}`"),
                    help,
                )
            })?;
        Ok(Money {
            amount,
            currency: cur.map(str::to_owned),
            dollar_sign: dollar,
        })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", group(self.amount))?;
        if let Some(c) = &self.currency {
            write!(f, " {c}")?;
        }
        Ok(())
    }
}

/// `258000` → `258,000`; `1234.5` → `1,234.50`.
pub fn group(n: Number) -> String {
    let s = if n.is_integer() {
        n.to_string()
    } else {
        format!("{:.2}", n.to_f64())
    };
    let (int, frac) = s
        .split_once('.')
        .map_or((s.as_str(), None), |(a, b)| (a, Some(b)));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(Money::parse("4000").unwrap().amount, Number::int(4000));
        assert_eq!(Money::parse("$4,000").unwrap().amount, Number::int(4000));
        let m = Money::parse("4,000.50 EUR").unwrap();
        assert_eq!(m.currency.as_deref(), Some("EUR"));
        assert_eq!(m.amount.to_string(), "4000.5");
        let e = Money::parse("4000 usd").unwrap_err();
        assert_eq!((e.start, e.end), (5, 8));
        assert!(Money::parse("4,00").is_err());
        assert!(Money::parse("-5").is_err());
        assert!(Money::parse("abc").is_err());
        assert_eq!(group(Number::int(258_000)), "258,000");
    }
}
