//! The loop of `format::split`, resumable. A whole file is one call to [`Splitter::feed`]; a
//! streamed file (`source::stream`) is fed one window at a time, each call consuming what it
//! could decide and keeping its state (values counted, an open `Records` array or top-level
//! array, whether the input has several lines) for the next window.
//!
//! A streamed file must split exactly as it would whole, so in a window that is not the input's
//! end a step that could read differently with more text (a value cut at the window's end, a run
//! of non-JSON lines still going, an error whose recovery point is past the end) asks for more
//! text instead of deciding, and emits nothing. A `Records` array or a top-level array may be
//! gigabytes: its elements are taken one at a time, by the same scanner and classification as
//! the whole-file path. An element that the scanner and serde_json both refuse ends the array;
//! the rest of the window goes to the whole-file step behind a stand-in prefix (`[{}` for "after
//! an element") that puts serde_json in the state it would be in there, so the error message,
//! the elements kept and the recovery point are the whole file's.

use super::format::{
    BadKind, BadRecord, Element, Item, RecordsOnly, Shape, Split, TopSeed, TopValue, classify_element, classify_members, collect_elements,
    is_digest, next_line, offset_of, without_position,
};
use crate::json::scan;
use serde::Deserialize as _;
use serde::de::{DeserializeSeed, Deserializer as _, IgnoredAny};

/// A non-EOF serde_json error this close to a window's end may be the cut talking (`1e` is an
/// invalid number only until the next window brings its digits).
const NEAR_END: usize = 64;

enum Step {
    /// Decided: the next step starts here.
    Next(usize),
    /// Undecided until more of the input is read.
    More,
}

/// A `Records` array or top-level array being read element by element.
#[derive(Clone, Copy)]
struct Open {
    records: bool,
    /// Elements read so far.
    elements: usize,
}

/// How the element indices of a stand-in text map to the file's: the first `skip` elements are
/// the stand-in's own, and the rest are `elements` further on.
#[derive(Clone, Copy, Default)]
struct Shift {
    skip: usize,
    elements: usize,
}

/// Line numbers in one text, counted on from the last position asked for (positions mostly
/// increase), so numbering every record of a JSON-lines file stays linear.
struct Lines {
    /// Lines before the text.
    base: usize,
    at: usize,
    line: usize,
}

impl Lines {
    fn new(base: usize) -> Lines {
        Lines { base, at: 0, line: base + 1 }
    }

    fn of(&mut self, text: &str, pos: usize) -> usize {
        let pos = pos.min(text.len());
        if pos < self.at {
            (self.at, self.line) = (0, self.base + 1);
        }
        self.line += memchr::memchr_iter(b'\n', &text.as_bytes()[self.at..pos]).count();
        self.at = pos;
        self.line
    }
}

/// What the steps share across windows.
struct State {
    values: usize,
    /// Whether the input has a line break before its trailing whitespace; `None` while a stream
    /// has not shown it yet.
    multi_line: Option<bool>,
    open: Option<Open>,
}

/// The splitting state of one input.
pub(crate) struct Splitter {
    out: Split,
    st: State,
    lossy: bool,
    streaming: bool,
}

type Emit<'e> = dyn FnMut(Item<'_, '_>, &mut Split) + 'e;

/// What every step works on: the state across windows, the counts, and where items go.
struct Cx<'c, 'e> {
    st: &'c mut State,
    out: &'c mut Split,
    emit: &'c mut Emit<'e>,
}

impl Splitter {
    /// For an input held whole: `lossy` when it was not valid UTF-8 (records holding a
    /// replacement character are then bad), `multi_line` as found over the whole text.
    pub(crate) fn whole(lossy: bool, multi_line: bool) -> Splitter {
        Splitter { out: Split::default(), st: State { values: 0, multi_line: Some(multi_line), open: None }, lossy, streaming: false }
    }

