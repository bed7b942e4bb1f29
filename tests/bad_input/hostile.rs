//! The table of hostile inputs (issue 13): each one exits 2, names its culprit, prints no
//! secret, writes nothing under the output directory and changes no file of the configdir;
//! none panics or crashes (a crash is not exit 2).

use std::collections::BTreeMap;
use std::path::Path;

use super::Case;

mod deploy;
use crate::util::{files_under, genconfig, stderr};

/// A password of the reference inputs, which no error may print.
const ADMIN_PASSWORD: &str = "6pg7xCicq8b1HTYCv87YKmdRssokpsarU02MnUDr";

/// Every file under `dir` but the output, with its content.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    files_under(dir)
        .into_iter()
        .filter(|f| !f.starts_with("out/") && f != "out")
        .map(|f| {
            let content = std::fs::read(dir.join(&f)).unwrap_or_default();
            (f, content)
        })
        .collect()
}

/// One hostile input: how it breaks the reference inputs, the inventory and arguments given,
/// what the error must say and what it must never say.
struct Hostile {
    name: &'static str,
    edit: Box<dyn Fn(&Case)>,
    inventory: &'static str,
    args: Vec<&'static str>,
    needles: Vec<&'static str>,
    never: Vec<&'static str>,
}

fn case(name: &'static str, edit: impl Fn(&Case) + 'static, needles: &[&'static str]) -> Hostile {
    Hostile {
        name,
        edit: Box::new(edit),
        inventory: "inventory",
        args: vec![],
        needles: needles.to_vec(),
        never: vec![],
    }
}

impl Hostile {
    fn args(mut self, args: &[&'static str]) -> Hostile {
        self.args = args.to_vec();
        self
    }
    fn never(mut self, never: &[&'static str]) -> Hostile {
        self.never = never.to_vec();
        self
    }
    /// With `inventory.yml` (written by `edit`) as the inventory.
    fn yaml_inventory(mut self) -> Hostile {
        self.inventory = "inventory.yml";
        self
    }
}

fn globals(text: &'static str) -> impl Fn(&Case) {
    move |c: &Case| c.append("globals.yml", &format!("\n{text}\n"))
}

/// passwords.yml with `key`'s line replaced by `line`.
fn password(key: &'static str, line: &'static str) -> impl Fn(&Case) {
    move |c: &Case| {
        let text = std::fs::read_to_string(c.path("passwords.yml")).unwrap();
        let text: String = text
            .lines()
            .map(|l| match l.starts_with(&format!("{key}:")) {
                true => format!("{line}\n"),
                false => format!("{l}\n"),
            })
            .collect();
        c.write("passwords.yml", &text);
    }
}

fn inventory_yml(text: &'static str) -> impl Fn(&Case) {
    move |c: &Case| c.write("inventory.yml", text)
}

fn deep_blocks(levels: usize) -> String {
    (0..levels)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect()
}

fn bomb() -> String {
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..12 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    text
}

fn table() -> Vec<Hostile> {
    let nested = "nested deeper than 128";
    vec![
        // defect 7: the parser's limits
        case(
            "deep block globals",
            |c| c.append("globals.yml", &deep_blocks(1000)),
            &["globals.yml:", nested],
        ),
        case(
            "deep flow globals",
            |c| {
                c.write(
                    "globals.yml",
                    &format!("a: {}1{}", "[".repeat(10_000), "]".repeat(10_000)),
                )
            },
            &["globals.yml:1: malformed YAML"],
        ),
        case(
            "deep flow mappings",
            |c| {
                c.write(
                    "globals.yml",
                    &format!("a: {}1{}", "{x: ".repeat(10_000), "}".repeat(10_000)),
                )
            },
            &["globals.yml:1: malformed YAML"],
        ),
        case(
            "deep globals.d",
            |c| c.write("globals.d/deep.yml", &deep_blocks(300)),
            &["globals.d/deep.yml:", nested],
        ),
        case(
            "deep passwords",
            |c| c.append("passwords.yml", &deep_blocks(300)),
            &["passwords.yml:", nested],
        ),
        case(
            "deep yaml inventory",
            |c| {
                c.write(
                    "inventory.yml",
                    &format!(
                        "all:\n  vars:\n{}",
                        deep_blocks(300)
                            .lines()
                            .map(|l| format!("    {l}\n"))
                            .collect::<String>()
                    ),
                )
            },
            &["inventory.yml:", nested],
        )
        .yaml_inventory(),
        case(
            "alias bomb globals",
            |c| c.append("globals.yml", &bomb()),
            &["globals.yml:", "more than 1000000 nodes"],
        ),
        case(
            "alias bomb passwords",
            |c| c.append("passwords.yml", &bomb()),
            &["passwords.yml:", "more than 1000000 nodes"],
        ),
        case(
            "alias bomb inventory",
            |c| {
                c.write(
                    "inventory.yml",
                    &format!(
                        "all:\n  vars:\n{}",
                        bomb()
                            .lines()
                            .map(|l| format!("    {l}\n"))
                            .collect::<String>()
                    ),
                )
            },
            &["inventory.yml:", "more than 1000000 nodes"],
        )
        .yaml_inventory(),
        case(
            "alias bomb -e",
            |c| c.write("bomb.yml", &bomb()),
            &["bomb.yml", "more than 1000000 nodes"],
        )
        .args(&["-e", "@BOMB"]),
        // defect 8: accepted where it should be refused
        case(
            "enable a list",
            globals("enable_keystone: [1]"),
            &["globals.yml", "enable_keystone must be a boolean", "a list"],
        ),
        case(
            "enable a mapping",
            globals("enable_keystone: {a: 1}"),
            &[
                "globals.yml",
                "enable_keystone must be a boolean",
                "a mapping",
            ],
        ),
        case(
            "enable a list in globals.d",
            |c| c.write("globals.d/x.yml", "enable_cron: [yes]\n"),
            &["globals.d/x.yml", "enable_cron"],
        ),
        case(
            "enable a list in -e",
            |_| {},
            &["-e", "enable_cron must be a boolean"],
        )
        .args(&["-e", "{\"enable_cron\": [1]}"]),
        case(
            "vip a list",
            globals("kolla_internal_vip_address: [192.0.2.1, 192.0.2.2]"),
            &[
                "globals.yml",
                "kolla_internal_vip_address must be a single value",
            ],
        ),
        case(
            "vip a mapping",
            globals("kolla_internal_vip_address: {a: 1}"),
            &["kolla_internal_vip_address", "a mapping"],
        ),
        case(
            "tag a list",
            globals("openstack_tag: [demo]"),
            &["globals.yml", "openstack_tag must be a single value"],
        ),
        case(
            "namespace a list",
            globals("docker_namespace: [kolla]"),
            &["docker_namespace"],
        ),
        case(
            "empty password",
            password("database_password", "database_password: \"\""),
            &["passwords.yml", "database_password", "empty"],
        )
        .never(&[ADMIN_PASSWORD]),
        case(
            "null password",
            password("database_password", "database_password:"),
            &["passwords.yml", "database_password"],
        ),
        case(
            "number password",
            password("database_password", "database_password: 0755"),
            &["passwords.yml", "database_password (a number)"],
        )
        .never(&["493", "0755"]),
        case(
            "boolean password",
            password("database_password", "database_password: yes"),
            &["database_password (a boolean)"],
        ),
        case(
            "list password",
            password("database_password", "database_password: [s3cret-in-list]"),
            &["database_password (a list)"],
        )
        .never(&["s3cret-in-list"]),
        case(
            "several bad passwords",
            |c| {
                password("database_password", "database_password:")(c);
                password("rabbitmq_password", "rabbitmq_password: ''")(c);
            },
            &["database_password, rabbitmq_password"],
        ),
        case(
            "empty passwords.yml",
            |c| c.write("passwords.yml", ""),
            &["passwords.yml", "holds no passwords"],
        ),
        case(
            "comment-only passwords.yml",
            |c| c.write("passwords.yml", "# nothing\n"),
            &["passwords.yml", "holds no passwords"],
        ),
        case(
            "ssh key with a number",
            |c| {
                c.append(
                    "passwords.yml",
                    "\nzz_ssh_key: {private_key: 1, public_key: 2}\n",
                )
            },
            &["zz_ssh_key.private_key (a number)"],
        ),
        case(
            "yaml hosts a list",
            inventory_yml("all:\n  children:\n    control:\n      hosts: [localhost]\n"),
            &[
                "inventory.yml",
                "group \"control\"",
                "`hosts` must be a mapping",
                "a list",
            ],
        )
        .yaml_inventory(),
        case(
            "yaml host vars a list",
            inventory_yml("all:\n  hosts:\n    localhost: [ansible_connection]\n"),
            &["inventory.yml", "host \"localhost\"", "must be a mapping"],
        )
        .yaml_inventory(),
        case(
            "yaml vars a string",
            inventory_yml("all:\n  vars: enable_cron\n  hosts:\n    localhost:\n"),
            &[
                "inventory.yml",
                "group \"all\"",
                "`vars` must be a mapping",
                "a string",
            ],
        )
        .yaml_inventory(),
        case(
            "yaml children a list",
            inventory_yml("all:\n  children: [control, network]\n"),
            &["inventory.yml", "`children` must be a mapping", "a list"],
        )
        .yaml_inventory(),
        case(
            "yaml hosts a string",
            inventory_yml("control:\n  hosts: localhost\n"),
            &["inventory.yml", "group \"control\"", "a string"],
        )
        .yaml_inventory(),
        case(
            "yaml group a list",
            inventory_yml("control: [localhost]\n"),
            &["inventory.yml", "group \"control\" must be a mapping"],
        )
        .yaml_inventory(),
        case(
            "yaml inventory a list",
            inventory_yml("- localhost\n"),
            &["inventory.yml", "must be a mapping of group names"],
        )
        .yaml_inventory(),
        case(
            "yaml inventory unknown key",
            inventory_yml("all:\n  host:\n    localhost:\n"),
            &["inventory.yml", "unknown key \"host\""],
        )
        .yaml_inventory(),
        case(
            "yaml host var enable a list",
            inventory_yml("all:\n  hosts:\n    localhost:\n      enable_cron: [1]\n"),
            &[
                "inventory.yml",
                "host localhost",
                "enable_cron must be a boolean",
            ],
        )
        .yaml_inventory(),
        case(
            "yaml group var tag a mapping",
            inventory_yml("all:\n  vars:\n    openstack_tag: {a: 1}\n  hosts:\n    localhost:\n"),
            &["inventory.yml", "group all", "openstack_tag"],
        )
        .yaml_inventory(),
        case(
            "globals.d a file",
            |c| c.write("globals.d", "enable_cron: no\n"),
            &["globals.d", "must be a directory"],
        ),
        case(
            "override a directory",
            |c| std::fs::create_dir_all(c.path("config/global.conf")).unwrap(),
            &["global.conf", "is not a file"],
        ),
        case(
            "globals.yml a directory",
            |c| {
                std::fs::remove_file(c.path("globals.yml")).unwrap();
                std::fs::create_dir(c.path("globals.yml")).unwrap();
            },
            &["globals.yml"],
        ),
        // defect 9: the culprit named
        case(
            "undefined in globals",
            globals("kolla_internal_fqdn: \"{{ no_such_thing }}\""),
            &["'no_such_thing' is undefined", "kolla_internal_fqdn"],
        ),
        case(
            "unclosed braces",
            globals("kolla_internal_fqdn: \"{{ kolla_internal_vip_address\""),
            &["variable 'kolla_internal_fqdn'", "syntax error"],
        )
        .never(&["{{ kolla_internal_vip_address"]),
        case(
            "password with braces",
            password("database_password", "database_password: \"ab{{cd-s3cr3t\""),
            &["variable 'database_password'", "syntax error"],
        )
        .never(&["s3cr3t", "ab{{"]),
        case(
            "password with a bad filter",
            password(
                "database_password",
                "database_password: \"{{ 'x' | nofilter }}-s3cr3t\"",
            ),
            &["database_password"],
        )
        .never(&["s3cr3t"]),
        // more malformed input
        case(
            "globals a list",
            |c| c.write("globals.yml", "- a\n- b\n"),
            &["globals.yml:1", "expected a mapping"],
        ),
        case(
            "globals a scalar",
            |c| c.write("globals.yml", "just text\n"),
            &["globals.yml:1", "expected a mapping"],
        ),
        case(
            "passwords a list",
            |c| c.write("passwords.yml", "- x\n"),
            &["passwords.yml:1", "expected a mapping"],
        ),
        case(
            "passwords unclosed quote",
            |c| c.append("passwords.yml", "zz: \"open\n"),
            &["passwords.yml:", "malformed YAML"],
        ),
        case(
            "globals tab indent",
            |c| c.append("globals.yml", "\nx:\n\t- 1\n"),
            &["globals.yml:", "malformed YAML"],
        ),
        case(
            "globals two documents",
            |c| c.append("globals.yml", "\n---\na: 1\n"),
            &["globals.yml:", "single document"],
        ),
        case(
            "globals bad int tag",
            globals("x: !!int nope"),
            &["globals.yml:", "invalid integer"],
        ),
        case(
            "globals undefined alias",
            globals("x: *nowhere"),
            &["globals.yml:", "malformed YAML"],
        ),
        case(
            "globals bad merge",
            globals("x:\n  <<: 3"),
            &["globals.yml:", "merging"],
        ),
        case(
            "globals truncated JSON",
            |c| c.write("globals.yml", "{\"a\": 1,"),
            &["globals.yml:", "malformed YAML"],
        ),
        case(
            "globals not UTF-8",
            |c| std::fs::write(c.path("globals.yml"), b"a: \xff\xfe\n").unwrap(),
            &["globals.yml"],
        ),
        case(
            "ini bad host range",
            |c| c.write("inventory", "[control]\nctl[01:\n"),
            &["inventory"],
        ),
        case(
            "ini group cycle",
            |c| c.write("inventory", "[a:children]\nb\n[b:children]\na\n"),
            &["cycle"],
        ),
        case(
            "ini enable a list",
            |c| {
                c.write(
                    "inventory",
                    "[control]\nlocalhost ansible_connection=local enable_cron=[1]\n",
                )
            },
            &[
                "inventory",
                "host localhost",
                "enable_cron must be a boolean",
            ],
        ),
        case("-e without =", |_| {}, &["novalue"]).args(&["-e", "novalue"]),
        case(
            "-e missing file",
            |_| {},
            &["/nonexistent/kollars-extra.yml"],
        )
        .args(&["-e", "@/nonexistent/kollars-extra.yml"]),
        case("-e bad JSON", |_| {}, &["invalid extra variable"]).args(&["-e", "{\"a\": "]),
        case(
            "variable cycle",
            globals("openstack_release: \"{{ loop_b }}\"\nloop_b: \"{{ openstack_release }}\""),
            &["cycle"],
        )
        .args(&["-t", "cron"]),
        case("unknown service", |_| {}, &["no-such-service"]).args(&["-t", "no-such-service"]),
        case("unknown host", |_| {}, &["ghost01"]).args(&["--limit", "ghost01"]),
    ]
}

#[test]
fn every_hostile_input_exits_2_names_its_culprit_and_changes_nothing() {
    let table = table();
    assert!(table.len() >= 60, "{} hostile inputs", table.len());
    let mut failures = Vec::new();
    for h in &table {
        let c = Case::new();
        (h.edit)(&c);
        let before = snapshot(c.dir.path());
        let out = c.dir.path().join("out");
        let bomb = c.path("bomb.yml").display().to_string();
        let args: Vec<&str> = h
            .args
            .iter()
            .map(|a| if *a == "@BOMB" { "" } else { a })
            .collect();
        let at_bomb = format!("@{bomb}");
        let args: Vec<&str> = args
            .iter()
            .zip(&h.args)
            .map(|(a, orig)| {
                if *orig == "@BOMB" {
                    at_bomb.as_str()
                } else {
                    a
                }
            })
            .collect();
        let o = genconfig(
            &c.path(h.inventory),
            c.dir.path(),
            &c.path("facts"),
            &out,
            &args,
        );
        let err = stderr(&o);
        let mut wrong = Vec::new();
        if o.status.code() != Some(2) {
            wrong.push(format!("exit {:?}", o.status.code()));
        }
        for n in &h.needles {
            if !err.contains(n) {
                wrong.push(format!("does not say {n:?}"));
            }
        }
        for n in h.never.iter().chain([&ADMIN_PASSWORD]) {
            if err.contains(n) {
                wrong.push(format!("prints {n:?}"));
            }
        }
        if err.contains("panicked") {
            wrong.push("panics".into());
        }
        if !files_under(&out).is_empty() {
            wrong.push("wrote files".into());
        }
        if snapshot(c.dir.path()) != before {
            wrong.push("changed the configdir".into());
        }
        if !wrong.is_empty() {
            failures.push(format!("{}: {}: {}", h.name, wrong.join(", "), err.trim()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} hostile inputs mishandled:\n{}",
        failures.len(),
        table.len(),
        failures.join("\n")
    );
}

#[test]
fn a_duplicate_key_is_accepted_with_a_warning_naming_file_and_line_as_in_ansible() {
    let c = Case::new();
    c.append("globals.yml", "\nkollars_dup: 1\nkollars_dup: 2\n");
    let out = c.dir.path().join("out");
    let o = genconfig(
        &c.path("inventory"),
        c.dir.path(),
        &c.path("facts"),
        &out,
        &["-t", "cron"],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let lines = std::fs::read_to_string(c.path("globals.yml"))
        .unwrap()
        .lines()
        .count();
    let want =
        format!("globals.yml:{lines}: duplicate key \"kollars_dup\": using the last value only");
    assert!(err.contains(&want), "{want:?} missing from: {err}");
}

#[test]
fn an_empty_or_all_comment_globals_yml_is_accepted_as_kolla_accepts_it() {
    for text in [
        "",
        "# kolla's globals.yml is all comments\n#enable_cron: yes\n",
    ] {
        let c = Case::new();
        c.write("globals.yml", text);
        let out = c.dir.path().join("out");
        let o = genconfig(
            &c.path("inventory"),
            c.dir.path(),
            &c.path("facts"),
            &out,
            &["-t", "cron"],
        );
        // without globals the reference lacks what kolla needs (the VIP…), but the file
        // itself is no error: whatever fails names something else
        assert!(
            !stderr(&o).contains("globals.yml"),
            "{text:?}: {}",
            stderr(&o)
        );
        assert_ne!(o.status.code(), Some(101), "{}", stderr(&o));
    }
}
