//! Writing and reading models: rkyv archives in sections of their exact length, refused before
//! access when their schema fingerprint differs from the type asked for.

use std::any::TypeId;
use std::collections::BTreeMap;

use rkyv::api::high::{HighDeserializer, HighSerializer, HighValidator};
use rkyv::bytecheck::CheckBytes;
use rkyv::ser::allocator::ArenaHandle;
use rkyv::ser::{Positional, Writer as RkyvWriter};
use rkyv::util::AlignedVec;
use rkyv::validation::Validator;
use rkyv::validation::archive::ArchiveValidator;
use rkyv::validation::shared::SharedValidator;
use rkyv::{Archive, Archived, Deserialize, Portable, Serialize};

use crate::error::{ArchiveError, Error, Limit, Result, SchemaMismatch};
use crate::model::dynamic::{Dynamic, DynamicError, DynamicSchema};
use crate::model::schema::{Schema, first_difference, schema_text};
use crate::options::{Encoding, shared_entry_options};
use crate::raw::manifest::{MetaValue, ModelMeta};
use crate::reader::{EntryRef, Kind, Reader};
use crate::writer::Writer;

/// The largest archive rkyv can address with 32-bit relative pointers (the layout brine pins):
/// rkyv's serializer panics past it, so brine stops serializing there with an error.
pub const MAX_ARCHIVE_LEN: usize = i32::MAX as usize;

/// Options of a model entry: a user version, a codec, metadata.
#[derive(Clone, Debug, Default)]
pub struct ModelOptions {
    version: Option<u64>,
    encoding: Encoding,
    metadata: BTreeMap<String, MetaValue>,
}

impl ModelOptions {
    /// No version, raw, no metadata.
    pub fn new() -> Self {
        Self::default()
    }

    /// The version of your type (or model) that wrote the file, shown when a reader's type does
    /// not match.
    pub fn version(mut self, version: u64) -> Self {
        self.version = Some(version);
        self
    }

    // A compressed archive is decompressed whole on first access, to be read in place.
    shared_entry_options!();
}

/// The rkyv writer brine archives models into: it refuses to grow past [`MAX_ARCHIVE_LEN`], so
/// every relative pointer of the archive fits in 32 bits and rkyv never reaches its panic.
/// Appears in the bounds of [`Writer::put_model`]; any type that derives rkyv's `Serialize`
/// satisfies them.
#[derive(Debug)]
pub struct Capped(AlignedVec);

impl Positional for Capped {
    fn pos(&self) -> usize {
        self.0.len()
    }
}

impl RkyvWriter<ArchiveError> for Capped {
    fn write(&mut self, bytes: &[u8]) -> std::result::Result<(), ArchiveError> {
        if self.0.len() + bytes.len() > MAX_ARCHIVE_LEN {
            return Err(<ArchiveError as rancor::Source>::new(ArchiveTooLarge));
        }
        self.0.extend_from_slice(bytes);
        Ok(())
    }
}

#[derive(Debug)]
struct ArchiveTooLarge;

impl std::fmt::Display for ArchiveTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the archive would pass {MAX_ARCHIVE_LEN} bytes, the most rkyv's 32-bit relative pointers reach; store large tensors as array entries and reference them by name (see brine::model::TensorRef)"
        )
    }
}

impl std::error::Error for ArchiveTooLarge {}

impl Writer {
    /// Archives `value` with rkyv and writes it as a model entry, with its type name, schema
    /// fingerprint and schema description.
    ///
    /// # Errors
    /// [`Error::Duplicate`]; [`Error::InvalidInput`] when serialization fails or the archive
    /// would pass [`MAX_ARCHIVE_LEN`]; [`Error::Io`].
    pub fn put_model<T>(&mut self, name: &str, value: &T) -> Result<()>
    where
        T: Schema + for<'a> Serialize<HighSerializer<Capped, ArenaHandle<'a>, ArchiveError>>,
    {
        self.put_model_with(name, value, &ModelOptions::default())
    }

