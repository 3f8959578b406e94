//! `ndarray` interop (feature `ndarray`): views as `ArrayViewD`, and any `ArrayBase`'s elements
//! in C order for the writer.

use ndarray::{ArrayBase, ArrayViewD, Data, Dimension, IxDyn};

use crate::array::{ArrayView, Element};
use crate::error::Result;

impl<'r, T: Element> ArrayView<'r, T> {
    /// The array as an `ndarray` view of the same memory (no copy).
    pub fn as_ndarray(&self) -> ArrayViewD<'r, T> {
        // A dimension past `usize::MAX` (only possible on a 32-bit target, beside a zero
        // dimension) saturates, and `from_shape` then refuses the shape.
        let shape: Vec<usize> = self
            .shape()
            .iter()
            .map(|&d| usize::try_from(d).unwrap_or(usize::MAX))
            .collect();
        // The shape's product equals the slice length: tier 1 checked it when the file was
        // opened (dtype size x shape == section length), so this cannot fail.
        ArrayViewD::from_shape(IxDyn(&shape), self.as_slice())
            .unwrap_or_else(|_| unreachable!("shape and length were validated at open"))
    }
}

/// Calls `f` with the elements of `array` in C order, in pieces: its own memory at once when it
/// is in standard layout, else (Fortran order, strided views) through a buffer of bounded
/// size. For [`Writer::put_ndarray`](crate::Writer::put_ndarray).
pub(crate) fn c_order_pieces<T, S, D>(
    array: &ArrayBase<S, D>,
    mut f: impl FnMut(&[T]) -> Result<()>,
) -> Result<()>
where
    T: Element,
    S: Data<Elem = T>,
    D: Dimension,
{
    if let Some(slice) = array.as_slice() {
        return f(slice);
    }
    let mut buf = Vec::with_capacity(64 * 1024);
    for &x in array.iter() {
        buf.push(x);
        if buf.len() == buf.capacity() {
            f(&buf)?;
            buf.clear();
        }
    }
    f(&buf)
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, ShapeBuilder};

    use crate::{EntryOptions, Reader, Writer};

    #[test]
    fn fortran_and_c_order_arrays_read_back_in_c_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nd.brine");
        let c = Array2::from_shape_fn((3, 4), |(i, j)| (i * 10 + j) as i32);
        let f = Array2::from_shape_fn((3, 4).f(), |(i, j)| (i * 10 + j) as i32);
        let mut w = Writer::create(&path).unwrap();
        w.put_ndarray("c", &c, &EntryOptions::new()).unwrap();
        w.put_ndarray("f", &f, &EntryOptions::new()).unwrap();
        w.put_ndarray("t", &c.t(), &EntryOptions::new()).unwrap();
        w.finish().unwrap();
        let r = Reader::open(&path).unwrap();
        assert_eq!(
            r.array::<i32>("c").unwrap().as_ndarray(),
            c.view().into_dyn()
        );
        assert_eq!(
            r.array::<i32>("f").unwrap().as_ndarray(),
            c.view().into_dyn()
        );
        assert_eq!(r.array::<i32>("t").unwrap().as_ndarray(), c.t().into_dyn());
    }
}
