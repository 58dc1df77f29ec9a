//! The writes to one Lambda function: create it, update its code or its
//! configuration (each guarded by the RevisionId read before it), tag or
//! delete it, and give API Gateway its invoke permission. Each recognises
//! its own effect when the SDK retried it after a lost answer. Waiting for
//! the function to settle is the caller's next step.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_lambda::operation::create_function::builders::CreateFunctionFluentBuilder;
use aws_sdk_lambda::operation::update_function_configuration::builders::UpdateFunctionConfigurationFluentBuilder;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, FunctionConfiguration, LayerVersionContentInput};
use ferry::deploy::action::S3Object;
use ferry::deploy::plan::INVOKE_STATEMENT_ID;
use ferry::model::vpc::Vpc;
use ferry::model::{Arch, Runtime, Tracing};

use crate::read::{landed, live};
use crate::sdk::clients::Clients;
use crate::sdk::convert::{
    architecture, env_of, environment, ephemeral, runtime, tags, tracing, vpc_config, vpc_of,
};
use crate::sdk::fail::{self, AwsError};
use crate::sdk::once;
use crate::write::lambda_role::{role_not_ready, role_refused, ROLE_TRIES};

/// A function's configuration with every value resolved: what Lambda is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub runtime: Runtime,
    pub role: String,
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub tracing: Tracing,
    pub ephemeral_mb: u32,
    pub vpc: Option<Vpc>,
    pub env: BTreeMap<String, String>,
    pub layers: Vec<String>,
}

impl Config {
    /// Whether Lambda's configuration already is this one.
    pub fn matches(&self, live: &FunctionConfiguration) -> bool {
        let live_layers: Vec<&str> = live.layers().iter().filter_map(|l| l.arn()).collect();
        live.memory_size() == Some(self.memory_mb as i32)
            && live.timeout() == Some(self.timeout_s as i32)
            && live
                .tracing_config()
                .and_then(|t| t.mode())
                .map(|m| m.as_str())
                .unwrap_or("PassThrough")
                == self.tracing.as_str()
            && live.ephemeral_storage().map_or(512, |e| e.size()) == self.ephemeral_mb as i32
            && vpc_of(live) == self.vpc
            && live.role() == Some(self.role.as_str())
            && live.runtime().map(|r| r.as_str()) == Some(self.runtime.as_str())
            && env_of(live) == self.env
            && live_layers == self.layers
    }
}

/// A function's code: the zip and the CodeSha256 it has.
pub struct Code<'a> {
    pub zip: CodeSource<'a>,
    pub code_sha256: &'a str,
    pub arch: Arch,
}

/// Where Lambda takes a zip from: the request itself, or the stage's
/// artifact bucket.
#[derive(Clone)]
pub enum CodeSource<'a> {
    Zip(Blob),
    S3(&'a S3Object),
}

impl CodeSource<'_> {
    pub fn function_code(self) -> FunctionCode {
        match self {
            CodeSource::Zip(zip) => FunctionCode::builder().zip_file(zip).build(),
            CodeSource::S3(o) => FunctionCode::builder()
                .s3_bucket(&o.bucket)
                .s3_key(&o.key)
                .build(),
        }
    }

    pub fn layer_content(self) -> LayerVersionContentInput {
        match self {
            CodeSource::Zip(zip) => LayerVersionContentInput::builder().zip_file(zip).build(),
            CodeSource::S3(o) => LayerVersionContentInput::builder()
                .s3_bucket(&o.bucket)
                .s3_key(&o.key)
                .build(),
        }
    }
}

pub async fn create(
    c: &Clients,
    name: &str,
    code: Code<'_>,
    config: &Config,
    function_tags: &BTreeMap<String, String>,
) -> Result<Option<String>, AwsError> {
    let (code_sha256, role) = (code.code_sha256, config.role.clone());
    let request = create_request(c.lambda_paced().await, name, code, config, function_tags);
    // A role created a moment ago may not be assumable yet (IAM is
    // eventually consistent): Lambda says so, and a retry succeeds.
    let mut tries = 0;
    let arn = loop {
        match request.clone().send().await {
            Ok(out) => break out.function_arn().map(str::to_owned),
            Err(e) => {
                let e = e.into_service_error();
                // The SDK's retry of a create whose answer was lost
                // finds the function that create made.
                if e.is_resource_conflict_exception() {
                    if let Some(arn) = landed::code(c, name, code_sha256).await? {
                        break Some(arn);
                    }
                }
                if role_not_ready(&e) && tries < ROLE_TRIES {
                    tries += 1;
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    continue;
                }
                if let Some(err) = role_refused(&e, &role, "lambda:CreateFunction") {
                    return Err(err);
                }
                return Err(fail::call("lambda:CreateFunction", e));
            }
        }
    };
    Ok(arn)
}

