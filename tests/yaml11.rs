//! Operator YAML follows YAML 1.1 as Ansible's PyYAML reads it: an unquoted `yes` is a
//! boolean (renders `True`), a quoted `'yes'` the string `yes`, `0755` the integer 493; `-e
//! key=value` values stay strings. Our own definitions (`services/`) must read the same under
//! serde_yaml (YAML 1.2), which loads them, as under PyYAML, which loads kolla-ansible's.

use std::path::Path;

use crate::util::{copy_tree, genconfig, reference, root, stderr};

#[test]
fn quoting_decides_string_or_boolean_in_rendered_files() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("inputs");
    copy_tree(&reference().join("inputs"), &inputs);
    let globals = inputs.join("globals.yml");
    let mut text = std::fs::read_to_string(&globals).unwrap();
    text.push_str(concat!(
        "\ng_quoted: 'yes'\ng_double: \"on\"\ng_plain: yes\ng_title: On\ng_off: OFF\n",
        "g_list: [yes, 'no']\ng_octal: 0755\ng_octal_str: '0755'\n",
    ));
    std::fs::write(&globals, text).unwrap();
    std::fs::create_dir_all(inputs.join("globals.d")).unwrap();
    std::fs::write(
        inputs.join("globals.d/extra.yml"),
        "d_quoted: 'off'\nd_plain: off\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("extra.yml"),
        "f_quoted: 'no'\nf_plain: no\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("inventory.yml"),
        "all:\n  vars:\n    i_quoted: 'yes'\n    i_plain: yes\n",
    )
    .unwrap();
    std::fs::create_dir_all(inputs.join("config")).unwrap();
    std::fs::write(
        inputs.join("config/global.conf"),
        concat!(
            "[yaml11]\n",
            "g_quoted = {{ g_quoted }}\ng_double = {{ g_double }}\ng_plain = {{ g_plain }}\n",
            "g_title = {{ g_title }}\ng_off = {{ g_off }}\n",
            "g_list = {{ g_list[0] }} {{ g_list[1] }}\n",
            "g_octal = {{ g_octal }}\ng_octal_str = {{ g_octal_str }}\n",
            "d_quoted = {{ d_quoted }}\nd_plain = {{ d_plain }}\n",
            "f_quoted = {{ f_quoted }}\nf_plain = {{ f_plain }}\n",
            "i_quoted = {{ i_quoted }}\ni_plain = {{ i_plain }}\n",
            "e_quoted = {{ e_quoted }}\ne_plain = {{ e_plain }}\ne_kv = {{ e_kv }}\n",
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let extra_file = format!("@{}", dir.path().join("extra.yml").display());
    let o = crate::util::kollars([
        "genconfig",
        "-i",
        &inputs.join("inventory").display().to_string(),
        "-i",
        &dir.path().join("inventory.yml").display().to_string(),
        "--configdir",
        &inputs.display().to_string(),
        "--facts",
        &inputs.join("facts").display().to_string(),
        "--output",
        &out.display().to_string(),
        "-t",
        "keystone",
        "-e",
        &extra_file,
        "-e",
        "{e_quoted: 'on', e_plain: on}",
        "-e",
        "e_kv=yes",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let conf = std::fs::read_to_string(out.join("localhost/keystone/keystone.conf")).unwrap();
    let section = &conf[conf.find("[yaml11]").expect("override section rendered")..];
    for line in [
        "g_quoted = yes",
        "g_double = on",
        "g_plain = True",
        "g_title = True",
        "g_off = False",
        "g_list = True no",
        "g_octal = 493",
        "g_octal_str = 0755",
        "d_quoted = off",
        "d_plain = False",
        "f_quoted = no",
        "f_plain = False",
        "i_quoted = yes",
        "i_plain = True",
        "e_quoted = on",
        "e_plain = True",
        "e_kv = yes",
    ] {
        assert!(
            section.lines().any(|l| l == line),
            "missing {line:?} in:\n{section}"
        );
    }
}

#[test]
fn bad_yaml_still_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&reference().join("inputs"), dir.path());
    std::fs::create_dir_all(dir.path().join("globals.d")).unwrap();
    std::fs::write(
        dir.path().join("globals.d/broken.yml"),
        "a: 1\nb: \"unterminated\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = genconfig(
        &dir.path().join("inventory"),
        dir.path(),
        &dir.path().join("facts"),
        &out,
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("globals.d/broken.yml:2: malformed YAML"),
        "{}",
        stderr(&o)
    );
}

/// Every plain scalar in `services/` means the same in YAML 1.1 (kolla-ansible's PyYAML) and
/// YAML 1.2 (serde_yaml, our loader): quote `'yes'`, `'0755'` and the like there.
#[test]
fn service_definitions_read_the_same_in_yaml_1_1() {
    let mut files = Vec::new();
    for dir in ["services", "services/globals"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")) {
                files.push(p);
            }
        }
    }
    assert!(files.len() > 10, "{files:?}");
    // the check itself sees what PyYAML reads differently
    assert_eq!(
        differences("t", "a: yes\nb: [0755, '0755']\nc: 1e3\nd: 'on'\n").len(),
        3
    );
    let mut found = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        found.extend(differences(&f.display().to_string(), &text));
    }
    assert!(
        found.is_empty(),
        "read differently by PyYAML:\n{}",
        found.join("\n")
    );
}

/// Where serde_yaml and PyYAML's rules read `text` differently.
fn differences(name: &str, text: &str) -> Vec<String> {
    let ours: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
    let pyyaml = kollars_inputs::yaml::parse(Path::new(name), text).unwrap();
    let mut out = Vec::new();
    diff(name, &ours, &pyyaml, &mut out);
    out
}

fn diff(at: &str, a: &serde_yaml::Value, b: &serde_yaml::Value, out: &mut Vec<String>) {
    use serde_yaml::Value;
    match (a, b) {
        (Value::Mapping(x), Value::Mapping(y)) if x.len() == y.len() => {
            for ((ka, va), (kb, vb)) in x.iter().zip(y) {
                if ka != kb {
                    out.push(format!("{at}: key {ka:?} is {kb:?}"));
                } else {
                    diff(&format!("{at}.{}", ka.as_str().unwrap_or("?")), va, vb, out);
                }
            }
        }
        (Value::Sequence(x), Value::Sequence(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                diff(&format!("{at}[{i}]"), va, vb, out);
            }
        }
        _ if a == b => {}
        _ => out.push(format!("{at}: {a:?} is {b:?}")),
    }
}
