//! Trap types and how each one is named: the key a configured trap and an observed value (a
//! name, an ID, a full or partial ARN) both reduce to, so that `DevOps_role`,
//! `arn:aws:iam::1:role/ops/DevOps_role` and `arn:aws:sts::1:assumed-role/DevOps_role/s` meet.
//! Everything borrows from its input: matching allocates nothing.

/// What a trap is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrapType {
    IamUser,
    IamRole,
    AccessKey,
    DynamodbTable,
    S3Bucket,
    S3Object,
    Secret,
    SsmParameter,
    KmsKey,
    Ec2Instance,
    LambdaFunction,
    /// An RDS DB instance (`db:NAME`) or Aurora/Multi-AZ cluster (`cluster:NAME`).
    RdsInstance,
    RdsCluster,
    /// Hosts in a subnet or VPC: the subnet or VPC itself, and the instances, network
    /// interfaces and volumes in it (declared, or learned from their creation).
    Subnet,
    Vpc,
    Resource,
}

impl TrapType {
    pub const ALL: [TrapType; 16] = [
        TrapType::IamUser,
        TrapType::IamRole,
        TrapType::AccessKey,
        TrapType::DynamodbTable,
        TrapType::S3Bucket,
        TrapType::S3Object,
        TrapType::Secret,
        TrapType::SsmParameter,
        TrapType::KmsKey,
        TrapType::Ec2Instance,
        TrapType::LambdaFunction,
        TrapType::RdsInstance,
        TrapType::RdsCluster,
        TrapType::Subnet,
        TrapType::Vpc,
        TrapType::Resource,
    ];

    /// The config section (`[[traps.<name>]]`) and the default alert kind.
    pub fn as_str(self) -> &'static str {
        match self {
            TrapType::IamUser => "iam_user",
            TrapType::IamRole => "iam_role",
            TrapType::AccessKey => "access_key",
            TrapType::DynamodbTable => "dynamodb_table",
            TrapType::S3Bucket => "s3_bucket",
            TrapType::S3Object => "s3_object",
            TrapType::Secret => "secret",
            TrapType::SsmParameter => "ssm_parameter",
            TrapType::KmsKey => "kms_key",
            TrapType::Ec2Instance => "ec2_instance",
            TrapType::LambdaFunction => "lambda_function",
            TrapType::RdsInstance => "rds_instance",
            TrapType::RdsCluster => "rds_cluster",
            TrapType::Subnet => "subnet",
            TrapType::Vpc => "vpc",
            TrapType::Resource => "resource",
        }
    }

    pub fn from_section(s: &str) -> Option<TrapType> {
        TrapType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// IAM names are unique regardless of case (`Backup_Admin` and `backup_admin` cannot both
    /// exist in one account), so an attempt with other casing still names the canary. RDS
    /// identifiers are case-insensitive too (RDS stores them in lower case, and
    /// `--db-instance-identifier CustomerDB` finds `customerdb`).
    pub fn case_insensitive(self) -> bool {
        matches!(self, TrapType::IamUser | TrapType::IamRole | TrapType::RdsInstance | TrapType::RdsCluster)
    }

    /// What a correct ARN of this type looks like, for config errors.
    pub fn arn_form(self) -> &'static str {
        match self {
            TrapType::IamUser => "arn:aws:iam::ACCOUNT:user/NAME",
            TrapType::IamRole => "arn:aws:iam::ACCOUNT:role/NAME",
            TrapType::AccessKey => "(access keys have no ARN: use `id`)",
            TrapType::DynamodbTable => "arn:aws:dynamodb:REGION:ACCOUNT:table/NAME",
            TrapType::S3Bucket => "arn:aws:s3:::BUCKET",
            TrapType::S3Object => "(use `bucket` and `key` or `key_prefix`)",
            TrapType::Secret => "arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME",
            TrapType::SsmParameter => "arn:aws:ssm:REGION:ACCOUNT:parameter/NAME",
            TrapType::KmsKey => "arn:aws:kms:REGION:ACCOUNT:key/ID or …:alias/NAME",
            TrapType::Ec2Instance => "arn:aws:ec2:REGION:ACCOUNT:instance/ID",
            TrapType::LambdaFunction => "arn:aws:lambda:REGION:ACCOUNT:function:NAME",
            TrapType::RdsInstance => "arn:aws:rds:REGION:ACCOUNT:db:NAME",
            TrapType::RdsCluster => "arn:aws:rds:REGION:ACCOUNT:cluster:NAME",
            TrapType::Subnet => "subnet-ID or arn:aws:ec2:REGION:ACCOUNT:subnet/subnet-ID",
            TrapType::Vpc => "vpc-ID or arn:aws:ec2:REGION:ACCOUNT:vpc/vpc-ID",
            TrapType::Resource => "any ARN",
        }
    }
}

/// The parts of `arn:partition:service:region:account:resource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

