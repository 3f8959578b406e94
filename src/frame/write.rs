//! Writing frames: a whole [`Frame`] at once, or batch by batch through a [`FrameWriter`] whose
//! columns are spooled to temporary files, so a frame larger than memory can be written.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::ops::Range;

use crate::error::{Error, Result};
use crate::frame::bitmap::{Bitmap, BitmapBuilder};
use crate::frame::column::{Buffers, Column, Frame};
use crate::frame::types::{ColumnStats, ColumnType, Field, StatRange};
use crate::options::{Codec, Encoding, shared_entry_options};
use crate::raw::build::PendingColumn;
use crate::raw::manifest::{COLUMN_FLAG_ORDERED, ColumnMeta, MetaValue, NO_SECTION};
use crate::writer::Writer;

/// Options of a frame entry: codecs (for all columns or per column), the entry's metadata and
/// each column's.
#[derive(Clone, Debug, Default)]
pub struct FrameOptions {
    encoding: Encoding,
    columns: HashMap<String, Codec>,
    metadata: BTreeMap<String, MetaValue>,
    column_metadata: BTreeMap<String, BTreeMap<String, MetaValue>>,
}

impl FrameOptions {
    /// Every column raw, no metadata.
    pub fn new() -> Self {
        Self::default()
    }

    // `codec` is the codec of every column without its own (see `column_codec`).
    shared_entry_options!();

    /// The codec of one column.
    pub fn column_codec(mut self, column: impl Into<String>, codec: Codec) -> Self {
        self.columns.insert(column.into(), codec);
        self
    }

    /// Adds a metadata pair to one column (what Arrow calls a field's metadata; a later value
    /// for the same key replaces an earlier). Writing a frame that has no column of that name
    /// is an error. A file with column metadata is of format 1.1: readers of 1.0 read it but
    /// do not see the column metadata.
    pub fn column_metadata(
        mut self,
        column: impl Into<String>,
        key: impl Into<String>,
        value: impl Into<MetaValue>,
    ) -> Self {
        self.column_metadata
            .entry(column.into())
            .or_default()
            .insert(key.into(), value.into());
        self
    }

    /// Adds a metadata pair to the entry unless the options already have that key.
    #[cfg(feature = "arrow")]
    pub(crate) fn metadata_default(&mut self, key: &str, value: impl Into<MetaValue>) {
        self.metadata
            .entry(key.to_owned())
            .or_insert_with(|| value.into());
    }

    /// Adds a metadata pair to a column unless the options already have that key for it.
    #[cfg(feature = "arrow")]
    pub(crate) fn column_metadata_default(
        &mut self,
        column: &str,
        key: &str,
        value: impl Into<MetaValue>,
    ) {
        self.column_metadata
            .entry(column.to_owned())
            .or_default()
            .entry(key.to_owned())
            .or_insert_with(|| value.into());
    }

    /// The encoding of one column: the entry's, with the column's own codec if it has one.
    fn encoding_of(&self, column: &str) -> Encoding {
        match self.columns.get(column) {
            Some(&codec) => self.encoding.with_codec(codec),
            None => self.encoding,
        }
    }

    /// Each column's manifest extras, after checking that the options name only columns
    /// the frame has.
    fn pending_columns(
        &self,
        writer: &Writer,
        entry: &str,
        columns: Vec<(ColumnMeta, String, ColumnType)>,
    ) -> Result<Vec<PendingColumn>> {
        if let Some(unknown) = self
            .column_metadata
            .keys()
            .find(|k| !columns.iter().any(|(_, name, _)| name == *k))
        {
            return Err(writer.invalid(
                entry,
                format!(
                    "column metadata is given for {unknown:?}, which the frame has no column of"
                ),
            ));
        }
        Ok(columns
            .into_iter()
            .map(|(meta, name, ty)| PendingColumn {
                meta,
                metadata: self.column_metadata.get(&name).cloned().unwrap_or_default(),
                zone: zone_of(&ty),
                flags: flags_of(&ty),
                name,
            })
            .collect())
    }
}

