//! A real cloud's first services on the real images (`images/real/`), deployed by kollars
//! alone on one host, proven by a client nobody here wrote: python-openstackclient from PyPI.
//! Placement and glance run on their real images too: their databases, db sync and keystone
//! registration by kollars, then an image uploaded and downloaded byte for byte, and
//! placement answering with microversions; cron runs Debian's cron and logrotate.
//!
//! The host is an overlay2 engine in its own network namespace (`scripts/engines.sh`), whose
//! loopback carries the host's address (127.0.0.1) and the VIP (127.0.0.2, where keepalived
//! cannot run); every client runs inside that namespace. `scripts/test.sh` prepares the
//! engine, the images and the client (`KOLLARS_REAL_ENGINE`, `KOLLARS_OPENSTACK_CLIENT`);
//! without them this test makes them itself (minutes).

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::util::{engine_pid, kollars, root, site_inputs, stderr};

pub(crate) const TAG: &str = "2026.1-debian-trixie";
const TAGS: &str =
    "cron,mariadb,memcached,rabbitmq,loadbalancer,kolla-toolbox,keystone,glance,placement";
const CONTAINERS: &[&str] = &[
    "cron",
    "mariadb",
    "memcached",
    "rabbitmq",
    "haproxy",
    "kolla_toolbox",
    "keystone",
    "keystone_fernet",
    "keystone_ssh",
    "placement_api",
    "glance_api",
];
/// placement's keystone user's password in the reference's passwords.yml.
const PLACEMENT_PASSWORD: &str = "QOTsupmPMIPp5k4Zcz8HSVjKYj4SAja65VV2PL6c";
/// Where kolla puts placement's endpoints here: both on the VIP (no external FQDN), port 8780.
const PLACEMENT_URL: &str = "http://127.0.0.2:8780";

pub(crate) fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

/// The real images' engine: `KOLLARS_REAL_ENGINE`, else one started and filled here.
pub(crate) fn real_engine() -> String {
    if let Ok(e) = std::env::var("KOLLARS_REAL_ENGINE") {
        return e;
    }
    let o = run(Command::new(root().join("scripts/engines.sh"))
        .env("KOLLARS_STORAGE_DRIVER", "overlay2")
        .args(["up", "1", "/tmp/kollars-engines-real"]));
    assert!(o.status.success(), "engines.sh: {}", stderr(&o));
    let engine = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let o =
        run(Command::new(root().join("scripts/build-real-images.sh")).env("DOCKER_HOST", &engine));
    assert!(o.status.success(), "build-real-images.sh: {}", stderr(&o));
    engine
}

/// `openstack` from python-openstackclient on PyPI: `KOLLARS_OPENSTACK_CLIENT`, else a venv
/// made here.
pub(crate) fn openstack_client() -> PathBuf {
    if let Ok(c) = std::env::var("KOLLARS_OPENSTACK_CLIENT") {
        return PathBuf::from(c);
    }
    let venv = PathBuf::from("/var/cache/kollars-images/openstack-client");
    let bin = venv.join("bin/openstack");
    if !bin.exists() {
        let o = run(Command::new(root().join("scripts/openstack-client.sh")).arg(&venv));
        assert!(o.status.success(), "openstack-client.sh: {}", stderr(&o));
    }
    bin
}

pub(crate) fn docker(engine: &str, args: &[&str]) -> Output {
    run(Command::new("docker").env("DOCKER_HOST", engine).args(args))
}

/// `StartedAt` of each container.
fn started(engine: &str) -> Vec<String> {
    CONTAINERS
        .iter()
        .map(|c| {
            let o = docker(engine, &["inspect", "-f", "{{.State.StartedAt}}", c]);
            String::from_utf8_lossy(&o.stdout).trim().to_string()
        })
        .collect()
}

/// One real host's site: its inputs in a temporary directory, the real engine (emptied of
/// containers and volumes first) and the client. Each real test deploys its own tags.
pub(crate) struct Site {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) engine: String,
    pub(crate) client: PathBuf,
    tags: String,
}

