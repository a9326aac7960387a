//! Where in a record a trap can appear: the caller, request parameters (by event source), and
//! `resources[].ARN`. Paths are parsed once; only those for declared trap types are kept.

use super::names::{TrapType, split_arn, types_for_service};
use super::{Hit, TrapDetector};
use crate::event::Record;
use crate::event::lookup::{FieldPath, Segment, visit_raw};
use crate::event::value::{Pick, Value, children};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::ControlFlow;

use TrapType::*;

/// Request parameters that name a resource, by event source. Locations in alerts are these
/// paths without the `$.`.
const PARAMS: &[(&str, &str, TrapType)] = &[
    ("sts.amazonaws.com", "$.requestParameters.roleArn", IamRole),
    ("sts.amazonaws.com", "$.requestParameters.accessKeyId", AccessKey),
    ("iam.amazonaws.com", "$.requestParameters.userName", IamUser),
    ("iam.amazonaws.com", "$.requestParameters.roleName", IamRole),
    ("iam.amazonaws.com", "$.requestParameters.accessKeyId", AccessKey),
    ("dynamodb.amazonaws.com", "$.requestParameters.tableName", DynamodbTable),
    ("dynamodb.amazonaws.com", "$.requestParameters.tableArn", DynamodbTable),
    ("dynamodb.amazonaws.com", "$.requestParameters.resourceArn", DynamodbTable),
    ("s3.amazonaws.com", "$.requestParameters.bucketName", S3Bucket),
    ("cloudtrail.amazonaws.com", "$.requestParameters.s3BucketName", S3Bucket),
    ("secretsmanager.amazonaws.com", "$.requestParameters.secretId", Secret),
    ("secretsmanager.amazonaws.com", "$.requestParameters.name", Secret),
    ("secretsmanager.amazonaws.com", "$.requestParameters.secretIdList[*]", Secret),
    ("ssm.amazonaws.com", "$.requestParameters.name", SsmParameter),
    ("ssm.amazonaws.com", "$.requestParameters.names[*]", SsmParameter),
    ("ssm.amazonaws.com", "$.requestParameters.parameterFilters[*].values[*]", SsmParameter),
    // ListTagsForResource, AddTagsToResource: a parameter's name or a managed instance's ID.
    ("ssm.amazonaws.com", "$.requestParameters.resourceId", SsmParameter),
    ("ssm.amazonaws.com", "$.requestParameters.resourceId", Ec2Instance),
    ("ssm.amazonaws.com", "$.requestParameters.filters[*].values[*]", Ec2Instance),
    ("ssm.amazonaws.com", "$.requestParameters.instanceId", Ec2Instance),
    ("ssm.amazonaws.com", "$.requestParameters.instanceIds[*]", Ec2Instance),
    ("ssm.amazonaws.com", "$.requestParameters.target", Ec2Instance),
    ("kms.amazonaws.com", "$.requestParameters.keyId", KmsKey),
    ("kms.amazonaws.com", "$.requestParameters.targetKeyId", KmsKey),
    ("kms.amazonaws.com", "$.requestParameters.destinationKeyId", KmsKey),
    ("kms.amazonaws.com", "$.requestParameters.aliasName", KmsKey),
    ("ec2.amazonaws.com", "$.requestParameters.instanceId", Ec2Instance),
    ("ec2.amazonaws.com", "$.requestParameters.instancesSet.items[*].instanceId", Ec2Instance),
    ("ec2.amazonaws.com", "$.requestParameters.resourcesSet.items[*].resourceId", Ec2Instance),
    ("ec2.amazonaws.com", "$.requestParameters.filterSet.items[*].valueSet.items[*].value", Ec2Instance),
    ("ec2-instance-connect.amazonaws.com", "$.requestParameters.instanceId", Ec2Instance),
    ("lambda.amazonaws.com", "$.requestParameters.functionName", LambdaFunction),
    // Describe, Modify, Reboot, Delete, snapshots of it (CreateDBSnapshot, DescribeDBSnapshots),
    // log downloads; read replicas and point-in-time restores name it as their source.
    ("rds.amazonaws.com", "$.requestParameters.dBInstanceIdentifier", RdsInstance),
    ("rds.amazonaws.com", "$.requestParameters.sourceDBInstanceIdentifier", RdsInstance),
    ("rds.amazonaws.com", "$.requestParameters.dBClusterIdentifier", RdsCluster),
    ("rds.amazonaws.com", "$.requestParameters.sourceDBClusterIdentifier", RdsCluster),
    // Tags (an ARN), exports and integrations (`sourceArn`), Describe* filters
    // (`db-instance-id`, `db-cluster-id`: IDs or ARNs).
    ("rds.amazonaws.com", "$.requestParameters.resourceName", RdsInstance),
    ("rds.amazonaws.com", "$.requestParameters.resourceName", RdsCluster),
    ("rds.amazonaws.com", "$.requestParameters.sourceArn", RdsInstance),
    ("rds.amazonaws.com", "$.requestParameters.sourceArn", RdsCluster),
    ("rds.amazonaws.com", "$.requestParameters.filters[*].values[*]", RdsInstance),
    ("rds.amazonaws.com", "$.requestParameters.filters[*].values[*]", RdsCluster),
    // The Data API's SQL statements name the cluster by ARN.
    ("rdsdataapi.amazonaws.com", "$.requestParameters.resourceArn", RdsCluster),
];

