//! `upkeep import --into PLAN`: what `import` reads, added to a plan that exists.
//!
//! The entries go into the plan file itself, not into a fragment beside it: a fragment holds
//! what plans share (levels, receivers, on-call, roles, runbooks, windows), never services,
//! KPIs or SLOs, which are one system's. The plan's text is kept byte for byte: each section
//! gets the new entries after its last one, before the comments that follow it, and a section
//! the plan lacks is added at the end of the file; each entry keeps the comment of where it
//! came from.
//!
//! What the plan has is reused. A service of the same name is the plan's service. A KPI or
//! SLO equal to one of the same name in the plan is not added again (a second import of the
//! same files changes nothing); one whose name is taken by another becomes `NAME_2`,
//! `NAME_3`…. An imported alert's level is the one the plan's severity matrix gives its
//! threshold (the service's `impact` or the `default_impact`, the `likelihood_of` of warning
//! or critical); where the matrix cannot say, the imported severity becomes the plan's level
//! of that name, else the most urgent whose `severity` label it is. The levels' receivers are
//! the plan's. A plan without `severity` gets the levels and the placeholder receiver a new
//! imported plan would have.
//!
//! **Invariant:** nothing is written unless the plan checks without an error before and after;
//! every byte of the plan is kept, in order (only the `{}` or `~` of an empty section goes).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::driver::{self, Workspace};
use crate::emit::yaml::{self, Yaml};
use crate::model::alerts::{Urgency, camel, kpi_alert_name, level_for};
use crate::parse::{Node, Value};
use crate::span::FileId;

use super::{Imported, PLACEHOLDER, Plan as Built, Report};

/// The result of `upkeep import --into`.
#[derive(Debug, Default)]
pub struct ImportedInto {
    /// The inputs and the plan file as read, their diagnostics, and the report.
    pub imported: Imported,
    /// The plan as checked with its fragments before anything is added, when it has an error.
    pub before: Option<Workspace>,
    /// The plan checked with the entries added.
    pub after: Option<Workspace>,
    /// The diagnostics of `after` that the plan did not have before.
    pub new: Vec<Diagnostic>,
    /// The plan's new text, when it checks without an error (the old one when nothing was
    /// added).
    pub text: Option<String>,
    /// Whether `text` differs from the plan's (everything imported was the plan's already).
    pub changed: bool,
    /// What was added, reused and renamed, a line each.
    pub summary: Vec<String>,
}

/// Import `paths` into the plan file `plan`, on a thread with the stack `check` parses with.
pub fn import_into(paths: &[PathBuf], plan: &Path) -> ImportedInto {
    super::on_stack(|| into_here(paths, plan))
}

fn into_here(paths: &[PathBuf], path: &Path) -> ImportedInto {
    let mut out = ImportedInto::default();
    let Some((file, doc)) = read_plan(path, &mut out.imported) else {
        return out;
    };
    let Ok(before) = driver::check(&[path.to_path_buf()], driver::Options::default()) else {
        return out;
    };
    if before.errors() > 0 || before.plans.is_empty() {
        out.before = Some(before);
        return out;
    }
    let Some(built) = super::read_and_build(paths, &mut out.imported) else {
        return out;
    };
    let target = &before.plans[0];
    let sections = additions(
        &built,
        target,
        &doc,
        &mut out.imported.report,
        &mut out.summary,
    );
    let sources = &out.imported.sources;
    let inputs: Vec<String> = sources
        .iter()
        .filter(|(id, _)| *id != file)
        .map(|(_, f)| format!("`{}`", f.name))
        .collect();
    let header = format!("imported by `upkeep import` from {}", inputs.join(", "));
    let text = match splice(file, &sources.get(file).text, &doc, &sections, &header) {
        Ok(t) => t,
        Err(d) => {
            out.imported.diagnostics.push(*d);
            return out;
        }
    };
    let after = driver::check_texts(
        vec![(path.to_path_buf(), text.clone())],
        driver::Options::default(),
    );
    let mut had: Vec<(Code, &str)> = before
        .diagnostics
        .iter()
        .map(|d| (d.code, d.message.as_str()))
        .collect();
    for d in &after.diagnostics {
        match had.iter().position(|h| *h == (d.code, d.message.as_str())) {
            Some(i) => {
                had.swap_remove(i);
            }
            None => out.new.push(d.clone()),
        }
    }
    if after.errors() == 0 {
        out.changed = text != sources.get(file).text;
        out.text = Some(text);
    }
    out.after = Some(after);
    out
}

