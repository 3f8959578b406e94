//! Models read without their Rust type: the stored schema text (SCHEMA.md §4) is parsed, its
//! fingerprint recomputed (§5, rule D8), and the archive decoded through it into a [`Dynamic`]
//! tree, every pointer, length, tag and string checked as rkyv's validator would (rules R1–R3
//! and D9 of FORMAT.md), so that a program in another language, or a person at a prompt, can
//! look inside a model written by a Rust program.
//!
//! This is the Rust form of the reference decoder of `spec/reader-python` (`Schema.decode`).
//! The tree is allocated, but strings and vectors of numbers are views of the archive.

use std::collections::HashMap;

use crate::model::schema::{fold, hash_str, name_hash};
use crate::raw::dtype::Dtype;

/// A value of a model decoded through its schema text.
#[derive(Clone, Debug, PartialEq)]
pub enum Dynamic<'a> {
    /// A unit struct or a unit variant (`()` is the empty [`Dynamic::Tuple`]).
    Unit,
    /// `bool`.
    Bool(bool),
    /// A signed integer (`i8` … `i128`).
    Int(i128),
    /// An unsigned integer (`u8` … `u128`).
    UInt(u128),
    /// A float (`f16`, `bf16` and `f32` widened exactly to `f64`).
    Float(f64),
    /// `char`.
    Char(char),
    /// `String`, a view of the archive.
    Str(&'a str),
    /// A `Vec` or array of `bool`, integers up to 64 bits or floats: the elements' bytes in the
    /// archive (little-endian, aligned to the element), not copied.
    Numbers {
        /// The element type.
        dtype: Dtype,
        /// `len × dtype.size()` bytes.
        bytes: &'a [u8],
    },
    /// A `Vec`, an array or a `BTreeSet` of other elements.
    List(Vec<Dynamic<'a>>),
    /// A tuple (`()` is the empty one), or the fields of a tuple struct or tuple variant.
    Tuple(Vec<Dynamic<'a>>),
    /// An `Option` (a `Box` is transparent).
    Option(Option<Box<Dynamic<'a>>>),
    /// The fields of a named struct or variant, in declaration order.
    Record(Vec<(&'a str, Dynamic<'a>)>),
    /// An enum's variant and its fields.
    Variant(&'a str, Box<Dynamic<'a>>),
    /// A `BTreeMap`'s entries in key order.
    Map(Vec<(Dynamic<'a>, Dynamic<'a>)>),
}

/// Why a model could not be decoded through its schema text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DynamicError {
    /// The schema text breaks SCHEMA.md §4 (rule D8).
    Schema(String),
    /// The archive is invalid for the schema (rule D9): what, and where in the archive.
    Archive(String),
    /// The archive nests pointers deeper than the limit.
    TooDeep(usize),
    /// The schema text hashes to this fingerprint, not to the stored one (rule D8).
    Fingerprint(u64),
}

type Res<T> = std::result::Result<T, DynamicError>;

fn schema_err<T>(message: impl Into<String>) -> Res<T> {
    Err(DynamicError::Schema(message.into()))
}

fn invalid(message: String) -> DynamicError {
    DynamicError::Archive(message)
}

// ---------------------------------------------------------------------------------------------
// The schema text.

/// How deeply type expressions may nest in a schema text.
const MAX_TYPE_DEPTH: usize = 256;
/// How deeply named types may contain each other without a pointer.
const MAX_DEFINITION_NESTING: usize = 4096;

/// How deeply values may nest (inline or through pointers) for a pointer depth limit.
fn nesting_limit(max_depth: usize) -> usize {
    max_depth
        .saturating_mul(4)
        .saturating_add(MAX_DEFINITION_NESTING)
}

/// rkyv's `ArchivedBTreeMap`: entries per node (SCHEMA.md §3.3).
const BTREE_E: u64 = 5;

const CONTAINERS: [(&str, usize); 5] = [
    ("Vec", 1),
    ("Option", 1),
    ("Box", 1),
    ("BTreeSet", 1),
    ("BTreeMap", 2),
];

/// A parsed type expression: its base (an identifier, `[;]` or `()`), its arguments, the
/// length of an array, and its canonical text.
#[derive(Clone, Debug)]
struct Ty<'s> {
    base: &'s str,
    args: Vec<Ty<'s>>,
    len: u64,
    text: &'s str,
}

fn primitive(base: &str) -> Option<(u64, u64)> {
    Some(match base {
        "bool" | "u8" | "i8" => (1, 1),
        "u16" | "i16" | "f16" | "bf16" => (2, 2),
        "u32" | "i32" | "f32" | "char" => (4, 4),
        "u64" | "i64" | "f64" => (8, 8),
        "u128" | "i128" => (16, 16),
        "String" => (8, 4),
        _ => return None,
    })
}

fn container_arity(base: &str) -> Option<usize> {
    CONTAINERS.iter().find(|(b, _)| *b == base).map(|&(_, n)| n)
}

fn numbers_dtype(base: &str) -> Option<Dtype> {
    Some(match base {
        "bool" => Dtype::Bool,
        "u8" => Dtype::U8,
        "i8" => Dtype::I8,
        "u16" => Dtype::U16,
        "i16" => Dtype::I16,
        "u32" => Dtype::U32,
        "i32" => Dtype::I32,
        "u64" => Dtype::U64,
        "i64" => Dtype::I64,
        "f16" => Dtype::F16,
        "bf16" => Dtype::BF16,
        "f32" => Dtype::F32,
        "f64" => Dtype::F64,
        _ => return None,
    })
}

const SPECIAL: &[u8] = b" ,:;<>()[]{}=@\n";

struct Parser<'s> {
    s: &'s str,
    i: usize,
}

