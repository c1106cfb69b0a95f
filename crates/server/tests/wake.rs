//! The wake channel (`GET /sync/wake`, Server-Sent Events) on a real server over HTTP: an open
//! phone hears `ready`, then `pull` within seconds of a change in its grids — made through this
//! process or through another one on the same database — and nothing of a grid it does not
//! see; no token, no stream.

mod common;

use chrono::Utc;
use common::server::*;
use gridmate_model::Role;
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

/// An open wake stream, read event by event.
struct Stream {
    r: reqwest::Response,
    buffer: String,
}

impl Stream {
    async fn open(s: &Server, token: &str) -> Stream {
        let r = s.get(token, "/sync/wake").await;
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "text/event-stream");
        Stream {
            r,
            buffer: String::new(),
        }
    }

    /// The next event's (name, data), or `None` if none comes within `wait`.
    async fn next(&mut self, wait: Duration) -> Option<(String, String)> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let field = |name: &str| {
                    block
                        .lines()
                        .find_map(|l| l.strip_prefix(name))
                        .map(|v| v.trim().to_string())
                };
                // A comment (keep-alive) is no event.
                if let Some(event) = field("event:") {
                    return Some((event, field("data:").unwrap_or_default()));
                }
                continue;
            }
            match tokio::time::timeout_at(deadline, self.r.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(_) => panic!("the stream ended"),
                Err(_) => return None,
            }
        }
    }
}

fn call_up(grid: Uuid) -> gridmate_protocol::Mutation {
    mutation(
        "callup.create",
        json!({"callup_id": Uuid::now_v7(), "grid_id": grid, "roles": [],
               "place": "北门", "at": Utc::now(), "message": "集合"}),
    )
}

fn grids_of(s: &Server, role: Role) -> Vec<Uuid> {
    s.account(role)
        .grids
        .iter()
        .map(|g| g.parse().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_phone_is_told_to_pull_within_seconds_of_a_change_in_its_grids() {
    let s = Server::start().await;
    let worker_grid = grids_of(&s, Role::GridWorker)[0];
    let other_grid = grids_of(&s, Role::GridLeader)
        .into_iter()
        .find(|g| *g != worker_grid)
        .expect("the leader leads a grid the worker is not in");
    let (leader, worker) = (
        s.login(Role::GridLeader, "l").await,
        s.login(Role::GridWorker, "w").await,
    );
    let mut phone = Stream::open(&s, &worker).await;
    assert_eq!(
        phone.next(Duration::from_secs(5)).await.map(|e| e.0),
        Some("ready".into())
    );

    // A call-up in another grid: the worker's phone hears nothing.
    s.push_ok(&leader, "l", &[call_up(other_grid)]).await;
    assert_eq!(phone.next(Duration::from_secs(3)).await, None);

    // A call-up in the worker's grid: `pull`, with the head, within two seconds.
    let pushed_at = std::time::Instant::now();
    let r = s.push_ok(&leader, "l", &[call_up(worker_grid)]).await;
    let (event, head) = phone
        .next(Duration::from_secs(5))
        .await
        .expect("told to pull");
    assert_eq!(event, "pull");
    assert!(head.parse::<u64>().unwrap() >= r[0].seq.unwrap());
    assert!(
        pushed_at.elapsed() < Duration::from_secs(2),
        "{:?}",
        pushed_at.elapsed()
    );

    // A push through another server process on the same database is heard too (its watcher
    // reads the head every second).
    let (other_base, other_task) = start_on(s.data.path(), s.database.as_deref()).await;
    let other = Server {
        base: other_base,
        data: tempfile::tempdir().unwrap(),
        database: None,
        task: other_task,
        http: reqwest::Client::new(),
    };
    let leader_there = other.login(Role::GridLeader, "l2").await;
    other
        .push_ok(&leader_there, "l2", &[call_up(worker_grid)])
        .await;
    let (event, _) = phone
        .next(Duration::from_secs(5))
        .await
        .expect("told to pull after another process's push");
    assert_eq!(event, "pull");

    // No token, no stream.
    let r = s
        .http
        .get(format!("{}/sync/wake", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED);
}
