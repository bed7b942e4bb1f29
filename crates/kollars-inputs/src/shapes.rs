//! Variables whose shape kolla relies on, checked where the operator wrote them.
//!
//! kolla-ansible reads `enable_*` through `| bool` (a list or a mapping there is a Python
//! `TypeError`: unhashable) and puts addresses and image coordinates into strings: a list for
//! `openstack_tag` becomes `tag:["demo"]` at the engine. Such a value is refused here, naming
//! the file (or inventory group or host) and the variable, never the value. Only what kolla
//! would choke on is refused: a value that is a Jinja string is left to evaluation, and an
//! empty `globals.yml` (kolla's default one is all comments) is still accepted.

use serde_yaml::Value;

use crate::configdir::VarMap;
use crate::yaml::kind;

/// Variables that name one thing (an address, an interface, an image coordinate): a list or a
/// mapping there is a mistake.
pub const SCALAR_VARS: &[&str] = &[
    "kolla_internal_vip_address",
    "kolla_external_vip_address",
    "kolla_internal_fqdn",
    "kolla_external_fqdn",
    "openstack_tag",
    "openstack_tag_suffix",
    "openstack_release",
    "kolla_base_distro",
    "kolla_install_type",
    "docker_registry",
    "docker_namespace",
    "network_interface",
    "api_interface",
    "node_config_directory",
];

/// Checks the variables of one source: `enable_*` and [`SCALAR_VARS`] must not be lists or
/// mappings. The error (to be prefixed with the source) names every offending variable.
pub fn check(vars: &VarMap) -> Result<(), String> {
    let wrong: Vec<String> = vars
        .iter()
        .filter(|(_, v)| matches!(untagged(v), Value::Sequence(_) | Value::Mapping(_)))
        .filter_map(|(k, v)| {
            if k.starts_with("enable_") {
                Some(format!(
                    "{k} must be a boolean (yes/no), found {}",
                    kind(untagged(v))
                ))
            } else if SCALAR_VARS.contains(&k.as_str()) {
                Some(format!(
                    "{k} must be a single value, found {}",
                    kind(untagged(v))
                ))
            } else {
                None
            }
        })
        .collect();
    match wrong.is_empty() {
        true => Ok(()),
        false => Err(wrong.join("; ")),
    }
}

fn untagged(v: &Value) -> &Value {
    match v {
        Value::Tagged(t) => &t.value,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_mappings_are_refused_where_kolla_wants_one_value() {
        let vars: VarMap = crate::configdir::parse_var_text(
            std::path::Path::new("g.yml"),
            "enable_keystone: [1]\nenable_nova: {a: 1}\nenable_x: yes\nopenstack_tag: [demo]\n\
             kolla_internal_vip_address: '{{ x }}'\nother: [1]\n",
        )
        .unwrap();
        let e = check(&vars).unwrap_err();
        assert_eq!(
            e,
            "enable_keystone must be a boolean (yes/no), found a list; enable_nova must be a \
             boolean (yes/no), found a mapping; openstack_tag must be a single value, found a list"
        );
        assert!(check(&VarMap::new()).is_ok());
    }
}
