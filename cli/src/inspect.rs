//! `brine inspect`: what a file holds, from its manifest alone (no data is read).

use std::fmt::Write;
use std::path::PathBuf;

use brine::frame::StatRange;
use brine::{Codec, Kind, MetaRef, Metadata, Reader, SectionInfo};
use serde_json::{Value, json};

use crate::error::Result;

/// The version of the JSON document's shape; raised when a field changes meaning or goes away
/// (new fields may be added without raising it).
const JSON_VERSION: u64 = 1;

const AFTER_HELP: &str = r#"JSON document (--json), version 1; fields may be added, none removed or changed
without raising "brine_json":
{
  "brine_json": 1,
  "file": "weights.brine",
  "format_version": "1.0",           // major.minor of the file format
  "alignment": 4096,                 // alignment unit of large sections, bytes
  "file_len": 12345, "manifest_len": 678,
  "metadata": {"epoch": {"type": "int", "value": 12}},
  "entries": [                       // sorted by name; every entry has "name" and "kind"
    {"name": "w", "kind": "array", "dtype": "f32", "shape": [32, 32],
     "codec": "zstd", "shuffle": true, "chunks": 1,
     "stored_len": 1234, "raw_len": 4096, "ratio": 3.32,
     "offset": 4096, "checksum": "0x0123456789abcdef", "metadata": {}},
    {"name": "sales", "kind": "frame", "rows": 3, "codec": "raw",  // or "mixed"
     "stored_len": 120, "raw_len": 120, "ratio": 1.0,
     "columns": [{"name": "price", "type": "f64", "null_count": 1,
                  "min": 3.25, "max": 9.5, "compressed": false, "metadata": {},
                  "stored_len": 25, "raw_len": 25,
                  "sections": [{"slot": "validity", "codec": "raw", "shuffle": false,
                                "chunks": 0, "stored_len": 1, "raw_len": 1,
                                "offset": 8192, "checksum": "0x..."}, ...]}],
     "metadata": {}},
    {"name": "clf", "kind": "model", "type_name": "Linear", "version": null,
     "fingerprint": "0x0123456789abcdef", "archive_len": 512, "codec": "zstd",
     "stored_len": 300, "raw_len": 512, "ratio": 1.71, "offset": 12288,
     "checksum": "0x0123456789abcdef", "metadata": {}}
  ]
}
Metadata values are {"type": T, "value": V} with T one of "str", "int", "float", "bool",
"bytes" (V a hex string); a float that is NaN or infinite is the string "NaN", "inf" or "-inf".
Keys of every object are printed sorted. Checksums and fingerprints are hex strings (64-bit values exceed JSON's safe integers);
"min"/"max" are present only when the file records them; a column's "metadata" is empty in
files of format 1.0, and a categorical column's "type" is "categorical[ordered]" when its
categories are ordered; "ratio" is raw_len / stored_len
(1.0 when both are 0). A model saved from Python (type Value) also has "python_class",
"python_schema" (the class schema text brine.load_model compares) and "python_fingerprint"."#;

/// Show a brine file's format, metadata and entries.
#[derive(clap::Args, Debug)]
#[command(after_long_help = AFTER_HELP)]
pub struct Args {
    /// The brine file, or a dataset folder (its index is shown).
    file: PathBuf,
    /// Print a JSON document (described in --help) instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> Result<()> {
    if crate::dataset::is_dataset(&args.file) {
        return crate::dataset::inspect(&args.file, args.json);
    }
    let r = Reader::open(&args.file)?;
    let text = if args.json {
        let mut s = serde_json::to_string_pretty(&document(&r)?).unwrap_or_default();
        s.push('\n');
        s
    } else {
        table(&r)?
    };
    crate::print(&text)
}

fn ratio(raw: u64, stored: u64) -> f64 {
    if stored == 0 {
        1.0
    } else {
        raw as f64 / stored as f64
    }
}

fn hex(x: u64) -> String {
    format!("{x:#018x}")
}

fn float_json(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else if x.is_nan() {
        json!("NaN")
    } else if x > 0.0 {
        json!("inf")
    } else {
        json!("-inf")
    }
}

fn metadata_json(m: Metadata<'_>) -> Value {
    let map = m
        .iter()
        .map(|(k, v)| {
            let (ty, value) = match v {
                MetaRef::Str(s) => ("str", json!(s)),
                MetaRef::Int(i) => ("int", json!(i)),
                MetaRef::Float(x) => ("float", float_json(x)),
                MetaRef::Bool(b) => ("bool", json!(b)),
                MetaRef::Bytes(b) => (
                    "bytes",
                    json!(b.iter().map(|x| format!("{x:02x}")).collect::<String>()),
                ),
            };
            (k.to_owned(), json!({"type": ty, "value": value}))
        })
        .collect::<serde_json::Map<_, _>>();
    Value::Object(map)
}

/// The sections of a frame or a column, summed.
struct Totals {
    /// The codec all sections share, or `mixed`.
    codec: &'static str,
    stored: u64,
    raw: u64,
    /// The lowest offset.
    offset: u64,
    /// The first section's checksum (the frame's, when it has only one section).
    checksum: u64,
    sections: usize,
}

fn totals(sections: impl IntoIterator<Item = SectionInfo>) -> Totals {
    let mut t = Totals {
        codec: "-",
        stored: 0,
        raw: 0,
        offset: u64::MAX,
        checksum: 0,
        sections: 0,
    };
    for s in sections {
        t.codec = match (t.sections, t.codec) {
            (0, _) => s.codec.name(),
            (_, c) if c == s.codec.name() => c,
            _ => "mixed",
        };
        t.stored += s.stored_len;
        t.raw += s.raw_len;
        t.offset = t.offset.min(s.offset);
        if t.sections == 0 {
            t.checksum = s.checksum;
        }
        t.sections += 1;
    }
    t
}

/// The codec without its filter, as the JSON's `codec` (the filter is `shuffle`).
fn base_codec(c: Codec) -> &'static str {
    if c.is_compressed() { "zstd" } else { "raw" }
}

