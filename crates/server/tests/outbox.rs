//! The outbox (issue 25) on a real database, through real pushes over HTTP: a call-up queues one
//! urgent message to each person it calls, in the call-up's own transaction and once however
//! often the push is retried; an assignment tells its assignee; the courier delivers each message
//! exactly once — across two couriers racing, a provider that is busy then recovers, a process
//! that died mid-delivery — keeps the provider's words when it refuses, holds non-urgent messages
//! through quiet hours and skips those over a person's daily cap.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::server::*;
use gridmate_model::Role;
use gridmate_protocol::PushStatus;
use gridmate_server::reach::{Answer, Courier, Outgoing, SmsProvider};
use gridmate_server::store::outbox::{self, Notice};
use gridmate_server::store::{Backend, MessageState};
use reqwest::StatusCode;
use serde_json::json;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use uuid::Uuid;

/// A provider in the test's hands: it counts what it was given per idempotency key and answers
/// from a script (then "accepted").
#[derive(Default)]
struct Provider {
    taken: Mutex<HashMap<Uuid, u32>>,
    script: Mutex<VecDeque<Answer>>,
    asked: Mutex<Vec<Uuid>>,
}

impl Provider {
    fn taken(&self) -> HashMap<Uuid, u32> {
        self.taken.lock().unwrap().clone()
    }
}

impl SmsProvider for Provider {
    fn name(&self) -> &str {
        "stand-in"
    }

    fn send<'a>(
        &'a self,
        m: Outgoing<'a>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Answer> + Send + 'a>> {
        Box::pin(async move {
            let answer = self.script.lock().unwrap().pop_front();
            let answer = answer.unwrap_or(Answer::Accepted {
                reference: format!("ref-{}", m.key),
            });
            if matches!(answer, Answer::Accepted { .. }) {
                *self.taken.lock().unwrap().entry(m.key).or_default() += 1;
            }
            answer
        })
    }

    fn find<'a>(
        &'a self,
        m: Outgoing<'a>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<Answer>> + Send + 'a>> {
        Box::pin(async move {
            self.asked.lock().unwrap().push(m.key);
            self.taken
                .lock()
                .unwrap()
                .contains_key(&m.key)
                .then(|| Answer::Accepted {
                    reference: format!("ref-{}", m.key),
                })
        })
    }
}

fn courier(s: &Server, provider: &Arc<Provider>) -> Courier {
    Courier::new(s.store(), provider.clone(), Arc::new(Notify::new()))
}

/// The people a call-up of grid 0 for party members calls: by their assignments, not the caller.
async fn party_members_of_grid_0(s: &Server) -> Vec<Uuid> {
    people_holding(s, Role::PartyMember, demo().grids[0].id.0).await
}

