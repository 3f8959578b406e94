//! The codecs: a brine table as the files it reads, a brine scan as that table plus what each
//! partition reads; the rest handed to Ballista's codecs.
//!
//! Bytes a codec writes start with one tag byte: [`TAG_INNER`] for what Ballista's codec
//! encoded (the rest is its bytes), [`TAG_BRINE_V1`] for a brine message (protobuf, below).
//! An unknown tag is refused, so a newer encoding meets a clear error, not a misreading.
//!
//! On the scheduler a brine scan is split ([`crate::split`]) so that Ballista gives each task
//! its own units; a split scan goes to its executor as a `BrineExec` of that task's units.

use std::any::Any;
use std::path::Path;
use std::sync::Arc;

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use brine_datafusion::{BrineExec, BrineSource, BrineTable, Unit};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::Statistics;
use datafusion::common::TableReference;
use datafusion::datasource::TableType;
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{AggregateUDF, Extension, LogicalPlan, ScalarUDF, WindowUDF};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use prost::Message;

use crate::split;

/// The rest of the bytes are the inner (Ballista) codec's.
const TAG_INNER: u8 = 0;
/// The rest of the bytes are a brine message, version 1.
const TAG_BRINE_V1: u8 = 1;

/// Most sources (files) one table may name: a dataset's shard limit.
pub const MAX_SOURCES: usize = brine::dataset::MAX_SHARDS;
/// Longest path, in bytes (Linux's `PATH_MAX`).
pub const MAX_PATH_LEN: usize = 4096;
/// Longest frame entry name, in bytes.
const MAX_ENTRY_LEN: usize = 4096;
/// Most units (partitions) one scan may have.
pub const MAX_UNITS: usize = 1 << 24;

#[derive(Clone, PartialEq, Message)]
struct SourceMsg {
    /// UTF-8 path, as every process of the cluster sees it.
    #[prost(string, tag = "1")]
    path: String,
    #[prost(string, tag = "2")]
    entry: String,
}

#[derive(Clone, PartialEq, Message)]
struct TableMsg {
    #[prost(message, repeated, tag = "1")]
    sources: Vec<SourceMsg>,
}

#[derive(Clone, PartialEq, Message)]
struct UnitMsg {
    #[prost(uint64, tag = "1")]
    source: u64,
    /// Row range `[start, end)`; both absent for the whole frame.
    #[prost(uint64, optional, tag = "2")]
    start: Option<u64>,
    #[prost(uint64, optional, tag = "3")]
    end: Option<u64>,
}

#[derive(Clone, PartialEq, Message)]
struct ExecMsg {
    #[prost(message, optional, tag = "1")]
    table: Option<TableMsg>,
    #[prost(message, repeated, tag = "2")]
    units: Vec<UnitMsg>,
    #[prost(uint64, repeated, tag = "3")]
    projection: Vec<u64>,
    #[prost(uint64, optional, tag = "4")]
    limit: Option<u64>,
}

/// An error about bytes received: they are not a valid brine plan.
fn invalid(what: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Plan(format!("brine codec: {what}"))
}

fn brine_err(e: brine::Error) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

fn tagged(tag: u8, buf: &mut Vec<u8>) {
    buf.push(tag);
}

/// The tag byte and the rest.
fn untag(buf: &[u8]) -> Result<(u8, &[u8])> {
    match buf.split_first() {
        Some((&TAG_INNER, rest)) => Ok((TAG_INNER, rest)),
        Some((&TAG_BRINE_V1, rest)) => Ok((TAG_BRINE_V1, rest)),
        Some((t, _)) => Err(invalid(format!(
            "unknown encoding tag {t} (this build reads {TAG_INNER} and {TAG_BRINE_V1}; \
             was the plan written by a newer brine-ballista?)"
        ))),
        None => Err(invalid("empty message")),
    }
}

