//! Owned columns and frames, for writing: built from vectors, slices, iterators of `Option<T>`,
//! or value by value with a builder.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

use half::f16;

use crate::array::Element;
use crate::error::{Error, Result};
use crate::frame::bitmap::{Bitmap, BitmapBuilder};
use crate::frame::types::{ColumnType, StatRange, TimeUnit};

mod sealed {
    pub trait Sealed {}
}

/// A number type a [`ColumnType::Primitive`] column holds: the integers, `f16`, `f32`, `f64`.
pub trait ColumnElement: Element + sealed::Sealed {
    /// The smallest and largest of the non-null values (NaN ignored), if any.
    #[doc(hidden)]
    fn range(values: &[Self], validity: Option<Bitmap<'_>>) -> Option<StatRange>;
}

/// Folds `(min, max)` over the values whose validity bit is set (all when `None`).
fn fold_range<T: Copy, K: PartialOrd + Copy>(
    values: &[T],
    validity: Option<Bitmap<'_>>,
    key: impl Fn(T) -> Option<K>,
) -> Option<(K, K)> {
    let mut acc: Option<(K, K)> = None;
    let mut add = |v: T| {
        if let Some(k) = key(v) {
            acc = Some(match acc {
                None => (k, k),
                Some((lo, hi)) => (if k < lo { k } else { lo }, if k > hi { k } else { hi }),
            });
        }
    };
    match validity {
        None => values.iter().for_each(|&v| add(v)),
        Some(bits) => values
            .iter()
            .zip(bits.iter())
            .filter(|(_, valid)| *valid)
            .for_each(|(&v, _)| add(v)),
    }
    acc
}

macro_rules! column_element {
    ($($t:ty => $range:ident, $k:ty, $key:expr;)*) => {$(
        impl sealed::Sealed for $t {}
        impl ColumnElement for $t {
            fn range(values: &[Self], validity: Option<Bitmap<'_>>) -> Option<StatRange> {
                fold_range(values, validity, $key).map(|(lo, hi): ($k, $k)| StatRange::$range(lo, hi))
            }
        }
    )*};
}

column_element! {
    i8 => Int, i64, |v: i8| Some(i64::from(v));
    i16 => Int, i64, |v: i16| Some(i64::from(v));
    i32 => Int, i64, |v: i32| Some(i64::from(v));
    i64 => Int, i64, |v: i64| Some(v);
    u8 => UInt, u64, |v: u8| Some(u64::from(v));
    u16 => UInt, u64, |v: u16| Some(u64::from(v));
    u32 => UInt, u64, |v: u32| Some(u64::from(v));
    u64 => UInt, u64, |v: u64| Some(v);
    f16 => Float, f64, |v: f16| Some(f64::from(v)).filter(|x| !x.is_nan());
    f32 => Float, f64, |v: f32| Some(f64::from(v)).filter(|x| !x.is_nan());
    f64 => Float, f64, |v: f64| Some(v).filter(|x| !x.is_nan());
}

/// The values buffer of a fixed-width column, with its element type erased.
trait Values: fmt::Debug + Send + Sync {
    fn bytes(&self) -> &[u8];
    /// The range of the values at `rows`, whose validity (from bit 0) is `validity`.
    fn range(&self, rows: Range<usize>, validity: Option<Bitmap<'_>>) -> Option<StatRange>;
    fn take(&self, rows: &[usize]) -> Box<dyn Values>;
}

impl<T: ColumnElement> Values for Vec<T> {
    fn bytes(&self) -> &[u8] {
        T::as_bytes(self)
    }
    fn range(&self, rows: Range<usize>, validity: Option<Bitmap<'_>>) -> Option<StatRange> {
        T::range(&self[rows], validity)
    }
    fn take(&self, rows: &[usize]) -> Box<dyn Values> {
        Box::new(rows.iter().map(|&i| self[i]).collect::<Vec<T>>())
    }
}

/// Bits `start..end` of the LSB-first bitmap `bits`, from bit 0 of a new bitmap whose unused
/// bits are zero: whole bytes copied, shifted when `start` is not on a byte.
fn slice_bits(bits: &[u8], start: usize, end: usize) -> Vec<u8> {
    let len = end - start;
    let (first, shift) = (start / 8, start % 8);
    let mut out: Vec<u8> = (0..len.div_ceil(8))
        .map(|j| {
            let lo = bits.get(first + j).copied().unwrap_or(0) >> shift;
            let hi = match shift {
                0 => 0,
                _ => bits.get(first + j + 1).copied().unwrap_or(0) << (8 - shift),
            };
            lo | hi
        })
        .collect();
    if let (Some(last), tail @ 1..) = (out.last_mut(), len % 8) {
        *last &= (1u8 << tail) - 1;
    }
    out
}

/// Bits `start..end` of the LSB-first bitmap `bits` of `len` bits, as [`slice_bits`] gives
/// them: borrowed when they are whole bytes of `bits` (unused bits of a bitmap this crate
/// built are zero), copied and shifted otherwise.
fn bits_of(bits: &[u8], len: usize, start: usize, end: usize) -> Cow<'_, [u8]> {
    if start % 8 == 0 && (end % 8 == 0 || end == len) {
        Cow::Borrowed(&bits[start / 8..end.div_ceil(8)])
    } else {
        Cow::Owned(slice_bits(bits, start, end))
    }
}

/// The smallest and largest of the booleans `values` where `validity` is set.
fn bits_range(values: Bitmap<'_>, validity: Option<Bitmap<'_>>) -> Option<StatRange> {
    let mut seen = [false; 2];
    match validity {
        None => values.iter().for_each(|b| seen[usize::from(b)] = true),
        Some(valid) => values
            .iter()
            .zip(valid.iter())
            .filter(|(_, v)| *v)
            .for_each(|(b, _)| seen[usize::from(b)] = true),
    }
    match seen {
        [false, false] => None,
        [lo_false, hi_true] => Some(StatRange::Int(i64::from(!lo_false), i64::from(hi_true))),
    }
}

/// The bits of `bits` at `rows`, in that order.
fn take_bits(bits: Bitmap<'_>, rows: &[usize]) -> Vec<u8> {
    let mut b = BitmapBuilder::with_capacity(rows.len());
    rows.iter().for_each(|&i| b.push(bits.get(i)));
    b.finish().0
}

/// The strings `offsets[i]..offsets[i + 1]` of `bytes` at `rows`, as new offsets and bytes.
fn take_bytes(offsets: &[i64], bytes: &[u8], rows: &[usize]) -> (Vec<i64>, Vec<u8>) {
    let range = |i: usize| {
        // Offsets of a column this crate built: from 0, never decreasing, within `bytes`.
        let (a, b) = (offsets[i], offsets[i + 1]);
        usize::try_from(a).unwrap_or(0)..usize::try_from(b).unwrap_or(0)
    };
    let total: usize = rows.iter().map(|&i| range(i).len()).sum();
    let mut out_offsets = Vec::with_capacity(rows.len() + 1);
    let mut out = Vec::with_capacity(total);
    out_offsets.push(0);
    for &i in rows {
        out.extend_from_slice(&bytes[range(i)]);
        out_offsets.push(i64::try_from(out.len()).unwrap_or(i64::MAX));
    }
    (out_offsets, out)
}

/// The buffers of a column, by role, as they are written to sections.
#[derive(Debug)]
pub(crate) struct Buffers<'a> {
    pub validity: Option<&'a [u8]>,
    /// Values (fixed width), bit-packed booleans, string bytes, or categorical codes.
    pub values: &'a [u8],
    /// Element size of `values` for shuffling: 0 for bits and bytes.
    pub value_size: usize,
    pub offsets: Option<&'a [i64]>,
    pub dictionary: Option<(&'a [i64], &'a [u8])>,
}

