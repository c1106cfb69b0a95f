//! Gridmate, the app grid workers carry: Dioxus 0.7 screens over the device's offline store.
//!
//! This crate owns the screens and components only. It must never hold SQL or HTTP: every read
//! and write goes through the typed API of `gridmate-device` (on its store thread, so the UI
//! never waits on SQLite, a photo or the network), and the wire format stays in
//! `gridmate-protocol`. Strings shown to users are in Chinese (the default) and English, side by
//! side ([`i18n`]). The phone's camera, location and connectivity are behind [`platform`].
//!
//! - [`app`]: the shell — services, navigation, tab bar, sync bar, background loops;
//! - [`screens`]: one module per screen, each a pure view plus a loader;
//! - [`widgets`], [`map`]: shared pieces.

pub mod app;
pub mod i18n;
pub mod map;
pub mod platform;
pub mod screens;
pub mod widgets;

/// The stylesheet, embedded so the app needs no asset pipeline to run.
pub const STYLE: &str = include_str!("../assets/main.css");
