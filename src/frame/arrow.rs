//! Arrow interop (feature `arrow`): a frame becomes an arrow-rs [`RecordBatch`] whose buffers
//! point into the file's mapping, kept alive by the reader; a `RecordBatch` (or a stream of
//! them) is written as a frame.
//!
//! ```
//! # fn main() -> brine::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("a.brine");
//! use std::sync::Arc;
//! use brine::frame::{Column, Frame};
//!
//! let frame = Frame::builder().column("x", Column::new(vec![1.0f64, 2.0])).build()?;
//! let mut w = brine::Writer::create(&path)?;
//! w.put_frame("t", &frame)?;
//! w.finish()?;
//!
//! let reader = Arc::new(brine::Reader::open(&path)?);
//! let batch = brine::frame::arrow::record_batch(&reader, "t")?;
//! assert_eq!(batch.num_rows(), 2);
//! # Ok(()) }
//! ```

/// The arrow-rs crates this module speaks, re-exported so that users match their versions.
pub use {arrow_array, arrow_buffer, arrow_data, arrow_schema};

use std::ptr::NonNull;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    ArrowPrimitiveType, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch, make_array};
use arrow_buffer::Buffer;
use arrow_data::ArrayDataBuilder;
use arrow_schema::{DataType, Field as ArrowField, Schema, TimeUnit as ArrowUnit};

use crate::error::{Error, Result};
use crate::frame::column::{Column, ColumnElement, Frame, PrimitiveBuilder};
use crate::frame::types::{ColumnType, TimeUnit};
use crate::frame::view::ColumnView;
use crate::frame::write::FrameOptions;
use crate::raw::Dtype;
use crate::reader::Reader;
use crate::writer::Writer;

/// A buffer of Arrow's that points at `bytes` inside `reader` without copying them.
fn borrowed(reader: &Arc<Reader>, bytes: &[u8]) -> Buffer {
    let ptr = NonNull::new(bytes.as_ptr().cast_mut()).unwrap_or(NonNull::dangling());
    let owner: Arc<dyn arrow_buffer::alloc::Allocation> = Arc::clone(reader) as _;
    // SAFETY: `bytes` is borrowed from `reader`: its read-only mapping (stable under the
    // contract of `io::map`) or a fetched or decoded buffer it owns, which never moves and is
    // never written again once filled (`store::SectionCache`). `owner` holds an `Arc` of that reader, so the bytes stay
    // valid for `len` bytes as long as the buffer (and every clone of it) lives.
    unsafe { Buffer::from_custom_allocation(ptr, bytes.len(), owner) }
}

fn arrow_unit(unit: TimeUnit) -> ArrowUnit {
    match unit {
        TimeUnit::Second => ArrowUnit::Second,
        TimeUnit::Millisecond => ArrowUnit::Millisecond,
        TimeUnit::Microsecond => ArrowUnit::Microsecond,
        TimeUnit::Nanosecond => ArrowUnit::Nanosecond,
    }
}

fn brine_unit(unit: &ArrowUnit) -> TimeUnit {
    match unit {
        ArrowUnit::Second => TimeUnit::Second,
        ArrowUnit::Millisecond => TimeUnit::Millisecond,
        ArrowUnit::Microsecond => TimeUnit::Microsecond,
        ArrowUnit::Nanosecond => TimeUnit::Nanosecond,
    }
}

/// The Arrow type of a brine column type.
pub fn data_type(ty: &ColumnType) -> DataType {
    match ty {
        ColumnType::Bool => DataType::Boolean,
        ColumnType::Primitive(d) => match d {
            Dtype::I8 => DataType::Int8,
            Dtype::I16 => DataType::Int16,
            Dtype::I32 => DataType::Int32,
            Dtype::I64 => DataType::Int64,
            Dtype::U8 => DataType::UInt8,
            Dtype::U16 => DataType::UInt16,
            Dtype::U32 => DataType::UInt32,
            Dtype::U64 => DataType::UInt64,
            Dtype::F16 => DataType::Float16,
            Dtype::F32 => DataType::Float32,
            // Tier 1 admits no other dtype for primitive columns.
            _ => DataType::Float64,
        },
        ColumnType::Utf8 => DataType::LargeUtf8,
        ColumnType::Binary => DataType::LargeBinary,
        ColumnType::Timestamp { unit, zone } => {
            DataType::Timestamp(arrow_unit(*unit), zone.as_deref().map(Arc::from))
        }
        ColumnType::Date => DataType::Date32,
        ColumnType::Duration(unit) => DataType::Duration(arrow_unit(*unit)),
        ColumnType::Categorical { .. } => {
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::LargeUtf8))
        }
    }
}

