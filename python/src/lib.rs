//! `brine._brine`: the Rust core of the `brine` Python package. The Python layer
//! (`python/brine/__init__.py`) turns numpy arrays, pandas, pyarrow and polars frames into the
//! calls below and back; everything that touches a file is here, in the `brine` crate.
//!
//! Zero copy across the boundary:
//! - an array is handed to numpy as an [`ArrayBuffer`] exposing `__array_interface__`; numpy
//!   makes it the ndarray's base, and the buffer owns an `Arc<Reader>`, so the mapping (or the
//!   reader's decompression cache) outlives the `File` that gave it;
//! - a frame goes out as an Arrow C stream (the PyCapsule interface) whose buffers point into
//!   the mapping and hold the `Arc<Reader>` themselves.
//!
//! The GIL is released around everything that reads or writes file data.

use std::ffi::CStr;
use std::path::PathBuf;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex, MutexGuard};

use arrow_array::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use arrow_array::{RecordBatch, RecordBatchIterator, RecordBatchReader};
use brine::frame::FrameOptions;
use brine::frame::arrow::{put_record_batches, record_batch};
use brine::model::{ArchivedValue, Dynamic, ModelOptions, Value};
use brine::{
    Codec, Dtype, Element, EntryOptions, Error, Kind, MetaRef, MetaValue, Metadata, Reader, Writer,
};
use half::{bf16, f16};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyBytes, PyCapsule, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType,
};

/// The capsule name the Arrow PyCapsule interface gives a stream.
const STREAM_CAPSULE: &CStr = c"arrow_array_stream";

/// Calls `$body` with `$t` bound to the Rust element type of `$dtype`.
macro_rules! with_element {
    ($dtype:expr, $t:ident => $body:expr) => {
        match $dtype {
            Dtype::Bool => {
                type $t = bool;
                $body
            }
            Dtype::I8 => {
                type $t = i8;
                $body
            }
            Dtype::I16 => {
                type $t = i16;
                $body
            }
            Dtype::I32 => {
                type $t = i32;
                $body
            }
            Dtype::I64 => {
                type $t = i64;
                $body
            }
            Dtype::U8 => {
                type $t = u8;
                $body
            }
            Dtype::U16 => {
                type $t = u16;
                $body
            }
            Dtype::U32 => {
                type $t = u32;
                $body
            }
            Dtype::U64 => {
                type $t = u64;
                $body
            }
            Dtype::F16 => {
                type $t = f16;
                $body
            }
            Dtype::BF16 => {
                type $t = bf16;
                $body
            }
            Dtype::F32 => {
                type $t = f32;
                $body
            }
            Dtype::F64 => {
                type $t = f64;
                $body
            }
            other => {
                return Err(PyTypeError::new_err(format!(
                    "dtype {other} is not supported by this build of the brine package"
                )))
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Errors

/// What a `brine::Error` names, for the Python exception's attributes.
#[derive(Default)]
struct Named {
    file: Option<PathBuf>,
    entry: Option<String>,
    column: Option<String>,
    field: Option<String>,
}

fn describe(e: &Error) -> (&'static str, Named) {
    let at = |file: &PathBuf| Named {
        file: Some(file.clone()),
        ..Named::default()
    };
    let in_entry = |file: &PathBuf, entry: &str| Named {
        file: Some(file.clone()),
        entry: Some(entry.to_owned()),
        ..Named::default()
    };
    match e {
        Error::Io { path, .. } => ("Io", at(path)),
        Error::NotBrine { file, .. } => ("NotBrine", at(file)),
        Error::Truncated { file, what, .. } => (
            "Truncated",
            Named {
                field: Some((*what).to_owned()),
                ..at(file)
            },
        ),
        Error::UnsupportedVersion { file, .. } => ("UnsupportedVersion", at(file)),
        Error::UnsupportedFeature { file, what, .. } => (
            "UnsupportedFeature",
            Named {
                field: Some(what.clone()),
                ..at(file)
            },
        ),
        Error::ChecksumMismatch { file, what, .. } => (
            "ChecksumMismatch",
            Named {
                field: Some(what.clone()),
                ..at(file)
            },
        ),
        Error::InvalidHeader { file, field, .. } => (
            "InvalidHeader",
            Named {
                field: Some((*field).to_owned()),
                ..at(file)
            },
        ),
        Error::InvalidManifest { file, .. } => ("InvalidManifest", at(file)),
        Error::InvalidField {
            file,
            location,
            field,
            ..
        } => (
            "InvalidField",
            Named {
                field: Some(format!("{location}: {field}")),
                ..at(file)
            },
        ),
        Error::SectionOutOfBounds { file, .. } => ("SectionOutOfBounds", at(file)),
        Error::SectionsOverlap { file, .. } => ("SectionsOverlap", at(file)),
        Error::LimitExceeded { file, what, .. } => (
            "LimitExceeded",
            Named {
                field: Some(what.clone()),
                ..at(file)
            },
        ),
        Error::Decompress { file, entry, .. } => ("Decompress", in_entry(file, entry)),
        Error::InvalidData { file, entry, .. } => ("InvalidData", in_entry(file, entry)),
        Error::NotFound { file, entry } => ("NotFound", in_entry(file, entry)),
        Error::WrongKind { file, entry, .. } => ("WrongKind", in_entry(file, entry)),
        Error::WrongDtype { file, entry, .. } => ("WrongDtype", in_entry(file, entry)),
        Error::CopyRequired { file, entry, .. } => ("CopyRequired", in_entry(file, entry)),
        Error::RangeOutOfBounds { file, entry, .. } => ("RangeOutOfBounds", in_entry(file, entry)),
        Error::InvalidInput { file, entry, .. } => ("InvalidInput", in_entry(file, entry)),
        Error::Duplicate { file, name, .. } => ("Duplicate", in_entry(file, name)),
        Error::InvalidColumn {
            file,
            entry,
            column,
            field,
            ..
        } => (
            "InvalidColumn",
            Named {
                column: Some(column.clone()),
                field: Some((*field).to_owned()),
                ..in_entry(file, entry)
            },
        ),
        Error::WrongColumnType {
            file,
            entry,
            column,
            ..
        } => (
            "WrongColumnType",
            Named {
                column: Some(column.clone()),
                ..in_entry(file, entry)
            },
        ),
        Error::NoSuchColumn {
            file,
            entry,
            column,
        } => (
            "NoSuchColumn",
            Named {
                column: Some(column.clone()),
                ..in_entry(file, entry)
            },
        ),
        Error::SchemaMismatch(m) => ("SchemaMismatch", in_entry(&m.file, &m.entry)),
        Error::InvalidModel { file, entry, .. } => ("InvalidModel", in_entry(file, entry)),
        Error::Csv { file, column, .. } => (
            "Csv",
            Named {
                column: column.clone(),
                ..at(file)
            },
        ),
        _ => ("Unknown", Named::default()),
    }
}

/// The Python exception for a brine error: the class `brine.errors` gives the variant, with
/// the message and the file, entry, column and field it names as attributes.
fn to_py(e: Error) -> PyErr {
    let (kind, named) = describe(&e);
    let message = e.to_string();
    Python::attach(|py| {
        let made = py.import("brine.errors").and_then(|m| {
            m.getattr("_from_rust")?.call1((
                kind,
                &message,
                named.file.map(|f| f.display().to_string()),
                named.entry,
                named.column,
                named.field,
            ))
        });
        match made {
            Ok(exception) => PyErr::from_value(exception),
            Err(import_failed) => import_failed,
        }
    })
}

trait OrPy<T> {
    fn or_py(self) -> PyResult<T>;
}

impl<T> OrPy<T> for brine::Result<T> {
    fn or_py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}

// ---------------------------------------------------------------------------------------------
// Metadata

fn meta_to_py<'py>(py: Python<'py>, value: MetaRef<'_>) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        MetaRef::Str(s) => PyString::new(py, s).into_any(),
        MetaRef::Int(i) => i.into_pyobject(py)?.into_any(),
        MetaRef::Float(f) => PyFloat::new(py, f).into_any(),
        MetaRef::Bool(b) => PyBool::new(py, b).to_owned().into_any(),
        MetaRef::Bytes(b) => PyBytes::new(py, b).into_any(),
    })
}

fn metadata_dict<'py>(py: Python<'py>, metadata: Metadata<'_>) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in metadata.iter() {
        d.set_item(k, meta_to_py(py, v)?)?;
    }
    Ok(d)
}

