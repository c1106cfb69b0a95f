//! The application layer: what the office and the phones may do, as typed operations that both
//! web faces — the JSON API ([`crate::api`]) and the console ([`crate::console`]) — call, so
//! neither imports the other and neither builds a mutation or a query by hand.
//!
//! - [`commands`]: the office's actions on records (assign, send to a department, verify and
//!   close, reopen, record a request, call up, correct a household) as typed protocol payloads,
//!   stamped by the one [`clock`] and pushed through the same rules as a phone's mutation;
//! - [`params`]: a list's or a period's query string, read the same way by both faces;
//! - [`people`], [`limits`], [`imports`]: the office's administration, each audited in the
//!   transaction that makes the change;
//! - [`ledgers`], [`photos`]: files as their readers get them;
//! - [`state`]: [`AppState`], what every handler holds;
//! - [`wake`]: the bell open phones listen to (`GET /sync/wake`): the log's new records' grids.
//!
//! It must never render a page or choose a status code for a face's own errors: it answers
//! typed values and [`crate::error::ApiError`], and each face says them in its own form.

pub mod clock;
pub mod commands;
pub mod imports;
pub mod ledgers;
pub mod limits;
pub mod params;
pub mod people;
pub mod photos;
pub mod state;
pub mod wake;

pub use params::{Params, cookie};
pub use state::AppState;
