//! The app's screens and components, as a library so that component tests can render them.
//! See `main.rs` for what this crate may and may not do.

pub mod home;
pub mod i18n;
pub mod map;

/// The stylesheet, embedded so the app needs no asset pipeline to run.
pub const STYLE: &str = include_str!("../assets/main.css");
