//! A local stand-in for Alibaba Cloud SMS and Tencent Cloud SMS, for the server's tests and
//! benchmarks: no test may reach the real providers, so this checks what they check and answers
//! as they answer.
//!
//! What it checks, as the providers document:
//! - **Alibaba** (`GET /aliyun/`, RPC style): the common parameters, a known AccessKeyId
//!   (`InvalidAccessKeyId.NotFound`), a `Timestamp` within 15 minutes
//!   (`InvalidTimeStamp.Expired`), a `SignatureNonce` not seen in 15 minutes
//!   (`SignatureNonceUsed`), the HMAC-SHA1 signature recomputed over the received parameters
//!   (`SignatureDoesNotMatch`); then for `SendSms` a mainland number
//!   (`isv.MOBILE_NUMBER_ILLEGAL`), an approved signature name (`isv.SMS_SIGNATURE_ILLEGAL`) and
//!   template (`isv.SMS_TEMPLATE_ILLEGAL`), the template's variables all given
//!   (`isv.TEMPLATE_MISSING_PARAMETERS`) and none over 35 characters (`isv.PARAM_LENGTH_LIMIT`).
//!   `QuerySendDetails` lists what was sent to a number on a day, with each `OutId`.
//! - **Tencent** (`POST /tencent/`, API 3.0): the TC3-HMAC-SHA256 `Authorization` recomputed
//!   over the received host and body (`AuthFailure.SignatureFailure`), a known SecretId
//!   (`AuthFailure.SecretIdNotFound`), `X-TC-Timestamp` within 5 minutes
//!   (`AuthFailure.SignatureExpire`), the version; then for `SendSms` a known `SmsSdkAppId`, and
//!   per number `InvalidParameterValue.IncorrectPhoneNumber`,
//!   `FailedOperation.SignatureIncorrectOrUnapproved`,
//!   `FailedOperation.TemplateIncorrectOrUnapproved`. `PullSmsSendStatusByPhoneNumber` gives a
//!   number's receipts with each `SessionContext`.
//!
//! A [`Mode`] makes it answer as a provider in trouble does: throttled (Alibaba
//! `isv.BUSINESS_LIMIT_CONTROL`, Tencent `LimitExceeded.PhoneNumberOneHourLimit`), or out of
//! service (HTTP 503 with a gateway's HTML); an answer delay holds each send's answer after the
//! message is taken, so a test can kill a sender between the two. It keeps every message it
//! took, so a test counts what was really sent, per idempotency key.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, FixedOffset, Utc};
use gridmate_sms::{aliyun, tencent};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// The provider account the stand-in knows: its keys, signature name and approved templates.
#[derive(Clone, Debug)]
pub struct Account {
    pub key_id: String,
    pub key_secret: String,
    /// Tencent's SmsSdkAppId.
    pub app_id: String,
    pub sign_name: String,
    /// Approved template code → its variables' names, in order.
    pub templates: BTreeMap<String, Vec<String>>,
}

/// How the stand-in behaves now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Every send is refused by flow control.
    Throttled,
    /// The provider is down: HTTP 503, not its JSON.
    Outage,
}

/// One message the stand-in took.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivered {
    /// "aliyun" or "tencent".
    pub provider: &'static str,
    /// `OutId` or `SessionContext`: the sender's idempotency key.
    pub key: String,
    pub phone: String,
    pub template: String,
    pub params: Vec<String>,
    /// `BizId` or `SerialNo`.
    pub reference: String,
    pub at: DateTime<Utc>,
}

struct Shared {
    account: Account,
    mode: Mode,
    delivered: Vec<Delivered>,
    /// Alibaba's nonces of the last 15 minutes.
    nonces: HashMap<String, DateTime<Utc>>,
    /// Every refusal's code, in order: a test proves a check fired.
    refusals: Vec<String>,
    /// How long a send waits, after the message is taken, before it is answered: a sender
    /// killed in that time has a message the provider holds and it never heard of.
    answer_delay: std::time::Duration,
}

pub struct StandIn {
    pub addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Guarded = Arc<Mutex<Shared>>;

fn lock(s: &Guarded) -> MutexGuard<'_, Shared> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

impl StandIn {
    /// Listen on a free port of 127.0.0.1.
    pub async fn start(account: Account) -> std::io::Result<StandIn> {
        let shared = Arc::new(Mutex::new(Shared {
            account,
            mode: Mode::Normal,
            delivered: Vec::new(),
            nonces: HashMap::new(),
            refusals: Vec::new(),
            answer_delay: std::time::Duration::ZERO,
        }));
        let app = Router::new()
            .route("/aliyun/", get(aliyun_call))
            .route("/tencent/", post(tencent_call))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(StandIn { addr, shared, task })
    }

