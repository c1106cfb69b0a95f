//! A small mutation fuzzer: start from the corpus, apply random edits (bit flips, byte
//! changes, inserts of bytes that matter to the format, deletions, duplications, splices of two
//! corpus entries), run the target, and keep any input that panics or breaks an invariant.
//!
//! Without coverage instrumentation it does not learn; the corpus carries the structure (valid
//! pushes, pages, spreadsheets, GeoJSON, real JPEG/PNG files) and the edits explore around it.

use crate::targets::Target;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Byte strings that mean something to one of the formats, inserted whole.
const TOKENS: &[&[u8]] = &[
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"null",
    b"true",
    b"-1",
    b"1e309",
    b"0",
    b"18446744073709551616",
    b"\"\\u0000\"",
    b"\"\\ud800\"",
    b"\n",
    b"\r\n",
    b",,",
    b"\xEF\xBB\xBF",
    b"\xFF\xD8\xFF",
    b"\xFF\xD9",
    b"\x89PNG\r\n\x1a\n",
    b"IHDR",
    b"IDAT",
    b"Exif\0\0",
    b"\xD5\xC5\xC8\xFD",
    "栋".as_bytes(),
    "单元".as_bytes(),
    "室".as_bytes(),
    "－".as_bytes(),
    b"visit.record",
    b"issue.event",
    b"household.patch",
    b"closed",
    b"\"photos\"",
];

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}

pub fn mutate(rng: &mut Rng, input: &[u8], other: &[u8], max_len: usize) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = v.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                v[i] = rng.next_u64() as u8;
            }
            2 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                let i = rng.below(len + 1);
                v.splice(i..i, t.iter().copied());
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                v.drain(i..i + n);
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(256));
                let chunk: Vec<u8> = v[i..i + n].to_vec();
                let at = rng.below(len + 1);
                v.splice(at..at, chunk);
            }
            5 if !other.is_empty() => {
                let cut = rng.below(len + 1);
                let from = rng.below(other.len());
                v.truncate(cut);
                v.extend_from_slice(&other[from..]);
            }
            6 if len > 0 => {
                v.truncate(rng.below(len));
            }
            _ => {
                let i = rng.below(len + 1);
                let b = b"0123456789-"[rng.below(11)];
                v.insert(i, b);
            }
        }
    }
    v.truncate(max_len);
    v
}

pub fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

pub fn crashes_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/crashes")
}

pub fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir(target))
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .filter_map(|p| std::fs::read(&p).ok().map(|b| (p, b)))
        .collect()
}

/// Run one input, turning a panic into an error.
pub fn run_one(target: &mut dyn Target, input: &[u8]) -> Result<(), String> {
    match catch_unwind(AssertUnwindSafe(|| target.run(input))) {
        Ok(r) => r,
        Err(p) => Err(format!(
            "panic: {}",
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        )),
    }
}

pub struct Report {
    pub runs: u64,
    pub failures: Vec<(PathBuf, String)>,
}

/// Fuzz `target` for `time`; inputs that fail are written to `fuzz/crashes/`.
pub fn fuzz(target: &mut dyn Target, time: Duration, seed: u64) -> Report {
    let name = target.name();
    let seeds = corpus(name);
    let max_len = if name == "photo" { 1 << 20 } else { 64 * 1024 };
    let mut rng = Rng::new(seed);
    let mut report = Report {
        runs: 0,
        failures: Vec::new(),
    };
    let started = Instant::now();
    while started.elapsed() < time && report.failures.len() < 5 {
        let base: &[u8] = if seeds.is_empty() {
            b""
        } else {
            &seeds[rng.below(seeds.len())].1
        };
        let other: &[u8] = if seeds.is_empty() {
            b""
        } else {
            &seeds[rng.below(seeds.len())].1
        };
        let input = mutate(&mut rng, base, other, max_len);
        report.runs += 1;
        if let Err(why) = run_one(target, &input) {
            use sha2::Digest;
            let hash = gridmate_model::hex::encode(&sha2::Sha256::digest(&input)[..8]);
            let path = crashes_dir().join(format!("{name}-{hash}"));
            if report.failures.iter().any(|(p, _)| *p == path) {
                continue;
            }
            let _ = std::fs::create_dir_all(crashes_dir());
            let _ = std::fs::write(&path, &input);
            report.failures.push((path, why));
        }
    }
    report
}