fn create_request(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    code: Code<'_>,
    config: &Config,
    function_tags: &BTreeMap<String, String>,
) -> CreateFunctionFluentBuilder {
    lambda
        .create_function()
        .function_name(name)
        .runtime(runtime(config.runtime))
        .handler("bootstrap")
        .role(&config.role)
        .code(code.zip.function_code())
        .architectures(architecture(code.arch))
        .memory_size(config.memory_mb as i32)
        .timeout(config.timeout_s as i32)
        .tracing_config(tracing(config.tracing))
        .ephemeral_storage(ephemeral(config.ephemeral_mb))
        .set_vpc_config(config.vpc.as_ref().map(|v| vpc_config(Some(v))))
        .environment(environment(&config.env))
        .set_layers(Some(config.layers.clone()))
        .set_tags(Some(tags(function_tags)))
}

fn configuration_request(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    config: &Config,
) -> UpdateFunctionConfigurationFluentBuilder {
    lambda
        .update_function_configuration()
        .function_name(name)
        .runtime(runtime(config.runtime))
        .handler("bootstrap")
        .role(&config.role)
        .memory_size(config.memory_mb as i32)
        .timeout(config.timeout_s as i32)
        .tracing_config(tracing(config.tracing))
        .ephemeral_storage(ephemeral(config.ephemeral_mb))
        .vpc_config(vpc_config(config.vpc.as_ref()))
        .environment(environment(&config.env))
        .set_layers(Some(config.layers.clone()))
}

pub async fn update_code(
    c: &Clients,
    name: &str,
    code: Code<'_>,
    revision: Option<String>,
) -> Result<(), AwsError> {
    let updated = c
        .lambda_paced()
        .await
        .update_function_code()
        .function_name(name)
        .set_zip_file(match &code.zip {
            CodeSource::Zip(zip) => Some(zip.clone()),
            CodeSource::S3(_) => None,
        })
        .set_s3_bucket(match &code.zip {
            CodeSource::S3(o) => Some(o.bucket.clone()),
            CodeSource::Zip(_) => None,
        })
        .set_s3_key(match &code.zip {
            CodeSource::S3(o) => Some(o.key.clone()),
            CodeSource::Zip(_) => None,
        })
        // The architecture travels with the code: Lambda takes it nowhere else.
        .architectures(architecture(code.arch))
        .set_revision_id(revision)
        .send()
        .await;
    if let Err(e) = updated {
        let e = e.into_service_error();
        // A retry whose first attempt landed finds a new RevisionId.
        let landed = e.is_precondition_failed_exception()
            && landed::code(c, name, code.code_sha256).await?.is_some();
        if !landed {
            return Err(fail::call("lambda:UpdateFunctionCode", e));
        }
    }
    Ok(())
}

