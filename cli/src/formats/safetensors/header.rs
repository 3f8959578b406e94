//! The `.safetensors` format: an 8-byte little-endian header length N, N bytes of JSON
//! (`{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//! "__metadata__": {"key": "value"}}`), then the data area; offsets are relative to it, data is
//! little-endian and in C order.
//!
//! Self-contained (std, brine and serde_json only): the fuzz target `import`
//! (fuzz/src/lib.rs) and tests/fuzz_regressions.rs include this file with `#[path]`.

use std::io::Read;

use brine::Dtype;
use serde_json::{Map, Value};

/// The largest header accepted: the reference implementation's limit (100 MB), so that a
/// hostile length field cannot make us allocate gigabytes.
const MAX_HEADER_LEN: u64 = 100_000_000;

/// One tensor of a `.safetensors` file.
#[derive(Debug, Clone)]
pub struct Tensor {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    /// Offset of the data from the start of the file.
    pub offset: u64,
    pub len: u64,
}

/// What a `.safetensors` header says.
#[derive(Debug)]
pub struct Contents {
    /// Tensors, in the order of their data in the file.
    pub tensors: Vec<Tensor>,
    /// The `__metadata__` strings.
    pub metadata: Vec<(String, String)>,
}

/// Reads and checks the header of a `.safetensors` file of `file_len` bytes: every tensor's
/// dtype supported, its data exactly as long as dtype × shape and inside the file, and no two
/// tensors overlapping. Errors are messages without the file name.
pub fn read_header(r: &mut impl Read, file_len: u64) -> Result<Contents, String> {
    let mut len = [0u8; 8];
    r.read_exact(&mut len)
        .map_err(|_| "truncated: shorter than the 8-byte header length".to_owned())?;
    let len = u64::from_le_bytes(len);
    if len > MAX_HEADER_LEN {
        return Err(format!(
            "header length {len} is over the {MAX_HEADER_LEN}-byte limit (not a .safetensors file?)"
        ));
    }
    let data_start = 8 + len;
    if data_start > file_len {
        return Err(format!(
            "truncated: the header needs {len} bytes but the file has {}",
            file_len - 8
        ));
    }
    let mut json = vec![0u8; len as usize];
    r.read_exact(&mut json)
        .map_err(|e| format!("read header: {e}"))?;
    let header: Map<String, Value> =
        serde_json::from_slice(&json).map_err(|e| format!("header is not a JSON object: {e}"))?;
    let data_len = file_len - data_start;
    let mut tensors = Vec::new();
    let mut metadata = Vec::new();
    for (name, info) in &header {
        if name == "__metadata__" {
            let Some(map) = info.as_object() else {
                return Err("__metadata__ is not an object".to_owned());
            };
            for (k, v) in map {
                let Some(v) = v.as_str() else {
                    return Err(format!("__metadata__ value of {k:?} is not a string"));
                };
                metadata.push((k.clone(), v.to_owned()));
            }
            continue;
        }
        let bad = |what: &str| format!("tensor {name:?}: {what}");
        let dtype_name = info
            .get("dtype")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no \"dtype\" string"))?;
        let dtype = dtype_from_name(dtype_name).ok_or_else(|| {
            bad(&format!(
                "dtype {dtype_name} is not supported (brine arrays hold BOOL, U8..U64, I8..I64, F16, BF16, F32, F64)"
            ))
        })?;
        let shape = info
            .get("shape")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("no \"shape\" list"))?
            .iter()
            .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()))
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| bad("a dimension that is not a non-negative integer"))?;
        let offsets = info
            .get("data_offsets")
            .and_then(Value::as_array)
            .filter(|o| o.len() == 2)
            .and_then(|o| Some((o[0].as_u64()?, o[1].as_u64()?)))
            .ok_or_else(|| bad("no \"data_offsets\" pair of integers"))?;
        let (begin, end) = offsets;
        if begin > end || end > data_len {
            return Err(bad(&format!(
                "data_offsets [{begin}, {end}] are outside the data area of {data_len} bytes"
            )));
        }
        let need = shape
            .iter()
            .try_fold(dtype.size() as u64, |acc, &d| acc.checked_mul(d as u64));
        if need != Some(end - begin) {
            return Err(bad(&format!(
                "data_offsets [{begin}, {end}] hold {} bytes, but {dtype_name} x {shape:?} needs {}",
                end - begin,
                need.map_or_else(|| "more than 2^64".to_owned(), |n| n.to_string())
            )));
        }
        tensors.push(Tensor {
            name: name.clone(),
            dtype,
            shape,
            offset: data_start + begin,
            len: end - begin,
        });
    }
    tensors.sort_by_key(|t| (t.offset, t.len));
    for pair in tensors.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        // Zero-length tensors take no bytes and overlap nothing.
        if a.len > 0 && b.len > 0 && a.offset + a.len > b.offset {
            return Err(format!(
                "tensors {:?} and {:?} overlap (data_offsets {}..{} and {}..{})",
                a.name,
                b.name,
                a.offset - data_start,
                a.offset + a.len - data_start,
                b.offset - data_start,
                b.offset + b.len - data_start
            ));
        }
    }
    Ok(Contents { tensors, metadata })
}

fn dtype_from_name(name: &str) -> Option<Dtype> {
    Some(match name {
        "BOOL" => Dtype::Bool,
        "U8" => Dtype::U8,
        "I8" => Dtype::I8,
        "U16" => Dtype::U16,
        "I16" => Dtype::I16,
        "U32" => Dtype::U32,
        "I32" => Dtype::I32,
        "U64" => Dtype::U64,
        "I64" => Dtype::I64,
        "F16" => Dtype::F16,
        "BF16" => Dtype::BF16,
        "F32" => Dtype::F32,
        "F64" => Dtype::F64,
        _ => return None,
    })
}

/// The safetensors name of a dtype.
pub fn dtype_name(dtype: Dtype) -> &'static str {
    match dtype {
        Dtype::Bool => "BOOL",
        Dtype::U8 => "U8",
        Dtype::I8 => "I8",
        Dtype::U16 => "U16",
        Dtype::I16 => "I16",
        Dtype::U32 => "U32",
        Dtype::I32 => "I32",
        Dtype::U64 => "U64",
        Dtype::I64 => "I64",
        Dtype::F16 => "F16",
        Dtype::BF16 => "BF16",
        Dtype::F32 => "F32",
        _ => "F64",
    }
}

/// The bytes before the data of a `.safetensors` file holding one tensor of `len` bytes: the
/// length, then the JSON header padded with spaces to a multiple of 8 bytes (as the reference
/// implementation pads it, so that the data is aligned).
pub fn encode_header(
    name: &str,
    dtype: Dtype,
    shape: &[u64],
    len: u64,
    metadata: &[(String, String)],
) -> Vec<u8> {
    let mut header = Map::new();
    if !metadata.is_empty() {
        let meta: Map<String, Value> = metadata
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        header.insert("__metadata__".to_owned(), Value::Object(meta));
    }
    header.insert(
        name.to_owned(),
        serde_json::json!({
            "dtype": dtype_name(dtype),
            "shape": shape,
            "data_offsets": [0, len],
        }),
    );
    let mut json = Value::Object(header).to_string().into_bytes();
    json.resize(json.len().div_ceil(8) * 8, b' ');
    let mut out = Vec::with_capacity(8 + json.len());
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    out
}
