//! Target `decompress`: brine's chunk decoder (`brine::raw::codec::decompress_chunk`, the
//! function the reader calls for every compressed chunk) on arbitrary frames, and the
//! compress/decompress round trip with every shuffle size on arbitrary data.
//!
//! Input: byte 0 = shuffle element size (0 to 16, any other value as given modulo 17; brine's
//! writer uses 0, 2, 4 and 8, and the reader passes whatever the manifest says), bytes 1..4 =
//! the decoded length the chunk index would declare (little-endian, at most 1 MiB here), the
//! rest = the stored chunk bytes. The same rest is also compressed and decompressed again.

use brine::raw::codec::{compress_chunk, decompress_chunk, shuffle, unshuffle};

/// Decoded lengths up to this are tried (the reader allows 64 MiB chunks; the decoder's
/// behaviour does not depend on the size beyond the frame's own header).
const MAX_OUT: usize = 1 << 20;

/// Runs the target on one input. Returns whether the frame decoded.
pub fn run(data: &[u8]) -> bool {
    let Some((head, stored)) = data.split_first_chunk::<4>() else {
        return false;
    };
    let shuffle_size = usize::from(head[0] % 17);
    let out_len = (u32::from_le_bytes([head[1], head[2], head[3], 0]) as usize).min(MAX_OUT);
    let mut scratch = Vec::new();

    // Arbitrary bytes as a chunk: an error or exactly `out_len` decoded bytes.
    let mut out = vec![0u8; out_len];
    let decoded = decompress_chunk(stored, &mut out, shuffle_size, &mut scratch).is_ok();
    if decoded {
        // The frame holds one zstd frame decoding to exactly `out_len` bytes: the declared
        // size is the only size that decodes.
        let mut other = vec![0u8; out_len + 1];
        assert!(decompress_chunk(stored, &mut other, shuffle_size, &mut scratch).is_err());
        // Decoding twice gives the same bytes (no state kept between chunks).
        let mut again = vec![0u8; out_len];
        decompress_chunk(stored, &mut again, shuffle_size, &mut scratch).expect("decodes again");
        assert_eq!(out, again);
    }

    // The same bytes as raw data: compress, then decompress, must give them back.
    let level = i32::from(head[1] % 4);
    let frame = compress_chunk(stored, level, shuffle_size).expect("compresses");
    let mut back = vec![0u8; stored.len()];
    decompress_chunk(&frame, &mut back, shuffle_size, &mut scratch).expect("round trip");
    assert_eq!(back, stored);
    // A frame followed by anything is refused (one frame per chunk, nothing after it).
    let mut longer = frame.clone();
    longer.push(head[2]);
    assert!(decompress_chunk(&longer, &mut back, shuffle_size, &mut scratch).is_err());

    // shuffle and unshuffle are inverses for every element size and length.
    if shuffle_size > 0 {
        let mut mid = vec![0u8; stored.len()];
        let mut round = vec![0u8; stored.len()];
        shuffle(stored, &mut mid, shuffle_size);
        unshuffle(&mid, &mut round, shuffle_size);
        assert_eq!(round, stored);
    }
    decoded
}
