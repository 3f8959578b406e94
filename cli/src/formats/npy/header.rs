//! The `.npy` format (numpy's `lib/format.py`): a magic string, a version, a little-endian
//! header length, and a Python dict literal `{'descr': '<f4', 'fortran_order': False,
//! 'shape': (3, 4), }` padded with spaces to a multiple of 64 bytes; then the raw data.
//!
//! Only plain numeric dtypes are read. An object dtype (`'|O'`) means the data is a pickle:
//! brine never unpickles, so it is refused before any data is read.
//!
//! Self-contained (std and brine only): the fuzz target `import` (fuzz/src/lib.rs) and
//! tests/fuzz_regressions.rs include this file with `#[path]`.

use std::io::Read;

use brine::Dtype;

/// The magic string every `.npy` file starts with.
const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The largest header accepted. numpy itself refuses headers over 10,000 bytes unless told
/// otherwise; a longer one here is either hostile (the length field can claim 4 GiB) or a
/// structured dtype we would refuse anyway.
const MAX_HEADER_LEN: u32 = 1 << 20;

/// How deep a header literal may nest (structured dtypes nest lists of tuples); bounds the
/// recursion of the parser on hostile input.
const MAX_DEPTH: usize = 32;

/// What an `.npy` header says about the data that follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The element type.
    pub dtype: Dtype,
    /// Whether elements are big-endian (they are swapped to little-endian on import).
    pub big_endian: bool,
    /// Whether the data is in Fortran (column-major) order.
    pub fortran_order: bool,
    /// The shape, outermost first (empty for a 0-d array).
    pub shape: Vec<usize>,
    /// Bytes before the data (magic, version, length and header).
    pub data_offset: u64,
}

impl Header {
    /// Bytes of data the header announces, or `None` on overflow.
    pub fn data_len(&self) -> Option<u64> {
        self.shape
            .iter()
            .try_fold(self.dtype.size() as u64, |acc, &d| {
                acc.checked_mul(d as u64)
            })
    }
}

/// Reads and parses an `.npy` header from `r`, leaving `r` at the first byte of data. Errors
/// are messages without the file name (the caller adds it).
pub fn read_header(r: &mut impl Read) -> Result<Header, String> {
    let mut start = [0u8; 10];
    read_exact(r, &mut start, "the .npy preamble")?;
    if &start[..6] != MAGIC {
        return Err(format!(
            "not a .npy file (it starts with {:02x?}, not \\x93NUMPY)",
            &start[..6]
        ));
    }
    let (major, minor) = (start[6], start[7]);
    let (len, prefix) = match major {
        1 => (u32::from(u16::from_le_bytes([start[8], start[9]])), 10u64),
        2 | 3 => {
            let mut more = [0u8; 2];
            read_exact(r, &mut more, "the .npy header length")?;
            (
                u32::from_le_bytes([start[8], start[9], more[0], more[1]]),
                12u64,
            )
        }
        _ => {
            return Err(format!(
                ".npy format version {major}.{minor} is not supported (1.0 to 3.0 are)"
            ));
        }
    };
    if len > MAX_HEADER_LEN {
        return Err(format!(
            ".npy header is {len} bytes, over the {MAX_HEADER_LEN}-byte limit"
        ));
    }
    let mut text = vec![0u8; len as usize];
    read_exact(r, &mut text, "the .npy header")?;
    // Version 1 and 2 headers are latin-1 (in practice ASCII); version 3 allows UTF-8.
    let text = String::from_utf8(text).map_err(|_| ".npy header is not text".to_owned())?;
    let mut header = parse_dict(&text)?;
    header.data_offset = prefix + u64::from(len);
    Ok(header)
}

fn read_exact(r: &mut impl Read, buf: &mut [u8], what: &str) -> Result<(), String> {
    r.read_exact(buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => format!("truncated: the file ends inside {what}"),
        _ => format!("read: {e}"),
    })
}

