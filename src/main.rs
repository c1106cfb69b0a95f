//! Gridmate's binary: on Android and iOS the phone app in the system webview; elsewhere the
//! desktop build, the phone app at phone size on Linux, for development, tests and the demo.
//! See the library's docs for what the app may and may not do.
//!
//! Environment: `GRIDMATE_DATA` (the data folder), `GRIDMATE_LANG=en`, `GRIDMATE_LOCATION`
//! and `GRIDMATE_CAMERA_DIR` (see `platform`), and for the demo's "signed in at start"
//! `GRIDMATE_SERVER` + `GRIDMATE_PHONE` + `GRIDMATE_PASSWORD`; `GRIDMATE_DB_KEY` (a build with
//! `--features encryption`) stands in for the keystore's database key.

use dioxus::prelude::*;
use gridmate::i18n::Msg;
use gridmate::platform::Platform;
use gridmate::shell::App;
use gridmate::state::{Services, Startup};
use gridmate_device::StoreThread;
use std::path::PathBuf;
use std::sync::Arc;

fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("GRIDMATE_DATA") {
        return PathBuf::from(dir);
    }
    // An Android app has no $HOME to speak of: its private folder comes from its Context.
    #[cfg(target_os = "android")]
    if let Ok(dir) = gridmate_keystore::android::files_dir() {
        return dir.join("gridmate");
    }
    // iOS: the sandbox's Application Support, kept by the system and out of the user's Files.
    #[cfg(target_os = "ios")]
    if let Some(home) = std::env::var_os("HOME") {
        return PathBuf::from(home).join("Library/Application Support/gridmate");
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("gridmate")
}

fn main() {
    let lang = gridmate::i18n::lang_from_env();
    // On a phone the system webview gives location, camera, connection and dialer; the Linux
    // desktop stands in for one with sensors from the environment (headless runs, no sensors).
    #[cfg(any(target_os = "android", target_os = "ios"))]
    let platform = Arc::new(gridmate::platform::WebviewPlatform::new());
    #[cfg(not(any(target_os = "android", target_os = "ios")))]
    let platform = Arc::new(gridmate::platform::DesktopPlatform::from_env());
    match platform.database_key() {
        Ok(key) => gridmate_device::encryption::set_database_key(key),
        // Opened without its key the store would be taken for another and lost: stop here.
        Err(e) => {
            eprintln!("{}: {e}", lang.t(Msg::ErrorStore));
            std::process::exit(1);
        }
    }
    let store = match StoreThread::open(data_dir()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}: {e}", lang.t(Msg::ErrorStore));
            std::process::exit(1);
        }
    };
    let mut startup = match Startup::read(&store) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}: {e}", lang.t(Msg::ErrorStore));
            std::process::exit(1);
        }
    };
    if std::env::var_os("GRIDMATE_LANG").is_some() {
        startup.lang = Some(lang);
    }
    if startup.session.is_none()
        && let (Ok(server), Ok(phone), Ok(password)) = (
            std::env::var("GRIDMATE_SERVER"),
            std::env::var("GRIDMATE_PHONE"),
            std::env::var("GRIDMATE_PASSWORD"),
        )
    {
        startup.auto_sign_in = Some((server, phone, password));
    }
    let services = Services::new(store, platform);
    launcher()
        .with_context(services)
        .with_context(startup)
        .launch(App);
}

/// The phone's own window: the system webview, full screen.
#[cfg(any(target_os = "android", target_os = "ios"))]
fn launcher() -> LaunchBuilder {
    LaunchBuilder::mobile()
}

/// A window at a phone's size.
#[cfg(not(any(target_os = "android", target_os = "ios")))]
fn launcher() -> LaunchBuilder {
    use dioxus::desktop::{Config, LogicalSize, WindowBuilder};
    let window = WindowBuilder::new()
        .with_title("网格通 Gridmate")
        .with_inner_size(LogicalSize::new(390.0, 844.0));
    LaunchBuilder::desktop().with_cfg(Config::new().with_window(window).with_menu(None))
}