/// A metadata value from Python: `str`, `int` (64-bit), `float`, `bool` or `bytes`.
fn meta_from_py(key: &str, value: &Bound<'_, PyAny>) -> PyResult<MetaValue> {
    // `bool` first: it is a subclass of `int`.
    if value.is_instance_of::<PyBool>() {
        return Ok(MetaValue::Bool(value.extract()?));
    }
    if value.is_instance_of::<PyInt>() {
        let i: i64 = value.extract().map_err(|_| {
            PyValueError::new_err(format!(
                "metadata {key:?}: integer {value} does not fit in 64 bits"
            ))
        })?;
        return Ok(MetaValue::Int(i));
    }
    if value.is_instance_of::<PyFloat>() {
        return Ok(MetaValue::Float(value.extract()?));
    }
    if value.is_instance_of::<PyString>() {
        return Ok(MetaValue::Str(value.extract()?));
    }
    if value.is_instance_of::<PyBytes>() {
        return Ok(MetaValue::Bytes(value.extract()?));
    }
    Err(PyTypeError::new_err(format!(
        "metadata {key:?}: a value must be str, int, float, bool or bytes, not {}",
        value.get_type().name()?
    )))
}

fn metadata_pairs(metadata: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<(String, MetaValue)>> {
    let mut pairs = Vec::new();
    if let Some(d) = metadata {
        for (k, v) in d.iter() {
            let key: String = k
                .extract()
                .map_err(|_| PyTypeError::new_err("metadata keys must be str"))?;
            let value = meta_from_py(&key, &v)?;
            pairs.push((key, value));
        }
    }
    Ok(pairs)
}

// ---------------------------------------------------------------------------------------------
// Value trees (models written from Python)

/// How deep a value tree may nest, both ways: deeper trees are refused at save, and a file
/// whose tree is deeper is refused at load before Python would run out of stack.
const MAX_VALUE_DEPTH: usize = 256;

/// The two node classes of `brine.models` that are not plain Python values.
struct NodeTypes<'py> {
    array_ref: Bound<'py, PyType>,
    object: Bound<'py, PyType>,
}

impl<'py> NodeTypes<'py> {
    fn get(py: Python<'py>) -> PyResult<Self> {
        let m = py.import("brine.models")?;
        Ok(NodeTypes {
            array_ref: m.getattr("ArrayRef")?.cast_into::<PyType>()?,
            object: m.getattr("Obj")?.cast_into::<PyType>()?,
        })
    }
}

