//! The rules of tier 1, driven: the container's own (manifest, entries, sections, chunks,
//! ownership) from `raw::validate`, then each kind's from its own module. This is the one
//! place below the front doors that knows every kind.

use std::path::Path;

use crate::error::Result;
use crate::raw::header::Header;
use crate::raw::manifest::{
    ArchivedManifest, ArchivedManifest11, KIND_ARRAY, KIND_FRAME, KIND_MODEL, NO_SECTION,
};
use crate::raw::validate::Validator;
use crate::store::Owner;

/// Checks every rule of the manifest that needs no data page (spec/FORMAT.md §14.1–14.6).
pub(crate) fn check_manifest(
    file: &Path,
    header: &Header,
    m: &ArchivedManifest,
    ext: Option<&ArchivedManifest11>,
) -> Result<()> {
    let v = Validator {
        file,
        header,
        m,
        ext,
    };
    v.check_container()?;
    v.check_arrays()?;
    v.check_frames()?;
    v.check_models()?;
    check_ownership(&v)
}

/// The entry that owns section `index`, and the part of it the section holds (tier 1 checked
/// there is exactly one owner). For messages: O(sections).
pub(crate) fn section_owner(m: &ArchivedManifest, index: usize) -> Owner {
    // Entry index of row `row` of each kind's table.
    let mut by_kind: [Vec<usize>; 3] = Default::default();
    for (i, e) in m.entries.iter().enumerate() {
        if let Some(rows) = by_kind.get_mut(usize::from(e.kind)) {
            rows.push(i);
        }
    }
    let mut owner = Owner::default();
    let _ = for_each_owned_section::<()>(m, |kind, row, section, buffer| {
        if section as usize == index {
            owner = Owner {
                entry: m.name(by_kind[usize::from(kind)][row]).to_owned(),
                part: buffer_part(m, buffer),
            };
        }
        Ok(())
    });
    owner
}

/// Rule S4: each section has exactly one owner: an array, a column's buffer slot or a model. One bit per section: bounded by the
/// manifest's size, which is bounded by `max_manifest_len`. Section indices were checked
/// to be in range by the kinds' checks.
fn check_ownership(v: &Validator<'_>) -> Result<()> {
    let m = v.m;
    let mut owned = vec![0u64; m.sections.len().div_ceil(64)];
    for_each_owned_section(m, |kind, row, s, buffer| {
        let (word, bit) = ((s / 64) as usize, s % 64);
        if owned[word] & (1 << bit) != 0 {
            return Err(v.field(
                format!(
                    "entry {:?}{}",
                    v.entry_name(kind, row),
                    buffer_part(m, buffer)
                ),
                buffer.map_or("section", |(_, slot)| slot),
                format!("section {s} already belongs to another entry or buffer"),
            ));
        }
        owned[word] |= 1 << bit;
        Ok(())
    })?;
    if let Some(orphan) = (0..m.sections.len()).find(|&s| owned[s / 64] & (1 << (s % 64)) == 0) {
        return Err(v.field(
            format!("section {orphan}"),
            "sections",
            "belongs to no entry".into(),
        ));
    }
    Ok(())
}

/// Calls `f(kind, row, section, buffer)` for every section an entry's row references: the
/// section of each array and model, and every buffer of every column (`buffer` is then the
/// column's index in the column table and the buffer's slot). Rows whose references are out of
/// range were refused by the kinds' checks.
fn for_each_owned_section<E>(
    m: &ArchivedManifest,
    mut f: impl FnMut(u8, usize, u32, Option<(usize, &'static str)>) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    for (row, a) in m.arrays.iter().enumerate() {
        f(KIND_ARRAY, row, a.section.to_native(), None)?;
    }
    for row in 0..m.frames.len() {
        let (first, columns) = m.frame_columns(row);
        for (i, c) in columns.iter().enumerate() {
            let slots = [
                ("validity", c.validity),
                ("values", c.values),
                ("offsets", c.offsets),
                ("dictionary_offsets", c.dictionary_offsets),
                ("dictionary_values", c.dictionary_values),
            ];
            for (slot, s) in slots {
                if s != NO_SECTION {
                    f(KIND_FRAME, row, s.to_native(), Some((first + i, slot)))?;
                }
            }
        }
    }
    for (row, model) in m.models.iter().enumerate() {
        f(KIND_MODEL, row, model.section.to_native(), None)?;
    }
    Ok(())
}

/// `, column "name" slot` for a column's buffer, empty otherwise: the part of an entry a
/// section holds, for messages.
fn buffer_part(m: &ArchivedManifest, buffer: Option<(usize, &'static str)>) -> String {
    match buffer {
        Some((column, slot)) => format!(", column {:?} {slot}", m.column_text(column).0),
        None => String::new(),
    }
}
