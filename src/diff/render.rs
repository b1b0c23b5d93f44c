//! The report as Markdown (for a pull-request comment) and as JSON.

use std::fmt::Write as _;

use super::compare::tick;
use super::{Change, Report, Status};
use crate::diff::facts::Section;
use crate::emit::runbooks::markdown;

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn bullet(out: &mut String, c: &Change) {
    let _ = write!(out, "- ");
    if let Some(s) = &c.subject {
        let _ = write!(out, "{}: ", tick(s));
    }
    let _ = write!(out, "{}", c.message);
    if c.risk.is_some() {
        let _ = write!(out, " **(risky)**");
    }
    out.push('\n');
    for d in &c.details {
        let _ = writeln!(out, "  - {d}");
    }
}

/// A diagnostic's message as Markdown. Its code spans quote plan text, which may hold backticks
/// of its own: the message is kept as written only when its backticks pair up into spans and
/// nothing between them means anything to Markdown; otherwise it is written as plain text.
fn message(m: &str) -> String {
    let parts: Vec<&str> = m.split('`').collect();
    let paired = parts.len() % 2 == 1
        && parts
            .iter()
            .skip(1)
            .step_by(2)
            .all(|inside| !inside.is_empty())
        && parts.iter().step_by(2).all(|outside| {
            let words = outside.trim();
            !outside.contains(['\n', '\r', '\t']) && markdown::text(words) == words
        });
    if paired {
        m.to_owned()
    } else {
        markdown::text(m)
    }
}

