//! Every corpus file of every target, replayed: what was once found stays fixed, and the
//! targets' invariants hold on the valid inputs the corpora start from. A short burst of
//! mutations per target checks the engine itself.

use gridmate_fuzz::engine;
use gridmate_fuzz::targets::{TARGETS, make};

#[test]
fn every_corpus_file_passes_its_target() {
    for name in TARGETS {
        let corpus = engine::corpus(name);
        assert!(!corpus.is_empty(), "{name} has no corpus");
        let mut target = make(name).unwrap();
        for (path, bytes) in corpus {
            engine::run_one(target.as_mut(), &bytes)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
}

#[test]
fn a_short_burst_of_mutations_finds_nothing() {
    for name in ["push", "address"] {
        let mut target = make(name).unwrap();
        let report = engine::fuzz(target.as_mut(), std::time::Duration::from_millis(500), 7);
        assert!(report.runs > 100, "{name}: only {} runs", report.runs);
        assert!(report.failures.is_empty(), "{name}: {:?}", report.failures);
    }
}

#[test]
fn mutations_stay_within_bounds_and_change_the_input() {
    let mut rng = engine::Rng::new(42);
    let base = b"{\"device_id\":\"d\",\"mutations\":[]}";
    let mut changed = 0;
    for _ in 0..1000 {
        let m = engine::mutate(&mut rng, base, b"other", 40);
        assert!(m.len() <= 40);
        changed += usize::from(m != base);
    }
    assert!(changed > 900, "{changed}");
}
