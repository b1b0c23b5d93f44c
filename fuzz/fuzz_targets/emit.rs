//! Any text as a plan: when it checks without errors, every target builds in memory, to
//! relative paths inside the output directory.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let ws = upkeep::driver::check_texts(vec![("fuzz.yaml".into(), text.to_owned())], upkeep::driver::Options::default());
    if ws.errors() > 0 {
        return;
    }
    for a in upkeep::driver::build(&ws, &upkeep::emit::Options::default()).artifacts() {
        assert!(a.path.components().all(|c| matches!(c, std::path::Component::Normal(_))), "path escapes: {}", a.path.display());
    }
});
