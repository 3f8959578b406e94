//! The tour: the three kinds of entries of a brine file, each written, reopened and read, with
//! what each step cost.
//!
//! 1. arrays: several arrays, one compressed;
//! 2. a frame: a real CSV shipped in the repo (`examples/data/seattle-weather.csv`) imported
//!    once, dates included, then reloaded in microseconds instead of re-parsed;
//! 3. a model: a random forest fitted on the iris data (`examples/data/iris.csv`), saved, then
//!    opened in a fresh process that predicts from the archived form without deserializing, and
//!    refuses a changed type with a clear message.
//!
//! Run with `cargo run --release --example tour [DIR]` (default `target/tour`).

mod arrays;
mod frames;
mod model;

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    // The model's second half runs in a fresh process: `tour predict FILE`.
    if first.as_deref() == Some("predict") {
        let path = PathBuf::from(args.next().ok_or("usage: tour predict FILE")?);
        return model::predict(&path);
    }
    let dir = PathBuf::from(first.unwrap_or_else(|| "target/tour".to_owned()));
    std::fs::create_dir_all(&dir)?;
    println!("== arrays ==");
    arrays::run(&dir.join("arrays.brine"))?;
    println!("\n== frame: a CSV parsed once ==");
    frames::run(&dir.join("weather.brine"))?;
    println!("\n== model: fit, save, reopen in a fresh process, predict ==");
    model::run(&dir.join("iris.brine"))?;
    Ok(())
}
