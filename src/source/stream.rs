//! Reading one input a window at a time, for files too big to hold (multi-GB JSON-lines or
//! `Records` exports) and standard input: memory stays at one window (a chunk plus the value
//! being read) however big the input is, and the records are exactly those `format::split`
//! finds in the whole input (`splitter` keeps the two paths one implementation).
//!
//! The one difference: an input that is not valid UTF-8 is decoded lossily from the window
//! where the first bad byte is, so a record holding a real U+FFFD before that point is read,
//! where the whole-file path (lossy from the start) calls it bad.

use super::format::{Item, Split};
use super::read::ReadError;
use super::splitter::Splitter;
use flate2::read::MultiGzDecoder;
use std::cell::Cell;
use std::io::{self, Read};
use std::path::Path;
use std::rc::Rc;

/// Bytes read per window step.
pub const DEFAULT_CHUNK: usize = 4 * 1024 * 1024;

/// How to stream.
#[derive(Debug, Clone, Copy)]
pub struct StreamOptions {
    /// Decompressed bytes after which the file is cut (`--max-file-bytes`).
    pub cap: u64,
    pub chunk: usize,
    /// Largest window: one value (record, line or run of non-JSON text) longer than this stops
    /// the file.
    pub max_window: usize,
}

/// What streaming one input gave.
pub struct Streamed {
    pub split: Split,
    /// Bytes decoded (before the cut, if any).
    pub decoded: u64,
    /// Bytes read from the source.
    pub stored: u64,
    /// Why reading stopped before the end; the records before that point were split.
    pub error: Option<ReadError>,
}

/// An input opened for streaming, decompressing when it starts with the gzip magic.
pub struct Input {
    reader: Box<dyn Read>,
    gzip: bool,
    /// Bytes read from the source (compressed).
    stored: Rc<Cell<u64>>,
}

/// Counts the bytes read through it.
struct Counted<R> {
    inner: R,
    n: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n.set(self.n.get() + n as u64);
        Ok(n)
    }
}

impl Input {
    /// Opens `path` (standard input for `-`).
    pub fn open(path: &Path) -> io::Result<Input> {
        Input::new(if path.as_os_str() == "-" { Box::new(io::stdin()) } else { Box::new(std::fs::File::open(path)?) })
    }

    /// Reads `raw` (plain or gzip, told by its first bytes).
    pub fn new(mut raw: Box<dyn Read>) -> io::Result<Input> {
        let mut magic = Vec::with_capacity(2);
        (&mut raw).take(2).read_to_end(&mut magic)?;
        let gzip = magic == [0x1f, 0x8b];
        let stored = Rc::new(Cell::new(0));
        let raw = Counted { inner: io::Cursor::new(magic).chain(raw), n: Rc::clone(&stored) };
        let reader: Box<dyn Read> =
            if gzip { Box::new(MultiGzDecoder::new(io::BufReader::with_capacity(256 * 1024, raw))) } else { Box::new(raw) };
        Ok(Input { reader, gzip, stored })
    }
}

