//! Splits arbitrary bytes whole and streamed in windows of a size the first byte picks: the
//! records, bad values (with their index and line) and counts must be the same. Any difference
//! or panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::cell::Cell;
use trailhound::source::format::{Item, split};
use trailhound::source::stream::{Input, StreamOptions, split_input};

fn describe(item: Item<'_, '_>) -> String {
    match item {
        Item::Event(r) => format!("event {}", r.raw),
        Item::Insight(r) => format!("insight {}", r.raw),
        Item::Bad(b) => format!("bad {b}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, data)) = data.split_first() else { return };
    if data.starts_with(&[0x1f, 0x8b]) {
        return; // the stream would gunzip it, `split` takes decoded bytes
    }
    // The one documented difference: a real U+FFFD before the first invalid byte.
    if std::str::from_utf8(data).is_err() && data.windows(3).any(|w| w == "\u{fffd}".as_bytes()) {
        return;
    }
    let mut whole = Vec::new();
    let expected = split(data, &mut |i| whole.push(describe(i)));
    let chunk = usize::from(pick % 64) + 1;
    let mut streamed = Vec::new();
    let input = Input::new(Box::new(std::io::Cursor::new(data.to_vec()))).unwrap();
    let opts = StreamOptions { cap: u64::MAX, chunk, max_window: usize::MAX };
    let got = split_input(input, &opts, &Cell::new(false), &Cell::new(false), &mut |i| streamed.push(describe(i)));
    assert_eq!(streamed, whole, "chunk {chunk}");
    assert_eq!(format!("{:?}", got.split), format!("{expected:?}"), "chunk {chunk}");
});
