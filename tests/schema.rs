//! `Schema`: golden fingerprints, the schema text, what changes a fingerprint, and an
//! independent implementation of spec/SCHEMA.md that recomputes every fingerprint from the text.

use std::collections::{BTreeMap, BTreeSet};

use brine::model::{Schema, SchemaDiff, first_difference, schema_text};
use half::{bf16, f16};
use rkyv::{Archive, Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// Types under test.

#[derive(Archive, Serialize, Deserialize, brine::Schema)]
struct Point {
    x: f32,
    y: f32,
}

#[derive(Archive, Serialize, Deserialize, brine::Schema)]
struct Meters(f64);

#[derive(Archive, Serialize, Deserialize, brine::Schema)]
struct Marker;

#[derive(Archive, Serialize, Deserialize, brine::Schema)]
struct Pair<T> {
    first: T,
    rest: Vec<T>,
}

#[derive(Archive, Serialize, Deserialize, brine::Schema)]
enum Shape {
    Empty,
    Circle(f32),
    Rect { w: f32, h: f32 },
}

#[derive(Archive, Serialize, Deserialize, brine::Schema)]
#[rkyv(serialize_bounds(
    __S: rkyv::ser::Writer + rkyv::ser::Allocator,
    __S::Error: rkyv::rancor::Source,
))]
#[rkyv(deserialize_bounds(__D::Error: rkyv::rancor::Source))]
#[rkyv(bytecheck(bounds(
    __C: rkyv::validation::ArchiveContext,
    __C::Error: rkyv::rancor::Source,
)))]
enum Node {
    Leaf(f32),
    Split {
        feature: u32,
        threshold: f32,
        #[rkyv(omit_bounds)]
        left: Box<Node>,
        #[rkyv(omit_bounds)]
        right: Box<Node>,
    },
}

#[derive(Archive, Serialize, Deserialize, brine::Schema)]
struct Tree {
    root: Node,
    weight: Option<f64>,
}

#[derive(Archive, Serialize, Deserialize, brine::Schema)]
struct Forest {
    trees: Vec<Tree>,
    bias: f32,
    labels: BTreeMap<String, u32>,
}

/// A generic recursive type: the recursive field carries no `Schema` bound.
#[derive(Archive, Serialize, Deserialize, brine::Schema)]
#[rkyv(serialize_bounds(
    __S: rkyv::ser::Writer + rkyv::ser::Allocator,
    __S::Error: rkyv::rancor::Source,
))]
#[rkyv(deserialize_bounds(__D::Error: rkyv::rancor::Source))]
#[rkyv(bytecheck(bounds(
    __C: rkyv::validation::ArchiveContext,
    __C::Error: rkyv::rancor::Source,
)))]
struct List<T> {
    head: T,
    #[rkyv(omit_bounds)]
    tail: Option<Box<List<T>>>,
}

/// Every built-in type in one struct, and a raw identifier.
#[derive(Archive, Serialize, Deserialize, brine::Schema)]
struct Everything {
    r#type: (bool, char, u8, u16, u32, u64, u128),
    signed: (i8, i16, i32, i64, i128),
    floats: (f32, f64),
    unit: (),
    one: (String,),
    grid: [[u8; 3]; 2],
    set: BTreeSet<i64>,
    boxed: Box<Meters>,
    shapes: Vec<Option<Shape>>,
}

/// The same structure as `Node`, under another Rust name, with the schema attribute.
mod pinned {
    use super::*;

    #[derive(Archive, Serialize, Deserialize, brine::Schema)]
    #[rkyv(serialize_bounds(
        __S: rkyv::ser::Writer + rkyv::ser::Allocator,
        __S::Error: rkyv::rancor::Source,
    ))]
    #[rkyv(deserialize_bounds(__D::Error: rkyv::rancor::Source))]
    #[rkyv(bytecheck(bounds(
        __C: rkyv::validation::ArchiveContext,
        __C::Error: rkyv::rancor::Source,
    )))]
    #[schema(name = "Node")]
    pub enum RenamedNode {
        Leaf(f32),
        Split {
            feature: u32,
            threshold: f32,
            #[schema(recursive)]
            #[rkyv(omit_bounds)]
            left: Box<RenamedNode>,
            #[rkyv(omit_bounds)]
            #[schema(recursive)]
            right: Box<RenamedNode>,
        },
    }
}

