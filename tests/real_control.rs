//! Nova's and neutron's control planes on the real images, deployed by kollars alone on one
//! host and proven by python-openstackclient through the VIP:
//! - nova: the API, cell0 and cell1 databases, `api_db sync`, the cells' `map_cell0` and
//!   `create_cell` and the cell's `db sync` (kolla's nova and nova-cell bootstraps), then
//!   `compute service list` with nova-scheduler and nova-conductor up, and flavors;
//! - neutron (ML2/OVS as the all-in-one): its database and `neutron-db-manage upgrade heads`,
//!   neutron-server, neutron-rpc-server and neutron-periodic-workers on the real image, real
//!   `ovsdb-server` (its `Open_vSwitch` database answers `ovsdb-client`), then a network and a
//!   subnet made.
//!
//! On stand-ins, because this machine's dockerd cannot start privileged containers and its
//! kernel has no openvswitch module: ovs-vswitchd and neutron's agents (openvswitch, DHCP,
//! L3, metadata), which need both. The all-in-one inventory has no `[compute]` host, so
//! nova-compute, nova-libvirt and nova-ssh are on no host here (a booted server is the
//! compute issue's). The site is the real tests' (`real::Site`). Glance and horizon join it:
//! horizon's overview needs nova, its images page glance (see `real_horizon`).

use std::time::{Duration, Instant};

use crate::real::{docker, Site, ONE_AT_A_TIME};
use crate::util::{ensure_images, IMAGE_NAMESPACE, IMAGE_TAG};

const TAGS: &str = "mariadb,memcached,rabbitmq,loadbalancer,kolla-toolbox,keystone,placement,\
                    nova,nova-cell,openvswitch,neutron,glance,horizon";
/// What runs on a stand-in here (see the module docs): image variable prefix, stand-in image.
const STAND_INS: &[(&str, &str)] = &[
    ("openvswitch_vswitchd", "openvswitch-vswitchd"),
    ("neutron_openvswitch_agent", "neutron-openvswitch-agent"),
    ("neutron_dhcp_agent", "neutron-dhcp-agent"),
    ("neutron_l3_agent", "neutron-l3-agent"),
    ("neutron_metadata_agent", "neutron-metadata-agent"),
];
/// This site's /run/openvswitch (see the test), one per real engine: two checkouts' runs of
/// this test on this machine, each on its own engine, have their own.
fn run_openvswitch() -> String {
    let engine = crate::real::real_engine();
    let tag: String = engine
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("/tmp/kollars-real-control-run-openvswitch{tag}")
}
/// kolla's openvswitch volumes with RUN for the host's /run/openvswitch.
const OPENVSWITCH_VOLUMES: &str = r#"openvswitch_db_default_volumes:
  - "{{ node_config_directory }}/openvswitch-db-server/:{{ container_config_directory }}/:ro"
  - "/etc/localtime:/etc/localtime:ro"
  - "/lib/modules:/lib/modules:ro"
  - "RUN:/run/openvswitch:shared"
  - "kolla_logs:/var/log/kolla/"
  - "openvswitch_db:/var/lib/openvswitch/"
openvswitch_vswitchd_default_volumes:
  - "{{ node_config_directory }}/openvswitch-vswitchd/:{{ container_config_directory }}/:ro"
  - "/etc/localtime:/etc/localtime:ro"
  - "/lib/modules:/lib/modules:ro"
  - "RUN:/run/openvswitch:shared"
  - "kolla_logs:/var/log/kolla/"
"#;
const NEUTRON: &[&str] = &[
    "openvswitch_db",
    "neutron_server",
    "neutron_rpc_server",
    "neutron_periodic_worker",
];
const NOVA: &[&str] = &[
    "nova_api",
    "nova_metadata",
    "nova_scheduler",
    "nova_conductor",
    "nova_novncproxy",
];

