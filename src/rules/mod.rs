//! Rules written the CloudWatch way: metric filters that turn matching events into per-minute metrics, and alarms over them.

pub mod alarm;
pub mod metric;