    /// For an input read a window at a time.
    pub(crate) fn streaming() -> Splitter {
        Splitter { out: Split::default(), st: State { values: 0, multi_line: None, open: None }, lossy: false, streaming: true }
    }

    /// From this window on, the input was decoded lossily.
    pub(crate) fn set_lossy(&mut self) {
        self.lossy = true;
    }

    /// Splits what `text` decides and returns how many of its bytes that took (all of them when
    /// `eof`, which says `text` ends the input). `line_base` is the number of lines before it.
    pub(crate) fn feed(&mut self, text: &str, line_base: usize, eof: bool, on_item: &mut dyn FnMut(Item<'_, '_>)) -> usize {
        let lossy = self.lossy;
        let mut emit = |item: Item<'_, '_>, out: &mut Split| {
            match &item {
                Item::Event(r) | Item::Insight(r) if lossy && r.raw.contains('\u{fffd}') => {
                    out.bad += 1;
                    return on_item(Item::Bad(BadRecord {
                        index: out.events + out.insights + out.bad,
                        line: None,
                        kind: BadKind::Invalid,
                        error: "invalid UTF-8".into(),
                    }));
                }
                Item::Event(_) => out.events += 1,
                Item::Insight(_) => out.insights += 1,
                Item::Bad(_) => out.bad += 1,
            }
            on_item(item)
        };
        let cx = &mut Cx { st: &mut self.st, out: &mut self.out, emit: &mut emit };
        let mut lines = Lines::new(line_base);
        let mut pos = 0usize;
        loop {
            let step = if let Some(open) = cx.st.open {
                open_step(cx, open, text, pos, eof, &mut lines)
            } else {
                let rest = &text[pos..];
                pos += rest.len() - rest.trim_start().len();
                if pos >= text.len() {
                    return text.len();
                }
                if text.as_bytes()[pos] == b',' {
                    pos += 1; // a separator left over after a salvaged value
                    continue;
                }
                if !self.streaming {
                    top_step::<false>(cx, text, pos, eof, &mut lines, Shift::default())
                } else {
                    match open_header(text, pos, eof) {
                        None => Step::More,
                        Some(Some((records, after))) => {
                            cx.st.values += 1;
                            cx.st.open = Some(Open { records, elements: 0 });
                            Step::Next(after)
                        }
                        Some(None) => top_step::<true>(cx, text, pos, eof, &mut lines, Shift::default()),
                    }
                }
            };
            match step {
                Step::Next(p) => pos = p,
                Step::More => return pos,
            }
        }
    }

    /// What the input held, once all of it was fed.
    pub(crate) fn finish(self) -> Split {
        let mut out = self.out;
        if out.garbage > 0 && out.events == 0 && out.insights == 0 {
            out.shape = Shape::NotJson;
        } else if out.shape == Shape::Empty && self.st.values > 0 {
            out.shape = Shape::Stream;
        }
        out
    }
}

/// Whether the value at `pos` opens an array to read element by element: `Some((is Records,
/// index after its '['))`, `Some(None)` when it does not, `None` when the window ends too soon
/// to tell.
fn open_header(text: &str, pos: usize, eof: bool) -> Option<Option<(bool, usize)>> {
    let b = text.as_bytes();
    match b[pos] {
        b'[' => return Some(Some((false, pos + 1))),
        b'{' => {}
        _ => return Some(None),
    }
    let undecided = |i: usize, need: usize| !eof && i + need > b.len();
    let key = scan::ws(b, pos + 1);
    if undecided(key, 9) {
        return None;
    }
    if !text[key..].starts_with("\"Records\"") {
        return Some(None);
    }
    let colon = scan::ws(b, key + 9);
    let open = scan::ws(b, colon + 1);
    if undecided(open, 1) {
        return None;
    }
    Some((b.get(colon) == Some(&b':') && b.get(open) == Some(&b'[')).then_some((true, open + 1)))
}

