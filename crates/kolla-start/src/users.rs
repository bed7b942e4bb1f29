//! Users and groups by name, read from the image's `/etc/passwd` and `/etc/group`.
//!
//! A static binary has no NSS, and kolla's owners are always local accounts of the image.

use std::collections::HashMap;
use std::fs;

use crate::error::Error;
use crate::root::Root;

/// A resolved `owner`: numeric ids plus the names it was given as, for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// The user id.
    pub uid: u32,
    /// The group id.
    pub gid: u32,
    /// `user:group` as resolved.
    pub names: String,
}

/// The accounts of an image.
#[derive(Debug, Default)]
pub struct Accounts {
    users: HashMap<String, u32>,
    groups: HashMap<String, u32>,
}

impl Accounts {
    /// Reads `/etc/passwd` and `/etc/group` under `root`. Missing files give no accounts, so
    /// every lookup fails with a message naming the entry that needed one.
    pub fn load(root: &Root) -> Self {
        let read = |p: &str| fs::read_to_string(root.host(p)).unwrap_or_default();
        Accounts {
            users: parse(&read("/etc/passwd")),
            groups: parse(&read("/etc/group")),
        }
    }

    /// Resolves `owner` as kolla does: `user` means `user:user`, `user:` too, and
    /// `user:group` names both. `at` names the config entry for errors.
    pub fn owner(&self, owner: &str, at: &str) -> Result<Owner, Error> {
        let (user, group) = match owner.split_once(':') {
            Some((u, "")) => (u, u),
            Some((u, g)) => (u, g),
            None => (owner, owner),
        };
        let uid = *self.users.get(user).ok_or_else(|| Error::UnknownUser {
            at: at.to_string(),
            name: user.to_string(),
        })?;
        let gid = *self.groups.get(group).ok_or_else(|| Error::UnknownGroup {
            at: at.to_string(),
            name: group.to_string(),
        })?;
        Ok(Owner {
            uid,
            gid,
            names: format!("{user}:{group}"),
        })
    }
}

/// Parses `name:x:id:…` lines (both files have the id third).
fn parse(text: &str) -> HashMap<String, u32> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let id = f.nth(1)?.parse().ok()?;
            Some((name.to_string(), id))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accounts() -> Accounts {
        Accounts {
            users: parse("root:x:0:0:root:/root:/bin/sh\nnova:x:42436:42436::/var/lib/nova:/usr/sbin/nologin\n"),
            groups: parse("root:x:0:\nkolla:x:42400:nova\nnova:x:42436:\n"),
        }
    }

    #[test]
    fn owner_forms() {
        let a = accounts();
        assert_eq!(a.owner("nova", "e").unwrap().gid, 42436);
        assert_eq!(a.owner("nova:", "e").unwrap().gid, 42436);
        let o = a.owner("nova:kolla", "e").unwrap();
        assert_eq!(
            (o.uid, o.gid, o.names.as_str()),
            (42436, 42400, "nova:kolla")
        );
        assert_eq!(a.owner("root", "e").unwrap().uid, 0);
    }

    #[test]
    fn unknown_names_name_the_entry() {
        let a = accounts();
        let e = a
            .owner("glance", "config_files[3]")
            .unwrap_err()
            .to_string();
        assert!(e.contains("config_files[3]") && e.contains("glance"), "{e}");
        let e = a
            .owner("nova:wheel", "permissions[0]")
            .unwrap_err()
            .to_string();
        assert!(e.contains("group") && e.contains("wheel"), "{e}");
    }
}
