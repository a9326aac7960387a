//! TOML errors as one line that points at the text: the config file and pack files both read
//! TOML, and both report `origin:line:column: message`.

/// A TOML error as one line, `origin:line:column: message` (messages are printed escaped, and the
/// multi-line snippet toml renders would come out as `\u{a}`s).
pub(crate) fn toml_error(text: &str, origin: &str, e: &toml::de::Error) -> anyhow::Error {
    let at = e.span().map(|s| {
        let before = text.get(..s.start).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!(":{line}:{column}")
    });
    anyhow::anyhow!("{origin}{}: {}", at.unwrap_or_default(), e.message().trim())
}
