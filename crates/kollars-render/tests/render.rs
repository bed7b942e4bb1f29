//! Config entries end to end: definitions on disk, render, write; then the tree on disk.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use kollars_inputs::{ConfigDir, Inventory};
use kollars_render::{render_all, write_host, Selection};
use kollars_services::Catalogue;
use kollars_vars::VarsBuilder;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

const SERVICE: &str = r#"
defaults:
  demo_greeting: hello
services:
  demo:
    container_name: demo
    enabled: true
    group: all
    config:
      # vars in order, each seeing the ones before it
      - dest: chained.conf
        template: demo/chained.conf.j2
        vars:
          first: "{{ demo_greeting }}"
          second: "{{ first }} world"
          third: "{{ second | upper }}"
      # empty directories, as kolla's file: state=directory
      - dest: services.d
        directory: true
      - dest: users
        directory: true
        mode: "0750"
      # a directory copied recursively; its directories 0755 like Ansible's copy
      - dest: "themes/{{ item }}"
        loop: ["blue", "missing"]
        copy: "demo/themes/{{ item }}"
        optional: true
      # a glob: every match into services.d
      - dest: services.d
        copy: "demo/services.d/*.cfg"
        mode: "0640"
      - dest: nothing.d
        copy: "demo/none/*.cfg"
      # the CA bundle, into a directory with the mode kolla gives it
      - dest: "ca-certificates/{{ item | basename }}"
        loop: ["root.crt"]
        copy: "demo/ca/{{ item }}"
        mode: "0644"
        dir_mode: "0755"
      # a binary file copied on its own, with its mode
      - dest: keyring.gpg
        copy: demo/keyring.gpg
        mode: "0600"
      # YAML merged as kolla's merge_yaml (PyYAML, YAML 1.1): plain yes is true, 'yes' a string
      - dest: settings.yml
        template: demo/settings.yml.j2
        merge: yaml
        overrides: ["demo/settings.yml", "demo/settings.d/*.yml"]
"#;

/// Not UTF-8: a PNG header, then bytes no UTF-8 text holds.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\xfe\xff\x00\xc3\x28";

