//! Reading one input into memory: plain or gzip, with a cap on the decompressed size.

use flate2::read::MultiGzDecoder;
use std::io::{self, Read};
use std::path::Path;

/// Default cap on one file's decompressed size. CloudTrail delivery files are a few MB at most;
/// the cap stops a decompression bomb from taking the machine's memory.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 1024 * 1024 * 1024;

/// Why a file could not be (fully) read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read: {0}")]
    Io(#[from] io::Error),
    #[error("corrupt or truncated gzip after {decoded} bytes: {source}")]
    Gzip { decoded: usize, source: io::Error },
    #[error("decompresses to more than {cap} bytes (raise --max-file-bytes if this is real)")]
    TooLarge { cap: u64 },
}

/// Buffers one worker reuses from file to file.
#[derive(Default)]
pub struct ReadBuffers {
    raw: Vec<u8>,
    decoded: Vec<u8>,
}

/// The bytes of one input after decompression, and whether they stop early.
pub struct Loaded<'b> {
    pub bytes: &'b [u8],
    /// Set when the data ends early (truncated gzip): what was decoded is still usable.
    pub error: Option<ReadError>,
    /// Size on disk (compressed).
    pub stored_len: u64,
}

impl ReadBuffers {
    /// Reads `path` (or standard input for `-`) and gunzips it when it starts with the gzip magic.
    pub fn load(&mut self, path: &Path, cap: u64) -> Result<Loaded<'_>, ReadError> {
        self.raw.clear();
        if path.as_os_str() == "-" {
            io::stdin().lock().take(cap + 1).read_to_end(&mut self.raw)?;
        } else {
            let f = std::fs::File::open(path)?;
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            self.raw.reserve(len.min(cap) as usize);
            f.take(cap + 1).read_to_end(&mut self.raw)?;
        }
        let stored_len = self.raw.len() as u64;
        if !self.raw.starts_with(&[0x1f, 0x8b]) {
            if stored_len > cap {
                return Err(ReadError::TooLarge { cap });
            }
            return Ok(Loaded { bytes: &self.raw, error: None, stored_len });
        }
        self.decoded.clear();
        let mut dec = MultiGzDecoder::new(&self.raw[..]).take(cap + 1);
        let error = match dec.read_to_end(&mut self.decoded) {
            Ok(_) if self.decoded.len() as u64 > cap => return Err(ReadError::TooLarge { cap }),
            Ok(_) => None,
            Err(e) => Some(ReadError::Gzip { decoded: self.decoded.len(), source: e }),
        };
        Ok(Loaded { bytes: &self.decoded, error, stored_len })
    }
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
        assert_eq!(b.load(&p, 100).unwrap().bytes, b"{}");

        let z = gz(&b"x".repeat(10_000));
        std::fs::write(&p, &z).unwrap();
        assert_eq!(b.load(&p, 100_000).unwrap().bytes.len(), 10_000);
        assert!(matches!(b.load(&p, 1000), Err(ReadError::TooLarge { cap: 1000 })));

        std::fs::write(&p, &z[..z.len() / 2]).unwrap();
        let l = b.load(&p, 100_000).unwrap();
        assert!(matches!(l.error, Some(ReadError::Gzip { .. })));
    }
}