/// A range of rows of a column, as the buffers that write it and the statistics of those rows
/// ([`Column::rows_buffers`]). Values, string bytes and categorical codes are borrowed from
/// the column; what a range cannot borrow is copied: bitmaps that do not start on a byte, and
/// string offsets, rebased to 0 unless the range starts at row 0.
#[derive(Debug)]
pub(crate) struct RowBuffers<'a> {
    validity: Option<Cow<'a, [u8]>>,
    values: Cow<'a, [u8]>,
    value_size: usize,
    offsets: Option<Cow<'a, [i64]>>,
    dictionary: Option<(&'a [i64], &'a [u8])>,
    /// Nulls among the rows.
    pub null_count: usize,
    /// Smallest and largest non-null value among the rows, where that makes sense.
    pub range: Option<StatRange>,
}

impl RowBuffers<'_> {
    /// The buffers, by role.
    pub(crate) fn buffers(&self) -> Buffers<'_> {
        Buffers {
            validity: self.validity.as_deref(),
            values: &self.values,
            value_size: self.value_size,
            offsets: self.offsets.as_deref(),
            dictionary: self.dictionary,
        }
    }
}

/// One column of data to write, laid out as brine (and Arrow) store it.
///
/// Constructors copy their input into the layout of the file; the write path is the only place
/// brine copies data.
#[derive(Debug)]
pub struct Column {
    ty: ColumnType,
    len: usize,
    validity: Option<Vec<u8>>,
    null_count: usize,
    data: Data,
}

