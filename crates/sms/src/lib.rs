//! The SMS providers' wire protocols: how a text message is asked of Alibaba Cloud SMS
//! (`SendSms`, RPC style, signature v1 with HMAC-SHA1) and of Tencent Cloud SMS (`SendSms`, API
//! 3.0, TC3-HMAC-SHA256), request signing included, each tested against the worked examples in
//! the provider's own documentation.
//!
//! China's rules shape what can be sent: a message is an approved template (a code the provider
//! has reviewed) with named parameters and a registered signature name (签名), never free text.
//! So a [`TemplateMessage`] is all this crate sends.
//!
//! This crate owns the bytes of a request and nothing else. It never opens a connection, reads a
//! clock or a random source (timestamps and nonces are arguments, so a request is reproducible
//! in a test), decides when or whether to send, or sees anything but the one message it is
//! given: the outbox, retries, quiet hours and delivery state belong to the server.

pub mod aliyun;
mod message;
pub mod tencent;

pub use message::{TemplateMessage, Verdict};
