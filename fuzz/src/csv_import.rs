//! Target `csv`: `brine::frame::csv::read_reader` (the parser: inference, every type's
//! conversion, quoting, null tokens, bad rows) on arbitrary bytes, with options chosen by the
//! first three bytes; and, for one input in 32 (chosen by a hash of the whole input, so that
//! mutating an input moves it in or out), `brine::frame::csv::import_reader` (the streaming
//! import the CLI uses) too, which writes a file and reads it back.
//!
//! Input: byte 0 = delimiter (bits 0-2), header (bit 3), trim (bit 4), skip bad rows (bit 5),
//! `'` as the quote (bit 6), extra null token `-` (bit 7); byte 1 = sample rows (bits 0-1),
//! batch rows (bits 2-3), time unit (bits 4-5), which column gets a set type (bits 6-7);
//! byte 2 = the set type (bits 0-3), zstd for the frame (bit 7); the rest is the CSV text.
//!
//! A successful import must produce a file that opens with `verify(true)` and reads back in
//! full, with the rows and fields the report names; and `read_reader` must agree with it.
//! Importing costs a file write (one spool file per column buffer) and a verified read, some
//! 30 to 100 times the parse, which is why only some inputs take that path while fuzzing;
//! [`run_import`] always takes it.

use std::path::Path;

use brine::frame::csv::{self, CsvOptions, OnError};
use brine::frame::{ColumnType, FrameOptions, TimeUnit};
use brine::{Codec, Dtype, Reader, Writer};

/// What one input did, for the regression tests.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Fewer than three bytes: nothing to do.
    Empty,
    /// The import (or, for inputs that are only parsed, the parse) refused the input.
    Refused,
    /// The input was only parsed, into a frame of this many rows.
    Parsed(u64),
    /// The import wrote this many rows and read them back.
    Imported(u64),
}

const DELIMITERS: [u8; 8] = [b',', b';', b'\t', b'|', b' ', b'"', 0, b'\n'];
const UNITS: [TimeUnit; 4] = [
    TimeUnit::Second,
    TimeUnit::Millisecond,
    TimeUnit::Microsecond,
    TimeUnit::Nanosecond,
];

fn set_type(code: u8) -> ColumnType {
    match code & 15 {
        0 => ColumnType::Bool,
        1 => ColumnType::Primitive(Dtype::I8),
        2 => ColumnType::Primitive(Dtype::U16),
        3 => ColumnType::Primitive(Dtype::F32),
        4 => ColumnType::Primitive(Dtype::F16),
        5 => ColumnType::Utf8,
        6 => ColumnType::Binary,
        7 => ColumnType::Categorical { ordered: false },
        8 => ColumnType::Date,
        9 => ColumnType::Timestamp {
            unit: TimeUnit::Nanosecond,
            zone: Some("Europe/Paris".into()),
        },
        10 => ColumnType::Timestamp {
            unit: TimeUnit::Second,
            zone: Some("+05:30".into()),
        },
        11 => ColumnType::Timestamp {
            unit: TimeUnit::Millisecond,
            zone: None,
        },
        12 => ColumnType::Duration(TimeUnit::Microsecond),
        13 => ColumnType::Primitive(Dtype::U64),
        // Types a column cannot have: refused with an error.
        14 => ColumnType::Primitive(Dtype::BF16),
        _ => ColumnType::Primitive(Dtype::Bool),
    }
}

