//! The `gatehouse` binary: everything lives in the library crates; this only runs the CLI.

fn main() -> std::process::ExitCode {
    // Before any thread starts: the allocator's settings apply to the arenas threads create.
    gatehouse_malloc::tune();
    gatehouse_app::cli::run()
}
