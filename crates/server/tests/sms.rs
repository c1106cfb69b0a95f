//! The SMS adapters end to end: the courier sends the outbox's messages over HTTP to a local
//! stand-in of Alibaba Cloud SMS and of Tencent Cloud SMS that checks each request's signature,
//! clock, nonce, number, signature name and template as the provider does, and answers as it
//! does. Each provider: messages taken once per key with the template's parameters; throttling
//! and an outage retried until they pass; an invalid number, a template not approved and a wrong
//! secret failed with the provider's words; a message in doubt after a crash looked up (Alibaba
//! `QuerySendDetails`, Tencent `PullSmsSendStatusByPhoneNumber`) and not sent twice. Then the
//! real `gridmate-server` process SIGKILLed while the provider holds 100 messages it never
//! answered: after a restart each of the 160 reaches the provider exactly once; and a ten-minute
//! outage, in the courier's clock, loses none and sends none twice.

mod common;

use chrono::{Duration, Utc};
use common::server::*;
use gridmate_server::reach::{Courier, Outgoing, SmsConfig, SmsProvider};
use gridmate_server::store::outbox;
use gridmate_server::store::{Backend, MessageRow, MessageState};
use gridmate_sms_standin::{Account, Mode, StandIn};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tokio::sync::Notify;

fn account() -> Account {
    Account {
        key_id: "LTAI5tStandInKeyId".into(),
        key_secret: "standin-secret-of-thirty-chars".into(),
        app_id: "1400006666".into(),
        sign_name: "网格通".into(),
        templates: BTreeMap::from([
            (
                "SMS_CALLUP".to_string(),
                vec!["place".into(), "time".into()],
            ),
            (
                "SMS_ASSIGNED".to_string(),
                vec!["number".into(), "title".into()],
            ),
            (
                "SMS_DISPATCHED".to_string(),
                vec!["number".into(), "title".into()],
            ),
            (
                "SMS_RECALL".to_string(),
                vec!["place".into(), "time".into()],
            ),
            (
                "SMS_OVERDUE".to_string(),
                vec!["number".into(), "title".into(), "due".into()],
            ),
            (
                "SMS_UNSEEN".to_string(),
                vec!["address".into(), "days".into()],
            ),
            (
                "SMS_DIGEST".to_string(),
                vec!["date".into(), "overdue".into(), "unseen".into()],
            ),
            ("SMS_CODE".to_string(), vec!["code".into()]),
            (
                "SMS_UPDATE".to_string(),
                vec!["number".into(), "status".into()],
            ),
        ]),
    }
}

fn config(provider: &str, endpoint: String, secret: &str) -> SmsConfig {
    let a = account();
    SmsConfig {
        provider: provider.into(),
        key_id: a.key_id,
        key_secret: secret.into(),
        sign_name: a.sign_name,
        app_id: Some(a.app_id),
        endpoint: Some(endpoint),
        templates: BTreeMap::from([
            ("callup".to_string(), "SMS_CALLUP".to_string()),
            ("issue_assigned".to_string(), "SMS_ASSIGNED".to_string()),
            ("order_dispatched".to_string(), "SMS_DISPATCHED".to_string()),
            ("callup_recall".to_string(), "SMS_RECALL".to_string()),
            ("issue_overdue".to_string(), "SMS_OVERDUE".to_string()),
            ("household_unseen".to_string(), "SMS_UNSEEN".to_string()),
            ("leader_digest".to_string(), "SMS_DIGEST".to_string()),
            ("resident_code".to_string(), "SMS_CODE".to_string()),
            ("resident_update".to_string(), "SMS_UPDATE".to_string()),
        ]),
    }
}

async fn queue(s: &Server, key: &str, phone: &str) {
    s.queue(call_up_notice(key, phone), Utc::now()).await;
}

