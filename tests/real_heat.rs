//! Heat on the real images, deployed by kollars alone on one host and proven by
//! python-openstackclient with python-heatclient: heat's database and `db_sync` one-shot, its
//! registration in keystone — the orchestration and cloudformation services, the
//! `heat_stack_owner` and `heat_stack_user` roles, and the stack user domain with its admin
//! (`heat_domain_admin`, `admin` on `heat_user_domain`), which kolla's image makes in its
//! bootstrap and kollars in the registration — then a stack of one `OS::Heat::RandomString`
//! made by heat-api and heat-engine through the VIP, its output read, and the stack deleted.

use std::time::{Duration, Instant};

use crate::real::{docker, Site, ONE_AT_A_TIME};

const TAGS: &str = "mariadb,memcached,rabbitmq,loadbalancer,kolla-toolbox,keystone,heat";
const HEAT: &[&str] = &["heat_api", "heat_api_cfn", "heat_engine"];
const ADMIN: &[&str] = &["--os-cloud", "kolla-admin"];

/// A stack of one random string, its value as the stack's output.
const TEMPLATE: &str = "heat_template_version: 2018-08-31
description: one random string, made and removed by heat alone
resources:
  secret:
    type: OS::Heat::RandomString
    properties:
      length: 24
      character_classes: [{class: lettersdigits}]
outputs:
  secret:
    description: the random string
    value: {get_attr: [secret, value]}
";

#[test]
fn heat_on_real_images_makes_and_deletes_a_stack() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let site = Site::with(TAGS, "");
    let t0 = Instant::now();
    let out = site.kollars("deploy", &[]);
    eprintln!("first deploy: {:.1}s\n{out}", t0.elapsed().as_secs_f64());
    site.kollars("post-deploy", &[]);
    for c in HEAT {
        let o = docker(&site.engine, &["inspect", "-f", "{{.State.Running}}", c]);
        let running = String::from_utf8_lossy(&o.stdout);
        assert_eq!(running.trim(), "true", "{c} runs");
    }
    assert!(
        out.contains("heat database"),
        "heat's database made:\n{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("bootstrap_heat_api") && l.contains("Oneshot ok")),
        "heat's db_sync one-shot ran:\n{out}"
    );
    let registered = out
        .lines()
        .find(|l| l.contains("heat-api") && l.contains("Register ok"))
        .unwrap_or_else(|| panic!("heat registered in keystone:\n{out}"));
    for made in [
        "service heat,",
        "service heat-cfn",
        "domain heat_user_domain",
        "user heat_domain_admin@heat_user_domain",
        "role heat_stack_owner",
        "role heat_stack_user",
    ] {
        assert!(registered.contains(made), "{made}: {registered}");
    }
    let password = reference_password("heat_domain_admin_password");
    assert!(
        !out.contains(&password),
        "no password in the deploy's output"
    );

    stack_user_domain(&site, &password);

    // heat-engine reports to heat-api (through the VIP, once haproxy's check passed)
    let start = Instant::now();
    loop {
        let o = site.openstack(&admin(&[
            "orchestration",
            "service",
            "list",
            "-f",
            "value",
            "-c",
            "Binary",
            "-c",
            "Status",
        ]));
        let list = String::from_utf8_lossy(&o.stdout).to_string();
        if o.status.success() && list.lines().any(|l| l == "heat-engine up") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "orchestration service list: {list}{}",
            crate::util::stderr(&o)
        );
        std::thread::sleep(Duration::from_secs(3));
    }

    // a stack of one random string: created, its output read, deleted
    let template = site.dir.path().join("random-string.yaml");
    std::fs::write(&template, TEMPLATE).unwrap();
    let template = template.display().to_string();
    site.openstack_ok(&admin(&["stack", "create", "-t", &template, "random"]));
    let status = wait_for_stack(&site, "random", Duration::from_secs(180));
    assert_eq!(status, "CREATE_COMPLETE", "{}", stack_events(&site));
    let value = site.openstack_ok(&admin(&[
        "stack",
        "output",
        "show",
        "random",
        "secret",
        "-f",
        "value",
        "-c",
        "output_value",
    ]));
    let value = value.trim();
    assert_eq!(value.len(), 24, "{value:?}");
    assert!(
        value.chars().all(|c| c.is_ascii_alphanumeric()),
        "{value:?}"
    );
    let shown = site.openstack_ok(&admin(&["stack", "show", "random", "-f", "json"]));
    assert!(shown.contains(value), "stack show has the output: {shown}");
    let resources = site.openstack_ok(&admin(&[
        "stack",
        "resource",
        "list",
        "random",
        "-f",
        "value",
        "-c",
        "resource_type",
        "-c",
        "resource_status",
    ]));
    assert_eq!(
        resources.trim(),
        "OS::Heat::RandomString CREATE_COMPLETE",
        "{resources}"
    );
    site.openstack_ok(&admin(&["stack", "delete", "--yes", "--wait", "random"]));
    let stacks = site.openstack_ok(&admin(&[
        "stack",
        "list",
        "-f",
        "value",
        "-c",
        "Stack Name",
    ]));
    assert!(!stacks.lines().any(|l| l == "random"), "deleted: {stacks}");

    // nothing to do the second time: no one-shot, no registration runs again
    let again = site.kollars("deploy", &[]);
    assert!(!again.contains("Oneshot"), "{again}");
    assert!(!again.contains("Register"), "{again}");
    let plan = site.kollars("plan", &[]);
    assert!(plan.contains("0 change(s) planned"), "{plan}");
}

