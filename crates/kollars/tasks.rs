//! The task entries of a service dict, typed: what kolla does around a service's containers
//! that the dict says (`database`, `ks_register`, `accounts`, `identity_bootstrap`,
//! `run_once`, `signal_after_bootstrap`, and how a clustered service rolls across hosts:
//! `galera`, `rolling`), read
//! once, before
//! anything happens, like the containers themselves ([`crate::containers`]). A missing or
//! empty value is bad input naming host, service and key — never the value, which may be a
//! password.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;
use kollars_render::RenderedService;
use kollars_tasks::{
    Account, AdminAuth, Database, DbLogin, IdentityBootstrap, KsDomain, KsDomainUser, KsService,
    KsUser, KsUserRole, Registration, Secret,
};
use kollars_vars::Value;

use crate::error::BadInput;

/// One service's database and the login that makes it.
#[derive(Debug, Clone)]
pub struct DatabaseTask {
    /// The database, its user and password.
    pub db: Database,
    /// The database root's login.
    pub login: DbLogin,
}

/// A task once a service's new container has started.
#[derive(Debug, Clone)]
pub enum AfterStart {
    /// A new MariaDB: wait until it answers (up to `timeout`), then make `accounts`, with its
    /// own client.
    Accounts {
        /// The root login, at the server's own address.
        login: DbLogin,
        /// The accounts (the monitor).
        accounts: Vec<Account>,
        /// kolla's `database_max_timeout`.
        timeout: Duration,
    },
    /// keystone's `keystone-manage bootstrap`.
    IdentityBootstrap(IdentityBootstrap),
    /// A command retried until it succeeds, in the service's container (keystone's fernet key
    /// push from the first host to the others' `keystone_ssh`) or in another service's on the
    /// first host that runs that one (nova's host discovery in `nova_conductor`, once new
    /// `nova_compute` containers run).
    RunOnce {
        /// The command.
        command: Vec<String>,
        /// How long to retry.
        timeout: Duration,
        /// The service whose container runs it, when not this one (`in`).
        service: Option<String>,
    },
}

/// A signal sent, once a service's bootstrap one-shots ran, to a container of another service
/// wherever it runs, or `restart`: the container restarted there (kolla's "Refresh cell cache
/// in nova scheduler": a scheduler started before nova's cell was created sees it only after
/// `SIGHUP` — kolla's signal; nova 2026.1's scheduler answers no RPC after that reload, so
/// kollars restarts it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal {
    /// The container's name (`nova_scheduler`).
    pub container: String,
    /// The signal, as `docker kill --signal` takes it (`HUP`), or `restart`.
    pub signal: String,
}

impl Signal {
    /// Whether the container is restarted rather than signalled.
    pub fn is_restart(&self) -> bool {
        self.signal == "restart"
    }
}

/// How a clustered service's members start and restart across hosts: one host at a time,
/// each member ready before the next is touched (kolla's serial handlers), so the cluster
/// never loses more than one member to a deploy.
#[derive(Debug, Clone)]
pub enum Rolling {
    /// A Galera member (kolla's mariadb role): ready when `Synced`. A new cluster's first
    /// member starts with `new_cluster` in its environment (`BOOTSTRAP_ARGS:
    /// --wsrep-new-cluster`), the others join it one by one, then it is recreated as they are.
    Galera {
        /// The root login at this member's own address.
        login: DbLogin,
        /// kolla's `database_max_timeout`.
        timeout: Duration,
        /// The first member's extra environment for a new cluster.
        new_cluster: BTreeMap<String, String>,
    },
    /// Ready when `ready` exits 0 in the container (RabbitMQ's `rabbitmqctl wait`).
    Ready {
        /// The readiness command.
        ready: Vec<String>,
        /// How long to wait for it.
        timeout: Duration,
    },
}

/// The entries of one service's evaluated dict.
pub(crate) struct Entries<'a> {
    host: &'a str,
    svc: &'a RenderedService,
}

/// One map entry of the dict, with the names for its errors.
struct Entry<'a> {
    host: &'a str,
    svc: &'a str,
    /// Its path in the dict (`ks_register.users[0]`).
    key: String,
    value: Value,
}

