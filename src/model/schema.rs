//! The [`Schema`] of a model: a compile-time structural fingerprint and a readable description.
//!
//! A model is an rkyv archive, and an rkyv archive is only meaningful to a reader that knows the
//! exact Rust type it was written from. brine stores two things with every model so that a
//! reader can refuse a wrong type before it touches a byte of the archive:
//!
//! - [`Schema::FINGERPRINT`], a 64-bit hash of the type's structure: type names, field and
//!   variant names in order, field types recursively, and the size and alignment of the archived
//!   form of every type. It is computed by const evaluation, so checking it costs one comparison.
//! - The *schema text* ([`schema_text`]), a canonical line-oriented description of the same
//!   structure, one line per named type. It is what a user sees when the fingerprints differ
//!   ([`first_difference`] finds the first line that differs), and what a reader in another
//!   language reads to find out what a model holds.
//!
//! `spec/SCHEMA.md` specifies the text and the fingerprint byte by byte; the fingerprint can be
//! recomputed from the text alone.
//!
//! # Deriving
//!
//! `#[derive(brine::Schema)]` implements [`Schema`] for structs (named, tuple and unit) and
//! enums, next to rkyv's derives. Generic type parameters get a `Schema` bound. The generated
//! code names only `::brine` paths; a crate that uses rkyv through brine's re-export tells
//! rkyv's derive so with `#[rkyv(crate = brine::rkyv)]`.
//!
//! ```
//! use brine::Schema;
//! use brine::rkyv::{Archive, Deserialize, Serialize};
//!
//! #[derive(Archive, Serialize, Deserialize, Schema)]
//! #[rkyv(crate = brine::rkyv)]
//! struct Forest {
//!     trees: Vec<Tree>,
//!     bias: f32,
//! }
//!
//! #[derive(Archive, Serialize, Deserialize, Schema)]
//! #[rkyv(crate = brine::rkyv)]
//! struct Tree {
//!     weights: Vec<f32>,
//! }
//!
//! assert_eq!(
//!     brine::model::schema_text::<Forest>(),
//!     "root: Forest\n\
//!      Forest = struct { trees: Vec<Tree>, bias: f32 } size 12 align 4\n\
//!      Tree = struct { weights: Vec<f32> } size 8 align 4\n"
//! );
//! ```
//!
//! Attributes:
//!
//! - `#[schema(name = "Name")]` on the type pins its schema name, so that renaming the Rust type
//!   does not change the fingerprint. The name must be an identifier and must not be one of the
//!   built-in names (`Vec`, `String`, `u32`, ...).
//! - `#[schema(recursive)]` on a field makes the field's type count by its *name* only
//!   ([`Schema::NAME_HASH`]) instead of by its full structure. A recursive type needs it on the
//!   fields that lead back to itself, because a fingerprint that contains itself cannot be
//!   computed (without it, compilation fails with a cycle in const evaluation). A field marked
//!   `#[rkyv(omit_bounds)]`, which rkyv requires on exactly those fields, is treated the same
//!   way. In the schema text such a field's type is written with a leading `@`; the structure of
//!   the recursive type is still covered, by its own definition.
//!
//! ```
//! use brine::Schema;
//! use brine::rkyv::{Archive, Deserialize, Serialize};
//!
//! #[derive(Archive, Serialize, Deserialize, Schema)]
//! #[rkyv(crate = brine::rkyv)]
//! #[rkyv(serialize_bounds(__S: brine::rkyv::ser::Writer + brine::rkyv::ser::Allocator,
//!                         __S::Error: brine::rkyv::rancor::Source))]
//! #[rkyv(deserialize_bounds(__D::Error: brine::rkyv::rancor::Source))]
//! #[rkyv(bytecheck(bounds(__C: brine::rkyv::validation::ArchiveContext,
//!                         __C::Error: brine::rkyv::rancor::Source)))]
//! enum Node {
//!     Leaf(f32),
//!     Split(#[rkyv(omit_bounds)] Box<Node>, #[rkyv(omit_bounds)] Box<Node>),
//! }
//!
//! assert_eq!(
//!     brine::model::schema_text::<Node>(),
//!     "root: Node\nNode = enum { Leaf(f32), Split(@Box<Node>, @Box<Node>) } size 12 align 4\n"
//! );
//! ```
//!
//! A derived type may not take the name of a built-in type, because the text could not tell them
//! apart:
//!
//! ```compile_fail
//! #[derive(brine::rkyv::Archive, brine::Schema)]
//! #[rkyv(crate = brine::rkyv)]
//! struct String(Vec<u8>); // error: `String` is the name of a built-in schema type
//! ```
//!
//! # Implementing by hand
//!
//! Implement [`Schema`] by hand only for a type whose archived form is not its derived one; use
//! [`name_hash`], [`hash_str`] and [`fold`] exactly as `spec/SCHEMA.md` says, or the fingerprint
//! will not match what other implementations compute from the schema text.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use half::{bf16, f16};
use xxhash_rust::const_xxh3::xxh3_64;

