//! The ready-to-use config for the canaries and honeypots the simulated organisation has laid:
//! written beside the labels so `--config` picks up exactly the traps the attacks touch.

use super::org::Org;
use super::principals::{CANARY_OBJECT, CANARY_ROLE, CANARY_TABLE, CANARY_USER};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// `DIR.trailhound.toml` for labels at `DIR.labels.json`; `<labels>.trailhound.toml` otherwise.
pub fn config_path(labels: &Path) -> PathBuf {
    let name = labels.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = name.strip_suffix(".labels.json").unwrap_or(&name);
    labels.with_file_name(format!("{stem}.trailhound.toml"))
}

/// The `[traps]` section for `org`: the seed blog's four traps. The honeypot object sits in each
/// account's `it-backups-ACCOUNT` bucket, so that trap is declared per account.
pub fn config_text(org: &Org) -> String {
    let mut s = String::from(
        "# Traps laid in the simulated organisation (written by `trailhound simulate`).\n\
         # See docs/traps.md. Nothing legitimate touches these: any event that does is an alert.\n\n",
    );
    let _ = writeln!(s, "[[traps.iam_user]]\nname = \"{CANARY_USER}\"\nlabel = \"Canary IAM user: no one signs in as it\"\n");
    let _ = writeln!(s, "[[traps.iam_role]]\nname = \"{CANARY_ROLE}\"\nlabel = \"Canary role: nothing is meant to assume it\"\n");
    let _ = writeln!(s, "[[traps.dynamodb_table]]\nname = \"{CANARY_TABLE}\"\nlabel = \"Honeypot table with dummy customer data\"\n");
    for a in &org.accounts {
        let _ = writeln!(
            s,
            "[[traps.s3_object]]\nbucket = \"it-backups-{0}\"\nkey_prefix = \"{CANARY_OBJECT}/\"\naccount = \"{0}\"\nlabel = \"Honeypot password backup\"\n",
            a.id
        );
    }
    s
}
