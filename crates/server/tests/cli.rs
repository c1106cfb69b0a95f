//! The operator's commands, run as the real binary: import grids, check their coverage, add and
//! assign a user, serve, and sign in as that user; a bad import exits non-zero and names the line.

mod common;

use gridmate_protocol::Entity;
use gridmate_server::database::Database;
use gridmate_server::store::Backend;
use std::process::{Command, Stdio};

/// The binary, on PostgreSQL (`GRIDMATE_DATABASE`) when the tests run there.
fn server(database: &Option<String>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gridmate-server"));
    match database {
        Some(url) => c.env("GRIDMATE_DATABASE", url),
        None => c.env_remove("GRIDMATE_DATABASE"),
    };
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_office_sets_up_a_community_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let database = common::postgres().map(|base| {
        gridmate_server::postgres::scratch_database(&base, None)
            .unwrap()
            .1
    });
    let server = || server(&database);
    let geojson = dir.path().join("grids.geojson");
    std::fs::write(&geojson, serde_json::json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "NM-01", "name": "南门第一网格", "kind": "居民", "community": "南门社区"},
         "geometry": {"type": "Polygon", "coordinates": [[[116.0, 25.0], [116.005, 25.0], [116.005, 25.005], [116.0, 25.005], [116.0, 25.0]]]}}]}).to_string()).unwrap();
    let ok = |c: &mut Command| {
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    };
    ok(server().args(["migrate", "--data"]).arg(&data));
    assert!(
        ok(server()
            .args(["import", "grids", "--data"])
            .arg(&data)
            .arg(&geojson))
        .contains("imported 1 grid")
    );
    assert!(
        ok(server().args(["coverage-check", "--data"]).arg(&data)).contains("南门社区: 1 grids")
    );
    let csv = dir.path().join("households.csv");
    std::fs::write(
        &csv,
        "网格编码,楼栋,单元,房号,户主姓名\nNM-01,3,1,101,刘大爷\nNM-09,3,1,102,陈阿姨\n",
    )
    .unwrap();
    let out = server()
        .args(["import", "households", "--data"])
        .arg(&data)
        .arg(&csv)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("第 3 行，网格编码"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let grid_id: String = {
        let store = Database::open(database.as_deref(), &data).unwrap();
        let grids = store.admin(|tx| tx.live_data(Entity::Grid)).unwrap();
        let grid: serde_json::Value = serde_json::from_str(&grids[0]).unwrap();
        grid["id"].as_str().unwrap().to_string()
    };
    ok(server()
        .args(["user", "add", "--data"])
        .arg(&data)
        .args([
            "--phone",
            "13700001111",
            "--name",
            "林网格员",
            "--role",
            "grid_worker",
        ])
        .env("GRIDMATE_PASSWORD", "a long password"));
    ok(server().args(["assign", "--data"]).arg(&data).args([
        "--phone",
        "13700001111",
        "--role",
        "grid_worker",
        "--grid",
        &grid_id,
    ]));
    let short = server()
        .args(["user", "add", "--data"])
        .arg(&data)
        .args([
            "--phone",
            "13700002222",
            "--name",
            "x",
            "--role",
            "grid_worker",
        ])
        .env("GRIDMATE_PASSWORD", "short")
        .output()
        .unwrap();
    assert!(!short.status.success(), "a short password is refused");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = server()
        .args(["serve", "--data"])
        .arg(&data)
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let mut up = false;
    for _ in 0..100 {
        if http.get(format!("{base}/health")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "the server did not come up");
    let login: serde_json::Value = http
        .post(format!("{base}/session"))
        .json(&serde_json::json!({"phone": "13700001111", "password": "a long password", "device_id": "d", "device_name": "n"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(login["assignments"][0]["grid_id"], grid_id.as_str());
    let token = login["token"].as_str().unwrap();
    ok(server()
        .args(["revoke", "--data"])
        .arg(&data)
        .args(["--phone", "13700001111"]));
    let r = http
        .get(format!("{base}/sync/pull"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // A backup while it serves: SQLite copies itself consistently; PostgreSQL names pg_dump.
    let copy = dir.path().join("copy");
    let to = copy.join("gridmate-server.sqlite");
    std::fs::create_dir_all(&copy).unwrap();
    let backup = || {
        server()
            .args(["backup", "--data"])
            .arg(&data)
            .arg("--to")
            .arg(&to)
            .output()
            .unwrap()
    };
    let out = backup();
    if database.is_some() {
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
    } else {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let restored = Database::open(None, &copy).unwrap();
        assert_eq!(restored.admin(|tx| tx.user_count()).unwrap(), 1);
        assert_eq!(
            restored
                .admin(|tx| tx.live_data(Entity::Grid))
                .unwrap()
                .len(),
            1
        );
        assert!(!backup().status.success(), "a backup never overwrites");
    }

    // SIGTERM (systemd, containers): the server finishes what is in flight and exits cleanly.
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let mut exited = None;
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let Some(status) = exited else {
        child.kill().unwrap();
        child.wait().unwrap();
        panic!("the server did not stop on SIGTERM");
    };
    assert!(status.success(), "a clean exit: {status}");
}
