//! Any text as a plan: when it checks without errors, every target builds in memory, to
//! relative paths inside the output directory, and the files keep their shape (as many crontab
//! entries, CronJobs, alert rules, routes and calendar events as the plan has).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let ws = upkeep::driver::check_texts(vec![("fuzz.yaml".into(), text.to_owned())], upkeep::driver::Options::default());
    if ws.errors() > 0 {
        return;
    }
    let built = upkeep::driver::build(&ws, &upkeep::emit::Options::default());
    let wrong = upkeep::driver::shape_violations(&ws, &built);
    assert!(wrong.is_empty(), "shape: {wrong:?}");
    for a in built.artifacts() {
        assert!(a.path.components().all(|c| matches!(c, std::path::Component::Normal(_))), "path escapes: {}", a.path.display());
    }
});
