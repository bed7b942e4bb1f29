//! `kolla-start`: the multi-call binary. All logic lives in the library; see `kolla_start::run`.

fn main() -> std::process::ExitCode {
    kolla_start::run(std::env::args_os())
}
