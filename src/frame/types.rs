//! Column types and their codes on disk (spec/FORMAT.md, "Frames").

use std::fmt;

use crate::raw::manifest::{
    COLUMN_BINARY, COLUMN_BOOL, COLUMN_CATEGORICAL, COLUMN_DATE, COLUMN_DURATION, COLUMN_PRIMITIVE,
    COLUMN_TIMESTAMP, COLUMN_UTF8,
};
use crate::raw::{Dtype, ParseNameError};

/// The resolution of a timestamp or duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    /// Seconds (code 0).
    Second,
    /// Milliseconds (code 1).
    Millisecond,
    /// Microseconds (code 2).
    Microsecond,
    /// Nanoseconds (code 3).
    Nanosecond,
}

impl TimeUnit {
    /// The code stored in the manifest.
    pub const fn code(self) -> u8 {
        match self {
            TimeUnit::Second => 0,
            TimeUnit::Millisecond => 1,
            TimeUnit::Microsecond => 2,
            TimeUnit::Nanosecond => 3,
        }
    }

    /// The unit with this code, if known.
    pub const fn from_code(code: u8) -> Option<TimeUnit> {
        match code {
            0 => Some(TimeUnit::Second),
            1 => Some(TimeUnit::Millisecond),
            2 => Some(TimeUnit::Microsecond),
            3 => Some(TimeUnit::Nanosecond),
            _ => None,
        }
    }

    /// `s`, `ms`, `us` or `ns`.
    pub const fn name(self) -> &'static str {
        match self {
            TimeUnit::Second => "s",
            TimeUnit::Millisecond => "ms",
            TimeUnit::Microsecond => "us",
            TimeUnit::Nanosecond => "ns",
        }
    }

    /// Units per second.
    pub const fn per_second(self) -> i64 {
        match self {
            TimeUnit::Second => 1,
            TimeUnit::Millisecond => 1_000,
            TimeUnit::Microsecond => 1_000_000,
            TimeUnit::Nanosecond => 1_000_000_000,
        }
    }
}

/// The logical type of a column.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ColumnType {
    /// Booleans, bit-packed LSB first.
    Bool,
    /// Fixed-width numbers: any integer dtype, `f16`, `f32` or `f64` (not `bf16` or `bool`).
    Primitive(Dtype),
    /// UTF-8 strings: 64-bit offsets plus bytes (Arrow's `LargeUtf8`).
    Utf8,
    /// Byte strings: 64-bit offsets plus bytes (Arrow's `LargeBinary`).
    Binary,
    /// `i64` counts of `unit` since 1970-01-01T00:00:00 UTC, shown in `zone` (an IANA name
    /// such as `Europe/Paris`, or a fixed offset such as `+01:00`) when there is one.
    Timestamp {
        /// The resolution.
        unit: TimeUnit,
        /// The time zone, if any.
        zone: Option<String>,
    },
    /// `i32` days since 1970-01-01 (Arrow's `Date32`).
    Date,
    /// `i64` lengths of time in `unit`.
    Duration(TimeUnit),
    /// `i32` codes into a dictionary of distinct strings (pandas' `category`, Arrow's
    /// `Dictionary(Int32, LargeUtf8)`).
    Categorical {
        /// Whether the categories are ordered, in dictionary order (pandas'
        /// `CategoricalDtype(ordered=True)`, Arrow's ordered dictionaries).
        ordered: bool,
    },
}

impl ColumnType {
    /// The kind code stored in the manifest.
    pub(crate) fn code(&self) -> u8 {
        match self {
            ColumnType::Bool => COLUMN_BOOL,
            ColumnType::Primitive(_) => COLUMN_PRIMITIVE,
            ColumnType::Utf8 => COLUMN_UTF8,
            ColumnType::Binary => COLUMN_BINARY,
            ColumnType::Timestamp { .. } => COLUMN_TIMESTAMP,
            ColumnType::Date => COLUMN_DATE,
            ColumnType::Duration(_) => COLUMN_DURATION,
            ColumnType::Categorical { .. } => COLUMN_CATEGORICAL,
        }
    }

    /// The dtype of the values buffer (`bool` for bit-packed booleans, `u8` for string bytes,
    /// `i32` for categorical codes).
    pub fn physical(&self) -> Dtype {
        match self {
            ColumnType::Bool => Dtype::Bool,
            ColumnType::Primitive(d) => *d,
            ColumnType::Utf8 | ColumnType::Binary => Dtype::U8,
            ColumnType::Timestamp { .. } | ColumnType::Duration(_) => Dtype::I64,
            ColumnType::Date | ColumnType::Categorical { .. } => Dtype::I32,
        }
    }

    /// The time unit of timestamps and durations.
    pub fn unit(&self) -> Option<TimeUnit> {
        match self {
            ColumnType::Timestamp { unit, .. } | ColumnType::Duration(unit) => Some(*unit),
            _ => None,
        }
    }

