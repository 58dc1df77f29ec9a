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

fn workspace(extra_route: bool) -> (Fixture, Workspace) {
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
fn manifest(ws: &Workspace, versions: &BTreeMap<&str, u32>) -> Manifest {
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
fn converged(desired: &Desired) -> Live {
    let mut live = Live::default();
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
            memory_mb: f.memory_mb,
            timeout_s: f.timeout_s,
            env: f.env.clone(),
            layers,
            revision_id: "r1".into(),
        };
        live.functions.insert(f.name.clone(), function);
        live.permissions.insert(f.name.clone());
        live.log_groups.insert(
            format!("/aws/lambda/{}", f.name),
            Some(desired.log_retention_days),
        );
    }
    live.api = Some(LiveApi {
        id: "abc123".into(),
        stage_deployment: Some(("d1".into(), Some(desired.api.definition_hash.clone()))),
    });
    live
}

fn desired_for(ws: &Workspace, versions: &[(&str, u32)]) -> Desired {
    let versions: BTreeMap<&str, u32> = versions.iter().copied().collect();
    state::desired(ws, &ws.stages["test"], &manifest(ws, &versions)).unwrap()
}

fn kinds(plan: &Plan) -> Vec<String> {
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
    assert_eq!(kinds(&plan), ["update_function_code"]);
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
    assert_eq!(kinds(&plan), ["put_rest_api", "create_deployment"]);
}

#[test]
fn layer_change_publishes_once_and_repoints_its_users() {
    let (_f, ws) = workspace(false);
    let live = converged(&desired_for(&ws, &[]));
    let plan = plan(&desired_for(&ws, &[("keys", 2)]), &live, false);
    assert_eq!(
        kinds(&plan),
        ["publish_layer_version", "update_function_configuration"]
    );
    let Action::UpdateFunctionConfiguration { function, changes } = &plan.actions[1] else {
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
fn settings_retention_and_prune() {
    let (_f, ws) = workspace(false);
    let desired = desired_for(&ws, &[]);
    let mut live = converged(&desired);
    live.functions.get_mut("shop-test-get").unwrap().memory_mb = 128;
    live.functions
        .get_mut("shop-test-get")
        .unwrap()
        .env
        .insert("SECRET".into(), "hunter2".into());
    live.log_groups
        .insert("/aws/lambda/shop-test-list".into(), None);
    live.permissions.remove("shop-test-list");
    live.functions.insert(
        "shop-test-gone".into(),
        live.functions["shop-test-get"].clone(),
    );
    let kept = plan(&desired, &live, false);
    assert_eq!(
        kinds(&kept),
        [
            "update_function_configuration",
            "put_retention_policy",
            "add_invoke_permission"
        ]
    );
    let text = render::text(&kept);
    assert!(
        text.contains("memory_mb: 128 -> 256") && !text.contains("hunter2"),
        "{text}"
    );
    let pruned = plan(&desired, &live, true);
    assert_eq!(
        kinds(&pruned).last().map(String::as_str),
        Some("delete_function")
    );
}

#[test]
fn architecture_switch_is_a_code_update() {
    let (_f, ws) = workspace(false);
    let desired = desired_for(&ws, &[]);
    let mut live = converged(&desired);
    live.functions.get_mut("shop-test-get").unwrap().arch = Arch::X86_64;
    assert_eq!(
        kinds(&plan(&desired, &live, false)),
        ["update_function_code"]
    );
}

#[test]
fn manifest_must_cover_the_stage() {
    let (_f, ws) = workspace(false);
    let mut manifest = manifest(&ws, &BTreeMap::new());
    manifest.artifacts.retain(|a| a.name != "get");
    let err = state::desired(&ws, &ws.stages["test"], &manifest).unwrap_err();
    assert_eq!(
        err,
        DesiredError::MissingArtifact {
            kind: "function",
            name: "get".into(),
            arch: Arch::Arm64
        }
    );
}
