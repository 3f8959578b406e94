//! The only module that touches files: mapping them for reading, and writing them atomically.

pub mod atomic;
pub mod map;
