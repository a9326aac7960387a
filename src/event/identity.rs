//! `userIdentity`: the caller, as CloudTrail wrote it, and normalised to one principal.

use super::record::{Text, bool_of, text_in, text_of};
use super::value::{Pick, children};
use crate::json::identity::{IdentityWalk, Level};
use serde_json::value::RawValue;
use smallvec::SmallVec;
use std::fmt;

/// The fields of `userIdentity` that normalisation and rules use. Everything is optional:
/// records in the wild lack `type`, carry an empty `sessionIssuer {}`, or put `null` anywhere.
#[derive(Debug, Default, Clone)]
pub struct UserIdentity<'a> {
    pub raw: Option<&'a RawValue>,
    pub kind: Option<Text<'a>>,
    pub principal_id: Option<Text<'a>>,
    pub arn: Option<Text<'a>>,
    pub account_id: Option<Text<'a>>,
    pub access_key_id: Option<Text<'a>>,
    pub user_name: Option<Text<'a>>,
    pub invoked_by: Option<Text<'a>>,
    pub identity_provider: Option<Text<'a>>,
    pub issuer_type: Option<Text<'a>>,
    pub issuer_arn: Option<Text<'a>>,
    pub issuer_user_name: Option<Text<'a>>,
    pub issuer_principal_id: Option<Text<'a>>,
    pub mfa_authenticated: Option<bool>,
    pub source_identity: Option<Text<'a>>,
    pub on_behalf_of_user_id: Option<Text<'a>>,
    pub identity_store_arn: Option<Text<'a>>,
    /// The direct scalar-or-other members of `userIdentity` (all but the `sessionContext` and
    /// `onBehalfOf` objects, which the scanner walks into), when the one-pass scanner read it:
    /// rule lookups such as `$.userIdentity.arn` take them from here instead of scanning the
    /// object again. `None` when the slower path read it.
    pub members: Option<SmallVec<[(&'a str, &'a RawValue); 10]>>,
}

