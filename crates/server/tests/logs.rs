//! The server's logs from a full session — logins right and wrong, pushes carrying residents'
//! phone numbers, pulls of residents, photo uploads — hold no phone number, password or token.

mod common;

use gridmate_demo::{DemoConfig, generate};
use gridmate_server::app::AppState;
use gridmate_server::routes::router;
use serde_json::json;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// 11 digits starting 13–19, not inside a longer run of digits.
fn has_phone_number(text: &str) -> Option<String> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(10)).find_map(|i| {
        let run = &b[i..i + 11];
        let before = i > 0 && b[i - 1].is_ascii_digit();
        let after = b.get(i + 11).is_some_and(u8::is_ascii_digit);
        (run.iter().all(u8::is_ascii_digit)
            && run[0] == b'1'
            && (b'3'..=b'9').contains(&run[1])
            && !before
            && !after)
            .then(|| String::from_utf8_lossy(run).into_owned())
    })
}

/// A resident ID number: 17 digits and a digit or X, not inside a longer run of digits.
fn has_id_number(text: &str) -> Option<String> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(17)).find_map(|i| {
        let run = &b[i..i + 18];
        let before = i > 0 && b[i - 1].is_ascii_alphanumeric();
        let after = b.get(i + 18).is_some_and(u8::is_ascii_alphanumeric);
        (run[..17].iter().all(u8::is_ascii_digit)
            && (run[17].is_ascii_digit() || run[17] == b'X')
            && !before
            && !after)
            .then(|| String::from_utf8_lossy(run).into_owned())
    })
}

#[test]
fn the_id_pattern_finds_ids_and_nothing_else() {
    assert!(has_id_number("id=44070319800101123X,").is_some());
    assert!(has_id_number("seq 123456789012345678901").is_none());
    assert!(has_id_number("44070319800101123").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_personal_data_or_secret_reaches_the_logs() {
    let captured = Captured::default();
    let sink = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter(gridmate_server::logging::filter("trace"))
        .with_writer(move || sink.clone())
        .init();

    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::fresh(dir.path());
    let d = generate(&DemoConfig::scaled(300));
    let accounts = gridmate_server::demo::seed(&store, &d).unwrap();
    let state = AppState::new(store, dir.path()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api/v1", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            router(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let http = reqwest::Client::new();
    let worker = &accounts[0];
    let wrong = http.post(format!("{base}/session")).json(&json!({"phone": worker.phone, "password": "wrong-password-123", "device_id": "d", "device_name": "n"})).send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let login: serde_json::Value = http
        .post(format!("{base}/session"))
        .json(&json!({"phone": worker.phone, "password": worker.password, "device_id": "d", "device_name": "n"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_string();
    let pulled: serde_json::Value = http
        .get(format!("{base}/sync/pull?limit=5000"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let resident = pulled["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["entity"] == "resident")
        .unwrap();
    assert!(
        resident["data"]["phone"].is_string(),
        "the worker did receive phone numbers"
    );
    let patch = json!({"device_id": "d", "mutations": [{"id": uuid::Uuid::now_v7(), "kind": "resident.patch", "recorded_at": chrono::Utc::now(), "hlc": "1-0",
        "data": {"id": resident["id"], "fields": {"phone": "13912345678"}}}]});
    let r = http
        .post(format!("{base}/sync/push"))
        .bearer_auth(&token)
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bad = json!({"device_id": "d", "mutations": [{"id": uuid::Uuid::now_v7(), "kind": "resident.patch", "recorded_at": chrono::Utc::now(), "hlc": "1-0",
        "data": {"id": resident["id"], "fields": {"phone": "1391234567"}}}]});
    http.post(format!("{base}/sync/push"))
        .bearer_auth(&token)
        .json(&bad)
        .send()
        .await
        .unwrap();
    http.post(format!("{base}/sync/push"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"phone\": \"13800009999\"")
        .send()
        .await
        .unwrap();
    http.delete(format!("{base}/session"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    http.get(format!("{base}/sync/pull"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("login"),
        "the test must see the server's logs:\n{logs}"
    );
    assert_eq!(has_phone_number(&logs), None, "a phone number in the logs");
    assert_eq!(has_id_number(&logs), None, "an ID number in the logs");
    for secret in [
        worker.password.as_str(),
        "wrong-password-123",
        token.as_str(),
    ] {
        assert!(!logs.contains(secret), "{secret} in the logs");
    }
    for a in &accounts {
        assert!(!logs.contains(&a.phone));
    }
}
