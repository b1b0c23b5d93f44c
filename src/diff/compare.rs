//! Comparing the facts of two plans: renames first (an entry removed and another added with
//! the same content), then every entry and field, described in operational terms.

use std::collections::{BTreeMap, BTreeSet};

use super::facts::{Entries, Entry, Facts, Field, HostsFrom, Section, Sense, Val};
use crate::model::Retention;
use crate::value::money::group;
use crate::value::{Comparator, Direction, Number};

/// What kind of change, for machines (the message says it for people).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Added,
    Removed,
    Renamed,
    Changed,
    Tightened,
    Loosened,
    Raised,
    Lowered,
    Moved,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Added => "added",
            Kind::Removed => "removed",
            Kind::Renamed => "renamed",
            Kind::Changed => "changed",
            Kind::Tightened => "tightened",
            Kind::Loosened => "loosened",
            Kind::Raised => "raised",
            Kind::Lowered => "lowered",
            Kind::Moved => "moved",
        }
    }
}

/// One change, in operational terms.
#[derive(Clone, Debug)]
pub struct Change {
    pub section: Section,
    /// The entry (`response_time`, `postgres.full`, `levels.P0`); `None` for the section's own
    /// settings.
    pub subject: Option<String>,
    /// The field within the entry, when the change is about one field.
    pub field: Option<String>,
    pub kind: Kind,
    /// Markdown: user values in backticks.
    pub message: String,
    pub before: Option<String>,
    pub after: Option<String>,
    /// Further lines (the next occurrences of a moved schedule).
    pub details: Vec<String>,
    /// Why this change is risky.
    pub risk: Option<String>,
}

/// Entries renamed, per section: old name → new name.
#[derive(Clone, Debug, Default)]
pub(crate) struct Renames(BTreeMap<Section, BTreeMap<String, String>>);

impl Renames {
    /// The name `name` of `section` has in the head plan.
    pub(crate) fn map<'a>(&'a self, section: Section, name: &'a str) -> &'a str {
        self.0
            .get(&section)
            .and_then(|m| m.get(name))
            .map_or(name, String::as_str)
    }
}

fn same_val(a: &Val, b: &Val, r: &Renames) -> bool {
    match (a, b) {
        (Val::Text(x), Val::Text(y))
        | (Val::Judged(x), Val::Judged(y))
        | (Val::Prose(x), Val::Prose(y))
        | (Val::Level { name: x, .. }, Val::Level { name: y, .. })
        | (Val::Impact { name: x, .. }, Val::Impact { name: y, .. }) => x == y,
        (Val::Flag(x), Val::Flag(y)) => x == y,
        // Own matchers are the same when they are equal, also to the default they spell out; a
        // service that follows the plan's on both sides is the same whatever the plan's are
        // (the plan's own line says when they change).
        (
            Val::Hosts {
                matchers: x,
                whose: a,
            },
            Val::Hosts {
                matchers: y,
                whose: b,
            },
        ) => match (a, b) {
            (HostsFrom::Own, HostsFrom::Own | HostsFrom::Default)
            | (HostsFrom::Default, HostsFrom::Own) => x == y,
            (HostsFrom::Own, HostsFrom::Plan) | (HostsFrom::Plan, HostsFrom::Own) => false,
            (HostsFrom::Plan | HostsFrom::Default, HostsFrom::Plan | HostsFrom::Default) => true,
        },
        (Val::Ref(s, x), Val::Ref(t, y)) => s == t && r.map(*s, x) == y,
        (Val::Refs(s, x), Val::Refs(t, y)) => {
            s == t && {
                let mapped: BTreeSet<&str> = x.iter().map(|n| r.map(*s, n)).collect();
                let other: BTreeSet<&str> = y.iter().map(String::as_str).collect();
                mapped == other
            }
        }
        (Val::List(x), Val::List(y))
        | (Val::Mutes { muted: x, .. }, Val::Mutes { muted: y, .. }) => x == y,
        (
            Val::Threshold {
                threshold: x,
                value: v,
                ..
            },
            Val::Threshold {
                threshold: y,
                value: w,
                ..
            },
        ) => x.to_string() == y.to_string() || (x.op == y.op && v.is_some() && v == w),
        (Val::Duration(x, _), Val::Duration(y, _)) => x == y,
        (Val::Retention(x), Val::Retention(y)) => x == y,
        (Val::Percent(x, _), Val::Percent(y, _)) => x == y,
        (Val::Money { amount: x, unit: u }, Val::Money { amount: y, unit: v }) => x == y && u == v,
        (
            Val::When {
                shown: x,
                instants: i,
                ..
            },
            Val::When {
                shown: y,
                instants: j,
                ..
            },
        ) => x == y && i == j,
        _ => false,
    }
}

