//! Reading one input into memory: plain or gzip, up to a size; bigger inputs and standard input
//! are streamed instead (`stream`).
//!
//! A gzip file is inflated in one call by libdeflate when it is one clean member whose trailer
//! (ISIZE) gives the output size, as CloudTrail writes them. Anything else (several members,
//! truncated or corrupt data, a header CRC, a size over the cap) goes through flate2 on zlib-rs,
//! which streams, keeps what a truncated file yielded and stops a decompression bomb at the cap.

use flate2::read::MultiGzDecoder;
use std::io::{self, Read};
use std::path::Path;

/// Default cap on one file's decompressed size (`--max-file-bytes`). Memory is not at stake (big
/// files are streamed): the cap bounds the time a decompression bomb costs, and sits far above
/// any real export (a bomb reaches it in about a minute).
pub(crate) const DEFAULT_MAX_FILE_BYTES: u64 = 64 * 1024 * 1024 * 1024;

/// Inputs that decompress to more than this are streamed rather than held whole. CloudTrail
/// delivery files are KB to MB; only exports come near it.
pub(crate) const STREAM_ABOVE: u64 = 64 * 1024 * 1024;

/// Why a file could not be (fully) read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read: {0}")]
    Io(#[from] io::Error),
    #[error("corrupt or truncated gzip after {decoded} bytes: {source}")]
    Gzip { decoded: usize, source: io::Error },
    #[error("decompresses to more than {cap} bytes (raise --max-file-bytes if this is real)")]
    TooLarge { cap: u64 },
    #[error("one value from line {line} on is over {limit} bytes (no CloudTrail record is): the rest of the file is not read")]
    ValueTooLarge { line: usize, limit: usize },
}

/// Buffers one worker reuses from file to file.
#[derive(Default)]
pub(crate) struct ReadBuffers {
    raw: Vec<u8>,
    /// Decoded bytes. The libdeflate path keeps its length at the largest file seen (so the
    /// buffer is zeroed once, not per file) and reports the decoded length apart.
    decoded: Vec<u8>,
    inflater: Option<Inflater>,
}

/// One libdeflate decompressor (it holds no state between calls, only tables).
struct Inflater(std::ptr::NonNull<libdeflate_sys::libdeflate_decompressor>);

impl Inflater {
    fn new() -> Option<Inflater> {
        // SAFETY: a plain allocation; NULL (out of memory) is handled by `NonNull::new`.
        std::ptr::NonNull::new(unsafe { libdeflate_sys::libdeflate_alloc_decompressor() }).map(Inflater)
    }

    /// Inflates the gzip member at the start of `input` into `out`: `(bytes of input used, bytes
    /// written)`, or `None` on any failure (bad data, CRC or ISIZE mismatch, `out` too small).
    fn gzip_member(&mut self, input: &[u8], out: &mut [u8]) -> Option<(usize, usize)> {
        let (mut used, mut written) = (0usize, 0usize);
        // SAFETY: the pointers and lengths come from live slices; libdeflate reads at most
        // `input.len()` bytes, writes at most `out.len()` bytes and keeps no pointer after the call.
        let r = unsafe {
            libdeflate_sys::libdeflate_gzip_decompress_ex(
                self.0.as_ptr(),
                input.as_ptr().cast(),
                input.len(),
                out.as_mut_ptr().cast(),
                out.len(),
                &mut used,
                &mut written,
            )
        };
        (r == libdeflate_sys::libdeflate_result_LIBDEFLATE_SUCCESS && used <= input.len() && written <= out.len())
            .then_some((used, written))
    }
}

impl Drop for Inflater {
    fn drop(&mut self) {
        // SAFETY: allocated by `libdeflate_alloc_decompressor`, freed once.
        unsafe { libdeflate_sys::libdeflate_free_decompressor(self.0.as_ptr()) }
    }
}

// SAFETY: a decompressor is used by one thread at a time (`&mut self`) and has no thread affinity.
unsafe impl Send for Inflater {}

/// The bytes of one input after decompression, and whether they stop early.
pub(crate) struct Loaded<'b> {
    pub bytes: &'b [u8],
    /// Set when the data ends early (truncated gzip): what was decoded is still usable.
    pub error: Option<ReadError>,
    /// Size on disk (compressed).
    pub stored_len: u64,
}

