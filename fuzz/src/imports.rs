//! Target `import`: the CLI's `.npy`, `.npz` and `.safetensors` readers
//! (`cli/src/formats/{npy,safetensors}/header.rs`, included into this crate) on arbitrary
//! bytes, followed by the checks and data handling of the CLI's imports
//! (`cli/src/formats/{npy,npz,safetensors,arrays}.rs`): the data length
//! against the header, the member reading of `.npz` through the `zip` crate, byte swapping,
//! the Fortran-order gather, and the array written with brine's `ArrayWriter`, read back and
//! compared.
//!
//! Input: byte 0 picks the format (`% 3`: npy, npz, safetensors); the rest is the file.
//!
//! Those modules are not compiled here (they need the CLI's context and files on disk): the
//! logic below mirrors them step by step, and says where.

use std::io::{Cursor, Read};
use std::path::Path;

use brine::{Dtype, Element, Reader, Writer};

use crate::{npy, safetensors};

/// Arrays whose data passes this are checked but not copied (the input is small anyway: the
/// only large arrays are empty ones with huge dimensions, or `.npz` members that inflate).
const MAX_DATA: u64 = 4 << 20;

/// What one input did, for the regression tests.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// No input.
    Empty,
    /// The header (or the zip archive) was refused.
    Refused,
    /// This many arrays were accepted, written and read back.
    Arrays(usize),
}

