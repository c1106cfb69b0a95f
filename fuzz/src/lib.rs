//! libFuzzer entry points for the targets of `gridmate-fuzz`: each binary in `fuzz_targets/`
//! is one line naming its target. The target keeps its state (a store, a server) across inputs,
//! as the stable engine does; an input that breaks its invariant panics, which libFuzzer saves
//! under `artifacts/`.

pub use libfuzzer_sys;

/// Define the libFuzzer entry point for the `gridmate-fuzz` target named `$name`.
#[macro_export]
macro_rules! libfuzzer_target {
    ($name:literal) => {
        thread_local! {
            static TARGET: ::std::cell::RefCell<Box<dyn gridmate_fuzz::Target>> =
                ::std::cell::RefCell::new(
                    gridmate_fuzz::targets::make($name).expect("a target of gridmate-fuzz"),
                );
        }
        $crate::libfuzzer_sys::fuzz_target!(|data: &[u8]| {
            TARGET.with(|t| {
                if let Err(why) = t.borrow_mut().run(data) {
                    panic!("{}: {why}", $name);
                }
            });
        });
    };
}
