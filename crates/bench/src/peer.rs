//! A peer side by side: the Community Health Toolkit's offline sync stack — PouchDB on the
//! phone side replicating from a CouchDB-protocol server (`pouchdb-node` and `express-pouchdb`
//! from npm, both on LevelDB; `peer/peer.js`) — loaded with the same records as Gridmate's sync
//! benchmark, timed for the initial sync and for pushing 1,000 offline visits, its bytes counted
//! by the same relay, in the same run on the same cores. Its floor is its own bulk write of the
//! records into its server database. It needs Node.js; `npm ci` fetches the pinned packages the
//! first time.

use crate::{Row, ms};
use anyhow::{Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What Gridmate measured on the same records in the same run.
pub(crate) struct Ours {
    pub initial: Duration,
    pub wire: u64,
    pub push: Duration,
}

/// The server's live records as the peer reads them: one `{"entity", "id", "data"}` a line.
pub(crate) fn export_records(db: &Path, to: &Path) -> Result<usize> {
    let conn = rusqlite::Connection::open(db)?;
    let mut st =
        conn.prepare("SELECT entity, id, data FROM records WHERE deleted = 0 ORDER BY seq")?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(to)?);
    let mut n = 0;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let (entity, id, data): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
        writeln!(
            out,
            "{{\"entity\":{entity:?},\"id\":{id:?},\"data\":{data}}}"
        )?;
        n += 1;
    }
    out.flush()?;
    Ok(n)
}

fn peer_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peer")
}

/// Run the peer on `records` (see [`export_records`]) and set its figures beside ours.
pub(crate) fn run(
    rt: &tokio::runtime::Runtime,
    records: &Path,
    work: &Path,
    ours: &Ours,
) -> Result<Vec<Row>> {
    let dir = peer_dir();
    if !dir.join("node_modules").exists() {
        let ok = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .context("npm (Node.js) is needed for the peer benchmark")?
            .success();
        anyhow::ensure!(ok, "npm ci failed in {}", dir.display());
    }
    let mut node = Command::new("node")
        .arg("peer.js")
        .arg(records)
        .arg(work)
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("node (Node.js) is needed for the peer benchmark")?;
    let mut stdin = node.stdin.take().context("peer stdin")?;
    let mut lines = BufReader::new(node.stdout.take().context("peer stdout")?).lines();
    let mut next = || -> Result<serde_json::Value> {
        let line = lines.next().context("the peer stopped")??;
        Ok(serde_json::from_str(&line)?)
    };
    let ready = next()?;
    let port = ready["port"].as_u64().context("the peer's port")? as u16;
    let docs = ready["docs"].as_u64().unwrap_or(0);
    let bulk_ms = ready["bulk_ms"].as_f64().unwrap_or(f64::NAN);

    let received = Arc::new(AtomicU64::new(0));
    let relay = crate::relay::relay(
        rt,
        std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::ZERO,
        received.clone(),
    )?;
    writeln!(stdin, "{}", relay.port())?;
    let initial = next()?;
    let wire = received.load(Ordering::Relaxed);
    let initial_ms = initial["initial_ms"].as_f64().unwrap_or(f64::NAN);
    anyhow::ensure!(
        initial["docs"].as_u64() == Some(docs),
        "the peer's phone holds {} of {docs} documents",
        initial["docs"]
    );
    writeln!(stdin, "push")?;
    let pushed = next()?;
    let push_ms = pushed["push_ms"].as_f64().unwrap_or(f64::NAN);
    anyhow::ensure!(
        pushed["written"].as_u64() == Some(1_000),
        "the peer pushed {} of 1,000 visits",
        pushed["written"]
    );
    let _ = node.wait();

    let ours_initial = ms(ours.initial);
    let ours_push = ms(ours.push);
    Ok(vec![
        Row {
            name: format!("peer (CHT stack: PouchDB 9 replicating from express-pouchdb 4, LevelDB, default batch size): initial sync of the same {docs} records into an empty phone"),
            value: format!("{initial_ms:.0} ms"),
            floor: format!("{bulk_ms:.0} ms its own bulk write of them"),
            ratio: Some(initial_ms / bulk_ms),
            target: "reported".into(),
            pass: None,
        },
        Row {
            name: "initial sync: Gridmate over the peer (same records, same run)".into(),
            value: format!("{ours_initial:.0} ms"),
            floor: format!("{initial_ms:.0} ms the peer's"),
            ratio: Some(ours_initial / initial_ms),
            target: "< 1×".into(),
            pass: Some(ours_initial < initial_ms),
        },
        Row {
            name: "initial sync bytes on the wire: Gridmate over the peer".into(),
            value: format!("{:.2} MB", ours.wire as f64 / 1e6),
            floor: format!("{:.2} MB the peer's", wire as f64 / 1e6),
            ratio: Some(ours.wire as f64 / wire as f64),
            target: "< 1×".into(),
            pass: Some(ours.wire < wire),
        },
        Row {
            name: "1,000 offline visits pushed: Gridmate (pushed, acknowledged, and its changes pulled back) over the peer (replicated up)".into(),
            value: format!("{ours_push:.0} ms"),
            floor: format!("{push_ms:.0} ms the peer's"),
            ratio: Some(ours_push / push_ms),
            target: "< 1×".into(),
            pass: Some(ours_push < push_ms),
        },
    ])
}
