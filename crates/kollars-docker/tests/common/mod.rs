//! Test harness: real Docker engines, a tiny busybox image, unique container names.
//!
//! Engines come from `KOLLARS_TEST_ENGINES` (whitespace or comma separated endpoints) or from
//! `scripts/engines.sh up 2`, which starts (or reuses) two side-by-side dockerd. The test image
//! is built `FROM scratch` with Debian's static busybox through the engine's build API, once per
//! engine and tag (cached by tag). Nothing is mocked; when no engine can be had, tests fail.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use bollard::query_parameters::BuildImageOptions;
use futures_util::StreamExt;
use kollars_docker::{ContainerSpec, Engine};

/// Test image tags: `:1` and `:2` differ only by a label, so they have different IDs.
pub const IMAGE_1: &str = "kollars-test/busybox:1";
pub const IMAGE_2: &str = "kollars-test/busybox:2";

/// A command that exits promptly on SIGTERM (a well-behaved service).
pub const GOOD_CMD: &str = "sh -c 'trap \"exit 0\" TERM; sleep 3600 & wait'";

static ENDPOINTS: OnceLock<Vec<String>> = OnceLock::new();
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The endpoints of the test engines (at least two).
pub fn endpoints() -> &'static [String] {
    ENDPOINTS.get_or_init(|| {
        if let Ok(list) = std::env::var("KOLLARS_TEST_ENGINES") {
            let v: Vec<String> = list
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            assert!(!v.is_empty(), "KOLLARS_TEST_ENGINES is set but empty");
            return v;
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/engines.sh");
        let out = std::process::Command::new("bash")
            .arg(script)
            .args(["up", "2"])
            .output()
            .expect("run scripts/engines.sh");
        assert!(
            out.status.success(),
            "scripts/engines.sh up 2 failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("unix://"))
            .map(str::to_owned)
            .collect()
    })
}

/// Engine `i` (0-based) as inventory host `hostI+1`, with both test images built.
pub async fn engine(i: usize) -> Engine {
    let endpoints = endpoints();
    let ep = &endpoints[i % endpoints.len()];
    let engine = Engine::connect(&format!("host{}", i + 1), ep, None)
        .await
        .expect("connect to test engine");
    build_image(&engine, IMAGE_1, "1").await;
    build_image(&engine, IMAGE_2, "2").await;
    engine
}

/// A container name unique to this test process and call.
pub fn unique(test: &str) -> String {
    format!(
        "kt_{test}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// A spec of the test image running a TERM-aware sleep.
pub fn spec(name: &str) -> ContainerSpec {
    let mut s = ContainerSpec::new(name, IMAGE_1);
    s.command = Some(GOOD_CMD.to_owned());
    s.graceful_timeout = Some(5);
    s
}

fn build_lock() -> &'static tokio::sync::Mutex<()> {
    static LOCK: OnceLock<tokio::sync::Mutex<()>> = OnceLock::new();
    LOCK.get_or_init(|| tokio::sync::Mutex::new(()))
}

/// Builds `tag` on `engine` unless present: busybox and its applet links, a label, a CMD.
pub async fn build_image(engine: &Engine, tag: &str, variant: &str) {
    let _guard = build_lock().lock().await;
    if engine.image_id(tag).await.unwrap().is_some() {
        return;
    }
    let context = build_context(variant);
    let options = BuildImageOptions {
        t: Some(tag.to_owned()),
        rm: true,
        forcerm: true,
        labels: Some(HashMap::new()),
        ..BuildImageOptions::default()
    };
    let mut stream =
        engine
            .docker()
            .build_image(options, None, Some(bollard::body_full(context.into())));
    while let Some(item) = stream.next().await {
        let info = item.unwrap_or_else(|e| panic!("building {tag} failed: {e}"));
        if let Some(err) = info.error {
            panic!("building {tag} failed: {err}");
        }
    }
    assert!(
        engine.image_id(tag).await.unwrap().is_some(),
        "{tag} missing after build"
    );
}

fn build_context(variant: &str) -> Vec<u8> {
    let busybox = std::fs::read("/bin/busybox").expect("Debian's static busybox at /bin/busybox");
    let list = std::process::Command::new("/bin/busybox")
        .arg("--list")
        .output()
        .expect("busybox --list");
    let dockerfile = format!(
        "FROM scratch\nCOPY rootfs/ /\nLABEL kollars.test.image=\"{variant}\"\n\
         CMD [\"sh\", \"-c\", \"trap 'exit 0' TERM; sleep 3600 & wait\"]\n"
    );
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |path: &str, data: &[u8], mode: u32| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_cksum();
        b.append_data(&mut h, path, data).unwrap();
    };
    add("Dockerfile", dockerfile.as_bytes(), 0o644);
    add("rootfs/bin/busybox", &busybox, 0o755);
    add("rootfs/tmp/.keep", b"", 0o644);
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        let applet = applet.trim();
        if applet.is_empty() || applet == "busybox" {
            continue;
        }
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        b.append_link(&mut h, format!("rootfs/bin/{applet}"), "busybox")
            .unwrap();
    }
    b.into_inner().unwrap()
}

/// Removes a container, ignoring absence.
pub async fn cleanup(engine: &Engine, name: &str) {
    engine.remove(name).await.unwrap();
}

/// `State.StartedAt` and ID of a container.
pub async fn started_at_and_id(engine: &Engine, name: &str) -> (String, String) {
    let c = engine
        .inspect(name)
        .await
        .unwrap()
        .expect("container exists");
    (
        c.state.and_then(|s| s.started_at).unwrap_or_default(),
        c.id.unwrap_or_default(),
    )
}

/// Removes the named containers and volumes when dropped, also when the test panicked, so a
/// failing test does not leave containers behind on the shared engines.
pub struct Cleanup {
    endpoints: Vec<String>,
    containers: Vec<String>,
    volumes: Vec<String>,
}

impl Cleanup {
    /// Cleans `containers` and `volumes` on every given engine at drop.
    pub fn new(engines: &[&Engine], containers: &[&str], volumes: &[&str]) -> Cleanup {
        Cleanup {
            endpoints: engines.iter().map(|e| e.endpoint().to_owned()).collect(),
            containers: containers.iter().map(|s| (*s).to_owned()).collect(),
            volumes: volumes.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let endpoints = std::mem::take(&mut self.endpoints);
        let containers = std::mem::take(&mut self.containers);
        let volumes = std::mem::take(&mut self.volumes);
        // A fresh runtime on a fresh thread: drop may run inside the test's runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                for ep in &endpoints {
                    let Ok(e) = Engine::connect("cleanup", ep, None).await else {
                        continue;
                    };
                    for c in &containers {
                        let _ = e.remove(c).await;
                    }
                    for v in &volumes {
                        let _ = e
                            .docker()
                            .remove_volume(
                                v,
                                None::<bollard::query_parameters::RemoveVolumeOptions>,
                            )
                            .await;
                    }
                }
            });
        })
        .join();
    }
}

/// The compared fields of a recreate (any other action fails the test).
pub fn fields(action: &kollars_docker::Action) -> Vec<String> {
    match action {
        kollars_docker::Action::Recreate { reasons } => {
            reasons.iter().map(|r| r.field.clone()).collect()
        }
        other => panic!("expected recreate, got {other:?}"),
    }
}