const S3: &str = "s3.amazonaws.com";

struct ParamLookup {
    /// The top-level parameter the path starts at, and the rest of the path below it.
    first: String,
    rest: Vec<Segment>,
    location: &'static str,
    ty: TrapType,
}

/// The parsed paths a detector needs, each below the record member it starts from (the record
/// keeps `requestParameters`, `resources` and `responseElements` raw, so walks start there).
#[derive(Default)]
pub(super) struct Paths {
    /// Looked up for every event: foldhash, where the default SipHash cost more than the rest of
    /// the lookup.
    by_source: HashMap<&'static str, Vec<ParamLookup>, foldhash::fast::FixedState>,
    resources_arn: Option<Vec<Segment>>,
    /// Top-level request parameters are compared with `resource` traps (exact ARNs).
    any_param: bool,
    /// `bucketName`, `key` and `x-amz-copy-source` of S3 calls are read.
    s3: bool,
    /// `path` of SSM calls is read.
    ssm_path: bool,
    console_result: Vec<Segment>,
}

impl std::fmt::Debug for Paths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paths").field("sources", &self.by_source.keys().collect::<Vec<_>>()).finish_non_exhaustive()
    }
}

/// `p` without its first segment (the member it starts from). The paths are constants of this
/// file; the unit tests check they parse.
fn path(p: &str) -> Vec<Segment> {
    FieldPath::parse(p).map(|f| f.segments.into_iter().skip(1).collect()).unwrap_or_default()
}

impl Paths {
    pub(super) fn new(has: &[bool]) -> Paths {
        let has = |t: TrapType| has[t.index()];
        let mut by_source: HashMap<&'static str, Vec<ParamLookup>, foldhash::fast::FixedState> = HashMap::default();
        for &(source, p, ty) in PARAMS {
            let mut segs = path(p).into_iter();
            if has(ty)
                && let Some(Segment::Key(first)) = segs.next()
            {
                by_source.entry(source).or_default().push(ParamLookup { first, rest: segs.collect(), location: &p[2..], ty });
            }
        }
        let s3 = has(S3Bucket) || has(S3Object);
        // Every type but access keys can appear as an ARN in `resources[]`.
        let in_resources = TrapType::ALL.iter().any(|&t| t != AccessKey && has(t));
        Paths {
            by_source,
            resources_arn: in_resources.then(|| path("$.resources[*].ARN")),
            any_param: has(Resource),
            s3,
            ssm_path: has(SsmParameter),
            console_result: path("$.responseElements.ConsoleLogin"),
        }
    }

    /// The sources whose request parameters are read for some trap types (with `resource`
    /// traps, every source is, and those not listed here are screened for every key).
    pub(super) fn sources(&self) -> impl Iterator<Item = &'static str> {
        self.by_source.keys().copied().chain(self.s3.then_some(S3))
    }

    /// Whether request parameters of `source` are read for traps of type `ty`.
    pub(super) fn reads(&self, source: &str, ty: TrapType) -> bool {
        self.by_source.get(source).is_some_and(|ls| ls.iter().any(|l| l.ty == ty))
            || (self.s3 && source == S3 && matches!(ty, S3Bucket | S3Object))
            || (self.ssm_path && source == "ssm.amazonaws.com" && ty == SsmParameter)
            || (self.any_param && ty == Resource)
    }

    /// Whether request parameters of `source` can name a declared trap.
    fn reads_params(&self, source: &str) -> bool {
        self.any_param
            || (self.s3 && source == S3)
            || (self.ssm_path && source == "ssm.amazonaws.com")
            || self.by_source.contains_key(source)
    }

    /// A `ConsoleLogin` whose response says `Failure` (no `errorCode` on those).
    pub(super) fn console_login_failed(&self, rec: &Record<'_>) -> bool {
        rec.event_name.as_deref() == Some("ConsoleLogin")
            && rec.response_elements.and_then(|r| first_str(r, &self.console_result)).is_some_and(|v| v == "Failure")
    }
}

