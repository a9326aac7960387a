//! The organisation's principals: one definition per role or user, the same in every account
//! (consistent role naming), each with a stable API repertoire, schedule, regions, user agents
//! and source addresses.

/// An API call: service prefix (`ec2`, as in `ec2.amazonaws.com`) and event name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Api {
    pub service: &'static str,
    pub name: &'static str,
}

pub(crate) const fn api(service: &'static str, name: &'static str) -> Api {
    Api { service, name }
}

impl Api {
    /// Read-only as CloudTrail marks it (by the verb; KMS data-key calls count as reads).
    pub fn read_only(&self) -> bool {
        const READS: &[&str] =
            &["Get", "List", "Describe", "Head", "Lookup", "Query", "Scan", "BatchGet", "Search", "Decrypt", "GenerateDataKey"];
        READS.iter().any(|p| self.name.starts_with(p))
    }

    /// Data events (object, item and invocation level), delivered with `resources`.
    pub fn is_data(&self) -> bool {
        match self.service {
            "s3" => matches!(self.name, "GetObject" | "PutObject" | "DeleteObject" | "HeadObject" | "ListObjects" | "ListObjectsV2"),
            "dynamodb" => matches!(self.name, "GetItem" | "PutItem" | "Query" | "Scan" | "UpdateItem" | "DeleteItem" | "BatchGetItem"),
            "lambda" => self.name == "Invoke",
            _ => false,
        }
    }

    /// Global services record in us-east-1 whatever region the caller configured.
    pub fn is_global(&self) -> bool {
        matches!(self.service, "iam" | "organizations" | "signin" | "cloudfront")
    }
}

/// How a principal appears in `userIdentity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityKind {
    /// An assumed-role session; `path` is the role path (`/` for none).
    Role {
        path: &'static str,
        session: SessionStyle,
    },
    IamUser,
    /// An AWS service acting on its own (`type: AWSService`, `invokedBy`).
    Service,
}

/// What the role-session name looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStyle {
    /// An EC2 instance id (instance profiles).
    InstanceId,
    /// A fixed name (Lambda function names, job names).
    Fixed(&'static str),
    /// `<prefix>-<digits>` (SDK defaults, CodeBuild builds).
    Numbered(&'static str),
    /// The person's e-mail address (IAM Identity Center).
    Email,
}

/// When a principal is active.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schedule {
    /// All day, busier in the (UTC) afternoon and a little quieter at weekends.
    Service,
    /// A burst every 5 minutes (scheduled Lambda).
    Every5Min,
    /// A nightly job starting at `hour` UTC lasting `minutes`.
    Nightly { hour: u32, minutes: u32 },
    /// People: weekdays in office hours (UTC), rare at weekends.
    Office,
    /// Only when an attack scenario uses it.
    Dormant,
}

/// Where source addresses come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpStyle {
    /// The account's NAT gateways.
    Nat,
    /// AWS's own pool for the region (Lambda, CodeBuild).
    AwsPool,
    /// The service's DNS name (`autoscaling.amazonaws.com`) or `AWS Internal`.
    Service,
    /// Office and home addresses of people.
    Office,
    /// An on-premises data centre.
    OnPrem,
}

/// Which regions a principal uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionUse {
    /// us-east-1 only.
    Home,
    /// The account's workload regions (primary 75%).
    Workload,
    /// Every enabled region, evenly (auditors).
    Enabled,
}

/// One principal, defined once for the organisation.
#[derive(Debug, Clone)]
pub struct PrincipalDef {
    pub name: &'static str,
    pub kind: IdentityKind,
    /// `(api, weight)`: the stable repertoire.
    pub repertoire: &'static [(Api, u32)],
    pub schedule: Schedule,
    /// Mean events per account and weekday at scale 1.
    pub per_day: f64,
    pub regions: RegionUse,
    pub agents: &'static [&'static str],
    pub ip: IpStyle,
    /// Share of calls throttled.
    pub throttle_rate: f64,
    /// Share of calls denied (people probing, auditors hitting explicit denies).
    pub deny_rate: f64,
    /// For `IdentityKind::Service`: the service principal.
    pub service: Option<&'static str>,
    /// Accounts where it exists: every `n`th account (1 = all).
    pub every_nth_account: usize,
}

