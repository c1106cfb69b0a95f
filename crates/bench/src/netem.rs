//! The first sync of a new phone over a poor link: a 5,000-household scope over 1.6 Mbit/s with
//! 150 ms round trips. The benchmark makes a network namespace and a veth pair into it and runs
//! the real `gridmate-server` inside it; the phone's real sync client talks to it across the link.
//! Then a second phone's first sync is cut half-way (the server killed mid-pull) and run again:
//! it must go on from the pages it already stored, not start over.
//!
//! The shaping: `tc netem` where the kernel has it (`delay 75ms rate 1600kbit` on both ends).
//! Where it does not (this project's machines: "Specified qdisc kind is unknown"), the rate is
//! the kernel's token bucket (`tbf`) on both ends of the veth, and the 75 ms each way is a relay
//! on the phone's side that holds every chunk for 75 ms before passing it on, in order. The relay
//! delays data, not TCP's own acknowledgements, so slow start is kinder than on a real link;
//! the row says which shaping ran.
//!
//! Needs root and iproute2 (`ip`, `tc`); elsewhere it says so and is skipped. Traffic goes only to
//! the namespace it made, which it removes when done.

use crate::{Row, ms};
use anyhow::{Context, Result, bail, ensure};
use gridmate_device::Store;
use gridmate_device::sync::{self, Phase, SyncClient};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PHONE: &str = "13900000011";
const PASSWORD: &str = "bench-password-11";
const RATE_KBIT: u32 = 1_600;
const ONE_WAY_MS: u32 = 75;
const SERVER: &str = "10.231.0.2:8787";