/// Variations of `Point` and `Shape`, each with one change.
mod changed {
    use super::*;

    pub mod field_name {
        use super::*;
        #[derive(Archive, Serialize, Deserialize, brine::Schema)]
        pub struct Point {
            x: f32,
            z: f32,
        }
    }
    pub mod field_type {
        use super::*;
        #[derive(Archive, Serialize, Deserialize, brine::Schema)]
        pub struct Point {
            x: f32,
            y: u32,
        }
    }
    pub mod field_order {
        use super::*;
        #[derive(Archive, Serialize, Deserialize, brine::Schema)]
        pub struct Point {
            y: f32,
            x: f32,
        }
    }
    pub mod tuple_struct {
        use super::*;
        #[derive(Archive, Serialize, Deserialize, brine::Schema)]
        pub struct Point(f32, f32);
    }
    pub mod type_name {
        use super::*;
        #[derive(Archive, Serialize, Deserialize, brine::Schema)]
        pub struct Dot {
            x: f32,
            y: f32,
        }
    }
    pub mod pinned_name {
        use super::*;
        #[derive(Archive, Serialize, Deserialize, brine::Schema)]
        #[schema(name = "Point")]
        pub struct Dot {
            x: f32,
            y: f32,
        }
    }
    pub mod variant_name {
        use super::*;
        #[derive(Archive, Serialize, Deserialize, brine::Schema)]
        pub enum Shape {
            Empty,
            Disc(f32),
            Rect { w: f32, h: f32 },
        }
    }
    pub mod variant_order {
        use super::*;
        #[derive(Archive, Serialize, Deserialize, brine::Schema)]
        pub enum Shape {
            Circle(f32),
            Empty,
            Rect { w: f32, h: f32 },
        }
    }
    pub mod variant_shape {
        use super::*;
        #[derive(Archive, Serialize, Deserialize, brine::Schema)]
        pub enum Shape {
            Empty,
            Circle { r: f32 },
            Rect { w: f32, h: f32 },
        }
    }
    pub mod recursive_not_by_name {
        use super::*;
        /// `y` counts by name although it need not; `PointFull` is the same without that.
        #[derive(Archive, Serialize, Deserialize, brine::Schema)]
        #[schema(name = "Pt")]
        pub struct Point {
            x: f32,
            #[schema(recursive)]
            y: Box<f32>,
        }
        #[derive(Archive, Serialize, Deserialize, brine::Schema)]
        #[schema(name = "Pt")]
        pub struct PointFull {
            x: f32,
            y: Box<f32>,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Golden fingerprints. A change here is a format change: every stored model of that type
// becomes unreadable. Never update a value without a note in spec/SCHEMA.md.

macro_rules! golden {
    ($($t:ty => $fp:literal,)*) => {
        /// Each type's fingerprint, as the library computes it and as the independent
        /// implementation below recomputes it from the type's schema text.
        const GOLDEN: &[(&str, u64, u64, fn() -> String)] = &[
            $((stringify!($t), <$t as Schema>::FINGERPRINT, $fp, schema_text::<$t>),)*
        ];
    };
}

golden! {
    bool => 0x47a96bbaa19debed,
    u8 => 0xff27b59c5dab7303,
    i64 => 0xec9f8105c47afd08,
    f32 => 0x2dbb62050ff7e264,
    f16 => 0xc73dccfdb2acd0c6,
    bf16 => 0x96237f4ccd28502f,
    Vec<f16> => 0xb5705e10980b8380,
    String => 0x6ef2ffdf4efadf8b,
    () => 0x38fdd1e0d009604c,
    Vec<f32> => 0xc65ccfb9bd37d5ea,
    Option<String> => 0xfadb73316bb6822d,
    [f32; 4] => 0xd5d3a86a1b68f765,
    (u8, u64) => 0x1c82589c8663800b,
    BTreeMap<String, u32> => 0xcedb44d1d4091727,
    BTreeSet<u64> => 0x960fbe327e059bf2,
    Point => 0x6b1a1d6b6a8d9a04,
    Meters => 0x5f033322a9e22366,
    Marker => 0x88ee0a20d624aa42,
    Pair<f32> => 0x628c6fc8868a332d,
    Pair<Point> => 0x319de6234da228fd,
    Shape => 0xb27bbfb15cced0f9,
    Node => 0x375c69e37f9d1e7d,
    Tree => 0x91b474a8e2a2cfae,
    Forest => 0x6e9e91d74f69ca65,
    List<u8> => 0xd28c88a0e4991be0,
    Vec<Option<Box<Node>>> => 0x454d520af157e3b5,
    Everything => 0x2fe24dfdf91c59e9,
}

#[test]
fn golden_fingerprints() {
    let mut wrong = Vec::new();
    for &(name, fingerprint, golden, _) in GOLDEN {
        if fingerprint != golden {
            wrong.push(format!("{name} => {fingerprint:#018x},"));
        }
    }
    assert!(
        wrong.is_empty(),
        "changed fingerprints:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn fingerprints_are_reproducible_from_the_text() {
    for &(name, fingerprint, _, text) in GOLDEN {
        let text = text();
        assert_eq!(
            spec::fingerprint(&text),
            fingerprint,
            "{name}: spec/SCHEMA.md computes another fingerprint from\n{text}"
        );
    }
}

#[test]
fn fingerprint_is_const() {
    const FP: u64 = <Forest as Schema>::FINGERPRINT;
    const _: () = assert!(FP != <Tree as Schema>::FINGERPRINT);
    assert_eq!(FP, 0x6e9e91d74f69ca65);
}

/// The layouts spec/SCHEMA.md gives for built-in types are rkyv's.
#[test]
fn builtin_layouts_are_rkyvs() {
    macro_rules! check {
        ($($t:ty),*) => {$(
            assert_eq!(
                (<$t as Schema>::ARCHIVED_SIZE, <$t as Schema>::ARCHIVED_ALIGN),
                (size_of::<rkyv::Archived<$t>>(), align_of::<rkyv::Archived<$t>>()),
                "{}", stringify!($t)
            );
        )*};
    }
    check!(
        bool, char, u8, u16, u32, u64, u128, i8, i16, i32, i64, i128, f32, f64, String
    );
    check!((), Vec<u8>, Vec<u128>, Vec<Shape>, BTreeSet<u64>, BTreeMap<String, (u8, u128)>);
    check!(
        Box<u8>,
        Box<[u64; 4]>,
        Box<Node>,
        Option<()>,
        Option<u8>,
        Option<u64>,
        Option<u128>
    );
    check!(
        Option<String>,
        Option<Option<u16>>,
        Option<Box<Node>>,
        Option<Shape>,
        Option<Meters>
    );
    check!(
        [u8; 0],
        [u8; 3],
        [u64; 3],
        [(u8, u32); 2],
        [Point; 2],
        [[u16; 3]; 5]
    );
    check!(
        (u8,),
        (u8, u64),
        (u64, u8),
        (u8, u32, u8),
        (u8, u16, u32, u64, u128),
        ((), u8)
    );
    check!(
        (u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u16),
        (Marker, Meters, Option<u8>)
    );
}

// ---------------------------------------------------------------------------------------------
// What changes a fingerprint, and what does not.

#[test]
fn any_structural_change_changes_the_fingerprint() {
    let point = Point::FINGERPRINT;
    for (what, other) in [
        ("field name", changed::field_name::Point::FINGERPRINT),
        ("field type", changed::field_type::Point::FINGERPRINT),
        ("field order", changed::field_order::Point::FINGERPRINT),
        ("tuple fields", changed::tuple_struct::Point::FINGERPRINT),
        ("type name", changed::type_name::Dot::FINGERPRINT),
    ] {
        assert_ne!(point, other, "changing the {what} kept the fingerprint");
    }
    let shape = Shape::FINGERPRINT;
    for (what, other) in [
        ("variant name", changed::variant_name::Shape::FINGERPRINT),
        ("variant order", changed::variant_order::Shape::FINGERPRINT),
        ("variant shape", changed::variant_shape::Shape::FINGERPRINT),
    ] {
        assert_ne!(shape, other, "changing the {what} kept the fingerprint");
    }
    // The type arguments of a generic type, and an array's length.
    assert_ne!(Pair::<f32>::FINGERPRINT, Pair::<u32>::FINGERPRINT);
    assert_ne!(<[f32; 4]>::FINGERPRINT, <[f32; 5]>::FINGERPRINT);
    assert_ne!(<(u8, u64)>::FINGERPRINT, <(u64, u8)>::FINGERPRINT);
    assert_ne!(Vec::<f32>::FINGERPRINT, Option::<f32>::FINGERPRINT);
    // Counting a field by name is part of the structure.
    assert_ne!(
        changed::recursive_not_by_name::Point::FINGERPRINT,
        changed::recursive_not_by_name::PointFull::FINGERPRINT
    );
}

#[test]
fn a_pinned_name_survives_a_rust_rename() {
    assert_eq!(changed::pinned_name::Dot::FINGERPRINT, Point::FINGERPRINT);
    assert_eq!(changed::pinned_name::Dot::type_name(), "Point");
    assert_eq!(pinned::RenamedNode::FINGERPRINT, Node::FINGERPRINT);
    assert_eq!(schema_text::<pinned::RenamedNode>(), schema_text::<Node>());
}

#[test]
fn all_fingerprints_differ() {
    let mut seen = BTreeMap::new();
    for &(name, fingerprint, _, _) in GOLDEN {
        if let Some(other) = seen.insert(fingerprint, name) {
            panic!("{name} and {other} have the same fingerprint");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The schema text.

#[test]
fn type_names() {
    assert_eq!(<Vec<f32>>::type_name(), "Vec<f32>");
    assert_eq!(<[f32; 4]>::type_name(), "[f32; 4]");
    assert_eq!(<(u8,)>::type_name(), "(u8,)");
    assert_eq!(<()>::type_name(), "()");
    assert_eq!(<(u8, String)>::type_name(), "(u8, String)");
    assert_eq!(
        <BTreeMap<String, Vec<Pair<u8>>>>::type_name(),
        "BTreeMap<String, Vec<Pair<u8>>>"
    );
    assert_eq!(<Option<Box<bf16>>>::type_name(), "Option<Box<bf16>>");
    assert_eq!(<Vec<f16>>::type_name(), "Vec<f16>");
    assert_eq!(Forest::type_name(), "Forest");
}

#[test]
fn text_of_a_builtin_root() {
    assert_eq!(schema_text::<Vec<f32>>(), "root: Vec<f32>\n");
    assert_eq!(
        schema_text::<Option<(u8, Point)>>(),
        "root: Option<(u8, Point)>\n\
         Point = struct { x: f32, y: f32 } size 8 align 4\n"
    );
}

#[test]
fn text_of_a_nested_model() {
    assert_eq!(
        schema_text::<Forest>(),
        "root: Forest\n\
         Forest = struct { trees: Vec<Tree>, bias: f32, labels: BTreeMap<String, u32> } \
         size 20 align 4\n\
         Tree = struct { root: Node, weight: Option<f64> } size 40 align 8\n\
         Node = enum { Leaf(f32), Split { feature: u32, threshold: f32, left: @Box<Node>, \
         right: @Box<Node> } } size 20 align 4\n"
    );
}

#[test]
fn text_of_every_shape() {
    assert_eq!(
        schema_text::<Everything>(),
        "root: Everything\n\
         Everything = struct { type: (bool, char, u8, u16, u32, u64, u128), \
         signed: (i8, i16, i32, i64, i128), floats: (f32, f64), unit: (), one: (String,), \
         grid: [[u8; 3]; 2], set: BTreeSet<i64>, boxed: Box<Meters>, \
         shapes: Vec<Option<Shape>> } size 144 align 16\n\
         Meters = struct(f64) size 8 align 8\n\
         Shape = enum { Empty, Circle(f32), Rect { w: f32, h: f32 } } size 12 align 4\n"
    );
    assert_eq!(
        schema_text::<Marker>(),
        "root: Marker\nMarker = struct size 0 align 1\n"
    );
    assert_eq!(
        schema_text::<List<Pair<u8>>>(),
        "root: List<Pair<u8>>\n\
         List<Pair<u8>> = struct { head: Pair<u8>, tail: @Option<Box<List<Pair<u8>>>> } \
         size 20 align 4\n\
         Pair<u8> = struct { first: u8, rest: Vec<u8> } size 12 align 4\n"
    );
}

/// Two different types named `Point` in one schema: the text could not tell them apart.
#[derive(Archive, Serialize, Deserialize, brine::Schema)]
struct Clash {
    a: Point,
    b: changed::field_type::Point,
}

#[test]
#[should_panic(expected = "two different types are both named `Point` in one schema")]
fn two_types_of_one_name_are_refused() {
    let _ = Clash::FINGERPRINT; // Fingerprints are fine: the types differ.
    schema_text::<Clash>();
}

// ---------------------------------------------------------------------------------------------
// first_difference.

#[test]
fn first_difference_names_the_first_differing_line() {
    let stored = schema_text::<changed::field_type::Point>();
    let expected = schema_text::<Point>();
    let diff = first_difference(&stored, &expected).unwrap();
    assert_eq!(
        diff,
        SchemaDiff {
            line: 2,
            stored: Some("Point = struct { x: f32, y: u32 } size 8 align 4".into()),
            expected: Some("Point = struct { x: f32, y: f32 } size 8 align 4".into()),
        }
    );
    assert_eq!(
        diff.to_string(),
        "line 2: stored `Point = struct { x: f32, y: u32 } size 8 align 4`, \
         expected `Point = struct { x: f32, y: f32 } size 8 align 4`"
    );
    assert_eq!(first_difference(&expected, &expected), None);
}

#[test]
fn first_difference_when_the_stored_text_is_shorter_or_longer() {
    let one = schema_text::<Pair<f32>>();
    let two = schema_text::<Pair<Point>>();
    let diff = first_difference(&one, &two).unwrap();
    assert_eq!(diff.line, 1);

    let forest = schema_text::<Forest>();
    let fewer = forest
        .lines()
        .take(2)
        .map(|l| format!("{l}\n"))
        .collect::<String>();
    let diff = first_difference(&fewer, &forest).unwrap();
    assert_eq!(diff.line, 3);
    assert_eq!(diff.stored, None);
    assert_eq!(
        diff.to_string(),
        format!(
            "stored has fewer definitions: line 3 expected `{}`, stored ends",
            forest.lines().nth(2).unwrap()
        )
    );
    let diff = first_difference(&forest, &fewer).unwrap();
    assert_eq!(diff.expected, None);
    assert!(
        diff.to_string()
            .starts_with("stored has more definitions: line 3 stored `")
    );
}

// ---------------------------------------------------------------------------------------------
// The derive next to rkyv's.

#[test]
fn derived_types_still_archive() {
    let forest = Forest {
        trees: vec![Tree {
            root: Node::Split {
                feature: 3,
                threshold: 0.5,
                left: Box::new(Node::Leaf(-1.0)),
                right: Box::new(Node::Leaf(1.0)),
            },
            weight: Some(2.0),
        }],
        bias: 0.25,
        labels: BTreeMap::from([("a".to_owned(), 1)]),
    };
    let bytes = rkyv::to_bytes::<rkyv::rancor::Error>(&forest).unwrap();
    let archived = rkyv::access::<ArchivedForest, rkyv::rancor::Error>(&bytes).unwrap();
    assert_eq!(archived.bias, 0.25);
    match &archived.trees[0].root {
        ArchivedNode::Split { feature, left, .. } => {
            assert_eq!(*feature, 3);
            assert!(matches!(**left, ArchivedNode::Leaf(v) if v == -1.0));
        }
        ArchivedNode::Leaf(_) => panic!("expected a split"),
    }
    assert_eq!(Forest::ARCHIVED_SIZE, size_of::<ArchivedForest>());
}

// ---------------------------------------------------------------------------------------------
// An independent implementation of spec/SCHEMA.md: parses the schema text and recomputes the
// root's fingerprint with the runtime (not const) XXH3, the layout table of built-in types,
// and the sizes recorded on the definition lines.

mod spec {
    use std::collections::HashMap;

    use xxhash_rust::xxh3::xxh3_64;

    /// A type expression.
    #[derive(Debug)]
    enum Ty {
        Named(String, Vec<Ty>),
        Array(Box<Ty>, u64),
        Tuple(Vec<Ty>),
    }

    /// A field's type, and whether it counts by name (`@`).
    type FieldTy = (bool, Ty);

    enum Fields {
        Unit,
        Tuple(Vec<FieldTy>),
        Named(Vec<(String, FieldTy)>),
    }

    enum Body {
        Struct(Fields),
        Enum(Vec<(String, Fields)>),
    }

    struct Def {
        body: Body,
        size: u64,
        align: u64,
    }

    struct Cursor<'a>(&'a str);

    impl<'a> Cursor<'a> {
        fn eat(&mut self, s: &str) -> bool {
            match self.0.strip_prefix(s) {
                Some(rest) => {
                    self.0 = rest;
                    true
                }
                None => false,
            }
        }
        fn expect(&mut self, s: &str) {
            assert!(self.eat(s), "expected {s:?} at {:?}", self.0);
        }
        fn ident(&mut self) -> &'a str {
            let end = self
                .0
                .find(|c: char| " ,:;<>()[]{}=@".contains(c))
                .unwrap_or(self.0.len());
            assert!(end > 0, "expected an identifier at {:?}", self.0);
            let (ident, rest) = self.0.split_at(end);
            self.0 = rest;
            ident
        }
        fn number(&mut self) -> u64 {
            self.ident().parse().unwrap()
        }
        /// `item (", " item)*` up to `close`, which is consumed.
        fn list<T>(&mut self, close: &str, mut item: impl FnMut(&mut Self) -> T) -> Vec<T> {
            let mut items = Vec::new();
            if self.eat(close) {
                return items;
            }
            loop {
                items.push(item(self));
                if self.eat(close) {
                    return items;
                }
                self.expect(", ");
            }
        }
        fn ty(&mut self) -> Ty {
            if self.eat("[") {
                let elem = self.ty();
                self.expect("; ");
                let n = self.number();
                self.expect("]");
                Ty::Array(Box::new(elem), n)
            } else if self.eat("(") {
                if self.eat(")") {
                    return Ty::Tuple(Vec::new());
                }
                let first = self.ty();
                if self.eat(",)") {
                    return Ty::Tuple(vec![first]);
                }
                let mut items = vec![first];
                if !self.eat(")") {
                    self.expect(", ");
                    items.extend(self.list(")", Self::ty));
                }
                Ty::Tuple(items)
            } else {
                let name = self.ident().to_owned();
                let args = if self.eat("<") {
                    self.list(">", Self::ty)
                } else {
                    Vec::new()
                };
                Ty::Named(name, args)
            }
        }
        fn field_ty(&mut self) -> FieldTy {
            (self.eat("@"), self.ty())
        }
        fn fields(&mut self) -> Fields {
            if self.eat("(") {
                Fields::Tuple(self.list(")", Self::field_ty))
            } else if self.eat(" {}") {
                Fields::Named(Vec::new())
            } else if self.eat(" { ") {
                Fields::Named(self.list(" }", |c| {
                    let name = c.ident().to_owned();
                    c.expect(": ");
                    (name, c.field_ty())
                }))
            } else {
                Fields::Unit
            }
        }
    }

    fn render(ty: &Ty) -> String {
        let join = |tys: &[Ty]| tys.iter().map(render).collect::<Vec<_>>().join(", ");
        match ty {
            Ty::Named(name, args) if args.is_empty() => name.clone(),
            Ty::Named(name, args) => format!("{name}<{}>", join(args)),
            Ty::Array(elem, n) => format!("[{}; {n}]", render(elem)),
            Ty::Tuple(items) if items.len() == 1 => format!("({},)", render(&items[0])),
            Ty::Tuple(items) => format!("({})", join(items)),
        }
    }

    fn s(text: &str) -> u64 {
        xxh3_64(text.as_bytes())
    }

    fn fold(words: &[u64]) -> u64 {
        words[1..].iter().fold(words[0], |h, &w| {
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&h.to_le_bytes());
            bytes[8..].copy_from_slice(&w.to_le_bytes());
            xxh3_64(&bytes)
        })
    }

    fn name_hash(ty: &Ty) -> u64 {
        let (base, args): (&str, Vec<u64>) = match ty {
            Ty::Named(name, args) => (name, args.iter().map(name_hash).collect()),
            Ty::Array(elem, n) => ("[;]", vec![name_hash(elem), *n]),
            Ty::Tuple(items) => ("()", items.iter().map(name_hash).collect()),
        };
        let mut words = vec![s(base), args.len() as u64];
        words.extend(args);
        fold(&words)
    }

    struct Schema {
        defs: HashMap<String, Def>,
    }

    impl Schema {
        /// The layout of a type: from its definition line, else from the built-in table.
        fn layout(&self, ty: &Ty) -> (u64, u64) {
            if let Some(def) = self.defs.get(&render(ty)) {
                return (def.size, def.align);
            }
            match ty {
                Ty::Named(name, args) => match (name.as_str(), &args[..]) {
                    ("bool" | "u8" | "i8", []) => (1, 1),
                    ("u16" | "i16" | "f16" | "bf16", []) => (2, 2),
                    ("u32" | "i32" | "f32" | "char", []) => (4, 4),
                    ("u64" | "i64" | "f64", []) => (8, 8),
                    ("u128" | "i128", []) => (16, 16),
                    ("String", []) | ("Vec" | "BTreeSet", [_]) | ("BTreeMap", [_, _]) => (8, 4),
                    ("Box", [_]) => (4, 4),
                    ("Option", [t]) => {
                        let (size, align) = self.layout(t);
                        (align + size, align)
                    }
                    _ => panic!("unknown type {}", render(ty)),
                },
                Ty::Array(elem, n) => {
                    let (size, align) = self.layout(elem);
                    (size * n, align)
                }
                Ty::Tuple(items) => {
                    let (mut offset, mut align) = (0u64, 1u64);
                    for item in items {
                        let (s, a) = self.layout(item);
                        offset = offset.next_multiple_of(a) + s;
                        align = align.max(a);
                    }
                    (offset.next_multiple_of(align), align)
                }
            }
        }

        fn fingerprint(&self, ty: &Ty) -> u64 {
            let (size, align) = self.layout(ty);
            let mut words = vec![name_hash(ty)];
            match self.defs.get(&render(ty)) {
                Some(def) => match &def.body {
                    Body::Struct(fields) => {
                        words.push(s("struct"));
                        self.shape(fields, &mut words);
                    }
                    Body::Enum(variants) => {
                        words.push(s("enum"));
                        words.push(variants.len() as u64);
                        for (name, fields) in variants {
                            words.push(s(name));
                            self.shape(fields, &mut words);
                        }
                    }
                },
                None => match ty {
                    Ty::Named(_, args) | Ty::Tuple(args) => {
                        words.extend(args.iter().map(|t| self.fingerprint(t)));
                    }
                    Ty::Array(elem, _) => words.push(self.fingerprint(elem)),
                },
            }
            words.extend([size, align]);
            fold(&words)
        }

        fn reference(&self, (by_name, ty): &FieldTy, words: &mut Vec<u64>) {
            if *by_name {
                words.extend([1, name_hash(ty)]);
            } else {
                words.extend([0, self.fingerprint(ty)]);
            }
        }

        fn shape(&self, fields: &Fields, words: &mut Vec<u64>) {
            match fields {
                Fields::Unit => words.push(0),
                Fields::Tuple(types) => {
                    words.extend([1, types.len() as u64]);
                    for ty in types {
                        self.reference(ty, words);
                    }
                }
                Fields::Named(fields) => {
                    words.extend([2, fields.len() as u64]);
                    for (name, ty) in fields {
                        words.push(s(name));
                        self.reference(ty, words);
                    }
                }
            }
        }
    }

    /// The fingerprint of the root of a schema text.
    pub fn fingerprint(text: &str) -> u64 {
        let mut lines = text.lines();
        let mut root = Cursor(lines.next().unwrap());
        root.expect("root: ");
        let root_ty = root.ty();
        assert_eq!(root.0, "");
        let mut defs = HashMap::new();
        for line in lines {
            let mut c = Cursor(line);
            let name = render(&c.ty());
            c.expect(" = ");
            let body = if c.eat("struct") {
                Body::Struct(c.fields())
            } else {
                c.expect("enum {");
                if c.eat("}") {
                    Body::Enum(Vec::new())
                } else {
                    c.expect(" ");
                    Body::Enum(c.list(" }", |c| (c.ident().to_owned(), c.fields())))
                }
            };
            c.expect(" size ");
            let size = c.number();
            c.expect(" align ");
            let align = c.number();
            assert_eq!(c.0, "", "trailing text on {line:?}");
            assert!(defs.insert(name, Def { body, size, align }).is_none());
        }
        Schema { defs }.fingerprint(&root_ty)
    }
}
