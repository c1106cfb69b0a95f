//! What the courier asks of an SMS provider, and the provider used without credentials.

use crate::logging::mask_numbers;
use gridmate_model::validate::mask_phone;
use std::future::Future;
use std::pin::Pin;
use uuid::Uuid;

/// One message as the courier hands it over.
#[derive(Clone, Copy, Debug)]
pub struct Outgoing<'a> {
    /// The idempotency key: the provider echoes it (Alibaba `OutId`, Tencent `SessionContext`),
    /// and [`SmsProvider::find`] looks it up.
    pub key: Uuid,
    pub phone: &'a str,
    /// The notice, whose approved template the provider's configuration names.
    pub notice: &'a str,
    pub params: &'a [(String, String)],
    pub link: &'a str,
    /// 1 for the first attempt: a request's nonce is the key and the attempt, so a provider that
    /// refuses a replayed nonce (Alibaba, 15 minutes) sees each attempt once.
    pub attempt: u32,
    /// When the message was queued: where a provider's records of it begin.
    pub queued_at_ms: i64,
}

/// A provider's answer to one message.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// Taken, under the provider's reference (Alibaba `BizId`, Tencent `SerialNo`).
    Accepted { reference: String },
    /// Not now: throttled, busy, or not reached. Try again later.
    Busy { words: String },
    /// Never: an invalid number, a template not approved, a signature refused.
    Refused { words: String },
}

pub type Reply<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An SMS provider.
pub trait SmsProvider: Send + Sync {
    /// Its name in the outbox's rows and the console ("aliyun", "tencent", "log").
    fn name(&self) -> &str;
    fn send<'a>(&'a self, m: Outgoing<'a>) -> Reply<'a, Answer>;
    /// After a crash mid-delivery: did the provider take a message with this key? `None` when
    /// it cannot tell (the courier then sends it again).
    fn find<'a>(&'a self, m: Outgoing<'a>) -> Reply<'a, Option<Answer>>;
}

/// The provider of a server without SMS credentials: each message is a line in the server's log
/// (the number masked, and any long number in its parameters) and stays readable in the outbox.
pub struct LogProvider;

impl SmsProvider for LogProvider {
    fn name(&self) -> &str {
        "log"
    }

    fn send<'a>(&'a self, m: Outgoing<'a>) -> Reply<'a, Answer> {
        Box::pin(async move {
            tracing::info!(
                to = %mask_phone(m.phone),
                notice = m.notice,
                params = %mask_numbers(&format!("{:?}", m.params)),
                link = m.link,
                key = %m.key,
                "message (log provider: no SMS is sent)"
            );
            Answer::Accepted {
                reference: format!("log-{}", m.key),
            }
        })
    }

    fn find<'a>(&'a self, _m: Outgoing<'a>) -> Reply<'a, Option<Answer>> {
        // A log line twice is harmless; the log keeps no index to ask.
        Box::pin(async { None })
    }
}
