//! Splitting a command line into words the way a shell does, without expansions.
//!
//! Blanks (space, tab, newline) separate words; `'...'` is literal; `"..."` is literal except
//! that a backslash escapes `\`, `"`, `$`, `` ` `` and newline; outside quotes a backslash
//! escapes the next character. No variable, command or pathname expansion happens.
//! (kolla's `exec ${CMD} ${ARGS}` splits on blanks and globs, but passes quotes through as
//! literal characters; see docs/kolla-start.md.)

/// Why a command line cannot be split.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// A quote is not closed.
    #[error("unterminated {0} quote")]
    Unterminated(&'static str),
    /// The line ends with a lone backslash.
    #[error("trailing backslash")]
    TrailingBackslash,
}

/// Splits `line` into words.
pub fn split(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err(SplitError::Unterminated("single")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('\\' | '"' | '$' | '`')) => cur.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c);
                            }
                            None => return Err(SplitError::Unterminated("double")),
                        },
                        Some(c) => cur.push(c),
                        None => return Err(SplitError::Unterminated("double")),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(c) => {
                    in_word = true;
                    cur.push(c);
                }
                None => return Err(SplitError::TrailingBackslash),
            },
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(line: &str) -> Vec<String> {
        split(line).unwrap()
    }

    #[test]
    fn plain_words() {
        assert_eq!(s("nova-api"), ["nova-api"]);
        assert_eq!(
            s("  neutron-server --config-file /etc/neutron/neutron.conf\t"),
            [
                "neutron-server",
                "--config-file",
                "/etc/neutron/neutron.conf"
            ]
        );
        assert!(s("   ").is_empty());
    }

    #[test]
    fn quotes() {
        assert_eq!(
            s("sh -c 'echo a  b; exit 3'"),
            ["sh", "-c", "echo a  b; exit 3"]
        );
        assert_eq!(s(r#"x "a \"b\" \$c \n" ''"#), ["x", r#"a "b" $c \n"#, ""]);
        assert_eq!(s(r"a\ b c"), ["a b", "c"]);
        assert_eq!(s("pre'fix'\"ed\""), ["prefixed"]);
        assert_eq!(s("$HOME *.conf"), ["$HOME", "*.conf"]);
    }

    #[test]
    fn errors() {
        assert_eq!(split("a 'b"), Err(SplitError::Unterminated("single")));
        assert_eq!(split("a \"b"), Err(SplitError::Unterminated("double")));
        assert_eq!(split("a \\"), Err(SplitError::TrailingBackslash));
    }
}