    pub fn aliyun_endpoint(&self) -> String {
        format!("http://{}/aliyun/", self.addr)
    }

    pub fn tencent_endpoint(&self) -> String {
        format!("http://{}/tencent/", self.addr)
    }

    pub fn set_mode(&self, mode: Mode) {
        lock(&self.shared).mode = mode;
    }

    /// Answer every send this long after taking it (see `Shared::answer_delay`).
    pub fn set_answer_delay(&self, delay: std::time::Duration) {
        lock(&self.shared).answer_delay = delay;
    }

    pub fn delivered(&self) -> Vec<Delivered> {
        lock(&self.shared).delivered.clone()
    }

    /// Messages taken per key.
    pub fn per_key(&self) -> HashMap<String, usize> {
        let mut n = HashMap::new();
        for d in lock(&self.shared).delivered.iter() {
            *n.entry(d.key.clone()).or_default() += 1;
        }
        n
    }

    pub fn refusals(&self) -> Vec<String> {
        lock(&self.shared).refusals.clone()
    }
}

fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8")
}

/// A mainland mobile number: 11 digits, `1[3-9]…`.
fn mainland_mobile(phone: &str) -> bool {
    let b = phone.as_bytes();
    b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
        && phone.bytes().all(|c| c.is_ascii_digit())
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn aliyun_error(s: &Guarded, status: StatusCode, code: &str, message: &str) -> Response {
    lock(s).refusals.push(code.to_string());
    (
        status,
        axum::Json(json!({"RequestId": "standin", "Code": code, "Message": message})),
    )
        .into_response()
}

async fn aliyun_call(State(s): State<Guarded>, RawQuery(query): RawQuery) -> Response {
    let mode = lock(&s).mode;
    if mode == Mode::Outage {
        return outage();
    }
    let mut params = BTreeMap::new();
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match (percent_decode(k), percent_decode(v)) {
            (Some(k), Some(v)) => {
                params.insert(k, v);
            }
            _ => {
                return aliyun_error(
                    &s,
                    StatusCode::BAD_REQUEST,
                    "InvalidParameter",
                    "bad encoding",
                );
            }
        }
    }
    let p = |k: &str| params.get(k).cloned().unwrap_or_default();
    for (k, want) in [
        ("Format", "JSON"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("Version", "2017-05-25"),
    ] {
        if p(k) != want {
            return aliyun_error(
                &s,
                StatusCode::BAD_REQUEST,
                "InvalidParameter",
                &format!("{k} must be {want}"),
            );
        }
    }
    let account = lock(&s).account.clone();
    if p("AccessKeyId") != account.key_id {
        return aliyun_error(
            &s,
            StatusCode::NOT_FOUND,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        );
    }
    let now = Utc::now();
    match DateTime::parse_from_rfc3339(&p("Timestamp")) {
        Ok(t) if (now - t.with_timezone(&Utc)).num_seconds().abs() <= 15 * 60 => {}
        _ => {
            return aliyun_error(
                &s,
                StatusCode::BAD_REQUEST,
                "InvalidTimeStamp.Expired",
                "Specified time stamp or date value is expired.",
            );
        }
    }
    let signature = p("Signature");
    let mut signed = params.clone();
    signed.remove("Signature");
    if signature != aliyun::signature("GET", &signed, &account.key_secret) {
        return aliyun_error(
            &s,
            StatusCode::BAD_REQUEST,
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation.",
        );
    }
    {
        let mut g = lock(&s);
        g.nonces.retain(|_, at| (now - *at).num_minutes() < 15);
        if g.nonces.insert(p("SignatureNonce"), now).is_some() {
            drop(g);
            return aliyun_error(
                &s,
                StatusCode::BAD_REQUEST,
                "SignatureNonceUsed",
                "Specified signature nonce was used already.",
            );
        }
    }
    match p("Action").as_str() {
        "SendSms" => {
            answer_late(
                &s,
                aliyun_send(
                    &s,
                    &account,
                    &p("PhoneNumbers"),
                    &p("SignName"),
                    &p("TemplateCode"),
                    &p("TemplateParam"),
                    &p("OutId"),
                    mode,
                ),
            )
            .await
        }
        "QuerySendDetails" => aliyun_details(&s, &p("PhoneNumber"), &p("SendDate")),
        other => aliyun_error(
            &s,
            StatusCode::BAD_REQUEST,
            "InvalidAction.NotFound",
            &format!("no action {other}"),
        ),
    }
}

/// `answer` once the answer delay has passed.
async fn answer_late(s: &Guarded, answer: Response) -> Response {
    let delay = lock(s).answer_delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    answer
}

#[allow(clippy::too_many_arguments)]
fn aliyun_send(
    s: &Guarded,
    account: &Account,
    phone: &str,
    sign_name: &str,
    template: &str,
    template_param: &str,
    out_id: &str,
    mode: Mode,
) -> Response {
    let refuse = |code: &str, message: &str| aliyun_error(s, StatusCode::OK, code, message);
    if mode == Mode::Throttled {
        return refuse("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1");
    }
    if !mainland_mobile(phone) {
        return refuse("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号");
    }
    if sign_name != account.sign_name {
        return refuse("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名");
    }
    let Some(variables) = account.templates.get(template) else {
        return refuse("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板");
    };
    let Ok(Value::Object(given)) = serde_json::from_str::<Value>(template_param) else {
        return refuse("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值");
    };
    let mut values = Vec::new();
    for v in variables {
        match given.get(v).and_then(Value::as_str) {
            Some(value) if value.chars().count() > 35 => {
                return refuse("isv.PARAM_LENGTH_LIMIT", "参数超出长度限制");
            }
            Some(value) => values.push(value.to_string()),
            None => return refuse("isv.TEMPLATE_MISSING_PARAMETERS", "模板缺少变量"),
        }
    }
    let mut g = lock(s);
    let reference = format!(
        "{}^0",
        900_000_000_000_000_000u64 + g.delivered.len() as u64
    );
    g.delivered.push(Delivered {
        provider: "aliyun",
        key: out_id.to_string(),
        phone: phone.to_string(),
        template: template.to_string(),
        params: values,
        reference: reference.clone(),
        at: Utc::now(),
    });
    axum::Json(aliyun::SendAnswer {
        code: "OK".into(),
        message: "OK".into(),
        biz_id: Some(reference),
        request_id: "standin".into(),
    })
    .into_response()
}

fn aliyun_details(s: &Guarded, phone: &str, send_date: &str) -> Response {
    let g = lock(s);
    let items: Vec<aliyun::Detail> = g
        .delivered
        .iter()
        .filter(|d| {
            d.provider == "aliyun"
                && d.phone == phone
                && d.at.with_timezone(&china()).format("%Y%m%d").to_string() == send_date
        })
        .map(|d| aliyun::Detail {
            out_id: Some(d.key.clone()),
            send_status: 3,
            err_code: "DELIVERED".into(),
            phone_num: d.phone.clone(),
            template_code: d.template.clone(),
        })
        .collect();
    axum::Json(aliyun::DetailsAnswer {
        code: "OK".into(),
        message: "OK".into(),
        total_count: items.len() as u64,
        details: aliyun::DetailList { items },
    })
    .into_response()
}

fn outage() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>",
    )
        .into_response()
}

