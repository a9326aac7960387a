//! Whether to colour: only for a person at a terminal, and never under `NO_COLOR`
//! (<https://no-color.org>: set and not empty).

/// Colour for output going to a stream that `is_terminal` or not.
pub fn wanted(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Colour for standard output.
pub fn stdout() -> bool {
    wanted(std::io::IsTerminal::is_terminal(&std::io::stdout()))
}
