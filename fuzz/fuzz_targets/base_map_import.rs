//! `base_map_import` under libFuzzer: the target of crates/fuzz, its invariant a panic when broken.
#![no_main]
gridmate_libfuzzer::libfuzzer_target!("base_map_import");