pub(crate) const APP_ROLE: &str = "streamingApplicationInstanceProfile";
pub(crate) const MONITORING_ROLE: &str = "monitoringLambdaProfile";
pub(crate) const BATCH_ROLE: &str = "historicalMinionRole";
pub(crate) const PIPELINE_ROLE: &str = "cicdPipelineRole";
pub(crate) const AUDITOR_ROLE: &str = "SecurityAuditRole";
pub(crate) const BACKUP_ROLE: &str = "nightlyBackupRole";
pub(crate) const ADMIN_SSO_ROLE: &str = "AWSReservedSSO_AdministratorAccess_5a3f1e0c9b7d2e41";
pub(crate) const DEV_SSO_ROLE: &str = "AWSReservedSSO_DeveloperAccess_0c8b2d7e6f1a9354";
pub(crate) const REPORTING_USER: &str = "svc-reporting";
pub(crate) const CANARY_USER: &str = "Backup_Admin";
pub(crate) const CANARY_ROLE: &str = "DevOps_role";
pub(crate) const CANARY_TABLE: &str = "CustomerAccounts";
pub(crate) const CANARY_OBJECT: &str = "PasswordBackup";

/// People who use the SSO roles: name and UTC hour their working day starts.
pub(crate) const PEOPLE: &[(&str, u32, bool)] = &[
    ("maria.garcia@example.com", 8, true),
    ("james.chen@example.com", 13, false),
    ("priya.natarajan@example.com", 7, false),
    ("tom.okafor@example.com", 14, true),
    ("lena.schmidt@example.com", 7, false),
];

const SDK_JAVA: &str = "aws-sdk-java/2.25.16 Linux/5.10.213-201.855.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. exec-env/AWS_ECS_EC2 io/sync http/Apache cfg/retry-mode/adaptive";
const BOTO_LAMBDA: &str = "Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#5.10.214-223.834.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.3 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.84";
const SPARK: &str = "aws-sdk-java/1.12.701 Linux/5.10.215-203.850.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/25.402-b08 java/1.8.0_402 scala/2.12.18 vendor/Amazon.com_Inc. exec-env/AWS_EMR";
const CODEBUILD_CLI: &str = "aws-cli/2.15.40 md/awscrt#0.19.19 ua/2.0 os/linux#5.10.214-224.855.amzn2.x86_64 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython exec-env/CODEBUILD_AGENT cfg/retry-mode#standard md/installer#exe md/distrib#amzn.2 md/prompt#off md/command#deploy";
const TERRAFORM: &str = "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.46.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.26.1 ua/2.0 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.156.0";
const AUDIT_GO: &str =
    "aws-sdk-go-v2/1.26.1 ua/2.0 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64 exec-env/AWS_ECS_FARGATE app/security-audit#3.4.1";
const BACKUP_SDK: &str = "aws-sdk-go/1.51.21 (go1.21.9; linux; amd64) exec-env/AWS_Lambda_go1.x";
const CONSOLE: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const CONSOLE_MAC: &str =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15";
const CLI_MAC: &str = "aws-cli/2.15.38 md/awscrt#0.19.19 ua/2.0 os/macos#23.4.0 md/arch#arm64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#ec2.describe-instances";
const REPORTING_UA: &str = "Boto3/1.28.57 md/Botocore#1.31.57 ua/2.0 os/windows#10 md/arch#amd64 lang/python#3.9.13 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.31.57";
/// What people use: console first.
pub(crate) const PEOPLE_AGENTS: &[&str] = &[CONSOLE, CONSOLE, CONSOLE_MAC, CLI_MAC, TERRAFORM];

