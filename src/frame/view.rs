//! Zero-copy views of a frame's columns, validated once per column on first access.

use rayon::prelude::*;

use crate::array::Element;
use crate::error::{Error, Result};
use crate::frame::bitmap::Bitmap;
use crate::frame::types::{ColumnStats, ColumnType, Field, StatRange, TimeUnit, is_known_zone};
use crate::raw::Dtype;
use crate::raw::manifest::{
    ArchivedColumnMeta, COLUMN_BINARY, COLUMN_BOOL, COLUMN_CATEGORICAL, COLUMN_DATE,
    COLUMN_DURATION, COLUMN_FLAG_ORDERED, COLUMN_PRIMITIVE, COLUMN_TIMESTAMP, COLUMN_UTF8,
    NO_SECTION,
};
use crate::reader::{EntryRef, Kind, Metadata, Reader};

/// A frame entry of an open file: its row count, schema and columns. Costs nothing to make;
/// columns are validated and viewed on demand.
#[derive(Clone, Copy)]
pub struct FrameView<'r> {
    pub(crate) reader: &'r Reader,
    pub(crate) name: &'r str,
    pub(crate) rows: u64,
    /// Index of the first column in the manifest's column table.
    pub(crate) first: usize,
    pub(crate) columns: &'r [ArchivedColumnMeta],
}

impl std::fmt::Debug for FrameView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameView")
            .field("name", &self.name)
            .field("rows", &self.rows)
            .field("fields", &self.fields())
            .finish()
    }
}

impl<'r> FrameView<'r> {
    /// The entry's name.
    pub fn name(&self) -> &'r str {
        self.name
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        // Fits: tier 1 checked the row count fits in `usize` (`LimitExceeded` otherwise), so
        // this never saturates.
        usize::try_from(self.rows).unwrap_or(usize::MAX)
    }

    /// Number of columns.
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// The frame entry's metadata (an Arrow schema's metadata, for a frame written from
    /// Arrow). Reads only the manifest.
    pub fn metadata(&self) -> Metadata<'r> {
        self.reader
            .get(self.name)
            .map_or(Metadata::new(&[]), |e| e.metadata())
    }

    /// Every column's name and type, in order.
    pub fn fields(&self) -> Vec<Field> {
        self.iter()
            .map(|c| Field {
                name: c.name().to_owned(),
                ty: c.ty(),
            })
            .collect()
    }

    /// Every column, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = ColumnView<'r>> + 'r {
        let this = *self;
        (0..self.columns.len()).map(move |i| this.column_at(i))
    }

    /// Column `i`.
    ///
    /// # Panics
    /// If `i >= width()`.
    pub fn column_at(&self, i: usize) -> ColumnView<'r> {
        let index = self.first + i;
        let (name, zone) = self.reader.manifest().column_text(index);
        ColumnView {
            reader: self.reader,
            entry: self.name,
            name,
            zone,
            index,
            meta: &self.columns[i],
            rows: self.rows(),
        }
    }

    /// The column named `name` (a linear search over the frame's columns).
    ///
    /// # Errors
    /// [`Error::NoSuchColumn`].
    pub fn column(&self, name: &str) -> Result<ColumnView<'r>> {
        (0..self.columns.len())
            .map(|i| self.column_at(i))
            .find(|c| c.name == name)
            .ok_or_else(|| Error::NoSuchColumn {
                file: self.reader.path().to_path_buf(),
                entry: self.name.to_owned(),
                column: name.to_owned(),
            })
    }

    /// For a reader of a remote file ([`Reader::open_source`](crate::Reader::open_source)):
    /// fetches every buffer of the named columns that is not in memory yet, in one batch (one
    /// round trip; close ranges coalesced by the source), so that reading those columns next
    /// costs no further request. Compressed buffers are fetched chunk by chunk and decoded.
    /// Reads copy into the reader's buffers. A no-op for a mapped or in-memory file.
    ///
    /// # Errors
    /// [`Error::NoSuchColumn`]; [`Error::Remote`] if the source fails (nothing is kept);
    /// [`Error::ChecksumMismatch`] or [`Error::Decompress`] for bytes that fail their check;
    /// [`Error::LimitExceeded`] past the reader's budgets.
    pub fn fetch(&self, columns: &[&str]) -> Result<()> {
        let store = self.reader.store();
        let mut wants = Vec::new();
        for name in columns {
            for slot in self.column(name)?.slots() {
                if slot != NO_SECTION {
                    let index = slot as usize;
                    wants.push((index, 0, store.raw_len(index)));
                }
            }
        }
        store.fetch(&wants)
    }
}

/// The names of a column's buffer slots, in slot order (spec/FORMAT.md §8.2).
const SLOT_NAMES: [&str; 5] = [
    "validity",
    "values",
    "offsets",
    "dictionary_offsets",
    "dictionary_values",
];

/// One column of a frame. The accessors check the column's content on the first access (tier 2:
/// offsets, UTF-8, dictionary codes, validity), once per column per reader, and then return
/// views of the mapping (or of the decompressed buffer, for compressed columns).
#[derive(Clone, Copy)]
pub struct ColumnView<'r> {
    reader: &'r Reader,
    entry: &'r str,
    name: &'r str,
    zone: &'r str,
    index: usize,
    meta: &'r ArchivedColumnMeta,
    rows: usize,
}

impl std::fmt::Debug for ColumnView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ColumnView")
            .field("name", &self.name)
            .field("type", &self.ty())
            .field("null_count", &self.null_count())
            .finish()
    }
}

