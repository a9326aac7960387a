//! One simulated event and its CloudTrail JSON. Records are written field by field into a byte
//! buffer; every string goes through `json_str`, which escapes anything JSON requires.

use super::org::{Org, REGIONS, iam_id, key_of};
use super::principals::{Api, IdentityKind, PEOPLE, PrincipalDef, SessionStyle};
use super::rng::{mix, uuid_string};
use std::io::Write;

/// Why a call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Throttled,
    Denied,
}

/// What attack and novelty events carry beyond a baseline event (each field replaces the
/// generated one). JSON fields hold serialised JSON (built with `serde_json`).
#[derive(Debug, Clone, Default)]
pub struct Extra {
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub session: Option<String>,
    /// An IAM user name for events by a user that is not in the catalogue.
    pub user_name: Option<String>,
    pub request_parameters: Option<String>,
    pub response_elements: Option<String>,
    pub additional_event_data: Option<String>,
    pub resources: Option<String>,
    pub error: Option<(String, String)>,
    pub event_type: Option<&'static str>,
    pub access_key: Option<String>,
}

/// One event, compact: the JSON is produced at write time.
#[derive(Debug, Clone)]
pub struct Event {
    /// Epoch milliseconds.
    pub time: i64,
    pub id: u128,
    /// Index into `Org::accounts` (the recipient account).
    pub account: u16,
    /// Index into `REGIONS`.
    pub region: u8,
    /// Index into the principal catalogue.
    pub principal: u16,
    /// Index into `PEOPLE` for e-mail sessions; a session number seed otherwise.
    pub person: u8,
    pub api: Api,
    pub error: Option<ErrorKind>,
    pub extra: Option<Box<Extra>>,
}

/// What writing needs besides the event.
pub(crate) struct WriteCtx<'a> {
    pub org: &'a Org,
    pub catalogue: &'a [PrincipalDef],
    pub seed: u64,
}

/// Appends `s` as a JSON string literal.
pub(crate) fn json_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing JSON into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

fn field(out: &mut Vec<u8>, key: &str, value: &str) {
    out.push(b',');
    json_str(out, key);
    out.push(b':');
    json_str(out, value);
}