/// A Python value tree as a [`Value`]: None, bool, int (64-bit), float, str, bytes, list,
/// tuple, dict, and `brine.models.ArrayRef` and `Obj` nodes. `path` names the value in errors.
fn to_value(
    node: &Bound<'_, PyAny>,
    types: &NodeTypes<'_>,
    path: &str,
    depth: usize,
) -> PyResult<Value> {
    if depth > MAX_VALUE_DEPTH {
        return Err(PyValueError::new_err(format!(
            "{path}: nested more than {MAX_VALUE_DEPTH} levels deep"
        )));
    }
    let child = |v: &Bound<'_, PyAny>, p: String| to_value(v, types, &p, depth + 1);
    if node.is_none() {
        return Ok(Value::None);
    }
    if node.is_instance_of::<PyBool>() {
        return Ok(Value::Bool(node.extract()?));
    }
    if node.is_instance_of::<PyInt>() {
        return node.extract().map(Value::Int).map_err(|_| {
            PyValueError::new_err(format!("{path}: integer {node} does not fit in 64 bits"))
        });
    }
    if node.is_instance_of::<PyFloat>() {
        return Ok(Value::Float(node.extract()?));
    }
    if node.is_instance_of::<PyString>() {
        return Ok(Value::Str(node.extract()?));
    }
    if node.is_instance_of::<PyBytes>() {
        return Ok(Value::Bytes(node.extract()?));
    }
    if let Ok(list) = node.cast::<PyList>() {
        let items = list
            .iter()
            .enumerate()
            .map(|(i, v)| child(&v, format!("{path}[{i}]")));
        return items.collect::<PyResult<_>>().map(Value::List);
    }
    if let Ok(tuple) = node.cast::<PyTuple>() {
        let items = tuple
            .iter()
            .enumerate()
            .map(|(i, v)| child(&v, format!("{path}[{i}]")));
        return items.collect::<PyResult<_>>().map(Value::Tuple);
    }
    if let Ok(dict) = node.cast::<PyDict>() {
        let items = dict.iter().map(|(k, v)| {
            let key = child(&k, format!("{path} key {}", k.repr()?))?;
            Ok((key, child(&v, format!("{path}[{}]", k.repr()?))?))
        });
        return items.collect::<PyResult<_>>().map(Value::Map);
    }
    if node.get_type().is(&types.array_ref) {
        return Ok(Value::Array(node.getattr("entry")?.extract()?));
    }
    if node.get_type().is(&types.object) {
        let class: String = node.getattr("cls")?.extract()?;
        let mut fields = Vec::new();
        for pair in node.getattr("fields")?.try_iter()? {
            let (name, value): (String, Bound<'_, PyAny>) = pair?.extract()?;
            let value = child(&value, format!("{path}.{name}"))?;
            fields.push((name, value));
        }
        return Ok(Value::Object { class, fields });
    }
    Err(PyTypeError::new_err(format!(
        "{path}: {} is not a value a model can hold (None, bool, int, float, str, bytes, \
         list, tuple, dict, numpy arrays, dataclasses)",
        node.get_type().name()?
    )))
}

/// An archived [`Value`] as the Python tree [`to_value`] reads. The archive was validated
/// (bytecheck) before; its depth is bounded here.
fn from_value<'py>(
    py: Python<'py>,
    value: &ArchivedValue,
    types: &NodeTypes<'py>,
    depth: usize,
) -> Result<Bound<'py, PyAny>, String> {
    if depth > MAX_VALUE_DEPTH {
        return Err(format!(
            "the value tree nests more than {MAX_VALUE_DEPTH} levels deep"
        ));
    }
    let py_err = |e: PyErr| e.to_string();
    let child = |v: &ArchivedValue| from_value(py, v, types, depth + 1);
    Ok(match value {
        ArchivedValue::None => py.None().into_bound(py),
        ArchivedValue::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        ArchivedValue::Int(i) => PyInt::new(py, i.to_native()).into_any(),
        ArchivedValue::Float(f) => PyFloat::new(py, f.to_native()).into_any(),
        ArchivedValue::Str(s) => PyString::new(py, s.as_str()).into_any(),
        ArchivedValue::Bytes(b) => PyBytes::new(py, b.as_slice()).into_any(),
        ArchivedValue::List(items) => {
            let items = items.iter().map(child).collect::<Result<Vec<_>, _>>()?;
            PyList::new(py, items).map_err(py_err)?.into_any()
        }
        ArchivedValue::Tuple(items) => {
            let items = items.iter().map(child).collect::<Result<Vec<_>, _>>()?;
            PyTuple::new(py, items).map_err(py_err)?.into_any()
        }
        ArchivedValue::Map(pairs) => {
            let d = PyDict::new(py);
            for pair in pairs.iter() {
                d.set_item(child(&pair.0)?, child(&pair.1)?)
                    .map_err(|e| format!("a map key cannot be a Python dict key: {e}"))?;
            }
            d.into_any()
        }
        ArchivedValue::Array(entry) => types.array_ref.call1((entry.as_str(),)).map_err(py_err)?,
        ArchivedValue::Object { class, fields } => {
            let fields = fields
                .iter()
                .map(|pair| Ok((pair.0.as_str(), child(&pair.1)?)))
                .collect::<Result<Vec<_>, String>>()?;
            types
                .object
                .call1((class.as_str(), fields))
                .map_err(py_err)?
        }
    })
}

/// How deeply [`from_dynamic`] nests Python containers: Python's own default recursion limit,
/// past which Python code could not walk the result anyway. The core's decoder allows deeper
/// trees (its limits are in pointers), so this bound is checked here, not assumed.
const MAX_DYNAMIC_DEPTH: usize = 1000;

