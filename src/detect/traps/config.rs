//! `[traps]`: canaries and honeypots. Each `[[traps.<type>]]` table declares one trap; any event
//! that touches it raises an alert (see `detect::traps` and docs/traps.md).

use crate::alert::Severity;
use serde::Deserialize;

/// `[traps]`. Every list is optional; an empty section declares no trap.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrapsConfig {
    /// Off turns every trap off without deleting them.
    pub enabled: bool,
    /// Severity of traps that do not set their own.
    pub severity: Severity,
    /// Touches of one trap by one principal within one window of this many minutes (aligned to
    /// the epoch, in event time) are one alert; 0 alerts per touch.
    pub group_minutes: u32,
    pub iam_user: Vec<NamedTrap>,
    pub iam_role: Vec<NamedTrap>,
    pub access_key: Vec<NamedTrap>,
    pub dynamodb_table: Vec<NamedTrap>,
    pub s3_bucket: Vec<NamedTrap>,
    pub s3_object: Vec<S3ObjectTrap>,
    pub secret: Vec<NamedTrap>,
    pub ssm_parameter: Vec<NamedTrap>,
    pub kms_key: Vec<NamedTrap>,
    pub ec2_instance: Vec<NamedTrap>,
    pub lambda_function: Vec<NamedTrap>,
    pub rds_instance: Vec<NamedTrap>,
    pub rds_cluster: Vec<NamedTrap>,
    /// Honeypot hosts: everything in a subnet or a VPC.
    pub subnet: Vec<NetworkTrap>,
    pub vpc: Vec<NetworkTrap>,
    /// Any other resource, by exact ARN.
    pub resource: Vec<NamedTrap>,
}

impl Default for TrapsConfig {
    fn default() -> Self {
        TrapsConfig {
            enabled: true,
            severity: Severity::High,
            group_minutes: 60,
            iam_user: Vec::new(),
            iam_role: Vec::new(),
            access_key: Vec::new(),
            dynamodb_table: Vec::new(),
            s3_bucket: Vec::new(),
            s3_object: Vec::new(),
            secret: Vec::new(),
            ssm_parameter: Vec::new(),
            kms_key: Vec::new(),
            ec2_instance: Vec::new(),
            lambda_function: Vec::new(),
            rds_instance: Vec::new(),
            rds_cluster: Vec::new(),
            subnet: Vec::new(),
            vpc: Vec::new(),
            resource: Vec::new(),
        }
    }
}

impl TrapsConfig {
    /// How many traps are declared.
    pub fn len(&self) -> usize {
        self.s3_object.len() + self.subnet.len() + self.vpc.len() + self.named().map(|(_, v)| v.len()).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name-or-ARN lists with their section names, in declaration order of the struct.
    pub fn named(&self) -> impl Iterator<Item = (&'static str, &[NamedTrap])> {
        [
            ("iam_user", &self.iam_user),
            ("iam_role", &self.iam_role),
            ("access_key", &self.access_key),
            ("dynamodb_table", &self.dynamodb_table),
            ("s3_bucket", &self.s3_bucket),
            ("secret", &self.secret),
            ("ssm_parameter", &self.ssm_parameter),
            ("kms_key", &self.kms_key),
            ("ec2_instance", &self.ec2_instance),
            ("lambda_function", &self.lambda_function),
            ("rds_instance", &self.rds_instance),
            ("rds_cluster", &self.rds_cluster),
            ("resource", &self.resource),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.as_slice()))
    }
}

/// A trap named by `name` (or `id`: access key IDs, instance IDs, KMS key IDs read better so)
/// or by `arn`: exactly one of the two.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawNamedTrap")]
pub struct NamedTrap {
    pub target: TrapTarget,
    /// Only events in this account (12 digits). An ARN's own account scopes it already.
    pub account: Option<String>,
    /// Free text carried into the alert, for the responder.
    pub label: Option<String>,
    /// Overrides `[traps] severity`.
    pub severity: Option<Severity>,
    /// The key the trap was written under (`name`, `id` or `arn`), for errors to point at.
    pub key: String,
}

