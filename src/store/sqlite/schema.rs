//! The store's tables. Plain SQL (TEXT, BIGINT, composite primary keys, `ON CONFLICT … DO
//! UPDATE`) that SQLite and PostgreSQL both accept, so a shared PostgreSQL backend can reuse it.
//!
//! Each later set of tables is its own migration step (V2: metric datapoints and alarm state;
//! V3: each datapoint keeps the keys of the events it counted; V4: alarm incidents' named
//! principals, for update alerts; V5: per-sink delivery of alerts to receivers that confirm; V6:
//! hosts learned in honeypot subnets and VPCs; V7: the statistics detector's history).
//!
//! `alerts.delivered`: 0 waiting for the stream, 1 written to it, 2 learned (raised while
//! learning: kept so that it is never raised again, never delivered; its body is empty).

/// The schema version this build writes. Older stores are migrated forward in `MIGRATIONS` order.
pub(crate) const VERSION: i64 = 7;

/// Migration `i` brings a store from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7];

const V1: &str = "
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One behaviour: a scope (principal, account or role name) doing an item (action or region).
-- Successes and failures are kept apart so a denied probe never makes a later success look known.
CREATE TABLE IF NOT EXISTS baseline (
    key_kind TEXT NOT NULL,
    scope TEXT NOT NULL,
    item TEXT NOT NULL,
    account TEXT,
    first_success BIGINT,
    last_success BIGINT,
    successes BIGINT NOT NULL DEFAULT 0,
    first_failure BIGINT,
    last_failure BIGINT,
    failures BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (key_kind, scope, item)
);
CREATE INDEX IF NOT EXISTS baseline_item ON baseline (key_kind, item);
CREATE INDEX IF NOT EXISTS baseline_account ON baseline (account);

-- When trailhound first and last saw a principal, an account or a role name (event time).
CREATE TABLE IF NOT EXISTS scopes (
    scope_kind TEXT NOT NULL,
    scope TEXT NOT NULL,
    principal_type TEXT,
    account TEXT,
    name TEXT,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    PRIMARY KEY (scope_kind, scope)
);
CREATE INDEX IF NOT EXISTS scopes_name ON scopes (scope_kind, name);

-- Inputs already applied: a rerun reads only new or changed files.
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    mtime BIGINT NOT NULL,
    processed_at BIGINT NOT NULL
);

