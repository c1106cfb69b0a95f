//! gridmate-server: the central service every Gridmate device syncs with, implementing
//! `shared/PROTOCOL.md` v1 (routes, status codes, error body, idempotency, scope, 426).
//!
//! It owns, in layers (each module imports only those listed before it; `tests/module_graph.rs`
//! keeps it so, and ARCHITECTURE.md draws them):
//! - [`app`]: what the two web faces share — [`app::AppState`], the office's typed commands
//!   ([`app::commands`]: built with the protocol's types, stamped by one HLC clock, pushed
//!   through the one write path), people, imports, ledgers, time limits, photos;
//! - [`api`]: the axum routes, extractors (bearer principal, JSON with protocol errors) and
//!   handlers; errors are [`error::ApiError`] rendered as `{"error": {code, message}}`; it never
//!   imports the console, nor the console it;
//! - [`routes`]: the top router (the API under `/api/v1`, the console, `/metrics`);
//! - [`store`]: the storage boundary: [`store::ServerStore`] for handlers, the backend-neutral
//!   policies (scope and redaction, the record log and its sequence numbers, the pull feed,
//!   sessions, administration) and the row traits a backend implements;
//! - [`sqlite`]: the default backend, which only says how to read and write rows in SQL;
//!   [`postgres`] the same for a city's PostgreSQL, shared by several server processes;
//! - [`apply`]: the rules of pushed mutations (idempotency, scope, issue state machine replay,
//!   per-field last-writer-wins with a conflict log), written against the row traits;
//! - [`console`]: the office console at `/console/` (server-rendered HTML, cookie sessions,
//!   CSRF-checked forms); its reads are [`store::office`]'s, its writes [`app::commands`];
//!   [`ledger`]: the ledgers (台账) as XLSX and CSV, in the reader's language;
//! - [`auth`]: Argon2id passwords, hashed 256-bit tokens, the login rate limit;
//! - [`demo`]: seeding the demo community and one account per role.
//!
//! It must never trust a device: every mutation is validated and scope-checked here, whatever
//! the app checked already; it never logs phone numbers, passwords or tokens, and never lets a
//! panic or a stack trace reach a client.

pub mod api;
pub mod app;
pub mod apply;
pub mod auth;
pub mod blobs;
pub mod body_limit;
pub mod console;
pub mod database;
pub mod demo;
pub mod error;
pub mod import;
pub mod ledger;
pub mod logging;
pub mod metrics;
pub mod openapi;
pub mod postgres;
pub mod proxy;
pub mod reach;
pub mod resident;
pub mod routes;
pub mod sqlite;
pub mod store;
