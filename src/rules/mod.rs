//! Rules written the CloudWatch way: filter patterns, pack parameters and packs, metric filters
//! that turn matching events into per-minute metrics, and alarms over them.

pub mod alarm;
pub mod metric;
pub mod pack;
pub mod params;
pub mod pattern;