    /// The time zone of timestamps.
    pub fn zone(&self) -> Option<&str> {
        match self {
            ColumnType::Timestamp { zone, .. } => zone.as_deref(),
            _ => None,
        }
    }

    /// Whether values are strings or bytes delimited by offsets.
    pub fn has_offsets(&self) -> bool {
        matches!(self, ColumnType::Utf8 | ColumnType::Binary)
    }

    /// Whether a dtype may be the values of a [`ColumnType::Primitive`] column.
    pub fn is_primitive_dtype(d: Dtype) -> bool {
        !matches!(d, Dtype::Bool | Dtype::BF16)
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnType::Bool => f.write_str("bool"),
            ColumnType::Primitive(d) => write!(f, "{d}"),
            ColumnType::Utf8 => f.write_str("utf8"),
            ColumnType::Binary => f.write_str("binary"),
            ColumnType::Timestamp { unit, zone: None } => write!(f, "timestamp[{}]", unit.name()),
            ColumnType::Timestamp {
                unit,
                zone: Some(z),
            } => write!(f, "timestamp[{}, {z}]", unit.name()),
            ColumnType::Date => f.write_str("date"),
            ColumnType::Duration(unit) => write!(f, "duration[{}]", unit.name()),
            ColumnType::Categorical { ordered: false } => f.write_str("categorical"),
            ColumnType::Categorical { ordered: true } => f.write_str("categorical[ordered]"),
        }
    }
}

impl std::str::FromStr for TimeUnit {
    type Err = ParseNameError;

    /// Parses `s`, `ms`, `us` or `ns`.
    fn from_str(s: &str) -> Result<TimeUnit, ParseNameError> {
        (0..4)
            .filter_map(TimeUnit::from_code)
            .find(|u| u.name() == s)
            .ok_or_else(|| ParseNameError {
                what: "time unit",
                text: s.to_owned(),
                expected: "s, ms, us or ns",
            })
    }
}

impl std::str::FromStr for ColumnType {
    type Err = ParseNameError;

    /// Parses what [`ColumnType`]'s `Display` writes: `bool`, a dtype name, `utf8`, `binary`,
    /// `date`, `categorical`, `categorical[ordered]`, `timestamp[UNIT]`, `timestamp[UNIT, ZONE]` and
    /// `duration[UNIT]`. The zone is not checked here ([`crate::frame::FrameBuilder::build`]
    /// checks it).
    fn from_str(s: &str) -> Result<ColumnType, ParseNameError> {
        let error = || ParseNameError {
            what: "column type",
            text: s.to_owned(),
            expected: "bool, i8..i64, u8..u64, f16, f32, f64, utf8, binary, date, categorical, \
                       categorical[ordered], timestamp[UNIT], timestamp[UNIT, ZONE] or duration[UNIT]",
        };
        let unit = |u: &str| u.trim().parse::<TimeUnit>().map_err(|_| error());
        Ok(match s {
            "bool" => ColumnType::Bool,
            "utf8" => ColumnType::Utf8,
            "binary" => ColumnType::Binary,
            "date" => ColumnType::Date,
            "categorical" => ColumnType::Categorical { ordered: false },
            "categorical[ordered]" => ColumnType::Categorical { ordered: true },
            _ => {
                if let Some(args) = s
                    .strip_prefix("timestamp[")
                    .and_then(|r| r.strip_suffix(']'))
                {
                    match args.split_once(',') {
                        None => ColumnType::Timestamp {
                            unit: unit(args)?,
                            zone: None,
                        },
                        Some((u, zone)) if !zone.trim().is_empty() => ColumnType::Timestamp {
                            unit: unit(u)?,
                            zone: Some(zone.trim().to_owned()),
                        },
                        Some(_) => return Err(error()),
                    }
                } else if let Some(u) = s
                    .strip_prefix("duration[")
                    .and_then(|r| r.strip_suffix(']'))
                {
                    ColumnType::Duration(unit(u)?)
                } else {
                    match s.parse::<Dtype>() {
                        Ok(d) if ColumnType::is_primitive_dtype(d) => ColumnType::Primitive(d),
                        _ => return Err(error()),
                    }
                }
            }
        })
    }
}

/// A column's name and type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// The column's name.
    pub name: String,
    /// The column's type.
    pub ty: ColumnType,
}

/// Statistics of a column, computed by the writer and stored in the manifest, readable without
/// touching the column's data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ColumnStats {
    /// Number of null rows.
    pub null_count: u64,
    /// Smallest and largest non-null value, for numeric, temporal and bool columns with at
    /// least one non-null (and, for floats, non-NaN) value.
    pub range: Option<StatRange>,
}

/// The smallest and largest value of a column, in the column's own domain.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StatRange {
    /// Signed integers, timestamps, dates, durations and bools (0 or 1).
    Int(i64, i64),
    /// Unsigned integers.
    UInt(u64, u64),
    /// Floats (NaN is ignored).
    Float(f64, f64),
}

