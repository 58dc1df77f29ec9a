//! Conversions between ferry's plan types and the SDK's request types, kept
//! apart from the calls so that each is unit-tested without AWS.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture, Environment, EphemeralStorage, FunctionConfiguration, Runtime, TracingConfig,
    TracingMode, VpcConfig,
};
use ferry::model::vpc::{SecurityGroupId, SubnetId, Vpc};
use ferry::model::{Arch, EndpointType, Tracing};

use crate::sdk::fail::AwsError;

pub fn architecture(arch: Arch) -> Architecture {
    match arch {
        Arch::Arm64 => Architecture::Arm64,
        Arch::X86_64 => Architecture::X8664,
    }
}

pub fn runtime(runtime: ferry::model::Runtime) -> Runtime {
    Runtime::from(runtime.as_str())
}

pub fn endpoint(endpoint: EndpointType) -> aws_sdk_apigateway::types::EndpointType {
    match endpoint {
        EndpointType::Regional => aws_sdk_apigateway::types::EndpointType::Regional,
        EndpointType::Edge => aws_sdk_apigateway::types::EndpointType::Edge,
    }
}

/// A function's variables as Lambda takes them.
pub fn environment(env: &BTreeMap<String, String>) -> Environment {
    Environment::builder()
        .set_variables(Some(env.clone().into_iter().collect()))
        .build()
}

/// A function's variables as Lambda reports them.
pub fn env_of(f: &FunctionConfiguration) -> BTreeMap<String, String> {
    f.environment()
        .and_then(|e| e.variables())
        .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// The VPC a function is attached to, as ferry models it (none when Lambda
/// lists no subnets: a detached function keeps an empty `VpcConfig`).
pub fn vpc_of(f: &FunctionConfiguration) -> Option<Vpc> {
    let config = f.vpc_config()?;
    let subnets: BTreeSet<SubnetId> = config
        .subnet_ids()
        .iter()
        .filter_map(|s| SubnetId::parse(s))
        .collect();
    if subnets.is_empty() {
        return None;
    }
    Some(Vpc {
        subnets,
        security_groups: config
            .security_group_ids()
            .iter()
            .filter_map(|g| SecurityGroupId::parse(g))
            .collect(),
        ipv6_dual_stack: config.ipv6_allowed_for_dual_stack().unwrap_or(false),
    })
}

/// The `VpcConfig` Lambda is sent: empty lists detach the function.
pub fn vpc_config(vpc: Option<&Vpc>) -> VpcConfig {
    let (subnets, groups, ipv6) = match vpc {
        Some(v) => (
            v.subnets.iter().map(|s| s.as_str().to_owned()).collect(),
            v.security_groups
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect(),
            v.ipv6_dual_stack,
        ),
        None => (Vec::new(), Vec::new(), false),
    };
    VpcConfig::builder()
        .set_subnet_ids(Some(subnets))
        .set_security_group_ids(Some(groups))
        .ipv6_allowed_for_dual_stack(ipv6)
        .build()
}

/// Tags as the SDK's maps take them.
pub fn tags(tags: &BTreeMap<String, String>) -> HashMap<String, String> {
    tags.clone().into_iter().collect()
}

/// An artifact's bytes, ready to upload.
pub async fn zip(path: &str) -> Result<Blob, AwsError> {
    let bytes = tokio::fs::read(path).await.map_err(|e| AwsError::Call {
        call: "reading an artifact",
        message: format!("{path}: {e}"),
        help: "build again (`cargo xtask build`) or pass the --manifest whose zips sit next to it"
            .into(),
    })?;
    Ok(Blob::new(bytes))
}

pub fn tracing(mode: Tracing) -> TracingConfig {
    TracingConfig::builder()
        .mode(TracingMode::from(mode.as_str()))
        .build()
}

pub fn ephemeral(mb: u32) -> EphemeralStorage {
    // The builder fails only without a size.
    EphemeralStorage::builder()
        .size(mb as i32)
        .build()
        .unwrap_or_else(|_| unreachable!("the size is set"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_architecture_and_runtime_maps_to_the_sdk_value() {
        assert_eq!(architecture(Arch::Arm64).as_str(), "arm64");
        assert_eq!(architecture(Arch::X86_64).as_str(), "x86_64");
        for r in [
            ferry::model::Runtime::ProvidedAl2,
            ferry::model::Runtime::ProvidedAl2023,
        ] {
            assert_eq!(runtime(r).as_str(), r.as_str());
            assert!(
                Runtime::values().contains(&r.as_str()),
                "{r} is not a Lambda runtime"
            );
        }
        assert_eq!(endpoint(EndpointType::Regional).as_str(), "REGIONAL");
        assert_eq!(endpoint(EndpointType::Edge).as_str(), "EDGE");
    }

    #[test]
    fn environment_round_trips_through_the_sdk_shapes() {
        let env: BTreeMap<String, String> = [("A", "1"), ("B", "two")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let config = FunctionConfiguration::builder()
            .environment(
                aws_sdk_lambda::types::EnvironmentResponse::builder()
                    .set_variables(environment(&env).variables().cloned())
                    .build(),
            )
            .build();
        assert_eq!(env_of(&config), env);
        assert!(env_of(&FunctionConfiguration::builder().build()).is_empty());
    }

    #[tokio::test]
    async fn a_missing_zip_names_its_path_and_the_fix() {
        let err = zip("/nonexistent/ferry/x.zip").await.unwrap_err();
        let text = format!("{err}");
        assert!(text.contains("/nonexistent/ferry/x.zip"), "{text}");
    }
}
