//! The range a column's values actually have, computed from its buffers: what rule D11
//! (spec/FORMAT.md §14.7) compares the manifest's `min`/`max` with before anything may trust
//! them. It runs once per column at first access, so it is written to vectorize: values are
//! folded in blocks of 64 rows (one word of the validity bitmap) into several lanes of
//! accumulators, and large columns go in parallel pieces.

use half::f16;
use rayon::prelude::*;

use crate::frame::bitmap::Bitmap;
use crate::frame::types::StatRange;

/// Rows per parallel piece (a multiple of 64, so that pieces start on a bitmap word).
const PIECE: usize = 1 << 20;

/// A value type whose min/max fold vectorizes: comparisons with `<` and `>` and two identity
/// elements. For floats the identities are the infinities and NaN compares false, so NaN is
/// ignored without a branch.
trait Fold: Copy + PartialOrd + Send + Sync {
    const LO: Self;
    const HI: Self;
}

macro_rules! fold_int {
    ($($t:ty),*) => {$(impl Fold for $t { const LO: Self = <$t>::MAX; const HI: Self = <$t>::MIN; })*};
}
fold_int!(i8, i16, i32, i64, u8, u16, u32, u64);
impl Fold for f32 {
    const LO: Self = f32::INFINITY;
    const HI: Self = f32::NEG_INFINITY;
}
impl Fold for f64 {
    const LO: Self = f64::INFINITY;
    const HI: Self = f64::NEG_INFINITY;
}

const LANES: usize = 8;

/// `(lo, hi)` over the rows of `values` whose bit is set in `bits` (bit `i` of the word slice
/// is row `i`; all rows when `None`). Returns the identities when no row counts.
fn fold_piece<T: Fold>(values: &[T], bits: Option<&[u8]>) -> (T, T) {
    let mut lo = [T::LO; LANES];
    let mut hi = [T::HI; LANES];
    match bits {
        None => {
            let mut chunks = values.chunks_exact(LANES);
            for c in &mut chunks {
                for j in 0..LANES {
                    if c[j] < lo[j] {
                        lo[j] = c[j];
                    }
                    if c[j] > hi[j] {
                        hi[j] = c[j];
                    }
                }
            }
            for (j, &v) in chunks.remainder().iter().enumerate() {
                if v < lo[j] {
                    lo[j] = v;
                }
                if v > hi[j] {
                    hi[j] = v;
                }
            }
        }
        Some(bytes) => {
            for (k, block) in values.chunks(64).enumerate() {
                let mut word = [0u8; 8];
                let from = (k * 8).min(bytes.len());
                let to = (from + 8).min(bytes.len());
                word[..to - from].copy_from_slice(&bytes[from..to]);
                let word = u64::from_le_bytes(word);
                if word == 0 {
                    continue;
                }
                for (j, &v) in block.iter().enumerate() {
                    let valid = (word >> j) & 1 != 0;
                    let l = &mut lo[j % LANES];
                    if valid && v < *l {
                        *l = v;
                    }
                    let h = &mut hi[j % LANES];
                    if valid && v > *h {
                        *h = v;
                    }
                }
            }
        }
    }
    combine(lo.into_iter().zip(hi))
}

fn combine<T: Fold>(parts: impl Iterator<Item = (T, T)>) -> (T, T) {
    parts.fold((T::LO, T::HI), |(lo, hi), (l, h)| {
        (if l < lo { l } else { lo }, if h > hi { h } else { hi })
    })
}

/// `(lo, hi)` over the valid rows, in parallel pieces for large columns.
fn fold<T: Fold>(values: &[T], validity: Option<Bitmap<'_>>) -> (T, T) {
    let bits = validity.map(|b| b.as_bytes());
    let piece = |p: usize, chunk: &[T]| {
        let words = bits.map(|b| b.get((p * PIECE / 8).min(b.len())..).unwrap_or(&[]));
        fold_piece(chunk, words)
    };
    if values.len() < 2 * PIECE {
        piece(0, values)
    } else {
        let parts: Vec<(T, T)> = values
            .par_chunks(PIECE)
            .enumerate()
            .map(|(p, c)| piece(p, c))
            .collect();
        combine(parts.into_iter())
    }
}

