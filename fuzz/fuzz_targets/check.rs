//! Any text as a plan: the whole check pipeline runs; every diagnostic has help and a span on
//! character boundaries inside its file (or names the file); every output format renders.
#![no_main]

use libfuzzer_sys::fuzz_target;
use upkeep::diag::render;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let ws = upkeep::driver::check_texts(vec![("fuzz.yaml".into(), text.to_owned())], upkeep::driver::Options::default());
    for d in &ws.diagnostics {
        if let Some(span) = d.span {
            let file = &ws.sources.get(span.file).text;
            let (start, end) = (span.start as usize, span.end as usize);
            assert!(start <= end && end <= file.len(), "span out of the file: {d:?}");
            assert!(file.is_char_boundary(start) && file.is_char_boundary(end), "span splits a character: {d:?}");
        } else {
            assert!(d.file.is_some(), "neither span nor file: {d:?}");
        }
        assert!(d.help.is_some(), "no help: {d:?}");
    }
    let _ = render::human(&ws.diagnostics, &ws.sources, ws.files, render::HumanOptions::default());
    let _ = render::json(&ws.diagnostics, &ws.sources, ws.files);
    let _ = render::sarif(&ws.diagnostics, &ws.sources);
    let _ = render::github(&ws.diagnostics, &ws.sources);
});
