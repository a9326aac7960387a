//! The integration tests, as one binary: each module was a file of its own under `tests/`, and
//! each of those linked the whole crate again, which made linking most of a CI run's build time.

mod support;

mod alert_schema;

mod cli;
mod closed_pipe;
mod config;
mod dedup;
mod delivery;
mod evaluate;
mod filter_patterns;
mod first_seen_behave;
mod first_seen_scan;
mod input;
mod learn;
mod rules;
mod search;
mod simulate;
mod statistics;
mod store;
mod stream;
mod traps;
mod usability;