/// The column flags of a type (format 1.1).
fn flags_of(ty: &ColumnType) -> u32 {
    match ty {
        ColumnType::Categorical { ordered: true } => COLUMN_FLAG_ORDERED,
        _ => 0,
    }
}

/// The manifest row of a column, without its text offsets and buffers.
fn column_meta(ty: &ColumnType, null_count: u64, range: Option<StatRange>) -> ColumnMeta {
    let (min, max) = range.map_or((0, 0), StatRange::encode);
    ColumnMeta {
        validity: NO_SECTION,
        values: NO_SECTION,
        offsets: NO_SECTION,
        dictionary_offsets: NO_SECTION,
        dictionary_values: NO_SECTION,
        null_count,
        min,
        max,
        kind: ty.code(),
        dtype: ty.physical().code(),
        unit: ty.unit().map_or(0, |u| u.code()),
        stats: u8::from(range.is_some()),
        ..ColumnMeta::default()
    }
}

fn fields(frame: &Frame) -> Vec<Field> {
    frame
        .columns()
        .map(|(name, c)| Field {
            name: name.to_owned(),
            ty: c.ty().clone(),
        })
        .collect()
}

impl Writer {
    /// Writes a frame with every column raw.
    ///
    /// # Errors
    /// [`Error::Duplicate`] for a name already written; [`Error::Io`]. (Unknown time zones
    /// were refused by [`FrameBuilder::build`](crate::frame::FrameBuilder::build).)
    pub fn put_frame(&mut self, name: &str, frame: &Frame) -> Result<()> {
        self.put_frame_with(name, frame, &FrameOptions::default())
    }

    /// Writes a frame with options (codecs, metadata). Each buffer of each column becomes one
    /// section, written straight from the frame's memory.
    ///
    /// # Errors
    /// As [`Writer::put_frame`].
    pub fn put_frame_with(
        &mut self,
        name: &str,
        frame: &Frame,
        options: &FrameOptions,
    ) -> Result<()> {
        self.put_frame_rows(name, frame, 0..frame.rows(), options)
            .map(drop)
    }

    /// Writes rows `rows` (within `frame.rows()`) of a frame as [`Writer::put_frame_with`]
    /// writes a whole one, from the frame's memory without first copying the rows out
    /// ([`Column::rows_buffers`]), and returns each column's statistics as written.
    pub(crate) fn put_frame_rows(
        &mut self,
        name: &str,
        frame: &Frame,
        rows: Range<usize>,
        options: &FrameOptions,
    ) -> Result<Vec<ColumnStats>> {
        self.start_entry(name)?;
        let mut columns = Vec::with_capacity(frame.columns.len());
        let mut stats = Vec::with_capacity(frame.columns.len());
        for (column_name, c) in frame.columns() {
            let e = &options.encoding_of(column_name);
            let part = c.rows_buffers(rows.clone());
            let mut meta = column_meta(c.ty(), part.null_count as u64, part.range);
            stats.push(ColumnStats {
                null_count: part.null_count as u64,
                range: part.range,
            });
            let b: Buffers<'_> = part.buffers();
            if let Some(v) = b.validity {
                meta.validity = self.write_buffer(name, v, 1, e)?;
            }
            meta.values = self.write_buffer(name, b.values, b.value_size.max(1), e)?;
            if let Some(offsets) = b.offsets {
                let bytes = bytemuck::cast_slice(offsets);
                meta.offsets = self.write_buffer(name, bytes, 8, e)?;
            }
            if let Some((offsets, bytes)) = b.dictionary {
                let o = bytemuck::cast_slice(offsets);
                meta.dictionary_offsets = self.write_buffer(name, o, 8, e)?;
                meta.dictionary_values = self.write_buffer(name, bytes, 1, e)?;
            }
            columns.push((meta, column_name.to_owned(), c.ty().clone()));
        }
        let columns = options.pending_columns(self, name, columns)?;
        let rows = rows.len() as u64;
        let metadata = options.metadata.clone();
        self.add_entry(|m| m.add_frame(name.to_owned(), rows, columns, metadata));
        Ok(stats)
    }

