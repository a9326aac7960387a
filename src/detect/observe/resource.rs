//! Which data-bearing resource an event touches, for the `first_for_resource` kind (the Netflix
//! talk's "anomalous bucket access"): a role reading a bucket it never touched, with an action it
//! does all day, is new behaviour the principal × action key cannot see.
//!
//! Only the request parameters that name the resource are read, and only for the services that
//! hold data (the `resource_types` config): an event of any other source costs one comparison.

use crate::event::Record;
use crate::event::lookup::{FieldPath, Segment, visit_raw};
use serde_json::value::RawValue;
use std::ops::ControlFlow;
use std::sync::LazyLock;

/// Resource types, as `[first_seen] resource_types` names them.
pub(crate) const RESOURCE_TYPES: &[&str] =
    &["s3_bucket", "dynamodb_table", "secret", "kms_key", "ssm_parameter", "lambda_function", "iam_role"];

/// Where each type is named: event source, request parameter, type.
const PARAMS: &[(&str, &str, &str)] = &[
    ("s3.amazonaws.com", "bucketName", "s3_bucket"),
    ("dynamodb.amazonaws.com", "tableName", "dynamodb_table"),
    ("dynamodb.amazonaws.com", "tableArn", "dynamodb_table"),
    ("secretsmanager.amazonaws.com", "secretId", "secret"),
    ("kms.amazonaws.com", "keyId", "kms_key"),
    ("ssm.amazonaws.com", "name", "ssm_parameter"),
    ("ssm.amazonaws.com", "names[*]", "ssm_parameter"),
    ("lambda.amazonaws.com", "functionName", "lambda_function"),
    // A role assumed, and a role passed to a function.
    ("sts.amazonaws.com", "roleArn", "iam_role"),
    ("lambda.amazonaws.com", "role", "iam_role"),
];

/// `PARAMS` with their paths parsed once.
static PATHS: LazyLock<Vec<(&str, Vec<Segment>, &str)>> =
    LazyLock::new(|| PARAMS.iter().map(|(src, p, ty)| (*src, below(&format!("$.requestParameters.{p}")), *ty)).collect());

/// `p` without its first segment (the member it starts from).
fn below(p: &str) -> Vec<Segment> {
    FieldPath::parse(p).map(|f| f.segments.into_iter().skip(1).collect()).unwrap_or_default()
}

/// The services whose resources are tracked, from the configured types.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResourceFilter {
    types: Vec<String>,
}

impl ResourceFilter {
    pub(crate) fn new(types: &[String]) -> ResourceFilter {
        ResourceFilter { types: types.to_vec() }
    }

    fn wants(&self, ty: &str) -> bool {
        self.types.iter().any(|t| t == ty)
    }

    /// The resources `r` names, as `type:account/name` (`s3_bucket:name`: bucket names are
    /// global), at most 8 per event; `account` is the account the event happened in.
    pub(crate) fn touched(&self, r: &Record<'_>, account: Option<&str>, out: &mut Vec<String>) {
        out.clear();
        if self.types.is_empty() {
            return;
        }
        let source = r.event_source.as_deref().unwrap_or("");
        let Some(rp) = r.request_parameters else {
            return self.keys_in_resources(r, account, out);
        };
        let name = r.event_name.as_deref().unwrap_or("");
        for (src, path, ty) in PATHS.iter() {
            // SSM's `name` is a document's for commands: only parameter calls name a parameter.
            if *src != source || !self.wants(ty) || (*ty == "ssm_parameter" && !name.contains("Parameter")) {
                continue;
            }
            each_str(rp, path, &mut |v| push(out, ty, v, account));
        }
        self.keys_in_resources(r, account, out);
    }

    /// KMS keys, named in `resources[].ARN` (a `Decrypt` names its key nowhere else).
    fn keys_in_resources(&self, r: &Record<'_>, account: Option<&str>, out: &mut Vec<String>) {
        if r.event_source.as_deref() != Some("kms.amazonaws.com") || !self.wants("kms_key") {
            return;
        }
        if let Some(res) = r.resources {
            static ARN: LazyLock<Vec<Segment>> = LazyLock::new(|| below("$.resources[*].ARN"));
            each_str(res, &ARN, &mut |v| push(out, "kms_key", v, account));
        }
    }
}

fn each_str(raw: &RawValue, path: &[Segment], f: &mut dyn FnMut(&str)) {
    let _ = visit_raw(raw, path, &mut |v| {
        if let Some(s) = v.as_str() {
            f(s);
        }
        ControlFlow::Continue(())
    });
}