/// A type whose structure brine can fingerprint and describe; the type of a stored model.
///
/// Derive it with `#[derive(brine::Schema)]` (see the
/// [module documentation](crate::model::schema)). It is implemented for `bool`, `char`, the
/// fixed-width integers, `f32`, `f64`, `half::f16`, `half::bf16`, `()`, `String`, `Vec<T>`,
/// `Option<T>`, `Box<T>`, `[T; N]`, tuples of up to 12 elements, `BTreeMap<K, V>` and
/// `BTreeSet<T>`.
///
/// A derived type's archived size and alignment are those of `rkyv::Archived<Self>`; a built-in
/// type's are those that `spec/SCHEMA.md` tabulates for brine's pinned rkyv format.
/// `half::f16` and `half::bf16` have no rkyv implementation; a model that holds them archives
/// them through an rkyv `with` wrapper, as their little-endian bits (2 bytes, alignment 2),
/// which is the layout their schema records.
pub trait Schema {
    /// The hash of the type's name alone: its base name and, recursively, the names of its
    /// type arguments (`spec/SCHEMA.md` §5.2). A field marked recursive contributes this
    /// instead of its [`FINGERPRINT`](Schema::FINGERPRINT).
    const NAME_HASH: u64;

    /// The structural fingerprint: the name, every field and variant name in order, every field
    /// type's fingerprint, and the archived size and alignment (`spec/SCHEMA.md` §5.3). Types
    /// of equal structure have equal fingerprints; types whose schema texts differ have
    /// different fingerprints (barring a 64-bit hash collision).
    const FINGERPRINT: u64;

    /// `size_of` of the archived form, under brine's pinned rkyv layout.
    const ARCHIVED_SIZE: usize;

    /// `align_of` of the archived form, under brine's pinned rkyv layout.
    const ARCHIVED_ALIGN: usize;

    /// The canonical name of the type as the schema text writes it: `Forest`, `Vec<f32>`,
    /// `[u8; 4]`, `(f32, String)`, `BTreeMap<String, u32>`.
    fn type_name() -> String;

    /// Adds to `out` the definition of every named type this type is built from, in the
    /// canonical order: the type itself first if it is named, then each field's type in
    /// declaration order, depth first, each name once.
    fn describe(out: &mut SchemaBuilder);
}

// ---------------------------------------------------------------------------------------------
// The hashing primitives of spec/SCHEMA.md.

/// `S(s)`: XXH3-64 (seed 0) of the UTF-8 bytes of `s`.
///
/// # Examples
///
/// ```
/// assert_eq!(brine::model::hash_str(""), 0x2d06800538d394c2);
/// ```
pub const fn hash_str(s: &str) -> u64 {
    xxh3_64(s.as_bytes())
}