fn run(program: &str, args: &[&str]) -> Result<()> {
    let out = Command::new(program).args(args).output()?;
    ensure!(
        out.status.success(),
        "{program} {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(())
}

/// A network namespace joined to this one by a shaped veth pair; removed when dropped.
struct ShapedLink {
    name: String,
    /// Whether netem delays packets; if not, [`delay_relay`] must.
    kernel_delay: bool,
}

impl ShapedLink {
    fn create() -> Result<ShapedLink> {
        let name = format!("gmb{}", std::process::id() % 100_000);
        let (outside, inside) = (format!("{name}a"), format!("{name}b"));
        run("ip", &["netns", "add", &name])?;
        let link = ShapedLink {
            name: name.clone(),
            kernel_delay: false,
        };
        let delay = format!("{ONE_WAY_MS}ms");
        let rate = format!("{RATE_KBIT}kbit");
        let inns = |args: &[&str]| {
            let mut all = vec!["netns", "exec", &name];
            all.extend_from_slice(args);
            run("ip", &all)
        };
        run(
            "ip",
            &[
                "link", "add", &outside, "type", "veth", "peer", "name", &inside,
            ],
        )?;
        run("ip", &["link", "set", &inside, "netns", &name])?;
        run("ip", &["addr", "add", "10.231.0.1/30", "dev", &outside])?;
        run("ip", &["link", "set", &outside, "up"])?;
        inns(&["ip", "addr", "add", "10.231.0.2/30", "dev", &inside])?;
        inns(&["ip", "link", "set", &inside, "up"])?;
        inns(&["ip", "link", "set", "lo", "up"])?;
        let netem = |dev: &str| -> Vec<String> {
            [
                "tc", "qdisc", "add", "dev", dev, "root", "netem", "delay", &delay, "rate", &rate,
            ]
            .map(String::from)
            .to_vec()
        };
        let tbf = |dev: &str| -> Vec<String> {
            [
                "tc", "qdisc", "add", "dev", dev, "root", "tbf", "rate", &rate, "burst", "4kb",
                "latency", "500ms",
            ]
            .map(String::from)
            .to_vec()
        };
        let shape = |args: Vec<String>, inside_ns: bool| -> Result<()> {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            if inside_ns {
                inns(&args)
            } else {
                run(args[0], &args[1..])
            }
        };
        let kernel_delay = shape(netem(&outside), false).is_ok();
        if kernel_delay {
            shape(netem(&inside), true)?;
        } else {
            shape(tbf(&outside), false)?;
            shape(tbf(&inside), true)?;
        }
        let mut link = link;
        link.kernel_delay = kernel_delay;
        Ok(link)
    }

    /// `gridmate-server serve` on `data`, inside the namespace, once it accepts connections.
    fn serve(&self, bin: &Path, data: &Path) -> Result<Child> {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.name])
            .arg(bin)
            .args(["serve", "--addr", SERVER, "--data"])
            .arg(data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let addr: SocketAddr = SERVER.parse()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err() {
            if Instant::now() > deadline || child.try_wait()?.is_some() {
                let _ = child.kill();
                bail!("the server in the namespace did not start");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(child)
    }
}

impl Drop for ShapedLink {
    fn drop(&mut self) {
        let _ = run("ip", &["netns", "del", &self.name]);
        let _ = run("ip", &["link", "del", &format!("{}a", self.name)]);
    }
}

fn phone_signed_in(client: &SyncClient) -> Result<(tempfile::TempDir, Store)> {
    let dir = tempfile::tempdir()?;
    let mut phone = Store::open(dir.path())?;
    sync::sign_in(&mut phone, client, PHONE, PASSWORD, "bench-netem")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((dir, phone))
}

pub fn run_bench(quick: bool) -> Result<Vec<Row>> {
    if quick {
        return Ok(Vec::new());
    }
    let link = match ShapedLink::create() {
        Ok(link) => link,
        Err(e) => {
            eprintln!("no shaped link here (root and iproute2 are needed), skipped: {e:#}");
            return Ok(Vec::new());
        }
    };
    let bin = crate::release_binary("gridmate-server", "gridmate-server")?;
    let households = 5_000;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    // Seeded, then closed: the server process inside the namespace opens it.
    drop(crate::sync::seeded_server(
        &data, households, PHONE, PASSWORD,
    )?);
    let mut server = link.serve(&bin, &data)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let (delay, shaping) = if link.kernel_delay {
        (Duration::ZERO, "tc netem: delay and rate")
    } else {
        (
            Duration::from_millis(ONE_WAY_MS.into()),
            "tc tbf for the rate, a 75 ms relay each way for the delay (no netem in this kernel)",
        )
    };
    let received = Arc::new(AtomicU64::new(0));
    let to = crate::relay::relay(&rt, SERVER.parse()?, delay, received.clone())?;
    let client =
        SyncClient::new(&format!("http://{to}/api/v1")).map_err(|e| anyhow::anyhow!("{e}"))?;

    // Uninterrupted.
    let (_one, mut first) = phone_signed_in(&client)?;
    let before = received.load(Ordering::Relaxed);
    let t = Instant::now();
    let full = sync::sync(&mut first, &client, &mut |_| {}).map_err(|e| anyhow::anyhow!("{e}"))?;
    let bytes = received.load(Ordering::Relaxed) - before;
    let whole = t.elapsed();
    ensure!(!full.repaired, "the first sync needed a repair");
    let wire_floor = Duration::from_secs_f64(bytes as f64 * 8.0 / (f64::from(RATE_KBIT) * 1e3));

    // Cut half-way: the server dies once half the records are stored, comes back, and the phone
    // syncs again.
    let (_two, mut phone) = phone_signed_in(&client)?;
    let running = Mutex::new(Some(server));
    let mut stored_before_cut = 0u64;
    let t = Instant::now();
    let cut = sync::sync(&mut phone, &client, &mut |p| {
        if p.phase == Phase::Pull && p.done * 2 >= full.pulled as u64 {
            stored_before_cut = stored_before_cut.max(p.done);
            if let Some(mut s) = running.lock().ok().and_then(|mut r| r.take()) {
                let _ = s.kill();
                let _ = s.wait();
            }
        }
    });
    let until_cut = t.elapsed();
    ensure!(cut.is_err(), "the cut sync finished anyway");
    server = link.serve(&bin, &data).context("restarting the server")?;
    let t = Instant::now();
    let resumed =
        sync::sync(&mut phone, &client, &mut |_| {}).map_err(|e| anyhow::anyhow!("{e}"))?;
    let after_cut = t.elapsed();
    let _ = server.kill();
    let _ = server.wait();
    ensure!(!resumed.repaired, "the resumed sync needed a repair");
    ensure!(
        phone.local_digest()? == first.local_digest()?,
        "the resumed phone holds what the uninterrupted one does"
    );
    let again = resumed.pulled as u64;
    let remaining = (full.pulled as u64).saturating_sub(stored_before_cut);
    Ok(vec![
        Row {
            name: format!(
                "initial sync over a shaped link into a network namespace ({} Mbit/s, {} ms RTT; {shaping}): {households} households, {} records, {:.2} MB on the wire",
                f64::from(RATE_KBIT) / 1e3,
                2 * ONE_WAY_MS,
                full.pulled,
                bytes as f64 / 1e6
            ),
            value: format!("{:.1} s", whole.as_secs_f64()),
            floor: format!(
                "{:.1} s for those bytes at the link's rate",
                wire_floor.as_secs_f64()
            ),
            ratio: Some(whole.as_secs_f64() / wire_floor.as_secs_f64()),
            target: "< 15 s".into(),
            pass: Some(whole.as_secs_f64() < 15.0),
        },
        Row {
            name: format!(
                "the same cut half-way (server killed after {stored_before_cut} records, {:.1} s in) and run again: records pulled again after the cut",
                until_cut.as_secs_f64()
            ),
            value: format!("{again} of {} in {:.1} s", full.pulled, ms(after_cut) / 1e3),
            floor: format!("{remaining} not yet stored at the cut"),
            ratio: Some(again as f64 / remaining.max(1) as f64),
            target: "resumes: at most what was not stored, plus the page in flight".into(),
            pass: Some(again <= remaining + u64::from(sync::PULL_PAGE)),
        },
    ])
}
