//! kolla-ansible's `bcrypt_hash` filter: the password hashes prometheus' web.yml lists.
//!
//! kolla derives the bcrypt salt from a fixed string (passwords.yml's `prometheus_bcrypt_salt`)
//! so that the file, and the container's config hash, stay the same from run to run: the
//! first 16 bytes of the string's SHA-256, cost 12, version `2b`. Without a salt kolla draws a
//! random one; so does this filter.

use minijinja::value::Kwargs;
use minijinja::{Error, ErrorKind};
use sha2::{Digest, Sha256};

/// The cost kolla passes (`$2b$12$`).
const COST: u32 = 12;

/// `password | bcrypt_hash(salt=…)`: `$2b$12$<salt><hash>`.
pub(crate) fn bcrypt_hash(password: String, kwargs: Kwargs) -> Result<String, Error> {
    let salt: Option<String> = kwargs.get("salt")?;
    kwargs.assert_all_used()?;
    let fail = |e: bcrypt::BcryptError| {
        Error::new(ErrorKind::InvalidOperation, format!("bcrypt_hash: {e}"))
    };
    let parts = match salt.filter(|s| !s.is_empty()) {
        Some(salt) => {
            let digest = Sha256::digest(salt.as_bytes());
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(&digest[..16]);
            bcrypt::hash_with_salt(password.as_bytes(), COST, bytes).map_err(fail)?
        }
        None => return bcrypt::hash(password.as_bytes(), COST).map_err(fail),
    };
    Ok(parts.format_for_version(bcrypt::Version::TwoB))
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::Environment;

    #[test]
    fn a_salted_hash_is_kollas() {
        let mut env = Environment::new();
        env.add_filter("bcrypt_hash", bcrypt_hash);
        let out = env
            .render_str("{{ 'secret' | bcrypt_hash(salt='abc') }}", ())
            .unwrap();
        // Python: bcrypt.hashpw(b'secret', b'$2b$12$' + bcrypt-base64(sha256(b'abc')[:16]))
        assert_eq!(out, EXPECTED);
    }

    const EXPECTED: &str = "$2b$12$sleUt26/x8n/OSBcVY2gGuQcUkyMVmSZeUqH2I5buZBVpm14TJxZG";
}