/// `mix(a, b)`: XXH3-64 (seed 0) of the 16 bytes `a` then `b`, each as little-endian `u64`.
pub const fn mix(a: u64, b: u64) -> u64 {
    let a = a.to_le_bytes();
    let b = b.to_le_bytes();
    let mut buf = [0u8; 16];
    let mut i = 0;
    while i < 8 {
        buf[i] = a[i];
        buf[8 + i] = b[i];
        i += 1;
    }
    xxh3_64(&buf)
}

/// `fold(w0, w1, ..., wn)`: `mix(...mix(mix(w0, w1), w2)..., wn)`; `fold(w0)` is `w0`, and the
/// fold of no words is 0.
pub const fn fold(words: &[u64]) -> u64 {
    if words.is_empty() {
        return 0;
    }
    let mut h = words[0];
    let mut i = 1;
    while i < words.len() {
        h = mix(h, words[i]);
        i += 1;
    }
    h
}

/// `N(T)` of a type whose base name is `base` and whose arguments are `args`:
/// `fold(S(base), k, args...)` with `k = args.len()`. The arguments are the name hashes of the
/// type arguments (for `[T; n]`: `N(T)` and then `n` itself).
pub const fn name_hash(base: &str, args: &[u64]) -> u64 {
    let mut h = mix(hash_str(base), args.len() as u64);
    let mut i = 0;
    while i < args.len() {
        h = mix(h, args[i]);
        i += 1;
    }
    h
}

// ---------------------------------------------------------------------------------------------
// Descriptions.

/// The definition of one named type (a struct or an enum): one line of the schema text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDef {
    /// The canonical type name ([`Schema::type_name`]), arguments included: `Pair<f32>`.
    pub name: String,
    /// Struct or enum, with the fields.
    pub kind: DefKind,
    /// [`Schema::ARCHIVED_SIZE`].
    pub size: usize,
    /// [`Schema::ARCHIVED_ALIGN`].
    pub align: usize,
}

/// What a named type is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefKind {
    /// A struct and its fields.
    Struct(Fields),
    /// An enum and its variants, in declaration order.
    Enum(Vec<Variant>),
}

/// One variant of an enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// The variant's name.
    pub name: String,
    /// Its fields.
    pub fields: Fields,
}

/// The fields of a struct or of an enum variant, in declaration order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fields {
    /// No fields and no brackets: `struct Marker;`, `Variant`.
    Unit,
    /// Positional fields: `struct Meters(f64)`, `Variant(A, B)`.
    Tuple(Vec<FieldType>),
    /// Named fields: `struct P { x: f32 }`, `Variant { x: f32 }`.
    Named(Vec<(String, FieldType)>),
}

/// The type of one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldType {
    /// The canonical name of the field's type.
    pub ty: String,
    /// The field counts by the name of its type only (`#[schema(recursive)]`); written `@Type`.
    pub by_name: bool,
}

/// Collects the definitions of the named types of a schema; [`Schema::describe`] fills it.
#[derive(Debug, Default)]
pub struct SchemaBuilder {
    defs: Vec<TypeDef>,
    /// Name of every defined type -> its fingerprint.
    seen: BTreeMap<String, u64>,
}

impl SchemaBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Defines the named type `T` unless a type of the same name is already defined; returns
    /// whether it was new, in which case the caller goes on to describe the field types.
    /// `kind` is only called for a new type.
    ///
    /// # Panics
    ///
    /// If a different type (another fingerprint) of the same name is already defined: the text
    /// could not tell them apart. Pin a distinct name on one with `#[schema(name = "...")]`.
    pub fn define<T: Schema + ?Sized>(&mut self, kind: impl FnOnce() -> DefKind) -> bool {
        let name = T::type_name();
        if let Some(&fingerprint) = self.seen.get(&name) {
            assert!(
                fingerprint == T::FINGERPRINT,
                "two different types are both named `{name}` in one schema; \
                 give one a distinct name with #[schema(name = \"...\")]"
            );
            return false;
        }
        self.seen.insert(name.clone(), T::FINGERPRINT);
        self.defs.push(TypeDef {
            name,
            kind: kind(),
            size: T::ARCHIVED_SIZE,
            align: T::ARCHIVED_ALIGN,
        });
        true
    }

    /// The definitions collected so far, in canonical order.
    pub fn definitions(&self) -> &[TypeDef] {
        &self.defs
    }
}

