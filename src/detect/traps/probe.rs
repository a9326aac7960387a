//! `traps test`: the CloudTrail records an attacker touching each trap would produce, as AWS
//! records them (the seed blog's advice: act as an attacker to learn what a trap produces). The
//! command writes them as a trail would and reads them back through the real detectors; this
//! module only says what the records are and which kind of logging each one needs.

use super::names::{TrapType, ident};
use super::{Trap, TrapDetector};
use crate::event::time::format_millis;
use serde_json::{Value, json};

/// What a trail must log for a probe's record to reach it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logging {
    /// A management event: every trail logs these (unless it drops read-only events).
    Management,
    /// A data event: logged only when the trail selects this kind, named here.
    Data(&'static str),
}

impl Logging {
    pub fn as_str(self) -> &'static str {
        match self {
            Logging::Management => "management",
            Logging::Data(what) => what,
        }
    }
}

/// One record touching one trap.
#[derive(Debug, Clone)]
pub struct Probe {
    /// The trap's number in [`TrapDetector::traps`].
    pub trap: usize,
    /// `service:EventName`, and what the call does to the trap.
    pub action: String,
    pub what: &'static str,
    pub logging: Logging,
    /// A caveat about the trail settings that can hide this record, when there is one.
    pub note: Option<&'static str>,
    /// The record, with `eventID` = `trailhound-probe-N`.
    pub record: Value,
}

/// The account probes run in when a trap names none.
pub const DEFAULT_ACCOUNT: &str = "123456789012";
const ATTACKER_ROLE: &str = "probe-attacker";

/// The probes of every trap `d` compiled, in trap order; records one minute apart from
/// `start`. Records that teach the detector a host (`RunInstances`) come before the records
/// that use it.
pub fn probes(d: &TrapDetector, start: i64) -> Vec<Probe> {
    let mut out = Vec::new();
    for (n, trap) in d.traps().iter().enumerate() {
        for spec in specs(trap, n) {
            let i = out.len();
            let record = spec.record(trap, start + i as i64 * 60_000, i);
            out.push(Probe { trap: n, action: spec.action(), what: spec.what, logging: spec.logging, note: spec.note, record });
        }
    }
    out
}

/// One probe before it becomes a record.
struct Spec {
    source: String,
    name: &'static str,
    what: &'static str,
    logging: Logging,
    note: Option<&'static str>,
    params: Value,
    response: Value,
    error: Option<&'static str>,
    /// The caller, when it is not the attacker's session: (identity JSON).
    caller: Option<Value>,
    read_only: bool,
}

impl Spec {
    fn new(source: &str, name: &'static str, what: &'static str, params: Value) -> Spec {
        let read_only = ["Get", "Describe", "List", "Head", "Scan", "Query"].iter().any(|p| name.starts_with(p));
        Spec {
            source: source.to_string(),
            name,
            what,
            logging: Logging::Management,
            note: None,
            params,
            response: Value::Null,
            error: None,
            caller: None,
            read_only,
        }
    }

    fn data(mut self, what: &'static str) -> Spec {
        self.logging = Logging::Data(what);
        self
    }

    fn note(mut self, note: &'static str) -> Spec {
        self.note = Some(note);
        self
    }

    fn action(&self) -> String {
        format!("{}:{}", self.source.trim_end_matches(".amazonaws.com"), self.name)
    }

    fn record(&self, trap: &Trap, time: i64, n: usize) -> Value {
        let account = account(trap);
        let caller = self.caller.clone().unwrap_or_else(|| session(&account, ATTACKER_ROLE, "trailhound-traps-test"));
        let data = matches!(self.logging, Logging::Data(_));
        let mut r = json!({
            "eventVersion": "1.09",
            "userIdentity": caller,
            "eventTime": format_millis(time).replace(".000Z", "Z"),
            "eventSource": self.source,
            "eventName": self.name,
            "awsRegion": region(trap),
            "sourceIPAddress": "203.0.113.7",
            "userAgent": "trailhound traps test",
            "requestParameters": self.params,
            "responseElements": self.response,
            "requestID": format!("trailhound-probe-request-{n}"),
            "eventID": format!("trailhound-probe-{n}"),
            "readOnly": self.read_only,
            "eventType": if self.source == "signin.amazonaws.com" { "AwsConsoleSignIn" } else { "AwsApiCall" },
            "managementEvent": !data,
            "recipientAccountId": account,
            "eventCategory": if data { "Data" } else { "Management" },
        });
        if let Some(code) = self.error {
            r["errorCode"] = json!(code);
            r["errorMessage"] = json!(format!("User is not authorized to perform {}", self.action()));
        }
        r
    }
}

fn account(trap: &Trap) -> String {
    trap.account.clone().unwrap_or_else(|| DEFAULT_ACCOUNT.to_string())
}

/// The region an ARN names, else us-east-1.
fn region(trap: &Trap) -> String {
    super::names::split_arn(&trap.display).map(|a| a.region).filter(|r| !r.is_empty()).unwrap_or("us-east-1").to_string()
}