async fn message(s: &Server, key: &str) -> MessageRow {
    s.messages()
        .await
        .into_iter()
        .find(|m| m.trigger_key == key)
        .unwrap()
}

fn courier(s: &Server, provider: Arc<dyn SmsProvider>) -> Courier {
    Courier::new(s.store(), provider, Arc::new(Notify::new()))
}

async fn each_provider_end_to_end(name: &str) {
    let s = Server::start().await;
    let stand = StandIn::start(account()).await.unwrap();
    let endpoint = match name {
        "aliyun" => stand.aliyun_endpoint(),
        _ => stand.tencent_endpoint(),
    };
    let provider = config(name, endpoint.clone(), &account().key_secret)
        .provider()
        .unwrap();
    let c = courier(&s, provider.clone());
    // Rounds run at the wall clock (the stand-in checks each request's time against it), later
    // by the backoff where a retry is due.
    let now = Utc::now;

    // Taken, once per key, with the template's parameters in order.
    queue(&s, "a", "13800138000").await;
    queue(&s, "b", "13900139000").await;
    assert_eq!(c.round(now()).await.unwrap(), 2);
    let (a, b) = (message(&s, "a").await, message(&s, "b").await);
    for m in [&a, &b] {
        assert_eq!(m.state, MessageState::Sent, "{m:?}");
        assert_eq!(m.provider.as_deref(), Some(name));
    }
    let delivered = stand.delivered();
    assert_eq!(delivered.len(), 2);
    let of_a = delivered
        .iter()
        .find(|d| d.key == a.id.to_string())
        .unwrap();
    assert_eq!(
        (of_a.phone.as_str(), of_a.template.as_str()),
        ("13800138000", "SMS_CALLUP")
    );
    assert_eq!(of_a.params, ["北门广场", "12月07日18:30"]);
    assert_eq!(a.provider_ref.as_deref(), Some(of_a.reference.as_str()));
    assert!(stand.refusals().is_empty(), "{:?}", stand.refusals());

    // Throttled, then out of service: kept and tried again, with the provider's words.
    queue(&s, "c", "13700137000").await;
    stand.set_mode(Mode::Throttled);
    assert_eq!(c.round(now()).await.unwrap(), 1);
    let m = message(&s, "c").await;
    assert_eq!(m.state, MessageState::Queued);
    let throttled = match name {
        "aliyun" => "isv.BUSINESS_LIMIT_CONTROL",
        _ => "LimitExceeded.PhoneNumberOneHourLimit",
    };
    assert!(m.words.as_deref().unwrap().starts_with(throttled), "{m:?}");
    stand.set_mode(Mode::Outage);
    assert_eq!(c.round(now() + Duration::seconds(30)).await.unwrap(), 1);
    let m = message(&s, "c").await;
    assert_eq!(m.state, MessageState::Queued);
    assert!(m.words.as_deref().unwrap().starts_with("HTTP 503"), "{m:?}");
    stand.set_mode(Mode::Normal);
    assert_eq!(c.round(now() + Duration::seconds(90)).await.unwrap(), 1);
    assert_eq!(message(&s, "c").await.state, MessageState::Sent);

    // Refused for good: a number that is not a mainland mobile, a template not approved, a
    // wrong secret. Each failed at once, in the provider's words, and never sent.
    queue(&s, "bad-number", "12345").await;
    assert_eq!(c.round(now()).await.unwrap(), 1);
    let m = message(&s, "bad-number").await;
    assert_eq!(m.state, MessageState::Failed);
    let words = m.words.unwrap();
    assert!(
        words.starts_with("isv.MOBILE_NUMBER_ILLEGAL")
            || words.starts_with("InvalidParameterValue.IncorrectPhoneNumber"),
        "{words}"
    );
    let mut unapproved = config(name, endpoint.clone(), &account().key_secret);
    unapproved
        .templates
        .insert("callup".into(), "SMS_NOT_APPROVED".into());
    let c2 = courier(&s, unapproved.provider().unwrap());
    queue(&s, "bad-template", "13600136000").await;
    assert_eq!(c2.round(now()).await.unwrap(), 1);
    let words = message(&s, "bad-template").await.words.unwrap();
    assert!(
        words.starts_with("isv.SMS_TEMPLATE_ILLEGAL")
            || words.starts_with("FailedOperation.TemplateIncorrectOrUnapproved"),
        "{words}"
    );
    let forged = courier(
        &s,
        config(name, endpoint.clone(), "not-the-secret")
            .provider()
            .unwrap(),
    );
    queue(&s, "bad-secret", "13500135000").await;
    assert_eq!(forged.round(now()).await.unwrap(), 1);
    let m = message(&s, "bad-secret").await;
    assert_eq!(m.state, MessageState::Failed);
    let words = m.words.unwrap();
    assert!(
        words.starts_with("SignatureDoesNotMatch")
            || words.starts_with("AuthFailure.SignatureFailure"),
        "{words}"
    );
    assert_eq!(stand.delivered().len(), 3, "no refused message was taken");

    // A process claims two messages, hands one to the provider and dies. After its lease the
    // provider is asked about each: the one it has is settled, the other sent; once each.
    queue(&s, "doubt-sent", "13800000001").await;
    queue(&s, "doubt-lost", "13800000002").await;
    let claimed = s
        .store()
        .write(move |tx| outbox::claim(tx, "dead", now(), 10))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    let sent = &claimed
        .iter()
        .find(|c| c.message.trigger_key == "doubt-sent")
        .unwrap()
        .message;
    let answer = provider
        .send(Outgoing {
            key: sent.id,
            phone: &sent.address,
            notice: &sent.notice,
            params: &sent.params,
            link: &sent.link,
            attempt: 1,
            queued_at_ms: sent.created_at_ms,
        })
        .await;
    assert!(
        matches!(answer, gridmate_server::reach::Answer::Accepted { .. }),
        "{answer:?}"
    );
    let after = now() + Duration::milliseconds(outbox::LEASE_MS);
    assert_eq!(c.round(after).await.unwrap(), 2);
    let per_key = stand.per_key();
    for key in ["doubt-sent", "doubt-lost"] {
        let m = message(&s, key).await;
        assert_eq!(m.state, MessageState::Sent, "{m:?}");
        assert_eq!(per_key.get(&m.id.to_string()), Some(&1), "{key}");
    }
    assert!(
        message(&s, "doubt-sent")
            .await
            .provider_ref
            .unwrap()
            .contains("(")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alibaba_cloud_sms_end_to_end_against_its_stand_in() {
    each_provider_end_to_end("aliyun").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tencent_cloud_sms_end_to_end_against_its_stand_in() {
    each_provider_end_to_end("tencent").await;
}

#[test]
fn a_configuration_is_checked_whole_at_start() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    assert!(
        SmsConfig::from_env(env(&[])).unwrap().is_none(),
        "no provider: none"
    );
    let full: &'static [(&str, &str)] = &[
        ("GRIDMATE_SMS_PROVIDER", "aliyun"),
        ("GRIDMATE_SMS_KEY_ID", "id"),
        ("GRIDMATE_SMS_KEY_SECRET", "secret"),
        ("GRIDMATE_SMS_SIGN_NAME", "网格通"),
        (
            "GRIDMATE_SMS_TEMPLATES",
            "callup=SMS_1, issue_assigned=SMS_2,order_dispatched=SMS_3,callup_recall=SMS_4,\
             issue_overdue=SMS_5,household_unseen=SMS_6,leader_digest=SMS_7,resident_code=SMS_8,\
             resident_update=SMS_9",
        ),
    ];
    let c = SmsConfig::from_env(env(full)).unwrap().unwrap();
    assert_eq!(c.templates["issue_assigned"], "SMS_2");
    assert_eq!(c.provider().unwrap().name(), "aliyun");
    // A notice without its template is refused at start, naming it.
    let short: &'static [(&str, &str)] = &[
        ("GRIDMATE_SMS_PROVIDER", "aliyun"),
        ("GRIDMATE_SMS_KEY_ID", "id"),
        ("GRIDMATE_SMS_KEY_SECRET", "secret"),
        ("GRIDMATE_SMS_SIGN_NAME", "网格通"),
        ("GRIDMATE_SMS_TEMPLATES", "callup=SMS_1"),
    ];
    let e = SmsConfig::from_env(env(short))
        .unwrap()
        .unwrap()
        .provider()
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("issue_assigned"), "{e}");
    let missing: &'static [(&str, &str)] = &[("GRIDMATE_SMS_PROVIDER", "tencent")];
    let e = SmsConfig::from_env(env(missing)).err().unwrap().to_string();
    assert!(e.contains("GRIDMATE_SMS_"), "{e}");
    // Tencent without its application, an unknown provider.
    let mut c = SmsConfig::from_env(env(full)).unwrap().unwrap();
    c.provider = "tencent".into();
    assert!(c.provider().err().unwrap().to_string().contains("app_id"));
    c.provider = "unicom".into();
    assert!(c.provider().err().unwrap().to_string().contains("unicom"));
    // From a file, as an operator writes it.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sms.toml");
    std::fs::write(
        &file,
        "provider = \"tencent\"\nkey_id = \"AKID\"\nkey_secret = \"k\"\nsign_name = \"网格通\"\napp_id = \"1400\"\n[templates]\ncallup = \"1\"\nissue_assigned = \"2\"\norder_dispatched = \"3\"\ncallup_recall = \"4\"\nissue_overdue = \"5\"\nhousehold_unseen = \"6\"\nleader_digest = \"7\"\nresident_code = \"8\"\nresident_update = \"9\"\n",
    )
    .unwrap();
    assert_eq!(
        SmsConfig::from_file(&file)
            .unwrap()
            .provider()
            .unwrap()
            .name(),
        "tencent"
    );
    std::fs::write(&file, "provider = \"tencent\"\nkey = 1\n").unwrap();
    assert!(SmsConfig::from_file(&file).is_err());
}