/// The plan file, read and parsed as `check` reads it; a diagnostic when it is not a plan.
fn read_plan(path: &Path, out: &mut Imported) -> Option<(FileId, Node)> {
    let file = crate::load::read(
        path,
        &mut out.sources,
        crate::load::MAX_INPUT_BYTES as u64,
        &mut out.diagnostics,
    )?;
    let source = out.sources.get(file);
    let doc = crate::parse::parse(file, source, &mut out.diagnostics)?;
    let upkeep = doc
        .get("apiVersion")
        .and_then(Node::as_str)
        .is_some_and(|v| v.starts_with("upkeep/"));
    let kind = doc.get("kind");
    let name = &source.name;
    let (message, help) = match kind.and_then(Node::as_str) {
        Some("Plan") if upkeep => return Some((file, doc)),
        Some("Fragment") if upkeep => (
            format!("`{name}` is a fragment; `--into` adds to a plan"),
            "name the plan (`kind: Plan`) that imports this fragment: a fragment holds what plans share, never services, KPIs or SLOs",
        ),
        _ => (
            format!("`{name}` is not an upkeep plan"),
            "name a plan file (`apiVersion: upkeep/v1`, `kind: Plan`), or leave out `--into` to write a new plan",
        ),
    };
    let at = kind.unwrap_or(&doc).span(file);
    out.diagnostics
        .push(Diagnostic::new(Code::NotAPlan, message).at(at).help(help));
    None
}

