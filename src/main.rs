//! The `gatehouse` binary: everything lives in the library crates; this only runs the CLI.

fn main() -> std::process::ExitCode {
    gatehouse_app::cli::run()
}
