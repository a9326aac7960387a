//! How much a new behaviour deserves an analyst's first look. A grouped alert can hold dozens of
//! new behaviours (a deploy, or an intruder's first hour: Invictus's 39); sorted alphabetically,
//! `ec2:CreateSecurityGroup` led and the IAM and secrets calls sat at positions 10 to 39. Members
//! are ordered by this score instead, the alert is titled after the riskiest, and its severity
//! follows.
//!
//! The score is a sum of named factors (each kept in the evidence, so the order explains itself):
//! what the action is (a write to identity, keys, secrets or parameters; a change to logging,
//! sharing or the organisation; reading a secret; any other write; a read of a sensitive
//! service), then what else makes it odd (it failed, it is in a new region, it touches a
//! resource the principal never touched).

use crate::alert::Severity;

/// Services whose writes change who can do what, or hold credentials and keys.
const IDENTITY_AND_SECRETS: &[&str] = &["iam", "sts", "kms", "secretsmanager", "ssm", "sso", "identitystore", "cognito-idp"];
/// Services whose writes blind the defenders.
const LOGGING: &[&str] = &["cloudtrail", "logs", "config", "guardduty", "securityhub", "detective", "access-analyzer", "inspector2"];
/// Services whose writes change the organisation and its accounts.
const ORGANISATION: &[&str] = &["organizations", "account", "billing"];
/// Actions that open a resource to another account or the world, whatever the service.
const SHARING: &[&str] = &[
    "ec2:ModifySnapshotAttribute",
    "ec2:ModifyImageAttribute",
    "rds:ModifyDBSnapshotAttribute",
    "rds:ModifyDBClusterSnapshotAttribute",
    "s3:PutBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutObjectAcl",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:DeletePublicAccessBlock",
    "s3:DeleteBucketPublicAccessBlock",
    "lambda:AddPermission",
    "ecr:SetRepositoryPolicy",
    "glacier:SetVaultAccessPolicy",
    "sns:AddPermission",
    "sqs:AddPermission",
    "backup:PutBackupVaultAccessPolicy",
];
/// Reads that return a secret, a key's plaintext or credentials.
const SECRET_READS: &[&str] = &[
    "secretsmanager:GetSecretValue",
    "secretsmanager:BatchGetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "kms:Decrypt",
    "ec2:GetPasswordData",
    "sts:GetSessionToken",
    "sts:GetFederationToken",
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity",
    "lambda:GetFunction",
];

/// One behaviour's score and the factors that make it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Risk {
    pub score: u32,
    pub factors: Vec<&'static str>,
}

impl Risk {
    fn add(&mut self, points: u32, factor: &'static str) {
        self.score += points;
        self.factors.push(factor);
    }

    /// The severity this risk asks for at least: a change to identity, logging, sharing or the
    /// organisation, or a secret read, is what an intruder's first hour is made of.
    pub(crate) fn severity(&self) -> Severity {
        match self.score {
            50.. => Severity::High,
            30.. => Severity::Medium,
            _ => Severity::Low,
        }
    }
}

/// What the behaviour is and how it went.
pub(crate) struct Facts<'a> {
    /// `service:EventName`.
    pub action: &'a str,
    /// The event's `readOnly`, when CloudTrail gave it.
    pub read_only: Option<bool>,
    pub failed: bool,
    pub new_region: bool,
    pub new_resource: bool,
}

/// Scores one behaviour.
pub(crate) fn assess(f: &Facts<'_>) -> Risk {
    let mut r = Risk::default();
    let (service, name) = f.action.split_once(':').unwrap_or((f.action, ""));
    let read = f.read_only.unwrap_or_else(|| reads_by_name(name));
    if SHARING.contains(&f.action) || (service == "ram" && !read) {
        r.add(50, "sharing");
    } else if SECRET_READS.contains(&f.action) {
        r.add(40, "secret_read");
    } else if !read && IDENTITY_AND_SECRETS.contains(&service) {
        r.add(50, "identity_write");
    } else if !read && LOGGING.contains(&service) {
        r.add(50, "logging_write");
    } else if !read && ORGANISATION.contains(&service) {
        r.add(50, "organisation_write");
    } else if !read {
        r.add(20, "write");
    } else if IDENTITY_AND_SECRETS.contains(&service) || LOGGING.contains(&service) || ORGANISATION.contains(&service) {
        r.add(10, "sensitive_read");
    }
    if f.failed {
        r.add(10, "error");
    }
    if f.new_region {
        r.add(15, "new_region");
    }
    if f.new_resource {
        r.add(10, "new_resource");
    }
    r
}

/// Whether an event name reads, for records without `readOnly` (CloudTrail omits it for some
/// services): AWS names its reads with these verbs.
fn reads_by_name(name: &str) -> bool {
    const VERBS: &[&str] =
        &["Get", "List", "Describe", "Head", "Lookup", "Search", "Check", "Validate", "BatchGet", "Scan", "Query", "Select", "Filter"];
    VERBS.iter().any(|v| name.strip_prefix(v).is_some_and(|rest| rest.is_empty() || rest.starts_with(|c: char| c.is_ascii_uppercase())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(action: &str, read_only: Option<bool>) -> (u32, Vec<&'static str>) {
        let r = assess(&Facts { action, read_only, failed: false, new_region: false, new_resource: false });
        (r.score, r.factors)
    }

    #[test]
    fn intruder_calls_outrank_a_deploys() {
        // Invictus's burst: the security group sorted first by name, the IAM and secrets calls after.
        let mut actions = [
            "ec2:CreateSecurityGroup",
            "ec2:DescribeInstances",
            "iam:CreateAccessKey",
            "secretsmanager:GetSecretValue",
            "iam:ListUsers",
            "cloudtrail:StopLogging",
            "s3:GetObject",
        ];
        actions.sort_by_key(|a| std::cmp::Reverse(score(a, None).0));
        assert_eq!(&actions[..2], ["iam:CreateAccessKey", "cloudtrail:StopLogging"]);
        assert_eq!(actions[2], "secretsmanager:GetSecretValue");
        assert_eq!(actions[3], "ec2:CreateSecurityGroup");
        assert_eq!(score("iam:ListUsers", None), (10, vec!["sensitive_read"]));
        assert_eq!(score("s3:GetObject", None), (0, vec![]));
        assert_eq!(score("ec2:ModifySnapshotAttribute", Some(false)), (50, vec!["sharing"]));
        // readOnly, when present, decides over the name.
        assert_eq!(score("iam:GenerateCredentialReport", Some(false)).1, ["identity_write"]);
        assert_eq!(score("iam:GenerateCredentialReport", Some(true)).1, ["sensitive_read"]);
        assert!(!reads_by_name("Getaway") && reads_by_name("GetObject") && reads_by_name("List"));
    }

    #[test]
    fn oddities_add_up_and_set_severity() {
        let r = assess(&Facts { action: "ec2:RunInstances", read_only: None, failed: true, new_region: true, new_resource: false });
        assert_eq!((r.score, r.factors.as_slice()), (45, ["write", "error", "new_region"].as_slice()));
        assert_eq!(r.severity(), Severity::Medium);
        assert_eq!(score("kms:CreateGrant", None).0, 50);
        assert_eq!(
            assess(&Facts { action: "kms:CreateGrant", read_only: None, failed: false, new_region: false, new_resource: false }).severity(),
            Severity::High
        );
    }
}