#[derive(Debug)]
enum Data {
    Fixed(Box<dyn Values>),
    Bits(Vec<u8>),
    Bytes {
        offsets: Vec<i64>,
        bytes: Vec<u8>,
    },
    Codes {
        codes: Vec<i32>,
        offsets: Vec<i64>,
        bytes: Vec<u8>,
    },
}

/// Validity bits, materialized only once a null is seen.
#[derive(Clone, Debug, Default)]
struct Validity {
    bits: Option<BitmapBuilder>,
    len: usize,
    nulls: usize,
}

impl Validity {
    #[inline]
    fn push(&mut self, valid: bool) {
        match (&mut self.bits, valid) {
            (Some(bits), _) => bits.push(valid),
            (None, true) => {}
            (None, false) => {
                let mut bits = BitmapBuilder::with_capacity(self.len + 1);
                bits.push_n(true, self.len);
                bits.push(false);
                self.bits = Some(bits);
            }
        }
        self.len += 1;
        self.nulls += usize::from(!valid);
    }

    fn finish(self) -> (Option<Vec<u8>>, usize) {
        (self.bits.map(|b| b.finish().0), self.nulls)
    }
}

impl Column {
    fn fixed<T: ColumnElement>(ty: ColumnType, values: Vec<T>, validity: Validity) -> Column {
        let len = values.len();
        let (validity, null_count) = validity.finish();
        Column {
            ty,
            len,
            validity,
            null_count,
            data: Data::Fixed(Box::new(values)),
        }
    }

    /// A column of numbers without nulls.
    pub fn new<T: ColumnElement>(values: Vec<T>) -> Column {
        Column::fixed(ColumnType::Primitive(T::DTYPE), values, Validity::default())
    }

    /// A column of numbers without nulls, copied from a slice.
    pub fn from_slice<T: ColumnElement>(values: &[T]) -> Column {
        Column::new(values.to_vec())
    }

    /// A column of numbers with nulls.
    pub fn from_options<T: ColumnElement + Default>(
        values: impl IntoIterator<Item = Option<T>>,
    ) -> Column {
        let mut b = PrimitiveBuilder::new();
        values.into_iter().for_each(|v| b.push(v));
        b.finish()
    }

    /// A column of booleans without nulls.
    pub fn bools(values: impl IntoIterator<Item = bool>) -> Column {
        Column::bools_opt(values.into_iter().map(Some))
    }

    /// A column of booleans with nulls.
    pub fn bools_opt(values: impl IntoIterator<Item = Option<bool>>) -> Column {
        let mut b = BoolBuilder::new();
        values.into_iter().for_each(|v| b.push(v));
        b.finish()
    }

    /// A column of strings without nulls.
    pub fn strings<S: AsRef<str>>(values: impl IntoIterator<Item = S>) -> Column {
        Column::strings_opt(values.into_iter().map(Some))
    }

    /// A column of strings with nulls.
    pub fn strings_opt<S: AsRef<str>>(values: impl IntoIterator<Item = Option<S>>) -> Column {
        let mut b = StringBuilder::new();
        values
            .into_iter()
            .for_each(|v| b.push(v.as_ref().map(AsRef::as_ref)));
        b.finish()
    }

