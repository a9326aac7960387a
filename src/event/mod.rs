//! Events: the borrowed record model, principals, field lookups, time and deduplication.

pub(crate) mod arn;
pub(crate) mod dedup;
pub mod identity;
pub mod lookup;
pub mod record;
pub mod time;
pub(crate) mod value;

pub use identity::{Principal, PrincipalType, UserIdentity};
pub use lookup::{FieldLookup, FieldPath, Segment};
pub use record::Record;
pub use value::Value;
