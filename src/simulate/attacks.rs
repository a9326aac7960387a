//! Labelled scenarios: attacks and benign novelty, as explicit events laid over the baseline.
//!
//! Event sequences follow the Stratus Red Team detonation logs (DataDog/stratus-red-team,
//! Apache-2.0, `docs/detonation-logs/`): the same API calls, parameters and error codes, replayed
//! by principals of the simulated organisation. See `NOTICE` at the repository root.

use super::baseline::World;
use super::event::{Event, Extra};
use super::labels::{Scenario, ScenarioKind};
use super::org::{ROLLOUT_REGION, UNUSED_REGIONS, US_EAST_1};
use super::principals::*;
use super::rng::{Rng, uuid_string};
use serde_json::json;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const ATTACKER_IP: &str = "91.219.236.174";
/// A long-standing Tor exit relay address (185.220.101.0/24, Zwiebelfreunde e.V.).
pub const TOR_EXIT_IP: &str = "185.220.101.47";
const ATTACKER_UA: &str = "aws-cli/2.13.25 Python/3.11.5 Linux/6.5.0-kali3-amd64 exe/x86_64.kali.2023 prompt/off";
const PACU_UA: &str = "Boto3/1.28.62 md/Botocore#1.31.62 ua/2.0 os/linux#6.5.0-kali3-amd64 md/arch#x86_64 lang/python#3.11.5 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.31.62";
const OUTSIDE_ACCOUNT: &str = "098797384747";

/// The laid-over events and their labels.
pub struct Plan {
    pub events: Vec<Event>,
    pub scenarios: Vec<Scenario>,
}

struct Builder<'w> {
    w: &'w World,
    rng: Rng,
    events: Vec<Event>,
    scenarios: Vec<Scenario>,
    mark: usize,
}

/// Scenario metadata filled in when its events are done.
struct Meta<'a> {
    technique: &'a str,
    title: String,
    account: Option<usize>,
    principal: Option<String>,
    expected: &'a [&'a str],
    reference: Option<&'a str>,
}

impl<'w> Builder<'w> {
    fn begin(&mut self) {
        self.mark = self.events.len();
    }

    /// Adds one event in the account's primary region (us-east-1 for global services).
    fn push(&mut self, t: i64, account: usize, principal: &str, api: Api, x: Extra) {
        let region = if api.is_global() { US_EAST_1 } else { self.w.org.accounts[account].workload_regions[0] };
        self.push_in(t, account, region, principal, api, x);
    }

    fn push_in(&mut self, t: i64, account: usize, region: u8, principal: &str, api: Api, x: Extra) {
        let p = index_of(&self.w.catalogue, principal);
        let person = if matches!(principal, ADMIN_SSO_ROLE | DEV_SSO_ROLE) {
            PEOPLE.iter().position(|p| p.2 == (principal == ADMIN_SSO_ROLE)).unwrap_or(0) as u8
        } else {
            0
        };
        let id = self.rng.uuid();
        self.events.push(Event {
            time: t,
            id,
            account: account as u16,
            region,
            principal: p,
            person,
            api,
            error: None,
            extra: Some(Box::new(x)),
        });
    }

    fn finish(&mut self, kind: ScenarioKind, m: Meta<'_>, window: Option<(i64, i64)>) {
        let evs = &self.events[self.mark..];
        let (start, end) =
            window.unwrap_or_else(|| (evs.iter().map(|e| e.time).min().unwrap_or(0), evs.iter().map(|e| e.time).max().unwrap_or(0)));
        let event_ids = evs
            .iter()
            .map(|e| {
                let mut s = Vec::with_capacity(36);
                uuid_string(e.id, &mut s);
                String::from_utf8_lossy(&s).into_owned()
            })
            .collect();
        let prefix = if kind == ScenarioKind::Attack { "a" } else { "n" };
        self.scenarios.push(Scenario {
            id: format!("{prefix}{:02}-{}", self.scenarios.iter().filter(|s| s.kind == kind).count() + 1, m.technique.replace('_', "-")),
            kind,
            technique: m.technique.to_string(),
            title: m.title,
            account: m.account.map(|a| self.w.org.accounts[a].id.clone()),
            principal: m.principal,
            start: crate::event::time::format_millis(start),
            end: crate::event::time::format_millis(end),
            event_ids,
            expected: m.expected.iter().map(|s| s.to_string()).collect(),
            reference: m.reference.map(str::to_string),
        });
    }