#[test]
fn config_entries_vars_dirs_and_copies() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    write(&data.join("services/demo.yml"), SERVICE);
    write(
        &data.join("templates/demo/chained.conf.j2"),
        "{{ first }}|{{ second }}|{{ third }}\n",
    );
    let custom = tmp.path().join("config");
    write(&custom.join("demo/themes/blue/theme.scss"), "$c: blue;\n");
    write(
        &custom.join("demo/themes/blue/static/img/logo.svg"),
        "<svg/>\n",
    );
    std::fs::create_dir_all(custom.join("demo/themes/blue/empty")).unwrap();
    std::fs::write(custom.join("demo/themes/blue/static/img/logo.png"), PNG).unwrap();
    let keyring: Vec<u8> = (0..=255u8).rev().collect();
    std::fs::write(custom.join("demo/keyring.gpg"), &keyring).unwrap();
    write(
        &custom.join("demo/services.d/a.cfg"),
        "a {{ not rendered }}\n",
    );
    write(&custom.join("demo/services.d/b.cfg"), "b\n");
    write(&custom.join("demo/services.d/b.txt"), "not a cfg\n");
    write(&custom.join("demo/services.d/.hidden.cfg"), "hidden\n");
    write(&custom.join("demo/ca/root.crt"), "CERT\n");
    write(
        &data.join("templates/demo/settings.yml.j2"),
        "base: on\nkept: 'on'\n",
    );
    write(
        &custom.join("demo/settings.yml"),
        "plain: yes\nquoted: 'yes'\nmode: 0755\n",
    );
    // a glob of overrides: every match in name order (b after a), files only
    write(&custom.join("demo/settings.d/b.yml"), "order: b\n");
    write(
        &custom.join("demo/settings.d/a.yml"),
        "order: a\nfrom_a: 1\n",
    );
    write(&custom.join("demo/settings.d/c.txt"), "order: c\n");
    std::fs::create_dir_all(custom.join("demo/settings.d/d.yml")).unwrap();

    let catalogue = Catalogue::load(&data.join("services")).unwrap();
    let inv = Inventory::parse(Path::new("inventory"), "[control]\nctl1\n").unwrap();
    let config = ConfigDir {
        globals: serde_yaml::from_str(&format!(
            "node_config_directory: /etc/kolla\nnode_custom_config: {}\n",
            custom.display()
        ))
        .unwrap(),
        ..ConfigDir::default()
    };
    let vars = VarsBuilder::new()
        .templates_dir(data.join("templates"))
        .global_defaults(catalogue.global_defaults.clone())
        .project_defaults(catalogue.project_defaults.clone())
        .build(&inv, &config);
    let rendered = render_all(&vars, &catalogue, &Selection::default()).unwrap();
    let out = tmp.path().join("out");
    write_host(&out, &rendered[0]).unwrap();
    let svc = out.join("demo");

    assert_eq!(
        std::fs::read_to_string(svc.join("chained.conf")).unwrap(),
        "hello|hello world|HELLO WORLD\n"
    );
    let settings: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(svc.join("settings.yml")).unwrap()).unwrap();
    assert_eq!(settings["base"], serde_yaml::Value::Bool(true));
    assert_eq!(settings["kept"].as_str(), Some("on"));
    assert_eq!(settings["plain"], serde_yaml::Value::Bool(true));
    assert_eq!(settings["quoted"].as_str(), Some("yes"));
    assert_eq!(settings["mode"].as_u64(), Some(493));
    assert_eq!(settings["order"].as_str(), Some("b"));
    assert_eq!(settings["from_a"].as_u64(), Some(1));
    // the service directory and directories for rendered files: 0770
    assert_eq!(mode(&svc), 0o770);
    // directory entries, empty or not
    assert_eq!(mode(&svc.join("users")), 0o750);
    assert_eq!(std::fs::read_dir(svc.join("users")).unwrap().count(), 0);
    assert_eq!(
        mode(&svc.join("services.d")),
        0o770,
        "{:?}",
        rendered[0].services[0].dirs
    );
    // glob copy: matches only, verbatim, with the entry's mode
    let mut cfgs: Vec<String> = std::fs::read_dir(svc.join("services.d"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    cfgs.sort();
    assert_eq!(cfgs, ["a.cfg", "b.cfg"]);
    assert_eq!(
        std::fs::read_to_string(svc.join("services.d/a.cfg")).unwrap(),
        "a {{ not rendered }}\n"
    );
    assert_eq!(mode(&svc.join("services.d/a.cfg")), 0o640);
    assert!(!svc.join("nothing.d").exists());
    // recursive copy: files 0660, its directories 0755, empty ones included
    assert_eq!(
        std::fs::read_to_string(svc.join("themes/blue/static/img/logo.svg")).unwrap(),
        "<svg/>\n"
    );
    assert_eq!(mode(&svc.join("themes/blue/theme.scss")), 0o660);
    for d in [
        "themes",
        "themes/blue",
        "themes/blue/static/img",
        "themes/blue/empty",
    ] {
        assert_eq!(mode(&svc.join(d)), 0o755, "{d}");
    }
    assert!(!svc.join("themes/missing").exists());
    // binary files are copied byte for byte, with the entry's mode
    assert_eq!(
        std::fs::read(svc.join("themes/blue/static/img/logo.png")).unwrap(),
        PNG
    );
    assert_eq!(mode(&svc.join("themes/blue/static/img/logo.png")), 0o660);
    assert_eq!(std::fs::read(svc.join("keyring.gpg")).unwrap(), keyring);
    assert_eq!(mode(&svc.join("keyring.gpg")), 0o600);
    let file = |path: &str| {
        rendered[0].services[0]
            .files
            .iter()
            .find(|f| f.path == path)
            .unwrap()
    };
    let png = file("themes/blue/static/img/logo.png");
    assert_eq!(png.text(), None);
    // hashes are sha256 of the bytes, text and binary alike (text hashes as when contents
    // were strings: containers recording them must not restart)
    assert_eq!(
        png.hash,
        "760f17dbe136987d09a05c76299bca70a4f2b2209de9aad9efce8798ecb3c90d"
    );
    let chained = file("chained.conf");
    assert_eq!(chained.text(), Some("hello|hello world|HELLO WORLD\n"));
    assert_eq!(
        chained.hash,
        "d4d651d66f70b4789ffba0d776c5c7f382005382ff68e49aa2a90d787bae1d8e"
    );
    // dir_mode
    assert_eq!(mode(&svc.join("ca-certificates")), 0o755);
    assert_eq!(mode(&svc.join("ca-certificates/root.crt")), 0o644);

    // the rendered tree lists its directories, parents first
    let dirs: Vec<(&str, u32)> = rendered[0].services[0]
        .dirs
        .iter()
        .map(|d| (d.path.as_str(), d.mode))
        .collect();
    assert!(dirs.contains(&("users", 0o750)), "{dirs:?}");
    assert!(dirs.contains(&("themes/blue/empty", 0o755)), "{dirs:?}");

    // a second write changes nothing, and puts a wrong directory mode right
    std::fs::set_permissions(svc.join("users"), std::fs::Permissions::from_mode(0o700)).unwrap();
    assert!(write_host(&out, &rendered[0]).unwrap().is_empty());
    assert_eq!(mode(&svc.join("users")), 0o750);
}

#[test]
fn directory_entry_with_a_source_is_a_definition_error() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    write(
        &data.join("services/demo.yml"),
        "services:\n  demo:\n    enabled: true\n    group: all\n    config:\n      - dest: d\n        directory: true\n        template: x.j2\n",
    );
    let catalogue = Catalogue::load(&data.join("services")).unwrap();
    let inv = Inventory::parse(Path::new("inventory"), "[control]\nctl1\n").unwrap();
    let config = ConfigDir {
        globals: serde_yaml::from_str(
            "node_config_directory: /etc/kolla\nnode_custom_config: /nonexistent\n",
        )
        .unwrap(),
        ..ConfigDir::default()
    };
    let vars = VarsBuilder::new().build(&inv, &config);
    let err = render_all(&vars, &catalogue, &Selection::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("a directory entry has no template"),
        "{err}"
    );
}

