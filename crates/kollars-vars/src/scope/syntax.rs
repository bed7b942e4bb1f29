//! Recognising the template shapes that need no template engine.
//!
//! Compiling and running a minijinja template for `{{ name }}` costs far more than the lookup
//! it makes, and such shapes are most of kolla's defaults. These pure string checks decide
//! when [`eval`](super::eval) may take the short way; anything they do not fully understand
//! goes through minijinja, so the result is always what the template would give.

/// Whether a string holds Jinja at all.
pub(super) fn is_template(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(2)
        .any(|w| w[0] == b'{' && matches!(w[1], b'{' | b'%' | b'#'))
}

/// `text{{ name }}text{{ name }}…`: only bare names between plain text (no filters, blocks,
/// comments or whitespace control); the pieces as (text before, name).
pub(super) fn plain_interpolation(s: &str) -> Option<Vec<(&str, Option<&str>)>> {
    if s.contains("{%") || s.contains("{#") {
        return None;
    }
    let mut parts = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let close = after.find("}}")?;
        let inner = &after[..close];
        if inner.starts_with(['-', '+']) || inner.ends_with(['-', '+']) {
            return None;
        }
        let name = inner.trim();
        if !is_identifier(name) {
            return None;
        }
        parts.push((&rest[..open], Some(name)));
        rest = &after[close + 2..];
    }
    parts.push((rest, None));
    Some(parts)
}

/// A bare variable name (what `{{ name }}` looks up).
pub(super) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(
            s,
            "true" | "false" | "none" | "True" | "False" | "None" | "loop" | "self"
        )
}

/// `"{{ expr }}"` with nothing around it: the expression, whose value keeps its native type.
pub(super) fn single_expression(s: &str) -> Option<&str> {
    let t = s.trim();
    let inner = t.strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.trim_start_matches('-').trim_end_matches('-');
    if inner.contains("{{") || inner.contains("}}") || inner.contains("{%") {
        return None;
    }
    Some(inner.trim())
}