    /// A column of byte strings with nulls.
    pub fn binary_opt<B: AsRef<[u8]>>(values: impl IntoIterator<Item = Option<B>>) -> Column {
        let mut b = BinaryBuilder::new();
        values
            .into_iter()
            .for_each(|v| b.push(v.as_ref().map(AsRef::as_ref)));
        b.finish()
    }

    /// A column of timestamps (counts of `unit` since the Unix epoch, UTC) without nulls.
    /// `zone` is an IANA name or a `+HH:MM` offset; [`FrameBuilder::build`] refuses unknown zones.
    pub fn timestamps(values: Vec<i64>, unit: TimeUnit, zone: Option<&str>) -> Column {
        let zone = zone.map(str::to_owned);
        Column::fixed(
            ColumnType::Timestamp { unit, zone },
            values,
            Validity::default(),
        )
    }

    /// A column of timestamps with nulls.
    pub fn timestamps_opt(
        values: impl IntoIterator<Item = Option<i64>>,
        unit: TimeUnit,
        zone: Option<&str>,
    ) -> Column {
        let mut b = PrimitiveBuilder::new();
        values.into_iter().for_each(|v| b.push(v));
        b.finish_timestamps(unit, zone)
    }

    /// A column of dates (days since 1970-01-01) without nulls.
    pub fn dates(values: Vec<i32>) -> Column {
        Column::fixed(ColumnType::Date, values, Validity::default())
    }

    /// A column of dates with nulls.
    pub fn dates_opt(values: impl IntoIterator<Item = Option<i32>>) -> Column {
        let mut b = PrimitiveBuilder::new();
        values.into_iter().for_each(|v| b.push(v));
        b.finish_dates()
    }

    /// A column of durations without nulls.
    pub fn durations(values: Vec<i64>, unit: TimeUnit) -> Column {
        Column::fixed(ColumnType::Duration(unit), values, Validity::default())
    }

    /// A column of durations with nulls.
    pub fn durations_opt(values: impl IntoIterator<Item = Option<i64>>, unit: TimeUnit) -> Column {
        let mut b = PrimitiveBuilder::new();
        values.into_iter().for_each(|v| b.push(v));
        b.finish_durations(unit)
    }

    /// A categorical column from strings (with nulls): each distinct string is stored once,
    /// in order of first appearance, and rows hold `i32` codes.
    pub fn categorical<S: AsRef<str>>(values: impl IntoIterator<Item = Option<S>>) -> Column {
        let mut b = CategoricalBuilder::new();
        values
            .into_iter()
            .for_each(|v| b.push(v.as_ref().map(AsRef::as_ref)));
        b.finish()
    }

    /// A categorical column from codes and a dictionary; `None` if a code is negative or not
    /// below the dictionary's length.
    pub fn categorical_from_codes<S: AsRef<str>>(
        codes: impl IntoIterator<Item = Option<i32>>,
        dictionary: impl IntoIterator<Item = S>,
    ) -> Option<Column> {
        let mut dict = BytesBuilder::default();
        dictionary
            .into_iter()
            .for_each(|s| dict.push(Some(s.as_ref().as_bytes())));
        let (offsets, bytes, _) = dict.finish();
        let size = offsets.len() - 1;
        let mut validity = Validity::default();
        let mut in_range = true;
        let codes: Vec<i32> = codes
            .into_iter()
            .map(|c| {
                validity.push(c.is_some());
                in_range &= c.is_none_or(|c| usize::try_from(c).is_ok_and(|c| c < size));
                c.unwrap_or(0)
            })
            .collect();
        if !in_range {
            return None;
        }
        let (validity, null_count) = validity.finish();
        Some(Column {
            ty: ColumnType::Categorical { ordered: false },
            len: codes.len(),
            validity,
            null_count,
            data: Data::Codes {
                codes,
                offsets,
                bytes,
            },
        })
    }

    /// The same column with its categories marked ordered (or not), in dictionary order: what
    /// pandas calls `ordered=True`. Has no effect on columns of other types, which have no
    /// categories.
    #[must_use]
    pub fn ordered(mut self, ordered: bool) -> Column {
        if let ColumnType::Categorical { ordered: o } = &mut self.ty {
            *o = ordered;
        }
        self
    }

