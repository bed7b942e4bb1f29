//! A virtual machine booted through nova on a cloud kollars deployed: a control host on the
//! real images (MariaDB, memcached, RabbitMQ, HAProxy, the toolbox, keystone, glance,
//! placement, nova's and nova-cell's control services) on the first of the cluster test's
//! overlay2 engines (`host1` of its LAN, 198.18.0.0/24, with its own hostname and hosts file:
//! RabbitMQ's node `rabbit@host1` must resolve to its address), and a `[compute]` host on the
//! podman engine (`kolla_container_engine: podman`; podman starts the privileged containers
//! dockerd cannot here) with the real nova-compute, nova-libvirt and nova-ssh, joined to that
//! LAN by a veth pair to its bridge. The VIP is on host1, where keepalived cannot run; the
//! compute host's toolbox is a stand-in (nothing calls it there).
//!
//! One `kollars deploy` of both hosts, then, with python-openstackclient through the VIP: the
//! compute service up and discovered into cell1 by kollars (kolla's `discover_hosts`, run in
//! the conductor once the new nova_compute runs), `hypervisor list` showing it; an AMI-style
//! guest (Debian's kernel, a busybox initramfs: `scripts/guest-image.sh`) uploaded to glance;
//! `server create --nic none` reaching ACTIVE under QEMU (TCG: the nested KVM of this machine
//! hangs Debian's kernel) and `console log show` printing the line the guest's /init writes.
//! neutron-server runs on its real image (nova's API asks it about every server), its agents on
//! stand-ins and Open vSwitch not at all: the guest has no network (the networking of the
//! compute issue needs Open vSwitch's userspace datapath, not here yet).

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::podman::{podman_engine, PODMAN_TURN};
use crate::podman_libvirt::libvirt_globals;
use crate::real::{
    docker, empty_engine, eventually, openstack_at, openstack_client, real_engine, run,
    small_galera, ONE_AT_A_TIME, TAG,
};
use crate::real_cluster::{cluster_engines, vip_on_host1, LAN, STAND_INS, VIP};
use crate::util::{
    ensure_images, kollars, reference, root, site_inputs, stderr, IMAGE_NAMESPACE, IMAGE_TAG,
};

const TAGS: &str = "mariadb,memcached,rabbitmq,loadbalancer,kolla-toolbox,keystone,glance,\
                    placement,nova,nova-cell,neutron";
/// The compute host's end of its link to the LAN, the bridge's end, and its address there.
const LINK: (&str, &str) = ("kvc1", "kvcp");
const COMPUTE_HOST: u8 = 9;
const COMPUTE_IMAGES: &[&str] = &["nova-compute", "nova-libvirt", "nova-ssh"];

/// The podman service's pid (scripts/podman-engines.sh writes it beside the socket): its
/// network namespace is the compute host's.
fn podman_pid(engine: &str) -> u32 {
    let pidfile = Path::new(engine.trim_start_matches("unix://")).with_file_name("podman.pid");
    std::fs::read_to_string(&pidfile)
        .unwrap_or_else(|e| panic!("{}: {e}", pidfile.display()))
        .trim()
        .parse()
        .unwrap()
}

fn in_netns(pid: u32, args: &[&str]) -> Output {
    run(Command::new("nsenter")
        .arg(format!("--net=/proc/{pid}/ns/net"))
        .args(args))
}

/// The network namespace of the LAN's bridge of the engines at `engine`'s directory, as
/// scripts/engines.sh names it (its directory's md5, then `lan`).
fn lan_netns(engine: &str) -> String {
    let dir = Path::new(engine.trim_start_matches("unix://"))
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .display()
        .to_string();
    let o =
        run(Command::new("sh").args(["-c", "printf '%s' \"$1\" | md5sum | cut -c1-8", "sh", &dir]));
    format!("kollars-{}-lan", String::from_utf8_lossy(&o.stdout).trim())
}

/// The compute host's veth pair to the LAN's bridge, removed (with both ends) when dropped;
/// the engines are emptied then too, so the next test finds them as others leave them.
struct Link {
    lan: String,
    engines: [String; 2],
}