    /// The normalised principal id of a catalogue principal (what `alert.principal` holds).
    fn principal_id(&self, account: usize, name: &str) -> String {
        let acct = &self.w.org.accounts[account].id;
        let def = &self.w.catalogue[index_of(&self.w.catalogue, name) as usize];
        match def.kind {
            IdentityKind::Role { path, .. } => format!("arn:aws:iam::{acct}:role{path}{name}"),
            IdentityKind::IamUser => format!("arn:aws:iam::{acct}:user/{name}"),
            IdentityKind::Service => def.service.unwrap_or(name).to_string(),
        }
    }

    fn gap(&mut self) -> i64 {
        1_000 + self.rng.below(6_000) as i64
    }
}

fn attacker(session: Option<&str>) -> Extra {
    Extra {
        source_ip: Some(ATTACKER_IP.into()),
        user_agent: Some(ATTACKER_UA.into()),
        session: session.map(str::to_string),
        ..Extra::default()
    }
}

fn params(v: serde_json::Value) -> Option<String> {
    Some(v.to_string())
}

fn denied(code: &str, msg: &str) -> Option<(String, String)> {
    Some((code.to_string(), msg.to_string()))
}

/// Burn-in length: half the span, at most a week.
pub fn burn_in_days(days: u32) -> u32 {
    (days / 2).min(7)
}

/// Builds the benign-novelty and attack scenarios selected by `attacks`.
pub fn plan(w: &World, attacks: &[&str]) -> Plan {
    let mut b = Builder { w, rng: Rng::keyed(&[w.seed, 0xa77ac]), events: Vec::new(), scenarios: Vec::new(), mark: 0 };
    novelty(&mut b);
    let burn = burn_in_days(w.days);
    let founders: Vec<usize> = (0..w.org.accounts.len()).filter(|&a| w.org.accounts[a].joined_day == 0).collect();
    let span = (w.days - burn).max(1);
    for (i, name) in attacks.iter().enumerate() {
        let day = burn + (i as u32 * span / attacks.len().max(1) as u32).min(span - 1);
        let t = w.day_start(day) + 9 * HOUR + b.rng.below(9 * HOUR as u64) as i64;
        // Scenarios using svc-reporting need an account where it exists (every third).
        let account = if matches!(*name, "trap_assume_role" | "tor_exit") { 0 } else { founders[i % founders.len()] };
        attack(&mut b, name, account, day, t);
    }
    Plan { events: b.events, scenarios: b.scenarios }
}

fn novelty(b: &mut Builder<'_>) {
    let w = b.w;
    if let Some(day) = w.deploy_day {
        for a in (0..w.org.accounts.len()).filter(|&a| w.active(a, day)) {
            b.begin();
            let t0 = w.day_start(day) + 14 * HOUR + b.rng.below(20 * MINUTE as u64) as i64;
            for (k, (api, _)) in APP_DEPLOY_APIS.iter().enumerate() {
                for j in 0..3 {
                    b.push(t0 + (k as i64 * 3 + j) * 20_000, a, APP_ROLE, *api, Extra::default());
                }
            }
            let principal = Some(b.principal_id(a, APP_ROLE));
            b.finish(
                ScenarioKind::BenignNovelty,
                Meta {
                    technique: "deploy_new_apis",
                    title: "Deploy gives the app role SSM and AppConfig reads in every account".into(),
                    account: Some(a),
                    principal,
                    expected: &["first_seen/new_api"],
                    reference: None,
                },
                None,
            );
        }
    }
    if let Some(day) = w.rollout_day {
        for a in (0..w.org.accounts.len()).filter(|&a| w.active(a, day)) {
            b.begin();
            let t0 = w.day_start(day) + 10 * HOUR + b.rng.below(30 * MINUTE as u64) as i64;
            for (k, (role, api)) in [
                (APP_ROLE, api("s3", "GetObject")),
                (APP_ROLE, api("dynamodb", "GetItem")),
                (MONITORING_ROLE, api("monitoring", "GetMetricData")),
                (MONITORING_ROLE, api("ec2", "DescribeInstances")),
            ]
            .into_iter()
            .enumerate()
            {
                b.push_in(t0 + k as i64 * 15_000, a, ROLLOUT_REGION, role, api, Extra::default());
            }
            b.finish(
                ScenarioKind::BenignNovelty,
                Meta {
                    technique: "new_region_rollout",
                    title: "Workloads roll out to ap-southeast-2".into(),
                    account: Some(a),
                    principal: None,
                    expected: &["first_seen/new_region"],
                    reference: None,
                },
                None,
            );
        }
    }
    if let Some(a) = w.org.late_account {
        b.begin();
        let day = w.org.accounts[a].joined_day;
        let start = w.day_start(day);
        b.finish(
            ScenarioKind::BenignNovelty,
            Meta {
                technique: "new_account",
                title: format!("Account {} joins the organisation", w.org.accounts[a].name),
                account: Some(a),
                principal: None,
                expected: &["first_seen/new_account"],
                reference: None,
            },
            Some((start, start + 24 * HOUR - 1000)),
        );
    }
}