/// An iterated service (kolla's `iterate`, OVN's southbound relays): one directory and one
/// container per instance, `item` set in the dict and every entry; a count that is no
/// number is a definition error naming the service and host.
#[test]
fn iterated_service_renders_one_directory_per_instance() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    write(
        &data.join("services/demo.yml"),
        r#"
defaults:
  relays: "{{ groups['control'] | length + 1 }}"
services:
  relay:
    container_name: relay
    enabled: true
    group: control
    iterate: "{{ relays }}"
    environment:
      RELAY_ID: "{{ item | string }}"
    config:
      - dest: config.json
        json:
          command: "relay --port {{ 16640 + item }} --on {{ inventory_hostname }}"
      - dest: "{{ service_name }}-{{ item }}.conf"
        template: demo/relay.conf.j2
  plain:
    container_name: plain
    enabled: true
    group: control
    config:
      - dest: config.json
        json:
          command: plain
"#,
    );
    write(
        &data.join("templates/demo/relay.conf.j2"),
        "id={{ item }}\n",
    );
    let catalogue = Catalogue::load(&data.join("services")).unwrap();
    let inv = Inventory::parse(Path::new("inventory"), "[control]\nctl1\nctl2\n").unwrap();
    let config = |extra: &str| ConfigDir {
        globals: serde_yaml::from_str(&format!(
            "node_config_directory: /etc/kolla\nnode_custom_config: /nonexistent\n{extra}"
        ))
        .unwrap(),
        ..ConfigDir::default()
    };
    let build = |extra: &str| {
        VarsBuilder::new()
            .templates_dir(data.join("templates"))
            .global_defaults(catalogue.global_defaults.clone())
            .project_defaults(catalogue.project_defaults.clone())
            .build(&inv, &config(extra))
    };
    let rendered = render_all(&build(""), &catalogue, &Selection::default()).unwrap();
    for host in &rendered {
        let names: Vec<&str> = host.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["relay-1", "relay-2", "relay-3", "plain"],
            "{}",
            host.host
        );
        for (i, svc) in host.services[..3].iter().enumerate() {
            let n = i + 1;
            let dict = &svc.container;
            assert_eq!(
                dict.get_attr("container_name").unwrap().to_string(),
                format!("relay_{n}")
            );
            assert_eq!(
                dict.get_attr("environment")
                    .unwrap()
                    .get_attr("RELAY_ID")
                    .unwrap()
                    .as_str(),
                Some(n.to_string().as_str())
            );
            let text = |p: &str| {
                svc.files
                    .iter()
                    .find(|f| f.path == p)
                    .unwrap()
                    .text()
                    .unwrap()
                    .to_owned()
            };
            let json: serde_json::Value = serde_json::from_str(&text("config.json")).unwrap();
            assert_eq!(
                json["command"],
                format!("relay --port {} --on {}", 16640 + n, host.host)
            );
            assert_eq!(text(&format!("relay-{n}.conf")), format!("id={n}\n"));
        }
        assert_eq!(
            host.services[3]
                .container
                .get_attr("container_name")
                .unwrap()
                .to_string(),
            "plain"
        );
    }
    // none at all
    let rendered = render_all(&build("relays: 0\n"), &catalogue, &Selection::default()).unwrap();
    let names: Vec<&str> = rendered[0]
        .services
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["plain"]);
    // not a count
    let err = render_all(&build("relays: many\n"), &catalogue, &Selection::default()).unwrap_err();
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(e) = source {
        text = format!("{text}: {e}");
        source = e.source();
    }
    assert!(
        text.contains("relay") && text.contains("ctl1") && text.contains("iterate"),
        "{text}"
    );
}
