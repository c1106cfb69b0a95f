//! Tencent Cloud SMS (`sms.tencentcloudapi.com`, `SendSms`, version 2021-01-11), API 3.0 signed
//! with TC3-HMAC-SHA256 (Tencent's "Signature v3" document):
//!
//! 1. the canonical request: method, `/`, the query (empty for POST), the signed headers as
//!    `name:value` lines in lower case, their names joined by `;`, and the hex SHA-256 of the
//!    body;
//! 2. the string to sign: `TC3-HMAC-SHA256`, the Unix timestamp, the credential scope
//!    `date/service/tc3_request` (the UTC date of the timestamp), the hex SHA-256 of step 1;
//! 3. the key: HMAC-SHA256 chained over `"TC3" + secret`, the date, the service and
//!    `tc3_request`; the signature is the hex HMAC of step 2 under it.

use crate::message::{TemplateMessage, Verdict};
use gridmate_model::hex::encode as hex;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The endpoint of the SMS API.
pub const HOST: &str = "sms.tencentcloudapi.com";

/// The content type every JSON call is signed and sent with.
pub const CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// A SecretId/SecretKey pair.
#[derive(Clone)]
pub struct Credentials {
    pub secret_id: String,
    pub secret_key: String,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The UTC date (`2019-02-25`) of a Unix timestamp: the credential scope's date.
pub fn date_of(timestamp: i64) -> String {
    chrono::DateTime::from_timestamp(timestamp, 0)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// A POST of a JSON body, signing `content-type` and `host` as the documentation's example does.
pub fn canonical_request(host: &str, payload: &str) -> String {
    format!(
        "POST\n/\n\ncontent-type:{CONTENT_TYPE}\nhost:{host}\n\ncontent-type;host\n{}",
        sha256_hex(payload.as_bytes())
    )
}

pub fn string_to_sign(timestamp: i64, service: &str, canonical_request: &str) -> String {
    format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{}/{service}/tc3_request\n{}",
        date_of(timestamp),
        sha256_hex(canonical_request.as_bytes())
    )
}

/// The hex signature of a string to sign.
pub fn signature(secret_key: &str, timestamp: i64, service: &str, string_to_sign: &str) -> String {
    let date = hmac(format!("TC3{secret_key}").as_bytes(), &date_of(timestamp));
    let service = hmac(&date, service);
    let signing = hmac(&service, "tc3_request");
    hex(&hmac(&signing, string_to_sign))
}

/// The `Authorization` header of a JSON POST to `host` for `service` at `timestamp`.
pub fn authorization(
    creds: &Credentials,
    host: &str,
    service: &str,
    payload: &str,
    timestamp: i64,
) -> String {
    let sts = string_to_sign(timestamp, service, &canonical_request(host, payload));
    format!(
        "TC3-HMAC-SHA256 Credential={}/{}/{service}/tc3_request, SignedHeaders=content-type;host, Signature={}",
        creds.secret_id,
        date_of(timestamp),
        signature(&creds.secret_key, timestamp, service, &sts)
    )
}

/// The JSON body of a `SendSms` call for one message. Tencent numbers a template's parameters
/// (`{1}`, `{2}`…), so only their values go, in order; the number takes the `+86` prefix.
/// `session` comes back in the delivery receipt: the outbox's key for the message.
pub fn send_sms_body(app_id: &str, message: &TemplateMessage, session: &str) -> String {
    serde_json::json!({
        "PhoneNumberSet": [format!("+86{}", message.phone)],
        "SmsSdkAppId": app_id,
        "SignName": message.sign_name,
        "TemplateId": message.template,
        "TemplateParamSet": message.params.iter().map(|(_, v)| v).collect::<Vec<_>>(),
        "SessionContext": session,
    })
    .to_string()
}

/// The JSON body of a `PullSmsSendStatusByPhoneNumber` call: the receipts of one number between
/// two Unix times — how the outbox asks whether a message left in doubt by a crash was taken
/// (each receipt carries the `SessionContext` it was sent with).
pub fn pull_status_body(app_id: &str, phone: &str, begin: i64, end: i64) -> String {
    serde_json::json!({
        "BeginTime": begin,
        "EndTime": end,
        "Offset": 0,
        "Limit": 100,
        "PhoneNumber": format!("+86{phone}"),
        "SmsSdkAppId": app_id,
    })
    .to_string()
}

/// Every API 3.0 answer is `{"Response": …}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Envelope<T> {
    pub response: T,
}