/// The options bytes 0..3 choose; `text` is used to name the first column when there is a
/// header.
pub fn options(head: [u8; 3], text: &[u8]) -> (CsvOptions, FrameOptions) {
    let [a, b, c] = head;
    let delimiter = DELIMITERS[usize::from(a & 7)];
    let header = a & 8 != 0;
    let mut o = CsvOptions::new()
        .delimiter(delimiter)
        .has_header(header)
        .trim(a & 16 != 0)
        .on_error(if a & 32 != 0 {
            OnError::Skip
        } else {
            OnError::Fail
        })
        .quote(if a & 64 != 0 { b'\'' } else { b'"' })
        .sample_rows([0, 1, 3, 1000][usize::from(b & 3)])
        .batch_rows([1, 2, 7, 65536][usize::from((b >> 2) & 3)])
        .time_unit(UNITS[usize::from((b >> 4) & 3)]);
    if a & 128 != 0 {
        o = o.null_token("-");
    }
    let column = match b >> 6 {
        0 => None,
        1 if header => {
            // The first header field, roughly as the CSV reader will see it.
            let end = text
                .iter()
                .position(|&x| x == delimiter || x == b'\n' || x == b'\r')
                .unwrap_or(text.len());
            Some(String::from_utf8_lossy(&text[..end]).into_owned())
        }
        1 => Some("column_1".to_owned()),
        2 => Some("column_2".to_owned()),
        _ => Some("a".to_owned()),
    };
    if let Some(name) = column {
        o = o.column_type(name, set_type(c));
    }
    let codec = if c & 128 != 0 {
        Codec::zstd_shuffled()
    } else {
        Codec::Raw
    };
    (
        o,
        FrameOptions::new()
            .codec(codec)
            .zstd_level(1)
            .chunk_len(256),
    )
}

/// Runs the target on one input: parses it, and imports it too when byte 2 asks (writing its
/// files in `dir`, a tmpfs folder when fuzzing).
pub fn run(data: &[u8], dir: &Path) -> Outcome {
    // FNV-1a: any cheap hash that a one-byte mutation changes.
    let hash = data.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    if hash % 32 == 0 {
        run_import(data, dir)
    } else {
        run_parse(data)
    }
}

/// Parses one input in memory.
pub fn run_parse(data: &[u8]) -> Outcome {
    let Some((head, text)) = data.split_first_chunk::<3>() else {
        return Outcome::Empty;
    };
    let (options, _) = options(*head, text);
    match csv::read_reader("fuzz.csv", text, &options) {
        Ok(frame) => Outcome::Parsed(frame.rows() as u64),
        Err(_) => Outcome::Refused,
    }
}

/// Runs one input through the import, and checks the file it writes and the parse against it.
pub fn run_import(data: &[u8], dir: &Path) -> Outcome {
    let Some((head, text)) = data.split_first_chunk::<3>() else {
        return Outcome::Empty;
    };
    let (options, frame_options) = options(*head, text);
    let out = dir.join("out.brine");
    let mut w = Writer::create(&out).expect("create a writer in the fuzz folder");
    let report = csv::import_reader(&mut w, "t", "fuzz.csv", text, &options, &frame_options);
    let read = csv::read_reader("fuzz.csv", text, &options);
    let Ok(report) = report else {
        return Outcome::Refused;
    };
    w.finish().expect("an imported frame finishes");
    let reader = Reader::options()
        .verify(true)
        .open(&out)
        .expect("a file brine wrote opens with verify");
    let frame = reader.frame("t").expect("the frame is there");
    assert_eq!(frame.rows() as u64, report.rows);
    assert_eq!(frame.fields(), report.fields);
    assert!(report.skipped == 0 || options_skip(head[0]));
    assert_eq!(
        crate::open_walk::walk(&reader),
        1,
        "the frame reads back in full"
    );
    // `read` parses the same rows into one in-memory frame.
    let read = read.expect("read accepts what import accepted");
    assert_eq!(read.rows() as u64, report.rows);
    let read_types: Vec<_> = read
        .columns()
        .map(|(n, c)| (n.to_owned(), c.ty().clone()))
        .collect();
    let import_types: Vec<_> = report
        .fields
        .iter()
        .map(|f| (f.name.clone(), f.ty.clone()))
        .collect();
    assert_eq!(read_types, import_types);
    Outcome::Imported(report.rows)
}

fn options_skip(a: u8) -> bool {
    a & 32 != 0
}
