//! `Reader::open_source` over a hand-written `RangeSource`: corrupt or short transfers are
//! errors and keep nothing, verification streams, results equal the mapped reader's.

use std::io;
use std::ops::Range;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use brine::{AlignedBuf, Codec, EntryOptions, Error, RangeSource, Reader, Writer};

/// The bytes of a file, served by range; `corrupt` flips one byte of every answer that
/// covers offset `at`; `short` drops the last byte of every answer.
#[derive(Debug)]
struct Source {
    bytes: Vec<u8>,
    corrupt: Mutex<Option<u64>>,
    short: AtomicBool,
    batches: AtomicUsize,
}

impl RangeSource for Source {
    fn len(&self) -> io::Result<u64> {
        Ok(self.bytes.len() as u64)
    }

    fn read_ranges(&self, ranges: &[Range<u64>], out: &mut [&mut [u8]]) -> io::Result<()> {
        self.batches.fetch_add(1, Ordering::SeqCst);
        for (r, o) in ranges.iter().zip(out.iter_mut()) {
            if self.short.load(Ordering::SeqCst) {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "short answer"));
            }
            o.copy_from_slice(&self.bytes[r.start as usize..r.end as usize]);
            if let Some(at) = *self.corrupt.lock().unwrap() {
                if r.contains(&at) {
                    o[(at - r.start) as usize] ^= 0xFF;
                }
            }
        }
        Ok(())
    }
}

fn file() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.brine");
    let a: Vec<f32> = (0..100_000).map(|i| i as f32).collect();
    let mut w = Writer::create(&path).unwrap();
    w.put_array("a", &a, &[a.len()]).unwrap();
    w.put_array_with(
        "z",
        &a,
        &[a.len()],
        &EntryOptions::new().codec(Codec::zstd()),
    )
    .unwrap();
    w.finish().unwrap();
    std::fs::read(&path).unwrap()
}

fn source(bytes: Vec<u8>) -> Arc<Source> {
    Arc::new(Source {
        bytes,
        corrupt: Mutex::new(None),
        short: AtomicBool::new(false),
        batches: AtomicUsize::new(0),
    })
}

#[test]
fn open_is_one_batch_and_reads_equal_the_mapped_reader() {
    let bytes = file();
    let s = source(bytes.clone());
    let r = Reader::open_source("mem://f", s.clone()).unwrap();
    assert_eq!(s.batches.load(Ordering::SeqCst), 1);
    let local = Reader::from_buffer("f", AlignedBuf::copy_from_slice(&bytes)).unwrap();
    for name in ["a", "z"] {
        assert_eq!(
            r.array::<f32>(name).unwrap().as_slice(),
            local.array::<f32>(name).unwrap().as_slice()
        );
    }
    assert!(r.is_remote() && r.mapped_range().is_empty());
    r.verify().unwrap();
}

#[test]
fn a_corrupt_section_transfer_is_a_checksum_mismatch_and_is_not_kept() {
    let bytes = file();
    let s = source(bytes);
    let r = Reader::open_source("mem://f", s.clone()).unwrap();
    for name in ["a", "z"] {
        let at = r.array_entry(name).unwrap().offset() + 10;
        *s.corrupt.lock().unwrap() = Some(at);
        let e = r.array::<f32>(name).unwrap_err();
        assert!(
            matches!(e, Error::ChecksumMismatch { .. } | Error::Decompress { .. }),
            "{e}"
        );
        *s.corrupt.lock().unwrap() = None;
        assert_eq!(r.array::<f32>(name).unwrap().as_slice()[7], 7.0);
    }
}

#[test]
fn a_short_transfer_is_a_remote_error_at_open_and_on_read() {
    let s = source(file());
    s.short.store(true, Ordering::SeqCst);
    let e = Reader::open_source("mem://f", s.clone()).unwrap_err();
    assert!(matches!(e, Error::Remote { .. }), "{e}");
    s.short.store(false, Ordering::SeqCst);
    let r = Reader::open_source("mem://f", s.clone()).unwrap();
    s.short.store(true, Ordering::SeqCst);
    let e = r.array::<f32>("a").unwrap_err();
    assert!(matches!(e, Error::Remote { .. }), "{e}");
    s.short.store(false, Ordering::SeqCst);
    assert_eq!(r.array::<f32>("a").unwrap().len(), 100_000);
}