/// Where and when one attack is laid.
struct At {
    /// The account's index, its id and its primary region's name.
    a: usize,
    acct: String,
    region: &'static str,
    day: u32,
    t0: i64,
}

/// One attack technique: its label and the function that lays its events.
struct Technique {
    name: &'static str,
    title: &'static str,
    /// The catalogue principal alerts should name.
    principal: &'static str,
    expected: &'static [&'static str],
    /// The Stratus Red Team technique whose detonation it replays.
    reference: Option<&'static str>,
    /// Lays the events; returns the labelled window when it is not the span of those events
    /// (an attack that is missing activity has none).
    events: fn(&mut Builder<'_>, &At) -> Option<(i64, i64)>,
}

/// Every attack, in `--attacks all` order.
const TECHNIQUES: &[Technique] = &[
    Technique {
        name: "stolen_credentials_new_apis",
        title: "Instance-profile credentials used from outside for secrets and parameters",
        principal: APP_ROLE,
        expected: &["first_seen/new_api", "first_seen/new_source"],
        reference: Some("aws.credential-access.ec2-steal-instance-credentials"),
        events: stolen_credentials_new_apis,
    },
    Technique {
        name: "known_api_new_region",
        title: "Monitoring role's usual EC2 reads in regions the organisation never uses",
        principal: MONITORING_ROLE,
        expected: &["first_seen/new_region"],
        reference: None,
        events: known_api_new_region,
    },
    Technique {
        name: "recon_burst",
        title: "Burst of 180 List/Describe/Get calls across services by a developer session",
        principal: DEV_SSO_ROLE,
        expected: &["alarm/recon_burst", "first_seen/new_api"],
        reference: Some("aws.discovery.ec2-enumerate-from-instance"),
        events: recon_burst,
    },
    Technique {
        name: "ebs_snapshot_shared",
        title: "EBS snapshot shared with an outside account",
        principal: ADMIN_SSO_ROLE,
        expected: SHARED_EXPECTED,
        reference: Some("aws.exfiltration.ec2-share-ebs-snapshot"),
        events: ebs_snapshot_shared,
    },
    Technique {
        name: "ami_shared",
        title: "AMI shared with an outside account",
        principal: ADMIN_SSO_ROLE,
        expected: SHARED_EXPECTED,
        reference: Some("aws.exfiltration.ec2-share-ami"),
        events: ami_shared,
    },
    Technique {
        name: "rds_snapshot_shared",
        title: "RDS snapshot shared with an outside account",
        principal: ADMIN_SSO_ROLE,
        expected: SHARED_EXPECTED,
        reference: Some("aws.exfiltration.rds-share-snapshot"),
        events: rds_snapshot_shared,
    },
    Technique {
        name: "failed_calls_sensitive",
        title: "Sixty denied calls on secrets, keys, IAM and instance passwords",
        principal: BATCH_ROLE,
        expected: &["alarm/error_rate", "rule/sensitive_access_denied", "first_seen/new_api"],
        reference: Some("aws.credential-access.ec2-get-password-data"),
        events: failed_calls_sensitive,
    },
    Technique {
        name: "s3_sensitive_enumeration",
        title: "Customer-exports bucket enumerated by the monitoring role",
        principal: MONITORING_ROLE,
        expected: &["first_seen/new_resource", "first_seen/new_api", "alarm/s3_enumeration"],
        reference: None,
        events: s3_sensitive_enumeration,
    },
    Technique {
        name: "trap_console_login",
        title: "Console sign-in attempts as the canary user Backup_Admin",
        principal: CANARY_USER,
        expected: &["trap/console_login"],
        reference: Some("aws.initial-access.console-login-without-mfa"),
        events: trap_console_login,
    },
    Technique {
        name: "trap_assume_role",
        title: "AssumeRole on the canary role DevOps_role with a leaked user key",
        principal: REPORTING_USER,
        expected: &["trap/assume_role"],
        reference: Some("aws.defense-evasion.organizations-leave"),
        events: trap_assume_role,
    },
    Technique {
        name: "trap_dynamodb",
        title: "The honey-pot table CustomerAccounts listed and scanned",
        principal: APP_ROLE,
        expected: &["trap/dynamodb_table"],
        reference: None,
        events: trap_dynamodb,
    },
    Technique {
        name: "trap_s3_object",
        title: "The honey-pot object PasswordBackup downloaded",
        principal: DEV_SSO_ROLE,
        expected: &["trap/s3_object"],
        reference: None,
        events: trap_s3_object,
    },
    Technique {
        name: "resource_hijacking",
        title: "Spike of RunInstances of large GPU and compute types across regions",
        principal: PIPELINE_ROLE,
        expected: &["alarm/write_spike", "rule/large_instance_type", "first_seen/new_source"],
        reference: Some("aws.execution.ec2-launch-unusual-instances"),
        events: resource_hijacking,
    },
    Technique {
        name: "error_rate_spike",
        title: "150 unauthorised DescribeInstanceAttribute userData calls in a few minutes",
        principal: MONITORING_ROLE,
        expected: &["alarm/error_rate", "first_seen/new_api"],
        reference: Some("aws.discovery.ec2-download-user-data"),
        events: error_rate_spike,
    },
    Technique {
        name: "ec2_outside_pipeline",
        title: "EC2 instances launched from the console, outside the pipeline",
        principal: ADMIN_SSO_ROLE,
        expected: &["rule/ec2_outside_pipeline", "first_seen/new_api"],
        reference: None,
        events: ec2_outside_pipeline,
    },
    Technique {
        name: "tor_exit",
        title: "Reporting user's key used from a Tor exit relay",
        principal: REPORTING_USER,
        expected: &["intel/tor_exit", "first_seen/new_source"],
        reference: None,
        events: tor_exit,
    },
    Technique {
        name: "cloudtrail_tampering",
        title: "Account trail muted, stopped and deleted",
        principal: ADMIN_SSO_ROLE,
        expected: &["rule/cloudtrail_tampering", "first_seen/new_api"],
        reference: Some("aws.defense-evasion.cloudtrail-stop"),
        events: cloudtrail_tampering,
    },
    Technique {
        name: "iam_persistence",
        title: "Admin user created, key for another user, login profile, role trust opened to an outside account",
        principal: ADMIN_SSO_ROLE,
        expected: &["rule/iam_persistence", "first_seen/new_api"],
        reference: Some("aws.persistence.iam-create-admin-user"),
        events: iam_persistence,
    },
    Technique {
        name: "skipped_backup",
        title: "Nightly backup did not run",
        principal: BACKUP_ROLE,
        expected: &["alarm/missing_activity"],
        reference: None,
        events: skipped_backup,
    },
];