impl<'s> Parser<'s> {
    fn rest(&self) -> &'s str {
        &self.s[self.i..]
    }

    fn eat(&mut self, lit: &str) -> bool {
        let yes = self.rest().starts_with(lit);
        if yes {
            self.i += lit.len();
        }
        yes
    }

    fn literal(&mut self, lit: &str) -> Res<()> {
        if self.eat(lit) {
            Ok(())
        } else {
            schema_err(format!(
                "expected {lit:?} at byte {} of {:?}",
                self.i, self.s
            ))
        }
    }

    fn ident(&mut self) -> Res<&'s str> {
        let end = self
            .rest()
            .bytes()
            .position(|b| SPECIAL.contains(&b))
            .map_or(self.s.len(), |n| self.i + n);
        let word = &self.s[self.i..end];
        let mut chars = word.chars();
        let start_ok = chars
            .next()
            .is_some_and(|c| c == '_' || unicode_ident::is_xid_start(c));
        if !start_ok || !chars.all(unicode_ident::is_xid_continue) {
            return schema_err(format!(
                "expected an identifier at byte {} of {:?}",
                self.i, self.s
            ));
        }
        self.i = end;
        Ok(word)
    }

    fn number(&mut self) -> Res<u64> {
        let n = self.rest().bytes().take_while(u8::is_ascii_digit).count();
        let word = &self.rest()[..n];
        if word.is_empty() || (word.len() > 1 && word.starts_with('0')) {
            return schema_err(format!(
                "expected a number at byte {} of {:?}",
                self.i, self.s
            ));
        }
        self.i += n;
        word.parse()
            .or_else(|_| schema_err(format!("number {word} is too large")))
    }

    fn ty(&mut self, depth: usize) -> Res<Ty<'s>> {
        if depth > MAX_TYPE_DEPTH {
            return schema_err("a type expression nested too deeply");
        }
        let start = self.i;
        let text = |p: &Self| &p.s[start..p.i];
        if self.eat("[") {
            let elem = self.ty(depth + 1)?;
            self.literal("; ")?;
            let len = self.number()?;
            self.literal("]")?;
            return Ok(Ty {
                base: "[;]",
                args: vec![elem],
                len,
                text: text(self),
            });
        }
        if self.eat("()") {
            return Ok(Ty {
                base: "()",
                args: Vec::new(),
                len: 0,
                text: text(self),
            });
        }
        if self.eat("(") {
            let mut elems = vec![self.ty(depth + 1)?];
            if !self.eat(",)") {
                while self.eat(", ") {
                    elems.push(self.ty(depth + 1)?);
                }
                self.literal(")")?;
                if elems.len() < 2 {
                    return schema_err(format!("a bad tuple in {:?}", self.s));
                }
            }
            return Ok(Ty {
                base: "()",
                args: elems,
                len: 0,
                text: text(self),
            });
        }
        let base = self.ident()?;
        let mut args = Vec::new();
        if self.eat("<") {
            args.push(self.ty(depth + 1)?);
            while self.eat(", ") {
                args.push(self.ty(depth + 1)?);
            }
            self.literal(">")?;
        }
        Ok(Ty {
            base,
            args,
            len: 0,
            text: text(self),
        })
    }

    fn field_type(&mut self) -> Res<(Ty<'s>, bool)> {
        let by_name = self.eat("@");
        Ok((self.ty(0)?, by_name))
    }

    /// `fields` of the grammar.
    fn fields(&mut self) -> Res<(Shape, Vec<FieldDef<'s>>)> {
        let mut fields = Vec::new();
        if self.eat("(") {
            if !self.rest().starts_with(')') {
                loop {
                    let (ty, by_name) = self.field_type()?;
                    fields.push(FieldDef {
                        name: None,
                        ty,
                        by_name,
                    });
                    if !self.eat(", ") {
                        break;
                    }
                }
            }
            self.literal(")")?;
            return Ok((Shape::Tuple, fields));
        }
        if self.eat(" {}") {
            return Ok((Shape::Named, fields));
        }
        if self.eat(" { ") {
            loop {
                let name = self.ident()?;
                self.literal(": ")?;
                let (ty, by_name) = self.field_type()?;
                fields.push(FieldDef {
                    name: Some(name),
                    ty,
                    by_name,
                });
                if !self.eat(", ") {
                    break;
                }
            }
            self.literal(" }")?;
            return Ok((Shape::Named, fields));
        }
        Ok((Shape::Unit, fields))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Unit,
    Tuple,
    Named,
}

