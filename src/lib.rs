#![doc = include_str!("../README.md")]
//!
//! # Layout of the crate
//!
//! - [`raw`](mod@raw): the bytes on disk (header, manifest, sections, codecs, limits), mirroring
//!   `spec/FORMAT.md`, which is normative. **Unstable**: it is public for conformance tools and
//!   tests, and follows the format, not semver; build on the front doors and the kinds instead.
//! - [`Writer`] and [`Reader`]: the two front doors.
//! - [`array`](mod@array): element types and typed views.
//! - [`frame`](mod@frame): columnar tables, CSV import, Arrow interop.
//!
//! # Memory-mapped files
//!
//! [`Reader::open`] maps the file. Modifying or truncating a mapped file from outside breaks
//! the views into it (a truncation kills the process with SIGBUS). brine never does that: every
//! write goes to a temporary file renamed over the target, so readers that have the old file
//! open keep its old contents. Replace brine files the same way, never in place.
#![deny(
    unsafe_op_in_unsafe_fn,
    clippy::undocumented_unsafe_blocks,
    clippy::missing_safety_doc,
    missing_docs
)]

extern crate self as brine;

pub mod array;
mod buffer;
pub mod dataset;
mod error;
pub mod frame;
mod io;
pub mod model;
mod options;
pub mod raw;
mod reader;
mod rules;
mod store;
mod writer;

/// The rkyv crate brine archives models with (the version and format features of the file).
pub use rkyv;

pub use array::{ArrayEntry, ArrayView, ArrayWriter, Dtype, Element};
pub use brine_derive::Schema;
pub use buffer::AlignedBuf;
pub use error::{ArchiveError, Error, Limit, Result, SchemaMismatch};
pub use frame::{Column, Frame, FrameView};
pub use io::atomic::AtomicFile;
pub use io::map::AccessPattern;
pub use io::source::{Ends, RangeSource};
pub use options::{Codec, DEFAULT_ZSTD_LEVEL, ParseCodecError};
pub use raw::Version;
pub use raw::manifest::{MetaRef, MetaValue};
pub use reader::{
    DEFAULT_SUFFIX_LEN, EntryRef, Kind, Metadata, OpenOptions, Reader, SectionCheck, SectionInfo,
};
pub use writer::{EntryOptions, WriteOptions, Writer};
