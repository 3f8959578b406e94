//! Models: rkyv archives stored in a brine file, identified by their [`Schema`].
//!
//! See [`schema`] for the [`Schema`] trait, its derive, and the fingerprint that a reader checks
//! before it touches a stored model.

pub mod dynamic;
mod rules;
pub mod schema;
mod store;
mod value;
mod views;

pub use dynamic::{Dynamic, DynamicError, DynamicSchema};
pub use schema::*;
pub use store::{Capped, MAX_ARCHIVE_LEN, ModelEntry, ModelOptions};
pub use value::{ArchivedValue, Value};
pub use views::{NativeSlice, TensorRef, numbers};