/// One column as an Arrow array over the file's bytes (no copy for raw columns; compressed
/// columns point into the reader's decompressed buffers).
///
/// # Errors
/// The errors of the column's first access ([`ColumnView::buffers`]).
pub fn array(reader: &Arc<Reader>, column: &ColumnView<'_>) -> Result<ArrayRef> {
    let [validity, values, offsets, dict_offsets, dict_values] = column.buffers()?;
    let rows = column.len();
    let ty = column.ty();
    let nulls = (!validity.is_empty()).then(|| borrowed(reader, validity));
    let mut builder = ArrayDataBuilder::new(data_type(&ty))
        .len(rows)
        .null_count(column.null_count())
        .null_bit_buffer(nulls);
    builder = match ty {
        ColumnType::Utf8 | ColumnType::Binary => builder
            .add_buffer(borrowed(reader, offsets))
            .add_buffer(borrowed(reader, values)),
        ColumnType::Categorical { .. } => {
            let size = dict_offsets.len() / 8 - 1;
            let dictionary = ArrayDataBuilder::new(DataType::LargeUtf8)
                .len(size)
                .add_buffer(borrowed(reader, dict_offsets))
                .add_buffer(borrowed(reader, dict_values));
            // SAFETY: as for the column below: tier 2 checked the dictionary's offsets (start
            // at 0, monotone, end at the bytes' length, on character boundaries) and UTF-8.
            let dictionary = unsafe { dictionary.build_unchecked() };
            builder
                .add_buffer(borrowed(reader, values))
                .add_child_data(dictionary)
        }
        _ => builder.add_buffer(borrowed(reader, values)),
    };
    // SAFETY: `buffers()` ran tier 2 on this column: every invariant Arrow's full validation
    // checks holds. Tier 1 checked the lengths (values rows x size, bitmaps ceil(rows / 8),
    // offsets rows + 1) and 64-byte alignment of every section; tier 2 checked offsets
    // (monotone, from 0 to the data's length), UTF-8 on character boundaries, codes of
    // non-null rows below the dictionary's size, and the validity's null count.
    let data = unsafe { builder.build_unchecked() };
    Ok(make_array(data))
}

/// Arrow metadata (string to string; a `HashMap` in arrow 59) from brine metadata: its string values. Other types have
/// no Arrow form and are left out.
fn arrow_metadata(items: crate::reader::Metadata<'_>) -> std::collections::HashMap<String, String> {
    items
        .iter()
        .filter_map(|(k, v)| match v {
            crate::MetaRef::Str(s) => Some((k.to_owned(), s.to_owned())),
            _ => None,
        })
        .collect()
}

/// The Arrow field of a column: its name, type, metadata and, for categoricals, whether the
/// dictionary is ordered. Every field is nullable (Arrow's default): brine records no not-null
/// constraint, and a schema that changed with whether this frame happens to hold a null would
/// differ between two frames (two shards) of the same table.
pub fn field(column: &ColumnView<'_>) -> ArrowField {
    let ty = column.ty();
    let ordered = matches!(ty, ColumnType::Categorical { ordered: true });
    ArrowField::new(column.name(), data_type(&ty), true)
        .with_dict_is_ordered(ordered)
        .with_metadata(arrow_metadata(column.metadata()))
}