impl<'r> ColumnView<'r> {
    /// The column's name.
    pub fn name(&self) -> &'r str {
        self.name
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The column's type (allocates the zone's name for timestamps; see [`ColumnView::zone`]).
    pub fn ty(&self) -> ColumnType {
        let unit = TimeUnit::from_code(self.meta.unit).unwrap_or(TimeUnit::Second);
        match self.meta.kind {
            COLUMN_BOOL => ColumnType::Bool,
            COLUMN_UTF8 => ColumnType::Utf8,
            COLUMN_BINARY => ColumnType::Binary,
            COLUMN_TIMESTAMP => ColumnType::Timestamp {
                unit,
                zone: self.zone().map(str::to_owned),
            },
            COLUMN_DATE => ColumnType::Date,
            COLUMN_DURATION => ColumnType::Duration(unit),
            COLUMN_CATEGORICAL => ColumnType::Categorical {
                ordered: self.flags() & COLUMN_FLAG_ORDERED != 0,
            },
            // COLUMN_PRIMITIVE; tier 1 refused unknown kinds.
            _ => ColumnType::Primitive(self.physical()),
        }
    }

    /// The column's flags (format 1.1; 0 in a 1.0 file).
    fn flags(&self) -> u32 {
        self.reader
            .manifest_ext()
            .and_then(|ext| ext.column_extras.get(self.index))
            .map_or(0, |extra| extra.flags.to_native())
    }

    /// The column's metadata: typed key/value pairs, such as an Arrow field's metadata. Empty
    /// for a column without (and in files of format 1.0). Reads only the manifest.
    pub fn metadata(&self) -> Metadata<'r> {
        let items = self
            .reader
            .manifest_ext()
            .map_or(&[][..], |ext| ext.column_metadata(self.index));
        Metadata::new(items)
    }

    /// The dtype of the values buffer.
    pub fn physical(&self) -> Dtype {
        // Checked by tier 1.
        Dtype::from_code(self.meta.dtype).unwrap_or(Dtype::U8)
    }

    /// The time unit of timestamps and durations.
    pub fn unit(&self) -> Option<TimeUnit> {
        matches!(self.meta.kind, COLUMN_TIMESTAMP | COLUMN_DURATION)
            .then(|| TimeUnit::from_code(self.meta.unit))
            .flatten()
    }

    /// The time zone of timestamps, if any.
    pub fn zone(&self) -> Option<&'r str> {
        (!self.zone.is_empty()).then_some(self.zone)
    }

    /// Number of null rows (from the manifest; checked against the validity bitmap on first
    /// access).
    pub fn null_count(&self) -> usize {
        // At most the row count (checked against the validity bitmap), which fits in `usize`.
        usize::try_from(self.meta.null_count.to_native()).unwrap_or(usize::MAX)
    }

    /// Null count and value range, from the manifest, without touching the column's data.
    ///
    /// **Unverified**: these are what the writer stored; nothing has compared them with the
    /// data yet. A consumer that skips data by them (a query engine pruning by statistics)
    /// wants [`ColumnView::checked_stats`].
    pub fn stats(&self) -> ColumnStats {
        ColumnStats {
            null_count: self.meta.null_count.to_native(),
            range: (self.meta.stats == 1).then(|| {
                StatRange::decode(
                    self.physical(),
                    self.meta.min.to_native(),
                    self.meta.max.to_native(),
                )
            }),
        }
    }

    /// The same statistics as [`ColumnView::stats`], returned only after the column's
    /// tier-2 check (spec/FORMAT.md §14.7) passed, which includes rule D11: `null_count` is
    /// the validity bitmap's count of nulls (D4) and the range is exactly the smallest and
    /// largest non-null (for floats: non-NaN) value, absent exactly when there is none. The
    /// check runs once per column per reader (cached, like every tier-2 check) and costs one
    /// pass over the column's values; later calls cost nothing.
    ///
    /// # Errors
    /// [`Error::InvalidColumn`] (field `min`, `max`, `stats`, or that of another tier-2 rule)
    /// when the file lies; for compressed columns, the errors of decompression.
    ///
    /// # Examples
    /// ```
    /// # fn main() -> brine::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("f.brine");
    /// use brine::frame::{Column, Frame, StatRange};
    /// let frame = Frame::builder().column("x", Column::new(vec![3i64, -1, 7])).build()?;
    /// let mut w = brine::Writer::create(&path)?;
    /// w.put_frame("t", &frame)?;
    /// w.finish()?;
    /// let r = brine::Reader::open(&path)?;
    /// let stats = r.frame("t")?.column("x")?.checked_stats()?;
    /// assert_eq!(stats.range, Some(StatRange::Int(-1, 7)));
    /// # Ok(()) }
    /// ```
    pub fn checked_stats(&self) -> Result<ColumnStats> {
        self.validate()?;
        Ok(self.stats())
    }

    /// Whether the column's buffers are compressed (reading them decompresses into memory).
    pub fn is_compressed(&self) -> bool {
        let m = self.reader.manifest();
        self.slots()
            .iter()
            .any(|&s| s != NO_SECTION && m.sections[s as usize].is_compressed())
    }

    /// Where and how each of the column's buffers is stored, by slot name (`validity`,
    /// `values`, `offsets`, `dictionary_offsets`, `dictionary_values`); absent buffers are
    /// skipped. Reads only the manifest.
    pub fn sections(&self) -> impl Iterator<Item = (&'static str, crate::SectionInfo)> + use<'r> {
        let reader = self.reader;
        SLOT_NAMES
            .into_iter()
            .zip(self.slots())
            .filter(|&(_, s)| s != NO_SECTION)
            .map(move |(name, s)| (name, reader.store().info(s as usize)))
    }

    fn slots(&self) -> [u32; 5] {
        let c = self.meta;
        [
            c.validity.to_native(),
            c.values.to_native(),
            c.offsets.to_native(),
            c.dictionary_offsets.to_native(),
            c.dictionary_values.to_native(),
        ]
    }

    fn invalid(&self, field: &'static str, reason: String) -> Error {
        Error::InvalidColumn {
            file: self.reader.path().to_path_buf(),
            entry: self.entry.to_owned(),
            column: self.name.to_owned(),
            field,
            reason,
        }
    }

    fn wrong_type(&self, expected: &str) -> Error {
        Error::WrongColumnType {
            file: self.reader.path().to_path_buf(),
            entry: self.entry.to_owned(),
            column: self.name.to_owned(),
            expected: expected.to_owned(),
            found: self.ty().to_string(),
        }
    }

    /// The decoded bytes of a buffer slot (tier 1 checked the slot and the section's length).
    fn buffer(&self, slot: u32) -> Result<&'r [u8]> {
        if slot == NO_SECTION {
            return Ok(&[]);
        }
        self.reader.store().bytes(slot as usize)
    }

    /// The decoded bytes of a buffer slot viewed as `T`s.
    fn typed<T: Element>(&self, slot: u32, field: &'static str) -> Result<&'r [T]> {
        T::cast_slice(self.buffer(slot)?).map_err(|_| {
            self.invalid(
                field,
                format!("not an aligned, whole number of {} values", T::DTYPE),
            )
        })
    }

    /// Runs tier 2 on the column once per reader (rules D10, then D4 to D7, then D11): the
    /// zone against this build's tz database, validity against `null_count`, offsets, UTF-8
    /// and dictionary codes, statistics against the values.
    fn validate(&self) -> Result<()> {
        self.reader
            .column_checked(self.index, || self.check_content())
    }

    fn check_content(&self) -> Result<()> {
        // Tier 1 checked the zone's form only (F4): a name the reader's database does not know
        // (newer than it, or no zone at all) makes this column unreadable, not the file.
        if !self.zone.is_empty() && !is_known_zone(self.zone) {
            return Err(self.invalid(
                "zone",
                format!(
                    "time zone {:?} is unknown to this reader's tz database (chrono-tz {})",
                    self.zone,
                    chrono_tz::IANA_TZDB_VERSION
                ),
            ));
        }
        let validity = self.validity_unchecked()?;
        if let Some(bits) = validity {
            let nulls = bits.count_zeros();
            if nulls != self.null_count() {
                return Err(self.invalid(
                    "validity",
                    format!(
                        "the bitmap has {nulls} nulls, the manifest says {}",
                        self.null_count()
                    ),
                ));
            }
        }
        match self.meta.kind {
            COLUMN_UTF8 | COLUMN_BINARY => {
                let offsets = self.typed::<i64>(self.meta.offsets.to_native(), "offsets")?;
                let data = self.buffer(self.meta.values.to_native())?;
                let utf8 = self.meta.kind == COLUMN_UTF8;
                self.check_strings("offsets", "values", offsets, data, utf8)?;
            }
            COLUMN_CATEGORICAL => {
                let offsets = self.typed::<i64>(
                    self.meta.dictionary_offsets.to_native(),
                    "dictionary_offsets",
                )?;
                let data = self.buffer(self.meta.dictionary_values.to_native())?;
                self.check_strings(
                    "dictionary_offsets",
                    "dictionary_values",
                    offsets,
                    data,
                    true,
                )?;
                let size = offsets.len() - 1;
                let codes = self.typed::<i32>(self.meta.values.to_native(), "codes")?;
                if let Some(row) = first_bad_code(codes, size, validity) {
                    return Err(self.invalid(
                        "codes",
                        format!(
                            "row {row} has code {}, but the dictionary has {size} strings",
                            codes[row]
                        ),
                    ));
                }
            }
            _ => self.check_stats_with(validity)?,
        }
        Ok(())
    }

    /// Rule D11: the manifest's `min`/`max` are the range of the column's non-null (for
    /// floats: non-NaN) values, and `stats = 1` exactly when there is such a value. Only bool,
    /// primitive and temporal columns carry statistics (F5); others pass at once.
    pub(crate) fn check_stats(&self) -> Result<()> {
        if matches!(
            self.meta.kind,
            COLUMN_UTF8 | COLUMN_BINARY | COLUMN_CATEGORICAL
        ) {
            return Ok(());
        }
        self.check_stats_with(self.validity_unchecked()?)
    }

    fn check_stats_with(&self, validity: Option<Bitmap<'r>>) -> Result<()> {
        use crate::frame::stats::{Values, mismatch, observed};
        let slot = self.meta.values.to_native();
        let values = if self.meta.kind == COLUMN_BOOL {
            let bytes = self.buffer(slot)?;
            Values::Bool(
                Bitmap::new(bytes, self.rows)
                    .ok_or_else(|| self.invalid("values", "shorter than the row count".into()))?,
            )
        } else {
            match self.physical() {
                Dtype::I8 => Values::I8(self.typed(slot, "values")?),
                Dtype::I16 => Values::I16(self.typed(slot, "values")?),
                Dtype::I32 => Values::I32(self.typed(slot, "values")?),
                Dtype::I64 => Values::I64(self.typed(slot, "values")?),
                Dtype::U8 => Values::U8(self.typed(slot, "values")?),
                Dtype::U16 => Values::U16(self.typed(slot, "values")?),
                Dtype::U32 => Values::U32(self.typed(slot, "values")?),
                Dtype::U64 => Values::U64(self.typed(slot, "values")?),
                Dtype::F16 => Values::F16(self.typed(slot, "values")?),
                Dtype::F32 => Values::F32(self.typed(slot, "values")?),
                Dtype::F64 => Values::F64(self.typed(slot, "values")?),
                // Tier 1 refused bool and bf16 as primitive dtypes (F3).
                other => {
                    return Err(self.invalid(
                        "dtype",
                        format!("{other} is not a dtype of primitive columns"),
                    ));
                }
            }
        };
        let found = observed(values, validity);
        match (self.stats().range, found) {
            (None, None) => Ok(()),
            (Some(stored), None) => Err(self.invalid(
                "stats",
                format!(
                    "the manifest has a range {}, but the column has no non-null{} value",
                    show(stored),
                    if matches!(stored, StatRange::Float(..)) {
                        ", non-NaN"
                    } else {
                        ""
                    }
                ),
            )),
            (None, Some(range)) => Err(self.invalid(
                "stats",
                format!(
                    "the manifest has no range, but the column's values range over {}",
                    show(range)
                ),
            )),
            (Some(stored), Some(range)) => match mismatch(stored, range) {
                None => Ok(()),
                Some(field) => Err(self.invalid(
                    field,
                    format!(
                        "the manifest says the values range over {}, but they range over {}",
                        show(stored),
                        show(range)
                    ),
                )),
            },
        }
    }

    /// Offsets start at 0, never decrease and end at the data's length; with `utf8`, the data
    /// is UTF-8 (SIMD validator) and every offset falls on a character boundary, so every
    /// string between two offsets is UTF-8. Large buffers are checked in parallel pieces; the
    /// first problem (by position) is the one reported.
    fn check_strings(
        &self,
        field: &'static str,
        data_field: &'static str,
        offsets: &[i64],
        data: &[u8],
        utf8: bool,
    ) -> Result<()> {
        if offsets.first() != Some(&0) {
            return Err(self.invalid(field, "the first offset must be 0".into()));
        }
        let last = offsets[offsets.len() - 1];
        if usize::try_from(last) != Ok(data.len()) {
            return Err(self.invalid(
                field,
                format!(
                    "the last offset is {last}, but the data has {} bytes",
                    data.len()
                ),
            ));
        }
        // One pass over the offsets: order, and (for UTF-8) that each starts a character.
        // The first offset is 0 and the last the data's length, so once the order holds every
        // offset is within the data.
        let piece = |start: usize, end: usize| -> Option<usize> {
            (start..end).find(|&i| {
                let (a, b) = (offsets[i], offsets[i + 1]);
                b < a || (utf8 && data.get(index(a)).is_some_and(|&c| c & 0xC0 == 0x80))
            })
        };
        let pairs = offsets.len() - 1;
        let bad = if pairs < PARALLEL_MIN {
            piece(0, pairs)
        } else {
            (0..pairs.div_ceil(PARALLEL_MIN))
                .into_par_iter()
                .find_map_first(|p| piece(p * PARALLEL_MIN, ((p + 1) * PARALLEL_MIN).min(pairs)))
        };
        // An offset out of order is the offsets' fault; bytes that are not UTF-8, or an offset
        // inside a character of otherwise valid UTF-8, the data's (as bytes are the likelier
        // culprit).
        if let Some(i) = bad.filter(|&i| offsets[i + 1] < offsets[i]) {
            return Err(self.invalid(
                field,
                format!(
                    "offset {} ({}) is below offset {i} ({})",
                    i + 1,
                    offsets[i + 1],
                    offsets[i]
                ),
            ));
        }
        if utf8 {
            if let Some(at) = first_invalid_utf8(data) {
                let row = offsets
                    .partition_point(|&o| index(o) <= at)
                    .saturating_sub(1);
                return Err(self.invalid(
                    data_field,
                    format!("string {row} is not UTF-8 (byte {at} of the buffer)"),
                ));
            }
        }
        if let Some(i) = bad {
            return Err(self.invalid(data_field, format!("offset {i} splits a UTF-8 character")));
        }
        Ok(())
    }

    fn validity_unchecked(&self) -> Result<Option<Bitmap<'r>>> {
        let slot = self.meta.validity.to_native();
        if slot == NO_SECTION {
            return Ok(None);
        }
        let bytes = self.buffer(slot)?;
        // Tier 1 checked the section decodes to ceil(rows / 8) bytes.
        Bitmap::new(bytes, self.rows)
            .map(Some)
            .ok_or_else(|| self.invalid("validity", "shorter than the row count".into()))
    }

    /// The validity bitmap (bit set = value present), `None` when no row is null.
    ///
    /// # Errors
    /// [`Error::InvalidColumn`] when the column's content is invalid; for compressed
    /// columns, the errors of decompression.
    pub fn validity(&self) -> Result<Option<Bitmap<'r>>> {
        self.validate()?;
        self.validity_unchecked()
    }

    /// The values of a fixed-width column as a slice (nulls hold unspecified values; see
    /// [`ColumnView::validity`]). Works for numbers, timestamps and durations (`i64`) and
    /// dates (`i32`).
    ///
    /// # Errors
    /// [`Error::WrongColumnType`] when the column does not hold `T`s; as
    /// [`ColumnView::validity`].
    pub fn values<T: Element>(&self) -> Result<&'r [T]> {
        let fixed = matches!(
            self.meta.kind,
            COLUMN_PRIMITIVE | COLUMN_TIMESTAMP | COLUMN_DATE | COLUMN_DURATION
        );
        if !fixed || self.physical() != T::DTYPE {
            // Bools are bit-packed: `values::<bool>()` is never the accessor.
            let expected = match T::DTYPE {
                Dtype::Bool => "bool values as a slice (bit-packed bools are read with bools())",
                d => d.name(),
            };
            return Err(self.wrong_type(expected));
        }
        self.validate()?;
        self.typed::<T>(self.meta.values.to_native(), "values")
    }

    /// Values and validity of a fixed-width column.
    ///
    /// # Errors
    /// As [`ColumnView::values`].
    pub fn primitive<T: Element>(&self) -> Result<PrimitiveColumn<'r, T>> {
        Ok(PrimitiveColumn {
            values: self.values::<T>()?,
            validity: self.validity()?,
        })
    }

    /// A timestamp or duration column: `i64` values, their unit and the zone.
    ///
    /// # Errors
    /// [`Error::WrongColumnType`]; as [`ColumnView::validity`].
    pub fn timestamps(&self) -> Result<TemporalColumn<'r>> {
        if !matches!(self.meta.kind, COLUMN_TIMESTAMP | COLUMN_DURATION) {
            return Err(self.wrong_type("timestamp or duration"));
        }
        Ok(TemporalColumn {
            values: self.primitive::<i64>()?,
            unit: self.unit().unwrap_or(TimeUnit::Second),
            zone: self.zone(),
        })
    }

    /// A date column: `i32` days since 1970-01-01.
    ///
    /// # Errors
    /// [`Error::WrongColumnType`]; as [`ColumnView::validity`].
    pub fn dates(&self) -> Result<PrimitiveColumn<'r, i32>> {
        if self.meta.kind != COLUMN_DATE {
            return Err(self.wrong_type("date"));
        }
        self.primitive::<i32>()
    }

    /// A bool column: bit-packed values and validity.
    ///
    /// # Errors
    /// [`Error::WrongColumnType`]; as [`ColumnView::validity`].
    pub fn bools(&self) -> Result<BoolColumn<'r>> {
        if self.meta.kind != COLUMN_BOOL {
            return Err(self.wrong_type("bool"));
        }
        let validity = self.validity()?;
        let bytes = self.buffer(self.meta.values.to_native())?;
        let values = Bitmap::new(bytes, self.rows)
            .ok_or_else(|| self.invalid("values", "shorter than the row count".into()))?;
        Ok(BoolColumn { values, validity })
    }

    /// A UTF-8 column: strings viewed in place, without copying.
    ///
    /// # Errors
    /// [`Error::WrongColumnType`]; as [`ColumnView::validity`].
    pub fn strings(&self) -> Result<StrColumn<'r>> {
        if self.meta.kind != COLUMN_UTF8 {
            return Err(self.wrong_type("utf8"));
        }
        let validity = self.validity()?;
        let offsets = self.typed::<i64>(self.meta.offsets.to_native(), "offsets")?;
        let data = self.buffer(self.meta.values.to_native())?;
        // SAFETY: `validity()` ran `check_content` on this column (or found it cached, which
        // happens only after it passed), and `check_strings` accepted these exact bytes as UTF-8: the
        // section's bytes never change (read-only map under the contract of `io::map`, or a
        // fetched or decoded buffer never written again once filled).
        let data = unsafe { std::str::from_utf8_unchecked(data) };
        Ok(StrColumn {
            offsets,
            data,
            validity,
        })
    }

    /// A binary column: byte strings viewed in place.
    ///
    /// # Errors
    /// [`Error::WrongColumnType`]; as [`ColumnView::validity`].
    pub fn binary(&self) -> Result<BinaryColumn<'r>> {
        if self.meta.kind != COLUMN_BINARY {
            return Err(self.wrong_type("binary"));
        }
        Ok(BinaryColumn {
            validity: self.validity()?,
            offsets: self.typed::<i64>(self.meta.offsets.to_native(), "offsets")?,
            data: self.buffer(self.meta.values.to_native())?,
        })
    }

    /// A categorical column: codes and the dictionary, viewed in place.
    ///
    /// # Errors
    /// [`Error::WrongColumnType`]; as [`ColumnView::validity`].
    pub fn categorical(&self) -> Result<CategoricalColumn<'r>> {
        if self.meta.kind != COLUMN_CATEGORICAL {
            return Err(self.wrong_type("categorical"));
        }
        let validity = self.validity()?;
        let offsets = self.typed::<i64>(
            self.meta.dictionary_offsets.to_native(),
            "dictionary_offsets",
        )?;
        let data = self.buffer(self.meta.dictionary_values.to_native())?;
        // SAFETY: as in `strings`: `check_content` accepted these exact dictionary bytes as
        // UTF-8 before `validity()` returned, and they never change.
        let data = unsafe { std::str::from_utf8_unchecked(data) };
        Ok(CategoricalColumn {
            codes: self.typed::<i32>(self.meta.values.to_native(), "codes")?,
            dictionary: StrColumn {
                offsets,
                data,
                validity: None,
            },
            validity,
        })
    }

    /// The raw decoded bytes of the column's buffers, by role: validity, values, offsets,
    /// dictionary offsets, dictionary values (empty when absent). Checked like the typed
    /// accessors; for Arrow interop and other-format writers.
    ///
    /// # Errors
    /// As [`ColumnView::validity`].
    pub fn buffers(&self) -> Result<[&'r [u8]; 5]> {
        self.validate()?;
        let s = self.slots();
        Ok([
            self.buffer(s[0])?,
            self.buffer(s[1])?,
            self.buffer(s[2])?,
            self.buffer(s[3])?,
            self.buffer(s[4])?,
        ])
    }
}

