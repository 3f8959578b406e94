//! Models: rkyv archives stored in a brine file, identified by their [`Schema`].
//!
//! See [`schema`] for the [`Schema`] trait, its derive, and the fingerprint that a reader checks
//! before it touches a stored model.

pub mod schema;
pub use schema::*;
