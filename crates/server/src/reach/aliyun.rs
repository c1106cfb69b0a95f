//! Alibaba Cloud SMS over HTTPS: `SendSms` and, for a message in doubt, `QuerySendDetails`,
//! each a signed GET (`gridmate_sms::aliyun` builds and signs the query).

use super::provider::{Answer, Outgoing, Reply, SmsProvider};
use chrono::{DateTime, Duration, Utc};
use gridmate_model::calendar::china;
use gridmate_sms::aliyun::{self, Credentials, DetailsAnswer, SendAnswer};
use gridmate_sms::{TemplateMessage, Verdict};
use std::collections::BTreeMap;

pub struct Aliyun {
    pub http: reqwest::Client,
    /// `gridmate_sms::aliyun::ENDPOINT`, or a stand-in's.
    pub endpoint: String,
    pub creds: Credentials,
    pub sign_name: String,
    /// Notice → approved template code.
    pub templates: BTreeMap<String, String>,
}

impl Aliyun {
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        params: &BTreeMap<String, String>,
    ) -> Result<T, String> {
        let url = format!(
            "{}?{}",
            self.endpoint,
            aliyun::signed_query(params, &self.creds.access_key_secret)
        );
        let r = self.http.get(url).send().await.map_err(|e| e.to_string())?;
        let status = r.status();
        let body = r.text().await.map_err(|e| e.to_string())?;
        // Alibaba answers a refused call with a 4xx and the same JSON body; a 5xx or a body
        // that is not its JSON is the platform failing.
        serde_json::from_str(&body).map_err(|_| {
            format!(
                "HTTP {status}: {}",
                body.chars().take(120).collect::<String>()
            )
        })
    }
}

fn timestamp(now: DateTime<Utc>) -> String {
    now.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl SmsProvider for Aliyun {
    fn name(&self) -> &str {
        "aliyun"
    }

    fn send<'a>(&'a self, m: Outgoing<'a>) -> Reply<'a, Answer> {
        Box::pin(async move {
            let Some(template) = self.templates.get(m.notice) else {
                return Answer::Refused {
                    words: format!("no template configured for {}", m.notice),
                };
            };
            let message = TemplateMessage {
                phone: m.phone.to_string(),
                sign_name: self.sign_name.clone(),
                template: template.clone(),
                params: m.params.to_vec(),
            };
            let params = aliyun::send_sms_params(
                &self.creds,
                &message,
                &m.key.to_string(),
                &format!("{}-{}", m.key, m.attempt),
                &timestamp(Utc::now()),
            );
            match self.call::<SendAnswer>(&params).await {
                Err(words) => Answer::Busy { words },
                Ok(a) => {
                    let words = format!("{}: {}", a.code, a.message);
                    match aliyun::verdict(&a.code) {
                        Verdict::Taken => Answer::Accepted {
                            reference: a.biz_id.unwrap_or_default(),
                        },
                        Verdict::Later => Answer::Busy { words },
                        Verdict::Never => Answer::Refused { words },
                    }
                }
            }
        })
    }

    fn find<'a>(&'a self, m: Outgoing<'a>) -> Reply<'a, Option<Answer>> {
        Box::pin(async move {
            let queued = DateTime::from_timestamp_millis(m.queued_at_ms).unwrap_or_else(Utc::now);
            // The China days from the queueing to now (a lease is a minute: one or two).
            let mut day = queued.with_timezone(&china()).date_naive();
            let today = Utc::now().with_timezone(&china()).date_naive();
            while day <= today {
                let params = aliyun::query_send_details_params(
                    &self.creds,
                    m.phone,
                    &day.format("%Y%m%d").to_string(),
                    &format!("{}-find-{}", m.key, m.attempt),
                    &timestamp(Utc::now()),
                );
                let answer = self.call::<DetailsAnswer>(&params).await.ok()?;
                if aliyun::verdict(&answer.code) != Verdict::Taken {
                    return None;
                }
                let key = m.key.to_string();
                if let Some(found) = answer
                    .details
                    .items
                    .iter()
                    .find(|d| d.out_id.as_deref() == Some(key.as_str()))
                {
                    return Some(Answer::Accepted {
                        reference: format!("OutId {key} ({})", found.err_code),
                    });
                }
                day += Duration::days(1);
            }
            Some(Answer::Busy {
                words: "not among the number's messages".into(),
            })
        })
    }
}
