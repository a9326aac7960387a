//! The fast path of `format::split`: a validating JSON scanner for the shapes CloudTrail
//! writes, `{"Records":[{…},…]}`, one record object per line, and arrays of record objects.
//!
//! It splits each record into its top-level members (key, raw value) in one pass, finding the
//! end of strings sixteen bytes a step rather than byte by byte. It accepts only what serde_json
//! accepts and yields exactly what the serde path yields for it (same members, same spans, same
//! order); anything else (an escaped key, an element that is not an object, any syntax error) makes it
//! give up, and the caller reads the value again with serde_json, which keeps every error
//! message and recovery as they were. Elements handed out before giving up are not handed out
//! again (the caller skips them by index).

use super::identity::{IdentityWalk, Level};
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Members of one object, in order, as `record::MembersVisitor` gives them.
pub(crate) type Members<'a> = Vec<(Cow<'a, str>, &'a RawValue)>;

/// Takes each array element that is an object (1-based index): its members and, when the
/// scanner walked it, its `userIdentity`.
pub(crate) type OnElement<'c, 'a> = dyn FnMut(usize, Members<'a>, Option<IdentityWalk<'a>>) + 'c;

/// One top-level value, as far as the scanner split it.
pub(crate) enum Top<'a> {
    /// `{"Records":[…]}`: its elements went to the callback.
    Records,
    /// Any other object: its members.
    Object(Box<Members<'a>>),
    /// An array: its elements went to the callback.
    Array,
}

/// Scans the top-level value that starts at `pos` (a `{` or `[`). Each object element of a
/// `Records` array or of a top-level array goes to `on_element` (1-based index) once it has
/// been read whole. Returns the value and the bytes it took, or `None` to leave it to serde_json.
pub(crate) fn top<'a>(text: &'a str, pos: usize, on_element: &mut OnElement<'_, 'a>) -> Option<(Top<'a>, usize)> {
    let mut s = Scanner { text, b: text.as_bytes(), stack: Vec::new() };
    match *s.b.get(pos)? {
        b'{' => {
            let mut members = Members::new();
            let mut records = false;
            let mut i = ws(s.b, pos + 1);
            if s.b.get(i) == Some(&b'}') {
                return Some((Top::Object(Box::new(members)), i + 1 - pos));
            }
            loop {
                let (key, value_at) = s.key(i)?;
                if key == "Records" && !records {
                    if s.b.get(value_at) != Some(&b'[') {
                        return None;
                    }
                    i = s.elements(value_at, on_element)?;
                    records = true;
                } else {
                    let end = s.skip_value(value_at)?;
                    members.push((Cow::Borrowed(key), raw_value(text.get(value_at..end)?)));
                    i = end;
                }
                i = ws(s.b, i);
                match *s.b.get(i)? {
                    b',' => i = ws(s.b, i + 1),
                    b'}' => break,
                    _ => return None,
                }
            }
            Some((if records { Top::Records } else { Top::Object(Box::new(members)) }, i + 1 - pos))
        }
        b'[' => {
            let end = s.elements(pos, on_element)?;
            Some((Top::Array, end - pos))
        }
        _ => None,
    }
}

/// Walks the object `text` (one valid JSON object) in one pass: each member goes to
/// `member(tag, key, value)`, except members that `nested(tag, key)` names: their object values
/// are walked in turn with the tag it returns (other values there hold no members and are
/// skipped). `None` when the scanner gives up (an escaped key); `member` may have seen some
/// members by then.
///
/// Generic over the callbacks (not `dyn`) so that they are inlined into the walk: behind a
/// pointer, whether they were depended on unrelated changes elsewhere in the crate.
pub(crate) fn walk<'a, T: Copy, N, M>(text: &'a str, tag: T, nested: &N, member: &mut M) -> Option<()>
where
    N: Fn(T, &str) -> Option<T> + ?Sized,
    M: FnMut(T, &'a str, &'a RawValue) + ?Sized,
{
    let mut s = Scanner { text, b: text.as_bytes(), stack: Vec::new() };
    s.walk(0, tag, nested, member)?;
    Some(())
}