/// A range as `[min, max]` for messages.
fn show(r: StatRange) -> String {
    match r {
        StatRange::Int(a, b) => format!("[{a}, {b}]"),
        StatRange::UInt(a, b) => format!("[{a}, {b}]"),
        StatRange::Float(a, b) => format!("[{a:?}, {b:?}]"),
    }
}

fn valid(validity: Option<Bitmap<'_>>, i: usize) -> bool {
    validity.is_none_or(|v| v.get(i))
}

/// An offset (or code) as an index. Exact for what it is given: offsets `check_strings`
/// accepted (`0..=data.len()`, so they fit in `usize` on every target) and codes checked
/// against the dictionary.
#[inline]
#[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
fn index(offset: i64) -> usize {
    // A plain cast, not `usize::try_from(..)`: in the string scan of `benches/frames.rs`
    // (`sum+count-validated-reader`) the checked form measured 15-20% slower than this. The
    // string accessors only pass offsets `check_strings` accepted, which are in range.
    offset as usize
}

/// A fixed-width column: values (nulls hold unspecified values) and validity.
#[derive(Clone, Copy, Debug)]
pub struct PrimitiveColumn<'r, T> {
    /// Every row's value.
    pub values: &'r [T],
    /// Bit set = value present; `None` when no row is null.
    pub validity: Option<Bitmap<'r>>,
}

