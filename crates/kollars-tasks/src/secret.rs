//! A value that must never be printed.

/// A secret string (a password from passwords.yml): `Debug` and `Display` show `********`;
/// only [`Secret::expose`] gives the value, to put it where it belongs (a program's stdin).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("********")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("********")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn never_printed() {
        let s = super::Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "******** ********");
        assert_eq!(s.expose(), "hunter2");
    }
}