impl Link {
    fn new(ctl_engine: &str, compute_engine: &str) -> Link {
        let lan = lan_netns(ctl_engine);
        let compute = podman_pid(compute_engine);
        let _ = run(Command::new("ip").args(["-n", &lan, "link", "del", LINK.1]));
        let _ = in_netns(compute, &["ip", "link", "del", LINK.0]);
        let o = run(Command::new("ip").args([
            "link",
            "add",
            LINK.0,
            "netns",
            &compute.to_string(),
            "type",
            "veth",
            "peer",
            "name",
            LINK.1,
            "netns",
            &lan,
        ]));
        assert!(o.status.success(), "ip link add: {}", stderr(&o));
        let o = run(
            Command::new("ip").args(["-n", &lan, "link", "set", LINK.1, "master", "br0", "up"])
        );
        assert!(
            o.status.success(),
            "{} on the bridge: {}",
            LINK.1,
            stderr(&o)
        );
        let address = format!("{LAN}.{COMPUTE_HOST}/24");
        for args in [
            &["ip", "addr", "add", &address, "dev", LINK.0][..],
            &["ip", "link", "set", LINK.0, "up"][..],
        ] {
            let o = in_netns(compute, args);
            assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        }
        vip_on_host1(ctl_engine);
        Link {
            lan,
            engines: [ctl_engine.to_owned(), compute_engine.to_owned()],
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        for e in &self.engines {
            empty_engine(e);
        }
        let _ = run(Command::new("ip").args(["-n", &self.lan, "link", "del", LINK.1]));
    }
}

/// The site: kolla's all-in-one inventory with its host renamed `ctl` (its facts gathered
/// through its engine: host1's) and `node1` in `[compute]` on podman.
fn site(dir: &Path, ctl: &str, compute: &str) {
    // the real sites' globals without their single host's: no network_interface (each host
    // names its own) and the VIP on the link
    let mut globals = format!(
        "kolla_base_distro: debian\ndocker_registry: \"\"\ndocker_namespace: kollars\n\
         openstack_tag: {TAG}\nkolla_internal_vip_address: {VIP}\nenable_keepalived: \"no\"\n\
         enable_proxysql: \"no\"\ndatabase_address: {LAN}.1\nenable_heat: \"no\"\n\
         enable_horizon: \"no\"\nhaproxy_max_connections: 8000\n\
         default_container_dimensions: {{}}\n{}",
        libvirt_globals()
    );
    // neutron's agents on stand-ins (see the module docs), as in the cluster test
    for (var, image) in STAND_INS {
        globals.push_str(&format!(
            "{var}_image_full: {IMAGE_NAMESPACE}/{image}:{IMAGE_TAG}\n"
        ));
    }
    site_inputs(dir, &[], &globals);
    small_galera(dir);
    let ctl_vars = format!(
        "ctl kollars_engine={ctl} network_interface=eth0 kollars_privileged_containers=false \
         node_config_directory={}",
        dir.join("etc-ctl").display()
    );
    let node1 = format!(
        "[compute]\nnode1 kollars_engine={compute} kolla_container_engine=podman \
         network_interface={} kolla_toolbox_image_full={IMAGE_NAMESPACE}/kolla-toolbox:{IMAGE_TAG} \
         node_config_directory={}",
        LINK.0,
        dir.join("etc-node1").display()
    );
    let inv = std::fs::read_to_string(reference().join("inputs/inventory")).unwrap();
    let inv: Vec<String> = inv
        .lines()
        .map(|l| {
            if l.starts_with("localhost") {
                ctl_vars.clone()
            } else if l == "[compute]" {
                node1.clone()
            } else {
                l.to_owned()
            }
        })
        .collect();
    std::fs::write(dir.join("inventory"), inv.join("\n") + "\n").unwrap();
}

fn args_at(dir: &Path, cmd: &str, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = vec![
        cmd.into(),
        "-i".into(),
        dir.join("inventory").display().to_string(),
        "--configdir".into(),
        dir.join("config").display().to_string(),
    ];
    if cmd != "post-deploy" {
        a.extend(["-t".into(), TAGS.into()]);
    }
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn kollars_at(dir: &Path, cmd: &str, extra: &[&str]) -> String {
    let a = args_at(dir, cmd, extra);
    let o = kollars(a);
    let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    assert!(o.status.success(), "kollars {cmd} failed:\n{out}");
    out
}

/// The real compute images on the podman engine, copied from the real one where missing or
/// older (scripts/copy-images.sh compares the images' ids).
fn compute_images(real: &str, podman: &str) {
    let images: Vec<String> = COMPUTE_IMAGES
        .iter()
        .map(|i| format!("kollars/{i}:{TAG}"))
        .collect();
    let o = run(Command::new(root().join("scripts/copy-images.sh"))
        .args(["--from", real, "--to", podman])
        .args(&images));
    assert!(o.status.success(), "copy-images.sh: {}", stderr(&o));
}

/// A failed deploy: why (its last lines first: CI shows the head and tail of long output),
/// then what both ends of the compute host's RPC said and what RabbitMQ held, before the
/// engines are emptied.
fn dump_failure(ctl: &str, compute: &str, o: &Output) -> ! {
    let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(o));
    let tail: Vec<&str> = out.lines().rev().take(25).collect();
    eprintln!(
        "kollars deploy failed; its last lines:\n{}",
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
    let dumps: [(&str, &[&str]); 6] = [
        (compute, &["logs", "--tail", "30", "nova_compute"]),
        (
            compute,
            &[
                "exec",
                "nova_compute",
                "tail",
                "-40",
                "/var/log/kolla/nova/nova-compute.log",
            ],
        ),
        (
            ctl,
            &[
                "exec",
                "nova_conductor",
                "tail",
                "-30",
                "/var/log/kolla/nova/nova-conductor.log",
            ],
        ),
        (
            ctl,
            &[
                "exec",
                "rabbitmq",
                "rabbitmqctl",
                "list_queues",
                "name",
                "messages",
                "consumers",
            ],
        ),
        (
            ctl,
            &[
                "exec",
                "rabbitmq",
                "rabbitmqctl",
                "list_connections",
                "peer_host",
                "state",
                "user",
            ],
        ),
        (ctl, &["ps", "-a", "--format", "{{.Names}} {{.Status}}"]),
    ];
    for (engine, args) in dumps {
        let o = docker(engine, args);
        eprintln!(
            "{args:?}:\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            stderr(&o)
        );
    }
    panic!("kollars deploy failed (its output above)\n{out}");
}

#[test]
fn a_server_boots_through_nova_on_a_compute_host_kollars_deployed() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let _podman = PODMAN_TURN.lock().unwrap_or_else(|e| e.into_inner());
    // every host of the LAN empty, not only host1: a RabbitMQ node left on another would
    // rejoin host1's and its services would consume this cloud's RPC
    let lan = cluster_engines();
    for e in &lan {
        empty_engine(e);
    }
    let ctl = lan[0].clone();
    let compute = podman_engine();
    let client = openstack_client();
    compute_images(&real_engine(), &compute);
    let stand_ins: Vec<&str> = STAND_INS.iter().map(|(_, image)| *image).collect();
    ensure_images(&ctl, &stand_ins);
    ensure_images(&compute, &["kolla-toolbox", "neutron-openvswitch-agent"]);
    empty_engine(&compute);
    let _link = Link::new(&ctl, &compute);
    let dir = tempfile::tempdir().unwrap();
    let guest = dir.path().join("guest");
    let line = format!(
        "booted through nova on kollars' compute host {}",
        std::process::id()
    );
    let o = run(Command::new(root().join("scripts/guest-image.sh"))
        .arg(&guest)
        .arg(&line));
    assert!(o.status.success(), "guest-image.sh: {}", stderr(&o));
    site(dir.path(), &ctl, &compute);

    let plan = kollars_at(dir.path(), "plan", &["--no-diff"]);
    assert!(
        plan.contains("node1: nova-compute: run once in nova-conductor: bash -c nova-manage cell_v2 discover_hosts --by-service"),
        "the plan names the host discovery:\n{plan}"
    );
    let t0 = Instant::now();
    let o = kollars(args_at(dir.path(), "deploy", &[]));
    if !o.status.success() {
        dump_failure(&ctl, &compute, &o);
    }
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let deployed = t0.elapsed();
    eprintln!("deploy: {:.1}s\n{out}", deployed.as_secs_f64());
    kollars_at(dir.path(), "post-deploy", &[]);
    let clouds = dir.path().join("config/clouds.yaml");
    let os = |args: &[&str]| {
        let mut a = vec!["--os-cloud", "kolla-admin"];
        a.extend_from_slice(args);
        openstack_at(&ctl, &client, &clouds, &a)
    };
    let os_ok = |args: &[&str]| {
        let o = os(args);
        assert!(o.status.success(), "openstack {args:?}: {}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).to_string()
    };

    // the podman host's privileged containers run, and a second run changes nothing
    let o = docker(
        &compute,
        &[
            "inspect",
            "-f",
            "{{.State.Running}} {{.HostConfig.Privileged}}",
            "nova_libvirt",
            "nova_compute",
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "true true\ntrue true",
        "{}",
        stderr(&o)
    );
    let again = kollars_at(dir.path(), "plan", &["--no-diff"]);
    assert!(
        again.contains("0 change(s) planned"),
        "a second run changes:\n{again}"
    );

    // kollars discovered the compute host: its service is up, its hypervisor listed
    let services = eventually(
        &["compute service list --service nova-compute"],
        Duration::from_secs(120),
        || {
            os(&[
                "compute",
                "service",
                "list",
                "--service",
                "nova-compute",
                "-f",
                "value",
                "-c",
                "State",
            ])
        },
    );
    assert!(
        services.lines().any(|l| l.trim() == "up"),
        "nova-compute up: {services}"
    );
    let hypervisors = os_ok(&[
        "hypervisor",
        "list",
        "-f",
        "value",
        "-c",
        "Hypervisor Hostname",
    ]);
    assert_eq!(
        hypervisors.lines().count(),
        1,
        "one hypervisor: {hypervisors}"
    );

    // the guest: its kernel and initramfs, and the disk that names them
    let upload = |name: &str, file: &str, format: &str, extra: &[&str]| {
        let path = guest.join(file).display().to_string();
        let mut a = vec![
            "image",
            "create",
            "--disk-format",
            format,
            "--container-format",
        ];
        a.push(if format == "raw" { "bare" } else { format });
        a.extend(["--file", &path]);
        a.extend(extra);
        a.extend([name, "-f", "value", "-c", "id"]);
        os_ok(&a).trim().to_owned()
    };
    let kernel = upload("kollars-kernel", "vmlinuz", "aki", &[]);
    let ramdisk = upload("kollars-ramdisk", "initrd.img", "ari", &[]);
    let (k, r) = (
        format!("kernel_id={kernel}"),
        format!("ramdisk_id={ramdisk}"),
    );
    upload(
        "kollars-guest",
        "disk.raw",
        "raw",
        &[
            "--property",
            &k,
            "--property",
            &r,
            "--property",
            "os_command_line=console=ttyS0",
        ],
    );
    os_ok(&[
        "flavor",
        "create",
        "--ram",
        "256",
        "--disk",
        "1",
        "--vcpus",
        "1",
        "kollars.tiny",
    ]);
    os_ok(&[
        "server",
        "create",
        "--nic",
        "none",
        "--flavor",
        "kollars.tiny",
        "--image",
        "kollars-guest",
        "kollars-vm",
    ]);
    let start = Instant::now();
    let mut status = String::new();
    while start.elapsed() < Duration::from_secs(600) {
        status = os_ok(&[
            "server",
            "show",
            "kollars-vm",
            "-f",
            "value",
            "-c",
            "status",
        ])
        .trim()
        .to_owned();
        if status == "ACTIVE" || status == "ERROR" {
            break;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    if status != "ACTIVE" {
        for (c, log) in [
            ("nova_scheduler", "nova-scheduler"),
            ("nova_conductor", "nova-conductor"),
        ] {
            let o = docker(
                &ctl,
                &[
                    "exec",
                    c,
                    "tail",
                    "-40",
                    &format!("/var/log/kolla/nova/{log}.log"),
                ],
            );
            eprintln!("{log}.log:\n{}", String::from_utf8_lossy(&o.stdout));
            let o = docker(&ctl, &["logs", "--tail", "30", c]);
            eprintln!(
                "{c} logs:\n{}{}",
                String::from_utf8_lossy(&o.stdout),
                stderr(&o)
            );
        }
        let o = docker(
            &compute,
            &[
                "exec",
                "nova_compute",
                "tail",
                "-40",
                "/var/log/kolla/nova/nova-compute.log",
            ],
        );
        eprintln!("nova-compute.log:\n{}", String::from_utf8_lossy(&o.stdout));
    }
    assert_eq!(
        status,
        "ACTIVE",
        "the server: {}",
        os_ok(&["server", "show", "kollars-vm", "-f", "json"])
    );
    let mut console = String::new();
    while start.elapsed() < Duration::from_secs(900) {
        let o = os(&["console", "log", "show", "kollars-vm"]);
        console = String::from_utf8_lossy(&o.stdout).to_string();
        if console.contains(&line) {
            break;
        }
        std::thread::sleep(Duration::from_secs(3));
    }
    assert!(
        console.contains(&format!("KOLLARS-GUEST: {line}")),
        "the guest's console log:\n{console}"
    );
    eprintln!(
        "deploy {:.1}s, then server ACTIVE and booted {:.1}s later: {:.1}s from `kollars deploy` to a booted guest",
        deployed.as_secs_f64(),
        start.elapsed().as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
    os_ok(&["server", "delete", "--wait", "kollars-vm"]);
}