impl<'r, T: Copy> PrimitiveColumn<'r, T> {
    /// Row `i`, or `None` for a null.
    ///
    /// # Panics
    /// If `i` is out of range.
    pub fn get(&self, i: usize) -> Option<T> {
        valid(self.validity, i).then(|| self.values[i])
    }

    /// Every row.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Option<T>> + 'r {
        let (values, validity) = (self.values, self.validity);
        (0..values.len()).map(move |i| valid(validity, i).then(|| values[i]))
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// A timestamp or duration column.
#[derive(Clone, Copy, Debug)]
pub struct TemporalColumn<'r> {
    /// Values and validity.
    pub values: PrimitiveColumn<'r, i64>,
    /// The resolution.
    pub unit: TimeUnit,
    /// The time zone of timestamps, if any.
    pub zone: Option<&'r str>,
}

/// A bool column.
#[derive(Clone, Copy, Debug)]
pub struct BoolColumn<'r> {
    /// Every row's value, bit-packed.
    pub values: Bitmap<'r>,
    /// Bit set = value present; `None` when no row is null.
    pub validity: Option<Bitmap<'r>>,
}

impl<'r> BoolColumn<'r> {
    /// Row `i`, or `None` for a null.
    pub fn get(&self, i: usize) -> Option<bool> {
        valid(self.validity, i).then(|| self.values.get(i))
    }