/// The range of the valid rows of an integer column, or `None` when no row is valid.
fn int_range<T: Fold>(
    values: &[T],
    validity: Option<Bitmap<'_>>,
    valid_rows: usize,
    make: impl Fn(T, T) -> StatRange,
) -> Option<StatRange> {
    (valid_rows > 0).then(|| {
        let (lo, hi) = fold(values, validity);
        make(lo, hi)
    })
}

/// The range of the valid, non-NaN rows of a float column, or `None` when there is none (a
/// non-NaN value `x` leaves `lo ≤ x ≤ hi`; with none, `lo = +∞ > hi = −∞`).
fn float_range<T: Fold + Into<f64>>(
    values: &[T],
    validity: Option<Bitmap<'_>>,
) -> Option<StatRange> {
    let (lo, hi) = fold(values, validity);
    (lo <= hi).then(|| StatRange::Float(lo.into(), hi.into()))
}

/// The values of a fixed-width column, by the dtype the manifest gives them.
pub(crate) enum Values<'a> {
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    U64(&'a [u64]),
    F16(&'a [f16]),
    F32(&'a [f32]),
    F64(&'a [f64]),
    /// Bit-packed bools, `rows` of them.
    Bool(Bitmap<'a>),
}

/// The smallest and largest non-null (for floats: non-NaN) value, as a writer stores it
/// (spec/FORMAT.md §8.5), or `None` when there is no such value.
pub(crate) fn observed(values: Values<'_>, validity: Option<Bitmap<'_>>) -> Option<StatRange> {
    let rows = |n: usize| validity.map_or(n, |b| b.count_ones());
    let int = |lo: i64, hi: i64| StatRange::Int(lo, hi);
    let uint = |lo: u64, hi: u64| StatRange::UInt(lo, hi);
    match values {
        Values::I8(v) => int_range(v, validity, rows(v.len()), |a, b| int(a.into(), b.into())),
        Values::I16(v) => int_range(v, validity, rows(v.len()), |a, b| int(a.into(), b.into())),
        Values::I32(v) => int_range(v, validity, rows(v.len()), |a, b| int(a.into(), b.into())),
        Values::I64(v) => int_range(v, validity, rows(v.len()), int),
        Values::U8(v) => int_range(v, validity, rows(v.len()), |a, b| uint(a.into(), b.into())),
        Values::U16(v) => int_range(v, validity, rows(v.len()), |a, b| uint(a.into(), b.into())),
        Values::U32(v) => int_range(v, validity, rows(v.len()), |a, b| uint(a.into(), b.into())),
        Values::U64(v) => int_range(v, validity, rows(v.len()), uint),
        Values::F16(v) => {
            // Rare enough that a plain loop does; every f16 converts exactly to f32.
            let widened: Vec<f32> = v.iter().map(|x| x.to_f32()).collect();
            float_range(&widened, validity)
        }
        Values::F32(v) => float_range(v, validity),
        Values::F64(v) => float_range(v, validity),
        Values::Bool(bits) => bool_range(bits, validity),
    }
}

/// Whether a false and whether a true occurs among the valid rows, a byte at a time.
fn bool_range(values: Bitmap<'_>, validity: Option<Bitmap<'_>>) -> Option<StatRange> {
    let n = values.len();
    let (mut any_false, mut any_true) = (false, false);
    let bytes = values.as_bytes();
    let valid = validity.map(|b| b.as_bytes());
    for (i, &b) in bytes.iter().take(n.div_ceil(8)).enumerate() {
        let tail = if (i + 1) * 8 > n {
            (1u8 << (n % 8)) - 1
        } else {
            0xFF
        };
        let mask = tail & valid.map_or(0xFF, |v| v.get(i).copied().unwrap_or(0));
        any_true |= b & mask != 0;
        any_false |= !b & mask != 0;
        if any_true && any_false {
            break;
        }
    }
    match (any_false, any_true) {
        (false, false) => None,
        (f, t) => Some(StatRange::Int(i64::from(!f), i64::from(t))),
    }
}

/// Whether a stored range says what `observed` found: integers exactly, floats numerically
/// (so −0.0 and 0.0 are equal, as the spec allows either; a stored NaN equals nothing).
/// Returns the field that differs: `min` first, then `max`.
pub(crate) fn mismatch(stored: StatRange, observed: StatRange) -> Option<&'static str> {
    let (min_ok, max_ok) = match (stored, observed) {
        (StatRange::Int(a, b), StatRange::Int(c, d)) => (a == c, b == d),
        (StatRange::UInt(a, b), StatRange::UInt(c, d)) => (a == c, b == d),
        #[allow(clippy::float_cmp)]
        (StatRange::Float(a, b), StatRange::Float(c, d)) => (a == c, b == d),
        _ => (false, false),
    };
    if !min_ok {
        Some("min")
    } else if !max_ok {
        Some("max")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::BitmapBuilder;

    fn plain_f64(values: &[f64], valid: &[bool]) -> Option<StatRange> {
        let mut it = values
            .iter()
            .zip(valid)
            .filter(|(v, ok)| **ok && !v.is_nan())
            .map(|(v, _)| *v);
        let first = it.next()?;
        let (lo, hi) = it.fold((first, first), |(l, h), v| (l.min(v), h.max(v)));
        Some(StatRange::Float(lo, hi))
    }

    #[test]
    fn the_vectorized_fold_matches_a_plain_scan_across_blocks_and_pieces() {
        let n = 2 * PIECE + 77;
        let values: Vec<f64> = (0..n)
            .map(|i| match i % 97 {
                0 => f64::NAN,
                k => (k as f64 - 50.0) * (i as f64).sin(),
            })
            .collect();
        for &(period, offset) in &[(1usize, 0usize), (3, 1), (64, 5), (1000, 999)] {
            let valid: Vec<bool> = (0..n).map(|i| i % period == offset % period).collect();
            let mut b = BitmapBuilder::default();
            valid.iter().for_each(|&v| b.push(v));
            let (bytes, _) = b.finish();
            let bits = Bitmap::new(&bytes, n).unwrap();
            let got = observed(Values::F64(&values), Some(bits));
            assert_eq!(got, plain_f64(&values, &valid), "period {period}");
        }
        let all = vec![true; n];
        assert_eq!(
            observed(Values::F64(&values), None),
            plain_f64(&values, &all)
        );
        // The extremes at the very first and last rows.
        let mut ints: Vec<i64> = (0..n as i64).map(|i| i % 1000).collect();
        ints[0] = i64::MIN;
        ints[n - 1] = i64::MAX;
        assert_eq!(
            observed(Values::I64(&ints), None),
            Some(StatRange::Int(i64::MIN, i64::MAX))
        );
    }

    #[test]
    fn no_value_means_no_range() {
        assert_eq!(observed(Values::F64(&[f64::NAN, f64::NAN]), None), None);
        assert_eq!(observed(Values::I32(&[]), None), None);
        let bytes = [0u8];
        let none = Bitmap::new(&bytes, 3).unwrap();
        assert_eq!(observed(Values::I32(&[1, 2, 3]), Some(none)), None);
        assert_eq!(
            observed(Values::F64(&[f64::INFINITY]), None),
            Some(StatRange::Float(f64::INFINITY, f64::INFINITY))
        );
    }

    #[test]
    fn bools_ignore_bits_past_the_rows_and_null_rows() {
        // Rows: true, false(null), true; padding bits set.
        let values = [0b1111_1101u8];
        let valid = [0b0000_0101u8];
        let v = Bitmap::new(&values, 3).unwrap();
        let ok = Bitmap::new(&valid, 3).unwrap();
        assert_eq!(
            observed(Values::Bool(v), Some(ok)),
            Some(StatRange::Int(1, 1))
        );
        assert_eq!(observed(Values::Bool(v), None), Some(StatRange::Int(0, 1)));
    }

    #[test]
    fn negative_zero_equals_zero_and_nan_equals_nothing() {
        let f = StatRange::Float;
        assert_eq!(mismatch(f(-0.0, 1.0), f(0.0, 1.0)), None);
        assert_eq!(mismatch(f(f64::NAN, 1.0), f(0.0, 1.0)), Some("min"));
        assert_eq!(mismatch(f(0.0, 2.0), f(0.0, 1.0)), Some("max"));
        assert_eq!(
            mismatch(StatRange::Int(0, 1), StatRange::UInt(0, 1)),
            Some("min")
        );
    }
}
