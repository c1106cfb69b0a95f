//! Fuzz targets for every decoder of input from outside: the server's push decoder, the device's
//! pull-page decoder and applier, the CSV and GeoJSON imports, address parsing, and the photo
//! pipeline.
//!
//! Each target takes bytes, must never panic, and checks the invariant its decoder promises
//! (a decoded mutation survives a round trip; a refused page or import changes nothing; a photo
//! that comes out is a bounded JPEG). The engine in [`engine`] mutates the corpus under
//! `fuzz/corpus/TARGET/` for a bounded time on stable Rust — no nightly, no sanitizer runtime —
//! and saves any input that breaks a target under `fuzz/crashes/`. `cargo test` replays every
//! corpus file, so a fixed crash stays fixed.
//!
//! It must never weaken a target to make it pass: a panic here is a bug in the decoder.

pub mod engine;
pub mod seeds;
pub mod targets;

pub use targets::{TARGETS, Target};
