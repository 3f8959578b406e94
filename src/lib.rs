#![doc = include_str!("../README.md")]
//!
//! # Layout of the crate
//!
//! - [`format`](mod@format): the bytes on disk (header, manifest, sections, codecs, limits), mirroring
//!   `spec/FORMAT.md`, which is normative.
//! - [`Writer`] and [`Reader`]: the two front doors.
//! - [`array`](mod@array): element types and typed views.
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

pub mod array;
mod buffer;
mod error;
pub mod format;
mod io;
mod reader;
mod writer;

pub use array::{ArrayView, Dtype, Element};
pub use buffer::AlignedBuf;
pub use error::{ArchiveError, Error, Result};
pub use format::Version;
pub use format::manifest::{MetaRef, MetaValue};
pub use io::map::AccessPattern;
pub use reader::{ArrayEntry, EntryRef, Kind, Metadata, OpenOptions, Reader};
pub use writer::{ArrayWriter, Codec, EntryOptions, WriteOptions, Writer};
