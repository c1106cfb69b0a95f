//! The roll in the field: registering a household, adding a person, correcting one. Each is the
//! record and its outbox entry in one transaction; a refusal leaves nothing behind.

mod common;

use common::{counts, demo, demo_store};
use gridmate_device::*;
use gridmate_model::*;

#[test]
fn a_tenant_household_is_registered_with_its_head_and_found_by_search() {
    let (dir, mut store) = demo_store(Role::GridWorker);
    let d = demo();
    let building = d
        .buildings
        .iter()
        .find(|b| b.grid_id == d.grids[0].id)
        .unwrap();
    let before = counts(dir.path());
    let bad_room = NewHousehold {
        building_id: building.id,
        unit: 1,
        room: "三零一号房间很长很长".into(),
        head_name: "王租户".into(),
        head_phone: Some("13912345678".into()),
        tags: vec![HouseholdTag::Rental],
    };
    assert!(matches!(
        store.register_household(bad_room),
        Err(DeviceError::Invalid(_))
    ));
    assert_eq!(counts(dir.path()), before);
    // A bad phone for the head refuses the household too: one action, one transaction.
    let bad_phone = NewHousehold {
        room: "1502".into(),
        head_phone: Some("12345".into()),
        unit: 2,
        building_id: building.id,
        head_name: "王租户".into(),
        tags: vec![],
    };
    assert!(matches!(
        store.register_household(bad_phone),
        Err(DeviceError::Invalid(_))
    ));
    assert_eq!(counts(dir.path()), before);
    let id = store
        .register_household(NewHousehold {
            building_id: building.id,
            unit: 2,
            room: "1502".into(),
            head_name: "王租户".into(),
            head_phone: Some("13912345678".into()),
            tags: vec![HouseholdTag::Rental],
        })
        .unwrap();
    let detail = store.household(id).unwrap();
    assert_eq!(detail.residents.len(), 1, "the head, as its first member");
    let resident = detail.residents[0].id;
    assert_eq!(detail.residents[0].relation, "户主");
    assert!(detail.household.address.ends_with("2单元1502"));
    assert_eq!(detail.household.tags, [HouseholdTag::Rental]);
    assert_eq!(
        detail.residents[0].phone_masked.as_deref(),
        Some("139****5678")
    );
    assert!(detail.residents[0].pending, "waiting to sync");
    assert!(
        store
            .search("wzh", 100)
            .unwrap()
            .iter()
            .any(|h| h.resident_id == Some(resident))
    );
    let kinds: Vec<String> = store
        .pending_mutations(10)
        .unwrap()
        .into_iter()
        .map(|m| m.kind)
        .collect();
    assert_eq!(kinds, ["household.create", "resident.create"]);
}

#[test]
fn a_resident_is_corrected_or_marked_moved_out_and_bad_input_changes_nothing() {
    let (dir, mut store) = demo_store(Role::GridWorker);
    let d = demo();
    let household = d
        .households
        .iter()
        .find(|h| h.grid_id == d.grids[0].id)
        .unwrap();
    let person = d
        .residents
        .iter()
        .find(|r| r.household_id == household.id)
        .unwrap();
    let before = counts(dir.path());
    let bad_phone = ResidentPatch {
        phone: Some(Some("12345".into())),
        ..Default::default()
    };
    assert!(matches!(
        store.patch_resident(person.id, bad_phone),
        Err(DeviceError::Invalid(_))
    ));
    assert!(matches!(
        store.add_resident(NewResident {
            household_id: household.id,
            name: "  ".into(),
            relation: String::new(),
            birth_year: None,
            phone: None,
            tags: vec![],
        }),
        Err(DeviceError::Invalid(_))
    ));
    assert_eq!(counts(dir.path()), before);
    store
        .patch_resident(
            person.id,
            ResidentPatch {
                phone: Some(Some("13600001111".into())),
                moved_out: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    let detail = store.household(household.id).unwrap();
    let row = detail.residents.iter().find(|r| r.id == person.id).unwrap();
    assert!(row.moved_out && row.pending);
    assert_eq!(row.phone_masked.as_deref(), Some("136****1111"));
    assert_eq!(
        detail.residents.last().unwrap().id,
        person.id,
        "moved out listed last"
    );
    let queued = store.pending_mutations(10).unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].kind, "resident.patch");
    assert_eq!(queued[0].data["fields"]["moved_out"], true);
    assert_eq!(queued[0].data["fields"]["phone"], "13600001111");
}
