//! A frame: the Seattle weather CSV (dates, floats, a category) imported once, stored parsed,
//! and reloaded zero-copy, against re-parsing the CSV.

use std::path::Path;
use std::time::Instant;

use brine::frame::csv::{self, CsvOptions};
use brine::frame::{ColumnType, FrameOptions};
use brine::{Codec, Reader, Writer};

/// Where the shipped CSV is, whatever the working directory.
fn weather_csv() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data/seattle-weather.csv")
}

pub fn run(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let source = weather_csv();
    // `weather` has five values: a dictionary of five strings and one i32 code per row. The
    // wind column is cold: stored compressed.
    let options =
        CsvOptions::new().column_type("weather", ColumnType::Categorical { ordered: false });
    let t = Instant::now();
    let mut w = Writer::create(path)?;
    let report = csv::import(
        &mut w,
        "weather",
        &source,
        &options,
        &FrameOptions::new().column_codec("wind", Codec::zstd_shuffled()),
    )?;
    w.finish()?;
    println!(
        "imported {} rows ({} bytes of CSV) in {:.2?}:",
        report.rows,
        report.bytes,
        t.elapsed()
    );
    for f in &report.fields {
        println!("  {:<14} {}", f.name, f.ty);
    }

    // What pandas users do on every start: parse the CSV again.
    let t = Instant::now();
    let parsed = csv::read(&source, &options)?;
    let parse_time = t.elapsed();

    // What brine users do instead: open the file and view the parsed columns.
    let t = Instant::now();
    let r = Reader::open(path)?;
    let weather = r.frame("weather")?;
    let dates = weather.column("date")?.dates()?;
    let temp_max = weather.column("temp_max")?.values::<f64>()?;
    let kinds = weather.column("weather")?.categorical()?;
    let reload_time = t.elapsed();
    assert_eq!(dates.len(), parsed.rows());
    println!(
        "re-parsing the CSV: {parse_time:.2?}; reopening the brine file and viewing three columns: {reload_time:.2?} ({:.0}x faster)",
        parse_time.as_secs_f64() / reload_time.as_secs_f64()
    );

    // The dates come back as dates: no parsing.
    let hottest = (0..temp_max.len())
        .max_by(|&a, &b| temp_max[a].total_cmp(&temp_max[b]))
        .unwrap_or(0);
    let day = chrono::NaiveDate::from_num_days_from_ce_opt(719_163 + dates.values[hottest])
        .map(|d| d.to_string())
        .unwrap_or_default();
    println!(
        "hottest day: {day}, {:.1} °C, {}",
        temp_max[hottest],
        kinds.get(hottest).unwrap_or("?")
    );
    let stats = weather.column("temp_max")?.stats();
    println!(
        "temp_max statistics from the manifest, without reading the column: {:?}",
        stats.range
    );
    let wind = weather.column("wind")?;
    println!(
        "wind: compressed = {}, mean {:.2} m/s",
        wind.is_compressed(),
        wind.values::<f64>()?.iter().sum::<f64>() / wind.len() as f64
    );
    Ok(())
}