/// Splits `input` window by window. `cut` is set before the last window is split when reading
/// stopped early, so the caller can tell a value cut by the damage from a bad one. The caller
/// sets `stop` to end the read after the window in hand (a sink has read enough).
pub fn split_input(
    mut input: Input,
    opts: &StreamOptions,
    cut: &Cell<bool>,
    stop: &Cell<bool>,
    on_item: &mut dyn FnMut(Item<'_, '_>),
) -> Streamed {
    let chunk = opts.chunk.max(1);
    let mut splitter = Splitter::streaming();
    let mut buf: Vec<u8> = Vec::new();
    let (mut decoded, mut line_base) = (0u64, 0usize);
    let mut error = None;
    let mut at_start = true;
    let mut eof = false;
    loop {
        let want = buf.len() + chunk;
        while buf.len() < want && !eof {
            if decoded >= opts.cap {
                if more_after_cap(&mut input) {
                    error = Some(ReadError::TooLarge { cap: opts.cap });
                }
                eof = true;
                break;
            }
            match read_some(&mut input, &mut buf, want, opts.cap - decoded) {
                Ok(0) => eof = true,
                Ok(n) => decoded += n as u64,
                Err(e) => {
                    error = Some(e);
                    eof = true;
                }
            }
        }
        if let Some(e) = &mut error {
            cut.set(true);
            if let ReadError::Gzip { decoded: d, .. } = e {
                *d = decoded as usize;
            }
        }
        if at_start {
            if buf.len() < 3 && !eof {
                continue;
            }
            if buf.starts_with("\u{feff}".as_bytes()) {
                buf.drain(..3);
            }
            at_start = false;
        }
        // The fast check first (see `format::split`); `std`'s says where a bad byte is.
        let text = match simdutf8::basic::from_utf8(&buf) {
            Ok(text) => text,
            Err(_) => match std::str::from_utf8(&buf) {
                Ok(text) => text,
                Err(e) => decode(&mut buf, e, eof, &mut splitter),
            },
        };
        let used = splitter.feed(text, line_base, eof, on_item);
        line_base += memchr::memchr_iter(b'\n', &text.as_bytes()[..used]).count();
        buf.drain(..used);
        if eof || stop.get() {
            break;
        }
        if buf.len() >= opts.max_window {
            // One value fills the window: what is held is split as the input's end.
            error = Some(ReadError::ValueTooLarge { line: line_base + 1, limit: opts.max_window });
            eof = true;
        }
    }
    Streamed { split: splitter.finish(), decoded, stored: input.stored.get(), error }
}

/// Appends up to `want - buf.len()` bytes (at most `left`, what the cap allows).
fn read_some(input: &mut Input, buf: &mut Vec<u8>, want: usize, left: u64) -> Result<usize, ReadError> {
    let len = buf.len();
    let n = (want - len).min(usize::try_from(left).unwrap_or(usize::MAX));
    if n == 0 {
        return Ok(0);
    }
    buf.resize(len + n, 0);
    let r = loop {
        match input.reader.read(&mut buf[len..]) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => break r,
        }
    };
    buf.truncate(len + *r.as_ref().unwrap_or(&0));
    r.map_err(|e| if input.gzip { ReadError::Gzip { decoded: 0, source: e } } else { ReadError::Io(e) })
}

/// Whether the input goes on past the cap (a file of exactly the cap is whole).
fn more_after_cap(input: &mut Input) -> bool {
    let mut one = [0u8; 1];
    matches!(input.reader.read(&mut one), Ok(1) | Err(_))
}

/// `buf`, which failed UTF-8 validation with `err`, as the text to split now: all of it but a
/// character cut by the window's end. Invalid UTF-8 is replaced in `buf` itself (as the
/// whole-file path replaces it), and the splitter is told the input is lossy from here on.
fn decode<'b>(buf: &'b mut Vec<u8>, err: std::str::Utf8Error, eof: bool, splitter: &mut Splitter) -> &'b str {
    if err.error_len().is_none() && !eof {
        // Only the end is cut: the bytes before it are valid.
        return std::str::from_utf8(&buf[..err.valid_up_to()]).unwrap_or_default();
    }
    // Find where a cut character at the end starts (kept raw for the next window).
    let mut tail = buf.len();
    let mut at = err.valid_up_to();
    while let Err(e) = std::str::from_utf8(&buf[at..]) {
        match e.error_len() {
            Some(n) => at += e.valid_up_to() + n,
            None => {
                if !eof {
                    tail = at + e.valid_up_to();
                }
                break;
            }
        }
    }
    let mut fixed = String::from_utf8_lossy(&buf[..tail]).into_owned().into_bytes();
    let valid = fixed.len();
    fixed.extend_from_slice(&buf[tail..]);
    *buf = fixed;
    splitter.set_lossy();
    std::str::from_utf8(&buf[..valid]).unwrap_or_default()
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