/// The `userIdentity` object `raw` walked as the record scanner walks a record's, or `None` when
/// the walk gives up (an escaped key): for identities read outside the record scanner.
pub(crate) fn identity(raw: &RawValue) -> Option<IdentityWalk<'_>> {
    let text = raw.get();
    Scanner { text, b: text.as_bytes(), stack: Vec::new() }.identity_walk(0).map(|(walk, _)| walk)
}

/// The members of the object at `i` (its `{`), its walked `userIdentity` and the index after
/// its `}`, or `None` to leave it to serde_json: one element of an array read a window at a
/// time (`splitter`).
pub(crate) fn object(text: &str, i: usize) -> Option<(Members<'_>, Option<IdentityWalk<'_>>, usize)> {
    Scanner { text, b: text.as_bytes(), stack: Vec::new() }.members(i)
}

struct Scanner<'a> {
    text: &'a str,
    b: &'a [u8],
    /// Open containers while skipping a value (`{` or `[`): no recursion, no depth limit, like
    /// serde_json's `ignore_value`.
    stack: Vec<u8>,
}

impl<'a> Scanner<'a> {
    /// An array of objects at `i` (its `[`): each object's members go to `on_element`. Returns the
    /// index after the `]`.
    fn elements(&mut self, i: usize, on_element: &mut OnElement<'_, 'a>) -> Option<usize> {
        let mut i = ws(self.b, i + 1);
        if self.b.get(i) == Some(&b']') {
            return Some(i + 1);
        }
        let mut n = 0usize;
        loop {
            if self.b.get(i) != Some(&b'{') {
                return None; // not an object: serde_json says what it is
            }
            let (members, identity, end) = self.members(i)?;
            n += 1;
            on_element(n, members, identity);
            i = ws(self.b, end);
            match *self.b.get(i)? {
                b',' => i = ws(self.b, i + 1),
                b']' => return Some(i + 1),
                _ => return None,
            }
        }
    }

    /// See [`walk`]: the object at `i` (its `{`); returns the index after its `}`.
    fn walk<T: Copy, N, M>(&mut self, i: usize, tag: T, nested: &N, member: &mut M) -> Option<usize>
    where
        N: Fn(T, &str) -> Option<T> + ?Sized,
        M: FnMut(T, &'a str, &'a RawValue) + ?Sized,
    {
        let mut i = ws(self.b, i + 1);
        if self.b.get(i) == Some(&b'}') {
            return Some(i + 1);
        }
        loop {
            let (key, value_at) = self.key(i)?;
            let end = match nested(tag, key) {
                Some(inner) if self.b.get(value_at) == Some(&b'{') => self.walk(value_at, inner, nested, member)?,
                Some(_) => self.skip_value(value_at)?,
                None => {
                    let end = self.skip_value(value_at)?;
                    member(tag, key, raw_value(self.text.get(value_at..end)?));
                    end
                }
            };
            i = ws(self.b, end);
            match *self.b.get(i)? {
                b',' => i = ws(self.b, i + 1),
                b'}' => return Some(i + 1),
                _ => return None,
            }
        }
    }

    /// The members of the object at `i` (its `{`), the walk of its last `userIdentity` object
    /// (none if that walk gave up), and the index after its `}`. A record's identity is walked
    /// here, where it would otherwise be skipped, so that `Record` need not scan it again;
    /// `Record` uses the walk only for the member it was made from.
    /// Inlined into both callers: called from `object` too, it was no longer inlined into
    /// `elements`, which cost the whole-file path 0.3% of its instructions.
    #[inline(always)]
    fn members(&mut self, i: usize) -> Option<(Members<'a>, Option<IdentityWalk<'a>>, usize)> {
        let mut out = Members::with_capacity(24);
        let mut identity = None;
        let mut i = ws(self.b, i + 1);
        if self.b.get(i) == Some(&b'}') {
            return Some((out, identity, i + 1));
        }
        loop {
            let (key, value_at) = self.key(i)?;
            let end = if key == "userIdentity" && self.b.get(value_at) == Some(&b'{') {
                let (walk, end) = self.identity(value_at)?;
                identity = walk;
                end
            } else {
                self.skip_value(value_at)?
            };
            out.push((Cow::Borrowed(key), raw_value(self.text.get(value_at..end)?)));
            i = ws(self.b, end);
            match *self.b.get(i)? {
                b',' => i = ws(self.b, i + 1),
                b'}' => return Some((out, identity, i + 1)),
                _ => return None,
            }
        }
    }

