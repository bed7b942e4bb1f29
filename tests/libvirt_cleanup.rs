//! `nova-libvirt-cleanup` on two stand-in engines: refused while the container is enabled,
//! refused while a QEMU process runs on the host, then the container, its volumes and its
//! config directory removed (`--plan` first, which changes nothing).

use std::process::{Child, Command};

use crate::util::{
    docker, engines, engines_turn, ensure_images, kollars, site_args, site_inputs, site_inventory,
    standin_globals, stderr,
};

/// A process named like a QEMU guest on this machine (the engines' hosts share its PIDs).
struct FakeGuest {
    child: Child,
    /// holds the renamed executable
    _dir: tempfile::TempDir,
}

impl FakeGuest {
    fn start() -> FakeGuest {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("qemu-system-x86_64");
        std::fs::copy("/bin/sleep", &exe).unwrap();
        let child = Command::new(&exe).arg("600").spawn().unwrap();
        FakeGuest { child, _dir: dir }
    }
}

impl Drop for FakeGuest {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn nova_libvirt_cleanup_on_real_engines() {
    let _turn = engines_turn();
    let engines = engines();
    let engines = &engines[..2];
    for e in engines {
        ensure_images(e, &["nova-libvirt", "kolla-toolbox"]);
        docker(e, &["rm", "-f", "nova_libvirt"]);
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // no memlock ulimit: the test engines' containers may not raise it
    let globals = standin_globals() + "nova_libvirt_dimensions: {}\n";
    site_inputs(d, &["node1", "node2"], &globals);
    site_inventory(
        d,
        "compute",
        &[("node1", &engines[0], ""), ("node2", &engines[1], "")],
        &[],
    );
    let run = |cmd: &str, extra: &[&str]| kollars(site_args(d, cmd, "nova-libvirt", extra));
    let o = run("deploy", &[]);
    assert!(o.status.success(), "deploy: {}", stderr(&o));
    assert!(d.join("etc-node1/nova-libvirt").is_dir());

    let o = run("nova-libvirt-cleanup", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("enable_nova_libvirt_container is true"),
        "{}",
        stderr(&o)
    );

    let off = ["-e", "enable_nova_libvirt_container=false"];
    {
        let guest = FakeGuest::start();
        let o = run("nova-libvirt-cleanup", &off);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("refusing to remove nova_libvirt with running guests"),
            "{err}"
        );
        assert!(err.contains(&guest.child.id().to_string()), "{err}");
    }
    for e in engines {
        assert!(docker(e, &["container", "inspect", "nova_libvirt"])
            .status
            .success());
    }

    let mut a = off.to_vec();
    a.extend([
        "-e",
        "nova_libvirt_cleanup_running_vms_fatal=false",
        "-e",
        "nova_libvirt_cleanup_remove_volumes=true",
    ]);
    let mut plan = a.clone();
    plan.push("--plan");
    let o = run("nova-libvirt-cleanup", &plan);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    for want in [
        "node1        remove container  nova_libvirt".to_string(),
        "node2        remove volume     nova_libvirt_qemu".to_string(),
        format!(
            "node1        remove directory  {}/etc-node1/nova-libvirt",
            d.display()
        ),
    ] {
        assert!(text.contains(&want), "{want}:\n{text}");
    }
    assert!(d.join("etc-node1/nova-libvirt").is_dir());

    let o = run("nova-libvirt-cleanup", &a);
    assert!(o.status.success(), "{}", stderr(&o));
    for (e, h) in engines.iter().zip(["node1", "node2"]) {
        assert!(!docker(e, &["container", "inspect", "nova_libvirt"])
            .status
            .success());
        for v in ["libvirtd", "nova_libvirt_qemu", "nova_libvirt_secrets"] {
            assert!(
                !docker(e, &["volume", "inspect", v]).status.success(),
                "{v} on {h}"
            );
        }
        assert!(!d.join(format!("etc-{h}/nova-libvirt")).exists(), "{h}");
    }
}
