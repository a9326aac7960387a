//! The ground floor: a validating JSON scanner for the shapes CloudTrail writes and the walk of
//! `userIdentity` it makes on the way. `source` splits files with it and `event` reads records
//! and sub-objects with it; it depends on neither.

pub(crate) mod escape;
pub(crate) mod identity;
pub(crate) mod scan;