fn same_entry(a: &Entry, b: &Entry, r: &Renames) -> bool {
    a.fields.len() == b.fields.len()
        && a.fields
            .iter()
            .all(|f| b.field(&f.key).is_some_and(|g| same_val(&f.val, &g.val, r)))
}

/// The parts of an entry (`postgres.full` of `postgres`), by suffix.
fn children<'a>(entries: &'a Entries, name: &str) -> BTreeMap<&'a str, &'a Entry> {
    let prefix = format!("{name}.");
    entries
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .map(|(k, e)| (&k[prefix.len()..], e))
        .collect()
}

fn same_tree(b: &Entries, old: &str, h: &Entries, new: &str, r: &Renames) -> bool {
    let (Some(x), Some(y)) = (b.get(old), h.get(new)) else {
        return false;
    };
    if !same_entry(x, y, r) {
        return false;
    }
    let (cx, cy) = (children(b, old), children(h, new));
    cx.len() == cy.len()
        && cx
            .iter()
            .all(|(k, e)| cy.get(k).is_some_and(|f| same_entry(e, f, r)))
}

fn top_level(e: &Entries) -> impl Iterator<Item = &String> {
    e.keys().filter(|k| !k.is_empty() && !k.contains('.'))
}

/// Entries removed on one side and added on the other with the same content (references
/// compared through the renames found so far), each matching exactly one.
pub(crate) fn renames(base: &Facts, head: &Facts) -> Renames {
    let mut r = Renames::default();
    for s in Section::RENAME_ORDER {
        let (Some(b), Some(h)) = (base.section(s), head.section(s)) else {
            continue;
        };
        let removed: Vec<&String> = top_level(b).filter(|k| !h.contains_key(*k)).collect();
        let added: Vec<&String> = top_level(h).filter(|k| !b.contains_key(*k)).collect();
        let mut found = BTreeMap::new();
        for old in &removed {
            let candidates: Vec<&&String> = added
                .iter()
                .filter(|new| same_tree(b, old, h, new, &r))
                .collect();
            if let [new] = candidates.as_slice() {
                let back = removed
                    .iter()
                    .filter(|o| same_tree(b, o, h, new, &r))
                    .count();
                if back == 1 {
                    found.insert((*old).clone(), (**new).clone());
                }
            }
        }
        if !found.is_empty() {
            r.0.insert(s, found);
        }
    }
    r
}

/// The key a base entry has in the head plan, through renames.
fn mapped_key(section: Section, key: &str, e: &Entry, r: &Renames) -> String {
    if let Some(o) = &e.origin {
        let new = r.map(o.section, &o.name);
        if new != o.name {
            return format!("{}{}", crate::model::alerts::camel(new), o.suffix);
        }
        return key.to_owned();
    }
    match key.split_once('.') {
        Some((parent, rest)) if section.renames() => {
            format!("{}.{rest}", r.map(section, parent))
        }
        _ => r.map(section, key).to_owned(),
    }
}

