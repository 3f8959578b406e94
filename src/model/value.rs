//! `Value`: a tree of plain values, the model type of programs whose models are not Rust types
//! (the Python package stores dataclasses as one), readable by any program with
//! `reader.model::<Value>(name)`. Its schema text is normative (`spec/SCHEMA.md`, "Value").

/// A plain value: what a model of a dynamically typed language is made of. Numeric arrays are
/// not inlined: they are array entries of the same file (page-aligned, compressible, read
/// without a copy), named by [`Value::Array`].
#[derive(
    rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, brine_derive::Schema, Debug, Clone, PartialEq,
)]
#[rkyv(serialize_bounds(
    __S: rkyv::ser::Writer + rkyv::ser::Allocator,
    __S::Error: rkyv::rancor::Source,
))]
#[rkyv(deserialize_bounds(__D::Error: rkyv::rancor::Source))]
#[rkyv(bytecheck(bounds(
    __C: rkyv::validation::ArchiveContext,
    __C::Error: rkyv::rancor::Source,
)))]
pub enum Value {
    /// No value (Python's `None`).
    None,
    /// A boolean.
    Bool(bool),
    /// A 64-bit signed integer.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// A UTF-8 string.
    Str(String),
    /// Bytes.
    Bytes(Vec<u8>),
    /// A sequence (Python's `list`).
    List(#[rkyv(omit_bounds)] Vec<Value>),
    /// A fixed sequence (Python's `tuple`).
    Tuple(#[rkyv(omit_bounds)] Vec<Value>),
    /// Key-value pairs, in insertion order (Python's `dict`).
    Map(#[rkyv(omit_bounds)] Vec<(Value, Value)>),
    /// The array entry of this name, in the same file.
    Array(String),
    /// An object: the name of its class (for display; a reader never looks a class up by it)
    /// and its fields, in declaration order.
    Object {
        /// The class's qualified name.
        class: String,
        /// Field names and values, in declaration order.
        #[rkyv(omit_bounds)]
        fields: Vec<(String, Value)>,
    },
}

#[cfg(test)]
mod tests {
    use super::Value;
    use crate::model::Schema;

    fn sample() -> Value {
        Value::Object {
            class: "iris.Softmax".into(),
            fields: vec![
                ("weights".into(), Value::Array("model/weights".into())),
                (
                    "classes".into(),
                    Value::List(vec![Value::Str("setosa".into()), Value::None]),
                ),
                (
                    "shape".into(),
                    Value::Tuple(vec![Value::Int(-3), Value::Float(0.5)]),
                ),
                (
                    "flags".into(),
                    Value::Map(vec![(Value::Bool(true), Value::Bytes(vec![0, 255]))]),
                ),
            ],
        }
    }

    #[test]
    fn a_value_tree_round_trips_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.brine");
        let mut w = crate::Writer::create(&path).unwrap();
        w.put_model("model", &sample()).unwrap();
        w.finish().unwrap();
        let r = crate::Reader::open(&path).unwrap();
        assert_eq!(r.load_model::<Value>("model").unwrap(), sample());
        let entry = r.model_entry("model").unwrap();
        assert_eq!(entry.type_name(), "Value");
        assert_eq!(entry.fingerprint(), Value::FINGERPRINT);
        // The schema text spec/SCHEMA.md gives for `Value`, byte for byte.
        assert_eq!(entry.schema(), crate::model::schema_text::<Value>());
        assert_eq!(entry.schema(), SCHEMA_TEXT, "{}", entry.schema());
    }

    /// spec/SCHEMA.md §9.1 gives `Value`'s schema text and fingerprint: a change to the type
    /// is a change to the spec.
    #[test]
    fn the_spec_gives_values_schema_and_fingerprint() {
        let spec = include_str!("../../spec/SCHEMA.md");
        assert_eq!(Value::FINGERPRINT, 0xa4b8_52d5_557e_e397);
        assert!(spec.contains(&format!("`{:#018x}`", Value::FINGERPRINT)));
        for line in SCHEMA_TEXT.lines() {
            assert!(
                spec.contains(&format!("\n{line}\n")),
                "SCHEMA.md lacks {line:?}"
            );
        }
    }

    const SCHEMA_TEXT: &str = "root: Value\nValue = enum { None, Bool(bool), Int(i64), \
        Float(f64), Str(String), Bytes(Vec<u8>), List(@Vec<Value>), Tuple(@Vec<Value>), \
        Map(@Vec<(Value, Value)>), Array(String), Object { class: String, fields: \
        @Vec<(String, Value)> } } size 24 align 8\n";
}