impl<'a> Entry<'a> {
    fn bad(&self, what: std::fmt::Arguments<'_>) -> anyhow::Error {
        BadInput::from_err(format!(
            "host {}, service {}: {}.{what}",
            self.host, self.svc, self.key
        ))
    }

    /// The sub-map `name`, for its own keys.
    fn map(&self, name: &str) -> Result<Entry<'a>> {
        match self.get(name) {
            Some(value) if value.kind() == kollars_vars::ValueKind::Map => Ok(Entry {
                host: self.host,
                svc: self.svc,
                key: format!("{}.{name}", self.key),
                value,
            }),
            _ => Err(self.bad(format_args!("{name} must be a mapping"))),
        }
    }

    /// The items of list `name` (none when it is missing), each an entry of its own.
    fn list(&self, name: &str) -> Result<Vec<Entry<'a>>> {
        let Some(v) = self.get(name) else {
            return Ok(Vec::new());
        };
        if v.kind() != kollars_vars::ValueKind::Seq {
            return Err(self.bad(format_args!("{name} must be a list")));
        }
        let items = v.try_iter().map_err(BadInput::from_err)?;
        Ok(items
            .enumerate()
            .map(|(i, value)| Entry {
                host: self.host,
                svc: self.svc,
                key: format!("{}.{name}[{i}]", self.key),
                value,
            })
            .collect())
    }

    /// The items of this entry, a list, each an entry of its own.
    fn items(&self) -> Result<Vec<Entry<'a>>> {
        let items = self.value.try_iter().map_err(BadInput::from_err)?;
        Ok(items
            .enumerate()
            .map(|(i, value)| Entry {
                host: self.host,
                svc: self.svc,
                key: format!("{}[{i}]", self.key),
                value,
            })
            .collect())
    }

    /// This entry as one string (a list item that is a plain value).
    fn itself(&self) -> Result<String> {
        let s = self.value.to_string();
        match self.value.is_undefined() || self.value.is_none() || s.is_empty() {
            true => Err(BadInput::from_err(format!(
                "host {}, service {}: {} is empty",
                self.host, self.svc, self.key
            ))),
            false => Ok(s),
        }
    }

    /// `name` as a boolean (Ansible's truth), `default` when missing.
    fn flag(&self, name: &str, default: bool) -> bool {
        self.get(name)
            .map(|v| kollars_vars::filters::ansible_bool(&v))
            .unwrap_or(default)
    }

    fn get(&self, name: &str) -> Option<Value> {
        self.value
            .get_attr(name)
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_none())
    }

    fn string(&self, name: &str) -> Result<String> {
        match self
            .get(name)
            .map(|v| v.to_string())
            .filter(|s| !s.is_empty())
        {
            Some(s) => Ok(s),
            None => Err(BadInput::from_err(format!(
                "host {}, service {}: {}.{name} is empty (passwords.yml or the service's \
                 defaults must give it)",
                self.host, self.svc, self.key
            ))),
        }
    }

    fn number<T: std::str::FromStr>(&self, name: &str) -> Result<T> {
        let v = self.string(name)?;
        v.trim().parse().map_err(|_| {
            BadInput::from_err(format!(
                "host {}, service {}: {}.{name} must be a number, got {v:?}",
                self.host, self.svc, self.key
            ))
        })
    }

    fn strings(&self, name: &str) -> Result<Vec<String>> {
        let list: Vec<String> = match self.get(name) {
            Some(v) => v
                .try_iter()
                .map_err(BadInput::from_err)?
                .map(|x| x.to_string())
                .collect(),
            None => Vec::new(),
        };
        if list.is_empty() || list.iter().any(String::is_empty) {
            return Err(BadInput::from_err(format!(
                "host {}, service {}: {}.{name} must be a list of non-empty strings",
                self.host, self.svc, self.key
            )));
        }
        Ok(list)
    }

    fn string_map(&self, name: &str) -> Result<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        if let Some(m) = self.get(name) {
            for k in m.try_iter().map_err(BadInput::from_err)? {
                let v = m.get_item(&k).unwrap_or_default();
                out.insert(k.to_string(), v.to_string());
            }
        }
        Ok(out)
    }

    fn enabled(&self) -> bool {
        self.flag("enabled", true)
    }

    fn login(&self) -> Result<DbLogin> {
        Ok(DbLogin {
            host: self.string("login_host")?,
            port: self.number("login_port")?,
            user: self.string("login_user")?,
            password: Secret::new(self.string("login_password")?),
        })
    }
}

