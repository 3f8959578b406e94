//! The checksum of the format: xxh3-64 with seed 0.

/// xxh3-64 (seed 0) of `bytes`.
pub fn xxh3(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

/// Streaming xxh3-64 (seed 0), for data written in pieces.
pub type Hasher = xxhash_rust::xxh3::Xxh3;
