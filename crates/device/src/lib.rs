//! The phone's side of Gridmate, without any UI: the offline store, the outbox, and the photo
//! pipeline.
//!
//! The app reads and writes only this store (PROTOCOL.md, principle 1: local first). It owns:
//! - [`Store`]: one SQLite file (WAL, foreign keys, one writer) whose schema is the numbered SQL
//!   files of the workspace's `migrations/`, embedded at build time and applied in order
//!   ([`migrate`]);
//! - the typed read API the screens call ([`Store::home`], [`Store::search`],
//!   [`Store::due_visits`], [`Store::coverage`], ...): no SQL exists outside this crate;
//! - the write API ([`Store::record_visit`], [`Store::report_issue`], ...): every user action is
//!   ONE transaction that writes the record and its outbox mutation, so a killed process leaves
//!   both or neither ([`outbox`]);
//! - the photo pipeline ([`photos`]): upright, ≤ 1600 px JPEG without EXIF, named by SHA-256,
//!   with a thumbnail, refusing truncated files, non-images and decompression bombs.
//!
//! - [`StoreThread`]: the store on its own thread, so a screen never waits on SQLite or a photo.
//!
//! It must never draw UI, and never block on the network inside a transaction. The sync client
//! (which moves the outbox up and changes down) builds on this crate.

mod basemaps;
mod cache;
mod callups;
mod columns;
mod commitments;
mod due;
pub mod encryption;
mod error;
mod ledger;
pub mod migrate;
mod orders;
pub mod outbox;
mod patrols;
pub mod photos;
mod queries;
mod replica;
mod reports;
mod residents;
mod search;
pub use gridmate_model::search_keys;
mod store;
pub mod sync;
mod thread;
mod time;
mod wake;
mod writes;

pub use cache::{LoadStats, ScopeData};
pub use callups::CallupCard;
pub use error::DeviceError;
pub use ledger::*;
pub use orders::*;
pub use patrols::ActivePatrol;
pub use queries::*;
pub use replica::PageOutcome;
pub use reports::{NewReport, SAME_PROBLEM_RADIUS_M};
pub use residents::{NewHousehold, NewResident, ResidentPatch};
pub use search::{SearchHit, SearchMatch};
pub use store::{DATABASE_FILE, Session, Store};
pub use thread::{StoreGone, StoreThread};
pub use writes::*;

pub type Result<T, E = DeviceError> = std::result::Result<T, E>;