/// The frame `name` as a `RecordBatch` whose buffers point into the file (kept alive by the
/// `Arc<Reader>` they hold). Every column is validated (tier 2) first, once per reader.
///
/// The schema carries the frame entry's metadata and each field its column's metadata (their
/// string values: Arrow metadata holds only strings), and each dictionary field its
/// `ordered` flag, so a batch written with [`put_record_batches`] comes back with its schema.
///
/// # Errors
/// [`Error::NotFound`], [`Error::WrongKind`], and the errors of each column's first access.
pub fn record_batch(reader: &Arc<Reader>, name: &str) -> Result<RecordBatch> {
    let frame = reader.frame(name)?;
    // A remote reader fetches every column in one batch instead of one round trip each.
    let names: Vec<&str> = frame.iter().map(|c| c.name()).collect();
    frame.fetch(&names)?;
    let mut fields = Vec::with_capacity(frame.width());
    let mut arrays = Vec::with_capacity(frame.width());
    for column in frame.iter() {
        arrays.push(array(reader, &column)?);
        fields.push(field(&column));
    }
    let schema = Schema::new(fields).with_metadata(arrow_metadata(frame.metadata()));
    let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(frame.rows()));
    RecordBatch::try_new_with_options(Arc::new(schema), arrays, &options).map_err(|e| {
        Error::InvalidData {
            file: reader.path().to_path_buf(),
            entry: name.to_owned(),
            reason: format!("arrow refused the batch: {e}"),
        }
    })
}

fn unsupported(column: &str, ty: &DataType) -> Error {
    Error::InvalidInput {
        file: Default::default(),
        entry: String::new(),
        reason: format!(
            "column {column:?}: arrow type {ty} has no brine column type (supported: Boolean, integers, Float16/32/64, Utf8, LargeUtf8, Utf8View, Binary, LargeBinary, BinaryView, Timestamp, Date32, Duration, Dictionary of strings)"
        ),
    }
}

fn primitive<T>(a: &dyn Array) -> Column
where
    T: ArrowPrimitiveType,
    T::Native: ColumnElement + Default,
{
    let mut b = PrimitiveBuilder::<T::Native>::with_capacity(a.len());
    a.as_primitive::<T>().iter().for_each(|v| b.push(v));
    b.finish()
}

/// One Arrow array as a brine column (a copy: this is the write path).
///
/// # Errors
/// [`Error::InvalidInput`] for Arrow types brine does not store.
pub fn column(name: &str, a: &dyn Array) -> Result<Column> {
    Ok(match a.data_type() {
        DataType::Boolean => Column::bools_opt(a.as_boolean().iter()),
        DataType::Int8 => primitive::<Int8Type>(a),
        DataType::Int16 => primitive::<Int16Type>(a),
        DataType::Int32 => primitive::<Int32Type>(a),
        DataType::Int64 => primitive::<Int64Type>(a),
        DataType::UInt8 => primitive::<UInt8Type>(a),
        DataType::UInt16 => primitive::<UInt16Type>(a),
        DataType::UInt32 => primitive::<UInt32Type>(a),
        DataType::UInt64 => primitive::<UInt64Type>(a),
        DataType::Float16 => primitive::<Float16Type>(a),
        DataType::Float32 => primitive::<Float32Type>(a),
        DataType::Float64 => primitive::<Float64Type>(a),
        DataType::Utf8 => Column::strings_opt(a.as_string::<i32>().iter()),
        DataType::LargeUtf8 => Column::strings_opt(a.as_string::<i64>().iter()),
        DataType::Utf8View => Column::strings_opt(a.as_string_view().iter()),
        DataType::Binary => Column::binary_opt(a.as_binary::<i32>().iter()),
        DataType::LargeBinary => Column::binary_opt(a.as_binary::<i64>().iter()),
        DataType::BinaryView => Column::binary_opt(a.as_binary_view().iter()),
        DataType::Timestamp(unit, zone) => Column::timestamps_opt(
            reinterpret::<Int64Type>(name, a)?.iter(),
            brine_unit(unit),
            zone.as_deref(),
        ),
        DataType::Duration(unit) => {
            Column::durations_opt(reinterpret::<Int64Type>(name, a)?.iter(), brine_unit(unit))
        }
        DataType::Date32 => Column::dates_opt(reinterpret::<Int32Type>(name, a)?.iter()),
        DataType::Dictionary(_, value)
            if matches!(**value, DataType::Utf8 | DataType::LargeUtf8) =>
        {
            let dict = a.as_any_dictionary();
            let keys =
                arrow_cast_keys(dict.keys()).ok_or_else(|| unsupported(name, a.data_type()))?;
            let values = dict.values();
            let strings: Vec<&str> = match values.data_type() {
                DataType::Utf8 => values
                    .as_string::<i32>()
                    .iter()
                    .map(Option::unwrap_or_default)
                    .collect(),
                _ => values
                    .as_string::<i64>()
                    .iter()
                    .map(Option::unwrap_or_default)
                    .collect(),
            };
            Column::categorical_from_codes(keys, strings)
                .ok_or_else(|| unsupported(name, a.data_type()))?
        }
        other => return Err(unsupported(name, other)),
    })
}

