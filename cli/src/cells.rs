//! The values of a frame's columns as text, for `brine head` and CSV export.
//!
//! Each column is turned once into a [`Cells`] closure over its typed view (checked on first
//! access, as every brine read is), which then writes any row's value without allocating.

use std::fmt::Write as _;

use brine::Element;
use brine::frame::{ColumnType, ColumnView, TimeUnit};
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};

use crate::elements::with_element;
use crate::error::{CliError, Result};

/// Writes the value of row `i` to `out`; returns `false` (and writes nothing) for a null.
pub type Cells<'r> = Box<dyn Fn(usize, &mut String) -> bool + 'r>;

/// How values are spelled.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// For a CSV file another tool reads back: full precision, binary as hex.
    Csv,
    /// For a person: durations with their unit, binary as `0x` hex.
    Display,
}

/// The cells of `column`.
///
/// # Errors
/// The column's first-access checks (brine's tier 2), as a data error.
pub fn cells<'r>(column: &ColumnView<'r>, style: Style) -> Result<Cells<'r>> {
    Ok(match column.ty() {
        ColumnType::Bool => {
            let c = column.bools()?;
            Box::new(move |i, out| {
                c.get(i)
                    .map(|b| out.push_str(if b { "true" } else { "false" }))
                    .is_some()
            })
        }
        ColumnType::Primitive(dtype) => with_element!(dtype, T => primitive::<T>(column))?,
        ColumnType::Utf8 => {
            let c = column.strings()?;
            Box::new(move |i, out| c.get(i).map(|s| out.push_str(s)).is_some())
        }
        ColumnType::Categorical { .. } => {
            let c = column.categorical()?;
            Box::new(move |i, out| c.get(i).map(|s| out.push_str(s)).is_some())
        }
        ColumnType::Binary => {
            let c = column.binary()?;
            Box::new(move |i, out| {
                c.get(i)
                    .map(|bytes| {
                        if style == Style::Display {
                            out.push_str("0x");
                        }
                        for b in bytes {
                            let _ = write!(out, "{b:02x}");
                        }
                    })
                    .is_some()
            })
        }
        ColumnType::Date => {
            let c = column.dates()?;
            Box::new(move |i, out| c.get(i).map(|d| write_date(d, out)).is_some())
        }
        ColumnType::Timestamp { unit, zone } => {
            let c = column.timestamps()?.values;
            let zone = Zone::parse(zone.as_deref());
            Box::new(move |i, out| {
                c.get(i)
                    .map(|t| write_timestamp(t, unit, &zone, out))
                    .is_some()
            })
        }
        ColumnType::Duration(unit) => {
            let c = column.timestamps()?.values;
            Box::new(move |i, out| {
                c.get(i)
                    .map(|d| match style {
                        Style::Csv => {
                            let _ = write!(out, "{d}");
                        }
                        Style::Display => {
                            let _ = write!(out, "{d}{}", unit.name());
                        }
                    })
                    .is_some()
            })
        }
        other => {
            return Err(CliError::Data(format!(
                "column {:?} has type {other}, which this version of the brine tool cannot show",
                column.name()
            )));
        }
    })
}

fn primitive<'r, T: Element + Text>(column: &ColumnView<'r>) -> Result<Cells<'r>> {
    let c = column.primitive::<T>()?;
    Ok(Box::new(move |i, out| {
        c.get(i).map(|v| v.text(out)).is_some()
    }))
}

/// A number as text that parses back to the same value (floats: the shortest such text, with
/// an exponent for very large and very small magnitudes; `NaN`, `inf`, `-inf`).
trait Text {
    fn text(self, out: &mut String);
}

macro_rules! integer_text {
    ($($t:ty),*) => {$(
        impl Text for $t {
            fn text(self, out: &mut String) {
                let _ = write!(out, "{self}");
            }
        }
    )*};
}
integer_text!(i8, i16, i32, i64, u8, u16, u32, u64);

impl Text for bool {
    fn text(self, out: &mut String) {
        out.push_str(if self { "true" } else { "false" });
    }
}

impl Text for f64 {
    fn text(self, out: &mut String) {
        // Debug, unlike Display, switches to an exponent outside 1e-5..1e16.
        let _ = write!(out, "{self:?}");
    }
}

impl Text for f32 {
    fn text(self, out: &mut String) {
        let _ = write!(out, "{self:?}");
    }
}

impl Text for half::f16 {
    fn text(self, out: &mut String) {
        f32::from(self).text(out);
    }
}

impl Text for half::bf16 {
    fn text(self, out: &mut String) {
        f32::from(self).text(out);
    }
}

