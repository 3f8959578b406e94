//! The manifest being written: one method per kind records an entry's rows; `build` lays
//! every table out in the order spec/FORMAT.md §5 gives (entries sorted by name, each kind's
//! rows in entry order, text runs concatenated).

use std::collections::BTreeMap;

use crate::raw::manifest::{
    ArchivedArrayMeta, ArchivedChunk, ArchivedColumnExtra, ArchivedColumnMeta, ArchivedEntry,
    ArchivedFrameMeta, ArchivedMetaItem, ArchivedModelMeta, ArchivedSection, ArrayMeta, Chunk,
    ColumnExtra, ColumnMeta, Entry, FrameMeta, KIND_ARRAY, KIND_FRAME, KIND_MODEL, Manifest,
    Manifest11, MetaItem, MetaValue, ModelMeta, Section,
};

/// The rows of a file's manifest, collected while its sections are written.
#[derive(Debug, Default)]
pub(crate) struct ManifestBuilder {
    entries: BTreeMap<String, PendingEntry>,
    /// Sections in file order, each with its chunk index.
    sections: Vec<(Section, Vec<Chunk>)>,
    metadata: BTreeMap<String, MetaValue>,
}

impl ManifestBuilder {
    /// Whether an entry is named `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    /// Sets a file-level metadata value.
    pub fn set_metadata(&mut self, key: String, value: MetaValue) {
        self.metadata.insert(key, value);
    }

    /// The index the next section will have.
    pub fn section_count(&self) -> usize {
        self.sections.len()
    }

    /// Records a section written to the file (its `chunks_end` is set by `build`).
    pub fn add_section(&mut self, section: Section, chunks: Vec<Chunk>) {
        self.sections.push((section, chunks));
    }

    /// Records an array: its dtype code, shape and data section.
    pub fn add_array(
        &mut self,
        name: String,
        dtype: u8,
        dims: Vec<u64>,
        section: u32,
        metadata: BTreeMap<String, MetaValue>,
    ) {
        self.add(
            name,
            PendingKind::Array {
                dtype,
                dims,
                section,
            },
            metadata,
        );
    }

    /// Records a frame: its row count and columns.
    pub fn add_frame(
        &mut self,
        name: String,
        rows: u64,
        columns: Vec<PendingColumn>,
        metadata: BTreeMap<String, MetaValue>,
    ) {
        self.add(name, PendingKind::Frame { rows, columns }, metadata);
    }

    /// Records a model: its row of the model table (without text offsets), type name and
    /// schema text.
    pub fn add_model(
        &mut self,
        name: String,
        meta: ModelMeta,
        type_name: String,
        schema: String,
        metadata: BTreeMap<String, MetaValue>,
    ) {
        let kind = PendingKind::Model {
            meta,
            type_name,
            schema,
        };
        self.add(name, kind, metadata);
    }

    fn add(&mut self, name: String, kind: PendingKind, metadata: BTreeMap<String, MetaValue>) {
        self.entries.insert(name, PendingEntry { kind, metadata });
    }

    /// An upper bound of the archived manifest's size: every record's size rounded up, every
    /// string's and byte value's length, and 64 bytes for each metadata item.
    pub fn size_bound(&self) -> u64 {
        // Rows are archived back to back in their tables; each out-of-line string or byte
        // value may add up to `SLACK` bytes of alignment, each table and the root 1 KiB.
        const SLACK: u64 = 16;
        fn row<T>() -> u64 {
            size_of::<T>() as u64
        }
        fn text(s: &str) -> u64 {
            s.len() as u64
        }
        let meta = |items: &BTreeMap<String, MetaValue>| -> u64 {
            items
                .iter()
                .map(|(key, value)| {
                    let value = match value {
                        MetaValue::Str(s) => text(s),
                        MetaValue::Bytes(b) => b.len() as u64,
                        _ => 0,
                    };
                    row::<ArchivedMetaItem>() + text(key) + value + 2 * SLACK
                })
                .sum()
        };
        let entries: u64 = self
            .entries
            .iter()
            .map(|(name, e)| {
                let kind = match &e.kind {
                    PendingKind::Array { dims, .. } => {
                        row::<ArchivedArrayMeta>() + 8 * dims.len() as u64
                    }
                    PendingKind::Frame { columns, .. } => {
                        let column = row::<ArchivedColumnMeta>() + row::<ArchivedColumnExtra>();
                        row::<ArchivedFrameMeta>()
                            + columns
                                .iter()
                                .map(|c| column + text(&c.name) + text(&c.zone) + meta(&c.metadata))
                                .sum::<u64>()
                    }
                    PendingKind::Model {
                        type_name, schema, ..
                    } => row::<ArchivedModelMeta>() + text(type_name) + text(schema),
                };
                row::<ArchivedEntry>() + text(name) + kind + meta(&e.metadata)
            })
            .sum();
        let sections: u64 = self
            .sections
            .iter()
            .map(|(_, chunks)| {
                row::<ArchivedSection>() + row::<ArchivedChunk>() * chunks.len() as u64
            })
            .sum();
        16 * 1024 + entries + sections + meta(&self.metadata)
    }