fn table_msg(sources: &[Arc<BrineSource>]) -> Result<TableMsg> {
    let sources = sources
        .iter()
        .map(|s| {
            let path = s.path().to_str().ok_or_else(|| {
                invalid(format!(
                    "{}: only UTF-8 paths cross the network",
                    s.path().display()
                ))
            })?;
            Ok(SourceMsg {
                path: path.to_owned(),
                entry: s.entry().to_owned(),
            })
        })
        .collect::<Result<_>>()?;
    Ok(TableMsg { sources })
}

/// Opens every source a message names (each file's tier-1 validation, and its manifest's
/// description of the frame) and checks that they share one schema; returns it with the
/// opened sources.
fn reopen(msg: &TableMsg) -> Result<(SchemaRef, Vec<Arc<BrineSource>>)> {
    let n = msg.sources.len();
    if n == 0 || n > MAX_SOURCES {
        return Err(invalid(format!(
            "a table of {n} sources (1 to {MAX_SOURCES})"
        )));
    }
    let mut schema: Option<SchemaRef> = None;
    let mut sources = Vec::with_capacity(n);
    for (i, s) in msg.sources.iter().enumerate() {
        if s.path.is_empty() || s.path.len() > MAX_PATH_LEN {
            return Err(invalid(format!(
                "source {i}: a path of {} bytes (1 to {MAX_PATH_LEN})",
                s.path.len()
            )));
        }
        if s.entry.is_empty() || s.entry.len() > MAX_ENTRY_LEN {
            return Err(invalid(format!(
                "source {i} ({}): an entry name of {} bytes (1 to {MAX_ENTRY_LEN})",
                s.path,
                s.entry.len()
            )));
        }
        let table = BrineTable::open_entry(Path::new(&s.path), &s.entry).map_err(brine_err)?;
        let this = table.schema();
        match &schema {
            None => schema = Some(this),
            Some(first) if same_columns(first, &this) => {}
            Some(first) => {
                return Err(invalid(format!(
                    "{}: frame {:?} has columns {}, the table's first source has {}",
                    s.path,
                    s.entry,
                    columns(&this),
                    columns(first)
                )));
            }
        }
        sources.extend(table.sources().iter().cloned());
    }
    let schema = schema.ok_or_else(|| invalid("a table without sources"))?;
    Ok((schema, sources))
}

/// Same column names and types (metadata aside: the wire may drop or reorder it).
fn same_columns(a: &Schema, b: &Schema) -> bool {
    a.fields().len() == b.fields().len()
        && a.fields()
            .iter()
            .zip(b.fields())
            .all(|(x, y)| x.name() == y.name() && x.data_type() == y.data_type())
}

fn columns(s: &Schema) -> String {
    let cols: Vec<String> = s
        .fields()
        .iter()
        .map(|f| format!("{} {}", f.name(), f.data_type()))
        .collect();
    format!("({})", cols.join(", "))
}