/// How a trap was named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrapTarget {
    Name(String),
    Arn(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNamedTrap {
    name: Option<String>,
    id: Option<String>,
    arn: Option<String>,
    account: Option<String>,
    label: Option<String>,
    severity: Option<Severity>,
}

impl TryFrom<RawNamedTrap> for NamedTrap {
    type Error = String;
    fn try_from(r: RawNamedTrap) -> Result<Self, String> {
        let (name, key) = match (r.name, r.id) {
            (Some(_), Some(_)) => return Err("give `name` or `id` (the same key), not both".into()),
            (Some(n), None) => (Some(n), "name"),
            (None, id) => (id, "id"),
        };
        let (target, key) = match (name, r.arn) {
            (Some(n), None) if !n.trim().is_empty() => (TrapTarget::Name(n.trim().to_string()), key),
            (None, Some(a)) => {
                let a = a.trim().to_string();
                check_arn(&a)?;
                (TrapTarget::Arn(a), "arn")
            }
            (Some(_), Some(_)) => return Err("give `name` (or `id`) or `arn`, not both".into()),
            _ => return Err("a trap needs a non-empty `name` (or `id`) or `arn`".into()),
        };
        check_account(r.account.as_deref())?;
        Ok(NamedTrap { target, account: r.account, label: r.label, severity: r.severity, key: key.into() })
    }
}

/// `[[traps.subnet]]`, `[[traps.vpc]]`: the subnet or VPC (`id` or `arn`), and the instances,
/// network interfaces and volumes known to be in it. More members are learned as they are
/// created there (docs/traps.md#honeypot-hosts).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawNetworkTrap")]
pub struct NetworkTrap {
    pub trap: NamedTrap,
    /// Instance (`i-`), network interface (`eni-`) and volume (`vol-`) IDs.
    pub members: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetworkTrap {
    name: Option<String>,
    id: Option<String>,
    arn: Option<String>,
    account: Option<String>,
    label: Option<String>,
    severity: Option<Severity>,
    #[serde(default)]
    instances: Vec<String>,
    #[serde(default)]
    network_interfaces: Vec<String>,
    #[serde(default)]
    volumes: Vec<String>,
}

impl TryFrom<RawNetworkTrap> for NetworkTrap {
    type Error = String;
    fn try_from(r: RawNetworkTrap) -> Result<Self, String> {
        let mut members = Vec::new();
        for (list, prefix, what) in
            [(r.instances, "i-", "instances"), (r.network_interfaces, "eni-", "network_interfaces"), (r.volumes, "vol-", "volumes")]
        {
            for m in list {
                let m = m.trim().to_string();
                if !m.starts_with(prefix) || m.len() == prefix.len() {
                    return Err(format!("{what}: {m:?} is not an ID of the form {prefix}…"));
                }
                members.push(m);
            }
        }
        let raw = RawNamedTrap { name: r.name, id: r.id, arn: r.arn, account: r.account, label: r.label, severity: r.severity };
        Ok(NetworkTrap { trap: NamedTrap::try_from(raw)?, members })
    }
}

/// `[[traps.s3_object]]`: an object key, or every key under a prefix, in one bucket or any.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawS3ObjectTrap")]
pub struct S3ObjectTrap {
    /// `None`: the key in any bucket.
    pub bucket: Option<String>,
    pub key: S3Key,
    pub account: Option<String>,
    pub label: Option<String>,
    pub severity: Option<Severity>,
}

/// An exact key or a key prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum S3Key {
    Exact(String),
    Prefix(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawS3ObjectTrap {
    bucket: Option<String>,
    key: Option<String>,
    key_prefix: Option<String>,
    account: Option<String>,
    label: Option<String>,
    severity: Option<Severity>,
}

impl TryFrom<RawS3ObjectTrap> for S3ObjectTrap {
    type Error = String;
    fn try_from(r: RawS3ObjectTrap) -> Result<Self, String> {
        let key = match (r.key, r.key_prefix) {
            (Some(k), None) if !k.is_empty() => S3Key::Exact(k),
            (None, Some(p)) if !p.is_empty() => S3Key::Prefix(p),
            (Some(_), Some(_)) => return Err("give `key` or `key_prefix`, not both".into()),
            _ => return Err("an s3_object trap needs a non-empty `key` or `key_prefix`".into()),
        };
        if let Some(b) = &r.bucket
            && (b.is_empty() || b.contains('/'))
        {
            return Err(format!("bucket {b:?} is not a bucket name (no `s3://`, no `/`)"));
        }
        check_account(r.account.as_deref())?;
        Ok(S3ObjectTrap { bucket: r.bucket, key, account: r.account, label: r.label, severity: r.severity })
    }
}

fn check_account(account: Option<&str>) -> Result<(), String> {
    match account {
        Some(a) if a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()) => Err(format!("account {a:?} is not a 12-digit account ID")),
        _ => Ok(()),
    }
}

/// `arn:partition:service:region:account:resource`, with a service and a resource.
fn check_arn(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[1].is_empty() || parts[2].is_empty() || parts[5].is_empty() {
        return Err(format!("{arn:?} is not an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)"));
    }
    Ok(())
}