#[test]
fn compute_and_network_control_planes_on_real_images_answer_a_real_client() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let images: Vec<&str> = STAND_INS.iter().map(|(_, image)| *image).collect();
    let mut globals = String::new();
    for (var, image) in STAND_INS {
        globals.push_str(&format!(
            "{var}_image_full: {IMAGE_NAMESPACE}/{image}:{IMAGE_TAG}\n"
        ));
    }
    // the host's /run/openvswitch (ovsdb-server's pid file and sockets) is this machine's: a
    // run directory of this site's own, so that another engine's ovsdb-server here (the main
    // job's) is another host's
    let run_dir = run_openvswitch();
    let run_ovs = std::path::Path::new(&run_dir);
    let _ = std::fs::remove_dir_all(run_ovs);
    std::fs::create_dir_all(run_ovs).unwrap();
    globals.push_str(&OPENVSWITCH_VOLUMES.replace("RUN", &run_dir));
    let site = Site::with(TAGS, &globals);
    ensure_images(&site.engine, &images);
    // plan lists every task around the containers the first deploy runs, and why
    let plan = site.kollars("plan", &["--no-diff"]);
    for task in [
        "localhost: mariadb: accounts: wait until it answers, then user ",
        "localhost: keystone: bootstrap bootstrap_keystone: run (new container)",
        "localhost: keystone: identity bootstrap: user admin, project admin, role admin",
        "localhost: nova-api: database nova_api: create",
        "localhost: nova-api: database nova_cell0: create",
        "localhost: nova-api: bootstrap bootstrap_nova_api: run (new container)",
        "localhost: nova-conductor: bootstrap nova_cell_map_cell0: run (new container)",
        "localhost: nova-conductor: bootstrap nova_cell_create_cell: run (new container)",
        "localhost: nova-conductor: restart nova_scheduler where it runs: restart",
        "localhost: neutron-server: bootstrap bootstrap_neutron_server: run (new container)",
        "localhost: nova-api: register in keystone: ",
    ] {
        assert!(plan.contains(task), "{task}:\n{plan}");
    }
    let t0 = Instant::now();
    let out = site.kollars("deploy", &[]);
    eprintln!("first deploy: {:.1}s\n{out}", t0.elapsed().as_secs_f64());
    site.kollars("post-deploy", &[]);
    for c in NOVA.iter().chain(NEUTRON) {
        let o = docker(&site.engine, &["inspect", "-f", "{{.State.Running}}", c]);
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).trim(),
            "true",
            "{c} runs"
        );
    }
    // the one-shots ran once each, in kolla's order, and are gone
    for (oneshot, before) in [
        ("bootstrap_nova_api", "nova_api"),
        ("bootstrap_nova_conductor", "nova_conductor"),
        ("nova_cell_map_cell0", "nova_conductor"),
        ("nova_cell_create_cell", "nova_conductor"),
    ] {
        assert!(
            out.lines()
                .any(|l| l.contains(oneshot) && l.contains("Oneshot ok")),
            "{oneshot} ran before {before}:\n{out}"
        );
    }
    // kolla's refresh of the scheduler's cell cache once the cell exists (kolla's SIGHUP; a
    // restart here, see nova-cell.yml)
    assert!(
        out.lines()
            .any(|l| l.contains("nova_scheduler: restart") && l.contains("Task ok")),
        "nova_scheduler restarted:\n{out}"
    );
    for db in [
        "nova_api database",
        "nova_cell0 database",
        "nova database",
        "neutron database",
    ] {
        assert!(out.contains(db), "{db} made:\n{out}");
    }

    // the cells: cell0 and the unnamed default cell, as kolla's (no password shown)
    let cells = exec(
        &site,
        "nova_conductor",
        &["nova-manage", "cell_v2", "list_cells"],
    );
    assert!(cells.contains("cell0"), "{cells}");
    assert!(cells.contains("nova_cell0"), "cell0's database: {cells}");
    assert!(cells.contains("/nova"), "the cell's database: {cells}");
    assert!(cells.contains("rabbit://"), "the cell's transport: {cells}");
    assert_eq!(
        cells.matches("mysql+pymysql").count(),
        2,
        "two cells: {cells}"
    );

    // nova-api through the VIP: the scheduler and the conductor report up
    let start = Instant::now();
    loop {
        let o = site.openstack(&[
            "--os-cloud",
            "kolla-admin",
            "compute",
            "service",
            "list",
            "-f",
            "value",
            "-c",
            "Binary",
            "-c",
            "State",
        ]);
        let list = String::from_utf8_lossy(&o.stdout).to_string();
        let up = |b: &str| list.lines().any(|l| l.contains(b) && l.ends_with(" up"));
        if o.status.success() && up("nova-scheduler") && up("nova-conductor") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "compute service list: {list}{}",
            crate::util::stderr(&o)
        );
        std::thread::sleep(Duration::from_secs(3));
    }

    // flavors through nova-api
    site.openstack_ok(&[
        "--os-cloud",
        "kolla-admin",
        "flavor",
        "create",
        "--vcpus",
        "1",
        "--ram",
        "64",
        "--disk",
        "1",
        "m1.tiny-test",
    ]);
    let flavors = site.openstack_ok(&[
        "--os-cloud",
        "kolla-admin",
        "flavor",
        "list",
        "-f",
        "value",
        "-c",
        "Name",
        "-c",
        "RAM",
    ]);
    assert!(flavors.lines().any(|l| l == "m1.tiny-test 64"), "{flavors}");
    // nova's endpoint in the catalogue, as kolla registers it
    let catalog = site.openstack_ok(&[
        "--os-cloud",
        "kolla-admin",
        "catalog",
        "show",
        "compute",
        "-f",
        "value",
        "-c",
        "endpoints",
    ]);
    assert!(catalog.contains("127.0.0.2:8774/v2.1"), "{catalog}");

    // neutron: its real server answers through the VIP, the RPC server and the periodic
    // workers run the real programs, ovsdb-server holds the Open_vSwitch database
    let dbs = exec(&site, "openvswitch_db", &["ovsdb-client", "list-dbs"]);
    assert!(dbs.lines().any(|l| l == "Open_vSwitch"), "{dbs}");
    for (c, program) in [
        ("neutron_rpc_server", "neutron-rpc-server"),
        ("neutron_periodic_worker", "neutron-periodic-workers"),
        ("openvswitch_db", "ovsdb-server"),
    ] {
        let ps = exec(&site, c, &["ps", "-eo", "args"]);
        assert!(ps.contains(program), "{program} runs in {c}: {ps}");
    }
    let net = site.openstack_eventually(
        &[
            "--os-cloud",
            "kolla-admin",
            "network",
            "create",
            "-f",
            "value",
            "-c",
            "id",
            "demo-net",
        ],
        Duration::from_secs(90),
    );
    assert!(!net.trim().is_empty(), "a network id: {net}");
    let subnet = site.openstack_ok(&[
        "--os-cloud",
        "kolla-admin",
        "subnet",
        "create",
        "--network",
        "demo-net",
        "--subnet-range",
        "10.99.0.0/24",
        "-f",
        "value",
        "-c",
        "cidr",
        "demo-subnet",
    ]);
    assert_eq!(subnet.trim(), "10.99.0.0/24");
    let nets = site.openstack_ok(&[
        "--os-cloud",
        "kolla-admin",
        "network",
        "list",
        "-f",
        "value",
        "-c",
        "Name",
        "-c",
        "Subnets",
    ]);
    assert!(
        nets.lines()
            .any(|l| l.starts_with("demo-net ") && l.len() > 9),
        "demo-net with its subnet: {nets}"
    );

    // the dashboard on the same site, in a browser (see real_horizon)
    crate::real_horizon::dashboard_in_a_browser(&site);

    // nothing to do the second time: no one-shot runs again
    let again = site.kollars("deploy", &[]);
    assert!(!again.contains("Oneshot"), "{again}");
    let plan = site.kollars("plan", &[]);
    assert!(plan.contains("0 change(s) planned"), "{plan}");
}

/// `cmd` in container `c`, its stdout; panics when it fails.
fn exec(site: &Site, c: &str, cmd: &[&str]) -> String {
    let mut args = vec!["exec", c];
    args.extend(cmd);
    let o = docker(&site.engine, &args);
    assert!(
        o.status.success(),
        "{cmd:?} in {c}: {}",
        crate::util::stderr(&o)
    );
    String::from_utf8_lossy(&o.stdout).to_string()
}