/// Every attack technique `--attacks` accepts, in order.
pub const ATTACKS: &[&str] = &technique_names::<{ TECHNIQUES.len() }>();

const fn technique_names<const N: usize>() -> [&'static str; N] {
    let mut names = [""; N];
    let mut i = 0;
    while i < N {
        names[i] = TECHNIQUES[i].name;
        i += 1;
    }
    names
}

/// Lays attack `name` in account `a`, from `t0` on day `day`; names outside the table lay
/// nothing (`parse_attacks` refuses them).
fn attack(b: &mut Builder<'_>, name: &str, a: usize, day: u32, t0: i64) {
    let Some(technique) = TECHNIQUES.iter().find(|x| x.name == name) else { return };
    let w = b.w;
    let at =
        At { a, acct: w.org.accounts[a].id.clone(), region: super::org::REGIONS[w.org.accounts[a].workload_regions[0] as usize], day, t0 };
    b.begin();
    let window = (technique.events)(b, &at);
    let meta = Meta {
        technique: technique.name,
        title: technique.title.to_string(),
        account: Some(a),
        principal: Some(b.principal_id(a, technique.principal)),
        expected: technique.expected,
        reference: technique.reference,
    };
    b.finish(ScenarioKind::Attack, meta, window);
}

fn stolen_credentials_new_apis(b: &mut Builder<'_>, at: &At) -> Option<(i64, i64)> {
    let (a, acct, region, mut t) = (at.a, &at.acct, at.region, at.t0);
    let s = Some("i-0d4f8e2a91c7b3e50");
    b.push(t, a, APP_ROLE, api("sts", "GetCallerIdentity"), attacker(s));
    for call in [api("s3", "ListBuckets"), api("secretsmanager", "ListSecrets")] {
        t += b.gap();
        b.push(t, a, APP_ROLE, call, attacker(s));
    }
    for k in 0..6 {
        t += b.gap();
        b.push(t, a, APP_ROLE, api("secretsmanager", "GetSecretValue"), Extra { request_parameters: params(json!({"secretId": format!("arn:aws:secretsmanager:{region}:{acct}:secret:prod/{}", ["db-admin", "stripe-key", "github-token", "smtp", "jwt-signing", "datadog"][k])})), ..attacker(s) });
    }
    t += b.gap();
    b.push(t, a, APP_ROLE, api("ssm", "DescribeParameters"), attacker(s));
    for _ in 0..3 {
        t += b.gap();
        b.push(
            t,
            a,
            APP_ROLE,
            api("ssm", "GetParameters"),
            Extra {
                request_parameters: params(json!({"names": ["/prod/db/password", "/prod/api/key"], "withDecryption": true})),
                ..attacker(s)
            },
        );
    }
    None
}