/// An assumed-role session of `role` in `account`.
fn session(account: &str, role: &str, name: &str) -> Value {
    json!({
        "type": "AssumedRole",
        "principalId": format!("AROAPROBE:{name}"),
        "arn": format!("arn:aws:sts::{account}:assumed-role/{role}/{name}"),
        "accountId": account,
        "accessKeyId": "ASIAPROBE0000000000",
        "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAPROBE", "arn": format!("arn:aws:iam::{account}:role/{role}"), "accountId": account, "userName": role}}
    })
}

/// The probes of one trap: the calls an attacker exploring it makes first.
fn specs(trap: &Trap, n: usize) -> Vec<Spec> {
    let acct = account(trap);
    let region = region(trap);
    let name = ident(trap.ty, &trap.display).map_or_else(|| trap.display.clone(), |i| i.name.to_string());
    let arn = |service: &str, resource: String| format!("arn:aws:{service}:{region}:{acct}:{resource}");
    use TrapType::*;
    match trap.ty {
        IamUser => {
            let user = json!({"type": "IAMUser", "principalId": "AIDAPROBE", "arn": format!("arn:aws:iam::{acct}:user/{name}"), "accountId": acct, "accessKeyId": "AKIAPROBE0000000000", "userName": name});
            let mut login = Spec::new("signin.amazonaws.com", "ConsoleLogin", "a failed sign-in as the user", Value::Null);
            login.caller = Some(json!({"type": "IAMUser", "principalId": "", "accountId": acct, "accessKeyId": "", "userName": name}));
            login.response = json!({"ConsoleLogin": "Failure"});
            let mut used = Spec::new("sts.amazonaws.com", "GetCallerIdentity", "the user's access key in use", Value::Null);
            used.caller = Some(user);
            vec![login, Spec::new("iam.amazonaws.com", "GetUser", "reading the user", json!({"userName": name})), used]
        }
        IamRole => {
            let role_arn = format!("arn:aws:iam::{acct}:role/{name}");
            let mut assume = Spec::new("sts.amazonaws.com", "AssumeRole", "a denied attempt to assume the role", json!({"roleArn": role_arn, "roleSessionName": "probe"}));
            assume.error = Some("AccessDenied");
            let mut used = Spec::new("s3.amazonaws.com", "ListBuckets", "the role's credentials in use", Value::Null);
            used.caller = Some(session(&acct, &name, "stolen"));
            vec![assume, Spec::new("iam.amazonaws.com", "GetRole", "reading the role", json!({"roleName": name})), used]
        }
        AccessKey => {
            let mut used = Spec::new("sts.amazonaws.com", "GetCallerIdentity", "the key in use (the first call a thief makes)", Value::Null);
            used.caller = Some(json!({"type": "IAMUser", "principalId": "AIDAPROBE", "arn": format!("arn:aws:iam::{acct}:user/key-owner"), "accountId": acct, "accessKeyId": name, "userName": "key-owner"}));
            vec![used]
        }
        DynamodbTable => vec![
            Spec::new("dynamodb.amazonaws.com", "DescribeTable", "reading the table's description", json!({"tableName": name})),
            Spec::new("dynamodb.amazonaws.com", "Scan", "reading every item", json!({"tableName": name})).data("DynamoDB data events"),
            Spec::new("dynamodb.amazonaws.com", "GetItem", "reading an item", json!({"tableName": name, "key": {"id": {"S": "1"}}})).data("DynamoDB data events"),
        ],
        S3Bucket => vec![
            Spec::new("s3.amazonaws.com", "GetBucketPolicy", "reading the bucket's policy", json!({"bucketName": name, "Host": format!("{name}.s3.amazonaws.com"), "policy": ""})),
            Spec::new("s3.amazonaws.com", "ListObjects", "listing its objects", json!({"bucketName": name, "Host": format!("{name}.s3.amazonaws.com"), "prefix": ""})).data("S3 data events"),
        ],
        S3Object => {
            let bucket = trap.bucket.clone().unwrap_or_else(|| format!("probe-bucket-{acct}"));
            let key = trap.display.split_once('/').map_or("", |(_, k)| k);
            let key = match key.strip_suffix('*') {
                Some(prefix) => format!("{prefix}probe.txt"),
                None => key.to_string(),
            };
            let mut get = Spec::new("s3.amazonaws.com", "GetObject", "downloading the object", json!({"bucketName": bucket, "Host": format!("{bucket}.s3.amazonaws.com"), "key": key}))
                .data("S3 data events");
            get.response = Value::Null;
            vec![get]
        }
        Secret => vec![
            Spec::new("secretsmanager.amazonaws.com", "GetSecretValue", "reading the secret", json!({"secretId": name})),
            Spec::new("secretsmanager.amazonaws.com", "DescribeSecret", "reading its description", json!({"secretId": name})),
        ],
        SsmParameter => vec![Spec::new(
            "ssm.amazonaws.com",
            "GetParameter",
            "reading the parameter",
            json!({"name": format!("/{}", name.trim_start_matches('/')), "withDecryption": true}),
        )],
        KmsKey => vec![
            Spec::new("kms.amazonaws.com", "DescribeKey", "reading the key's description", json!({"keyId": name})),
            Spec::new("kms.amazonaws.com", "Decrypt", "decrypting with the key", json!({"keyId": name, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}))
                .note("not logged by a trail that excludes AWS KMS events"),
        ],
        Ec2Instance => {
            let mut used = Spec::new("iam.amazonaws.com", "ListUsers", "the instance profile's credentials in use", Value::Null);
            used.caller = Some(session(&acct, "instance-role", &name));
            vec![
                Spec::new("ec2.amazonaws.com", "GetConsoleOutput", "reading the console output", json!({"instanceId": name})),
                Spec::new("ssm.amazonaws.com", "StartSession", "a shell on the instance", json!({"target": name})),
                used,
            ]
        }
        LambdaFunction => vec![
            Spec::new("lambda.amazonaws.com", "GetFunction20150331v2", "reading the function (code location)", json!({"functionName": name})),
            Spec::new("lambda.amazonaws.com", "Invoke", "invoking it", json!({"functionName": arn("lambda", format!("function:{name}"))}))
                .data("Lambda data events"),
        ],
        RdsInstance => vec![
            Spec::new("rds.amazonaws.com", "DescribeDBInstances", "reading the instance's description", json!({"dBInstanceIdentifier": name})),
            Spec::new("rds.amazonaws.com", "CreateDBSnapshot", "a snapshot to copy out", json!({"dBInstanceIdentifier": name, "dBSnapshotIdentifier": "probe-snapshot"})),
            Spec::new("rds.amazonaws.com", "ModifyDBInstance", "resetting the master password", json!({"dBInstanceIdentifier": name, "masterUserPassword": "HIDDEN_DUE_TO_SECURITY_REASONS", "applyImmediately": true})),
        ],
        RdsCluster => vec![
            Spec::new("rds.amazonaws.com", "DescribeDBClusters", "reading the cluster's description", json!({"dBClusterIdentifier": name})),
            Spec::new("rds.amazonaws.com", "CreateDBClusterSnapshot", "a snapshot to copy out", json!({"dBClusterIdentifier": name, "dBClusterSnapshotIdentifier": "probe-snapshot"})),
            Spec::new("rdsdataapi.amazonaws.com", "ExecuteStatement", "a query through the Data API", json!({"resourceArn": arn("rds", format!("cluster:{name}")), "secretArn": arn("secretsmanager", "secret:probe-AbCdEf".into()), "sql": "select * from customers"}))
                .note("not logged by a trail that excludes RDS Data API events"),
        ],
        Subnet | Vpc => network_specs(trap, &name, n),
        Resource => {
            // A call to the ARN's service naming the ARN, as most services' parameters do.
            let service = super::names::split_arn(&trap.display).map_or("unknown", |a| a.service);
            vec![Spec::new(&format!("{service}.amazonaws.com"), "Describe", "a call naming the resource's ARN", json!({"resourceArn": trap.display}))]
        }
    }
}