pub async fn update_configuration(
    c: &Clients,
    name: &str,
    config: &Config,
    revision: Option<String>,
) -> Result<(), AwsError> {
    let request =
        configuration_request(c.lambda_paced().await, name, config).set_revision_id(revision);
    let mut tries = 0;
    let updated = loop {
        match request.clone().send().await {
            Err(e) if tries < ROLE_TRIES && e.as_service_error().is_some_and(role_not_ready) => {
                tries += 1;
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            other => break other,
        }
    };
    if let Err(e) = updated {
        let e = e.into_service_error();
        if let Some(err) = role_refused(&e, &config.role, "lambda:UpdateFunctionConfiguration") {
            return Err(err);
        }
        // A retry whose first attempt landed finds a new RevisionId.
        let landed = e.is_precondition_failed_exception()
            && landed::configuration(c, name, |live| config.matches(live)).await?;
        if !landed {
            return Err(fail::call("lambda:UpdateFunctionConfiguration", e));
        }
    }
    Ok(())
}

/// Sets and removes tags of the function `arn`.
pub async fn tag(
    c: &Clients,
    arn: &str,
    set: &BTreeMap<String, String>,
    remove: &[String],
) -> Result<(), AwsError> {
    if !set.is_empty() {
        c.lambda_paced()
            .await
            .tag_resource()
            .resource(arn)
            .set_tags(Some(tags(set)))
            .send()
            .await
            .map_err(|e| fail::call("lambda:TagResource", e.into_service_error()))?;
    }
    if !remove.is_empty() {
        c.lambda_paced()
            .await
            .untag_resource()
            .resource(arn)
            .set_tag_keys(Some(remove.to_vec()))
            .send()
            .await
            .map_err(|e| fail::call("lambda:UntagResource", e.into_service_error()))?;
    }
    Ok(())
}

/// Deletes the function with its versions, aliases and policies; one
/// already gone (a retry after a lost answer) is not an error.
pub async fn delete(c: &Clients, name: &str) -> Result<(), AwsError> {
    let out = c
        .lambda_paced()
        .await
        .delete_function()
        .function_name(name)
        .send()
        .await;
    fail::deleted("lambda:DeleteFunction", out, "ResourceNotFoundException")
}

/// Lets the REST API of `source` (an execute-api ARN) invoke the function
/// through its alias `qualifier`, first removing ferry's statement naming
/// another API when `replace`.
pub async fn add_permission(
    c: &Clients,
    name: &str,
    qualifier: Option<&str>,
    replace: bool,
    source: &str,
) -> Result<(), AwsError> {
    let qualifier = qualifier.map(str::to_owned);
    if replace {
        match c
            .lambda_paced()
            .await
            .remove_permission()
            .function_name(name)
            .set_qualifier(qualifier.clone())
            .statement_id(INVOKE_STATEMENT_ID)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) => {}
            Err(e) => {
                return Err(fail::call(
                    "lambda:RemovePermission",
                    e.into_service_error(),
                ))
            }
        }
    }
    // One attempt at a time: a repeated add after a lost answer meets the
    // statement it made (AWS refuses the Sid; an emulator may add it twice).
    let add = || async {
        c.lambda_paced()
            .await
            .add_permission()
            .function_name(name)
            .set_qualifier(qualifier.clone())
            .statement_id(INVOKE_STATEMENT_ID)
            .action("lambda:InvokeFunction")
            .principal("apigateway.amazonaws.com")
            .source_arn(source)
            .customize()
            .config_override(once::lambda_single())
            .send()
            .await
            .map(|_| ())
    };
    let added = || async {
        let current = live::permission_source(c, name, qualifier.as_deref()).await?;
        Ok((current.as_deref() == Some(source)).then_some(()))
    };
    once::write("lambda:AddPermission", &c.credentials, add, added).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry::model::vpc::{SecurityGroupId, SubnetId};

    fn config() -> Config {
        Config {
            runtime: Runtime::ProvidedAl2,
            role: "arn:aws:iam::123456789012:role/r".into(),
            memory_mb: 512,
            timeout_s: 9,
            tracing: Tracing::Active,
            ephemeral_mb: 1024,
            vpc: Some(Vpc {
                subnets: SubnetId::parse("subnet-0123abcd").into_iter().collect(),
                security_groups: SecurityGroupId::parse("sg-0123abcd").into_iter().collect(),
                ipv6_dual_stack: false,
            }),
            env: [("A".to_owned(), "1".to_owned())].into_iter().collect(),
            layers: vec!["arn:aws:lambda:us-east-1:1:layer:l:2".into()],
        }
    }

    fn lambda() -> aws_sdk_lambda::Client {
        aws_sdk_lambda::Client::from_conf(
            aws_sdk_lambda::Config::builder()
                .behavior_version_latest()
                .build(),
        )
    }

    #[test]
    fn a_create_sends_the_whole_configuration_code_and_tags() {
        let tags = [("ferry:stage".to_owned(), "test".to_owned())]
            .into_iter()
            .collect();
        let code = Code {
            zip: CodeSource::Zip(Blob::new(b"zip".to_vec())),
            code_sha256: "sha",
            arch: Arch::Arm64,
        };
        let client = lambda();
        let request = create_request(&client, "items-test-get", code, &config(), &tags);
        let input = request.as_input();
        assert_eq!(input.get_function_name().as_deref(), Some("items-test-get"));
        assert_eq!(input.get_handler().as_deref(), Some("bootstrap"));
        assert_eq!(
            input.get_runtime().as_ref().map(|r| r.as_str()),
            Some("provided.al2")
        );
        assert_eq!(input.get_memory_size(), &Some(512));
        assert_eq!(input.get_timeout(), &Some(9));
        let mode = input.get_tracing_config().as_ref().and_then(|t| t.mode());
        assert_eq!(mode.map(|m| m.as_str()), Some("Active"));
        assert_eq!(
            input.get_ephemeral_storage().as_ref().map(|e| e.size()),
            Some(1024)
        );
        let vpc = input.get_vpc_config().as_ref().unwrap();
        assert_eq!(
            (vpc.subnet_ids(), vpc.security_group_ids()),
            (
                &["subnet-0123abcd".to_owned()][..],
                &["sg-0123abcd".to_owned()][..]
            )
        );
        assert_eq!(
            input.get_architectures().as_deref(),
            Some(&[architecture(Arch::Arm64)][..])
        );
        assert_eq!(
            input.get_layers().as_deref(),
            Some(&["arn:aws:lambda:us-east-1:1:layer:l:2".to_owned()][..])
        );
        assert_eq!(
            input
                .get_tags()
                .as_ref()
                .and_then(|t| t.get("ferry:stage"))
                .map(String::as_str),
            Some("test")
        );
        let sent = input
            .get_environment()
            .as_ref()
            .and_then(|e| e.variables().cloned());
        assert_eq!(sent.and_then(|v| v.get("A").cloned()).as_deref(), Some("1"));
    }

    #[test]
    fn a_configuration_update_matches_what_lambda_then_reports() {
        let client = lambda();
        let c = config();
        let input = configuration_request(&client, "f", &c).as_input().clone();
        assert_eq!(input.get_role().as_deref(), Some(c.role.as_str()));
        let reported = |memory: i32| {
            FunctionConfiguration::builder()
                .memory_size(memory)
                .timeout(9)
                .role(&c.role)
                .runtime(runtime(c.runtime))
                .environment(
                    aws_sdk_lambda::types::EnvironmentResponse::builder()
                        .set_variables(
                            input
                                .get_environment()
                                .as_ref()
                                .and_then(|e| e.variables().cloned()),
                        )
                        .build(),
                )
                .layers(
                    aws_sdk_lambda::types::Layer::builder()
                        .arn("arn:aws:lambda:us-east-1:1:layer:l:2")
                        .build(),
                )
                .tracing_config(
                    aws_sdk_lambda::types::TracingConfigResponse::builder()
                        .mode(aws_sdk_lambda::types::TracingMode::Active)
                        .build(),
                )
                .ephemeral_storage(ephemeral(1024))
                .vpc_config(
                    aws_sdk_lambda::types::VpcConfigResponse::builder()
                        .set_subnet_ids(
                            input
                                .get_vpc_config()
                                .as_ref()
                                .map(|v| v.subnet_ids().to_vec()),
                        )
                        .set_security_group_ids(
                            input
                                .get_vpc_config()
                                .as_ref()
                                .map(|v| v.security_group_ids().to_vec()),
                        )
                        .vpc_id("vpc-0123abcd")
                        .build(),
                )
                .build()
        };
        assert!(c.matches(&reported(512)));
        assert!(!c.matches(&reported(128)));
        let outside = Config {
            vpc: None,
            ..c.clone()
        };
        assert!(!outside.matches(&reported(512)), "a function to detach");
        let detached = configuration_request(&client, "f", &outside)
            .as_input()
            .clone();
        let sent = detached.get_vpc_config().as_ref().unwrap();
        assert!(sent.subnet_ids().is_empty() && sent.security_group_ids().is_empty());
    }
}