/// A timestamp column's zone, resolved once.
enum Zone {
    /// No zone: the values are shown as UTC wall-clock times without an offset.
    Naive,
    Fixed(FixedOffset),
    Named(chrono_tz::Tz),
}

impl Zone {
    fn parse(zone: Option<&str>) -> Zone {
        let Some(zone) = zone else {
            return Zone::Naive;
        };
        if let Ok(tz) = zone.parse::<chrono_tz::Tz>() {
            return Zone::Named(tz);
        }
        // brine refused any other zone at open (rule F4): what is left is `±HH:MM`.
        brine::frame::fixed_offset(zone)
            .and_then(FixedOffset::east_opt)
            .map_or(Zone::Naive, Zone::Fixed)
    }
}

/// ISO 8601: `2024-03-01T12:00:00.250` (fraction digits by unit), with the zone's offset
/// (`+01:00`, `Z` for UTC) when the column has a zone. A value outside chrono's range of
/// years is written as its integer count of units.
fn write_timestamp(t: i64, unit: TimeUnit, zone: &Zone, out: &mut String) {
    let per_second = unit.per_second();
    let (secs, sub) = (t.div_euclid(per_second), t.rem_euclid(per_second));
    let nanos = sub * (1_000_000_000 / per_second);
    let Some(utc) = u32::try_from(nanos)
        .ok()
        .and_then(|n| DateTime::<Utc>::from_timestamp(secs, n))
    else {
        let _ = write!(out, "{t}");
        return;
    };
    let format = match unit {
        TimeUnit::Second => "%Y-%m-%dT%H:%M:%S",
        TimeUnit::Millisecond => "%Y-%m-%dT%H:%M:%S%.3f",
        TimeUnit::Microsecond => "%Y-%m-%dT%H:%M:%S%.6f",
        TimeUnit::Nanosecond => "%Y-%m-%dT%H:%M:%S%.9f",
    };
    let _ = match zone {
        Zone::Naive => write!(out, "{}", utc.naive_utc().format(format)),
        Zone::Fixed(offset) => write!(
            out,
            "{}{}",
            offset.from_utc_datetime(&utc.naive_utc()).format(format),
            offset
        ),
        Zone::Named(chrono_tz::Tz::UTC) => write!(out, "{}Z", utc.format(format)),
        Zone::Named(tz) => {
            let local = tz.from_utc_datetime(&utc.naive_utc());
            write!(out, "{}{}", local.format(format), local.format("%:z"))
        }
    };
}

/// `YYYY-MM-DD`, or the integer count of days outside chrono's range.
fn write_date(days: i32, out: &mut String) {
    let date = NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|epoch| epoch.checked_add_signed(chrono::TimeDelta::days(i64::from(days))));
    let _ = match date {
        Some(d) => write!(out, "{}", d.format("%Y-%m-%d")),
        None => write!(out, "{days}"),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(t: i64, unit: TimeUnit, zone: Option<&str>) -> String {
        let mut s = String::new();
        write_timestamp(t, unit, &Zone::parse(zone), &mut s);
        s
    }

    #[test]
    fn timestamps_are_iso_8601_with_the_zone_offset() {
        assert_eq!(ts(0, TimeUnit::Second, None), "1970-01-01T00:00:00");
        assert_eq!(
            ts(-1, TimeUnit::Millisecond, None),
            "1969-12-31T23:59:59.999"
        );
        assert_eq!(
            ts(1_709_294_400_000_000, TimeUnit::Microsecond, Some("UTC")),
            "2024-03-01T12:00:00.000000Z"
        );
        assert_eq!(
            ts(1_709_294_400, TimeUnit::Second, Some("Europe/Paris")),
            "2024-03-01T13:00:00+01:00"
        );
        assert_eq!(
            ts(1_709_294_400, TimeUnit::Second, Some("-05:30")),
            "2024-03-01T06:30:00-05:30"
        );
        assert_eq!(ts(i64::MAX, TimeUnit::Second, None), i64::MAX.to_string());
    }

    #[test]
    fn dates_and_floats() {
        let mut s = String::new();
        write_date(19_783, &mut s);
        s.push(' ');
        write_date(i32::MIN, &mut s);
        assert_eq!(s, format!("2024-03-01 {}", i32::MIN));
        let mut s = String::new();
        for v in [0.1f64, 1e300, -0.0, f64::NAN, f64::NEG_INFINITY, 5e-324] {
            v.text(&mut s);
            s.push(' ');
        }
        assert_eq!(s, "0.1 1e300 -0.0 NaN -inf 5e-324 ");
        for v in [0.1f64, 1e300, 5e-324, 123456.789] {
            let mut s = String::new();
            v.text(&mut s);
            assert_eq!(s.parse::<f64>().unwrap().to_bits(), v.to_bits());
        }
    }
}
