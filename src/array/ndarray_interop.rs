//! `ndarray` interop (feature `ndarray`): views as `ArrayViewD`, writes from any `ArrayBase`.

use ndarray::{ArrayBase, ArrayViewD, Data, Dimension, IxDyn};

use crate::array::{ArrayView, Element};
use crate::error::Result;
use crate::writer::{EntryOptions, Writer};

impl<'r, T: Element> ArrayView<'r, T> {
    /// The array as an `ndarray` view of the same memory (no copy).
    pub fn as_ndarray(&self) -> ArrayViewD<'r, T> {
        let shape: Vec<usize> = self.shape().iter().map(|&d| d as usize).collect();
        // The shape's product equals the slice length: tier 1 checked it when the file was
        // opened (dtype size x shape == section length), so this cannot fail.
        ArrayViewD::from_shape(IxDyn(&shape), self.as_slice())
            .unwrap_or_else(|_| unreachable!("shape and length were validated at open"))
    }
}

impl Writer {
    /// Writes an `ndarray` array in C order. Arrays in standard layout are written straight
    /// from their memory; others (Fortran order, strided views) are written element by element
    /// through a buffer of bounded size.
    ///
    /// # Errors
    /// As [`Writer::put_array_with`].
    pub fn put_ndarray<T, S, D>(
        &mut self,
        name: &str,
        array: &ArrayBase<S, D>,
        options: &EntryOptions,
    ) -> Result<()>
    where
        T: Element,
        S: Data<Elem = T>,
        D: Dimension,
    {
        if let Some(slice) = array.as_slice() {
            return self.put_array_with(name, slice, array.shape(), options);
        }
        let mut w = self.array_writer::<T>(name, array.shape(), options)?;
        let mut buf = Vec::with_capacity(64 * 1024);
        for &x in array.iter() {
            buf.push(x);
            if buf.len() == buf.capacity() {
                w.write(&buf)?;
                buf.clear();
            }
        }
        w.write(&buf)?;
        w.finish()
    }
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