-- Alerts raised, written in the same transaction as the baseline change that raised them and
-- marked delivered once every sink took them: a killed run repeats none and loses none.
CREATE TABLE IF NOT EXISTS alerts (
    alert_id TEXT PRIMARY KEY,
    detector TEXT NOT NULL,
    principal TEXT,
    event_time BIGINT,
    raised_at BIGINT NOT NULL,
    body TEXT NOT NULL,
    delivered BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS alerts_delivered ON alerts (delivered, event_time);
";

const V2: &str = "
-- Metric-filter datapoints: one row per metric, dimension combination (canonical JSON) and
-- minute of event time. Batches add to them, so late events land in the minute they happened.
-- samples: JSON list of [event time, eventID] of the earliest matching events.
CREATE TABLE IF NOT EXISTS metric_points (
    metric TEXT NOT NULL,
    dimensions TEXT NOT NULL,
    minute BIGINT NOT NULL,
    sum DOUBLE PRECISION NOT NULL,
    count BIGINT NOT NULL,
    min DOUBLE PRECISION NOT NULL,
    max DOUBLE PRECISION NOT NULL,
    samples TEXT NOT NULL,
    PRIMARY KEY (metric, dimensions, minute)
);

-- Matches already counted into metric_points (a hash of metric and event): an event read
-- again (a rescan, overlapping --since windows) counts once. Since V3 only for datapoints
-- written before it (see V3).
CREATE TABLE IF NOT EXISTS metric_events (
    event_key BIGINT PRIMARY KEY
);

-- Minutes in which events were read: default values are published in those without a match,
-- and alarms are evaluated up to the latest.
CREATE TABLE IF NOT EXISTS metric_minutes (
    minute BIGINT PRIMARY KEY
);

-- Each alarm's state per series, how far it was evaluated, and the definition that produced it.
CREATE TABLE IF NOT EXISTS alarm_state (
    alarm TEXT NOT NULL,
    dimensions TEXT NOT NULL,
    state TEXT NOT NULL,
    evaluated_until BIGINT NOT NULL,
    definition TEXT NOT NULL,
    PRIMARY KEY (alarm, dimensions)
);

-- State changes in event time: where a late batch's re-evaluation starts from.
CREATE TABLE IF NOT EXISTS alarm_transitions (
    alarm TEXT NOT NULL,
    dimensions TEXT NOT NULL,
    at BIGINT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (alarm, dimensions, at)
);

-- Transitions that raised an alert. Kept when late data re-evaluates the history, so an
-- incident whose start moves is not raised twice.
CREATE TABLE IF NOT EXISTS alarm_alerts (
    alarm TEXT NOT NULL,
    dimensions TEXT NOT NULL,
    at BIGINT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (alarm, dimensions, at, state)
);
";

const V3: &str = "
-- The keys of the events a datapoint counted (sorted, distinct, 8 bytes each, little-endian):
-- a rescan finds what it counted without a table row per event. Rows written before V3 have
-- none, and keep using metric_events. PostgreSQL spells the type BYTEA.
ALTER TABLE metric_points ADD COLUMN event_keys BLOB;
";

const V4: &str = "
-- An alarm incident that raised an alert (keyed by that transition's time): the principals its
-- alerts named (JSON list) and the end of the last alarm period checked for new ones, so an
-- update alert names each principal once and each period is judged once.
CREATE TABLE IF NOT EXISTS alarm_episodes (
    alarm TEXT NOT NULL,
    dimensions TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    checked_until BIGINT NOT NULL,
    named TEXT NOT NULL,
    PRIMARY KEY (alarm, dimensions, opened_at)
);
";

const V5: &str = "
-- Delivery to a receiver that confirms each alert (the webhook, sink 'webhook'): a row is
-- queued when the alert is written to the run's stream, and delivered_at is set only on the
-- receiver's 2xx, so an alert the receiver never confirmed is sent again by a later run.
-- (alerts.delivered keeps meaning: written to the stream.)
CREATE TABLE IF NOT EXISTS deliveries (
    alert_id TEXT NOT NULL,
    sink TEXT NOT NULL,
    queued_at BIGINT NOT NULL,
    delivered_at BIGINT,
    PRIMARY KEY (alert_id, sink)
);
CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries (sink, delivered_at);
";

const V6: &str = "
-- Instances, network interfaces and volumes learned to be in a trap subnet or VPC (from the
-- events that created or attached them), by the trap's id: later runs treat events naming them
-- as touches of the trap. first_seen: event time of the event that placed them there.
CREATE TABLE IF NOT EXISTS trap_members (
    trap_id TEXT NOT NULL,
    member TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    PRIMARY KEY (trap_id, member)
);
";

const V7: &str = "
-- The statistics detector (docs/statistics.md). A series is an API in an account and region
-- (and an error code), its key a JSON array. Bounded by series, not events: minute rows are
-- kept for a day behind the latest minute read (late events add to them), hour rows for the
-- baseline window and two days.
CREATE TABLE IF NOT EXISTS stat_minutes (
    series TEXT NOT NULL,
    minute BIGINT NOT NULL,
    count BIGINT NOT NULL,
    cell TEXT NOT NULL,
    PRIMARY KEY (series, minute)
);
CREATE INDEX IF NOT EXISTS stat_minutes_minute ON stat_minutes (minute);
-- Calls in the hour and the busiest minute of it: what a minute is judged against.
CREATE TABLE IF NOT EXISTS stat_hours (
    series TEXT NOT NULL,
    hour BIGINT NOT NULL,
    count BIGINT NOT NULL,
    peak BIGINT NOT NULL,
    PRIMARY KEY (series, hour)
);
CREATE INDEX IF NOT EXISTS stat_hours_hour ON stat_hours (hour);
-- The latest unusual minute of a series: an unusual minute near it continues its episode.
CREATE TABLE IF NOT EXISTS stat_series (
    series TEXT PRIMARY KEY,
    last_unusual BIGINT NOT NULL
);
-- When each account and region (a JSON array) was first observed: minimum history.
CREATE TABLE IF NOT EXISTS stat_scopes (
    scope TEXT PRIMARY KEY,
    first_minute BIGINT NOT NULL
);
";
