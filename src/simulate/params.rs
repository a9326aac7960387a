//! `requestParameters` and `resources` of baseline events: plausible, stable per account, and
//! derived from the event id so that no generator state is needed at write time.

use super::event::{Event, json_str};
use super::rng::mix;
use std::io::Write;

/// The account's application bucket (the app and batch roles read and write it).
pub(crate) fn app_bucket(acct: &str) -> String {
    format!("app-data-{acct}")
}

/// The account's sensitive bucket (customer exports); only the batch role lists it.
pub(crate) fn sensitive_bucket(acct: &str) -> String {
    format!("customer-exports-{acct}")
}

const TABLES: &[&str] = &["sessions", "orders", "feature-flags"];

/// One of the account's three KMS keys (an account has a few keys that every workload shares, not
/// one per call: first-seen's resource kind learns them).
fn kms_key(acct: &str, h: u64) -> String {
    let a = mix(&[acct.bytes().fold(0u64, |x, b| x.wrapping_mul(31).wrapping_add(u64::from(b)))]);
    format!("{:08x}-0000-4000-8000-{:012x}", a as u32, h % 3)
}

fn object_key(h: u64) -> String {
    format!("events/dt=2024-{:02}-{:02}/part-{:05}.parquet", 1 + h % 12, 1 + (h >> 8) % 28, (h >> 16) % 4096)
}

fn s3_target(ev: &Event, acct: &str) -> (String, String) {
    let h = mix(&[ev.id as u64, 3]);
    let bucket = if ev.api.name == "ListObjects" && h.is_multiple_of(5) { sensitive_bucket(acct) } else { app_bucket(acct) };
    (bucket, object_key(h))
}

/// Appends `requestParameters` for a baseline event.
pub(crate) fn write_request(out: &mut Vec<u8>, ev: &Event, acct: &str, region: &str) {
    let h = mix(&[ev.id as u64, 7]);
    match (ev.api.service, ev.api.name) {
        ("s3", "GetObject" | "PutObject" | "HeadObject" | "DeleteObject") => {
            let (bucket, key) = s3_target(ev, acct);
            out.extend_from_slice(b"{\"bucketName\":");
            json_str(out, &bucket);
            let _ = write!(out, ",\"Host\":\"{bucket}.s3.{region}.amazonaws.com\",\"key\":");
            json_str(out, &key);
            out.push(b'}');
        }
        ("s3", "ListObjects") => {
            let (bucket, _) = s3_target(ev, acct);
            let _ = write!(
                out,
                "{{\"bucketName\":\"{bucket}\",\"Host\":\"{bucket}.s3.{region}.amazonaws.com\",\"prefix\":\"events/\",\"list-type\":\"2\"}}"
            );
        }
        ("s3", "GetBucketPolicy" | "GetBucketAcl" | "GetPublicAccessBlock" | "GetBucketEncryption") => {
            let bucket = if h.is_multiple_of(2) { app_bucket(acct) } else { sensitive_bucket(acct) };
            let _ = write!(out, "{{\"bucketName\":\"{bucket}\",\"Host\":\"{bucket}.s3.amazonaws.com\"}}");
        }
        ("dynamodb", "GetItem" | "PutItem" | "Query" | "DescribeTable") => {
            let _ = write!(out, "{{\"tableName\":\"{}\"", TABLES[(h % TABLES.len() as u64) as usize]);
            if ev.api.name != "DescribeTable" {
                let _ = write!(out, ",\"key\":{{\"pk\":\"HIDDEN_DUE_TO_SECURITY_REASONS\"}}");
            }
            out.push(b'}');
        }
        ("kms", "Decrypt") => {
            let _ = write!(
                out,
                "{{\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\",\"encryptionContext\":{{\"aws:s3:arn\":\"arn:aws:s3:::{}\"}}}}",
                app_bucket(acct)
            );
        }
        ("kms", "GenerateDataKey") => {
            let _ = write!(out, "{{\"keyId\":\"arn:aws:kms:{region}:{acct}:key/{}\",\"keySpec\":\"AES_256\"}}", kms_key(acct, h));
        }
        ("sts", "AssumeRole") => {
            let role = ["streamingApplicationInstanceProfile", "monitoringLambdaProfile"][(h % 2) as usize];
            let _ = write!(
                out,
                "{{\"roleArn\":\"arn:aws:iam::{acct}:role/{role}\",\"roleSessionName\":\"i-0{:016x}\",\"durationSeconds\":3600}}",
                h >> 4
            );
        }
        ("ec2", "RunInstances") => {
            let ty = ["t3.medium", "m5.large", "c6i.xlarge"][(h % 3) as usize];
            let _ = write!(
                out,
                "{{\"instancesSet\":{{\"items\":[{{\"imageId\":\"ami-0{:016x}\",\"minCount\":1,\"maxCount\":1}}]}},\"instanceType\":\"{ty}\",\"monitoring\":{{\"enabled\":false}},\"disableApiTermination\":false,\"clientToken\":\"{:016x}\"}}",
                h % 7,
                h
            );
        }
        ("ec2", "TerminateInstances" | "CreateTags") => {
            let _ = write!(out, "{{\"instancesSet\":{{\"items\":[{{\"instanceId\":\"i-0{:016x}\"}}]}}}}", h);
        }
        ("ec2", "CreateSnapshot") => {
            let _ = write!(out, "{{\"volumeId\":\"vol-0{:016x}\",\"description\":\"nightly-backup\"}}", h % 9);
        }
        ("ec2", "DeleteSnapshot") => {
            let _ = write!(out, "{{\"snapshotId\":\"snap-0{:016x}\"}}", h);
        }
        ("rds", "CreateDBSnapshot") => {
            let _ = write!(out, "{{\"dBSnapshotIdentifier\":\"nightly-{:08x}\",\"dBInstanceIdentifier\":\"app-db\"}}", h as u32);
        }
        ("monitoring", "GetMetricData" | "PutMetricData") => {
            out.extend_from_slice(b"{\"namespace\":\"App/Streaming\",\"metricDataQueries\":\"HIDDEN_DUE_TO_SECURITY_REASONS\"}");
        }
        ("iam", "GetRole" | "ListAttachedRolePolicies") => {
            let _ = write!(
                out,
                "{{\"roleName\":\"{}\"}}",
                ["streamingApplicationInstanceProfile", "historicalMinionRole", "cicdPipelineRole"][(h % 3) as usize]
            );
        }
        ("secretsmanager", "GetSecretValue") => {
            let _ = write!(out, "{{\"secretId\":\"arn:aws:secretsmanager:{region}:{acct}:secret:app/db-credentials-AbCdEf\"}}");
        }
        ("athena", "StartQueryExecution") => {
            out.extend_from_slice(b"{\"queryString\":\"SELECT ... FROM events WHERE dt = ?\",\"workGroup\":\"analytics\"}");
        }
        ("cloudformation", "DescribeStacks" | "UpdateStack") => {
            let _ = write!(out, "{{\"stackName\":\"app-{}\"}}", ["web", "worker", "api"][(h % 3) as usize]);
        }
        ("signin", _) => out.extend_from_slice(b"null"),
        _ if ev.api.read_only() && h.is_multiple_of(2) => out.extend_from_slice(b"null"),
        _ => out.extend_from_slice(b"{}"),
    }
}

