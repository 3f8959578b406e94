//! The frame kind's tier-1 rules (spec/FORMAT.md §14.5, F1–F9): rows, columns, kinds, units,
//! zones, statistics and buffers, from the manifest alone. Tier 2 (the buffers' contents) is
//! checked per column at first access, in `frame::view`.

use crate::error::{Error, Limit, Result};
use crate::frame::types::is_zone_form;
use crate::raw::dtype::Dtype;
use crate::raw::manifest::{
    ArchivedColumnMeta, ArchivedManifest11, COLUMN_BINARY, COLUMN_BOOL, COLUMN_CATEGORICAL,
    COLUMN_DATE, COLUMN_DURATION, COLUMN_FLAG_ORDERED, COLUMN_PRIMITIVE, COLUMN_TIMESTAMP,
    COLUMN_UTF8, KIND_FRAME, NO_SECTION,
};
use crate::raw::validate::Validator;

impl Validator<'_> {
    /// Rules F1 to F8, for every frame and column.
    pub(crate) fn check_frames(&self) -> Result<()> {
        let m = self.m;
        let mut columns_start = 0usize;
        let mut text_start = 0usize;
        let mut names: Vec<&str> = Vec::new();
        let mut metadata_start = 0usize;
        if let Some(ext) = self.ext
            && ext.column_extras.len() != m.columns.len()
        {
            return Err(self.field(
                "column table".into(),
                "column_extras",
                format!(
                    "{} rows, but the column table has {}",
                    ext.column_extras.len(),
                    m.columns.len()
                ),
            ));
        }
        for (row, f) in m.frames.iter().enumerate() {
            let entry = || self.entry_name(KIND_FRAME, row);
            if f.reserved != [0; 4] {
                return Err(self.field(
                    format!("entry {:?}", entry()),
                    "reserved",
                    "must be zero".into(),
                ));
            }
            let columns_end = f.columns_end.to_native() as usize;
            if columns_end < columns_start || columns_end > m.columns.len() {
                return Err(self.field(
                    format!("entry {:?}", entry()),
                    "columns_end",
                    format!(
                        "{columns_end} is below the previous end {columns_start} or past the {} columns",
                        m.columns.len()
                    ),
                ));
            }
            let rows = f.rows.to_native();
            if usize::try_from(rows).is_err() {
                return Err(Error::LimitExceeded {
                    file: self.file.to_path_buf(),
                    what: format!("row count of entry {:?}", entry()),
                    value: rows,
                    limit: usize::MAX as u64,
                    setting: Limit::AddressSpace,
                });
            }
            names.clear();
            for i in columns_start..columns_end {
                let c = &m.columns[i];
                let (name_end, zone_end) = (
                    c.name_end.to_native() as usize,
                    c.zone_end.to_native() as usize,
                );
                let bad_name = name_end < text_start || !m.column_text.is_char_boundary(name_end);
                if bad_name || zone_end < name_end || !m.column_text.is_char_boundary(zone_end) {
                    let (field, value, start) = if bad_name {
                        ("name_end", name_end, text_start)
                    } else {
                        ("zone_end", zone_end, name_end)
                    };
                    return Err(self.field(
                        format!("entry {:?}, column {}", entry(), i - columns_start),
                        field,
                        format!(
                            "{value} is below the previous end {start}, past the {} bytes of column_text, or splits a UTF-8 character",
                            m.column_text.len()
                        ),
                    ));
                }
                let name = &m.column_text[text_start..name_end];
                let zone = &m.column_text[name_end..zone_end];
                text_start = zone_end;
                names.push(name);
                self.check_column(&entry(), name, zone, rows, c)?;
                if let Some(ext) = self.ext {
                    metadata_start =
                        self.check_column_extra(ext, i, metadata_start, &entry(), name, c)?;
                }
            }
            names.sort_unstable();
            if let Some(pair) = names.windows(2).find(|p| p[0] == p[1]) {
                return Err(Error::Duplicate {
                    file: self.file.to_path_buf(),
                    what: "column name",
                    name: format!("{} (frame {:?})", pair[0], entry()),
                });
            }
            columns_start = columns_end;
        }
        self.check_last_end("frame", "columns_end", columns_start, m.columns.len())?;
        self.check_last_end("column", "zone_end", text_start, m.column_text.len())?;
        let metadata_len = self.ext.map_or(0, |e| e.column_metadata.len());
        self.check_last_end("column", "metadata_end", metadata_start, metadata_len)
    }

    /// Rules F9 and F10 for column `i` (format 1.1): its metadata run and its flags. Returns
    /// the end of its metadata run.
    fn check_column_extra(
        &self,
        ext: &ArchivedManifest11,
        i: usize,
        metadata_start: usize,
        entry: &str,
        name: &str,
        c: &ArchivedColumnMeta,
    ) -> Result<usize> {
        let location = || format!("entry {entry:?}, column {name:?}");
        let extra = &ext.column_extras[i];
        let end = extra.metadata_end.to_native() as usize;
        let Some(metadata) = ext.column_metadata.get(metadata_start..end) else {
            return Err(self.field(
                location(),
                "metadata_end",
                format!(
                    "{end} is below the previous end {metadata_start} or past the {} items",
                    ext.column_metadata.len()
                ),
            ));
        };
        self.check_sorted_keys(location, metadata)?;
        let flags = extra.flags.to_native();
        if flags & !COLUMN_FLAG_ORDERED != 0 {
            return Err(self.unsupported(
                format!("flags of {}", location()),
                u64::from(flags & !COLUMN_FLAG_ORDERED),
            ));
        }
        if flags & COLUMN_FLAG_ORDERED != 0 && c.kind != COLUMN_CATEGORICAL {
            return Err(self.field(
                location(),
                "flags",
                "only categorical columns can be ordered".into(),
            ));
        }
        Ok(end)
    }

    /// Rules F3 to F7 for one column.
    fn check_column(
        &self,
        entry: &str,
        name: &str,
        zone: &str,
        rows: u64,
        c: &ArchivedColumnMeta,
    ) -> Result<()> {
        let location = || format!("entry {entry:?}, column {name:?}");
        let field = |field, reason| self.field(location(), field, reason);
        let dtype = Dtype::from_code(c.dtype).ok_or_else(|| {
            self.unsupported(format!("dtype of {}", location()), u64::from(c.dtype))
        })?;
        let expected_dtype = match c.kind {
            COLUMN_BOOL => Some(Dtype::Bool),
            COLUMN_PRIMITIVE => {
                if matches!(dtype, Dtype::Bool | Dtype::BF16) {
                    return Err(field(
                        "dtype",
                        format!("{dtype} is not a dtype of primitive columns"),
                    ));
                }
                None
            }
            COLUMN_UTF8 | COLUMN_BINARY => Some(Dtype::U8),
            COLUMN_TIMESTAMP | COLUMN_DURATION => Some(Dtype::I64),
            COLUMN_DATE | COLUMN_CATEGORICAL => Some(Dtype::I32),
            other => {
                return Err(self.unsupported(format!("kind of {}", location()), u64::from(other)));
            }
        };
        if let Some(expected) = expected_dtype.filter(|&d| d != dtype) {
            return Err(field(
                "dtype",
                format!("is {dtype}, but this kind of column holds {expected}"),
            ));
        }
        let temporal = matches!(c.kind, COLUMN_TIMESTAMP | COLUMN_DURATION);
        if temporal && c.unit > 3 {
            return Err(self.unsupported(format!("time unit of {}", location()), u64::from(c.unit)));
        }
        if !temporal && c.unit != 0 {
            return Err(field(
                "unit",
                "must be 0 for columns without a time unit".into(),
            ));
        }
        if !zone.is_empty() {
            if c.kind != COLUMN_TIMESTAMP {
                return Err(field("zone_end", "only timestamps have a time zone".into()));
            }
            if !is_zone_form(zone) {
                return Err(field(
                    "zone_end",
                    format!(
                        "time zone {zone:?} is neither an offset ±HH:MM nor of the form of an \
                         IANA time zone name"
                    ),
                ));
            }
        }
        if c.reserved != 0 || c.reserved2 != [0; 4] {
            return Err(field("reserved", "must be zero".into()));
        }
        let null_count = c.null_count.to_native();
        if null_count > rows {
            return Err(field(
                "null_count",
                format!("{null_count} nulls in {rows} rows"),
            ));
        }
        let stats_allowed = !matches!(c.kind, COLUMN_UTF8 | COLUMN_BINARY | COLUMN_CATEGORICAL);
        if c.stats > 1 || (c.stats == 1 && !stats_allowed) {
            return Err(field(
                "stats",
                "must be 0, or 1 for bool, numeric and temporal columns".into(),
            ));
        }
        let overflow = || field("rows", format!("{rows} rows overflow the buffer sizes"));
        let bits = rows.div_ceil(8);
        let offsets_len = rows
            .checked_add(1)
            .and_then(|n| n.checked_mul(8))
            .ok_or_else(overflow)?;
        let values_len = match c.kind {
            COLUMN_BOOL => Some(bits),
            COLUMN_UTF8 | COLUMN_BINARY => None,
            _ => Some(rows.checked_mul(dtype.size() as u64).ok_or_else(overflow)?),
        };
        let has_offsets = matches!(c.kind, COLUMN_UTF8 | COLUMN_BINARY);
        let has_dictionary = c.kind == COLUMN_CATEGORICAL;
        let value_size = match c.kind {
            COLUMN_BOOL | COLUMN_UTF8 | COLUMN_BINARY => 1,
            _ => dtype.size(),
        };
        if c.validity == NO_SECTION && null_count != 0 {
            return Err(field(
                "validity",
                format!("{null_count} nulls but no validity bitmap"),
            ));
        }
        let slots = [
            (
                "validity",
                c.validity.to_native(),
                Some(true),
                Some(bits),
                1,
            ),
            (
                "values",
                c.values.to_native(),
                Some(true),
                values_len,
                value_size,
            ),
            (
                "offsets",
                c.offsets.to_native(),
                Some(has_offsets),
                Some(offsets_len),
                8,
            ),
            (
                "dictionary_offsets",
                c.dictionary_offsets.to_native(),
                Some(has_dictionary),
                None,
                8,
            ),
            (
                "dictionary_values",
                c.dictionary_values.to_native(),
                Some(has_dictionary),
                None,
                1,
            ),
        ];
        for (slot, index, allowed, raw_len, size) in slots {
            // The validity slot is optional; the others are required exactly when allowed.
            let required = slot != "validity" && allowed == Some(true);
            if index == NO_SECTION {
                if required {
                    return Err(field(slot, "this kind of column needs this buffer".into()));
                }
                continue;
            }
            if allowed == Some(false) {
                return Err(field(slot, "this kind of column has no such buffer".into()));
            }
            self.check_buffer(&location, slot, index, raw_len, size)?;
        }
        if has_dictionary {
            let s = &self.m.sections[c.dictionary_offsets.to_native() as usize];
            let len = s.raw_length.to_native();
            if len < 8 || len % 8 != 0 || len / 8 - 1 > i32::MAX as u64 + 1 {
                return Err(field(
                    "dictionary_offsets",
                    format!(
                        "{len} bytes is not 8 x (dictionary size + 1) for a dictionary of at most 2^31 strings"
                    ),
                ));
            }
        }
        Ok(())
    }
}