fn known_api_new_region(b: &mut Builder<'_>, at: &At) -> Option<(i64, i64)> {
    let mut t = at.t0;
    for &r in UNUSED_REGIONS {
        for call in [api("ec2", "DescribeInstances"), api("ec2", "DescribeVolumes")] {
            t += b.gap();
            b.push_in(t, at.a, r, MONITORING_ROLE, call, Extra::default());
        }
    }
    None
}

fn recon_burst(b: &mut Builder<'_>, at: &At) -> Option<(i64, i64)> {
    const RECON: &[(&str, &str)] = &[
        ("iam", "ListUsers"),
        ("iam", "ListRoles"),
        ("iam", "ListPolicies"),
        ("iam", "ListGroups"),
        ("iam", "GetAccountAuthorizationDetails"),
        ("iam", "ListAccessKeys"),
        ("ec2", "DescribeInstances"),
        ("ec2", "DescribeSecurityGroups"),
        ("ec2", "DescribeVpcs"),
        ("ec2", "DescribeSubnets"),
        ("ec2", "DescribeSnapshots"),
        ("ec2", "DescribeImages"),
        ("s3", "ListBuckets"),
        ("s3", "GetBucketPolicy"),
        ("s3", "GetBucketAcl"),
        ("lambda", "ListFunctions20150331"),
        ("rds", "DescribeDBInstances"),
        ("secretsmanager", "ListSecrets"),
        ("ssm", "DescribeParameters"),
        ("kms", "ListKeys"),
        ("dynamodb", "ListTables"),
        ("sns", "ListTopics"),
        ("sqs", "ListQueues"),
        ("cloudtrail", "DescribeTrails"),
        ("guardduty", "ListDetectors"),
    ];
    let (a, mut t) = (at.a, at.t0);
    let regions = spread_regions(b, a);
    for k in 0..180 {
        let (svc, name) = RECON[k % RECON.len()];
        t += 200 + b.rng.below(1_200) as i64;
        let deny = b.rng.chance(0.15);
        let error = if deny {
            denied(
                if svc == "ec2" { "Client.UnauthorizedOperation" } else { "AccessDenied" },
                "You are not authorized to perform this operation.",
            )
        } else {
            None
        };
        let call = api(svc, name);
        let r = if call.is_global() { US_EAST_1 } else { regions[(k / RECON.len()) % regions.len()] };
        b.push_in(t, a, r, DEV_SSO_ROLE, call, Extra { user_agent: Some(PACU_UA.into()), error, ..Extra::default() });
    }
    None
}

/// The account's two workload regions and two more, for attacks that go wide.
fn spread_regions(b: &Builder<'_>, a: usize) -> [u8; 4] {
    let workload = &b.w.org.accounts[a].workload_regions;
    [workload[0], workload[1], 2, 3]
}

const SHARED_EXPECTED: &[&str] = &["rule/resource_shared_externally", "first_seen/new_api"];

fn ebs_snapshot_shared(b: &mut Builder<'_>, at: &At) -> Option<(i64, i64)> {
    let p = json!({"snapshotId": "snap-041993b54a9b3af6f", "attributeType": "CREATE_VOLUME_PERMISSION", "createVolumePermission": {"add": {"items": [{"userId": OUTSIDE_ACCOUNT}]}}});
    share_resource(b, at, api("ec2", "DescribeSnapshots"), api("ec2", "ModifySnapshotAttribute"), p)
}

fn ami_shared(b: &mut Builder<'_>, at: &At) -> Option<(i64, i64)> {
    let p = json!({"imageId": "ami-0b3c6a4bd2ea8e6f0", "launchPermission": {"add": {"items": [{"userId": OUTSIDE_ACCOUNT}]}}, "attributeType": "launchPermission"});
    share_resource(b, at, api("ec2", "DescribeImages"), api("ec2", "ModifyImageAttribute"), p)
}

