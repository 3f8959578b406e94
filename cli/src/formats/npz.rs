//! `.npz` (`np.savez`, `np.savez_compressed`): a zip of `.npy` members, one array each, read
//! member by member. Import only.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use brine::Writer;

use super::arrays::{FortranSource, ReadSource, map_file, put_array};
use super::npy::header;
use super::{Role, open};
use crate::error::{Result, data, io};
use crate::import::Ctx;

/// Whether `ext` (lowercase, without the dot) names an `.npz` file; brine writes none.
pub fn detect(ext: &str, role: Role) -> bool {
    ext == "npz" && role == Role::Input
}

/// Imports every member of the `.npz` file `path`, each named as the member without `.npy`.
pub fn import(w: &mut Writer, ctx: &mut Ctx, path: &Path) -> Result<()> {
    let (file, _) = open(path)?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| data(path, format_args!("not a readable .npz (zip) file: {e}")))?;
    for i in 0..zip.len() {
        let mut member = zip
            .by_index(i)
            .map_err(|e| data(path, format_args!("member {i}: {e}")))?;
        let member_name = member.name().to_owned();
        let at =
            |m: &dyn std::fmt::Display| data(path, format_args!("member {member_name:?}: {m}"));
        if member.is_dir() {
            continue;
        }
        let Some(entry) = member_name.strip_suffix(".npy") else {
            return Err(at(&"not an array (.npz members are .npy files)"));
        };
        let entry = ctx.name(entry, path)?;
        let member_len = member.size();
        let header = header::read_header(&mut member).map_err(|m| at(&m))?;
        let need = header
            .data_len()
            .ok_or_else(|| at(&"the shape's size overflows 64 bits"))?;
        let have = member_len.saturating_sub(header.data_offset);
        if have != need {
            return Err(at(&format_args!(
                "{}: the header announces {need} bytes of data, the member has {have}",
                if have < need {
                    "truncated"
                } else {
                    "trailing bytes"
                },
            )));
        }
        let shown = PathBuf::from(format!("{}[{member_name}]", path.display()));
        if header.fortran_order && header.shape.len() > 1 {
            // Random access is needed to transpose: spool the member to a temporary file.
            let mut spool =
                tempfile::tempfile().map_err(|e| io(path, "create temporary file", e))?;
            std::io::copy(&mut member, &mut spool).map_err(|e| at(&format_args!("read: {e}")))?;
            let map = map_file(&spool, path)?;
            let mut src = FortranSource::new(&map, &header);
            put_array(w, ctx, &shown, &entry, &header, &mut src)?;
        } else {
            let swap = header.big_endian.then_some(header.dtype.size());
            let mut src = ReadSource::new(&mut member, &shown, swap);
            put_array(w, ctx, &shown, &entry, &header, &mut src)?;
        }
    }
    Ok(())
}