impl StatRange {
    /// How the 8-byte `min` and `max` fields of a column of this physical type are read.
    pub(crate) fn decode(physical: Dtype, min: u64, max: u64) -> StatRange {
        match physical {
            Dtype::U8 | Dtype::U16 | Dtype::U32 | Dtype::U64 => StatRange::UInt(min, max),
            Dtype::F16 | Dtype::F32 | Dtype::F64 | Dtype::BF16 => {
                StatRange::Float(f64::from_bits(min), f64::from_bits(max))
            }
            // The fields hold the two's-complement bits of signed values.
            _ => StatRange::Int(
                i64::from_ne_bytes(min.to_ne_bytes()),
                i64::from_ne_bytes(max.to_ne_bytes()),
            ),
        }
    }

    /// The 8-byte `min` and `max` fields.
    pub(crate) fn encode(self) -> (u64, u64) {
        match self {
            StatRange::Int(a, b) => (
                u64::from_ne_bytes(a.to_ne_bytes()),
                u64::from_ne_bytes(b.to_ne_bytes()),
            ),
            StatRange::UInt(a, b) => (a, b),
            StatRange::Float(a, b) => (a.to_bits(), b.to_bits()),
        }
    }
}

/// Whether a time zone name is one this build knows: an IANA name from the tz database bundled
/// by `chrono-tz`, or a fixed offset `+HH:MM` / `-HH:MM` (as Arrow accepts).
pub fn is_known_zone(zone: &str) -> bool {
    fixed_offset(zone).is_some() || zone.parse::<chrono_tz::Tz>().is_ok()
}

/// Whether `zone` has the form of a time zone (spec/FORMAT.md §8.1, rule F4): a fixed offset
/// `±HH:MM`, or a name of the IANA database's form: components separated by `/`, each an ASCII
/// letter followed by letters, digits, `.`, `_`, `-` or `+` (`Europe/Paris`, `Etc/GMT+5`).
/// Whether this build's database knows the name is a separate question, asked when a column
/// is first accessed (rule D10; [`is_known_zone`]), so that a zone newer than the reader's
/// database costs that column, not the file.
pub fn is_zone_form(zone: &str) -> bool {
    let component = |c: &str| {
        let mut bytes = c.bytes();
        bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
            && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+'))
    };
    fixed_offset(zone).is_some() || zone.split('/').all(component)
}

/// The seconds east of UTC of a fixed-offset zone `+HH:MM` / `-HH:MM` (`HH` ≤ 23, `MM` ≤ 59),
/// or `None` for anything else (an IANA name among them).
pub fn fixed_offset(zone: &str) -> Option<i32> {
    let b = zone.as_bytes();
    let well_formed = b.len() == 6
        && (b[0] == b'+' || b[0] == b'-')
        && b[1..3].iter().all(u8::is_ascii_digit)
        && b[3] == b':'
        && b[4..6].iter().all(u8::is_ascii_digit);
    if !well_formed {
        return None;
    }
    let hours: i32 = zone[1..3].parse().ok().filter(|h| *h <= 23)?;
    let minutes: i32 = zone[4..6].parse().ok().filter(|m| *m <= 59)?;
    let sign = if b[0] == b'-' { -1 } else { 1 };
    Some(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_zone_of_the_database_has_the_form_of_a_zone() {
        for tz in chrono_tz::TZ_VARIANTS {
            assert!(is_zone_form(tz.name()), "{}", tz.name());
        }
        for zone in ["+05:30", "-00:00", "Mars/Olympus", "Etc/GMT+5"] {
            assert!(is_zone_form(zone), "{zone}");
        }
        for zone in [
            "",
            "+24:00",
            "+0530",
            "/UTC",
            "UTC/",
            "Europe//Paris",
            "1st/Zone",
            "Europe/..",
            "Zone name",
            "Zoné",
        ] {
            assert!(!is_zone_form(zone), "{zone}");
        }
    }

    #[test]
    fn column_types_parse_what_they_display() {
        let mut types = vec![
            ColumnType::Bool,
            ColumnType::Utf8,
            ColumnType::Binary,
            ColumnType::Date,
            ColumnType::Categorical { ordered: false },
            ColumnType::Categorical { ordered: true },
        ];
        for unit in (0..4).filter_map(TimeUnit::from_code) {
            types.push(ColumnType::Timestamp { unit, zone: None });
            types.push(ColumnType::Timestamp {
                unit,
                zone: Some("Europe/Paris".to_owned()),
            });
            types.push(ColumnType::Duration(unit));
        }
        types.extend(
            Dtype::ALL
                .into_iter()
                .filter(|d| ColumnType::is_primitive_dtype(*d))
                .map(ColumnType::Primitive),
        );
        for ty in types {
            assert_eq!(ty.to_string().parse::<ColumnType>(), Ok(ty));
        }
        for bad in [
            "bf16",
            "timestamp[h]",
            "timestamp[ms, ]",
            "duration",
            "string",
            "",
        ] {
            let e = bad.parse::<ColumnType>().unwrap_err();
            assert!(e.to_string().contains("is not a column type"), "{e}");
        }
    }
}
