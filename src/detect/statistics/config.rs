//! `[statistics]`: the Insights-style rate detector's settings (docs/statistics.md says what each
//! one changes and why its default is what it is).

use serde::Deserialize;

/// `[statistics]`: call and error rates per API against their own history.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StatisticsConfig {
    pub enabled: bool,
    /// Write calls per minute of one API (`api_call_rate`).
    pub api_call_rate: bool,
    /// Errors per minute of one API and error code (`api_error_rate`).
    pub api_error_rate: bool,
    /// Days of history a minute is judged against (Insights: 7).
    pub baseline_days: u32,
    /// No alert in an account and region observed for less than this many days.
    pub min_history_days: u32,
    /// Fewer calls (or errors) than this in one minute are never unusual.
    pub min_count: u64,
    /// A minute must exceed this many times the busiest minute of its hours of the day.
    pub peak_factor: f64,
    /// A minute is unusual only when a Poisson count at the expected rate reaches it with at
    /// most this probability.
    pub p_value: f64,
    /// Unusual minutes closer than this belong to one episode, which raises one alert.
    pub episode_gap_minutes: u32,
}

impl Default for StatisticsConfig {
    fn default() -> Self {
        StatisticsConfig {
            enabled: true,
            api_call_rate: true,
            api_error_rate: true,
            baseline_days: 7,
            min_history_days: 3,
            min_count: 10,
            peak_factor: 2.0,
            p_value: 1e-6,
            episode_gap_minutes: 15,
        }
    }
}

impl StatisticsConfig {
    /// What serde cannot check; the error names the key.
    pub(crate) fn check(&self) -> Result<(), (&'static str, String)> {
        if !(1..=90).contains(&self.baseline_days) {
            return Err(("baseline_days", format!("baseline_days = {} must be between 1 and 90", self.baseline_days)));
        }
        if self.min_history_days > self.baseline_days {
            let m = format!("min_history_days = {} is longer than baseline_days = {}", self.min_history_days, self.baseline_days);
            return Err(("min_history_days", m));
        }
        if self.min_count == 0 {
            return Err(("min_count", "min_count must be at least 1".into()));
        }
        if !(self.peak_factor.is_finite() && self.peak_factor >= 1.0) {
            return Err(("peak_factor", format!("peak_factor = {} must be a number of at least 1", self.peak_factor)));
        }
        if !(self.p_value > 0.0 && self.p_value < 1.0) {
            return Err(("p_value", format!("p_value = {} must be between 0 and 1 (exclusive)", self.p_value)));
        }
        if self.p_value < 1e-12 {
            return Err(("p_value", format!("p_value = {} is below 1e-12, beyond what the tail sum resolves", self.p_value)));
        }
        if self.episode_gap_minutes > 24 * 60 {
            return Err(("episode_gap_minutes", "episode_gap_minutes must be at most a day (1440)".into()));
        }
        Ok(())
    }
}
