//! What went wrong in a TLS handshake with a `tcp://` engine, said in the operator's terms.
//!
//! Why: rustls and the engine report a refused handshake as `invalid peer certificate:
//! UnknownIssuer` or `received fatal alert: BadCertificate`, which names neither the file to
//! fix nor the reason. The engine's alert does not even say *why* it refused the client
//! certificate (dockerd answers `BadCertificate` for an expired one and for one of another
//! CA alike), so the client certificate's validity dates are read here too (a small DER walk
//! of `cert.pem`: the dates are all that is needed, no X.509 library for it).

use std::path::Path;

/// The operator's reason for a failed handshake, from the error's text (bollard's whole
/// chain) and the cert directory; `None` when the failure is not a TLS one.
pub(crate) fn diagnose(chain: &str, cert_dir: &Path, now: i64) -> Option<String> {
    let file = |name: &str| cert_dir.join(name).display().to_string();
    if chain.contains("UnknownIssuer") {
        return Some(format!(
            "the engine's certificate is not signed by the CA in {}",
            file("ca.pem")
        ));
    }
    if chain.contains("NotValidForName") {
        return Some(
            "the engine's certificate is not for this address (its subjectAltName must name \
             the endpoint's host)"
                .into(),
        );
    }
    if chain.contains("invalid peer certificate: Expired") {
        return Some("the engine's certificate has expired".into());
    }
    if chain.contains("DecryptError") {
        return Some(format!(
            "the engine could not verify this client's signature: {} is not the key of {}",
            file("key.pem"),
            file("cert.pem")
        ));
    }
    if chain.contains("received fatal alert") {
        let dates = std::fs::read(cert_dir.join("cert.pem"))
            .ok()
            .and_then(|pem| validity(&pem));
        return Some(match dates {
            Some((_, after)) if after < now => format!(
                "the engine refused the client certificate {}: it expired on {} UTC",
                file("cert.pem"),
                utc(after)
            ),
            Some((before, _)) if before > now => format!(
                "the engine refused the client certificate {}: it is valid only from {} UTC",
                file("cert.pem"),
                utc(before)
            ),
            _ => format!(
                "the engine refused the client certificate {} (not signed by a CA the engine \
                 trusts, or not for client authentication)",
                file("cert.pem")
            ),
        });
    }
    None
}

/// (notBefore, notAfter) in unix seconds of the first certificate of a PEM file.
fn validity(pem: &[u8]) -> Option<(i64, i64)> {
    let mut reader = std::io::BufReader::new(pem);
    let der = rustls_pemfile::certs(&mut reader).next()?.ok()?;
    let (_, cert) = der_item(&der, 0x30)?;
    let (_, tbs) = der_item(cert, 0x30)?;
    let mut rest = tbs;
    // version [0] is optional; then serial, signature algorithm, issuer
    if rest.first() == Some(&0xa0) {
        rest = der_item(rest, 0xa0)?.0;
    }
    for tag in [0x02, 0x30, 0x30] {
        rest = der_item(rest, tag)?.0;
    }
    let (_, validity) = der_item(rest, 0x30)?;
    let (after_before, before) = der_time(validity)?;
    let (_, after) = der_time(after_before)?;
    Some((before, after))
}

/// The DER item at the start of `b` with tag `tag`: (what follows it, its contents).
fn der_item(b: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    if *b.first()? != tag {
        return None;
    }
    let first = *b.get(1)? as usize;
    let (len, head) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let len = b
            .get(2..2 + n)?
            .iter()
            .fold(0, |l, x| (l << 8) | *x as usize);
        (len, 2 + n)
    };
    let contents = b.get(head..head + len)?;
    Some((&b[head + len..], contents))
}