impl ReadBuffers {
    /// Reads `path` and gunzips it when it starts with the gzip magic; `Ok(None)` when it is
    /// standard input or decompresses to more than `limit` bytes: stream it instead.
    /// `size_hint` is the file's size as `discover` found it (0: unknown, asked of the open
    /// file); it sizes the buffer and saves the read that would find the end (see
    /// [`read_to_end`]), so a file that changed since is still read whole.
    pub(crate) fn load(&mut self, path: &Path, size_hint: u64, limit: u64) -> Result<Option<Loaded<'_>>, ReadError> {
        if path.as_os_str() == "-" {
            return Ok(None);
        }
        let mut f = std::fs::File::open(path)?;
        let len = if size_hint > 0 { size_hint } else { f.metadata().map(|m| m.len()).unwrap_or(0) };
        if len > limit {
            return Ok(None);
        }
        read_to_end(&mut f, len, limit + 1, &mut self.raw)?;
        let stored_len = self.raw.len() as u64;
        if stored_len > limit {
            return Ok(None);
        }
        if !self.raw.starts_with(&[0x1f, 0x8b]) {
            return Ok(Some(Loaded { bytes: &self.raw, error: None, stored_len }));
        }
        // A plausible trailer (deflate expands at most 1032:1) over the limit: stream it now
        // rather than inflate up to the limit first.
        let isize = u64::from(self.raw.last_chunk::<4>().map_or(0, |t| u32::from_le_bytes(*t)));
        if isize > limit && isize / 1032 <= stored_len {
            return Ok(None);
        }
        if let Some(n) = self.inflate_whole(limit) {
            return Ok(Some(Loaded { bytes: &self.decoded[..n], error: None, stored_len }));
        }
        self.decoded.clear();
        let mut dec = MultiGzDecoder::new(&self.raw[..]).take(limit + 1);
        let error = match dec.read_to_end(&mut self.decoded) {
            Ok(_) if self.decoded.len() as u64 > limit => return Ok(None),
            Ok(_) => None,
            Err(e) => Some(ReadError::Gzip { decoded: self.decoded.len(), source: e }),
        };
        Ok(Some(Loaded { bytes: &self.decoded, error, stored_len }))
    }

    /// The fast path: `raw` is exactly one gzip member without a header CRC, of the size its
    /// ISIZE trailer says, within `cap`. Returns the decoded length, or `None` for the streaming
    /// path to handle the file (and say what is wrong with it).
    fn inflate_whole(&mut self, cap: u64) -> Option<usize> {
        const FHCRC: u8 = 0x02;
        let raw = &self.raw;
        if raw.len() < 18 || raw[3] & FHCRC != 0 {
            return None;
        }
        let isize = u32::from_le_bytes(raw[raw.len() - 4..].try_into().ok()?) as usize;
        // Deflate expands at most 1032:1: a larger ISIZE is corrupt (or a later member's).
        if isize == 0 || isize as u64 > cap || isize / 1032 > raw.len() {
            return None;
        }
        if self.inflater.is_none() {
            self.inflater = Some(Inflater::new()?);
        }
        if self.decoded.len() < isize {
            self.decoded.resize(isize, 0);
        }
        let inflater = self.inflater.as_mut()?;
        match inflater.gzip_member(raw, &mut self.decoded[..isize]) {
            Some((used, written)) if used == raw.len() && written == isize => Some(isize),
            _ => None,
        }
    }
}

