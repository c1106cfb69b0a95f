//! Android: the database key wrapped by an AES-256-GCM key that lives in the Android Keystore.
//!
//! The Keystore key (`gridmate-database-wrap`) is made on first use with
//! `KeyGenParameterSpec` — GCM, no padding, 256 bits, encrypt and decrypt only, no user
//! authentication (the sync worker opens the store with the screen off) — and cannot be
//! exported: only `Cipher` operations inside the Keystore use it. The wrapped database key is a
//! [`WrappedKeyFile`] in the app's private files folder ([`files_dir`]), which Android deletes
//! with the Keystore key when the app is uninstalled or its data cleared.
//!
//! All of it is JNI calls to the platform's Java classes, through the `JavaVM` and `Context`
//! the Android activity hands to `ndk-context` at start. Call it only in an Android build: on
//! any other target there is no VM to attach to.

use crate::{Key, KeyWrap, KeystoreError, WrappedKeyFile};
use jni::JNIEnv;
use jni::objects::{JByteArray, JObject, JString, JValue};
use std::path::{Path, PathBuf};

const PROVIDER: &str = "AndroidKeyStore";
const ALIAS: &str = "gridmate-database-wrap";
const TRANSFORMATION: &str = "AES/GCM/NoPadding";
/// `KeyProperties.PURPOSE_ENCRYPT | KeyProperties.PURPOSE_DECRYPT`.
const PURPOSES: i32 = 1 | 2;
/// `Cipher.ENCRYPT_MODE`, `Cipher.DECRYPT_MODE`.
const ENCRYPT: i32 = 1;
const DECRYPT: i32 = 2;
const TAG_BITS: i32 = 128;
/// The exceptions after which the wrapped key can never be unwrapped again.
const LOST: [&str; 3] = [
    "AEADBadTagException",
    "KeyPermanentlyInvalidatedException",
    "UnrecoverableKeyException",
];

/// The Android Keystore's wrapping key, reached through JNI.
pub struct AndroidKeystore;

/// The vault an Android build keeps its database key in: the wrapped key in `files_dir`.
pub fn vault(files_dir: &Path) -> WrappedKeyFile<AndroidKeystore> {
    WrappedKeyFile::new(files_dir, AndroidKeystore)
}

/// The app's private files folder (`Context.getFilesDir()`): where the store and the wrapped
/// key live. Not `$HOME` or the temp folder, which an Android app cannot rely on.
pub fn files_dir() -> Result<PathBuf, KeystoreError> {
    with_env(|env, context| {
        let dir = env
            .call_method(context, "getFilesDir", "()Ljava/io/File;", &[])?
            .l()?;
        let path = env
            .call_method(&dir, "getAbsolutePath", "()Ljava/lang/String;", &[])?
            .l()?;
        let path: String = env.get_string(&JString::from(path))?.into();
        Ok(PathBuf::from(path))
    })
}

/// Run `f` on this thread's JNI environment with the activity's `Context`; a Java exception
/// becomes a [`KeystoreError::Refused`] carrying its class and message, and is cleared.
fn with_env<T>(
    f: impl FnOnce(&mut JNIEnv, &JObject) -> jni::errors::Result<T>,
) -> Result<T, KeystoreError> {
    let ctx = ndk_context::android_context();
    // SAFETY: the pointers are the JavaVM and Context the Android activity registered with
    // ndk-context at start; both live as long as the process.
    let vm = unsafe { jni::JavaVM::from_raw(ctx.vm().cast()) }.map_err(refused)?;
    let mut env = vm.attach_current_thread().map_err(refused)?;
    let context = unsafe { JObject::from_raw(ctx.context().cast()) };
    match f(&mut env, &context) {
        Ok(v) => Ok(v),
        Err(jni::errors::Error::JavaException) => Err(KeystoreError::Refused(
            take_exception(&mut env).unwrap_or_else(|| "a Java exception".into()),
        )),
        Err(e) => Err(refused(e)),
    }
}

fn refused(e: jni::errors::Error) -> KeystoreError {
    KeystoreError::Refused(e.to_string())
}

/// The pending exception's `toString()` (class and message: never key material), cleared.
fn take_exception(env: &mut JNIEnv) -> Option<String> {
    let thrown = env.exception_occurred().ok()?;
    env.exception_clear().ok()?;
    let text = env
        .call_method(&thrown, "toString", "()Ljava/lang/String;", &[])
        .ok()?
        .l()
        .ok()?;
    env.get_string(&JString::from(text)).ok().map(Into::into)
}

/// The Keystore's wrapping key, `None` if it has not been made (or the system dropped it).
fn existing_key<'l>(env: &mut JNIEnv<'l>) -> jni::errors::Result<Option<JObject<'l>>> {
    let provider = env.new_string(PROVIDER)?;
    let store = env
        .call_static_method(
            "java/security/KeyStore",
            "getInstance",
            "(Ljava/lang/String;)Ljava/security/KeyStore;",
            &[JValue::Object(&provider)],
        )?
        .l()?;
    let no_params = JObject::null();
    env.call_method(
        &store,
        "load",
        "(Ljava/security/KeyStore$LoadStoreParameter;)V",
        &[JValue::Object(&no_params)],
    )?;
    let alias = env.new_string(ALIAS)?;
    let no_password = JObject::null();
    let key = env
        .call_method(
            &store,
            "getKey",
            "(Ljava/lang/String;[C)Ljava/security/Key;",
            &[JValue::Object(&alias), JValue::Object(&no_password)],
        )?
        .l()?;
    Ok((!key.is_null()).then_some(key))
}

