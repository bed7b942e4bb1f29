//! Variable evaluation: precedence, native types, laziness, cycles, errors, kolla filters.

use std::path::Path;

use indexmap::IndexMap;
use kollars_inputs::{ConfigDir, Inventory};
use kollars_vars::{Value, VarError, Vars, VarsBuilder};

fn yaml_map(text: &str) -> IndexMap<String, Value> {
    let m: IndexMap<String, serde_yaml::Value> = serde_yaml::from_str(text).unwrap();
    m.into_iter()
        .map(|(k, v)| (k, Value::from_serialize(v)))
        .collect()
}

fn setup(inventory: &str, defaults: &str, globals_yml: &str) -> Vars {
    let inv = Inventory::parse(Path::new("inventory"), inventory).unwrap();
    let config = ConfigDir {
        globals: serde_yaml::from_str(globals_yml).unwrap(),
        ..ConfigDir::default()
    };
    let facts: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
        r#"{"ansible_hostname": "vm", "ansible_eth0": {"ipv4": {"address": "192.0.2.2"},
            "ipv6": [{"address": "fe80::1", "scope": "link"}, {"address": "fd00::2", "scope": "global"}]},
            "ansible_eth1": {"ipv4": {"address": "198.51.100.7"}}}"#,
    )
    .unwrap();
    let mut b = VarsBuilder::new().global_defaults(yaml_map(defaults));
    for h in inv.hosts.keys() {
        b = b.facts(h, facts.clone());
    }
    b.build(&inv, &config)
}

const INV: &str = "[control]\nctl1\nctl2 api_interface=eth1\n[compute]\ncmp1\n[nova:children]\ncontrol\n[control:vars]\nfrom_group=g\n";

const DEFAULTS: &str = r#"
network_interface: eth0
api_interface: "{{ network_interface }}"
api_address_family: ipv4
enable_haproxy: "yes"
api_interface_address: "{{ 'api' | kolla_address }}"
workers: "{{ [ansible_facts.hostname | length, 5] | min }}"
flag: "{{ 'yes' | bool }}"
members: "{{ groups['control'] | map('extract', hostvars, 'api_interface_address') | list }}"
list_val: "{{ ['a', 'b'] + extra_list }}"
extra_list: ["c"]
text: "x-{{ flag }}-{% if flag %}on{% endif %}"
a: "{{ b }}"
b: "{{ c }}"
c: "{{ a }}"
uses_missing: "{{ not_there }}"
defaulted: "{{ not_there | default('fallback') }}"
from_group: "global-default"
"#;

#[test]
fn native_types_and_precedence() {
    let vars = setup(INV, DEFAULTS, "network_interface: eth0\n");
    let h = vars.host("ctl1").unwrap();
    assert_eq!(h.get("flag").unwrap(), Value::from(true));
    assert_eq!(h.get("workers").unwrap(), Value::from(2));
    assert_eq!(h.get("list_val").unwrap(), Value::from(vec!["a", "b", "c"]));
    assert_eq!(h.get("text").unwrap().as_str(), Some("x-True-on"));
    assert_eq!(h.get("defaulted").unwrap().as_str(), Some("fallback"));
    // playbook group_vars/all beat inventory-file group vars (Ansible's precedence 3 < 5)
    assert_eq!(
        h.get("from_group").unwrap().as_str(),
        Some("global-default")
    );
    // host vars beat group_vars/all
    let h2 = vars.host("ctl2").unwrap();
    assert_eq!(
        h2.get("api_interface_address").unwrap().as_str(),
        Some("198.51.100.7")
    );
    assert_eq!(
        h.get("api_interface_address").unwrap().as_str(),
        Some("192.0.2.2")
    );
}

#[test]
fn hostvars_reach_other_hosts() {
    let vars = setup(INV, DEFAULTS, "{}");
    let h = vars.host("cmp1").unwrap();
    let members = h.get("members").unwrap();
    assert_eq!(members, Value::from(vec!["192.0.2.2", "198.51.100.7"]));
}

#[test]
fn extra_vars_win() {
    let vars = setup(INV, DEFAULTS, "api_interface: eth1\n");
    let h = vars.host("ctl1").unwrap();
    assert_eq!(
        h.get("api_interface_address").unwrap().as_str(),
        Some("198.51.100.7")
    );
}

#[test]
fn cycle_is_named() {
    let vars = setup(INV, DEFAULTS, "{}");
    let err = vars.host("ctl1").unwrap().get("a").unwrap_err();
    assert!(matches!(err, VarError::Cycle { .. }), "{err}");
    let s = err.to_string();
    assert!(s.contains("a -> b -> c -> a"), "{s}");
    assert!(s.contains("ctl1"), "{s}");
}

