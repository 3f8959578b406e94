//! `brine head`: the first rows of a frame as an aligned table.

use std::path::PathBuf;

use brine::Reader;
use brine::frame::ColumnType;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::cells::{Style, cells};
use crate::error::Result;

/// Widest a cell is shown, in terminal columns; longer values end with `…`.
const MAX_CELL_WIDTH: usize = 40;

/// Show the first rows of a frame as a table.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The brine file.
    file: PathBuf,
    /// The frame entry.
    frame: String,
    /// How many rows to show.
    #[arg(short = 'n', long = "rows", default_value_t = 10, value_name = "N")]
    rows: usize,
}

pub fn run(args: &Args) -> Result<()> {
    let reader = Reader::open(&args.file)?;
    let frame = reader.frame(&args.frame)?;
    let shown = args.rows.min(frame.rows());
    // One column of text per frame column: name, type, then the rows.
    let mut table: Vec<(Vec<String>, bool)> = Vec::with_capacity(frame.width());
    for column in frame.iter() {
        let ty = column.ty();
        let numeric = matches!(ty, ColumnType::Primitive(_) | ColumnType::Duration(_));
        let mut text = vec![column.name().to_owned(), ty.to_string()];
        let cell = cells(&column, Style::Display)?;
        for row in 0..shown {
            let mut s = String::new();
            if !cell(row, &mut s) {
                s.push_str("null");
            }
            text.push(clip(&s));
        }
        table.push((text, numeric));
    }
    let widths: Vec<usize> = table
        .iter()
        .map(|(text, _)| text.iter().map(|s| s.width()).max().unwrap_or(0))
        .collect();
    let mut out = format!(
        "{:?}: {} rows x {} columns\n",
        frame.name(),
        frame.rows(),
        frame.width()
    );
    for line in 0..shown + 2 {
        let mut row = String::new();
        for ((text, numeric), width) in table.iter().zip(&widths) {
            let s = &text[line];
            let pad = " ".repeat(width - s.width());
            // Numbers right-aligned under their header, like a spreadsheet.
            if *numeric && line >= 2 {
                row.push_str(&pad);
                row.push_str(s);
            } else {
                row.push_str(s);
                row.push_str(&pad);
            }
            row.push_str("  ");
        }
        out.push_str(row.trim_end());
        out.push('\n');
    }
    if shown < frame.rows() {
        out.push_str(&format!("({shown} of {} rows)\n", frame.rows()));
    }
    crate::print(&out)
}

/// `s` on one line and at most [`MAX_CELL_WIDTH`] columns wide.
fn clip(s: &str) -> String {
    let mut out = String::new();
    let mut width = 0;
    for c in s.chars() {
        let c = if c.is_control() { ' ' } else { c };
        let w = c.width().unwrap_or(0);
        if width + w > MAX_CELL_WIDTH - 1 {
            out.push('…');
            return out;
        }
        width += w;
        out.push(c);
    }
    out
}
