//! Inventory reading end to end: ranges, INI sections and errors, the YAML form.

use super::*;

#[test]
fn ranges_expand_with_padding_and_steps() {
    assert_eq!(
        expand_host_pattern("ctl[01:03]").unwrap(),
        ["ctl01", "ctl02", "ctl03"]
    );
    assert_eq!(
        expand_host_pattern("n[1:5:2].x").unwrap(),
        ["n1.x", "n3.x", "n5.x"]
    );
    assert_eq!(expand_host_pattern("h[a:c]").unwrap(), ["ha", "hb", "hc"]);
    assert!(expand_host_pattern("h[3:1]").is_err());
    assert!(expand_host_pattern("h[1:").is_err());
}

/// Found writing the inventory fuzz target: ranges that never ended (a step of 256 on letters, a range up to
/// `u64::MAX`) or made more names than memory holds (nested ranges).
#[test]
fn ranges_are_bounded() {
    assert_eq!(expand_host_pattern("h[a:c:256]").unwrap(), ["ha"]);
    assert_eq!(
        expand_host_pattern("h[18446744073709551614:18446744073709551615]").unwrap(),
        ["h18446744073709551614", "h18446744073709551615"]
    );
    for bomb in [
        "h[0:18446744073709551615]",
        "h[1:1000][1:1000]",
        "h[1:100][1:100][1:100]",
    ] {
        let e = expand_host_pattern(bomb).unwrap_err();
        assert!(
            e.contains("more than 100000 hosts") && e.contains(bomb),
            "{e}"
        );
    }
    assert_eq!(
        expand_host_pattern("h[1:100][1:1000]").unwrap().len(),
        100_000
    );
}

#[test]
fn ini_children_vars_and_order() {
    let text = "[control]\nctl[01:02] api_interface=eth1 n=3\n[compute]\ncmp01\n\n[nova:children]\ncontrol\n[nova-api:children]\nnova\n[nova:vars]\nfoo=bar\n[all:vars]\nfoo=all\n";
    let inv = Inventory::parse(Path::new("inv"), text).unwrap();
    assert_eq!(inv.group_hosts("nova-api"), ["ctl01", "ctl02"]);
    assert_eq!(inv.group_hosts("all"), ["ctl01", "ctl02", "cmp01"]);
    assert_eq!(inv.group_names("ctl01"), ["control", "nova", "nova-api"]);
    assert_eq!(inv.hosts["ctl01"]["n"], Value::Number(3.into()));
    assert_eq!(
        inv.group_vars_for("ctl01")["foo"],
        Value::String("bar".into())
    );
    assert_eq!(
        inv.group_vars_for("cmp01")["foo"],
        Value::String("all".into())
    );
}

#[test]
fn ini_errors_name_file_and_line() {
    let err = Inventory::parse(Path::new("inv.ini"), "[control\nhost\n").unwrap_err();
    assert!(err.to_string().contains("inv.ini:1"), "{err}");
    let err = Inventory::parse(Path::new("inv.ini"), "[a]\nh1 novalue\n").unwrap_err();
    assert!(err.to_string().contains("inv.ini:2"), "{err}");
    let err =
        Inventory::parse(Path::new("inv.ini"), "[a:children]\nb\n[b:children]\na\n").unwrap_err();
    assert!(
        err.to_string().contains("a -> b -> a") || err.to_string().contains("b -> a -> b"),
        "{err}"
    );
}

#[test]
fn yaml_inventory() {
    let text = "all:\n  children:\n    control:\n      hosts:\n        ctl[1:2]:\n          api_interface: eth1\n      vars:\n        x: 1\n    compute:\n      hosts:\n        c1:\n";
    let inv = Inventory::parse(Path::new("inv.yml"), text).unwrap();
    assert_eq!(inv.group_hosts("control"), ["ctl1", "ctl2"]);
    assert_eq!(inv.group_hosts("all"), ["ctl1", "ctl2", "c1"]);
    assert_eq!(
        inv.hosts["ctl2"]["api_interface"],
        Value::String("eth1".into())
    );
}
