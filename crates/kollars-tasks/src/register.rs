//! kolla's `service-ks-register` (every API project's `register.yml`): the project's services
//! in keystone's catalogue with their internal and public endpoints in the region, the
//! projects its users live in, the users (default domain, their passwords, their default
//! project), the roles, and each user's role in its project (plus the extra assignments kolla
//! calls `<project>_ks_user_roles`) — before the project's bootstrap. Some projects need
//! more of keystone than that: heat runs its stacks' users in a domain of its own, managed by
//! a user of that domain holding `admin` on it; kolla's heat image makes those in its
//! bootstrap with the admin's password in the container's environment, kollars makes them
//! here instead ([`KsDomain`], [`KsDomainUser`]), with the same find-then-make calls. One
//! project needs something of nova: blazar's bootstrap makes the host aggregate its free hosts
//! wait in (`blazar_aggregate_pool_name`, kolla's `os_nova_host_aggregate`); kollars makes it
//! here too, last, with the same admin login ([`Registration::aggregates`]).
//!
//! Run as kolla runs it: in `kolla_toolbox`, with openstacksdk, logged in as the admin
//! (`openstack_auth`) at the internal interface. kolla drives openstack.cloud's Ansible
//! modules; kollars has no Ansible, so a small Python program ([`PROGRAM`], `register.py`)
//! makes the same calls through openstacksdk, which both toolboxes have: kolla's published
//! image in its venv `/opt/ansible`, ours in `/var/lib/kolla/venv` — a shell tries the known
//! interpreters in that order, and the program exits 99 where `import openstack` fails, before
//! it has read its input, so the next one gets it. The program on the command line holds no
//! secret; the request (admin password, users' passwords) is JSON on its stdin, and its errors
//! are one line with every password of the request masked (here too, again).
//!
//! Every call finds before it makes, so the task is idempotent; the same program in check
//! mode only reads, for `kollars plan`, and both answer what was (or would be) made, so a
//! deploy can say `service placement, 2 endpoints, user placement, role assignment` and
//! nothing when everything existed. A user's password is checked by logging in with it (an
//! unscoped token), and set again only when that fails — with kolla's
//! `update_keystone_service_user_passwords` (else it is set only when the user is made).
//! Keystone may answer a moment after it started (haproxy says 503 until its check passes):
//! the program retries as kolla does (5 × 10 s), but not a 4xx.

use serde::Deserialize;
use sha2::{Digest, Sha256};

use kollars_docker::{Engine, ExecRequest};

use crate::secret::Secret;
use crate::TaskError;

/// The Python program (`register.py`), run with `python3 -c`.
pub const PROGRAM: &str = include_str!("register.py");

/// The interpreters tried, in order: kolla's toolbox venv, ours (openstack-base's venv), then
/// whatever `python3` the image's `PATH` has.
pub const INTERPRETERS: [&str; 3] = [
    "/opt/ansible/bin/python3",
    "/var/lib/kolla/venv/bin/python3",
    "python3",
];

/// kolla's `service_ks_register_retries` and `service_ks_register_delay` (seconds).
const RETRIES: u32 = 5;
const DELAY_SECS: u32 = 10;

/// Runs `$0` (the program) with the first of `$@` that has openstacksdk (the program exits
/// 99 where it has not, before reading stdin).
const LAUNCHER: &str = "prog=$0; for py in \"$@\"; do command -v \"$py\" >/dev/null 2>&1 || \
                        continue; \"$py\" -c \"$prog\"; rc=$?; [ \"$rc\" -eq 99 ] || exit \"$rc\"; \
                        done; echo \"no python3 with openstacksdk (tried $*)\" >&2; exit 99";

/// The admin's login (kolla's `openstack_auth`, `openstack_<project>_auth`).
#[derive(Debug, Clone)]
pub struct AdminAuth {
    /// `auth_url` (`keystone_internal_url`).
    pub auth_url: String,
    /// `username` (`keystone_admin_user`).
    pub username: String,
    /// `password` (`keystone_admin_password`).
    pub password: Secret,
    /// `project_name` (`keystone_admin_project`).
    pub project_name: String,
    /// `user_domain_name` (else `domain_name`).
    pub user_domain_name: String,
    /// `project_domain_name` (else `domain_name`).
    pub project_domain_name: String,
}

