//! Alibaba Cloud SMS (`dysmsapi.aliyuncs.com`, `SendSms`, version 2017-05-25), RPC style.
//!
//! The signature (signature version 1.0, per Alibaba's "RPC API signature" document): every
//! parameter but `Signature`, sorted by name, each name and value percent-encoded by the POP
//! rules ([`percent_encode`]), joined as `k=v&…`; the string to sign is
//! `METHOD&%2F&` + that query percent-encoded once more; the signature is
//! `base64(HMAC-SHA1(secret + "&", string))`.

use crate::message::{TemplateMessage, Verdict};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The endpoint every region's SMS is sent through.
pub const ENDPOINT: &str = "https://dysmsapi.aliyuncs.com/";

/// An AccessKey pair.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub access_key_secret: String,
}

/// Percent-encoding as Alibaba's POP signs it: RFC 3986's unreserved characters
/// (`A–Z a–z 0–9 - _ . ~`) stay, every other byte of the UTF-8 is `%XX` in upper case — so a
/// space is `%20` (never `+`), `*` is `%2A` and `~` stays.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The sorted, encoded query of the parameters (`Signature` left out).
pub fn canonical_query(params: &BTreeMap<String, String>) -> String {
    params
        .iter()
        .filter(|(k, _)| k.as_str() != "Signature")
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `METHOD&%2F&` + the canonical query encoded once more.
pub fn string_to_sign(method: &str, params: &BTreeMap<String, String>) -> String {
    format!(
        "{method}&{}&{}",
        percent_encode("/"),
        percent_encode(&canonical_query(params))
    )
}

/// The request's signature: base64 of HMAC-SHA1 keyed with the secret and `&`.
pub fn signature(method: &str, params: &BTreeMap<String, String>, secret: &str) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(string_to_sign(method, params).as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The parameters of a `SendSms` call for one message (JSON answers), before signing.
/// `timestamp` is UTC as `2017-07-12T02:42:19Z`; `nonce` is unique per request (a retry of the
/// same message may reuse the message's key: Alibaba refuses a nonce seen in the last 15
/// minutes, which is what keeps a retried request from being sent twice).
pub fn send_sms_params(
    creds: &Credentials,
    message: &TemplateMessage,
    out_id: &str,
    nonce: &str,
    timestamp: &str,
) -> BTreeMap<String, String> {
    let template_param = serde_json::Value::Object(
        message
            .params
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect(),
    )
    .to_string();
    [
        ("AccessKeyId", creds.access_key_id.as_str()),
        ("Action", "SendSms"),
        ("Format", "JSON"),
        ("OutId", out_id),
        ("PhoneNumbers", message.phone.as_str()),
        ("RegionId", "cn-hangzhou"),
        ("SignName", message.sign_name.as_str()),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", nonce),
        ("SignatureVersion", "1.0"),
        ("TemplateCode", message.template.as_str()),
        ("TemplateParam", template_param.as_str()),
        ("Timestamp", timestamp),
        ("Version", "2017-05-25"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The full query of a signed GET: `Signature=…&` + the canonical query.
pub fn signed_query(params: &BTreeMap<String, String>, secret: &str) -> String {
    format!(
        "Signature={}&{}",
        percent_encode(&signature("GET", params, secret)),
        canonical_query(params)
    )
}

/// The parameters of a `QuerySendDetails` call, before signing: what was sent to one number on
/// one China day (`20261207`), the newest page of 50 — how the outbox asks whether a message
/// left in doubt by a crash was taken (each detail carries the `OutId` it was sent with).
pub fn query_send_details_params(
    creds: &Credentials,
    phone: &str,
    send_date: &str,
    nonce: &str,
    timestamp: &str,
) -> BTreeMap<String, String> {
    [
        ("AccessKeyId", creds.access_key_id.as_str()),
        ("Action", "QuerySendDetails"),
        ("CurrentPage", "1"),
        ("Format", "JSON"),
        ("PageSize", "50"),
        ("PhoneNumber", phone),
        ("RegionId", "cn-hangzhou"),
        ("SendDate", send_date),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", nonce),
        ("SignatureVersion", "1.0"),
        ("Timestamp", timestamp),
        ("Version", "2017-05-25"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The answer to `SendSms` (and the code and words of any refused call).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendAnswer {
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_id: Option<String>,
    #[serde(default)]
    pub request_id: String,
}

/// The answer to `QuerySendDetails`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DetailsAnswer {
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub total_count: u64,
    #[serde(rename = "SmsSendDetailDTOs", default)]
    pub details: DetailList,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DetailList {
    #[serde(rename = "SmsSendDetailDTO", default)]
    pub items: Vec<Detail>,
}

/// One message sent to the number: `SendStatus` 1 waiting for a receipt, 2 failed, 3 delivered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Detail {
    #[serde(default)]
    pub out_id: Option<String>,
    pub send_status: i64,
    #[serde(default)]
    pub err_code: String,
    #[serde(default)]
    pub phone_num: String,
    #[serde(default)]
    pub template_code: String,
}

/// What an answer's `Code` means (Alibaba Cloud SMS's error code list).
pub fn verdict(code: &str) -> Verdict {
    match code {
        "OK" => Verdict::Taken,
        // Flow control (per number per minute/hour/day, or the account's rate), the platform's
        // own failures, an empty balance: the same request may pass later.
        "isv.BUSINESS_LIMIT_CONTROL"
        | "isv.DAY_LIMIT_CONTROL"
        | "isv.AMOUNT_NOT_ENOUGH"
        | "isp.SYSTEM_ERROR"
        | "isv.OUT_OF_SERVICE"
        | "ServiceUnavailable"
        | "InternalError" => Verdict::Later,
        c if c.starts_with("Throttling") || c.starts_with("isp.") => Verdict::Later,
        _ => Verdict::Never,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The worked example of Alibaba Cloud SMS's signature document (SendSms, 2017-05-25).
    #[test]
    fn the_sms_documents_example_signs_as_documented() {
        let p = params(&[
            ("AccessKeyId", "testId"),
            ("Action", "SendSms"),
            ("Format", "XML"),
            ("OutId", "123"),
            ("PhoneNumbers", "15300000001"),
            ("RegionId", "cn-hangzhou"),
            ("SignName", "阿里云短信测试专用"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", "SMS_71390007"),
            ("TemplateParam", "{\"customer\":\"test\"}"),
            ("Timestamp", "2017-07-12T02:42:19Z"),
            ("Version", "2017-05-25"),
        ]);
        assert_eq!(
            string_to_sign("GET", &p),
            "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123%26PhoneNumbers%3D15300000001%26RegionId%3Dcn-hangzhou%26SignName%3D%25E9%2598%25BF%25E9%2587%258C%25E4%25BA%2591%25E7%259F%25AD%25E4%25BF%25A1%25E6%25B5%258B%25E8%25AF%2595%25E4%25B8%2593%25E7%2594%25A8%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D45e25e9b-0a6f-4070-8c85-2956eda1b466%26SignatureVersion%3D1.0%26TemplateCode%3DSMS_71390007%26TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D%26Timestamp%3D2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25"
        );
        assert_eq!(
            signature("GET", &p, "testSecret"),
            "zJDF+Lrzhj/ThnlvIToysFRq6t4="
        );
        assert!(
            signed_query(&p, "testSecret")
                .starts_with("Signature=zJDF%2BLrzhj%2FThnlvIToysFRq6t4%3D&AccessKeyId=testId&")
        );
    }

    /// The worked example of Alibaba Cloud's RPC signature document (DescribeRegions).
    #[test]
    fn the_rpc_documents_example_signs_as_documented() {
        let p = params(&[
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("Format", "XML"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Version", "2014-05-26"),
        ]);
        assert_eq!(
            signature("GET", &p, "testsecret"),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
        // A Signature already among the parameters is not signed over.
        let mut with = p.clone();
        with.insert("Signature".into(), "old".into());
        assert_eq!(
            signature("GET", &with, "testsecret"),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
    }

    #[test]
    fn pop_encoding_keeps_only_the_unreserved() {
        assert_eq!(percent_encode("a b*~-_.+/=&"), "a%20b%2A~-_.%2B%2F%3D%26");
        assert_eq!(percent_encode("派"), "%E6%B4%BE");
    }

    #[test]
    fn a_message_becomes_the_documented_parameters() {
        let creds = Credentials {
            access_key_id: "testId".into(),
            access_key_secret: "testSecret".into(),
        };
        let m = TemplateMessage {
            phone: "15300000001".into(),
            sign_name: "网格通".into(),
            template: "SMS_71390007".into(),
            params: vec![("place".into(), "幸福小区\"东门\"".into())],
        };
        let p = send_sms_params(&creds, &m, "m-1", "n-1", "2026-12-07T08:00:00Z");
        assert_eq!(p["TemplateParam"], r#"{"place":"幸福小区\"东门\""}"#);
        assert_eq!(p["Action"], "SendSms");
        assert_eq!(p["OutId"], "m-1");
        assert!(!p.contains_key("Signature"));
        // The same request signs the same; any parameter changed changes the signature.
        let s = signature("GET", &p, &creds.access_key_secret);
        assert_eq!(s, signature("GET", &p, &creds.access_key_secret));
        let mut other = p.clone();
        other.insert("PhoneNumbers".into(), "15300000002".into());
        assert_ne!(s, signature("GET", &other, &creds.access_key_secret));
    }
}
