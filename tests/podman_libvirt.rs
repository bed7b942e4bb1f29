//! nova-libvirt on a podman host: kollars deploys kolla's nova-cell compute services on a
//! `[compute]` host whose engine is podman (`kolla_container_engine: podman`), nova-libvirt
//! from the real image (privileged, host PID and cgroup namespaces, kolla's libvirtd.conf and
//! qemu.conf), nova-compute and nova-ssh on stand-ins; a second run is a no-op; then a guest
//! built from Debian's kernel and busybox (`scripts/guest-image.sh`) boots under that
//! libvirtd (QEMU, as nova's libvirt driver would define it: kernel, initrd, a serial console
//! logged by virtlogd) and its console log shows the line its /init prints.
//!
//! The control host of the inventory is never contacted (`--limit` the compute host): its
//! services are other tests' business; this one is about the compute host's engine.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::podman::{podman_engine, PODMAN_TURN};
use crate::util::{ensure_images, kollars, reference, root, stderr, IMAGE_NAMESPACE, IMAGE_TAG};

const TAG: &str = "2026.1-debian-trixie";

fn docker(engine: &str, args: &[&str]) -> Output {
    Command::new("docker")
        .env("DOCKER_HOST", engine)
        .args(args)
        .output()
        .expect("run docker")
}

/// The globals nova-libvirt needs in this sandbox (see `site`): QEMU without KVM (this
/// machine's nested KVM hangs Debian's kernel), no SASL, and limits that fit it.
pub(crate) fn libvirt_globals() -> String {
    let (nofile, memlock) = (hard_limit("n"), hard_limit("l") * 1024);
    format!(
        "libvirt_enable_sasl: false\nnova_compute_virt_type: qemu\n\
         qemu_max_files: 0\nqemu_max_processes: 0\n\
         nova_libvirt_default_dimensions:\n  ulimits:\n\
         \x20   memlock: {{soft: {memlock}, hard: {memlock}}}\n\
         \x20   nofile: {{soft: {nofile}, hard: {nofile}}}\n\
         \x20   nproc: {{soft: 32768, hard: 32768}}\n"
    )
}

/// This machine's hard limit of `ulimit -H<flag>`, as a number.
fn hard_limit(flag: &str) -> u64 {
    let o = Command::new("sh")
        .args(["-c", &format!("ulimit -H{flag}")])
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&o.stdout).trim().to_owned();
    s.parse().unwrap_or(1 << 20)
}

