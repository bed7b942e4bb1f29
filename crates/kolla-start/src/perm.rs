//! `perm` values: an octal string of 3 or 4 digits, with an optional `0o` prefix.
//!
//! kolla up to 2026.1 read `644` as *decimal* (giving mode 1204) and rejected `2775`; master
//! is strict, as here. Numbers (`perm: 0644` in YAML, `420` in JSON) are refused with a
//! message: their meaning depends on the parser's YAML version, and upstream crashes on them.

/// A parsed permission, `0..=0o7777`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Perm(u32);

impl Perm {
    /// Parses `644`, `0644`, `2775`, `0o2775`. Anything else is `None`.
    pub fn parse(s: &str) -> Option<Perm> {
        let digits = s.strip_prefix("0o").unwrap_or(s);
        if !(3..=4).contains(&digits.len()) || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            return None;
        }
        u32::from_str_radix(digits, 8).ok().map(Perm)
    }

    /// The mode for a file.
    pub fn file_mode(self) -> u32 {
        self.0
    }

    /// The mode for a directory: an execute bit is added wherever a read bit is set
    /// (`0640` gives `0750`), as kolla does so that readable directories can be entered.
    pub fn dir_mode(self) -> u32 {
        let mut m = self.0;
        for (r, x) in [(0o400, 0o100), (0o040, 0o010), (0o004, 0o001)] {
            if m & r != 0 {
                m |= x;
            }
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_forms() {
        assert_eq!(Perm::parse("644"), Some(Perm(0o644)));
        assert_eq!(Perm::parse("0644"), Some(Perm(0o644)));
        assert_eq!(Perm::parse("0o644"), Some(Perm(0o644)));
        assert_eq!(Perm::parse("2775"), Some(Perm(0o2775)));
        assert_eq!(Perm::parse("0o2775"), Some(Perm(0o2775)));
        assert_eq!(Perm::parse("0600").unwrap().file_mode(), 0o600);
    }

    #[test]
    fn rejects_the_rest() {
        for bad in [
            "",
            "64",
            "06444",
            "0o64",
            "0x644",
            "648",
            "rw-r--r--",
            "-644",
            "0o",
        ] {
            assert_eq!(Perm::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn directories_get_execute_where_read() {
        assert_eq!(Perm(0o640).dir_mode(), 0o750);
        assert_eq!(Perm(0o644).dir_mode(), 0o755);
        assert_eq!(Perm(0o600).dir_mode(), 0o700);
        assert_eq!(Perm(0o2660).dir_mode(), 0o2770);
        assert_eq!(Perm(0o200).dir_mode(), 0o200);
    }
}
