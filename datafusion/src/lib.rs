//! Brine frames as DataFusion tables.
//!
//! A [`BrineTable`] is a list of [`BrineSource`]s, each one frame entry in one brine file (or
//! one shard of a dataset), all with the same columns. A scan maps only the projected columns
//! of the sources that the pushed-down filters cannot rule out by their min/max statistics,
//! and hands DataFusion the zero-copy RecordBatches of [`brine::frame::arrow`]: their buffers
//! point into the files' mappings, so no column data is copied (compressed columns are
//! decoded once, by the reader). Every source is one partition (a large frame is cut into row
//! ranges when DataFusion wants more partitions than there are sources), so DataFusion reads
//! them in parallel.
//!
//! Statistics are only ever used verified (rule D11 of spec/FORMAT.md: `checked_stats`; for a
//! dataset, `Dataset::checked_column_stats`): a file or an index whose statistics lie makes a
//! query fail with brine's error, never answer from the lie. Checking a column's statistics
//! is its first access (one pass over it, once per reader); a dataset on which
//! `Dataset::verify` passed prunes shards by its index without opening them.
//!
//! ```no_run
//! # async fn run() -> datafusion::error::Result<()> {
//! use brine_datafusion::SessionContextExt;
//! let ctx = datafusion::prelude::SessionContext::new();
//! ctx.register_brine("flights", "flights.brine")?;
//! let df = ctx.sql("SELECT origin, avg(dep_delay) FROM flights GROUP BY origin").await?;
//! df.show().await?;
//! # Ok(()) }
//! ```
//!
//! A dataset folder (`brine::dataset`) registers the same way, one source per shard:
//! `ctx.register_brine("flights", "flights/")`.

mod exec;
mod source;
mod stats;

use std::path::Path;
use std::sync::Arc;

use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;

pub use exec::{BrineExec, Unit};
pub use source::{BrineSource, BrineTable, ScanCounters};

/// A brine error as DataFusion's (kept whole, so callers can downcast it).
pub(crate) fn df_err(e: brine::Error) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// Brine tables for a [`SessionContext`].
pub trait SessionContextExt {
    /// Registers the only frame entry of the brine file at `path`, or the frame dataset whose
    /// folder `path` is, as table `name` ([`BrineTable::open`]).
    ///
    /// # Errors
    /// The file's or dataset's errors at open, and an error when the file holds no frame or
    /// more than one (then use [`SessionContextExt::register_brine_entry`]) or the dataset
    /// holds arrays.
    fn register_brine(&self, name: &str, path: impl AsRef<Path>) -> Result<()>;

    /// Registers frame entry `entry` of the brine file at `path` as table `name`.
    ///
    /// # Errors
    /// The file's errors at open, [`brine::Error::NotFound`], [`brine::Error::WrongKind`].
    fn register_brine_entry(&self, name: &str, path: impl AsRef<Path>, entry: &str) -> Result<()>;
}

impl SessionContextExt for SessionContext {
    fn register_brine(&self, name: &str, path: impl AsRef<Path>) -> Result<()> {
        let table = BrineTable::open(path.as_ref())?;
        self.register_table(name, Arc::new(table))?;
        Ok(())
    }

    fn register_brine_entry(&self, name: &str, path: impl AsRef<Path>, entry: &str) -> Result<()> {
        let table = BrineTable::open_entry(path.as_ref(), entry).map_err(df_err)?;
        self.register_table(name, Arc::new(table))?;
        Ok(())
    }
}
