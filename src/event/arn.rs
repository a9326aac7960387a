//! Principal ARNs in the forms CloudTrail shows them: an IAM role ARN (with or without its path)
//! and an STS assumed-role session ARN name the same role.

/// `(account, kind, name)` for role and user ARNs in either the IAM or the STS form, so
/// `arn:aws:sts::1:assumed-role/dev/alice`, `arn:aws:iam::1:role/dev` and
/// `arn:aws:iam::1:role/team/dev` compare equal; `None` for anything else.
pub(crate) fn principal_key(p: &str) -> Option<(&str, &'static str, &str)> {
    let parts: Vec<&str> = p.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" {
        return None;
    }
    let (acct, res) = (parts[4], parts[5]);
    if let Some(rest) = res.strip_prefix("assumed-role/") {
        return Some((acct, "role", rest.split('/').next().unwrap_or(rest)));
    }
    for kind in ["role", "user"] {
        if let Some(rest) = res.strip_prefix(kind).and_then(|r| r.strip_prefix('/')) {
            return Some((acct, kind, rest.rsplit('/').next().unwrap_or(rest)));
        }
    }
    None
}

/// Whether two principals are the same: equal text, or the same role or user by
/// [`principal_key`].
pub(crate) fn same_principal(a: &str, b: &str) -> bool {
    a == b || principal_key(a).is_some_and(|k| principal_key(b) == Some(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_and_role_arns_meet() {
        assert!(same_principal("arn:aws:sts::1:assumed-role/dev/alice", "arn:aws:iam::1:role/team/dev"));
        assert!(same_principal("arn:aws:iam::1:user/ops/bob", "arn:aws:iam::1:user/bob"));
        assert!(!same_principal("arn:aws:sts::1:assumed-role/dev/alice", "arn:aws:iam::2:role/dev"));
        assert!(!same_principal("arn:aws:iam::1:user/dev", "arn:aws:iam::1:role/dev"));
        assert!(!same_principal("ec2.amazonaws.com", "arn:aws:iam::1:role/ec2.amazonaws.com"));
    }
}