    /// Every row.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Option<bool>> + 'r {
        let this = *self;
        (0..self.values.len()).map(move |i| this.get(i))
    }
}

/// A UTF-8 column, viewed in place: `offsets[i]..offsets[i + 1]` of `data` is row `i`.
///
/// Made only from a column that passed its first-access checks, which is what lets `value`
/// slice without checking again.
#[derive(Clone, Copy, Debug)]
pub struct StrColumn<'r> {
    offsets: &'r [i64],
    data: &'r str,
    validity: Option<Bitmap<'r>>,
}

impl<'r> StrColumn<'r> {
    /// `rows + 1` offsets into [`StrColumn::data`] (Arrow's `LargeUtf8` offsets).
    pub fn offsets(&self) -> &'r [i64] {
        self.offsets
    }

    /// Every row's bytes, concatenated.
    pub fn data(&self) -> &'r str {
        self.data
    }

    /// Bit set = value present; `None` when no row is null.
    pub fn validity(&self) -> Option<Bitmap<'r>> {
        self.validity
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `i`'s string, null or not (a null's string is empty or unspecified).
    ///
    /// # Panics
    /// If `i` is out of range.
    #[inline]
    pub fn value(&self, i: usize) -> &'r str {
        let (a, b) = (index(self.offsets[i]), index(self.offsets[i + 1]));
        // SAFETY: a `StrColumn` is made only from a column whose offsets `check_strings`
        // accepted (from 0, never decreasing, ending at `data.len()`, each on a character
        // boundary of `data`), so `a..b` is in bounds and on character boundaries.
        unsafe { self.data.get_unchecked(a..b) }
    }

    /// Row `i`, or `None` for a null.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&'r str> {
        valid(self.validity, i).then(|| self.value(i))
    }

    /// Every row.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Option<&'r str>> + 'r {
        let (data, validity) = (self.data, self.validity);
        self.offsets.windows(2).enumerate().map(move |(i, w)| {
            // SAFETY: as in `value`: consecutive offsets of a checked column.
            let s = unsafe { data.get_unchecked(index(w[0])..index(w[1])) };
            valid(validity, i).then_some(s)
        })
    }

    /// Every row's string, nulls included (as their stored strings): the fastest scan.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &'r str> + 'r {
        let data = self.data;
        self.offsets.windows(2).map(move |w| {
            // SAFETY: as in `value`: consecutive offsets of a checked column.
            unsafe { data.get_unchecked(index(w[0])..index(w[1])) }
        })
    }
}

