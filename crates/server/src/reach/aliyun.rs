//! Alibaba Cloud SMS over HTTPS: `SendSms` and, for a message in doubt, `QuerySendDetails`,
//! each a signed GET (`gridmate_sms::aliyun` builds and signs the query).

use super::provider::{Answer, Outgoing, Reply, SmsProvider, Templates, read_json};
use chrono::{DateTime, Duration, Utc};
use gridmate_model::calendar::china;
use gridmate_sms::Verdict;
use gridmate_sms::aliyun::{self, Credentials, DetailsAnswer, SendAnswer};
use std::collections::BTreeMap;

pub struct Aliyun {
    pub http: reqwest::Client,
    /// `gridmate_sms::aliyun::ENDPOINT`, or a stand-in's.
    pub endpoint: String,
    pub creds: Credentials,
    pub templates: Templates,
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
        // Alibaba answers a refused call with a 4xx and the same JSON body.
        read_json(self.http.get(url).send().await.map_err(|e| e.to_string())?).await
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
            let message = match self.templates.message(&m) {
                Ok(message) => message,
                Err(refused) => return refused,
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
                Ok(a) => Answer::of(
                    aliyun::verdict(&a.code),
                    format!("{}: {}", a.code, a.message),
                    a.biz_id,
                ),
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
            None
        })
    }
}