    /// Starts a frame written in batches of rows ([`FrameWriter::write_batch`]), for frames
    /// produced from a stream or larger than memory. Each column's buffers are spooled to
    /// unnamed temporary files beside the target and copied into place (compressed, if asked)
    /// by [`FrameWriter::finish`]; memory holds one batch and the categorical dictionaries.
    ///
    /// # Errors
    /// [`Error::Duplicate`] for a name already written.
    pub fn frame_writer(&mut self, name: &str, options: &FrameOptions) -> Result<FrameWriter<'_>> {
        self.start_entry(name)?;
        Ok(FrameWriter {
            writer: self,
            name: name.to_owned(),
            options: options.clone(),
            fields: Vec::new(),
            spools: Vec::new(),
            rows: 0,
        })
    }
}

fn zone_of(ty: &ColumnType) -> String {
    ty.zone().unwrap_or_default().to_owned()
}

/// A frame being written batch by batch; see [`Writer::frame_writer`]. Dropping it without
/// [`FrameWriter::finish`] makes the whole file unfinishable (the target stays untouched).
#[derive(Debug)]
pub struct FrameWriter<'w> {
    writer: &'w mut Writer,
    name: String,
    options: FrameOptions,
    fields: Vec<Field>,
    spools: Vec<ColumnSpool>,
    rows: u64,
}

impl FrameWriter<'_> {
    /// The columns' names and types (those of the first batch; empty before it).
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Appends a batch of rows. The first batch sets the columns; every later one must have
    /// the same names and types, in the same order.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a batch whose columns differ from the first's;
    /// [`Error::Io`].
    pub fn write_batch(&mut self, batch: &Frame) -> Result<()> {
        let batch_fields = fields(batch);
        if self.spools.is_empty() && self.rows == 0 && self.fields.is_empty() {
            let dir = self
                .writer
                .path()
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."))
                .to_path_buf();
            for f in &batch_fields {
                self.spools
                    .push(ColumnSpool::new(&dir, &f.ty).map_err(|source| Error::Io {
                        path: dir.clone(),
                        op: "create spool file",
                        source,
                    })?);
            }
            self.fields = batch_fields;
        } else if batch_fields != self.fields {
            let describe = |fs: &[Field]| {
                fs.iter()
                    .map(|f| format!("{}: {}", f.name, f.ty))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(self.writer.invalid(
                &self.name,
                format!(
                    "a batch has columns [{}], the first batch had [{}]",
                    describe(&batch_fields),
                    describe(&self.fields)
                ),
            ));
        }
        for ((_, column), spool) in batch.columns().zip(&mut self.spools) {
            spool.append(column).map_err(|source| Error::Io {
                path: self.writer.path().to_path_buf(),
                op: "write spool file",
                source,
            })?;
        }
        self.rows += batch.rows() as u64;
        Ok(())
    }

    /// Copies the spooled columns into the file and completes the frame.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn finish(self) -> Result<()> {
        let FrameWriter {
            writer,
            name,
            options,
            fields,
            spools,
            rows,
        } = self;
        let path = writer.path().to_path_buf();
        let io = |source| Error::Io {
            path: path.clone(),
            op: "flush spool file",
            source,
        };
        let mut columns = Vec::with_capacity(fields.len());
        for (field, spool) in fields.into_iter().zip(spools) {
            let e = &options.encoding_of(&field.name);
            let mut meta = column_meta(&field.ty, spool.null_count, spool.range);
            let ColumnSpool {
                mut validity,
                mut values,
                value_size,
                mut offsets,
                dictionary,
                ..
            } = spool;
            if meta.null_count > 0 {
                let (file, len) = validity.finish().map_err(io)?;
                meta.validity = writer.copy_buffer(&name, file, len, 1, e)?;
            }
            let (file, len) = values.finish().map_err(io)?;
            meta.values = writer.copy_buffer(&name, file, len, value_size, e)?;
            if let Some(o) = &mut offsets {
                let (file, len) = o.spool.finish().map_err(io)?;
                meta.offsets = writer.copy_buffer(&name, file, len, 8, e)?;
            }
            if let Some(d) = dictionary {
                let o = bytemuck::cast_slice(&d.offsets);
                meta.dictionary_offsets = writer.write_buffer(&name, o, 8, e)?;
                meta.dictionary_values = writer.write_buffer(&name, &d.bytes, 1, e)?;
            }
            columns.push((meta, field.name, field.ty));
        }
        let columns = options.pending_columns(writer, &name, columns)?;
        writer.add_entry(|m| m.add_frame(name, rows, columns, options.metadata));
        Ok(())
    }
}

