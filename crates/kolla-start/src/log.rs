//! Log lines on stderr in kolla's format: `YYYY-mm-dd HH:MM:SS.mmm LEVEL message` (UTC).
//!
//! Operators and kolla-ansible (which shows `--check` output as the diff) read these texts,
//! so the messages kept from `set_configs.py` keep their wording.

use std::fmt::Display;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

/// Logs at INFO.
pub fn info(msg: impl Display) {
    line("INFO", msg);
}

/// Logs at WARNING.
pub fn warn(msg: impl Display) {
    line("WARNING", msg);
}

/// Logs at ERROR.
pub fn error(msg: impl Display) {
    line("ERROR", msg);
}

fn line(level: &str, msg: impl Display) {
    let text = format!("{} {level} {msg}", timestamp(SystemTime::now()));
    if cfg!(test) {
        // Captured by the test harness.
        eprintln!("{text}");
    } else {
        // A closed stderr must not turn into a panic or a different exit code.
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }
}

/// Formats `t` as `YYYY-mm-dd HH:MM:SS.mmm` in UTC (a static binary has no time zone data).
pub fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, day) = civil_from_days(i64::try_from(days).unwrap_or(0));
    format!(
        "{y:04}-{m:02}-{day:02} {:02}:{:02}:{:02}.{:03}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day), after Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_known_instants() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01 00:00:00.000");
        let t = UNIX_EPOCH + Duration::from_millis(1_709_210_096_789); // 2024-02-29 12:34:56.789
        assert_eq!(timestamp(t), "2024-02-29 12:34:56.789");
        let t = UNIX_EPOCH + Duration::from_secs(4_102_444_799); // 2099-12-31 23:59:59
        assert_eq!(timestamp(t), "2099-12-31 23:59:59.000");
    }
}
