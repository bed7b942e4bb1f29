//! Fuzz targets for what kollars parses from operators and from its own renders, and a
//! mutational fuzzer that runs on the stable toolchain.
//!
//! Why not `cargo fuzz`: libFuzzer needs nightly's `-Zsanitizer=fuzzer`; this machine has the
//! stable toolchain only (`RUSTC_BOOTSTRAP=1` would pretend otherwise), so the targets are
//! plain functions and [`fuzz`] drives them: inputs from the committed corpus
//! (`fuzz/corpus/<target>/`), mutated (bytes flipped, inserted, removed, blocks duplicated
//! and spliced, tokens of the target's dictionary inserted: `[`, `{{`, `&a`, `*a`, ...)
//! by a seeded generator. Without coverage feedback it finds what a target does with
//! unusual shapes of its corpus — panics, unbounded loops, stack overflows (run on a 2 MiB
//! stack, what tokio's workers have) — not deep paths; the corpus is what guides it.
//! `tests/replay.rs` replays the corpus and a short seeded run in CI;
//! `cargo run -p kollars-fuzz --release -- TARGET SECONDS` fuzzes for longer and saves any
//! input that fails to `fuzz/artifacts/TARGET/`.
//!
//! The targets: a target returns normally for any input, error or not; a panic (or an abort)
//! is a finding.
//! - `inventory_ini`, `inventory_yaml`: [`kollars_inputs::Inventory::parse`];
//! - `yaml_inputs`: [`kollars_inputs::yaml::parse`] and the globals/passwords reading
//!   ([`kollars_inputs::configdir::parse_var_text`]), then the shape checks;
//! - `ini_merge`: kolla's `merge_configs` ([`kollars_render::ini::IniDoc`]) of the input's
//!   parts (split at NUL); what it writes must parse again;
//! - `config_json`: kolla-start's `config.json` validation against an empty image root.

use std::path::Path;

/// A fuzz target: a name, its input handler and the tokens its mutations insert.
pub struct Target {
    /// Its name (and its corpus directory's).
    pub name: &'static str,
    /// Runs one input; returns normally whatever the input.
    pub run: fn(&[u8]),
    /// Tokens of its syntax.
    pub dictionary: &'static [&'static str],
}

/// Every target.
pub const TARGETS: &[Target] = &[
    Target {
        name: "inventory_ini",
        run: inventory_ini,
        dictionary: &[
            "[",
            "]",
            ":children]",
            ":vars]",
            "=",
            "\n",
            " ",
            "[1:3]",
            "[a:c]",
            "[01:99:7]",
            "ansible_host=",
            "'",
            "\"",
            "#",
            ";",
            "all",
            "localhost",
            "\\",
        ],
    },
    Target {
        name: "inventory_yaml",
        run: inventory_yaml,
        dictionary: YAML_TOKENS,
    },
    Target {
        name: "yaml_inputs",
        run: yaml_inputs,
        dictionary: YAML_TOKENS,
    },
    Target {
        name: "ini_merge",
        run: ini_merge,
        dictionary: &[
            "[",
            "]",
            "[DEFAULT]",
            "=",
            " = ",
            "\n",
            "\n  ",
            "\t",
            "#",
            ";",
            "\0",
            "key",
            "\r\n",
        ],
    },
    Target {
        name: "config_json",
        run: config_json,
        dictionary: &[
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\"",
            "\"source\"",
            "\"dest\"",
            "\"owner\"",
            "\"perm\"",
            "\"0600\"",
            "\"/etc/x\"",
            "\"*\"",
            "\"merge\"",
            "true",
            "null",
            "\"config_files\"",
            "\"permissions\"",
            "\"path\"",
            "\"recurse\"",
            "\"command\"",
            "\"exclude\"",
            "\"optional\"",
            "\"preserve_properties\"",
            "\"root:root\"",
            "1e999",
        ],
    },
];

const YAML_TOKENS: &[&str] = &[
    ":",
    ": ",
    "- ",
    "\n",
    "\n  ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "&a ",
    "*a",
    "<<: *a",
    "!!str ",
    "!!binary ",
    "? ",
    "|\n  ",
    ">\n  ",
    "'",
    "\"",
    "#",
    "---\n",
    "...\n",
    "~",
    "yes",
    "0x1f",
    "1e3",
    "all:",
    "hosts:",
    "children:",
    "vars:",
    "\\u0000",
    "%YAML 1.1\n",
    "!",
    "@",
    "`",
];

/// The target named `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

fn text(data: &[u8]) -> &str {
    // the files kollars reads are read as UTF-8 (a file that is not fails before parsing)
    match std::str::from_utf8(data) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).expect("valid prefix"),
    }
}

fn inventory_ini(data: &[u8]) {
    let _ = kollars_inputs::Inventory::parse(Path::new("inventory"), text(data));
}

fn inventory_yaml(data: &[u8]) {
    let _ = kollars_inputs::Inventory::parse(Path::new("inventory.yml"), text(data));
}