    /// Writes a model with options (user version, codec, metadata).
    ///
    /// # Errors
    /// As [`Writer::put_model`].
    pub fn put_model_with<T>(&mut self, name: &str, value: &T, options: &ModelOptions) -> Result<()>
    where
        T: Schema + for<'a> Serialize<HighSerializer<Capped, ArenaHandle<'a>, ArchiveError>>,
    {
        // Archive first: a refused value leaves nothing started.
        self.check_name(name)?;
        let bytes =
            rkyv::api::high::to_bytes_in::<_, ArchiveError>(value, Capped(AlignedVec::new()))
                .map_err(|e| self.invalid(name, format!("archiving {}: {e}", T::type_name())))?
                .0;
        self.start_entry(name)?;
        let section = self.write_buffer(name, &bytes, 1, &options.encoding)?;
        let meta = ModelMeta {
            section,
            flags: u32::from(options.version.is_some()),
            fingerprint: T::FINGERPRINT,
            version: options.version.unwrap_or(0),
            ..ModelMeta::default()
        };
        let metadata = options.metadata.clone();
        self.add_entry(|m| {
            m.add_model(
                name.to_owned(),
                meta,
                T::type_name(),
                schema_text::<T>(),
                metadata,
            );
        });
        Ok(())
    }
}

/// What a model entry records about the type that wrote it, readable without touching the
/// archive.
#[derive(Clone, Copy, Debug)]
pub struct ModelEntry<'r> {
    reader: &'r Reader,
    name: &'r str,
    row: usize,
}

impl<'r> ModelEntry<'r> {
    pub(crate) fn new(reader: &'r Reader, name: &'r str, row: usize) -> Self {
        ModelEntry { reader, name, row }
    }

    /// Where and how the archive's section is stored.
    pub fn section(&self) -> crate::SectionInfo {
        self.reader
            .store()
            .info(self.meta().section.to_native() as usize)
    }