    /// The `userIdentity` object at `i` walked, and the index after it. When the walk gives up
    /// (an escaped key) the object is skipped instead, which validates it as before, and no walk
    /// is returned.
    #[inline(never)]
    fn identity(&mut self, i: usize) -> Option<(Option<IdentityWalk<'a>>, usize)> {
        match self.identity_walk(i) {
            Some((walk, end)) => Some((Some(walk), end)),
            None => Some((None, self.skip_value(i)?)),
        }
    }

    /// The one walk of a `userIdentity` object (at `i`, its `{`): every member met, descending
    /// into the objects [`Level::nested`] names. `None` when it gives up.
    fn identity_walk(&mut self, i: usize) -> Option<(IdentityWalk<'a>, usize)> {
        let mut members = Vec::with_capacity(16);
        let end = self.walk(i, Level::Identity, &Level::nested, &mut |level, key, v| members.push((level, key, v)))?;
        Some((IdentityWalk { raw: raw_value(self.text.get(i..end)?), members }, end))
    }

    /// A member's key at `i` (its opening quote) without escapes, then `:`: the key and where its
    /// value starts.
    #[inline(always)]
    fn key(&self, i: usize) -> Option<(&'a str, usize)> {
        if self.b.get(i) != Some(&b'"') {
            return None;
        }
        let close = next_special(self.b, i + 1)?;
        if self.b[close] != b'"' {
            return None; // escaped keys are decoded (and checked) by serde_json
        }
        let key = self.text.get(i + 1..close)?;
        let colon = ws(self.b, close + 1);
        if self.b.get(colon) != Some(&b':') {
            return None;
        }
        Some((key, ws(self.b, colon + 1)))
    }

    /// Skips the value at `i` (no leading whitespace), validating it as serde_json's
    /// `ignore_value` does; returns the index after it.
    #[inline(always)]
    fn skip_value(&mut self, i: usize) -> Option<usize> {
        match *self.b.get(i)? {
            b'"' => skip_str(self.b, i), // most members: no container to track
            b'{' | b'[' => self.skip_container(i),
            _ => scalar(self.b, i),
        }
    }

    /// [`skip_value`](Self::skip_value) of the object or array at `i`. Kept out of line so
    /// that the common cases above inline into every caller without it.
    #[inline(never)]
    fn skip_container(&mut self, mut i: usize) -> Option<usize> {
        let b = self.b;
        self.stack.clear();
        loop {
            // A value starts at `i`.
            match *b.get(i)? {
                b'"' => i = skip_str(b, i)?,
                open @ (b'{' | b'[') => {
                    i = ws(b, i + 1);
                    if b.get(i) == Some(&if open == b'{' { b'}' } else { b']' }) {
                        i += 1; // empty
                    } else {
                        self.stack.push(open);
                        if open == b'{' {
                            i = self.key_in_value(i)?;
                        }
                        continue;
                    }
                }
                _ => i = scalar(b, i)?,
            }
            // After a value: close what ends here, then go on to the next value.
            loop {
                let Some(&open) = self.stack.last() else { return Some(i) };
                i = ws(b, i);
                match (*b.get(i)?, open) {
                    (b',', b'[') => {
                        i = ws(b, i + 1);
                        break;
                    }
                    (b',', _) => {
                        i = self.key_in_value(ws(b, i + 1))?;
                        break;
                    }
                    (b']', b'[') | (b'}', b'{') => {
                        i += 1;
                        self.stack.pop();
                    }
                    _ => return None,
                }
            }
        }
    }

    /// A key inside a skipped object (escapes allowed, as `ignore_str` allows them): returns
    /// where its value starts.
    #[inline(always)]
    fn key_in_value(&self, i: usize) -> Option<usize> {
        if self.b.get(i) != Some(&b'"') {
            return None;
        }
        let colon = ws(self.b, skip_str(self.b, i)?);
        if self.b.get(colon) != Some(&b':') {
            return None;
        }
        Some(ws(self.b, colon + 1))
    }
}

