//! The test images' stand-in services (kolla-standin): what each service and program
//! pretends to do, so the driver tests can trust them.
//!
//! The stand-in replaces OpenStack's daemons in the test images; if it listened on the wrong
//! port or kept no keys, every deploy test built on it would test nothing.

use crate::support::{image, text, ConfigDir, Container, CFG};

#[test]
fn the_stand_in_behaves_per_service_and_per_program() {
    // One image, two services (nova-api's image also runs nova_metadata): uwsgi listens
    // where its ini says; any other daemon where the image's map says for the service.
    let cfg = ConfigDir::new(&serde_json::json!({
        "command": "uwsgi /etc/nova/nova-metadata-uwsgi.ini",
        "config_files": [{"source": format!("{CFG}/nova-metadata-uwsgi.ini"), "dest": "/etc/nova/nova-metadata-uwsgi.ini", "owner": "nova", "perm": "0600"}]
    }));
    cfg.write(
        "nova-metadata-uwsgi.ini",
        "[uwsgi]\nhttp = 127.0.0.1:18775\nsocket-timeout = 30\n",
    );
    let env = [
        "KOLLA_CONFIG_STRATEGY=COPY_ALWAYS",
        "KOLLA_SERVICE_NAME=nova-metadata",
    ];
    let c = Container::start(&image("nova-api"), &cfg, &env);
    c.wait_ok(&["healthcheck_listen", "uwsgi", "18775"]);
    c.ok(&["healthcheck_curl", "http://127.0.0.1:18775"]);
    assert_eq!(c.code(&["healthcheck_listen", "uwsgi", "8774", "8775"]), 1);
    drop(c);
    cfg.set_config(&serde_json::json!({"command": "/usr/sbin/apache2 -DFOREGROUND"}));
    let c = Container::start(&image("nova-api"), &cfg, &env);
    c.wait_ok(&["healthcheck_listen", "apache2", "8775"]);
    assert_eq!(c.code(&["healthcheck_listen", "apache2", "8774"]), 1);
    // Tools do nothing and say so on stderr only.
    let out = c.exec(&["nova-manage", "cell_v2", "list_cells"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "");
    drop(c);

    // neutron_rpc_server runs from neutron-server's image but serves no API.
    let cfg = ConfigDir::new(&serde_json::json!({"command": "neutron-rpc-server"}));
    let c = Container::start(
        &image("neutron-server"),
        &cfg,
        &[
            "KOLLA_CONFIG_STRATEGY=COPY_ALWAYS",
            "KOLLA_SERVICE_NAME=neutron-rpc-server",
        ],
    );
    c.wait_ok(&["sh", "-c", "ps -o args | grep -q '^neutron-rpc-server'"]);
    assert!(
        c.logs().contains("[Connect(127.0.0.1:5672)]"),
        "{}",
        c.logs()
    );
    assert_eq!(c.code(&["healthcheck_listen", "neutron-rpc", "9696"]), 1);
}

#[test]
fn keystone_fernet_gets_keys_and_keystone_manage_manages_them() {
    let cfg = ConfigDir::new(&serde_json::json!({"command": "cron -f"}));
    let c = Container::start(
        &image("keystone-fernet"),
        &cfg,
        &["KOLLA_CONFIG_STRATEGY=COPY_ALWAYS"],
    );
    c.wait_ok(&["test", "-s", "/etc/keystone/fernet-keys/1"]);
    assert_eq!(c.stat("/etc/keystone/fernet-keys"), "42425:42425 700");
    assert_eq!(c.stat("/etc/keystone/fernet-keys/0"), "42425:42425 600");
    let key = c.ok(&["cat", "/etc/keystone/fernet-keys/0"]);
    assert_eq!(key.len(), 44, "32 bytes, url-safe base64: {key:?}");
    c.ok(&["keystone-manage", "fernet_rotate"]);
    c.ok(&["keystone-manage", "fernet_rotate"]);
    assert_eq!(
        c.ok(&["ls", "/etc/keystone/fernet-keys"]),
        "0\n2\n3\n",
        "max_active_keys 3"
    );
    let out = c.exec(&["keystone-manage", "fernet_setup"]);
    assert!(out.status.success());
    assert!(text(&out.stderr).contains("Key repository is already initialized"));
}