/// Every change from `base` to `head`, section by section, entries in name order.
pub(crate) fn compare(base: &Facts, head: &Facts) -> Vec<Change> {
    let r = renames(base, head);
    let empty = Entries::new();
    let mut out = Vec::new();
    for s in Section::ALL {
        let b = base.section(s).unwrap_or(&empty);
        let h = head.section(s).unwrap_or(&empty);
        let mut mapped: BTreeMap<String, (&String, &Entry)> = BTreeMap::new();
        for (k, e) in b {
            mapped.insert(mapped_key(s, k, e, &r), (k, e));
        }
        follow_slots(&mut mapped, h, &r);
        let mut keys: BTreeSet<&String> = mapped.keys().collect();
        keys.extend(h.keys());
        for key in keys {
            let parent_only_on_one_side = key
                .split_once('.')
                .is_some_and(|(p, _)| s.renames() && (mapped.contains_key(p) != h.contains_key(p)));
            let subject = (!key.is_empty()).then(|| key.clone());
            // A section's own settings on one side only: each setting is added or removed.
            let none = Entry::default();
            if key.is_empty() {
                let be = mapped.get(key).map_or(&none, |(_, e)| *e);
                let he = h.get(key).unwrap_or(&none);
                fields(s, None, be, he, &r, &mut out);
                continue;
            }
            match (mapped.get(key), h.get(key)) {
                (Some((old, be)), Some(he)) => {
                    // Parts of a renamed entry (`postgres.full`) are renamed with it.
                    let part = s.renames() && key.contains('.');
                    if *old != key && !part {
                        out.push(renamed(s, subject.clone(), old, be, &r));
                    }
                    fields(s, subject.as_ref(), be, he, &r, &mut out);
                }
                (Some((_, be)), None) if !parent_only_on_one_side => {
                    let text = be.removed.clone().unwrap_or_else(|| {
                        if be.summary.is_empty() {
                            "removed".to_owned()
                        } else {
                            format!("removed (was {})", be.summary)
                        }
                    });
                    out.push(Change {
                        section: s,
                        subject,
                        field: None,
                        kind: Kind::Removed,
                        message: text,
                        before: Some(be.summary.clone()).filter(|s| !s.is_empty()),
                        after: None,
                        details: Vec::new(),
                        risk: be.risk_removed.clone(),
                    });
                }
                (None, Some(he)) if !parent_only_on_one_side => {
                    let text = he.added.clone().unwrap_or_else(|| {
                        if he.summary.is_empty() {
                            "added".to_owned()
                        } else {
                            format!("added ({})", he.summary)
                        }
                    });
                    out.push(Change {
                        section: s,
                        subject,
                        field: None,
                        kind: Kind::Added,
                        message: text,
                        before: None,
                        after: Some(he.summary.clone()).filter(|s| !s.is_empty()),
                        details: Vec::new(),
                        risk: he.risk_added.clone(),
                    });
                }
                _ => {}
            }
        }
    }
    out
}

/// A KPI threshold alert is named after its level: when the level changes, so does the name,
/// and two thresholds may swap names (a warning takes the critical's old level). Base KPI
/// alerts are paired with the head alert of the same KPI (through renames) and threshold, so a
/// new level is said as a rename, not as one alert removed and another added. A base alert
/// left without a pair whose key a paired one took is shown under `KEY (before)`.
fn follow_slots<'b>(
    mapped: &mut BTreeMap<String, (&'b String, &'b Entry)>,
    h: &Entries,
    r: &Renames,
) {
    let pair = |e: &Entry| -> Option<String> {
        let o = e.origin.as_ref()?;
        let slot = o.slot?;
        let kpi = r.map(o.section, &o.name);
        h.iter().find_map(|(hk, he)| {
            let ho = he.origin.as_ref()?;
            (ho.slot == Some(slot) && ho.section == o.section && ho.name == kpi).then(|| hk.clone())
        })
    };
    let mut rest = Vec::new();
    for (key, v) in std::mem::take(mapped) {
        match pair(v.1) {
            Some(to) => {
                mapped.insert(to, v);
            }
            None => rest.push((key, v)),
        }
    }
    for (key, v) in rest {
        let key = if mapped.contains_key(&key) {
            format!("{key} (before)")
        } else {
            key
        };
        mapped.insert(key, v);
    }
}

fn renamed(s: Section, subject: Option<String>, old: &str, e: &Entry, r: &Renames) -> Change {
    // An alert's name is what silences, dashboards and routes match on.
    let matched = format!(
        "silences, dashboards and Alertmanager routes that match `alertname=\"{old}\"` no longer match it"
    );
    let message = match &e.origin {
        Some(o) if r.map(o.section, &o.name) != o.name => format!(
            "renamed from `{old}` (follows the rename of `{}.{}`); {matched}",
            o.section.key(),
            o.name
        ),
        Some(o) => format!(
            "renamed from `{old}`: its {} threshold is at another level, and a KPI alert is named after its level; {matched}",
            o.slot.unwrap_or("")
        ),
        None => format!("renamed from `{old}` (same content)"),
    };
    Change {
        section: s,
        subject,
        field: None,
        kind: Kind::Renamed,
        message,
        before: Some(old.to_owned()),
        after: None,
        details: Vec::new(),
        risk: None,
    }
}

