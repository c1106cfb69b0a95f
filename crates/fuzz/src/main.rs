//! `cargo run --release -p gridmate-fuzz -- [--seconds N] [TARGET...]`: fuzz each target (all by
//! default) for N seconds (60 by default) from its corpus. Exits non-zero when any input broke a
//! target; those inputs are in `fuzz/crashes/`. `--write-seeds` rewrites the starting corpora.

use gridmate_fuzz::engine;
use gridmate_fuzz::targets::{TARGETS, make};
use std::time::Duration;

fn main() -> anyhow::Result<()> {
    let mut seconds = 60u64;
    let mut names = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--write-seeds" {
            return gridmate_fuzz::seeds::write_all();
        } else if a == "--seconds" {
            seconds = args
                .next()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| anyhow::anyhow!("--seconds needs a number"))?;
        } else {
            names.push(a);
        }
    }
    if names.is_empty() {
        names = TARGETS.iter().map(|s| s.to_string()).collect();
    }
    // Panics are expected findings, reported once each below, not printed as they happen.
    std::panic::set_hook(Box::new(|_| {}));
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    let mut broken = 0;
    for name in &names {
        let mut target = make(name).ok_or_else(|| anyhow::anyhow!("no target {name}"))?;
        let corpus = engine::corpus(name);
        let report = engine::fuzz(target.as_mut(), Duration::from_secs(seconds), seed);
        println!(
            "{name}: {} inputs in {seconds} s from {} corpus files, {} failing",
            report.runs,
            corpus.len(),
            report.failures.len()
        );
        for (path, why) in &report.failures {
            println!("  {}: {why}", path.display());
        }
        broken += report.failures.len();
    }
    anyhow::ensure!(
        broken == 0,
        "{broken} failing input(s) saved in fuzz/crashes/"
    );
    Ok(())
}
