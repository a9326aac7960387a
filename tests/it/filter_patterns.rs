//! Golden tests: every CIS pattern (as shipped in the `cis` pack) and the variants whose meaning
//! turns on precedence or case, against events that must and must not match.

use trailhound::event::Record;
use trailhound::rules::pack::{RulesConfig, load};
use trailhound::rules::pattern::FilterPattern;

fn matches(pattern: &str, event: &str) -> bool {
    let rec = Record::parse(event).unwrap();
    FilterPattern::parse(pattern).unwrap_or_else(|e| panic!("{e}")).matches(&rec)
}

fn signin() -> Vec<String> {
    std::fs::read_to_string("testdata/patterns/signin_events.jsonl").unwrap().lines().map(str::to_string).collect()
}

/// A CloudTrail record with the given top-level members (JSON text without braces).
fn ev(members: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventTime":"2024-05-01T10:00:00Z","eventID":"e","awsRegion":"us-east-1","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u","accountId":"111122223333","userName":"u"}},{members}}}"#
    )
}

/// The `cis` pack's filter patterns by metric name.
fn cis() -> std::collections::BTreeMap<String, String> {
    let cfg = RulesConfig { packs: vec!["cis".into()], ..RulesConfig::default() };
    load(&cfg, None).unwrap().metric_filters.into_iter().map(|(_, f)| (f.metric_name, f.filter_pattern)).collect()
}

