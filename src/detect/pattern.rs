//! `*` wildcards for config lists (actions, principals, user agents). Matching is on the whole
//! text and never backtracks more than linearly per star, so attacker-chosen text cannot make it
//! slow.

/// True when `text` matches `pattern`, where `*` matches any run of characters (also none).
pub(crate) fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// True when any pattern matches.
pub(crate) fn any(patterns: &[String], text: &str) -> bool {
    patterns.iter().any(|p| wildcard(p, text))
}

#[cfg(test)]
mod tests {
    use super::wildcard;

    #[test]
    fn matches() {
        assert!(wildcard("sts:GetCallerIdentity", "sts:GetCallerIdentity"));
        assert!(!wildcard("sts:GetCallerIdentity", "sts:GetCallerIdentityX"));
        assert!(wildcard("s3:Get*", "s3:GetObject"));
        assert!(wildcard("*", ""));
        assert!(wildcard("arn:aws:iam::*:role/deploy-*", "arn:aws:iam::111:role/deploy-prod"));
        assert!(!wildcard("arn:aws:iam::*:role/deploy-*", "arn:aws:iam::111:user/deploy-prod"));
        assert!(wildcard("*a*b*", "xxaxxbxx"));
        assert!(!wildcard("*a*b", "xxaxxbxxc"));
        assert!(!wildcard(&"*a".repeat(20), &"a".repeat(19)));
    }
}
