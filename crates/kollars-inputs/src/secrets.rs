//! Which parts of a text kollars prints are secrets, and masking them: the one place that
//! decides, for plan's lines, its config diffs and its JSON alike, and for every other line
//! kollars prints (progress, JSON events, a one-shot's log, errors), which the binary's
//! output passes through [`Masker::mask_values`] (known values and URL passwords only: an
//! error's `keystone_admin_password: empty value` must keep its words).
//!
//! Knowing today's passwords is not enough: after an operator changes one, the diff of a
//! config file shows the value it had, which no input names any more. So a value is masked
//! when it is a known secret, and also whatever it is when it sits where a secret sits:
//!
//! - a known secret: every string value of passwords.yml (at least 4 characters long; shorter
//!   ones would mask ordinary words);
//! - the password of a URL's userinfo, `scheme://user:PASSWORD@host` (each host of a list, as
//!   `rabbit://u:P@h1:5672,u:Q@h2:5672//`): `transport_url`, database `connection`s;
//! - the value given to a name that says it is secret, as INI (`name = value`), YAML
//!   (`name: value`), shell or environment (`NAME=value`, `export NAME=value`) or JSON and
//!   Python (`"name": "value"`) write it: a name that is a key of passwords.yml, or one with a
//!   word (split at `_`, `-` and `.`, any case) among [`SECRET_WORDS`], or whose last word is
//!   `auth` (`wsrep_sst_auth`);
//! - in a diff, on a removed line paired with an added one (the n-th `-` with the n-th `+` of
//!   a change), the part of the old line that changed where the new line has a known secret:
//!   `stats auth openstack:OLD` then shows as `stats auth openstack:********`.
//!
//! Masking more than needed (a key file's path under `ssl_key_file`) is the price of never
//! printing an old password.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::{Captures, Regex};

/// What a secret is replaced with.
pub const MASK: &str = "********";

/// Words of a name that make its value a secret.
pub const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "pwd",
    "secret",
    "secrets",
    "key",
    "keys",
    "token",
    "tokens",
    "credential",
    "credentials",
];

/// Known secrets shorter than this are not masked by value (they still are by place).
const MIN_KNOWN: usize = 4;

/// A URL's userinfo password: after `scheme://user:` or, in a list of hosts, `,user:`.
static URL_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?P<pre>(?:[A-Za-z][A-Za-z0-9+.\-]*://|,)[^:/@,\s'"]*:)(?P<pw>[^@\s'"]+)@"#)
        .expect("valid regex")
});

/// `name = value`, `name: value`, `"name": "value"`, `NAME=value`.
static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*)['"]?(?P<sep>\s*[=:]\s*)(?P<val>"(?:[^"\\]|\\.)*"|'[^']*'|[^\s,;}\])"']+)"#,
    )
    .expect("valid regex")
});

/// What comes before a name that starts its line's statement (a diff's sign, indentation, a
/// YAML list item, `export`, an opening quote): its unquoted value runs to the end of line.
static STATEMENT_START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^[-+ ]?\s*(?:-\s+)?(?:export\s+)?['"]?$"#).expect("valid regex")
});

/// Masks secrets in text (see the [module](self)).
#[derive(Debug, Clone, Default)]
pub struct Masker {
    /// Known secret values, longest first.
    values: Vec<String>,
    /// Names whose values are secrets (passwords.yml's keys), lower case.
    names: BTreeSet<String>,
}

impl Masker {
    /// A masker of these known secret values and of the values given to these names.
    pub fn new(
        values: impl IntoIterator<Item = String>,
        names: impl IntoIterator<Item = String>,
    ) -> Masker {
        let mut values: Vec<String> = values
            .into_iter()
            .filter(|v| v.len() >= MIN_KNOWN)
            .collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Masker {
            values,
            names: names.into_iter().map(|n| n.to_ascii_lowercase()).collect(),
        }
    }

    /// Whether a value given to `name` is a secret.
    pub fn is_secret_name(&self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        if self.names.contains(&lower) {
            return true;
        }
        let words: Vec<&str> = lower.split(['_', '-', '.']).collect();
        words.iter().any(|w| SECRET_WORDS.contains(w)) || words.last() == Some(&"auth")
    }

    /// `text` with every secret masked, line by line.
    pub fn mask(&self, text: &str) -> String {
        text.split_inclusive('\n')
            .map(|l| self.mask_line(l))
            .collect()
    }

    /// `text` with every known secret value and every URL password masked, and nothing
    /// else: for text that is not a config file (messages, logs, events), where masking by
    /// place would eat the words of `name: what is wrong`.
    pub fn mask_values(&self, text: &str) -> String {
        let known = self.mask_known(text);
        URL_PASSWORD
            .replace_all(&known, |c: &Captures| format!("{}{MASK}@", &c["pre"]))
            .into_owned()
    }

