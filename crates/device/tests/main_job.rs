//! The README's main job for now: `gridmate-home` loads the demo community and prints the grid
//! worker's home screen.

use std::process::Command;

#[test]
fn gridmate_home_prints_the_workers_home_screen() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gridmate-home"))
        .args(["--data", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for expected in [
        "李敏 · 专职网格员",
        "联和第一网格（LH-01）",
        "本月走访",
        "重点户待走访",
        "问题台账",
        "待上传 0 条",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    // Five due households listed, and no unmasked phone number anywhere.
    assert_eq!(text.lines().filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()) && l.contains(". ")).count(), 5, "{text}");
    assert!(
        !text
            .chars()
            .collect::<Vec<_>>()
            .windows(11)
            .any(|w| w[0] == '1' && w.iter().all(char::is_ascii_digit))
    );

    let bad = Command::new(env!("CARGO_BIN_EXE_gridmate-home"))
        .args(["--role", "mayor"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown role"));
}
