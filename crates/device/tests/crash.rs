//! "Killing the process at any moment leaves both or neither": a child process records visits
//! in a loop and reports each commit on stdout; the parent SIGKILLs it at a random moment, many
//! times over, and after every kill checks the file: sound, every reported commit present, and
//! every visit paired with exactly one outbox mutation (and no mutation without its visit).

mod common;

use chrono::{Duration, Utc};
use gridmate_device::{NewVisit, Store};
use gridmate_model::*;
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

const KILLS: usize = 50;

fn visit(household: HouseholdId, n: usize) -> NewVisit {
    let now = Utc::now();
    NewVisit {
        household_id: household,
        started_at: now - Duration::minutes(10),
        ended_at: now,
        kind: VisitKind::Routine,
        outcome: VisitOutcome::Met,
        notes: format!("第{n}次走访：家中一切正常"),
        people_served: 2,
        location: None,
        photos: vec![],
        raised_issues: vec![],
    }
}

#[test]
fn sigkill_at_any_moment_leaves_record_and_outbox_together() {
    let (dir, store) = common::demo_store(Role::GridWorker);
    drop(store);
    // A tiny xorshift so each run kills at different moments, reported for reproduction.
    let mut seed = Utc::now().timestamp_micros() as u64 | 1;
    eprintln!("kill schedule seed {seed}");
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut reported: HashSet<String> = HashSet::new();
    let started = Instant::now();
    for round in 0..KILLS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "visit_writer_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("GRIDMATE_CRASH_DIR", dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut lines = stdout.lines();
        // Wait until the writer is in its loop, then let it run a random 0–40 ms.
        loop {
            let line = lines.next().expect("child ended early").unwrap();
            if line.contains("READY") {
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_micros(next() % 40_000));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        for line in lines.map_while(Result::ok) {
            if let Some((_, id)) = line.split_once("COMMITTED ") {
                reported.insert(id.trim().to_string());
            }
        }

        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.integrity_check().unwrap(), "ok", "round {round}");
        drop(store);
        let conn = rusqlite::Connection::open(dir.path().join("gridmate.sqlite")).unwrap();
        let visits: HashSet<uuid::Uuid> = conn
            .prepare("SELECT id FROM visits WHERE notes LIKE '第%'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let subjects: Vec<uuid::Uuid> = conn
            .prepare("SELECT subject_id FROM outbox WHERE kind = 'visit.record'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let subject_set: HashSet<_> = subjects.iter().copied().collect();
        assert_eq!(
            subjects.len(),
            subject_set.len(),
            "round {round}: a visit enqueued twice"
        );
        assert_eq!(
            visits, subject_set,
            "round {round}: a visit without its mutation or the reverse"
        );
        for id in &reported {
            let id: uuid::Uuid = id.parse().unwrap();
            assert!(
                visits.contains(&id),
                "round {round}: committed visit {id} lost"
            );
        }
    }
    let conn = rusqlite::Connection::open(dir.path().join("gridmate.sqlite")).unwrap();
    let total: i64 = conn
        .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))
        .unwrap();
    eprintln!(
        "{KILLS} kills, {} commits reported, {total} in the outbox, {:?}",
        reported.len(),
        started.elapsed()
    );
    assert!(
        reported.len() >= KILLS / 2,
        "the writer must get work done between kills"
    );
}

#[test]
#[ignore = "child process of sigkill_at_any_moment_leaves_record_and_outbox_together"]
fn visit_writer_child() {
    let dir = std::env::var("GRIDMATE_CRASH_DIR").expect("run by the crash test");
    let mut store = Store::open(&dir).unwrap();
    let households: Vec<HouseholdId> = common::demo()
        .households
        .iter()
        .take(200)
        .map(|h| h.id)
        .collect();
    println!("READY");
    for n in 0.. {
        let id = store
            .record_visit(visit(households[n % households.len()], n))
            .unwrap();
        println!("COMMITTED {id}");
    }
}