impl<'a> Entries<'a> {
    pub(crate) fn new(host: &'a str, svc: &'a RenderedService) -> Entries<'a> {
        Entries { host, svc }
    }

    fn entry(&self, key: &'static str) -> Option<Entry<'a>> {
        let value = self
            .svc
            .container
            .get_attr(key)
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_none())?;
        let e = Entry {
            host: self.host,
            svc: &self.svc.name,
            key: key.to_owned(),
            value,
        };
        e.enabled().then_some(e)
    }

    /// `database`: one mapping or a list of them (nova-api's API and cell0 databases), each
    /// `enabled`, `name`, `user`, `password`, `login_host`, `login_port`, `login_user`,
    /// `login_password`.
    pub(crate) fn databases(&self) -> Result<Vec<DatabaseTask>> {
        let Some(e) = self.entry("database") else {
            return Ok(Vec::new());
        };
        let items = match e.value.kind() {
            kollars_vars::ValueKind::Seq => e.items()?,
            _ => vec![e],
        };
        let mut out = Vec::new();
        for e in items.into_iter().filter(Entry::enabled) {
            out.push(DatabaseTask {
                db: Database {
                    name: e.string("name")?,
                    user: e.string("user")?,
                    password: Secret::new(e.string("password")?),
                },
                login: e.login()?,
            });
        }
        Ok(out)
    }

    /// `ks_register` (kolla's `service-ks-register`): `services` (`name`, `type`,
    /// `description`, `endpoints`: `interface`, `url`; an `enabled` that is false drops one),
    /// `users` (`project`, `user`, `password`, `role`), `roles`, `user_roles` (`project`,
    /// `user`, `role`), `auth` (`auth_url`, `username`, `password`, `project_name`,
    /// `user_domain_name` and `project_domain_name` or `domain_name`), `region`,
    /// `interface`, `cacert`, `domain` (`default`), `update_password`, and a project's own
    /// domains: `domains` (`name`, `description`) and `domain_users` (`domain`, `user`,
    /// `password`, `description` (may be empty), `role` on that domain), and `aggregates` (nova host
    /// aggregates by name, made last: blazar's pool).
    pub(crate) fn register(&self) -> Result<Option<Registration>> {
        let Some(e) = self.entry("ks_register") else {
            return Ok(None);
        };
        let auth = e.map("auth")?;
        let domain_of = |which: &str| match auth.get(which).filter(|v| !v.to_string().is_empty()) {
            Some(v) => Ok(v.to_string()),
            None => auth.string("domain_name"),
        };
        let mut services = Vec::new();
        for s in e.list("services")? {
            if !s.enabled() {
                continue;
            }
            let mut endpoints = Vec::new();
            for ep in s.list("endpoints")? {
                endpoints.push((ep.string("interface")?, ep.string("url")?));
            }
            services.push(KsService {
                name: s.string("name")?,
                service_type: s.string("type")?,
                description: s.string("description")?,
                endpoints,
            });
        }
        let mut users = Vec::new();
        for u in e.list("users")? {
            users.push(KsUser {
                project: u.string("project")?,
                user: u.string("user")?,
                password: Secret::new(u.string("password")?),
                role: u.string("role")?,
            });
        }
        let mut user_roles = Vec::new();
        for r in e.list("user_roles")? {
            user_roles.push(KsUserRole {
                project: r.string("project")?,
                user: r.string("user")?,
                role: r.string("role")?,
            });
        }
        let mut domains = Vec::new();
        for d in e.list("domains")? {
            domains.push(KsDomain {
                name: d.string("name")?,
                description: d.string("description")?,
            });
        }
        let mut domain_users = Vec::new();
        for u in e.list("domain_users")? {
            domain_users.push(KsDomainUser {
                domain: u.string("domain")?,
                user: u.string("user")?,
                password: Secret::new(u.string("password")?),
                // kolla gives heat's domain admin one, magnum's trustee admin none
                description: u
                    .get("description")
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
                role: u.string("role")?,
            });
        }
        let roles = e
            .list("roles")?
            .iter()
            .map(Entry::itself)
            .collect::<Result<_>>()?;
        let aggregates = e
            .list("aggregates")?
            .iter()
            .map(Entry::itself)
            .collect::<Result<_>>()?;
        let cacert = e
            .get("cacert")
            .map(|v| v.to_string())
            .filter(|s| !s.is_empty());
        let domain = e
            .get("domain")
            .map(|v| v.to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "default".to_owned());
        Ok(Some(Registration {
            auth: AdminAuth {
                auth_url: auth.string("auth_url")?,
                username: auth.string("username")?,
                password: Secret::new(auth.string("password")?),
                project_name: auth.string("project_name")?,
                user_domain_name: domain_of("user_domain_name")?,
                project_domain_name: domain_of("project_domain_name")?,
            },
            region: e.string("region")?,
            interface: e.string("interface")?,
            cacert,
            domain,
            update_password: e.flag("update_password", true),
            services,
            users,
            roles,
            user_roles,
            domains,
            domain_users,
            aggregates,
        }))
    }

    /// `accounts` (`login_*`, `timeout`, `users`: `user`, `password`, `privileges`), then
    /// `identity_bootstrap` (`username`, `password`, `project`, `role`, `internal_url`,
    /// `public_url`, `region`), then `run_once` (`command`, `timeout`, optionally `in`: the
    /// service whose container runs it).
    pub(crate) fn after_start(&self) -> Result<Vec<AfterStart>> {
        let mut out = Vec::new();
        if let Some(e) = self.entry("accounts") {
            let mut accounts = Vec::new();
            if let Some(users) = e.get("users") {
                for u in users.try_iter().map_err(BadInput::from_err)? {
                    let a = Entry {
                        host: self.host,
                        svc: &self.svc.name,
                        key: "accounts.users".to_owned(),
                        value: u,
                    };
                    accounts.push(Account {
                        user: a.string("user")?,
                        password: Secret::new(a.string("password")?),
                        privileges: a.string("privileges")?,
                    });
                }
            }
            out.push(AfterStart::Accounts {
                login: e.login()?,
                accounts,
                timeout: Duration::from_secs(e.number("timeout")?),
            });
        }
        if let Some(e) = self.entry("identity_bootstrap") {
            out.push(AfterStart::IdentityBootstrap(e.identity_bootstrap()?));
        }
        if let Some(e) = self.entry("run_once") {
            out.push(AfterStart::RunOnce {
                command: e.strings("command")?,
                timeout: Duration::from_secs(e.number("timeout")?),
                service: e.get("in").map(|_| e.string("in")).transpose()?,
            });
        }
        Ok(out)
    }

    /// `signal_after_bootstrap`: one mapping or a list, each `container`, `signal` and
    /// `enabled`.
    pub(crate) fn signals(&self) -> Result<Vec<Signal>> {
        let Some(e) = self.entry("signal_after_bootstrap") else {
            return Ok(Vec::new());
        };
        let items = match e.value.kind() {
            kollars_vars::ValueKind::Seq => e.items()?,
            _ => vec![e],
        };
        items
            .into_iter()
            .filter(Entry::enabled)
            .map(|e| {
                Ok(Signal {
                    container: e.string("container")?,
                    signal: e.string("signal")?,
                })
            })
            .collect()
    }

    /// `galera` (`login_*`, `timeout`, `new_cluster`) or `rolling` (`ready`, `timeout`).
    pub(crate) fn rolling(&self) -> Result<Option<Rolling>> {
        if let Some(e) = self.entry("galera") {
            return Ok(Some(Rolling::Galera {
                login: e.login()?,
                timeout: Duration::from_secs(e.number("timeout")?),
                new_cluster: e.string_map("new_cluster")?,
            }));
        }
        if let Some(e) = self.entry("rolling") {
            return Ok(Some(Rolling::Ready {
                ready: e.strings("ready")?,
                timeout: Duration::from_secs(e.number("timeout")?),
            }));
        }
        Ok(None)
    }
}

impl Entry<'_> {
    fn identity_bootstrap(&self) -> Result<IdentityBootstrap> {
        let e = self;
        Ok(IdentityBootstrap {
            username: e.string("username")?,
            password: Secret::new(e.string("password")?),
            project: e.string("project")?,
            role: e.string("role")?,
            internal_url: e.string("internal_url")?,
            public_url: e.string("public_url")?,
            region: e.string("region")?,
        })
    }
}
