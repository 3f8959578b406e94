//! brine's chunk decoder on arbitrary frames, and the codec round trip. See
//! `src/decompress.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    brine_fuzz::decompress::run(data);
});