/// A binary column, viewed in place.
#[derive(Clone, Copy, Debug)]
pub struct BinaryColumn<'r> {
    /// `rows + 1` offsets into `data`.
    pub offsets: &'r [i64],
    /// Every row's bytes, concatenated.
    pub data: &'r [u8],
    /// Bit set = value present; `None` when no row is null.
    pub validity: Option<Bitmap<'r>>,
}

impl<'r> BinaryColumn<'r> {
    /// Row `i`, or `None` for a null.
    pub fn get(&self, i: usize) -> Option<&'r [u8]> {
        valid(self.validity, i)
            .then(|| &self.data[index(self.offsets[i])..index(self.offsets[i + 1])])
    }

    /// Every row.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Option<&'r [u8]>> + 'r {
        let this = *self;
        (0..self.offsets.len() - 1).map(move |i| this.get(i))
    }
}

/// A categorical column, viewed in place.
#[derive(Clone, Copy, Debug)]
pub struct CategoricalColumn<'r> {
    /// Every row's code (nulls hold unspecified codes).
    pub codes: &'r [i32],
    /// The distinct strings; code `c` is `dictionary.value(c)`.
    pub dictionary: StrColumn<'r>,
    /// Bit set = value present; `None` when no row is null.
    pub validity: Option<Bitmap<'r>>,
}