    /// The column's type.
    pub fn ty(&self) -> &ColumnType {
        &self.ty
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of null rows.
    pub fn null_count(&self) -> usize {
        self.null_count
    }

    /// The validity bitmap (bit set = value present), `None` when no row is null.
    pub fn validity(&self) -> Option<Bitmap<'_>> {
        self.validity
            .as_deref()
            .and_then(|b| Bitmap::new(b, self.len))
    }

    /// The rows at `rows` (each below `len()`), in that order, as a new column of the same
    /// type (a categorical keeps its whole dictionary). For cutting a frame into shards.
    pub(crate) fn take(&self, rows: &[usize]) -> Column {
        let validity = self.validity().map(|v| take_bits(v, rows));
        let null_count = validity
            .as_deref()
            .and_then(|b| Bitmap::new(b, rows.len()))
            .map_or(0, |b| b.count_zeros());
        // A taken column without nulls has no bitmap, as every constructor writes it.
        let validity = validity.filter(|_| null_count > 0);
        let data = match &self.data {
            Data::Fixed(v) => Data::Fixed(v.take(rows)),
            Data::Bits(bits) => Data::Bits(
                Bitmap::new(bits, self.len).map_or_else(Vec::new, |b| take_bits(b, rows)),
            ),
            Data::Bytes { offsets, bytes } => {
                let (offsets, bytes) = take_bytes(offsets, bytes, rows);
                Data::Bytes { offsets, bytes }
            }
            Data::Codes {
                codes,
                offsets,
                bytes,
            } => Data::Codes {
                codes: rows.iter().map(|&i| codes[i]).collect(),
                offsets: offsets.clone(),
                bytes: bytes.clone(),
            },
        };
        Column {
            ty: self.ty.clone(),
            len: rows.len(),
            validity,
            null_count,
            data,
        }
    }

    /// The buffers, by role.
    pub(crate) fn buffers(&self) -> Buffers<'_> {
        let validity = self.validity.as_deref();
        match &self.data {
            Data::Fixed(v) => Buffers {
                validity,
                values: v.bytes(),
                value_size: self.ty.physical().size(),
                offsets: None,
                dictionary: None,
            },
            Data::Bits(bits) => Buffers {
                validity,
                values: bits,
                value_size: 0,
                offsets: None,
                dictionary: None,
            },
            Data::Bytes { offsets, bytes } => Buffers {
                validity,
                values: bytes,
                value_size: 0,
                offsets: Some(offsets),
                dictionary: None,
            },
            Data::Codes {
                codes,
                offsets,
                bytes,
            } => Buffers {
                validity,
                values: bytemuck::cast_slice(codes),
                value_size: 4,
                offsets: None,
                dictionary: Some((offsets, bytes)),
            },
        }
    }

    /// Smallest and largest non-null value, where that makes sense.
    pub(crate) fn range(&self) -> Option<StatRange> {
        self.rows_buffers(0..self.len).range
    }

    /// Rows `rows` (within `len()`) as the buffers that write them, with their null count and
    /// range, copying as little as [`RowBuffers`] says: what writes a shard of a frame without
    /// first copying the shard into a new column ([`Column::take`]).
    pub(crate) fn rows_buffers(&self, rows: Range<usize>) -> RowBuffers<'_> {
        let (start, end) = (rows.start, rows.end);
        let len = end - start;
        let validity = self
            .validity
            .as_deref()
            .map(|v| bits_of(v, self.len, start, end));
        let null_count = match (start, end) {
            (0, e) if e == self.len => self.null_count,
            _ => validity
                .as_deref()
                .and_then(|b| Bitmap::new(b, len))
                .map_or(0, |b| b.count_zeros()),
        };
        // A range without nulls has no bitmap, as every constructor writes it.
        let validity = validity.filter(|_| null_count > 0);
        let valid = || validity.as_deref().and_then(|b| Bitmap::new(b, len));
        let (values, value_size, offsets, dictionary, range) = match &self.data {
            Data::Fixed(v) => {
                let width = self.ty.physical().size();
                let bytes = &v.bytes()[start * width..end * width];
                let range = v.range(rows, valid());
                (Cow::Borrowed(bytes), width, None, None, range)
            }
            Data::Bits(bits) => {
                let b = bits_of(bits, self.len, start, end);
                let range = Bitmap::new(&b, len).and_then(|v| bits_range(v, valid()));
                (b, 0, None, None, range)
            }
            Data::Bytes { offsets, bytes } => {
                // Offsets of a column this crate built: from 0, never decreasing, within `bytes`.
                let (a, b) = (offsets[start], offsets[end]);
                let bytes =
                    &bytes[usize::try_from(a).unwrap_or(0)..usize::try_from(b).unwrap_or(0)];
                let offsets = match a {
                    0 => Cow::Borrowed(&offsets[start..=end]),
                    _ => Cow::Owned(offsets[start..=end].iter().map(|o| o - a).collect()),
                };
                (Cow::Borrowed(bytes), 0, Some(offsets), None, None)
            }
            Data::Codes {
                codes,
                offsets,
                bytes,
            } => {
                let codes: &[u8] = bytemuck::cast_slice(&codes[start..end]);
                let dictionary = Some((offsets.as_slice(), bytes.as_slice()));
                (Cow::Borrowed(codes), 4, None, dictionary, None)
            }
        };
        RowBuffers {
            validity,
            values,
            value_size,
            offsets,
            dictionary,
            null_count,
            range,
        }
    }

    /// For categoricals: the codes and the dictionary's offsets and bytes.
    pub(crate) fn codes(&self) -> Option<(&[i32], &[i64], &[u8])> {
        match &self.data {
            Data::Codes {
                codes,
                offsets,
                bytes,
            } => Some((codes, offsets, bytes)),
            _ => None,
        }
    }

    /// Dictionary string `i` of a categorical column.
    pub(crate) fn dictionary_entry<'a>(
        offsets: &[i64],
        bytes: &'a [u8],
        i: usize,
    ) -> Option<&'a str> {
        let range = usize::try_from(offsets[i]).ok()?..usize::try_from(offsets[i + 1]).ok()?;
        std::str::from_utf8(bytes.get(range)?).ok()
    }
}