/// A temporal array's integers, as the primitive array of its physical type (no copy).
fn reinterpret<T: ArrowPrimitiveType>(
    name: &str,
    a: &dyn Array,
) -> Result<arrow_array::PrimitiveArray<T>> {
    let data = a
        .to_data()
        .into_builder()
        .data_type(T::DATA_TYPE)
        .build()
        .map_err(|_| unsupported(name, a.data_type()))?;
    Ok(arrow_array::PrimitiveArray::<T>::from(data))
}

/// Dictionary keys as `Option<i32>` (null where the key is null), if they fit.
fn arrow_cast_keys(keys: &dyn Array) -> Option<Vec<Option<i32>>> {
    macro_rules! keys {
        ($($t:ty),*) => {
            match keys.data_type() {
                $(t if *t == <$t>::DATA_TYPE => Some(
                    keys.as_primitive::<$t>()
                        .iter()
                        .map(|k| k.map(|k| i32::try_from(k).unwrap_or(-1)))
                        .collect(),
                ),)*
                _ => None,
            }
        };
    }
    keys!(
        Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type
    )
}

/// A `RecordBatch` as a brine [`Frame`] (a copy: this is the write path). A dictionary
/// field's `ordered` flag makes an ordered categorical column; the schema's and fields'
/// metadata are not part of a [`Frame`] ([`frame_options`] carries them).
///
/// # Errors
/// [`Error::InvalidInput`] for Arrow types brine does not store.
pub fn frame(batch: &RecordBatch) -> Result<Frame> {
    let mut b = Frame::builder();
    for (field, a) in batch.schema().fields().iter().zip(batch.columns()) {
        let c = column(field.name(), a.as_ref())?;
        b.push(
            field.name().clone(),
            c.ordered(field.dict_is_ordered() == Some(true)),
        );
    }
    b.build()
}

/// `options` with the schema's metadata as the frame entry's and each field's metadata as its
/// column's, where `options` does not already set the same key.
pub fn frame_options(schema: &Schema, options: &FrameOptions) -> FrameOptions {
    let mut options = options.clone();
    for (k, v) in schema.metadata().iter() {
        options.metadata_default(k, v.as_str());
    }
    for f in schema.fields() {
        for (k, v) in f.metadata().iter() {
            options.column_metadata_default(f.name(), k, v.as_str());
        }
    }
    options
}

/// Writes a stream of `RecordBatch`es (all of one schema) as one frame, batch by batch. The
/// first batch's schema metadata becomes the entry's metadata and its fields' metadata the
/// columns' ([`frame_options`]), so that [`record_batch`] gives the schema back.
///
/// # Errors
/// As [`frame`] and [`crate::frame::FrameWriter::write_batch`].
pub fn put_record_batches(
    writer: &mut Writer,
    name: &str,
    batches: impl IntoIterator<Item = RecordBatch>,
    options: &FrameOptions,
) -> Result<()> {
    let mut batches = batches.into_iter().peekable();
    let options = match batches.peek() {
        Some(first) => frame_options(&first.schema(), options),
        None => options.clone(),
    };
    let mut w = writer.frame_writer(name, &options)?;
    for batch in batches {
        w.write_batch(&frame(&batch)?)?;
    }
    w.finish()
}
