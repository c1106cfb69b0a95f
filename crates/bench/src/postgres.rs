//! A throwaway PostgreSQL cluster for the benchmarks, started with `scripts/postgres.sh` when
//! the machine has PostgreSQL's binaries (CI installs them), stopped when dropped.

use std::path::PathBuf;
use std::process::Command;

pub struct Cluster {
    dir: tempfile::TempDir,
    pub url: String,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/postgres.sh")
}

impl Cluster {
    /// `None` (and a line on stderr) when no cluster can be started here.
    pub fn start() -> Option<Cluster> {
        let dir = tempfile::tempdir().ok()?;
        let out = Command::new("bash")
            .arg(script())
            .arg("start")
            .arg(dir.path())
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!(
                "no PostgreSQL here, its benchmarks are skipped: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return None;
        }
        let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
        Some(Cluster { dir, url })
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(self.dir.path())
            .output();
    }
}
