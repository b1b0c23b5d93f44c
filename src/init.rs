//! `upkeep init`: a commented starter plan that passes `upkeep check` with no warnings.

/// The template; `{{name}}` and `{{file}}` are replaced.
const STARTER: &str = include_str!("init/starter.yaml");

/// Name used when the plan is written to standard output without one.
pub(crate) const DEFAULT_NAME: &str = "my-service";

/// Whether `name` is a valid plan name: lowercase letters, digits and `-`, starting and ending
/// with a letter or digit, at most 63 characters.
pub(crate) fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// The nearest valid name (for the help line): lowercase, other characters as `-`.
pub(crate) fn suggest_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    let s = s.trim_matches('-');
    let s: String = s.chars().take(63).collect();
    let s = s.trim_end_matches('-').to_owned();
    if s.is_empty() {
        DEFAULT_NAME.to_owned()
    } else {
        s
    }
}

/// The starter plan for `name`, to be saved as `file`.
pub(crate) fn starter(name: &str, file: &str) -> String {
    STARTER.replace("{{name}}", name).replace("{{file}}", file)
}
