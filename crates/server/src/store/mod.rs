//! The storage boundary, in two layers.
//!
//! **Above**: [`ServerStore`], what handlers may ask in domain terms (a session, a pull page, a
//! push). It is implemented once, for every backend, by composing the policy modules:
//! - [`scope`]: who sees and who may edit which record, and what is redacted for whom;
//! - [`log`]: the record log: how sequence numbers are allocated, how a record is written or
//!   tombstoned, how the per-grid digests follow, how old tombstones are purged;
//! - [`feed`]: a pull page: the resync rule, the first load's snapshot head, paging, the scope's
//!   count and digest;
//! - [`sessions`]: a bearer token to a [`Principal`]; [`limiter`]: the login limit;
//! - [`admin`]: users, assignments, passwords and revocation, as the command line and the office
//!   change them, with the office's audit log;
//! - [`office`]: what the office reads: the board's lists, timelines, people, statistics;
//! - [`limits`]: the office's time limits per issue category and severity;
//! - [`outbox`]: the messages the server sends: queued with the fact that caused them, quiet
//!   hours, the daily cap, claims by one worker at a time, retries with backoff;
//! - [`crate::apply`]: the rules of pushed mutations (a backend's `push` calls them; the store
//!   modules never do).
//!
//! **Below**: [`ReadTx`] and [`WriteTx`], the rows one transaction reads and writes, and
//! [`Backend`], how a backend runs a transaction. A backend (SQLite in [`crate::sqlite`]) says
//! only how to read and write rows; it decides nothing. atuin splits its server database from its
//! backends the same way.
//!
//! The files say which is which: `rows.rs` (row types and the [`Principal`] they carry, from
//! `principal.rs`) and `transaction.rs` (the three traits, which name [`scope::Scope`]) are the
//! bottom; the policy modules import them; `operations.rs` ([`ServerStore`]) composes the
//! policy modules and nothing imports it back. This file only declares and re-exports, so no
//! module reaches the others through it in a circle (`tests/module_graph.rs` keeps it so).
//!
//! The row traits are synchronous: the rules call them many times per mutation and SQLite answers
//! in microseconds, so each transaction runs on one blocking thread. A backend over an async
//! driver runs its transaction on a blocking thread too and waits on the driver there.

pub mod admin;
mod error;
pub mod facts;
pub mod feed;
pub mod field;
pub(crate) mod group;
pub mod limiter;
pub mod limits;
pub mod log;
pub mod office;
mod operations;
pub mod outbox;
mod principal;
pub mod public_board;
pub mod residents;
pub mod roll;
mod rows;
pub mod scope;
pub mod sessions;
mod transaction;
pub mod trigger_keys;

pub use error::{Result, StoreError};
pub use operations::ServerStore;
pub use principal::Principal;
pub use rows::{
    AssignmentRow, AuditRow, ConflictEntry, ConflictRow, DeviceRow, FeedRow, GridDigest, LogRow,
    MessageFilter, MessageRow, MessageSettlement, MessageState, NewSession, OutcomeRow, PlacedRow,
    PriorOutcome, PullCursor, PullOutcome, PullRefusal, PutRecord, ResidentAccountRow,
    ResidentCodeRow, ResidentSessionRow, SessionLookup, SessionRow, StoredRecord, UserRow,
};
pub use transaction::{Backend, ReadTx, STREAM_PAGE, WriteTx};