/// Adds `type:account/name` for `value` (a name or an ARN), once.
fn push(out: &mut Vec<String>, ty: &str, value: &str, account: Option<&str>) {
    if out.len() >= 8 || value.is_empty() {
        return;
    }
    let key = match ty {
        "s3_bucket" => format!("s3_bucket:{value}"),
        _ => {
            let (acct, name) = split(ty, value, account);
            format!("{ty}:{}/{name}", acct.unwrap_or("-"))
        }
    };
    if !out.contains(&key) {
        out.push(key);
    }
}

/// The account and name of `value`: an ARN's own, or the event's account and the value.
fn split<'v>(ty: &str, value: &'v str, account: Option<&'v str>) -> (Option<&'v str>, &'v str) {
    let Some(rest) = value.strip_prefix("arn:") else {
        let name = if ty == "ssm_parameter" { value.trim_start_matches('/') } else { value };
        return (account, name);
    };
    // arn:partition:service:region:account:resource
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    let (acct, resource) = match parts.as_slice() {
        [_, _, _, acct, resource] => (Some(*acct).filter(|a| !a.is_empty()).or(account), *resource),
        _ => return (account, value),
    };
    let name = match ty {
        "dynamodb_table" => resource.trim_start_matches("table/").split('/').next().unwrap_or(resource),
        // Secrets Manager adds six random characters to a secret's ARN.
        "secret" => {
            let n = resource.trim_start_matches("secret:");
            match n.rsplit_once('-') {
                Some((base, suffix)) if suffix.len() == 6 && suffix.chars().all(|c| c.is_ascii_alphanumeric()) => base,
                _ => n,
            }
        }
        "kms_key" => resource.trim_start_matches("key/"),
        "ssm_parameter" => resource.trim_start_matches("parameter/"),
        "lambda_function" => resource.trim_start_matches("function:").split(':').next().unwrap_or(resource),
        "iam_role" => resource.rsplit('/').next().unwrap_or(resource),
        _ => resource,
    };
    (acct, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touched(rec: &str) -> Vec<String> {
        let r = Record::parse(rec).unwrap();
        let mut out = Vec::new();
        let all: Vec<String> = RESOURCE_TYPES.iter().map(|s| s.to_string()).collect();
        ResourceFilter::new(&all).touched(&r, r.account(), &mut out);
        out
    }

    fn rec(source: &str, name: &str, params: &str, resources: &str) -> String {
        format!(
            r#"{{"eventTime":"2024-01-01T00:00:00Z","eventSource":"{source}","eventName":"{name}","recipientAccountId":"111","requestParameters":{params}{resources}}}"#
        )
    }

    #[test]
    fn names_and_arns_of_each_type() {
        assert_eq!(touched(&rec("s3.amazonaws.com", "GetObject", r#"{"bucketName":"exports","key":"a"}"#, "")), ["s3_bucket:exports"]);
        assert_eq!(
            touched(&rec(
                "secretsmanager.amazonaws.com",
                "GetSecretValue",
                r#"{"secretId":"arn:aws:secretsmanager:us-east-1:222:secret:db-pass-AbC123"}"#,
                ""
            )),
            ["secret:222/db-pass"]
        );
        assert_eq!(
            touched(&rec("secretsmanager.amazonaws.com", "GetSecretValue", r#"{"secretId":"db-pass"}"#, "")),
            ["secret:111/db-pass"]
        );
        assert_eq!(
            touched(&rec("ssm.amazonaws.com", "GetParameters", r#"{"names":["/app/db","app/key"],"withDecryption":true}"#, "")),
            ["ssm_parameter:111/app/db", "ssm_parameter:111/app/key"]
        );
        assert!(touched(&rec("ssm.amazonaws.com", "SendCommand", r#"{"name":"AWS-RunShellScript"}"#, "")).is_empty());
        assert_eq!(
            touched(&rec(
                "kms.amazonaws.com",
                "Decrypt",
                r#"{"encryptionContext":{}}"#,
                r#","resources":[{"ARN":"arn:aws:kms:us-east-1:111:key/k-1","type":"AWS::KMS::Key"}]"#
            )),
            ["kms_key:111/k-1"]
        );
        assert_eq!(
            touched(&rec("sts.amazonaws.com", "AssumeRole", r#"{"roleArn":"arn:aws:iam::333:role/path/Admin","roleSessionName":"s"}"#, "")),
            ["iam_role:333/Admin"]
        );
        assert_eq!(
            touched(&rec("dynamodb.amazonaws.com", "Scan", r#"{"tableName":"arn:aws:dynamodb:us-east-1:111:table/Orders"}"#, "")),
            ["dynamodb_table:111/Orders"]
        );
        assert!(touched(&rec("ec2.amazonaws.com", "DescribeInstances", r#"{"bucketName":"x"}"#, "")).is_empty());
    }
}
