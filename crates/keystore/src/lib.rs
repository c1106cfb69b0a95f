//! The phone's database key: 256 random bits made on the first start and kept where only this
//! app, on this device, can read them back — so the SQLCipher cache (`gridmate-device`'s
//! `encryption` feature) is unreadable to anyone who copies the files off a lost phone.
//!
//! - **Android** ([`android`], which also finds the app's private files folder): a non-exportable AES-256-GCM key in the Android Keystore
//!   (hardware-backed where the phone has it) wraps the database key; the wrapped 61 bytes are
//!   a file in the app's private folder ([`WrappedKeyFile`]). Copying the file off the phone
//!   gives nothing without the Keystore key, which never leaves the secure hardware.
//! - **iOS** (`ios`, built for iOS only): a Keychain generic-password item, readable after the
//!   first unlock after boot (the sync may run with the screen locked) and never migrated to
//!   another device by a backup (`ThisDeviceOnly`).
//!
//! [`database_key`] is the one rule both share: read the key; if there is none, make one, keep
//! it and read it back before anyone encrypts with it. If the kept key can no longer be read for
//! good (the Keystore key invalidated, the file damaged), the store it encrypted is lost to
//! everyone: a new key is made, and opening the old store fails with `Locked` ("本机数据无法解锁"),
//! which tells the worker to wipe, sign in and sync again (docs/security.md). A refusal that may
//! pass (the Keychain before the first unlock) is an error, never a new key.
//!
//! Built and tested here: that rule and the Android file, with a stand-in wrap in the tests; the
//! Android JNI calls are compiled (type-checked) on every target. Not run here: the Keystore
//! and the Keychain themselves — there is no Android NDK, emulator or Xcode on these machines.
//!
//! Never: print, log or put the key in an error; fall back to a key kept in the clear; make a
//! second key while the first can still be read.

pub mod android;
#[cfg(target_os = "ios")]
pub mod ios;

use std::io::Write;
use std::path::{Path, PathBuf};

/// A 256-bit database key.
pub type Key = [u8; 32];

#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    /// The platform's keystore would not do what was asked (no Keystore provider, the Keychain
    /// locked before the first unlock); the message is the platform's, never the key.
    #[error("the keystore refused: {0}")]
    Refused(String),
    /// What was kept can no longer be turned back into the key.
    #[error("the kept database key cannot be read: {0}")]
    Unreadable(String),
    /// The keystore took the new key but did not give the same back.
    #[error("the keystore did not keep the database key")]
    NotKept,
    #[error("no randomness for a key: {0}")]
    Random(String),
    #[error("keeping the wrapped key: {0}")]
    Io(#[from] std::io::Error),
}

/// Where a platform keeps the key.
pub trait KeyVault {
    /// The key kept, `None` when none has been made yet.
    fn load(&self) -> Result<Option<Key>, KeystoreError>;
    /// Keep `key`, replacing any other.
    fn store(&self, key: &Key) -> Result<(), KeystoreError>;
}

/// The database key from `vault`: the one kept, or a new one, kept and read back first.
pub fn database_key(vault: &dyn KeyVault) -> Result<Key, KeystoreError> {
    match vault.load() {
        Ok(Some(key)) => return Ok(key),
        Ok(None) | Err(KeystoreError::Unreadable(_)) => {}
        Err(e) => return Err(e),
    }
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| KeystoreError::Random(e.to_string()))?;
    vault.store(&key)?;
    // A key that cannot be had back would encrypt a store no one can open again.
    match vault.load() {
        Ok(Some(kept)) if kept == key => Ok(key),
        Ok(_) | Err(KeystoreError::Unreadable(_)) => Err(KeystoreError::NotKept),
        Err(e) => Err(e),
    }
}

/// Encrypts and decrypts the database key with a key the platform never lets out.
pub trait KeyWrap {
    /// `(nonce, ciphertext with its tag)`.
    fn wrap(&self, key: &Key) -> Result<(Vec<u8>, Vec<u8>), KeystoreError>;
    /// `None` when the wrapping key is gone (never made, or invalidated by the system).
    fn unwrap(&self, nonce: &[u8], sealed: &[u8]) -> Result<Option<Key>, KeystoreError>;
}

