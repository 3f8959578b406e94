//! `.safetensors`: one array per tensor, and `__metadata__` strings as file metadata. The
//! header's parser and writer are in [`header`].

use std::io::{BufReader, Seek, SeekFrom};
use std::path::Path;

use brine::{Reader, Writer};

use super::arrays::{self, ReadSource, put_array};
use super::npy::header::Header;
use super::{Role, open};
use crate::error::{Result, data, io};
use crate::export::{Args, Output};
use crate::import::Ctx;

pub mod header;

/// Whether `ext` (lowercase, without the dot) names a `.safetensors` file.
pub fn detect(ext: &str, _role: Role) -> bool {
    ext == "safetensors"
}

/// Imports every tensor of the `.safetensors` file `path`, each named as the tensor.
pub fn import(w: &mut Writer, ctx: &mut Ctx, path: &Path) -> Result<()> {
    let (file, len) = open(path)?;
    let mut r = BufReader::with_capacity(1 << 16, file);
    let contents = header::read_header(&mut r, len).map_err(|m| data(path, m))?;
    for (k, v) in &contents.metadata {
        w.set_metadata(k.clone(), v.clone());
    }
    let mut file = r.into_inner();
    for t in &contents.tensors {
        let entry = ctx.name(&t.name, path)?;
        file.seek(SeekFrom::Start(t.offset))
            .map_err(|e| io(path, "seek", e))?;
        let header = Header {
            dtype: t.dtype,
            big_endian: false,
            fortran_order: false,
            shape: t.shape.clone(),
            data_offset: t.offset,
        };
        let mut src = ReadSource::new(&mut file, path, None);
        put_array(w, ctx, path, &entry, &header, &mut src)?;
    }
    Ok(())
}

/// Exports array entry `args.entry` as a `.safetensors` file of one tensor named as the entry;
/// the file's string metadata becomes `__metadata__`.
pub fn export(args: &Args, out: Output, reader: Reader) -> Result<()> {
    let entry = reader.array_entry(&args.entry)?;
    let (dtype, shape, raw_len) = (entry.dtype(), entry.shape().to_vec(), entry.raw_len());
    let metadata: Vec<(String, String)> = reader
        .metadata()
        .iter()
        .filter_map(|(k, v)| match v {
            brine::MetaRef::Str(s) => Some((k.to_owned(), s.to_owned())),
            _ => None,
        })
        .collect();
    let header = header::encode_header(&args.entry, dtype, &shape, raw_len, &metadata);
    arrays::export(args, out, reader, &header)
}
