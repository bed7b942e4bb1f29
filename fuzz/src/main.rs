//! `cargo run -p kollars-fuzz --release -- TARGET SECONDS [SEED]`: fuzzes one target (see the
//! library's docs) for that long; each failing input goes to `fuzz/artifacts/TARGET/`, and the
//! input being run is kept in `fuzz/artifacts/TARGET/current` (an abort, such as a stack
//! overflow, leaves it there).

use std::io::{Seek, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(name), Some(secs)) = (args.first(), args.get(1).and_then(|s| s.parse().ok())) else {
        eprintln!("usage: kollars-fuzz TARGET SECONDS [SEED]");
        return ExitCode::from(2);
    };
    let Some(target) = kollars_fuzz::target(name) else {
        let names: Vec<&str> = kollars_fuzz::TARGETS.iter().map(|t| t.name).collect();
        eprintln!("unknown target {name}; targets: {}", names.join(", "));
        return ExitCode::from(2);
    };
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("artifacts")
        .join(name);
    std::fs::create_dir_all(&dir).expect("artifacts directory");
    let current = std::sync::Mutex::new(
        std::fs::File::create(dir.join("current")).expect("artifacts/current"),
    );
    let start = Instant::now();
    let run = kollars_fuzz::fuzz(
        target,
        seed,
        u64::MAX,
        start + Duration::from_secs(secs),
        move |input| {
            let mut f = current.lock().expect("current input");
            let _ = f.set_len(0);
            let _ = f.rewind();
            let _ = f.write_all(input);
        },
    );
    std::panic::set_hook(Box::new(|_| {}));
    for (n, (input, msg)) in run.failures.iter().enumerate() {
        let path = dir.join(format!("failure-{seed}-{n}"));
        std::fs::write(&path, input).expect("write a failure");
        eprintln!("{}: {msg}", path.display());
    }
    let _ = std::fs::remove_file(dir.join("current"));
    eprintln!(
        "{name}: {} inputs in {:.0?} (seed {seed}), {} failure(s)",
        run.execs,
        start.elapsed(),
        run.failures.len()
    );
    if run.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
