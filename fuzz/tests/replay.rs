//! CI's share of fuzzing: every target's committed corpus, then 3,000 seeded mutations of
//! it (a second or two per target), none of which may panic or overflow the stack.

use std::time::{Duration, Instant};

#[test]
fn every_target_survives_its_corpus_and_a_short_seeded_run() {
    let mut failed = Vec::new();
    for target in kollars_fuzz::TARGETS {
        let run = kollars_fuzz::fuzz(
            target,
            13,
            3_000,
            Instant::now() + Duration::from_secs(30),
            |_| {},
        );
        assert!(
            run.execs >= 100,
            "{}: only {} inputs",
            target.name,
            run.execs
        );
        for (input, msg) in run.failures {
            failed.push(format!(
                "{}: {msg}: {:?}",
                target.name,
                String::from_utf8_lossy(&input)
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
