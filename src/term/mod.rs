//! What reaches a terminal: attacker-controlled text escaped, progress bars. Ground floor: every
//! stage that prints uses it, and it uses none of them.

pub mod colour;
pub mod escape;
pub mod progress;
