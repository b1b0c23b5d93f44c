//! Breaking any typed value in any bundled plan gives an error that points at that value: every
//! duration, threshold, percentage, schedule, time zone, reference and level flag (`pages`,
//! `mute`) is replaced, one at a time, by something malformed, and the report must blame
//! exactly the replaced text.

mod common;

use std::path::{Path, PathBuf};

use upkeep::diag::{Diagnostics, Severity};
use upkeep::parse::{Node, Value};
use upkeep::source::SourceFile;
use upkeep::span::FileId;
use upkeep::value::{Duration, Percent, Schedule, Threshold};

const DURATIONS: &[&str] = &[
    "for",
    "window",
    "duration",
    "interval",
    "timeout",
    "rpo",
    "rto",
    "retain",
    "after",
    "response",
    "resolve",
    "repeat",
    "per_occurrence",
    "secrets_rotation",
    "mttr",
    "mtbf",
];
const THRESHOLDS: &[&str] = &["objective", "warning", "critical"];
const PERCENTS: &[&str] = &[
    "objective",
    "uptime",
    "coverage",
    "error_rate",
    "predictive",
    "preventive",
    "corrective",
    "perfective",
];
const REFERENCES: &[&str] = &[
    "service",
    "runbook",
    "owner",
    "impact",
    "primary",
    "secondary",
    "page",
    "ticket",
    "mute",
];
/// Flags whose value is more than a yes or no: breaking them must be blamed at the value.
const FLAGS: &[&str] = &["pages", "mute"];

/// (byte range, replacement) for every value worth breaking.
fn mutations(
    node: &Node,
    section: &str,
    key: Option<&str>,
    src: &str,
    out: &mut Vec<(u32, u32, String)>,
) {
    match &node.value {
        Value::Map(entries) => {
            for (k, v) in entries {
                let section = if section.is_empty() {
                    k.as_str().unwrap_or_default()
                } else {
                    section
                };
                mutations(v, section, k.as_str(), src, out);
            }
        }
        Value::Seq(items) => items
            .iter()
            .for_each(|i| mutations(i, section, key, src, out)),
        Value::Str(s) => {
            let Some(key) = key else { return };
            let raw = &src[node.start as usize..node.end as usize];
            if raw.starts_with('|') || raw.contains('\n') {
                return;
            }
            let replacement = if DURATIONS.contains(&key) && Duration::parse(s, false).is_ok() {
                Some("\"1h3Om\"".to_owned())
            } else if THRESHOLDS.contains(&key) && Threshold::parse(s, false).is_ok() {
                Some("\"> 1.2.3ms\"".to_owned())
            } else if PERCENTS.contains(&key) && Percent::parse(s).is_ok() {
                Some("\"99.x%\"".to_owned())
            } else if key == "schedule" && Schedule::parse(s).is_ok() {
                Some("\"fortnightly at 02:00\"".to_owned())
            } else if key == "timezone" {
                Some("\"Mars/Olympus_Mons\"".to_owned())
            } else if REFERENCES.contains(&key) && section != "metadata" {
                Some(format!("\"{s}-gone\""))
            } else {
                None
            };
            if let Some(r) = replacement {
                out.push((node.start, node.end, r));
            }
        }
        Value::Bool(_) if key.is_some_and(|k| FLAGS.contains(&k)) => {
            out.push((node.start, node.end, "\"sometimes\"".to_owned()));
        }
        _ => {}
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk");
        let rel = entry.path().strip_prefix(from).expect("prefix");
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &dest).expect("copy");
        }
    }
}

#[test]
fn breaking_any_value_is_reported_at_that_value() {
    let plans = common::root().join("plans");
    let work: PathBuf =
        std::env::temp_dir().join(format!("upkeep-mutations-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    copy_tree(&plans, &work);
    let mut total = 0;
    for entry in walkdir::WalkDir::new(&plans) {
        let entry = entry.expect("walk");
        if entry.path().extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(&plans)
            .expect("prefix")
            .to_path_buf();
        let original = std::fs::read_to_string(entry.path()).expect("read");
        let source = SourceFile::new(rel.clone(), rel.display().to_string(), original.clone());
        let root =
            upkeep::parse::parse(FileId(0), &source, &mut Diagnostics::new()).expect("plan parses");
        let mut found = Vec::new();
        mutations(&root, "", None, &original, &mut found);
        for (start, end, replacement) in found {
            let mut text = original.clone();
            text.replace_range(start as usize..end as usize, &replacement);
            let target = work.join(&rel);
            std::fs::write(&target, &text).expect("write");
            // A fragment is checked through the plans that import it.
            let ws = upkeep::driver::check(
                std::slice::from_ref(&work),
                upkeep::driver::Options::default(),
            )
            .expect("check");
            let blamed = ws.diagnostics.iter().any(|d| {
                d.severity == Severity::Error
                    && d.span.is_some_and(|s| {
                        ws.sources.get(s.file).path.ends_with(&rel)
                            && s.start >= start
                            && s.end <= start + replacement.len() as u32
                    })
            });
            let context = &text[start as usize..(start as usize + replacement.len())];
            assert!(
                blamed,
                "{}: replacing a value with {context} at byte {start} is not reported at it:\n{}",
                rel.display(),
                upkeep::diag::render::human(
                    &ws.diagnostics,
                    &ws.sources,
                    ws.files,
                    upkeep::diag::render::HumanOptions::default()
                )
            );
            total += 1;
        }
        std::fs::write(work.join(&rel), &original).expect("restore");
    }
    let _ = std::fs::remove_dir_all(&work);
    assert!(total > 200, "only {total} values were broken");
    eprintln!("{total} broken values, each reported at its own text");
}