/// Builds a column of numbers (or timestamps, dates, durations) value by value.
#[derive(Debug, Default)]
pub struct PrimitiveBuilder<T> {
    values: Vec<T>,
    validity: Validity,
}

impl<T: ColumnElement + Default> PrimitiveBuilder<T> {
    /// An empty builder.
    pub fn new() -> Self {
        PrimitiveBuilder {
            values: Vec::new(),
            validity: Validity::default(),
        }
    }

    /// An empty builder with room for `rows` values.
    pub fn with_capacity(rows: usize) -> Self {
        PrimitiveBuilder {
            values: Vec::with_capacity(rows),
            validity: Validity::default(),
        }
    }

    /// Appends a value, or a null (stored as `T::default()` under a clear validity bit).
    #[inline]
    pub fn push(&mut self, value: Option<T>) {
        self.validity.push(value.is_some());
        self.values.push(value.unwrap_or_default());
    }

    /// Number of values pushed.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// A [`ColumnType::Primitive`] column.
    pub fn finish(self) -> Column {
        Column::fixed(ColumnType::Primitive(T::DTYPE), self.values, self.validity)
    }
}

impl PrimitiveBuilder<i64> {
    /// A timestamp column.
    pub fn finish_timestamps(self, unit: TimeUnit, zone: Option<&str>) -> Column {
        let zone = zone.map(str::to_owned);
        Column::fixed(
            ColumnType::Timestamp { unit, zone },
            self.values,
            self.validity,
        )
    }

    /// A duration column.
    pub fn finish_durations(self, unit: TimeUnit) -> Column {
        Column::fixed(ColumnType::Duration(unit), self.values, self.validity)
    }
}

impl PrimitiveBuilder<i32> {
    /// A date column (days since 1970-01-01).
    pub fn finish_dates(self) -> Column {
        Column::fixed(ColumnType::Date, self.values, self.validity)
    }
}

/// Builds a column of booleans value by value.
#[derive(Debug, Default)]
pub struct BoolBuilder {
    values: BitmapBuilder,
    validity: Validity,
}

