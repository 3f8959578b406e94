//! Writing arrays: whole, from `ndarray`, or in pieces.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use crate::array::Element;
use crate::error::{Error, Result};
use crate::raw::limits::MAX_NDIM;
use crate::raw::manifest::MetaValue;
use crate::writer::{EntryOptions, SectionWriter, Writer};

impl Writer {
    /// Writes an array stored raw. `shape` is C order; its product must equal `data.len()`.
    ///
    /// # Errors
    /// [`Error::Duplicate`] for a name already written, [`Error::InvalidInput`] for a shape
    /// that does not match, [`Error::Io`].
    pub fn put_array<T: Element>(&mut self, name: &str, data: &[T], shape: &[usize]) -> Result<()> {
        self.put_array_with(name, data, shape, &EntryOptions::default())
    }

    /// Writes an array with options (codec, metadata).
    ///
    /// # Errors
    /// As [`Writer::put_array`].
    pub fn put_array_with<T: Element>(
        &mut self,
        name: &str,
        data: &[T],
        shape: &[usize],
        options: &EntryOptions,
    ) -> Result<()> {
        let mut w = self.array_writer::<T>(name, shape, options)?;
        w.write(data)?;
        w.finish()
    }

    /// Writes an `ndarray` array in C order (feature `ndarray`). Arrays in standard layout are
    /// written straight from their memory; others (Fortran order, strided views) element by
    /// element through a buffer of bounded size.
    ///
    /// # Errors
    /// As [`Writer::put_array_with`].
    #[cfg(feature = "ndarray")]
    pub fn put_ndarray<T, S, D>(
        &mut self,
        name: &str,
        array: &ndarray::ArrayBase<S, D>,
        options: &EntryOptions,
    ) -> Result<()>
    where
        T: Element,
        S: ndarray::Data<Elem = T>,
        D: ndarray::Dimension,
    {
        let mut w = self.array_writer::<T>(name, array.shape(), options)?;
        crate::array::ndarray_interop::c_order_pieces(array, |piece| w.write(piece))?;
        w.finish()
    }

    /// Starts an array whose elements are written in pieces, for data that does not fit in
    /// memory. Elements go in C order; [`ArrayWriter::finish`] checks that exactly the shape's
    /// number of elements was written.
    ///
    /// # Errors
    /// As [`Writer::put_array`].
    pub fn array_writer<T: Element>(
        &mut self,
        name: &str,
        shape: &[usize],
        options: &EntryOptions,
    ) -> Result<ArrayWriter<'_, T>> {
        self.check_name(name)?;
        if shape.len() > MAX_NDIM {
            return Err(self.invalid(name, format!("more than {MAX_NDIM} dimensions")));
        }
        let size = T::DTYPE.size() as u64;
        let raw_len = shape
            .iter()
            .try_fold(size, |acc, &d| acc.checked_mul(d as u64))
            .filter(|&b| usize::try_from(b).is_ok())
            .ok_or_else(|| self.invalid(name, "shape overflows the address space"))?;
        let section = self.begin_section(raw_len, T::DTYPE.size(), &options.encoding)?;
        self.poisoned = true;
        Ok(ArrayWriter {
            writer: self,
            name: name.to_owned(),
            shape: shape.iter().map(|&d| d as u64).collect(),
            metadata: options.metadata.clone(),
            section,
            _t: PhantomData,
        })
    }
}

/// An array being written in pieces; see [`Writer::array_writer`]. Dropping it without
/// [`ArrayWriter::finish`] makes the whole file unfinishable (the target stays untouched).
#[derive(Debug)]
pub struct ArrayWriter<'w, T> {
    writer: &'w mut Writer,
    name: String,
    shape: Vec<u64>,
    metadata: BTreeMap<String, MetaValue>,
    section: SectionWriter,
    _t: PhantomData<T>,
}

impl<T: Element> ArrayWriter<'_, T> {
    /// Appends elements (C order).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if more elements are written than the shape holds;
    /// [`Error::Io`].
    pub fn write(&mut self, data: &[T]) -> Result<()> {
        self.writer
            .write_section(&mut self.section, T::as_bytes(data))
            .map_err(|e| match e {
                Error::InvalidInput { file, reason, .. } => Error::InvalidInput {
                    file,
                    entry: self.name.clone(),
                    reason,
                },
                e => e,
            })
    }

    /// Completes the array.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if fewer elements were written than the shape holds;
    /// [`Error::Io`].
    pub fn finish(self) -> Result<()> {
        let section = self.writer.end_section(self.section, &self.name)?;
        let ArrayWriter {
            writer,
            name,
            shape,
            metadata,
            ..
        } = self;
        writer.add_entry(|m| m.add_array(name, T::DTYPE.code(), shape, section, metadata));
        Ok(())
    }
}
