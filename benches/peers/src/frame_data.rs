//! The table of the frame benchmarks (issue 3): rows of `(i64 id, f64 value, timestamp, utf8
//! name of 6 to 10 lowercase letters)`, from a seeded generator, as a brine [`Frame`] or as CSV
//! text with ISO 8601 timestamps. The same seed gives the same rows in both forms.
//!
//! Shared by `benches/frames.rs` (root crate, included by path) and the peers crate.

use std::io::{self, Write};
use std::path::Path;

use brine::frame::{Column, Frame, StringBuilder, TimeUnit};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// The seed of every generated table.
pub const SEED: u64 = 42;

/// The frame entry's name in the benchmark files.
pub const ENTRY: &str = "t";

/// 2024-01-01T00:00:00Z in microseconds since the Unix epoch.
const START_US: i64 = 1_704_067_200_000_000;

/// Rows of the frame benchmarks: 10M by default, `BRINE_BENCH_ROWS` to change it (for a quick
/// check of the benches themselves).
pub fn rows() -> usize {
    std::env::var("BRINE_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000)
}

/// A label for a row count: `10M`, `250k`, `1234`.
pub fn label(rows: usize) -> String {
    match rows {
        r if r >= 1_000_000 && r % 1_000_000 == 0 => format!("{}M", r / 1_000_000),
        r if r >= 1_000 && r % 1_000 == 0 => format!("{}k", r / 1_000),
        r => r.to_string(),
    }
}

/// One row.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    /// Sequential from 0.
    pub id: i64,
    /// Uniform in [-1000, 1000).
    pub value: f64,
    /// Microseconds since the epoch, UTC: one row per millisecond from 2024-01-01, with jitter.
    pub ts: i64,
    name: [u8; 10],
    name_len: u8,
}

impl Row {
    /// 6 to 10 lowercase ASCII letters.
    pub fn name(&self) -> &str {
        // Only ASCII letters are ever written into `name`.
        std::str::from_utf8(&self.name[..usize::from(self.name_len)]).expect("ASCII")
    }
}

/// The rows, in order, forever.
pub struct Rows {
    rng: Xoshiro256PlusPlus,
    next: i64,
}

impl Rows {
    /// The rows of [`SEED`].
    pub fn new() -> Rows {
        Rows {
            rng: Xoshiro256PlusPlus::seed_from_u64(SEED),
            next: 0,
        }
    }
}

impl Default for Rows {
    fn default() -> Self {
        Rows::new()
    }
}

impl Iterator for Rows {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        let id = self.next;
        self.next += 1;
        let value = self.rng.gen_range(-1000.0..1000.0);
        let ts = START_US + id * 1_000 + self.rng.gen_range(0..1_000);
        let name_len = self.rng.gen_range(6u8..=10);
        let mut name = [0u8; 10];
        for b in &mut name[..usize::from(name_len)] {
            *b = self.rng.gen_range(b'a'..=b'z');
        }
        Some(Row {
            id,
            value,
            ts,
            name,
            name_len,
        })
    }
}

/// The first `rows` rows as a frame with columns `id` (i64), `value` (f64), `ts` (timestamp,
/// microseconds, UTC) and `name` (utf8).
pub fn frame(rows: usize) -> Frame {
    let mut ids = Vec::with_capacity(rows);
    let mut values = Vec::with_capacity(rows);
    let mut ts = Vec::with_capacity(rows);
    let mut names = StringBuilder::new();
    for row in Rows::new().take(rows) {
        ids.push(row.id);
        values.push(row.value);
        ts.push(row.ts);
        names.push(Some(row.name()));
    }
    Frame::builder()
        .column("id", Column::new(ids))
        .column("value", Column::new(values))
        .column(
            "ts",
            Column::timestamps(ts, TimeUnit::Microsecond, Some("UTC")),
        )
        .column("name", names.finish())
        .build()
        .expect("a valid frame")
}

/// What a scan of the table computes: the sum of `value` and the number of names starting
/// with `a`, over the first `rows` rows (the expected answer of the scan benches).
pub fn expected_scan(rows: usize) -> (f64, usize) {
    Rows::new().take(rows).fold((0.0, 0), |(sum, count), r| {
        (
            sum + r.value,
            count + usize::from(r.name().starts_with('a')),
        )
    })
}

/// Writes the rows as CSV (`id,value,ts,name` with a header, `ts` as
/// `2024-01-01T00:00:00.123456Z`, `value` in Rust's shortest round-trip form) until the file
/// holds at least `bytes` bytes. Returns the number of rows and bytes written.
pub fn write_csv(path: &Path, bytes: u64) -> io::Result<(usize, u64)> {
    let mut out = io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let header = b"id,value,ts,name\n";
    out.write_all(header)?;
    let mut written = header.len() as u64;
    let mut rows = 0;
    let mut line = Vec::with_capacity(80);
    for row in Rows::new() {
        if written >= bytes {
            break;
        }
        line.clear();
        write!(line, "{},{},", row.id, row.value)?;
        iso_micros(&mut line, row.ts)?;
        writeln!(line, ",{}", row.name())?;
        out.write_all(&line)?;
        written += line.len() as u64;
        rows += 1;
    }
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok((rows, written))
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` for microseconds since the epoch (non-negative).
fn iso_micros(out: &mut Vec<u8>, us: i64) -> io::Result<()> {
    let secs = us.div_euclid(1_000_000);
    let micros = us.rem_euclid(1_000_000);
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

/// The proleptic Gregorian date of a count of days since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso_timestamps() {
        let mut s = Vec::new();
        super::iso_micros(
            &mut s,
            super::START_US + 86_400_000_000 * 59 + 3_723_000_042,
        )
        .unwrap();
        assert_eq!(String::from_utf8(s).unwrap(), "2024-02-29T01:02:03.000042Z");
    }
}
