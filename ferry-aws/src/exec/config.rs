//! What the executor fills into an action before it writes: a function's
//! configuration with its secrets' values and the layer versions this deploy
//! published, and a release record with the versions, API and deployment
//! this deploy made, who made it and when.

use ferry::deploy::record::{Made, Release, ReleaseDraft};
use ferry::deploy::{FunctionSettings, LayerArn};
use ferry::model::{EnvValue, Secrets};

use super::ctx::Ctx;
use crate::sdk::fail::AwsError;
use crate::write::functions::Config;

pub(super) fn config(
    settings: &FunctionSettings,
    secrets: &Secrets,
    published: impl Fn(&str, ferry::model::Arch) -> Option<String>,
) -> Result<Config, AwsError> {
    let mut env = std::collections::BTreeMap::new();
    for (key, value) in &settings.env {
        let value = match value {
            EnvValue::Plain(v) => v.clone(),
            EnvValue::Secret(source) => secrets
                .get(source)
                .ok_or_else(|| {
                    AwsError::Secrets(format!(
                        "`{key}` takes its value from the {source}, which this run did not resolve"
                    ))
                })?
                .to_owned(),
        };
        env.insert(key.clone(), value);
    }
    let mut layers = Vec::new();
    for layer in &settings.layers {
        layers.push(match layer {
            LayerArn::Arn(arn) => arn.clone(),
            LayerArn::Published { layer, arch } => {
                published(layer, *arch).ok_or_else(|| AwsError::Call {
                    call: "lambda:PublishLayerVersion",
                    message: format!(
                        "the plan uses a new version of {layer} ({arch}) that it does not publish"
                    ),
                    help: "make the plan again (`cargo xtask plan`); a saved plan must come whole"
                        .into(),
                })?
            }
        });
    }
    Ok(Config {
        runtime: settings.runtime,
        role: settings.role.clone(),
        memory_mb: settings.memory_mb,
        timeout_s: settings.timeout_s,
        tracing: settings.tracing,
        ephemeral_mb: settings.ephemeral_mb,
        vpc: settings.vpc.clone(),
        env,
        layers,
    })
}

/// The release `draft` records, now that the plan's other actions ran.
pub(super) async fn release(ctx: &Ctx<'_>, draft: &ReleaseDraft) -> Result<Release, AwsError> {
    let by = ctx.c.caller_arn().await?;
    let at = aws_smithy_types::DateTime::from(std::time::SystemTime::now())
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default();
    let versions = ctx.versions.lock().unwrap().clone();
    let layers = ctx.layer_arns.lock().unwrap().clone();
    let plan = ctx.plan;
    let published = |service: &str| {
        let function = match draft.adopted.get(service) {
            Some(name) => name.clone(),
            None => ferry::model::function_name(&plan.app, &plan.stage, service),
        };
        versions.get(&function).cloned()
    };
    let layer = |name: &str, arch| layers.get(&(name.to_owned(), arch)).cloned();
    let made = Made {
        at,
        by,
        published: &published,
        layer: &layer,
        api_id: ctx.api_id.lock().unwrap().clone(),
        deployment: ctx.deployment.lock().unwrap().clone(),
    };
    draft.resolve(&made).map_err(|missing| AwsError::Call {
        call: "ssm:PutParameter",
        message: format!("the release record lacks {missing}"),
        help: "make the plan again (`cargo xtask plan`); a saved plan must come whole".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry::deploy::FunctionSettings;
    use ferry::model::{Arch, Runtime, SecretSource};

    fn settings() -> FunctionSettings {
        FunctionSettings {
            runtime: Runtime::ProvidedAl2023,
            role: "arn:aws:iam::123456789012:role/r".into(),
            memory_mb: 256,
            timeout_s: 10,
            tracing: ferry::model::Tracing::PassThrough,
            ephemeral_mb: 512,
            vpc: None,
            env: [
                ("PLAIN".to_owned(), EnvValue::Plain("v".into())),
                (
                    "TOKEN".to_owned(),
                    EnvValue::Secret(SecretSource::Env("CI_TOKEN".into())),
                ),
            ]
            .into_iter()
            .collect(),
            layers: vec![
                LayerArn::Arn("arn:aws:lambda:eu-west-1:1:layer:x:3".into()),
                LayerArn::Published {
                    layer: "items-jwks".into(),
                    arch: Arch::Arm64,
                },
            ],
        }
    }

    #[test]
    fn a_configuration_takes_secret_values_and_layers_published_by_this_deploy() {
        let mut secrets = Secrets::default();
        secrets.insert(SecretSource::Env("CI_TOKEN".into()), "s3cr3t".into());
        let config = config(&settings(), &secrets, |layer, arch| {
            (layer == "items-jwks" && arch == Arch::Arm64)
                .then(|| "arn:aws:lambda:eu-west-1:1:layer:items-jwks:7".to_owned())
        })
        .unwrap();
        assert_eq!(config.env["PLAIN"], "v");
        assert_eq!(config.env["TOKEN"], "s3cr3t");
        assert_eq!(
            config.layers,
            [
                "arn:aws:lambda:eu-west-1:1:layer:x:3",
                "arn:aws:lambda:eu-west-1:1:layer:items-jwks:7"
            ]
        );
        assert_eq!((config.memory_mb, config.timeout_s), (256, 10));
    }

    #[test]
    fn an_unresolved_secret_or_unpublished_layer_stops_before_the_write() {
        let err = config(&settings(), &Secrets::default(), |_, _| Some("a".into())).unwrap_err();
        assert!(err.to_string().contains("TOKEN"), "{err}");
        let mut secrets = Secrets::default();
        secrets.insert(SecretSource::Env("CI_TOKEN".into()), "s".into());
        let err = config(&settings(), &secrets, |_, _| None).unwrap_err();
        assert!(err.to_string().contains("items-jwks"), "{err}");
    }
}
