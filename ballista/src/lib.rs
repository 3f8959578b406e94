//! Brine tables on a Ballista cluster.
//!
//! A Ballista client sends its logical plan to the scheduler, which plans it and sends each
//! stage's physical plan to the executors. A [`BrineTable`] crosses the first hop and a
//! [`BrineExec`] the second, each through an extension codec installed on every side:
//!
//! - [`BrinePhysicalCodec`] / [`BrineLogicalCodec`] encode a brine table as the files it reads
//!   (path and frame entry of each source) and a scan as that table plus its units,
//!   projection and limit. Everything else goes to Ballista's own codecs.
//! - Decoding opens every file again (tier 1 of brine's validation: header, manifest, every
//!   section reference) and rebuilds the table from what the files say. Nothing the bytes
//!   claim about rows, statistics or schema is believed: a table's schema must equal its
//!   files', a unit's rows must lie inside its file.
//!
//! Every process must see the files at the same paths (a shared folder). A plan may name any
//! brine file the executors can read: the cluster trusts its clients, as Ballista does.
//!
//! **A task per share of the shards.** Ballista 55's scheduler cuts a stage into tasks by
//! restricting the stage's leaves to each task's partitions, and the leaves it knows are file
//! and memory scans and shuffle readers (`restrict_plan_to_partitions` in ballista-scheduler
//! 55.0.0, `src/state/task_builder.rs`). So on the scheduler a brine scan is a
//! `DataSourceExec` whose file groups are the scan's units ([`split`]); each task keeps its
//! groups, and its executor receives a [`BrineExec`] of those units only: every shard is read
//! once, spread over the executors.
//!
//! ```no_run
//! # async fn run() -> datafusion::error::Result<()> {
//! let ctx = brine_ballista::remote_context("df://127.0.0.1:50050").await?;
//! let table = brine_ballista::BrineTable::open("/shared/flights.brine")?;
//! ctx.register_table("flights", std::sync::Arc::new(table))?;
//! ctx.sql("SELECT origin, count(*) FROM flights GROUP BY origin").await?.show().await?;
//! # Ok(()) }
//! ```
//!
//! The binaries `brine-ballista-scheduler` and `brine-ballista-executor` start Ballista's
//! scheduler and executor with these codecs installed.

mod codec;
pub mod split;

use std::sync::Arc;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use datafusion::error::Result;
use datafusion::execution::SessionState;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

pub use brine_datafusion::{BrineExec, BrineTable};
pub use codec::{BrineLogicalCodec, BrinePhysicalCodec, MAX_PATH_LEN, MAX_SOURCES, MAX_UNITS};

/// A client's context on the Ballista scheduler at `url` (`df://host:port`), with the brine
/// codecs installed: brine tables registered on it run on the cluster.
///
/// # Errors
/// A malformed `url`. Connecting happens at the first query.
pub async fn remote_context(url: &str) -> Result<SessionContext> {
    SessionContext::remote_with_state(url, client_state()).await
}

/// A session state with the brine codecs installed, for
/// `SessionContext::remote_with_state` (which adds Ballista's planner to it).
pub fn client_state() -> SessionState {
    let config = SessionConfig::new_with_ballista()
        .with_ballista_logical_extension_codec(Arc::new(BrineLogicalCodec::default()))
        .with_ballista_physical_extension_codec(Arc::new(BrinePhysicalCodec::default()));
    SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .build()
}