#[test]
fn cis_signin_patterns_on_the_aws_sign_in_records() {
    let p = cis();
    let e = signin();
    let row = |pattern: &str| -> [bool; 3] { [matches(pattern, &e[0]), matches(pattern, &e[1]), matches(pattern, &e[2])] };
    assert_eq!(row(&p["RootAccountUsage"]), [false, false, true]);
    assert_eq!(row(&p["ConsoleSigninWithoutMFA"]), [true, false, false]);
    assert_eq!(row(&p["ConsoleAuthenticationFailures"]), [false, true, false]);
    assert_eq!(row(&p["UnauthorizedAPICalls"]), [false, false, false]);
    // CIS v1.2 MFA pattern: `"MFAUsed": "YES"` on the root sign-in is not "Yes" (case-sensitive).
    assert_eq!(row(r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#), [true, false, true]);
    // CIS v1.4.0 unauthorized-calls pattern: its `||` makes it match nearly everything.
    let v14 = r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") || ($.sourceIPAddress!="delivery.logs.amazonaws.com") || ($.eventName!="HeadBucket") }"#;
    assert_eq!(row(v14), [true, true, true]);
}

#[test]
fn unauthorized_calls_precedence_vectors() {
    let as_written = r#"{ ($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*") && ($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }"#;
    let explicit = r#"{(($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && (($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket"))}"#;
    let cases = [
        (
            r#""errorCode":"Client.UnauthorizedOperation","sourceIPAddress":"delivery.logs.amazonaws.com","eventName":"RunInstances","eventSource":"ec2.amazonaws.com""#,
            true,
            false,
        ),
        (
            r#""errorCode":"AccessDenied","sourceIPAddress":"delivery.logs.amazonaws.com","eventName":"PutObject","eventSource":"s3.amazonaws.com""#,
            false,
            false,
        ),
        (
            r#""errorCode":"AccessDenied","sourceIPAddress":"203.0.113.5","eventName":"HeadBucket","eventSource":"s3.amazonaws.com""#,
            false,
            false,
        ),
        (
            r#""errorCode":"AccessDenied","sourceIPAddress":"203.0.113.5","eventName":"GetObject","eventSource":"s3.amazonaws.com""#,
            true,
            true,
        ),
    ];
    for (members, a, b) in cases {
        let e = ev(members);
        assert_eq!((matches(as_written, &e), matches(explicit, &e)), (a, b), "{members}");
    }
}

#[test]
fn every_cis_pattern_fires_on_its_events_and_not_on_others() {
    let p = cis();
    assert_eq!(p.len(), 15);
    let call = |source: &str, name: &str| ev(&format!(r#""eventSource":"{source}","eventName":"{name}","sourceIPAddress":"203.0.113.5""#));
    let fires: &[(&str, &[(&str, &str)])] = &[
        (
            "IAMPolicyChanges",
            &[
                ("iam.amazonaws.com", "PutUserPolicy"),
                ("iam.amazonaws.com", "DetachGroupPolicy"),
                ("iam.amazonaws.com", "CreatePolicyVersion"),
            ],
        ),
        ("CloudTrailConfigChanges", &[("cloudtrail.amazonaws.com", "StopLogging"), ("cloudtrail.amazonaws.com", "DeleteTrail")]),
        ("DisableOrDeleteCMK", &[("kms.amazonaws.com", "DisableKey"), ("kms.amazonaws.com", "ScheduleKeyDeletion")]),
        ("S3BucketPolicyChanges", &[("s3.amazonaws.com", "PutBucketPolicy"), ("s3.amazonaws.com", "DeleteBucketReplication")]),
        ("AWSConfigChanges", &[("config.amazonaws.com", "StopConfigurationRecorder"), ("config.amazonaws.com", "PutDeliveryChannel")]),
        ("SecurityGroupChanges", &[("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"), ("ec2.amazonaws.com", "DeleteSecurityGroup")]),
        ("NACLChanges", &[("ec2.amazonaws.com", "CreateNetworkAclEntry"), ("ec2.amazonaws.com", "ReplaceNetworkAclAssociation")]),
        ("NetworkGatewayChanges", &[("ec2.amazonaws.com", "AttachInternetGateway"), ("ec2.amazonaws.com", "DeleteCustomerGateway")]),
        ("RouteTableChanges", &[("ec2.amazonaws.com", "CreateRoute"), ("ec2.amazonaws.com", "DisassociateRouteTable")]),
        ("VPCChanges", &[("ec2.amazonaws.com", "CreateVpcPeeringConnection"), ("ec2.amazonaws.com", "EnableVpcClassicLink")]),
        ("OrganizationsChanges", &[("organizations.amazonaws.com", "LeaveOrganization"), ("organizations.amazonaws.com", "CreateAccount")]),
    ];
    let quiet = [
        call("iam.amazonaws.com", "GetUserPolicy"),
        call("cloudtrail.amazonaws.com", "DescribeTrails"),
        call("kms.amazonaws.com", "EnableKey"),
        call("s3.amazonaws.com", "GetBucketPolicy"),
        call("ec2.amazonaws.com", "DescribeSecurityGroups"),
        call("ec2.amazonaws.com", "DescribeVpcs"),
        call("organizations.amazonaws.com", "ListAccounts"),
        // Right names, wrong services: the source-scoped controls stay quiet.
        call("iam.amazonaws.com", "DisableKey"),
        call("ec2.amazonaws.com", "PutBucketPolicy"),
        call("sts.amazonaws.com", "StopConfigurationRecorder"),
        call("ec2.amazonaws.com", "LeaveOrganization"),
        // Names differing only in case.
        call("cloudtrail.amazonaws.com", "stoplogging"),
    ];
    for (metric, events) in fires {
        let pattern = &p[*metric];
        for (source, name) in *events {
            assert!(matches(pattern, &call(source, name)), "{metric} should fire on {name}");
        }
        for e in &quiet {
            assert!(!matches(pattern, e), "{metric} should not fire on {e}");
        }
    }
    // Root: an AWS service acting as root, or a service event, is not root usage.
    let root = |extra: &str| {
        format!(
            r#"{{"eventTime":"2024-05-01T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","eventType":"AwsApiCall","userIdentity":{{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"{extra}}}}}"#
        )
    };
    assert!(matches(&p["RootAccountUsage"], &root("")));
    assert!(!matches(&p["RootAccountUsage"], &root(r#","invokedBy":"support.amazonaws.com""#)));
    assert!(!matches(&p["RootAccountUsage"], &root("").replace("AwsApiCall", "AwsServiceEvent")));
    let unauthorized = &p["UnauthorizedAPICalls"];
    assert!(matches(
        unauthorized,
        &ev(r#""eventSource":"ec2.amazonaws.com","eventName":"RunInstances","errorCode":"Client.UnauthorizedOperation""#)
    ));
    assert!(matches(unauthorized, &ev(r#""eventSource":"s3.amazonaws.com","eventName":"GetObject","errorCode":"AccessDenied""#)));
    assert!(!matches(unauthorized, &ev(r#""eventSource":"s3.amazonaws.com","eventName":"GetObject","errorCode":"NoSuchKey""#)));
}