/// An append-only temporary file (unlinked at creation: nothing is left behind on a crash).
#[derive(Debug)]
struct Spool {
    file: BufWriter<File>,
    len: u64,
}

impl Spool {
    fn new(dir: &std::path::Path) -> std::io::Result<Spool> {
        Ok(Spool {
            file: BufWriter::with_capacity(1 << 20, tempfile::tempfile_in(dir)?),
            len: 0,
        })
    }

    fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.file.write_all(bytes)?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// The file, rewound, and its length.
    fn finish(&mut self) -> std::io::Result<(&mut File, u64)> {
        self.file.flush()?;
        let file = self.file.get_mut();
        file.seek(SeekFrom::Start(0))?;
        Ok((file, self.len))
    }
}

/// A bitmap spooled whole bytes at a time; the partial last byte stays in memory.
#[derive(Debug)]
struct BitSpool {
    spool: Spool,
    tail: BitmapBuilder,
}

impl BitSpool {
    fn append(&mut self, bits: Bitmap<'_>) -> std::io::Result<()> {
        self.tail.extend_from_bitmap(bits);
        let whole = self.tail.take_whole_bytes();
        self.spool.append(&whole)
    }

    fn append_ones(&mut self, n: usize) -> std::io::Result<()> {
        // In pieces: a batch of a billion rows must not allocate a billion bits at once.
        let mut left = n;
        while left > 0 {
            let step = left.min(1 << 23);
            self.tail.push_n(true, step);
            let whole = self.tail.take_whole_bytes();
            self.spool.append(&whole)?;
            left -= step;
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<(&mut File, u64)> {
        let tail = std::mem::take(&mut self.tail).finish().0;
        self.spool.append(&tail)?;
        self.spool.finish()
    }
}

/// String offsets, rebased batch by batch onto the bytes spooled so far.
#[derive(Debug)]
struct OffsetSpool {
    spool: Spool,
    base: i64,
}

/// A categorical dictionary merged across batches.
#[derive(Debug, Default)]
struct Dictionary {
    lookup: HashMap<String, i32>,
    offsets: Vec<i64>,
    bytes: Vec<u8>,
}

#[derive(Debug)]
struct ColumnSpool {
    validity: BitSpool,
    /// Values, bit-packed booleans, string bytes or codes.
    values: ValueSpool,
    value_size: usize,
    offsets: Option<OffsetSpool>,
    dictionary: Option<Dictionary>,
    null_count: u64,
    range: Option<StatRange>,
}

#[derive(Debug)]
enum ValueSpool {
    Bytes(Spool),
    Bits(BitSpool),
}

impl ValueSpool {
    fn finish(&mut self) -> std::io::Result<(&mut File, u64)> {
        match self {
            ValueSpool::Bytes(s) => s.finish(),
            ValueSpool::Bits(b) => b.finish(),
        }
    }
}

impl ColumnSpool {
    fn new(dir: &std::path::Path, ty: &ColumnType) -> std::io::Result<ColumnSpool> {
        let bits = |dir| -> std::io::Result<BitSpool> {
            Ok(BitSpool {
                spool: Spool::new(dir)?,
                tail: BitmapBuilder::new(),
            })
        };
        Ok(ColumnSpool {
            validity: bits(dir)?,
            values: match ty {
                ColumnType::Bool => ValueSpool::Bits(bits(dir)?),
                _ => ValueSpool::Bytes(Spool::new(dir)?),
            },
            value_size: match ty {
                ColumnType::Bool | ColumnType::Utf8 | ColumnType::Binary => 1,
                _ => ty.physical().size(),
            },
            offsets: if ty.has_offsets() {
                let mut spool = Spool::new(dir)?;
                spool.append(&0i64.to_le_bytes())?;
                Some(OffsetSpool { spool, base: 0 })
            } else {
                None
            },
            dictionary: matches!(ty, ColumnType::Categorical { .. }).then(|| Dictionary {
                offsets: vec![0],
                ..Dictionary::default()
            }),
            null_count: 0,
            range: None,
        })
    }

    fn append(&mut self, column: &Column) -> std::io::Result<()> {
        match column.validity() {
            Some(bits) => self.validity.append(bits)?,
            None => self.validity.append_ones(column.len())?,
        }
        self.null_count += column.null_count() as u64;
        self.range = merge(self.range, column.range());
        let b = column.buffers();
        match (&mut self.values, &mut self.offsets, &mut self.dictionary) {
            (ValueSpool::Bits(bits), _, _) => {
                let values = Bitmap::new(b.values, column.len())
                    .unwrap_or_else(|| unreachable!("a bool column holds one bit per row"));
                bits.append(values)?;
            }
            (ValueSpool::Bytes(spool), Some(o), _) => {
                let offsets = b.offsets.unwrap_or(&[0]);
                let rebased: Vec<u8> = offsets[1..]
                    .iter()
                    .flat_map(|&x| (x + o.base).to_le_bytes())
                    .collect();
                o.spool.append(&rebased)?;
                // A slice's length is at most `isize::MAX`, so this never saturates.
                o.base += i64::try_from(b.values.len()).unwrap_or(i64::MAX);
                spool.append(b.values)?;
            }
            (ValueSpool::Bytes(spool), None, Some(dict)) => {
                let Some((codes, offsets, bytes)) = column.codes() else {
                    unreachable!("a categorical column has codes")
                };
                // The batch's codes are rewritten into the merged dictionary's.
                let remap: Vec<i32> = (0..offsets.len() - 1)
                    .map(|i| {
                        let s = Column::dictionary_entry(offsets, bytes, i).unwrap_or_default();
                        dict.code(s)
                    })
                    .collect::<std::io::Result<_>>()?;
                let codes: Vec<u8> = codes
                    .iter()
                    .flat_map(|&c| {
                        let code = usize::try_from(c).ok().and_then(|c| remap.get(c));
                        code.copied().unwrap_or(0).to_le_bytes()
                    })
                    .collect();
                spool.append(&codes)?;
            }
            (ValueSpool::Bytes(spool), None, None) => spool.append(b.values)?,
        }
        Ok(())
    }
}

impl Dictionary {
    fn code(&mut self, s: &str) -> std::io::Result<i32> {
        if let Some(&c) = self.lookup.get(s) {
            return Ok(c);
        }
        let code = i32::try_from(self.lookup.len()).map_err(|_| {
            std::io::Error::other("a categorical column holds at most i32::MAX distinct strings")
        })?;
        self.lookup.insert(s.to_owned(), code);
        self.bytes.extend_from_slice(s.as_bytes());
        // A `Vec`'s length is at most `isize::MAX`, so this never saturates.
        self.offsets
            .push(i64::try_from(self.bytes.len()).unwrap_or(i64::MAX));
        Ok(code)
    }
}

fn merge(a: Option<StatRange>, b: Option<StatRange>) -> Option<StatRange> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(StatRange::Int(a0, a1)), Some(StatRange::Int(b0, b1))) => {
            Some(StatRange::Int(a0.min(b0), a1.max(b1)))
        }
        (Some(StatRange::UInt(a0, a1)), Some(StatRange::UInt(b0, b1))) => {
            Some(StatRange::UInt(a0.min(b0), a1.max(b1)))
        }
        (Some(StatRange::Float(a0, a1)), Some(StatRange::Float(b0, b1))) => {
            Some(StatRange::Float(a0.min(b0), a1.max(b1)))
        }
        // Batches of one column share a type, so their ranges share a domain.
        (Some(a), Some(_)) => Some(a),
    }
}