/// A model decoded through its schema text ([`Dynamic`]) as plain Python values, the mapping
/// of the spec reader's `File.model`: structs as dicts (tuple structs as tuples, unit structs
/// as None), enums as `{variant: payload}`, `Option` as None or the value, vectors and arrays
/// of numbers as read-only numpy views of the archive (`wrap(buffer, dtype)` makes them), other
/// vectors, arrays and sets as lists, maps as dicts (or lists of pairs when a key is not
/// hashable), 128-bit integers as ints.
fn from_dynamic<'py>(
    py: Python<'py>,
    value: &Dynamic<'_>,
    reader: &Arc<Reader>,
    wrap: &Bound<'py, PyAny>,
    depth: usize,
) -> Result<Bound<'py, PyAny>, String> {
    if depth > MAX_DYNAMIC_DEPTH {
        return Err(format!(
            "the model nests more than {MAX_DYNAMIC_DEPTH} levels deep, more than Python \
             objects built from it could be walked"
        ));
    }
    let py_err = |e: PyErr| e.to_string();
    let child = |v: &Dynamic<'_>| from_dynamic(py, v, reader, wrap, depth + 1);
    let all = |items: &[Dynamic<'_>]| items.iter().map(child).collect::<Result<Vec<_>, _>>();
    Ok(match value {
        Dynamic::Unit | Dynamic::Option(None) => py.None().into_bound(py),
        Dynamic::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Dynamic::Int(i) => {
            let Ok(int) = i.into_pyobject(py);
            int.into_any()
        }
        Dynamic::UInt(u) => {
            let Ok(int) = u.into_pyobject(py);
            int.into_any()
        }
        Dynamic::Float(f) => PyFloat::new(py, *f).into_any(),
        Dynamic::Char(c) => PyString::new(py, c.encode_utf8(&mut [0; 4])).into_any(),
        Dynamic::Str(s) => PyString::new(py, s).into_any(),
        Dynamic::Numbers { dtype, bytes } => {
            let buffer = ArrayBuffer {
                _reader: Arc::clone(reader),
                address: address_of(bytes),
                shape: vec![(bytes.len() / dtype.size()) as u64],
                typestr: typestr(*dtype),
            };
            wrap.call1((buffer, dtype.name())).map_err(py_err)?
        }
        Dynamic::List(items) => PyList::new(py, all(items)?).map_err(py_err)?.into_any(),
        Dynamic::Tuple(items) => PyTuple::new(py, all(items)?).map_err(py_err)?.into_any(),
        Dynamic::Option(Some(inner)) => child(inner)?,
        Dynamic::Record(fields) => {
            let d = PyDict::new(py);
            for (name, v) in fields {
                d.set_item(*name, child(v)?).map_err(py_err)?;
            }
            d.into_any()
        }
        Dynamic::Variant(name, payload) => {
            let d = PyDict::new(py);
            d.set_item(*name, child(payload)?).map_err(py_err)?;
            d.into_any()
        }
        Dynamic::Map(pairs) => {
            let mut items = Vec::with_capacity(pairs.len());
            for (k, v) in pairs {
                items.push((child(k)?, child(v)?));
            }
            let d = PyDict::new(py);
            let hashable = items.iter().all(|(k, _)| k.hash().is_ok());
            if hashable {
                for (k, v) in &items {
                    d.set_item(k, v).map_err(py_err)?;
                }
                d.into_any()
            } else {
                let pairs = items
                    .into_iter()
                    .map(|(k, v)| PyTuple::new(py, [k, v]))
                    .collect::<PyResult<Vec<_>>>()
                    .map_err(py_err)?;
                PyList::new(py, pairs).map_err(py_err)?.into_any()
            }
        }
    })
}

/// The xxh3-64 of `text`: the fingerprint of a Python class's schema text.
#[pyfunction]
fn fingerprint(text: &str) -> u64 {
    brine::raw::checksum::xxh3(text.as_bytes())
}

// ---------------------------------------------------------------------------------------------
// Reading

/// An array's elements as numpy sees them (`__array_interface__`, read-only): the memory lies
/// in the mapping of the file, or in the reader's decompression cache for compressed entries.
/// Owning the reader keeps both alive for as long as numpy holds this object as an array base.
#[pyclass(frozen, module = "brine._brine")]
struct ArrayBuffer {
    _reader: Arc<Reader>,
    address: usize,
    shape: Vec<u64>,
    typestr: &'static str,
}

#[pymethods]
impl ArrayBuffer {
    #[getter]
    fn __array_interface__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("version", 3)?;
        d.set_item("shape", PyTuple::new(py, &self.shape)?)?;
        d.set_item("typestr", self.typestr)?;
        d.set_item("data", (self.address, true))?;
        Ok(d)
    }

    /// The address of the first element (for zero-copy checks).
    #[getter]
    fn address(&self) -> usize {
        self.address
    }
}

/// numpy's `typestr` for a dtype. bf16 has no numpy type: it goes out as `<u2` and the Python
/// layer views it as `ml_dtypes.bfloat16` (same bits, no copy).
fn typestr(dtype: Dtype) -> &'static str {
    match dtype {
        Dtype::Bool => "|b1",
        Dtype::I8 => "|i1",
        Dtype::I16 => "<i2",
        Dtype::I32 => "<i4",
        Dtype::I64 => "<i8",
        Dtype::U8 => "|u1",
        Dtype::U16 | Dtype::BF16 => "<u2",
        Dtype::U32 => "<u4",
        Dtype::U64 => "<u8",
        Dtype::F16 => "<f2",
        Dtype::F32 => "<f4",
        Dtype::F64 => "<f8",
        _ => "|V1",
    }
}

/// The dtype of a numpy array (`dtype.str`, and `dtype.name` for ml_dtypes' bfloat16), in
/// native little-endian byte order.
fn dtype_of_numpy(typestr: &str, name: &str) -> Option<Dtype> {
    Some(match (typestr, name) {
        ("|b1", _) => Dtype::Bool,
        ("|i1", _) => Dtype::I8,
        ("<i2", _) => Dtype::I16,
        ("<i4", _) => Dtype::I32,
        ("<i8", _) => Dtype::I64,
        ("|u1", _) => Dtype::U8,
        ("<u2", _) => Dtype::U16,
        ("<u4", _) => Dtype::U32,
        ("<u8", _) => Dtype::U64,
        ("<f2", _) => Dtype::F16,
        ("<f4", _) => Dtype::F32,
        ("<f8", _) => Dtype::F64,
        (_, "bfloat16") => Dtype::BF16,
        _ => return None,
    })
}

/// The address of a typed view's first element.
fn address_of<T>(data: &[T]) -> usize {
    data.as_ptr() as usize
}

/// The Arrow C stream of one frame, exported through the Arrow PyCapsule interface
/// (`__arrow_c_stream__`): pyarrow, polars and others import it without copying a buffer.
#[pyclass(frozen, module = "brine._brine")]
struct FrameStream {
    batch: RecordBatch,
}

#[pymethods]
impl FrameStream {
    /// The stream as a capsule. `requested_schema` is ignored, as the interface allows: the
    /// stream has the frame's own schema.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let batches = RecordBatchIterator::new([Ok(self.batch.clone())], self.batch.schema());
        let stream = FFI_ArrowArrayStream::new(Box::new(batches));
        PyCapsule::new_with_value(py, stream, STREAM_CAPSULE)
    }

    /// Number of rows.
    #[getter]
    fn num_rows(&self) -> usize {
        self.batch.num_rows()
    }
}

