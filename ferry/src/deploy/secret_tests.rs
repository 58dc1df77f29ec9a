//! Secret environment values in the desired state: resolved from the
//! secrets deploy read, sized once known, and never shown by a plan.

use std::collections::BTreeMap;

use super::tests::{converged, manifest};
use super::*;
use crate::model::fixture::{Fixture, DEPLOY};
use crate::model::{SecretSource, Secrets, Workspace};

const TOKEN: &str = "tok-4f1d9a-never-printed";
const DB: &str = "db-8c2e71-never-printed";

fn workspace() -> (Fixture, Workspace) {
    let fixture = Fixture::new()
        .file(
            "deploy.toml",
            &format!(
                "{DEPLOY}env = {{ MODE = \"x\", DB_PASSWORD = {{ ssm = \"/shop/test/db\" }} }}\n"
            ),
        )
        .service(
            "get",
            "routes = [\"GET /items/{id}\"]\nenv = { API_TOKEN = { from-env = \"CI_API_TOKEN\" } }\n",
        );
    let ws = fixture.load().unwrap();
    (fixture, ws)
}

fn secrets(db: &str) -> Secrets {
    let mut s = Secrets::default();
    s.insert(SecretSource::Env("CI_API_TOKEN".into()), TOKEN.into());
    s.insert(SecretSource::Ssm("/shop/test/db".into()), db.into());
    s
}

fn desired_with(ws: &Workspace, secrets: &Secrets) -> Result<Desired, DesiredError> {
    desired(
        ws,
        &ws.stages["test"],
        &manifest(ws, &BTreeMap::new()),
        secrets,
    )
}

#[test]
fn secrets_are_resolved_into_the_function_environment() {
    let (_f, ws) = workspace();
    let sources = crate::model::secret_sources(&ws, &ws.stages["test"]);
    assert_eq!(
        sources[&SecretSource::Ssm("/shop/test/db".into())],
        ["deploy.toml stages.test.env.DB_PASSWORD"]
    );
    assert_eq!(
        sources[&SecretSource::Env("CI_API_TOKEN".into())],
        ["services/get/Cargo.toml package.metadata.ferry.env.API_TOKEN"]
    );
    let d = desired_with(&ws, &secrets(DB)).unwrap();
    let env = &d.functions["shop-test-get"].env;
    assert_eq!(env["API_TOKEN"], TOKEN);
    assert_eq!(env["DB_PASSWORD"], DB);
    assert_eq!(env["MODE"], "x");
}

#[test]
fn a_rotated_secret_is_a_configuration_change_that_shows_no_value() {
    let (_f, ws) = workspace();
    let live = converged(&desired_with(&ws, &secrets(DB)).unwrap());
    let rotated = desired_with(&ws, &secrets("rotated-31b7-never-printed")).unwrap();
    let plan = plan(&rotated, &live, false);
    // The configuration update, and the alias moved to the version it publishes.
    assert_eq!(render::summary(&plan).update, 2, "{plan:?}");
    let text = render::text(&plan);
    let json = render::json(&plan).to_string();
    assert!(
        text.contains("environment: DB_PASSWORD -> DB_PASSWORD (new value)"),
        "{text}"
    );
    for value in [TOKEN, DB, "rotated-31b7-never-printed"] {
        assert!(
            !text.contains(value) && !json.contains(value),
            "{text}\n{json}"
        );
    }
}

#[test]
fn the_size_limit_counts_resolved_values() {
    let (_f, ws) = workspace();
    let huge = "x".repeat(4096);
    let err = desired_with(&ws, &secrets(&huge)).unwrap_err();
    assert!(
        matches!(err, DesiredError::EnvTooLarge { ref function, .. } if function == "shop-test-get")
    );
    let err = desired_with(&ws, &Secrets::default()).unwrap_err();
    assert!(matches!(err, DesiredError::Unresolved { .. }), "{err:?}");
}

#[test]
fn a_saved_plan_names_each_secret_by_its_source_and_holds_no_value() {
    let (_f, ws) = workspace();
    let live = Live {
        account_id: "123456789012".into(),
        ..Live::default()
    };
    let first = plan(&desired_with(&ws, &secrets(DB)).unwrap(), &live, false);
    let saved = SavedPlan::new(first, &live, "manifest.json".into(), false);
    let json = serde_json::to_string(&saved).unwrap();
    assert!(
        json.contains(r#""DB_PASSWORD":{"ssm":"/shop/test/db"}"#),
        "{json}"
    );
    assert!(
        json.contains(r#""API_TOKEN":{"from-env":"CI_API_TOKEN"}"#),
        "{json}"
    );
    for value in [TOKEN, DB] {
        assert!(!json.contains(value), "{json}");
    }
}
