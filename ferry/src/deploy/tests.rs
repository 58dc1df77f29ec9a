//! The planner against desired and live states built in code: a first deploy
//! creates everything, a converged stage plans nothing, and each kind of
//! change plans exactly its own actions.

use std::collections::BTreeMap;

use super::render;
use super::state::*;
use super::*;
use crate::manifest::{Artifact, Manifest, SCHEMA_VERSION};
use crate::model::fixture::Fixture;
use crate::model::{Arch, GlibcVersion, Workspace};

pub(super) fn workspace(extra_route: bool) -> (Fixture, Workspace) {
    let list = if extra_route {
        "routes = [\"GET /items\", \"HEAD /items\"]\n"
    } else {
        "routes = [\"GET /items\"]\n"
    };
    let fixture = Fixture::new()
        .service("list", &format!("{list}layers = [\"keys\"]\n"))
        .service("get", "routes = [\"GET /items/{id}\"]\nmemory = 256\n")
        .layer("keys", "files = { \"k\" = \"data\" }\n");
    let ws = fixture.load().unwrap();
    (fixture, ws)
}

/// A manifest for `ws` whose hashes are `<name>-<arch>-<version>`.
pub(super) fn manifest(ws: &Workspace, versions: &BTreeMap<&str, u32>) -> Manifest {
    let plan = crate::build::select::plan(ws, None, &[]).unwrap();
    let artifacts = plan
        .artifacts
        .iter()
        .map(|a| {
            let hash = format!(
                "{}-{}-v{}",
                a.name,
                a.arch,
                versions.get(a.name.as_str()).copied().unwrap_or(1)
            );
            let packed = crate::build::pack::Packed {
                sha256: hash.clone(),
                code_sha256: hash,
                zipped_size: 1,
                unzipped_size: 1,
                entries: Vec::new(),
            };
            let path = format!("target/lambda/{}", a.zip_name());
            crate::build::artifact_record(
                a,
                path,
                &packed,
                String::new(),
                Some(GlibcVersion::new(2, 17)),
            )
        })
        .collect::<Vec<Artifact>>();
    Manifest {
        schema_version: SCHEMA_VERSION,
        app: ws.app.name.to_string(),
        ferry_version: "test".into(),
        artifacts,
        routes: Vec::new(),
    }
}

/// The live state a successful deploy of `desired` leaves behind.
pub(super) fn converged(desired: &Desired) -> Live {
    let mut live = Live {
        account_id: "123456789012".into(),
        managed_role_exists: true,
        ..Live::default()
    };
    for ((name, arch), layer) in &desired.layers {
        let versions = live.layer_versions.entry(name.clone()).or_default();
        let version = versions.len() as u64 + 1;
        versions.push(LiveLayerVersion {
            arn: format!("arn:aws:lambda:us-east-1:123456789012:layer:{name}:{version}"),
            version,
            description: layer.description.clone(),
            compatible_architectures: vec![*arch],
        });
    }
    for f in desired.functions.values() {
        let layers = f
            .layers
            .iter()
            .map(|l| match l {
                DesiredLayerRef::Arn(arn) => arn.clone(),
                DesiredLayerRef::Own { name, arch } => plan::layer_version_arn(
                    &live,
                    name,
                    *arch,
                    &desired.layers[&(name.clone(), *arch)].code_sha256,
                )
                .unwrap()
                .to_owned(),
            })
            .collect();
        let function = LiveFunction {
            code_sha256: f.code_sha256.clone(),
            arch: f.arch,
            runtime: Some(f.runtime),
            other_runtime: None,
            memory_mb: f.memory_mb,
            timeout_s: f.timeout_s,
            tracing: f.tracing,
            ephemeral_mb: f.ephemeral_mb,
            vpc: f.vpc.clone(),
            env: f.env.clone(),
            layers,
            role: f.role.arn("123456789012"),
            tags: f.tags.clone(),
            revision_id: "r1".into(),
            reserved_concurrency: f.reserved_concurrency,
            alias: Some(LiveAlias {
                version: "1".into(),
                description: release::version_description(f, None),
                canary: None,
            }),
        };
        live.functions.insert(f.name.clone(), function);
        live.permissions.insert(
            f.name.clone(),
            plan::invoke_source_arn(&desired.region, "123456789012", "abc123", f.invoker),
        );
        live.log_groups.insert(
            format!("/aws/lambda/{}", f.name),
            Some(desired.log_retention_days),
        );
    }
    live.api = Some(LiveApi {
        id: "abc123".into(),
        stage_deployment: Some(("d1".into(), Some(desired.api.definition_hash.clone()))),
        routes: desired
            .api
            .routes
            .iter()
            .map(|(m, p, f)| (format!("{m} {p}"), desired.target(f)))
            .chain(
                super::openapi::preflights(desired)
                    .into_iter()
                    .map(|p| (format!("OPTIONS {}", p.path), String::new())),
            )
            .collect(),
        stage_cache: desired
            .api
            .cache
            .as_ref()
            .map(super::stage_cache::StageCacheState::wanted)
            .unwrap_or_default(),
        stage_settings: super::stage_settings::wanted(desired, "123456789012", []),
        stages: vec![desired.stage.clone()],
    });
    if desired.api.access_log.is_some() {
        let group = super::stage_settings::access_log_group(desired);
        live.log_groups
            .insert(group, Some(desired.log_retention_days));
        live.apigw_account = Some(super::ApiGatewayAccount {
            cloudwatch_role: Some("arn:aws:iam::123456789012:role/logs".into()),
            managed_role_exists: false,
        });
    }
    live.front = super::front_tests::converged_front(desired);
    for role in desired.service_roles.values() {
        let statements = role.statements_in("123456789012");
        let live_role = super::roles::LiveRole {
            attached: super::roles::role_policies(desired, &role.name),
            permissions: Some(super::roles::document(&statements)),
        };
        live.service_roles.insert(role.name.clone(), live_role);
    }
    live
}