#[derive(Clone, Debug)]
struct FieldDef<'s> {
    name: Option<&'s str>,
    ty: Ty<'s>,
    by_name: bool,
}

#[derive(Clone, Debug)]
struct VariantDef<'s> {
    /// `None` for a struct's only "variant".
    name: Option<&'s str>,
    shape: Shape,
    fields: Vec<FieldDef<'s>>,
    /// Each field's offset in the archived type (for an enum, after the tag).
    offsets: Vec<u64>,
}

#[derive(Clone, Debug)]
struct Definition<'s> {
    is_enum: bool,
    variants: Vec<VariantDef<'s>>,
    size: u64,
    align: u64,
}

/// A schema text, parsed and checked: every named type it reaches has a definition whose
/// recorded size and alignment are what its fields lay out to.
#[derive(Debug)]
pub struct DynamicSchema<'s> {
    root: Ty<'s>,
    defs: HashMap<&'s str, Definition<'s>>,
    fingerprint: u64,
}

fn round_up(x: u64, align: u64) -> Res<u64> {
    x.checked_next_multiple_of(align)
        .map_or_else(|| schema_err("a layout overflows"), Ok)
}

/// The C layout of fields of these layouts: their offsets, the size and the alignment.
fn c_layout(fields: impl IntoIterator<Item = (u64, u64)>) -> Res<(Vec<u64>, u64, u64)> {
    let (mut offset, mut align, mut offsets) = (0u64, 1u64, Vec::new());
    for (size, a) in fields {
        offset = round_up(offset, a)?;
        offsets.push(offset);
        offset = offset
            .checked_add(size)
            .map_or_else(|| schema_err("a layout overflows"), Ok)?;
        align = align.max(a);
    }
    Ok((offsets, round_up(offset, align)?, align))
}

impl<'s> DynamicSchema<'s> {
    /// Parses and checks a schema text and recomputes its fingerprint.
    ///
    /// # Errors
    /// [`DynamicError::Schema`] with what is wrong.
    pub fn parse(text: &'s str) -> Res<Self> {
        let Some(body) = text.strip_suffix('\n') else {
            return schema_err("the text does not end with a line feed");
        };
        let mut lines = body.split('\n');
        if text.contains('\r') || body.split('\n').any(|l| l.is_empty() || l.ends_with(' ')) {
            return schema_err("a carriage return, an empty line or a trailing space");
        }
        let Some(root_line) = lines.next().and_then(|l| l.strip_prefix("root: ")) else {
            return schema_err("the first line is not 'root: <type>'");
        };
        let mut p = Parser { s: root_line, i: 0 };
        let root = p.ty(0)?;
        if p.i != root_line.len() {
            return schema_err(format!("junk after the root type: {root_line:?}"));
        }
        let mut defs = HashMap::new();
        let mut order = Vec::new();
        for line in lines {
            let (ty, def) = Self::definition(line)?;
            if defs.insert(ty.text, def).is_some() {
                return schema_err(format!("{} is defined twice", ty.text));
            }
            order.push(ty);
        }
        let mut schema = DynamicSchema {
            root,
            defs,
            fingerprint: 0,
        };
        for ty in &order {
            schema.check_definition(ty.text)?;
        }
        schema.check_type(&schema.root)?;
        let mut memo = HashMap::new();
        schema.fingerprint = schema.f(&schema.root, &mut Vec::new(), &mut memo)?;
        Ok(schema)
    }

    /// The fingerprint recomputed from the text (SCHEMA.md §5).
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    fn definition(line: &'s str) -> Res<(Ty<'s>, Definition<'s>)> {
        let mut p = Parser { s: line, i: 0 };
        let ty = p.ty(0)?;
        if primitive(ty.base).is_some()
            || container_arity(ty.base).is_some()
            || ty.base == "[;]"
            || ty.base == "()"
        {
            return schema_err(format!("a definition of the built-in type {}", ty.text));
        }
        p.literal(" = ")?;
        let mut variants = Vec::new();
        let is_enum = if p.eat("struct") {
            let (shape, fields) = p.fields()?;
            variants.push(VariantDef {
                name: None,
                shape,
                fields,
                offsets: Vec::new(),
            });
            false
        } else {
            p.literal("enum ")?;
            if !p.eat("{}") {
                p.literal("{ ")?;
                loop {
                    let name = p.ident()?;
                    let (shape, fields) = p.fields()?;
                    variants.push(VariantDef {
                        name: Some(name),
                        shape,
                        fields,
                        offsets: Vec::new(),
                    });
                    if !p.eat(", ") {
                        break;
                    }
                }
                p.literal(" }")?;
            }
            true
        };
        p.literal(" size ")?;
        let size = p.number()?;
        p.literal(" align ")?;
        let align = p.number()?;
        if p.i != line.len() {
            return schema_err(format!("junk at the end of {line:?}"));
        }
        if !align.is_power_of_two() || size % align != 0 {
            return schema_err(format!("{}: size {size} align {align}", ty.text));
        }
        if is_enum && variants.len() > 256 {
            return schema_err(format!("{}: more than 256 variants", ty.text));
        }
        Ok((
            ty,
            Definition {
                is_enum,
                variants,
                size,
                align,
            },
        ))
    }

