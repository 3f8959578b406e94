//! The array kind's tier-1 rules (spec/FORMAT.md §14.4, A1–A5): shape, dtype, and the
//! section's length, codec and chunking, from the manifest alone.

use crate::error::{Error, Limit, Result};
use crate::raw::dtype::Dtype;
use crate::raw::limits::MAX_NDIM;
use crate::raw::manifest::{ArchivedArrayMeta, CODEC_ZSTD, KIND_ARRAY};
use crate::raw::validate::Validator;

impl Validator<'_> {
    /// Rules A1 to A5, for every row of the array table.
    pub(crate) fn check_arrays(&self) -> Result<()> {
        let m = self.m;
        let mut dims_start = 0;
        for (row, a) in m.arrays.iter().enumerate() {
            let dims_end = a.dims_end.to_native() as usize;
            let Some(dims) = m.dims.get(dims_start..dims_end) else {
                return Err(self.field(
                    format!("entry {:?}", self.array_name(row)),
                    "dims_end",
                    format!(
                        "{dims_end} is below the previous end {dims_start} or past the {} dimensions",
                        m.dims.len()
                    ),
                ));
            };
            self.check_array(row, a, dims)?;
            dims_start = dims_end;
        }
        self.check_last_end("array", "dims_end", dims_start, m.dims.len())
    }

    /// The name of the entry of array row `row` (for messages: a linear search).
    fn array_name(&self, row: usize) -> String {
        self.entry_name(KIND_ARRAY, row)
    }

    fn check_array(
        &self,
        row: usize,
        a: &ArchivedArrayMeta,
        dims: &[rkyv::rend::u64_le],
    ) -> Result<()> {
        let m = self.m;
        let field =
            |field, reason| self.field(format!("entry {:?}", self.array_name(row)), field, reason);
        let dtype = Dtype::from_code(a.dtype).ok_or_else(|| {
            self.unsupported(
                format!("dtype of entry {:?}", self.array_name(row)),
                u64::from(a.dtype),
            )
        })?;
        if a.reserved != [0; 3] {
            return Err(field("reserved", "must be zero".into()));
        }
        if dims.len() > MAX_NDIM {
            return Err(field(
                "dims_end",
                format!("{} dimensions, more than {MAX_NDIM}", dims.len()),
            ));
        }
        let bytes = dims
            .iter()
            .try_fold(dtype.size() as u64, |acc, d| acc.checked_mul(d.to_native()))
            .ok_or_else(|| {
                field(
                    "dims",
                    "element count times element size overflows u64".into(),
                )
            })?;
        // A reader limit that A3 allows: ndarray and numpy cannot describe a shape whose
        // nonzero dimensions multiply past `isize::MAX` bytes, even when a zero dimension makes
        // it empty (`[0, 2^63]`), so brine refuses it here and every array it opens has a view.
        // It also bounds `bytes`, which is at most this product, to what a slice can hold.
        let addressable = isize::MAX.unsigned_abs() as u64;
        let footprint = dims
            .iter()
            .map(|d| d.to_native())
            .filter(|&d| d != 0)
            .try_fold(dtype.size() as u64, u64::checked_mul);
        if footprint.is_none_or(|f| f > addressable) {
            return Err(Error::LimitExceeded {
                file: self.file.to_path_buf(),
                what: format!(
                    "size of entry {:?} (its nonzero dimensions times the element size)",
                    self.array_name(row)
                ),
                value: footprint.unwrap_or(u64::MAX),
                limit: addressable,
                setting: Limit::AddressSpace,
            });
        }
        let index = a.section.to_native();
        let section = m.sections.get(index as usize).ok_or_else(|| {
            field(
                "section",
                format!(
                    "{index} is not below the section count {}",
                    m.sections.len()
                ),
            )
        })?;
        if section.raw_length != bytes {
            return Err(field(
                "section",
                format!(
                    "section {index} decodes to {} bytes, but {dtype} x shape needs {bytes}",
                    section.raw_length
                ),
            ));
        }
        let shuffle = u64::from(section.shuffle);
        if shuffle != 0 && (shuffle != dtype.size() as u64 || shuffle < 2) {
            return Err(field(
                "section",
                format!(
                    "section {index} shuffles by {shuffle} bytes, but {dtype} elements are {} bytes",
                    dtype.size()
                ),
            ));
        }
        if section.codec == CODEC_ZSTD
            && u64::from(section.chunk_length.to_native()) % dtype.size() as u64 != 0
        {
            return Err(field(
                "section",
                format!(
                    "section {index} chunk_length {} is not a multiple of the {dtype} element size",
                    section.chunk_length
                ),
            ));
        }
        Ok(())
    }
}