/// A Python literal, as far as `.npy` headers use them.
#[derive(Debug)]
enum Py {
    Str(String),
    Int(u64),
    Bool(bool),
    Seq(Vec<Py>),
    Dict(Vec<(String, Py)>),
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.i).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected '{}'", c as char)))
        }
    }

    fn error(&self, what: &str) -> String {
        format!("malformed .npy header: {what} at byte {}", self.i)
    }

    fn value(&mut self, depth: usize) -> Result<Py, String> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        match self.peek() {
            Some(q @ (b'\'' | b'"')) => {
                self.i += 1;
                let start = self.i;
                while self.i < self.s.len() && self.s[self.i] != q {
                    if self.s[self.i] == b'\\' {
                        return Err(self.error("escapes in strings are not supported"));
                    }
                    self.i += 1;
                }
                if self.i == self.s.len() {
                    return Err(self.error("unterminated string"));
                }
                let text = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                self.i += 1;
                Ok(Py::Str(text))
            }
            Some(open @ (b'(' | b'[')) => {
                let close = if open == b'(' { b')' } else { b']' };
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    if self.peek() == Some(close) {
                        self.i += 1;
                        return Ok(Py::Seq(items));
                    }
                    items.push(self.value(depth + 1)?);
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(c) if c == close => {}
                        _ => return Err(self.error("expected ',' or the end of a sequence")),
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                        return Ok(Py::Dict(items));
                    }
                    let Py::Str(key) = self.value(depth + 1)? else {
                        return Err(self.error("a key that is not a string"));
                    };
                    self.expect(b':')?;
                    let value = self.value(depth + 1)?;
                    items.push((key, value));
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {}
                        _ => return Err(self.error("expected ',' or '}'")),
                    }
                }
            }
            Some(c) if c.is_ascii_digit() => {
                let start = self.i;
                while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                    self.i += 1;
                }
                let n = std::str::from_utf8(&self.s[start..self.i])
                    .ok()
                    .and_then(|t| t.parse::<u64>().ok())
                    .ok_or_else(|| self.error("a dimension too large"))?;
                // Python 2 wrote long integers with an `L` suffix.
                if self.s.get(self.i) == Some(&b'L') {
                    self.i += 1;
                }
                Ok(Py::Int(n))
            }
            Some(_) => {
                for (word, value) in [("True", true), ("False", false)] {
                    if self.s[self.i..].starts_with(word.as_bytes()) {
                        self.i += word.len();
                        return Ok(Py::Bool(value));
                    }
                }
                Err(self.error("unexpected character"))
            }
            None => Err(self.error("unexpected end")),
        }
    }
}

fn parse_dict(text: &str) -> Result<Header, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let Py::Dict(items) = p.value(0)? else {
        return Err(p.error("the header is not a dict"));
    };
    if p.peek().is_some() {
        return Err(p.error("text after the header dict"));
    }
    let field = |name: &str| {
        items
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .ok_or_else(|| format!("malformed .npy header: no '{name}' key"))
    };
    let (dtype, big_endian) = match field("descr")? {
        Py::Str(descr) => parse_descr(descr)?,
        _ => {
            return Err(
                "structured dtype (a record of named fields) is not supported: brine arrays hold one numeric dtype".to_owned(),
            );
        }
    };
    let Py::Bool(fortran_order) = field("fortran_order")? else {
        return Err("malformed .npy header: 'fortran_order' is not True or False".to_owned());
    };
    let Py::Seq(dims) = field("shape")? else {
        return Err("malformed .npy header: 'shape' is not a tuple".to_owned());
    };
    let shape =
        dims.iter()
            .map(|d| match d {
                Py::Int(n) => usize::try_from(*n)
                    .map_err(|_| format!("dimension {n} does not fit this machine")),
                _ => Err("malformed .npy header: a dimension that is not an integer".to_owned()),
            })
            .collect::<Result<Vec<_>, _>>()?;
    Ok(Header {
        dtype,
        big_endian,
        fortran_order: *fortran_order,
        shape,
        data_offset: 0,
    })
}