/// An open brine file.
#[pyclass(frozen, module = "brine._brine")]
struct File {
    reader: Mutex<Option<Arc<Reader>>>,
    path: PathBuf,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while the lock was held cannot leave the `Option` half-updated.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl File {
    fn reader(&self) -> PyResult<Arc<Reader>> {
        lock(&self.reader).clone().ok_or_else(|| {
            PyValueError::new_err(format!("{}: the brine file is closed", self.path.display()))
        })
    }
}

/// Opens a file: O(metadata), the GIL released. `verify` also checks every section's
/// checksum; the limits bound what a hostile file can make the reader do (None: the crate's
/// defaults).
#[pyfunction]
#[pyo3(signature = (path, verify=false, require_zero_copy=false, max_manifest_len=None, max_decompressed_bytes=None, max_model_depth=None))]
fn open(
    py: Python<'_>,
    path: PathBuf,
    verify: bool,
    require_zero_copy: bool,
    max_manifest_len: Option<u64>,
    max_decompressed_bytes: Option<u64>,
    max_model_depth: Option<usize>,
) -> PyResult<File> {
    let mut options = Reader::options()
        .verify(verify)
        .require_zero_copy(require_zero_copy);
    if let Some(n) = max_manifest_len {
        options = options.max_manifest_len(n);
    }
    if let Some(n) = max_decompressed_bytes {
        options = options.max_decompressed_bytes(n);
    }
    if let Some(n) = max_model_depth {
        options = options.max_model_depth(n);
    }
    let reader = py.detach(|| options.open(&path)).or_py()?;
    Ok(File {
        reader: Mutex::new(Some(Arc::new(reader))),
        path,
    })
}

fn kind_name(kind: Kind) -> &'static str {
    kind.name()
}

#[pymethods]
impl File {
    /// The path the file was opened at.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// Whether `close` was called.
    #[getter]
    fn closed(&self) -> bool {
        lock(&self.reader).is_none()
    }

    /// Drops this object's hold on the file. Arrays and frames read from it keep the mapping
    /// alive until they are released themselves.
    fn close(&self) {
        lock(&self.reader).take();
    }

    /// The format version (`"1.1"`).
    #[getter]
    fn version(&self) -> PyResult<String> {
        Ok(self.reader()?.version().to_string())
    }

    /// The addresses `[start, end)` of the file's bytes in memory.
    fn mapped_range(&self) -> PyResult<(usize, usize)> {
        let r = self.reader()?.mapped_range();
        Ok((r.start, r.end))
    }

    /// Entry names and kinds, in file order (sorted by name).
    fn entries(&self) -> PyResult<Vec<(String, &'static str)>> {
        let reader = self.reader()?;
        Ok(reader
            .entries()
            .map(|e| (e.name().to_owned(), kind_name(e.kind())))
            .collect())
    }