/// Appends `,"resources":[…]` where CloudTrail writes it (data events, AssumeRole, KMS).
pub(crate) fn write_resources(out: &mut Vec<u8>, ev: &Event, acct: &str, region: &str) {
    match ev.api.service {
        "s3" if ev.api.is_data() => {
            let (bucket, key) = s3_target(ev, acct);
            out.extend_from_slice(b",\"resources\":[");
            if ev.api.name != "ListObjects" {
                out.extend_from_slice(b"{\"type\":\"AWS::S3::Object\",\"ARN\":");
                json_str(out, &format!("arn:aws:s3:::{bucket}/{key}"));
                out.extend_from_slice(b"},");
            }
            let _ = write!(out, "{{\"accountId\":\"{acct}\",\"type\":\"AWS::S3::Bucket\",\"ARN\":\"arn:aws:s3:::{bucket}\"}}]");
        }
        "dynamodb" if ev.api.is_data() => {
            let h = mix(&[ev.id as u64, 7]);
            let table = TABLES[(h % TABLES.len() as u64) as usize];
            let _ = write!(
                out,
                ",\"resources\":[{{\"accountId\":\"{acct}\",\"type\":\"AWS::DynamoDB::Table\",\"ARN\":\"arn:aws:dynamodb:{region}:{acct}:table/{table}\"}}]"
            );
        }
        "kms" => {
            let h = mix(&[ev.id as u64, 7]);
            let _ = write!(
                out,
                ",\"resources\":[{{\"accountId\":\"{acct}\",\"type\":\"AWS::KMS::Key\",\"ARN\":\"arn:aws:kms:{region}:{acct}:key/{}\"}}]",
                kms_key(acct, h)
            );
        }
        _ => {}
    }
}
