//! Imports of what the community office has: GeoJSON grids, household spreadsheets in UTF-8 (with
//! or without BOM) and GBK, and the check that grids tile without gap or overlap. A bad file
//! names its problems by line and field and imports nothing.

mod common;

use gridmate_protocol::Entity;
use gridmate_server::database::Database;
use gridmate_server::import::*;
use gridmate_server::store::Backend;
use serde_json::json;

fn square(x0: f64, y0: f64, side: f64) -> serde_json::Value {
    json!([[
        [x0, y0],
        [x0 + side, y0],
        [x0 + side, y0 + side],
        [x0, y0 + side],
        [x0, y0]
    ]])
}

fn feature(code: &str, coords: serde_json::Value) -> serde_json::Value {
    json!({"type": "Feature", "properties": {"code": code, "name": format!("{code}网格"), "kind": "居民", "community": "测试社区"},
           "geometry": {"type": "Polygon", "coordinates": coords}})
}

fn collection(features: Vec<serde_json::Value>) -> String {
    json!({"type": "FeatureCollection", "features": features}).to_string()
}

fn count(store: &impl Backend, entity: &str) -> i64 {
    live(store, entity).len() as i64
}

fn live(store: &impl Backend, entity: &str) -> Vec<String> {
    store
        .admin(|tx| tx.live_data(Entity::from_code(entity)))
        .unwrap()
}

#[test]
fn grids_that_tile_pass_the_coverage_check_and_reimport_updates_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::fresh(dir.path()).0;
    let text = collection(vec![
        feature("A", square(113.0, 22.0, 0.005)),
        feature("B", square(113.005, 22.0, 0.005)),
    ]);
    assert_eq!(import_grids(&store, &text).unwrap(), 2);
    let r = coverage_check(&store).unwrap();
    assert_eq!(r.len(), 1);
    assert!(r[0].overlaps.is_empty() && r[0].gaps_m2.is_empty(), "{r:?}");
    assert!(
        (r[0].total_m2 - 2.0 * 514.0 * 556.0).abs() / r[0].total_m2 < 0.02,
        "{}",
        r[0].total_m2
    );
    assert_eq!(import_grids(&store, &text).unwrap(), 2);
    assert_eq!(
        count(&store, "grid"),
        2,
        "same community and code: updated, not added"
    );
}

#[test]
fn overlaps_and_gaps_are_measured_in_square_metres() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::fresh(dir.path()).0;
    // A ring of four grids around an empty middle, and one grid overlapping its neighbour by a
    // strip 0.001° wide.
    let s = 0.005;
    let ring = vec![
        feature(
            "N",
            json!([[
                [113.0, 22.01],
                [113.015, 22.01],
                [113.015, 22.015],
                [113.0, 22.015],
                [113.0, 22.01]
            ]]),
        ),
        feature(
            "S",
            json!([[
                [113.0, 22.0],
                [113.015, 22.0],
                [113.015, 22.005],
                [113.0, 22.005],
                [113.0, 22.0]
            ]]),
        ),
        feature("W", square(113.0, 22.005, s)),
        feature(
            "E",
            json!([[
                [113.009, 22.005],
                [113.015, 22.005],
                [113.015, 22.01],
                [113.009, 22.01],
                [113.009, 22.005]
            ]]),
        ),
    ];
    import_grids(&store, &collection(ring)).unwrap();
    let r = &coverage_check(&store).unwrap()[0];
    // The hole: 0.004° × 0.005° ≈ 411 m × 556 m.
    assert_eq!(r.gaps_m2.len(), 1, "{r:?}");
    assert!(
        (r.gaps_m2[0] - 228_700.0).abs() < 5_000.0,
        "{}",
        r.gaps_m2[0]
    );
    assert!(r.overlaps.is_empty());

    let dir = tempfile::tempdir().unwrap();
    let store = common::fresh(dir.path()).0;
    import_grids(
        &store,
        &collection(vec![
            feature("A", square(113.0, 22.0, s)),
            feature("B", square(113.004, 22.0, s)),
        ]),
    )
    .unwrap();
    let r = &coverage_check(&store).unwrap()[0];
    assert_eq!(r.overlaps.len(), 1);
    // 0.001° × 0.005° ≈ 103 m × 556 m.
    assert!(
        (r.overlaps[0].2 - 57_200.0).abs() < 2_000.0,
        "{:?}",
        r.overlaps
    );
}

#[test]
fn a_bad_geojson_names_each_problem_and_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::fresh(dir.path()).0;
    let mut no_code = feature("X", square(113.0, 22.0, 0.005));
    no_code["properties"]["code"] = json!("");
    let open_ring = feature(
        "Y",
        json!([[[113.0, 22.0], [113.1, 22.0], [113.1, 22.1], [113.0, 22.1]]]),
    );
    let point = json!({"type": "Feature", "properties": {"code": "Z", "name": "z", "community": "c"}, "geometry": {"type": "Point", "coordinates": [113.0, 22.0]}});
    let text = collection(vec![
        feature("OK", square(113.0, 22.0, 0.005)),
        no_code,
        open_ring,
        point,
    ]);
    let Err(ImportError::Problems(p)) = import_grids(&store, &text) else {
        panic!("accepted a bad file")
    };
    let got: Vec<(usize, &str)> = p.iter().map(|p| (p.line, p.field.as_str())).collect();
    assert_eq!(got, vec![(2, "code"), (3, "geometry"), (4, "geometry")]);
    assert_eq!(count(&store, "grid"), 0, "nothing imported");
    assert!(import_grids(&store, "{\"type\": \"Feature").is_err());
}