    fn meta(&self) -> &'r crate::raw::manifest::ArchivedModelMeta {
        &self.reader.manifest().models[self.row]
    }

    /// The entry's name.
    pub fn name(&self) -> &'r str {
        self.name
    }

    /// The name of the type that wrote the model (`Forest`, `Vec<f32>`...).
    pub fn type_name(&self) -> &'r str {
        self.reader.manifest().model_text(self.row).0
    }

    /// The schema description of the type that wrote the model (spec/SCHEMA.md).
    pub fn schema(&self) -> &'r str {
        self.reader.manifest().model_text(self.row).1
    }

    /// The schema fingerprint of the type that wrote the model.
    pub fn fingerprint(&self) -> u64 {
        self.meta().fingerprint.to_native()
    }

    /// The user version given to [`ModelOptions::version`], if any.
    pub fn version(&self) -> Option<u64> {
        (self.meta().flags & 1 == 1).then(|| self.meta().version.to_native())
    }

    /// Length of the archive once decoded.
    pub fn archive_len(&self) -> u64 {
        let s = self.meta().section.to_native() as usize;
        self.reader.manifest().sections[s].raw_length.to_native()
    }

    /// [`Error::SchemaMismatch`] unless `T`'s fingerprint is the stored one.
    fn check_schema<T: Schema>(&self) -> Result<()> {
        if self.fingerprint() == T::FINGERPRINT {
            return Ok(());
        }
        let expected_schema = schema_text::<T>();
        Err(Error::SchemaMismatch(Box::new(SchemaMismatch {
            file: self.reader.path().to_path_buf(),
            entry: self.name.to_owned(),
            stored_type: self.type_name().to_owned(),
            expected_type: T::type_name(),
            stored_version: self.version(),
            stored_fingerprint: self.fingerprint(),
            expected_fingerprint: T::FINGERPRINT,
            diff: first_difference(self.schema(), &expected_schema),
            stored_schema: self.schema().to_owned(),
            expected_schema,
        })))
    }

    /// The archived model, in place: the fingerprint is checked (rule D8), then (on the first call for
    /// this type, O(archive)) the archive is validated with bytecheck (rule D9); later calls are O(1).
    ///
    /// # Errors
    /// [`Error::SchemaMismatch`], [`Error::InvalidModel`], [`Error::LimitExceeded`] for an
    /// archive nested deeper than `OpenOptions::max_model_depth`; for compressed models the
    /// errors of decompression and [`Error::CopyRequired`].
    pub fn access<T>(&self) -> Result<&'r Archived<T>>
    where
        T: Schema + Archive + 'static,
        T::Archived: Portable + for<'a> CheckBytes<HighValidator<'a, ArchiveError>>,
    {
        self.check_schema::<T>()?;
        let section = self.meta().section.to_native() as usize;
        let bytes = self.reader.store().bytes(section)?;
        let validated = self.reader.model_validated(self.row);
        if validated.get() == Some(&TypeId::of::<T>()) {
            // SAFETY: `validated` holds `T`'s TypeId only after `access::<T::Archived>` below
            // accepted these exact bytes (the whole decoded section, which never changes: a
            // read-only map under the contract of `io::map`, or a fetched or decoded buffer
            // never written again once filled).
            return Ok(unsafe { rkyv::access_unchecked::<T::Archived>(bytes) });
        }
        // bytecheck validates recursively: a depth limit keeps a deeply nested archive (a
        // recursive type, or a hostile file) from overflowing the stack.
        let depth = self.reader.open_options().max_model_depth;
        let mut validator = Validator::new(
            ArchiveValidator::with_max_depth(bytes, std::num::NonZeroUsize::new(depth.max(1))),
            SharedValidator::new(),
        );
        let archived =
            rkyv::api::access_with_context::<T::Archived, _, ArchiveError>(bytes, &mut validator)
                .map_err(|e| {
                // rkyv's error type for this is private: its message, one frame of the trace,
                // is what tells it apart (tests/hostile.rs pins it).
                if e.to_string().contains(DEPTH_EXCEEDED) {
                    return Error::LimitExceeded {
                        file: self.reader.path().to_path_buf(),
                        what: format!("nesting depth of model {:?} (at least)", self.name),
                        value: depth.max(1) as u64 + 1,
                        limit: depth.max(1) as u64,
                        setting: Limit::MaxModelDepth,
                    };
                }
                Error::InvalidModel {
                    file: self.reader.path().to_path_buf(),
                    entry: self.name.to_owned(),
                    detail: format!("the archive of {} is invalid: {e}", T::type_name()),
                }
            })?;
        // Only the first type validated is remembered; another type with the same fingerprint
        // (a structurally identical type) is validated on every call.
        let _ = validated.set(TypeId::of::<T>());
        Ok(archived)
    }

    /// The model deserialized into an owned `T` (a copy; [`ModelEntry::access`] reads in
    /// place).
    ///
    /// # Errors
    /// As [`ModelEntry::access`].
    pub fn load<T>(&self) -> Result<T>
    where
        T: Schema + Archive + 'static,
        T::Archived: Portable
            + for<'a> CheckBytes<HighValidator<'a, ArchiveError>>
            + Deserialize<T, HighDeserializer<ArchiveError>>,
    {
        let archived = self.access::<T>()?;
        rkyv::api::high::deserialize::<T, ArchiveError>(archived).map_err(|e| Error::InvalidModel {
            file: self.reader.path().to_path_buf(),
            entry: self.name.to_owned(),
            detail: format!("deserializing {}: {e}", T::type_name()),
        })
    }
}