/// Reads `f` into `out` (replacing what it held) to its end or to `cap` bytes. `expected` is the size a
/// `stat` gave: a read that stops short exactly there ends the file without one more read that
/// returns 0 (a system call per file, on trees of small files). A regular file gives less than
/// asked only at its end; at worst, a file that grew since the `stat` and whose read stopped
/// short at the old size is read as it was then, as if read a moment earlier.
fn read_to_end(f: &mut impl Read, expected: u64, cap: u64, out: &mut Vec<u8>) -> io::Result<()> {
    let cap = usize::try_from(cap).unwrap_or(usize::MAX).max(1);
    // One byte over the expected size, so that a file that grew shows it in the first read.
    let mut size = usize::try_from(expected).unwrap_or(usize::MAX).saturating_add(1).max(4096).min(cap);
    // `out` still holds the last file's bytes: only the bytes past them are zeroed.
    out.resize(size, 0);
    let mut filled = 0;
    loop {
        match f.read(&mut out[filled..]) {
            Ok(0) => break,
            Ok(n) => {
                filled += n;
                if filled as u64 == expected && filled < out.len() {
                    break;
                }
                if filled == out.len() {
                    if size == cap {
                        break;
                    }
                    size = size.saturating_mul(2).min(cap);
                    out.resize(size, 0);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                out.truncate(filled);
                return Err(e);
            }
        }
    }
    out.truncate(filled);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn plain_gzip_truncated_and_bomb() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = ReadBuffers::default();
        let p = dir.path().join("a.json");
        std::fs::write(&p, b"{}").unwrap();
        assert_eq!(b.load(&p, 0, 100).unwrap().unwrap().bytes, b"{}");
        // A stale size from `discover` (the file grew or shrank) only sizes the buffer.
        assert_eq!(b.load(&p, 1, 100).unwrap().unwrap().bytes, b"{}");
        assert_eq!(b.load(&p, 50, 100).unwrap().unwrap().bytes, b"{}");
        // Over the limit, on disk or once inflated: left to the streaming path.
        assert!(b.load(&p, 0, 1).unwrap().is_none());
        assert!(b.load(Path::new("-"), 0, 100).unwrap().is_none());

        let z = gz(&b"x".repeat(10_000));
        std::fs::write(&p, &z).unwrap();
        assert_eq!(b.load(&p, 0, 100_000).unwrap().unwrap().bytes.len(), 10_000);
        assert!(b.load(&p, 0, 1000).unwrap().is_none());
        let mut lying = z.clone();
        let n = lying.len();
        lying[n - 4..].copy_from_slice(&100u32.to_le_bytes());
        std::fs::write(&p, &lying).unwrap();
        assert!(b.load(&p, 0, 1000).unwrap().is_none(), "inflated past the limit whatever ISIZE says");

        std::fs::write(&p, &z[..z.len() / 2]).unwrap();
        let l = b.load(&p, 0, 100_000).unwrap().unwrap();
        assert!(matches!(l.error, Some(ReadError::Gzip { .. })));
    }

    /// Hands out at most `step` bytes per read, as a pipe or a network file system may.
    struct Dribble<'a>(&'a [u8], usize);

    impl Read for Dribble<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(buf.len()).min(self.1);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn reads_to_the_end_whatever_the_expected_size_and_the_read_sizes() {
        let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let mut out = vec![1, 2, 3];
        for len in [0, 1, 4095, 65_536, 65_537, 200_000] {
            let file = &data[..len];
            for expected in [0, 1, len as u64, len as u64 + 7, (len as u64).saturating_sub(3), 10_000_000] {
                for step in [1, 999, usize::MAX] {
                    read_to_end(&mut Dribble(file, step), expected, u64::MAX, &mut out).unwrap();
                    // A short read that lands on the expected size ends the file, by that rule;
                    // only a file bigger than expected read in pieces can land there early.
                    if expected > 0 && expected < len as u64 && (expected as usize).is_multiple_of(step) {
                        assert_eq!(out, file[..expected as usize], "len {len}, expected {expected}, step {step}");
                    } else {
                        assert_eq!(out, file, "len {len}, expected {expected}, step {step}");
                    }
                }
            }
        }
        // The cap stops the read one byte over the limit, so the caller sees it is over.
        read_to_end(&mut Dribble(&data, 1000), 10, 70_001, &mut out).unwrap();
        assert_eq!(out.len(), 70_001);
    }

    #[test]
    fn gzip_shapes_the_fast_path_leaves_to_flate2() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json.gz");
        let mut b = ReadBuffers::default();
        // Two members, the same one twice (`cat a.gz a.gz`): both are decoded.
        let one = gz(b"{\"a\":1}\n");
        std::fs::write(&p, [one.clone(), one.clone()].concat()).unwrap();
        assert_eq!(b.load(&p, 0, 1000).unwrap().unwrap().bytes, b"{\"a\":1}\n{\"a\":1}\n");
        // A big file first, then a small one: the reused buffer is not shown past the small one.
        std::fs::write(&p, gz(&b"y".repeat(50_000))).unwrap();
        assert_eq!(b.load(&p, 0, 100_000).unwrap().unwrap().bytes.len(), 50_000);
        std::fs::write(&p, &one).unwrap();
        assert_eq!(b.load(&p, 0, 1000).unwrap().unwrap().bytes, b"{\"a\":1}\n");
        // A trailer that lies about the size, and a corrupt CRC: errors, as before.
        let mut lying = gz(&b"z".repeat(5000));
        let n = lying.len();
        lying[n - 4..].copy_from_slice(&100u32.to_le_bytes());
        std::fs::write(&p, &lying).unwrap();
        assert!(matches!(b.load(&p, 0, 100_000).unwrap().unwrap().error, Some(ReadError::Gzip { .. })));
        let mut bad_crc = one.clone();
        let n = bad_crc.len();
        bad_crc[n - 8] ^= 0xff;
        std::fs::write(&p, &bad_crc).unwrap();
        assert!(matches!(b.load(&p, 0, 1000).unwrap().unwrap().error, Some(ReadError::Gzip { .. })));
        // Trailing garbage after a member.
        std::fs::write(&p, [one.clone(), b"garbage".to_vec()].concat()).unwrap();
        let l = b.load(&p, 0, 1000).unwrap().unwrap();
        assert_eq!(l.bytes, b"{\"a\":1}\n");
    }
}
