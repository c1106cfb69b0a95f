//! iOS: the database key as a Keychain generic-password item (service `cn.gridmate.app`,
//! account `database-key`), accessible after the first unlock since boot — the sync may open
//! the store while the phone is locked in a pocket — and `ThisDeviceOnly`, so neither an
//! iCloud Keychain sync nor a backup restored to another phone carries it. The Keychain is
//! itself encrypted by the Secure Enclave; the key never touches the app's files.

use crate::{Key, KeyVault, KeystoreError};
use security_framework::access_control::{ProtectionMode, SecAccessControl};
use security_framework::passwords::{
    PasswordOptions, delete_generic_password_options, generic_password,
    set_generic_password_options,
};

const SERVICE: &str = "cn.gridmate.app";
const ACCOUNT: &str = "database-key";
/// `errSecItemNotFound`.
const NOT_FOUND: i32 = -25300;

pub struct IosKeychain;

fn options() -> PasswordOptions {
    PasswordOptions::new_generic_password(SERVICE, ACCOUNT)
}

impl KeyVault for IosKeychain {
    fn load(&self) -> Result<Option<Key>, KeystoreError> {
        match generic_password(options()) {
            Ok(bytes) => bytes.try_into().map(Some).map_err(|b: Vec<u8>| {
                KeystoreError::Unreadable(format!("a Keychain item of {} bytes", b.len()))
            }),
            Err(e) if e.code() == NOT_FOUND => Ok(None),
            Err(e) => Err(KeystoreError::Refused(format!(
                "Keychain error {}",
                e.code()
            ))),
        }
    }

    fn store(&self, key: &Key) -> Result<(), KeystoreError> {
        // An unreadable item is replaced whole: its access settings may be what was wrong.
        match delete_generic_password_options(options()) {
            Err(e) if e.code() != NOT_FOUND => {
                return Err(KeystoreError::Refused(format!(
                    "Keychain error {}",
                    e.code()
                )));
            }
            _ => {}
        }
        let access = SecAccessControl::create_with_protection(
            Some(ProtectionMode::AccessibleAfterFirstUnlockThisDeviceOnly),
            0,
        )
        .map_err(|e| KeystoreError::Refused(format!("Keychain error {}", e.code())))?;
        let mut o = options();
        o.set_access_control(access);
        set_generic_password_options(key, o)
            .map_err(|e| KeystoreError::Refused(format!("Keychain error {}", e.code())))
    }
}
