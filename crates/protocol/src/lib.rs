//! The wire types of the Gridmate sync contract (`shared/PROTOCOL.md`, version 1), with serde.
//!
//! This crate is the only place JSON shapes are defined: the device's sync client and the server
//! both speak through these types, so they cannot drift apart. It owns:
//! - the envelopes: [`LoginRequest`]/[`LoginResponse`], [`PullPage`]/[`Change`],
//!   [`PushRequest`]/[`Mutation`]/[`PushResponse`], [`ErrorBody`], [`Health`];
//! - the typed payloads of each mutation kind ([`MutationPayload`]) and each pulled entity
//!   ([`records`]), and their validation against the domain rules of `gridmate-model`.
//!
//! Envelopes decode leniently where the contract says a record "may carry more fields" and
//! strictly where a bad value must be rejected: an unknown mutation kind or a payload that fails
//! validation is an error for that one mutation ([`PayloadError`]), never for the whole batch.
//!
//! It must never do I/O, and it holds no business logic beyond "is this well-formed and valid".

pub mod digest;
pub mod envelope;
pub mod mutations;
pub mod photo;
pub mod records;

pub use envelope::*;
pub use mutations::*;

/// The protocol version this crate speaks, sent as the `Gridmate-Protocol` header.
pub const PROTOCOL_VERSION: u32 = 1;
pub const PROTOCOL_HEADER: &str = "Gridmate-Protocol";
/// Base path of every route.
pub const API_BASE: &str = "/api/v1";
/// Largest push batch the server accepts.
pub const MAX_PUSH_BATCH: usize = 500;
/// Default and largest pull page.
pub const DEFAULT_PULL_LIMIT: u32 = 1000;
pub const MAX_PULL_LIMIT: u32 = 5000;

/// The cursor that resumes the feed just after `seq` in scope epoch `epoch`: `"<epoch>.<seq>"`.
/// Cursors are otherwise opaque; this one form is part of the contract so that a device whose
/// digest disagrees can re-pull a range (everything after `seq`) instead of the whole scope.
pub fn cursor_after(epoch: u64, seq: u64) -> String {
    format!("{epoch}.{seq}")
}
