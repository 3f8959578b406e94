//! Open arbitrary bytes as a brine file and walk every entry. See `src/open_walk.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    brine_fuzz::open_walk::run(data);
});
