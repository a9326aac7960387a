//! Rules: filter patterns, pack parameters, metric filters and alarms.

pub mod params;
