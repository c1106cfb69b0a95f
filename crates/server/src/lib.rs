//! gridmate-server: the central service every Gridmate device syncs with, implementing
//! `shared/PROTOCOL.md` v1 (routes, status codes, error body, idempotency, scope, 426).
//!
//! It owns:
//! - [`api`]: the axum routes, extractors (bearer principal, JSON with protocol errors) and
//!   handlers; errors are [`error::ApiError`] rendered as `{"error": {code, message}}`;
//! - [`store::ServerStore`]: the storage boundary handlers use, implemented for SQLite in
//!   [`sqlite`] (a PostgreSQL backend implements the same trait);
//! - [`apply`]: the rules of pushed mutations (idempotency, scope, issue state machine replay,
//!   per-field last-writer-wins with a conflict log), written against a small transaction trait;
//! - [`auth`]: Argon2id passwords, hashed 256-bit tokens, the login rate limit;
//! - [`demo`]: seeding the demo community and one account per role.
//!
//! It must never trust a device: every mutation is validated and scope-checked here, whatever
//! the app checked already; it never logs phone numbers, passwords or tokens, and never lets a
//! panic or a stack trace reach a client.

pub mod api;
pub mod apply;
pub mod auth;
pub mod demo;
pub mod error;
pub mod import;
pub mod openapi;
pub mod sqlite;
pub mod store;
