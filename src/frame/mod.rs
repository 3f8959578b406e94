//! Frames: columnar tables stored already parsed, read as zero-copy column views.
//!
//! Buffers are laid out as Arrow lays them out (LSB-first validity bitmaps, bit-packed bools,
//! 64-bit offsets plus bytes for strings, `i32` codes plus a string dictionary for
//! categoricals), one section per buffer, so that a column can be handed to Arrow without a
//! copy and a reader in any language can view it with one `mmap`.
//!
//! ```
//! # fn main() -> brine::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("frame.brine");
//! use brine::frame::{Column, Frame, TimeUnit};
//!
//! let frame = Frame::builder()
//!     .column("id", Column::new(vec![1i64, 2, 3]))
//!     .column("name", Column::strings_opt([Some("ada"), None, Some("alan")]))
//!     .column("seen", Column::timestamps(vec![0, 1_000, 2_000], TimeUnit::Millisecond, Some("UTC")))
//!     .build()?;
//! let mut w = brine::Writer::create(&path)?;
//! w.put_frame("people", &frame)?;
//! w.finish()?;
//!
//! let r = brine::Reader::open(&path)?;
//! let people = r.frame("people")?;
//! assert_eq!(people.rows(), 3);
//! assert_eq!(people.column("id")?.values::<i64>()?, &[1, 2, 3]);
//! let names = people.column("name")?.strings()?;
//! assert_eq!(names.iter().collect::<Vec<_>>(), [Some("ada"), None, Some("alan")]);
//! # Ok(()) }
//! ```

mod bitmap;
mod column;
mod rules;
mod stats;
mod types;
mod view;
pub(crate) mod write;

#[cfg(feature = "arrow")]
pub mod arrow;
pub mod csv;

pub use bitmap::{Bitmap, BitmapBuilder};
pub use column::{
    BinaryBuilder, BoolBuilder, CategoricalBuilder, Column, ColumnElement, Frame, FrameBuilder,
    PrimitiveBuilder, StringBuilder,
};
pub use types::{
    ColumnStats, ColumnType, Field, StatRange, TimeUnit, fixed_offset, is_known_zone, is_zone_form,
};
pub use view::{
    BinaryColumn, BoolColumn, CategoricalColumn, ColumnView, FrameView, PrimitiveColumn, StrColumn,
    TemporalColumn,
};
pub use write::{FrameOptions, FrameWriter};