/// The first string at `path` below `raw`.
fn first_str<'r>(raw: &'r RawValue, path: &[Segment]) -> Option<Cow<'r, str>> {
    let mut found = None;
    let _ = visit_raw(raw, path, &mut |v| {
        if let Value::String(s) = v {
            found = Some(s);
        }
        ControlFlow::Break(())
    });
    found
}

impl TrapDetector {
    /// Every place `rec` touches a trap; true when it names a host no subnet or VPC trap knows.
    pub(super) fn locate(&self, rec: &Record<'_>, hits: &mut Vec<Hit>) -> bool {
        let account = rec.account();
        self.locate_caller(rec, hits);
        let source = rec.event_source.as_deref().unwrap_or("");
        // A `GetParametersByPath` path names no parameter, only a folder above it.
        let ssm_path = self.paths.ssm_path && source == "ssm.amazonaws.com";
        // The screen costs a scan of the text: not worth it for sources whose parameters are
        // never read.
        if let Some(rp) = rec.request_parameters
            && self.paths.reads_params(source)
            && (ssm_path || self.source_filters.get(source).unwrap_or(&self.params_filter).may_match(rp.get()))
        {
            self.locate_params(rp, source, rec.event_name.as_deref().unwrap_or(""), account, hits);
        }
        if let (Some(res), Some(p)) = (rec.resources, &self.paths.resources_arn)
            && self.resources_filter.may_match(res.get())
        {
            let _ = visit_raw(res, p, &mut |v| {
                if let Some(arn) = v.as_str() {
                    self.locate_arn(arn, account, hits);
                }
                ControlFlow::Continue(())
            });
        }
        self.network && self.locate_network(rec, hits)
    }

    /// The caller: access key, IAM user (also the name typed into a console sign-in), the role
    /// behind a session, and an instance whose role credentials are in use (session name `i-…`).
    fn locate_caller(&self, rec: &Record<'_>, hits: &mut Vec<Hit>) {
        let u = &rec.user_identity;
        let account = u.account_id.as_deref().filter(|a| !a.is_empty()).or(rec.account());
        if let Some(k) = u.access_key_id.as_deref() {
            self.find(AccessKey, k, "userIdentity.accessKeyId", account, hits);
        }
        let kind = u.kind.as_deref().unwrap_or("");
        let console = rec.event_name.as_deref() == Some("ConsoleLogin");
        if self.has[IamUser.index()] && (kind == "IAMUser" || (console && !matches!(kind, "Root" | "AssumedRole"))) {
            match (u.user_name.as_deref().filter(|n| !n.is_empty()), u.arn.as_deref()) {
                (Some(name), _) => self.find(IamUser, name, "userIdentity.userName", account, hits),
                (None, Some(arn)) => self.find(IamUser, arn, "userIdentity.arn", account, hits),
                _ => {}
            }
        }
        if self.has[IamUser.index()] && u.issuer_type.as_deref() == Some("IAMUser") {
            // A federated user (GetFederationToken) acting on the user's behalf.
            if let Some(v) = u.issuer_arn.as_deref().or(u.issuer_user_name.as_deref()) {
                self.find(IamUser, v, "userIdentity.sessionContext.sessionIssuer", account, hits);
            }
        }
        if kind == "AssumedRole" || u.issuer_type.as_deref() == Some("Role") {
            if self.has[IamRole.index()] {
                match (u.issuer_arn.as_deref(), u.issuer_user_name.as_deref(), u.arn.as_deref()) {
                    (Some(a), _, _) => self.find(IamRole, a, "userIdentity.sessionContext.sessionIssuer", account, hits),
                    (None, Some(n), _) => self.find(IamRole, n, "userIdentity.sessionContext.sessionIssuer", account, hits),
                    (None, None, Some(a)) => self.find(IamRole, a, "userIdentity.arn", account, hits),
                    _ => {}
                }
            }
            if self.has[Ec2Instance.index()]
                && let Some(session) = u.arn.as_deref().and_then(|a| a.rsplit_once('/')).map(|(_, s)| s)
                && session.starts_with("i-")
            {
                self.find(Ec2Instance, session, "userIdentity.arn (role session name)", account, hits);
            }
        }
    }