fn yaml_inputs(data: &[u8]) {
    let t = text(data);
    let _ = kollars_inputs::yaml::parse(Path::new("globals.yml"), t);
    if let Ok(vars) = kollars_inputs::configdir::parse_var_text(Path::new("globals.yml"), t) {
        let _ = kollars_inputs::shapes::check(&vars);
        let _ = kollars_inputs::passwords::check(Path::new("passwords.yml"), &vars);
    }
}

fn ini_merge(data: &[u8]) {
    let mut doc = kollars_render::ini::IniDoc::new();
    for part in text(data).split('\0') {
        if doc.merge_source(part).is_err() {
            return;
        }
    }
    let written = doc.write();
    // what it writes (kolla's writer, blank continuation lines kept) must read again: the
    // service's own parser reads it; that it writes back byte for byte is not kolla's either
    let mut again = kollars_render::ini::IniDoc::new();
    again
        .merge_source(&written)
        .unwrap_or_else(|e| panic!("what merge_configs wrote does not parse: {e}\n{written}"));
}

fn config_json(data: &[u8]) {
    thread_local! {
        static ROOT: tempfile::TempDir = tempfile::tempdir().expect("temp dir");
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    ROOT.with(|root| {
        let _ = kolla_start::config::validate(&kolla_start::root::Root::at(root.path()), &value);
    });
}

/// A seeded generator (SplitMix64): reproducible runs without a crate.
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn bits(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.bits() % n as u64) as usize
        }
    }
}

/// `input` mutated 1 to 8 times (see the module docs); `other` is a second corpus input to
/// splice from.
pub fn mutate(rng: &mut Rng, input: &[u8], other: &[u8], dictionary: &[&str]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(v.len() + 1);
        match rng.below(8) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 => v.insert(at, rng.bits() as u8),
            2 if !v.is_empty() => {
                let n = 1 + rng.below(16.min(v.len() - at.min(v.len() - 1)));
                let from = at.min(v.len() - 1);
                v.drain(from..(from + n).min(v.len()));
            }
            3 if !v.is_empty() => {
                // a block repeated: deep nesting, long lines
                let from = rng.below(v.len());
                let n = 1 + rng.below(64.min(v.len() - from));
                let block = v[from..from + n].to_vec();
                for _ in 0..1 + rng.below(64) {
                    v.splice(at..at, block.iter().copied());
                }
            }
            4 if !other.is_empty() => {
                let from = rng.below(other.len());
                let n = 1 + rng.below(256.min(other.len() - from));
                v.splice(at..at, other[from..from + n].iter().copied());
            }
            5 if !v.is_empty() => v.truncate(at),
            _ if !dictionary.is_empty() => {
                let token = dictionary[rng.below(dictionary.len())];
                v.splice(at..at, token.bytes());
            }
            _ => v.push(b'\n'),
        }
        if v.len() > 64 * 1024 {
            v.truncate(64 * 1024);
        }
    }
    v
}

/// The committed corpus of `target` (`fuzz/corpus/<name>/`), sorted by file name.
pub fn corpus(target: &Target) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target.name);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.expect("corpus entry").path();
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("corpus file"))
        })
        .collect();
    out.sort();
    out
}

/// What a fuzzing run did.
#[derive(Debug, Default)]
pub struct Run {
    /// Inputs run.
    pub execs: u64,
    /// Inputs that panicked, with the panic's message.
    pub failures: Vec<(Vec<u8>, String)>,
}

/// Runs `target` on its corpus, then on mutations of it, until `execs` inputs or `deadline`,
/// on a thread with a 2 MiB stack (tokio's workers', the smallest kollars runs code on); `before` sees each input first (the long-running driver
/// saves it, so an abort leaves the input that caused it).
pub fn fuzz(
    target: &'static Target,
    seed: u64,
    execs: u64,
    deadline: std::time::Instant,
    before: impl Fn(&[u8]) + Send + 'static,
) -> Run {
    std::thread::Builder::new()
        .name(format!("fuzz-{}", target.name))
        .stack_size(2 << 20)
        .spawn(move || {
            let corpus = corpus(target);
            let mut rng = Rng::new(seed);
            let mut run = Run::default();
            let one = |input: Vec<u8>, run: &mut Run| {
                before(&input);
                run.execs += 1;
                if let Err(panic) = std::panic::catch_unwind(|| (target.run)(&input)) {
                    let msg = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    run.failures.push((input, msg));
                }
            };
            for (_, input) in &corpus {
                one(input.clone(), &mut run);
            }
            while run.execs < execs && std::time::Instant::now() < deadline {
                let a = &corpus[rng.below(corpus.len())].1;
                let b = &corpus[rng.below(corpus.len())].1;
                let input = mutate(&mut rng, a, b, target.dictionary);
                one(input, &mut run);
            }
            run
        })
        .expect("fuzz thread")
        .join()
        .expect("the fuzz thread ends")
}