/// `'<f4'` → (`F32`, little-endian). Byte order `'|'` (not applicable) and `'='` (native)
/// count as little-endian: brine runs on little-endian machines only.
fn parse_descr(descr: &str) -> Result<(Dtype, bool), String> {
    let (order, code) = match descr.as_bytes().first() {
        Some(b'<' | b'|' | b'=') => (false, &descr[1..]),
        Some(b'>') => (true, &descr[1..]),
        _ => (false, descr),
    };
    let dtype = match code {
        "b1" | "?" => Dtype::Bool,
        "i1" => Dtype::I8,
        "i2" => Dtype::I16,
        "i4" => Dtype::I32,
        "i8" => Dtype::I64,
        "u1" => Dtype::U8,
        "u2" => Dtype::U16,
        "u4" => Dtype::U32,
        "u8" => Dtype::U64,
        "f2" => Dtype::F16,
        "f4" => Dtype::F32,
        "f8" => Dtype::F64,
        c if c.starts_with('O') => {
            return Err(format!(
                "object dtype '{descr}': the array holds pickled Python objects, which brine never loads (convert it to a numeric dtype first)"
            ));
        }
        _ => {
            return Err(format!(
                "dtype '{descr}' is not supported (brine arrays hold bool, i1..i8, u1..u8, f2, f4, f8, and bf16 from .safetensors)"
            ));
        }
    };
    Ok((dtype, order && dtype.size() > 1))
}

/// The `descr` numpy writes for a brine dtype; `None` for bf16, which numpy has no dtype for.
pub fn descr(dtype: Dtype) -> Option<&'static str> {
    Some(match dtype {
        Dtype::Bool => "|b1",
        Dtype::I8 => "|i1",
        Dtype::I16 => "<i2",
        Dtype::I32 => "<i4",
        Dtype::I64 => "<i8",
        Dtype::U8 => "|u1",
        Dtype::U16 => "<u2",
        Dtype::U32 => "<u4",
        Dtype::U64 => "<u8",
        Dtype::F16 => "<f2",
        Dtype::F32 => "<f4",
        Dtype::F64 => "<f8",
        _ => return None,
    })
}

/// The bytes before the data of a C-order little-endian `.npy` file, laid out as numpy lays
/// them out: version 1.0 (2.0 if the header needs more than 65535 bytes), the dict padded
/// with spaces and a newline so that the data starts on a multiple of 64.
pub fn encode_header(descr: &str, shape: &[u64]) -> Vec<u8> {
    let dims = match shape {
        [] => "()".to_owned(),
        [d] => format!("({d},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {dims}, }}");
    let prefix = if dict.len() + 1 + 10 <= 65535 { 10 } else { 12 };
    let total = (prefix + dict.len() + 1).div_ceil(64) * 64;
    dict.extend(std::iter::repeat_n(' ', total - prefix - dict.len() - 1));
    dict.push('\n');
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(MAGIC);
    if prefix == 10 {
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&[2, 0]);
        out.extend_from_slice(&(dict.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(dict.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        for shape in [vec![], vec![0], vec![7], vec![2, 3, 4]] {
            let bytes = encode_header("<f4", &shape);
            assert_eq!(bytes.len() % 64, 0);
            let h = read_header(&mut &bytes[..]).unwrap();
            assert_eq!(h.dtype, Dtype::F32);
            assert!(!h.big_endian && !h.fortran_order);
            assert_eq!(
                h.shape,
                shape.iter().map(|&d| d as usize).collect::<Vec<_>>()
            );
            assert_eq!(h.data_offset, bytes.len() as u64);
        }
    }

    #[test]
    fn parses_what_numpy_writes() {
        let h = parse_dict("{'descr': '>i8', 'fortran_order': True, 'shape': (3L, 4), }").unwrap();
        assert_eq!(h.dtype, Dtype::I64);
        assert!(h.big_endian && h.fortran_order);
        assert_eq!(h.shape, [3, 4]);
        assert!(
            parse_dict("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }")
                .unwrap_err()
                .contains("pickled")
        );
        assert!(
            parse_dict("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,), }")
                .unwrap_err()
                .contains("structured")
        );
        assert!(parse_dict(&"[".repeat(100)).is_err());
    }
}
