//! The real control plane on three hosts, deployed by kollars alone and proven by clients
//! nobody here wrote: a Galera cluster of three, a RabbitMQ cluster of three, keystone on
//! every host with the same fernet keys, one MariaDB member lost and brought back;
//! placement, nova, neutron and heat on every host (glance on the first, as kolla's with the
//! file backend), every API answering through the VIP
//! while one controller's API containers are stopped, and the next deploy starting exactly
//! those again. neutron's agents (on host1, the network host) are stand-ins, as in
//! `real_control`: they need privileges and a kernel module this machine's dockerd lacks.
//!
//! The hosts are three overlay2 engines, each in network, UTS and mount namespaces of its own
//! (`scripts/engines.sh` with `KOLLARS_ENGINE_LAN`): hostnames host1..host3, eth0 at
//! 198.18.0.1..3 on a bridge in a namespace of its own, each host's /etc/hosts naming the
//! others. The VIP (198.18.0.250) is added to host1, where keepalived cannot run; haproxy runs
//! there. Nothing leaves those namespaces. `scripts/test.sh` prepares the engines with the
//! real images (`KOLLARS_REAL_CLUSTER`); without it this test makes them itself.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::real::{
    docker, empty_engine, eventually, openstack_at, openstack_client, real_engine, run,
    ADMIN_TOKEN, ONE_AT_A_TIME, TAG,
};
use crate::util::{
    engine_pid, ensure_images, kollars, reference, root, site_inputs, stderr, IMAGE_NAMESPACE,
    IMAGE_TAG,
};

const TAGS: &str = "mariadb,memcached,rabbitmq,loadbalancer,kolla-toolbox,keystone,glance,\
                    placement,nova,nova-cell,neutron,heat";
/// neutron's agents on host1, on stand-ins (see the module docs): image variable prefix,
/// stand-in image.
pub(crate) const STAND_INS: &[(&str, &str)] = &[
    ("neutron_openvswitch_agent", "neutron-openvswitch-agent"),
    ("neutron_dhcp_agent", "neutron-dhcp-agent"),
    ("neutron_l3_agent", "neutron-l3-agent"),
    ("neutron_metadata_agent", "neutron-metadata-agent"),
];
/// host2's API containers, stopped to show the VIP still answering (glance-api is on host1
/// only, see [`CONTAINERS`]).
const APIS: &[&str] = &[
    "keystone",
    "placement_api",
    "nova_api",
    "nova_metadata",
    "neutron_server",
    "heat_api",
    "heat_api_cfn",
];
pub(crate) const LAN: &str = "198.18.0";
pub(crate) const VIP: &str = "198.18.0.250";
const HOSTS: [&str; 3] = ["host1", "host2", "host3"];
/// On every host; haproxy and glance-api only on host1 (kolla's `glance_api_hosts`: the
/// first host alone with the file backend on its own volume).
const CONTAINERS: &[&str] = &[
    "mariadb",
    "memcached",
    "rabbitmq",
    "kolla_toolbox",
    "keystone",
    "keystone_fernet",
    "keystone_ssh",
    "placement_api",
    "nova_api",
    "nova_metadata",
    "nova_scheduler",
    "nova_conductor",
    "nova_novncproxy",
    "neutron_server",
    "neutron_rpc_server",
    "neutron_periodic_worker",
    "heat_api",
    "heat_api_cfn",
    "heat_engine",
];