fn to_u64(n: usize) -> u64 {
    // usize is at most 64 bits on every target Ballista builds for.
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn to_usize(n: u64, what: &str) -> Result<usize> {
    usize::try_from(n).map_err(|_| invalid(format!("{what} {n} does not fit this machine")))
}

fn encode_table(table: &BrineTable, buf: &mut Vec<u8>) -> Result<()> {
    let msg = table_msg(table.sources())?;
    tagged(TAG_BRINE_V1, buf);
    msg.encode(buf)
        .map_err(|e| invalid(format!("encoding a table: {e}")))
}

/// Decodes a table message and reopens its files; the plan's `schema` must be theirs.
fn decode_table(buf: &[u8], schema: &Schema) -> Result<BrineTable> {
    let msg = TableMsg::decode(buf).map_err(|e| invalid(format!("a table message: {e}")))?;
    let (files, sources) = reopen(&msg)?;
    if !same_columns(&files, schema) {
        return Err(invalid(format!(
            "the plan's table has columns {}, its files have {}",
            columns(schema),
            columns(&files)
        )));
    }
    Ok(rebuilt(files, &sources))
}

/// The table of freshly reopened `sources`: their row counts come from the files' manifests
/// (nothing the message said); statistics are checked against the data when a scan asks for
/// them (rule D11), as for any brine table.
fn rebuilt(schema: SchemaRef, sources: &[Arc<BrineSource>]) -> BrineTable {
    let described = sources
        .iter()
        .map(|s| BrineSource::described(s.path(), s.entry(), s.rows()))
        .collect();
    BrineTable::new(schema, described)
}

fn encode_exec(exec: &BrineExec, buf: &mut Vec<u8>) -> Result<()> {
    let units = exec
        .units()
        .iter()
        .map(|u| UnitMsg {
            source: to_u64(u.source),
            start: u.rows.as_ref().map(|r| to_u64(r.start)),
            end: u.rows.as_ref().map(|r| to_u64(r.end)),
        })
        .collect();
    let msg = ExecMsg {
        table: Some(table_msg(exec.table().sources())?),
        units,
        projection: exec.projection().iter().map(|&i| to_u64(i)).collect(),
        limit: exec.limit().map(to_u64),
    };
    tagged(TAG_BRINE_V1, buf);
    msg.encode(buf)
        .map_err(|e| invalid(format!("encoding a scan: {e}")))
}

/// Decodes a scan message: reopens its files, then checks every unit and column against
/// what they hold.
fn decode_exec(buf: &[u8]) -> Result<BrineExec> {
    let msg = ExecMsg::decode(buf).map_err(|e| invalid(format!("a scan message: {e}")))?;
    let table = msg
        .table
        .as_ref()
        .ok_or_else(|| invalid("a scan without its table"))?;
    let (schema, sources) = reopen(table)?;
    if msg.units.len() > MAX_UNITS {
        return Err(invalid(format!(
            "a scan of {} units (at most {MAX_UNITS})",
            msg.units.len()
        )));
    }
    let width = schema.fields().len();
    if msg.projection.len() > width.max(1) * 16 {
        return Err(invalid(format!(
            "a projection of {} columns of a table of {width}",
            msg.projection.len()
        )));
    }
    let projection = msg
        .projection
        .iter()
        .map(|&c| {
            let c = to_usize(c, "column")?;
            if c >= width {
                return Err(invalid(format!("column {c} of a table of {width} columns")));
            }
            Ok(c)
        })
        .collect::<Result<Vec<_>>>()?;
    let units = msg
        .units
        .iter()
        .enumerate()
        .map(|(k, u)| {
            let source = to_usize(u.source, "source")?;
            let Some(s) = sources.get(source) else {
                return Err(invalid(format!(
                    "unit {k} reads source {source} of {}",
                    sources.len()
                )));
            };
            let rows = match (u.start, u.end) {
                (None, None) => None,
                (Some(start), Some(end)) => {
                    let (start, end) = (to_usize(start, "row")?, to_usize(end, "row")?);
                    let n = s.rows().unwrap_or(0);
                    if start > end || end > n {
                        return Err(invalid(format!(
                            "unit {k} reads rows {start}..{end} of {} (frame {:?}), \
                             which has {n}",
                            s.path().display(),
                            s.entry()
                        )));
                    }
                    Some(start..end)
                }
                _ => {
                    return Err(invalid(format!(
                        "unit {k}: a row range needs both its start and its end"
                    )));
                }
            };
            Ok(Unit { source, rows })
        })
        .collect::<Result<Vec<_>>>()?;
    let limit = msg.limit.map(|l| to_usize(l, "limit")).transpose()?;
    BrineExec::try_new(
        Arc::new(rebuilt(schema, &sources)),
        units,
        projection,
        limit,
    )
}

/// A decoded brine table, whose scans are split into one file group per unit
/// ([`split::split`]) so that Ballista's scheduler gives each task its share of the units.
#[derive(Debug)]
struct SplitScan(BrineTable);

#[async_trait::async_trait]
impl TableProvider for SplitScan {
    fn schema(&self) -> SchemaRef {
        self.0.schema()
    }

    fn table_type(&self) -> TableType {
        self.0.table_type()
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        self.0.supports_filters_pushdown(filters)
    }

    fn statistics(&self) -> Option<Statistics> {
        self.0.statistics()
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let scan = self.0.scan(state, projection, filters, limit).await?;
        let any: Arc<dyn Any + Send + Sync> = scan.clone();
        match any.downcast::<BrineExec>() {
            Ok(exec) => Ok(split::split(exec)),
            Err(_) => Ok(scan),
        }
    }
}

/// Ballista's logical codec, plus brine tables.
#[derive(Debug)]
pub struct BrineLogicalCodec {
    inner: Arc<dyn LogicalExtensionCodec>,
}

impl Default for BrineLogicalCodec {
    fn default() -> Self {
        BrineLogicalCodec::new(Arc::new(BallistaLogicalExtensionCodec::default()))
    }
}

impl BrineLogicalCodec {
    /// Brine tables, and everything else through `inner`.
    pub fn new(inner: Arc<dyn LogicalExtensionCodec>) -> Self {
        BrineLogicalCodec { inner }
    }
}

impl LogicalExtensionCodec for BrineLogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.inner.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        match untag(buf)? {
            (TAG_BRINE_V1, rest) => {
                let table = decode_table(rest, &schema)
                    .map_err(|e| e.context(format!("brine table {table_ref}")))?;
                Ok(Arc::new(SplitScan(table)))
            }
            (_, rest) => self
                .inner
                .try_decode_table_provider(rest, table_ref, schema, ctx),
        }
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        if let Some(table) = BrineTable::of(node.as_ref()) {
            return encode_table(table, buf);
        }
        if let Some(SplitScan(table)) = (node.as_ref() as &dyn Any).downcast_ref() {
            return encode_table(table, buf);
        }
        tagged(TAG_INNER, buf);
        self.inner.try_encode_table_provider(table_ref, node, buf)
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.inner.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.inner.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        self.inner.try_decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode_udf(node, buf)
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        self.inner.try_decode_udaf(name, buf)
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode_udaf(node, buf)
    }

    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
        self.inner.try_decode_udwf(name, buf)
    }

    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode_udwf(node, buf)
    }
}

