//! `#[derive(Schema)]` for brine models. Use it through `brine::Schema`; the trait, the
//! attributes and the fingerprint are documented in `brine::model::schema` and specified in
//! brine's `spec/SCHEMA.md`.
//!
//! The generated code names everything through `::brine::...`, so a user needs no other
//! dependency than brine.
#![deny(missing_docs)]

use proc_macro::TokenStream;
use proc_macro2::{TokenStream as TokenStream2, TokenTree};
use quote::quote;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Error, GenericParam, Ident, LitStr, Result, Type, parse_quote};

/// Names of the built-in schema types; a derived type may not take one of them.
const RESERVED: &[&str] = &[
    "bool", "char", "u8", "u16", "u32", "u64", "u128", "i8", "i16", "i32", "i64", "i128", "f16",
    "bf16", "f32", "f64", "String", "Vec", "Option", "Box", "BTreeMap", "BTreeSet",
];

/// Derives `brine::model::Schema` for a struct or an enum.
///
/// Type attribute: `#[schema(name = "Name")]` pins the schema name. Field attribute:
/// `#[schema(recursive)]` (or rkyv's `#[rkyv(omit_bounds)]`) makes the field count by its
/// type's name only, which recursive types need.
#[proc_macro_derive(Schema, attributes(schema))]
pub fn derive_schema(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    expand(&input)
        .unwrap_or_else(Error::into_compile_error)
        .into()
}

/// One field: its name (`None` for a positional field), its type, whether it counts by name.
struct Field<'a> {
    name: Option<String>,
    ty: &'a Type,
    by_name: bool,
}

