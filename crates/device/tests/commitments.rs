//! Commitments (承诺践诺) on the phone: the grid's public list, a promise made and moved, each
//! write one transaction, a refusal leaving nothing behind.

mod common;

use chrono::{Datelike, Utc};
use common::{counts, demo, demo_store};
use gridmate_device::*;
use gridmate_model::*;

#[test]
fn a_member_promises_reports_progress_and_keeps_the_promise() {
    let d = demo();
    let (dir, mut store) = demo_store(Role::PartyMember);
    let grid = d.grids[0].id;
    let year = d.commitments[0].year;
    assert_eq!(
        store.commitments(grid, year).unwrap().len(),
        d.commitments.len()
    );

    let before = counts(dir.path());
    assert!(matches!(
        store.make_commitment(grid, " ", ""),
        Err(DeviceError::Invalid(_))
    ));
    assert!(
        store
            .make_commitment(d.grids[1].id, "在别的网格", "")
            .is_err()
    );
    assert_eq!(counts(dir.path()), before);

    let id = store
        .make_commitment(grid, "每周帮独居老人买菜", "周六上午")
        .unwrap();
    // Progress needs a note.
    assert!(matches!(
        store.act_on_commitment(id, CommitmentAction::Progress, "", vec![]),
        Err(DeviceError::Invalid(_))
    ));
    store
        .act_on_commitment(id, CommitmentAction::Progress, "第一周已买菜", vec![])
        .unwrap();
    let kept = store
        .act_on_commitment(id, CommitmentAction::Fulfil, "", vec![])
        .unwrap();
    assert_eq!(kept, CommitmentStatus::Fulfilled);
    // A kept promise moves no more.
    assert!(
        store
            .act_on_commitment(id, CommitmentAction::Drop, "", vec![])
            .is_err()
    );
    let mine = store
        .commitments(grid, Utc::now().year())
        .unwrap()
        .into_iter()
        .find(|c| c.id == id)
        .unwrap();
    assert_eq!(
        (mine.status, mine.progress),
        (CommitmentStatus::Fulfilled, 1)
    );
    assert_eq!(store.commitment_events(id).unwrap().len(), 2);
    let kinds: Vec<String> = store
        .pending_mutations(10)
        .unwrap()
        .into_iter()
        .map(|m| m.kind)
        .collect();
    assert_eq!(
        kinds,
        ["commitment.create", "commitment.event", "commitment.event"]
    );
}

#[test]
fn nobody_moves_someone_elses_promise() {
    let d = demo();
    let (dir, mut store) = demo_store(Role::GridWorker);
    let theirs = &d.commitments[0];
    let before = counts(dir.path());
    assert!(
        store
            .act_on_commitment(theirs.id, CommitmentAction::Fulfil, "", vec![])
            .is_err()
    );
    assert_eq!(counts(dir.path()), before);
}