/// The next element (or the end) of an open array; `k` is just after `[` or after the last
/// element read.
fn open_step(cx: &mut Cx<'_, '_>, mut open: Open, text: &str, k: usize, eof: bool, lines: &mut Lines) -> Step {
    let b = text.as_bytes();
    let mut i = scan::ws(b, k);
    match b.get(i) {
        None if !eof => return Step::More,
        Some(b']') if !open.records => {
            cx.st.open = None;
            if cx.st.values == 1 {
                cx.out.shape = Shape::Array;
            }
            return Step::Next(i + 1);
        }
        Some(b']') => {
            // `Records` ends; what usually follows is the object's `}`.
            let close = scan::ws(b, i + 1);
            return match b.get(close) {
                None if !eof => Step::More,
                Some(b'}') => {
                    cx.st.open = None;
                    cx.out.shape = Shape::Records;
                    Step::Next(close + 1)
                }
                _ => whole_rest(cx, open, text, k, eof, lines),
            };
        }
        Some(b',') if open.elements > 0 => {
            i = scan::ws(b, i + 1);
            if i >= b.len() && !eof {
                return Step::More;
            }
        }
        Some(_) if open.elements == 0 => {}
        _ => return whole_rest(cx, open, text, k, eof, lines),
    }
    if b.get(i) == Some(&b'{')
        && let Some((members, identity, end)) = scan::object(text, i)
    {
        open.elements += 1;
        cx.st.open = Some(open);
        classify_element(text, Element::Object(members, identity), open.elements, None, cx.emit, cx.out);
        return Step::Next(end);
    }
    // The scanner gave up (an escaped key, an element that is not an object): serde_json reads
    // this one element, as it would read the rest of the array in the whole-file path.
    let mut de = serde_json::Deserializer::from_str(&text[i..]);
    match Element::deserialize(&mut de) {
        Ok(element) => {
            let end = i + de.into_iter::<IgnoredAny>().byte_offset();
            if end >= b.len() && !eof {
                return Step::More; // a number may go on in the next window
            }
            open.elements += 1;
            cx.st.open = Some(open);
            classify_element(text, element, open.elements, None, cx.emit, cx.out);
            Step::Next(end)
        }
        Err(e) if !eof && (e.is_eof() || b.len() - (i + offset_of(&text[i..], e.line(), e.column())) < NEAR_END) => Step::More,
        Err(_) => whole_rest(cx, open, text, k, eof, lines),
    }
}

/// The open array ends in an error (or in members after `Records`): the whole-file step reads
/// the rest of the window behind a stand-in for what came before `k`.
fn whole_rest(cx: &mut Cx<'_, '_>, open: Open, text: &str, k: usize, eof: bool, lines: &mut Lines) -> Step {
    let prefix = match (open.records, open.elements > 0) {
        (true, false) => "{\"Records\":[",
        (true, true) => "{\"Records\":[{}",
        (false, false) => "[",
        (false, true) => "[{}",
    };
    let stand_in = format!("{prefix}{}", &text[k..]);
    let shift = Shift { skip: usize::from(open.elements > 0), elements: open.elements.saturating_sub(1) };
    let mut stand_in_lines = Lines::new(lines.of(text, k) - 1);
    // The step counts the array's value again.
    cx.st.values -= 1;
    match top_step::<true>(cx, &stand_in, 0, eof, &mut stand_in_lines, shift) {
        Step::More => {
            cx.st.values += 1;
            Step::More
        }
        Step::Next(p) => {
            cx.st.open = None;
            Step::Next(k + p.saturating_sub(prefix.len()))
        }
    }
}