/// An array as an import writes it: dtype, shape and little-endian C-order bytes.
struct Array {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

/// Runs the target on one input, writing its files in `dir` (a tmpfs folder when fuzzing).
pub fn run(data: &[u8], dir: &Path) -> Outcome {
    let Some((&which, file)) = data.split_first() else {
        return Outcome::Empty;
    };
    let arrays = match which % 3 {
        0 => npy_arrays(file),
        1 => npz_arrays(file),
        _ => safetensors_arrays(file),
    };
    match arrays {
        None => Outcome::Refused,
        Some(arrays) => Outcome::Arrays(write_and_read_back(&arrays, dir)),
    }
}

/// `import_npy`: the header, the data length check, then the data in C order.
fn npy_arrays(file: &[u8]) -> Option<Vec<Array>> {
    let mut r = file;
    let header = npy::read_header(&mut r).ok()?;
    let len = file.len() as u64;
    // The reader is left at the first byte of data.
    assert_eq!(len - r.len() as u64, header.data_offset);
    let need = header.data_len()?;
    let have = len - header.data_offset.min(len);
    if have != need {
        return None;
    }
    let bytes = c_order(&file[header.data_offset as usize..], &header)?;
    Some(vec![Array {
        name: "npy".into(),
        dtype: header.dtype,
        shape: header.shape,
        bytes,
    }])
}

/// `import_npz`: every member through the zip crate, as `import_npz` reads them.
fn npz_arrays(file: &[u8]) -> Option<Vec<Array>> {
    let mut zip = zip::ZipArchive::new(Cursor::new(file)).ok()?;
    let mut arrays = Vec::new();
    for i in 0..zip.len() {
        let mut member = zip.by_index(i).ok()?;
        let member_name = member.name().to_owned();
        if member.is_dir() {
            continue;
        }
        let entry = member_name.strip_suffix(".npy")?.to_owned();
        let member_len = member.size();
        let header = npy::read_header(&mut member).ok()?;
        let need = header.data_len()?;
        let have = member_len.saturating_sub(header.data_offset);
        if have != need || need > MAX_DATA {
            return None;
        }
        // The member's data, bounded by what its header announces (formats/npz.rs reads
        // exactly `need` bytes, in pieces); a member shorter than it claims is an error there.
        let mut data = Vec::new();
        member.by_ref().take(need).read_to_end(&mut data).ok()?;
        if data.len() as u64 != need {
            return None;
        }
        let bytes = c_order(&data, &header)?;
        arrays.push(Array {
            name: entry,
            dtype: header.dtype,
            shape: header.shape,
            bytes,
        });
    }
    Some(arrays)
}

/// `import_safetensors`: the checked header, then each tensor's bytes at its offset.
fn safetensors_arrays(file: &[u8]) -> Option<Vec<Array>> {
    let len = file.len() as u64;
    let contents = safetensors::read_header(&mut &file[..], len).ok()?;
    let mut arrays = Vec::new();
    let mut last_end = 0u64;
    for t in &contents.tensors {
        // What read_header promises: in the file, as long as dtype x shape, sorted, and
        // non-overlapping (zero-length tensors aside).
        let end = t.offset.checked_add(t.len).expect("offset + len fits");
        assert!(end <= len, "tensor {:?} ends past the file", t.name);
        let need = t
            .shape
            .iter()
            .try_fold(t.dtype.size() as u64, |a, &d| a.checked_mul(d as u64));
        assert_eq!(need, Some(t.len));
        if t.len > 0 {
            assert!(t.offset >= last_end, "tensor {:?} overlaps", t.name);
            last_end = end;
        }
        arrays.push(Array {
            name: t.name.clone(),
            dtype: t.dtype,
            shape: t.shape.clone(),
            bytes: file[t.offset as usize..end as usize].to_vec(),
        });
    }
    Some(arrays)
}

/// The data in C order and little-endian, as `ReadSource` (C order, swapped per element) or
/// `FortranSource` (gathered element by element) produce it in the CLI's formats/arrays.rs.
fn c_order(data: &[u8], header: &npy::Header) -> Option<Vec<u8>> {
    let size = header.dtype.size();
    if data.len() as u64 > MAX_DATA {
        return None;
    }
    if header.fortran_order && header.shape.len() > 1 {
        // FortranSource::new and FortranSource::fill, as in formats/arrays.rs.
        let mut strides = Vec::with_capacity(header.shape.len());
        let mut stride = size;
        for &d in &header.shape {
            strides.push(stride);
            stride *= d;
        }
        let total = data.len() / size;
        let last = header.shape.len() - 1;
        let mut index = vec![0usize; header.shape.len()];
        let mut offset = 0usize;
        let mut out = vec![0u8; data.len()];
        for element in out.chunks_exact_mut(size).take(total) {
            element.copy_from_slice(&data[offset..offset + size]);
            if header.big_endian {
                element.reverse();
            }
            let mut axis = last;
            loop {
                index[axis] += 1;
                offset += strides[axis];
                if index[axis] < header.shape[axis] || axis == 0 {
                    break;
                }
                offset -= strides[axis] * header.shape[axis];
                index[axis] = 0;
                axis -= 1;
            }
        }
        Some(out)
    } else {
        let mut out = data.to_vec();
        if header.big_endian {
            for element in out.chunks_exact_mut(size) {
                element.reverse();
            }
        }
        Some(out)
    }
}

/// Writes every array as `put_typed` does, finishes the file, and reads each back: same
/// shape, same bytes. Returns the number of arrays read back (0 when the writer refused one,
/// e.g. a bool byte that is not 0 or 1, too many dimensions, or a duplicate name).
fn write_and_read_back(arrays: &[Array], dir: &Path) -> usize {
    let out = dir.join("out.brine");
    let mut w = Writer::create(&out).expect("create a writer in the fuzz folder");
    for a in arrays {
        let written = match a.dtype {
            Dtype::Bool => put::<bool>(&mut w, a),
            Dtype::U8 => put::<u8>(&mut w, a),
            Dtype::I8 => put::<i8>(&mut w, a),
            Dtype::U16 => put::<u16>(&mut w, a),
            Dtype::I16 => put::<i16>(&mut w, a),
            Dtype::U32 => put::<u32>(&mut w, a),
            Dtype::I32 => put::<i32>(&mut w, a),
            Dtype::U64 => put::<u64>(&mut w, a),
            Dtype::I64 => put::<i64>(&mut w, a),
            Dtype::F16 => put::<half::f16>(&mut w, a),
            Dtype::BF16 => put::<half::bf16>(&mut w, a),
            Dtype::F32 => put::<f32>(&mut w, a),
            _ => put::<f64>(&mut w, a),
        };
        if !written {
            return 0;
        }
    }
    w.finish().expect("a file of accepted arrays finishes");
    let reader = Reader::options()
        .verify(true)
        .open(&out)
        .expect("a file brine wrote opens with verify");
    for a in arrays {
        let e = reader.array_entry(&a.name).expect("the array is there");
        assert_eq!(e.dtype(), a.dtype);
        let shape: Vec<usize> = e.shape().iter().map(|&d| d as usize).collect();
        assert_eq!(shape, a.shape);
        assert_eq!(e.raw_len(), a.bytes.len() as u64);
    }
    assert_eq!(crate::open_walk::walk(&reader), arrays.len());
    arrays.len()
}

/// `put_typed`: an `ArrayWriter` fed in pieces from u64-aligned buffers. `false` when brine
/// refuses the array (an error, as the CLI reports it).
fn put<T: Element>(w: &mut Writer, a: &Array) -> bool {
    let Ok(mut aw) = w.array_writer::<T>(&a.name, &a.shape, &brine::EntryOptions::new()) else {
        return false;
    };
    let mut words = vec![0u64; a.bytes.len().div_ceil(8)];
    let buf: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
    buf[..a.bytes.len()].copy_from_slice(&a.bytes);
    // Two pieces, as a large input is written in pieces of PIECE bytes.
    let half = a.bytes.len() / T::DTYPE.size() / 2 * T::DTYPE.size();
    for piece in [&buf[..half], &buf[half..a.bytes.len()]] {
        let Ok(items) = T::cast_slice(piece) else {
            return false;
        };
        if aw.write(items).is_err() {
            return false;
        }
    }
    aw.finish().is_ok()
}
