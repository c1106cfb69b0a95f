//! What the courier asks of an SMS provider, and the provider used without credentials.

use crate::logging::mask_numbers;
use gridmate_model::validate::mask_phone;
use gridmate_sms::{TemplateMessage, Verdict};
use std::collections::BTreeMap;
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

impl Answer {
    /// What a provider's answer code means (`verdict`), with its words and, if taken, the
    /// provider's reference.
    pub fn of(verdict: Verdict, words: String, reference: Option<String>) -> Answer {
        match verdict {
            Verdict::Taken => Answer::Accepted {
                reference: reference.unwrap_or_default(),
            },
            Verdict::Later => Answer::Busy { words },
            Verdict::Never => Answer::Refused { words },
        }
    }
}

/// What every provider account holds: its registered signature name and the approved template
/// of each notice.
pub struct Templates {
    pub sign_name: String,
    /// Notice → approved template code (Alibaba) or id (Tencent).
    pub by_notice: BTreeMap<String, String>,
}

impl Templates {
    /// `m` as a provider takes it; refused when no template is configured for its notice.
    pub fn message(&self, m: &Outgoing<'_>) -> Result<TemplateMessage, Answer> {
        let template = self
            .by_notice
            .get(m.notice)
            .ok_or_else(|| Answer::Refused {
                words: format!("no template configured for {}", m.notice),
            })?;
        Ok(TemplateMessage {
            phone: m.phone.to_string(),
            sign_name: self.sign_name.clone(),
            template: template.clone(),
            params: m.params.to_vec(),
        })
    }
}

/// A provider's answer read as its JSON. A body that is not (a gateway's error page, a 5xx) is
/// the platform failing, said by its status and first words.
pub async fn read_json<T: serde::de::DeserializeOwned>(r: reqwest::Response) -> Result<T, String> {
    let status = r.status();
    let body = r.text().await.map_err(|e| e.to_string())?;
    serde_json::from_str(&body).map_err(|_| {
        format!(
            "HTTP {status}: {}",
            body.chars().take(120).collect::<String>()
        )
    })
}

pub type Reply<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An SMS provider.
pub trait SmsProvider: Send + Sync {
    /// Its name in the outbox's rows and the console ("aliyun", "tencent", "log").
    fn name(&self) -> &str;
    fn send<'a>(&'a self, m: Outgoing<'a>) -> Reply<'a, Answer>;
    /// After a crash mid-delivery: did the provider take a message with this key? `None` when it
    /// did not or cannot tell; either way the courier sends it again.
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
                params = %mask_numbers(&format!("{:?}", logged_params(m.params))),
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

/// A message's parameters as a log line may show them: a sign-in code never (whoever reads the
/// log could sign in as the resident), numbers masked by the caller.
fn logged_params(params: &[(String, String)]) -> Vec<(&str, &str)> {
    params
        .iter()
        .map(|(k, v)| (k.as_str(), if k == "code" { "******" } else { v.as_str() }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_in_code_never_reaches_the_log() {
        let params = vec![
            ("code".to_string(), "482913".to_string()),
            ("number".to_string(), "2026-000123".to_string()),
        ];
        let line = format!("{:?}", logged_params(&params));
        assert!(!line.contains("482913"), "{line}");
        assert!(
            line.contains("2026-000123"),
            "other parameters are kept: {line}"
        );
    }
}