/// `YYYY-MM-DDTHH:MM:SSZ` for epoch milliseconds.
pub(crate) fn write_time(out: &mut Vec<u8>, ms: i64) {
    let secs = ms.div_euclid(1000);
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let _ = write!(out, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", sod / 3600, sod / 60 % 60, sod % 60);
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The role-session name an event's principal uses.
pub(crate) fn session_name(ev: &Event, def: &PrincipalDef, seed: u64) -> String {
    if let Some(s) = ev.extra.as_ref().and_then(|x| x.session.clone()) {
        return s;
    }
    let IdentityKind::Role { session, .. } = def.kind else { return String::new() };
    match session {
        SessionStyle::Fixed(name) => name.to_string(),
        SessionStyle::Email => PEOPLE[ev.person as usize % PEOPLE.len()].0.to_string(),
        // Instances live for days: a small pool per account and region, renewed weekly.
        SessionStyle::InstanceId => {
            let h = mix(&[seed, 0x1d, ev.account as u64, ev.region as u64, ev.person as u64 % 4, (ev.time / (7 * 86_400_000)) as u64]);
            format!("i-0{:016x}", h)[..19].to_string()
        }
        SessionStyle::Numbered(prefix) => {
            format!("{prefix}-{}", 1_700_000_000_000 + mix(&[seed, ev.account as u64, (ev.time / 3_600_000) as u64]) % 99_999_999_999)
        }
    }
}

/// Appends one record as JSON.
pub(crate) fn write_record(out: &mut Vec<u8>, ev: &Event, ctx: &WriteCtx<'_>) {
    let def = &ctx.catalogue[ev.principal as usize];
    let acct = &ctx.org.accounts[ev.account as usize].id;
    let region = REGIONS[ev.region as usize];
    let x = ev.extra.as_deref();
    let data = ev.api.is_data();
    let console_login = ev.api.name == "ConsoleLogin";
    out.extend_from_slice(if data { b"{\"eventVersion\":\"1.10\"" } else { b"{\"eventVersion\":\"1.09\"" });
    out.extend_from_slice(b",\"userIdentity\":");
    let session = write_identity(out, ev, def, acct, ctx.seed);
    out.extend_from_slice(b",\"eventTime\":\"");
    write_time(out, ev.time);
    out.push(b'"');
    let svc = ev.api.service;
    out.extend_from_slice(b",\"eventSource\":\"");
    out.extend_from_slice(svc.as_bytes());
    out.extend_from_slice(b".amazonaws.com\"");
    field(out, "eventName", ev.api.name);
    field(out, "awsRegion", region);
    let (ip, agent) = address_and_agent(ev, def, ctx);
    field(out, "sourceIPAddress", x.and_then(|x| x.source_ip.as_deref()).unwrap_or(&ip));
    field(out, "userAgent", x.and_then(|x| x.user_agent.as_deref()).unwrap_or(agent));
    let error = x.and_then(|x| x.error.clone()).or_else(|| ev.error.map(|e| error_text(e, &ev.api, def, acct, &session)));
    if let Some((code, message)) = &error {
        // Failed console sign-ins carry only a message.
        if !code.is_empty() {
            field(out, "errorCode", code);
        }
        field(out, "errorMessage", message);
    }
    out.extend_from_slice(b",\"requestParameters\":");
    match x.and_then(|x| x.request_parameters.as_deref()) {
        Some(p) => out.extend_from_slice(p.as_bytes()),
        None => super::params::write_request(out, ev, acct, region),
    }
    out.extend_from_slice(b",\"responseElements\":");
    match x.and_then(|x| x.response_elements.as_deref()) {
        Some(p) => out.extend_from_slice(p.as_bytes()),
        None if console_login => {
            out.extend_from_slice(if error.is_some() { b"{\"ConsoleLogin\":\"Failure\"}" } else { b"{\"ConsoleLogin\":\"Success\"}" })
        }
        None => out.extend_from_slice(b"null"),
    }
    if let Some(a) = x.and_then(|x| x.additional_event_data.as_deref()) {
        out.extend_from_slice(b",\"additionalEventData\":");
        out.extend_from_slice(a.as_bytes());
    } else if console_login {
        out.extend_from_slice(b",\"additionalEventData\":{\"LoginTo\":\"https://console.aws.amazon.com/console/home\",\"MobileVersion\":\"No\",\"MFAUsed\":\"Yes\"}");
    } else if data && svc == "s3" {
        out.extend_from_slice(b",\"additionalEventData\":{\"SignatureVersion\":\"SigV4\",\"CipherSuite\":\"TLS_AES_128_GCM_SHA256\",\"AuthenticationMethod\":\"AuthHeader\",\"x-amz-id-2\":\"");
        let h = mix(&[ev.id as u64, 2]);
        let _ = write!(out, "{h:016x}{:016x}\"}}", h.rotate_left(17));
    }
    out.extend_from_slice(b",\"requestID\":\"");
    uuid_string(ev.id.rotate_left(29) ^ 0x5a5a, out);
    out.extend_from_slice(b"\",\"eventID\":\"");
    uuid_string(ev.id, out);
    out.extend_from_slice(b"\",\"readOnly\":");
    out.extend_from_slice(if ev.api.read_only() { b"true" } else { b"false" });
    match x.and_then(|x| x.resources.as_deref()) {
        Some(r) => {
            out.extend_from_slice(b",\"resources\":");
            out.extend_from_slice(r.as_bytes());
        }
        None => super::params::write_resources(out, ev, acct, region),
    }
    let event_type = x.and_then(|x| x.event_type).unwrap_or(if console_login { "AwsConsoleSignIn" } else { "AwsApiCall" });
    field(out, "eventType", event_type);
    out.extend_from_slice(if data { b",\"managementEvent\":false" } else { b",\"managementEvent\":true" });
    field(out, "recipientAccountId", acct);
    field(out, "eventCategory", if data { "Data" } else { "Management" });
    if def.ip != super::principals::IpStyle::Service && !console_login {
        out.extend_from_slice(
            b",\"tlsDetails\":{\"tlsVersion\":\"TLSv1.3\",\"cipherSuite\":\"TLS_AES_128_GCM_SHA256\",\"clientProvidedHostHeader\":\"",
        );
        out.extend_from_slice(svc.as_bytes());
        if !ev.api.is_global() {
            out.push(b'.');
            out.extend_from_slice(region.as_bytes());
        }
        out.extend_from_slice(b".amazonaws.com\"}");
    }
    if agent.starts_with("Mozilla") && !console_login && x.and_then(|x| x.user_agent.as_ref()).is_none() {
        out.extend_from_slice(b",\"sessionCredentialFromConsole\":\"true\"");
    }
    out.push(b'}');
}

/// Writes `userIdentity`; returns the role-session name (empty for users and services).
fn write_identity(out: &mut Vec<u8>, ev: &Event, def: &PrincipalDef, acct: &str, seed: u64) -> String {
    let acct_key = key_of(acct);
    let x = ev.extra.as_deref();
    if let Some(user) = x.and_then(|x| x.user_name.as_deref()) {
        write_user(out, user, acct, x.and_then(|x| x.access_key.as_deref()), seed);
        return String::new();
    }
    match def.kind {
        IdentityKind::Service => {
            out.extend_from_slice(b"{\"type\":\"AWSService\"");
            field(out, "invokedBy", def.service.unwrap_or(def.name));
            out.push(b'}');
            String::new()
        }
        IdentityKind::IamUser => {
            write_user(out, def.name, acct, x.and_then(|x| x.access_key.as_deref()), seed);
            String::new()
        }
        IdentityKind::Role { path, session: style } => {
            let session = session_name(ev, def, seed);
            let role_id = iam_id("AROA", &[seed, acct_key, key_of(def.name)]);
            out.extend_from_slice(b"{\"type\":\"AssumedRole\"");
            field(out, "principalId", &format!("{role_id}:{session}"));
            field(out, "arn", &format!("arn:aws:sts::{acct}:assumed-role/{}/{session}", def.name));
            field(out, "accountId", acct);
            let hour = ev.time.div_euclid(3_600_000);
            let key = x
                .and_then(|x| x.access_key.clone())
                .unwrap_or_else(|| iam_id("ASIA", &[seed, acct_key, key_of(def.name), key_of(&session), hour as u64]));
            field(out, "accessKeyId", &key);
            out.extend_from_slice(b",\"sessionContext\":{\"sessionIssuer\":{\"type\":\"Role\"");
            field(out, "principalId", &role_id);
            field(out, "arn", &format!("arn:aws:iam::{acct}:role{path}{}", def.name));
            field(out, "accountId", acct);
            field(out, "userName", def.name);
            out.extend_from_slice(b"},\"attributes\":{\"creationDate\":\"");
            // Credentials were issued shortly before the hour they are used in.
            write_time(out, hour * 3_600_000 - (mix(&[seed, hour as u64, acct_key]) % 600_000) as i64);
            let mfa = matches!(style, SessionStyle::Email);
            out.extend_from_slice(if mfa { b"\",\"mfaAuthenticated\":\"true\"}" } else { b"\",\"mfaAuthenticated\":\"false\"}" });
            if style == SessionStyle::InstanceId {
                out.extend_from_slice(b",\"ec2RoleDelivery\":\"2.0\"");
            }
            out.push(b'}');
            if def.ip == super::principals::IpStyle::Service {
                field(out, "invokedBy", def.agents.first().copied().unwrap_or("AWS Internal"));
            }
            out.push(b'}');
            session
        }
    }
}

fn write_user(out: &mut Vec<u8>, user: &str, acct: &str, access_key: Option<&str>, seed: u64) {
    let key = key_of(acct);
    out.extend_from_slice(b"{\"type\":\"IAMUser\"");
    field(out, "principalId", &iam_id("AIDA", &[seed, key, key_of(user)]));
    field(out, "arn", &format!("arn:aws:iam::{acct}:user/{user}"));
    field(out, "accountId", acct);
    field(out, "accessKeyId", &access_key.map(str::to_string).unwrap_or_else(|| iam_id("AKIA", &[seed, key, key_of(user), 1])));
    field(out, "userName", user);
    out.push(b'}');
}

fn address_and_agent(ev: &Event, def: &PrincipalDef, ctx: &WriteCtx<'_>) -> (String, &'static str) {
    use super::principals::IpStyle;
    let account = &ctx.org.accounts[ev.account as usize];
    let pick = mix(&[ev.id as u64]);
    let agent = if def.agents.is_empty() { "" } else { def.agents[(pick % def.agents.len() as u64) as usize] };
    let ip = match def.ip {
        IpStyle::Nat => account.nat_ips[(pick >> 8) as usize % account.nat_ips.len()].clone(),
        IpStyle::AwsPool => {
            super::org::keyed_ip("52.94", &[ctx.seed, ev.account as u64, ev.region as u64, key_of(def.name), (pick >> 12) % 3])
        }
        IpStyle::Service => {
            return (
                def.service.or_else(|| def.agents.first().copied()).unwrap_or("AWS Internal").to_string(),
                def.service.unwrap_or(agent),
            );
        }
        // Half the day from one of two offices, otherwise from home.
        IpStyle::Office if (pick >> 20).is_multiple_of(2) => super::org::keyed_ip("198.51", &[ctx.seed, (pick >> 24) % 2]),
        IpStyle::Office => super::org::keyed_ip("73.162", &[ctx.seed, 0x40e, ev.person as u64]),
        IpStyle::OnPrem => super::org::keyed_ip("203.0", &[ctx.seed, 0x0b]),
    };
    let agent = if def.service.is_some() { "AWS Internal" } else { agent };
    (ip, agent)
}

fn error_text(kind: ErrorKind, api: &Api, def: &PrincipalDef, acct: &str, session: &str) -> (String, String) {
    let who = match def.kind {
        IdentityKind::Role { .. } => format!("arn:aws:sts::{acct}:assumed-role/{}/{session}", def.name),
        _ => format!("arn:aws:iam::{acct}:user/{}", def.name),
    };
    match (kind, api.service) {
        (ErrorKind::Throttled, "ec2") => ("Client.RequestLimitExceeded".into(), "Request limit exceeded.".into()),
        (ErrorKind::Throttled, "dynamodb") => (
            "ProvisionedThroughputExceededException".into(),
            "The level of configured provisioned throughput for the table was exceeded.".into(),
        ),
        (ErrorKind::Throttled, "s3") => ("SlowDown".into(), "Please reduce your request rate.".into()),
        (ErrorKind::Throttled, _) => ("ThrottlingException".into(), "Rate exceeded".into()),
        (ErrorKind::Denied, "ec2") => ("Client.UnauthorizedOperation".into(), "You are not authorized to perform this operation.".into()),
        (ErrorKind::Denied, "s3" | "iam" | "sts" | "cloudtrail") => (
            "AccessDenied".into(),
            format!(
                "User: {who} is not authorized to perform: {}:{} because no identity-based policy allows the {}:{} action",
                api.service, api.name, api.service, api.name
            ),
        ),
        (ErrorKind::Denied, _) => {
            ("AccessDeniedException".into(), format!("User: {who} is not authorized to perform: {}:{}", api.service, api.name))
        }
    }
}