/// The compute site: kolla's all-in-one inventory with its control host `ctl` (never
/// contacted) and `node1` in `[compute]` on the podman engine.
fn site(dir: &Path, engine: &str) {
    let inputs = reference().join("inputs");
    let conf = dir.join("config");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::copy(inputs.join("passwords.yml"), conf.join("passwords.yml")).unwrap();
    crate::util::copy_tree(&inputs.join("facts"), &dir.join("facts"));
    for h in ["ctl", "node1"] {
        std::fs::copy(
            inputs.join("facts/localhost.json"),
            dir.join(format!("facts/{h}.json")),
        )
        .unwrap();
    }
    let inv = std::fs::read_to_string(inputs.join("inventory")).unwrap();
    let ctl = format!(
        "ctl kollars_engine=unix:///nonexistent/ctl.sock node_config_directory={}",
        dir.join("etc-ctl").display()
    );
    let node1 = format!(
        "[compute]\nnode1 kollars_engine={engine} node_config_directory={}",
        dir.join("etc-node1").display()
    );
    let inv: String = inv
        .lines()
        .map(|l| {
            if l.starts_with("localhost ") {
                ctl.clone()
            } else if l == "[compute]" {
                node1.clone()
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.join("inventory"), inv + "\n").unwrap();
    // this sandbox's hard limits (no CAP_SYS_RESOURCE): podman gives a container that asks
    // for any ulimit 1048576 open files, kolla asks libvirt for 64 MiB of locked memory; and
    // libvirtd cannot set a QEMU process's limits (prlimit on a process of another user):
    // qemu.conf's max_files and max_processes 0 leave them as they are
    let globals = format!(
        "kolla_base_distro: debian\ndocker_registry: \"\"\ndocker_namespace: kollars\n\
         openstack_tag: {TAG}\nnetwork_interface: lo\nkolla_internal_vip_address: 127.0.0.2\n\
         enable_keepalived: \"no\"\nenable_proxysql: \"no\"\n\
         kolla_container_engine: podman\n\
         nova_compute_image_full: {IMAGE_NAMESPACE}/nova-compute:{IMAGE_TAG}\n\
         nova_ssh_image_full: {IMAGE_NAMESPACE}/nova-ssh:{IMAGE_TAG}\n\
         kollars_helper_image: {IMAGE_NAMESPACE}/kolla-toolbox:{IMAGE_TAG}\n{}",
        libvirt_globals()
    );
    std::fs::write(conf.join("globals.yml"), globals).unwrap();
}

fn args(dir: &Path, cmd: &str, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = vec![
        cmd.into(),
        "-i".into(),
        dir.join("inventory").display().to_string(),
        "--configdir".into(),
        dir.join("config").display().to_string(),
        "--facts".into(),
        dir.join("facts").display().to_string(),
        "-t".into(),
        "nova-cell".into(),
        "--limit".into(),
        "node1".into(),
    ];
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn run(dir: &Path, cmd: &str, extra: &[&str]) -> String {
    let o = kollars(args(dir, cmd, extra));
    let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    assert!(o.status.success(), "kollars {cmd} failed:\n{out}");
    out
}

fn exec(engine: &str, container: &str, cmd: &[&str]) -> Output {
    let mut a = vec!["exec", container];
    a.extend(cmd);
    docker(engine, &a)
}

#[test]
fn a_guest_boots_under_nova_libvirt_on_a_podman_host() {
    let _turn = PODMAN_TURN.lock().unwrap_or_else(|e| e.into_inner());
    let engine = podman_engine();
    ensure_images(&engine, &["nova-compute", "nova-ssh", "kolla-toolbox"]);
    let libvirt = format!("kollars/nova-libvirt:{TAG}");
    if !docker(&engine, &["image", "inspect", &libvirt])
        .status
        .success()
    {
        let real = crate::real::real_engine();
        let o = Command::new(root().join("scripts/copy-images.sh"))
            .args(["--from", &real, "--to", &engine, &libvirt])
            .output()
            .unwrap();
        assert!(o.status.success(), "copy-images.sh: {}", stderr(&o));
    }
    for c in ["nova_libvirt", "nova_compute", "nova_ssh"] {
        let _ = docker(&engine, &["rm", "-f", c]);
    }
    let dir = tempfile::tempdir().unwrap();
    let guest = dir.path().join("guest");
    let line = format!("booted on kollars' podman host {}", std::process::id());
    let o = Command::new(root().join("scripts/guest-image.sh"))
        .arg(&guest)
        .arg(&line)
        .output()
        .unwrap();
    assert!(o.status.success(), "guest-image.sh: {}", stderr(&o));
    site(dir.path(), &engine);

    let t0 = Instant::now();
    let out = run(dir.path(), "deploy", &[]);
    eprintln!("deploy: {:.1}s\n{out}", t0.elapsed().as_secs_f64());
    let o = docker(
        &engine,
        &[
            "inspect",
            "-f",
            "{{.State.Running}} {{.HostConfig.Privileged}} {{.HostConfig.PidMode}}",
            "nova_libvirt",
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "true true host",
        "{}",
        stderr(&o)
    );
    let out = run(dir.path(), "plan", &[]);
    assert!(
        out.contains("0 change(s) planned"),
        "a second run changes:\n{out}"
    );

    // libvirtd answers on kolla's TCP listener, as nova-compute connects to it
    let uri = "qemu+tcp://127.0.0.1/system";
    let mut ready = false;
    for _ in 0..60 {
        if exec(&engine, "nova_libvirt", &["virsh", "-c", uri, "version"])
            .status
            .success()
        {
            ready = true;
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    assert!(ready, "libvirtd does not answer on {uri}");

    // the guest, in nova's instances directory (the nova_compute volume)
    let inst = "/var/lib/nova/instances/kollars-test";
    assert!(exec(&engine, "nova_libvirt", &["mkdir", "-p", inst])
        .status
        .success());
    let xml = format!(
        "<domain type='qemu'><name>kollars-test</name><memory unit='MiB'>256</memory>\
         <vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type>\
         <kernel>{inst}/vmlinuz</kernel><initrd>{inst}/initrd.img</initrd>\
         <cmdline>console=ttyS0 quiet</cmdline></os><devices><serial type='pty'>\
         <log file='{inst}/console.log' append='off'/><target port='0'/></serial>\
         <console type='pty'><target type='serial' port='0'/></console></devices></domain>"
    );
    std::fs::write(guest.join("domain.xml"), xml).unwrap();
    for f in ["vmlinuz", "initrd.img", "domain.xml"] {
        let src = guest.join(f).display().to_string();
        let o = docker(&engine, &["cp", &src, &format!("nova_libvirt:{inst}/{f}")]);
        assert!(o.status.success(), "cp {f}: {}", stderr(&o));
    }
    let o = exec(
        &engine,
        "nova_libvirt",
        &[
            "chmod",
            "0644",
            &format!("{inst}/vmlinuz"),
            &format!("{inst}/initrd.img"),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let booted = Instant::now();
    let o = exec(
        &engine,
        "nova_libvirt",
        &["virsh", "-c", uri, "create", &format!("{inst}/domain.xml")],
    );
    assert!(o.status.success(), "virsh create: {}", stderr(&o));
    let mut console = String::new();
    while booted.elapsed() < Duration::from_secs(600) {
        let o = exec(
            &engine,
            "nova_libvirt",
            &["cat", &format!("{inst}/console.log")],
        );
        console = String::from_utf8_lossy(&o.stdout).to_string();
        if console.contains(&line) {
            break;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    eprintln!("guest booted in {:.1}s", booted.elapsed().as_secs_f64());
    let _ = exec(
        &engine,
        "nova_libvirt",
        &["virsh", "-c", uri, "destroy", "kollars-test"],
    );
    assert!(
        console.contains(&format!("KOLLARS-GUEST: {line}")),
        "the guest's console:\n{console}"
    );

    run(dir.path(), "destroy", &["--yes-i-really-really-mean-it"]);
    for c in ["nova_libvirt", "nova_compute", "nova_ssh"] {
        assert!(
            !docker(&engine, &["container", "inspect", c])
                .status
                .success(),
            "{c} left after destroy"
        );
    }
}