impl<'a> UserIdentity<'a> {
    /// Reads the fields in one pass over `raw` with the reader's scanner, descending into
    /// `sessionContext`, `sessionIssuer`, `attributes` and `onBehalfOf` as they come. When the
    /// scanner gives up (an escaped key) it starts over with [`UserIdentity::parse_by_level`],
    /// which reads each level on its own with serde_json: both give the same fields.
    pub fn parse(raw: &'a RawValue) -> UserIdentity<'a> {
        UserIdentity::parse_in(raw, memchr::memchr(b'\\', raw.get().as_bytes()).is_none())
    }

    /// [`UserIdentity::parse`], told whether `raw` is known to hold no backslash.
    pub(crate) fn parse_in(raw: &'a RawValue, plain: bool) -> UserIdentity<'a> {
        if !raw.get().starts_with('{') {
            return UserIdentity { raw: Some(raw), ..Default::default() }; // a string, number or array holds no fields
        }
        match crate::json::scan::identity(raw) {
            Some(walk) => UserIdentity::from_walk(&walk, plain),
            None => UserIdentity::parse_by_level(raw),
        }
    }

    /// The fields from the scanner's walk of the object: made while the record scanner split the
    /// record (so the object is not scanned a second time), or by [`UserIdentity::parse_in`].
    pub(crate) fn from_walk(walk: &IdentityWalk<'a>, plain: bool) -> UserIdentity<'a> {
        let mut u = UserIdentity { raw: Some(walk.raw), members: Some(SmallVec::new()), ..Default::default() };
        for &(level, key, v) in &walk.members {
            u.set(level, key, v, plain);
        }
        u
    }

    /// One member of `level`.
    fn set(&mut self, level: Level, key: &'a str, v: &'a RawValue, plain: bool) {
        if let (Level::Identity, Some(m)) = (level, &mut self.members) {
            m.push((key, v));
        }
        let text_of = |v| text_in(v, plain);
        let slot = match (level, key) {
            (Level::Identity, "type") => &mut self.kind,
            (Level::Identity, "principalId") => &mut self.principal_id,
            (Level::Identity, "arn") => &mut self.arn,
            (Level::Identity, "accountId") => &mut self.account_id,
            (Level::Identity, "accessKeyId") => {
                self.access_key_id = text_of(v).filter(|s| !s.is_empty());
                return;
            }
            (Level::Identity, "userName") => &mut self.user_name,
            (Level::Identity, "invokedBy") => &mut self.invoked_by,
            (Level::Identity, "identityProvider") => &mut self.identity_provider,
            (Level::SessionContext, "sourceIdentity") => &mut self.source_identity,
            (Level::SessionIssuer, "type") => &mut self.issuer_type,
            (Level::SessionIssuer, "arn") => &mut self.issuer_arn,
            (Level::SessionIssuer, "userName") => &mut self.issuer_user_name,
            (Level::SessionIssuer, "principalId") => &mut self.issuer_principal_id,
            (Level::Attributes, "mfaAuthenticated") => {
                self.mfa_authenticated = bool_of(v);
                return;
            }
            (Level::OnBehalfOf, "userId") => &mut self.on_behalf_of_user_id,
            (Level::OnBehalfOf, "identityStoreArn") => &mut self.identity_store_arn,
            _ => return,
        };
        *slot = text_of(v);
    }

    /// One level at a time: each nested object is split again on its own.
    fn parse_by_level(raw: &'a RawValue) -> UserIdentity<'a> {
        let mut u = UserIdentity { raw: Some(raw), ..Default::default() };
        for (key, value) in children(raw, Pick::All) {
            let Some(key) = key else { continue };
            match key.as_ref() {
                "type" => u.kind = text_of(value),
                "principalId" => u.principal_id = text_of(value),
                "arn" => u.arn = text_of(value),
                "accountId" => u.account_id = text_of(value),
                "accessKeyId" => u.access_key_id = text_of(value).filter(|s| !s.is_empty()),
                "userName" => u.user_name = text_of(value),
                "invokedBy" => u.invoked_by = text_of(value),
                "identityProvider" => u.identity_provider = text_of(value),
                "sessionContext" => u.parse_session_context(value),
                "onBehalfOf" => {
                    for (k, v) in children(value, Pick::All) {
                        match k.as_deref() {
                            Some("userId") => u.on_behalf_of_user_id = text_of(v),
                            Some("identityStoreArn") => u.identity_store_arn = text_of(v),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        u
    }

    fn parse_session_context(&mut self, ctx: &'a RawValue) {
        for (k, v) in children(ctx, Pick::All) {
            match k.as_deref() {
                Some("sessionIssuer") => {
                    for (ik, iv) in children(v, Pick::All) {
                        match ik.as_deref() {
                            Some("type") => self.issuer_type = text_of(iv),
                            Some("arn") => self.issuer_arn = text_of(iv),
                            Some("userName") => self.issuer_user_name = text_of(iv),
                            Some("principalId") => self.issuer_principal_id = text_of(iv),
                            _ => {}
                        }
                    }
                }
                Some("attributes") => {
                    for (ak, av) in children(v, Pick::Key("mfaAuthenticated")) {
                        debug_assert!(ak.is_some());
                        self.mfa_authenticated = bool_of(av);
                    }
                }
                Some("sourceIdentity") => self.source_identity = text_of(v),
                _ => {}
            }
        }
    }

    /// The normalised principal behind this identity.
    pub fn principal(&self) -> Principal {
        self.basis().principal()
    }

    /// The fields the principal is made from, and nothing else.
    pub fn basis(&self) -> PrincipalBasis<'_> {
        PrincipalBasis {
            kind: self.kind.as_deref(),
            principal_id: self.principal_id.as_deref(),
            arn: self.arn.as_deref(),
            account_id: self.account_id.as_deref(),
            user_name: self.user_name.as_deref(),
            invoked_by: self.invoked_by.as_deref(),
            identity_provider: self.identity_provider.as_deref(),
            issuer_arn: self.issuer_arn.as_deref(),
            issuer_user_name: self.issuer_user_name.as_deref(),
            on_behalf_of_user_id: self.on_behalf_of_user_id.as_deref(),
            identity_store_arn: self.identity_store_arn.as_deref(),
        }
    }
}

/// Every field of `userIdentity` that normalisation reads, and only those: identities with
/// equal bases have equal principals, so hashing the basis tells principals apart (`stats`).
#[derive(Debug, Clone, Copy, Hash)]
pub struct PrincipalBasis<'s> {
    pub kind: Option<&'s str>,
    pub principal_id: Option<&'s str>,
    pub arn: Option<&'s str>,
    pub account_id: Option<&'s str>,
    pub user_name: Option<&'s str>,
    pub invoked_by: Option<&'s str>,
    pub identity_provider: Option<&'s str>,
    pub issuer_arn: Option<&'s str>,
    pub issuer_user_name: Option<&'s str>,
    pub on_behalf_of_user_id: Option<&'s str>,
    pub identity_store_arn: Option<&'s str>,
}

impl PrincipalBasis<'_> {
    /// The normalised principal.
    pub fn principal(&self) -> Principal {
        normalise(self)
    }
}

/// The kinds of caller trailhound distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalType {
    Root,
    IamUser,
    /// A role, whether called through an assumed-role session or named directly.
    Role,
    FederatedUser,
    AwsService,
    AwsAccount,
    IdentityCenterUser,
    SamlUser,
    WebIdentityUser,
    Directory,
    Unknown,
}

impl PrincipalType {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::Root => "Root",
            PrincipalType::IamUser => "IAMUser",
            PrincipalType::Role => "Role",
            PrincipalType::FederatedUser => "FederatedUser",
            PrincipalType::AwsService => "AWSService",
            PrincipalType::AwsAccount => "AWSAccount",
            PrincipalType::IdentityCenterUser => "IdentityCenterUser",
            PrincipalType::SamlUser => "SAMLUser",
            PrincipalType::WebIdentityUser => "WebIdentityUser",
            PrincipalType::Directory => "Directory",
            PrincipalType::Unknown => "Unknown",
        }
    }
}

impl fmt::Display for PrincipalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A caller normalised so that every session of one role, every call of one user, is one key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Principal {
    pub kind: PrincipalType,
    /// The stable key: an IAM ARN for roles (with their path when CloudTrail gave it), users and
    /// root; the service name for AWS services; a typed pseudo-ARN for the rest (see `normalise`).
    pub id: String,
    /// The owning account, when known.
    pub account: Option<String>,
    /// The short name: role name, user name, service, provider user.
    pub name: String,
    /// The role-session (or federated-user) name, kept apart from the key.
    pub session: Option<String>,
    /// `aws`, `aws-cn` or `aws-us-gov`.
    pub partition: String,
    /// A role under `/aws-service-role/`, which AWS itself drives.
    pub service_linked: bool,
}

impl Principal {
    /// The key shared by same-named roles in every account of an organisation (`role/<name>`), so
    /// a role in a new account can inherit its peers' baseline.
    pub fn cross_account_key(&self) -> Option<String> {
        (self.kind == PrincipalType::Role).then(|| format!("role/{}", self.name))
    }
}

fn partition_of(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    rest.split(':').next().filter(|p| !p.is_empty())
}

/// Splits `arn:<partition>:<service>:<region>:<account>:<resource>`.
fn arn_parts(arn: &str) -> Option<(&str, &str, &str)> {
    let mut it = arn.splitn(6, ':');
    let (_, partition, _service, _region, account, resource) = (it.next()?, it.next()?, it.next()?, it.next()?, it.next()?, it.next()?);
    Some((partition, account, resource))
}

fn normalise(u: &PrincipalBasis<'_>) -> Principal {
    let arn = u.arn.filter(|s| !s.is_empty());
    let partition = arn.or(u.issuer_arn).and_then(partition_of).unwrap_or("aws").to_string();
    let account = u.account_id.filter(|s| !s.is_empty()).map(str::to_string);
    let mut p = Principal {
        kind: PrincipalType::Unknown,
        id: String::new(),
        account: account.clone(),
        name: String::new(),
        session: None,
        partition: partition.clone(),
        service_linked: false,
    };
    let kind = u.kind.unwrap_or("");
    match kind {
        "AssumedRole" | "Role" => role(u, arn, &mut p),
        "IAMUser" => {
            p.kind = PrincipalType::IamUser;
            let from_arn = arn.and_then(arn_parts).and_then(|(_, acct, res)| res.strip_prefix("user/").map(|r| (acct, r)));
            p.name = u
                .user_name
                .map(str::to_string)
                .or_else(|| from_arn.map(|(_, r)| r.rsplit('/').next().unwrap_or(r).to_string()))
                .unwrap_or_default();
            p.id = match (arn, &account) {
                (Some(a), _) => a.to_string(),
                (None, Some(acct)) => format!("arn:{partition}:iam::{acct}:user/{}", p.name),
                (None, None) => format!("user/{}", p.name),
            };
            if p.account.is_none() {
                p.account = from_arn.map(|(acct, _)| acct.to_string());
            }
        }
        "Root" => {
            p.kind = PrincipalType::Root;
            let acct = account.clone().or_else(|| arn.and_then(arn_parts).map(|(_, a, _)| a.to_string())).unwrap_or_default();
            p.id = format!("arn:{partition}:iam::{acct}:root");
            p.name = "root".into();
            p.account = Some(acct).filter(|a| !a.is_empty());
        }
        "FederatedUser" => {
            p.kind = PrincipalType::FederatedUser;
            let fed = arn.and_then(arn_parts).and_then(|(_, _, r)| r.strip_prefix("federated-user/"));
            let name = fed
                .map(str::to_string)
                .or_else(|| u.principal_id.and_then(|id| id.split_once(':')).map(|(_, n)| n.to_string()))
                .unwrap_or_default();
            p.id = arn
                .map(str::to_string)
                .unwrap_or_else(|| format!("arn:{partition}:sts::{}:federated-user/{name}", account.as_deref().unwrap_or("")));
            p.session = Some(name.clone());
            p.name = name;
        }
        "AWSService" => service(u, &mut p),
        "AWSAccount" => {
            p.kind = PrincipalType::AwsAccount;
            let caller = u.principal_id.map(|id| id.split(':').next().unwrap_or(id)).filter(|s| !s.is_empty());
            p.name = account.clone().unwrap_or_default();
            p.id = match caller {
                Some(c) => format!("aws-account:{}/{c}", p.name),
                None => format!("aws-account:{}", p.name),
            };
        }
        "IdentityCenterUser" => {
            p.kind = PrincipalType::IdentityCenterUser;
            let user = u.on_behalf_of_user_id.unwrap_or("unknown");
            let store = u.identity_store_arn.and_then(|a| a.rsplit('/').next()).unwrap_or("unknown");
            p.name = user.to_string();
            p.id = format!("identity-center:{store}/{user}");
        }
        "SAMLUser" | "WebIdentityUser" => {
            p.kind = if kind == "SAMLUser" { PrincipalType::SamlUser } else { PrincipalType::WebIdentityUser };
            let provider = u.identity_provider.unwrap_or("unknown");
            let user = u.user_name.or(u.principal_id).unwrap_or("unknown");
            p.name = user.to_string();
            p.id = format!("{}:{provider}/{user}", if kind == "SAMLUser" { "saml" } else { "web-identity" });
        }
        "Directory" => {
            p.kind = PrincipalType::Directory;
            p.name = u.user_name.or(u.principal_id).unwrap_or("unknown").to_string();
            p.id = format!("directory:{}", p.name);
        }
        // No type at all: AWS service events (e.g. Secrets Manager rotation) carry only invokedBy.
        "" if u.invoked_by.is_some() && arn.is_none() => service(u, &mut p),
        _ => {
            p.kind = PrincipalType::Unknown;
            p.name = u.user_name.or(u.principal_id).or(arn).unwrap_or("unknown").to_string();
            p.id = arn.map(str::to_string).unwrap_or_else(|| format!("unknown:{}", p.name));
        }
    }
    p
}

fn service(u: &PrincipalBasis<'_>, p: &mut Principal) {
    p.kind = PrincipalType::AwsService;
    p.name = u.invoked_by.or(u.principal_id).unwrap_or("unknown").to_string();
    p.id = p.name.clone();
}

fn role(u: &PrincipalBasis<'_>, arn: Option<&str>, p: &mut Principal) {
    p.kind = PrincipalType::Role;
    let partition = p.partition.clone();
    // `sessionIssuer.arn` carries the role's path; the assumed-role ARN does not.
    let issuer = u.issuer_arn.filter(|a| a.contains(":role/"));
    let sts = arn.and_then(arn_parts).and_then(|(_, acct, res)| res.strip_prefix("assumed-role/").map(|r| (acct, r)));
    if let Some((acct, rest)) = sts {
        let (name, session) = rest.split_once('/').unwrap_or((rest, ""));
        p.name = name.to_string();
        p.session = Some(session.to_string()).filter(|s| !s.is_empty());
        if p.account.is_none() {
            p.account = Some(acct.to_string());
        }
    }
    if let Some(issuer) = issuer {
        if let Some((_, acct, res)) = arn_parts(issuer) {
            let path_and_name = res.strip_prefix("role/").unwrap_or(res);
            p.name = path_and_name.rsplit('/').next().unwrap_or(path_and_name).to_string();
            p.service_linked = path_and_name.starts_with("aws-service-role/");
            if p.account.is_none() && !acct.is_empty() {
                p.account = Some(acct.to_string());
            }
        }
        p.id = issuer.to_string();
    } else if let Some(a) = arn.filter(|a| a.contains(":role/")) {
        // type `Role` names the role itself.
        if let Some((_, _, res)) = arn_parts(a) {
            let path_and_name = res.strip_prefix("role/").unwrap_or(res);
            p.name = path_and_name.rsplit('/').next().unwrap_or(path_and_name).to_string();
            p.service_linked = path_and_name.starts_with("aws-service-role/");
        }
        p.id = a.to_string();
    } else {
        if p.name.is_empty() {
            p.name = u.issuer_user_name.unwrap_or("unknown").to_string();
        }
        p.id = format!("arn:{partition}:iam::{}:role/{}", p.account.as_deref().unwrap_or(""), p.name);
    }
    if p.session.is_none() {
        p.session = u.principal_id.and_then(|id| id.split_once(':')).map(|(_, s)| s.to_string()).filter(|s| !s.is_empty());
    }
}

#[cfg(test)]
mod tests {
    //! Identities from real records: Invictus (MIT), panther-analysis and Stratus fixtures
    //! (Apache-2.0), and the AWS CloudTrail User Guide's examples for the types no dataset has.
    use super::*;

    #[test]
    fn one_pass_reads_what_level_by_level_reads() {
        for json in [
            r#"{"type":"AssumedRole","principalId":"AROA:s","arn":"arn:aws:sts::1:assumed-role/r/s","accountId":"1","accessKeyId":"","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROA","arn":"arn:aws:iam::1:role/p/r","accountId":"1","userName":"r"},"webIdFederationData":{},"attributes":{"creationDate":"x","mfaAuthenticated":"true"},"sourceIdentity":"me"}}"#,
            r#"{"type":"IdentityCenterUser","accountId":"1","onBehalfOf":{"userId":"u\u0031","identityStoreArn":"arn:aws:identitystore::1:identitystore/d-1"},"credentialId":"c"}"#,
            r#"{"type":5,"arn":null,"sessionContext":[{"sessionIssuer":{"arn":"x"}}],"onBehalfOf":"str","userName":true}"#,
            r#"{"sessionContext":{"sessionIssuer":7,"attributes":{"mfaAuthenticated":"false"},"attributes":{}},"type":"A","type":"B"}"#,
            r#"{"type":"IAMUser","sessionContext":{"sessionIssuer":{"\ud800":1,"arn":"arn:aws:iam::1:role/r"}},"userName":"u"}"#,
            r#"{"\ud800":1,"type":"IAMUser"}"#,
            r#"{"type":"Root","sessionContext":{"x":1e400,"sessionIssuer":{"type":1e400}}}"#,
            r#"["type","Root"]"#,
            r#""Root""#,
            "{}",
        ] {
            let raw: &RawValue = serde_json::from_str(json).unwrap();
            let (mut one, by_level) = (UserIdentity::parse(raw), UserIdentity::parse_by_level(raw));
            // Only the one-pass parse keeps the members (for rule lookups; tested in record.rs).
            one.members = None;
            assert_eq!(format!("{one:?}"), format!("{by_level:?}"), "{json}");
        }
    }

    fn principal(json: &str) -> Principal {
        let raw: &RawValue = serde_json::from_str(json).unwrap();
        UserIdentity::parse(raw).principal()
    }

    #[test]
    fn assumed_role_keys_on_the_role_not_the_session() {
        let p = principal(
            r#"{"type": "AssumedRole", "principalId": "AROATFQR7NSCWWVLB7BES:aws-go-sdk-1688990082523310002", "arn": "arn:aws:sts::123837392027:assumed-role/stratus-red-team-ec2-get-password-data-role/aws-go-sdk-1688990082523310002", "accountId": "123837392027", "accessKeyId": "ASIATFQR7NSCWLLE7IWW", "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROATFQR7NSCWWVLB7BES", "arn": "arn:aws:iam::123837392027:role/stratus-red-team-ec2-get-password-data-role", "accountId": "123837392027", "userName": "stratus-red-team-ec2-get-password-data-role"}, "webIdFederationData": {}, "attributes": {"creationDate": "2023-07-10T11:54:47Z", "mfaAuthenticated": "false"}}}"#,
        );
        assert_eq!(p.kind, PrincipalType::Role);
        assert_eq!(p.id, "arn:aws:iam::123837392027:role/stratus-red-team-ec2-get-password-data-role");
        assert_eq!(p.name, "stratus-red-team-ec2-get-password-data-role");
        assert_eq!(p.session.as_deref(), Some("aws-go-sdk-1688990082523310002"));
        assert_eq!(p.account.as_deref(), Some("123837392027"));
        assert!(!p.service_linked);
        assert_eq!(p.cross_account_key().as_deref(), Some("role/stratus-red-team-ec2-get-password-data-role"));
    }

    #[test]
    fn role_path_comes_from_the_session_issuer() {
        let p = principal(
            r#"{"type":"AssumedRole","principalId":"AROAX:i-0abc","arn":"arn:aws-us-gov:sts::111122223333:assumed-role/AppRole/i-0abc","accountId":"111122223333","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAX","arn":"arn:aws-us-gov:iam::111122223333:role/apps/web/AppRole","accountId":"111122223333","userName":"AppRole"}}}"#,
        );
        assert_eq!(p.id, "arn:aws-us-gov:iam::111122223333:role/apps/web/AppRole");
        assert_eq!(p.partition, "aws-us-gov");
        assert_eq!(p.name, "AppRole");
        // Without the issuer, the role ARN is rebuilt from the assumed-role ARN (no path known).
        let p = principal(
            r#"{"type":"AssumedRole","arn":"arn:aws-cn:sts::111122223333:assumed-role/AppRole/sess","accountId":"111122223333"}"#,
        );
        assert_eq!(p.id, "arn:aws-cn:iam::111122223333:role/AppRole");
        assert_eq!(p.session.as_deref(), Some("sess"));
    }

    #[test]
    fn service_linked_role_is_marked() {
        let p = principal(
            r#"{"type": "AssumedRole", "principalId": "AROATFQR7NSC3K2SEQDM2:MandoService2842426183934887787", "arn": "arn:aws:sts::123837392027:assumed-role/AWSServiceRoleForAmazonInspector2/MandoService2842426183934887787", "accountId": "123837392027", "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROATFQR7NSC3K2SEQDM2", "arn": "arn:aws:iam::123837392027:role/aws-service-role/inspector2.amazonaws.com/AWSServiceRoleForAmazonInspector2", "accountId": "123837392027", "userName": "AWSServiceRoleForAmazonInspector2"}, "webIdFederationData": {}, "attributes": {"creationDate": "2023-07-10T11:55:24Z", "mfaAuthenticated": "false"}}, "invokedBy": "inspector2.amazonaws.com"}"#,
        );
        assert!(p.service_linked);
        assert_eq!(p.name, "AWSServiceRoleForAmazonInspector2");
    }

    #[test]
    fn iam_user_with_empty_session_issuer() {
        let raw = r#"{"type": "IAMUser", "principalId": "AIDATFQR7NSC5U6Q3TMDR", "arn": "arn:aws:iam::123837392027:user/benjamin", "accountId": "123837392027", "accessKeyId": "ASIATFQR7NSCTM3XVF6B", "userName": "benjamin", "sessionContext": {"sessionIssuer": {}, "webIdFederationData": {}, "attributes": {"creationDate": "2023-07-10T11:42:31Z", "mfaAuthenticated": "true"}}, "invokedBy": "AWS Internal"}"#;
        let p = principal(raw);
        assert_eq!(
            (p.kind, p.id.as_str(), p.name.as_str()),
            (PrincipalType::IamUser, "arn:aws:iam::123837392027:user/benjamin", "benjamin")
        );
        let u = UserIdentity::parse(serde_json::from_str(raw).unwrap());
        assert_eq!(u.mfa_authenticated, Some(true));
        // A failed console sign-in names the user but carries no ARN.
        let p = principal(r#"{"type":"IAMUser","principalId":"","accountId":"111122223333","accessKeyId":"","userName":"Backup_Admin"}"#);
        assert_eq!(p.id, "arn:aws:iam::111122223333:user/Backup_Admin");
    }

    #[test]
    fn root_and_federated_user() {
        let p = principal(
            r#"{"type": "Root", "principalId": "1111", "arn": "arn:aws:iam::123456789012:root", "accountId": "123456789012", "userName": "root"}"#,
        );
        assert_eq!((p.kind, p.id.as_str()), (PrincipalType::Root, "arn:aws:iam::123456789012:root"));
        let p = principal(
            r#"{"type": "FederatedUser", "principalId": "123456789012:federated-user", "arn": "arn:aws:sts::123456789012:federated-user/federated-user", "accountId": "123456789012", "accessKeyId": "ASIA123456789EXAMPLE"}"#,
        );
        assert_eq!((p.kind, p.name.as_str()), (PrincipalType::FederatedUser, "federated-user"));
        assert_eq!(p.id, "arn:aws:sts::123456789012:federated-user/federated-user");
    }

    #[test]
    fn services_with_and_without_type() {
        let p = principal(r#"{"type": "AWSService", "invokedBy": "inspector2.amazonaws.com"}"#);
        assert_eq!((p.kind, p.id.as_str()), (PrincipalType::AwsService, "inspector2.amazonaws.com"));
        let p = principal(r#"{"accountId": "123837392027", "invokedBy": "secretsmanager.amazonaws.com"}"#);
        assert_eq!((p.kind, p.id.as_str()), (PrincipalType::AwsService, "secretsmanager.amazonaws.com"));
    }

    #[test]
    fn other_account_identity_center_and_web_identity() {
        let p = principal(r#"{"type": "AWSAccount", "principalId": "AROAEXAMPLE:session-name", "accountId": "111111111111"}"#);
        assert_eq!((p.kind, p.id.as_str()), (PrincipalType::AwsAccount, "aws-account:111111111111/AROAEXAMPLE"));
        let p = principal(
            r#"{"type":"IdentityCenterUser","accountId":"123456789012","onBehalfOf":{"userId":"544894e8-80c1-707f-60e3-3ba6510dfac1","identityStoreArn":"arn:aws:identitystore::123456789012:identitystore/d-9067642ac7"},"credentialId":"EXAMPLE"}"#,
        );
        assert_eq!(p.kind, PrincipalType::IdentityCenterUser);
        assert_eq!(p.id, "identity-center:d-9067642ac7/544894e8-80c1-707f-60e3-3ba6510dfac1");
        let p = principal(
            r#"{"type":"WebIdentityUser","principalId":"accounts.google.com:app.apps.googleusercontent.com:user-1","userName":"user-1","identityProvider":"accounts.google.com"}"#,
        );
        assert_eq!((p.kind, p.id.as_str()), (PrincipalType::WebIdentityUser, "web-identity:accounts.google.com/user-1"));
        let p = principal(
            r#"{"type":"SAMLUser","principalId":"SAMLProvider:alice","userName":"alice","identityProvider":"arn:aws:iam::1:saml-provider/Okta"}"#,
        );
        assert_eq!((p.kind, p.id.as_str()), (PrincipalType::SamlUser, "saml:arn:aws:iam::1:saml-provider/Okta/alice"));
    }

    #[test]
    fn unknown_and_garbage() {
        assert_eq!(principal(r#"{"type":"Unknown","principalId":"x"}"#).kind, PrincipalType::Unknown);
        assert_eq!(principal(r#"{"type":5,"arn":null}"#).kind, PrincipalType::Unknown);
        assert_eq!(principal("{}").kind, PrincipalType::Unknown);
    }
}
