//! The fixed set of model types the `open_walk` target reads every model entry as: the type of
//! `spec/vectors/model-small` (see `tests/vectors.rs`), plus types with enums, strings, maps,
//! tuples, fixed arrays, options, boxes and a recursive enum. Only a type whose fingerprint
//! matches the stored one reaches rkyv validation, so `make_seeds` writes a model of each.

use std::collections::BTreeMap;

use brine::model::TensorRef;
use rkyv::{Archive, Deserialize, Serialize};

/// The type of the `model-small` vector: a vector of floats, a string and an enum.
#[derive(Archive, Serialize, Deserialize, brine::Schema, Debug, Clone, PartialEq)]
pub struct Small {
    /// Weights.
    pub weights: Vec<f32>,
    /// A label.
    pub label: String,
    /// An enum with a struct variant.
    pub activation: Activation,
}

/// The enum of [`Small`].
#[derive(Archive, Serialize, Deserialize, brine::Schema, Debug, Clone, PartialEq)]
pub enum Activation {
    /// No field.
    Relu,
    /// A struct variant.
    LeakyRelu {
        /// The slope.
        slope: f32,
    },
    /// No field.
    Identity,
}

/// Strings, an optional boxed enum, a map, nested vectors, a tuple, a fixed array and a
/// tensor reference.
#[derive(Archive, Serialize, Deserialize, brine::Schema, Debug, Clone, PartialEq)]
pub struct Rich {
    /// Strings of any length (inline and out-of-line in rkyv).
    pub names: Vec<String>,
    /// An optional box.
    pub shape: Option<Box<Shape>>,
    /// A B-tree map.
    pub table: BTreeMap<String, u32>,
    /// Nested vectors.
    pub nested: Vec<Vec<u8>>,
    /// A tuple.
    pub pair: (i64, f64, bool),
    /// A fixed-size array.
    pub fixed: [u16; 4],
    /// A reference to an array entry.
    pub tensor: TensorRef,
    /// A char (bytecheck refuses invalid scalar values).
    pub letter: char,
}

/// An enum with unit, tuple and struct variants.
#[derive(Archive, Serialize, Deserialize, brine::Schema, Debug, Clone, PartialEq)]
pub enum Shape {
    /// No field.
    Empty,
    /// A tuple variant holding a string.
    Named(String),
    /// A struct variant holding vectors.
    Points {
        /// x coordinates.
        xs: Vec<i32>,
        /// y coordinates.
        ys: Vec<i32>,
    },
}

/// A recursive enum: validation recurses once per level, up to
/// `OpenOptions::max_model_depth`.
#[derive(Archive, Serialize, Deserialize, brine::Schema, Debug, Clone, PartialEq)]
#[rkyv(serialize_bounds(
    __S: rkyv::ser::Writer + rkyv::ser::Allocator,
    __S::Error: rkyv::rancor::Source,
))]
#[rkyv(deserialize_bounds(__D::Error: rkyv::rancor::Source))]
#[rkyv(bytecheck(bounds(
    __C: rkyv::validation::ArchiveContext,
    __C::Error: rkyv::rancor::Source,
)))]
pub enum Node {
    /// A leaf.
    Leaf(f32),
    /// An inner node.
    Split {
        /// Feature index.
        feature: u32,
        /// Threshold.
        threshold: f32,
        /// Left subtree.
        #[rkyv(omit_bounds)]
        left: Box<Node>,
        /// Right subtree.
        #[rkyv(omit_bounds)]
        right: Box<Node>,
    },
}

/// A value of each model type, for the generated seeds.
pub fn small() -> Small {
    Small {
        weights: vec![0.5, -1.0, 3.25],
        label: "a label longer than eight bytes".into(),
        activation: Activation::LeakyRelu { slope: 0.01 },
    }
}

/// A [`Rich`] value with every field non-trivial.
pub fn rich() -> Rich {
    Rich {
        names: vec![
            "".into(),
            "short".into(),
            "a name that is stored out of line".into(),
        ],
        shape: Some(Box::new(Shape::Points {
            xs: vec![1, -2, 3],
            ys: vec![4, 5, -6],
        })),
        table: [("one".to_owned(), 1), ("two".to_owned(), 2)]
            .into_iter()
            .collect(),
        nested: vec![vec![], vec![1, 2, 3], vec![255; 17]],
        pair: (-7, 2.5, true),
        fixed: [1, 2, 3, 65535],
        tensor: TensorRef::new("weights"),
        letter: 'é',
    }
}

/// A small tree, three levels deep.
pub fn node() -> Node {
    let leaf = |v| Box::new(Node::Leaf(v));
    Node::Split {
        feature: 1,
        threshold: 0.5,
        left: leaf(-1.0),
        right: Box::new(Node::Split {
            feature: 2,
            threshold: 1.5,
            left: leaf(2.0),
            right: leaf(3.0),
        }),
    }
}
