//! The starting corpora, made from the demo community and the real writers so that they are
//! valid inputs of today's formats: `gridmate-fuzz --write-seeds` rewrites `fuzz/corpus/*/seed-*`
//! (files the fuzzer found are kept beside them).

use crate::engine::corpus_dir;
use anyhow::Result;
use chrono::{Duration, Utc};
use gridmate_demo::{DemoConfig, generate};
use gridmate_device::{NewIssue, NewService, NewVisit, ScopeData, Session, Store};
use gridmate_model::*;
use gridmate_protocol::PushRequest;

fn write(target: &str, name: &str, bytes: &[u8]) -> Result<()> {
    let dir = corpus_dir(target);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(format!("seed-{name}")), bytes)?;
    Ok(())
}

pub fn write_all() -> Result<()> {
    push()?;
    pull_page()?;
    imports()?;
    addresses()?;
    photos()?;
    Ok(())
}

fn push() -> Result<()> {
    let demo = generate(&DemoConfig::scaled(200));
    let dir = tempfile::tempdir()?;
    let mut store = Store::open(dir.path())?;
    store.load_scope(ScopeData::of_demo(&demo, true))?;
    let u = demo.user(Role::GridWorker);
    store.sign_in(&Session {
        user: u.user.clone(),
        assignments: u.assignments.clone(),
    })?;
    let grid = demo.grids[0].id;
    let h = demo
        .households
        .iter()
        .find(|h| h.grid_id == grid)
        .expect("a household");
    let now = Utc::now();
    store.record_visit(NewVisit {
        household_id: h.id,
        started_at: now - Duration::minutes(20),
        ended_at: now,
        kind: VisitKind::CareVisit,
        outcome: VisitOutcome::Met,
        notes: "老人独居，血压偏高".into(),
        people_served: 1,
        location: Some(GpsFix {
            lat: 22.58,
            lon: 113.08,
            accuracy_m: 8.0,
            mock_location: false,
        }),
        photos: vec![PhotoRef::parse(&"ab".repeat(32)).expect("hash")],
        raised_issues: vec![],
    })?;
    let issue = store.report_issue(NewIssue {
        grid_id: grid,
        building_id: Some(h.building_id),
        household_id: Some(h.id),
        category: IssueCategory::FireSafety,
        severity: Severity::High,
        source: IssueSource::Patrol,
        title: "楼道电动车充电".into(),
        description: "私拉电线".into(),
        location: None,
        photos: vec![],
    })?;
    store.act_on_issue(issue, IssueAction::Accept, "已受理", vec![])?;
    store.record_service(NewService {
        grid_id: grid,
        issue_id: None,
        order_id: None,
        title: "清理小广告".into(),
        at: now,
        hours_tenths: 15,
        people_served: 3,
        photos: vec![],
    })?;
    store.patch_household(
        h.id,
        gridmate_device::HouseholdPatch {
            head_name: Some("王建国".into()),
            tags: Some(vec![HouseholdTag::ElderlyLivingAlone]),
            visit_cadence_days: Some(14),
        },
    )?;
    let mutations = store.pending_mutations(100)?;
    for (i, m) in mutations.iter().enumerate() {
        let one = PushRequest {
            device_id: store.device_id().into(),
            mutations: vec![m.clone()],
        };
        write(
            "push",
            &format!("{i}-{}", m.kind),
            &serde_json::to_vec(&one)?,
        )?;
    }
    let all = PushRequest {
        device_id: store.device_id().into(),
        mutations,
    };
    write("push", "all", &serde_json::to_vec_pretty(&all)?)?;
    Ok(())
}

