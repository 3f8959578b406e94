//! Element types and their codes on disk (spec/FORMAT.md, "Dtypes").

use std::fmt;

/// The element type of an array.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dtype {
    /// `bool`, one byte, 0 or 1.
    Bool,
    /// `i8`.
    I8,
    /// `i16`, little-endian.
    I16,
    /// `i32`, little-endian.
    I32,
    /// `i64`, little-endian.
    I64,
    /// `u8`.
    U8,
    /// `u16`, little-endian.
    U16,
    /// `u32`, little-endian.
    U32,
    /// `u64`, little-endian.
    U64,
    /// IEEE 754 binary16, little-endian.
    F16,
    /// bfloat16, little-endian.
    BF16,
    /// IEEE 754 binary32, little-endian.
    F32,
    /// IEEE 754 binary64, little-endian.
    F64,
}

impl Dtype {
    /// Every dtype, in code order.
    pub const ALL: [Dtype; 13] = [
        Dtype::Bool,
        Dtype::I8,
        Dtype::I16,
        Dtype::I32,
        Dtype::I64,
        Dtype::U8,
        Dtype::U16,
        Dtype::U32,
        Dtype::U64,
        Dtype::F16,
        Dtype::BF16,
        Dtype::F32,
        Dtype::F64,
    ];

    /// The code stored in the manifest.
    pub const fn code(self) -> u8 {
        match self {
            Dtype::Bool => 0,
            Dtype::I8 => 1,
            Dtype::I16 => 2,
            Dtype::I32 => 3,
            Dtype::I64 => 4,
            Dtype::U8 => 5,
            Dtype::U16 => 6,
            Dtype::U32 => 7,
            Dtype::U64 => 8,
            Dtype::F16 => 9,
            Dtype::BF16 => 10,
            Dtype::F32 => 11,
            Dtype::F64 => 12,
        }
    }

    /// The dtype with this code, if the code is known to this build.
    pub fn from_code(code: u8) -> Option<Dtype> {
        Dtype::ALL.get(usize::from(code)).copied()
    }

    /// Size of one element in bytes (also its alignment).
    pub const fn size(self) -> usize {
        match self {
            Dtype::Bool | Dtype::I8 | Dtype::U8 => 1,
            Dtype::I16 | Dtype::U16 | Dtype::F16 | Dtype::BF16 => 2,
            Dtype::I32 | Dtype::U32 | Dtype::F32 => 4,
            Dtype::I64 | Dtype::U64 | Dtype::F64 => 8,
        }
    }

    /// The lowercase name used in messages, the CLI and the spec (`f32`, `bf16`...).
    pub const fn name(self) -> &'static str {
        match self {
            Dtype::Bool => "bool",
            Dtype::I8 => "i8",
            Dtype::I16 => "i16",
            Dtype::I32 => "i32",
            Dtype::I64 => "i64",
            Dtype::U8 => "u8",
            Dtype::U16 => "u16",
            Dtype::U32 => "u32",
            Dtype::U64 => "u64",
            Dtype::F16 => "f16",
            Dtype::BF16 => "bf16",
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Dtype {
    type Err = ParseNameError;

    /// Parses the name [`Dtype::name`] gives (`"f32"`, `"bf16"`...).
    fn from_str(s: &str) -> Result<Dtype, ParseNameError> {
        Dtype::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| ParseNameError {
                what: "dtype",
                text: s.to_owned(),
                expected: "bool, i8, i16, i32, i64, u8, u16, u32, u64, f16, bf16, f32 or f64",
            })
    }
}

/// A name that is not the name of a dtype, time unit or column type (from their `FromStr`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseNameError {
    pub(crate) what: &'static str,
    pub(crate) text: String,
    pub(crate) expected: &'static str,
}

impl fmt::Display for ParseNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a {} (expected {})",
            self.text, self.what, self.expected
        )
    }
}

impl std::error::Error for ParseNameError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_dense() {
        for (i, d) in Dtype::ALL.iter().enumerate() {
            assert_eq!(usize::from(d.code()), i);
            assert_eq!(Dtype::from_code(d.code()), Some(*d));
        }
        assert_eq!(Dtype::from_code(13), None);
    }

    #[test]
    fn names_parse_back() {
        for d in Dtype::ALL {
            assert_eq!(d.name().parse::<Dtype>(), Ok(d));
        }
        assert!("float".parse::<Dtype>().is_err());
    }
}
