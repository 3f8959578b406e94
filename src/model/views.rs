//! Zero-copy helpers for archived models: numbers as native slices, and references from a model
//! to array entries of the same file (for tensors too large or too hot to archive).

use rkyv::rend::{f32_le, f64_le, i16_le, i32_le, i64_le, u16_le, u32_le, u64_le};
use rkyv::vec::ArchivedVec;
use rkyv::{Archive, Deserialize, Serialize};

use crate::array::{ArrayView, Element};
use crate::error::Result;
use crate::reader::Reader;

/// Archived numbers that are, byte for byte, native numbers on the little-endian targets brine
/// supports: an archived `Vec<f32>` can be read as a `&[f32]` without a copy.
pub trait NativeSlice {
    /// The native number type.
    type Native: Copy;

    /// The archived numbers as native ones.
    fn as_native(archived: &[Self]) -> &[Self::Native]
    where
        Self: Sized;
}

macro_rules! native_slice {
    ($($le:ty => $native:ty),* $(,)?) => {$(
        impl NativeSlice for $le {
            type Native = $native;
            fn as_native(archived: &[Self]) -> &[$native] {
                // Same size and alignment (rkyv's `aligned` feature), and brine builds only on
                // little-endian targets: a plain reinterpretation.
                bytemuck::cast_slice(archived)
            }
        }
    )*};
}

native_slice!(
    i16_le => i16, i32_le => i32, i64_le => i64,
    u16_le => u16, u32_le => u32, u64_le => u64,
    f32_le => f32, f64_le => f64,
);

impl NativeSlice for u8 {
    type Native = u8;
    fn as_native(archived: &[u8]) -> &[u8] {
        archived
    }
}

impl NativeSlice for i8 {
    type Native = i8;
    fn as_native(archived: &[i8]) -> &[i8] {
        archived
    }
}

/// Views an archived `Vec` of numbers as a native slice, in place.
///
/// ```
/// # use brine::model::numbers;
/// let bytes = rkyv::to_bytes::<rkyv::rancor::Error>(&vec![1.5f32, 2.5]).unwrap();
/// let archived = rkyv::access::<rkyv::Archived<Vec<f32>>, rkyv::rancor::Error>(&bytes).unwrap();
/// assert_eq!(numbers(archived), &[1.5f32, 2.5]);
/// ```
pub fn numbers<A: NativeSlice>(v: &ArchivedVec<A>) -> &[A::Native] {
    A::as_native(v.as_slice())
}

/// A reference from a model to an array entry of the same file, by name: the pattern for large
/// weights. The tensor stays a page-aligned, zero-copy, optionally compressed array entry with
/// no 2 GiB limit, while the model archive holds only its name.
///
/// ```
/// # fn main() -> brine::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("m.brine");
/// use brine::model::TensorRef;
///
/// #[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine::Schema)]
/// struct Linear {
///     weights: TensorRef,
///     bias: f32,
/// }
///
/// let mut w = brine::Writer::create(&path)?;
/// w.put_array("linear.weights", &[0.5f32, -1.0, 2.0], &[3])?;
/// w.put_model("linear", &Linear { weights: TensorRef::new("linear.weights"), bias: 0.1 })?;
/// w.finish()?;
///
/// let r = brine::Reader::open(&path)?;
/// let model = r.model::<Linear>("linear")?;
/// let weights = model.weights.view::<f32>(&r)?;
/// assert_eq!(weights.as_slice(), &[0.5, -1.0, 2.0]);
/// # Ok(()) }
/// ```
#[derive(Archive, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, crate::Schema)]
#[rkyv(derive(Debug))]
pub struct TensorRef {
    /// The name of the array entry.
    pub name: String,
}

impl TensorRef {
    /// A reference to the array entry `name`.
    pub fn new(name: impl Into<String>) -> Self {
        TensorRef { name: name.into() }
    }
}

impl ArchivedTensorRef {
    /// The referenced array, viewed through `reader` (zero-copy when stored raw).
    ///
    /// # Errors
    /// As [`Reader::array`].
    pub fn view<'r, T: Element>(&self, reader: &'r Reader) -> Result<ArrayView<'r, T>> {
        reader.array::<T>(self.name.as_str())
    }
}
