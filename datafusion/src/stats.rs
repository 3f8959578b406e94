//! What DataFusion sees of verified column statistics: ScalarValues for the planner, arrays for
//! its pruning predicate.

use std::collections::HashSet;
use std::sync::Arc;

use brine::frame::{ColumnStats, StatRange};
use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use datafusion::common::pruning::PruningStatistics;
use datafusion::common::{Column, ScalarValue};

/// Whether [`scalar_range`] gives columns of type `ty` a range (so their statistics can rule
/// a source out).
pub(crate) fn has_range(ty: &DataType) -> bool {
    matches!(
        ty,
        DataType::Boolean
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Date32
            | DataType::Timestamp(..)
            | DataType::Duration(_)
    )
}

/// The `(min, max)` of a column's statistics as ScalarValues of its Arrow type, or `None`
/// where they are no bound in DataFusion's order.
///
/// Float ranges are never used: brine's ignore NaN, while DataFusion orders floats by
/// `total_cmp` (NaN above every number, -NaN below), so a NaN row outside the range would be
/// pruned away. Strings and categoricals carry no range.
pub(crate) fn scalar_range(ty: &DataType, range: StatRange) -> Option<(ScalarValue, ScalarValue)> {
    let (lo, hi) = match range {
        StatRange::Int(lo, hi) => (lo, hi),
        StatRange::UInt(lo, hi) => {
            return Some(match ty {
                DataType::UInt8 => (
                    ScalarValue::UInt8(Some(u8::try_from(lo).ok()?)),
                    ScalarValue::UInt8(Some(u8::try_from(hi).ok()?)),
                ),
                DataType::UInt16 => (
                    ScalarValue::UInt16(Some(u16::try_from(lo).ok()?)),
                    ScalarValue::UInt16(Some(u16::try_from(hi).ok()?)),
                ),
                DataType::UInt32 => (
                    ScalarValue::UInt32(Some(u32::try_from(lo).ok()?)),
                    ScalarValue::UInt32(Some(u32::try_from(hi).ok()?)),
                ),
                DataType::UInt64 => (ScalarValue::UInt64(Some(lo)), ScalarValue::UInt64(Some(hi))),
                _ => return None,
            });
        }
        StatRange::Float(..) => return None,
    };
    let pair = |f: &dyn Fn(i64) -> Option<ScalarValue>| Some((f(lo)?, f(hi)?));
    match ty {
        DataType::Boolean => pair(&|v| Some(ScalarValue::Boolean(Some(v != 0)))),
        DataType::Int8 => pair(&|v| Some(ScalarValue::Int8(Some(i8::try_from(v).ok()?)))),
        DataType::Int16 => pair(&|v| Some(ScalarValue::Int16(Some(i16::try_from(v).ok()?)))),
        DataType::Int32 => pair(&|v| Some(ScalarValue::Int32(Some(i32::try_from(v).ok()?)))),
        DataType::Int64 => pair(&|v| Some(ScalarValue::Int64(Some(v)))),
        DataType::Date32 => pair(&|v| Some(ScalarValue::Date32(Some(i32::try_from(v).ok()?)))),
        DataType::Timestamp(unit, zone) => pair(&|v| {
            let zone = zone.clone();
            Some(match unit {
                TimeUnit::Second => ScalarValue::TimestampSecond(Some(v), zone),
                TimeUnit::Millisecond => ScalarValue::TimestampMillisecond(Some(v), zone),
                TimeUnit::Microsecond => ScalarValue::TimestampMicrosecond(Some(v), zone),
                TimeUnit::Nanosecond => ScalarValue::TimestampNanosecond(Some(v), zone),
            })
        }),
        DataType::Duration(unit) => pair(&|v| {
            Some(match unit {
                TimeUnit::Second => ScalarValue::DurationSecond(Some(v)),
                TimeUnit::Millisecond => ScalarValue::DurationMillisecond(Some(v)),
                TimeUnit::Microsecond => ScalarValue::DurationMicrosecond(Some(v)),
                TimeUnit::Nanosecond => ScalarValue::DurationNanosecond(Some(v)),
            })
        }),
        _ => None,
    }
}