impl<'r> CategoricalColumn<'r> {
    /// Row `i`'s string, or `None` for a null.
    pub fn get(&self, i: usize) -> Option<&'r str> {
        // Codes of non-null rows were checked to be below the dictionary's length.
        valid(self.validity, i).then(|| self.dictionary.value(index(self.codes[i].into())))
    }

    /// Every row.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Option<&'r str>> + 'r {
        let this = *self;
        (0..self.codes.len()).map(move |i| this.get(i))
    }
}

/// Buffers of at least this many items (offsets, bytes) are checked in parallel pieces of this
/// size.
const PARALLEL_MIN: usize = 1 << 20;

/// The position of the first byte where `data` stops being UTF-8, checked in parallel pieces
/// for large buffers. Pieces start where a character starts (a byte that is not a
/// continuation byte), so the data is UTF-8 exactly when every piece is.
fn first_invalid_utf8(data: &[u8]) -> Option<usize> {
    let check = |start: usize, end: usize| {
        simdutf8::compat::from_utf8(&data[start..end])
            .err()
            .map(|e| start + e.valid_up_to())
    };
    if data.len() < 4 * PARALLEL_MIN {
        return check(0, data.len());
    }
    let mut cuts = vec![0];
    let mut at = PARALLEL_MIN * 4;
    while at < data.len() {
        // Back up at most 3 bytes to the start of a character; invalid data fails either way.
        let start = (at.saturating_sub(3)..=at)
            .rev()
            .find(|&i| data[i] & 0xC0 != 0x80)
            .unwrap_or(at);
        cuts.push(start);
        at += PARALLEL_MIN * 4;
    }
    cuts.push(data.len());
    cuts.par_windows(2).find_map_first(|w| check(w[0], w[1]))
}

impl Reader {
    /// The frame named `name`.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::WrongKind`].
    pub fn frame(&self, name: &str) -> Result<FrameView<'_>> {
        self.entry(name)?.frame()
    }

    /// The frame entry `name`: the same view as [`Reader::frame`], named like
    /// [`Reader::array_entry`] and [`Reader::model_entry`] so that each kind has an entry
    /// accessor.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::WrongKind`].
    pub fn frame_entry(&self, name: &str) -> Result<FrameView<'_>> {
        self.entry(name)?.frame()
    }
}

impl<'r> EntryRef<'r> {
    /// The entry as a frame, or [`Error::WrongKind`].
    pub fn frame(&self) -> Result<FrameView<'r>> {
        let row = self.expect_kind(Kind::Frame)?;
        let m = self.reader.manifest();
        let (first, columns) = m.frame_columns(row);
        Ok(FrameView {
            reader: self.reader,
            name: self.name(),
            rows: m.frames[row].rows.to_native(),
            first,
            columns,
        })
    }
}

