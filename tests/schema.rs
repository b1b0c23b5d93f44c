//! The JSON Schema and the Rust lowering agree: the committed schema is a valid 2020-12 schema,
//! its objects have exactly the fields of the lowering's tables, every bundled plan passes both,
//! and every file under `tests/fixtures/schema/` fails both — each on its own.

mod common;

use std::collections::BTreeSet;

use upkeep::diag::{Diagnostics, Severity};
use upkeep::source::SourceFile;
use upkeep::span::FileId;

fn schema() -> serde_json::Value {
    serde_json::from_str(upkeep::schema::SCHEMA).expect("schema is JSON")
}

#[test]
fn schema_is_a_valid_draft_2020_12_schema() {
    let s = schema();
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
    if let Err(e) = jsonschema::meta::validate(&s) {
        panic!("schema does not satisfy its metaschema: {e}");
    }
}

#[test]
fn schema_objects_have_exactly_the_lowering_fields() {
    let s = schema();
    for (def, fields) in upkeep::lower::FIELD_TABLE {
        let props = s["$defs"][def]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("$defs/{def} has no properties"));
        let in_schema: BTreeSet<&str> = props.keys().map(String::as_str).collect();
        let in_rust: BTreeSet<&str> = fields.iter().copied().collect();
        assert_eq!(in_schema, in_rust, "$defs/{def} and the lowering disagree");
        assert_eq!(
            s["$defs"][def]["additionalProperties"], false,
            "$defs/{def} must reject unknown fields"
        );
        for (name, p) in props {
            assert!(
                p.get("description").is_some(),
                "$defs/{def}/properties/{name} has no description"
            );
            assert!(
                p.get("examples")
                    .and_then(|e| e.as_array())
                    .is_some_and(|a| !a.is_empty()),
                "$defs/{def}/properties/{name} has no example"
            );
        }
    }
}

struct Gates {
    schema_errors: usize,
    lowering_errors: usize,
    text: String,
}

/// Run the schema and the lowering separately on one file.
fn gates(path: &std::path::Path) -> Gates {
    let text = std::fs::read_to_string(path).expect("fixture");
    let source = SourceFile::new(path.to_path_buf(), path.display().to_string(), text);
    let mut parse_diags = Diagnostics::new();
    let root = upkeep::parse::parse(FileId(0), &source, &mut parse_diags).expect("fixture parses");
    let schema_errors = upkeep::schema::validate(FileId(0), &root)
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    // The full schema (with its top-level oneOf) as an editor applies it.
    let full = upkeep::schema::full_validator().expect("schema compiles");
    let editor_ok = full.is_valid(&upkeep::parse::to_json(&root));
    assert_eq!(
        editor_ok,
        schema_errors == 0,
        "{}: the editor schema and the per-kind schema disagree",
        path.display()
    );
    let mut lower_diags = Diagnostics::new();
    let doc = upkeep::lower::lower(FileId(0), &source, &root, &mut lower_diags);
    let lowering_errors = lower_diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count()
        + usize::from(doc.is_none());
    let text = lower_diags
        .iter()
        .map(|d| format!("{:?} {}", d.code, d.message))
        .collect::<Vec<_>>()
        .join("\n");
    Gates {
        schema_errors,
        lowering_errors,
        text,
    }
}

#[test]
fn every_violation_fails_both_the_schema_and_the_lowering() {
    let dir = common::root().join("tests/fixtures/schema");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("fixtures") {
        let path = entry.expect("entry").path();
        let g = gates(&path);
        assert!(
            g.schema_errors > 0,
            "{}: the schema accepts it",
            path.display()
        );
        assert!(
            g.lowering_errors > 0,
            "{}: the lowering accepts it",
            path.display()
        );
        n += 1;
    }
    assert!(n >= 15, "expected the violation fixtures, found {n}");
}

#[test]
fn every_bundled_plan_passes_both() {
    let mut n = 0;
    for entry in walkdir::WalkDir::new(common::root().join("plans")) {
        let entry = entry.expect("entry");
        if entry.path().extension().is_some_and(|e| e == "yaml") {
            let g = gates(entry.path());
            assert_eq!(
                g.schema_errors,
                0,
                "{} fails the schema",
                entry.path().display()
            );
            assert_eq!(
                g.lowering_errors,
                0,
                "{} fails the lowering:\n{}",
                entry.path().display(),
                g.text
            );
            n += 1;
        }
    }
    assert!(n >= 6, "expected five plans and a fragment, found {n}");
}

#[test]
fn schema_command_prints_the_committed_file() {
    let committed = std::fs::read_to_string(common::root().join("schemas/plan.schema.json"))
        .expect("schema file");
    assert_eq!(committed, upkeep::schema::SCHEMA);
}