/// The statistics of a list of sources (one container each), for DataFusion's
/// `PruningPredicate`.
pub(crate) struct SourceStats<'a> {
    pub schema: SchemaRef,
    /// Per source: verified row count and per-column statistics (table column order; `None`
    /// where not asked for).
    pub sources: Vec<(Option<usize>, &'a [Option<ColumnStats>])>,
    /// Per source: the verified partition values of a dataset's shard, `(table column, value
    /// as the shard's folder writes it)`; empty for a file.
    pub partitions: Vec<Vec<(usize, &'a str)>>,
}

/// A literal as a partition folder writes its value (strings as they are, integers in
/// decimal, bools `true`/`false`: spec DATASET.md §5); `None` for anything else, nulls too.
fn partition_text(value: &ScalarValue) -> Option<String> {
    match value {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Some(s.clone()),
        ScalarValue::Dictionary(_, inner) => partition_text(inner),
        ScalarValue::Boolean(Some(b)) => Some(b.to_string()),
        ScalarValue::Int8(Some(v)) => Some(v.to_string()),
        ScalarValue::Int16(Some(v)) => Some(v.to_string()),
        ScalarValue::Int32(Some(v)) => Some(v.to_string()),
        ScalarValue::Int64(Some(v)) => Some(v.to_string()),
        ScalarValue::UInt8(Some(v)) => Some(v.to_string()),
        ScalarValue::UInt16(Some(v)) => Some(v.to_string()),
        ScalarValue::UInt32(Some(v)) => Some(v.to_string()),
        ScalarValue::UInt64(Some(v)) => Some(v.to_string()),
        _ => None,
    }
}

impl SourceStats<'_> {
    fn index(&self, column: &Column) -> Option<usize> {
        self.schema.index_of(&column.name).ok()
    }

    fn bound(&self, column: &Column, max: bool) -> Option<ArrayRef> {
        let i = self.index(column)?;
        let ty = self.schema.field(i).data_type();
        let null = ScalarValue::try_from(ty).ok()?;
        let values = self.sources.iter().map(|(_, stats)| {
            stats
                .get(i)
                .copied()
                .flatten()
                .and_then(|s| s.range)
                .and_then(|r| scalar_range(ty, r))
                .map_or_else(|| null.clone(), |(lo, hi)| if max { hi } else { lo })
        });
        ScalarValue::iter_to_array(values).ok()
    }
}

impl PruningStatistics for SourceStats<'_> {
    fn min_values(&self, column: &Column) -> Option<ArrayRef> {
        self.bound(column, false)
    }

    fn max_values(&self, column: &Column) -> Option<ArrayRef> {
        self.bound(column, true)
    }

    fn num_containers(&self) -> usize {
        self.sources.len()
    }

    fn null_counts(&self, column: &Column) -> Option<ArrayRef> {
        let i = self.index(column)?;
        let counts: UInt64Array = self
            .sources
            .iter()
            .map(|(_, stats)| stats.get(i).copied().flatten().map(|s| s.null_count))
            .collect();
        Some(Arc::new(counts))
    }

    fn row_counts(&self) -> Option<ArrayRef> {
        let rows: UInt64Array = self
            .sources
            .iter()
            .map(|(rows, _)| rows.map(|r| r as u64))
            .collect();
        Some(Arc::new(rows))
    }

    /// A shard's partition column holds its partition value on every row (checked, Y7): it
    /// holds only values of `values` when the value is one of them, and none of them
    /// otherwise. Unknown for files, other columns, and literals of other kinds.
    fn contained(&self, column: &Column, values: &HashSet<ScalarValue>) -> Option<BooleanArray> {
        let i = self.index(column)?;
        let texts = values
            .iter()
            .map(partition_text)
            .collect::<Option<HashSet<String>>>()?;
        let known: BooleanArray = self
            .partitions
            .iter()
            .map(|values| {
                values
                    .iter()
                    .find(|(c, _)| *c == i)
                    .map(|(_, value)| texts.contains(*value))
            })
            .collect();
        (known.null_count() < known.len()).then_some(known)
    }
}