impl<'r> ModelEntry<'r> {
    /// The model decoded through its stored schema text, without its Rust type (for tools
    /// and readers in other languages): the text is parsed and its fingerprint recomputed
    /// (rule D8), then the archive is walked as rkyv's validator would walk it (rule D9).
    /// The tree is allocated (a copy of the archive's structure); its strings and numeric
    /// vectors are views of the archive.
    ///
    /// # Errors
    /// [`Error::InvalidModel`] for a schema text that breaks SCHEMA.md §4 or does not hash
    /// to the stored fingerprint, or an archive that breaks the rules;
    /// [`Error::LimitExceeded`] past `OpenOptions::max_model_depth`; for compressed models
    /// the errors of decompression and [`Error::CopyRequired`].
    pub fn decode_dynamic(&self) -> Result<Dynamic<'r>> {
        let invalid = |detail: String| Error::InvalidModel {
            file: self.reader.path().to_path_buf(),
            entry: self.name.to_owned(),
            detail,
        };
        let depth = self.reader.open_options().max_model_depth.max(1);
        let schema_text = self.schema();
        let section = self.meta().section.to_native() as usize;
        let bytes = self.reader.store().bytes(section)?;
        // Decoding recurses once per nested value: a thread of a known, large stack keeps a
        // deep (hostile or legitimate) tree within the depth limits from overflowing the
        // caller's stack, whatever thread that is.
        let outcome = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("brine-dynamic-model".into())
                .stack_size(DYNAMIC_STACK)
                .spawn_scoped(scope, || {
                    let schema = DynamicSchema::parse(schema_text)?;
                    if schema.fingerprint() != self.fingerprint() {
                        return Err(DynamicError::Fingerprint(schema.fingerprint()));
                    }
                    schema.decode(bytes, depth)
                })
                .map(|handle| handle.join())
        });
        match outcome {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(DynamicError::Fingerprint(computed)))) => {
                Err(Error::SchemaMismatch(Box::new(SchemaMismatch {
                    file: self.reader.path().to_path_buf(),
                    entry: self.name.to_owned(),
                    stored_type: self.type_name().to_owned(),
                    expected_type: format!("{} as its stored schema text says", self.type_name()),
                    stored_version: self.version(),
                    stored_fingerprint: self.fingerprint(),
                    expected_fingerprint: computed,
                    stored_schema: schema_text.to_owned(),
                    expected_schema: schema_text.to_owned(),
                    diff: None,
                })))
            }
            Ok(Ok(Err(DynamicError::Schema(e)))) => Err(invalid(format!("its schema text: {e}"))),
            Ok(Ok(Err(DynamicError::Archive(e)))) => Err(invalid(format!(
                "the archive does not match its schema text: {e}"
            ))),
            Ok(Ok(Err(DynamicError::TooDeep(limit)))) => Err(Error::LimitExceeded {
                file: self.reader.path().to_path_buf(),
                what: format!("nesting depth of model {:?} (at least)", self.name),
                value: limit as u64 + 1,
                limit: limit as u64,
                setting: Limit::MaxModelDepth,
            }),
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(e) => Err(Error::Io {
                path: self.reader.path().to_path_buf(),
                op: "start a thread to decode a model",
                source: e,
            }),
        }
    }
}

/// The stack of the thread that decodes a model through its schema text: room for the
/// nesting that [`crate::model::dynamic`] allows.
const DYNAMIC_STACK: usize = 64 << 20;

/// What rkyv's validator says of an archive nested deeper than its limit.
const DEPTH_EXCEEDED: &str = "pushed a subtree range that exceeded the maximum subtree depth";

impl Reader {
    /// The model entry named `name`: its type name, schema and version, without touching the
    /// archive.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::WrongKind`].
    pub fn model_entry(&self, name: &str) -> Result<ModelEntry<'_>> {
        let entry = self.entry(name)?;
        let row = entry.expect_kind(Kind::Model)?;
        Ok(ModelEntry::new(self, entry.name(), row))
    }

    /// The model named `name`, archived, read in place. See [`ModelEntry::access`].
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::WrongKind`], [`Error::SchemaMismatch`],
    /// [`Error::InvalidModel`].
    pub fn model<T>(&self, name: &str) -> Result<&Archived<T>>
    where
        T: Schema + Archive + 'static,
        T::Archived: Portable + for<'a> CheckBytes<HighValidator<'a, ArchiveError>>,
    {
        self.model_entry(name)?.access::<T>()
    }

    /// The model named `name`, deserialized into an owned `T`. See [`ModelEntry::load`].
    ///
    /// # Errors
    /// As [`Reader::model`].
    pub fn load_model<T>(&self, name: &str) -> Result<T>
    where
        T: Schema + Archive + 'static,
        T::Archived: Portable
            + for<'a> CheckBytes<HighValidator<'a, ArchiveError>>
            + Deserialize<T, HighDeserializer<ArchiveError>>,
    {
        self.model_entry(name)?.load::<T>()
    }
}

impl<'r> EntryRef<'r> {
    /// The entry as a model, or [`Error::WrongKind`].
    pub fn model(&self) -> Result<ModelEntry<'r>> {
        let row = self.expect_kind(Kind::Model)?;
        Ok(ModelEntry::new(self.reader, self.name(), row))
    }
}
