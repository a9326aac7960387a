//! One test per place a trap can appear, on small hand-written records.

use super::*;
use crate::config::Config;

const ACCT: &str = "111122223333";

fn detector(toml: &str) -> TrapDetector {
    let cfg = Config::parse(toml, "test.toml").unwrap();
    TrapDetector::new(&cfg.traps).unwrap()
}

/// A record from its distinctive members; the common ones are filled in.
fn rec_json(source: &str, name: &str, identity: &str, rest: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.09","userIdentity":{identity},"eventTime":"2024-05-11T12:17:04Z","eventSource":"{source}","eventName":"{name}","awsRegion":"us-east-1","sourceIPAddress":"91.219.236.174","userAgent":"aws-cli/2","eventID":"ev-{name}","recipientAccountId":"{ACCT}"{rest}}}"#
    )
}

const DEV: &str = r#"{"type":"AssumedRole","principalId":"AROA:alice","arn":"arn:aws:sts::111122223333:assumed-role/dev/alice","accountId":"111122223333","accessKeyId":"ASIAXXX","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROA","arn":"arn:aws:iam::111122223333:role/dev","accountId":"111122223333","userName":"dev"}}}"#;

fn check(d: &TrapDetector, json: &str) -> Vec<Alert> {
    let r = Record::parse(json).unwrap();
    d.check(&r)
}

fn id_of(a: &Alert) -> &str {
    &a.id
}

fn locations(a: &Alert) -> Vec<String> {
    a.evidence.to_json()["matched"].as_array().unwrap().iter().map(|m| m["location"].as_str().unwrap().to_string()).collect()
}

#[test]
fn failed_console_login_by_canary_user() {
    let d = detector("[[traps.iam_user]]\nname = \"Backup_Admin\"\nlabel = \"canary\"\n");
    // As real failed sign-ins look: no ARN, empty principalId and accessKeyId.
    let id = r#"{"type":"IAMUser","principalId":"","accountId":"111122223333","accessKeyId":"","userName":"backup_admin"}"#;
    let ev = rec_json(
        "signin.amazonaws.com",
        "ConsoleLogin",
        id,
        r#","errorMessage":"Failed authentication","responseElements":{"ConsoleLogin":"Failure"}"#,
    );
    let a = check(&d, &ev);
    assert_eq!(a.len(), 1);
    let a = &a[0];
    assert_eq!((a.detector.as_str(), a.kind.as_str(), a.severity), ("trap", "console_login", Severity::High));
    assert_eq!(a.evidence.to_json()["outcome"], "failed");
    assert_eq!(a.evidence.to_json()["succeeded"], false);
    assert_eq!(locations(a), ["userIdentity.userName"]);
    assert_eq!(a.evidence.to_json()["trap"]["label"], "canary");
    assert_eq!(a.principal.as_deref(), Some("arn:aws:iam::111122223333:user/backup_admin"));
    assert_eq!(a.event_ids, ["ev-ConsoleLogin"]);
    assert_eq!(a.source_ip.as_deref(), Some("91.219.236.174"));
    assert_eq!(a.event_time.as_deref(), Some("2024-05-11T12:17:04Z"));
    // Another user's sign-in does not fire.
    assert!(check(&d, &ev.replace("backup_admin", "alice")).is_empty());
}