/// Whether a stream has a line break before its trailing whitespace, as far as `text` (from the
/// value at `pos`) tells; `None` when only more text can.
fn multi_line_from(text: &str, pos: usize, lines_before: bool, eof: bool) -> Option<bool> {
    if lines_before || memchr::memchr(b'\n', &text.as_bytes()[..pos]).is_some() {
        return Some(true); // and the value at `pos` follows it
    }
    match memchr::memchr(b'\n', &text.as_bytes()[pos..]) {
        Some(n) if !text[pos + n..].trim_start().is_empty() => Some(true),
        _ => eof.then_some(false),
    }
}

/// One top-level value, or one run of lines that are not JSON, at `pos` (not whitespace). When
/// `STREAM`, records are held until the step is decided, and `more` steps emit nothing.
fn top_step<'t, const STREAM: bool>(cx: &mut Cx<'_, '_>, text: &'t str, pos: usize, eof: bool, lines: &mut Lines, shift: Shift) -> Step {
    let Cx { st, out, emit } = cx;
    let more = STREAM && !eof;
    let first = text.as_bytes()[pos];
    let values = st.values + 1;
    if first != b'{' && first != b'[' {
        // Not JSON here (a pasted fragment, a shell prompt, a CSV): skip the run of lines up to
        // the next one that starts a value, and count the run once.
        let mut end = next_line(text, pos);
        while end < text.len() && !matches!(text[end..].trim_start().as_bytes().first(), Some(b'{' | b'[')) {
            end = next_line(text, end);
        }
        if more && end >= text.len() {
            return Step::More;
        }
        // Minified logs put many records on one line: resume at the next record start.
        if let Some(i) = memchr::memmem::find(&text.as_bytes()[pos + 1..end], b"{\"eventVersion\"") {
            end = pos + 1 + i;
        }
        st.values = values;
        out.garbage += 1;
        let start = lines.of(text, pos);
        let last = lines.of(text, end.saturating_sub(1).max(pos));
        let range = if last > start { format!("lines {start}-{last}") } else { format!("line {start}") };
        let error = format!("{range}: not JSON, skipped");
        emit(Item::Bad(BadRecord { index: values, line: Some(start), kind: BadKind::Invalid, error }), out);
        return Step::Next(end);
    }
    // `Records` and array elements are classified as they are read (`streamed` counts them), so
    // each record is scanned once and its members are consumed while still in cache; a stream
    // holds them until the step is decided.
    let mut streamed = shift.skip;
    let mut held: Vec<(usize, Element<'t>)> = Vec::new();
    let parsed = {
        let mut on_element = |i: usize, element: Element<'t>| {
            if i > streamed {
                streamed = i;
                if STREAM {
                    held.push((i + shift.elements, element));
                } else {
                    classify_element(text, element, i, None, emit, out);
                }
            }
        };
        // The fast scanner first; serde_json when it gives up (it then skips the elements the
        // scanner handed out already).
        match scan::top(text, pos, &mut |i, members, identity| on_element(i, Element::Object(members, identity))) {
            Some((top, consumed)) => Ok((
                match top {
                    scan::Top::Records => TopValue::Records,
                    scan::Top::Object(members) => TopValue::Object(members),
                    scan::Top::Array => TopValue::Array,
                },
                consumed,
            )),
            None => {
                let mut de = serde_json::Deserializer::from_str(&text[pos..]);
                TopSeed { on_element: &mut on_element }.deserialize(&mut de).map(|top| (top, de.into_iter::<IgnoredAny>().byte_offset()))
            }
        }
    };
    match parsed {
        Ok((top, consumed)) => {
            let multi_line = match (&top, st.multi_line) {
                (TopValue::Object(_), None) => match multi_line_from(text, pos, lines.base > 0, eof) {
                    Some(m) => m,
                    None => return Step::More,
                },
                (_, m) => m.unwrap_or(false),
            };
            st.values = values;
            for (i, element) in held {
                classify_element(text, element, i, None, emit, out);
            }
            match top {
                TopValue::Records => out.shape = Shape::Records,
                TopValue::Array => {
                    if values == 1 {
                        out.shape = Shape::Array;
                    }
                }
                TopValue::Object(members) => {
                    st.multi_line = Some(multi_line);
                    if values == 1 {
                        out.shape = Shape::Stream;
                    }
                    let line = multi_line.then(|| lines.of(text, pos));
                    let obj = text[pos..pos + consumed].trim_end();
                    if is_digest(&members) {
                        out.shape = Shape::Digest;
                    } else {
                        classify_members(obj, &members, values, line, emit, out);
                    }
                }
            }
            Step::Next(pos + consumed)
        }
        Err(e) => {
            let err_pos = pos + offset_of(&text[pos..], e.line(), e.column());
            // Records pasted without separating commas fail exactly where the next one starts:
            // resume there; otherwise at the next line.
            let resume =
                if err_pos > pos && text.as_bytes().get(err_pos) == Some(&b'{') { err_pos } else { next_line(text, err_pos.max(pos + 1)) };
            if more && (e.is_eof() || text.len() - err_pos < NEAR_END || resume >= text.len()) {
                return Step::More;
            }
            st.values = values;
            for (i, element) in held {
                classify_element(text, element, i, None, emit, out);
            }
            // Error path only: parse again, keeping the elements of a `Records` array or a
            // top-level array that came before the error (the first `streamed` of them were
            // classified already).
            let mut elements: Vec<Element<'_>> = Vec::new();
            let mut de = serde_json::Deserializer::from_str(&text[pos..]);
            let _ = if first == b'{' {
                de.deserialize_map(RecordsOnly { records: &mut elements })
            } else {
                collect_elements(&mut de, &mut elements)
            };
            if values == 1 {
                out.shape = match first {
                    b'[' => Shape::Array,
                    _ if !elements.is_empty() => Shape::Records,
                    _ => Shape::Stream,
                };
            }
            let n = elements.len();
            for (i, element) in elements.into_iter().enumerate().skip(streamed) {
                classify_element(text, element, i + 1 + shift.elements, None, emit, out);
            }
            let index = if n > 0 { n + 1 + shift.elements } else { values };
            let (kind, error) = if e.is_eof() {
                (BadKind::EndsEarly, "JSON ends early (truncated file?)".to_string())
            } else {
                (BadKind::Invalid, without_position(&e))
            };
            // The bad value is named by where it starts, not where the parser gave up: the
            // element of a `Records` file or array, else the top-level value.
            let depth = match first {
                b'[' => 1,
                _ if text[pos + 1..].trim_start().starts_with("\"Records\"") => 2,
                _ => 0,
            };
            let start = value_start(text, pos, err_pos, depth);
            emit(Item::Bad(BadRecord { index, line: Some(lines.of(text, start)), kind, error }), out);
            Step::Next(resume)
        }
    }
}

/// Where the value that holds byte `err` starts: the element `depth` levels inside the value at
/// `pos` (1: an array's, 2: a `Records` array's) that was open at `err`, `pos` for depth 0, and
/// `err` itself when no element was open there (a missing comma between two records).
fn value_start(text: &str, pos: usize, err: usize, depth: usize) -> usize {
    if depth == 0 {
        return pos;
    }
    let b = text.as_bytes();
    let (mut level, mut in_string, mut element, mut open) = (0usize, false, pos, false);
    let mut i = pos;
    while i < err.min(b.len()) {
        let c = b[i];
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else if c.is_ascii_whitespace() || (c == b',' && level == depth) {
            // Between elements: the next byte that is not a blank starts one.
            open &= c != b',';
        } else {
            if level == depth && !open {
                (element, open) = (i, true);
            }
            match c {
                b'{' | b'[' => level += 1,
                // Back at the elements' level, an object or array element is complete.
                b'}' | b']' => {
                    level = level.saturating_sub(1);
                    open &= level > depth;
                }
                b'"' => in_string = true,
                _ => {}
            }
        }
        i += 1;
    }
    if open { element } else { err }
}