    /// The kind of entry `name`.
    fn kind(&self, name: &str) -> PyResult<&'static str> {
        Ok(kind_name(self.reader()?.entry(name).or_py()?.kind()))
    }

    /// The file's metadata.
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        metadata_dict(py, self.reader()?.metadata())
    }

    /// Checks every section's checksum and every entry's content (tiers 2 and 3), the GIL
    /// released.
    fn verify(&self, py: Python<'_>) -> PyResult<()> {
        let reader = self.reader()?;
        py.detach(|| reader.verify()).or_py()
    }

    /// What entry `name` is and how it is stored, without reading its data.
    fn info<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyDict>> {
        let reader = self.reader()?;
        let entry = reader.entry(name).or_py()?;
        let d = PyDict::new(py);
        d.set_item("name", name)?;
        d.set_item("kind", kind_name(entry.kind()))?;
        d.set_item("metadata", metadata_dict(py, entry.metadata())?)?;
        match entry.kind() {
            Kind::Array => {
                let a = entry.array().or_py()?;
                d.set_item("dtype", a.dtype().name())?;
                d.set_item("shape", PyTuple::new(py, a.shape())?)?;
                d.set_item("codec", a.codec().to_string())?;
                d.set_item("nbytes", a.raw_len())?;
                d.set_item("stored_bytes", a.stored_len())?;
                d.set_item("offset", a.offset())?;
                d.set_item("chunks", a.chunk_count())?;
            }
            Kind::Frame => {
                let f = entry.frame().or_py()?;
                d.set_item("rows", f.rows())?;
                let columns = f
                    .iter()
                    .map(|c| {
                        let col = PyDict::new(py);
                        col.set_item("name", c.name())?;
                        col.set_item("type", c.ty().to_string())?;
                        col.set_item("nulls", c.null_count())?;
                        col.set_item("compressed", c.is_compressed())?;
                        col.set_item("metadata", metadata_dict(py, c.metadata())?)?;
                        Ok(col)
                    })
                    .collect::<PyResult<Vec<_>>>()?;
                d.set_item("columns", columns)?;
            }
            Kind::Model => {
                let m = entry.model().or_py()?;
                d.set_item("type_name", m.type_name())?;
                d.set_item("version", m.version())?;
                d.set_item("fingerprint", m.fingerprint())?;
                d.set_item("schema", m.schema())?;
                d.set_item("nbytes", m.archive_len())?;
                d.set_item("codec", m.section().codec.to_string())?;
            }
            _ => {}
        }
        Ok(d)
    }

    /// Array `name` as an `ArrayBuffer` and its dtype name. Raw entries point into the
    /// mapping (no copy); compressed ones are decompressed in full, in parallel, the GIL
    /// released, once per file.
    fn array(&self, py: Python<'_>, name: &str) -> PyResult<(ArrayBuffer, &'static str)> {
        let reader = self.reader()?;
        let (address, shape, dtype) = py.detach(|| -> PyResult<_> {
            let a = reader.array_entry(name).or_py()?;
            let dtype = a.dtype();
            let address = with_element!(dtype, T => address_of(a.view::<T>().or_py()?.as_slice()));
            Ok((address, a.shape().to_vec(), dtype))
        })?;
        Ok((
            ArrayBuffer {
                _reader: reader,
                address,
                shape,
                typestr: typestr(dtype),
            },
            dtype.name(),
        ))
    }

    /// Rows `start..stop` of array `name` along its first axis (a 0-d array has one row):
    /// for compressed entries only the chunks those rows touch are decompressed.
    fn array_rows(
        &self,
        py: Python<'_>,
        name: &str,
        start: usize,
        stop: usize,
    ) -> PyResult<(ArrayBuffer, &'static str)> {
        let reader = self.reader()?;
        let (address, shape, dtype) = py.detach(|| -> PyResult<_> {
            let a = reader.array_entry(name).or_py()?;
            let dtype = a.dtype();
            let dims = a.shape();
            let rows = dims.first().copied().unwrap_or(1) as usize;
            let stop = stop.min(rows);
            let start = start.min(stop);
            // Elements per row: the product of the other dimensions, which tier 1 bounded.
            let row_len = dims.iter().skip(1).product::<u64>() as usize;
            let range = start * row_len..stop * row_len;
            let address = with_element!(dtype, T => address_of(a.range::<T>(range).or_py()?));
            let mut shape = dims.to_vec();
            match shape.first_mut() {
                Some(first) => *first = (stop - start) as u64,
                None if stop == start => shape.push(0),
                None => {}
            }
            Ok((address, shape, dtype))
        })?;
        Ok((
            ArrayBuffer {
                _reader: reader,
                address,
                shape,
                typestr: typestr(dtype),
            },
            dtype.name(),
        ))
    }

    /// Model `name`, stored as a [`Value`] tree, as the Python tree of `brine.models`. The
    /// archive is validated first (bytecheck, the GIL released).
    fn value<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        let reader = self.reader()?;
        let types = NodeTypes::get(py)?;
        let value = py.detach(|| reader.model::<Value>(name)).or_py()?;
        from_value(py, value, &types, 0).map_err(|detail| {
            to_py(Error::InvalidModel {
                file: reader.path().to_path_buf(),
                entry: name.to_owned(),
                detail,
            })
        })
    }

    /// Model `name` decoded through its stored schema text, without its Rust type: the
    /// fingerprint is recomputed from the text (a mismatch is `SchemaMismatch`), then the
    /// archive is validated and walked under the reader's limits, the GIL released, on a
    /// thread of its own stack; see [`from_dynamic`] for the values. Numeric vectors are views
    /// of the archive made by `wrap(buffer, dtype)`; nothing else is shared with the file.
    fn decode_model<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        wrap: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let reader = self.reader()?;
        let decoded = py.detach(|| reader.model_entry(name)?.decode_dynamic());
        let value = decoded.or_py()?;
        from_dynamic(py, &value, &reader, wrap, 0).map_err(|detail| {
            to_py(Error::InvalidModel {
                file: reader.path().to_path_buf(),
                entry: name.to_owned(),
                detail,
            })
        })
    }

    /// Frame `name` as an Arrow C stream whose buffers point into the mapping. Every column is
    /// validated on the first access, the GIL released.
    fn frame(&self, py: Python<'_>, name: &str) -> PyResult<FrameStream> {
        let reader = self.reader()?;
        let batch = py.detach(|| record_batch(&reader, name)).or_py()?;
        Ok(FrameStream { batch })
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

/// Whether the byte shuffle makes `bytes` (elements of `size` bytes) compress smaller, judged
/// on up to three samples of 128 KiB (start, middle, end) compressed both ways at `level`.
/// Usually it does, by far (weights of a trained layer: 1.19 against 1.08 at level 1); on
/// some data it does not (decimal values rounded to a few digits, stored as f64: 1.45 against
/// 2.30), and a wrong default would cost a third of the ratio. About 1 ms per array.
fn shuffle_pays(bytes: &[u8], size: usize, level: i32) -> bool {
    const SAMPLE: usize = 128 << 10;
    let len = SAMPLE.min(bytes.len()) / size * size;
    if size < 2 || len == 0 {
        return size >= 2;
    }
    let last = (bytes.len() - len) / size * size;
    let mut starts = vec![0, last / 2 / size * size, last];
    starts.dedup();
    let compressed = |shuffle: usize| -> usize {
        starts
            .iter()
            .map(|&at| {
                brine::raw::codec::compress_chunk(&bytes[at..at + len], level, shuffle)
                    .map_or(usize::MAX / 4, |f| f.len())
            })
            .sum()
    };
    compressed(size) < compressed(1)
}

/// Encoding options as the Python layer passes them.
fn codec_of(codec: Option<&str>, shuffle: bool) -> PyResult<Codec> {
    match codec {
        None | Some("raw") => Ok(Codec::Raw),
        Some("zstd") => Ok(if shuffle {
            Codec::zstd_shuffled()
        } else {
            Codec::zstd()
        }),
        Some(other) => Err(PyValueError::new_err(format!(
            "compress must be None or \"zstd\", not {other:?}"
        ))),
    }
}

/// A file being written: entries go to a temporary file renamed over the target by `finish`;
/// without `finish` (an exception, `abort`, the object dropped) the target is untouched.
#[pyclass(frozen, name = "Writer", module = "brine._brine")]
struct PyWriter {
    inner: Mutex<Option<Writer>>,
    path: PathBuf,
}

impl PyWriter {
    /// Runs `f` on the writer with the GIL released.
    fn with<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Writer) -> PyResult<R> + Send,
    ) -> PyResult<R> {
        py.detach(|| {
            let mut guard = lock(&self.inner);
            let writer = guard.as_mut().ok_or_else(|| {
                PyValueError::new_err(format!(
                    "{}: the writer is finished or aborted",
                    self.path.display()
                ))
            })?;
            f(writer)
        })
    }
}

/// The bytes of a C-contiguous, aligned, native-order numpy array, and its dtype and shape.
struct NumpyData<'a> {
    bytes: &'a [u8],
    dtype: Dtype,
    shape: Vec<usize>,
}

