//! Call-ups (一键响应) on the phone: the banner's data and each answer as one transaction.

mod common;

use common::{counts, demo, demo_store_with_open_callup};
use gridmate_device::*;
use gridmate_model::*;

#[test]
fn a_member_answers_coming_then_checks_in_at_the_meeting_point() {
    let d = demo();
    let (dir, mut store) = demo_store_with_open_callup(Role::PartyMember);
    let cards = store.open_callups().unwrap();
    assert_eq!(cards.len(), 1);
    let c = &cards[0].callup;
    assert_eq!((cards[0].mine, cards[0].coming), (None, 0));
    store
        .respond_to_callup(c.id, CallupAnswer::Coming, None)
        .unwrap();
    let card = &store.open_callups().unwrap()[0];
    assert_eq!(
        (card.mine, card.coming, card.arrived),
        (Some(CallupAnswer::Coming), 1, 0)
    );

    // Arriving needs a fix: refused without one, and nothing is written.
    let before = counts(dir.path());
    assert!(matches!(
        store.respond_to_callup(c.id, CallupAnswer::Arrived, None),
        Err(DeviceError::Invalid(_))
    ));
    assert_eq!(counts(dir.path()), before);
    let (lat, lon) = c.location.unwrap();
    let fix = GpsFix {
        lat: lat + 0.0005,
        lon,
        accuracy_m: 8.0,
        mock_location: false,
    };
    store
        .respond_to_callup(c.id, CallupAnswer::Arrived, Some(fix))
        .unwrap();
    let card = &store.open_callups().unwrap()[0];
    assert_eq!(
        (card.mine, card.coming, card.arrived),
        (Some(CallupAnswer::Arrived), 1, 1)
    );
    let queued = store.pending_mutations(10).unwrap();
    assert_eq!(queued.len(), 2);
    assert!(queued.iter().all(|m| m.kind == "callup.respond"));
    assert_eq!(queued[1].data["answer"], "arrived");
    assert!(queued[1].data["location"]["lat"].is_number());
    let _ = d;
}

#[test]
fn a_call_up_calls_only_the_roles_it_names() {
    // The demo calls party members, building leaders and workers; not the office.
    let (_dir, store) = demo_store_with_open_callup(Role::CommunityAdmin);
    assert!(store.open_callups().unwrap().is_empty());
    let (_dir, store) = demo_store_with_open_callup(Role::BuildingLeader);
    assert_eq!(store.open_callups().unwrap().len(), 1);
}
