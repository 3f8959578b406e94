//! Arrays: write a file with several arrays (one compressed), reopen it, and show what was read
//! and what each step cost.

use std::path::Path;
use std::time::Instant;

use brine::{AccessPattern, Codec, EntryOptions, Reader, Writer};
use half::f16;

pub fn run(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let path = path.display().to_string();

    // Some data of the kinds a model or a simulation keeps: weights, a bias, labels, a mask,
    // and a long random walk, stored compressed as cold data.
    let weights: Vec<f32> = (0..512 * 256)
        .map(|i| ((i as f32) * 0.001).sin() * 0.1)
        .collect();
    let bias: Vec<f16> = (0..256).map(|i| f16::from_f32(i as f32 / 256.0)).collect();
    let labels: Vec<i64> = (0..10_000).map(|i| i % 7).collect();
    let mask: Vec<bool> = (0..10_000).map(|i| i % 3 == 0).collect();
    let (mut state, mut level) = (0x9E37_79B9_7F4A_7C15u64, 0.0f32);
    let signal: Vec<f32> = (0..8_000_000)
        .map(|_| {
            // xorshift64: a seeded, dependency-free random walk.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            level += (state >> 40) as f32 / (1u32 << 24) as f32 - 0.5;
            level
        })
        .collect();

    let t = Instant::now();
    let mut w = Writer::create(&path)?;
    w.set_metadata("created_by", "examples/tour.rs");
    w.set_metadata("epoch", 12i64);
    w.put_array("layer1/weights", &weights, &[512, 256])?;
    w.put_array("layer1/bias", &bias, &[256])?;
    w.put_array("labels", &labels, &[10_000])?;
    w.put_array("mask", &mask, &[10_000])?;
    w.put_array_with(
        "signal",
        &signal,
        &[signal.len()],
        &EntryOptions::new()
            .codec(Codec::zstd_shuffled())
            .metadata("unit", "volts"),
    )?;
    w.put_array::<f64>("learning_rate", &[3e-4], &[])?;
    w.finish()?;
    let write_time = t.elapsed();
    let file_len = std::fs::metadata(&path)?.len();
    println!("wrote {path}: {file_len} bytes in {write_time:.2?}");

    let t = Instant::now();
    let r = Reader::open(&path)?;
    let open_time = t.elapsed();
    println!(
        "opened in {open_time:.2?} (format {}, {} entries, alignment {}, manifest {} bytes)",
        r.version(),
        r.len(),
        r.alignment(),
        r.manifest_len()
    );
    for (key, value) in r.metadata().iter() {
        println!("  metadata {key} = {value:?}");
    }
    println!(
        "  {:<16} {:<5} {:<12} {:<13} {:>10} {:>10}",
        "entry", "dtype", "shape", "codec", "stored", "raw"
    );
    for e in r.entries() {
        let a = e.array()?;
        println!(
            "  {:<16} {:<5} {:<12} {:<13} {:>10} {:>10}",
            a.name(),
            a.dtype().to_string(),
            format!("{:?}", a.shape()),
            a.codec(),
            a.stored_len(),
            a.raw_len()
        );
    }

    let t = Instant::now();
    let w1 = r.array::<f32>("layer1/weights")?;
    let view_time = t.elapsed();
    println!(
        "layer1/weights: zero-copy view in {view_time:.2?}; sum = {:.4}",
        w1.as_slice().iter().sum::<f32>()
    );
    let mask = r.array::<bool>("mask")?;
    println!(
        "mask: {} of {} set",
        mask.as_slice().iter().filter(|&&b| b).count(),
        mask.len()
    );

    let signal_entry = r.array_entry("signal")?;
    signal_entry.advise(AccessPattern::Random)?;
    let t = Instant::now();
    let one = signal_entry.get::<f32>(7_999_999)?;
    let one_time = t.elapsed();
    println!(
        "signal[7999999] = {one:.4} in {one_time:.2?} (decompressed 1 of {} chunks)",
        signal_entry.chunk_count()
    );
    let t = Instant::now();
    let all = r.array::<f32>("signal")?;
    let all_time = t.elapsed();
    assert_eq!(all.as_slice(), &signal[..]);
    println!(
        "signal: all {} values decompressed and checked in {all_time:.2?}; ratio {:.2}",
        all.len(),
        signal_entry.raw_len() as f64 / signal_entry.stored_len() as f64
    );
    let lr = r.array::<f64>("learning_rate")?;
    println!(
        "learning_rate: 0-d scalar, shape {:?}, value {}",
        lr.shape(),
        lr.as_slice()[0]
    );

    let t = Instant::now();
    r.verify()?;
    println!(
        "verify (every checksum, every chunk) in {:.2?}",
        t.elapsed()
    );
    Ok(())
}