impl BoolBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a value or a null.
    #[inline]
    pub fn push(&mut self, value: Option<bool>) {
        self.validity.push(value.is_some());
        self.values.push(value.unwrap_or(false));
    }

    /// Number of values pushed.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The column.
    pub fn finish(self) -> Column {
        let (bits, len) = self.values.finish();
        let (validity, null_count) = self.validity.finish();
        Column {
            ty: ColumnType::Bool,
            len,
            validity,
            null_count,
            data: Data::Bits(bits),
        }
    }
}

#[derive(Debug)]
struct BytesBuilder {
    offsets: Vec<i64>,
    bytes: Vec<u8>,
    validity: Validity,
}

impl Default for BytesBuilder {
    fn default() -> Self {
        BytesBuilder {
            offsets: vec![0],
            bytes: Vec::new(),
            validity: Validity::default(),
        }
    }
}

impl BytesBuilder {
    #[inline]
    fn push(&mut self, value: Option<&[u8]>) {
        self.validity.push(value.is_some());
        if let Some(v) = value {
            self.bytes.extend_from_slice(v);
        }
        // A `Vec`'s length is at most `isize::MAX`, so this never saturates.
        self.offsets
            .push(i64::try_from(self.bytes.len()).unwrap_or(i64::MAX));
    }

    fn finish(self) -> (Vec<i64>, Vec<u8>, Validity) {
        (self.offsets, self.bytes, self.validity)
    }

    fn column(self, ty: ColumnType) -> Column {
        let len = self.offsets.len() - 1;
        let (offsets, bytes, validity) = self.finish();
        let (validity, null_count) = validity.finish();
        Column {
            ty,
            len,
            validity,
            null_count,
            data: Data::Bytes { offsets, bytes },
        }
    }
}

/// Builds a column of UTF-8 strings value by value (64-bit offsets: no 2 GiB limit).
#[derive(Debug, Default)]
pub struct StringBuilder(BytesBuilder);

impl StringBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a string or a null.
    #[inline]
    pub fn push(&mut self, value: Option<&str>) {
        self.0.push(value.map(str::as_bytes));
    }

    /// Number of values pushed.
    pub fn len(&self) -> usize {
        self.0.offsets.len() - 1
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The column.
    pub fn finish(self) -> Column {
        self.0.column(ColumnType::Utf8)
    }
}

/// Builds a column of byte strings value by value.
#[derive(Debug, Default)]
pub struct BinaryBuilder(BytesBuilder);

impl BinaryBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes or a null.
    #[inline]
    pub fn push(&mut self, value: Option<&[u8]>) {
        self.0.push(value);
    }

    /// Number of values pushed.
    pub fn len(&self) -> usize {
        self.0.offsets.len() - 1
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The column.
    pub fn finish(self) -> Column {
        self.0.column(ColumnType::Binary)
    }
}

/// Builds a categorical column value by value: each distinct string gets an `i32` code, in
/// order of first appearance.
#[derive(Debug, Default)]
pub struct CategoricalBuilder {
    codes: Vec<i32>,
    lookup: HashMap<String, i32>,
    dictionary: BytesBuilder,
    validity: Validity,
}

impl CategoricalBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a string or a null.
    ///
    /// # Panics
    /// When the dictionary would pass `i32::MAX` distinct strings.
    pub fn push(&mut self, value: Option<&str>) {
        self.validity.push(value.is_some());
        let code = match value {
            None => 0,
            Some(s) => match self.lookup.get(s) {
                Some(&code) => code,
                None => {
                    let code = i32::try_from(self.lookup.len())
                        .expect("a categorical dictionary holds at most i32::MAX strings");
                    self.lookup.insert(s.to_owned(), code);
                    self.dictionary.push(Some(s.as_bytes()));
                    code
                }
            },
        };
        self.codes.push(code);
    }

    /// Number of values pushed.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Number of distinct strings so far.
    pub fn dictionary_len(&self) -> usize {
        self.lookup.len()
    }

    /// The column.
    pub fn finish(self) -> Column {
        let (offsets, bytes, _) = self.dictionary.finish();
        let (validity, null_count) = self.validity.finish();
        Column {
            ty: ColumnType::Categorical { ordered: false },
            len: self.codes.len(),
            validity,
            null_count,
            data: Data::Codes {
                codes: self.codes,
                offsets,
                bytes,
            },
        }
    }
}