fn section_json(slot: &str, s: &SectionInfo) -> Value {
    json!({
        "slot": slot,
        "codec": base_codec(s.codec),
        "shuffle": s.codec == Codec::zstd_shuffled(),
        "chunks": s.chunks,
        "stored_len": s.stored_len,
        "raw_len": s.raw_len,
        "offset": s.offset,
        "checksum": hex(s.checksum),
    })
}

fn range_json(range: Option<StatRange>) -> (Value, Value) {
    match range {
        None => (Value::Null, Value::Null),
        Some(StatRange::Int(a, b)) => (json!(a), json!(b)),
        Some(StatRange::UInt(a, b)) => (json!(a), json!(b)),
        Some(StatRange::Float(a, b)) => (float_json(a), float_json(b)),
    }
}

fn document(r: &Reader) -> Result<Value> {
    let mut entries = Vec::new();
    for e in r.entries() {
        let mut obj = match e.kind() {
            Kind::Array => {
                let a = e.array()?;
                let codec = a.codec();
                json!({
                    "dtype": a.dtype().name(),
                    "shape": a.shape(),
                    "codec": base_codec(codec),
                    "shuffle": codec == Codec::zstd_shuffled(),
                    "chunks": a.chunk_count(),
                    "stored_len": a.stored_len(),
                    "raw_len": a.raw_len(),
                    "ratio": ratio(a.raw_len(), a.stored_len()),
                    "offset": a.offset(),
                    "checksum": hex(a.checksum()),
                })
            }
            Kind::Frame => {
                let f = e.frame()?;
                let columns = f
                    .iter()
                    .map(|c| {
                        let stats = c.stats();
                        let sections: Vec<_> = c.sections().collect();
                        let t = totals(sections.iter().map(|(_, s)| *s));
                        let mut col = json!({
                            "name": c.name(),
                            "type": c.ty().to_string(),
                            "null_count": stats.null_count,
                            "compressed": c.is_compressed(),
                            "metadata": metadata_json(c.metadata()),
                            "stored_len": t.stored,
                            "raw_len": t.raw,
                            "sections": sections
                                .iter()
                                .map(|(slot, s)| section_json(slot, s))
                                .collect::<Vec<_>>(),
                        });
                        if stats.range.is_some() {
                            let (min, max) = range_json(stats.range);
                            col["min"] = min;
                            col["max"] = max;
                        }
                        col
                    })
                    .collect::<Vec<_>>();
                let t = totals(f.iter().flat_map(|c| c.sections().map(|(_, s)| s)));
                json!({
                    "rows": f.rows(),
                    "columns": columns,
                    "codec": t.codec,
                    "stored_len": t.stored,
                    "raw_len": t.raw,
                    "ratio": ratio(t.raw, t.stored),
                })
            }
            Kind::Model => {
                let m = e.model()?;
                let s = m.section();
                let mut model = json!({
                    "type_name": m.type_name(),
                    "version": m.version(),
                    "fingerprint": hex(m.fingerprint()),
                    "archive_len": m.archive_len(),
                    "codec": s.codec.name(),
                    "stored_len": s.stored_len,
                    "raw_len": s.raw_len,
                    "ratio": ratio(s.raw_len, s.stored_len),
                    "offset": s.offset,
                    "checksum": hex(s.checksum),
                });
                if let Some(python) = crate::schema::python_class(&e) {
                    model["python_class"] = json!(python.name);
                    model["python_schema"] = json!(python.schema);
                    model["python_fingerprint"] = json!(python.fingerprint);
                }
                model
            }
            _ => json!({}),
        };
        let map = obj.as_object_mut().expect("built as an object");
        map.insert("metadata".into(), metadata_json(e.metadata()));
        let mut full = serde_json::Map::new();
        full.insert("name".into(), json!(e.name()));
        full.insert("kind".into(), json!(kind_name(e.kind())));
        full.extend(std::mem::take(map));
        entries.push(Value::Object(full));
    }
    Ok(json!({
        "brine_json": JSON_VERSION,
        "file": r.path().display().to_string(),
        "format_version": r.version().to_string(),
        "alignment": r.alignment(),
        "file_len": r.file_len(),
        "manifest_len": r.manifest_len(),
        "metadata": metadata_json(r.metadata()),
        "entries": entries,
    }))
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Array => "array",
        Kind::Frame => "frame",
        Kind::Model => "model",
        _ => "unknown",
    }
}

