//! Data generators shared by brine's benchmarks: the root crate's `benches/frames.rs` and
//! `benches/models.rs` include these modules by path, and the peer comparisons in this crate's
//! `benches/` use them through the library, so every benchmark measures the same data.
//!
//! This crate exists so that the heavy peer crates (arrow-ipc, serde, bincode) are compiled only
//! by `cargo bench -p brine-bench-peers`, never by the root crate's `cargo test`.

pub mod forest;
pub mod frame_data;
