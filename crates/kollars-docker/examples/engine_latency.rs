//! Connect and per-request latency of engine endpoints, for `scripts/bench-ssh.sh`.
//!
//! `engine_latency ROUNDS ENDPOINT...`: for each endpoint, ROUNDS times: connect (the
//! handshake kollars does: for `ssh://`, the ssh login and the API version), then 20
//! sequential requests on that connection (`/_ping` and a container listing, as a survey
//! does), then drop. Prints one line per endpoint: median connect and median request time.

use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args
        .next()
        .and_then(|r| r.parse().ok())
        .expect("usage: engine_latency ROUNDS ENDPOINT...");
    for endpoint in args {
        let (mut connects, mut requests) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            let t = Instant::now();
            let engine = kollars_docker::Engine::connect("bench", &endpoint, None)
                .await
                .unwrap_or_else(|e| panic!("{endpoint}: {e}"));
            connects.push(t.elapsed());
            for i in 0..20 {
                let t = Instant::now();
                if i % 2 == 0 {
                    engine.docker().ping().await.expect("ping");
                } else {
                    engine.list_managed().await.expect("list");
                }
                requests.push(t.elapsed());
            }
        }
        println!(
            "{endpoint}\tconnect {:.1} ms\trequest {:.2} ms",
            median(connects).as_secs_f64() * 1e3,
            median(requests).as_secs_f64() * 1e3
        );
    }
}