#[test]
fn undefined_is_named() {
    let vars = setup(INV, DEFAULTS, "{}");
    let err = vars.host("ctl1").unwrap().get("uses_missing").unwrap_err();
    let s = err.to_string();
    assert!(s.contains("not_there"), "{s}");
    assert!(s.contains("uses_missing"), "{s}");
    let err = vars
        .host("ctl1")
        .unwrap()
        .get("nope")
        .unwrap_err()
        .to_string();
    assert!(err.contains("nope"), "{err}");
}

const UUID_VM: &str = "504cba1f-9a4b-5bcb-bb80-676efa2db4e6";

#[test]
fn ansible_filters() {
    let vars = setup(INV, DEFAULTS, "{}");
    let h = vars.host("ctl1").unwrap();
    let eval = |s: &str| h.eval(&Value::from(s), None, "test").unwrap();
    assert_eq!(eval("{{ 'fd00::2' | ipwrap }}").as_str(), Some("[fd00::2]"));
    assert_eq!(
        eval("{{ '10.0.0.1' | put_address_in_context('rabbitmq') }}").as_str(),
        Some("10,0,0,1")
    );
    assert_eq!(
        eval("{{ 'fd00::2' | put_address_in_context('memcache') }}").as_str(),
        Some("inet6:[fd00::2]")
    );
    assert_eq!(
        eval("{{ 'h' | kolla_url('http', 80, '/v3') }}").as_str(),
        Some("http://h/v3")
    );
    assert_eq!(
        eval("{{ 'h' | kolla_url('https', '5000') }}").as_str(),
        Some("https://h:5000")
    );
    assert_eq!(
        eval("{{ 'abc-def' | regex_replace('-(\\\\w+)$', '_\\\\1') }}").as_str(),
        Some("abc_def")
    );
    // from_yaml reads YAML 1.1, as PyYAML: plain yes is a boolean, quoted 'yes' a string
    assert_eq!(eval("{{ ('a: yes' | from_yaml).a }}"), Value::from(true));
    assert_eq!(
        eval("{{ (\"a: 'yes'\" | from_yaml).a }}").as_str(),
        Some("yes")
    );
    let combined = eval("{{ {'a': {'x': 1}} | combine({'a': {'y': 2}}, recursive=true) }}");
    assert_eq!(combined.to_string(), r#"{"a": {"x": 1, "y": 2}}"#);
    assert_eq!(
        eval("{{ {'a': 1} | dict2items | map(attribute='key') | list }}"),
        Value::from(vec!["a"])
    );
    assert_eq!(eval("{{ True | ternary('y', 'n') }}").as_str(), Some("y"));
    assert_eq!(
        eval("{{ {'b': 1, 'a': [1, 2]} | to_json }}").as_str(),
        Some("{\"b\": 1, \"a\": [1, 2]}")
    );
    assert_eq!(
        eval("{{ {'k\"': ['é\\n', {}, [], none, 1.5, true]} | to_json }}").as_str(),
        Some(r#"{"k\"": ["é\n", {}, [], null, 1.5, true]}"#)
    );
    assert_eq!(
        eval("{{ {'b': [1, {'c': []}], 'a': {}} | to_nice_json(indent=2) }}").as_str(),
        Some("{\n  \"a\": {},\n  \"b\": [\n    1,\n    {\n      \"c\": []\n    }\n  ]\n}")
    );
    assert_eq!(
        eval("{{ lookup('vars', 'network_interface') }}").as_str(),
        Some("eth0")
    );
    assert_eq!(eval("{{ 'a,b' .split(',') }}"), Value::from(vec!["a", "b"]));
    assert_eq!(
        eval("{{ [1, [2, [3]]] | flatten }}"),
        Value::from(vec![1, 2, 3])
    );
    assert_eq!(eval("{{ 'On' | bool }}"), Value::from(true));
    assert_eq!(
        eval("{{ 'https://a.b/c d' | urlencode }}").as_str(),
        Some("https%3A//a.b/c%20d")
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.conf"), "x").unwrap();
    std::fs::write(dir.path().join("b.txt"), "x").unwrap();
    std::fs::create_dir(dir.path().join("sub.conf")).unwrap();
    let d = dir.path().to_string_lossy();
    assert_eq!(
        eval(&format!("{{{{ lookup('fileglob', '{d}/*.conf') }}}}")),
        Value::from(vec![format!("{d}/a.conf")])
    );
    assert_eq!(
        eval(&format!("{{{{ ['{d}/a.conf' is file, '{d}/sub.conf' is file, '{d}/sub.conf' is directory, '{d}/nope' is exists] }}}}")),
        Value::from(vec![true, false, true, false])
    );
    assert_eq!(eval("{{ 'no' | bool }}"), Value::from(false));
    // Python's random.Random(seed) picks, as Ansible's random filter with a seed:
    // Random('ctl1').choice([1, 2, 3]) == 3, Random('ctl2').choice(range(1, 65)) == 39,
    // Random('cmp1').randrange(0, 100) == 10, Random(42).choice('abc') == 'c'
    assert_eq!(
        eval("{{ [1, 2, 3] | random(seed='ctl1') }}"),
        Value::from(3)
    );
    assert_eq!(
        eval("{{ range(1, 65) | random(seed='ctl2') }}"),
        Value::from(39)
    );
    assert_eq!(eval("{{ 100 | random(seed='cmp1') }}"), Value::from(10));
    assert_eq!(
        eval("{{ ['a', 'b', 'c'] | random(seed=42) }}").as_str(),
        Some("c")
    );
    assert_eq!(eval("{{ [7] | random }}"), Value::from(7));
    // Jinja2's round: Python's half-to-even by default, ceil and floor on request
    assert_eq!(
        eval("{{ (3 / 50) | round(0, 'ceil') | int }}"),
        Value::from(1)
    );
    assert_eq!(eval("{{ 2.5 | round }}"), Value::from(2.0));
    assert_eq!(eval("{{ 2.567 | round(2, 'floor') }}"), Value::from(2.56));
    // uuid.uuid5(UUID('361E6D51-FAEC-444A-9079-341386DA8E2E'), 'vm'), as Ansible computes it
    assert_eq!(eval("{{ 'vm' | to_uuid }}").as_str(), Some(UUID_VM));
    assert_eq!(
        eval("{{ inventory_hostname }}-{{ group_names | join(',') }}").as_str(),
        Some("ctl1-control,nova")
    );
}

#[test]
fn ipv6_address_skips_link_local_and_vips() {
    let vars = setup(INV, DEFAULTS, "api_address_family: ipv6\n");
    let h = vars.host("ctl1").unwrap();
    assert_eq!(
        h.get("api_interface_address").unwrap().as_str(),
        Some("fd00::2")
    );
}

#[test]
fn syntax_error_names_variable() {
    let vars = setup(INV, "broken: \"{{ 1 + }}\"\nuser: \"{{ broken }}\"\n", "{}");
    let err = vars
        .host("ctl1")
        .unwrap()
        .get("user")
        .unwrap_err()
        .to_string();
    assert!(err.contains("ctl1"), "{err}");
    assert!(
        err.contains("syntax") || err.contains("unexpected"),
        "{err}"
    );
}

/// The name an undefined error blames is the one that failed, not an earlier `is defined`
/// probe, a `default`ed name or a name a macro's loop binds.
#[test]
fn undefined_blames_the_failing_name() {
    let defaults = format!(
        "{DEFAULTS}\nprobing: \"{{{{ 'a' if probe is defined else 'b' }}}}\"\nuses_probing: \"{{{{ probing ~ really_missing }}}}\"\n"
    );
    let vars = setup(INV, &defaults, "{}");
    let h = vars.host("ctl1").unwrap();
    let err = |src: &str| {
        h.eval(&Value::from(src), None, "test")
            .unwrap_err()
            .to_string()
    };
    for src in [
        "{{ really_missing ~ ('x' if probe is defined else 'y') }}",
        "{{ really_missing ~ (probe | default('y')) }}",
        "x {{ probe is undefined }} {{ really_missing }}",
        "{% macro m() %}{% for host in [1] %}{{ host }}{{ loop.index }}{% endfor %}{% endmacro %}{{ really_missing }}",
        "{{ lookup('vars', 'probe', default='') ~ really_missing }}",
    ] {
        let e = err(src);
        assert!(e.contains(": 'really_missing' is undefined (needed by "), "{src}: {e}");
        assert!(!e.contains(" through "), "{src}: {e}");
    }
    // a failure that is not a missing name blames none
    for src in [
        "x {{ probe is defined }} {{ network_interface.nope.x }}",
        "{% macro m() %}{% for host in [1] %}{{ host }}{% endfor %}{% endmacro %}{{ {'a': 1}.nokey ~ 'x' }}",
    ] {
        let e = err(src);
        assert!(!e.contains("needed by"), "{src}: {e}");
    }
    // through a variable whose own probe succeeded
    let e = h.get("uses_probing").unwrap_err().to_string();
    assert!(
        e.contains("'really_missing' is undefined (needed by variable 'uses_probing')"),
        "{e}"
    );
}

/// `-e key=yes` stays the string "yes" (Ansible keeps `-e` key=value pairs as strings);
/// `-e @file.yml` and inline YAML follow YAML 1.1 as PyYAML reads them.
#[test]
fn extra_vars_key_value_stay_strings() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("extra.yml");
    std::fs::write(&file, "from_file: yes\nfrom_file_str: text\n").unwrap();
    let config = ConfigDir::load(
        dir.path(),
        None,
        &[
            "kv=yes kv_off=off kv_num=3".to_string(),
            format!("@{}", file.display()),
            "{\"inline\": on}".to_string(),
        ],
    )
    .unwrap();
    let inv = Inventory::parse(Path::new("inventory"), "[control]\nctl1\n").unwrap();
    let vars = VarsBuilder::new()
        .global_defaults(yaml_map("check: \"{{ kv | bool }}\"\n"))
        .build(&inv, &config);
    let h = vars.host("ctl1").unwrap();
    assert_eq!(h.get("kv").unwrap(), Value::from("yes"));
    assert_eq!(h.get("kv_off").unwrap(), Value::from("off"));
    assert_eq!(h.get("kv_num").unwrap(), Value::from("3"));
    assert_eq!(h.get("check").unwrap(), Value::from(true));
    assert_eq!(h.get("from_file").unwrap(), Value::from(true));
    assert_eq!(h.get("from_file_str").unwrap(), Value::from("text"));
    assert_eq!(h.get("inline").unwrap(), Value::from(true));
}

/// Quoting decides the type, as PyYAML (YAML 1.1) reads operator files for Ansible: a plain
/// `yes`/`On` is a boolean, a quoted `'yes'`/`"on"` a string, in globals.yml, passwords.yml,
/// inline `-e` YAML and YAML inventories alike; a host-line `k=yes` is a string (Ansible's INI).
#[test]
fn quoted_yaml_booleans_stay_strings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("globals.yml"),
        "a: yes\nb: 'yes'\nc: \"on\"\nd: On\nnested: {l: [off, 'off'], m: {x: YES, y: \"YES\"}}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("passwords.yml"),
        "p_plain: no\np_quoted: 'no'\n",
    )
    .unwrap();
    // a password that YAML reads as a boolean is refused: it is not what the operator typed
    let e = ConfigDir::load(dir.path(), None, &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("not strings: p_plain (a boolean)"), "{e}");
    std::fs::write(dir.path().join("passwords.yml"), "p_quoted: 'no'\n").unwrap();
    let config = ConfigDir::load(
        dir.path(),
        None,
        &["{e_plain: on, e_quoted: 'on', e_json: \"on\"}".to_string()],
    )
    .unwrap();
    let inv = Inventory::parse(
        Path::new("inventory.yml"),
        "all:\n  vars:\n    g_plain: yes\n    g_quoted: 'yes'\n  hosts:\n    ctl1:\n      h_plain: Off\n      h_quoted: 'Off'\n",
    )
    .unwrap();
    let vars = VarsBuilder::new().build(&inv, &config);
    let h = vars.host("ctl1").unwrap();
    let get = |k: &str| h.get(k).unwrap();
    assert_eq!(get("a"), Value::from(true));
    assert_eq!(get("b"), Value::from("yes"));
    assert_eq!(get("c"), Value::from("on"));
    assert_eq!(get("d"), Value::from(true));
    let nested = get("nested");
    let l = nested.get_attr("l").unwrap();
    assert_eq!(l.get_item(&Value::from(0)).unwrap(), Value::from(false));
    assert_eq!(l.get_item(&Value::from(1)).unwrap(), Value::from("off"));
    let m = nested.get_attr("m").unwrap();
    assert_eq!(m.get_attr("x").unwrap(), Value::from(true));
    assert_eq!(m.get_attr("y").unwrap(), Value::from("YES"));
    assert_eq!(get("p_quoted"), Value::from("no"));
    assert_eq!(get("e_plain"), Value::from(true));
    assert_eq!(get("e_quoted"), Value::from("on"));
    assert_eq!(get("e_json"), Value::from("on"));
    assert_eq!(get("g_plain"), Value::from(true));
    assert_eq!(get("g_quoted"), Value::from("yes"));
    assert_eq!(get("h_plain"), Value::from(false));
    assert_eq!(get("h_quoted"), Value::from("Off"));
    let ini = Inventory::parse(Path::new("inventory"), "[control]\nctl1 k=yes\n").unwrap();
    let vars = VarsBuilder::new().build(&ini, &ConfigDir::default());
    assert_eq!(
        vars.host("ctl1").unwrap().get("k").unwrap(),
        Value::from("yes")
    );
}