pub fn split_arn(s: &str) -> Option<Arn<'_>> {
    let rest = s.strip_prefix("arn:")?;
    // Every caller's role ARN of every event comes here: a byte loop over the few dozen bytes
    // before the resource costs less than `splitn`'s searcher.
    let mut colons = [0; 4];
    let mut found = 0;
    for (i, &b) in rest.as_bytes().iter().enumerate() {
        if b == b':' {
            colons[found] = i;
            found += 1;
            if found == colons.len() {
                break;
            }
        }
    }
    let [p, s, r, a] = colons;
    if found < colons.len() {
        return None;
    }
    let (service, region, account, resource) = (&rest[p + 1..s], &rest[s + 1..r], &rest[r + 1..a], &rest[a + 1..]);
    (!service.is_empty() && !resource.is_empty()).then_some(Arn { service, region, account, resource })
}

/// A value reduced to what traps of one type are keyed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ident<'a> {
    /// The account the value itself names (an ARN's), when it names one.
    pub account: Option<&'a str>,
    pub name: &'a str,
}

/// Reduces `value` (a name, an ID or an ARN) to the key of trap type `ty`; `None` when it
/// cannot name a trap of that type (an ARN of another service, an empty string).
pub fn ident(ty: TrapType, value: &str) -> Option<Ident<'_>> {
    let b = value.as_bytes();
    // Trimming only when needed: this runs for every candidate value of every event.
    let value =
        if b.first().is_some_and(u8::is_ascii_whitespace) || b.last().is_some_and(u8::is_ascii_whitespace) { value.trim() } else { value };
    if value.is_empty() {
        return None;
    }
    if ty == TrapType::Resource {
        return split_arn(value).map(|_| Ident { account: None, name: value });
    }
    if ty == TrapType::LambdaFunction {
        return lambda_ident(value);
    }
    let Some(arn) = split_arn(value) else {
        if value.starts_with("arn:") {
            return None;
        }
        let name = if ty == TrapType::SsmParameter { value.trim_start_matches('/') } else { value };
        return (!name.is_empty()).then_some(Ident { account: None, name });
    };
    let account = Some(arn.account).filter(|a| !a.is_empty());
    let r = arn.resource;
    let name = match (ty, arn.service) {
        (TrapType::IamUser, "iam") => last_segment(r.strip_prefix("user/")?),
        (TrapType::IamRole, "iam") => last_segment(r.strip_prefix("role/")?),
        (TrapType::IamRole, "sts") => r.strip_prefix("assumed-role/")?.split('/').next()?,
        (TrapType::DynamodbTable, "dynamodb") => r.strip_prefix("table/")?.split('/').next()?,
        (TrapType::S3Bucket, "s3") => r.split('/').next()?,
        (TrapType::Secret, "secretsmanager") => r.strip_prefix("secret:")?,
        (TrapType::SsmParameter, "ssm") => r.strip_prefix("parameter")?.trim_start_matches('/'),
        (TrapType::KmsKey, "kms") => {
            if r.starts_with("alias/") {
                r
            } else {
                r.strip_prefix("key/")?
            }
        }
        (TrapType::Ec2Instance, "ec2") => r.strip_prefix("instance/")?,
        (TrapType::RdsInstance, "rds") => r.strip_prefix("db:")?,
        (TrapType::RdsCluster, "rds") => r.strip_prefix("cluster:")?,
        (TrapType::Subnet, "ec2") => r.strip_prefix("subnet/")?,
        (TrapType::Vpc, "ec2") => r.strip_prefix("vpc/")?,
        _ => return None,
    };
    (!name.is_empty()).then_some(Ident { account, name })
}

/// `NAME`, `NAME:QUALIFIER`, `ACCOUNT:function:NAME[:Q]` or the full ARN.
fn lambda_ident(value: &str) -> Option<Ident<'_>> {
    let (account, rest) = if let Some(arn) = split_arn(value) {
        if arn.service != "lambda" {
            return None;
        }
        (Some(arn.account).filter(|a| !a.is_empty()), arn.resource.strip_prefix("function:")?)
    } else if value.starts_with("arn:") {
        return None;
    } else if let Some((acct, rest)) = value.split_once(":function:") {
        (Some(acct).filter(|a| !a.is_empty()), rest)
    } else {
        (None, value)
    };
    let name = rest.split(':').next()?;
    (!name.is_empty()).then_some(Ident { account, name })
}

fn last_segment(path: &str) -> &str {
    memchr::memrchr(b'/', path.as_bytes()).map_or(path, |i| &path[i + 1..])
}

/// A Secrets Manager ARN ends its name with `-` and six random characters; a value may carry
/// them (complete ARN) or not (partial ARN, plain name).
pub fn secret_without_suffix(name: &str) -> Option<&str> {
    let (base, suffix) = name.rsplit_once('-')?;
    (suffix.len() == 6 && suffix.bytes().all(|b| b.is_ascii_alphanumeric()) && !base.is_empty()).then_some(base)
}

