// mimalloc: a build allocates and frees a YAML tree for every generated file, and glibc's
// allocator was a quarter of the CPU time; this takes 15% off `build` (book: Performance).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    upkeep::cli::main()
}
