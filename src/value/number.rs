//! Exact decimal arithmetic: plan numbers are rationals, so `99.9%` is exactly `0.999` and a
//! `300ms` threshold on a seconds histogram renders as `0.3`, never `0.30000000000000004`.

use std::cmp::Ordering;
use std::fmt;

/// A rational number `num / den` with `den > 0`, in lowest terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Number {
    num: i128,
    den: i128,
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// Largest magnitude kept exactly; beyond it numbers are too large for a plan anyway.
const LIMIT: i128 = 10_i128.pow(36);

impl Number {
    pub const ZERO: Number = Number { num: 0, den: 1 };
    pub const ONE: Number = Number { num: 1, den: 1 };

    pub fn new(num: i128, den: i128) -> Option<Number> {
        if den == 0 {
            return None;
        }
        let g = gcd(num, den);
        let (mut num, mut den) = (num / g, den / g);
        if den < 0 {
            num = -num;
            den = -den;
        }
        (num.abs() <= LIMIT && den <= LIMIT).then_some(Number { num, den })
    }

    pub fn int(n: i64) -> Number {
        Number {
            num: i128::from(n),
            den: 1,
        }
    }

    /// Parse a decimal literal: `42`, `-1.5`, `0.05`, `1e3`, `2.5E-2`. No thousands separators.
    pub fn parse(s: &str) -> Option<Number> {
        let (mant, exp) = match s.find(['e', 'E']) {
            Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
            None => (s, 0),
        };
        let (neg, mant) = match mant.strip_prefix('-') {
            Some(m) => (true, m),
            None => (false, mant.strip_prefix('+').unwrap_or(mant)),
        };
        let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
        if int.is_empty() && frac.is_empty()
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || int.len() + frac.len() > 30
            || !(-30..=30).contains(&exp)
        {
            return None;
        }
        let digits: i128 = format!("{int}{frac}")
            .trim_start_matches('0')
            .parse()
            .unwrap_or(0);
        let scale = frac.len() as i32 - exp;
        let n = if scale >= 0 {
            Number::new(digits, 10_i128.pow(scale as u32))?
        } else {
            Number::new(digits.checked_mul(10_i128.pow((-scale) as u32))?, 1)?
        };
        Some(if neg { n.negated() } else { n })
    }

    pub fn from_f64(v: f64) -> Option<Number> {
        if !v.is_finite() {
            return None;
        }
        Number::parse(&format!("{v}"))
    }

    #[must_use]
    pub fn negated(self) -> Number {
        Number {
            num: -self.num,
            den: self.den,
        }
    }

    pub fn checked_mul(self, o: Number) -> Option<Number> {
        let g1 = gcd(self.num, o.den);
        let g2 = gcd(o.num, self.den);
        Number::new(
            (self.num / g1).checked_mul(o.num / g2)?,
            (self.den / g2).checked_mul(o.den / g1)?,
        )
    }

    pub fn checked_div(self, o: Number) -> Option<Number> {
        if o.num == 0 {
            return None;
        }
        self.checked_mul(
            Number {
                num: o.den,
                den: o.num,
            }
            .normalized()?,
        )
    }

    fn normalized(self) -> Option<Number> {
        Number::new(self.num, self.den)
    }

    pub fn checked_add(self, o: Number) -> Option<Number> {
        let g = gcd(self.den, o.den);
        let den = (self.den / g).checked_mul(o.den)?;
        let num = self
            .num
            .checked_mul(o.den / g)?
            .checked_add(o.num.checked_mul(self.den / g)?)?;
        Number::new(num, den)
    }

    pub fn checked_sub(self, o: Number) -> Option<Number> {
        self.checked_add(o.negated())
    }

    pub fn is_zero(self) -> bool {
        self.num == 0
    }

    pub fn is_negative(self) -> bool {
        self.num < 0
    }

    pub fn is_integer(self) -> bool {
        self.den == 1
    }

    pub fn to_f64(self) -> f64 {
        // Through the decimal text when exact, so 0.999 is the f64 nearest to 0.999.
        match self.exact_decimal() {
            Some(s) => s.parse().unwrap_or(f64::NAN),
            None => self.num as f64 / self.den as f64,
        }
    }

    pub fn to_i64(self) -> Option<i64> {
        self.is_integer()
            .then(|| i64::try_from(self.num).ok())
            .flatten()
    }

    /// The decimal expansion when it terminates (denominator of the form 2^a·5^b).
    fn exact_decimal(self) -> Option<String> {
        let mut den = self.den;
        let (mut twos, mut fives) = (0u32, 0u32);
        while den % 2 == 0 {
            den /= 2;
            twos += 1;
        }
        while den % 5 == 0 {
            den /= 5;
            fives += 1;
        }
        if den != 1 {
            return None;
        }
        let scale = twos.max(fives);
        let factor = 10_i128.checked_pow(scale)? / self.den;
        let scaled = self.num.checked_mul(factor)?;
        let neg = scaled < 0;
        let digits = scaled.unsigned_abs().to_string();
        let scale = scale as usize;
        let s = if scale == 0 {
            digits
        } else if digits.len() > scale {
            format!(
                "{}.{}",
                &digits[..digits.len() - scale],
                &digits[digits.len() - scale..]
            )
        } else {
            format!("0.{}{}", "0".repeat(scale - digits.len()), digits)
        };
        Some(if neg { format!("-{s}") } else { s })
    }
}

impl fmt::Display for Number {
    /// Canonical text: the exact decimal when it terminates, else the shortest `f64` text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.exact_decimal() {
            Some(s) => f.write_str(&s),
            None => write!(f, "{}", self.num as f64 / self.den as f64),
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        match (
            self.num.checked_mul(other.den),
            other.num.checked_mul(self.den),
        ) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => self.to_f64().total_cmp(&other.to_f64()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_canonical() {
        let p = Number::parse("99.9")
            .unwrap()
            .checked_div(Number::int(100))
            .unwrap();
        assert_eq!(p.to_string(), "0.999");
        let ms = Number::int(300).checked_div(Number::int(1000)).unwrap();
        assert_eq!(ms.to_string(), "0.3");
        assert_eq!(Number::parse("1e3").unwrap().to_string(), "1000");
        assert_eq!(Number::parse("2.50").unwrap().to_string(), "2.5");
        assert_eq!(Number::parse("-0.05").unwrap().to_string(), "-0.05");
        let third = Number::int(800).checked_div(Number::int(60)).unwrap();
        assert_eq!(third.to_string(), "13.333333333333334");
        assert!(Number::parse("1.2.3").is_none());
        assert!(Number::parse("").is_none());
        assert!(Number::parse("1e999").is_none());
        assert!(Number::parse(".").is_none());
    }

    #[test]
    fn ordering() {
        assert!(Number::parse("0.3").unwrap() > Number::parse("0.25").unwrap());
        assert!(Number::parse("-1").unwrap() < Number::ZERO);
    }
}
