//! Gridmate, the app grid workers carry: Dioxus 0.7 screens over the device's offline store.
//!
//! This crate owns the screens and components only. It must never hold SQL or HTTP: every read
//! and write goes through the typed API of `gridmate-device` (on its store thread, so the UI
//! never waits on SQLite, a photo or the network), and the wire format stays in
//! `gridmate-protocol`. Every string shown to users comes from one catalogue ([`i18n`]), in
//! Chinese (the default) and English. The phone's camera, location and connectivity are behind
//! [`platform`].
//!
//! The modules, each importing only those above it in this list (a test checks the graph):
//! - [`i18n`]: the message catalogue, domain labels, errors worded for users;
//! - [`platform`]: what the phone gives beyond the screen;
//! - [`state`]: services, signals, loading, navigation requests — no screen, no widget;
//! - [`widgets`]: pieces screens share (bars, photos, the fix line, the grid map, formats);
//! - [`draft`]: every form's edits saved as drafts and restored after a kill;
//! - [`screens`]: one module per screen, none importing another;
//! - [`shell`]: the root, the router and its layout, the background loops.

pub mod draft;
pub mod i18n;
pub mod platform;
pub mod screens;
pub mod shell;
pub mod state;
pub mod widgets;

/// The stylesheet, embedded so the app needs no asset pipeline to run.
pub const STYLE: &str = include_str!("../assets/main.css");