fn rds_snapshot_shared(b: &mut Builder<'_>, at: &At) -> Option<(i64, i64)> {
    let p = json!({"dBSnapshotIdentifier": "app-db-snapshot-2024", "attributeName": "restore", "valuesToAdd": [OUTSIDE_ACCOUNT]});
    share_resource(b, at, api("rds", "DescribeDBSnapshots"), api("rds", "ModifyDBSnapshotAttribute"), p)
}

/// A resource found (`describe`) and shared with an outside account (`share` with `p`).
fn share_resource(b: &mut Builder<'_>, at: &At, describe: Api, share: Api, p: serde_json::Value) -> Option<(i64, i64)> {
    let (a, mut t) = (at.a, at.t0);
    let x = || Extra { source_ip: Some(ATTACKER_IP.into()), user_agent: Some(ATTACKER_UA.into()), ..Extra::default() };
    b.push(t, a, ADMIN_SSO_ROLE, describe, x());
    t += b.gap();
    b.push(
        t,
        a,
        ADMIN_SSO_ROLE,
        share,
        Extra { request_parameters: params(p), response_elements: Some("{\"_return\":true}".into()), ..x() },
    );
    None
}

fn failed_calls_sensitive(b: &mut Builder<'_>, at: &At) -> Option<(i64, i64)> {
    let (a, mut t) = (at.a, at.t0);
    let s = Some("aws-sdk-java-1712345678901");
    let calls = [
        ("secretsmanager", "GetSecretValue", "AccessDeniedException"),
        ("kms", "Decrypt", "AccessDeniedException"),
        ("iam", "ListUsers", "AccessDenied"),
        ("ssm", "GetParameters", "AccessDeniedException"),
        ("ec2", "GetPasswordData", "Client.UnauthorizedOperation"),
    ];
    for k in 0..60 {
        let (svc, name, code) = calls[k % calls.len()];
        t += b.gap();
        b.push(
            t,
            a,
            BATCH_ROLE,
            api(svc, name),
            Extra { error: denied(code, "User is not authorized to perform this operation"), ..attacker(s) },
        );
    }
    None
}

