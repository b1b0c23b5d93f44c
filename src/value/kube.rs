//! Kubernetes resource quantities: `500m`, `2`, `1.5`, `1Gi`, `512Mi`, `1e3`, `100k`.

use std::fmt;

use super::{Number, Result, ValueError};

/// A Kubernetes quantity: the text as written (emitted unchanged) and its value in base units
/// (cores or bytes).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KubeQuantity {
    pub text: String,
    pub value: Number,
}

const SUFFIXES: &[(&str, i128, i128)] = &[
    ("Ki", 1 << 10, 1),
    ("Mi", 1 << 20, 1),
    ("Gi", 1 << 30, 1),
    ("Ti", 1 << 40, 1),
    ("Pi", 1 << 50, 1),
    ("Ei", 1 << 60, 1),
    ("n", 1, 1_000_000_000),
    ("u", 1, 1_000_000),
    ("m", 1, 1000),
    ("k", 1000, 1),
    ("M", 1_000_000, 1),
    ("G", 1_000_000_000, 1),
    ("T", 1_000_000_000_000, 1),
    ("P", 1_000_000_000_000_000, 1),
    ("E", 1_000_000_000_000_000_000, 1),
];

impl KubeQuantity {
    pub fn parse(text: &str) -> Result<KubeQuantity> {
        let help = "write a Kubernetes quantity such as `500m`, `2`, `1Gi` or `512Mi`";
        let t = text;
        let digits_end = t
            .char_indices()
            .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && c == '+')))
            .map_or(t.len(), |(i, _)| i);
        let (num, suffix) = t.split_at(digits_end);
        if num.is_empty() {
            return Err(ValueError::whole(
                text,
                format!("`{text}` is not a Kubernetes quantity"),
                help,
            ));
        }
        let value = Number::parse(num).ok_or_else(|| {
            ValueError::new(0, digits_end, format!("malformed number `{num}`"), help)
        })?;
        let value = if suffix.is_empty() {
            value
        } else if let Some(&(_, mul, div)) = SUFFIXES.iter().find(|(s, _, _)| *s == suffix) {
            value
                .checked_mul(Number::new(mul, div).unwrap_or(Number::ONE))
                .ok_or_else(|| ValueError::whole(text, "quantity too large", help))?
        } else if let Some(exp) = suffix.strip_prefix(['e', 'E']) {
            Number::parse(&format!("{num}e{exp}")).ok_or_else(|| {
                ValueError::new(
                    digits_end,
                    t.len(),
                    format!("malformed exponent `{suffix}`"),
                    help,
                )
            })?
        } else {
            let hint = match suffix {
                "Gb" | "GB" | "gb" => "; Kubernetes writes `G` (10^9) or `Gi` (2^30)",
                "Mb" | "MB" | "mb" => "; Kubernetes writes `M` (10^6) or `Mi` (2^20)",
                "gi" | "mi" | "ki" => "; binary suffixes are capitalised: `Gi`, `Mi`, `Ki`",
                _ => "",
            };
            return Err(ValueError::new(
                digits_end,
                t.len(),
                format!("unknown quantity suffix `{suffix}`{hint}"),
                "suffixes: `m` (milli), `k` `M` `G` `T` (decimal), `Ki` `Mi` `Gi` `Ti` (binary)",
            ));
        };
        Ok(KubeQuantity {
            text: text.to_owned(),
            value,
        })
    }
}

impl fmt::Display for KubeQuantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(
            KubeQuantity::parse("500m").unwrap().value.to_string(),
            "0.5"
        );
        assert_eq!(KubeQuantity::parse("2000m").unwrap().value, Number::int(2));
        assert_eq!(
            KubeQuantity::parse("1Gi").unwrap().value,
            Number::int(1 << 30)
        );
        assert_eq!(KubeQuantity::parse("1.5").unwrap().value.to_string(), "1.5");
        assert_eq!(KubeQuantity::parse("1e3").unwrap().value, Number::int(1000));
        let e = KubeQuantity::parse("4GB").unwrap_err();
        assert_eq!((e.start, e.end), (1, 3));
        assert!(KubeQuantity::parse("Gi").is_err());
        assert!(KubeQuantity::parse("-1").is_err());
    }
}
