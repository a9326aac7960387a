//! What the fold needs of each caller, worked out once per distinct identity rather than per
//! event: normalising allocates five strings, and a session's events repeat its identity.

use super::{SkipFilter, SkipReason, hash_str};
use crate::event::{Principal, PrincipalType, Record};
use std::collections::HashMap;
use std::sync::Arc;

/// A principal as the fold keys it.
#[derive(Debug)]
pub(super) struct Who {
    pub principal: Principal,
    /// The principal's cross-account role key (`role/<name>`), for roles.
    pub role_key: Option<String>,
    pub principal_hash: u128,
    /// 0 without a role key.
    pub role_hash: u128,
}

/// One cache entry: the principal, whether it is skipped, and the last account acted in.
#[derive(Debug, Clone)]
pub(super) struct CachedPrincipal {
    pub who: Arc<Who>,
    /// Skipped whatever the event: a service-linked role, an AWS service, a listed principal.
    pub skipped: Option<SkipReason>,
    /// The last account acted in and its hash (most events are in one account).
    pub account: LastAccount,
}

impl CachedPrincipal {
    fn new(p: Principal, skip: &SkipFilter) -> CachedPrincipal {
        let role_key = p.cross_account_key();
        let skipped = if skip.service_linked_roles && p.service_linked {
            Some(SkipReason::ServiceLinkedRole)
        } else if skip.aws_services && p.kind == PrincipalType::AwsService {
            Some(SkipReason::AwsService)
        } else if crate::detect::pattern::any(&skip.principals, &p.id) {
            Some(SkipReason::Principal)
        } else {
            None
        };
        let who = Who { principal_hash: hash_str(&p.id), role_hash: role_key.as_deref().map_or(0, hash_str), principal: p, role_key };
        CachedPrincipal { who: Arc::new(who), skipped, account: LastAccount::default() }
    }
}

/// An account name and its hash, kept from the last event.
#[derive(Debug, Clone, Default)]
pub(super) struct LastAccount(Option<(Box<str>, u128)>);

impl LastAccount {
    pub(super) fn hash(&mut self, acct: &str) -> u128 {
        match &self.0 {
            Some((a, h)) if **a == *acct => *h,
            _ => {
                let h = hash_str(acct);
                self.0 = Some((acct.into(), h));
                h
            }
        }
    }
}

/// `userIdentity` text → what the fold needs of it. The text is compared, not only hashed, so a
/// hit is exact; a session's events repeat it byte for byte. (Keying by the fields normalisation
/// reads instead would let sessions share entries, but reading and comparing eleven fields costs
/// more per event than hashing and comparing one slice.)
#[derive(Debug, Clone, Default)]
pub(super) struct PrincipalCache {
    map: HashMap<u64, (Box<str>, CachedPrincipal), foldhash::fast::RandomState>,
    /// For a record without `userIdentity`: made afresh each time, never cached.
    uncached: Option<CachedPrincipal>,
}

impl PrincipalCache {
    /// Distinct identities kept before the cache starts over (about a session each).
    const MAX: usize = 4096;

    pub(super) fn get(&mut self, r: &Record<'_>, skip: &SkipFilter) -> &mut CachedPrincipal {
        let Some(raw) = r.user_identity.raw.map(|v| v.get()) else {
            return self.uncached.insert(CachedPrincipal::new(r.user_identity.principal(), skip));
        };
        // foldhash is seeded per run; the whole text is hashed, since sessions of one role can
        // share both ends of it (type and principal ID first, the creation time last).
        let h = std::hash::BuildHasher::hash_one(self.map.hasher(), raw.as_bytes());
        let hit = matches!(self.map.get(&h), Some((text, _)) if **text == *raw);
        if !hit {
            if self.map.len() >= Self::MAX {
                self.map.clear();
            }
            self.map.insert(h, (raw.into(), CachedPrincipal::new(r.user_identity.principal(), skip)));
        }
        &mut self.map.get_mut(&h).expect("inserted above").1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_identity_text_has_its_own_entry() {
        let rec = |role: &str, key: &str| {
            format!(
                r#"{{"eventTime":"2024-01-01T00:00:00Z","userIdentity":{{"type":"AssumedRole","principalId":"AROA:s","arn":"arn:aws:sts::1:assumed-role/{role}/s","accountId":"1","accessKeyId":"{key}","sessionContext":{{"sessionIssuer":{{"type":"Role","arn":"arn:aws:iam::1:role/{role}","accountId":"1","userName":"{role}"}},"attributes":{{"creationDate":"{key}","mfaAuthenticated":"false"}}}}}}}}"#
            )
        };
        let mut c = PrincipalCache::default();
        let skip = SkipFilter::default();
        let texts =
            [rec("a", "K1"), rec("a", "K2"), rec("b", "K1"), rec("a", "K3").replace(r#""type":"AssumedRole""#, r#""type":"IAMUser""#)];
        let ids: Vec<String> = texts.iter().map(|t| c.get(&Record::parse(t).unwrap(), &skip).who.principal.id.clone()).collect();
        // The last differs from the first only in its type, which decides the principal.
        assert_eq!(ids, ["arn:aws:iam::1:role/a", "arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b", "arn:aws:sts::1:assumed-role/a/s"]);
        assert_eq!(c.map.len(), 4);
        let first = Record::parse(&texts[0]).unwrap();
        assert_eq!(c.get(&first, &skip).who.principal.id, "arn:aws:iam::1:role/a");
        assert_eq!(c.map.len(), 4);
    }
}