/// The three engines with the real images: `KOLLARS_REAL_CLUSTER` (comma-separated), else
/// made here and filled from the real images' engine.
pub(crate) fn cluster_engines() -> Vec<String> {
    if let Ok(list) = std::env::var("KOLLARS_REAL_CLUSTER") {
        return list.split(',').map(str::to_owned).collect();
    }
    let source = real_engine();
    let o = run(Command::new(root().join("scripts/engines.sh"))
        .env("KOLLARS_STORAGE_DRIVER", "overlay2")
        .env("KOLLARS_ENGINE_LAN", LAN)
        .args(["up", "3", "/tmp/kollars-engines-cluster"]));
    assert!(o.status.success(), "engines.sh: {}", stderr(&o));
    let engines: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    // the images of TAGS' services, with their parents
    let o = run(Command::new(root().join("scripts/build-real-images.sh"))
        .env("DOCKER_HOST", &source)
        .args([
            "mariadb-server",
            "memcached",
            "rabbitmq",
            "haproxy",
            "kolla-toolbox",
            "keystone",
            "keystone-fernet",
            "keystone-ssh",
            "glance-api",
            "placement-api",
            "nova-api",
            "nova-scheduler",
            "nova-conductor",
            "nova-novncproxy",
            "neutron-server",
            "heat-api",
            "heat-api-cfn",
            "heat-engine",
        ]));
    assert!(o.status.success(), "build-real-images.sh: {}", stderr(&o));
    let images: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let mut copy = Command::new(root().join("scripts/copy-images.sh"));
    copy.args(["--from", &source]);
    for e in &engines {
        copy.args(["--to", e]);
    }
    let o = run(copy.args(&images));
    assert!(o.status.success(), "copy-images.sh: {}", stderr(&o));
    engines
}

/// Runs `sh -c SCRIPT` in the network namespace of `engine`'s host.
fn in_host(engine: &str, script: &str) -> Output {
    run(Command::new("nsenter")
        .arg(format!("--net=/proc/{}/ns/net", engine_pid(engine)))
        .args(["sh", "-c", script]))
}

/// The VIP on host1 (`engine`), where keepalived would hold it.
pub(crate) fn vip_on_host1(engine: &str) {
    let o = in_host(
        engine,
        &format!("ip addr show dev eth0 | grep -q ' {VIP}/' || ip addr add {VIP}/24 dev eth0"),
    );
    assert!(o.status.success(), "VIP on host1: {}", stderr(&o));
}

struct Cluster {
    dir: tempfile::TempDir,
    engines: Vec<String>,
    client: std::path::PathBuf,
    db_password: String,
}

/// The hosts are emptied when the test ends, pass or fail: a RabbitMQ or a nova-conductor left
/// running on host2 or host3 would rejoin the next test's RabbitMQ on host1 (the nodes remember
/// their cluster) and consume its RPC (real_compute's conductor calls went to them).
impl Drop for Cluster {
    fn drop(&mut self) {
        for e in &self.engines {
            empty_engine(e);
        }
    }
}

impl Cluster {
    fn new() -> Cluster {
        let engines = cluster_engines();
        let client = openstack_client();
        // a clean slate on every host: containers and volumes (the images stay)
        for e in &engines {
            empty_engine(e);
        }
        vip_on_host1(&engines[0]);

        // neutron's agents' stand-ins on host1
        let stand_ins: Vec<&str> = STAND_INS.iter().map(|(_, image)| *image).collect();
        ensure_images(&engines[0], &stand_ins);
        let mut images = String::new();
        for (var, image) in STAND_INS {
            images.push_str(&format!(
                "{var}_image_full: {IMAGE_NAMESPACE}/{image}:{IMAGE_TAG}\n"
            ));
        }

        let dir = tempfile::tempdir().unwrap();
        site_inputs(
            dir.path(),
            &[],
            &format!(
                "kolla_base_distro: debian\ndocker_registry: \"\"\ndocker_namespace: kollars\n\
                 openstack_tag: {TAG}\nnetwork_interface: eth0\n\
                 kolla_internal_vip_address: {VIP}\nenable_keepalived: \"no\"\n\
                 enable_proxysql: \"no\"\ndatabase_address: {LAN}.1\n\
                 haproxy_max_connections: 8000\nkollars_privileged_containers: false\n\
                 default_container_dimensions: {{}}\n{images}"
            ),
        );
        std::fs::create_dir_all(dir.path().join("config/config")).unwrap();
        std::fs::write(
            dir.path().join("config/config/galera.cnf"),
            "[mysqld]\ninnodb_buffer_pool_size = 128M\ninnodb_log_file_size = 48M\n",
        )
        .unwrap();
        // kolla's inventory, its first groups holding the three hosts: every host a
        // controller, host1 also the network (haproxy) host
        let line = |i: usize| {
            format!(
                "{} kollars_engine={} node_config_directory={}\n",
                HOSTS[i],
                engines[i],
                dir.path().join(format!("etc-{}", HOSTS[i])).display()
            )
        };
        let reference = std::fs::read_to_string(reference().join("inputs/inventory")).unwrap();
        let rest = &reference[reference.find("[common:children]").unwrap()..];
        let inventory = format!(
            "[control]\n{}{}{}\n[network]\nhost1\n\n[compute]\n\n[storage]\nhost1\n\n\
             [monitoring]\nhost1\n\n[deployment]\nhost1\n\n{rest}",
            line(0),
            line(1),
            line(2)
        );
        std::fs::write(dir.path().join("inventory"), inventory).unwrap();
        let mut site = Cluster {
            dir,
            engines,
            client,
            db_password: String::new(),
        };
        site.db_password = site.password("database_password");
        site
    }

