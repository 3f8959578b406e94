//! LSB-first bitmaps, as Arrow stores validity and booleans: bit `i` is bit `i % 8` of byte
//! `i / 8`.

/// A borrowed bitmap of `len` bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bitmap<'a> {
    bytes: &'a [u8],
    len: usize,
}

impl<'a> Bitmap<'a> {
    /// A bitmap over `bytes`, or `None` if `bytes` holds fewer than `len` bits.
    pub fn new(bytes: &'a [u8], len: usize) -> Option<Self> {
        (bytes.len() >= len.div_ceil(8)).then_some(Bitmap { bytes, len })
    }

    /// Number of bits.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no bits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes, `ceil(len / 8)` of them or more.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Bit `i`.
    ///
    /// # Panics
    /// If `i >= len`.
    #[inline]
    pub fn get(&self, i: usize) -> bool {
        assert!(i < self.len, "bit {i} of a bitmap of {}", self.len);
        self.bytes[i / 8] & (1 << (i % 8)) != 0
    }

    /// Number of set bits among the first `len`.
    pub fn count_ones(&self) -> usize {
        let whole = self.len / 8;
        let mut n: usize = self.bytes[..whole]
            .iter()
            .map(|b| b.count_ones() as usize)
            .sum();
        if self.len % 8 != 0 {
            let mask = (1u8 << (self.len % 8)) - 1;
            n += (self.bytes[whole] & mask).count_ones() as usize;
        }
        n
    }

    /// Number of clear bits among the first `len` (for validity: the null count).
    pub fn count_zeros(&self) -> usize {
        self.len - self.count_ones()
    }

    /// Every bit, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = bool> + 'a {
        let bytes = self.bytes;
        (0..self.len).map(move |i| bytes[i / 8] & (1 << (i % 8)) != 0)
    }
}

/// Builds a bitmap bit by bit, or by appending other bitmaps at any bit offset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BitmapBuilder {
    bytes: Vec<u8>,
    len: usize,
}

impl BitmapBuilder {
    /// An empty bitmap.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty bitmap with room for `bits` bits.
    pub fn with_capacity(bits: usize) -> Self {
        BitmapBuilder {
            bytes: Vec::with_capacity(bits.div_ceil(8)),
            len: 0,
        }
    }

    /// Number of bits.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no bits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends one bit.
    #[inline]
    pub fn push(&mut self, bit: bool) {
        if self.len % 8 == 0 {
            self.bytes.push(0);
        }
        if bit {
            // `bytes` has ceil(len + 1 / 8) bytes: one was pushed above if needed.
            if let Some(last) = self.bytes.last_mut() {
                *last |= 1 << (self.len % 8);
            }
        }
        self.len += 1;
    }

    /// Appends `n` copies of `bit`.
    pub fn push_n(&mut self, bit: bool, n: usize) {
        // Fill the partial byte bit by bit, then whole bytes at once.
        let mut n = n;
        while n > 0 && self.len % 8 != 0 {
            self.push(bit);
            n -= 1;
        }
        self.bytes
            .extend(std::iter::repeat_n(if bit { 0xFF } else { 0 }, n / 8));
        self.len += n / 8 * 8;
        for _ in 0..n % 8 {
            self.push(bit);
        }
    }

    /// Appends every bit of `other`.
    pub fn extend_from_bitmap(&mut self, other: Bitmap<'_>) {
        if self.len % 8 == 0 {
            let whole = other.len() / 8;
            self.bytes.extend_from_slice(&other.as_bytes()[..whole]);
            self.len += whole * 8;
            for i in whole * 8..other.len() {
                self.push(other.get(i));
            }
        } else {
            for bit in other.iter() {
                self.push(bit);
            }
        }
    }

    /// The bitmap built so far.
    pub fn as_bitmap(&self) -> Bitmap<'_> {
        Bitmap {
            bytes: &self.bytes,
            len: self.len,
        }
    }

    /// Takes the whole bytes built so far, keeping a partial last byte: for writers that
    /// stream a bitmap out in pieces. Returns the bytes and leaves `len % 8` bits.
    pub(crate) fn take_whole_bytes(&mut self) -> Vec<u8> {
        let whole = self.len / 8;
        let rest = self.bytes.split_off(whole);
        self.len %= 8;
        std::mem::replace(&mut self.bytes, rest)
    }

    /// The bytes (`ceil(len / 8)`, unused bits zero) and the number of bits.
    pub fn finish(self) -> (Vec<u8>, usize) {
        (self.bytes, self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_get_count_and_append_at_any_offset() {
        let bits: Vec<bool> = (0..77).map(|i| i % 3 == 0 || i % 7 == 0).collect();
        for split in [0, 1, 8, 13, 64, 77] {
            let mut a = BitmapBuilder::new();
            bits[..split].iter().for_each(|&b| a.push(b));
            let mut b = BitmapBuilder::new();
            bits[split..].iter().for_each(|&x| b.push(x));
            a.extend_from_bitmap(b.as_bitmap());
            let bm = a.as_bitmap();
            assert_eq!(bm.iter().collect::<Vec<_>>(), bits, "split {split}");
            assert_eq!(bm.count_ones(), bits.iter().filter(|&&b| b).count());
        }
        let mut n = BitmapBuilder::new();
        n.push(true);
        n.push_n(false, 20);
        n.push_n(true, 3);
        assert_eq!(n.len(), 24);
        assert_eq!(n.as_bitmap().count_ones(), 4);
        let whole = n.take_whole_bytes();
        assert_eq!(whole.len(), 3);
        assert_eq!(n.len(), 0);
    }
}