/// A call refused as a whole (bad signature, a throttled account…).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CallError {
    pub code: String,
    pub message: String,
}

/// The answer to `SendSms`: one status per number, or the call's error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendAnswer {
    #[serde(default)]
    pub send_status_set: Vec<SendStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<CallError>,
    #[serde(default)]
    pub request_id: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendStatus {
    #[serde(default)]
    pub serial_no: String,
    pub phone_number: String,
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub session_context: String,
}

/// The answer to `PullSmsSendStatusByPhoneNumber`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PullAnswer {
    #[serde(default)]
    pub pull_sms_send_status_set: Vec<Receipt>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<CallError>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Receipt {
    pub phone_number: String,
    #[serde(default)]
    pub session_context: String,
    /// `SUCCESS` or `FAIL`.
    pub report_status: String,
    #[serde(default)]
    pub description: String,
}

/// What a code means (Tencent Cloud SMS's error code list), for a number's status or a call.
pub fn verdict(code: &str) -> Verdict {
    match code {
        "Ok" => Verdict::Taken,
        c if c.starts_with("LimitExceeded")
            || c.starts_with("InternalError")
            || c == "RequestLimitExceeded"
            || c == "FailedOperation.InsufficientBalanceInSmsPackage" =>
        {
            Verdict::Later
        }
        _ => Verdict::Never,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of Tencent Cloud's Signature v3 document: CVM DescribeInstances at
    /// 2019-02-26 00:44:25 (UTC+8), with the document's masked key.
    #[test]
    fn the_documents_example_signs_as_documented() {
        let payload = r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
        let creq = canonical_request("cvm.tencentcloudapi.com", payload);
        assert_eq!(
            creq,
            "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        let sts = string_to_sign(1_551_113_065, "cvm", &creq);
        assert_eq!(
            sts,
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        let creds = Credentials {
            secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******".into(),
            secret_key: "Gu5t9xGARNpq86cd98joQYCN3*******".into(),
        };
        assert_eq!(
            authorization(
                &creds,
                "cvm.tencentcloudapi.com",
                "cvm",
                payload,
                1_551_113_065
            ),
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
        );
    }

    #[test]
    fn the_scopes_date_is_the_timestamps_utc_day() {
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(date_of(1_551_113_065), "2019-02-25");
        assert_eq!(date_of(951_782_400), "2000-02-29");
        assert_eq!(date_of(1_796_601_599), "2026-12-06");
        assert_eq!(date_of(1_796_687_999), "2026-12-07");
        assert_eq!(date_of(-1), "1969-12-31");
    }

    #[test]
    fn a_message_becomes_a_send_sms_body() {
        let m = TemplateMessage {
            phone: "13800000000".into(),
            sign_name: "网格通".into(),
            template: "1234567".into(),
            params: vec![
                ("place".into(), "东门".into()),
                ("minutes".into(), "30".into()),
            ],
        };
        let body: serde_json::Value =
            serde_json::from_str(&send_sms_body("1400000000", &m, "m-1")).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "PhoneNumberSet": ["+8613800000000"], "SmsSdkAppId": "1400000000",
                "SignName": "网格通", "TemplateId": "1234567",
                "TemplateParamSet": ["东门", "30"], "SessionContext": "m-1",
            })
        );
    }
}