    fn check_type(&self, t: &Ty<'s>) -> Res<()> {
        if primitive(t.base).is_some() {
            if !t.args.is_empty() {
                return schema_err(format!("{}: a primitive has no arguments", t.text));
            }
        } else if let Some(n) = container_arity(t.base) {
            if t.args.len() != n {
                return schema_err(format!("{}: {} takes {n} arguments", t.text, t.base));
            }
        } else if t.base != "[;]" && t.base != "()" && !self.defs.contains_key(t.text) {
            return schema_err(format!("{} has no definition line", t.text));
        }
        t.args.iter().try_for_each(|a| self.check_type(a))
    }

    /// `(size, align)` of the archived form of `t` (SCHEMA.md §3.1).
    fn layout(&self, t: &Ty<'s>) -> Res<(u64, u64)> {
        if let Some(l) = primitive(t.base) {
            return Ok(l);
        }
        match t.base {
            "Vec" | "BTreeSet" | "BTreeMap" => Ok((8, 4)),
            "Box" => Ok((4, 4)),
            "Option" => {
                let (s, a) = self.layout(&t.args[0])?;
                Ok((
                    a.checked_add(s)
                        .map_or_else(|| schema_err("a layout overflows"), Ok)?,
                    a,
                ))
            }
            "[;]" => {
                let (s, a) = self.layout(&t.args[0])?;
                let size = t
                    .len
                    .checked_mul(s)
                    .map_or_else(|| schema_err(format!("{} overflows", t.text)), Ok)?;
                Ok((size, a))
            }
            "()" => {
                let layouts = t
                    .args
                    .iter()
                    .map(|a| self.layout(a))
                    .collect::<Res<Vec<_>>>()?;
                let (_, size, align) = c_layout(layouts)?;
                Ok((size, align))
            }
            _ => {
                let d = &self.defs[t.text];
                Ok((d.size, d.align))
            }
        }
    }

    /// SCHEMA.md §3.2: a struct is the C layout of its fields; an enum, per variant, the C
    /// layout of a `u8` tag and its fields, its size and alignment the largest.
    fn check_definition(&mut self, name: &'s str) -> Res<()> {
        let Some(d) = self.defs.get_mut(name) else {
            return schema_err(format!("{name} has no definition line"));
        };
        // Layouts read only sizes and alignments of definitions: the variants can be out of
        // the map while their offsets are computed.
        let mut variants = std::mem::take(&mut d.variants);
        let (is_enum, line_size, line_align) = (d.is_enum, d.size, d.align);
        let (mut size, mut align) = (0, 1);
        for v in &mut variants {
            v.fields.iter().try_for_each(|f| self.check_type(&f.ty))?;
            let mut layouts = Vec::new();
            if is_enum {
                layouts.push((1, 1));
            }
            for f in &v.fields {
                layouts.push(self.layout(&f.ty)?);
            }
            let (mut offsets, s, a) = c_layout(layouts)?;
            if is_enum {
                offsets.remove(0);
            }
            v.offsets = offsets;
            size = size.max(s);
            align = align.max(a);
        }
        if is_enum {
            size = round_up(size, align)?;
        }
        if (size, align) != (line_size, line_align) {
            return schema_err(format!(
                "{name}: its fields lay out as size {size} align {align}, the line says size \
                 {} align {} (an rkyv `with` wrapper? it cannot be followed)",
                line_size, line_align
            ));
        }
        if let Some(def) = self.defs.get_mut(name) {
            def.variants = variants;
        }
        Ok(())
    }

    /// `N(T)` (SCHEMA.md §5.2).
    fn n(t: &Ty<'_>) -> u64 {
        if t.base == "[;]" {
            return name_hash("[;]", &[Self::n(&t.args[0]), t.len]);
        }
        let args: Vec<u64> = t.args.iter().map(Self::n).collect();
        name_hash(t.base, &args)
    }

