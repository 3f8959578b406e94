//! The only module that touches files: mapping them for reading, writing them atomically, and
//! the trait through which remote storage is read.

pub mod atomic;
pub mod map;
pub mod source;