/// A table of named columns of equal length, ready to write with
/// [`Writer::put_frame`](crate::Writer::put_frame).
#[derive(Debug, Default)]
pub struct Frame {
    pub(crate) columns: Vec<(String, Column)>,
    pub(crate) rows: usize,
}

impl Frame {
    /// Starts a frame.
    pub fn builder() -> FrameBuilder {
        FrameBuilder::default()
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The columns, in order.
    pub fn columns(&self) -> impl ExactSizeIterator<Item = (&str, &Column)> {
        self.columns.iter().map(|(n, c)| (n.as_str(), c))
    }

    /// The rows at `rows` (each below `rows()`), in that order, as a new frame.
    pub(crate) fn take(&self, rows: &[usize]) -> Frame {
        Frame {
            columns: self
                .columns
                .iter()
                .map(|(n, c)| (n.clone(), c.take(rows)))
                .collect(),
            rows: rows.len(),
        }
    }
}

/// Collects the columns of a [`Frame`].
#[derive(Debug, Default)]
pub struct FrameBuilder {
    columns: Vec<(String, Column)>,
}

impl FrameBuilder {
    /// Appends a column.
    pub fn column(mut self, name: impl Into<String>, column: Column) -> Self {
        self.columns.push((name.into(), column));
        self
    }

    /// Appends a column (by mutable reference, for loops).
    pub fn push(&mut self, name: impl Into<String>, column: Column) {
        self.columns.push((name.into(), column));
    }

    /// The frame.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if columns differ in length, a name repeats, or a time zone is
    /// unknown.
    pub fn build(self) -> Result<Frame> {
        let rows = self.columns.first().map_or(0, |(_, c)| c.len());
        let invalid = |reason: String| Error::InvalidInput {
            file: PathBuf::new(),
            entry: String::new(),
            reason,
        };
        let mut names = std::collections::HashSet::new();
        for (name, c) in &self.columns {
            if c.len() != rows {
                return Err(invalid(format!(
                    "column {name:?} has {} rows, the first column has {rows}",
                    c.len()
                )));
            }
            if !names.insert(name.as_str()) {
                return Err(invalid(format!("two columns are named {name:?}")));
            }
            if let Some(zone) = c.ty().zone() {
                if !crate::frame::types::is_known_zone(zone) {
                    return Err(invalid(format!(
                        "column {name:?}: unknown time zone {zone:?} (an IANA name or +HH:MM)"
                    )));
                }
            }
        }
        Ok(Frame {
            columns: self.columns,
            rows,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buffers_of_a_range_are_those_of_its_take() {
        let n = 77;
        let columns = [
            Column::from_options((0..n).map(|i| (i % 3 != 0).then_some(i as i64))),
            Column::new((0..n).map(|i| i as f64 * 0.5).collect::<Vec<_>>()),
            Column::bools_opt((0..n).map(|i| (i % 6 != 1).then_some(i % 5 < 2))),
            Column::bools((0..n).map(|i| i % 3 == 0)),
            Column::strings((0..n).map(|i| "x".repeat(i % 4))),
            Column::categorical((0..n).map(|i| (i % 7 != 0).then_some(["a", "b"][i % 2]))),
        ];
        for c in &columns {
            for (a, b) in [
                (0, 0),
                (0, n),
                (0, 8),
                (3, 11),
                (8, 16),
                (9, 77),
                (76, 77),
                (13, 13),
                (1, 2),
            ] {
                let rows: Vec<usize> = (a..b).collect();
                let (part, taken) = (c.rows_buffers(a..b), c.take(&rows));
                let (x, y) = (part.buffers(), taken.buffers());
                let at = format!("{:?} rows {a}..{b}", c.ty());
                assert_eq!(part.null_count, taken.null_count(), "{at}");
                assert_eq!(part.range, taken.range(), "{at}");
                assert_eq!(x.validity, y.validity, "{at}");
                assert_eq!(x.values, y.values, "{at}");
                assert_eq!(x.value_size, y.value_size, "{at}");
                assert_eq!(x.offsets, y.offsets, "{at}");
                assert_eq!(x.dictionary, y.dictionary, "{at}");
            }
        }
    }
}