/// The organisation's principals. Index order is fixed (indices are stored in events).
pub(crate) fn catalogue() -> Vec<PrincipalDef> {
    use IdentityKind::*;
    use SessionStyle::*;
    let role = |name, path, session, repertoire, schedule, per_day, regions, agents, ip| PrincipalDef {
        name,
        kind: Role { path, session },
        repertoire,
        schedule,
        per_day,
        regions,
        agents,
        ip,
        throttle_rate: 0.0,
        deny_rate: 0.0,
        service: None,
        every_nth_account: 1,
    };
    let service = |svc: &'static str, repertoire, per_day, regions| PrincipalDef {
        name: svc,
        kind: Service,
        repertoire,
        schedule: Schedule::Service,
        per_day,
        regions,
        agents: &[],
        ip: IpStyle::Service,
        throttle_rate: 0.0,
        deny_rate: 0.0,
        service: Some(svc),
        every_nth_account: 1,
    };
    vec![
        PrincipalDef {
            throttle_rate: 0.002,
            ..role(APP_ROLE, "/", InstanceId, APP, Schedule::Service, 24_000.0, RegionUse::Workload, &[SDK_JAVA], IpStyle::Nat)
        },
        role(
            MONITORING_ROLE,
            "/",
            Fixed("monitoring-collector"),
            MONITORING,
            Schedule::Every5Min,
            6_912.0,
            RegionUse::Workload,
            &[BOTO_LAMBDA],
            IpStyle::AwsPool,
        ),
        PrincipalDef {
            throttle_rate: 0.004,
            ..role(
                BATCH_ROLE,
                "/service-role/",
                Numbered("aws-sdk-java"),
                BATCH,
                Schedule::Nightly { hour: 0, minutes: 300 },
                5_000.0,
                RegionUse::Workload,
                &[SPARK],
                IpStyle::Nat,
            )
        },
        role(
            PIPELINE_ROLE,
            "/",
            Numbered("codebuild"),
            PIPELINE,
            Schedule::Office,
            700.0,
            RegionUse::Workload,
            &[CODEBUILD_CLI, TERRAFORM],
            IpStyle::AwsPool,
        ),
        PrincipalDef {
            deny_rate: 0.02,
            ..role(
                AUDITOR_ROLE,
                "/security/",
                Fixed("security-audit"),
                AUDITOR,
                Schedule::Nightly { hour: 2, minutes: 40 },
                2_400.0,
                RegionUse::Enabled,
                &[AUDIT_GO],
                IpStyle::AwsPool,
            )
        },
        role(
            BACKUP_ROLE,
            "/service-role/",
            Fixed("nightly-backup"),
            BACKUP,
            Schedule::Nightly { hour: 1, minutes: 25 },
            120.0,
            RegionUse::Workload,
            &[BACKUP_SDK],
            IpStyle::AwsPool,
        ),
        role(
            "AWSServiceRoleForAutoScaling",
            "/aws-service-role/autoscaling.amazonaws.com/",
            Fixed("AutoScaling"),
            AUTOSCALING,
            Schedule::Service,
            300.0,
            RegionUse::Workload,
            &["autoscaling.amazonaws.com"],
            IpStyle::Service,
        ),
        role(
            "AWSServiceRoleForConfig",
            "/aws-service-role/config.amazonaws.com/",
            Fixed("AWSConfig-Describe"),
            CONFIG,
            Schedule::Service,
            900.0,
            RegionUse::Enabled,
            &["config.amazonaws.com"],
            IpStyle::Service,
        ),
        service("ec2.amazonaws.com", EC2_SVC, 400.0, RegionUse::Workload),
        service("lambda.amazonaws.com", LAMBDA_SVC, 300.0, RegionUse::Workload),
        service("cloudtrail.amazonaws.com", CLOUDTRAIL_SVC, 200.0, RegionUse::Home),
        PrincipalDef {
            deny_rate: 0.01,
            ..role(
                ADMIN_SSO_ROLE,
                "/aws-reserved/sso.amazonaws.com/",
                Email,
                ADMIN,
                Schedule::Office,
                160.0,
                RegionUse::Workload,
                PEOPLE_AGENTS,
                IpStyle::Office,
            )
        },
        PrincipalDef {
            deny_rate: 0.015,
            ..role(
                DEV_SSO_ROLE,
                "/aws-reserved/sso.amazonaws.com/",
                Email,
                DEVELOPER,
                Schedule::Office,
                450.0,
                RegionUse::Workload,
                PEOPLE_AGENTS,
                IpStyle::Office,
            )
        },
        PrincipalDef {
            name: REPORTING_USER,
            kind: IamUser,
            repertoire: REPORTING,
            schedule: Schedule::Nightly { hour: 6, minutes: 20 },
            per_day: 60.0,
            regions: RegionUse::Workload,
            agents: &[REPORTING_UA],
            ip: IpStyle::OnPrem,
            throttle_rate: 0.0,
            deny_rate: 0.0,
            service: None,
            every_nth_account: 3,
        },
        PrincipalDef {
            name: CANARY_USER,
            kind: IamUser,
            repertoire: &[],
            schedule: Schedule::Dormant,
            per_day: 0.0,
            regions: RegionUse::Home,
            agents: &[CONSOLE],
            ip: IpStyle::Office,
            throttle_rate: 0.0,
            deny_rate: 0.0,
            service: None,
            every_nth_account: 1,
        },
    ]
}

