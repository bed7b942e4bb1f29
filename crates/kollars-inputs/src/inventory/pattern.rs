//! Host ranges (`ctl[01:03]`, `node[a:c]`, `h[1:10:2]`) and `host:port` names.
//!
//! Both inventory syntaxes accept the same host patterns; a pure function of its own keeps
//! one set of rules for both and can be tested without an inventory.

/// The most host names one pattern may expand to: far more than any cloud, far fewer than
/// `h[0:99999999999]` or `h[1:1000][1:1000][1:1000]` would make (memory without bound).
pub const MAX_HOSTS: u64 = 100_000;

/// Expands `ctl[01:03]`, `node[a:c]` and `h[1:10:2]` ranges into host names (at most
/// `MAX_HOSTS`, 100000).
pub fn expand_host_pattern(pattern: &str) -> Result<Vec<String>, String> {
    expand(pattern, pattern, MAX_HOSTS)
}

/// [`expand_host_pattern`] of `pattern`, a tail of `whole`, with at most `budget` names.
fn expand(whole: &str, pattern: &str, budget: u64) -> Result<Vec<String>, String> {
    let too_many = || format!("host pattern {whole:?} expands to more than {MAX_HOSTS} hosts");
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
        let count = ((e - b) / step as u64).saturating_add(1);
        if count > budget {
            return Err(too_many());
        }
        let mut i = b;
        for _ in 0..count {
            items.push(format!("{i:0width$}"));
            i = i.saturating_add(step as u64);
        }
    } else if beg.len() == 1 && end.len() == 1 && beg.chars().all(|c| c.is_ascii_alphabetic()) {
        let (b, e) = (beg.as_bytes()[0], end.as_bytes()[0]);
        if b > e || !end.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(format!(
                "invalid alphabetic range in host pattern {pattern:?}"
            ));
        }
        let mut c = b as usize;
        while c <= e as usize {
            items.push((c as u8 as char).to_string());
            c += step;
        }
    } else {
        return Err(format!(
            "invalid range [{range}] in host pattern {pattern:?}"
        ));
    }
    let rests = expand(whole, tail, budget / items.len().max(1) as u64)?;
    if (items.len() as u64).saturating_mul(rests.len() as u64) > budget {
        return Err(too_many());
    }
    let mut out = Vec::with_capacity(items.len() * rests.len());
    for item in items {
        for rest in &rests {
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
