//! The real start: the desktop binary launched under Xvfb on a 5,000-household cache, to its
//! first painted home screen — the webview's own start included, which the in-process figure
//! leaves out.
//!
//! Each run starts `gridmate` (release) with a fresh process on a private display, and captures
//! its window (ImageMagick `import`) as fast as it can until the home screen is drawn. A blank
//! window has one colour, the sign-in or loading screen a few hundred; the home screen, with its
//! map and figures, more. "Painted" is the first capture with at least 90 % of the colours the
//! same window shows 4 s later, so the measure does not depend on a threshold picked by hand.
//! The time is from spawning the process to the end of that capture (a capture takes ~50 ms,
//! which the figure includes). Needs Xvfb, xdotool and ImageMagick (`scripts/deps.sh`).

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Display {
    name: String,
    xvfb: Child,
    /// Kept open: Xvfb must not meet a closed pipe.
    _announce: Option<std::io::BufReader<std::process::ChildStdout>>,
}

impl Drop for Display {
    fn drop(&mut self) {
        let _ = self.xvfb.kill();
        let _ = self.xvfb.wait();
    }
}

fn display() -> Result<Display> {
    // Xvfb picks a free display and writes its number once it accepts clients: a fixed or
    // pid-derived number collided with lock files that killed servers leave in /tmp.
    let mut xvfb = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "480x900x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("Xvfb (scripts/deps.sh installs it)")?;
    let mut line = String::new();
    let mut announce = xvfb.stdout.take().map(std::io::BufReader::new);
    if let Some(out) = announce.as_mut() {
        std::io::BufRead::read_line(out, &mut line)?;
    }
    let number: u32 = match line.trim().parse() {
        Ok(n) => n,
        Err(_) => {
            let _ = xvfb.kill();
            let _ = xvfb.wait();
            bail!("Xvfb did not start (it printed {line:?})");
        }
    };
    Ok(Display {
        name: format!(":{number}"),
        xvfb,
        _announce: announce,
    })
}

fn window(display: &str) -> Option<String> {
    let out = Command::new("xdotool")
        .args(["search", "--onlyvisible", "--name", "Gridmate"])
        .env("DISPLAY", display)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .map(str::to_string)
}

fn capture(display: &str, win: &str, to: &Path) -> bool {
    Command::new("import")
        .args(["-window", win])
        .arg(to)
        .env("DISPLAY", display)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn colours(png: &Path) -> u64 {
    Command::new("convert")
        .arg(png)
        .args(["-format", "%k", "info:"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(0)
}

/// One launch: milliseconds to the painted home screen, and the screenshot of it.
fn one_start(bin: &Path, data: &Path, display: &str, shots: &Path) -> Result<(Duration, PathBuf)> {
    let t = Instant::now();
    let mut app = Command::new(bin)
        .env("DISPLAY", display)
        .env("GRIDMATE_DATA", data)
        .env_remove("GRIDMATE_SERVER")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let deadline = t + Duration::from_secs(30);
    let mut frames: Vec<(Duration, PathBuf)> = Vec::new();
    let mut win = None;
    while Instant::now() < deadline {
        if win.is_none() {
            win = window(display);
            if win.is_none() {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
        }
        let path = shots.join(format!("frame-{:03}.png", frames.len()));
        if capture(display, win.as_deref().unwrap_or_default(), &path) {
            frames.push((t.elapsed(), path));
        }
        if frames
            .last()
            .is_some_and(|(at, _)| *at > Duration::from_secs(4))
            && frames.len() > 3
        {
            break;
        }
    }
    let _ = app.kill();
    let _ = app.wait();
    let settled = frames.last().context("no window captured")?;
    let full = colours(&settled.1);
    anyhow::ensure!(full > 50, "the settled window is blank ({full} colours)");
    for (at, path) in &frames {
        if colours(path) * 10 >= full * 9 {
            return Ok((*at, path.clone()));
        }
    }
    bail!("no frame reached the settled screen")
}

/// Median start over `runs` launches; the screenshot of the last painted home screen is kept
/// in `keep` for a person to look at.
pub fn real_start(data: &Path, runs: usize, keep: &Path) -> Result<Duration> {
    let bin = crate::release_binary("gridmate", "gridmate")?;
    let screen = display()?;
    let shots = tempfile::tempdir()?;
    let mut times = Vec::new();
    for _ in 0..runs {
        let (t, shot) = one_start(&bin, data, &screen.name, shots.path())?;
        std::fs::create_dir_all(keep.parent().unwrap_or(Path::new(".")))?;
        std::fs::copy(shot, keep)?;
        times.push(t);
    }
    Ok(crate::percentile(&mut times, 0.5))
}