/// The globals every real one-host site has: the real images, the VIP on loopback, no
/// keepalived and no ProxySQL (neither can run here).
pub(crate) fn real_globals() -> String {
    format!(
        "kolla_base_distro: debian\ndocker_registry: \"\"\ndocker_namespace: kollars\n\
         openstack_tag: {TAG}\nnetwork_interface: lo\n\
         kolla_internal_vip_address: 127.0.0.2\nenable_keepalived: \"no\"\n\
         enable_proxysql: \"no\"\ndatabase_address: 127.0.0.1\n\
         haproxy_max_connections: 8000\nkollars_privileged_containers: false\n\
         default_container_dimensions: {{}}\n"
    )
}

/// A test machine's memory for MariaDB, not a production server's 8G buffer pool: the
/// site's `config/galera.cnf`.
pub(crate) fn small_galera(site: &std::path::Path) {
    std::fs::create_dir_all(site.join("config/config")).unwrap();
    std::fs::write(
        site.join("config/config/galera.cnf"),
        "[mysqld]\ninnodb_buffer_pool_size = 256M\ninnodb_log_file_size = 64M\n",
    )
    .unwrap();
}

/// Removes every container and volume of `engine` (a test engine only ever holds a site's).
pub(crate) fn empty_engine(engine: &str) {
    for (list, rm) in [
        (&["ps", "-aq"][..], &["rm", "-f"][..]),
        (&["volume", "ls", "-q"][..], &["volume", "rm", "-f"][..]),
    ] {
        let o = docker(engine, list);
        let ids: Vec<String> = String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .map(String::from)
            .collect();
        if !ids.is_empty() {
            let mut args: Vec<&str> = rm.to_vec();
            args.extend(ids.iter().map(String::as_str));
            docker(engine, &args);
        }
    }
}

impl Site {
    fn new() -> Site {
        Site::with(TAGS, "")
    }

    /// A site deploying `tags` (kollars' `-t`) with the real globals plus `extra_globals`.
    pub(crate) fn with(tags: &str, extra_globals: &str) -> Site {
        let engine = real_engine();
        let client = openstack_client();
        empty_engine(&engine);
        let dir = tempfile::tempdir().unwrap();
        site_inputs(
            dir.path(),
            &[],
            &format!("{}{extra_globals}", real_globals()),
        );
        small_galera(dir.path());
        // kolla's all-in-one inventory (every group, as haproxy's services.d needs), its one
        // host reached through the real engine
        std::fs::copy(
            crate::util::reference().join("inputs/inventory"),
            dir.path().join("inventory"),
        )
        .unwrap();
        let globals = dir.path().join("config/globals.yml");
        let mut g = std::fs::read_to_string(&globals).unwrap();
        g.push_str(&format!(
            "kollars_engine: {engine}\nnode_config_directory: {}\n",
            dir.path().join("etc-kolla").display()
        ));
        std::fs::write(&globals, g).unwrap();
        Site {
            dir,
            engine,
            client,
            tags: tags.to_string(),
        }
    }

    fn args(&self, cmd: &str, extra: &[&str]) -> Vec<String> {
        let mut a: Vec<String> = vec![
            cmd.into(),
            "-i".into(),
            self.dir.path().join("inventory").display().to_string(),
            "--configdir".into(),
            self.dir.path().join("config").display().to_string(),
        ];
        if cmd != "post-deploy" {
            a.extend(["-t".into(), self.tags.clone()]);
        }
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    }

    pub(crate) fn kollars(&self, cmd: &str, extra: &[&str]) -> String {
        let o = kollars(self.args(cmd, extra));
        let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
        assert!(o.status.success(), "kollars {cmd} failed:\n{out}");
        out
    }

    /// `openstack ARGS` in the host's network namespace, with post-deploy's clouds.yaml.
    pub(crate) fn openstack(&self, args: &[&str]) -> Output {
        openstack_at(
            &self.engine,
            &self.client,
            &self.dir.path().join("config/clouds.yaml"),
            args,
        )
    }

