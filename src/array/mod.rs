//! n-dimensional numeric arrays: element types, and typed zero-copy views.

#[cfg(feature = "ndarray")]
pub(crate) mod ndarray_interop;
mod read;
mod rules;
mod write;

pub use read::ArrayEntry;
pub use write::ArrayWriter;

use bytemuck::PodCastError;
use half::{bf16, f16};

pub use crate::raw::Dtype;

mod sealed {
    pub trait Sealed {}
}

/// A Rust type that brine stores as an array element. Implemented for `bool`, the fixed-width
/// integers, `half::f16`, `half::bf16`, `f32` and `f64`.
pub trait Element:
    Copy + Send + Sync + PartialEq + std::fmt::Debug + 'static + sealed::Sealed
{
    /// The dtype recorded in the file.
    const DTYPE: Dtype;

    /// Views little-endian element bytes as elements without copying, or says why not
    /// (misaligned, length not a multiple of the element size, invalid bool byte).
    #[doc(hidden)]
    fn cast_slice(bytes: &[u8]) -> Result<&[Self], CastError>;

    /// The bytes of `data` as stored in a file.
    #[doc(hidden)]
    fn as_bytes(data: &[Self]) -> &[u8];

    /// Views bytes as elements without checking the elements' values.
    ///
    /// # Safety
    /// `bytes` must have passed [`Element::cast_slice`]: aligned, a whole number of elements,
    /// and every element a valid value (for `bool`, every byte 0 or 1).
    #[doc(hidden)]
    unsafe fn cast_slice_unchecked(bytes: &[u8]) -> &[Self];
}

/// Why bytes could not be viewed as elements.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CastError {
    /// The bytes do not start on the element's alignment.
    Misaligned,
    /// The length is not a multiple of the element size.
    Length,
    /// A byte of a `bool` array is neither 0 nor 1.
    InvalidBool,
}

impl From<PodCastError> for CastError {
    fn from(e: PodCastError) -> Self {
        match e {
            PodCastError::TargetAlignmentGreaterAndInputNotAligned => CastError::Misaligned,
            _ => CastError::Length,
        }
    }
}

macro_rules! pod_element {
    ($($t:ty => $d:ident),* $(,)?) => {$(
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: Dtype = Dtype::$d;
            fn cast_slice(bytes: &[u8]) -> Result<&[Self], CastError> {
                Ok(bytemuck::try_cast_slice(bytes)?)
            }
            fn as_bytes(data: &[Self]) -> &[u8] {
                bytemuck::cast_slice(data)
            }
            unsafe fn cast_slice_unchecked(bytes: &[u8]) -> &[Self] {
                // Every bit pattern is valid: only alignment and length matter, and the
                // caller's contract says they were checked.
                bytemuck::cast_slice(bytes)
            }
        }
    )*};
}

pod_element!(
    i8 => I8, i16 => I16, i32 => I32, i64 => I64,
    u8 => U8, u16 => U16, u32 => U32, u64 => U64,
    f16 => F16, bf16 => BF16, f32 => F32, f64 => F64,
);

impl sealed::Sealed for bool {}
impl Element for bool {
    const DTYPE: Dtype = Dtype::Bool;
    fn cast_slice(bytes: &[u8]) -> Result<&[Self], CastError> {
        // O(n): every byte must be 0 or 1; other bytes are not valid `bool`s. A plain loop
        // over bytes vectorizes; the reader caches the result per section.
        if !bytes.iter().all(|&b| b <= 1) {
            return Err(CastError::InvalidBool);
        }
        // SAFETY: every byte was just checked to be 0 or 1; `bool` has size and alignment 1,
        // so any slice of bytes is aligned and a whole number of elements.
        Ok(unsafe { Self::cast_slice_unchecked(bytes) })
    }
    fn as_bytes(data: &[Self]) -> &[u8] {
        bytemuck::cast_slice(data)
    }
    unsafe fn cast_slice_unchecked(bytes: &[u8]) -> &[Self] {
        // SAFETY: the caller's contract: `bytes` passed `cast_slice`, so every byte is 0 or 1,
        // which are the valid `bool`s; `bool` has size and alignment 1.
        unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<bool>(), bytes.len()) }
    }
}

// Every element type is little-endian on disk; the zero-copy casts above are only valid on
// little-endian targets.
#[cfg(not(target_endian = "little"))]
compile_error!("brine reads files zero-copy and supports little-endian targets only");

/// A typed view of an array entry: its shape and its elements, in C order, borrowed from the
/// reader (from the file's mapping when the entry is stored raw).
#[derive(Clone, Copy, Debug)]
pub struct ArrayView<'r, T> {
    data: &'r [T],
    shape: &'r [u64],
}

impl<'r, T: Element> ArrayView<'r, T> {
    pub(crate) fn new(data: &'r [T], shape: &'r [u64]) -> Self {
        ArrayView { data, shape }
    }

    /// The elements, in C order.
    pub fn as_slice(&self) -> &'r [T] {
        self.data
    }

    /// The shape, outermost dimension first; empty for a 0-d scalar.
    pub fn shape(&self) -> &'r [u64] {
        self.shape
    }

    /// The number of dimensions.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// The element type.
    pub fn dtype(&self) -> Dtype {
        T::DTYPE
    }

    /// Number of elements (1 for a 0-d scalar).
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the array has no elements (some dimension is 0).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}
