//! One action, its AWS calls: the exhaustive `match` of the executor. Every
//! action carries what it writes; this module only fills in what earlier
//! actions of the same deploy made (a new API's id, a published layer's
//! ARN, a function's RevisionId) and the secret values the plan names by
//! source, and waits for each function write to settle.

use aws_sdk_lambda::primitives::Blob;
use ferry::deploy::action::S3Object;
use ferry::deploy::front::api_domain;
use ferry::deploy::plan::invoke_source_arn;
use ferry::deploy::{Action, FunctionSettings, VersionRef};

use super::ctx::{current_api, published_version, revision, Ctx};
use crate::read::wait;
use crate::sdk::convert;
use crate::sdk::fail::AwsError;
use crate::write::front_apply::{self, NewDistribution};
use crate::write::functions::{self, Code, CodeSource, Config};
use crate::write::resources::{self, LayerVersion, NewApi};
use crate::write::{archive, dns, preflight, settings, store, teardown, versions};

/// Applies one action; returns the id or ARN of what it made, if anything.
pub(crate) async fn execute(ctx: &Ctx<'_>, action: &Action) -> Result<Option<String>, AwsError> {
    let c = ctx.c;
    let plan = ctx.plan;
    match action {
        Action::CreateRole {
            name,
            description,
            trust_policy,
            policies,
            path,
            inline,
        } => {
            let role = resources::NewRole {
                name,
                path: path.as_deref(),
                description,
                trust_policy,
                policies,
                inline: inline.as_ref(),
            };
            resources::create_role(c, &role).await?;
            let path = path.as_deref().unwrap_or("/");
            Ok(Some(format!(
                "arn:aws:iam::{}:role{path}{name}",
                plan.account
            )))
        }
        Action::AttachRolePolicies { role, policies } => {
            resources::attach_role_policies(c, role, policies).await?;
            Ok(None)
        }
        Action::PutRolePolicy {
            role,
            policy,
            document,
            ..
        } => {
            resources::put_role_policy(c, role, policy, document).await?;
            Ok(None)
        }
        Action::CreateArtifactBucket {
            bucket,
            region,
            tags,
        }
        | Action::CreateLogBucket {
            bucket,
            region,
            tags,
        } => {
            store::create_bucket(c, bucket, region, tags).await?;
            Ok(None)
        }
        Action::CreateDeliveryStream {
            name,
            destination,
            tags,
        } => {
            archive::create_stream(c, name, destination, tags).await?;
            Ok(None)
        }
        Action::UpdateDeliveryStream {
            name,
            version_id,
            destination_id,
            to,
            ..
        } => {
            archive::update_stream(c, name, (version_id, destination_id), to).await?;
            Ok(None)
        }
        Action::PutSubscriptionFilter {
            log_group,
            filter,
            destination_arn,
            role_arn,
        } => {
            archive::put_filter(c, (log_group, filter), destination_arn, role_arn).await?;
            Ok(None)
        }
        Action::DeleteSubscriptionFilter { log_group, filter } => {
            archive::delete_filter(c, log_group, filter).await?;
            Ok(None)
        }
        Action::DeleteDeliveryStream { name } => {
            archive::delete_stream(c, name).await?;
            Ok(None)
        }
        Action::UploadArtifact {
            bucket,
            key,
            zip,
            code_sha256,
            ..
        } => {
            let bytes = read_zip(ctx, zip).await?.into_inner();
            store::upload(c, (bucket, key), bytes, code_sha256).await?;
            Ok(None)
        }
        Action::UploadManifest {
            bucket,
            key,
            manifest,
            sha256,
            commit,
        } => {
            store::upload_manifest(c, (bucket, key), manifest, sha256, commit.as_deref()).await?;
            Ok(None)
        }
        Action::PublishLayerVersion {
            layer,
            arch,
            zip,
            description,
            compatible_runtimes,
            s3,
            ..
        } => {
            let version = LayerVersion {
                layer,
                arch: *arch,
                description,
                compatible_runtimes,
            };
            let source = code_source(ctx, zip, s3).await?;
            let arn = resources::publish_layer(c, &version, source).await?;
            ctx.layer_arns
                .lock()
                .unwrap()
                .insert((layer.clone(), *arch), arn.clone());
            Ok(Some(arn))
        }
        Action::CreateRestApi {
            name,
            description,
            endpoint,
            binary_media_types,
            tags,
        } => {
            let api = NewApi {
                name,
                description,
                endpoint: *endpoint,
                binary_media_types,
                tags,
            };
            let id = resources::create_api(c, &api).await?;
            *ctx.api_id.lock().unwrap() = Some(id.clone());
            Ok(Some(id))
        }
        Action::CreateLogGroup {
            name,
            retention_days,
            tags,
        } => {
            resources::create_log_group(c, name, *retention_days, tags).await?;
            Ok(None)
        }
        Action::PutRetentionPolicy { name, to, .. } => {
            resources::put_retention(c, name, *to).await?;
            Ok(None)
        }
        Action::CreateFunction {
            function,
            arch,
            code_sha256,
            zip,
            settings,
            tags,
            s3,
        } => {
            let config = resolve(ctx, settings)?;
            let code = Code {
                zip: code_source(ctx, zip, s3).await?,
                code_sha256,
                arch: *arch,
            };
            let arn = functions::create(c, function, code, &config, tags).await?;
            settle(ctx, function).await?;
            Ok(arn)
        }
        Action::UpdateFunctionCode {
            function,
            arch,
            to,
            zip,
            s3,
            ..
        } => {
            let code = Code {
                zip: code_source(ctx, zip, s3).await?,
                code_sha256: to,
                arch: *arch,
            };
            functions::update_code(c, function, code, revision(ctx, function)).await?;
            settle(ctx, function).await?;
            Ok(None)
        }
        Action::UpdateFunctionConfiguration {
            function, settings, ..
        } => {
            let config = resolve(ctx, settings)?;
            functions::update_configuration(c, function, &config, revision(ctx, function)).await?;
            settle(ctx, function).await?;
            Ok(None)
        }
        Action::TagFunction {
            arn, set, remove, ..
        } => {
            functions::tag(c, arn, set, remove).await?;
            Ok(None)
        }
        Action::AddInvokePermission {
            function,
            replace,
            api_id,
            qualifier,
            invoker,
        } => {
            let api = api_id.clone().unwrap_or_else(|| current_api(ctx));
            let source = invoke_source_arn(&plan.region, &plan.account, &api, *invoker);
            functions::add_permission(c, function, qualifier.as_deref(), *replace, &source).await?;
            Ok(None)
        }
        Action::PutRestApi {
            api_id,
            definition,
            preflights,
            adopted,
            ..
        } => {
            let api = api_id.clone().unwrap_or_else(|| current_api(ctx));
            resources::put_definition(c, &api, definition, *adopted).await?;
            preflight::put_all(c, &api, preflights, *adopted).await?;
            Ok(None)
        }
        Action::CreateDeployment {
            api_id,
            stage,
            description,
            ..
        } => {
            let api = api_id.clone().unwrap_or_else(|| current_api(ctx));
            let id = resources::deploy_stage(c, &api, stage, description).await?;
            *ctx.deployment.lock().unwrap() = Some(id.clone());
            Ok(Some(id))
        }
        Action::CreateDistribution {
            domain,
            certificate,
            origin_domain,
            origin_path,
            caller_reference,
            comment,
            behaviors,
        } => {
            let origin = origin_domain
                .clone()
                .unwrap_or_else(|| api_domain(&current_api(ctx), &plan.region));
            let new = NewDistribution {
                caller_reference,
                comment,
                domain,
                certificate,
                origin_domain: &origin,
                origin_path,
                behaviors,
            };
            let (id, name) = front_apply::create_distribution(c, &new).await?;
            *ctx.distribution.lock().unwrap() = Some((id.clone(), name));
            Ok(Some(id))
        }
        Action::UpdateDistributionOrigin {
            distribution,
            origin,
            to_domain,
            to_path,
            ..
        } => {
            let domain = to_domain
                .clone()
                .unwrap_or_else(|| api_domain(&current_api(ctx), &plan.region));
            front_apply::retarget(&c.cloudfront, distribution, origin, &domain, to_path).await?;
            Ok(None)
        }
        Action::UpdateCacheBehaviors {
            distribution,
            origin,
            to,
            ..
        } => {
            front_apply::set_behaviors(&c.cloudfront, distribution, origin, to).await?;
            Ok(None)
        }
        Action::UpsertAliasRecords {
            zone,
            domain,
            target,
        } => {
            let made = ctx.distribution.lock().unwrap().clone().map(|(_, n)| n);
            let target = target.clone().or(made).unwrap_or_default();
            dns::upsert_alias(c, zone, domain, &target).await?;
            Ok(Some(target))
        }
        Action::CreateInvalidation {
            distribution,
            paths,
            reference,
        } => {
            let millis = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis());
            let reference = format!("{reference} {millis}");
            let id = front_apply::invalidate(c, distribution, paths, &reference).await?;
            Ok(Some(id))
        }
        Action::UpdateStageCache {
            api_id,
            stage,
            patch,
            ..
        }
        | Action::UpdateStageSettings {
            api_id,
            stage,
            patch,
            ..
        } => {
            let api = api_id.clone().unwrap_or_else(|| current_api(ctx));
            settings::update_stage(c, &api, stage, patch).await?;
            Ok(None)
        }
        Action::SetApiGatewayAccountRole { to, new_role, .. } => {
            settings::account_role(c, to, *new_role).await?;
            Ok(None)
        }
        Action::SetReservedConcurrency { function, to, .. } => {
            settings::reserved_concurrency(c, function, *to).await?;
            Ok(None)
        }
        Action::FlushStageCache { api_id, stage, .. } => {
            let api = api_id.clone().unwrap_or_else(|| current_api(ctx));
            resources::flush_stage_cache(c, &api, stage).await?;
            Ok(None)
        }
        Action::DeleteFunction { function } => {
            functions::delete(c, function).await?;
            Ok(None)
        }
        Action::DeleteFunctionVersion { function, version } => {
            versions::delete(c, function, version).await?;
            Ok(None)
        }
        Action::PublishVersion {
            function,
            code_sha256,
            description,
        } => {
            let version = versions::publish(c, function, code_sha256, description).await?;
            ctx.versions
                .lock()
                .unwrap()
                .insert(function.clone(), version.clone());
            Ok(Some(version))
        }
        Action::PointAlias {
            function,
            alias,
            from,
            to,
            description,
            canary,
        } => {
            let version = match to {
                VersionRef::Version(v) => v.clone(),
                VersionRef::Published => published_version(ctx, function)?,
            };
            // A canary keeps the alias on `from` and weights the new version.
            // (Lambda answers a publish of an unchanged function with its
            // newest version: when that is `from`, there is nothing to weigh.)
            let (primary, weighted) = match (canary, from) {
                (Some(pct), Some(from)) if *from != version => {
                    (from.clone(), Some((version.as_str(), *pct)))
                }
                _ => (version.clone(), None),
            };
            let to = versions::Target {
                version: &primary,
                weighted,
                description,
            };
            versions::point_alias(c, function, alias, to, from.is_some()).await?;
            Ok(Some(version))
        }
        Action::StartCanary { parameter, record } => {
            versions::start_canary(c, parameter, record).await?;
            Ok(None)
        }
        Action::EndCanary { parameter } => {
            versions::end_canary(c, parameter).await?;
            Ok(None)
        }
        Action::SetStageDeployment {
            api_id, stage, to, ..
        } => {
            versions::set_stage_deployment(c, api_id, stage, to).await?;
            Ok(None)
        }
        Action::DeleteAliasRecords {
            zone,
            domain,
            target,
            types,
        } => {
            let types: Vec<&str> = types.iter().map(String::as_str).collect();
            dns::delete_alias(c, zone, domain, target, &types).await?;
            Ok(None)
        }
        Action::DisableDistribution { distribution } => {
            front_apply::disable(&c.cloudfront, distribution).await?;
            Ok(None)
        }
        Action::DeleteDistribution { distribution } => {
            teardown::delete_distribution(c, distribution).await?;
            Ok(None)
        }
        Action::DeleteRestApi { api_id, .. } => {
            teardown::delete_api(c, api_id).await.map(|()| None)
        }
        Action::DeleteApiStage { api_id, stage, .. } => {
            teardown::delete_api_stage(c, api_id, stage).await?;
            Ok(None)
        }
        Action::DeleteLayerVersion { layer, version } => {
            teardown::delete_layer_version(c, layer, *version).await?;
            Ok(None)
        }
        Action::DeleteRole {
            name,
            attached,
            inline,
        } => teardown::delete_role(c, name, attached, inline)
            .await
            .map(|()| None),
        Action::DeleteLogGroup { name } => teardown::delete_log_group(c, name).await.map(|()| None),
        Action::DeleteParameters { parameters } => {
            teardown::delete_parameters(c, parameters).await?;
            Ok(None)
        }
        Action::RecordRelease {
            parameter,
            current,
            release,
        } => {
            let release = super::config::release(ctx, release).await?;
            versions::record(c, parameter, current, &release).await?;
            Ok(Some(parameter.clone()))
        }
    }
}

