//! Content hashes: a file's sha256 and a service directory's hash over its files' paths,
//! modes and hashes. The driver records the directory hash on each container, so these must
//! stay stable across releases: a changed formula would restart every container once.

use sha2::{Digest, Sha256};

use crate::RenderedFile;

/// sha256 of `bytes`, hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex, as `sha256sum` prints it.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// A service directory's hash: each file's path, mode (octal) and content hash,
/// NUL-separated, in the order given (by path).
pub(crate) fn dir_hash(files: &[RenderedFile]) -> String {
    let mut h = Sha256::new();
    for f in files {
        h.update(f.path.as_bytes());
        h.update([0]);
        h.update(format!("{:o}", f.mode).as_bytes());
        h.update([0]);
        h.update(f.hash.as_bytes());
        h.update([0]);
    }
    hex(&h.finalize())
}