    pub(crate) fn openstack_ok(&self, args: &[&str]) -> String {
        let o = self.openstack(args);
        assert!(o.status.success(), "openstack {args:?}: {}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).to_string()
    }

    /// Retries `openstack ARGS` for a while: keystone answers a few seconds after it starts.
    pub(crate) fn openstack_eventually(&self, args: &[&str], within: Duration) -> String {
        eventually(args, within, || self.openstack(args))
    }
}

/// `openstack ARGS` in the network namespace of `engine`'s host, with `clouds` as its
/// clouds.yaml.
pub(crate) fn openstack_at(
    engine: &str,
    client: &std::path::Path,
    clouds: &std::path::Path,
    args: &[&str],
) -> Output {
    run(Command::new("nsenter")
        .arg(format!("--net=/proc/{}/ns/net", engine_pid(engine)))
        .arg(client)
        .args(args)
        .env("OS_CLIENT_CONFIG_FILE", clouds)
        .env("PYTHONWARNINGS", "ignore"))
}

/// Retries `call` (`openstack ARGS`) every 2 s until it succeeds, for up to `within`; its
/// stdout. Keystone answers a few seconds after it starts.
pub(crate) fn eventually(args: &[&str], within: Duration, call: impl Fn() -> Output) -> String {
    let start = Instant::now();
    loop {
        let o = call();
        if o.status.success() {
            return String::from_utf8_lossy(&o.stdout).to_string();
        }
        assert!(
            start.elapsed() < within,
            "openstack {args:?}: {}",
            stderr(&o)
        );
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// `token issue` of the admin through the VIP (post-deploy's `kolla-admin` cloud), the id only.
pub(crate) const ADMIN_TOKEN: &[&str] = &[
    "--os-cloud",
    "kolla-admin",
    "token",
    "issue",
    "-f",
    "value",
    "-c",
    "id",
];

/// `expires` of a token, as seconds after `issued` (both from `token issue -f json`).
pub(crate) fn token_lifetime(json: &str) -> i64 {
    let v: serde_json::Value = serde_json::from_str(json).expect("token issue -f json");
    let t = |k: &str| -> i64 {
        let s = v[k].as_str().unwrap_or_else(|| panic!("no {k} in {json}"));
        let o = Command::new("date")
            .args(["-u", "-d", s, "+%s"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
    };
    t("expires") - now_unix()
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The real-image tests take turns: each starts a cloud's worth of services, and two at once
/// on two cores would test the machine's patience rather than kollars.
pub(crate) static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn identity_on_real_images_answers_a_real_client_through_the_vip() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let site = Site::new();
    let t0 = Instant::now();
    let out = site.kollars("deploy", &[]);
    eprintln!("first deploy: {:.1}s\n{out}", t0.elapsed().as_secs_f64());
    site.kollars("post-deploy", &[]);
    for c in CONTAINERS {
        let o = docker(&site.engine, &["inspect", "-f", "{{.State.Running}}", c]);
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).trim(),
            "true",
            "{c} runs"
        );
    }
    // MariaDB's own healthcheck logs in with the monitor account kollars made; RabbitMQ
    // answers its CLI
    let healthy = |c: &str, cmd: &[&str]| {
        let start = Instant::now();
        loop {
            let mut args = vec!["exec", c];
            args.extend(cmd);
            let o = docker(&site.engine, &args);
            if o.status.success() {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(90),
                "{c}: {}",
                stderr(&o)
            );
            std::thread::sleep(Duration::from_secs(2));
        }
    };
    healthy(
        "mariadb",
        &[
            "/usr/bin/healthcheck.sh",
            "--defaults-file",
            "/etc/mysql/healthcheck.cnf",
            "--connect",
            "--galera_online",
        ],
    );
    healthy("rabbitmq", &["rabbitmqctl", "status"]);
    // cron runs Debian's cron, whose daily job runs logrotate with the rendered config, which
    // logrotate itself accepts (a dry run)
    healthy("cron", &["logrotate", "-d", "/etc/logrotate.conf"]);
    let ps = docker(&site.engine, &["exec", "cron", "ps", "-eo", "args"]);
    assert!(
        String::from_utf8_lossy(&ps.stdout).contains("cron -f"),
        "cron -f runs: {}",
        String::from_utf8_lossy(&ps.stdout)
    );

    // a token through the VIP (haproxy) with kolla-ansible's cloud name
    let clouds = std::fs::read_to_string(site.dir.path().join("config/clouds.yaml")).unwrap();
    assert!(
        clouds.contains("127.0.0.2"),
        "clouds.yaml points at the VIP: {clouds}"
    );
    let token = site.openstack_eventually(ADMIN_TOKEN, Duration::from_secs(90));
    assert!(token.trim().len() > 20, "a token: {token}");
    eprintln!(
        "token issued: {:.1}s after deploy began",
        t0.elapsed().as_secs_f64()
    );

    // identity's endpoints in the catalogue
    let endpoints = site.openstack_ok(&[
        "--os-cloud",
        "kolla-admin",
        "endpoint",
        "list",
        "-f",
        "value",
        "-c",
        "Service Name",
        "-c",
        "Interface",
        "-c",
        "URL",
    ]);
    for (iface, url) in [
        ("internal", "http://127.0.0.2:5000"),
        ("public", "http://127.0.0.2:5000"),
    ] {
        assert!(
            endpoints
                .lines()
                .any(|l| l.contains("keystone") && l.contains(iface) && l.contains(url)),
            "identity {iface} endpoint {url}: {endpoints}"
        );
    }
    assert!(
        !endpoints.lines().any(|l| l.contains("admin")),
        "no admin endpoint, as kolla: {endpoints}"
    );
    let catalog = site.openstack_ok(&[
        "--os-cloud",
        "kolla-admin",
        "catalog",
        "list",
        "-f",
        "value",
    ]);
    assert!(catalog.contains("identity"), "{catalog}");

    // a user made with the client logs in
    site.openstack_ok(&[
        "--os-cloud",
        "kolla-admin",
        "user",
        "create",
        "--password",
        "demo-Pass-4711",
        "demo",
    ]);
    site.openstack_ok(&[
        "--os-cloud",
        "kolla-admin",
        "role",
        "add",
        "--user",
        "demo",
        "--project",
        "admin",
        "member",
    ]);
    let o = site.openstack(&[
        "--os-auth-url",
        "http://127.0.0.2:5000",
        "--os-identity-api-version",
        "3",
        "--os-username",
        "demo",
        "--os-password",
        "demo-Pass-4711",
        "--os-project-name",
        "admin",
        "--os-user-domain-name",
        "Default",
        "--os-project-domain-name",
        "Default",
        "token",
        "issue",
        "-f",
        "value",
        "-c",
        "id",
    ]);
    assert!(o.status.success(), "demo logs in: {}", stderr(&o));

    // placement, registered in keystone by the first deploy
    let registered = out
        .lines()
        .find(|l| l.contains("placement-api") && l.contains("Register ok"))
        .unwrap_or_else(|| panic!("the deploy says what it registered:\n{out}"));
    for part in [
        "service placement",
        "2 endpoints",
        "user placement",
        "role assignment",
    ] {
        assert!(registered.contains(part), "{part:?} in {registered}");
    }
    // glance and placement register side by side: the `service` project is made once, by
    // whichever came first (the other's create meets keystone's 409 and finds it)
    let made_service = out
        .lines()
        .filter(|l| l.contains("Register ok") && l.contains("project service"))
        .count();
    assert_eq!(made_service, 1, "project service made once:\n{out}");
    registration_holds(&site, PLACEMENT_PASSWORD);

    // glance (file store): an image of random bytes goes up and comes back identical
    let work = site.dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let bytes: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let upload = work.join("random.img");
    std::fs::write(&upload, &bytes).unwrap();
    let upload_s = upload.display().to_string();
    let created = site.openstack_eventually(
        &[
            "--os-cloud",
            "kolla-admin",
            "image",
            "create",
            "--disk-format",
            "raw",
            "--container-format",
            "bare",
            "--file",
            &upload_s,
            "-f",
            "value",
            "-c",
            "id",
            "random",
        ],
        Duration::from_secs(90),
    );
    let id = created.trim();
    let saved = work.join("saved.img");
    let saved_s = saved.display().to_string();
    site.openstack_ok(&[
        "--os-cloud",
        "kolla-admin",
        "image",
        "save",
        "--file",
        &saved_s,
        id,
    ]);
    assert!(
        std::fs::read(&saved).unwrap() == bytes,
        "image save returns the uploaded bytes"
    );
    let images = site.openstack_ok(&["--os-cloud", "kolla-admin", "image", "list", "-f", "value"]);
    assert!(
        images.contains("random") && images.contains("active"),
        "{images}"
    );

    // placement: answers, negotiates a microversion, refuses one it does not have
    let rp = site.openstack_eventually(
        &[
            "--os-cloud",
            "kolla-admin",
            "resource",
            "provider",
            "list",
            "-f",
            "json",
        ],
        Duration::from_secs(60),
    );
    assert_eq!(rp.trim(), "[]", "no resource providers yet: {rp}");
    site.openstack_ok(&[
        "--os-cloud",
        "kolla-admin",
        "--os-placement-api-version",
        "1.39",
        "resource",
        "provider",
        "list",
    ]);
    let o = site.openstack(&[
        "--os-cloud",
        "kolla-admin",
        "--os-placement-api-version",
        "1.999",
        "resource",
        "provider",
        "list",
    ]);
    assert!(!o.status.success(), "placement refuses microversion 1.999");
    assert!(
        stderr(&o).contains("1.999") || stderr(&o).contains("not supported"),
        "says why: {}",
        stderr(&o)
    );

    // a second deploy has nothing to do: no registration runs (no exec of it in the toolbox)
    let plan = site.kollars("plan", &[]);
    assert!(plan.contains("0 change(s) planned on 1 host(s)"), "{plan}");
    let before = started(&site.engine);
    let since = now_unix();
    let again = site.kollars("deploy", &[]);
    assert!(!again.contains("Register"), "{again}");
    assert_eq!(
        registrations_run(&site.engine, since),
        0,
        "a second deploy runs no registration"
    );
    assert_eq!(
        started(&site.engine),
        before,
        "a second deploy changed nothing"
    );

    // [token] expiration = 7200 (config/keystone.conf): exactly the containers whose
    // keystone.conf it changes restart — keystone and keystone_fernet, as kolla's role renders
    // keystone.conf for both from the same overrides — and a new token lives two hours
    std::fs::write(
        site.dir.path().join("config/config/keystone.conf"),
        "[token]\nexpiration = 7200\n",
    )
    .unwrap();
    let plan = site.kollars("plan", &["--no-diff"]);
    assert!(
        plan.contains("localhost: keystone: restart (config"),
        "{plan}"
    );
    assert!(
        plan.contains("localhost: keystone-fernet: restart (config"),
        "{plan}"
    );
    assert!(
        plan.contains("2 change(s) planned"),
        "only those two: {plan}"
    );
    site.kollars("reconfigure", &[]);
    let after = started(&site.engine);
    for (i, c) in CONTAINERS.iter().enumerate() {
        let restarted = after[i] != before[i];
        let expected = matches!(*c, "keystone" | "keystone_fernet");
        assert_eq!(restarted, expected, "{c} restarted: {restarted}");
    }
    let json = site.openstack_eventually(
        &["--os-cloud", "kolla-admin", "token", "issue", "-f", "json"],
        Duration::from_secs(60),
    );
    let lifetime = token_lifetime(&json);
    assert!(
        (7100..=7200).contains(&lifetime),
        "token lives {lifetime}s: {json}"
    );

    // a new password for placement's keystone user (passwords.yml): plan says the
    // registration will set it, the next deploy does (once), and it logs in, the old one not
    let passwords = site.dir.path().join("config/passwords.yml");
    let new_password = "new-Placement-pw-0815";
    let text = std::fs::read_to_string(&passwords).unwrap();
    assert!(text.contains(PLACEMENT_PASSWORD));
    std::fs::write(&passwords, text.replace(PLACEMENT_PASSWORD, new_password)).unwrap();
    let plan = site.kollars("plan", &["--no-diff"]);
    assert!(
        plan.contains("localhost: placement-api: register in keystone: password of placement"),
        "{plan}"
    );
    assert!(!plan.contains(new_password), "{plan}");
    let since = now_unix();
    let out = site.kollars("deploy", &[]);
    assert!(
        out.lines().any(
            |l| l.contains("placement-api") && l.contains("Register ok: password of placement")
        ),
        "{out}"
    );
    assert!(!out.contains(new_password), "{out}");
    assert_eq!(registrations_run(&site.engine, since), 1, "{out}");
    registration_holds(&site, new_password);
    assert!(
        !site.logs_in("placement", PLACEMENT_PASSWORD, "service"),
        "the old password no longer logs in"
    );
    let again = site.kollars("deploy", &[]);
    assert!(!again.contains("Register"), "{again}");
}

/// How many registrations (kollars' ks-register program) ran in `kolla_toolbox` since `since`
/// (seconds since the epoch): the engine's exec events, whose action names the command.
fn registrations_run(engine: &str, since: i64) -> usize {
    let o = docker(
        engine,
        &[
            "events",
            "--since",
            &since.to_string(),
            "--until",
            &(now_unix() + 1).to_string(),
            "--filter",
            "container=kolla_toolbox",
            "--format",
            "{{json .Action}}",
        ],
    );
    assert!(o.status.success(), "docker events: {}", stderr(&o));
    // one JSON string per event: an exec's action holds its command, newlines and all
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| l.starts_with("\"exec_create") && l.contains("kollars ks-register"))
        .count()
}

/// Placement as kolla registers it, seen by python-openstackclient: its service, its internal
/// and public endpoints in RegionOne, its user in the service project with the admin role,
/// logging in with `password`.
fn registration_holds(site: &Site, password: &str) {
    let admin = |args: &[&str]| {
        let mut a = vec!["--os-cloud", "kolla-admin"];
        a.extend(args);
        site.openstack_ok(&a)
    };
    let service: serde_json::Value =
        serde_json::from_str(&admin(&["service", "show", "placement", "-f", "json"])).unwrap();
    assert_eq!(service["type"], "placement", "{service}");
    assert_eq!(service["description"], "Placement Service", "{service}");
    assert_eq!(service["enabled"], true, "{service}");
    let endpoints = admin(&[
        "endpoint",
        "list",
        "--service",
        "placement",
        "-f",
        "value",
        "-c",
        "Region",
        "-c",
        "Interface",
        "-c",
        "URL",
    ]);
    let mut lines: Vec<&str> = endpoints.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            format!("RegionOne internal {PLACEMENT_URL}"),
            format!("RegionOne public {PLACEMENT_URL}"),
        ],
        "{endpoints}"
    );
    let user: serde_json::Value = serde_json::from_str(&admin(&[
        "user",
        "show",
        "placement",
        "--domain",
        "default",
        "-f",
        "json",
    ]))
    .unwrap();
    let project: serde_json::Value =
        serde_json::from_str(&admin(&["project", "show", "service", "-f", "json"])).unwrap();
    assert_eq!(
        user["default_project_id"], project["id"],
        "{user} {project}"
    );
    assert_eq!(user["domain_id"], "default", "{user}");
    let roles = admin(&[
        "role",
        "assignment",
        "list",
        "--user",
        "placement",
        "--project",
        "service",
        "--names",
        "-f",
        "value",
        "-c",
        "Role",
    ]);
    assert!(roles.lines().any(|r| r == "admin"), "{roles}");
    assert!(
        site.logs_in("placement", password, "service"),
        "placement logs in with its password"
    );
}

impl Site {
    /// Whether `user` (default domain) gets a token scoped to `project` with `password`.
    pub(crate) fn logs_in(&self, user: &str, password: &str, project: &str) -> bool {
        self.openstack(&[
            "--os-auth-url",
            "http://127.0.0.2:5000",
            "--os-identity-api-version",
            "3",
            "--os-username",
            user,
            "--os-password",
            password,
            "--os-project-name",
            project,
            "--os-user-domain-name",
            "Default",
            "--os-project-domain-name",
            "Default",
            "token",
            "issue",
            "-f",
            "value",
            "-c",
            "id",
        ])
        .status
        .success()
    }
}
