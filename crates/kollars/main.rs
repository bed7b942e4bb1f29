//! The `kollars` binary: everything lives in the library's `run`.

fn main() -> std::process::ExitCode {
    kollars::run(std::env::args_os())
}
