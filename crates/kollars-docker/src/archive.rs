//! The few bytes of tar and RFC 3339 the driver needs.
//!
//! The config record ([`crate::CONFIG_RECORD_PATH`]) goes in and out of containers through
//! Docker's archive API, which speaks tar; a one-file ustar writer and reader are a few dozen
//! lines and spare a dependency. Container timestamps come as RFC 3339 strings (bollard
//! without its `chrono`/`time` features).

/// A tar archive holding one regular file `name` (mode 0644) with `content`.
pub(crate) fn single_file(name: &str, content: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    let name = name.as_bytes();
    header[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
    put_octal(&mut header[100..108], 0o644);
    put_octal(&mut header[108..116], 0);
    put_octal(&mut header[116..124], 0);
    put_octal(&mut header[124..136], content.len() as u64);
    put_octal(&mut header[136..148], 0);
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
    put_octal(&mut header[148..155], u64::from(sum));
    header[155] = b' ';
    let mut out = header.to_vec();
    out.extend_from_slice(content);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out.extend_from_slice(&[0u8; 1024]);
    out
}

fn put_octal(field: &mut [u8], value: u64) {
    let s = format!("{:0width$o}\0", value, width = field.len() - 1);
    field.copy_from_slice(s.as_bytes());
}

/// The content of the first regular file in a tar archive.
pub(crate) fn read_single_file(tar: &[u8]) -> Option<Vec<u8>> {
    let mut off = 0;
    while off + 512 <= tar.len() {
        let header = &tar[off..off + 512];
        if header.iter().all(|b| *b == 0) {
            return None;
        }
        let size_field = std::str::from_utf8(&header[124..136]).ok()?;
        let size = u64::from_str_radix(size_field.trim_matches(|c: char| c == '\0' || c == ' '), 8)
            .ok()? as usize;
        let body = off + 512;
        if matches!(header[156], b'0' | 0) {
            return tar.get(body..body + size).map(<[u8]>::to_vec);
        }
        off = body + size.div_ceil(512) * 512;
    }
    None
}

/// Seconds since the epoch of an RFC 3339 UTC timestamp as Docker writes them
/// (`2024-05-01T12:34:56.123456789Z`); `None` for anything else, including Docker's
/// "never" (`0001-01-01T00:00:00Z` parses, to a very negative number).
pub(crate) fn parse_rfc3339(s: &str) -> Option<f64> {
    let s = s.trim();
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-');
    let (y, m, day): (i64, i64, i64) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    let (time, offset) = if let Some(t) = time.strip_suffix('Z') {
        (t, 0.0)
    } else {
        let idx = time.rfind(['+', '-'])?;
        let (t, off) = time.split_at(idx);
        let sign = if off.starts_with('-') { -1.0 } else { 1.0 };
        let (oh, om) = off[1..].split_once(':')?;
        let off_s = sign * (oh.parse::<f64>().ok()? * 3600.0 + om.parse::<f64>().ok()? * 60.0);
        (t, off_s)
    };
    let mut t = time.split(':');
    let (hh, mm, ss): (f64, f64, f64) = (
        t.next()?.parse().ok()?,
        t.next()?.parse().ok()?,
        t.next()?.parse().ok()?,
    );
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days as f64 * 86_400.0 + hh * 3600.0 + mm * 60.0 + ss - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tar_roundtrip() {
        let tar = single_file(".kollars-config-hash", b"abc123");
        assert_eq!(tar.len() % 512, 0);
        assert_eq!(read_single_file(&tar).unwrap(), b"abc123");
    }

    #[test]
    fn rfc3339() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0.0));
        let a = parse_rfc3339("2024-05-01T12:34:56.5Z").unwrap();
        assert_eq!(a, 1_714_566_896.5);
        assert_eq!(parse_rfc3339("2024-05-01T14:34:56.5+02:00"), Some(a));
        assert!(parse_rfc3339("0001-01-01T00:00:00Z").unwrap() < 0.0);
        assert!(parse_rfc3339("garbage").is_none());
    }
}