    /// `F(T)` (SCHEMA.md §5.3).
    fn f(
        &self,
        t: &Ty<'s>,
        stack: &mut Vec<&'s str>,
        memo: &mut HashMap<&'s str, u64>,
    ) -> Res<u64> {
        if let Some(&fp) = memo.get(t.text) {
            return Ok(fp);
        }
        if stack.contains(&t.text) {
            return schema_err(format!(
                "{} contains itself through fields that are not by-name (@): its fingerprint \
                 is undefined",
                t.text
            ));
        }
        if stack.len() >= MAX_DEFINITION_NESTING {
            return schema_err("types nested too deeply for their fingerprint");
        }
        stack.push(t.text);
        let (size, align) = self.layout(t)?;
        let mut words = vec![Self::n(t)];
        if let Some(d) = self.defs.get(t.text) {
            words.push(hash_str(if d.is_enum { "enum" } else { "struct" }));
            if d.is_enum {
                words.push(d.variants.len() as u64);
            }
            for v in &d.variants {
                if let Some(name) = v.name {
                    words.push(hash_str(name));
                }
                match v.shape {
                    Shape::Unit => words.push(0),
                    Shape::Tuple | Shape::Named => {
                        words.push(if v.shape == Shape::Tuple { 1 } else { 2 });
                        words.push(v.fields.len() as u64);
                        for field in &v.fields {
                            if let Some(name) = field.name {
                                words.push(hash_str(name));
                            }
                            if field.by_name {
                                words.extend([1, Self::n(&field.ty)]);
                            } else {
                                words.extend([0, self.f(&field.ty, stack, memo)?]);
                            }
                        }
                    }
                }
            }
        } else {
            for a in &t.args {
                words.push(self.f(a, stack, memo)?);
            }
        }
        words.extend([size, align]);
        let fp = fold(&words);
        stack.pop();
        memo.insert(t.text, fp);
        Ok(fp)
    }