/// The first row whose code is not an index into a dictionary of `size` strings; rows that
/// `validity` marks null may hold any code (pandas writes -1 there). Spans of 4096 rows are
/// first scanned for any out-of-range code without branches (vectorized); only spans that
/// have one are looked at in blocks of 64 rows against a word of the bitmap. Large columns go
/// in parallel pieces. This runs on every first access of a categorical column, so its cost
/// is most of what reopening a frame with one costs.
fn first_bad_code(codes: &[i32], size: usize, validity: Option<Bitmap<'_>>) -> Option<usize> {
    // Codes are `i32`: a dictionary of more strings than that is never fully reachable. As
    // `u32`, a negative code is above every valid one.
    let size = u32::try_from(size).unwrap_or(u32::MAX);
    const SPAN: usize = 4096;
    let bits = validity.map(|b| b.as_bytes());
    // The rows of block `k` (64 rows from row 64k) with an out-of-range code, as bits.
    let bad_in_block = |k: usize, block: &[i32]| -> u64 {
        let out = block.iter().enumerate().fold(0u64, |m, (j, &c)| {
            m | (u64::from(u32::from_ne_bytes(c.to_ne_bytes()) >= size) << j)
        });
        match bits {
            None => out,
            Some(bytes) => {
                let mut word = [0u8; 8];
                let from = (k * 8).min(bytes.len());
                let to = (from + 8).min(bytes.len());
                word[..to - from].copy_from_slice(&bytes[from..to]);
                out & u64::from_le_bytes(word)
            }
        }
    };
    // Whether any code of `rows` is out of range, nulls or not: an OR of comparisons, which
    // vectorizes well; only the rare spans where it is true are looked at row by row.
    let any_out = |rows: &[i32]| {
        rows.iter().fold(0u32, |any, &c| {
            any | u32::from(u32::from_ne_bytes(c.to_ne_bytes()) >= size)
        }) != 0
    };
    let piece = |first_block: usize, blocks: &[i32]| -> Option<usize> {
        blocks.chunks(SPAN).enumerate().find_map(|(s, span)| {
            if !any_out(span) {
                return None;
            }
            span.chunks(64).enumerate().find_map(|(b, block)| {
                let k = first_block + s * (SPAN / 64) + b;
                let bad = bad_in_block(k, block);
                (bad != 0).then(|| k * 64 + bad.trailing_zeros() as usize)
            })
        })
    };
    // PARALLEL_MIN is a multiple of SPAN, so pieces start on span and block boundaries.
    if codes.len() < PARALLEL_MIN {
        piece(0, codes)
    } else {
        codes
            .par_chunks(PARALLEL_MIN)
            .enumerate()
            .find_map_first(|(p, chunk)| piece(p * (PARALLEL_MIN / 64), chunk))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_utf8_check_finds_the_first_bad_byte_and_accepts_characters_across_cuts() {
        // 3- and 4-byte characters straddle every cut of the parallel check.
        let text = "aé€😀".repeat(2_000_000);
        let bytes = text.as_bytes();
        assert!(bytes.len() > 8 * PARALLEL_MIN);
        assert_eq!(first_invalid_utf8(bytes), None);
        let first_bad = |b: &[u8]| {
            simdutf8::compat::from_utf8(b)
                .err()
                .map(|e| e.valid_up_to())
        };
        for at in [
            0,
            4 * PARALLEL_MIN - 1,
            4 * PARALLEL_MIN,
            9 * PARALLEL_MIN + 1,
            bytes.len() - 1,
        ] {
            // 0xFF is never UTF-8; the sequential validator says where the first problem is.
            let mut bad = bytes.to_vec();
            bad[at] = 0xFF;
            assert!(first_bad(&bad).is_some());
            assert!(first_invalid_utf8(&bad) == first_bad(&bad), "byte {at}");
            // And a second problem later changes nothing.
            let last = bad.len() - 1;
            bad[last] = 0xFF;
            assert!(
                first_invalid_utf8(&bad) == first_bad(&bad),
                "byte {at} and the last"
            );
        }
    }

    /// The blockwise check of categorical codes finds the row a plain scan finds, on either
    /// side of block and piece boundaries, with and without a validity bitmap.
    #[test]
    fn first_bad_code_matches_a_plain_scan() {
        use super::first_bad_code;
        let n = PARALLEL_MIN * 2 + 100;
        let size = 7usize;
        let plain = |codes: &[i32], valid: Option<&[bool]>| {
            (0..codes.len()).find(|&i| {
                valid.is_none_or(|v| v[i]) && !(0..size as i64).contains(&i64::from(codes[i]))
            })
        };
        let valid: Vec<bool> = (0..n).map(|i| i % 5 != 3).collect();
        let mut b = crate::frame::BitmapBuilder::default();
        valid.iter().for_each(|&v| b.push(v));
        let (bytes, _) = b.finish();
        let bitmap = Bitmap::new(&bytes, n).unwrap();
        for bad_at in [
            0,
            1,
            63,
            64,
            65,
            1000,
            PARALLEL_MIN - 1,
            PARALLEL_MIN,
            n - 1,
        ] {
            for bad in [-1, 7, i32::MAX, i32::MIN] {
                let mut codes: Vec<i32> = (0..n).map(|i| (i % size) as i32).collect();
                // Null rows hold -1, as pandas writes them.
                codes.iter_mut().zip(&valid).for_each(|(c, &v)| {
                    if !v {
                        *c = -1
                    }
                });
                assert_eq!(first_bad_code(&codes, size, Some(bitmap)), None);
                codes[bad_at] = bad;
                assert_eq!(
                    first_bad_code(&codes, size, Some(bitmap)),
                    plain(&codes, Some(&valid)),
                    "at {bad_at}, code {bad}"
                );
                codes.iter_mut().filter(|c| **c == -1).for_each(|c| *c = 0);
                codes[bad_at] = bad;
                assert_eq!(first_bad_code(&codes, size, None), Some(bad_at));
            }
        }
        assert_eq!(first_bad_code(&[], 0, None), None);
        assert_eq!(first_bad_code(&[0], 0, None), Some(0));
    }
}