/// The stack user domain as heat.conf names it: the domain, its admin user in it holding
/// `admin` on it, and that user's password (passwords.yml's) giving a domain-scoped token.
fn stack_user_domain(site: &Site, password: &str) {
    let domain: serde_json::Value = serde_json::from_str(&site.openstack_ok(&admin(&[
        "domain",
        "show",
        "heat_user_domain",
        "-f",
        "json",
    ])))
    .unwrap();
    assert_eq!(domain["enabled"], true, "{domain}");
    let roles = site.openstack_ok(&admin(&[
        "role",
        "assignment",
        "list",
        "--user",
        "heat_domain_admin",
        "--user-domain",
        "heat_user_domain",
        "--domain",
        "heat_user_domain",
        "--names",
        "-f",
        "value",
        "-c",
        "Role",
    ]));
    assert_eq!(roles.trim(), "admin", "{roles}");
    // the password travels in a clouds.yaml of its own, not on the client's command line
    let clouds = site.dir.path().join("heat-domain-admin.yaml");
    std::fs::write(
        &clouds,
        format!(
            "clouds:\n  heat-domain-admin:\n    auth:\n      auth_url: http://127.0.0.2:5000\n      \
             username: heat_domain_admin\n      password: \"{password}\"\n      \
             user_domain_name: heat_user_domain\n      domain_name: heat_user_domain\n    \
             identity_api_version: 3\n"
        ),
    )
    .unwrap();
    let o = crate::real::openstack_at(
        &site.engine,
        &site.client,
        &clouds,
        &[
            "--os-cloud",
            "heat-domain-admin",
            "token",
            "issue",
            "-f",
            "value",
            "-c",
            "domain_id",
        ],
    );
    assert!(o.status.success(), "{}", crate::util::stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        domain["id"].as_str().unwrap(),
        "a token scoped to heat_user_domain"
    );
}

/// The stack's status once it is no longer in progress (or after `within`).
fn wait_for_stack(site: &Site, name: &str, within: Duration) -> String {
    let start = Instant::now();
    loop {
        let status = site.openstack_ok(&admin(&[
            "stack",
            "show",
            name,
            "-f",
            "value",
            "-c",
            "stack_status",
        ]));
        let status = status.trim().to_string();
        if !status.ends_with("_IN_PROGRESS") || start.elapsed() > within {
            return status;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// The stack's events and heat-engine's log's last lines, for a failure's message.
fn stack_events(site: &Site) -> String {
    let events = site.openstack(&admin(&["stack", "event", "list", "random"]));
    let log = docker(
        &site.engine,
        &[
            "exec",
            "heat_engine",
            "tail",
            "-n",
            "30",
            "/var/log/kolla/heat/heat-engine.log",
        ],
    );
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&events.stdout),
        String::from_utf8_lossy(&log.stdout)
    )
}

fn admin<'a>(args: &[&'a str]) -> Vec<&'a str> {
    ADMIN.iter().chain(args).copied().collect()
}

/// `key` of the reference's passwords.yml (the site's).
pub(crate) fn reference_password(key: &str) -> String {
    let text =
        std::fs::read_to_string(crate::util::reference().join("inputs/passwords.yml")).unwrap();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("{key} in passwords.yml"));
    line.trim().trim_matches('"').trim_matches('\'').to_string()
}