fn call_up(roles: &[&str]) -> gridmate_protocol::Mutation {
    let d = demo();
    mutation(
        "callup.create",
        json!({"callup_id": Uuid::now_v7(), "grid_id": d.grids[0].id.0, "roles": roles,
               "place": "北门广场（近3号楼东侧小花园旁边的路灯下）集合点", "at": Utc::now(), "message": "防汛集合"}),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_up_queues_one_urgent_message_per_person_called_once_however_often_pushed() {
    let s = Server::start().await;
    let leader = s.login(Role::GridLeader, "l").await;
    let called = party_members_of_grid_0(&s).await;
    assert!(!called.is_empty(), "the demo's grid has a party member");

    let call = call_up(&["party_member"]);
    let first = s.push_ok(&leader, "l", std::slice::from_ref(&call)).await;
    assert_eq!(first[0].status, PushStatus::Applied);
    // The same push again (a phone that never heard the answer) queues nothing more.
    let again = s.push_ok(&leader, "l", std::slice::from_ref(&call)).await;
    assert_eq!(again[0].status, PushStatus::Duplicate);

    let queued = s.messages().await;
    let mut to: Vec<Uuid> = queued.iter().map(|m| m.recipient_id).collect();
    to.sort();
    assert_eq!(to, called, "exactly the party members of the grid");
    for m in &queued {
        assert_eq!(m.notice, "callup");
        assert!(m.urgent, "a call-up goes at night too");
        assert_eq!(m.state, MessageState::Queued);
        assert_eq!(m.grid_id, Some(demo().grids[0].id.0));
        assert_eq!(m.address.len(), 11, "a mobile number");
        // Template parameters only, each within the providers' limit.
        assert_eq!(m.params[0].0, "place");
        assert_eq!(m.params[0].1.chars().count(), 20, "cut to 20");
        assert_eq!(m.params[1].0, "time");
    }

    // A call-up refused (a party member may not call one) queues nothing, and a call-up for
    // everyone of the grid reaches more people than the party members alone.
    let member = s.login(Role::PartyMember, "p").await;
    let refused = s.push_ok(&member, "p", &[call_up(&[])]).await;
    assert_eq!(refused[0].status, PushStatus::Rejected);
    assert_eq!(s.messages().await.len(), called.len());
    s.push_ok(&leader, "l", &[call_up(&[])]).await;
    let everyone = s.messages().await.len() - called.len();
    assert!(everyone > called.len(), "{everyone} called");
    let street = user_of(&s, Role::StreetViewer).await;
    assert!(
        s.messages()
            .await
            .iter()
            .all(|m| m.recipient_id != street.id),
        "the street's read-only account is never called"
    );

    // The courier hands every one to the provider once.
    let provider = Arc::new(Provider::default());
    let c = courier(&s, &provider);
    assert_eq!(c.round(Utc::now()).await.unwrap(), called.len() + everyone);
    assert_eq!(c.round(Utc::now()).await.unwrap(), 0, "nothing left");
    let taken = provider.taken();
    assert_eq!(taken.len(), called.len() + everyone);
    assert!(taken.values().all(|&n| n == 1));
    for m in s.messages().await {
        assert_eq!(m.state, MessageState::Sent, "{m:?}");
        assert_eq!(m.provider.as_deref(), Some("stand-in"));
        assert_eq!(m.provider_ref, Some(format!("ref-{}", m.id)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assignment_tells_its_assignee_and_nobody_is_told_of_their_own() {
    let s = Server::start().await;
    let d = demo();
    let leader = s.login(Role::GridLeader, "l").await;
    let worker = user_of(&s, Role::GridWorker).await;
    let issue_id = Uuid::now_v7();
    let report = mutation(
        "issue.report",
        json!({"issue_id": issue_id, "grid_id": d.grids[0].id.0, "category": "fire_safety",
               "title": "楼道堆放电动车，住户电话13812345678", "description": "", "severity": "low", "photos": []}),
    );
    let assign = |to: Uuid| {
        mutation(
            "issue.event",
            json!({"event_id": Uuid::now_v7(), "issue_id": issue_id, "action": "assign",
                   "note": "", "assignee_id": to}),
        )
    };
    let r = s.push_ok(&leader, "l", &[report, assign(worker.id)]).await;
    assert!(r.iter().all(|r| r.status == PushStatus::Applied), "{r:?}");
    let queued = s.messages().await;
    assert_eq!(queued.len(), 1, "{queued:?}");
    let m = &queued[0];
    assert_eq!(
        (m.recipient_id, m.notice.as_str(), m.urgent),
        (worker.id, "issue_assigned", false)
    );
    assert_eq!(m.link, format!("/issue/{issue_id}"));
    assert_eq!(m.address, worker.phone);
    assert_eq!(m.params[1].1.chars().count(), 20, "the title cut to 20");

    // A leader who takes an issue themselves is not told of their own doing.
    let me = user_of(&s, Role::GridLeader).await;
    let own = Uuid::now_v7();
    let r = s
        .push_ok(
            &leader,
            "l",
            &[
                mutation(
                    "issue.report",
                    json!({"issue_id": own, "grid_id": d.grids[0].id.0, "category": "sanitation",
                           "title": "垃圾满溢", "description": "", "severity": "low", "photos": []}),
                ),
                mutation(
                    "issue.event",
                    json!({"event_id": Uuid::now_v7(), "issue_id": own, "action": "assign",
                           "note": "", "assignee_id": me.id}),
                ),
            ],
        )
        .await;
    assert!(r.iter().all(|r| r.status == PushStatus::Applied), "{r:?}");
    assert_eq!(s.messages().await.len(), 1);
}

fn template_phone(role: Role) -> String {
    template()
        .accounts
        .iter()
        .find(|a| a.role == role.code())
        .unwrap()
        .phone
        .clone()
}

/// The demo's account of `role`, as the server stores it.
async fn user_of(s: &Server, role: Role) -> gridmate_server::store::UserRow {
    s.store()
        .read(move |tx| tx.user_by_phone(&template_phone(role)))
        .await
        .unwrap()
        .unwrap()
}

/// A call-up notice about a grid, to a person with a real-looking number, queued now.
async fn queue_in_grid(s: &Server, key: &str, grid: Uuid, phone: &str) {
    let notice = Notice {
        grid_id: Some(grid),
        ..call_up_notice(key, phone)
    };
    s.queue(notice, Utc::now()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_message_log_is_the_offices_scoped_by_grid_with_numbers_masked() {
    let s = Server::start().await;
    let leader_grids: Vec<Uuid> = s
        .account(Role::GridLeader)
        .grids
        .iter()
        .map(|g| g.parse().unwrap())
        .collect();
    let outside = demo()
        .grids
        .iter()
        .map(|g| g.id.0)
        .find(|g| !leader_grids.contains(g))
        .expect("a grid the leader does not lead");
    queue_in_grid(&s, "mine", leader_grids[0], "13812345678").await;
    queue_in_grid(&s, "theirs", outside, "13987654321").await;

    let lines = |token: String, query: &'static str| {
        let s = &s;
        async move {
            let r = s.get(&token, &format!("/office/messages{query}")).await;
            let status = r.status();
            (status, r.text().await.unwrap())
        }
    };
    let leader = s.login(Role::GridLeader, "l").await;
    let (status, body) = lines(leader.clone(), "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let seen: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(seen.len(), 1, "{body}");
    assert_eq!(seen[0]["phone"], "138****5678");
    assert_eq!(seen[0]["state"], "queued");
    assert!(
        !body.contains("13812345678") && !body.contains("13987654321"),
        "{body}"
    );
    let admin = s.login(Role::CommunityAdmin, "a").await;
    let (_, body) = lines(admin.clone(), "").await;
    assert_eq!(
        serde_json::from_str::<Vec<serde_json::Value>>(&body)
            .unwrap()
            .len(),
        2
    );
    let (_, body) = lines(admin.clone(), "?state=sent").await;
    assert_eq!(body, "[]");
    let (status, body) = lines(admin, "?state=lost").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // Not an office role: nobody's messages.
    for role in [Role::GridWorker, Role::PartyMember, Role::BuildingLeader] {
        let token = s.login(role, "x").await;
        let (status, _) = lines(token, "").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role:?}");
    }

    // The console's page: the leader's one message, masked, in Chinese.
    let cookie = session_cookie(&console_login(&s, Role::GridLeader).await);
    let page = no_redirects()
        .get(format!("{}/messages", console(&s)))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("消息记录") && html.contains("138****5678"),
        "{html}"
    );
    assert!(
        html.contains("一键响应召集") && html.contains("待发送"),
        "{html}"
    );
    assert!(!html.contains("13812345678") && !html.contains("139****4321"));
}

#[test]
fn every_state_and_notice_has_its_words_in_both_languages() {
    use gridmate_words::{Lang, Vocabulary};
    for s in MessageState::ALL {
        for lang in [Lang::Zh, Lang::En] {
            assert_ne!(
                Vocabulary::MessageState.word(s.code(), lang),
                s.code(),
                "{s:?}"
            );
        }
    }
    for n in gridmate_server::apply::notices::NOTICES {
        for lang in [Lang::Zh, Lang::En] {
            assert_ne!(Vocabulary::Notice.word(n, lang), *n, "{n}");
        }
    }
}

/// A notice to one person, queued straight into the outbox at `at`.
async fn queue(s: &Server, key: &str, to: Uuid, urgent: bool, at: DateTime<Utc>) {
    let notice = Notice {
        recipient_id: to,
        urgent,
        ..call_up_notice(key, "13800000000")
    };
    s.queue(notice, at).await;
}

fn china(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_hours_hold_what_can_wait_and_a_day_has_a_cap() {
    let s = Server::start().await;
    let provider = Arc::new(Provider::default());
    let c = courier(&s, &provider);
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    // Queued at 23:00: the urgent one goes at once, the other waits for 07:00.
    let night = china("2031-03-04T23:00:00+08:00");
    queue(&s, "night", a, false, night).await;
    queue(&s, "night-urgent", a, true, night).await;
    assert_eq!(c.round(night + Duration::minutes(1)).await.unwrap(), 1);
    assert_eq!(
        c.round(china("2031-03-05T06:59:00+08:00")).await.unwrap(),
        0
    );
    assert_eq!(
        c.round(china("2031-03-05T07:00:00+08:00")).await.unwrap(),
        1
    );
    // Twelve that can wait to one person in a day: ten go, two are skipped with the reason; an
    // urgent one still goes, and another person is not held by the first's cap.
    let day = china("2031-03-05T10:00:00+08:00");
    for i in 0..12 {
        queue(&s, &format!("day-{i}"), b, false, day).await;
    }
    queue(&s, "day-urgent", b, true, day).await;
    queue(&s, "day-other", a, false, day).await;
    assert_eq!(c.round(day).await.unwrap(), 14);
    let all = s.messages().await;
    let of_b: Vec<_> = all.iter().filter(|m| m.recipient_id == b).collect();
    let sent = of_b
        .iter()
        .filter(|m| m.state == MessageState::Sent && !m.urgent)
        .count();
    let skipped: Vec<_> = of_b
        .iter()
        .filter(|m| m.state == MessageState::Skipped)
        .collect();
    assert_eq!((sent, skipped.len()), (10, 2));
    assert!(skipped[0].words.as_deref().unwrap().contains("daily cap"));
    assert!(
        of_b.iter()
            .any(|m| m.urgent && m.state == MessageState::Sent)
    );
    assert_eq!(provider.taken().len(), 2 + 10 + 1 + 1);
    // The next day the cap starts afresh.
    queue(&s, "next-day", b, false, day + Duration::days(1)).await;
    assert_eq!(c.round(day + Duration::days(1)).await.unwrap(), 1);
    assert_eq!(provider.taken().len(), 15);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_provider_is_tried_again_later_and_a_refusal_keeps_its_words() {
    let s = Server::start().await;
    let provider = Arc::new(Provider::default());
    let c = courier(&s, &provider);
    let t = china("2031-03-05T10:00:00+08:00");
    queue(&s, "busy", Uuid::now_v7(), true, t).await;
    provider.script.lock().unwrap().extend([
        Answer::Busy {
            words: "isv.BUSINESS_LIMIT_CONTROL: 触发流控".into(),
        },
        Answer::Busy {
            words: "connection refused".into(),
        },
    ]);
    assert_eq!(c.round(t).await.unwrap(), 1);
    let m = s.messages().await.remove(0);
    assert_eq!(m.state, MessageState::Queued);
    assert_eq!(m.attempts, 1);
    assert_eq!(
        m.words.as_deref(),
        Some("isv.BUSINESS_LIMIT_CONTROL: 触发流控")
    );
    // Not before its backoff (30 s), then 60 s after the second.
    assert_eq!(c.round(t + Duration::seconds(29)).await.unwrap(), 0);
    assert_eq!(c.round(t + Duration::seconds(30)).await.unwrap(), 1);
    assert_eq!(c.round(t + Duration::seconds(89)).await.unwrap(), 0);
    assert_eq!(c.round(t + Duration::seconds(90)).await.unwrap(), 1);
    let m = s.messages().await.remove(0);
    assert_eq!((m.state, m.attempts), (MessageState::Sent, 3));
    assert_eq!(provider.taken()[&m.id], 1);

    // A provider outage throughout: failed after the last attempt, never lost before.
    queue(&s, "outage", Uuid::now_v7(), true, t).await;
    let mut at = t;
    for attempt in 1..=outbox::MAX_ATTEMPTS {
        provider.script.lock().unwrap().push_back(Answer::Busy {
            words: "outage".into(),
        });
        assert_eq!(c.round(at).await.unwrap(), 1, "attempt {attempt}");
        let m = s
            .messages()
            .await
            .into_iter()
            .find(|m| m.trigger_key == "outage")
            .unwrap();
        if attempt < outbox::MAX_ATTEMPTS {
            assert_eq!(m.state, MessageState::Queued, "attempt {attempt}");
            at = DateTime::from_timestamp_millis(m.next_at_ms).unwrap();
        } else {
            assert_eq!(m.state, MessageState::Failed);
            assert!(m.words.unwrap().contains("12 attempts"));
        }
    }

    // Refused for good: failed at once, in the provider's words.
    queue(&s, "refused", Uuid::now_v7(), true, t).await;
    provider.script.lock().unwrap().push_back(Answer::Refused {
        words: "isv.MOBILE_NUMBER_ILLEGAL: 非法手机号".into(),
    });
    assert_eq!(c.round(t).await.unwrap(), 1);
    let m = s
        .messages()
        .await
        .into_iter()
        .find(|m| m.trigger_key == "refused")
        .unwrap();
    assert_eq!(m.state, MessageState::Failed);
    assert_eq!(
        m.words.as_deref(),
        Some("isv.MOBILE_NUMBER_ILLEGAL: 非法手机号")
    );
    assert_eq!(
        c.round(t + Duration::days(1)).await.unwrap(),
        0,
        "never again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_couriers_racing_send_each_message_once() {
    let s = Server::start().await;
    let provider = Arc::new(Provider::default());
    // Two processes' couriers, each with its own connection to the database.
    let (one, two) = (courier(&s, &provider), courier(&s, &provider));
    let t = china("2031-03-05T10:00:00+08:00");
    for i in 0..300 {
        queue(&s, &format!("race-{i}"), Uuid::now_v7(), true, t).await;
    }
    let mut settled = 0;
    while settled < 300 {
        let (a, b) = tokio::join!(one.round(t), two.round(t));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(a + b > 0, "a round with messages due settles some");
        settled += a + b;
    }
    assert_eq!(settled, 300);
    let taken = provider.taken();
    assert_eq!(taken.len(), 300);
    assert!(taken.values().all(|&n| n == 1), "each handed over once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_in_doubt_after_a_crash_is_asked_about_before_it_is_sent_again() {
    let s = Server::start().await;
    let provider = Arc::new(Provider::default());
    let t = china("2031-03-05T10:00:00+08:00");
    queue(&s, "reached", Uuid::now_v7(), true, t).await;
    queue(&s, "not-reached", Uuid::now_v7(), true, t).await;
    // A process claims both and dies: it had handed one to the provider, not the other.
    let claimed = s
        .store()
        .write(move |tx| outbox::claim(tx, "dead-process", t, 10))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    let reached = claimed
        .iter()
        .find(|c| c.message.trigger_key == "reached")
        .unwrap()
        .message
        .id;
    provider.taken.lock().unwrap().insert(reached, 1);

    let c = courier(&s, &provider);
    // Within the lease they are the dead process's.
    assert_eq!(
        c.round(t + Duration::milliseconds(outbox::LEASE_MS - 1))
            .await
            .unwrap(),
        0
    );
    // After it, both are in doubt: the provider is asked about each, and only the one it never
    // had is sent.
    let after = t + Duration::milliseconds(outbox::LEASE_MS);
    assert_eq!(c.round(after).await.unwrap(), 2);
    assert_eq!(provider.asked.lock().unwrap().len(), 2);
    let taken = provider.taken();
    assert_eq!(taken.len(), 2);
    assert!(taken.values().all(|&n| n == 1), "{taken:?}");
    assert!(
        s.messages()
            .await
            .iter()
            .all(|m| m.state == MessageState::Sent && m.attempts == 2)
    );
}

// The sweep: what time sets off. The demo holds late issues and households of its own, so each
// test follows its own subject's trigger keys.

async fn sweep(s: &Server, at: DateTime<Utc>) -> usize {
    s.store()
        .write(move |tx| gridmate_server::apply::sweep::sweep(tx, at))
        .await
        .unwrap()
}

/// The messages whose trigger key starts with `prefix`, as (rung-and-person part, recipient).
async fn keyed(s: &Server, prefix: &str) -> Vec<(String, Uuid)> {
    let mut v: Vec<(String, Uuid)> = s
        .messages()
        .await
        .into_iter()
        .filter_map(|m| {
            m.trigger_key
                .strip_prefix(prefix)
                .map(|rest| (rest.to_string(), m.recipient_id))
        })
        .collect();
    v.sort();
    v
}

async fn people_holding(s: &Server, role: Role, grid: Uuid) -> Vec<Uuid> {
    let mut v: Vec<Uuid> = s
        .store()
        .read(|tx| tx.people())
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, a)| a.iter().any(|a| a.role == role && a.grid_id == Some(grid)))
        .map(|(u, _)| u.id)
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn those_silent_after_the_minutes_a_call_up_set_are_called_again_once() {
    let s = Server::start().await;
    let leader = s.login(Role::GridLeader, "l").await;
    let member = s.login(Role::PartyMember, "p").await;
    let grid = demo().grids[0].id.0;
    let caller = user_of(&s, Role::GridLeader).await.id;
    // Everyone of the grid is called but the caller and the street's read-only accounts.
    let mut called: Vec<Uuid> = s
        .store()
        .read(|tx| tx.people())
        .await
        .unwrap()
        .into_iter()
        .filter(|(u, a)| {
            u.id != caller
                && a.iter()
                    .any(|a| a.grid_id == Some(grid) && a.role != Role::StreetViewer)
        })
        .map(|(u, _)| u.id)
        .collect();
    called.sort();
    assert!(called.len() >= 2, "the demo's grid has people: {called:?}");
    let callup = Uuid::now_v7();
    let call = mutation(
        "callup.create",
        json!({"callup_id": callup, "grid_id": grid, "roles": [],
               "place": "北门广场", "at": Utc::now() + Duration::minutes(30), "message": "防汛集合",
               "recall_after_minutes": 10}),
    );
    let r = s.push_ok(&leader, "l", &[call]).await;
    assert_eq!(r[0].status, PushStatus::Applied, "{r:?}");
    // One member answers at once.
    let answered = s
        .push_ok(
            &member,
            "p",
            &[mutation(
                "callup.respond",
                json!({"response_id": Uuid::now_v7(), "callup_id": callup, "answer": "coming"}),
            )],
        )
        .await;
    assert_eq!(answered[0].status, PushStatus::Applied, "{answered:?}");
    let me = user_of(&s, Role::PartyMember).await.id;

    let prefix = format!("callup-recall:{callup}:");
    let now = Utc::now();
    sweep(&s, now + Duration::minutes(9)).await;
    assert!(
        keyed(&s, &prefix).await.is_empty(),
        "not yet: 9 of 10 minutes"
    );
    sweep(&s, now + Duration::minutes(11)).await;
    let recalled: Vec<Uuid> = keyed(&s, &prefix)
        .await
        .into_iter()
        .map(|(_, u)| u)
        .collect();
    let silent: Vec<Uuid> = called.iter().copied().filter(|u| *u != me).collect();
    assert_eq!(recalled, silent, "everyone called but the one who answered");
    for m in s
        .messages()
        .await
        .iter()
        .filter(|m| m.trigger_key.starts_with(&prefix))
    {
        assert_eq!(m.notice, "callup_recall");
        assert!(m.urgent, "a recall goes at night too");
    }
    // Swept again (a minute later, or by a second process): nobody is called a third time.
    assert_eq!(sweep(&s, now + Duration::minutes(12)).await, 0);
    assert_eq!(keyed(&s, &prefix).await.len(), silent.len());
}

/// A low-severity sanitation issue in grid 0 reported by the leader and assigned to the worker.
async fn late_issue(s: &Server, leader: &str) -> (Uuid, Uuid) {
    let d = demo();
    let worker = user_of(s, Role::GridWorker).await.id;
    let issue = Uuid::now_v7();
    let r = s
        .push_ok(
            leader,
            "l",
            &[
                mutation(
                    "issue.report",
                    json!({"issue_id": issue, "grid_id": d.grids[0].id.0, "category": "sanitation",
                           "title": "垃圾站满溢", "description": "", "severity": "low", "photos": []}),
                ),
                mutation(
                    "issue.event",
                    json!({"event_id": Uuid::now_v7(), "issue_id": issue, "action": "assign",
                           "note": "", "assignee_id": worker}),
                ),
            ],
        )
        .await;
    assert!(r.iter().all(|r| r.status == PushStatus::Applied), "{r:?}");
    (issue, worker)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_issue_climbs_the_offices_ladder_one_rung_at_a_time_and_stops_when_handled() {
    use gridmate_model::issue::Escalation;
    use gridmate_model::{IssueCategory, Severity};
    let s = Server::start().await;
    let leader = s.login(Role::GridLeader, "l").await;
    // The office's ladder for low sanitation issues: the leader 5 hours late, the office 30.
    s.store()
        .write(|tx| {
            let mut limits = gridmate_server::store::limits::load(tx)?;
            let ladder = Escalation {
                leader_after_hours: 5,
                office_after_hours: 30,
            };
            limits
                .set_escalation(IssueCategory::Sanitation, Severity::Low, ladder)
                .unwrap();
            gridmate_server::store::limits::save(tx, &limits)
        })
        .await
        .unwrap();
    let (issue, worker) = late_issue(&s, &leader).await;
    let due = Utc::now() + Duration::days(7);
    let grid = demo().grids[0].id.0;
    let leaders = people_holding(&s, Role::GridLeader, grid).await;
    let office = people_holding(&s, Role::CommunityAdmin, grid).await;
    assert!(!leaders.is_empty() && !office.is_empty());
    let prefix = format!("overdue:{issue}:");
    let rungs = |v: &[(String, Uuid)], rung: &str| -> Vec<Uuid> {
        v.iter()
            .filter(|(k, _)| k.contains(&format!(":{rung}:")))
            .map(|(_, u)| *u)
            .collect()
    };

    sweep(&s, due - Duration::minutes(5)).await;
    assert!(keyed(&s, &prefix).await.is_empty(), "not late yet");
    sweep(&s, due + Duration::minutes(5)).await;
    let v = keyed(&s, &prefix).await;
    assert_eq!(
        v.iter().map(|(_, u)| *u).collect::<Vec<_>>(),
        vec![worker],
        "the assignee first"
    );
    sweep(&s, due + Duration::hours(4)).await;
    assert_eq!(
        keyed(&s, &prefix).await.len(),
        1,
        "the leader's rung is at 5 hours"
    );
    sweep(&s, due + Duration::hours(5) + Duration::minutes(1)).await;
    let v = keyed(&s, &prefix).await;
    assert_eq!(rungs(&v, "leader"), leaders);
    assert!(rungs(&v, "office").is_empty());
    sweep(&s, due + Duration::hours(31)).await;
    let v = keyed(&s, &prefix).await;
    assert_eq!(rungs(&v, "office"), office);
    assert_eq!(
        v.len(),
        1 + leaders.len() + office.len(),
        "each rung once: {v:?}"
    );
    for m in s
        .messages()
        .await
        .iter()
        .filter(|m| m.trigger_key.starts_with(&prefix))
    {
        assert_eq!(m.notice, "issue_overdue");
        assert_eq!(m.link, format!("/issue/{issue}"));
        assert_eq!(m.params.len(), 3, "{:?}", m.params);
    }

    // Resolved by the worker, it is no longer chased: a second issue late as long is.
    let worker_token = s.login(Role::GridWorker, "w").await;
    let r = s
        .push_ok(
            &worker_token,
            "w",
            &[mutation(
                "issue.event",
                json!({"event_id": Uuid::now_v7(), "issue_id": issue, "action": "resolve",
                       "note": "已清运"}),
            )],
        )
        .await;
    assert!(matches!(r[0].status, PushStatus::Applied), "resolve: {r:?}");
    let (second, _) = late_issue(&s, &leader).await;
    let before = keyed(&s, &prefix).await.len();
    sweep(&s, Utc::now() + Duration::days(7) + Duration::hours(6)).await;
    assert_eq!(
        keyed(&s, &prefix).await.len(),
        before,
        "a resolved issue is left alone"
    );
    assert_eq!(
        keyed(&s, &format!("overdue:{second}:")).await.len(),
        1 + leaders.len()
    );
    // A rung whose moment passed days ago is the digest's, not a text: a third issue first
    // swept a month late is counted, not sent.
    let (third, _) = late_issue(&s, &leader).await;
    sweep(&s, Utc::now() + Duration::days(40)).await;
    assert!(keyed(&s, &format!("overdue:{third}:")).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vulnerable_household_unseen_twice_its_cadence_tells_its_workers_then_its_leaders() {
    let s = Server::start().await;
    let visited: Vec<gridmate_protocol::records::HouseholdRecord> = s
        .store()
        .read(|tx| tx.live_data(gridmate_protocol::Entity::Household))
        .await
        .unwrap()
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    let worker = user_of(&s, Role::GridWorker).await.id;
    let worker_grids: Vec<Uuid> = s
        .store()
        .read(move |tx| tx.assignments(worker))
        .await
        .unwrap()
        .into_iter()
        .filter_map(|a| a.grid_id)
        .collect();
    let h = visited
        .iter()
        .filter(|h| {
            worker_grids.contains(&h.grid_id)
                && h.last_visit_at.is_some()
                && h.tags.iter().any(|t| {
                    gridmate_model::HouseholdTag::from_code(t).is_some_and(|t| t.is_vulnerable())
                })
        })
        .max_by_key(|h| h.last_visit_at)
        .expect("the demo worker's grids have a vulnerable household they visited");
    let last = h.last_visit_at.unwrap();
    let cadence = Duration::days(i64::from(h.visit_cadence_days));
    let workers = people_holding(&s, Role::GridWorker, h.grid_id).await;
    let leaders = people_holding(&s, Role::GridLeader, h.grid_id).await;
    let prefix = format!("unseen:{}:{}:", h.id, last.timestamp_millis());

    sweep(&s, last + cadence * 2 - Duration::hours(1)).await;
    assert!(
        keyed(&s, &prefix).await.is_empty(),
        "one cadence late is the list's, not an alarm"
    );
    sweep(&s, last + cadence * 2 + Duration::hours(1)).await;
    let v = keyed(&s, &prefix).await;
    assert_eq!(
        v.iter().map(|(_, u)| *u).collect::<Vec<_>>(),
        workers,
        "its workers first"
    );
    sweep(&s, last + cadence * 3 + Duration::hours(1)).await;
    let v = keyed(&s, &prefix).await;
    assert_eq!(
        v.len(),
        workers.len() + leaders.len(),
        "then its leaders, once: {v:?}"
    );
    let m = s
        .messages()
        .await
        .into_iter()
        .find(|m| m.trigger_key.starts_with(&prefix))
        .unwrap();
    assert_eq!(m.notice, "household_unseen");
    assert_eq!(m.link, format!("/household/{}", h.id));

    // A visit moves its last visit: the old alarm is not raised again.
    let worker = s.login(Role::GridWorker, "w").await;
    let r = s.push_ok(&worker, "w", &[visit(h.id)]).await;
    assert!(
        matches!(r[0].status, PushStatus::Applied),
        "the worker visits: {r:?}"
    );
    let before = keyed(&s, &prefix).await.len();
    sweep(&s, Utc::now() + Duration::hours(1)).await;
    assert_eq!(keyed(&s, &prefix).await.len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_grid_leader_gets_one_digest_a_morning_when_something_waits() {
    let s = Server::start().await;
    let leader = s.login(Role::GridLeader, "l").await;
    let (_issue, _) = late_issue(&s, &leader).await;
    let in_ten_days = Utc::now() + Duration::days(10);
    // 07:59 and 08:00 China time on that day.
    let day = in_ten_days
        .with_timezone(&gridmate_model::calendar::china())
        .date_naive();
    let at = |h: u32, m: u32| {
        day.and_hms_opt(h, m, 0)
            .unwrap()
            .and_local_timezone(gridmate_model::calendar::china())
            .unwrap()
            .with_timezone(&Utc)
    };
    let grid = demo().grids[0].id.0;
    let me = people_holding(&s, Role::GridLeader, grid).await[0];
    let prefix = format!("digest:{me}:");
    sweep(&s, at(7, 59)).await;
    assert!(keyed(&s, &prefix).await.is_empty(), "before eight");
    sweep(&s, at(8, 0)).await;
    sweep(&s, at(9, 30)).await;
    let v = keyed(&s, &prefix).await;
    assert_eq!(v.len(), 1, "one a day: {v:?}");
    let m = s
        .messages()
        .await
        .into_iter()
        .find(|m| m.trigger_key.starts_with(&prefix))
        .unwrap();
    assert_eq!(m.notice, "leader_digest");
    let overdue: u32 = m.params[1].1.parse().unwrap();
    assert!(
        overdue >= 1,
        "at least the test's own late issue: {:?}",
        m.params
    );
    assert!(!m.urgent);
    sweep(&s, at(8, 0) + Duration::days(1)).await;
    assert_eq!(
        keyed(&s, &prefix).await.len(),
        2,
        "and the next morning another"
    );
    // Nobody but grid leaders gets a digest.
    let digests: Vec<Uuid> = s
        .messages()
        .await
        .into_iter()
        .filter(|m| m.notice == "leader_digest")
        .map(|m| m.recipient_id)
        .collect();
    let all_leaders: Vec<Uuid> = s
        .store()
        .read(|tx| tx.people())
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, a)| a.iter().any(|a| a.role == Role::GridLeader))
        .map(|(u, _)| u.id)
        .collect();
    assert!(digests.iter().all(|u| all_leaders.contains(u)));
}
