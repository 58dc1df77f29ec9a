//! `cargo xtask openapi --stage S`: the API definition ferry deploys to a
//! stage, as OpenAPI 3 JSON on stdout. The body `PutRestApi` sends, with the
//! CORS preflights ferry writes beside it shown as the `options` operations
//! AWS documents for them, and the authorizers as security schemes;
//! `info.version` is the definition hash that
//! decides a new deployment. `--clean` drops the AWS extensions and the
//! preflights, for client generators. No AWS call and no build.

use std::path::Path;

use miette::{miette, IntoDiagnostic};
use serde_json::Value;

use crate::cli::OpenApiArgs;
use crate::deploy::openapi::{document, preflight_operation, preflights_of, Place};
use crate::deploy::state::desired_api;
use crate::model::Workspace;

/// Prints the definition; the integration URIs need the stage's account
/// (`--account`, else the stage's `account`), except with `--clean`.
pub fn run(root: &Path, args: &OpenApiArgs) -> miette::Result<()> {
    let workspace = crate::check::load(root)?;
    let doc = build(&workspace, args)?;
    println!("{}", serde_json::to_string_pretty(&doc).into_diagnostic()?);
    Ok(())
}

/// The document `run` prints.
fn build(workspace: &Workspace, args: &OpenApiArgs) -> miette::Result<Value> {
    let stage = workspace.stages.get(&args.stage).ok_or_else(|| {
        let known: Vec<&str> = workspace.stages.keys().map(String::as_str).collect();
        miette!(
            help = format!("stages in deploy.toml: {}", known.join(", ")),
            "no stage `{}` in deploy.toml",
            args.stage
        )
    })?;
    let pinned = stage.account.as_ref().map(|a| a.id.as_str());
    let account = match (args.account.as_deref(), pinned, args.clean) {
        (Some(given), _, _) => given,
        (None, Some(pinned), _) => pinned,
        (None, None, true) => "000000000000",
        (None, None, false) => {
            return Err(miette!(
                help = format!(
                    "pass --account 123456789012, or pin `account = \"...\"` in [stages.{}] of deploy.toml, or print the definition without integrations with --clean",
                    args.stage
                ),
                "the integration URIs name the stage's AWS account, which stage `{}` does not pin",
                args.stage
            ))
        }
    };
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(miette!(
            help = "give the account's 12 digits, e.g. --account 123456789012",
            "`{account}` is not an AWS account id"
        ));
    }
    let api = desired_api(workspace, stage);
    let app = workspace.app.name.to_string();
    let place = Place {
        app: &app,
        stage: &stage.name,
        region: &stage.region,
        account,
    };
    let mut doc = document(&api, &place);
    if args.clean {
        expand_any(&mut doc);
        strip_extensions(&mut doc);
    } else {
        for preflight in preflights_of(&api) {
            let mut operation = preflight_operation(&preflight);
            let params = crate::deploy::openapi::path_parameters(&preflight.path);
            if !params.is_empty() {
                operation["parameters"] = Value::Array(params);
            }
            doc["paths"][&preflight.path]["options"] = operation;
        }
    }
    Ok(doc)
}

/// An `ANY` route as the methods it answers, which client generators know
/// (a method with its own route keeps it).
fn expand_any(doc: &mut Value) {
    const ANY: &str = "x-amazon-apigateway-any-method";
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        if let Some(any) = item.remove(ANY) {
            for method in ["get", "post", "put", "patch", "delete", "head"] {
                item.entry(method).or_insert_with(|| any.clone());
            }
        }
    }
}

/// Removes every `x-amazon-apigateway-*` key, at any depth.
fn strip_extensions(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !k.starts_with("x-amazon-apigateway"));
            map.values_mut().for_each(strip_extensions);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_extensions),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::fixture::{Fixture, DEPLOY};

    fn args(clean: bool, account: Option<&str>) -> OpenApiArgs {
        OpenApiArgs {
            stage: "test".into(),
            clean,
            account: account.map(str::to_owned),
        }
    }

    #[test]
    fn the_document_is_the_deployed_definition_with_its_preflights() {
        let fixture = Fixture::new()
            .file(
                "deploy.toml",
                &format!("{DEPLOY}\n[stages.test.api.cors]\nallow-origins = [\"https://app.example.com\"]\n"),
            )
            .service("list", "routes = [\"GET /items\", \"POST /items\"]\n")
            .service("files", "routes = [\"GET /files/{key+}\"]\n");
        let ws = fixture.load().unwrap();
        let err = build(&ws, &args(false, None)).unwrap_err();
        assert!(err.to_string().contains("does not pin"), "{err}");
        let doc = build(&ws, &args(false, Some("123456789012"))).unwrap();
        let stage = &ws.stages["test"];
        assert_eq!(
            doc["info"]["version"],
            desired_api(&ws, stage).definition_hash.as_str(),
            "the version is the hash that decides a deployment"
        );
        let items = &doc["paths"]["/items"];
        assert_eq!(
            items["options"]["x-amazon-apigateway-integration"]["type"],
            "mock"
        );
        assert_eq!(
            doc["paths"]["/files/{key+}"]["options"]["parameters"][0]["name"],
            "key"
        );
        let clean = build(&ws, &args(true, None)).unwrap();
        let text = clean.to_string();
        assert!(!text.contains("x-amazon-apigateway"), "{text}");
        assert!(clean["paths"]["/items"].get("options").is_none());
        assert!(clean["paths"]["/items"].get("post").is_some());
    }

    #[test]
    fn clean_expands_any_into_the_methods_it_answers() {
        let mut doc = serde_json::json!({"paths": {"/e/{proxy+}": {
            "x-amazon-apigateway-any-method": {"responses": {}},
            "get": {"summary": "own"},
        }}});
        expand_any(&mut doc);
        let item = doc["paths"]["/e/{proxy+}"].as_object().unwrap();
        assert_eq!(
            item.keys().collect::<Vec<_>>(),
            ["delete", "get", "head", "patch", "post", "put"]
        );
        assert_eq!(item["get"]["summary"], "own");
    }

    #[test]
    fn clean_strips_every_aws_extension() {
        let mut doc = serde_json::json!({
            "paths": {"/a": {"get": {"x-amazon-apigateway-integration": {}, "responses": {}}}},
            "x-amazon-apigateway-gateway-responses": {},
            "list": [{"x-amazon-apigateway-any-method": 1, "keep": 2}],
        });
        strip_extensions(&mut doc);
        assert_eq!(
            doc,
            serde_json::json!({"paths": {"/a": {"get": {"responses": {}}}}, "list": [{"keep": 2}]})
        );
    }
}