    /// Lays the pending entries and sections out as the manifest's flat tables: the 1.0 root,
    /// or the 1.1 root when a column has metadata or flags. The offsets fit in u32: the
    /// manifest was checked to be under 256 MiB.
    pub fn build(mut self) -> Manifest11 {
        let mut m = Manifest {
            metadata: meta_items(std::mem::take(&mut self.metadata)),
            ..Manifest::default()
        };
        let (mut column_extras, mut column_metadata) = (Vec::new(), Vec::new());
        for (name, entry) in std::mem::take(&mut self.entries) {
            m.names.push_str(&name);
            m.entry_metadata.extend(meta_items(entry.metadata));
            let (kind, index) = match entry.kind {
                PendingKind::Array {
                    dtype,
                    dims,
                    section,
                } => {
                    m.dims.extend(dims);
                    m.arrays.push(ArrayMeta {
                        section,
                        dims_end: end(m.dims.len()),
                        dtype,
                        reserved: [0; 3],
                    });
                    (KIND_ARRAY, m.arrays.len() - 1)
                }
                PendingKind::Frame { rows, columns } => {
                    for c in columns {
                        let mut column = c.meta;
                        m.column_text.push_str(&c.name);
                        column.name_end = end(m.column_text.len());
                        m.column_text.push_str(&c.zone);
                        column.zone_end = end(m.column_text.len());
                        m.columns.push(column);
                        column_metadata.extend(meta_items(c.metadata));
                        column_extras.push(ColumnExtra {
                            metadata_end: end(column_metadata.len()),
                            flags: c.flags,
                        });
                    }
                    m.frames.push(FrameMeta {
                        rows,
                        columns_end: end(m.columns.len()),
                        reserved: [0; 4],
                    });
                    (KIND_FRAME, m.frames.len() - 1)
                }
                PendingKind::Model {
                    mut meta,
                    type_name,
                    schema,
                } => {
                    m.model_text.push_str(&type_name);
                    meta.type_name_end = end(m.model_text.len());
                    m.model_text.push_str(&schema);
                    meta.schema_end = end(m.model_text.len());
                    m.models.push(meta);
                    (KIND_MODEL, m.models.len() - 1)
                }
            };
            m.entries.push(Entry {
                name_end: end(m.names.len()),
                metadata_end: end(m.entry_metadata.len()),
                index: end(index),
                kind,
                reserved: [0; 3],
            });
        }
        for (mut section, chunks) in std::mem::take(&mut self.sections) {
            m.chunks.extend(chunks);
            section.chunks_end = end(m.chunks.len());
            m.sections.push(section);
        }
        let extended = !column_metadata.is_empty() || column_extras.iter().any(|e| e.flags != 0);
        Manifest11 {
            base: m,
            column_extras: if extended { column_extras } else { Vec::new() },
            column_metadata,
        }
    }
}

fn meta_items(map: BTreeMap<String, MetaValue>) -> Vec<MetaItem> {
    map.into_iter()
        .map(|(key, value)| MetaItem { key, value })
        .collect()
}

/// An entry written to the file, waiting for the manifest.
#[derive(Debug)]
struct PendingEntry {
    kind: PendingKind,
    metadata: BTreeMap<String, MetaValue>,
}

#[derive(Debug)]
enum PendingKind {
    Array {
        dtype: u8,
        dims: Vec<u64>,
        section: u32,
    },
    Frame {
        rows: u64,
        columns: Vec<PendingColumn>,
    },
    Model {
        /// The model's row of the model table, without its text offsets.
        meta: ModelMeta,
        type_name: String,
        schema: String,
    },
}

/// A column of a frame written to the file, waiting for the manifest.
#[derive(Debug)]
pub(crate) struct PendingColumn {
    /// The column's row of the column table, without its text offsets.
    pub meta: ColumnMeta,
    pub name: String,
    /// The time zone; empty for none.
    pub zone: String,
    /// The column's metadata and flags (format 1.1; none and 0 keep a file at 1.0).
    pub metadata: BTreeMap<String, MetaValue>,
    pub flags: u32,
}

/// A table length or text offset as the manifest stores it. Every one is below 2^28: `finish`
/// refused manifests whose `size_bound` passes the 256 MiB limit before `build`.
fn end(len: usize) -> u32 {
    u32::try_from(len).expect("manifest offsets fit in u32: size_bound was checked first")
}