/// One service of `<project>_ks_services`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KsService {
    /// `name` (`placement`).
    pub name: String,
    /// `type` (`placement`).
    pub service_type: String,
    /// `description`.
    pub description: String,
    /// `endpoints`: (interface, url).
    pub endpoints: Vec<(String, String)>,
}

/// One user of `<project>_ks_users`.
#[derive(Debug, Clone)]
pub struct KsUser {
    /// `project` (`service`).
    pub project: String,
    /// `user`.
    pub user: String,
    /// `password`.
    pub password: Secret,
    /// `role` it gets in `project`.
    pub role: String,
}

/// One assignment of `<project>_ks_user_roles`: an existing user's role in an existing project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KsUserRole {
    /// `project`.
    pub project: String,
    /// `user`.
    pub user: String,
    /// `role`.
    pub role: String,
}

/// A domain of the project's own (heat's stack user domain, `heat_user_domain`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KsDomain {
    /// `name`.
    pub name: String,
    /// `description` (set again when it differs).
    pub description: String,
}

/// A user that lives in a named domain and holds `role` on that domain (heat's
/// `heat_domain_admin`, `admin` on `heat_user_domain`).
#[derive(Debug, Clone)]
pub struct KsDomainUser {
    /// `domain` (its name).
    pub domain: String,
    /// `user`.
    pub user: String,
    /// `password`.
    pub password: Secret,
    /// `description` (given when the user is made).
    pub description: String,
    /// `role` it gets on `domain`.
    pub role: String,
}

/// What one project registers in keystone.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The admin's login.
    pub auth: AdminAuth,
    /// `openstack_region_name`: the endpoints' region and the SDK's.
    pub region: String,
    /// `openstack_interface` (`internal`): which of keystone's endpoints the SDK talks to.
    pub interface: String,
    /// `openstack_cacert`, a path in the toolbox (`None`: the system's CAs).
    pub cacert: Option<String>,
    /// The users' and projects' domain (kolla's `service_ks_register_domain`, `default`).
    pub domain: String,
    /// kolla's `update_keystone_service_user_passwords`: set a user's password again when it
    /// no longer logs in (else only when the user is made).
    pub update_password: bool,
    /// `<project>_ks_services` (those enabled).
    pub services: Vec<KsService>,
    /// `<project>_ks_users`.
    pub users: Vec<KsUser>,
    /// `<project>_ks_roles`.
    pub roles: Vec<String>,
    /// `<project>_ks_user_roles`.
    pub user_roles: Vec<KsUserRole>,
    /// The project's own domains, made after the assignments above.
    pub domains: Vec<KsDomain>,
    /// Users in a named domain (one of `domains`, or one that exists), each with a role on it.
    pub domain_users: Vec<KsDomainUser>,
    /// nova host aggregates (by name) the project needs, made when missing (blazar's
    /// `freepool`); nova's API must answer by then.
    pub aggregates: Vec<String>,
}