    /// Whether the masker knows no secret value (masking by place still applies).
    pub fn knows_nothing(&self) -> bool {
        self.values.is_empty()
    }

    fn mask_known(&self, line: &str) -> String {
        let mut out = line.to_owned();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), MASK);
            }
        }
        out
    }

    fn mask_line(&self, line: &str) -> String {
        let known = self.mask_known(line);
        let urls = URL_PASSWORD.replace_all(&known, |c: &Captures| format!("{}{MASK}@", &c["pre"]));
        let (body, newline) = match urls.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (&*urls, ""),
        };
        let mut out = String::with_capacity(body.len());
        let (mut last, mut at) = (0, 0);
        while let Some(c) = ASSIGNMENT.captures_at(body, at) {
            let name = c.name("name").expect("group");
            let val = c.name("val").expect("group");
            if !self.is_secret_name(name.as_str()) {
                // what looked like its value may hold an assignment of its own (`url: K=v`)
                at = name.end();
                continue;
            }
            let starts = STATEMENT_START.is_match(&body[..name.start()]);
            let quoted = val.as_str().starts_with(['"', '\'']);
            // an unquoted value of a statement runs to the end of its line (`pw = a b`)
            let end = match (starts, quoted) {
                (true, false) => body.trim_end().len().max(val.end()),
                _ => val.end(),
            };
            out.push_str(&body[last..val.start()]);
            out.push_str(&match quoted {
                true => format!("{q}{MASK}{q}", q = &val.as_str()[..1]),
                false => MASK.to_owned(),
            });
            (last, at) = (end, end);
        }
        out.push_str(&body[last..]);
        out.push_str(newline);
        out
    }

    /// A removed line and the added line it became (their text, without a diff's sign),
    /// masked; where the new line has a known secret in what changed, the old line's changed
    /// part is masked too.
    pub fn mask_changed(&self, old: &str, new: &str) -> (String, String) {
        let prefix: usize = old
            .chars()
            .zip(new.chars())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a.len_utf8())
            .sum();
        let suffix: usize = old[prefix..]
            .chars()
            .rev()
            .zip(new[prefix..].chars().rev())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a.len_utf8())
            .sum();
        let (changed_start, changed_end) = (prefix, new.len() - suffix);
        // the known secrets of the new line that overlap what changed, with all that changed
        let mut span: Option<(usize, usize)> = None;
        for v in &self.values {
            for (at, _) in new.match_indices(v.as_str()) {
                let end = at + v.len();
                if at <= changed_end && end >= changed_start {
                    let (s, e) = span.unwrap_or((changed_start, changed_end));
                    span = Some((s.min(at), e.max(end)));
                }
            }
        }
        // before `s` the lines agree, and after `e` (past the new line's change) too
        let old = match span.and_then(|(s, e)| Some((s, old.len().checked_sub(new.len() - e)?))) {
            Some((s, old_end)) if s <= old_end => {
                format!("{}{MASK}{}", &old[..s], &old[old_end..])
            }
            _ => old.to_owned(),
        };
        (self.mask_line(&old), self.mask_line(new))
    }

    /// A unified diff with every secret masked: each line as [`Masker::mask`] would, and in
    /// each change the n-th removed line with the n-th added one as [`Masker::mask_changed`].
    pub fn mask_diff(&self, diff: &str) -> String {
        let lines: Vec<&str> = diff.split_inclusive('\n').collect();
        let run = |from: usize, sign: char, header: &str| {
            lines[from..]
                .iter()
                .take_while(|l| l.starts_with(sign) && !l.starts_with(header))
                .count()
        };
        let mut out = String::with_capacity(diff.len());
        let mut i = 0;
        while i < lines.len() {
            let removed = run(i, '-', "---");
            if removed == 0 {
                out.push_str(&self.mask_line(lines[i]));
                i += 1;
                continue;
            }
            let added = run(i + removed, '+', "+++");
            let old = &lines[i..i + removed];
            let new = &lines[i + removed..i + removed + added];
            let mut old_out = Vec::new();
            let mut new_out = Vec::new();
            for k in 0..removed.max(added) {
                match (old.get(k), new.get(k)) {
                    (Some(o), Some(n)) => {
                        let (o, n) = self.mask_changed(&o[1..], &n[1..]);
                        old_out.push(format!("-{o}"));
                        new_out.push(format!("+{n}"));
                    }
                    (Some(o), None) => old_out.push(self.mask_line(o)),
                    (None, Some(n)) => new_out.push(self.mask_line(n)),
                    (None, None) => {}
                }
            }
            old_out.iter().chain(&new_out).for_each(|l| out.push_str(l));
            i += removed + added;
        }
        out
    }
}

#[cfg(test)]
mod tests;