/// The whole schema of a type: the root type's name and every named type it is built from.
///
/// Its [`Display`](fmt::Display) is the canonical schema text of `spec/SCHEMA.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaDesc {
    /// The canonical name of the root type.
    pub root: String,
    /// The definitions, root first (when the root is named), each named type once.
    pub definitions: Vec<TypeDef>,
}

impl SchemaDesc {
    /// Describes `T`.
    ///
    /// # Panics
    ///
    /// If two different types in `T` have the same name (see [`SchemaBuilder::define`]).
    pub fn of<T: Schema + ?Sized>() -> Self {
        let mut out = SchemaBuilder::new();
        T::describe(&mut out);
        SchemaDesc {
            root: T::type_name(),
            definitions: out.defs,
        }
    }
}

/// The canonical schema text of `T` (`spec/SCHEMA.md`): a `root:` line, then one line per
/// named type, each ending in a line feed.
///
/// # Panics
///
/// If two different types in `T` have the same name (see [`SchemaBuilder::define`]).
///
/// # Examples
///
/// ```
/// assert_eq!(brine::model::schema_text::<Vec<f32>>(), "root: Vec<f32>\n");
/// ```
pub fn schema_text<T: Schema + ?Sized>() -> String {
    SchemaDesc::of::<T>().to_string()
}

impl fmt::Display for SchemaDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "root: {}", self.root)?;
        for def in &self.definitions {
            writeln!(f, "{def}")?;
        }
        Ok(())
    }
}

impl fmt::Display for TypeDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = ", self.name)?;
        match &self.kind {
            DefKind::Struct(fields) => write!(f, "struct{fields}")?,
            DefKind::Enum(variants) if variants.is_empty() => f.write_str("enum {}")?,
            DefKind::Enum(variants) => {
                f.write_str("enum { ")?;
                for (i, v) in variants.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}{}", v.name, v.fields)?;
                }
                f.write_str(" }")?;
            }
        }
        write!(f, " size {} align {}", self.size, self.align)
    }
}

/// Writes `(A, B)`, ` { a: A, b: B }` or nothing; `()` and ` {}` when empty.
impl fmt::Display for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fields::Unit => Ok(()),
            Fields::Tuple(types) => {
                f.write_str("(")?;
                for (i, ty) in types.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{ty}")?;
                }
                f.write_str(")")
            }
            Fields::Named(fields) if fields.is_empty() => f.write_str(" {}"),
            Fields::Named(fields) => {
                f.write_str(" { ")?;
                for (i, (name, ty)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{name}: {ty}")?;
                }
                f.write_str(" }")
            }
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.by_name {
            f.write_str("@")?;
        }
        f.write_str(&self.ty)
    }
}

// ---------------------------------------------------------------------------------------------
// Comparing schema texts.

/// Where a stored schema text first differs from the expected one ([`first_difference`]).
///
/// Its [`Display`](fmt::Display) completes a message such as "stored schema differs from the
/// expected one: {diff}".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaDiff {
    /// The 1-based number of the first line that differs.
    pub line: usize,
    /// That line of the stored text, `None` if the stored text has fewer lines.
    pub stored: Option<String>,
    /// That line of the expected text, `None` if the expected text has fewer lines.
    pub expected: Option<String>,
}

impl fmt::Display for SchemaDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = self.line;
        match (&self.stored, &self.expected) {
            (Some(s), Some(e)) => write!(f, "line {line}: stored `{s}`, expected `{e}`"),
            (None, Some(e)) => write!(
                f,
                "stored has fewer definitions: line {line} expected `{e}`, stored ends"
            ),
            (Some(s), None) => write!(
                f,
                "stored has more definitions: line {line} stored `{s}`, expected ends"
            ),
            (None, None) => write!(f, "line {line}: no difference"),
        }
    }
}