    /// Decodes `archive` (exactly the archive, its first byte aligned to 16 at least) as the
    /// root type, following no pointer chain deeper than `max_depth`.
    ///
    /// # Errors
    /// [`DynamicError::Archive`] for an archive that breaks the rules, with where;
    /// [`DynamicError::TooDeep`].
    pub fn decode<'a>(&self, archive: &'a [u8], max_depth: usize) -> Res<Dynamic<'a>>
    where
        's: 'a,
    {
        let len = archive.len() as u64;
        let mut a = Archive {
            buf: archive,
            lo: 0,
            hi: len,
            depth: 0,
            max_depth,
            nesting: 0,
            // Zero-sized elements take no bytes: bound the values a tree may hold.
            budget: len.saturating_mul(4).saturating_add(1 << 16),
        };
        let (size, align) = self.layout(&self.root)?;
        let root = len.saturating_sub(size);
        a.visit(root, size, align, self.root.text, |a| {
            self.value(a, &self.root, root)
        })
    }

    /// Decodes the value of type `t` at `p`, within the nesting limit.
    fn value<'a>(&self, a: &mut Archive<'a>, t: &Ty<'s>, p: u64) -> Res<Dynamic<'a>>
    where
        's: 'a,
    {
        a.spend(1)?;
        // Values nest inline too (a struct in a struct, without a pointer): bound that as
        // well as the pointer depth rkyv bounds.
        if a.nesting >= nesting_limit(a.max_depth) {
            return Err(DynamicError::TooDeep(a.max_depth));
        }
        a.nesting += 1;
        let value = self.value_here(a, t, p);
        a.nesting -= 1;
        value
    }

    fn value_here<'a>(&self, a: &mut Archive<'a>, t: &Ty<'s>, p: u64) -> Res<Dynamic<'a>>
    where
        's: 'a,
    {
        if primitive(t.base).is_some() {
            return a.primitive(t, p);
        }
        match t.base {
            "Vec" => {
                let elem = &t.args[0];
                let (s, al) = self.layout(elem)?;
                let target = a.target(p)?;
                let n = u64::from(a.u32(p + 4)?);
                let bytes = n
                    .checked_mul(s)
                    .ok_or_else(|| invalid(format!("{}: {n} elements overflow", t.text)))?;
                a.visit(target, bytes, al, t.text, |a| {
                    self.sequence(a, elem, target, n)
                })
            }
            "Box" => {
                let (s, al) = self.layout(&t.args[0])?;
                let target = a.target(p)?;
                a.visit(target, s, al, t.text, |a| self.value(a, &t.args[0], target))
            }
            "Option" => match a.u8(p)? {
                0 => Ok(Dynamic::Option(None)),
                1 => {
                    let (_, al) = self.layout(&t.args[0])?;
                    Ok(Dynamic::Option(Some(Box::new(self.value(
                        a,
                        &t.args[0],
                        p + al,
                    )?))))
                }
                tag => Err(invalid(format!(
                    "{}: tag {tag}, not 0 (None) or 1 (Some)",
                    t.text
                ))),
            },
            "[;]" => self.sequence(a, &t.args[0], p, t.len),
            "()" => {
                let layouts = t
                    .args
                    .iter()
                    .map(|x| self.layout(x))
                    .collect::<Res<Vec<_>>>()?;
                let (offsets, _, _) = c_layout(layouts)?;
                let values = t
                    .args
                    .iter()
                    .zip(offsets)
                    .map(|(x, o)| self.value(a, x, p + o))
                    .collect::<Res<_>>()?;
                Ok(Dynamic::Tuple(values))
            }
            "BTreeMap" | "BTreeSet" => self.btree(a, t, p),
            _ => self.named(a, t, p),
        }
    }

    /// `n` consecutive values of `elem` from `start` (the elements of a vector or an array),
    /// inside an object the caller checked.
    fn sequence<'a>(
        &self,
        a: &mut Archive<'a>,
        elem: &Ty<'s>,
        start: u64,
        n: u64,
    ) -> Res<Dynamic<'a>>
    where
        's: 'a,
    {
        if let Some(dtype) = numbers_dtype(elem.base) {
            let bytes = a.slice(start, n * dtype.size() as u64)?;
            if dtype == Dtype::Bool
                && let Some(i) = bytes.iter().position(|&b| b > 1)
            {
                return Err(invalid(format!(
                    "{}: element {i} is {:#04x}, not 00 or 01",
                    elem.text, bytes[i]
                )));
            }
            return Ok(Dynamic::Numbers { dtype, bytes });
        }
        a.spend(n)?;
        let (s, _) = self.layout(elem)?;
        let mut values = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
        for i in 0..n {
            values.push(self.value(a, elem, start + i * s)?);
        }
        Ok(Dynamic::List(values))
    }

    fn named<'a>(&self, a: &mut Archive<'a>, t: &Ty<'s>, p: u64) -> Res<Dynamic<'a>>
    where
        's: 'a,
    {
        let d = &self.defs[t.text];
        if !d.is_enum {
            return self.fields(a, &d.variants[0], p);
        }
        let tag = a.u8(p)?;
        let Some(v) = d.variants.get(usize::from(tag)) else {
            return Err(invalid(format!(
                "{}: tag {tag}, and it has {} variants",
                t.text,
                d.variants.len()
            )));
        };
        let value = self.fields(a, v, p)?;
        Ok(Dynamic::Variant(
            v.name.unwrap_or_default(),
            Box::new(value),
        ))
    }

    fn fields<'a>(&self, a: &mut Archive<'a>, v: &VariantDef<'s>, p: u64) -> Res<Dynamic<'a>>
    where
        's: 'a,
    {
        match v.shape {
            Shape::Unit => Ok(Dynamic::Unit),
            Shape::Tuple => {
                let values = v
                    .fields
                    .iter()
                    .zip(&v.offsets)
                    .map(|(f, o)| self.value(a, &f.ty, p + o))
                    .collect::<Res<_>>()?;
                Ok(Dynamic::Tuple(values))
            }
            Shape::Named => {
                let mut values = Vec::with_capacity(v.fields.len());
                for (f, o) in v.fields.iter().zip(&v.offsets) {
                    values.push((f.name.unwrap_or_default(), self.value(a, &f.ty, p + o)?));
                }
                Ok(Dynamic::Record(values))
            }
        }
    }

    /// rkyv's `ArchivedBTreeMap<K, V>` (SCHEMA.md §3.3).
    fn btree<'a>(&self, a: &mut Archive<'a>, t: &Ty<'s>, p: u64) -> Res<Dynamic<'a>>
    where
        's: 'a,
    {
        let unit = Ty {
            base: "()",
            args: Vec::new(),
            len: 0,
            text: "()",
        };
        let key = &t.args[0];
        let val = if t.base == "BTreeMap" {
            &t.args[1]
        } else {
            &unit
        };
        let (ks, ka) = self.layout(key)?;
        let (vs, va) = self.layout(val)?;
        let node = c_layout([(1, 1), (BTREE_E * ks, ka), (BTREE_E * vs, va)])?;
        let leaf = c_layout([(node.1, node.2), (4, 4)])?;
        let inner = c_layout([(node.1, node.2), (4 * BTREE_E, 4), (4, 4)])?;
        let tree = Tree {
            t,
            key,
            val,
            key_size: ks,
            val_size: vs,
            node,
            leaf,
            inner,
        };
        let len = a.u32(p + 4)?;
        let mut pairs = Vec::new();
        if len > 0 {
            let root = a.target(p)?;
            self.node(a, &tree, root, &mut pairs)?;
            if pairs.len() as u64 != u64::from(len) {
                return Err(invalid(format!(
                    "{}: {len} entries claimed, {} found",
                    t.text,
                    pairs.len()
                )));
            }
        }
        if t.base == "BTreeSet" {
            Ok(Dynamic::List(pairs.into_iter().map(|(k, _)| k).collect()))
        } else {
            Ok(Dynamic::Map(pairs))
        }
    }

    /// The entries of the subtree whose node is at `q`, appended in key order.
    fn node<'a>(
        &self,
        a: &mut Archive<'a>,
        tree: &Tree<'_, 's>,
        q: u64,
        pairs: &mut Vec<(Dynamic<'a>, Dynamic<'a>)>,
    ) -> Res<()>
    where
        's: 'a,
    {
        let what = tree.t.text;
        a.check_object(q, tree.node.1, tree.node.2, what)?;
        match a.u8(q)? {
            0 => {
                let (leaf_offsets, leaf_size, leaf_align) = &tree.leaf;
                a.visit(q, *leaf_size, *leaf_align, what, |a| {
                    let n = a.u32(q + leaf_offsets[1])?;
                    if u64::from(n) > BTREE_E {
                        return Err(invalid(format!(
                            "{what}: a leaf node of {n} entries (at most {BTREE_E})"
                        )));
                    }
                    self.entries(a, tree, q, u64::from(n), pairs)
                })
            }
            1 => {
                let (inner_offsets, inner_size, inner_align) = &tree.inner;
                a.visit(q, *inner_size, *inner_align, what, |a| {
                    // rkyv checks the lesser subtrees and the greater one first, then the
                    // node's own entries; in key order, lesser subtree i precedes entry i and
                    // the greater subtree follows the last entry.
                    let mut subtrees: Vec<Vec<_>> = Vec::new();
                    for i in 0..=BTREE_E {
                        let r = if i < BTREE_E {
                            q + inner_offsets[1] + 4 * i
                        } else {
                            q + inner_offsets[2]
                        };
                        let mut sub = Vec::new();
                        if a.i32(r)? != 1 {
                            let child = a.target(r)?;
                            self.node(a, tree, child, &mut sub)?;
                        }
                        subtrees.push(sub);
                    }
                    let mut own = Vec::new();
                    self.entries(a, tree, q, BTREE_E, &mut own)?;
                    let greater = subtrees.pop().unwrap_or_default();
                    for (sub, entry) in subtrees.into_iter().zip(own) {
                        pairs.extend(sub);
                        pairs.push(entry);
                    }
                    pairs.extend(greater);
                    Ok(())
                })
            }
            kind => Err(invalid(format!(
                "{what}: node kind {kind}, not 0 (leaf) or 1 (inner)"
            ))),
        }
    }

    fn entries<'a>(
        &self,
        a: &mut Archive<'a>,
        tree: &Tree<'_, 's>,
        q: u64,
        n: u64,
        pairs: &mut Vec<(Dynamic<'a>, Dynamic<'a>)>,
    ) -> Res<()>
    where
        's: 'a,
    {
        let offsets = &tree.node.0;
        for i in 0..n {
            let k = self.value(a, tree.key, q + offsets[1] + i * tree.key_size)?;
            let v = self.value(a, tree.val, q + offsets[2] + i * tree.val_size)?;
            pairs.push((k, v));
        }
        Ok(())
    }
}

