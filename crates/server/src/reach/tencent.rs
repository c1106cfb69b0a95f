//! Tencent Cloud SMS over HTTPS (API 3.0): `SendSms` and, for a message in doubt,
//! `PullSmsSendStatusByPhoneNumber`, each a JSON POST signed with TC3-HMAC-SHA256
//! (`gridmate_sms::tencent` builds and signs it).

use super::provider::{Answer, Outgoing, Reply, SmsProvider, Templates, read_json};
use chrono::Utc;
use gridmate_sms::tencent::{self, Credentials, Envelope, PullAnswer, SendAnswer};

/// The API version both calls are made in.
pub const VERSION: &str = "2021-01-11";
pub const REGION: &str = "ap-guangzhou";

pub struct Tencent {
    pub http: reqwest::Client,
    /// `https://sms.tencentcloudapi.com/`, or a stand-in's.
    pub endpoint: String,
    /// The host the request is signed for (`gridmate_sms::tencent::HOST`).
    pub host: String,
    pub creds: Credentials,
    /// The SMS application (`SmsSdkAppId`).
    pub app_id: String,
    pub templates: Templates,
}

impl Tencent {
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        action: &str,
        payload: String,
    ) -> Result<T, String> {
        let now = Utc::now().timestamp();
        let authorization = tencent::authorization(&self.creds, &self.host, "sms", &payload, now);
        let r = self
            .http
            .post(&self.endpoint)
            .header("authorization", authorization)
            .header("content-type", tencent::CONTENT_TYPE)
            .header("host", &self.host)
            .header("x-tc-action", action)
            .header("x-tc-timestamp", now.to_string())
            .header("x-tc-version", VERSION)
            .header("x-tc-region", REGION)
            .body(payload)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        read_json::<Envelope<T>>(r).await.map(|e| e.response)
    }
}

impl SmsProvider for Tencent {
    fn name(&self) -> &str {
        "tencent"
    }

    fn send<'a>(&'a self, m: Outgoing<'a>) -> Reply<'a, Answer> {
        Box::pin(async move {
            let message = match self.templates.message(&m) {
                Ok(message) => message,
                Err(refused) => return refused,
            };
            let body = tencent::send_sms_body(&self.app_id, &message, &m.key.to_string());
            let answer = match self.call::<SendAnswer>("SendSms", body).await {
                Err(words) => return Answer::Busy { words },
                Ok(a) => a,
            };
            // The call's own error, else the one number's status.
            let (code, words, reference) = match (answer.error, answer.send_status_set.first()) {
                (Some(e), _) => (e.code.clone(), format!("{}: {}", e.code, e.message), None),
                (None, Some(s)) => (
                    s.code.clone(),
                    format!("{}: {}", s.code, s.message),
                    Some(s.serial_no.clone()),
                ),
                (None, None) => {
                    return Answer::Busy {
                        words: "an answer without a status".into(),
                    };
                }
            };
            Answer::of(tencent::verdict(&code), words, reference)
        })
    }

    fn find<'a>(&'a self, m: Outgoing<'a>) -> Reply<'a, Option<Answer>> {
        Box::pin(async move {
            let begin = m.queued_at_ms / 1000 - 60;
            let body = tencent::pull_status_body(
                &self.app_id,
                m.phone,
                begin,
                Utc::now().timestamp() + 60,
            );
            let answer = self
                .call::<PullAnswer>("PullSmsSendStatusByPhoneNumber", body)
                .await
                .ok()?;
            if answer.error.is_some() {
                return None;
            }
            let key = m.key.to_string();
            let found = answer
                .pull_sms_send_status_set
                .iter()
                .find(|r| r.session_context == key)?;
            Some(Answer::Accepted {
                reference: format!("SessionContext {key} ({})", found.report_status),
            })
        })
    }
}