/// `1.5 MiB`-style sizes for the table (exact bytes are in --json).
fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = bytes as f64;
    let mut unit = 0;
    while x >= 1024.0 && unit < UNITS.len() - 1 {
        x /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{x:.1} {}", UNITS[unit])
    }
}

fn meta_text(v: MetaRef<'_>) -> String {
    match v {
        MetaRef::Str(s) => format!("{s:?}"),
        MetaRef::Int(i) => i.to_string(),
        MetaRef::Float(x) => x.to_string(),
        MetaRef::Bool(b) => b.to_string(),
        MetaRef::Bytes(b) => format!("{} bytes", b.len()),
    }
}

fn table(r: &Reader) -> Result<String> {
    let mut s = String::new();
    let _ = writeln!(s, "file       {}", r.path().display());
    let _ = writeln!(s, "format     {}", r.version());
    let _ = writeln!(s, "alignment  {} bytes", r.alignment());
    let _ = writeln!(
        s,
        "size       {} (manifest {})",
        human(r.file_len()),
        human(r.manifest_len())
    );
    let _ = writeln!(s, "entries    {}", r.len());
    if !r.metadata().is_empty() {
        let _ = writeln!(s, "metadata");
        for (k, v) in r.metadata().iter() {
            let _ = writeln!(s, "  {k} = {}", meta_text(v));
        }
    }
    if r.is_empty() {
        return Ok(s);
    }
    let header = [
        "NAME", "KIND", "TYPE", "SHAPE", "CODEC", "STORED", "RAW", "RATIO", "OFFSET", "CHECKSUM",
    ];
    let mut rows: Vec<[String; 10]> = Vec::new();
    let mut details = Vec::new();
    let mut models = Vec::new();
    for e in r.entries() {
        let dash = || "-".to_owned();
        let row = match e.kind() {
            Kind::Array => {
                let a = e.array()?;
                [
                    e.name().to_owned(),
                    "array".into(),
                    a.dtype().to_string(),
                    format!("{:?}", a.shape()),
                    a.codec().to_string(),
                    human(a.stored_len()),
                    human(a.raw_len()),
                    format!("{:.2}", ratio(a.raw_len(), a.stored_len())),
                    a.offset().to_string(),
                    hex(a.checksum()),
                ]
            }
            Kind::Frame => {
                let f = e.frame()?;
                let columns = f
                    .iter()
                    .map(|c| {
                        let nulls = c.null_count();
                        let codec = if c.is_compressed() { ", zstd" } else { "" };
                        if nulls > 0 {
                            format!("{} {} ({nulls} nulls{codec})", c.name(), c.ty())
                        } else if c.is_compressed() {
                            format!("{} {} (zstd)", c.name(), c.ty())
                        } else {
                            format!("{} {}", c.name(), c.ty())
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                details.push(format!("{}: {columns}", e.name()));
                let t = totals(f.iter().flat_map(|c| c.sections().map(|(_, s)| s)));
                [
                    e.name().to_owned(),
                    "frame".into(),
                    "columns below".into(),
                    format!("{} rows x {} columns", f.rows(), f.width()),
                    t.codec.to_owned(),
                    human(t.stored),
                    human(t.raw),
                    format!("{:.2}", ratio(t.raw, t.stored)),
                    if t.sections == 0 {
                        dash()
                    } else {
                        t.offset.to_string()
                    },
                    match t.sections {
                        1 => hex(t.checksum),
                        n => format!("{n} sections"),
                    },
                ]
            }
            Kind::Model => {
                let m = e.model()?;
                let version = m.version().map(|v| format!(" v{v}")).unwrap_or_default();
                let s = m.section();
                let python = crate::schema::python_class(&e).map_or_else(String::new, |p| {
                    let fingerprint = p.fingerprint.unwrap_or("not stored");
                    format!(", python class {} (fingerprint {fingerprint})", p.name)
                });
                models.push(format!(
                    "{}: {}{version}{python}, fingerprint {}, archive {} bytes",
                    e.name(),
                    m.type_name(),
                    hex(m.fingerprint()),
                    m.archive_len()
                ));
                [
                    e.name().to_owned(),
                    "model".into(),
                    format!("{}{version}", m.type_name()),
                    dash(),
                    s.codec.to_string(),
                    human(s.stored_len),
                    human(s.raw_len),
                    format!("{:.2}", ratio(s.raw_len, s.stored_len)),
                    s.offset.to_string(),
                    hex(s.checksum),
                ]
            }
            _ => [
                e.name().to_owned(),
                "unknown".into(),
                dash(),
                dash(),
                dash(),
                dash(),
                dash(),
                dash(),
                dash(),
                dash(),
            ],
        };
        rows.push(row);
    }
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    // Numbers right-aligned, text left-aligned.
    let right = [
        false, false, false, false, false, true, true, true, true, false,
    ];
    let line = |s: &mut String, cells: &[String]| {
        let mut l = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            if i > 0 {
                l.push_str("  ");
            }
            if right[i] {
                l.extend(std::iter::repeat_n(' ', pad));
                l.push_str(cell);
            } else {
                l.push_str(cell);
                if i + 1 < cells.len() {
                    l.extend(std::iter::repeat_n(' ', pad));
                }
            }
        }
        let _ = writeln!(s, "{l}");
    };
    s.push('\n');
    line(&mut s, &header.map(str::to_owned));
    for row in &rows {
        line(&mut s, row);
    }
    if !details.is_empty() {
        let _ = writeln!(s, "\nframe columns");
        for d in details {
            let _ = writeln!(s, "  {d}");
        }
    }
    if !models.is_empty() {
        let _ = writeln!(s, "\nmodels");
        for m in models {
            let _ = writeln!(s, "  {m}");
        }
    }
    Ok(s)
}
