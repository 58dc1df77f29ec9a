//! The AWS clients of one deploy, configured by the SDK's standard chain
//! (environment, profiles, SSO; `AWS_ENDPOINT_URL` for emulators) or the
//! stage's own profile, with the stage's region, which deploy.toml owns, and
//! its account checked where deploy.toml pins it.

use std::time::Duration;

use aws_config::identity::IdentityCache;
use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use ferry::model::Stage;

/// Attempts per call: throttling (429 and 503 whatever the body,
/// `Throttling*`, `TooManyRequests*`), 5xx and dropped connections are retried with jittered exponential backoff
/// (200 ms doubling to 10 s), so a call gives up after about a minute.
const MAX_ATTEMPTS: u32 = 8;

use crate::sdk::credentials::{ExpiredCredentials, Renewing};
use crate::sdk::fail::{self, AwsError};
use crate::sdk::pace::{Pacer, Quota};
use crate::sdk::retry::ThrottlingByStatus;
use crate::sdk::stall::{self, Limits};

/// The HTTP client of every AWS client ferry makes: hyper 1 with rustls on
/// ring, trusting the platform's root certificates. (The SDK's default
/// features would also compile hyper 0.14 with a second rustls, and aws-lc's
/// C library: minutes of a cold build on a small CI runner.)
pub fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

pub struct Clients {
    pub lambda: aws_sdk_lambda::Client,
    pub apigw: aws_sdk_apigateway::Client,
    pub iam: aws_sdk_iam::Client,
    /// EC2: read only, for the subnets and security groups a VPC names.
    pub ec2: aws_sdk_ec2::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// Firehose: the log archive's delivery stream.
    pub firehose: aws_sdk_firehose::Client,
    pub sts: aws_sdk_sts::Client,
    /// CloudFront and Route 53 are global: the SDK sends them to their
    /// global endpoints whatever the region.
    pub cloudfront: aws_sdk_cloudfront::Client,
    pub route53: aws_sdk_route53::Client,
    /// S3: the stage's artifact bucket, when it keeps one.
    pub s3: aws_sdk_s3::Client,
    pub ssm: aws_sdk_ssm::Client,
    /// CloudWatch metrics: read by a canary's bake.
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// The account's control-plane quotas, shared by every task of the run.
    pub pace: Pacer,
    /// What every client signs with; renewed when AWS calls it expired.
    pub credentials: Renewing,
    /// Who the credentials are, asked once per run.
    identity:
        tokio::sync::OnceCell<aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput>,
}

impl Clients {
    /// The clients of `stage`: its region, the profile deploy.toml names for
    /// it (else the SDK's default chain), and, when deploy.toml pins the
    /// stage's account, credentials of that account or an error before any
    /// other call.
    pub async fn for_stage(stage: &Stage) -> Result<Self, AwsError> {
        let clients = Self::connect_with(&stage.region, stage.profile.as_deref()).await?;
        if stage.account.is_none() && stage.profile.is_none() {
            return Ok(clients);
        }
        let actual = match clients.account_id().await {
            Err(AwsError::Credentials(why)) if stage.profile.is_some() => {
                return Err(AwsError::Profile {
                    profile: stage.profile.clone().unwrap_or_default(),
                    stage: stage.name.clone(),
                    why,
                })
            }
            other => other?,
        };
        let Some(pin) = &stage.account else {
            return Ok(clients);
        };
        if actual != pin.id {
            let how = match &stage.profile {
                    Some(p) => format!("its profile `{p}` (deploy.toml) reaches account {actual}; point that profile at a role of account {}", pin.id),
                    None => "set the stage's `profile` in deploy.toml, or AWS_PROFILE, or the CI job's role".to_owned(),
                };
            return Err(AwsError::WrongAccount {
                stage: stage.name.clone(),
                expected: pin.id.clone(),
                actual,
                place: format!("{}:{}", pin.file, pin.line),
                how,
            });
        }
        Ok(clients)
    }