/// The format version of the wrapped-key file.
const VERSION: u8 = 1;
/// AES-GCM: a 12-byte nonce, and the 32-byte key sealed with a 16-byte tag.
const NONCE: usize = 12;
const SEALED: usize = 32 + 16;

/// The wrapped database key as a file: `[version][nonce: 12][sealed key + tag: 48]`, written to a
/// temporary file, synced and renamed into place, so a crash leaves the old file or the new.
pub struct WrappedKeyFile<W> {
    path: PathBuf,
    wrap: W,
}

impl<W: KeyWrap> WrappedKeyFile<W> {
    pub fn new(dir: &Path, wrap: W) -> Self {
        WrappedKeyFile {
            path: dir.join("database-key.wrapped"),
            wrap,
        }
    }
}

impl<W: KeyWrap> KeyVault for WrappedKeyFile<W> {
    fn load(&self) -> Result<Option<Key>, KeystoreError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if bytes.len() != 1 + NONCE + SEALED || bytes[0] != VERSION {
            return Err(KeystoreError::Unreadable(format!(
                "a wrapped-key file of {} bytes, version {:?}",
                bytes.len(),
                bytes.first()
            )));
        }
        let (nonce, sealed) = bytes[1..].split_at(NONCE);
        match self.wrap.unwrap(nonce, sealed)? {
            Some(key) => Ok(Some(key)),
            None => Err(KeystoreError::Unreadable(
                "the keystore no longer has the wrapping key".into(),
            )),
        }
    }

    fn store(&self, key: &Key) -> Result<(), KeystoreError> {
        let (nonce, sealed) = self.wrap.wrap(key)?;
        if nonce.len() != NONCE || sealed.len() != SEALED {
            return Err(KeystoreError::Refused(format!(
                "the keystore sealed {} + {} bytes, not {NONCE} + {SEALED}",
                nonce.len(),
                sealed.len()
            )));
        }
        let tmp = self.path.with_extension("tmp");
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&[VERSION])?;
            f.write_all(&nonce)?;
            f.write_all(&sealed)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::{Cell, RefCell};

    /// A stand-in for the Keystore's AES-GCM: a keyed XOR with a checksum as the "tag", so a
    /// changed byte is noticed; `lost` plays the system invalidating the wrapping key.
    struct TestWrap {
        secret: u8,
        lost: Cell<bool>,
        wraps: Cell<usize>,
    }

    impl TestWrap {
        fn new(secret: u8) -> Self {
            TestWrap {
                secret,
                lost: Cell::new(false),
                wraps: Cell::new(0),
            }
        }
    }

    impl KeyWrap for &TestWrap {
        fn wrap(&self, key: &Key) -> Result<(Vec<u8>, Vec<u8>), KeystoreError> {
            self.wraps.set(self.wraps.get() + 1);
            let nonce = vec![self.wraps.get() as u8; NONCE];
            let mut sealed: Vec<u8> = key.iter().map(|b| b ^ self.secret ^ nonce[0]).collect();
            let sum: u32 = key.iter().map(|&b| b as u32).sum();
            sealed.extend(sum.to_le_bytes().repeat(4));
            Ok((nonce, sealed))
        }

        fn unwrap(&self, nonce: &[u8], sealed: &[u8]) -> Result<Option<Key>, KeystoreError> {
            if self.lost.get() {
                return Ok(None);
            }
            let mut key = [0u8; 32];
            for (k, s) in key.iter_mut().zip(sealed) {
                *k = s ^ self.secret ^ nonce[0];
            }
            let sum: u32 = key.iter().map(|&b| b as u32).sum();
            if sealed[32..] != sum.to_le_bytes().repeat(4)[..] {
                return Err(KeystoreError::Unreadable("the tag does not match".into()));
            }
            Ok(Some(key))
        }
    }

    #[test]
    fn the_key_is_made_once_and_the_same_key_comes_back_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let wrap = TestWrap::new(0x5a);
        let first = database_key(&WrappedKeyFile::new(dir.path(), &wrap)).unwrap();
        assert_ne!(first, [0u8; 32]);
        // The file holds the key only wrapped.
        let file = std::fs::read(dir.path().join("database-key.wrapped")).unwrap();
        assert_eq!(file.len(), 61);
        assert!(!file.windows(8).any(|w| first.windows(8).any(|k| k == w)));
        // A restart: a new vault over the same folder and keystore.
        let again = database_key(&WrappedKeyFile::new(dir.path(), &wrap)).unwrap();
        assert_eq!(again, first);
        assert_eq!(
            wrap.wraps.get(),
            1,
            "no second key while the first can be read"
        );
        // Another phone (another keystore) with a copy of the file has nothing.
        let thief = TestWrap::new(0x33);
        let stolen = WrappedKeyFile::new(dir.path(), &thief).load();
        assert!(
            matches!(stolen, Err(KeystoreError::Unreadable(_))),
            "{stolen:?}"
        );
    }

    #[test]
    fn a_key_that_can_no_longer_be_read_is_replaced_not_kept_failing() {
        let dir = tempfile::tempdir().unwrap();
        let wrap = TestWrap::new(7);
        let first = database_key(&WrappedKeyFile::new(dir.path(), &wrap)).unwrap();
        wrap.lost.set(true);
        let vault = WrappedKeyFile::new(dir.path(), &wrap);
        assert!(matches!(vault.load(), Err(KeystoreError::Unreadable(_))));
        // A new key is made (the old store is then refused and re-synced); still unreadable,
        // so the new one is not handed out either: it must be read back first.
        assert!(matches!(database_key(&vault), Err(KeystoreError::NotKept)));
        wrap.lost.set(false);
        let second = database_key(&vault).unwrap();
        assert_ne!(second, first);
        // A damaged file is unreadable, and replaced the same way.
        for damage in [vec![], vec![VERSION; 10], {
            let mut f = std::fs::read(dir.path().join("database-key.wrapped")).unwrap();
            f[20] ^= 1;
            f
        }] {
            std::fs::write(dir.path().join("database-key.wrapped"), &damage).unwrap();
            assert!(
                matches!(vault.load(), Err(KeystoreError::Unreadable(_))),
                "{} bytes",
                damage.len()
            );
            let fresh = database_key(&vault).unwrap();
            assert_eq!(vault.load().unwrap(), Some(fresh));
        }
    }

    /// A vault that takes the key and forgets it, or refuses outright.
    struct Forgetful {
        refuse: bool,
        kept: RefCell<Option<Key>>,
    }

    impl KeyVault for Forgetful {
        fn load(&self) -> Result<Option<Key>, KeystoreError> {
            if self.refuse {
                return Err(KeystoreError::Refused("locked before first unlock".into()));
            }
            Ok(self.kept.borrow().map(|mut k| {
                k[0] ^= 1;
                k
            }))
        }
        fn store(&self, key: &Key) -> Result<(), KeystoreError> {
            *self.kept.borrow_mut() = Some(*key);
            Ok(())
        }
    }

    #[test]
    fn a_vault_that_refuses_or_does_not_keep_gives_no_key() {
        let refusing = Forgetful {
            refuse: true,
            kept: RefCell::new(None),
        };
        let e = database_key(&refusing).unwrap_err();
        assert!(matches!(e, KeystoreError::Refused(_)));
        assert!(
            refusing.kept.borrow().is_none(),
            "no key made over a refusal"
        );
        let forgetful = Forgetful {
            refuse: false,
            kept: RefCell::new(None),
        };
        assert!(matches!(
            database_key(&forgetful),
            Err(KeystoreError::NotKept)
        ));
        // Errors never carry the key.
        let key = forgetful.kept.borrow().unwrap();
        let text = format!("{:?} {}", KeystoreError::NotKept, KeystoreError::NotKept);
        assert!(!text.contains(&format!("{:?}", &key[..4])));
    }
}