fn fields(
    s: Section,
    subject: Option<&String>,
    be: &Entry,
    he: &Entry,
    r: &Renames,
    out: &mut Vec<Change>,
) {
    let mut push = |f: &Field, m: Msg| {
        out.push(Change {
            section: s,
            subject: subject.cloned(),
            field: Some(f.key.clone()),
            kind: m.kind,
            message: m.text,
            before: m.before,
            after: m.after,
            details: m.details,
            risk: m.risk,
        });
    };
    // A field removed (or added) with its parent (`health.interval` with `health`) is said by
    // the parent's line.
    let with_parent = |key: &str, gone: &Entry, there: &Entry| {
        key.rsplit_once('.').is_some_and(|(parent, _)| {
            gone.field(parent).is_some() && there.field(parent).is_none()
        })
    };
    for bf in &be.fields {
        if he.field(&bf.key).is_none() && with_parent(&bf.key, be, he) {
            continue;
        }
        match he.field(&bf.key) {
            Some(hf) => {
                for mut m in describe(&bf.label, &bf.val, &hf.val, r) {
                    if m.weakens {
                        m.risk.clone_from(&bf.risk_weakened);
                    }
                    push(bf, m);
                }
            }
            None => {
                let text = match &bf.val {
                    Val::Prose(_) => format!("{} removed", bf.label),
                    v => format!("{} removed (was {})", bf.label, tick(&v.shown())),
                };
                push(
                    bf,
                    Msg {
                        kind: Kind::Removed,
                        text,
                        before: Some(bf.val.shown()),
                        after: None,
                        details: Vec::new(),
                        risk: bf.risk_removed.clone(),
                        weakens: true,
                    },
                );
            }
        }
    }
    for hf in &he.fields {
        if be.field(&hf.key).is_none() && !with_parent(&hf.key, he, be) {
            let text = match &hf.val {
                Val::Prose(_) => format!("{} added", hf.label),
                v => format!("{} set to {}", hf.label, tick(&v.shown())),
            };
            push(
                hf,
                Msg {
                    kind: Kind::Added,
                    text,
                    before: None,
                    after: Some(hf.val.shown()),
                    details: Vec::new(),
                    risk: None,
                    weakens: false,
                },
            );
        }
    }
}

/// A change of one field.
struct Msg {
    kind: Kind,
    text: String,
    before: Option<String>,
    after: Option<String>,
    details: Vec<String>,
    risk: Option<String>,
    /// Loosened, lowered, cut, turned off or losing an item: risky where the field says so.
    weakens: bool,
}

impl Msg {
    fn new(kind: Kind, text: String, a: &Val, b: &Val) -> Msg {
        Msg {
            kind,
            text,
            before: Some(a.shown()),
            after: Some(b.shown()),
            details: Vec::new(),
            risk: None,
            weakens: matches!(kind, Kind::Loosened | Kind::Lowered),
        }
    }
}

/// A user value as Markdown inline code, whatever it holds (backticks, line breaks): the fence
/// is one backtick longer than the longest run inside (as `CommonMark` says), so no run closes it.
pub(crate) fn tick(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    if longest == 0 {
        format!("`{s}`")
    } else {
        let fence = "`".repeat(longest + 1);
        format!("{fence} {s} {fence}")
    }
}

fn arrow(a: &Val, b: &Val) -> String {
    format!("{} → {}", tick(&a.shown()), tick(&b.shown()))
}

fn worse(d: Direction) -> &'static str {
    match d {
        Direction::Above => "higher is worse",
        Direction::Below => "lower is worse",
    }
}

fn inclusive(op: Comparator) -> bool {
    matches!(op, Comparator::Le | Comparator::Ge)
}