/// The entries to add, by section in the plan's order, with the report and the summary told
/// what was reused, renamed and at which level each alert is.
fn additions(
    built: &Built,
    target: &crate::model::Plan,
    doc: &Node,
    report: &mut Report,
    summary: &mut Vec<String>,
) -> Vec<(&'static str, Vec<(String, Yaml)>)> {
    let mut parts = built.parts();
    let severity = target.severity.as_ref().map(|s| &s.value);
    // Where each imported alert goes: the plan's level for it, by KPI or SLO and slot.
    let mut kpi_levels: BTreeMap<(String, &'static str), String> = BTreeMap::new();
    let mut slo_levels: BTreeMap<(String, &'static str), String> = BTreeMap::new();
    // The level each KPI alert resolves to in the plan: its name follows it.
    let mut kpi_alert_levels: BTreeMap<(String, &'static str), String> = BTreeMap::new();
    let level = |service: &str,
                 urgency: Urgency,
                 imported: &str|
     -> Option<(Option<String>, String, String)> {
        let sev = severity?;
        Some(
            match level_for(target, target.services.get(service), urgency, None) {
                Ok(l) => (
                    None,
                    format!("level `{}` (the plan's severity matrix)", l.name.value),
                    l.name.value.clone(),
                ),
                Err(_) => {
                    let like = built.like.get(imported).copied();
                    let l = plan_level(target, sev, imported, like);
                    let how = format!("level `{l}` (for severity `{imported}`)");
                    (Some(l.clone()), how, l)
                }
            },
        )
    };
    for ((name, y), (_, k)) in parts.kpis.iter_mut().zip(&built.kpis) {
        for (word, urgency, slot) in [
            ("warning", Urgency::Warning, &k.warning),
            ("critical", Urgency::Critical, &k.critical),
        ] {
            let Some((_, _, imported, _)) = slot else {
                continue;
            };
            let Some((explicit, how, resolved)) = level(&k.service, urgency, imported) else {
                continue;
            };
            set(y, "levels", word, explicit);
            kpi_levels.insert((name.clone(), word), how);
            kpi_alert_levels.insert((name.clone(), word), resolved);
        }
    }
    for ((name, y), (_, s)) in parts.slos.iter_mut().zip(&built.slos) {
        for (word, urgency, slot) in [
            ("page", Urgency::Critical, &s.page),
            ("ticket", Urgency::Warning, &s.ticket),
        ] {
            let Some(imported) = slot else { continue };
            let Some((explicit, how, _)) = level(&s.service, urgency, imported) else {
                continue;
            };
            // An SLO names its levels: the matrix's too.
            let l = explicit.or_else(|| {
                level_for(target, target.services.get(&s.service), urgency, None)
                    .ok()
                    .map(|l| l.name.value.clone())
            });
            set(y, "alerting", word, l);
            slo_levels.insert((name.clone(), word), how);
        }
    }
    parts.services.retain(|(name, _)| {
        let theirs = target.services.get(name).is_some();
        if theirs {
            summary.push(format!("service `{name}` is the plan's"));
        }
        !theirs
    });
    if !parts.services.is_empty() {
        let names: Vec<String> = parts
            .services
            .iter()
            .map(|(n, _)| format!("`{n}`"))
            .collect();
        summary.push(format!(
            "{} added: {}",
            counted(names.len(), "service"),
            names.join(", ")
        ));
    }
    let (kpi_renames, kpi_reused) = settle("kpis", &mut parts.kpis, doc);
    let (slo_renames, slo_reused) = settle("slos", &mut parts.slos, doc);
    let renamed = |levels: &BTreeMap<(String, &'static str), String>,
                   renames: &BTreeMap<String, String>,
                   key: &str| {
        levels
            .iter()
            .map(|((n, w), how)| {
                let n = renames.get(n).unwrap_or(n);
                ((format!("{key}.{n}"), *w), how.clone())
            })
            .collect::<Vec<_>>()
    };
    let mut notes: BTreeMap<(String, &'static str), String> = BTreeMap::new();
    notes.extend(renamed(&kpi_levels, &kpi_renames, "kpis"));
    notes.extend(renamed(&slo_levels, &slo_renames, "slos"));
    let reused: BTreeSet<String> = kpi_reused
        .iter()
        .map(|n| format!("kpis.{n}"))
        .chain(slo_reused.iter().map(|n| format!("slos.{n}")))
        .collect();
    patch(
        report,
        &kpi_renames,
        &slo_renames,
        &notes,
        &reused,
        &kpi_alert_levels,
    );
    for (key, what, renames, reused, added) in [
        ("kpis", "KPI", &kpi_renames, &kpi_reused, parts.kpis.len()),
        ("slos", "SLO", &slo_renames, &slo_reused, parts.slos.len()),
    ] {
        for (old, new) in renames {
            if !reused.contains(new) {
                summary.push(format!(
                    "{key}.{old} is added as {key}.{new}: the plan has another `{old}`"
                ));
            }
        }
        if !reused.is_empty() {
            summary.push(format!(
                "{} already in the plan, not added again",
                counted(reused.len(), what)
            ));
        }
        if added > 0 {
            summary.push(format!("{} added", counted(added, what)));
        }
    }
    let mut sections = vec![
        ("services", parts.services),
        ("kpis", parts.kpis),
        ("slos", parts.slos),
    ];
    if severity.is_none() && !sections.iter().all(|(_, e)| e.is_empty()) {
        // No levels to map onto: the imported ones, notifying the placeholder.
        let entries = |y: Option<Yaml>| match y {
            Some(Yaml::Map(m)) => m,
            _ => Vec::new(),
        };
        sections.push(("severity", entries(parts.severity)));
        if target.receivers.get(PLACEHOLDER).is_none() {
            sections.push(("receivers", entries(parts.receivers)));
        }
        summary.push(
            "the plan has no `severity`: the imported levels are added, notifying the placeholder receiver `imported`".to_owned(),
        );
    }
    sections
}

/// `3 KPIs`, `1 SLO`.
fn counted(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// The plan's level for an imported severity the matrix cannot place: the level of that
/// name, else the most urgent whose `severity` label is the imported one (`like` for a name
/// that is not a label: a sloth page level is `critical`), else the most urgent level for
/// `critical`, the least for `info`, the second for `warning`.
fn plan_level(
    plan: &crate::model::Plan,
    sev: &crate::model::Severity,
    imported: &str,
    like: Option<&str>,
) -> String {
    if let Some(l) = sev.level(imported) {
        return l.name.value.clone();
    }
    let label = match imported {
        "critical" | "warning" | "info" => imported,
        _ => like.unwrap_or("warning"),
    };
    let by_label = sev
        .levels
        .iter()
        .find(|l| crate::model::levels::severity(plan, l).name() == label);
    let n = sev.levels.len();
    let by_rank = match label {
        "critical" => sev.levels.first(),
        "info" => sev.levels.last(),
        _ => sev.levels.get(1.min(n.saturating_sub(1))),
    };
    by_label
        .or(by_rank)
        .map_or_else(|| imported.to_owned(), |l| l.name.value.clone())
}

/// In the mapping `section` of an entry, `key` set to `value`, or removed (and the mapping
/// with it when it is left empty).
fn set(entry: &mut Yaml, section: &str, key: &str, value: Option<String>) {
    let Some(fields) = fields(entry) else { return };
    let Some(i) = fields.iter().position(|(k, _)| k == section) else {
        return;
    };
    if let Yaml::Map(m) = &mut fields[i].1 {
        match value {
            Some(v) => {
                if let Some(slot) = m.iter_mut().find(|(k, _)| k == key) {
                    slot.1 = Yaml::Str(v);
                }
            }
            None => m.retain(|(k, _)| k != key),
        }
        if m.is_empty() {
            fields.remove(i);
        }
    }
}

/// The fields of an entry, through its comments.
fn fields(entry: &mut Yaml) -> Option<&mut Vec<(String, Yaml)>> {
    match entry {
        Yaml::Map(m) => Some(m),
        Yaml::Commented(_, v) => fields(v),
        _ => None,
    }
}

/// Imported entries of `section` against the plan's: one equal to the plan's entry of its
/// name (or of the name it would be renamed to) is left out; one whose name the plan gives
/// another entry is renamed `NAME_2`, `NAME_3`…. The renames (old → new, reused ones
/// included) and the names reused.
fn settle(
    section: &str,
    entries: &mut Vec<(String, Yaml)>,
    doc: &Node,
) -> (BTreeMap<String, String>, BTreeSet<String>) {
    let theirs: BTreeMap<String, &Node> = doc
        .get(section)
        .and_then(Node::as_map)
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| Some((k.scalar_text()?, v)))
        .collect();
    let mut taken: BTreeSet<String> = entries.iter().map(|(n, _)| n.clone()).collect();
    taken.extend(theirs.keys().cloned());
    let (mut renames, mut reused) = (BTreeMap::new(), BTreeSet::new());
    let mut kept = Vec::new();
    for (name, y) in entries.drain(..) {
        let same = |n: &str| theirs.get(n).is_some_and(|node| equal(node, &y));
        if !theirs.contains_key(&name) {
            kept.push((name, y));
            continue;
        }
        if same(&name) {
            reused.insert(name);
            continue;
        }
        let base = super::fit(&name, 59, '_');
        for n in 2.. {
            let candidate = format!("{base}_{n}");
            if same(&candidate) {
                reused.insert(candidate.clone());
                renames.insert(name, candidate);
                break;
            }
            if taken.insert(candidate.clone()) {
                renames.insert(name, candidate.clone());
                kept.push((candidate, y));
                break;
            }
        }
    }
    *entries = kept;
    (renames, reused)
}

/// Whether the plan's entry `theirs` says what `ours` does (comments aside).
fn equal(theirs: &Node, ours: &Yaml) -> bool {
    let text = yaml::document(&[], &Yaml::Map(vec![("entry".to_owned(), ours.clone())]));
    let source =
        crate::source::SourceFile::new(PathBuf::from("entry.yaml"), "entry.yaml".into(), text);
    let mut diags = Diagnostics::new();
    crate::parse::parse(FileId(0), &source, &mut diags)
        .and_then(|n| n.get("entry").map(crate::parse::to_json))
        .is_some_and(|v| v == crate::parse::to_json(theirs))
}

/// The report told the names entries took (`kpis.a` → `kpis.a_2`), the level of each alert,
/// and which entries the plan already had.
fn patch(
    report: &mut Report,
    kpis: &BTreeMap<String, String>,
    slos: &BTreeMap<String, String>,
    notes: &BTreeMap<(String, &'static str), String>,
    reused: &BTreeSet<String>,
    alert_levels: &BTreeMap<(String, &'static str), String>,
) {
    let rename = |token: &str| -> Option<String> {
        let (key, renames) = if token.starts_with("kpis.") {
            ("kpis", kpis)
        } else {
            ("slos", slos)
        };
        let name = token.strip_prefix(key)?.strip_prefix('.')?;
        renames.get(name).map(|n| format!("{key}.{n}"))
    };
    for e in &mut report.entries {
        let tokens: Vec<String> = e
            .became
            .split(' ')
            .map(|t| rename(t).unwrap_or_else(|| t.to_owned()))
            .collect();
        e.became = tokens.join(" ");
        // A KPI alert is named after the KPI's new name and the plan's level for it.
        if let Some(a) = &mut e.alert
            && !a.kpi.is_empty()
        {
            let old = a.kpi.clone();
            let level = |word: &'static str| alert_levels.get(&(old.clone(), word)).cloned();
            let (urgency, other) = if a.slot == "critical" {
                (Urgency::Critical, "warning")
            } else {
                (Urgency::Warning, "critical")
            };
            if let Some(n) = kpis.get(&old) {
                a.kpi.clone_from(n);
            }
            if let Some(l) = level(a.slot) {
                a.imported = kpi_alert_name(&a.kpi, urgency, Some(&l), level(other).as_deref());
            } else if a.kpi != old {
                let word = a
                    .imported
                    .strip_prefix(camel(&old).as_str())
                    .unwrap_or("")
                    .to_owned();
                a.imported = format!("{}{word}", camel(&a.kpi));
            }
        }
        if let Some(f) = &mut e.slo {
            for side in [&mut f.page, &mut f.ticket] {
                let Some((alert, label, value)) = side else {
                    continue;
                };
                let renames = if label == "slo" { slos } else { kpis };
                if let Some(n) = renames.get(value.as_str()) {
                    let word = alert
                        .strip_prefix(camel(value).as_str())
                        .unwrap_or("")
                        .to_owned();
                    *alert = format!("{}{word}", camel(n));
                    value.clone_from(n);
                }
            }
        }
        // The level of each alert the entry became, and whether the plan had it.
        let slot = e.alert.as_ref().map(|a| a.slot);
        let mut said = Vec::new();
        for t in &tokens {
            for ((n, word), how) in notes {
                match slot {
                    // An alert is one threshold: its slot is said already.
                    Some(s) if n == t && s == *word => said.push(how.clone()),
                    None if n == t => said.push(format!("{word} at {how}")),
                    _ => {}
                }
            }
            if reused.contains(t) {
                said.push(format!("`{t}` is already in the plan: not added again"));
            }
        }
        for s in said {
            e.became.push_str("; ");
            e.became.push_str(&s);
        }
    }
}

/// `text` with each section's entries added (see the module doc), or an error at a section
/// they cannot be added to (written in flow style, `{a: …}`).
fn splice(
    file: FileId,
    text: &str,
    doc: &Node,
    sections: &[(&str, Vec<(String, Yaml)>)],
    header: &str,
) -> Result<String, Box<Diagnostic>> {
    let col = |at: usize| at - text[..at].rfind('\n').map_or(0, |i| i + 1);
    // Just after the line break that ends the line holding `at`.
    let after_line = |at: usize| text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
    let top_level = doc.as_map().unwrap_or_default();
    let top = top_level.first().map_or(0, |(k, _)| col(k.start as usize));
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut tail = String::new();
    for (key, entries) in sections {
        if entries.is_empty() {
            continue;
        }
        let body = format!(
            "# {header}\n{}",
            yaml::document(&[], &Yaml::Map(entries.clone()))
        );
        let Some((k, v)) = top_level.iter().find(|(k, _)| k.as_str() == Some(key)) else {
            let _ = write!(
                tail,
                "\n{}{key}:\n{}",
                " ".repeat(top),
                indent(&body, top + 2)
            );
            continue;
        };
        let (start, end) = (v.start as usize, v.end as usize);
        let flow = text.get(start..).is_some_and(|t| t.starts_with('{'));
        let entries_there = v.as_map().filter(|m| !m.is_empty());
        if let Some(m) = entries_there.filter(|_| !flow) {
            let last = m
                .iter()
                .map(|(k, v)| k.end.max(v.end))
                .max()
                .unwrap_or(v.end);
            let end = text[..last as usize].trim_end().len();
            let at = after_line(end.saturating_sub(1));
            edits.push((at, at, indent(&body, col(m[0].0.start as usize))));
        } else if entries_there.is_none() && (flow || v.value == Value::Null) {
            // `key:`, `key: ~` or `key: {}`: the empty value goes (with the space before it),
            // and the entries follow its line.
            let empty = if flow {
                text[start..].find('}').map_or(end, |i| start + i + 1)
            } else {
                end
            };
            let colon = text[k.end as usize..]
                .find(':')
                .map_or(start, |i| k.end as usize + i + 1);
            if colon < empty {
                edits.push((colon, empty, String::new()));
            }
            let at = after_line(k.end as usize);
            edits.push((at, at, indent(&body, top + 2)));
        } else {
            return Err(Box::new(Diagnostic::new(
                Code::Type,
                format!("`{key}` is written in flow style (`{{…}}`); `upkeep import --into` adds entries to a block mapping"),
            )
            .at(v.span(file))
            .help(format!("write `{key}` one entry to a line (block style), then import again"))));
        }
    }
    let crlf = text.contains("\r\n");
    let eol = |s: String| if crlf { s.replace('\n', "\r\n") } else { s };
    let mut out = text.to_owned();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (start, end, insert) in edits {
        let lead = if !insert.is_empty() && start == out.len() && !out.ends_with('\n') {
            "\n"
        } else {
            ""
        };
        out.replace_range(start..end, &eol(format!("{lead}{insert}")));
    }
    if !tail.is_empty() {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&eol(tail));
    }
    Ok(out)
}

/// `body`'s lines indented by `n` spaces (blank lines stay blank).
fn indent(body: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    body.lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_owned()
            } else {
                format!("{pad}{l}\n")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spliced(text: &str, sections: &[(&str, Vec<(String, Yaml)>)]) -> Result<String, String> {
        let source =
            crate::source::SourceFile::new("p.yaml".into(), "p.yaml".into(), text.to_owned());
        let mut d = Diagnostics::new();
        let doc = crate::parse::parse(FileId(0), &source, &mut d).expect("parses");
        splice(FileId(0), text, &doc, sections, "imported").map_err(|d| d.message)
    }

    fn kpi(name: &str) -> (String, Yaml) {
        (
            name.to_owned(),
            Yaml::map()
                .with("service", "api")
                .commented(vec![format!("from {name}")]),
        )
    }

    #[test]
    fn entries_go_after_the_last_one_and_new_sections_at_the_end() {
        let text = "kind: Plan\nkpis:\n    a:\n      service: api  # note\n    b: {service: api}\n\n# about the SLOs\nslos:\n  x: {}\n";
        let out = spliced(
            text,
            &[("kpis", vec![kpi("c")]), ("services", vec![kpi("api")])],
        )
        .unwrap();
        assert_eq!(
            out,
            "kind: Plan\nkpis:\n    a:\n      service: api  # note\n    b: {service: api}\n    # imported\n    # from c\n    c:\n      service: api\n\n# about the SLOs\nslos:\n  x: {}\n\nservices:\n  # imported\n  # from api\n  api:\n    service: api\n"
        );
    }

    #[test]
    fn empty_sections_lose_their_empty_value_only() {
        for (text, want) in [
            (
                "kpis:\nslos: {}\n",
                "kpis:\n  # imported\n  # from c\n  c:\n    service: api\nslos: {}\n",
            ),
            (
                "kpis: {}  # none yet\n",
                "kpis:  # none yet\n  # imported\n  # from c\n  c:\n    service: api\n",
            ),
            (
                "kpis: ~",
                "kpis:\n  # imported\n  # from c\n  c:\n    service: api\n",
            ),
        ] {
            assert_eq!(
                spliced(text, &[("kpis", vec![kpi("c")])]).unwrap(),
                want,
                "{text:?}"
            );
        }
        // Line ends are the file's.
        assert_eq!(
            spliced("a: 1\r\nkpis:\r\n  b: {}\r\n", &[("kpis", vec![kpi("c")])]).unwrap(),
            "a: 1\r\nkpis:\r\n  b: {}\r\n  # imported\r\n  # from c\r\n  c:\r\n    service: api\r\n"
        );
        // A block scalar ends where its text does.
        assert_eq!(
            spliced(
                "kpis:\n  b:\n    description: |\n      two\n      lines\n\n# next\nslos: {}\n",
                &[("kpis", vec![kpi("c")])]
            )
            .unwrap(),
            "kpis:\n  b:\n    description: |\n      two\n      lines\n  # imported\n  # from c\n  c:\n    service: api\n\n# next\nslos: {}\n"
        );
    }

    #[test]
    fn a_section_in_flow_style_is_refused() {
        let e = spliced("kpis: {b: {service: api}}\n", &[("kpis", vec![kpi("c")])]).unwrap_err();
        assert!(e.contains("flow style"), "{e}");
    }
}
