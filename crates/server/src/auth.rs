//! Passwords, tokens and the login rate limit.
//!
//! - Passwords are hashed with Argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes), salted
//!   per user; the hash string carries its own parameters so they can be raised later.
//! - A token is 32 random bytes from the OS (256 bits), given to the device once, base64url. Only
//!   its SHA-256 is stored, so a copy of the database opens no session; lookups go by that hash,
//!   so no comparison ever runs over the secret itself.
//! - Failed logins are counted per phone and per client address in a sliding window; past the
//!   limit the answer is 429 with `Retry-After`, whatever the password.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Constant-time within argon2; a malformed stored hash never verifies.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A fresh token for the device, and the hash to store.
pub fn new_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Sliding-window counter of failed logins, by key ("phone:…", "addr:…").
pub struct LoginLimiter {
    window: Duration,
    max_failures: usize,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginLimiter {
    pub fn new(max_failures: usize, window: Duration) -> Self {
        Self {
            window,
            max_failures,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(seconds)` to wait if any of `keys` is over the limit.
    pub fn check(&self, keys: &[String]) -> Option<u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        keys.iter()
            .filter_map(|k| {
                let list = map.get_mut(k)?;
                list.retain(|t| now.duration_since(*t) < self.window);
                (list.len() >= self.max_failures).then(|| {
                    let oldest = list[0];
                    (self.window - now.duration_since(oldest)).as_secs().max(1)
                })
            })
            .max()
    }

    pub fn fail(&self, keys: &[String]) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        // Bounded: an address spraying phones cannot grow the map without limit.
        if map.len() > 100_000 {
            map.retain(|_, v| {
                v.last()
                    .is_some_and(|t| now.duration_since(*t) < self.window)
            });
        }
        for k in keys {
            map.entry(k.clone()).or_default().push(now);
        }
    }

    pub fn succeed(&self, phone_key: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(phone_key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct hors", &h));
        assert!(!verify_password("correct horse", "not a hash"));
        assert_ne!(h, hash_password("correct horse").unwrap(), "salted");
    }

    #[test]
    fn tokens_are_256_bits_and_stored_hashed() {
        let (t, h) = new_token();
        assert_eq!(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&t)
                .unwrap()
                .len(),
            32
        );
        assert_eq!(h, token_hash(&t));
        assert_ne!(new_token().0, t);
    }

    #[test]
    fn the_limiter_blocks_after_the_limit_and_forgets_on_success() {
        let l = LoginLimiter::new(3, Duration::from_secs(60));
        let keys = vec!["phone:1".to_string(), "addr:a".to_string()];
        for _ in 0..3 {
            assert_eq!(l.check(&keys), None);
            l.fail(&keys);
        }
        let wait = l.check(&keys).unwrap();
        assert!((1..=60).contains(&wait));
        l.succeed("phone:1");
        assert!(l.check(&["phone:1".to_string()]).is_none());
        assert!(
            l.check(&["addr:a".to_string()]).is_some(),
            "the address stays counted"
        );
    }
}
