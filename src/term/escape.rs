//! Attacker-controlled text (user agents, names, request parameters) is data: before it reaches a
//! terminal, control characters and bidirectional overrides are shown escaped, so a crafted user
//! agent cannot move the cursor, recolour the screen or reorder what the analyst reads.

use std::borrow::Cow;

/// `s` with control and bidi-override characters replaced by `\u{…}` escapes.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_escape(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_bidi() {
        assert_eq!(terminal("aws-cli/2.0"), "aws-cli/2.0");
        assert_eq!(terminal("x\u{1b}[31mred"), "x\\u{1b}[31mred");
        assert_eq!(terminal("a\nb\u{202e}c"), "a\\u{a}b\\u{202e}c");
    }
}