/// `text`, known to be exactly one valid JSON value, as a `&RawValue` without parsing it again.
fn raw_value(text: &str) -> &RawValue {
    // SAFETY: `RawValue` is `#[repr(transparent)]` over `str` (serde_json builds its borrowed
    // raw values with this same cast), so `&str` and `&RawValue` have one layout; the test
    // `raw_value_is_a_str` checks it. The scanner only passes text it has validated, which is
    // the invariant `RawValue` keeps.
    unsafe { &*(text as *const str as *const RawValue) }
}

/// JSON whitespace (not Unicode's) from `i`.
#[inline(always)]
pub(crate) fn ws(b: &[u8], mut i: usize) -> usize {
    // CloudTrail writes compact JSON: nearly every call finds a byte above the space at once,
    // and one compare says so.
    while let Some(&c) = b.get(i)
        && c <= b' '
        && matches!(c, b' ' | b'\n' | b'\r' | b'\t')
    {
        i += 1;
    }
    i
}

/// High bit of byte `i` set when byte `i` of the word ends a plain run of string text: `"`,
/// `\` or a control character (not allowed raw in JSON strings). Bits above the first flagged
/// byte may be set spuriously (borrows), never below it, so its position is exact.
#[inline(always)]
fn specials(x: u64) -> u64 {
    const ONES: u64 = u64::MAX / 255;
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v;
    let control = x.wrapping_sub(ONES * 0x20) & !x;
    (zero_byte(x ^ (ONES * u64::from(b'"'))) | zero_byte(x ^ (ONES * u64::from(b'\\'))) | control) & (ONES << 7)
}

/// The index of the first `"`, `\` or control byte at or after `j`, sixteen bytes a step: one
/// SSE2 compare of the sixteen on x86-64 (part of its baseline, so no detection), two 8-byte
/// words elsewhere. Most strings are short, so the first step usually ends the search.
#[inline(always)]
fn next_special(b: &[u8], j: usize) -> Option<usize> {
    let rest = b.get(j..)?;
    let mut at = 0usize;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8};
        while at + 16 <= rest.len() {
            // SAFETY: SSE2 is part of the x86-64 baseline, so these intrinsics are available on
            // every x86-64 CPU; `at + 16 <= rest.len()`, so the sixteen bytes loaded are inside
            // `rest`, and `loadu` has no alignment requirement. Tested by
            // `finds_the_first_special_byte` at every offset of a chunk and in the tail.
            let mask = unsafe {
                let v = _mm_loadu_si128(rest.as_ptr().add(at).cast());
                let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
                let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
                // Unsigned `v <= 0x1f`: the minimum is `v` itself.
                let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
                _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
            };
            if mask != 0 {
                return Some(j + at + mask.trailing_zeros() as usize);
            }
            at += 16;
        }
    }
    // A chunk of `chunks_exact(8)` always converts.
    let word = |w: &[u8]| specials(<[u8; 8]>::try_from(w).map_or(0, u64::from_le_bytes));
    let mut words = rest[at..].chunks_exact(8);
    for w in &mut words {
        let m = word(w);
        if m != 0 {
            return Some(j + at + m.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    words.remainder().iter().position(|&x| x == b'"' || x == b'\\' || x < 0x20).map(|k| j + at + k)
}

/// A number, `true`, `false` or `null` at `i`.
fn scalar(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b't' => literal(b, i, b"true"),
        b'f' => literal(b, i, b"false"),
        b'n' => literal(b, i, b"null"),
        b'-' | b'0'..=b'9' => number(b, i),
        _ => None,
    }
}

/// The string at `i` (its opening quote), validated as serde_json's `ignore_str` does: escapes
/// well formed (`\u` with four hex digits, surrogates not paired here), no control characters.
/// Returns the index after the closing quote.
#[inline(always)]
fn skip_str(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        j = next_special(b, j)?;
        match b[j] {
            b'"' => return Some(j + 1),
            b'\\' => {}
            _ => return None, // a control character
        }
        match *b.get(j + 1)? {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => j += 2,
            b'u' if b.get(j + 2..j + 6)?.iter().all(u8::is_ascii_hexdigit) => j += 6,
            _ => return None,
        }
    }
}