    /// A password of the site's passwords.yml.
    fn password(&self, name: &str) -> String {
        let p: serde_yaml::Value = serde_yaml::from_str(
            &std::fs::read_to_string(self.dir.path().join("config/passwords.yml")).unwrap(),
        )
        .unwrap();
        p[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name}"))
            .to_owned()
    }

    fn kollars(&self, cmd: &str, extra: &[&str]) -> String {
        let mut a: Vec<String> = vec![
            cmd.into(),
            "-i".into(),
            self.dir.path().join("inventory").display().to_string(),
            "--configdir".into(),
            self.dir.path().join("config").display().to_string(),
        ];
        if cmd != "post-deploy" {
            a.extend(["-t".into(), TAGS.into()]);
        }
        a.extend(extra.iter().map(|s| s.to_string()));
        let o = kollars(a);
        let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
        assert!(o.status.success(), "kollars {cmd} failed:\n{out}");
        out
    }

    /// `openstack ARGS` from host1's network, with post-deploy's clouds.yaml.
    fn openstack(&self, args: &[&str]) -> Output {
        openstack_at(
            &self.engines[0],
            &self.client,
            &self.dir.path().join("config/clouds.yaml"),
            args,
        )
    }

    fn openstack_eventually(&self, args: &[&str], within: Duration) -> String {
        eventually(args, within, || self.openstack(args))
            .trim()
            .to_owned()
    }

    /// A Galera status variable of host `i`'s member, asked of its own server.
    fn galera(&self, i: usize, variable: &str) -> String {
        let o = docker(
            &self.engines[i],
            &[
                "exec",
                "-e",
                &format!("MYSQL_PWD={}", self.db_password),
                "mariadb",
                "mariadb",
                &format!("--host={LAN}.{}", i + 1),
                "--user=root",
                "--batch",
                "--skip-column-names",
                "-e",
                &format!("SHOW GLOBAL STATUS LIKE '{variable}'"),
            ],
        );
        let out = String::from_utf8_lossy(&o.stdout);
        out.split('\t').nth(1).unwrap_or_default().trim().to_owned()
    }

    /// Waits until host `i`'s member is Synced in a cluster of `size`.
    fn galera_eventually(&self, i: usize, size: &str) {
        let start = Instant::now();
        loop {
            let (state, n) = (
                self.galera(i, "wsrep_local_state_comment"),
                self.galera(i, "wsrep_cluster_size"),
            );
            if state == "Synced" && n == size {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "{}: Galera {state:?}, cluster size {n:?}, not Synced in {size}",
                HOSTS[i]
            );
            std::thread::sleep(Duration::from_secs(2));
        }
    }

    /// Every API of the site answers a real client through the VIP (`when` names the moment,
    /// for the failure message): keystone, glance, placement, nova, neutron and heat.
    fn every_api_answers(&self, when: &str) {
        let t0 = Instant::now();
        let within = Duration::from_secs(120);
        for args in [
            &["token", "issue", "-f", "value", "-c", "id"][..],
            &["image", "list", "-f", "value"],
            &["resource", "provider", "list", "-f", "value"],
            &["compute", "service", "list", "-f", "value", "-c", "Binary"],
            &["network", "list", "-f", "value"],
            &["orchestration", "service", "list", "-f", "value"],
        ] {
            let mut a = vec!["--os-cloud", "kolla-admin"];
            a.extend(args);
            eventually(&a, within, || self.openstack(&a));
            // then every time: haproxy spreads the calls over the three hosts
            for _ in 0..2 {
                let o = self.openstack(&a);
                assert!(
                    o.status.success(),
                    "{when}: openstack {a:?}: {}",
                    stderr(&o)
                );
            }
        }
        eprintln!(
            "every API answered ({when}) in {:.1}s",
            t0.elapsed().as_secs_f64()
        );
    }

