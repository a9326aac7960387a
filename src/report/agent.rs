//! What kind of client made a call, from its `userAgent`: the blog's first question after an
//! alarm ("console or CLI?").

/// A coarse client kind for tables: `console`, `cli`, `sdk`, `aws-internal`, `aws-service`,
/// `iac` (Terraform, CloudFormation, CDK, Pulumi), `tool` (known offensive tooling) or `other`.
pub fn kind(user_agent: &str) -> &'static str {
    let ua = user_agent.trim();
    let lower = ua.to_ascii_lowercase();
    if ua == "AWS Internal" {
        "aws-internal"
    } else if lower.contains("pacu") || lower.contains("stratus-red-team") || lower.contains("cloudfox") || lower.contains("prowler") {
        "tool"
    } else if lower.starts_with("aws-cli/") || lower.contains(" aws-cli/") {
        "cli"
    } else if lower.contains("terraform") || lower.contains("cloudformation") || lower.contains("aws-cdk") || lower.contains("pulumi") {
        "iac"
    } else if lower.starts_with("mozilla/")
        || lower.contains("console.amazonaws.com")
        || lower.contains("console.aws.amazon.com")
        || lower.contains("signin.amazonaws.com")
        || lower.contains("s3console")
    {
        "console"
    } else if lower.starts_with("aws-sdk") || lower.starts_with("boto") || lower.contains("botocore/") || lower.starts_with("aws-internal/")
    {
        "sdk"
    } else if lower.ends_with(".amazonaws.com") && !lower.contains(' ') {
        "aws-service"
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn kinds_of_real_agents() {
        for (ua, want) in [
            ("AWS Internal", "aws-internal"),
            ("aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off command/s3.ls", "cli"),
            ("Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux Python/3.11 Botocore/1.34.0", "sdk"),
            ("aws-sdk-go-v2/1.25.0 os/linux lang/go#1.22 md/GOOS#linux", "sdk"),
            ("signin.amazonaws.com", "console"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:62.0) Gecko/20100101 Firefox/62.0", "console"),
            ("[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488]", "console"),
            ("APN/1.0 HashiCorp/1.0 Terraform/1.5.7 (+https://www.terraform.io) terraform-provider-aws/5.17.0", "iac"),
            ("autoscaling.amazonaws.com", "aws-service"),
            ("stratus-red-team_83e2e1a8-bbd6-4b4d-9f5e-0b6d9a4f1f1e", "tool"),
            ("curl/8.0", "other"),
        ] {
            assert_eq!(super::kind(ua), want, "{ua}");
        }
    }
}