/// Markdown fit for a pull-request comment.
pub fn markdown(r: &Report) -> String {
    let mut out = String::from("## upkeep diff\n\n");
    let compared = r
        .plans
        .iter()
        .filter(|p| p.status != Status::NotCompared)
        .count();
    let changed = r
        .plans
        .iter()
        .filter(|p| !matches!(p.status, Status::Unchanged | Status::NotCompared))
        .count();
    let risky = r.risky().count();

    if !r.problems.is_empty() {
        out.push_str("### Plans that do not check\n\n");
        if r.blocked {
            out.push_str("`upkeep check` reports errors outside the plans' own files (in a fragment, or in a plan that could not be read), so nothing was compared. Fix them first:\n\n");
        } else {
            let names: Vec<String> = r
                .plans
                .iter()
                .filter(|p| p.status == Status::NotCompared)
                .map(|p| tick(&p.name))
                .collect();
            let what = match names.len() {
                0 => "these files were".to_owned(),
                1 => format!("plan {} was", names[0]),
                _ => format!("plans {} were", names.join(", ")),
            };
            let _ = writeln!(
                out,
                "`upkeep check` reports errors, so {what} not compared:\n"
            );
        }
        for p in &r.problems {
            let place = if p.line > 0 {
                format!("{}:{}:{}", p.file, p.line, p.column)
            } else {
                p.file.clone()
            };
            let _ = writeln!(
                out,
                "- {} {} error `{}`: {}",
                p.side.name(),
                tick(&place),
                p.code,
                message(&p.message)
            );
        }
        out.push('\n');
    }
    if r.blocked {
        return out;
    }

    if compared == 0 && !r.problems.is_empty() {
        // The errors say it all.
    } else if r.semantic_change() {
        let _ = write!(
            out,
            "{changed} of {} changed",
            plural(compared, "plan", "plans")
        );
        let mut by_status = Vec::new();
        for (status, word) in [
            (Status::Added, "added"),
            (Status::Removed, "removed"),
            (Status::Renamed(String::new()), "renamed"),
        ] {
            let n = r
                .plans
                .iter()
                .filter(|p| std::mem::discriminant(&p.status) == std::mem::discriminant(&status))
                .count();
            if n > 0 {
                by_status.push(format!("{n} {word}"));
            }
        }
        if !by_status.is_empty() {
            let _ = write!(out, " ({})", by_status.join(", "));
        }
        let changes: usize = r
            .plans
            .iter()
            .filter(|p| p.status == Status::Changed)
            .map(|p| p.changes.len())
            .sum();
        if changes > 0 {
            let _ = write!(out, ", {}", plural(changes, "change", "changes"));
        }
        if risky > 0 {
            let _ = write!(
                out,
                ", **{}**",
                plural(risky, "risky change", "risky changes")
            );
        }
        out.push_str(".\n\n");
    } else {
        let _ = writeln!(
            out,
            "No semantic change in {}.\n",
            plural(compared, "plan", "plans")
        );
    }

    if risky > 0 {
        out.push_str("### Risky changes\n\n");
        for (plan, c) in r.risky() {
            let _ = write!(out, "- {} · {}", tick(plan), c.section.title());
            if let Some(s) = &c.subject {
                let _ = write!(out, " · {}", tick(s));
            }
            let _ = writeln!(
                out,
                ": {} — {}",
                c.message,
                c.risk.as_deref().unwrap_or_default()
            );
        }
        out.push('\n');
    }

    for p in &r.plans {
        if (p.status == Status::Unchanged && p.files.is_empty()) || p.status == Status::NotCompared
        {
            continue;
        }
        let _ = write!(out, "### Plan {}", tick(&p.name));
        match &p.status {
            Status::Unchanged | Status::Changed => {}
            Status::Renamed(from) => {
                let _ = write!(out, " (renamed from {}, same content)", tick(from));
            }
            other => {
                let _ = write!(out, " ({})", other.name());
            }
        }
        out.push_str("\n\n");
        let mut section: Option<Section> = None;
        let whole = matches!(p.status, Status::Added | Status::Removed);
        for (i, c) in p.changes.iter().enumerate() {
            if whole {
                bullet(&mut out, c);
                if i + 1 == p.changes.len() {
                    out.push('\n');
                }
                continue;
            }
            if section != Some(c.section) {
                let _ = writeln!(out, "#### {}\n", c.section.title());
                section = Some(c.section);
            }
            bullet(&mut out, c);
            if p.changes.get(i + 1).is_none_or(|n| n.section != c.section) {
                out.push('\n');
            }
        }
        if !p.files.is_empty() {
            out.push_str("#### Generated files\n\n");
            if p.changes.is_empty() && p.status == Status::Unchanged {
                out.push_str(
                    "The plan means the same, but these files differ in layout or order:\n\n",
                );
            }
            for f in &p.files {
                let _ = writeln!(
                    out,
                    "- {}{}: {} (+{} −{} lines)",
                    tick(&f.path),
                    if f.shared { " (the plan's part)" } else { "" },
                    f.kind.name(),
                    f.added_lines,
                    f.removed_lines
                );
            }
            out.push('\n');
        }
    }
    if r.moved() {
        let _ = writeln!(
            out,
            "Next occurrences are counted from {}.",
            super::reference().format("%Y-%m-%dT%H:%MZ")
        );
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn change_json(c: &Change) -> serde_json::Value {
    serde_json::json!({
        "section": c.section.key(),
        "subject": c.subject,
        "field": c.field,
        "kind": c.kind.name(),
        "message": c.message,
        "before": c.before,
        "after": c.after,
        "details": c.details,
        "risky": c.risk.is_some(),
        "risk": c.risk,
    })
}

/// One JSON object.
pub(crate) fn json(r: &Report) -> String {
    let plans: Vec<serde_json::Value> = r
        .plans
        .iter()
        .map(|p| {
            serde_json::json!({
                "plan": p.name,
                "status": p.status.name(),
                "renamed_from": match &p.status {
                    Status::Renamed(from) => Some(from.clone()),
                    _ => None,
                },
                "changes": p.changes.iter().map(change_json).collect::<Vec<_>>(),
                "files": p.files.iter().map(|f| serde_json::json!({
                    "path": f.path,
                    "shared": f.shared,
                    "change": f.kind.name(),
                    "added_lines": f.added_lines,
                    "removed_lines": f.removed_lines,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let risky: Vec<serde_json::Value> = r
        .risky()
        .map(|(plan, c)| {
            let mut v = change_json(c);
            if let Some(o) = v.as_object_mut() {
                o.insert("plan".to_owned(), serde_json::Value::from(plan));
            }
            v
        })
        .collect();
    let problems: Vec<serde_json::Value> = r
        .problems
        .iter()
        .map(|p| {
            serde_json::json!({
                "side": p.side.name(),
                "file": p.file,
                "line": p.line,
                "column": p.column,
                "code": p.code,
                "message": p.message,
            })
        })
        .collect();
    let v = serde_json::json!({
        "semantic_change": r.semantic_change(),
        "reference": super::reference().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "blocked": r.blocked,
        "errors": problems,
        "risky": risky,
        "plans": plans,
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::message;

    #[test]
    fn messages_keep_their_code_spans_unless_plan_text_breaks_them() {
        assert_eq!(
            message("unknown field `x` in `y`"),
            "unknown field `x` in `y`"
        );
        assert_eq!(message("`a` and `b`"), "`a` and `b`");
        let broken = message("`w`` **y** ``` is not a valid name");
        assert!(
            !broken.contains("``") && broken.contains("\\*\\*y"),
            "{broken}"
        );
        let linked = message("`a` [x](http://e) `b` is odd");
        assert!(linked.contains("\\[x\\]"), "{linked}");
    }
}