/// Index of a principal in `catalogue()` by name.
pub(crate) fn index_of(cat: &[PrincipalDef], name: &str) -> u16 {
    cat.iter().position(|p| p.name == name).unwrap_or_else(|| unreachable!("principal {name} is in the catalogue")) as u16
}

const APP: &[(Api, u32)] = &[
    (api("s3", "GetObject"), 40),
    (api("s3", "PutObject"), 14),
    (api("s3", "HeadObject"), 6),
    (api("dynamodb", "GetItem"), 30),
    (api("dynamodb", "PutItem"), 10),
    (api("dynamodb", "Query"), 12),
    (api("kms", "Decrypt"), 8),
    (api("kms", "GenerateDataKey"), 4),
    (api("secretsmanager", "GetSecretValue"), 1),
    (api("sts", "GetCallerIdentity"), 1),
];
/// Added to the app role by the mid-way deploy (benign novelty).
pub(crate) const APP_DEPLOY_APIS: &[(Api, u32)] =
    &[(api("ssm", "GetParameter"), 3), (api("ssm", "GetParametersByPath"), 1), (api("appconfig", "GetLatestConfiguration"), 2)];
const MONITORING: &[(Api, u32)] = &[
    (api("monitoring", "GetMetricData"), 4),
    (api("monitoring", "PutMetricData"), 3),
    (api("ec2", "DescribeInstances"), 2),
    (api("ec2", "DescribeVolumes"), 1),
    (api("rds", "DescribeDBInstances"), 1),
    (api("elasticloadbalancing", "DescribeTargetHealth"), 1),
    (api("autoscaling", "DescribeAutoScalingGroups"), 1),
    (api("logs", "FilterLogEvents"), 1),
];
const BATCH: &[(Api, u32)] = &[
    (api("s3", "GetObject"), 30),
    (api("s3", "PutObject"), 10),
    (api("s3", "ListObjects"), 6),
    (api("glue", "GetTable"), 4),
    (api("glue", "GetPartitions"), 4),
    (api("athena", "StartQueryExecution"), 2),
    (api("athena", "GetQueryExecution"), 6),
    (api("athena", "GetQueryResults"), 2),
    (api("kms", "Decrypt"), 3),
];
const PIPELINE: &[(Api, u32)] = &[
    (api("ec2", "RunInstances"), 2),
    (api("ec2", "CreateTags"), 3),
    (api("ec2", "DescribeInstances"), 6),
    (api("ec2", "TerminateInstances"), 2),
    (api("ec2", "DescribeImages"), 2),
    (api("cloudformation", "DescribeStacks"), 4),
    (api("cloudformation", "UpdateStack"), 1),
    (api("ecr", "GetAuthorizationToken"), 2),
    (api("ecr", "BatchGetImage"), 3),
    (api("ecs", "UpdateService"), 1),
    (api("ecs", "DescribeServices"), 3),
    (api("s3", "PutObject"), 2),
];
const AUDITOR: &[(Api, u32)] = &[
    (api("iam", "ListRoles"), 2),
    (api("iam", "ListUsers"), 2),
    (api("iam", "ListPolicies"), 2),
    (api("iam", "GetAccountAuthorizationDetails"), 1),
    (api("iam", "ListAttachedRolePolicies"), 4),
    (api("iam", "GetAccountPasswordPolicy"), 1),
    (api("ec2", "DescribeSecurityGroups"), 3),
    (api("ec2", "DescribeInstances"), 3),
    (api("ec2", "DescribeSnapshots"), 2),
    (api("ec2", "DescribeVpcs"), 2),
    (api("ec2", "DescribeFlowLogs"), 2),
    (api("s3", "ListBuckets"), 1),
    (api("s3", "GetBucketPolicy"), 3),
    (api("s3", "GetBucketAcl"), 3),
    (api("s3", "GetPublicAccessBlock"), 3),
    (api("cloudtrail", "DescribeTrails"), 1),
    (api("cloudtrail", "GetEventSelectors"), 1),
    (api("kms", "ListKeys"), 1),
    (api("kms", "GetKeyRotationStatus"), 2),
    (api("rds", "DescribeDBSnapshots"), 1),
    (api("lambda", "ListFunctions20150331"), 1),
    (api("guardduty", "ListDetectors"), 1),
];
const BACKUP: &[(Api, u32)] = &[
    (api("ec2", "CreateSnapshot"), 4),
    (api("ec2", "DescribeSnapshots"), 3),
    (api("ec2", "DeleteSnapshot"), 3),
    (api("ec2", "CreateTags"), 2),
    (api("rds", "CreateDBSnapshot"), 1),
    (api("rds", "DescribeDBSnapshots"), 1),
];
const AUTOSCALING: &[(Api, u32)] = &[
    (api("ec2", "RunInstances"), 1),
    (api("ec2", "TerminateInstances"), 1),
    (api("ec2", "DescribeInstanceStatus"), 4),
    (api("elasticloadbalancing", "RegisterTargets"), 1),
];
const CONFIG: &[(Api, u32)] = &[
    (api("ec2", "DescribeSecurityGroups"), 3),
    (api("ec2", "DescribeNetworkInterfaces"), 3),
    (api("iam", "GetRole"), 2),
    (api("s3", "GetBucketEncryption"), 2),
    (api("config", "PutEvaluations"), 1),
];
const EC2_SVC: &[(Api, u32)] = &[(api("sts", "AssumeRole"), 3), (api("kms", "Decrypt"), 1)];
const LAMBDA_SVC: &[(Api, u32)] = &[(api("sts", "AssumeRole"), 1)];
const CLOUDTRAIL_SVC: &[(Api, u32)] = &[(api("s3", "PutObject"), 4), (api("kms", "GenerateDataKey"), 1)];
const ADMIN: &[(Api, u32)] = &[
    (api("signin", "ConsoleLogin"), 2),
    (api("iam", "ListRoles"), 3),
    (api("iam", "GetRole"), 3),
    (api("iam", "ListUsers"), 1),
    (api("cloudtrail", "LookupEvents"), 3),
    (api("ec2", "DescribeInstances"), 4),
    (api("ec2", "DescribeSecurityGroups"), 2),
    (api("s3", "ListBuckets"), 2),
    (api("organizations", "DescribeOrganization"), 1),
    (api("health", "DescribeEventAggregates"), 2),
    (api("ce", "GetCostAndUsage"), 1),
];
const DEVELOPER: &[(Api, u32)] = &[
    (api("signin", "ConsoleLogin"), 1),
    (api("ec2", "DescribeInstances"), 5),
    (api("logs", "FilterLogEvents"), 6),
    (api("logs", "DescribeLogGroups"), 3),
    (api("monitoring", "GetMetricData"), 4),
    (api("lambda", "ListFunctions20150331"), 2),
    (api("lambda", "GetFunction20150331v2"), 2),
    (api("s3", "ListBuckets"), 2),
    (api("ecs", "DescribeServices"), 2),
    (api("cloudformation", "DescribeStacks"), 2),
    (api("dynamodb", "DescribeTable"), 1),
    (api("sts", "GetCallerIdentity"), 1),
];
const REPORTING: &[(Api, u32)] = &[
    (api("athena", "StartQueryExecution"), 1),
    (api("athena", "GetQueryResults"), 3),
    (api("s3", "GetObject"), 4),
    (api("sts", "GetCallerIdentity"), 1),
];