fn numpy_data<'a>(name: &str, array: &'a Bound<'_, PyAny>) -> PyResult<NumpyData<'a>> {
    let py = array.py();
    let ndarray = py.import("numpy")?.getattr("ndarray")?;
    if !array.get_type().is(&ndarray) {
        return Err(PyTypeError::new_err(format!(
            "array {name:?}: expected a numpy.ndarray, got {}",
            array.get_type().name()?
        )));
    }
    let flags = array.getattr("flags")?;
    if !flags.getattr("c_contiguous")?.extract::<bool>()?
        || !flags.getattr("aligned")?.extract::<bool>()?
    {
        return Err(PyValueError::new_err(format!(
            "array {name:?}: must be C-contiguous and aligned (brine.save copies it first)"
        )));
    }
    let np_dtype = array.getattr("dtype")?;
    let typestr: String = np_dtype.getattr("str")?.extract()?;
    let dtype_name: String = np_dtype.getattr("name")?.extract()?;
    let dtype = dtype_of_numpy(&typestr, &dtype_name).ok_or_else(|| {
        PyTypeError::new_err(format!(
            "array {name:?}: numpy dtype {dtype_name} ({typestr}) has no brine dtype (bool, \
             int8-64, uint8-64, float16/32/64, bfloat16; native byte order)"
        ))
    })?;
    let shape: Vec<usize> = array.getattr("shape")?.extract()?;
    let nbytes: usize = array.getattr("nbytes")?.extract()?;
    let expected = shape
        .iter()
        .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d));
    if expected != Some(nbytes) {
        return Err(PyValueError::new_err(format!(
            "array {name:?}: nbytes {nbytes} does not match its shape {shape:?}"
        )));
    }
    let interface = array.getattr("__array_interface__")?;
    let (address, _readonly): (usize, bool) = interface.get_item("data")?.extract()?;
    let bytes = if nbytes == 0 {
        &[][..]
    } else {
        // SAFETY: `array` is exactly a `numpy.ndarray` (checked above, not a subclass that
        // could lie in `__array_interface__`), C-contiguous, so its `nbytes` bytes start at
        // `address` and are initialized. The borrow `'a` of `array` keeps the array, and so
        // its buffer, alive: numpy refuses to resize an array that is referenced. Another
        // thread may write the array while the GIL is released, as with every consumer of
        // numpy memory; the bytes are plain data for every dtype but bool, whose bytes are
        // read as `u8` and converted (see `put_array`), never viewed as `bool`.
        unsafe { std::slice::from_raw_parts(address as *const u8, nbytes) }
    };
    Ok(NumpyData {
        bytes,
        dtype,
        shape,
    })
}

/// Writes bool bytes in bounded pieces, each byte normalized (`!= 0`): the bytes are numpy's,
/// and viewing bytes that are not 0 or 1 as `bool` would be undefined behaviour.
fn put_bools(
    w: &mut Writer,
    name: &str,
    bytes: &[u8],
    shape: &[usize],
    options: &EntryOptions,
) -> brine::Result<()> {
    let mut aw = w.array_writer::<bool>(name, shape, options)?;
    let mut piece = Vec::with_capacity(bytes.len().min(1 << 16));
    for chunk in bytes.chunks(1 << 16) {
        piece.clear();
        piece.extend(chunk.iter().map(|&b| b != 0));
        aw.write(&piece)?;
    }
    aw.finish()
}

/// Elements of `T` viewed in numpy's bytes.
fn elements<'a, T: Element>(name: &str, bytes: &'a [u8]) -> PyResult<&'a [T]> {
    if bytes.is_empty() {
        // numpy's pointer for no elements need not be aligned.
        return Ok(&[]);
    }
    T::cast_slice(bytes).map_err(|e| {
        PyValueError::new_err(format!(
            "array {name:?}: its memory cannot be viewed as {}: {e:?}",
            T::DTYPE
        ))
    })
}

/// The stream of an object with `__arrow_c_stream__` (pyarrow Table and RecordBatchReader,
/// polars DataFrame, ...), taken out of its capsule.
fn import_stream(name: &str, data: &Bound<'_, PyAny>) -> PyResult<ArrowArrayStreamReader> {
    if !data.hasattr("__arrow_c_stream__")? {
        return Err(PyTypeError::new_err(format!(
            "frame {name:?}: {} has no __arrow_c_stream__ (the Arrow PyCapsule interface)",
            data.get_type().name()?
        )));
    }
    let capsule = data.call_method0("__arrow_c_stream__")?;
    let capsule = capsule.cast::<PyCapsule>()?;
    let pointer: NonNull<FFI_ArrowArrayStream> = capsule
        .pointer_checked(Some(STREAM_CAPSULE))?
        .cast::<FFI_ArrowArrayStream>();
    // SAFETY: a capsule named "arrow_array_stream" holds an `ArrowArrayStream` (the Arrow
    // PyCapsule interface; the name was checked above), and `FFI_ArrowArrayStream` is that C
    // struct. `from_raw` moves the stream out and leaves a released one behind, so the
    // capsule's destructor does not release it a second time.
    let stream = unsafe { FFI_ArrowArrayStream::from_raw(pointer.as_ptr()) };
    ArrowArrayStreamReader::try_new(stream).map_err(|e| {
        PyValueError::new_err(format!("frame {name:?}: the Arrow stream is invalid: {e}"))
    })
}

#[pymethods]
impl PyWriter {
    #[new]
    #[pyo3(signature = (path, alignment=None))]
    fn new(py: Python<'_>, path: PathBuf, alignment: Option<u32>) -> PyResult<Self> {
        let writer = py
            .detach(|| {
                let mut options = Writer::options();
                if let Some(a) = alignment {
                    options = options.alignment(a);
                }
                options.create(&path)
            })
            .or_py()?;
        Ok(PyWriter {
            inner: Mutex::new(Some(writer)),
            path,
        })
    }

    /// The target path.
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// Sets a file metadata pair.
    fn set_metadata(&self, py: Python<'_>, key: String, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let value = meta_from_py(&key, value)?;
        self.with(py, |w| {
            w.set_metadata(key, value);
            Ok(())
        })
    }

