//! A scratch folder per test process that cleans up after dead ones. Shared by the server's
//! tests and the workspace's end-to-end tests (`tests/support` includes this file by path).

use std::path::{Path, PathBuf};

/// A folder of this test process's own under the system's temporary folder, named `prefix-PID`.
/// A test binary never runs destructors for its statics, so each run first removes the folders
/// of earlier runs whose process is gone (a seeded community is hundreds of MB).
pub fn for_this_process(prefix: &str) -> PathBuf {
    let tmp = std::env::temp_dir();
    if let Ok(entries) = std::fs::read_dir(&tmp) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .and_then(|n| n.strip_prefix(prefix)?.strip_prefix('-'))
                .and_then(|p| p.parse::<u32>().ok())
            else {
                continue;
            };
            if !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = tmp.join(format!("{prefix}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