/// How a change from `a` to `b` reads (`warning threshold tightened `> 80%` → `> 70%` (higher
/// is worse: fires sooner)`), with whether it weakens the plan: for the facts that say a
/// change by themselves (an environment's own threshold, against the plan's).
pub(crate) fn said(label: &str, a: &Val, b: &Val) -> Option<(String, bool)> {
    describe(label, a, b, &Renames::default())
        .into_iter()
        .next()
        .map(|m| (m.text, m.weakens))
}

fn describe(label: &str, a: &Val, b: &Val, r: &Renames) -> Vec<Msg> {
    if same_val(a, b, r) {
        return Vec::new();
    }
    let changed = || {
        vec![Msg::new(
            Kind::Changed,
            format!("{label} changed {}", arrow(a, b)),
            a,
            b,
        )]
    };
    match (a, b) {
        (Val::Prose(_), Val::Prose(_)) => {
            vec![Msg::new(Kind::Changed, format!("{label} changed"), a, b)]
        }
        (Val::Judged(was), Val::Judged(now)) => vec![Msg::new(
            Kind::Changed,
            format!("{label} now judged on {now} (was: {was})"),
            a,
            b,
        )],
        (Val::Flag(_), Val::Flag(on)) => {
            let mut m = Msg::new(
                Kind::Changed,
                format!("{label} turned {}", if *on { "on" } else { "off" }),
                a,
                b,
            );
            m.weakens = !on;
            vec![m]
        }
        (
            Val::Mutes {
                all: all_before,
                muted: before,
                ..
            },
            Val::Mutes { all, muted, paging },
        ) => {
            let words = |all: &[String], muted: &[String]| {
                let all: Vec<&str> = all.iter().map(String::as_str).collect();
                let muted: Vec<&str> = muted.iter().map(String::as_str).collect();
                crate::model::levels::describe(&all, &muted, tick)
            };
            let mut m = Msg::new(
                Kind::Changed,
                format!(
                    "now mutes {} (was: {})",
                    words(all, muted),
                    words(all_before, before)
                ),
                a,
                b,
            );
            // Risky only when a level that pages is newly muted.
            m.weakens = muted
                .iter()
                .any(|l| !before.contains(l) && paging.contains(l));
            vec![m]
        }
        (Val::Refs(s, x), Val::Refs(_, y)) => {
            let mapped: BTreeSet<&str> = x.iter().map(|n| r.map(*s, n)).collect();
            let now: BTreeSet<&str> = y.iter().map(String::as_str).collect();
            let gone: Vec<String> = x
                .iter()
                .filter(|n| !now.contains(r.map(*s, n)))
                .map(|n| tick(n))
                .collect();
            let new: Vec<String> = y
                .iter()
                .filter(|n| !mapped.contains(n.as_str()))
                .map(|n| tick(n))
                .collect();
            let mut out = Vec::new();
            if !gone.is_empty() {
                let mut m = Msg::new(
                    Kind::Removed,
                    format!("{label}: {} removed", gone.join(", ")),
                    a,
                    b,
                );
                m.weakens = true;
                out.push(m);
            }
            if !new.is_empty() {
                out.push(Msg::new(
                    Kind::Added,
                    format!("{label}: {} added", new.join(", ")),
                    a,
                    b,
                ));
            }
            out
        }
        (Val::List(x), Val::List(y)) => {
            let gone: Vec<String> = x
                .iter()
                .filter(|i| !y.contains(i))
                .map(|i| tick(i))
                .collect();
            let new: Vec<String> = y
                .iter()
                .filter(|i| !x.contains(i))
                .map(|i| tick(i))
                .collect();
            let mut parts = Vec::new();
            if !gone.is_empty() {
                parts.push(format!("{} removed", gone.join(", ")));
            }
            if !new.is_empty() {
                parts.push(format!("{} added", new.join(", ")));
            }
            if parts.is_empty() {
                parts.push("reordered".to_owned());
            }
            let mut m = Msg::new(
                Kind::Changed,
                format!("{label}: {}", parts.join("; ")),
                a,
                b,
            );
            m.weakens = !gone.is_empty();
            vec![m]
        }
        (
            Val::Threshold {
                threshold: ta,
                value: va,
                bad,
                alert,
            },
            Val::Threshold {
                threshold: tb,
                value: vb,
                ..
            },
        ) => threshold(
            label,
            a,
            b,
            (ta, va.as_ref()),
            (tb, vb.as_ref()),
            *bad,
            *alert,
        ),
        (Val::Duration(x, sense), Val::Duration(y, _)) => {
            let longer = y > x;
            let (kind, word) = match (sense, longer) {
                (Sense::LongerLooser, true) | (Sense::LongerStricter, false) => {
                    (Kind::Loosened, "loosened")
                }
                (Sense::LongerLooser, false) | (Sense::LongerStricter, true) => {
                    (Kind::Tightened, "tightened")
                }
                (Sense::Allowance, true) => (Kind::Raised, "grows"),
                (Sense::Allowance, false) => (Kind::Lowered, "shrinks"),
                (_, true) => (Kind::Raised, "lengthened"),
                (_, false) => (Kind::Lowered, "shortened"),
            };
            vec![Msg::new(
                kind,
                format!("{label} {word} {}", arrow(a, b)),
                a,
                b,
            )]
        }
        (Val::Retention(x), Val::Retention(y)) => {
            let longer = match (x, y) {
                (Retention::For(p), Retention::For(q)) => q > p,
                (Retention::For(_), Retention::Forever) => true,
                _ => false,
            };
            let (kind, word) = if longer {
                (Kind::Raised, "extended")
            } else {
                (Kind::Lowered, "cut")
            };
            vec![Msg::new(
                kind,
                format!("{label} {word} `{x}` → `{y}`"),
                a,
                b,
            )]
        }
        (Val::Percent(x, sense), Val::Percent(y, _)) => {
            let higher = y > x;
            let word = if higher { "raised" } else { "lowered" };
            let (kind, note) = match (sense, higher) {
                (Sense::HigherStricter, true) | (Sense::HigherLooser, false) => {
                    (Kind::Tightened, " (stricter)")
                }
                (Sense::HigherStricter, false) | (Sense::HigherLooser, true) => {
                    (Kind::Loosened, " (looser)")
                }
                (_, true) => (Kind::Raised, ""),
                (_, false) => (Kind::Lowered, ""),
            };
            vec![Msg::new(
                kind,
                format!("{label} {word} {}{note}", arrow(a, b)),
                a,
                b,
            )]
        }
        (Val::Money { amount: x, unit: u }, Val::Money { amount: y, unit: v }) if u == v => {
            let delta = y.checked_sub(*x).unwrap_or(Number::ZERO);
            let (kind, word, sign, abs) = if delta.is_negative() {
                (Kind::Lowered, "lowered", "−", delta.negated())
            } else {
                (Kind::Raised, "raised", "+", delta)
            };
            let mut m = Msg::new(
                kind,
                format!("{label} {word} {} ({sign}{})", arrow(a, b), group(abs)),
                a,
                b,
            );
            m.weakens = false;
            vec![m]
        }
        (Val::Level { rank: Some(x), .. }, Val::Level { rank: Some(y), .. })
        | (Val::Impact { rank: Some(x), .. }, Val::Impact { rank: Some(y), .. }) => {
            let (kind, word) = match y.cmp(x) {
                std::cmp::Ordering::Less => (Kind::Raised, "raised"),
                std::cmp::Ordering::Greater => (Kind::Lowered, "lowered"),
                std::cmp::Ordering::Equal => (Kind::Changed, "changed"),
            };
            let note = if kind == Kind::Changed {
                " (same rank)"
            } else {
                ""
            };
            vec![Msg::new(
                kind,
                format!("{label} {word} {}{note}", arrow(a, b)),
                a,
                b,
            )]
        }
        (Val::Hosts { .. }, Val::Hosts { .. }) => {
            let from = |v: &Val| match v {
                Val::Hosts {
                    whose: HostsFrom::Plan,
                    ..
                } => format!("the plan's {}", tick(&v.shown())),
                Val::Hosts {
                    whose: HostsFrom::Default,
                    ..
                } => format!("the default {}", tick(&v.shown())),
                _ => tick(&v.shown()),
            };
            vec![Msg::new(
                Kind::Changed,
                format!("{label} now read from {} (was {})", from(b), from(a)),
                a,
                b,
            )]
        }
        (
            Val::When {
                shown: x,
                next: p,
                rule: r,
                dates: d,
                ..
            },
            Val::When {
                shown: y,
                next: q,
                rule: s,
                dates: e,
                ..
            },
        ) => {
            // Dates decide when it runs and when its missed-run alert is awaited: say what
            // changed about them.
            let text = if x == y {
                format!("{label} {} moved (the time zone changed)", tick(x))
            } else if r != s {
                format!("moved {}", arrow(a, b))
            } else {
                match (d, e) {
                    (None, Some(e)) => format!("now runs only {e} (was: with no dates)"),
                    (Some(d), None) => format!("now runs with no dates (was: only {d})"),
                    (Some(d), Some(e)) => format!("now runs only {e} (was: only {d})"),
                    (None, None) => format!("moved {}", arrow(a, b)),
                }
            };
            let list = |v: &Vec<String>| {
                if v.is_empty() {
                    "none".to_owned()
                } else {
                    v.iter()
                        .map(|t| format!("`{t}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            let mut m = Msg::new(Kind::Moved, text, a, b);
            m.details = vec![
                format!("next before: {}", list(p)),
                format!("next after: {}", list(q)),
            ];
            vec![m]
        }
        _ => changed(),
    }
}

/// A threshold's region is the values it selects (`> 300ms`: above 300ms). An alert threshold
/// whose region grows fires sooner (tightened); an objective whose region grows accepts more
/// (loosened).
#[allow(clippy::too_many_arguments)]
fn threshold(
    label: &str,
    a: &Val,
    b: &Val,
    (ta, va): (&crate::value::Threshold, Option<&(String, Number)>),
    (tb, vb): (&crate::value::Threshold, Option<&(String, Number)>),
    bad: Option<Direction>,
    alert: bool,
) -> Vec<Msg> {
    let changed = || {
        vec![Msg::new(
            Kind::Changed,
            format!("{label} changed {}", arrow(a, b)),
            a,
            b,
        )]
    };
    let (Some(oa), Some(ob), Some((fa, x)), Some((fb, y))) = (ta.op, tb.op, va, vb) else {
        return changed();
    };
    if fa != fb {
        return changed();
    }
    let (x, y) = (*x, *y);
    let dir = oa.direction();
    if ob.direction() != dir {
        return vec![Msg::new(
            Kind::Changed,
            format!("{label} reversed {}", arrow(a, b)),
            a,
            b,
        )];
    }
    let (grows, shrinks) = match dir {
        Direction::Above => (
            y < x || (y == x && inclusive(ob) && !inclusive(oa)),
            y > x || (y == x && inclusive(oa) && !inclusive(ob)),
        ),
        Direction::Below => (
            y > x || (y == x && inclusive(ob) && !inclusive(oa)),
            y < x || (y == x && inclusive(oa) && !inclusive(ob)),
        ),
    };
    if !grows && !shrinks {
        return vec![Msg::new(
            Kind::Changed,
            format!("{label} rewritten {} (same value)", arrow(a, b)),
            a,
            b,
        )];
    }
    let tightened = if alert { grows } else { shrinks };
    let (kind, word) = if tightened {
        (Kind::Tightened, "tightened")
    } else {
        (Kind::Loosened, "loosened")
    };
    let mut why = Vec::new();
    if let Some(d) = bad {
        why.push(worse(d).to_owned());
    }
    if alert {
        why.push(
            if tightened {
                "fires sooner"
            } else {
                "fires later"
            }
            .to_owned(),
        );
    }
    let why = if why.is_empty() {
        String::new()
    } else {
        format!(" ({})", why.join(": "))
    };
    vec![Msg::new(
        kind,
        format!("{label} {word} {}{why}", arrow(a, b)),
        a,
        b,
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Threshold, Unit};

    fn t(text: &str, alert: bool, bad: Direction) -> Val {
        let threshold = Threshold::parse(text, true).expect("threshold");
        let unit = Unit::parse("s").expect("unit");
        let value = threshold
            .quantity
            .convert_to(&unit)
            .map(|v| (unit.family.name(), v));
        Val::Threshold {
            threshold,
            value,
            bad: Some(bad),
            alert,
        }
    }

    fn one(label: &str, a: &Val, b: &Val) -> (Kind, String) {
        let m = describe(label, a, b, &Renames::default());
        assert_eq!(m.len(), 1, "{label}");
        (m[0].kind, m[0].text.clone())
    }

    #[test]
    fn thresholds_by_the_kpi_direction() {
        use Direction::{Above, Below};
        let cases = [
            ("> 300ms", "> 500ms", true, Above, Kind::Loosened),
            ("> 500ms", "> 300ms", true, Above, Kind::Tightened),
            ("> 300ms", ">= 300ms", true, Above, Kind::Tightened),
            ("< 50", "< 30", true, Below, Kind::Loosened),
            ("<= 50", "< 50", true, Below, Kind::Loosened),
            // An objective names the good side: accepting more is looser.
            ("< 200ms", "< 300ms", false, Above, Kind::Loosened),
            ("> 100", "> 120", false, Below, Kind::Tightened),
            ("> 300ms", "< 300ms", true, Above, Kind::Changed),
        ];
        for (a, b, alert, bad, kind) in cases {
            let (k, text) = one("threshold", &t(a, alert, bad), &t(b, alert, bad));
            assert_eq!(k, kind, "{a} → {b}: {text}");
        }
        // The same value in other words is no change.
        assert!(
            describe(
                "threshold",
                &t("> 300ms", true, Above),
                &t("> 0.3s", true, Above),
                &Renames::default()
            )
            .is_empty()
        );
    }

    #[test]
    fn durations_by_their_sense() {
        let d = |s: &str, sense| {
            Val::Duration(crate::value::Duration::parse(s, false).expect("d"), sense)
        };
        assert_eq!(
            one(
                "rpo",
                &d("1h", Sense::LongerLooser),
                &d("4h", Sense::LongerLooser)
            )
            .0,
            Kind::Loosened
        );
        assert_eq!(
            one(
                "mtbf",
                &d("1h", Sense::LongerStricter),
                &d("4h", Sense::LongerStricter)
            )
            .0,
            Kind::Tightened
        );
        assert_eq!(
            one(
                "budget",
                &d("4h", Sense::Allowance),
                &d("1h", Sense::Allowance)
            )
            .1,
            "budget shrinks `4h` → `1h`"
        );
        assert!(
            describe(
                "x",
                &d("60m", Sense::Neutral),
                &d("1h", Sense::Neutral),
                &Renames::default()
            )
            .is_empty()
        );
        let r = |x: Retention| Val::Retention(x);
        let days = |n| Retention::For(crate::value::Duration::from_days(n));
        let m = describe(
            "retention",
            &r(Retention::Forever),
            &r(days(30)),
            &Renames::default(),
        );
        assert!(
            m[0].weakens && m[0].text.contains("cut `forever` → `30d`"),
            "{}",
            m[0].text
        );
    }

    #[test]
    fn levels_by_rank_and_references_through_renames() {
        let l = |n: &str, r| Val::Level {
            name: n.to_owned(),
            rank: Some(r),
        };
        assert_eq!(
            one("level", &l("P2", 2), &l("P1", 1)),
            (Kind::Raised, "level raised `P2` → `P1`".to_owned())
        );
        assert_eq!(one("level", &l("P1", 1), &l("SEV1", 1)).0, Kind::Changed);
        let mut renames = Renames::default();
        renames
            .0
            .insert(Section::Runbooks, [("a".to_owned(), "b".to_owned())].into());
        let a = Val::Ref(Section::Runbooks, "a".to_owned());
        let b = Val::Ref(Section::Runbooks, "b".to_owned());
        assert!(same_val(&a, &b, &renames));
        assert!(!same_val(&a, &b, &Renames::default()));
    }

    #[test]
    fn values_are_inline_code_whatever_they_hold() {
        assert_eq!(tick("a"), "`a`");
        assert_eq!(tick("a`b"), "`` a`b ``");
        assert_eq!(tick("a\nb"), "`a b`");
        // A run of two (a hostile-input finding) or more cannot close the span.
        assert_eq!(tick("a``b"), "``` a``b ```");
        assert_eq!(tick("``` x"), "```` ``` x ````");
    }
}