pub(super) fn desired_for(ws: &Workspace, versions: &[(&str, u32)]) -> Desired {
    let versions: BTreeMap<&str, u32> = versions.iter().copied().collect();
    state::desired(
        ws,
        &ws.stages["test"],
        &manifest(ws, &versions),
        &crate::model::Secrets::default(),
    )
    .unwrap()
}

pub(super) fn kinds(plan: &Plan) -> Vec<String> {
    plan.actions
        .iter()
        .map(|a| {
            serde_json::to_value(a).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn first_deploy_creates_everything_in_dependency_order() {
    let (_f, ws) = workspace(false);
    let desired = desired_for(&ws, &[]);
    let plan = plan(&desired, &Live::default(), false);
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"definition [0-9a-f]{16}", "definition [HASH]");
    settings.bind(|| insta::assert_snapshot!("first_deploy", render::text(&plan)));
    let order = kinds(&plan);
    let position = |k: &str| order.iter().position(|x| x == k).unwrap();
    assert!(position("publish_layer_version") < position("create_function"));
    assert!(position("create_function") < position("create_deployment"));
    assert_eq!(render::summary(&plan).unchanged, 0);
}

#[test]
fn converged_stage_plans_nothing() {
    let (_f, ws) = workspace(false);
    let desired = desired_for(&ws, &[]);
    let plan = plan(&desired, &converged(&desired), false);
    assert!(plan.is_empty(), "{}", render::text(&plan));
    assert_eq!(render::json(&plan)["empty"], true);
}

#[test]
fn code_change_updates_only_that_function() {
    let (_f, ws) = workspace(false);
    let live = converged(&desired_for(&ws, &[]));
    let plan = plan(&desired_for(&ws, &[("get", 2)]), &live, false);
    assert_eq!(
        kinds(&plan),
        [
            "update_function_code",
            "publish_version",
            "point_alias",
            "record_release"
        ]
    );
    assert!(
        matches!(&plan.actions[0], Action::UpdateFunctionCode { function, .. } if function == "shop-test-get")
    );
}

#[test]
fn route_change_redeploys_the_api_only() {
    let (_f, ws) = workspace(false);
    let live = converged(&desired_for(&ws, &[]));
    let (_g, ws2) = workspace(true);
    let plan = plan(&desired_for(&ws2, &[]), &live, false);
    assert_eq!(
        kinds(&plan),
        ["put_rest_api", "create_deployment", "record_release"]
    );
}

#[test]
fn layer_change_publishes_once_and_repoints_its_users() {
    let (_f, ws) = workspace(false);
    let live = converged(&desired_for(&ws, &[]));
    let plan = plan(&desired_for(&ws, &[("keys", 2)]), &live, false);
    assert_eq!(
        kinds(&plan),
        [
            "publish_layer_version",
            "update_function_configuration",
            "publish_version",
            "point_alias",
            "record_release"
        ]
    );
    let Action::UpdateFunctionConfiguration {
        function, changes, ..
    } = &plan.actions[1]
    else {
        unreachable!()
    };
    assert_eq!(function, "shop-test-list");
    assert_eq!(changes[0].field, "layers");
    assert!(
        changes[0].to.ends_with("shop-keys:<new version>"),
        "{:?}",
        changes
    );
}

#[test]
fn manifest_must_cover_the_stage() {
    let (_f, ws) = workspace(false);
    let mut manifest = manifest(&ws, &BTreeMap::new());
    manifest.artifacts.retain(|a| a.name != "get");
    let secrets = crate::model::Secrets::default();
    let err = state::desired(&ws, &ws.stages["test"], &manifest, &secrets).unwrap_err();
    assert_eq!(
        err,
        DesiredError::MissingArtifact {
            kind: "function",
            name: "get".into(),
            arch: Arch::Arm64
        }
    );
}

#[test]
fn openapi_definition_has_one_proxy_integration_per_route() {
    let (_f, ws) = workspace(true);
    let desired = desired_for(&ws, &[]);
    let doc = openapi::definition(&desired, "123456789012");
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.keys().collect::<Vec<_>>(), ["/items", "/items/{id}"]);
    assert_eq!(
        paths["/items"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["get", "head"]
    );
    let get = &paths["/items/{id}"]["get"];
    assert_eq!(get["parameters"][0]["name"], "id");
    let integration = &get["x-amazon-apigateway-integration"];
    assert_eq!(integration["type"], "aws_proxy");
    assert_eq!(
        integration["uri"],
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:shop-test-get:test/invocations"
    );
    assert_eq!(doc["info"]["version"], desired.api.definition_hash.as_str());
    let description = openapi::deployment_description(&desired.api.definition_hash);
    assert_eq!(
        openapi::recorded_hash(&description).as_deref(),
        Some(desired.api.definition_hash.as_str())
    );
}

#[test]
fn a_recreated_api_replaces_the_old_permission_statements() {
    let (_f, ws) = workspace(false);
    let desired = desired_for(&ws, &[]);
    let mut live = converged(&desired);
    live.api = None;
    let p = plan(&desired, &live, false);
    let replaced: Vec<bool> = p
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::AddInvokePermission { replace, .. } => Some(*replace),
            _ => None,
        })
        .collect();
    assert_eq!(replaced, [true, true]);
    assert_eq!(kinds(&p)[0], "create_rest_api");
}
