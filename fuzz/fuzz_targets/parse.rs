//! Any bytes as a YAML file: the parser returns a tree or diagnostics, within its budgets.
#![no_main]

use libfuzzer_sys::fuzz_target;
use upkeep::diag::Diagnostics;
use upkeep::source::SourceMap;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut sources = SourceMap::new();
    let id = sources.add("fuzz.yaml".into(), text.to_owned());
    let mut diags = Diagnostics::new();
    if let Some(root) = upkeep::parse::parse(id, sources.get(id), &mut diags) {
        let _ = upkeep::parse::to_json(&root);
    }
    for d in diags.iter() {
        if let Some(span) = d.span {
            assert!(span.start <= span.end && span.end as usize <= text.len(), "span out of the file: {d:?}");
        }
    }
});