fn pull_page() -> Result<()> {
    let demo = generate(&DemoConfig::scaled(200));
    let dir = tempfile::tempdir()?;
    let server = gridmate_server::sqlite::SqliteStore::open(dir.path())?;
    gridmate_server::demo::seed(&server, &demo)?;
    drop(server);
    let conn = rusqlite::Connection::open(dir.path().join("gridmate-server.sqlite"))?;
    for entity in [
        "grid",
        "building",
        "household",
        "resident",
        "issue",
        "issue_event",
        "visit",
    ] {
        let mut st = conn
            .prepare("SELECT seq, id, data FROM records WHERE entity = ?1 ORDER BY seq LIMIT 3")?;
        let changes: Vec<String> = st
            .query_map([entity], |r| {
                Ok(format!(
                    r#"{{"seq":{},"entity":"{entity}","id":"{}","op":"upsert","data":{}}}"#,
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let page = format!(
            r#"{{"changes":[{}],"cursor":"1.{}","has_more":true,"scope_epoch":1,"scope_count":{},"scope_digest":"00000000000000000000000000000000"}}"#,
            changes.join(","),
            changes.len(),
            changes.len()
        );
        write("pull_page", entity, page.as_bytes())?;
    }
    let id: String = conn.query_row(
        "SELECT id FROM records WHERE entity = 'household' LIMIT 1",
        [],
        |r| r.get(0),
    )?;
    write(
        "pull_page",
        "delete",
        format!(r#"{{"changes":[{{"seq":99999,"entity":"household","id":"{id}","op":"delete","data":{{"id":"{id}"}}}}],"cursor":"1.99999","has_more":false,"scope_epoch":1,"scope_count":0,"scope_digest":"00000000000000000000000000000000"}}"#).as_bytes(),
    )?;
    Ok(())
}

fn imports() -> Result<()> {
    let csv = "网格编码,楼栋,单元,房号,户主姓名,小区,标签,走访周期,户主电话\n\
A,12栋,2,301,张三,联和花园,独居老人,,13800138000\n\
A,12,2,302,李四,联和花园,,30,\n\
A,13,1,101室,王五,联和花园,低保户、残疾人,,\n";
    write("csv_import", "utf8.csv", csv.as_bytes())?;
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(csv.as_bytes());
    write("csv_import", "bom.csv", &bom)?;
    // The same sheet as Excel in China saves it: GBK.
    write("csv_import", "gbk.csv", &encoding_rs::GBK.encode(csv).0)?;
    write(
        "csv_import",
        "unknown-grid.csv",
        "网格编码,楼栋,单元,房号,户主姓名\nZ,1,1,101,赵六\n".as_bytes(),
    )?;
    let square = |x: f64| {
        format!(
            "[[[{x},22.0],[{},22.0],[{},22.005],[{x},22.005],[{x},22.0]]]",
            x + 0.005,
            x + 0.005
        )
    };
    let geo = format!(
        r#"{{"type":"FeatureCollection","features":[
 {{"type":"Feature","properties":{{"code":"A","name":"A网格","kind":"居民","community":"测试社区"}},"geometry":{{"type":"Polygon","coordinates":{}}}}},
 {{"type":"Feature","properties":{{"code":"B","name":"B网格","kind":"专属","community":"测试社区"}},"geometry":{{"type":"MultiPolygon","coordinates":[{}]}}}}]}}"#,
        square(113.0),
        square(113.005)
    );
    write("geojson_import", "two-grids.geojson", geo.as_bytes())?;
    people()
}

/// A 实有人口台账 as offices keep it, as CSV (UTF-8 and GBK) and as an XLSX workbook.
fn people() -> Result<()> {
    let rows = [
        [
            "姓名",
            "性别",
            "与户主关系",
            "身份证号",
            "联系电话",
            "人员类别",
            "所属网格",
            "现住址",
        ],
        [
            "张三",
            "男",
            "户主",
            "440703195001011236",
            "13800138000",
            "独居老人",
            "联和第一网格",
            "联和花园12栋2单元301室",
        ],
        [
            "李四",
            "女",
            "配偶",
            "",
            "",
            "户籍人口",
            "联和第一网格",
            "联和花园12栋2单元301室",
        ],
        [
            "王五",
            "男",
            "户主",
            "",
            "13912345678",
            "低保、残疾",
            "联和第二网格",
            "联和花园1-1-101",
        ],
    ];
    let csv: String = rows.iter().map(|r| r.join(",") + "\n").collect();
    write("people_import", "utf8.csv", csv.as_bytes())?;
    write("people_import", "gbk.csv", &encoding_rs::GBK.encode(&csv).0)?;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, *cell)?;
        }
    }
    write("people_import", "ledger.xlsx", &book.save_to_buffer()?)?;
    let demo = generate(&DemoConfig::scaled(200));
    let maps = gridmate_demo::basemap::base_maps(&demo.grids, &demo.buildings);
    write(
        "base_map_import",
        "demo.geojson",
        &gridmate_server::demo::base_map_geojson(&maps),
    )?;
    Ok(())
}

fn addresses() -> Result<()> {
    for (i, a) in [
        "12-2-301",
        "12栋2单元301室",
        "１２－２－３０１",
        "12-2",
        "12栋",
        "B3-1-1502",
        "12--301",
        "12号楼2单元301",
    ]
    .iter()
    .enumerate()
    {
        write("address", &i.to_string(), a.as_bytes())?;
    }
    Ok(())
}

fn photos() -> Result<()> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 90]));
    let mut jpeg = std::io::Cursor::new(Vec::new());
    img.write_to(&mut jpeg, image::ImageFormat::Jpeg)?;
    let jpeg = jpeg.into_inner();
    write("photo", "small.jpg", &jpeg)?;
    write("photo", "truncated.jpg", &jpeg[..jpeg.len() / 2])?;
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png)?;
    write("photo", "small.png", &png.into_inner())?;
    write("photo", "empty.jpg", b"")?;
    write("photo", "not-an-image.jpg", "这不是图片".as_bytes())?;
    // A PNG header claiming 50,000 × 50,000 pixels: refused before any decoding.
    let mut bomb = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    bomb.extend(50_000u32.to_be_bytes());
    bomb.extend(50_000u32.to_be_bytes());
    bomb.extend([1, 0, 0, 0, 0, 0, 0, 0, 0]);
    write("photo", "bomb-header.png", &bomb)?;
    // What a phone uploads: the pipeline's output, and ways of breaking it.
    let upload = gridmate_device::photos::process(&jpeg)?.jpeg;
    write("photo_upload", "pipeline.jpg", &upload)?;
    write("photo_upload", "truncated.jpg", &upload[..upload.len() / 2])?;
    let mut trailing = upload.clone();
    trailing.extend(b"trailer");
    write("photo_upload", "trailing.jpg", &trailing)?;
    let mut wide = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_fn(1600, 8, |x, _| image::Rgb([x as u8, 0, 0]))
        .write_to(&mut wide, image::ImageFormat::Jpeg)?;
    write("photo_upload", "wide.jpg", &wide.into_inner())?;
    write("photo_upload", "png.png", &bomb)?;
    Ok(())
}