    fn started(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in &self.engines {
            for c in CONTAINERS {
                let o = docker(e, &["inspect", "-f", "{{.State.StartedAt}}", c]);
                out.push(String::from_utf8_lossy(&o.stdout).trim().to_owned());
            }
        }
        out
    }
}

/// `token issue` as the admin straight at one host's keystone (no VIP).
fn admin_at(host: usize) -> Vec<String> {
    [
        "--os-auth-url",
        &format!("http://{LAN}.{}:5000", host + 1),
        "--os-identity-api-version",
        "3",
        "--os-username",
        "admin",
        "--os-project-name",
        "admin",
        "--os-user-domain-name",
        "Default",
        "--os-project-domain-name",
        "Default",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn three_hosts_cluster_mariadb_and_rabbitmq_and_share_fernet_keys() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let site = Cluster::new();
    let t0 = Instant::now();
    let out = site.kollars("deploy", &[]);
    eprintln!(
        "first deploy on 3 hosts: {:.1}s\n{out}",
        t0.elapsed().as_secs_f64()
    );
    site.kollars("post-deploy", &[]);
    for (i, e) in site.engines.iter().enumerate() {
        for c in CONTAINERS.iter().chain(if i == 0 {
            &["haproxy", "glance_api"][..]
        } else {
            &[]
        }) {
            let o = docker(e, &["inspect", "-f", "{{.State.Running}}", c]);
            assert_eq!(
                String::from_utf8_lossy(&o.stdout).trim(),
                "true",
                "{c} runs on {}",
                HOSTS[i]
            );
        }
    }

    // a token through the VIP, then straight from host1's keystone, accepted by host3's
    let token = site.openstack_eventually(ADMIN_TOKEN, Duration::from_secs(120));
    assert!(token.len() > 20, "a token: {token}");
    eprintln!(
        "token issued on 3 hosts: {:.1}s after deploy began",
        t0.elapsed().as_secs_f64()
    );

    // Galera: three members, every one Synced
    for i in 0..3 {
        site.galera_eventually(i, "3");
    }
    // RabbitMQ: one cluster of three running nodes
    let o = docker(
        &site.engines[0],
        &[
            "exec",
            "rabbitmq",
            "rabbitmqctl",
            "cluster_status",
            "--formatter",
            "json",
        ],
    );
    assert!(o.status.success(), "cluster_status: {}", stderr(&o));
    let status: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut running: Vec<String> = status["running_nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("running_nodes in {status}"))
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect();
    running.sort();
    assert_eq!(
        running,
        ["rabbit@host1", "rabbit@host2", "rabbit@host3"],
        "{status}"
    );

    // the rendered definitions.json's users, on every node of the cluster
    for (i, e) in site.engines.iter().enumerate() {
        let o = docker(
            e,
            &[
                "exec",
                "rabbitmq",
                "rabbitmqctl",
                "list_users",
                "--formatter",
                "json",
            ],
        );
        assert!(o.status.success(), "list_users: {}", stderr(&o));
        let users = String::from_utf8_lossy(&o.stdout);
        assert!(
            users.contains("\"openstack\""),
            "{}: the openstack user of definitions.json: {users}",
            HOSTS[i]
        );
    }
    let rabbit_password = site.password("rabbitmq_password");
    let o = docker(
        &site.engines[2],
        &[
            "exec",
            "rabbitmq",
            "rabbitmqctl",
            "authenticate_user",
            "openstack",
            &rabbit_password,
        ],
    );
    assert!(
        o.status.success(),
        "openstack logs in on host3: {}",
        stderr(&o)
    );

    // the same fernet keys on every host
    let keys: Vec<String> = site
        .engines
        .iter()
        .map(|e| {
            let o = docker(
                e,
                &[
                    "exec",
                    "keystone_fernet",
                    "sh",
                    "-c",
                    "cd /etc/keystone/fernet-keys && sha256sum *",
                ],
            );
            assert!(o.status.success(), "fernet keys: {}", stderr(&o));
            String::from_utf8_lossy(&o.stdout).into_owned()
        })
        .collect();
    assert!(keys[0].lines().count() >= 2, "keys 0 and 1: {}", keys[0]);
    assert_eq!(keys[0], keys[1], "host1 and host2 keys");
    assert_eq!(keys[0], keys[2], "host1 and host3 keys");

    // a token issued by host1's keystone validates on host3's: host3 rescopes it
    let password = site.password("keystone_admin_password");
    let mut at1 = admin_at(0);
    at1.extend([
        "--os-password".into(),
        password,
        "token".into(),
        "issue".into(),
    ]);
    at1.extend(["-f", "value", "-c", "id"].map(String::from));
    let at1: Vec<&str> = at1.iter().map(String::as_str).collect();
    let from_host1 = site.openstack_eventually(&at1, Duration::from_secs(120));
    let on_host3 = [
        "--os-auth-type",
        "v3token",
        "--os-token",
        &from_host1,
        "--os-auth-url",
        &format!("http://{LAN}.3:5000"),
        "--os-identity-api-version",
        "3",
        "--os-project-name",
        "admin",
        "--os-project-domain-name",
        "Default",
        "token",
        "issue",
        "-f",
        "value",
        "-c",
        "id",
    ];
    let rescoped = site.openstack_eventually(&on_host3, Duration::from_secs(120));
    assert!(
        rescoped.len() > 20,
        "host3 accepted host1's token: {rescoped}"
    );

    // a second deploy has nothing to do
    let plan = site.kollars("plan", &["--no-diff"]);
    assert!(plan.contains("0 change(s) planned on 3 host(s)"), "{plan}");
    let before = site.started();
    site.kollars("deploy", &[]);
    assert_eq!(site.started(), before, "a second deploy changed nothing");

    // MariaDB lost on host3: the cloud still issues tokens; the next deploy brings it back
    let o = docker(&site.engines[2], &["stop", "mariadb"]);
    assert!(o.status.success(), "stop mariadb: {}", stderr(&o));
    site.galera_eventually(0, "2");
    let token = site.openstack_eventually(ADMIN_TOKEN, Duration::from_secs(60));
    assert!(token.len() > 20, "a token with two members: {token}");
    let plan = site.kollars("plan", &["--no-diff"]);
    assert!(plan.contains("host3: mariadb: start"), "{plan}");
    assert!(plan.contains("1 change(s) planned"), "only that: {plan}");
    site.kollars("deploy", &[]);
    for i in 0..3 {
        site.galera_eventually(i, "3");
    }
    let after = site.started();
    for (n, (b, a)) in before.iter().zip(&after).enumerate() {
        let (host, c) = (
            HOSTS[n / CONTAINERS.len()],
            CONTAINERS[n % CONTAINERS.len()],
        );
        let expected = host == "host3" && c == "mariadb";
        assert_eq!(a != b, expected, "{c} on {host} started again: {}", a != b);
    }

    // every API through the VIP, then again with host2's API containers stopped
    site.every_api_answers("three controllers");
    for c in APIS {
        let o = docker(&site.engines[1], &["stop", c]);
        assert!(o.status.success(), "stop {c} on host2: {}", stderr(&o));
    }
    site.every_api_answers("host2's APIs stopped");
    // the next deploy starts exactly those again
    let plan = site.kollars("plan", &["--no-diff"]);
    for c in APIS {
        let svc = c.replace('_', "-");
        assert!(
            plan.contains(&format!("host2: {svc}: start")),
            "{c}: {plan}"
        );
    }
    assert!(
        plan.contains(&format!("{} change(s) planned", APIS.len())),
        "only those: {plan}"
    );
    site.kollars("deploy", &[]);
    let restored = site.started();
    for (n, (b, a)) in after.iter().zip(&restored).enumerate() {
        let (host, c) = (
            HOSTS[n / CONTAINERS.len()],
            CONTAINERS[n % CONTAINERS.len()],
        );
        let expected = host == "host2" && APIS.contains(&c);
        assert_eq!(a != b, expected, "{c} on {host} started again: {}", a != b);
    }
    site.every_api_answers("host2's APIs back");
}
