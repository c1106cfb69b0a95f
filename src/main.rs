//! Gridmate, the app grid workers carry: Dioxus 0.7 screens over the device's offline store.
//!
//! This crate owns the screens and components only. It must never hold SQL or HTTP: every read
//! and write goes through the typed API of `gridmate-device`, and the wire format stays in
//! `gridmate-protocol`. Strings shown to users live in [`i18n`] in Chinese (the default) and
//! English.
//!
//! For now it opens the device store (filling it with the demo community on first start, until
//! sign-in and sync exist), and shows the home screen of the signed-in grid worker.

use dioxus::desktop::{Config, LogicalSize, WindowBuilder};
use dioxus::prelude::*;
use gridmate::home::{Home, HomeData};
use gridmate::i18n::Lang;
use std::path::PathBuf;

fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("GRIDMATE_DATA") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("gridmate")
}

fn main() {
    let lang = Lang::from_env();
    let data = match HomeData::open_demo(&data_dir()) {
        Ok(data) => data,
        Err(e) => {
            eprintln!("{}: {e}", lang.t("error.store"));
            std::process::exit(1);
        }
    };
    let window = WindowBuilder::new()
        .with_title("网格通 Gridmate")
        .with_inner_size(LogicalSize::new(390.0, 844.0));
    LaunchBuilder::desktop()
        .with_cfg(Config::new().with_window(window).with_menu(None))
        .with_context(data)
        .with_context(lang)
        .launch(App);
}

#[component]
fn App() -> Element {
    let data = use_context::<HomeData>();
    let lang = use_context::<Lang>();
    rsx! {
        Home { data, lang }
    }
}
