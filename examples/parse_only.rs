//! The benchmark's baseline: read every `.yaml` file under the given paths and parse it into
//! the span-carrying YAML tree `upkeep check` starts from, and nothing else. `scripts/bench.py`
//! compares `check` and `build` with this.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut sources = upkeep::source::SourceMap::new();
    let mut diags = upkeep::diag::Diagnostics::new();
    let mut nodes = 0usize;
    for arg in std::env::args_os().skip(1) {
        for entry in walkdir::WalkDir::new(PathBuf::from(arg)).sort_by_file_name() {
            let Ok(entry) = entry else { continue };
            if !entry.file_type().is_file() || entry.path().extension().is_none_or(|e| e != "yaml")
            {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            let id = sources.add(entry.path().to_path_buf(), text);
            if upkeep::parse::parse(id, sources.get(id), &mut diags).is_some() {
                nodes += 1;
            }
        }
    }
    println!("parsed {nodes} files");
    if diags.has_errors() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
