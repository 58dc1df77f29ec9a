//! The AWS clients of one deploy, configured by the SDK's standard chain
//! (environment, profiles, SSO; `AWS_ENDPOINT_URL` for emulators) with the
//! stage's region, which deploy.toml owns.

use aws_config::{BehaviorVersion, Region};

use crate::fail::{self, AwsError};

pub struct Clients {
    pub lambda: aws_sdk_lambda::Client,
    pub apigw: aws_sdk_apigateway::Client,
    pub iam: aws_sdk_iam::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub sts: aws_sdk_sts::Client,
}

impl Clients {
    pub async fn connect(region: &str) -> Self {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .load()
            .await;
        Clients {
            lambda: aws_sdk_lambda::Client::new(&config),
            apigw: aws_sdk_apigateway::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            sts: aws_sdk_sts::Client::new(&config),
        }
    }

    /// The account of the credentials: the first call of every run, so that
    /// missing or expired credentials stop it before anything else.
    pub async fn account_id(&self) -> Result<String, AwsError> {
        let identity = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| fail::credentials(&e))?;
        identity
            .account()
            .map(str::to_owned)
            .ok_or_else(|| AwsError::Credentials("GetCallerIdentity returned no account".into()))
    }
}