fn s3_sensitive_enumeration(b: &mut Builder<'_>, at: &At) -> Option<(i64, i64)> {
    let (a, acct, region, mut t) = (at.a, &at.acct, at.region, at.t0);
    let bucket = super::params::sensitive_bucket(acct);
    for k in 0..140 {
        t += 300 + b.rng.below(3_000) as i64;
        let get = k % 7 == 6;
        let key = format!("exports/customer-{:05}.csv", k * 37 % 10_000);
        let (call, p, res) = if get {
            (
                api("s3", "GetObject"),
                json!({"bucketName": bucket, "Host": format!("{bucket}.s3.{region}.amazonaws.com"), "key": key}),
                json!([{"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{bucket}/{key}")}, {"accountId": acct, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}")}]),
            )
        } else {
            (
                api("s3", "ListObjects"),
                json!({"bucketName": bucket, "Host": format!("{bucket}.s3.{region}.amazonaws.com"), "prefix": format!("exports/{k:03}"), "list-type": "2"}),
                json!([{"accountId": acct, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}")}]),
            )
        };
        b.push(t, a, MONITORING_ROLE, call, Extra { request_parameters: params(p), resources: Some(res.to_string()), ..Extra::default() });
    }
    None
}

fn trap_console_login(b: &mut Builder<'_>, at: &At) -> Option<(i64, i64)> {
    let (a, mut t) = (at.a, at.t0);
    for _ in 0..3 {
        t += b.gap() * 4;
        b.push(
            t,
            a,
            CANARY_USER,
            api("signin", "ConsoleLogin"),
            Extra { source_ip: Some(ATTACKER_IP.into()), error: Some((String::new(), "Failed authentication".into())), ..Extra::default() },
        );
    }
    None
}

fn trap_assume_role(b: &mut Builder<'_>, at: &At) -> Option<(i64, i64)> {
    let (a, acct, mut t) = (at.a, &at.acct, at.t0);
    b.push(t, a, REPORTING_USER, api("sts", "GetCallerIdentity"), attacker(None));
    t += b.gap();
    let arn = format!("arn:aws:iam::{acct}:role/{CANARY_ROLE}");
    b.push(
        t,
        a,
        REPORTING_USER,
        api("sts", "AssumeRole"),
        Extra {
            request_parameters: params(json!({"roleArn": arn, "roleSessionName": "aws-cli-session", "durationSeconds": 3600})),
            resources: Some(json!([{"accountId": acct, "type": "AWS::IAM::Role", "ARN": arn}]).to_string()),
            error: denied(
                "AccessDenied",
                &format!("User: arn:aws:iam::{acct}:user/{REPORTING_USER} is not authorized to perform: sts:AssumeRole on resource: {arn}"),
            ),
            ..attacker(None)
        },
    );
    None
}

fn trap_dynamodb(b: &mut Builder<'_>, at: &At) -> Option<(i64, i64)> {
    let (a, acct, region, mut t) = (at.a, &at.acct, at.region, at.t0);
    let s = Some("i-0d4f8e2a91c7b3e50");
    let arn = format!("arn:aws:dynamodb:{region}:{acct}:table/{CANARY_TABLE}");
    b.push(t, a, APP_ROLE, api("dynamodb", "ListTables"), attacker(s));
    for call in [api("dynamodb", "DescribeTable"), api("dynamodb", "Scan")] {
        t += b.gap();
        let res = call.is_data().then(|| json!([{"accountId": acct, "type": "AWS::DynamoDB::Table", "ARN": arn}]).to_string());
        b.push(
            t,
            a,
            APP_ROLE,
            call,
            Extra { request_parameters: params(json!({"tableName": CANARY_TABLE})), resources: res, ..attacker(s) },
        );
    }
    None
}

fn trap_s3_object(b: &mut Builder<'_>, at: &At) -> Option<(i64, i64)> {
    let (acct, region) = (&at.acct, at.region);
    let bucket = format!("it-backups-{acct}");
    let key = format!("{CANARY_OBJECT}/passwords.kdbx");
    b.push(at.t0, at.a, DEV_SSO_ROLE, api("s3", "GetObject"), Extra {
        request_parameters: params(json!({"bucketName": bucket, "Host": format!("{bucket}.s3.{region}.amazonaws.com"), "key": key})),
        resources: Some(json!([{"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{bucket}/{key}")}, {"accountId": acct, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}")}]).to_string()),
        user_agent: Some(PACU_UA.into()),
        ..Extra::default()
    });
    None
}

fn resource_hijacking(b: &mut Builder<'_>, at: &At) -> Option<(i64, i64)> {
    let (a, mut t) = (at.a, at.t0);
    let regions = spread_regions(b, a);
    for k in 0..48 {
        t += b.gap() * 3;
        let ty = ["p3.16xlarge", "g5.48xlarge", "c5.24xlarge"][k % 3];
        let limited = k % 8 == 7;
        b.push_in(t, a, regions[k % regions.len()], PIPELINE_ROLE, api("ec2", "RunInstances"), Extra {
            request_parameters: params(json!({"instancesSet": {"items": [{"imageId": "ami-0e3c6a2b4f5d7a9c1", "minCount": 1, "maxCount": 10}]}, "instanceType": ty, "blockDeviceMapping": {}, "monitoring": {"enabled": false}, "disableApiTermination": false, "clientToken": format!("hijack-{k}")})),
            error: if limited { denied("Client.InstanceLimitExceeded", "You have requested more instances than your current instance limit allows.") } else { None },
            ..attacker(Some("codebuild-1712345678901"))
        });
    }
    None
}

fn error_rate_spike(b: &mut Builder<'_>, at: &At) -> Option<(i64, i64)> {
    let (a, mut t) = (at.a, at.t0);
    for k in 0..150 {
        t += 400 + b.rng.below(1_500) as i64;
        b.push(
            t,
            a,
            MONITORING_ROLE,
            api("ec2", "DescribeInstanceAttribute"),
            Extra {
                request_parameters: params(json!({"instanceId": format!("i-0{:016x}", k * 7919), "attribute": "userData"})),
                error: denied("Client.UnauthorizedOperation", "You are not authorized to perform this operation."),
                ..attacker(Some("monitoring-collector"))
            },
        );
    }
    None
}

fn ec2_outside_pipeline(b: &mut Builder<'_>, at: &At) -> Option<(i64, i64)> {
    let (a, mut t) = (at.a, at.t0);
    for k in 0..2 {
        t += b.gap() * 5;
        b.push(t, a, ADMIN_SSO_ROLE, api("ec2", "RunInstances"), Extra {
            request_parameters: params(json!({"instancesSet": {"items": [{"imageId": "ami-0c7217cdde317cfec", "minCount": 1, "maxCount": 1}]}, "instanceType": "t3.large", "keyName": "temp-key", "clientToken": format!("console-{k}")})),
            ..Extra::default()
        });
    }
    t += b.gap();
    b.push(t, a, ADMIN_SSO_ROLE, api("ec2", "CreateTags"), Extra::default());
    None
}

fn tor_exit(b: &mut Builder<'_>, at: &At) -> Option<(i64, i64)> {
    let (a, mut t) = (at.a, at.t0);
    let tor = || Extra { source_ip: Some(TOR_EXIT_IP.into()), user_agent: Some(PACU_UA.into()), ..Extra::default() };
    b.push(t, a, REPORTING_USER, api("sts", "GetCallerIdentity"), tor());
    t += b.gap();
    b.push(t, a, REPORTING_USER, api("s3", "ListBuckets"), tor());
    for _ in 0..5 {
        t += b.gap();
        b.push(t, a, REPORTING_USER, api("s3", "GetObject"), tor());
    }
    None
}

fn cloudtrail_tampering(b: &mut Builder<'_>, at: &At) -> Option<(i64, i64)> {
    let (a, acct, region, mut t) = (at.a, &at.acct, at.region, at.t0);
    let trail = format!("arn:aws:cloudtrail:{region}:{acct}:trail/account-audit-trail");
    let x = |p: serde_json::Value| Extra { request_parameters: params(p), ..attacker(None) };
    b.push(t, a, ADMIN_SSO_ROLE, api("cloudtrail", "DescribeTrails"), x(json!({"includeShadowTrails": false})));
    t += b.gap();
    b.push(t, a, ADMIN_SSO_ROLE, api("cloudtrail", "PutEventSelectors"), x(json!({"trailName": trail, "eventSelectors": [{"readWriteType": "All", "includeManagementEvents": false, "dataResources": [], "excludeManagementEventSources": []}]})));
    t += b.gap();
    b.push(t, a, ADMIN_SSO_ROLE, api("cloudtrail", "StopLogging"), x(json!({"name": trail})));
    t += b.gap();
    b.push(t, a, ADMIN_SSO_ROLE, api("cloudtrail", "DeleteTrail"), x(json!({"name": trail})));
    None
}

fn iam_persistence(b: &mut Builder<'_>, at: &At) -> Option<(i64, i64)> {
    let (a, mut t) = (at.a, at.t0);
    let x = |p: serde_json::Value| Extra { request_parameters: params(p), ..attacker(None) };
    b.push(t, a, ADMIN_SSO_ROLE, api("iam", "CreateUser"), x(json!({"userName": "backup-svc"})));
    t += b.gap();
    b.push(
        t,
        a,
        ADMIN_SSO_ROLE,
        api("iam", "AttachUserPolicy"),
        x(json!({"userName": "backup-svc", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})),
    );
    t += b.gap();
    b.push(t, a, ADMIN_SSO_ROLE, api("iam", "CreateLoginProfile"), x(json!({"userName": "backup-svc", "passwordResetRequired": false})));
    t += b.gap();
    b.push(t, a, ADMIN_SSO_ROLE, api("iam", "CreateAccessKey"), x(json!({"userName": REPORTING_USER})));
    t += b.gap();
    let policy = format!(
        "{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\"Principal\":{{\"AWS\":\"arn:aws:iam::{OUTSIDE_ACCOUNT}:root\"}},\"Action\":\"sts:AssumeRole\"}}]}}"
    );
    b.push(t, a, ADMIN_SSO_ROLE, api("iam", "UpdateAssumeRolePolicy"), x(json!({"roleName": PIPELINE_ROLE, "policyDocument": policy})));
    None
}

/// No events: the attack is the backup's absence, labelled over the half hour it should run.
fn skipped_backup(b: &mut Builder<'_>, at: &At) -> Option<(i64, i64)> {
    let start = b.w.day_start(at.day) + HOUR;
    Some((start, start + 30 * MINUTE))
}

/// The `(account, day)` a skipped backup falls on, for the baseline generator.
pub fn skipped_backup_slot(w: &World, attacks: &[&str]) -> Option<(usize, u32)> {
    let i = attacks.iter().position(|a| *a == "skipped_backup")?;
    let burn = burn_in_days(w.days);
    let span = (w.days - burn).max(1);
    let founders: Vec<usize> = (0..w.org.accounts.len()).filter(|&a| w.org.accounts[a].joined_day == 0).collect();
    Some((founders[i % founders.len()], burn + (i as u32 * span / attacks.len() as u32).min(span - 1)))
}
