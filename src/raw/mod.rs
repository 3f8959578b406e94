//! The bytes on disk (unstable: this module follows spec/FORMAT.md, not semver; the front
//! doors [`Reader`](crate::Reader) and [`Writer`](crate::Writer) and the kinds are the stable API).
//! Mirrors spec/FORMAT.md: header, manifest types, section rules, codecs,
//! checksums and limits. No I/O beyond `&[u8]`; every length and offset from a file is checked
//! with checked arithmetic before use.

pub(crate) mod build;
pub mod checksum;
pub mod codec;
pub mod dtype;
pub mod header;
pub mod limits;
pub mod manifest;
pub mod validate;

pub use dtype::{Dtype, ParseNameError};
pub use header::{FORMAT_VERSION, HEADER_LEN, Header, Version};

/// Rounds `x` up to a multiple of `align` (a power of two). `None` on overflow.
pub fn align_up(x: u64, align: u64) -> Option<u64> {
    debug_assert!(align.is_power_of_two());
    Some(x.checked_add(align - 1)? & !(align - 1))
}
