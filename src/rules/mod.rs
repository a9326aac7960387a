//! Rules written the CloudWatch way: filter patterns, pack parameters and packs, metric filters
//! that turn matching events into per-minute metrics, and alarms over them.

pub(crate) mod alarm;
pub(crate) mod metric;
pub mod pack;
pub(crate) mod params;
pub mod pattern;
mod validate;