#[inline]
fn literal(b: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    (b.get(i..i + word.len())? == word).then_some(i + word.len())
}

/// A JSON number at `i`: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn number(b: &[u8], i: usize) -> Option<usize> {
    let digits = |mut j: usize| {
        while let Some(b'0'..=b'9') = b.get(j) {
            j += 1;
        }
        j
    };
    let mut j = i + usize::from(b.get(i) == Some(&b'-'));
    match b.get(j)? {
        b'0' => {
            j += 1;
            if let Some(b'0'..=b'9') = b.get(j) {
                return None; // serde_json refuses leading zeros
            }
        }
        b'1'..=b'9' => j = digits(j + 1),
        _ => return None,
    }
    if b.get(j) == Some(&b'.') {
        let after = digits(j + 1);
        if after == j + 1 {
            return None;
        }
        j = after;
    }
    if let Some(b'e' | b'E') = b.get(j) {
        j += 1;
        if let Some(b'+' | b'-') = b.get(j) {
            j += 1;
        }
        let after = digits(j);
        if after == j {
            return None;
        }
        j = after;
    }
    Some(j)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_special_byte() {
        // High bytes (UTF-8) around: only `"`, `\` and bytes below 0x20 are special.
        let mut text: Vec<u8> = (0..70).map(|i| if i % 3 == 0 { 0xe9 } else { b'a' }).collect();
        for at in 0..70 {
            assert_eq!(next_special(&text[..at], 0), None);
            for special in [b'"', b'\\', 0x00, 0x1f] {
                let mut t = text.clone();
                t[at] = special;
                if at + 1 < 70 {
                    t[at + 1] = b'"'; // a later special byte (and borrows past the first) change nothing
                }
                for from in 0..=at {
                    assert_eq!(next_special(&t, from), Some(at), "{at} {special} {from}");
                }
            }
        }
        text[69] = 0x7f;
        assert_eq!(next_special(&text, 0), None);
        assert_eq!(next_special(&[0xff, 0xe9, 0x20, b'"'], 0), Some(3));
    }

    #[test]
    fn raw_value_is_a_str() {
        assert_eq!(std::mem::size_of::<&RawValue>(), std::mem::size_of::<&str>());
        let text = r#"{"a":[1,"x\"y",null]}"#;
        let raw = raw_value(text);
        assert_eq!(raw.get(), text);
        assert_eq!(raw.get().as_ptr(), text.as_ptr());
        let parsed: &RawValue = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(raw).unwrap(), serde_json::to_string(parsed).unwrap());
    }

    /// What serde_json's `ignore_value` makes of `text` (as one whole value), and what ours does.
    fn agree(text: &str) {
        let serde_ok = serde_json::from_str::<&RawValue>(text).is_ok();
        let start = ws(text.as_bytes(), 0);
        let ours = Scanner { text, b: text.as_bytes(), stack: Vec::new() }.skip_value(start).map(|e| ws(text.as_bytes(), e) == text.len());
        if ours == Some(true) {
            assert!(serde_ok, "scanner accepted what serde_json refuses: {text:?}");
        }
        // Giving up on valid JSON would be allowed (serde_json then reads it), but it would be slow.
        assert_eq!(ours == Some(true), serde_ok, "{text:?}");
    }

    #[test]
    fn skips_what_serde_json_skips_and_refuses_what_it_refuses() {
        for t in [
            "0",
            "-0",
            "1.5",
            "-12.5e+3",
            "1E5",
            "true",
            "false",
            "null",
            r#""""#,
            r#""a\"b\\c\/\b\f\n\r\t\u00e9""#,
            "[]",
            "{}",
            " [ 1 , { \"a\" : [ ] , \"b\\n\" : { } } ] ",
            r#"{"k":"é✓"}"#,
            "[[[[[[1]]]]]]",
            // refused:
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "1e+",
            "+1",
            "tru",
            "nul",
            "[1,]",
            "{\"a\":1,}",
            "[,1]",
            "{,}",
            "{\"a\"}",
            "{\"a\" 1}",
            "{a:1}",
            "\"a\u{1}b\"",
            "\"\\x\"",
            "\"\\u12g4\"",
            "\"\\u12\"",
            "\"abc",
            "[1 2]",
            "{\"a\":1 \"b\":2}",
            "[",
            "{",
            "]",
            "\"\\",
            "[1}",
            "{\"a\":1]",
            "NaN",
            "Infinity",
            "'a'",
            "\u{a0}1",
        ] {
            agree(t);
        }
        let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
        agree(&deep);
    }

    type Owned = Vec<(String, String)>;

    fn split(text: &str) -> Option<(Vec<Owned>, Option<Owned>, usize)> {
        let mut elements = Vec::new();
        let (top, used) = top(text, 0, &mut |i, m, _| {
            assert_eq!(i, elements.len() + 1);
            elements.push(m.iter().map(|(k, v)| (k.to_string(), v.get().to_string())).collect());
        })?;
        let object = match top {
            Top::Object(m) => Some(m.iter().map(|(k, v)| (k.to_string(), v.get().to_string())).collect()),
            _ => None,
        };
        Some((elements, object, used))
    }

    #[test]
    fn splits_records_objects_and_arrays() {
        let (els, obj, used) = split(r#"{"Records":[{"a":1,"b":{"c":"d"}} , {}],"x":2} trailing"#).unwrap();
        assert_eq!(els, vec![vec![("a".into(), "1".into()), ("b".into(), r#"{"c":"d"}"#.into())], vec![]]);
        assert!(obj.is_none());
        assert_eq!(used, r#"{"Records":[{"a":1,"b":{"c":"d"}} , {}],"x":2}"#.len());
        let (els, obj, _) = split(r#"{ "eventName" : "A" , "Records" : 5 }"#).map_or((vec![], None, 0), |x| x);
        assert!(els.is_empty() && obj.is_none(), "a Records that is not an array is left to serde_json");
        let (_, obj, _) = split(r#"{"eventName":"A","n":[1,2]}"#).unwrap();
        assert_eq!(obj.unwrap(), vec![("eventName".into(), "\"A\"".into()), ("n".into(), "[1,2]".into())]);
        assert!(split(r#"[{"a":1},2]"#).is_none(), "non-object elements go to serde_json");
        assert!(split(r#"{"\u0052ecords":[]}"#).is_none(), "escaped keys go to serde_json");
        // Truncated: the complete elements were handed out before giving up.
        let mut n = 0;
        assert!(top(r#"{"Records":[{"a":1},{"a":2},{"a":"#, 0, &mut |_, _, _| n += 1).is_none());
        assert_eq!(n, 2);
    }

    #[test]
    fn walks_the_identity_it_would_skip() {
        let walked = |text: &str| {
            let mut got = Vec::new();
            top(text, 0, &mut |_, m, w| got.push(w.map(|w| (w.raw.get().to_string(), m.len(), w.members.len()))));
            got
        };
        let id = r#"{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"userName":"r"},"attributes":{"mfaAuthenticated":"false"}},"arn":"a"}"#;
        // Members met: type, arn, userName, mfaAuthenticated (the two nested objects are walked into).
        let one = format!(r#"{{"Records":[{{"eventName":"A","userIdentity":{id}}}]}}"#);
        assert_eq!(walked(&one), vec![Some((id.to_string(), 2, 4))]);
        // An escaped key: the walk gives up, the object is skipped (and validated) instead.
        assert_eq!(walked(r#"{"Records":[{"userIdentity":{"\u0074ype":"Root"},"b":1}]}"#), vec![None]);
        assert!(top(r#"{"Records":[{"userIdentity":{"\u0074ype":"Root",}}]}"#, 0, &mut |_, _, _| ()).is_none());
        // Not an object: nothing to walk. Two of them: the walk is of the one it met last.
        assert_eq!(
            walked(r#"[{"userIdentity":"x"},{"userIdentity":{"a":1},"userIdentity":{"b":2}}]"#),
            vec![None, Some((r#"{"b":2}"#.into(), 2, 1))]
        );
        // Invalid inside the identity: refused, as skipping it refuses it.
        assert!(top(r#"[{"userIdentity":{"a":01}}]"#, 0, &mut |_, _, _| ()).is_none());
    }
}