/// Make the wrapping key in the Keystore.
fn new_key<'l>(env: &mut JNIEnv<'l>) -> jni::errors::Result<JObject<'l>> {
    let alias = env.new_string(ALIAS)?;
    let builder = env.new_object(
        "android/security/keystore/KeyGenParameterSpec$Builder",
        "(Ljava/lang/String;I)V",
        &[JValue::Object(&alias), JValue::Int(PURPOSES)],
    )?;
    let strings = |env: &mut JNIEnv<'l>, s: &str| -> jni::errors::Result<JObject<'l>> {
        let array = env.new_object_array(1, "java/lang/String", JObject::null())?;
        let item = env.new_string(s)?;
        env.set_object_array_element(&array, 0, item)?;
        Ok(array.into())
    };
    let gcm = strings(env, "GCM")?;
    env.call_method(
        &builder,
        "setBlockModes",
        "([Ljava/lang/String;)Landroid/security/keystore/KeyGenParameterSpec$Builder;",
        &[JValue::Object(&gcm)],
    )?;
    let no_padding = strings(env, "NoPadding")?;
    env.call_method(
        &builder,
        "setEncryptionPaddings",
        "([Ljava/lang/String;)Landroid/security/keystore/KeyGenParameterSpec$Builder;",
        &[JValue::Object(&no_padding)],
    )?;
    env.call_method(
        &builder,
        "setKeySize",
        "(I)Landroid/security/keystore/KeyGenParameterSpec$Builder;",
        &[JValue::Int(256)],
    )?;
    let spec = env
        .call_method(
            &builder,
            "build",
            "()Landroid/security/keystore/KeyGenParameterSpec;",
            &[],
        )?
        .l()?;
    let (aes, provider) = (env.new_string("AES")?, env.new_string(PROVIDER)?);
    let generator = env
        .call_static_method(
            "javax/crypto/KeyGenerator",
            "getInstance",
            "(Ljava/lang/String;Ljava/lang/String;)Ljavax/crypto/KeyGenerator;",
            &[JValue::Object(&aes), JValue::Object(&provider)],
        )?
        .l()?;
    env.call_method(
        &generator,
        "init",
        "(Ljava/security/spec/AlgorithmParameterSpec;)V",
        &[JValue::Object(&spec)],
    )?;
    env.call_method(&generator, "generateKey", "()Ljavax/crypto/SecretKey;", &[])?
        .l()
}

fn cipher<'l>(env: &mut JNIEnv<'l>) -> jni::errors::Result<JObject<'l>> {
    let transformation = env.new_string(TRANSFORMATION)?;
    env.call_static_method(
        "javax/crypto/Cipher",
        "getInstance",
        "(Ljava/lang/String;)Ljavax/crypto/Cipher;",
        &[JValue::Object(&transformation)],
    )?
    .l()
}

fn bytes_of(env: &mut JNIEnv, array: JObject) -> jni::errors::Result<Vec<u8>> {
    env.convert_byte_array(JByteArray::from(array))
}

impl KeyWrap for AndroidKeystore {
    fn wrap(&self, key: &Key) -> Result<(Vec<u8>, Vec<u8>), KeystoreError> {
        with_env(|env, _| {
            let wrapping = match existing_key(env)? {
                Some(k) => k,
                None => new_key(env)?,
            };
            let c = cipher(env)?;
            // The Keystore picks the nonce itself (callers may not choose one): read it back.
            env.call_method(
                &c,
                "init",
                "(ILjava/security/Key;)V",
                &[JValue::Int(ENCRYPT), JValue::Object(&wrapping)],
            )?;
            let nonce = env.call_method(&c, "getIV", "()[B", &[])?.l()?;
            let nonce = bytes_of(env, nonce)?;
            let plain = env.byte_array_from_slice(key)?;
            let sealed = env
                .call_method(&c, "doFinal", "([B)[B", &[JValue::Object(&plain)])?
                .l()?;
            let sealed = bytes_of(env, sealed)?;
            Ok((nonce, sealed))
        })
    }

    fn unwrap(&self, nonce: &[u8], sealed: &[u8]) -> Result<Option<Key>, KeystoreError> {
        let plain = with_env(|env, _| {
            let Some(wrapping) = existing_key(env)? else {
                return Ok(None);
            };
            let iv = env.byte_array_from_slice(nonce)?;
            let spec = env.new_object(
                "javax/crypto/spec/GCMParameterSpec",
                "(I[B)V",
                &[JValue::Int(TAG_BITS), JValue::Object(&iv)],
            )?;
            let c = cipher(env)?;
            env.call_method(
                &c,
                "init",
                "(ILjava/security/Key;Ljava/security/spec/AlgorithmParameterSpec;)V",
                &[
                    JValue::Int(DECRYPT),
                    JValue::Object(&wrapping),
                    JValue::Object(&spec),
                ],
            )?;
            let input = env.byte_array_from_slice(sealed)?;
            let out = env
                .call_method(&c, "doFinal", "([B)[B", &[JValue::Object(&input)])?
                .l()?;
            bytes_of(env, out).map(Some)
        })
        // A tag that does not verify, or a key the system invalidated or cannot recover, means
        // what is kept is lost for good; any other refusal (the Keystore service busy) is not,
        // and must not cost the worker a store that may still hold unsent records.
        .map_err(|e| match e {
            KeystoreError::Refused(why) if LOST.iter().any(|c| why.contains(c)) => {
                KeystoreError::Unreadable(why)
            }
            other => other,
        })?;
        match plain {
            None => Ok(None),
            Some(bytes) => bytes.try_into().map(Some).map_err(|b: Vec<u8>| {
                KeystoreError::Unreadable(format!("{} bytes unwrapped, not 32", b.len()))
            }),
        }
    }
}
