//! What the array formats (`.npy`, `.npz`, `.safetensors`) share. On import: the byte
//! sources their data streams from (read in order, byte-swapped if need be, or gathered from
//! Fortran order out of a mapping) and the loop that writes an array entry from one, in
//! pieces of [`PIECE`] bytes. On export: a format's header, then the entry's data, in pieces.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use brine::{Element, Reader, Writer};

use super::npy::header::Header;
use crate::elements::with_element;
use crate::error::{Result, data, io};
use crate::export::{Args, Output};
use crate::import::Ctx;
use crate::pieces::{PIECE, for_each_piece};
use crate::progress::Progress;

/// Maps a file read-only.
pub fn map_file(file: &File, path: &Path) -> Result<memmap2::Mmap> {
    // SAFETY: the map is only read, and only while this command runs. A file truncated by
    // another process while it is mapped would kill this process with SIGBUS: the same
    // contract brine's own reader states (`brine` documents that files must be replaced by
    // rename, never rewritten in place); the temporary spool files are ours alone.
    unsafe { memmap2::Mmap::map(file) }.map_err(|e| io(path, "map", e))
}

/// Fills buffers with the next little-endian, C-order bytes of an array.
pub trait ByteSource {
    fn fill(&mut self, buf: &mut [u8]) -> Result<()>;
}

/// Data read in order from a stream, byte-swapped per element if `swap` gives a size.
pub struct ReadSource<'p, R> {
    r: R,
    path: &'p Path,
    swap: Option<usize>,
}

impl<'p, R: Read> ReadSource<'p, R> {
    pub fn new(r: R, path: &'p Path, swap: Option<usize>) -> Self {
        ReadSource { r, path, swap }
    }
}

impl<R: Read> ByteSource for ReadSource<'_, R> {
    fn fill(&mut self, buf: &mut [u8]) -> Result<()> {
        self.r.read_exact(buf).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => data(
                self.path,
                "truncated: the data ends before the shape is filled",
            ),
            _ => io(self.path, "read", e),
        })?;
        if let Some(size) = self.swap {
            for element in buf.chunks_exact_mut(size) {
                element.reverse();
            }
        }
        Ok(())
    }
}

/// Fortran-order data, gathered into C order: the output walks indices in C order (the last
/// axis fastest) and reads each element at its column-major offset.
pub struct FortranSource<'a> {
    bytes: &'a [u8],
    size: usize,
    swap: bool,
    shape: Vec<usize>,
    /// Column-major stride of each axis, in bytes.
    strides: Vec<usize>,
    /// The next output element's index, and its input offset.
    index: Vec<usize>,
    offset: usize,
}

impl<'a> FortranSource<'a> {
    pub fn new(bytes: &'a [u8], header: &Header) -> Self {
        let size = header.dtype.size();
        let mut strides = Vec::with_capacity(header.shape.len());
        let mut stride = size;
        for &d in &header.shape {
            strides.push(stride);
            stride *= d;
        }
        FortranSource {
            bytes,
            size,
            swap: header.big_endian,
            shape: header.shape.clone(),
            strides,
            index: vec![0; header.shape.len()],
            offset: 0,
        }
    }
}

impl ByteSource for FortranSource<'_> {
    fn fill(&mut self, buf: &mut [u8]) -> Result<()> {
        let size = self.size;
        let last = self.shape.len() - 1;
        for out in buf.chunks_exact_mut(size) {
            // In bounds: the caller checked the data is exactly as long as the shape needs,
            // and fills no more elements than the shape holds.
            out.copy_from_slice(&self.bytes[self.offset..self.offset + size]);
            if self.swap {
                out.reverse();
            }
            // Advance the C-order index (odometer), keeping the offset in step.
            let mut axis = last;
            loop {
                self.index[axis] += 1;
                self.offset += self.strides[axis];
                if self.index[axis] < self.shape[axis] || axis == 0 {
                    break;
                }
                self.offset -= self.strides[axis] * self.shape[axis];
                self.index[axis] = 0;
                axis -= 1;
            }
        }
        Ok(())
    }
}

/// Writes an array entry from `src`, in pieces.
pub fn put_array(
    w: &mut Writer,
    ctx: &mut Ctx,
    input: &Path,
    name: &str,
    header: &Header,
    src: &mut dyn ByteSource,
) -> Result<()> {
    with_element!(header.dtype, T => put_typed::<T>(w, ctx, input, name, &header.shape, src))?;
    ctx.written.push(format!(
        "{name}: {} {:?} from {}",
        header.dtype,
        header.shape,
        input.display()
    ));
    Ok(())
}

fn put_typed<T: Element>(
    w: &mut Writer,
    ctx: &mut Ctx,
    input: &Path,
    name: &str,
    shape: &[usize],
    src: &mut dyn ByteSource,
) -> Result<()> {
    let size = T::DTYPE.size();
    let total = shape
        .iter()
        .try_fold(size as u64, |acc, &d| acc.checked_mul(d as u64))
        .ok_or_else(|| data(input, "the shape's size overflows 64 bits"))?;
    let mut aw = w.array_writer::<T>(name, shape, &ctx.options)?;
    // u64 words: aligned for every element type, so the bytes can be viewed as `T`s.
    let mut words = vec![0u64; (total as usize).min(PIECE).div_ceil(8)];
    let buf: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
    let mut left = total;
    while left > 0 {
        let n = (left as usize).min(PIECE);
        src.fill(&mut buf[..n])?;
        let items = T::cast_slice(&buf[..n]).map_err(|_| {
            data(
                input,
                format_args!("array {name:?}: a {} element is not valid (a bool byte that is neither 0 nor 1)", T::DTYPE),
            )
        })?;
        aw.write(items)?;
        ctx.progress.inc(n as u64);
        left -= n as u64;
    }
    aw.finish()?;
    Ok(())
}
/// Writes `header` (the bytes a format puts before the data), then the data of array entry
/// `args.entry`, checked as it is copied (unless `--no-verify`), and commits the output.
pub fn export(args: &Args, mut out: Output, mut reader: Reader, header: &[u8]) -> Result<()> {
    let entry = reader.array_entry(&args.entry)?;
    let (dtype, shape, raw_len) = (entry.dtype(), entry.shape().to_vec(), entry.raw_len());
    out.write_all(header).map_err(|e| out.error(e))?;
    let mut progress = Progress::new("export", raw_len);
    let verify = !args.no_verify;
    for_each_piece(&args.file, &mut reader, &args.entry, verify, |piece| {
        progress.inc(piece.len() as u64);
        out.write_all(piece).map_err(|e| out.error(e))
    })?;
    out.commit()?;
    drop(progress);
    crate::print(&format!(
        "wrote {} ({dtype} {shape:?}, {raw_len} bytes of data)\n",
        args.output.display()
    ))
}