    /// Request parameters, in one pass over the top-level members: the lookups of the event's
    /// source, S3 objects and copy sources, SSM paths, and ARNs for `resource` traps.
    fn locate_params(&self, rp: &RawValue, source: &str, event: &str, account: Option<&str>, hits: &mut Vec<Hit>) {
        let lookups = self.paths.by_source.get(source).map_or(&[][..], Vec::as_slice);
        let s3 = self.paths.s3 && source == S3;
        let ssm_path = self.paths.ssm_path && source == "ssm.amazonaws.com";
        let (mut bucket, mut key, mut copy) = (None, None, None);
        for (name, raw) in children(rp, Pick::All) {
            let Some(name) = name else { continue };
            for l in lookups.iter().filter(|l| l.first == name) {
                let _ = visit_raw(raw, &l.rest, &mut |v| {
                    if let Some(s) = v.as_str() {
                        self.find(l.ty, s, l.location, account, hits);
                    }
                    ControlFlow::Continue(())
                });
            }
            let text = || match Value::from_raw(raw) {
                Value::String(s) => Some(s),
                _ => None,
            };
            match &*name {
                "bucketName" if s3 => bucket = text(),
                "key" if s3 => key = text(),
                "x-amz-copy-source" if s3 => copy = text(),
                "path" if ssm_path => {
                    if let Some(p) = text() {
                        self.locate_ssm_path(&p, account, hits);
                    }
                }
                _ => {}
            }
            if self.paths.any_param
                && let Some(s) = text().filter(|s| s.starts_with("arn:"))
            {
                self.find_key(Resource, &s, account, "requestParameters.*", &s, hits);
            }
        }
        if let Some(key) = key {
            self.find_object(bucket.as_deref(), &key, account, "requestParameters.bucketName+key", hits);
        }
        if let Some(src) = copy.filter(|_| matches!(event, "CopyObject" | "UploadPartCopy")) {
            // `bucket/key` or `/bucket/key`, maybe `?versionId=…`; keys are URL-encoded here, so
            // only keys without reserved characters compare equal.
            let src = src.trim_start_matches('/');
            let src = src.split_once("?versionId=").map_or(src, |(s, _)| s);
            let (bucket, key) = src.split_once('/').unwrap_or((src, ""));
            self.find(S3Bucket, bucket, "requestParameters.x-amz-copy-source", account, hits);
            self.find_object(Some(bucket), key, account, "requestParameters.x-amz-copy-source", hits);
        }
    }

    /// `GetParametersByPath`: a path above a canary parameter reveals it.
    fn locate_ssm_path(&self, path: &str, account: Option<&str>, hits: &mut Vec<Hit>) {
        let p = path.trim_matches('/');
        for (key, traps) in &self.by_name[SsmParameter.index()].map {
            let under = p.is_empty() || key.strip_prefix(p).is_some_and(|rest| rest.starts_with('/'));
            if under {
                for &t in traps {
                    if self.in_scope(t, account) {
                        super::add_hit(hits, t, "requestParameters.path", p);
                    }
                }
            }
        }
    }

    /// One ARN from `resources[]`.
    fn locate_arn(&self, arn: &str, account: Option<&str>, hits: &mut Vec<Hit>) {
        const LOC: &str = "resources[].ARN";
        let Some(parts) = split_arn(arn) else { return };
        for &ty in types_for_service(parts.service) {
            self.find(ty, arn, LOC, account, hits);
        }
        if parts.service == "s3"
            && let Some((bucket, key)) = parts.resource.split_once('/')
        {
            self.find_object(Some(bucket), key, account, LOC, hits);
        }
        if self.has[Resource.index()] {
            self.find_key(Resource, arn, account, LOC, arn, hits);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_parses() {
        for &(_, p, _) in PARAMS {
            assert!(FieldPath::parse(p).is_ok(), "{p}");
            assert!(p.starts_with("$.requestParameters."), "{p}");
        }
        assert!(FieldPath::parse("$.requestParameters['x-amz-copy-source']").is_ok());
    }
}