    /// Writes a numpy array (C-contiguous, aligned, native byte order: the Python layer
    /// prepares it), the GIL released. `shuffle=None` shuffles when a sample says it pays.
    #[pyo3(signature = (name, array, compress=None, shuffle=None, level=brine::DEFAULT_ZSTD_LEVEL, chunk_len=None, metadata=None))]
    #[allow(clippy::too_many_arguments)]
    fn put_array(
        &self,
        py: Python<'_>,
        name: &str,
        array: &Bound<'_, PyAny>,
        compress: Option<&str>,
        shuffle: Option<bool>,
        level: i32,
        chunk_len: Option<usize>,
        metadata: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let data = numpy_data(name, array)?;
        let mut codec = codec_of(compress, shuffle.unwrap_or(true))?;
        if codec.is_compressed() && shuffle.is_none() {
            let (bytes, size) = (data.bytes, data.dtype.size());
            let shuffled = py.detach(|| shuffle_pays(bytes, size, level));
            codec = codec_of(compress, shuffled)?;
        }
        let mut options = EntryOptions::new().codec(codec).zstd_level(level);
        if let Some(c) = chunk_len {
            options = options.chunk_len(c);
        }
        for (k, v) in metadata_pairs(metadata)? {
            options = options.metadata(k, v);
        }
        let NumpyData {
            bytes,
            dtype,
            shape,
        } = data;
        self.with(py, |w| {
            if dtype == Dtype::Bool {
                return put_bools(w, name, bytes, &shape, &options).or_py();
            }
            with_element!(dtype, T => {
                let values = elements::<T>(name, bytes)?;
                w.put_array_with(name, values, &shape, &options).or_py()
            })
        })
    }

    /// Writes a frame from an object with `__arrow_c_stream__`, batch by batch, the GIL
    /// released. A stream that fails part way aborts the whole file.
    #[pyo3(signature = (name, data, compress=None, shuffle=true, level=brine::DEFAULT_ZSTD_LEVEL, chunk_len=None, metadata=None))]
    #[allow(clippy::too_many_arguments)]
    fn put_frame(
        &self,
        py: Python<'_>,
        name: &str,
        data: &Bound<'_, PyAny>,
        compress: Option<&str>,
        shuffle: bool,
        level: i32,
        chunk_len: Option<usize>,
        metadata: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let stream = import_stream(name, data)?;
        let mut options = FrameOptions::new()
            .codec(codec_of(compress, shuffle)?)
            .zstd_level(level);
        if let Some(c) = chunk_len {
            options = options.chunk_len(c);
        }
        for (k, v) in metadata_pairs(metadata)? {
            options = options.metadata(k, v);
        }
        let failed = py.detach(|| {
            let mut guard = lock(&self.inner);
            let Some(writer) = guard.as_mut() else {
                return Some(PyValueError::new_err(format!(
                    "{}: the writer is finished or aborted",
                    self.path.display()
                )));
            };
            let schema = stream.schema();
            let mut stream_error = None;
            let mut batches = stream
                .map_while(|b| b.map_err(|e| stream_error = Some(e)).ok())
                .peekable();
            let written = if batches.peek().is_none() {
                drop(batches);
                // A stream of no batch (a table of no chunk) still has its columns.
                let empty = RecordBatch::new_empty(schema);
                match stream_error {
                    None => put_record_batches(writer, name, [empty], &options),
                    Some(_) => Ok(()),
                }
            } else {
                put_record_batches(writer, name, batches, &options)
            };
            if let Some(e) = stream_error {
                // The frame holds only the batches before the failure: never finish it.
                guard.take();
                return Some(PyRuntimeError::new_err(format!(
                    "frame {name:?}: the Arrow stream failed, the file is aborted: {e}"
                )));
            }
            written.err().map(to_py)
        });
        match failed {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Writes a model from a Python value tree (see `to_value`) as a [`Value`] model entry,
    /// the GIL released while it is archived, compressed and written.
    #[pyo3(signature = (name, tree, compress=None, level=brine::DEFAULT_ZSTD_LEVEL, version=None, metadata=None))]
    #[allow(clippy::too_many_arguments)]
    fn put_value(
        &self,
        py: Python<'_>,
        name: &str,
        tree: &Bound<'_, PyAny>,
        compress: Option<&str>,
        level: i32,
        version: Option<u64>,
        metadata: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let value = to_value(tree, &NodeTypes::get(py)?, name, 0)?;
        let mut options = ModelOptions::new()
            .codec(codec_of(compress, false)?)
            .zstd_level(level);
        if let Some(v) = version {
            options = options.version(v);
        }
        for (k, v) in metadata_pairs(metadata)? {
            options = options.metadata(k, v);
        }
        self.with(py, |w| w.put_model_with(name, &value, &options).or_py())
    }

    /// Writes the manifest and renames the file over the target (atomic), the GIL released.
    fn finish(&self, py: Python<'_>) -> PyResult<()> {
        let writer = lock(&self.inner).take().ok_or_else(|| {
            PyValueError::new_err(format!(
                "{}: the writer is finished or aborted",
                self.path.display()
            ))
        })?;
        py.detach(|| writer.finish()).or_py()
    }

    /// Discards everything written: the target is left as it was.
    fn abort(&self) {
        lock(&self.inner).take();
    }

    /// Whether `finish` or `abort` was called.
    #[getter]
    fn closed(&self) -> bool {
        lock(&self.inner).is_none()
    }
}

/// The format version this build writes and reads.
#[pyfunction]
fn format_version() -> String {
    brine::raw::header::FORMAT_VERSION.to_string()
}

#[pymodule]
fn _brine(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(open, m)?)?;
    m.add_function(wrap_pyfunction!(format_version, m)?)?;
    m.add_function(wrap_pyfunction!(fingerprint, m)?)?;
    m.add_class::<File>()?;
    m.add_class::<PyWriter>()?;
    m.add_class::<ArrayBuffer>()?;
    m.add_class::<FrameStream>()?;
    Ok(())
}