/// The first line at which two schema texts differ, or `None` if they have the same lines
/// (as [`str::lines`] splits them).
///
/// # Examples
///
/// ```
/// use brine::model::first_difference;
///
/// let stored = "root: P\nP = struct { x: f32 } size 4 align 4\n";
/// let expected = "root: P\nP = struct { x: f64 } size 8 align 8\n";
/// let diff = first_difference(stored, expected).unwrap();
/// assert_eq!(diff.line, 2);
/// assert_eq!(
///     diff.to_string(),
///     "line 2: stored `P = struct { x: f32 } size 4 align 4`, \
///      expected `P = struct { x: f64 } size 8 align 8`"
/// );
/// assert_eq!(first_difference(stored, stored), None);
/// ```
pub fn first_difference(stored: &str, expected: &str) -> Option<SchemaDiff> {
    let mut s = stored.lines();
    let mut e = expected.lines();
    let mut line = 0;
    loop {
        line += 1;
        match (s.next(), e.next()) {
            (None, None) => return None,
            (a, b) if a == b => continue,
            (a, b) => {
                return Some(SchemaDiff {
                    line,
                    stored: a.map(str::to_owned),
                    expected: b.map(str::to_owned),
                });
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Built-in types. Their archived layouts are fixed by brine's pinned rkyv format (little-endian,
// aligned, 32-bit relative pointers) and written out here as spec/SCHEMA.md tabulates them, so
// that containers of types without an rkyv impl (`Vec<f16>` behind a `with` wrapper) still have
// a schema; tests/schema.rs checks every formula against `size_of::<Archived<T>>()`.

/// `FINGERPRINT` of a built-in type: `fold(N(T), F(A1), ..., F(Ak), size, align)`.
macro_rules! builtin_fingerprint {
    ($($arg:ty),*) => {
        const FINGERPRINT: u64 = fold(&[
            Self::NAME_HASH,
            $(<$arg as Schema>::FINGERPRINT,)*
            Self::ARCHIVED_SIZE as u64,
            Self::ARCHIVED_ALIGN as u64,
        ]);
    };
}

macro_rules! primitive {
    ($($t:ty => $name:literal, $size:literal, $align:literal;)*) => {$(
        impl Schema for $t {
            const NAME_HASH: u64 = name_hash($name, &[]);
            const ARCHIVED_SIZE: usize = $size;
            const ARCHIVED_ALIGN: usize = $align;
            builtin_fingerprint!();
            fn type_name() -> String {
                $name.to_owned()
            }
            fn describe(_: &mut SchemaBuilder) {}
        }
    )*};
}

primitive! {
    bool => "bool", 1, 1;
    char => "char", 4, 4;
    u8 => "u8", 1, 1;
    u16 => "u16", 2, 2;
    u32 => "u32", 4, 4;
    u64 => "u64", 8, 8;
    u128 => "u128", 16, 16;
    i8 => "i8", 1, 1;
    i16 => "i16", 2, 2;
    i32 => "i32", 4, 4;
    i64 => "i64", 8, 8;
    i128 => "i128", 16, 16;
    f16 => "f16", 2, 2;
    bf16 => "bf16", 2, 2;
    f32 => "f32", 4, 4;
    f64 => "f64", 8, 8;
    String => "String", 8, 4;
}

/// A built-in generic type with one type argument, written `Name<T>`.
macro_rules! container {
    ($($t:ident => $name:literal, $size:expr, $align:expr;)*) => {$(
        impl<T: Schema> Schema for $t<T> {
            const NAME_HASH: u64 = name_hash($name, &[T::NAME_HASH]);
            const ARCHIVED_SIZE: usize = $size;
            const ARCHIVED_ALIGN: usize = $align;
            builtin_fingerprint!(T);
            fn type_name() -> String {
                format!("{}<{}>", $name, T::type_name())
            }
            fn describe(out: &mut SchemaBuilder) {
                T::describe(out);
            }
        }
    )*};
}

container! {
    // A relative pointer and a length.
    Vec => "Vec", 8, 4;
    BTreeSet => "BTreeSet", 8, 4;
    // A relative pointer.
    Box => "Box", 4, 4;
    // `#[repr(u8)] enum { None, Some(T) }`: a tag byte padded to T's alignment, then T.
    Option => "Option", T::ARCHIVED_ALIGN + T::ARCHIVED_SIZE, T::ARCHIVED_ALIGN;
}

/// A relative pointer to the root node and a length.
impl<K: Schema, V: Schema> Schema for BTreeMap<K, V> {
    const NAME_HASH: u64 = name_hash("BTreeMap", &[K::NAME_HASH, V::NAME_HASH]);
    const ARCHIVED_SIZE: usize = 8;
    const ARCHIVED_ALIGN: usize = 4;
    builtin_fingerprint!(K, V);
    fn type_name() -> String {
        format!("BTreeMap<{}, {}>", K::type_name(), V::type_name())
    }
    fn describe(out: &mut SchemaBuilder) {
        K::describe(out);
        V::describe(out);
    }
}

/// `N` elements, no padding between them.
impl<T: Schema, const N: usize> Schema for [T; N] {
    const NAME_HASH: u64 = name_hash("[;]", &[T::NAME_HASH, N as u64]);
    const ARCHIVED_SIZE: usize = N * T::ARCHIVED_SIZE;
    const ARCHIVED_ALIGN: usize = T::ARCHIVED_ALIGN;
    builtin_fingerprint!(T);
    fn type_name() -> String {
        format!("[{}; {N}]", T::type_name())
    }
    fn describe(out: &mut SchemaBuilder) {
        T::describe(out);
    }
}

/// The `(size, align)` of a `#[repr(C)]` struct with fields of these `(size, align)`.
const fn c_layout(fields: &[(usize, usize)]) -> (usize, usize) {
    let (mut offset, mut align): (usize, usize) = (0, 1);
    let mut i = 0;
    while i < fields.len() {
        let (size, a) = fields[i];
        offset = offset.next_multiple_of(a) + size;
        if a > align {
            align = a;
        }
        i += 1;
    }
    (offset.next_multiple_of(align), align)
}

/// Tuples, `()` included (rkyv's `#[repr(C)]` `ArchivedTupleN`): base name `()`, written
/// `(A, B)`, `(A,)` and `()`.
macro_rules! tuple {
    ($($t:ident)*) => {
        impl<$($t: Schema),*> Schema for ($($t,)*) {
            const NAME_HASH: u64 = name_hash("()", &[$($t::NAME_HASH),*]);
            const ARCHIVED_SIZE: usize =
                c_layout(&[$(($t::ARCHIVED_SIZE, $t::ARCHIVED_ALIGN)),*]).0;
            const ARCHIVED_ALIGN: usize =
                c_layout(&[$(($t::ARCHIVED_SIZE, $t::ARCHIVED_ALIGN)),*]).1;
            builtin_fingerprint!($($t),*);
            fn type_name() -> String {
                let names: &[String] = &[$($t::type_name()),*];
                match names {
                    [one] => format!("({one},)"),
                    _ => format!("({})", names.join(", ")),
                }
            }
            #[allow(unused_variables)]
            fn describe(out: &mut SchemaBuilder) {
                $($t::describe(out);)*
            }
        }
    };
}

tuple!();
tuple!(A);
tuple!(A B);
tuple!(A B C);
tuple!(A B C D);
tuple!(A B C D E);
tuple!(A B C D E F);
tuple!(A B C D E F G);
tuple!(A B C D E F G H);
tuple!(A B C D E F G H I);
tuple!(A B C D E F G H I J);
tuple!(A B C D E F G H I J K);
tuple!(A B C D E F G H I J K L);