/// A function's settings with its secrets' values and the ARNs of the layer
/// versions this deploy published.
fn resolve(ctx: &Ctx<'_>, settings: &FunctionSettings) -> Result<Config, AwsError> {
    let published = ctx.layer_arns.lock().unwrap().clone();
    super::config::config(settings, ctx.secrets, |layer, arch| {
        published.get(&(layer.to_owned(), arch)).cloned()
    })
}

/// A code write's zip: from the artifact bucket when the plan says so,
/// else read to travel in the request.
async fn code_source<'a>(
    ctx: &Ctx<'_>,
    zip: &str,
    s3: &'a Option<S3Object>,
) -> Result<CodeSource<'a>, AwsError> {
    Ok(match s3 {
        Some(object) => CodeSource::S3(object),
        None => CodeSource::Zip(read_zip(ctx, zip).await?),
    })
}

async fn read_zip(ctx: &Ctx<'_>, path: &str) -> Result<Blob, AwsError> {
    let zip = convert::zip(path).await?;
    *ctx.uploaded.lock().unwrap() += zip.as_ref().len() as u64;
    Ok(zip)
}

/// Waits until the function accepts writes again and keeps its RevisionId
/// for the next write.
async fn settle(ctx: &Ctx<'_>, function: &str) -> Result<(), AwsError> {
    let revision = wait::function_settled(ctx.c, function).await?;
    ctx.revisions
        .lock()
        .unwrap()
        .insert(function.to_owned(), revision);
    Ok(())
}
