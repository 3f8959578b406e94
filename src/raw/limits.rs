//! Numeric limits of the format and of this reader, each with the threat it answers.

/// Smallest alignment unit a file may declare, and the alignment of every section and of the
/// manifest: one cache line, and enough for any element type.
pub const SMALL_ALIGNMENT: u32 = 64;

/// Smallest alignment unit a header may declare.
pub const MIN_ALIGNMENT: u32 = SMALL_ALIGNMENT;

/// Largest alignment unit: one huge page. Larger units only waste space.
pub const MAX_ALIGNMENT: u32 = 2 * 1024 * 1024;

/// Default alignment unit: one page, so every large section can be mapped and advised alone.
pub const DEFAULT_ALIGNMENT: u32 = 4096;

/// A section at least this long starts on the file's alignment unit; shorter ones on
/// [`SMALL_ALIGNMENT`].
pub const PAGE: u64 = 4096;

/// Raw bytes per zstd chunk that writers use.
pub const DEFAULT_CHUNK_LEN: u64 = 1024 * 1024;

/// Largest raw chunk a reader accepts. Bounds the memory one chunk's decompression can take,
/// whatever the file claims (no decompression bombs).
pub const MAX_CHUNK_LEN: u64 = 64 * 1024 * 1024;

/// Largest manifest a reader accepts by default (`OpenOptions::max_manifest_len`). The
/// manifest is validated in full at open, so this bounds the work and memory of opening.
pub const DEFAULT_MAX_MANIFEST_LEN: u64 = 256 * 1024 * 1024;

/// Largest total of decompressed bytes a reader holds by default
/// (`OpenOptions::max_decompressed_bytes`). A file of a few KB can declare a compressed
/// section of any length its chunk table covers (256 chunks of 64 MiB are 16 GiB), so the whole
/// declared length is charged on first access, before the buffer exists.
pub const DEFAULT_MAX_DECOMPRESSED: u64 = 8 * 1024 * 1024 * 1024;

/// Largest number of dimensions of an array. Matches numpy's limit.
pub const MAX_NDIM: usize = 64;

/// Deepest nesting of a model's archive a reader validates by default
/// (`OpenOptions::max_model_depth`). bytecheck recurses once per level (about 100 bytes of
/// stack each, measured at opt-level 1), so this keeps validation far from any thread's stack
/// limit. A deeper archive is refused with `Error::LimitExceeded`.
pub const DEFAULT_MAX_MODEL_DEPTH: usize = 1024;