/// The layouts of one B-tree type's nodes.
struct Tree<'t, 's> {
    t: &'t Ty<'s>,
    key: &'t Ty<'s>,
    val: &'t Ty<'s>,
    key_size: u64,
    val_size: u64,
    node: (Vec<u64>, u64, u64),
    leaf: (Vec<u64>, u64, u64),
    inner: (Vec<u64>, u64, u64),
}

// ---------------------------------------------------------------------------------------------
// The archive.

/// An archive being decoded. Positions are relative to its first byte, which is aligned at
/// least as much as any type it holds, so a relative alignment is an absolute one. The window
/// `[lo, hi)` is rkyv's subtree range (rule R2): an object `[s, e)` must lie in it, its
/// contents are checked in `[lo, s)`, and afterwards the window is `[e, hi)`.
struct Archive<'a> {
    buf: &'a [u8],
    lo: u64,
    hi: u64,
    depth: usize,
    max_depth: usize,
    /// How many values are being decoded, one inside the other.
    nesting: usize,
    budget: u64,
}

impl<'a> Archive<'a> {
    fn spend(&mut self, n: u64) -> Res<()> {
        if n > self.budget {
            return Err(invalid(format!(
                "the archive holds more values than its {} bytes can (zero-sized elements?)",
                self.buf.len()
            )));
        }
        self.budget -= n;
        Ok(())
    }

