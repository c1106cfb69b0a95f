//! The base map (底图) over the office API and the phones' sync, on a real database: the demo's
//! map reaches a worker's phone within its bounds with every footprint on its building; a file's
//! features are cut to the grids they cross and those outside every grid dropped; importing the
//! same file again changes nothing; and hostile files — a self-intersecting ring, a million
//! vertices, a projected or GCJ-02 claim, metres for degrees, truncated JSON, not UTF-8, over the
//! size limit, a line given as a building — are refused with the feature at fault, writing
//! nothing.

mod common;

use common::server::*;
use gridmate_model::Role;
use gridmate_model::basemap::{MAX_FEATURES, MAX_VERTICES, Shape};
use gridmate_protocol::Entity;
use gridmate_protocol::records::BaseMapRecord;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn import(s: &Server, token: &str, bytes: Vec<u8>, commit: bool) -> (StatusCode, Value) {
    let r = s
        .http
        .post(format!("{}/office/import/base-map?commit={commit}", s.base))
        .bearer_auth(token)
        .header("content-type", "application/geo+json")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn collection(features: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({ "type": "FeatureCollection", "features": features })).unwrap()
}

fn feature(props: Value, kind: &str, coordinates: Value) -> Value {
    json!({ "type": "Feature", "properties": props, "geometry": { "type": kind, "coordinates": coordinates } })
}

/// The (min lon, min lat, max lon, max lat) of grid `i`.
fn grid_box(i: usize) -> (f64, f64, f64, f64) {
    let ring = demo().grids[i].boundary.0[0].exterior();
    let xs = ring.0.iter().map(|c| c.x);
    let ys = ring.0.iter().map(|c| c.y);
    (
        xs.clone().fold(f64::MAX, f64::min),
        ys.clone().fold(f64::MAX, f64::min),
        xs.fold(f64::MIN, f64::max),
        ys.fold(f64::MIN, f64::max),
    )
}

fn square(x: f64, y: f64, d: f64) -> Value {
    json!([[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]])
}