fn tencent_error(s: &Guarded, code: &str, message: &str) -> Response {
    lock(s).refusals.push(code.to_string());
    axum::Json(
        json!({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "standin"}}),
    )
    .into_response()
}

async fn tencent_call(State(s): State<Guarded>, headers: HeaderMap, body: Bytes) -> Response {
    let mode = lock(&s).mode;
    if mode == Mode::Outage {
        return outage();
    }
    let h = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let account = lock(&s).account.clone();
    let Ok(payload) = std::str::from_utf8(&body) else {
        return tencent_error(&s, "InvalidParameter", "the body is not UTF-8");
    };
    let Ok(timestamp) = h("x-tc-timestamp").parse::<i64>() else {
        return tencent_error(&s, "MissingParameter", "X-TC-Timestamp");
    };
    if (Utc::now().timestamp() - timestamp).abs() > 5 * 60 {
        return tencent_error(&s, "AuthFailure.SignatureExpire", "签名过期");
    }
    let authorization = h("authorization");
    let secret_id = authorization
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split('/').next())
        .unwrap_or_default();
    if secret_id != account.key_id {
        return tencent_error(&s, "AuthFailure.SecretIdNotFound", "密钥不存在");
    }
    let creds = tencent::Credentials {
        secret_id: account.key_id.clone(),
        secret_key: account.key_secret.clone(),
    };
    if authorization != tencent::authorization(&creds, &h("host"), "sms", payload, timestamp) {
        return tencent_error(&s, "AuthFailure.SignatureFailure", "签名错误");
    }
    if h("x-tc-version") != "2021-01-11" {
        return tencent_error(&s, "InvalidParameterValue", "X-TC-Version");
    }
    let Ok(call) = serde_json::from_str::<Value>(payload) else {
        return tencent_error(&s, "InvalidParameter", "the body is not JSON");
    };
    if call["SmsSdkAppId"] != account.app_id.as_str() {
        return tencent_error(
            &s,
            "InvalidParameterValue.SdkAppIdNotExist",
            "SdkAppId不存在",
        );
    }
    match h("x-tc-action").as_str() {
        "SendSms" => answer_late(&s, tencent_send(&s, &account, &call, mode)).await,
        "PullSmsSendStatusByPhoneNumber" => tencent_pull(&s, &call),
        other => tencent_error(&s, "InvalidAction", &format!("no action {other}")),
    }
}

