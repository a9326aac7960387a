//! The walk of a record's `userIdentity` that the scanner makes while it splits the record:
//! which nested objects it descends into, and what it hands to `event::identity`.

use serde_json::value::RawValue;

/// Which object of `userIdentity` a member belongs to.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Level {
    Identity,
    SessionContext,
    SessionIssuer,
    Attributes,
    OnBehalfOf,
}

impl Level {
    /// The level of the object that `key` of `level` opens, for the objects walked into.
    pub(crate) fn nested(level: Level, key: &str) -> Option<Level> {
        match (level, key) {
            (Level::Identity, "sessionContext") => Some(Level::SessionContext),
            (Level::Identity, "onBehalfOf") => Some(Level::OnBehalfOf),
            (Level::SessionContext, "sessionIssuer") => Some(Level::SessionIssuer),
            (Level::SessionContext, "attributes") => Some(Level::Attributes),
            _ => None,
        }
    }
}

/// A record's `userIdentity` object as the scanner walked it while splitting the record: the
/// object's text and every member the walk handed out, in order, with its level.
#[derive(Debug)]
pub(crate) struct IdentityWalk<'a> {
    pub(crate) raw: &'a RawValue,
    pub(crate) members: Vec<(Level, &'a str, &'a RawValue)>,
}