/// Ballista's physical codec, plus brine scans.
#[derive(Debug)]
pub struct BrinePhysicalCodec {
    inner: Arc<dyn PhysicalExtensionCodec>,
}

impl Default for BrinePhysicalCodec {
    fn default() -> Self {
        BrinePhysicalCodec::new(Arc::new(BallistaPhysicalExtensionCodec::default()))
    }
}

impl BrinePhysicalCodec {
    /// Brine scans, and everything else through `inner`.
    pub fn new(inner: Arc<dyn PhysicalExtensionCodec>) -> Self {
        BrinePhysicalCodec { inner }
    }
}

impl PhysicalExtensionCodec for BrinePhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match untag(buf)? {
            (TAG_BRINE_V1, rest) => {
                if !inputs.is_empty() {
                    return Err(invalid(format!(
                        "a scan with {} inputs (it has none)",
                        inputs.len()
                    )));
                }
                Ok(Arc::new(decode_exec(rest)?))
            }
            (_, rest) => self.inner.try_decode(rest, inputs, ctx, proto_converter),
        }
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        if let Some(exec) = node.downcast_ref::<BrineExec>() {
            return encode_exec(exec, buf);
        }
        // A split scan, restricted or not to a task's units, goes as the scan of those units.
        if let Some(exec) = split::unsplit(node.as_ref())? {
            return encode_exec(&exec, buf);
        }
        tagged(TAG_INNER, buf);
        self.inner.try_encode(node, buf, proto_converter)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        self.inner.try_decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode_udf(node, buf)
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        self.inner.try_decode_udaf(name, buf)
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode_udaf(node, buf)
    }

    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
        self.inner.try_decode_udwf(name, buf)
    }

    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode_udwf(node, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use brine::Writer;
    use brine::frame::{Column, Frame};
    use datafusion::arrow::datatypes::{DataType, Field};
    use datafusion_proto::physical_plan::DefaultPhysicalProtoConverter;

    /// A file with frame `f` of 10 rows (`a` i64, `b` f64) in `dir`.
    fn file(dir: &Path) -> String {
        let path = dir.join("t.brine");
        let frame = Frame::builder()
            .column("a", Column::new((0..10i64).collect::<Vec<_>>()))
            .column("b", Column::new((0..10).map(f64::from).collect::<Vec<_>>()))
            .build()
            .unwrap();
        let mut w = Writer::create(&path).unwrap();
        w.put_frame("f", &frame).unwrap();
        w.finish().unwrap();
        path.to_str().unwrap().to_owned()
    }

    fn exec_msg(path: &str) -> ExecMsg {
        ExecMsg {
            table: Some(TableMsg {
                sources: vec![SourceMsg {
                    path: path.to_owned(),
                    entry: "f".into(),
                }],
            }),
            units: vec![UnitMsg {
                source: 0,
                start: Some(2),
                end: Some(8),
            }],
            projection: vec![1, 0],
            limit: Some(5),
        }
    }

    fn decode(msg: &ExecMsg) -> Result<Arc<dyn ExecutionPlan>> {
        let mut buf = vec![TAG_BRINE_V1];
        msg.encode(&mut buf).unwrap();
        decode_bytes(&buf)
    }

    fn decode_bytes(buf: &[u8]) -> Result<Arc<dyn ExecutionPlan>> {
        BrinePhysicalCodec::default().try_decode(
            buf,
            &[],
            &TaskContext::default(),
            &DefaultPhysicalProtoConverter {},
        )
    }

    fn message(r: Result<Arc<dyn ExecutionPlan>>) -> String {
        match r {
            Ok(_) => panic!("decoded"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn scan_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(dir.path());
        let plan = decode(&exec_msg(&path)).unwrap();
        let exec = plan.downcast_ref::<BrineExec>().unwrap();
        assert_eq!(exec.projection(), &[1, 0]);
        assert_eq!(exec.limit(), Some(5));
        assert_eq!(
            exec.units(),
            &[Unit {
                source: 0,
                rows: Some(2..8)
            }]
        );
        let mut again = Vec::new();
        BrinePhysicalCodec::default()
            .try_encode(plan.clone(), &mut again, &DefaultPhysicalProtoConverter {})
            .unwrap();
        let mut want = vec![TAG_BRINE_V1];
        exec_msg(&path).encode(&mut want).unwrap();
        assert_eq!(again, want);
    }

    #[test]
    fn empty_and_unknown_tags_are_refused() {
        assert!(message(decode_bytes(&[])).contains("empty message"));
        assert!(message(decode_bytes(&[7, 1, 2])).contains("unknown encoding tag 7"));
        assert!(message(decode_bytes(&[TAG_BRINE_V1, 0xff, 0xff])).contains("a scan message"));
    }

    #[test]
    fn missing_file_is_brine_error() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone.brine");
        let err = decode(&exec_msg(gone.to_str().unwrap())).unwrap_err();
        let DataFusionError::External(e) = err else {
            panic!("{err}")
        };
        assert!(e.downcast_ref::<brine::Error>().is_some(), "{e}");
    }

    #[test]
    fn a_file_that_is_not_brine_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk.brine");
        std::fs::write(&path, b"not a brine file at all, just bytes").unwrap();
        let err = decode(&exec_msg(path.to_str().unwrap())).unwrap_err();
        assert!(matches!(err, DataFusionError::External(_)), "{err}");
    }

    #[test]
    fn rows_outside_the_file_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut msg = exec_msg(&file(dir.path()));
        msg.units[0].end = Some(11);
        assert!(message(decode(&msg)).contains("rows 2..11"));
        msg.units[0].start = Some(9);
        msg.units[0].end = Some(3);
        assert!(message(decode(&msg)).contains("rows 9..3"));
        msg.units[0].end = None;
        assert!(message(decode(&msg)).contains("needs both"));
        msg.units[0].start = Some(u64::MAX);
        msg.units[0].end = Some(u64::MAX);
        assert!(decode(&msg).is_err());
    }

    #[test]
    fn unit_of_a_missing_source_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut msg = exec_msg(&file(dir.path()));
        msg.units[0].source = 1;
        assert!(message(decode(&msg)).contains("source 1 of 1"));
        msg.units[0].source = u64::MAX;
        assert!(decode(&msg).is_err());
    }

    #[test]
    fn column_outside_the_table_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut msg = exec_msg(&file(dir.path()));
        msg.projection = vec![0, 2];
        assert!(message(decode(&msg)).contains("column 2 of a table of 2"));
        msg.projection = vec![0; 1000];
        assert!(message(decode(&msg)).contains("a projection of 1000"));
    }

    #[test]
    fn bad_table_lists_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(dir.path());
        let mut msg = exec_msg(&path);
        msg.table = None;
        assert!(message(decode(&msg)).contains("without its table"));
        let mut msg = exec_msg(&path);
        msg.table.as_mut().unwrap().sources.clear();
        assert!(message(decode(&msg)).contains("a table of 0 sources"));
        let mut msg = exec_msg(&path);
        msg.table.as_mut().unwrap().sources[0].path = "x".repeat(MAX_PATH_LEN + 1);
        assert!(message(decode(&msg)).contains("a path of 4097 bytes"));
        let mut msg = exec_msg(&path);
        msg.table.as_mut().unwrap().sources[0].entry = String::new();
        assert!(message(decode(&msg)).contains("an entry name of 0 bytes"));
        let mut msg = exec_msg(&path);
        msg.table.as_mut().unwrap().sources[0].entry = "nope".into();
        assert!(matches!(decode(&msg), Err(DataFusionError::External(_))));
        let mut msg = exec_msg(&path);
        msg.units = (0..MAX_UNITS as u64 + 1)
            .map(|_| UnitMsg::default())
            .collect();
        assert!(message(decode(&msg)).contains("units (at most"));
    }

    #[test]
    fn sources_with_other_columns_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(dir.path());
        let other = dir.path().join("other.brine");
        let frame = Frame::builder()
            .column("a", Column::new(vec![1i32]))
            .build()
            .unwrap();
        let mut w = Writer::create(&other).unwrap();
        w.put_frame("f", &frame).unwrap();
        w.finish().unwrap();
        let mut msg = exec_msg(&path);
        msg.table.as_mut().unwrap().sources.push(SourceMsg {
            path: other.to_str().unwrap().into(),
            entry: "f".into(),
        });
        assert!(message(decode(&msg)).contains("the table's first source has"));
    }

    #[test]
    fn table_schema_must_be_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(dir.path());
        let msg = exec_msg(&path).table.unwrap();
        let mut buf = vec![TAG_BRINE_V1];
        msg.encode(&mut buf).unwrap();
        let codec = BrineLogicalCodec::default();
        let ctx = TaskContext::default();
        let t = TableReference::bare("t");
        let right = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, false),
            Field::new("b", DataType::Float64, false),
        ]));
        let table = codec
            .try_decode_table_provider(&buf, &t, right, &ctx)
            .unwrap();
        let table = (table.as_ref() as &dyn Any)
            .downcast_ref::<SplitScan>()
            .unwrap();
        assert_eq!(table.0.sources().len(), 1);
        let wrong = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, false)]));
        let err = codec
            .try_decode_table_provider(&buf, &t, wrong, &ctx)
            .unwrap_err();
        assert!(
            err.to_string().contains("the plan's table has columns"),
            "{err}"
        );
    }
}
