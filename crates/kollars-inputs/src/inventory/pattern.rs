//! Host ranges (`ctl[01:03]`, `node[a:c]`, `h[1:10:2]`) and `host:port` names.
//!
//! Both inventory syntaxes accept the same host patterns; a pure function of its own keeps
//! one set of rules for both and can be tested without an inventory.

/// Expands `ctl[01:03]`, `node[a:c]` and `h[1:10:2]` ranges into host names.
pub fn expand_host_pattern(pattern: &str) -> Result<Vec<String>, String> {
    let Some(open) = pattern.find('[') else {
        return Ok(vec![strip_port(pattern)]);
    };
    let Some(close_rel) = pattern[open..].find(']') else {
        return Err(format!("unterminated range in host pattern {pattern:?}"));
    };
    let close = open + close_rel;
    let head = &pattern[..open];
    let tail = &pattern[close + 1..];
    let range = &pattern[open + 1..close];
    let parts: Vec<&str> = range.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return Err(format!(
            "invalid range [{range}] in host pattern {pattern:?}"
        ));
    }
    let (beg, end) = (parts[0], parts[1]);
    let step: usize = match parts.get(2) {
        Some(s) => s
            .parse()
            .ok()
            .filter(|s| *s > 0)
            .ok_or_else(|| format!("invalid step {s:?} in host pattern {pattern:?}"))?,
        None => 1,
    };
    let mut items = Vec::new();
    if let (Ok(b), Ok(e)) = (beg.parse::<u64>(), end.parse::<u64>()) {
        if b > e {
            return Err(format!("range start after end in host pattern {pattern:?}"));
        }
        let width = if beg.starts_with('0') && beg.len() > 1 {
            beg.len()
        } else {
            0
        };
        let mut i = b;
        while i <= e {
            items.push(format!("{i:0width$}"));
            i += step as u64;
        }
    } else if beg.len() == 1 && end.len() == 1 && beg.chars().all(|c| c.is_ascii_alphabetic()) {
        let (b, e) = (beg.as_bytes()[0], end.as_bytes()[0]);
        if b > e || !end.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(format!(
                "invalid alphabetic range in host pattern {pattern:?}"
            ));
        }
        let mut c = b;
        while c <= e {
            items.push((c as char).to_string());
            c = c.saturating_add(step as u8);
            if step == 0 {
                break;
            }
        }
    } else {
        return Err(format!(
            "invalid range [{range}] in host pattern {pattern:?}"
        ));
    }
    let mut out = Vec::new();
    for item in items {
        for rest in expand_host_pattern(tail)? {
            out.push(format!("{head}{item}{rest}"));
        }
    }
    Ok(out)
}

fn strip_port(host: &str) -> String {
    // `host:port` is accepted by Ansible; the port is a connection detail, not the name.
    match host.rsplit_once(':') {
        Some((h, p))
            if !h.contains(':') && p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() =>
        {
            h.to_string()
        }
        _ => host.to_string(),
    }
}
