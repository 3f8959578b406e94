//! Helpers shared by the integration tests: arrays of any dtype.

#![allow(dead_code)]

use brine::{Dtype, Element, MetaRef};
use half::{bf16, f16};

/// An array's elements, of any dtype.
#[derive(Clone, Debug)]
pub enum Data {
    Bool(Vec<bool>),
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    U64(Vec<u64>),
    F16(Vec<f16>),
    BF16(Vec<bf16>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

/// Runs `$body` with `$v` bound to the typed `Vec` inside a [`Data`].
#[macro_export]
macro_rules! dispatch {
    ($data:expr, $v:ident => $body:expr) => {
        match $data {
            Data::Bool($v) => $body,
            Data::I8($v) => $body,
            Data::I16($v) => $body,
            Data::I32($v) => $body,
            Data::I64($v) => $body,
            Data::U8($v) => $body,
            Data::U16($v) => $body,
            Data::U32($v) => $body,
            Data::U64($v) => $body,
            Data::F16($v) => $body,
            Data::BF16($v) => $body,
            Data::F32($v) => $body,
            Data::F64($v) => $body,
        }
    };
}

impl Data {
    /// Number of elements.
    pub fn len(&self) -> usize {
        dispatch!(self, v => v.len())
    }

    /// The element type.
    pub fn dtype(&self) -> Dtype {
        fn of<T: Element>(_: &[T]) -> Dtype {
            T::DTYPE
        }
        dispatch!(self, v => of(v))
    }
}

/// An owned metadata value, floats compared by bits.
#[derive(Clone, Debug, PartialEq)]
pub enum Meta {
    Str(String),
    Int(i64),
    Float(u64),
    Bool(bool),
    Bytes(Vec<u8>),
}

impl From<MetaRef<'_>> for Meta {
    fn from(m: MetaRef<'_>) -> Meta {
        match m {
            MetaRef::Str(s) => Meta::Str(s.to_owned()),
            MetaRef::Int(v) => Meta::Int(v),
            MetaRef::Float(v) => Meta::Float(v.to_bits()),
            MetaRef::Bool(v) => Meta::Bool(v),
            MetaRef::Bytes(v) => Meta::Bytes(v.to_vec()),
        }
    }
}