    fn slice(&self, p: u64, n: u64) -> Res<&'a [u8]> {
        let range = usize::try_from(p)
            .ok()
            .zip(usize::try_from(p.saturating_add(n)).ok());
        range
            .and_then(|(s, e)| self.buf.get(s..e))
            .ok_or_else(|| invalid(format!("bytes {p}..{} are outside the archive", p + n)))
    }

    fn bytes<const N: usize>(&self, p: u64) -> Res<[u8; N]> {
        let mut out = [0; N];
        out.copy_from_slice(self.slice(p, N as u64)?);
        Ok(out)
    }

    fn u8(&self, p: u64) -> Res<u8> {
        Ok(self.bytes::<1>(p)?[0])
    }

    fn u32(&self, p: u64) -> Res<u32> {
        Ok(u32::from_le_bytes(self.bytes(p)?))
    }

    fn i32(&self, p: u64) -> Res<i32> {
        Ok(i32::from_le_bytes(self.bytes(p)?))
    }

    /// Where the relative pointer at `p` points (FORMAT.md §5.3).
    fn target(&self, p: u64) -> Res<u64> {
        let off = i64::from(self.i32(p)?);
        p.checked_add_signed(off)
            .filter(|&t| t <= self.buf.len() as u64)
            .ok_or_else(|| invalid(format!("the pointer at {p} points outside the archive")))
    }

    /// R1 and the first half of R2.
    fn check_object(&self, start: u64, size: u64, align: u64, what: &str) -> Res<()> {
        let end = start.saturating_add(size);
        if start < self.lo || end > self.hi {
            return Err(invalid(format!(
                "{what}: object {start}..{end} is outside the range {}..{} its position allows",
                self.lo, self.hi
            )));
        }
        if start % align != 0 {
            return Err(invalid(format!(
                "{what}: object at {start} is not aligned to {align}"
            )));
        }
        Ok(())
    }

    /// Visits an object (R1, R2): checks it, runs `contents` in `[lo, start)`, then moves the
    /// window past it.
    fn visit<T>(
        &mut self,
        start: u64,
        size: u64,
        align: u64,
        what: &str,
        contents: impl FnOnce(&mut Self) -> Res<T>,
    ) -> Res<T> {
        self.check_object(start, size, align, what)?;
        if self.depth + 1 >= self.max_depth {
            return Err(DynamicError::TooDeep(self.max_depth));
        }
        let saved_hi = self.hi;
        self.hi = start;
        self.depth += 1;
        let result = contents(self)?;
        self.depth -= 1;
        self.lo = start + size;
        self.hi = saved_hi;
        Ok(result)
    }

    fn primitive(&mut self, t: &Ty<'_>, p: u64) -> Res<Dynamic<'a>> {
        Ok(match t.base {
            "bool" => match self.u8(p)? {
                0 => Dynamic::Bool(false),
                1 => Dynamic::Bool(true),
                b => return Err(invalid(format!("bool byte {b:#04x}, not 00 or 01"))),
            },
            "u8" => Dynamic::UInt(self.u8(p)?.into()),
            "i8" => Dynamic::Int(i8::from_le_bytes(self.bytes(p)?).into()),
            "u16" => Dynamic::UInt(u16::from_le_bytes(self.bytes(p)?).into()),
            "i16" => Dynamic::Int(i16::from_le_bytes(self.bytes(p)?).into()),
            "u32" => Dynamic::UInt(self.u32(p)?.into()),
            "i32" => Dynamic::Int(self.i32(p)?.into()),
            "u64" => Dynamic::UInt(u64::from_le_bytes(self.bytes(p)?).into()),
            "i64" => Dynamic::Int(i64::from_le_bytes(self.bytes(p)?).into()),
            "u128" => Dynamic::UInt(u128::from_le_bytes(self.bytes(p)?)),
            "i128" => Dynamic::Int(i128::from_le_bytes(self.bytes(p)?)),
            "f16" => Dynamic::Float(half::f16::from_le_bytes(self.bytes(p)?).into()),
            "bf16" => Dynamic::Float(half::bf16::from_le_bytes(self.bytes(p)?).into()),
            "f32" => Dynamic::Float(f32::from_le_bytes(self.bytes(p)?).into()),
            "f64" => Dynamic::Float(f64::from_le_bytes(self.bytes(p)?)),
            "char" => {
                let c = self.u32(p)?;
                Dynamic::Char(
                    char::from_u32(c).ok_or_else(|| {
                        invalid(format!("char {c:#x} is not a Unicode scalar value"))
                    })?,
                )
            }
            _ => Dynamic::Str(self.string(p, t.text)?),
        })
    }

    /// An `ArchivedString` at `p` (FORMAT.md §5.5), checked as UTF-8 (R3).
    fn string(&mut self, p: u64, what: &str) -> Res<&'a str> {
        let head: [u8; 8] = self.bytes(p)?;
        let data = if head[0] & 0xC0 == 0x80 {
            let tagged = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
            let len = u64::from((tagged & 0x3F) | ((tagged >> 8) << 6));
            if len <= 8 {
                return Err(invalid(format!(
                    "{what}: an out-of-line string of {len} bytes (at most 8 must be inline)"
                )));
            }
            let off = i64::from(i32::from_le_bytes([head[4], head[5], head[6], head[7]]));
            let start = p
                .checked_add_signed(off)
                .ok_or_else(|| invalid(format!("{what}: a pointer outside the archive")))?;
            self.visit(start, len, 1, what, |_| Ok(()))?;
            self.slice(start, len)?
        } else {
            let n = head.iter().position(|&b| b == 0xFF).unwrap_or(8);
            self.slice(p, n as u64)?
        };
        std::str::from_utf8(data).map_err(|e| {
            invalid(format!(
                "{what}: a string that is not UTF-8 (at byte {})",
                e.valid_up_to()
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_parses_to_the_fingerprint_the_derive_computes() {
        use crate::model::Schema;
        let text = crate::model::schema_text::<crate::model::Value>();
        let schema = DynamicSchema::parse(&text).unwrap();
        assert_eq!(schema.fingerprint(), crate::model::Value::FINGERPRINT);
    }

    #[test]
    fn bad_texts_are_refused() {
        for text in [
            "",
            "root: u32",
            "root: Foo\n",
            "root: Vec<u8, u8>\n",
            "root: P\nP = struct { x: u32 } size 8 align 4\n",
            "root: P\nP = struct { x: u32 } size 4 align 3\n",
            "root: P\nP = struct { x: P } size 4 align 4\n",
            "root: [u64; 99999999999999999999]\n",
            "root: [[u64; 4294967296]; 4294967296]\n",
        ] {
            assert!(
                matches!(DynamicSchema::parse(text), Err(DynamicError::Schema(_))),
                "{text:?}"
            );
        }
    }
}
