//! Go's number formatting, as Prometheus alert templates apply it (`humanize`,
//! `humanizeDuration`, `humanize1024`, `printf "%.2f"`), so the generated rule tests can state
//! the exact annotation an alert will carry.

/// Go's `%.{prec}g`: `prec` significant digits, exponent form when the exponent is below -4 or
/// at least `prec`, trailing zeros removed.
pub(crate) fn g(v: f64, prec: usize) -> String {
    if v == 0.0 {
        return "0".to_owned();
    }
    if v.is_nan() {
        return "NaN".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".to_owned()
        } else {
            "-Inf".to_owned()
        };
    }
    let prec = prec.max(1);
    // Rust rounds the exact binary value correctly, as Go does.
    let e = format!("{:.*e}", prec - 1, v);
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let mant = trim_zeros(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    let decimals = (prec as i32 - 1 - exp).max(0) as usize;
    trim_zeros(&format!("{v:.decimals$}"))
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s.to_owned()
    }
}

/// Prometheus `humanize`: SI prefixes, 4 significant digits.
pub(crate) fn humanize(mut v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return g(v, 4);
    }
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", g(v, 4))
}

/// Prometheus `humanize1024`: binary prefixes.
pub(crate) fn humanize1024(mut v: f64) -> String {
    if v.abs() <= 1.0 || !v.is_finite() {
        return g(v, 4);
    }
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    format!("{}{prefix}", g(v, 4))
}

/// Prometheus `humanizeDuration` of seconds.
pub(crate) fn humanize_duration(v: f64) -> String {
    if !v.is_finite() {
        return g(v, 4);
    }
    if v == 0.0 {
        return format!("{}s", g(v, 4));
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        let a = v.abs();
        let whole = a as i64;
        let (seconds, minutes, hours, days) = (
            whole % 60,
            (whole / 60) % 60,
            (whole / 3600) % 24,
            whole / 86400,
        );
        if days != 0 {
            return format!("{sign}{days}d {hours}h {minutes}m {seconds}s");
        }
        if hours != 0 {
            return format!("{sign}{hours}h {minutes}m {seconds}s");
        }
        if minutes != 0 {
            return format!("{sign}{minutes}m {seconds}s");
        }
        return format!("{sign}{}s", g(a, 4));
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", g(v, 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_formats() {
        assert_eq!(g(151.5, 4), "151.5");
        assert_eq!(g(1_234_567.0, 4), "1.235e+06");
        assert_eq!(g(0.000_012_3, 4), "1.23e-05");
        assert_eq!(g(12.0, 4), "12");
        assert_eq!(humanize(1_234_567.0), "1.235M");
        assert_eq!(humanize(0.1515), "151.5m");
        assert_eq!(humanize1024(1_048_576.0), "1Mi");
        assert_eq!(humanize_duration(899.99), "14m 59s");
        assert_eq!(humanize_duration(0.1515), "151.5ms");
        assert_eq!(humanize_duration(1.5), "1.5s");
    }
}
