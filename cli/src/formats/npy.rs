//! `.npy`: one array. Imported in any byte order and in C or Fortran order (Fortran data is
//! mapped and gathered into C order); exported C order, little-endian, with the header numpy
//! writes. The header's parser and writer are in [`header`].

use std::io::BufReader;
use std::path::Path;

use brine::{Reader, Writer};

use super::arrays::{self, FortranSource, ReadSource, map_file, put_array};
use super::{Role, open, stem};
use crate::error::{Result, data, usage};
use crate::export::{Args, Output};
use crate::import::Ctx;

pub mod header;

/// Whether `ext` (lowercase, without the dot) names a `.npy` file.
pub fn detect(ext: &str, _role: Role) -> bool {
    ext == "npy"
}

/// Imports the array of the `.npy` file `path`, named after the file's stem.
pub fn import(w: &mut Writer, ctx: &mut Ctx, path: &Path) -> Result<()> {
    let (file, len) = open(path)?;
    let mut r = BufReader::new(file);
    let header = header::read_header(&mut r).map_err(|m| data(path, m))?;
    let need = header
        .data_len()
        .ok_or_else(|| data(path, "the shape's size overflows 64 bits"))?;
    let have = len - header.data_offset.min(len);
    if have != need {
        return Err(data(
            path,
            format_args!(
                "{}: the header announces {need} bytes of data ({} x {:?}), the file has {have}",
                if have < need {
                    "truncated"
                } else {
                    "trailing bytes"
                },
                header.dtype,
                header.shape
            ),
        ));
    }
    let name = ctx.name(&stem(path), path)?;
    if header.fortran_order && header.shape.len() > 1 {
        let file = r.into_inner();
        let map = map_file(&file, path)?;
        let bytes = &map[header.data_offset as usize..];
        let mut src = FortranSource::new(bytes, &header);
        put_array(w, ctx, path, &name, &header, &mut src)
    } else {
        let mut src = ReadSource::new(r, path, header.big_endian.then_some(header.dtype.size()));
        put_array(w, ctx, path, &name, &header, &mut src)
    }
}

/// Exports array entry `args.entry` as a `.npy` file; bf16, which numpy has no dtype for, is a
/// usage error.
pub fn export(args: &Args, out: Output, reader: Reader) -> Result<()> {
    let entry = reader.array_entry(&args.entry)?;
    let (dtype, shape) = (entry.dtype(), entry.shape().to_vec());
    let descr = header::descr(dtype).ok_or_else(|| {
        usage(
            &args.output,
            format_args!(
                "entry {:?} is {dtype}, which numpy has no dtype for; export it to .safetensors",
                args.entry
            ),
        )
    })?;
    arrays::export(args, out, reader, &header::encode_header(descr, &shape))
}
