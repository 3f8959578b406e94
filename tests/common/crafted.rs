//! Taking a brine-written file apart and putting it together again with edited manifest
//! tables or section bytes, for adversarial tests (`frame_adversarial.rs`,
//! `model_adversarial.rs`). Include it with `#[path = "common/crafted.rs"] mod crafted;`.

#![allow(dead_code)]

use std::path::Path;

use brine::raw::checksum::xxh3;
use brine::raw::codec;
use brine::raw::limits::PAGE;
use brine::raw::manifest::{
    CODEC_RAW, Chunk, ColumnExtra, Manifest, Manifest11, MetaItem, ROOT_LEN, Section,
};
use brine::raw::{HEADER_LEN, Header};

/// A file taken apart: the header's fixed fields, each section's stored bytes, and the
/// manifest's tables. [`Crafted::bytes`] lays the sections out again as the writer does (in
/// table order, each on the alignment the format requires for its decoded length) and writes
/// the manifest and header with correct checksums.
#[derive(Clone)]
pub struct Crafted {
    /// The header's fixed fields.
    pub header: Header,
    /// Each section's stored bytes, in table order.
    pub stored: Vec<Vec<u8>>,
    /// The manifest's tables, with the section offsets of the file it was taken from.
    pub m: Manifest,
    /// The tables a 1.1 root appends (column extras, column metadata); `None` for a 1.0 root.
    pub ext: Option<(Vec<ColumnExtra>, Vec<MetaItem>)>,
}

impl Crafted {
    /// Takes apart the bytes of a file that brine wrote.
    pub fn from_written(bytes: &[u8]) -> Crafted {
        let header = Header::decode(
            Path::new("crafted.brine"),
            &bytes[..HEADER_LEN],
            bytes.len() as u64,
        )
        .expect("a written header");
        let mut archive = rkyv::util::AlignedVec::<16>::new();
        archive.extend_from_slice(&bytes[header.manifest_offset as usize..]);
        let (m, ext) = if header.root_length == ROOT_LEN {
            let m = rkyv::from_bytes::<Manifest, rancor::Error>(&archive);
            (m.expect("a written manifest"), None)
        } else {
            let m = rkyv::from_bytes::<Manifest11, rancor::Error>(&archive);
            let m = m.expect("a written 1.1 manifest");
            (m.base, Some((m.column_extras, m.column_metadata)))
        };
        let stored = m
            .sections
            .iter()
            .map(|s| bytes[s.offset as usize..(s.offset + s.length) as usize].to_vec())
            .collect();
        Crafted {
            header,
            stored,
            m,
            ext,
        }
    }

