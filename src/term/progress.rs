//! Progress on standard error, shown only to a person watching a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// What a bar counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Files,
}

/// A progress bar over `total` units, hidden when `wanted` is false or stderr is not a terminal.
pub fn bar(wanted: bool, unit: Unit, total: u64) -> ProgressBar {
    if !wanted || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let template = match unit {
        Unit::Bytes => "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
        Unit::Files => "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} files ({rate} files/s, eta {eta})",
    };
    // indicatif's own `{per_sec}` prints four decimals ("1234.5678/s"): people read "1,235".
    let style = ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()).with_key(
        "rate",
        |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&rate(s.per_sec()));
        },
    );
    bar.set_style(style);
    bar
}

/// A rate for people: thousands grouped, a decimal only below 10.
pub fn rate(per_sec: f64) -> String {
    if !per_sec.is_finite() || per_sec < 0.0 {
        return "-".into();
    }
    if per_sec < 10.0 {
        return format!("{per_sec:.1}");
    }
    indicatif::HumanCount(per_sec.round() as u64).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn rates_read_as_people_write_them() {
        assert_eq!(super::rate(1234.5678), "1,235");
        assert_eq!(super::rate(2.25), "2.2");
        assert_eq!(super::rate(f64::INFINITY), "-");
    }
}