fn tencent_send(s: &Guarded, account: &Account, call: &Value, mode: Mode) -> Response {
    let numbers: Vec<String> = call["PhoneNumberSet"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect();
    let template = call["TemplateId"].as_str().unwrap_or_default();
    let params: Vec<String> = call["TemplateParamSet"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let session = call["SessionContext"].as_str().unwrap_or_default();
    let mut set = Vec::new();
    let mut g = lock(s);
    for number in numbers {
        let local = number.strip_prefix("+86").unwrap_or(&number).to_string();
        let refused = if mode == Mode::Throttled {
            Some((
                "LimitExceeded.PhoneNumberOneHourLimit",
                "单个手机号1小时内下发短信条数超过设定的上限",
            ))
        } else if !mainland_mobile(&local) {
            Some((
                "InvalidParameterValue.IncorrectPhoneNumber",
                "手机号格式错误",
            ))
        } else if call["SignName"] != account.sign_name.as_str() {
            Some((
                "FailedOperation.SignatureIncorrectOrUnapproved",
                "签名未审批或格式错误",
            ))
        } else if account.templates.get(template).map(Vec::len) != Some(params.len()) {
            Some((
                "FailedOperation.TemplateIncorrectOrUnapproved",
                "模版未审批或内容不匹配",
            ))
        } else {
            None
        };
        let status = match refused {
            Some((code, message)) => {
                g.refusals.push(code.to_string());
                tencent::SendStatus {
                    serial_no: String::new(),
                    phone_number: number.clone(),
                    code: code.into(),
                    message: message.into(),
                    session_context: session.into(),
                }
            }
            None => {
                let serial = format!(
                    "2019:{}",
                    538_884_000_000_000_000u64 + g.delivered.len() as u64
                );
                g.delivered.push(Delivered {
                    provider: "tencent",
                    key: session.to_string(),
                    phone: local,
                    template: template.to_string(),
                    params: params.clone(),
                    reference: serial.clone(),
                    at: Utc::now(),
                });
                tencent::SendStatus {
                    serial_no: serial,
                    phone_number: number.clone(),
                    code: "Ok".into(),
                    message: "send success".into(),
                    session_context: session.into(),
                }
            }
        };
        set.push(status);
    }
    axum::Json(tencent::Envelope {
        response: tencent::SendAnswer {
            send_status_set: set,
            error: None,
            request_id: "standin".into(),
        },
    })
    .into_response()
}

fn tencent_pull(s: &Guarded, call: &Value) -> Response {
    let number = call["PhoneNumber"].as_str().unwrap_or_default();
    let local = number.strip_prefix("+86").unwrap_or(number);
    let (begin, end) = (
        call["BeginTime"].as_i64().unwrap_or(0),
        call["EndTime"].as_i64().unwrap_or(i64::MAX),
    );
    let g = lock(s);
    let receipts = g
        .delivered
        .iter()
        .filter(|d| {
            d.provider == "tencent" && d.phone == local && (begin..=end).contains(&d.at.timestamp())
        })
        .map(|d| tencent::Receipt {
            phone_number: number.to_string(),
            session_context: d.key.clone(),
            report_status: "SUCCESS".into(),
            description: "用户接收成功".into(),
        })
        .collect();
    axum::Json(tencent::Envelope {
        response: tencent::PullAnswer {
            pull_sms_send_status_set: receipts,
            error: None,
        },
    })
    .into_response()
}
