//! The scope digest of a pull page: how a device checks it holds exactly the server's view.
//!
//! Each live record contributes the first 16 bytes of SHA-256 of `"<entity>:<id>:<seq>"` (`id`
//! hyphenated lower-case, `seq` the sequence number the record was last sent at); the digest is
//! the XOR of the contributions, in hex. XOR makes it independent of order and lets the server
//! keep it up to date by folding one record out and in on every write.

use sha2::{Digest as _, Sha256};
use uuid::Uuid;

/// What one record contributes.
pub fn row_hash(entity: &str, id: &Uuid, seq: u64) -> [u8; 16] {
    let h = Sha256::digest(format!("{entity}:{}:{seq}", id.hyphenated()).as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&h[..16]);
    out
}

/// Fold `h` into `acc`, in or out (XOR is its own inverse).
pub fn fold(acc: &mut [u8; 16], h: &[u8]) {
    for (a, b) in acc.iter_mut().zip(h) {
        *a ^= b;
    }
}

/// Count and digest of a set of records.
pub fn scope_digest<'a>(rows: impl IntoIterator<Item = (&'a str, Uuid, u64)>) -> (u64, String) {
    let mut acc = [0u8; 16];
    let mut n = 0;
    for (entity, id, seq) in rows {
        fold(&mut acc, &row_hash(entity, &id, seq));
        n += 1;
    }
    (n, gridmate_model::hex::encode(&acc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_does_not_matter_and_folding_out_undoes_folding_in() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        let one = scope_digest([("household", a, 1), ("resident", b, 2)]);
        let two = scope_digest([("resident", b, 2), ("household", a, 1)]);
        assert_eq!(one, two);
        assert_eq!(scope_digest([]).1, "0".repeat(32));
        let mut acc = [0u8; 16];
        fold(&mut acc, &row_hash("household", &a, 1));
        fold(&mut acc, &row_hash("household", &a, 1));
        assert_eq!(acc, [0u8; 16]);
        assert_ne!(
            scope_digest([("household", a, 1)]),
            scope_digest([("household", a, 2)])
        );
    }
}
