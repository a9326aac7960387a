//! Feeds arbitrary bytes to the record splitter and parser, then exercises every field lookup
//! and principal normalisation on what comes out. Any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trailhound::event::{FieldLookup, FieldPath};
use trailhound::source::format::{Item, split};

fuzz_target!(|data: &[u8]| {
    let paths: Vec<FieldPath> = ["$.eventName", "$.requestParameters.*", "$.resources[*].ARN", "$.userIdentity.sessionContext.sessionIssuer.arn", "$.a[3].b"]
        .iter()
        .map(|p| FieldPath::parse(p).unwrap())
        .collect();
    split(data, &mut |item| {
        if let Item::Event(r) | Item::Insight(r) = item {
            let _ = r.user_identity.principal();
            let _ = r.action();
            for p in &paths {
                let _ = r.lookup(p);
            }
        }
    });
    if let Ok(text) = std::str::from_utf8(data) {
        // The fast scanner must read exactly what serde_json reads, or give up.
        trailhound::source::format::check_scanner(text);
        let _ = FieldPath::parse(text);
        let _ = trailhound::event::time::parse_event_time(text);
    }
});