impl Registration {
    /// The request the program reads, in `mode` (`check` or `apply`).
    fn request(&self, mode: &str) -> serde_json::Value {
        let mut req = serde_json::json!({
            "mode": mode,
            // a plan says at once that keystone does not answer yet
            "retries": if mode == "apply" { RETRIES } else { 0 },
            "delay": DELAY_SECS,
            "auth": {
                "auth_url": self.auth.auth_url,
                "username": self.auth.username,
                "password": self.auth.password.expose(),
                "project_name": self.auth.project_name,
                "user_domain_name": self.auth.user_domain_name,
                "project_domain_name": self.auth.project_domain_name,
            },
            "region": self.region,
            "interface": self.interface,
            "cacert": self.cacert,
            "domain": self.domain,
            "update_password": self.update_password,
            "services": self.services.iter().map(|s| serde_json::json!({
                "name": s.name,
                "type": s.service_type,
                "description": s.description,
                "endpoints": s.endpoints.iter()
                    .map(|(interface, url)| serde_json::json!({"interface": interface, "url": url}))
                    .collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "users": self.users.iter().map(|u| serde_json::json!({
                "project": u.project,
                "user": u.user,
                "password": u.password.expose(),
                "role": u.role,
            })).collect::<Vec<_>>(),
            "roles": self.roles,
            "user_roles": self.user_roles.iter().map(|r| serde_json::json!({
                "project": r.project, "user": r.user, "role": r.role,
            })).collect::<Vec<_>>(),
        });
        // Only when there are any: the requests (and digests) of the projects without
        // domains stay what they were.
        if !self.domains.is_empty() || !self.domain_users.is_empty() {
            req["domains"] = serde_json::json!(self
                .domains
                .iter()
                .map(|d| serde_json::json!({
                    "name": d.name, "description": d.description,
                }))
                .collect::<Vec<_>>());
            req["domain_users"] = serde_json::json!(self
                .domain_users
                .iter()
                .map(|u| serde_json::json!({
                    "domain": u.domain,
                    "user": u.user,
                    "password": u.password.expose(),
                    "description": u.description,
                    "role": u.role,
                }))
                .collect::<Vec<_>>());
        }
        if !self.aggregates.is_empty() {
            req["aggregates"] = serde_json::json!(self.aggregates);
        }
        req
    }

    /// A SHA-256 (hex) of everything the registration depends on, passwords included — so a
    /// changed password changes it — and nothing else: kollars records it after a successful
    /// registration and runs the task again only when it differs. Only the hash is kept, never
    /// the passwords themselves.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"kollars ks-register 1\n");
        h.update(self.request("any").to_string().as_bytes());
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Every password of the request, to mask in what the program said.
    fn secrets(&self) -> Vec<&str> {
        std::iter::once(self.auth.password.expose())
            .chain(self.users.iter().map(|u| u.password.expose()))
            .chain(self.domain_users.iter().map(|u| u.password.expose()))
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// The services' names (`placement`), or the users' when there are none, for messages.
    fn what(&self) -> String {
        let names: Vec<&str> = match self.services.is_empty() {
            false => self.services.iter().map(|s| s.name.as_str()).collect(),
            true => self.users.iter().map(|u| u.user.as_str()).collect(),
        };
        names.join(", ")
    }
}

/// What a registration made (apply) or lacks (check), by kind; each list names the things.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registered {
    /// Services made (or whose description was corrected).
    pub services: Vec<String>,
    /// Endpoints made or whose URL was corrected (`placement internal`).
    pub endpoints: Vec<String>,
    /// Domains made (or whose description was corrected).
    pub domains: Vec<String>,
    /// Projects made (`service`).
    pub projects: Vec<String>,
    /// Users made (or whose default project was corrected); a domain's own as
    /// `user@domain`.
    pub users: Vec<String>,
    /// Users whose password was set again (it no longer logged in).
    pub passwords: Vec<String>,
    /// Roles made.
    pub roles: Vec<String>,
    /// Role assignments granted (`placement service admin`: user, project, role; `heat_domain_admin@heat_user_domain domain heat_user_domain admin` on a domain).
    pub assignments: Vec<String>,
    /// nova host aggregates made (`freepool`).
    #[serde(default)]
    pub aggregates: Vec<String>,
}

impl Registered {
    /// Nothing was (or would be) made.
    pub fn is_empty(&self) -> bool {
        self.summary().is_empty()
    }

    /// One line: `service placement, 2 endpoints, project service, user placement, role
    /// assignment` (empty when nothing was made).
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        let named = |parts: &mut Vec<String>, one: &str, items: &[String]| {
            parts.extend(items.iter().map(|i| format!("{one} {i}")));
        };
        let counted = |parts: &mut Vec<String>, one: &str, many: &str, n: usize| match n {
            0 => {}
            1 => parts.push(one.to_owned()),
            n => parts.push(format!("{n} {many}")),
        };
        named(&mut parts, "service", &self.services);
        counted(&mut parts, "1 endpoint", "endpoints", self.endpoints.len());
        named(&mut parts, "domain", &self.domains);
        named(&mut parts, "project", &self.projects);
        named(&mut parts, "user", &self.users);
        named(&mut parts, "password of", &self.passwords);
        named(&mut parts, "role", &self.roles);
        counted(
            &mut parts,
            "role assignment",
            "role assignments",
            self.assignments.len(),
        );
        named(&mut parts, "aggregate", &self.aggregates);
        parts.join(", ")
    }
}

/// The program in `container` with the request in `mode` on its stdin.
fn request(reg: &Registration, mode: &str) -> ExecRequest {
    let mut cmd = vec!["sh", "-c", LAUNCHER, PROGRAM];
    cmd.extend(INTERPRETERS);
    ExecRequest::new(cmd).stdin(reg.request(mode).to_string())
}

async fn run(
    engine: &Engine,
    container: &str,
    reg: &Registration,
    mode: &str,
    task: String,
) -> Result<Registered, TaskError> {
    let out = engine
        .exec(container, &request(reg, mode))
        .await
        .map_err(|source| TaskError::Engine {
            task: task.clone(),
            source,
        })?;
    let masker = kollars_inputs::Masker::new(reg.secrets().into_iter().map(str::to_owned), []);
    let mask = |text: &str| masker.mask_values(text.trim());
    if out.exit_code != 0 {
        let last = out.stderr.trim().lines().last().unwrap_or_default();
        return Err(TaskError::Failed {
            task,
            message: format!("{} (exit {})", mask(last), out.exit_code),
        });
    }
    serde_json::from_str(out.stdout.trim()).map_err(|_| TaskError::Answer {
        task,
        answer: mask(&out.stdout),
    })
}

/// What `reg` lacks in keystone (read-only), through `container` (kolla's `kolla_toolbox`).
pub async fn check(
    engine: &Engine,
    container: &str,
    reg: &Registration,
) -> Result<Registered, TaskError> {
    let task = format!("checking the registration of {} in keystone", reg.what());
    run(engine, container, reg, "check", task).await
}

/// Makes what `reg` lacks in keystone, through `container`; returns what it made. Idempotent.
pub async fn ensure(
    engine: &Engine,
    container: &str,
    reg: &Registration,
) -> Result<Registered, TaskError> {
    let task = format!("registering {} in keystone", reg.what());
    run(engine, container, reg, "apply", task).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration(user_pw: &str) -> Registration {
        Registration {
            auth: AdminAuth {
                auth_url: "http://192.0.2.1:5000".into(),
                username: "admin".into(),
                password: Secret::new("adm1n-pw"),
                project_name: "admin".into(),
                user_domain_name: "Default".into(),
                project_domain_name: "Default".into(),
            },
            region: "RegionOne".into(),
            interface: "internal".into(),
            cacert: None,
            domain: "default".into(),
            update_password: true,
            services: vec![KsService {
                name: "placement".into(),
                service_type: "placement".into(),
                description: "Placement Service".into(),
                endpoints: vec![
                    ("internal".into(), "http://192.0.2.1:8780".into()),
                    ("public".into(), "http://192.0.2.1:8780".into()),
                ],
            }],
            users: vec![KsUser {
                project: "service".into(),
                user: "placement".into(),
                password: Secret::new(user_pw),
                role: "admin".into(),
            }],
            roles: vec![],
            user_roles: vec![],
            domains: vec![],
            domain_users: vec![],
            aggregates: vec![],
        }
    }

    fn with_domain(reg: Registration, pw: &str) -> Registration {
        Registration {
            domains: vec![KsDomain {
                name: "heat_user_domain".into(),
                description: "Owns users and projects created by heat".into(),
            }],
            domain_users: vec![KsDomainUser {
                domain: "heat_user_domain".into(),
                user: "heat_domain_admin".into(),
                password: Secret::new(pw),
                description: "Manages users and projects created by heat".into(),
                role: "admin".into(),
            }],
            ..reg
        }
    }

    #[test]
    fn passwords_go_on_stdin_never_on_the_command_line() {
        let req = request(&registration("us3r-pw"), "apply");
        for word in &req.cmd {
            assert!(!word.contains("adm1n-pw") && !word.contains("us3r-pw"));
        }
        assert_eq!(&req.cmd[..2], ["sh", "-c"]);
        assert_eq!(&req.cmd[4..], INTERPRETERS);
        let stdin = String::from_utf8(req.stdin.clone().unwrap()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&stdin).unwrap();
        assert_eq!(v["auth"]["password"], "adm1n-pw");
        assert_eq!(v["users"][0]["password"], "us3r-pw");
        assert_eq!(v["mode"], "apply");
        assert!(!format!("{req:?}").contains("pw"), "{req:?}");
    }

    #[test]
    fn domain_users_passwords_go_on_stdin_and_are_masked() {
        let reg = with_domain(registration("us3r-pw"), "d0main-pw");
        let req = request(&reg, "check");
        assert!(req.cmd.iter().all(|w| !w.contains("d0main-pw")));
        let stdin = String::from_utf8(req.stdin.clone().unwrap()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&stdin).unwrap();
        assert_eq!(v["domains"][0]["name"], "heat_user_domain");
        assert_eq!(v["domain_users"][0]["password"], "d0main-pw");
        assert_eq!(v["domain_users"][0]["role"], "admin");
        assert!(reg.secrets().contains(&"d0main-pw"));
        assert!(!format!("{reg:?}").contains("d0main-pw"), "{reg:?}");
    }

    #[test]
    fn projects_without_domains_keep_their_request_and_digest() {
        let plain = registration("one").request("apply");
        assert!(plain.get("domains").is_none() && plain.get("domain_users").is_none());
        let a = with_domain(registration("one"), "x").digest();
        assert_ne!(a, registration("one").digest());
        assert_ne!(
            a,
            with_domain(registration("one"), "y").digest(),
            "its password counts"
        );
    }

    #[test]
    fn aggregates_are_asked_for_only_by_the_projects_that_need_one() {
        let plain = registration("one").request("apply");
        assert!(plain.get("aggregates").is_none());
        let blazar = Registration {
            aggregates: vec!["freepool".into()],
            ..registration("one")
        };
        assert_eq!(blazar.request("check")["aggregates"][0], "freepool");
        assert_ne!(blazar.digest(), registration("one").digest());
        let made: Registered = serde_json::from_str(
            r#"{"services": [], "endpoints": [], "domains": [], "projects": [], "users": [],
                "passwords": [], "roles": [], "assignments": [], "aggregates": ["freepool"]}"#,
        )
        .unwrap();
        assert_eq!(made.summary(), "aggregate freepool");
    }

    #[test]
    fn the_digest_follows_every_input_and_shows_none() {
        let a = registration("one");
        let d = a.digest();
        assert_eq!(d.len(), 64);
        assert_eq!(d, registration("one").digest(), "stable");
        assert_ne!(d, registration("two").digest(), "a password changes it");
        let mut b = registration("one");
        b.services[0].endpoints[1].1 = "https://api.example.org:8780".into();
        assert_ne!(d, b.digest(), "an endpoint changes it");
        assert!(!d.contains("one"));
    }

    #[test]
    fn summaries_name_what_was_made_and_count_endpoints() {
        let r = Registered {
            services: vec!["placement".into()],
            endpoints: vec!["placement internal".into(), "placement public".into()],
            domains: vec![],
            projects: vec![],
            users: vec!["placement".into()],
            passwords: vec![],
            roles: vec![],
            assignments: vec!["placement service admin".into()],
            aggregates: vec![],
        };
        assert_eq!(
            r.summary(),
            "service placement, 2 endpoints, user placement, role assignment"
        );
        assert!(Registered::default().is_empty());
        let p = Registered {
            passwords: vec!["placement".into()],
            endpoints: vec!["placement public".into()],
            ..Registered::default()
        };
        assert_eq!(p.summary(), "1 endpoint, password of placement");
        let d = Registered {
            domains: vec!["heat_user_domain".into()],
            users: vec!["heat_domain_admin@heat_user_domain".into()],
            assignments: vec![
                "heat_domain_admin@heat_user_domain domain heat_user_domain admin".into(),
            ],
            ..Registered::default()
        };
        assert_eq!(
            d.summary(),
            "domain heat_user_domain, user heat_domain_admin@heat_user_domain, role assignment"
        );
    }
}