const CSV: &str = "网格编码,楼栋,单元,房号,户主姓名,小区,标签,走访周期,户主电话\n\
A,12栋,2,301,张三,联和花园,独居老人,,13800138000\n\
A,12,2,302,李四,联和花园,,30,\n\
A,13,1,101室,王五,联和花园,低保户、残疾人,,\n";

fn with_grid() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let store = common::fresh(dir.path()).0;
    import_grids(
        &store,
        &collection(vec![feature("A", square(113.0, 22.0, 0.005))]),
    )
    .unwrap();
    (dir, store)
}

#[test]
fn households_import_from_utf8_with_bom_and_from_gbk() {
    for bytes in [
        [b"\xEF\xBB\xBF".as_slice(), CSV.as_bytes()].concat(),
        CSV.as_bytes().to_vec(),
        encoding_rs::GBK.encode(CSV).0.into_owned(),
    ] {
        let (_dir, store) = with_grid();
        let text = decode_text(&bytes);
        assert_eq!(import_households(&store, &text).unwrap(), 3);
        assert_eq!(count(&store, "household"), 3);
        assert_eq!(count(&store, "building"), 2, "12 and 13, made once each");
        assert_eq!(count(&store, "resident"), 3);
        let data = live(&store, "household")
            .into_iter()
            .find(|d| d.contains("张三"))
            .unwrap();
        let h: serde_json::Value = serde_json::from_str(&data).unwrap();
        assert_eq!(
            (
                h["unit"].as_u64(),
                h["room"].as_str(),
                h["visit_cadence_days"].as_u64()
            ),
            (Some(2), Some("301"), Some(7))
        );
        assert_eq!(h["tags"], json!(["elderly_alone"]));
    }
}

#[test]
fn a_bad_spreadsheet_names_line_and_field_and_imports_nothing() {
    let (_dir, store) = with_grid();
    let bad = "网格编码,楼栋,单元,房号,户主姓名,标签,户主电话\n\
A,12,2,301,张三,,\n\
B,12,2,302,李四,,\n\
A,12,零,303,王五,,\n\
A,12,2,304,,,\n\
A,12,2,305,赵六,有钱人,\n\
A,12,2,306,钱七,,12345\n\
A,12,2,301,孙八,,\n";
    let Err(ImportError::Problems(p)) = import_households(&store, bad) else {
        panic!("accepted a bad file")
    };
    let got: Vec<(usize, &str)> = p.iter().map(|p| (p.line, p.field.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (3, "网格编码"),
            (4, "单元"),
            (5, "户主姓名"),
            (6, "标签"),
            (7, "户主电话"),
            (8, "房号")
        ]
    );
    assert!(p[5].message.en.contains("twice"));
    assert_eq!(count(&store, "household"), 0);
    let Err(ImportError::Problems(p)) = import_households(&store, "楼栋,单元\n1,1\n") else {
        panic!()
    };
    assert!(
        p.iter()
            .any(|p| p.field == "网格编码" && p.message.en.contains("missing"))
    );
}

/// An import bigger than PostgreSQL's held writes (they are sent every few thousand rows, not as
/// one statement of the whole file) lands whole, and the grid's maintained count and digest
/// agree with its records.
#[test]
fn a_large_import_lands_whole_with_its_digest() {
    let (_dir, store) = with_grid();
    let mut csv = String::from("网格编码,楼栋,单元,房号,户主姓名\n");
    for i in 0..6_000 {
        csv.push_str(&format!(
            "A,{},{},{}0{},户主{i}\n",
            i / 400 + 1,
            i % 400 / 200 + 1,
            i % 200 / 2 + 1,
            i % 2 + 1
        ));
    }
    assert_eq!(import_households(&store, &csv).unwrap(), 6_000);
    assert_eq!(count(&store, "household"), 6_000);
    let grid: serde_json::Value = serde_json::from_str(&live(&store, "grid")[0]).unwrap();
    let grid: uuid::Uuid = grid["id"].as_str().unwrap().parse().unwrap();
    let (kept, recomputed) = store
        .admin(|tx| {
            let kept = tx.grid_digests(&[grid])?.pop().unwrap_or_default();
            let p = gridmate_server::store::Principal {
                user_id: uuid::Uuid::nil(),
                name: String::new(),
                roles: vec![gridmate_model::Role::GridWorker],
                grids: vec![grid],
                buildings: vec![],
                scope_epoch: 1,
                device_id: String::new(),
                household: None,
            };
            let scope = gridmate_server::store::scope::Scope::of(&p);
            let head = tx.head()?;
            let keys = tx.live_keys(&scope, head)?;
            let recomputed = gridmate_server::store::log::digest_of(
                keys.iter().map(|(e, id, seq)| (*e, id, *seq)),
            );
            Ok((kept, recomputed))
        })
        .unwrap();
    assert_eq!(kept, recomputed, "the maintained digest is the records'");
    assert!(
        kept.count >= 12_000,
        "households and their heads: {}",
        kept.count
    );
}
