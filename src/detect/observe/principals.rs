//! What the fold needs of each caller, worked out once per distinct identity rather than per
//! event: normalising allocates five strings, and a session's events repeat its identity.

use super::{SkipFilter, hash_str};
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
pub(super) struct Known {
    pub who: Arc<Who>,
    /// Skipped whatever the event: a service-linked role, an AWS service, a listed principal.
    pub skipped: bool,
    /// The last account acted in and its hash (most events are in one account).
    pub account: LastAccount,
}

impl Known {
    fn new(p: Principal, skip: &SkipFilter) -> Known {
        let role_key = p.cross_account_key();
        let skipped = (skip.service_linked_roles && p.service_linked)
            || (skip.aws_services && p.kind == PrincipalType::AwsService)
            || crate::detect::pattern::any(&skip.principals, &p.id);
        let who = Who { principal_hash: hash_str(&p.id), role_hash: role_key.as_deref().map_or(0, hash_str), principal: p, role_key };
        Known { who: Arc::new(who), skipped, account: LastAccount::default() }
    }
}

/// An account name and its hash, kept from the last event.
#[derive(Debug, Clone, Default)]
pub(super) struct LastAccount(Option<(Box<str>, u128)>);

impl LastAccount {
    pub fn hash(&mut self, acct: &str) -> u128 {
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

/// Identity → what the fold needs of it. An entry is found by a hash of the identity's ARN and
/// principal ID, and taken only when every field normalisation reads ([`PrincipalBasis`](crate::event::identity::PrincipalBasis)) is
/// equal: a hit is exact, and sessions that differ in nothing else (access key, creation date,
/// MFA) share one entry.
#[derive(Debug, Clone, Default)]
pub(super) struct PrincipalCache {
    map: HashMap<u64, (Basis, Known), foldhash::fast::RandomState>,
    /// For a record without `userIdentity`: made afresh each time, never cached.
    uncached: Option<Known>,
}

/// A `PrincipalBasis`'s fields, owned.
type Basis = [Option<Box<str>>; 11];

impl PrincipalCache {
    /// Distinct identities kept before the cache starts over.
    const MAX: usize = 4096;

    pub fn get(&mut self, r: &Record<'_>, skip: &SkipFilter) -> &mut Known {
        if r.user_identity.raw.is_none() {
            return self.uncached.insert(Known::new(r.user_identity.principal(), skip));
        }
        let basis = r.user_identity.basis();
        let fields = basis.fields();
        // Two fields find the entry; all of them decide it. Identities that share an ARN and
        // principal ID but differ elsewhere only take turns in one slot.
        let h = std::hash::BuildHasher::hash_one(self.map.hasher(), (basis.arn, basis.principal_id));
        let hit = matches!(self.map.get(&h), Some((b, _)) if b.iter().zip(&fields).all(|(a, f)| a.as_deref() == *f));
        if !hit {
            if self.map.len() >= Self::MAX {
                self.map.clear();
            }
            self.map.insert(h, (fields.map(|f| f.map(Box::from)), Known::new(basis.principal(), skip)));
        }
        &mut self.map.get_mut(&h).expect("inserted above").1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_of_one_role_share_an_entry_and_other_roles_do_not() {
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
        // The last shares the first's ARN and principal ID, which find the entry, but not its
        // type, which decides the principal: it must not be taken for the role.
        assert_eq!(ids, ["arn:aws:iam::1:role/a", "arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b", "arn:aws:sts::1:assumed-role/a/s"]);
        let first = Record::parse(&texts[0]).unwrap();
        assert_eq!(c.get(&first, &skip).who.principal.id, "arn:aws:iam::1:role/a");
    }
}
