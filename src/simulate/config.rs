//! The ready-to-use config for the simulated organisation, written beside the labels: the burn-in
//! the labels assume, the canaries and honeypots it has laid, and the `seed` pack's parameters
//! (its pipeline, accounts, sensitive buckets and expected listers), as its owner would set them.

use super::org::Org;
use super::principals::{AUDITOR_ROLE, BATCH_ROLE, CANARY_OBJECT, CANARY_ROLE, CANARY_TABLE, CANARY_USER, PIPELINE_ROLE};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// `DIR.trailhound.toml` for labels at `DIR.labels.json`; `<labels>.trailhound.toml` otherwise.
pub fn config_path(labels: &Path) -> PathBuf {
    let name = labels.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = name.strip_suffix(".labels.json").unwrap_or(&name);
    labels.with_file_name(format!("{stem}.trailhound.toml"))
}

/// The config for `org`. Traps: the seed blog's four; the honeypot object sits in each account's
/// `it-backups-ACCOUNT` bucket, so that trap is declared per account.
pub fn config_text(org: &Org, burn_in_days: u32) -> String {
    let list = |items: Vec<String>| items.iter().map(|i| format!("\"{i}\"")).collect::<Vec<_>>().join(", ");
    let accounts = list(org.accounts.iter().map(|a| a.id.clone()).collect());
    let buckets = list(org.accounts.iter().map(|a| super::params::sensitive_bucket(&a.id)).collect());
    let mut s = format!(
        "# The simulated organisation's trailhound config (written by `trailhound simulate`).\n\n\
         [first_seen]\n# The labels' burn-in: alerts before it are not scored.\nburn_in_days = {burn_in_days}\n\n\
         [rules]\npacks = [\"cis\", \"seed\"]\n\n\
         [rules.params]\n\
         pipeline_principals = [\"{PIPELINE_ROLE}\"]\n\
         own_accounts = [{accounts}]\n\
         sensitive_buckets = [{buckets}]\n\
         # The batch role reads the exports bucket; the security auditor lists everything nightly.\n\
         expected_bucket_listers = [\"arn:aws:sts::*:assumed-role/{BATCH_ROLE}/*\"]\n\
         expected_enumerators = [\"arn:aws:sts::*:assumed-role/{AUDITOR_ROLE}/*\"]\n\n\
         # Traps (docs/traps.md). Nothing legitimate touches these: any event that does is an alert.\n\
         # `trailhound traps test --config THIS_FILE` shows what each one catches (the object trap\n\
         # only with S3 data events on the trail).\n\n"
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