    async fn connect_with(region: &str, profile: Option<&str>) -> Result<Self, AwsError> {
        let limits = Limits::from_env()?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(stall::guarded(http_client(), limits))
            // `Renewing` holds the credentials instead (credentials.rs).
            .identity_cache(IdentityCache::no_cache())
            .region(Region::new(region.to_owned()))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .operation_attempt_timeout(limits.attempt)
                    .build(),
            )
            // A response body that stops moving; uploads are watched by
            // `stall::guarded`.
            .stalled_stream_protection(
                StalledStreamProtectionConfig::enabled()
                    .grace_period(limits.stall)
                    .build(),
            );
        // A stage's profile is its credentials, even where the environment
        // holds others (the default chain would take those first).
        if let Some(profile) = profile {
            let config = ProviderConfig::without_region()
                .with_region(Some(Region::new(region.to_owned())))
                .with_http_client(http_client());
            let provider = ProfileFileCredentialsProvider::builder()
                .profile_name(profile)
                .configure(&config)
                .build();
            loader = loader.profile_name(profile).credentials_provider(provider);
        }
        // The user's own retry settings win (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE).
        if std::env::var_os("AWS_MAX_ATTEMPTS").is_none()
            && std::env::var_os("AWS_RETRY_MODE").is_none()
        {
            loader = loader.retry_config(
                RetryConfig::standard()
                    .with_max_attempts(MAX_ATTEMPTS)
                    .with_initial_backoff(Duration::from_millis(200))
                    .with_max_backoff(Duration::from_secs(10)),
            );
        }
        let config = loader.load().await;
        let chain = config.credentials_provider().ok_or_else(|| {
            AwsError::Credentials("the SDK's credential chain is not configured".into())
        })?;
        let credentials = Renewing::new(chain);
        // Each service's client, with throttling recognised by status too,
        // and expired credentials renewed where their source can.
        macro_rules! client {
            ($sdk:ident) => {
                $sdk::Client::from_conf(
                    $sdk::config::Builder::from(&config)
                        .credentials_provider(credentials.clone())
                        .retry_classifier(ThrottlingByStatus)
                        .retry_classifier(ExpiredCredentials(credentials.clone()))
                        .build(),
                )
            };
        }
        Ok(Clients {
            lambda: client!(aws_sdk_lambda),
            apigw: client!(aws_sdk_apigateway),
            iam: client!(aws_sdk_iam),
            ec2: client!(aws_sdk_ec2),
            logs: client!(aws_sdk_cloudwatchlogs),
            firehose: client!(aws_sdk_firehose),
            sts: client!(aws_sdk_sts),
            cloudfront: client!(aws_sdk_cloudfront),
            route53: client!(aws_sdk_route53),
            ssm: client!(aws_sdk_ssm),
            cloudwatch: client!(aws_sdk_cloudwatch),
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&config)
                    .credentials_provider(credentials.clone())
                    .retry_classifier(ThrottlingByStatus)
                    .retry_classifier(ExpiredCredentials(credentials.clone()))
                    // An emulator on an address and port has no per-bucket
                    // host names.
                    .force_path_style(config.endpoint_url().is_some())
                    // ferry sends each zip's SHA-256 itself (S3 checks it).
                    .request_checksum_calculation(
                        aws_sdk_s3::config::RequestChecksumCalculation::WhenRequired,
                    )
                    .build(),
            ),
            pace: Pacer::default(),
            credentials,
            identity: tokio::sync::OnceCell::new(),
        })
    }

    /// Lambda's client once the control-plane quota allows one more call
    /// (every call counts but Invoke, GetFunction and GetPolicy, which use
    /// `self.lambda` directly).
    pub async fn lambda_paced(&self) -> &aws_sdk_lambda::Client {
        self.pace.wait(Quota::Lambda).await;
        &self.lambda
    }

    /// The account of the credentials: the first call of every run, so that
    /// missing or expired credentials stop it before anything else.
    pub async fn account_id(&self) -> Result<String, AwsError> {
        self.identity()
            .await?
            .account()
            .map(str::to_owned)
            .ok_or_else(|| AwsError::Credentials("GetCallerIdentity returned no account".into()))
    }

    /// The ARN of the identity the credentials belong to (a release's author).
    pub async fn caller_arn(&self) -> Result<String, AwsError> {
        Ok(self.identity().await?.arn().unwrap_or_default().to_owned())
    }

    async fn identity(
        &self,
    ) -> Result<aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput, AwsError>
    {
        self.identity
            .get_or_try_init(|| async {
                self.sts
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| fail::credentials(&e))
            })
            .await
            .cloned()
    }
}