#[test]
fn assume_role_denied_by_arn_parameter_and_resources() {
    let d = detector("[[traps.iam_role]]\nname = \"DevOps_role\"\nseverity = \"critical\"\n");
    let role = "arn:aws:iam::111122223333:role/DevOps_role";
    let rest = format!(
        r#","errorCode":"AccessDenied","requestParameters":{{"roleArn":"{role}","roleSessionName":"x"}},"resources":[{{"accountId":"{ACCT}","type":"AWS::IAM::Role","ARN":"{role}"}}]"#
    );
    let a = check(&d, &rec_json("sts.amazonaws.com", "AssumeRole", DEV, &rest));
    assert_eq!(a.len(), 1, "one alert per trap, however many places it matched");
    assert_eq!(a[0].kind, "assume_role");
    assert_eq!(a[0].severity, Severity::Critical);
    assert_eq!(a[0].evidence.to_json()["outcome"], "denied");
    assert_eq!(locations(&a[0]), ["requestParameters.roleArn", "resources[].ARN"]);
    // The role's own sessions at work are the role touched too, under another kind.
    let session = DEV.replace("role/dev", "role/DevOps_role").replace("\"dev\"", "\"DevOps_role\"");
    let a = check(&d, &rec_json("s3.amazonaws.com", "ListBuckets", &session, ""));
    assert_eq!((a.len(), a[0].kind.as_str()), (1, "iam_role"));
    assert_eq!(locations(&a[0]), ["userIdentity.sessionContext.sessionIssuer"]);
    // IAM reads of the role by name.
    let a = check(&d, &rec_json("iam.amazonaws.com", "GetRole", DEV, r#","requestParameters":{"roleName":"devops_ROLE"}"#));
    assert_eq!(a[0].kind, "iam_role");
}

#[test]
fn account_scope() {
    let d = detector("[[traps.iam_role]]\narn = \"arn:aws:iam::999999999999:role/DevOps_role\"\n");
    let rest = |acct: &str| format!(r#","requestParameters":{{"roleArn":"arn:aws:iam::{acct}:role/DevOps_role"}}"#);
    assert!(check(&d, &rec_json("sts.amazonaws.com", "AssumeRole", DEV, &rest(ACCT))).is_empty());
    assert_eq!(check(&d, &rec_json("sts.amazonaws.com", "AssumeRole", DEV, &rest("999999999999"))).len(), 1);
    // A plain name is taken in the record's account.
    let d = detector("[[traps.dynamodb_table]]\nname = \"CustomerAccounts\"\naccount = \"999999999999\"\n");
    assert!(
        check(&d, &rec_json("dynamodb.amazonaws.com", "Scan", DEV, r#","requestParameters":{"tableName":"CustomerAccounts"}"#)).is_empty()
    );
}

#[test]
fn dynamodb_table_by_name_and_resource_arn() {
    let d = detector("[[traps.dynamodb_table]]\nname = \"CustomerAccounts\"\n");
    let a =
        check(&d, &rec_json("dynamodb.amazonaws.com", "DescribeTable", DEV, r#","requestParameters":{"tableName":"CustomerAccounts"}"#));
    assert_eq!((a.len(), a[0].kind.as_str(), a[0].evidence.to_json()["outcome"].as_str()), (1, "dynamodb_table", Some("succeeded")));
    let arn = "arn:aws:dynamodb:us-east-1:111122223333:table/CustomerAccounts";
    let a = check(
        &d,
        &rec_json("dynamodb.amazonaws.com", "GetItem", DEV, &format!(r#","resources":[{{"type":"AWS::DynamoDB::Table","ARN":"{arn}"}}]"#)),
    );
    assert_eq!(locations(&a[0]), ["resources[].ARN"]);
    // Names are case-sensitive outside IAM; other tables and ListTables (which names none) are quiet.
    assert!(
        check(&d, &rec_json("dynamodb.amazonaws.com", "Scan", DEV, r#","requestParameters":{"tableName":"customeraccounts"}"#)).is_empty()
    );
    assert!(check(&d, &rec_json("dynamodb.amazonaws.com", "ListTables", DEV, r#","requestParameters":{"limit":100}"#)).is_empty());
}

#[test]
fn s3_objects_buckets_and_copies() {
    let d = detector(
        "[[traps.s3_object]]\nkey_prefix = \"PasswordBackup/\"\n[[traps.s3_object]]\nbucket = \"corp\"\nkey = \"keys.txt\"\n[[traps.s3_bucket]]\nname = \"honey-bucket\"\n",
    );
    let get = |bucket: &str, key: &str| {
        rec_json("s3.amazonaws.com", "GetObject", DEV, &format!(r#","requestParameters":{{"bucketName":"{bucket}","key":"{key}"}}"#))
    };
    let a = check(&d, &get("it-backups-1", "PasswordBackup/passwords.kdbx"));
    assert_eq!((a.len(), a[0].kind.as_str()), (1, "s3_object"));
    assert_eq!(a[0].evidence.to_json()["matched"][0]["value"], "it-backups-1/PasswordBackup/passwords.kdbx");
    assert_eq!(a[0].evidence.to_json()["trap"]["name"], "*/PasswordBackup/*");
    assert!(check(&d, &get("it-backups-1", "Password")).is_empty());
    assert_eq!(check(&d, &get("corp", "keys.txt")).len(), 1);
    assert!(check(&d, &get("other", "keys.txt")).is_empty(), "bucket-scoped object trap");
    // An object in the honey bucket: the bucket trap fires (and only it).
    let a = check(&d, &get("honey-bucket", "x"));
    assert_eq!((a.len(), a[0].kind.as_str()), (1, "s3_bucket"));
    // Copy source.
    let copy = rec_json(
        "s3.amazonaws.com",
        "CopyObject",
        DEV,
        r#","requestParameters":{"bucketName":"mine","key":"k","x-amz-copy-source":"corp/keys.txt"}"#,
    );
    assert_eq!(locations(&check(&d, &copy)[0]), ["requestParameters.x-amz-copy-source"]);
    // Object ARN in resources.
    let res =
        rec_json("s3.amazonaws.com", "HeadObject", DEV, r#","resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::corp/keys.txt"}]"#);
    assert_eq!(locations(&check(&d, &res)[0]), ["resources[].ARN"]);
}

#[test]
fn secrets_by_name_partial_and_complete_arn() {
    let d = detector("[[traps.secret]]\nname = \"prod/db-master\"\n");
    for v in [
        "prod/db-master",
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-master-AbC123",
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-master",
    ] {
        let a = check(
            &d,
            &rec_json("secretsmanager.amazonaws.com", "GetSecretValue", DEV, &format!(r#","requestParameters":{{"secretId":"{v}"}}"#)),
        );
        assert_eq!((a.len(), a[0].kind.as_str()), (1, "secret"), "{v}");
    }
    let d = detector("[[traps.secret]]\narn = \"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-master-AbC123\"\n");
    let a = check(
        &d,
        &rec_json("secretsmanager.amazonaws.com", "DescribeSecret", DEV, r#","requestParameters":{"secretId":"prod/db-master"}"#),
    );
    assert_eq!(a.len(), 1);
}

#[test]
fn ssm_parameters_by_name_list_and_path() {
    let d = detector("[[traps.ssm_parameter]]\nname = \"/prod/db/password\"\n");
    let ev = |rp: &str| rec_json("ssm.amazonaws.com", "GetParameters", DEV, &format!(r#","requestParameters":{rp}"#));
    assert_eq!(check(&d, &ev(r#"{"name":"/prod/db/password","withDecryption":true}"#)).len(), 1);
    let a = check(&d, &ev(r#"{"names":["/a","/prod/db/password"]}"#));
    assert_eq!(locations(&a[0]), ["requestParameters.names[*]"]);
    assert_eq!(locations(&check(&d, &ev(r#"{"path":"/prod","recursive":true}"#))[0]), ["requestParameters.path"]);
    assert!(check(&d, &ev(r#"{"path":"/pro"}"#)).is_empty());
    assert!(check(&d, &ev(r#"{"name":"/prod/db"}"#)).is_empty());
}

#[test]
fn kms_keys_by_id_alias_and_arn() {
    let d = detector("[[traps.kms_key]]\nid = \"1234abcd-12ab-34cd-56ef-1234567890ab\"\n[[traps.kms_key]]\nname = \"alias/canary\"\n");
    let ev = |k: &str| rec_json("kms.amazonaws.com", "Decrypt", DEV, &format!(r#","requestParameters":{{"keyId":"{k}"}}"#));
    assert_eq!(check(&d, &ev("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")).len(), 1);
    assert_eq!(check(&d, &ev("alias/canary"))[0].kind, "kms_key");
    assert!(check(&d, &ev("alias/aws/ssm")).is_empty());
}

#[test]
fn instances_by_parameter_and_stolen_role_credentials() {
    let d = detector("[[traps.ec2_instance]]\nid = \"i-0dbc91f429e48eeed\"\n");
    let a = check(
        &d,
        &rec_json(
            "ec2.amazonaws.com",
            "DescribeInstances",
            DEV,
            r#","requestParameters":{"instancesSet":{"items":[{"instanceId":"i-1"},{"instanceId":"i-0dbc91f429e48eeed"}]}}"#,
        ),
    );
    assert_eq!((a.len(), a[0].kind.as_str()), (1, "ec2_instance"));
    let a =
        check(&d, &rec_json("ssm.amazonaws.com", "SendCommand", DEV, r#","requestParameters":{"instanceIds":["i-0dbc91f429e48eeed"]}"#));
    assert_eq!(a.len(), 1);
    // The instance profile's credentials used: the session is named after the instance.
    let stolen = DEV.replace("dev/alice", "ec2-role/i-0dbc91f429e48eeed");
    let a = check(&d, &rec_json("iam.amazonaws.com", "ListUsers", &stolen, ""));
    assert_eq!(locations(&a[0]), ["userIdentity.arn (role session name)"]);
}

#[test]
fn access_keys_and_users_in_iam_parameters() {
    let d = detector("[[traps.access_key]]\nid = \"AKIACANARY0000000000\"\n[[traps.iam_user]]\nname = \"Backup_Admin\"\n");
    let caller = r#"{"type":"IAMUser","principalId":"AIDA","arn":"arn:aws:iam::111122223333:user/Backup_Admin","accountId":"111122223333","accessKeyId":"AKIACANARY0000000000","userName":"Backup_Admin"}"#;
    let a = check(&d, &rec_json("sts.amazonaws.com", "GetCallerIdentity", caller, ""));
    let kinds: Vec<&str> = a.iter().map(|a| a.kind.as_str()).collect();
    assert_eq!(kinds, ["access_key", "iam_user"]);
    let a = check(&d, &rec_json("iam.amazonaws.com", "CreateAccessKey", DEV, r#","requestParameters":{"userName":"Backup_Admin"}"#));
    assert_eq!(locations(&a[0]), ["requestParameters.userName"]);
    let a =
        check(&d, &rec_json("iam.amazonaws.com", "DeleteAccessKey", DEV, r#","requestParameters":{"accessKeyId":"AKIACANARY0000000000"}"#));
    assert_eq!(a[0].kind, "access_key");
    // A federated session minted from the user (GetFederationToken).
    let fed = r#"{"type":"FederatedUser","arn":"arn:aws:sts::111122223333:federated-user/x","accountId":"111122223333","sessionContext":{"sessionIssuer":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/Backup_Admin","userName":"Backup_Admin"}}}"#;
    assert_eq!(check(&d, &rec_json("s3.amazonaws.com", "ListBuckets", fed, "")).len(), 1);
}

#[test]
fn lambda_functions_and_generic_resources() {
    let d = detector(
        "[[traps.lambda_function]]\nname = \"payroll-export\"\n[[traps.resource]]\narn = \"arn:aws:sns:us-east-1:111122223333:alerts\"\n",
    );
    let ev = |f: &str| {
        rec_json("lambda.amazonaws.com", "GetFunction20150331v2", DEV, &format!(r#","requestParameters":{{"functionName":"{f}"}}"#))
    };
    assert_eq!(check(&d, &ev("payroll-export")).len(), 1);
    assert_eq!(check(&d, &ev("arn:aws:lambda:us-east-1:111122223333:function:payroll-export:prod"))[0].kind, "lambda_function");
    assert!(check(&d, &ev("payroll")).is_empty());
    let a = check(
        &d,
        &rec_json("sns.amazonaws.com", "Publish", DEV, r#","requestParameters":{"topicArn":"arn:aws:sns:us-east-1:111122223333:alerts"}"#),
    );
    assert_eq!((a.len(), a[0].kind.as_str()), (1, "resource"));
}

#[test]
fn nothing_declared_or_disabled_means_no_alerts() {
    let ev = rec_json(
        "sts.amazonaws.com",
        "AssumeRole",
        DEV,
        r#","requestParameters":{"roleArn":"arn:aws:iam::111122223333:role/DevOps_role"}"#,
    );
    assert!(check(&detector(""), &ev).is_empty());
    assert!(check(&detector("[traps]\nenabled = false\n[[traps.iam_role]]\nname = \"DevOps_role\"\n"), &ev).is_empty());
}

#[test]
fn alert_ids_are_deterministic_per_trap_and_event() {
    let d = detector("[[traps.iam_role]]\nname = \"DevOps_role\"\n[[traps.access_key]]\nid = \"ASIAXXX\"\n");
    let ev = rec_json(
        "sts.amazonaws.com",
        "AssumeRole",
        DEV,
        r#","requestParameters":{"roleArn":"arn:aws:iam::111122223333:role/DevOps_role"}"#,
    );
    let a = check(&d, &ev);
    let b = check(&d, &ev);
    assert_eq!(a.len(), 2);
    assert_eq!(id_of(&a[0]), id_of(&b[0]));
    assert_ne!(id_of(&a[0]), id_of(&a[1]));
    let other = check(&d, &ev.replace("ev-AssumeRole", "ev-2"));
    assert_ne!(id_of(&a[0]), id_of(&other[0]));
    // Without an eventID the record's hash keys the alert.
    let bare = ev.replace(r#","eventID":"ev-AssumeRole""#, "");
    let c = check(&d, &bare);
    assert!(c[0].event_ids.is_empty() && c[0].evidence.to_json()["record_hash"].is_string());
    assert_eq!(id_of(&c[0]), id_of(&check(&d, &bare)[0]));
}

#[test]
fn config_errors_name_the_line_or_the_trap() {
    let e = Config::parse("[[traps.iam_role]]\nname = \"a\"\n\n[[traps.iam_role]]\nnme = \"b\"\n", "c.toml").unwrap_err().to_string();
    assert!(e.starts_with("c.toml:5:1: unknown field `nme`"), "{e}");
    let e = Config::parse("[[traps.iam_role]]\nname = \"a\"\narn = \"arn:aws:iam::1:role/a\"\n", "c.toml").unwrap_err().to_string();
    assert!(e.starts_with("c.toml:1:1: ") && e.contains("not both"), "{e}");
    let e = Config::parse("[[traps.s3_object]]\nbucket = \"b\"\n", "c.toml").unwrap_err().to_string();
    assert!(e.contains("key_prefix"), "{e}");
    let e = Config::parse("[[traps.iam_user]]\nname = \"a\"\naccount = \"12\"\n", "c.toml").unwrap_err().to_string();
    assert!(e.contains("12-digit"), "{e}");
    let e = Config::parse("[[traps.iam_role]]\narn = \"arn:aws:iam::111122223333:user/a\"\n", "c.toml").unwrap_err().to_string();
    assert!(e.starts_with("c.toml:2:7: [[traps.iam_role]]") && e.contains("role/NAME"), "{e}");
    let e = Config::parse("[[traps.iam_role]]\narn = \"arn:aws:iam::111122223333:role/a\"\naccount = \"999999999999\"\n", "c.toml")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("c.toml:3:11: ") && e.contains("contradicts"), "{e}");
    let e = Config::parse("[[traps.resource]]\nname = \"x\"\n", "c.toml").unwrap_err().to_string();
    assert!(e.contains("arn"), "{e}");
    let e = Config::parse("[traps]\nseverity = \"urgent\"\n", "c.toml").unwrap_err().to_string();
    assert!(e.starts_with("c.toml:2:12: "), "{e}");
}

#[test]
fn hostile_values_do_not_panic() {
    let d = detector("[[traps.iam_user]]\nname = \"x\"\n[[traps.ssm_parameter]]\nname = \"p\"\n[[traps.s3_object]]\nkey = \"k\"\n");
    let long = "É".repeat(200);
    for rp in [
        format!(r#"{{"userName":"{long}"}}"#),
        r#"{"userName":["x"],"name":{"a":1},"path":"","key":null}"#.to_string(),
        r#"{"x-amz-copy-source":"/"}"#.to_string(),
        "[1,2]".to_string(),
    ] {
        for src in ["iam.amazonaws.com", "ssm.amazonaws.com", "s3.amazonaws.com"] {
            let _ = check(&d, &rec_json(src, "X", r#"{"type":"IAMUser","userName":"ÉÉÉX"}"#, &format!(r#","requestParameters":{rp}"#)));
        }
    }
    // An empty path lists everything: the canary parameter is revealed.
    assert_eq!(check(&d, &rec_json("ssm.amazonaws.com", "GetParametersByPath", DEV, r#","requestParameters":{"path":"/"}"#)).len(), 1);
}

#[test]
fn escaped_and_differently_cased_names_are_found() {
    // A non-ASCII key may reach us as `\u00e9`.
    let d = detector("[[traps.s3_object]]\nkey = \"rapport-été.pdf\"\n[[traps.iam_role]]\nname = \"DevOps_role\"\n");
    let ev = rec_json("s3.amazonaws.com", "GetObject", DEV, r#","requestParameters":{"bucketName":"b","key":"rapport-\u00e9t\u00e9.pdf"}"#);
    assert_eq!(check(&d, &ev).len(), 1);
    // IAM names in any case.
    let d = detector("[[traps.iam_role]]\nname = \"DevOps_role\"\n");
    let ev = rec_json(
        "sts.amazonaws.com",
        "AssumeRole",
        DEV,
        r#","requestParameters":{"roleArn":"arn:aws:iam::111122223333:role/DEVOPS_ROLE"}"#,
    );
    assert_eq!(check(&d, &ev).len(), 1);
}

#[test]
fn touches_group_per_trap_principal_and_window_whatever_the_order() {
    let d = detector("[traps]\ngroup_minutes = 60\n[[traps.dynamodb_table]]\nname = \"customers\"\n");
    let touch = |minute: u32, id: &str, who: &str, err: &str| {
        let user = format!(r#"{{"type":"IAMUser","arn":"arn:aws:iam::{ACCT}:user/{who}","accountId":"{ACCT}","userName":"{who}"}}"#);
        let ev = rec_json("dynamodb.amazonaws.com", "Scan", &user, &format!(r#","requestParameters":{{"tableName":"customers"}}{err}"#))
            .replace("ev-Scan", id)
            .replace("12:17:04", &format!("12:{minute:02}:04"));
        check(&d, &ev).remove(0)
    };
    let denied = r#","errorCode":"AccessDeniedException""#;
    let mut touches: Vec<Alert> = (0..5).map(|i| touch(10 + i, &format!("a{i}"), "alice", denied)).collect();
    touches.push(touch(50, "a9", "alice", ""));
    touches.push(touch(20, "b1", "bob", denied));
    let grouped = d.group(touches.clone());
    touches.reverse();
    assert_eq!(d.group(touches), grouped, "worker order does not matter");
    assert_eq!(grouped.len(), 2);
    let alice = grouped.iter().find(|a| a.event_ids[0] == "a0").unwrap();
    let e = alice.evidence.as_trap().unwrap();
    assert_eq!((alice.count, e.succeeded, e.outcomes.denied, e.outcomes.succeeded), (6, true, 5, 1));
    assert_eq!(alice.event_ids, ["a0", "a1", "a2", "a3", "a4", "a9"]);
    assert_eq!((e.window_start.as_deref(), e.last_event_time.as_deref()), (Some("2024-05-11T12:00:00Z"), Some("2024-05-11T12:50:04Z")));
    assert_eq!(alice.event_time.as_deref(), Some("2024-05-11T12:10:04Z"));
    // The id names trap, principal and window: the group's later touches read in another batch
    // key to the same alert.
    assert_eq!(d.group(vec![touch(40, "a7", "alice", "")])[0].id, alice.id);
    let off = detector("[traps]\ngroup_minutes = 0\n[[traps.dynamodb_table]]\nname = \"customers\"\n");
    assert_eq!(off.group(vec![touch(10, "a0", "alice", ""), touch(11, "a1", "alice", "")]).len(), 2);
}

#[test]
fn rds_instances_and_clusters_by_identifier_arn_and_source() {
    let d = detector(
        "[[traps.rds_instance]]\nname = \"customers-prod\"\n[[traps.rds_cluster]]\narn = \"arn:aws:rds:us-east-1:111122223333:cluster:billing\"\n",
    );
    let rds = |name: &str, rp: &str| check(&d, &rec_json("rds.amazonaws.com", name, DEV, &format!(r#","requestParameters":{rp}"#)));
    let a = rds("DescribeDBInstances", r#"{"dBInstanceIdentifier":"Customers-Prod"}"#);
    assert_eq!((a.len(), a[0].kind.as_str()), (1, "rds_instance"), "RDS identifiers ignore case");
    // A snapshot of the honeypot, a read replica and a restore from it, its tags, a filter.
    let a = rds("CreateDBSnapshot", r#"{"dBSnapshotIdentifier":"exfil","dBInstanceIdentifier":"customers-prod"}"#);
    assert_eq!(locations(&a[0]), ["requestParameters.dBInstanceIdentifier"]);
    let a = rds(
        "CreateDBInstanceReadReplica",
        r#"{"dBInstanceIdentifier":"copy","sourceDBInstanceIdentifier":"arn:aws:rds:us-east-1:111122223333:db:customers-prod"}"#,
    );
    assert_eq!(locations(&a[0]), ["requestParameters.sourceDBInstanceIdentifier"]);
    let a = rds("ListTagsForResource", r#"{"resourceName":"arn:aws:rds:us-east-1:111122223333:db:customers-prod"}"#);
    assert_eq!(a.len(), 1);
    let a = rds("DescribeDBInstances", r#"{"filters":[{"name":"db-instance-id","values":["customers-prod"]}]}"#);
    assert_eq!(a.len(), 1);
    // The cluster: by identifier (in this account only: the ARN scopes it), restores, the Data API.
    let a = rds("RestoreDBClusterToPointInTime", r#"{"dBClusterIdentifier":"new","sourceDBClusterIdentifier":"billing"}"#);
    assert_eq!((a.len(), a[0].kind.as_str()), (1, "rds_cluster"));
    let data = r#","requestParameters":{"resourceArn":"arn:aws:rds:us-east-1:111122223333:cluster:billing","sql":"select 1"}"#;
    assert_eq!(check(&d, &rec_json("rdsdataapi.amazonaws.com", "ExecuteStatement", DEV, data)).len(), 1);
    // Other databases, and a DynamoDB table of the same name, are not the trap.
    assert!(rds("DescribeDBInstances", r#"{"dBInstanceIdentifier":"customers-dev"}"#).is_empty());
    assert!(rds("DescribeDBClusters", r#"{"dBClusterIdentifier":"customers-prod"}"#).is_empty());
    assert!(
        check(&d, &rec_json("dynamodb.amazonaws.com", "DescribeTable", DEV, r#","requestParameters":{"tableName":"customers-prod"}"#))
            .is_empty()
    );
}

/// A `RunInstances` record launching `instance` (with interface `eni`) into `subnet` of `vpc`.
fn run_instances(subnet: &str, vpc: &str, instance: &str, eni: &str) -> String {
    let rp = format!(
        r#","requestParameters":{{"instancesSet":{{"items":[{{"imageId":"ami-0abcdef1","minCount":1,"maxCount":1}}]}},"subnetId":"{subnet}"}}"#
    );
    let re = format!(
        r#","responseElements":{{"instancesSet":{{"items":[{{"instanceId":"{instance}","imageId":"ami-0abcdef1","keyName":"i-deploy","subnetId":"{subnet}","vpcId":"{vpc}","networkInterfaceSet":{{"items":[{{"networkInterfaceId":"{eni}","subnetId":"{subnet}","vpcId":"{vpc}"}}]}}}}]}}}}"#
    );
    rec_json("ec2.amazonaws.com", "RunInstances", DEV, &format!("{rp}{re}"))
}

#[test]
fn subnet_traps_learn_the_hosts_created_in_them() {
    let d = detector(
        "[[traps.subnet]]\nid = \"subnet-0aaaaaaaaaaaaaaaa\"\nlabel = \"honeypot hosts\"\ninstances = [\"i-0cccccccccccccccc\"]\n",
    );
    let ec2 = |name: &str, rp: &str| check(&d, &rec_json("ec2.amazonaws.com", name, DEV, &format!(r#","requestParameters":{rp}"#)));
    // A declared host, by ID and by ARN in resources[].
    assert_eq!(ec2("StopInstances", r#"{"instancesSet":{"items":[{"instanceId":"i-0cccccccccccccccc"}]}}"#)[0].kind, "subnet");
    let res = r#","resources":[{"ARN":"arn:aws:ec2:us-east-1:111122223333:instance/i-0cccccccccccccccc"}]"#;
    assert_eq!(check(&d, &rec_json("ec2.amazonaws.com", "X", DEV, res)).len(), 1);
    // Unknown hosts are not the trap, until a launch into the subnet makes them members.
    let host = r#"{"instanceId":"i-0bbbbbbbbbbbbbbbb"}"#;
    assert!(ec2("GetConsoleOutput", host).is_empty());
    let a = check(&d, &run_instances("subnet-0aaaaaaaaaaaaaaaa", "vpc-01111111", "i-0bbbbbbbbbbbbbbbb", "eni-0dddddddddddddddd"));
    assert_eq!(a.len(), 1, "the launch into the subnet is a touch");
    assert_eq!(locations(&a[0]), ["requestParameters", "responseElements"]);
    assert_eq!(ec2("GetConsoleOutput", host)[0].evidence.to_json()["matched"][0]["value"], "i-0bbbbbbbbbbbbbbbb");
    assert_eq!(
        ec2("DescribeNetworkInterfaces", r#"{"networkInterfaceIdSet":{"items":[{"networkInterfaceId":"eni-0dddddddddddddddd"}]}}"#).len(),
        1
    );
    assert!(ec2("DescribeKeyPairs", r#"{"keyName":"i-deploy"}"#).is_empty(), "only IDs of hosts are learned");
    // A volume attached to a member joins it; the instance's own credentials touch it too.
    assert_eq!(
        ec2("AttachVolume", r#"{"volumeId":"vol-0eeeeeeeeeeeeeeee","instanceId":"i-0bbbbbbbbbbbbbbbb","device":"/dev/sdf"}"#).len(),
        1
    );
    assert_eq!(ec2("CreateSnapshot", r#"{"volumeId":"vol-0eeeeeeeeeeeeeeee"}"#).len(), 1);
    let creds = DEV.replace("dev/alice", "web/i-0bbbbbbbbbbbbbbbb");
    assert_eq!(
        locations(&check(&d, &rec_json("s3.amazonaws.com", "ListBuckets", &creds, ""))[0]),
        ["userIdentity.arn (role session name)"]
    );
    // The store keeps what was learned, by trap id; another detector can be told it.
    let learned = d.take_learned();
    let members: Vec<&str> = learned.iter().map(|(_, m, _)| m.as_str()).collect();
    assert_eq!(members, ["i-0bbbbbbbbbbbbbbbb", "eni-0dddddddddddddddd", "vol-0eeeeeeeeeeeeeeee"]);
    assert!(d.take_learned().is_empty());
    let fresh = detector("[[traps.subnet]]\nid = \"subnet-0aaaaaaaaaaaaaaaa\"\nlabel = \"honeypot hosts\"\n");
    assert!(check(&fresh, &rec_json("ec2.amazonaws.com", "GetConsoleOutput", DEV, &format!(r#","requestParameters":{host}"#))).is_empty());
    fresh.remember(learned.into_iter().map(|(t, m, _)| (t, m)));
    assert_eq!(check(&fresh, &rec_json("ec2.amazonaws.com", "GetConsoleOutput", DEV, &format!(r#","requestParameters":{host}"#))).len(), 1);
    // A launch into another subnet teaches nothing.
    assert!(
        check(&d, &run_instances("subnet-0ffffffffffffffff", "vpc-02222222", "i-0999999999999999a", "eni-0999999999999999a")).is_empty()
    );
    assert!(ec2("GetConsoleOutput", r#"{"instanceId":"i-0999999999999999a"}"#).is_empty());
}

#[test]
fn vpc_traps_by_id_filter_and_interface_created_in_them() {
    let d = detector("[[traps.vpc]]\narn = \"arn:aws:ec2:us-east-1:111122223333:vpc/vpc-0abc1234\"\n");
    let ec2 =
        |name: &str, rp: &str, re: &str| check(&d, &rec_json("ec2.amazonaws.com", name, DEV, &format!(r#","requestParameters":{rp}{re}"#)));
    assert_eq!(ec2("DescribeVpcs", r#"{"vpcSet":{"items":[{"vpcId":"vpc-0abc1234"}]}}"#, "")[0].kind, "vpc");
    let filter = r#"{"filterSet":{"items":[{"name":"vpc-id","valueSet":{"items":[{"value":"vpc-0abc1234"}]}}]}}"#;
    assert_eq!(ec2("DescribeInstances", filter, "").len(), 1);
    // The interface's request names only a subnet; its response says which VPC it is in.
    let re = r#","responseElements":{"networkInterface":{"networkInterfaceId":"eni-0123456789abcdef0","subnetId":"subnet-0f0f0f0f","vpcId":"vpc-0abc1234"}}"#;
    assert_eq!(ec2("CreateNetworkInterface", r#"{"subnetId":"subnet-0f0f0f0f"}"#, re).len(), 1);
    assert_eq!(ec2("DeleteNetworkInterface", r#"{"networkInterfaceId":"eni-0123456789abcdef0"}"#, "").len(), 1);
    // The ARN scopes the trap to its account.
    let other = rec_json("ec2.amazonaws.com", "DescribeVpcs", DEV, r#","requestParameters":{"vpcId":"vpc-0abc1234"}"#)
        .replace(ACCT, "999999999999");
    assert!(check(&d, &other).is_empty());
    let e = Config::parse("[[traps.vpc]]\nid = \"subnet-1\"\n", "c.toml").unwrap_err().to_string();
    assert!(e.starts_with("c.toml:2:6: ") && e.contains("does not name a vpc"), "{e}");
    let e = Config::parse("[[traps.subnet]]\nid = \"subnet-1\"\ninstances = [\"vol-1\"]\n", "c.toml").unwrap_err().to_string();
    assert!(e.contains("instances") && e.contains("i-"), "{e}");
}

#[test]
fn a_host_named_before_its_launch_was_read_is_found_on_the_second_look() {
    let d = detector("[[traps.subnet]]\nid = \"subnet-0aaaaaaaaaaaaaaaa\"\n");
    let look = rec_json("ec2.amazonaws.com", "GetConsoleOutput", DEV, r#","requestParameters":{"instanceId":"i-0bbbbbbbbbbbbbbbb"}"#);
    let (alerts, defer) = d.check_deferring(&Record::parse(&look).unwrap());
    assert!(alerts.is_empty() && defer, "an unknown host: kept for a second look");
    assert!(d.recheck(&[look.clone().into()], 0).is_empty(), "nothing learned yet");
    check(&d, &run_instances("subnet-0aaaaaaaaaaaaaaaa", "vpc-01111111", "i-0bbbbbbbbbbbbbbbb", "eni-0dddddddddddddddd"));
    let again = d.recheck(&[look.into()], 0);
    assert_eq!((again.len(), again[0].kind.as_str()), (1, "subnet"));
    let other = rec_json("ec2.amazonaws.com", "DescribeImages", DEV, r#","requestParameters":{"imageId":"ami-0123"}"#);
    assert!(!d.check_deferring(&Record::parse(&other).unwrap()).1, "no host named: nothing kept");
}
