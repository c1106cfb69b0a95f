//! Reaching people: the outbox's messages delivered through an SMS provider.
//!
//! [`Courier`] is the worker: it claims due messages from the outbox (`store::outbox`, which
//! owns the rules of when), hands each to the [`SmsProvider`] with the message id as the
//! provider's idempotency key, and settles the answer. Every server process runs one; the
//! outbox's claims make each message one courier's at a time.
//!
//! Without credentials the server sends through [`LogProvider`]: a line in the server's log (the
//! number masked) and the message's row in the outbox, which the console reads; the server says
//! so when it starts.
//!
//! This module never decides who is told what (`apply::notices` does, in the fact's
//! transaction) nor when (`store::outbox`).

mod courier;
mod provider;

pub use courier::{BATCH, Courier, IDLE_POLL};
pub use provider::{Answer, LogProvider, Outgoing, SmsProvider};