/// A honeypot host launched into the subnet (the owner's launch is a touch too, and teaches the
/// detector the host), then an attacker's look at it; for a VPC, its description first. Hosts
/// differ per trap (`n`), so one trap's host never fires another.
fn network_specs(trap: &Trap, id: &str, n: usize) -> Vec<Spec> {
    let (subnet, vpc) = match trap.ty {
        TrapType::Subnet => (id.to_string(), "vpc-0probe000000000".to_string()),
        _ => ("subnet-0probe0000000000".to_string(), id.to_string()),
    };
    let (instance, eni) = (format!("i-{:017x}", 0xfeed_0000 + n), format!("eni-{:017x}", 0xfeed_0000 + n));
    let mut launch = Spec::new(
        "ec2.amazonaws.com",
        "RunInstances",
        "a host launched into it",
        json!({"instancesSet": {"items": [{"imageId": "ami-0probe", "minCount": 1, "maxCount": 1}]}, "launchTemplate": {"launchTemplateName": "honeypot"}}),
    );
    launch.response = json!({"instancesSet": {"items": [{"instanceId": instance, "imageId": "ami-0probe", "subnetId": subnet, "vpcId": vpc, "networkInterfaceSet": {"items": [{"networkInterfaceId": eni, "subnetId": subnet, "vpcId": vpc}]}}]}});
    let mut out = Vec::new();
    if trap.ty == TrapType::Vpc {
        out.push(Spec::new("ec2.amazonaws.com", "DescribeVpcs", "reading the VPC", json!({"vpcSet": {"items": [{"vpcId": vpc}]}})));
    } else {
        out.push(Spec::new(
            "ec2.amazonaws.com",
            "DescribeSubnets",
            "reading the subnet",
            json!({"subnetSet": {"items": [{"subnetId": subnet}]}}),
        ));
    }
    out.push(launch);
    out.push(Spec::new(
        "ec2.amazonaws.com",
        "GetConsoleOutput",
        "reading a host's console output (named by instance ID only)",
        json!({"instanceId": instance}),
    ));
    out
}
