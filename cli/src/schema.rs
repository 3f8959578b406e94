//! `brine schema`: the stored schema of a model entry.

use std::path::PathBuf;

use brine::Reader;

use crate::error::Result;

/// The entry metadata key that holds the schema of a Python model's class.
const PYTHON_SCHEMA_KEY: &str = "brine.python.schema";

/// The class of a model saved from Python (spec/SCHEMA.md, "Value"), from its entry metadata.
pub struct PythonClass<'a> {
    /// The class's qualified name, from the schema text's first line (`root: Name`).
    pub name: &'a str,
    /// The class schema text, which `brine.load_model` compares.
    pub schema: &'a str,
    /// Its fingerprint, `0x` and 16 hex digits, as the writer stored it.
    pub fingerprint: Option<&'a str>,
}

/// The Python class of `entry`, if it is a model saved from Python.
pub fn python_class<'a>(entry: &brine::EntryRef<'a>) -> Option<PythonClass<'a>> {
    let metadata = entry.metadata();
    let brine::MetaRef::Str(schema) = metadata.get(PYTHON_SCHEMA_KEY)? else {
        return None;
    };
    let fingerprint = match metadata.get("brine.python.fingerprint") {
        Some(brine::MetaRef::Str(f)) => Some(f),
        _ => None,
    };
    let first = schema.lines().next().unwrap_or_default();
    let name = first.strip_prefix("root: ").unwrap_or(first);
    Some(PythonClass {
        name,
        schema,
        fingerprint,
    })
}

const AFTER_HELP: &str = "\
The schema text is the one the writer stored (spec/SCHEMA.md): one line per named type, root
first. A program reading the model as a Rust type whose fingerprint differs is refused with a
message naming the first line where the two schemas differ. A model saved from Python (type
Value) also shows the schema of its Python class, which brine.load_model compares.";

/// Print a model's type, version, fingerprint and stored schema.
#[derive(clap::Args, Debug)]
#[command(after_long_help = AFTER_HELP)]
pub struct Args {
    /// The brine file.
    file: PathBuf,
    /// The model entry.
    model: String,
}

pub fn run(args: &Args) -> Result<()> {
    let reader = Reader::open(&args.file)?;
    let model = reader.model_entry(&args.model)?;
    let version = model
        .version()
        .map_or_else(|| "none".to_owned(), |v| v.to_string());
    let mut out = format!(
        "model {:?}: type {}, version {version}, fingerprint {:#018x}, archive {} bytes\n",
        args.model,
        model.type_name(),
        model.fingerprint(),
        model.archive_len()
    );
    out.push_str(model.schema());
    if !out.ends_with('\n') {
        out.push('\n');
    }
    // A model written from Python is a `Value` tree; the schema of its Python class is in
    // the entry's metadata (spec/SCHEMA.md, "Value").
    let entry = reader.entry(&args.model)?;
    if let Some(python) = python_class(&entry) {
        out.push_str("python class schema:\n");
        out.push_str(python.schema);
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    crate::print(&out)
}
