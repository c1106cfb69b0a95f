//! `gridmate-server serve` as a real process of its own, for the tests where several processes
//! share one database (and one photo bucket).

use std::process::{Child, Command, Stdio};

/// A child process, killed when dropped.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Serve the records of `database_url` (none: the SQLite file in `data`) with `--data data` and
/// any `extra` arguments and environment; returns the process and its API base URL once it
/// answers.
pub async fn serve(
    database_url: Option<&str>,
    data: &std::path::Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Process, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_gridmate-server"));
    command
        .args(["serve", "--data"])
        .arg(data)
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .args(extra)
        .envs(env.iter().copied())
        .stderr(Stdio::null());
    match database_url {
        Some(url) => command.env("GRIDMATE_DATABASE", url),
        None => command.env_remove("GRIDMATE_DATABASE"),
    };
    let process = Process(command.spawn().unwrap());
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http.get(format!("{base}/health")).send().await.is_ok() {
            return (process, base);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the server on port {port} did not come up");
}

/// Sign in to the process at `base` as a phone would.
pub async fn login(
    http: &reqwest::Client,
    base: &str,
    phone: &str,
    password: &str,
    device: &str,
) -> reqwest::Response {
    http.post(format!("{base}/session"))
        .json(&serde_json::json!({"phone": phone, "password": password, "device_id": device, "device_name": "测试机"}))
        .send()
        .await
        .unwrap()
}