/// The fields of a struct or a variant, with the shape of `syn::Fields`.
enum Shape<'a> {
    Unit,
    Tuple(Vec<Field<'a>>),
    Named(Vec<Field<'a>>),
}

fn expand(input: &DeriveInput) -> Result<TokenStream2> {
    let m = quote!(::brine::model);
    let name = schema_name(input)?;

    // Bounds: `T: Schema` for every type parameter, and `Self: Archive` for the layout consts.
    let mut generics = input.generics.clone();
    let mut params = Vec::new();
    for param in &mut generics.params {
        match param {
            GenericParam::Type(t) => {
                t.bounds.push(parse_quote!(#m::Schema));
                params.push(t.ident.clone());
            }
            GenericParam::Const(c) => {
                return Err(Error::new(
                    c.span(),
                    "#[derive(Schema)] does not support const generic parameters",
                ));
            }
            GenericParam::Lifetime(_) => {}
        }
    }

    let (kind, words, describe_kind, shapes) = match &input.data {
        Data::Struct(s) => {
            let shape = shape(&s.fields)?;
            let words = shape.words(&m);
            let desc = shape.describe(&m);
            (
                "struct",
                words,
                quote!(#m::DefKind::Struct(#desc)),
                vec![shape],
            )
        }
        Data::Enum(e) => {
            let count = e.variants.len() as u64;
            let mut words = quote!(#count,);
            let mut descs = Vec::new();
            let mut shapes = Vec::new();
            for v in &e.variants {
                let shape = shape(&v.fields)?;
                let vname = unraw(&v.ident);
                let w = shape.words(&m);
                let d = shape.describe(&m);
                words.extend(quote!(#m::hash_str(#vname), #w));
                descs.push(quote!(#m::Variant {
                    name: ::std::string::String::from(#vname),
                    fields: #d,
                }));
                shapes.push(shape);
            }
            (
                "enum",
                words,
                quote!(#m::DefKind::Enum(::std::vec![#(#descs),*])),
                shapes,
            )
        }
        Data::Union(u) => {
            return Err(Error::new(
                u.union_token.span,
                "#[derive(Schema)] supports structs and enums, not unions",
            ));
        }
    };

    // `Field: Schema` for the fields whose type mentions a type parameter (`Pair<T>: Schema`
    // needs `Pair<T>: Archive`, which `T: Schema` does not give), except the fields that count
    // by name: a bound on those would be a cycle for a recursive generic type, as in rkyv.
    let fields: Vec<&Field<'_>> = shapes.iter().flat_map(Shape::fields).collect();
    let where_clause = generics.make_where_clause();
    where_clause
        .predicates
        .push(parse_quote!(Self: ::brine::rkyv::Archive));
    for f in fields
        .iter()
        .filter(|f| !f.by_name && mentions(f.ty, &params))
    {
        let ty = f.ty;
        where_clause.predicates.push(parse_quote!(#ty: #m::Schema));
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let field_types = fields.iter().map(|f| f.ty);

    let ident = &input.ident;
    let type_name = if params.is_empty() {
        quote!(::std::string::String::from(#name))
    } else {
        quote!(::std::format!(
            "{}<{}>",
            #name,
            [#(<#params as #m::Schema>::type_name()),*].join(", ")
        ))
    };
    Ok(quote! {
        impl #impl_generics #m::Schema for #ident #ty_generics #where_clause {
            const NAME_HASH: u64 =
                #m::name_hash(#name, &[#(<#params as #m::Schema>::NAME_HASH),*]);
            const FINGERPRINT: u64 = #m::fold(&[
                <Self as #m::Schema>::NAME_HASH,
                #m::hash_str(#kind),
                #words
                <Self as #m::Schema>::ARCHIVED_SIZE as u64,
                <Self as #m::Schema>::ARCHIVED_ALIGN as u64,
            ]);
            const ARCHIVED_SIZE: usize =
                ::core::mem::size_of::<::brine::rkyv::Archived<Self>>();
            const ARCHIVED_ALIGN: usize =
                ::core::mem::align_of::<::brine::rkyv::Archived<Self>>();
            fn type_name() -> ::std::string::String {
                #type_name
            }
            fn describe(out: &mut #m::SchemaBuilder) {
                if out.define::<Self>(|| #describe_kind) {
                    #(<#field_types as #m::Schema>::describe(out);)*
                }
            }
        }
    })
}

impl Shape<'_> {
    fn fields(&self) -> &[Field<'_>] {
        match self {
            Shape::Unit => &[],
            Shape::Tuple(f) | Shape::Named(f) => f,
        }
    }

    /// The fingerprint words of the shape, each followed by a comma: `0` for unit, `1, k, refs`
    /// for tuple, `2, k, (S(name), ref)...` for named, where a ref is `0, F(T)` or `1, N(T)`.
    fn words(&self, m: &TokenStream2) -> TokenStream2 {
        let tag: u64 = match self {
            Shape::Unit => return quote!(0u64,),
            Shape::Tuple(_) => 1,
            Shape::Named(_) => 2,
        };
        let count = self.fields().len() as u64;
        let fields = self.fields().iter().map(|f| {
            let ty = f.ty;
            let name = f.name.as_ref().map(|n| quote!(#m::hash_str(#n),));
            let reference = if f.by_name {
                quote!(1u64, <#ty as #m::Schema>::NAME_HASH,)
            } else {
                quote!(0u64, <#ty as #m::Schema>::FINGERPRINT,)
            };
            quote!(#name #reference)
        });
        quote!(#tag, #count, #(#fields)*)
    }

    /// An expression building the `brine::model::Fields` of the shape.
    fn describe(&self, m: &TokenStream2) -> TokenStream2 {
        let field_type = |f: &Field<'_>| {
            let (ty, by_name) = (f.ty, f.by_name);
            quote!(#m::FieldType { ty: <#ty as #m::Schema>::type_name(), by_name: #by_name })
        };
        match self {
            Shape::Unit => quote!(#m::Fields::Unit),
            Shape::Tuple(fields) => {
                let types = fields.iter().map(field_type);
                quote!(#m::Fields::Tuple(::std::vec![#(#types),*]))
            }
            Shape::Named(fields) => {
                let pairs = fields.iter().map(|f| {
                    let name = f.name.as_deref().unwrap_or_default();
                    let ty = field_type(f);
                    quote!((::std::string::String::from(#name), #ty))
                });
                quote!(#m::Fields::Named(::std::vec![#(#pairs),*]))
            }
        }
    }
}

fn shape(fields: &syn::Fields) -> Result<Shape<'_>> {
    let mut out = Vec::new();
    for f in fields {
        out.push(Field {
            name: f.ident.as_ref().map(unraw),
            ty: &f.ty,
            by_name: by_name(&f.attrs)?,
        });
    }
    Ok(match fields {
        syn::Fields::Unit => Shape::Unit,
        syn::Fields::Unnamed(_) => Shape::Tuple(out),
        syn::Fields::Named(_) => Shape::Named(out),
    })
}

/// Whether the tokens of `ty` contain one of the identifiers `params`.
fn mentions(ty: &Type, params: &[Ident]) -> bool {
    fn walk(tokens: TokenStream2, params: &[Ident]) -> bool {
        tokens.into_iter().any(|t| match t {
            TokenTree::Ident(i) => params.contains(&i),
            TokenTree::Group(g) => walk(g.stream(), params),
            _ => false,
        })
    }
    walk(quote!(#ty), params)
}

/// `r#type` is written `type`.
fn unraw(ident: &Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
}

/// Whether a field is marked `#[schema(recursive)]` or `#[rkyv(omit_bounds)]`.
fn by_name(attrs: &[syn::Attribute]) -> Result<bool> {
    let mut recursive = false;
    for attr in attrs {
        if attr.path().is_ident("schema") {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("recursive") {
                    recursive = true;
                    Ok(())
                } else {
                    Err(meta.error("unknown field attribute; expected `#[schema(recursive)]`"))
                }
            })?;
        } else if attr.path().is_ident("rkyv") {
            if let syn::Meta::List(list) = &attr.meta {
                recursive |= list
                    .tokens
                    .clone()
                    .into_iter()
                    .any(|t| matches!(t, TokenTree::Ident(i) if i == "omit_bounds"));
            }
        }
    }
    Ok(recursive)
}

/// The type's schema name: `#[schema(name = "...")]`, else the Rust name.
fn schema_name(input: &DeriveInput) -> Result<String> {
    let mut pinned: Option<LitStr> = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("schema")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                pinned = Some(meta.value()?.parse()?);
                Ok(())
            } else {
                Err(meta.error("unknown type attribute; expected `#[schema(name = \"...\")]`"))
            }
        })?;
    }
    let (name, span) = match &pinned {
        Some(lit) => {
            let name = lit.value();
            if name.starts_with("r#") || syn::parse_str::<Ident>(&name).is_err() {
                return Err(Error::new(
                    lit.span(),
                    "a schema name must be an identifier",
                ));
            }
            (name, lit.span())
        }
        None => (unraw(&input.ident), input.ident.span()),
    };
    if RESERVED.contains(&name.as_str()) {
        return Err(Error::new(
            span,
            format!(
                "`{name}` is the name of a built-in schema type; \
                 pin another with #[schema(name = \"...\")]"
            ),
        ));
    }
    Ok(name)
}