/// A UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime (`YYYYMMDDHHMMSSZ`): (rest, unix seconds).
fn der_time(b: &[u8]) -> Option<(&[u8], i64)> {
    let (tag, year_digits) = match b.first()? {
        0x17 => (0x17, 2),
        0x18 => (0x18, 4),
        _ => return None,
    };
    let (rest, t) = der_item(b, tag)?;
    let t = std::str::from_utf8(t).ok()?;
    let num = |s: usize, n: usize| t.get(s..s + n)?.parse::<i64>().ok();
    let mut year = num(0, year_digits)?;
    if year_digits == 2 {
        // RFC 5280: 50-99 are 19xx
        year += if year >= 50 { 1900 } else { 2000 };
    }
    let o = year_digits;
    let (month, day) = (num(o, 2)?, num(o + 2, 2)?);
    let (h, m, s) = (num(o + 4, 2)?, num(o + 6, 2)?, num(o + 8, 2)?);
    let days = days_from_civil(year, month, day);
    Some((rest, days * 86400 + h * 3600 + m * 60 + s))
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD HH:MM:SS` of unix seconds.
fn utc(secs: i64) -> String {
    let days = secs.div_euclid(86400);
    let t = secs.rem_euclid(86400);
    // civil_from_days
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

/// Unix seconds now.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A certificate openssl made, valid 2020-01-01 00:00:00 to 2020-01-02 00:00:00 UTC.
    const EXPIRED: &str = "-----BEGIN CERTIFICATE-----
MIIBmzCCAUKgAwIBAgIBATAKBggqhkjOPQQDAjAgMR4wHAYDVQQDDBVrb2xsYXJz
IHRlc3QgQ0EgMTEyODMwHhcNMjAwMTAxMDAwMDAwWhcNMjAwMTAyMDAwMDAwWjAb
MRkwFwYDVQQDDBBrb2xsYXJzLW9wZXJhdG9yMFkwEwYHKoZIzj0CAQYIKoZIzj0D
AQcDQgAEn1YY3cckbhmq/c+Ib/WntHJNTPDK3iVSxmcWdQyWnn2oXnSn3iUTGtdm
NK3yzx36NRuTGFEP2A3sGbgXRhIyVaNyMHAwEwYDVR0lBAwwCgYIKwYBBQUHAwIw
DgYDVR0PAQH/BAQDAgeAMAkGA1UdEwQCMAAwHQYDVR0OBBYEFJ0TW1bfudg0WieU
gEpT3TmGqdMeMB8GA1UdIwQYMBaAFFfDXdYDMKP6E04r4elQL2gGYJtFMAoGCCqG
SM49BAMCA0cAMEQCIDryKwIiOx7avwz+AILswhikGHAdXQbOeCd/r0ryZUkzAiBc
gFrmEcFh8uM8XD3ioMxcX+Lyjcksl7hPndLGqHDNdg==
-----END CERTIFICATE-----
";

    #[test]
    fn dates_are_read_and_said() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2020, 1, 1), 18262);
        assert_eq!(utc(1_577_836_800), "2020-01-01 00:00:00");
        assert_eq!(utc(1_577_923_200 + 3661), "2020-01-02 01:01:01");
        let t = [
            0x17, 13, b'2', b'0', b'0', b'1', b'0', b'2', b'0', b'0', b'0', b'0', b'0', b'0', b'Z',
        ];
        assert_eq!(der_time(&t).map(|(_, s)| s), Some(1_577_923_200));
        let g = b"\x18\x0f20491231235959Z";
        assert_eq!(
            der_time(g).map(|(_, s)| utc(s)),
            Some("2049-12-31 23:59:59".into())
        );
    }

    #[test]
    fn an_expired_client_certificate_is_said_with_its_date() {
        assert_eq!(
            validity(EXPIRED.as_bytes()),
            Some((1_577_836_800, 1_577_923_200))
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cert.pem"), EXPIRED).unwrap();
        let why = diagnose("received fatal alert: BadCertificate", dir.path(), now()).unwrap();
        assert!(why.contains("expired on 2020-01-02 00:00:00 UTC"), "{why}");
        let early = diagnose("received fatal alert: BadCertificate", dir.path(), 0).unwrap();
        assert!(
            early.contains("valid only from 2020-01-01 00:00:00 UTC"),
            "{early}"
        );
    }

    #[test]
    fn each_handshake_failure_names_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let say = |chain: &str| diagnose(chain, d, 1_700_000_000).unwrap_or_default();
        assert!(say("invalid peer certificate: UnknownIssuer").contains("ca.pem"));
        assert!(say("received fatal alert: DecryptError").contains("key.pem"));
        // no cert.pem to read: the engine's refusal, without dates
        assert!(
            say("received fatal alert: BadCertificate").contains("refused the client certificate")
        );
        assert_eq!(diagnose("Connection refused", d, 0), None);
    }
}