/// The trap types an ARN of `service` can name (besides `Resource`, which any ARN can).
pub fn types_for_service(service: &str) -> &'static [TrapType] {
    match service {
        "iam" => &[TrapType::IamUser, TrapType::IamRole],
        "sts" => &[TrapType::IamRole],
        "dynamodb" => &[TrapType::DynamodbTable],
        "s3" => &[TrapType::S3Bucket],
        "secretsmanager" => &[TrapType::Secret],
        "ssm" => &[TrapType::SsmParameter],
        "kms" => &[TrapType::KmsKey],
        // Subnet and VPC traps read ARNs in their own walk (`network.rs`), members included.
        "ec2" => &[TrapType::Ec2Instance],
        "rds" => &[TrapType::RdsInstance, TrapType::RdsCluster],
        "lambda" => &[TrapType::LambdaFunction],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ty: TrapType, v: &str) -> Option<(Option<&str>, &str)> {
        ident(ty, v).map(|i| (i.account, i.name))
    }

    #[test]
    fn names_and_arns_meet() {
        use TrapType::*;
        assert_eq!(id(IamRole, "DevOps_role"), Some((None, "DevOps_role")));
        assert_eq!(id(IamRole, "arn:aws:iam::111122223333:role/ops/DevOps_role"), Some((Some("111122223333"), "DevOps_role")));
        assert_eq!(id(IamRole, "arn:aws:sts::111122223333:assumed-role/DevOps_role/sess"), Some((Some("111122223333"), "DevOps_role")));
        assert_eq!(id(IamRole, "arn:aws:iam::111122223333:user/DevOps_role"), None);
        assert_eq!(id(IamUser, "arn:aws-us-gov:iam::111122223333:user/a/Backup_Admin"), Some((Some("111122223333"), "Backup_Admin")));
        assert_eq!(
            id(DynamodbTable, "arn:aws:dynamodb:us-east-1:1:table/CustomerAccounts/stream/2024"),
            Some((Some("1"), "CustomerAccounts"))
        );
        assert_eq!(id(S3Bucket, "arn:aws:s3:::b/k/x"), Some((None, "b")));
        assert_eq!(id(Secret, "arn:aws:secretsmanager:us-east-1:1:secret:prod/db-AbC123"), Some((Some("1"), "prod/db-AbC123")));
        assert_eq!(secret_without_suffix("prod/db-AbC123"), Some("prod/db"));
        assert_eq!(secret_without_suffix("prod/db"), None);
        assert_eq!(id(SsmParameter, "/prod/db/password"), Some((None, "prod/db/password")));
        assert_eq!(id(SsmParameter, "arn:aws:ssm:eu-west-1:1:parameter/prod/db/password"), Some((Some("1"), "prod/db/password")));
        assert_eq!(id(KmsKey, "arn:aws:kms:eu-west-1:1:key/1234abcd"), Some((Some("1"), "1234abcd")));
        assert_eq!(id(KmsKey, "arn:aws:kms:eu-west-1:1:alias/canary"), Some((Some("1"), "alias/canary")));
        assert_eq!(id(KmsKey, "alias/canary"), Some((None, "alias/canary")));
        assert_eq!(id(Ec2Instance, "arn:aws:ec2:eu-west-1:1:instance/i-0abc"), Some((Some("1"), "i-0abc")));
        assert_eq!(id(LambdaFunction, "f:prod"), Some((None, "f")));
        assert_eq!(id(LambdaFunction, "123456789012:function:f"), Some((Some("123456789012"), "f")));
        assert_eq!(id(LambdaFunction, "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST"), Some((Some("123456789012"), "f")));
        assert_eq!(id(LambdaFunction, "arn:aws:s3:::f"), None);
        assert_eq!(id(RdsInstance, "arn:aws:rds:us-east-1:1:db:customers-prod"), Some((Some("1"), "customers-prod")));
        assert_eq!(id(RdsCluster, "arn:aws:rds:us-east-1:1:cluster:billing"), Some((Some("1"), "billing")));
        assert_eq!(id(RdsCluster, "arn:aws:rds:us-east-1:1:db:billing"), None, "an instance ARN names no cluster");
        assert_eq!(id(Subnet, "arn:aws:ec2:us-east-1:1:subnet/subnet-0abc"), Some((Some("1"), "subnet-0abc")));
        assert_eq!(id(Vpc, "vpc-0abc"), Some((None, "vpc-0abc")));
        assert_eq!(id(Resource, "arn:aws:sns:us-east-1:1:topic"), Some((None, "arn:aws:sns:us-east-1:1:topic")));
        assert_eq!(id(Resource, "topic"), None);
        assert_eq!(id(AccessKey, " "), None);
        assert_eq!(id(AccessKey, "arn:aws:iam::1:user/x"), None);
    }
}
