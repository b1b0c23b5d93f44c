//! Mechanical fixes: the text edit a diagnostic describes, when it describes one exactly.
//!
//! Two kinds, read from what every diagnostic already says (no table of codes):
//!
//! - a help line that names the replacement of the text it points at ([`proposal`]: "did you
//!   mean `x`?", "write `x`", "use `x`, …", "remove the quotes: `x`", "add it: `x`"), applied
//!   by [`proposal_range`];
//! - a missing field ([`missing_field`]: "missing field `x` …"), which is added to the mapping
//!   the diagnostic points at.
//!
//! `tests/help.rs` applies [`proposal`] through [`proposal_range`] to every fixture and checks
//! the diagnostic goes away; `upkeep lsp` offers both kinds as quick fixes.

/// The replacement a help line names for the text its diagnostic points at, if it names one.
pub fn proposal(help: &str) -> Option<&str> {
    if let Some((_, rest)) = help.split_once("did you mean `") {
        return rest.split_once('`').map(|(x, _)| x);
    }
    for prefix in ["write `", "use `", "remove the quotes: `", "add it: `"] {
        let Some((x, after)) = help.strip_prefix(prefix).and_then(|r| r.split_once('`')) else {
            continue;
        };
        let whole = match prefix {
            "write `" => after.is_empty() || after.starts_with(" ("),
            "use `" => after.starts_with(',') || after.starts_with(" or "),
            _ => after.is_empty(),
        };
        if whole {
            return Some(x);
        }
    }
    None
}

/// The bytes of `text` that the proposal `x` replaces, for a diagnostic at `start..end`: the
/// span itself, or the whole scalar around it when `x` is a whole value (it starts with the
/// scalar's text before the span, or ends with the text after it: `1h30m` for the `O` of
/// `1h3Om`, `every 6m` for the `7m` of `every 7m`). A scalar ends at quotes, flow punctuation,
/// `: ` and ` #`; a span over several lines is left as it is.
pub fn proposal_range(text: &str, start: usize, end: usize, x: &str) -> (usize, usize) {
    let (start, end) = (start.min(text.len()), end.min(text.len()).max(start));
    let (Some(before), Some(after)) = (text.get(..start), text.get(end..)) else {
        return (start, end);
    };
    if text[start..end].contains('\n') {
        return (start, end);
    }
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line_end = end + after.find('\n').unwrap_or(after.len());
    let left: Vec<(usize, char)> = text[line_start..start].char_indices().collect();
    let right: Vec<(usize, char)> = text[end..line_end].char_indices().collect();
    // Widen left over `left`, from the end, until a stop.
    let mut a = left.len();
    while a > 0 {
        let c = left[a - 1].1;
        let colon_space = c == ' ' && a >= 2 && left[a - 2].1 == ':';
        if matches!(c, '"' | '\'' | '{' | '[' | ',') || colon_space {
            break;
        }
        a -= 1;
    }
    let mut b = 0;
    while b < right.len() {
        let c = right[b].1;
        let next = right.get(b + 1).map(|p| p.1);
        let prev = if b == 0 {
            text[..end].chars().next_back()
        } else {
            Some(right[b - 1].1)
        };
        let colon = c == ':' && next.is_none_or(|n| n == ' ');
        let comment = c == '#' && prev == Some(' ');
        if matches!(c, '"' | '\'' | '}' | ']' | ',') || colon || comment {
            break;
        }
        b += 1;
    }
    while a < left.len() && left[a].1 == ' ' {
        a += 1;
    }
    while b > 0 && right[b - 1].1 == ' ' {
        b -= 1;
    }
    let prefix = &text[line_start + left.get(a).map_or(start - line_start, |p| p.0)..start];
    let suffix = &text[end..end + right.get(b).map_or(line_end - end, |p| p.0)];
    let whole = (!prefix.is_empty() && x.starts_with(prefix))
        || (!suffix.is_empty() && x.ends_with(suffix));
    if whole {
        (start - prefix.len(), end + suffix.len())
    } else {
        (start, end)
    }
}

/// The field a diagnostic says is missing: `x` of "missing field `x`" or "missing field `x` in
/// `kpis.errors`" (the message every stage writes for a required field).
pub fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    let (field, tail) = rest.split_once('`')?;
    (tail.is_empty() || tail.starts_with(" in ")).then_some(field)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(text: &str, span: &str, x: &str) -> String {
        let start = text.find(span).expect("span");
        let (a, b) = proposal_range(text, start, start + span.len(), x);
        format!("{}{x}{}", &text[..a], &text[b..])
    }

    #[test]
    fn proposals_are_read_from_help_lines() {
        assert_eq!(proposal("did you mean `disk-full`?"), Some("disk-full"));
        assert_eq!(
            proposal("write `14d` (a duration has no spaces)"),
            Some("14d")
        );
        assert_eq!(proposal("write `every 5m`, `every 6h` or `every 2d`"), None);
        assert_eq!(proposal("use `02-28` or `03-01`"), Some("02-28"));
        assert_eq!(
            proposal("use `last day` to run at the end of every month"),
            None
        );
        assert_eq!(proposal("runbooks defined: `a`, `b`"), None);
    }

    #[test]
    fn a_whole_value_replaces_its_scalar() {
        // The span is the mistake; the proposal the whole value.
        assert_eq!(apply("for: 1h3Om\n", "O", "1h30m"), "for: 1h30m\n");
        assert_eq!(
            apply("x: {schedule: \"every 7m\"}\n", "7m", "every 6m"),
            "x: {schedule: \"every 6m\"}\n"
        );
        // A name replaces only its span; a line with `é` before it keeps its bytes right.
        assert_eq!(
            apply(
                "a: {d: \"é 🔥\", runbook: dsk-full}\n",
                "dsk-full",
                "disk-full"
            ),
            "a: {d: \"é 🔥\", runbook: disk-full}\n"
        );
        assert_eq!(apply("a: 1 hora # x\n", "1 hora", "1h"), "a: 1h # x\n");
    }

    #[test]
    fn missing_fields_are_read_from_messages() {
        assert_eq!(
            missing_field("missing field `unit` in `kpis.errors`"),
            Some("unit")
        );
        assert_eq!(
            missing_field("missing field `name` in the plan"),
            Some("name")
        );
        assert_eq!(
            missing_field("missing field `apiVersion`"),
            Some("apiVersion")
        );
        assert_eq!(missing_field("`x` needs a schedule"), None);
    }
}