    /// The file's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        self.bytes_edited(|_| {})
    }

    /// The file's bytes, with the laid-out tables (section offsets included) changed by `edit`
    /// before they are serialized.
    pub fn bytes_edited(&self, edit: impl FnOnce(&mut Manifest)) -> Vec<u8> {
        let mut m = self.m.clone();
        let mut out = vec![0u8; HEADER_LEN];
        for (s, stored) in m.sections.iter_mut().zip(&self.stored) {
            let align = if s.raw_length >= PAGE {
                u64::from(self.header.alignment)
            } else {
                64
            };
            s.offset = (out.len() as u64).next_multiple_of(align);
            out.resize(s.offset as usize, 0);
            out.extend_from_slice(stored);
        }
        edit(&mut m);
        let archive = match &self.ext {
            None => rkyv::to_bytes::<rancor::Error>(&m).unwrap(),
            Some((column_extras, column_metadata)) => {
                let m = Manifest11 {
                    base: m,
                    column_extras: column_extras.clone(),
                    column_metadata: column_metadata.clone(),
                };
                rkyv::to_bytes::<rancor::Error>(&m).unwrap()
            }
        };
        let manifest_offset = (out.len() as u64).next_multiple_of(64);
        out.resize(manifest_offset as usize, 0);
        out.extend_from_slice(&archive);
        let header = Header {
            manifest_offset,
            manifest_len: archive.len() as u64,
            manifest_checksum: xxh3(&archive),
            file_len: out.len() as u64,
            ..self.header
        };
        out[..HEADER_LEN].copy_from_slice(&header.encode());
        out
    }

    /// The range of section `s`'s chunks in the chunk table.
    pub fn chunk_range(&self, s: usize) -> std::ops::Range<usize> {
        let start = if s == 0 {
            0
        } else {
            self.m.sections[s - 1].chunks_end as usize
        };
        start..self.m.sections[s].chunks_end as usize
    }

    /// The decoded bytes of section `s`.
    pub fn decoded(&self, s: usize) -> Vec<u8> {
        let section = &self.m.sections[s];
        if section.codec == CODEC_RAW {
            return self.stored[s].clone();
        }
        let chunk_length = section.chunk_length as usize;
        let mut out = vec![0u8; section.raw_length as usize];
        let mut scratch = Vec::new();
        for (i, chunk) in self.m.chunks[self.chunk_range(s)].iter().enumerate() {
            let frame =
                &self.stored[s][chunk.offset as usize..(chunk.offset + chunk.length) as usize];
            let end = ((i + 1) * chunk_length).min(out.len());
            let shuffle = usize::from(section.shuffle);
            codec::decompress_chunk(
                frame,
                &mut out[i * chunk_length..end],
                shuffle,
                &mut scratch,
            )
            .unwrap();
        }
        out
    }

    /// Replaces the decoded bytes of section `s` (raw sections may change length; compressed
    /// ones keep it, and so their chunk count), re-encoding with the section's codec and
    /// recomputing every checksum: the file still passes `verify`.
    pub fn set_decoded(&mut self, s: usize, raw: &[u8]) {
        let range = self.chunk_range(s);
        let section = &mut self.m.sections[s];
        if section.codec == CODEC_RAW {
            section.length = raw.len() as u64;
            section.raw_length = raw.len() as u64;
            self.stored[s] = raw.to_vec();
        } else {
            assert_eq!(
                raw.len() as u64,
                section.raw_length,
                "compressed sections keep their length"
            );
            let mut stored = Vec::new();
            let shuffle = usize::from(section.shuffle);
            for (chunk, piece) in self.m.chunks[range]
                .iter_mut()
                .zip(raw.chunks(section.chunk_length as usize))
            {
                let frame = codec::compress_chunk(piece, 3, shuffle).unwrap();
                *chunk = Chunk {
                    offset: stored.len() as u64,
                    length: frame.len() as u64,
                    checksum: xxh3(piece),
                };
                stored.extend_from_slice(&frame);
            }
            section.length = stored.len() as u64;
            self.stored[s] = stored;
        }
        self.m.sections[s].checksum = xxh3(&self.stored[s]);
    }

    /// Changes the decoded bytes of section `s` with `patch`, as [`Crafted::set_decoded`].
    pub fn patch(&mut self, s: usize, patch: impl FnOnce(&mut Vec<u8>)) {
        let mut raw = self.decoded(s);
        patch(&mut raw);
        self.set_decoded(s, &raw);
    }

    /// A copy with the decoded bytes of section `s` changed by `patch`.
    pub fn patched(&self, s: usize, patch: impl FnOnce(&mut Vec<u8>)) -> Crafted {
        let mut c = self.clone();
        c.patch(s, patch);
        c
    }

    /// Appends a raw section no entry owns.
    pub fn push_raw_section(&mut self, bytes: &[u8]) {
        self.m.sections.push(Section {
            offset: 0,
            length: bytes.len() as u64,
            checksum: xxh3(bytes),
            raw_length: bytes.len() as u64,
            chunks_end: self.m.chunks.len() as u32,
            chunk_length: 0,
            codec: CODEC_RAW,
            shuffle: 0,
            reserved: [0; 6],
        });
        self.stored.push(bytes.to_vec());
    }

    /// A copy where chunk `chunk` of compressed section `s` is overwritten with `byte`, with
    /// the section's checksum recomputed: it fails to decompress, and only `verify` or a read
    /// notices.
    pub fn with_garbage_chunk(&self, s: usize, chunk: usize, byte: u8) -> Crafted {
        let mut c = self.clone();
        let k = &c.m.chunks[c.chunk_range(s)][chunk];
        let range = k.offset as usize..(k.offset + k.length) as usize;
        c.stored[s][range].fill(byte);
        c.m.sections[s].checksum = xxh3(&c.stored[s]);
        c
    }

    /// A copy where compressed section `s` decodes to other bytes (`patch`) but its chunks
    /// keep their old checksums.
    pub fn with_stale_chunk_checksums(
        &self,
        s: usize,
        patch: impl FnOnce(&mut Vec<u8>),
    ) -> Crafted {
        let range = self.chunk_range(s);
        let old: Vec<u64> = self.m.chunks[range.clone()]
            .iter()
            .map(|k| k.checksum)
            .collect();
        let mut c = self.patched(s, patch);
        for (k, sum) in c.m.chunks[range].iter_mut().zip(old) {
            k.checksum = sum;
        }
        c
    }
}