fn base_maps(s: &Server) -> Vec<BaseMapRecord> {
    use gridmate_server::store::Backend;
    let mut maps: Vec<BaseMapRecord> = s
        .store()
        .admin(|tx| tx.live_data(Entity::BaseMap))
        .unwrap()
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    maps.sort_by_key(|m| m.grid_id);
    maps
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_base_map_reaches_a_phone_within_its_bounds() {
    let s = Server::start().await;
    let worker = s.login(Role::GridWorker, "phone").await;
    let (changes, _) = s.pull_all(&worker, None).await;
    let grid = demo().grids[0].id.0;
    let maps: Vec<BaseMapRecord> = changes
        .iter()
        .filter(|c| c.entity == Entity::BaseMap)
        .filter_map(|c| serde_json::from_value(c.data.clone()).ok())
        .collect();
    assert_eq!(maps.len(), 1, "the worker's one grid has one base map");
    let map = &maps[0];
    assert_eq!(map.grid_id, grid);
    let bytes = serde_json::to_vec(map).unwrap().len();
    let model = map.to_model();
    assert!(model.features.len() <= MAX_FEATURES && model.vertices() <= MAX_VERTICES);
    assert!(bytes < 64 * 1024, "the demo grid's map is {bytes} bytes");
    let boundary = &demo().grids[0].boundary;
    for f in &model.features {
        use geo::Contains;
        let inside = match &f.shape {
            Shape::Area(a) => boundary.contains(a),
            Shape::Line(l) => boundary.contains(l),
        };
        assert!(inside, "{:?} {:?} lies in the grid", f.kind, f.name);
    }
    for b in demo().buildings.iter().filter(|b| b.grid_id.0 == grid) {
        assert!(
            model.features.iter().any(|f| f.building_id == Some(b.id)),
            "building {} has its footprint",
            b.number
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn features_are_cut_to_the_grids_they_cross_and_a_second_import_changes_nothing() {
    let s = Server::start().await;
    let office = s.login(Role::CommunityAdmin, "office").await;
    let (a, b) = (grid_box(0), grid_box(1));
    let mid_y = (a.1 + a.3) / 2.0;
    // A road from inside grid 0 across into grid 1 (they share an edge), a footprint inside
    // grid 0, and a pond far outside every grid.
    let file = collection(vec![
        feature(
            json!({"highway": "residential", "name": "江华路"}),
            "LineString",
            json!([[a.0 + 0.001, mid_y], [b.2 - 0.001, mid_y]]),
        ),
        feature(
            json!({"kind": "建筑", "name": "新楼"}),
            "Polygon",
            square(a.0 + 0.002, a.1 + 0.002, 0.0003),
        ),
        feature(
            json!({"natural": "water"}),
            "Polygon",
            square(a.0 + 1.0, a.1 + 1.0, 0.001),
        ),
    ]);
    let before = s.dump();
    let (status, dry) = import(&s, &office, file.clone(), false).await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(dry["committed"], false);
    assert_eq!(s.dump(), before, "a dry run writes nothing");
    assert_eq!(dry["features_read"], 3);
    assert_eq!(dry["outside"], 1, "the pond");
    assert_eq!(
        dry["clipped"], 1,
        "the road, cut at the edge between the grids"
    );

    let (status, plan) = import(&s, &office, file.clone(), true).await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(plan["committed"], true);
    let maps = base_maps(&s);
    assert_eq!(
        maps.len(),
        demo().grids.len(),
        "still one base map per grid"
    );
    for (i, g) in demo().grids.iter().take(2).enumerate() {
        let m = maps
            .iter()
            .find(|m| m.grid_id == g.id.0)
            .unwrap()
            .to_model();
        let roads: Vec<_> = m.features.iter().filter(|f| f.name == "江华路").collect();
        assert_eq!(roads.len(), 1, "grid {i} holds its part of the road");
        let (min_x, _, max_x, _) = roads[0].shape.bounds().unwrap();
        let bx = grid_box(i);
        assert!(
            min_x >= bx.0 - 1e-9 && max_x <= bx.2 + 1e-9,
            "cut at the grid's edge"
        );
        assert_eq!(
            m.features.iter().any(|f| f.name == "新楼"),
            i == 0,
            "the footprint only in grid 0"
        );
        assert!(
            !m.features.iter().any(|f| f.name.contains("口袋")),
            "replaced whole"
        );
    }

    let head = s.number("SELECT MAX(seq) FROM records");
    let (status, _) = import(&s, &office, file, true).await;
    assert_eq!(status, StatusCode::OK);
    let again = base_maps(&s);
    assert_eq!(
        again.iter().map(|m| m.id).collect::<Vec<_>>(),
        maps.iter().map(|m| m.id).collect::<Vec<_>>(),
        "the same records"
    );
    assert_eq!(
        again.iter().map(|m| &m.features).collect::<Vec<_>>(),
        maps.iter().map(|m| &m.features).collect::<Vec<_>>()
    );
    assert!(
        s.number("SELECT MAX(seq) FROM records") > head,
        "rewritten, same content"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_base_maps_are_refused_with_the_feature_at_fault_and_change_nothing() {
    let s = Server::start().await;
    let office = s.login(Role::CommunityAdmin, "office").await;
    let a = grid_box(0);
    let good = feature(
        json!({"kind": "building"}),
        "Polygon",
        square(a.0 + 0.001, a.1 + 0.001, 0.0002),
    );
    let bow_tie = feature(
        json!({"kind": "building"}),
        "Polygon",
        json!([[
            [a.0, a.1],
            [a.0 + 0.001, a.1 + 0.001],
            [a.0 + 0.001, a.1],
            [a.0, a.1 + 0.001],
            [a.0, a.1]
        ]]),
    );
    // A million vertices in short numbers: under the size limit, over the vertex limit.
    let million: Vec<[f64; 2]> = (0..1_000_000)
        .map(|i| [113.0 + (i % 7) as f64 * 0.1, 22.5])
        .collect();
    // (what, file, status, feature at fault, field, words of the message)
    type Case = (
        &'static str,
        Vec<u8>,
        StatusCode,
        usize,
        &'static str,
        &'static str,
    );
    let mut cases: Vec<Case> = vec![
        (
            "self-intersecting ring",
            collection(vec![good.clone(), bow_tie]),
            StatusCode::UNPROCESSABLE_ENTITY,
            2,
            "geometry",
            "invalid polygon",
        ),
        (
            "a million vertices",
            collection(vec![feature(
                json!({"kind": "road"}),
                "LineString",
                json!(million),
            )]),
            StatusCode::UNPROCESSABLE_ENTITY,
            1,
            "file",
            "vertices",
        ),
        (
            "web mercator",
            serde_json::to_vec(&json!({"type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}},
                "features": [good.clone()]}))
            .unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            0,
            "crs",
            "WGS-84",
        ),
        (
            "metres for degrees",
            collection(vec![feature(
                json!({"kind": "building"}),
                "Polygon",
                square(12_600_000.0, 2_580_000.0, 30.0),
            )]),
            StatusCode::UNPROCESSABLE_ENTITY,
            1,
            "geometry",
            "degrees",
        ),
        (
            "a road given as a polygon",
            collection(vec![feature(
                json!({"kind": "road"}),
                "Polygon",
                square(a.0, a.1, 0.001),
            )]),
            StatusCode::UNPROCESSABLE_ENTITY,
            1,
            "geometry",
            "line",
        ),
        (
            "no kind",
            collection(vec![feature(
                json!({"name": "?"}),
                "Polygon",
                square(a.0, a.1, 0.001),
            )]),
            StatusCode::UNPROCESSABLE_ENTITY,
            1,
            "kind",
            "kind",
        ),
        (
            "an open ring",
            collection(vec![feature(
                json!({"kind": "green"}),
                "Polygon",
                json!([[
                    [a.0, a.1],
                    [a.0 + 0.001, a.1],
                    [a.0, a.1 + 0.001],
                    [a.0, a.1 + 0.002]
                ]]),
            )]),
            StatusCode::UNPROCESSABLE_ENTITY,
            1,
            "geometry",
            "closed",
        ),
        (
            "a point",
            collection(vec![
                json!({"type": "Feature", "properties": {"kind": "building"}, "geometry": {"type": "Point", "coordinates": [a.0, a.1]}}),
            ]),
            StatusCode::UNPROCESSABLE_ENTITY,
            1,
            "geometry",
            "Point",
        ),
        (
            "not JSON",
            b"{\"type\": \"FeatureCollection\", \"features\": [".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            0,
            "json",
            "GeoJSON",
        ),
        (
            "not UTF-8",
            vec![0xff, 0xfe, 0x00, 0x7b],
            StatusCode::UNPROCESSABLE_ENTITY,
            0,
            "file",
            "UTF-8",
        ),
        (
            "a bare geometry",
            br#"{"type": "Polygon", "coordinates": []}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            0,
            "json",
            "GeoJSON",
        ),
    ];
    let mut huge = b"{\"type\": \"FeatureCollection\", \"features\": []}".to_vec();
    huge.resize(21 * 1024 * 1024, b' ');
    // Well over: a client still has 28 MB to send when the server has read its 20, and hears
    // the refusal only because the server reads the rest before answering.
    let mut far_over = huge.clone();
    far_over.resize(48 * 1024 * 1024, b' ');
    cases.push(("48 MB", far_over, StatusCode::PAYLOAD_TOO_LARGE, 0, "", ""));
    cases.push((
        "over 20 MB",
        huge.clone(),
        StatusCode::PAYLOAD_TOO_LARGE,
        0,
        "",
        "",
    ));
    let before = s.dump();
    for (what, bytes, status, line, field, words) in cases {
        let (got, body) = import(&s, &office, bytes, true).await;
        assert_eq!(got, status, "{what}: {body}");
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            let p = &body["problems"][0];
            assert_eq!(p["line"], line, "{what}: {body}");
            assert_eq!(p["field"], field, "{what}: {body}");
            assert!(
                p["message_en"].as_str().unwrap().contains(words),
                "{what}: {body}"
            );
        }
    }
    assert_eq!(s.dump(), before, "nothing written");

    // Only the community office imports a base map; a refusal that reads none of a 21 MB body
    // is still heard by the client sending it (no broken pipe).
    for role in [Role::GridLeader, Role::GridWorker, Role::StreetViewer] {
        let token = s.login(role, "other").await;
        let (got, _) = import(&s, &token, collection(vec![good.clone()]), true).await;
        assert_eq!(got, StatusCode::FORBIDDEN, "{role:?}");
    }
    // A grid worker is refused before a byte of the body is read (office roles meet the size
    // limit first).
    let token = s.login(Role::GridWorker, "other").await;
    let (got, body) = import(&s, &token, huge, true).await;
    assert_eq!(got, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "forbidden", "{body}");
    assert_eq!(s.dump(), before);
}

/// The console's import: the upload is drawn grid by grid and nothing is written; confirming
/// imports exactly the upload that was checked; a hostile file is shown feature by feature with
/// 422 and no way to confirm; a grid leader may not import at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_draws_a_base_map_before_it_is_imported() {
    use reqwest::multipart::{Form, Part};
    let s = Server::start().await;
    let http = no_redirects();
    let cookie = session_cookie(&console_login(&s, Role::CommunityAdmin).await);
    let page = http
        .get(format!("{}/import", console(&s)))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("action=\"/console/import/base-map\""),
        "{page}"
    );
    let csrf = csrf_in(&page);
    let upload = |bytes: Vec<u8>, csrf: String| {
        let http = http.clone();
        let cookie = cookie.clone();
        let url = format!("{}/import/base-map", console(&s));
        async move {
            let form = Form::new()
                .text("csrf", csrf)
                .part("file", Part::bytes(bytes).file_name("map.geojson"));
            let r = http
                .post(url)
                .header("cookie", cookie)
                .multipart(form)
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };

    let a = grid_box(0);
    let file = collection(vec![
        feature(
            json!({"kind": "building", "name": "新楼"}),
            "Polygon",
            square(a.0 + 0.002, a.1 + 0.002, 0.0003),
        ),
        feature(
            json!({"natural": "water"}),
            "Polygon",
            square(a.0 + 1.0, a.1 + 1.0, 0.001),
        ),
    ]);
    let before = s.dump();
    let (status, _) = upload(file.clone(), "not-the-token".into()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a form without its token");
    let (status, plan_html) = upload(file.clone(), csrf.clone()).await;
    assert_eq!(status, StatusCode::OK, "{plan_html}");
    assert_eq!(s.dump(), before, "the dry run wrote nothing");
    assert!(
        plan_html.contains(&demo().grids[0].name),
        "the grid is named"
    );
    assert!(
        plan_html.contains("class=\"footprint\""),
        "the grid is drawn with its footprint"
    );
    assert!(plan_html.contains("class=\"grid\""), "inside its outline");
    let sha = {
        let at = plan_html
            .find("name=\"sha\" value=\"")
            .expect("a confirm form")
            + 18;
        plan_html[at..at + 64].to_string()
    };

    let confirm = |sha: String| {
        let http = http.clone();
        let cookie = cookie.clone();
        let csrf = csrf.clone();
        let url = format!("{}/import/base-map/commit", console(&s));
        async move {
            let r = http
                .post(url)
                .header("cookie", cookie)
                .form(&[("csrf", csrf.as_str()), ("sha", sha.as_str())])
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (status, _) = confirm("../../etc/passwd".into()).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not an upload's name"
    );
    let (status, done) = confirm(sha.clone()).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(done.contains("已导入"), "{done}");
    let grid0 = base_maps(&s)
        .into_iter()
        .find(|m| m.grid_id == demo().grids[0].id.0)
        .unwrap();
    assert_eq!(
        grid0
            .features
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>(),
        ["新楼"],
        "exactly what was shown"
    );
    let (status, _) = confirm(sha).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an upload is imported once");

    let bowtie = collection(vec![feature(
        json!({"kind": "building"}),
        "Polygon",
        json!([[
            [a.0 + 0.001, a.1 + 0.001],
            [a.0 + 0.002, a.1 + 0.002],
            [a.0 + 0.002, a.1 + 0.001],
            [a.0 + 0.001, a.1 + 0.002],
            [a.0 + 0.001, a.1 + 0.001]
        ]]),
    )]);
    let after = s.dump();
    let (status, refused) = upload(bowtie, csrf.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("#1"), "the feature at fault: {refused}");
    assert!(
        refused.contains("多边形无效"),
        "said in the console's language: {refused}"
    );
    assert!(!refused.contains("name=\"sha\""), "nothing to confirm");
    assert_eq!(s.dump(), after);

    let leader = session_cookie(&console_login(&s, Role::GridLeader).await);
    let page = http
        .get(format!("{}/import", console(&s)))
        .header("cookie", &leader)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
}
