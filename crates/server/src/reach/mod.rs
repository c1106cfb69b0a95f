//! Reaching people: the outbox's messages delivered through an SMS provider.
//!
//! [`Courier`] is the worker: it claims due messages from the outbox (`store::outbox`, which
//! owns the rules of when), hands each to the [`SmsProvider`] with the message id as the
//! provider's idempotency key, and settles the answer. Every server process runs one; the
//! outbox's claims make each message one courier's at a time.
//!
//! The adapters speak each provider's real protocol ([`Aliyun`]: `SendSms` and
//! `QuerySendDetails`; [`Tencent`]: `SendSms` and `PullSmsSendStatusByPhoneNumber`, whose
//! receipts come seconds after delivery, so a message in doubt for less than that may be sent
//! twice), configured by [`SmsConfig`]. Without credentials the server sends through
//! [`LogProvider`]: a line in the server's log (the
//! number masked) and the message's row in the outbox, which the console reads; the server says
//! so when it starts.
//!
//! This module never decides who is told what (`apply::notices` does, in the fact's
//! transaction, and `apply::sweep` for what time sets off, which the courier runs each minute)
//! nor when (`store::outbox`).

mod aliyun;
mod config;
mod courier;
mod provider;
mod tencent;

pub use aliyun::Aliyun;
pub use config::{ConfigError, SmsConfig};
pub use courier::{BATCH, Courier, IDLE_POLL, SWEEP_EVERY};
pub use provider::{Answer, LogProvider, Outgoing, Reply, SmsProvider, Templates};
pub use tencent::Tencent;