/// The server as a real process, sending through the stand-in's Alibaba.
async fn serve_sending_to(s: &Server, standin: &StandIn) -> (common::process::Process, String) {
    let c = config("aliyun", standin.aliyun_endpoint(), &account().key_secret);
    let templates: Vec<String> = c
        .templates
        .iter()
        .map(|(n, t)| format!("{n}={t}"))
        .collect();
    let templates = templates.join(",");
    let env = [
        ("GRIDMATE_SMS_PROVIDER", "aliyun"),
        ("GRIDMATE_SMS_KEY_ID", c.key_id.as_str()),
        ("GRIDMATE_SMS_KEY_SECRET", c.key_secret.as_str()),
        ("GRIDMATE_SMS_SIGN_NAME", c.sign_name.as_str()),
        ("GRIDMATE_SMS_ENDPOINT", c.endpoint.as_deref().unwrap()),
        ("GRIDMATE_SMS_TEMPLATES", templates.as_str()),
    ];
    common::process::serve(s.database.as_deref(), s.data.path(), &[], &env).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_delivery_sends_every_message_exactly_once_after_restart() {
    let s = Server::start().await;
    // The in-process server of the fixture runs no courier: the child process is the only sender.
    let standin = StandIn::start(account()).await.unwrap();
    let total = 160;
    for i in 0..total {
        queue(&s, &format!("kill-{i:03}"), &format!("1390000{i:04}")).await;
    }
    // Each send is taken at once and answered 3 s later: the kill lands between the two.
    standin.set_answer_delay(std::time::Duration::from_secs(3));
    let (mut process, _) = serve_sending_to(&s, &standin).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while standin.delivered().len() < 50 {
        assert!(
            std::time::Instant::now() < deadline,
            "the courier never sent"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    process.0.kill().unwrap(); // SIGKILL: no handler runs, nothing is settled.
    process.0.wait().unwrap();
    let taken_before = standin.delivered().len();
    // The process's own sweep may queue the demo's alarms beside them: only the test's count.
    let ours = |m: &MessageRow| m.trigger_key.starts_with("kill-");
    let in_doubt = s
        .messages()
        .await
        .iter()
        .filter(|m| ours(m) && m.state == MessageState::Sending)
        .count();
    assert!(
        in_doubt >= 50,
        "killed mid-delivery: {in_doubt} sending, {taken_before} taken by the provider"
    );

    // Started again, it waits out the dead process's lease, asks the provider about each message
    // in doubt, and sends the rest.
    standin.set_answer_delay(std::time::Duration::ZERO);
    let (_process, _) = serve_sending_to(&s, &standin).await;
    let deadline = std::time::Instant::now()
        + std::time::Duration::from_millis(outbox::LEASE_MS as u64)
        + std::time::Duration::from_secs(90);
    loop {
        let messages: Vec<MessageRow> = s.messages().await.into_iter().filter(ours).collect();
        if messages.iter().all(|m| m.state == MessageState::Sent) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not all sent: {:?}",
            messages
                .iter()
                .filter(|m| m.state != MessageState::Sent)
                .map(|m| (&m.trigger_key, m.state, &m.words))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let ids: std::collections::HashSet<String> = s
        .messages()
        .await
        .iter()
        .filter(|m| ours(m))
        .map(|m| m.id.to_string())
        .collect();
    let per_key: HashMap<String, usize> = standin
        .per_key()
        .into_iter()
        .filter(|(k, _)| ids.contains(k))
        .collect();
    assert_eq!(per_key.len(), total, "every message reached the provider");
    assert!(
        per_key.iter().all(|(k, n)| *n == 1 && ids.contains(k)),
        "each exactly once: {:?}",
        per_key.iter().filter(|(_, n)| **n != 1).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_minute_provider_outage_loses_nothing_and_sends_nothing_twice() {
    let s = Server::start().await;
    let standin = StandIn::start(account()).await.unwrap();
    let c = config("aliyun", standin.aliyun_endpoint(), &account().key_secret);
    let courier = courier(&s, c.provider().unwrap());
    let total = 30;
    for i in 0..total {
        queue(&s, &format!("outage-{i:02}"), &format!("1390001{i:04}")).await;
    }
    standin.set_mode(Mode::Outage);
    // Ten minutes of rounds every 20 s of the courier's clock, as its loop would run them.
    let start = Utc::now();
    for step in 0..=30 {
        courier
            .round(start + Duration::seconds(20 * step))
            .await
            .unwrap();
    }
    assert!(standin.delivered().is_empty());
    let waiting = s.messages().await;
    assert!(
        waiting
            .iter()
            .all(|m| m.state == MessageState::Queued && m.attempts >= 3),
        "still queued, tried again and again: {:?}",
        waiting
            .iter()
            .map(|m| (m.state, m.attempts))
            .collect::<Vec<_>>()
    );
    // The provider is back: within the longest backoff everything goes, once.
    standin.set_mode(Mode::Normal);
    let back = start + Duration::minutes(10);
    for step in 0..=60 {
        courier
            .round(back + Duration::seconds(20 * step))
            .await
            .unwrap();
    }
    let messages = s.messages().await;
    assert!(
        messages.iter().all(|m| m.state == MessageState::Sent),
        "{:?}",
        messages
            .iter()
            .map(|m| (m.state, &m.words))
            .collect::<Vec<_>>()
    );
    let per_key = standin.per_key();
    assert_eq!(per_key.len(), total);
    assert!(per_key.values().all(|n| *n == 1));
}
