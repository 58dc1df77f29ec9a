//! The import's pure half: a console stage read into `Found`, mapped onto a
//! workspace built in code, written back, and loaded again.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::*;
use crate::model::fixture::Fixture;
use crate::model::stage_api::Throttle;

fn proxy(method: &str, path: &str, function: &str) -> FoundMethod {
    FoundMethod {
        method: method.into(),
        path: path.into(),
        authorization: "NONE".into(),
        api_key_required: false,
        integration: Integration::LambdaProxy {
            function: function.into(),
        },
    }
}

fn node(memory_mb: u32, env: &[&str], retention_days: Option<u32>) -> FoundFunction {
    FoundFunction {
        runtime: "nodejs20.x".into(),
        arch: Arch::X86_64,
        memory_mb,
        timeout_s: 3,
        role: "arn:aws:iam::123456789012:role/console-lambda".into(),
        env: env.iter().map(|e| e.to_string()).collect(),
        layers: Vec::new(),
        retention_days,
        vpc: None,
    }
}

fn console_stage() -> Found {
    let mut guarded = proxy("DELETE", "/items/{id}", "kst-sample-readItem");
    guarded.authorization = "COGNITO_USER_POOLS".into();
    Found {
        region: "eu-west-1".into(),
        api_id: "a1b2c3d4e5".into(),
        api_name: "kst-sample".into(),
        endpoint: Some(EndpointType::Regional),
        binary_media_types: Vec::new(),
        stage: "v1".into(),
        tracing: false,
        throttle: Some(Throttle {
            rate: 50,
            burst: 100,
        }),
        method_settings: Vec::new(),
        stage_variables: vec!["backend".into()],
        access_log: None,
        methods: vec![
            proxy("GET", "/items", "kst-sample-readAllItems"),
            proxy("GET", "/items/{id}", "kst-sample-readItem"),
            proxy("POST", "/orders", "kst-sample-createOrder"),
            guarded,
            FoundMethod {
                method: "GET".into(),
                path: "/health".into(),
                authorization: "NONE".into(),
                api_key_required: false,
                integration: Integration::Other {
                    kind: "MOCK".into(),
                    uri: None,
                },
            },
        ],
        functions: BTreeMap::from([
            (
                "kst-sample-readAllItems".into(),
                node(256, &["TABLE"], None),
            ),
            (
                "kst-sample-readItem".into(),
                node(128, &["TABLE"], Some(14)),
            ),
            ("kst-sample-createOrder".into(), node(128, &[], None)),
        ]),
        authorizers: vec![("users".into(), "COGNITO_USER_POOLS".into())],
        usage_plans: Vec::new(),
        distribution: Some(FoundDistribution {
            id: "E2EXAMPLE".into(),
            origin: Some(FoundOrigin {
                id: "api".into(),
                path: "/v1".into(),
            }),
            default_origin: "api".into(),
        }),
    }
}

fn workspace() -> Fixture {
    Fixture::new()
        .service("list-items", "routes = [\"GET /items\"]  # the catalogue\n")
        .service(
            "get-item",
            "routes = [\"GET /things/{id}\"]\nmemory = 128\n",
        )
}

fn files(fx: &Fixture) -> (String, BTreeMap<PathBuf, String>) {
    let deploy = std::fs::read_to_string(fx.path().join("deploy.toml")).unwrap();
    let manifests = ["list-items", "get-item"]
        .into_iter()
        .map(|s| {
            let rel = PathBuf::from(format!("services/{s}/Cargo.toml"));
            let text = std::fs::read_to_string(fx.path().join(&rel)).unwrap();
            (rel, text)
        })
        .collect();
    (deploy, manifests)
}

#[test]
fn a_console_stage_becomes_a_stage_that_adopts_it_and_loads() {
    let fx = workspace();
    let ws = fx.load().unwrap();
    let (deploy, manifests) = files(&fx);
    let maps = ["kst-sample-readItem=get-item".to_owned()];
    let import = plan(&ws, &deploy, &manifests, &console_stage(), &maps).unwrap();
    // readAllItems maps itself (its name ends in `-list-items`? no: by --map
    // or by suffix only), so only get-item and the suffix matches map.
    assert_eq!(
        import.report.mapped,
        BTreeMap::from([("kst-sample-readItem".into(), "get-item".into())])
    );
    insta::assert_snapshot!("import_deploy_toml", import.deploy_toml);
    insta::assert_snapshot!("import_report", import.report.render());
    // list-items keeps its routes (nothing maps to it); get-item's change.
    assert_eq!(import.manifests.len(), 1);
    let manifest = &import.manifests[&PathBuf::from("services/get-item/Cargo.toml")];
    assert!(
        manifest.contains("routes = [\"GET /things/{id}\", \"GET /items/{id}\"]"),
        "{manifest}"
    );
    assert!(manifest.contains("memory = 128"), "{manifest}");

    // What import wrote loads, and the stage adopts the function and the API.
    std::fs::write(fx.path().join("deploy.toml"), &import.deploy_toml).unwrap();
    for (path, text) in &import.manifests {
        std::fs::write(fx.path().join(path), text).unwrap();
    }
    let ws = fx.load().unwrap();
    let v1 = &ws.stages["v1"];
    assert_eq!(v1.function_name(&ws.app, "get-item"), "kst-sample-readItem");
    assert_eq!(
        v1.function_name(&ws.app, "list-items"),
        "shop-v1-list-items"
    );
    assert_eq!(v1.api.id.as_deref(), Some("a1b2c3d4e5"));
    assert_eq!(v1.log_retention_days, 14);
    assert_eq!(
        v1.front.as_ref().unwrap().distribution.as_deref(),
        Some("E2EXAMPLE")
    );

    // A second import of the same stage refuses: the stage is there.
    let (deploy, manifests) = files(&fx);
    let again = plan(&ws, &deploy, &manifests, &console_stage(), &maps);
    assert!(matches!(again, Err(ImportError::StageExists(s)) if s == "v1"));
}

#[test]
fn functions_map_by_suffix_and_bad_maps_are_refused() {
    let fx = Fixture::new()
        .service("read-all-items", "routes = [\"GET /items\"]\n")
        .service("items", "routes = [\"GET /x\"]\n");
    let ws = fx.load().unwrap();
    let mut found = console_stage();
    found
        .functions
        .insert("kst-sample-read-all-items".into(), node(128, &[], None));
    let mapped = mapping(&ws, &found, &[]).unwrap();
    assert_eq!(mapped["kst-sample-read-all-items"], "read-all-items");
    for (map, why) in [
        ("nope", "no `=`"),
        ("missing=items", "invoke no function `missing`"),
        ("kst-sample-readItem=ghost", "no service `ghost`"),
    ] {
        let err = mapping(&ws, &found, &[map.to_owned()]).unwrap_err();
        assert!(err.to_string().contains(why), "{map}: {err}");
    }
    let twice = [
        "kst-sample-readItem=items".to_owned(),
        "kst-sample-createOrder=items".to_owned(),
    ];
    let err = mapping(&ws, &found, &twice).unwrap_err();
    assert!(
        err.to_string().contains("one crate is one function"),
        "{err}"
    );
}

#[test]
fn adopted_names_are_checked_where_deploy_toml_says_them() {
    let fx = Fixture::new()
        .service("a", "routes = [\"GET /a\"]\n")
        .service("b", "routes = [\"GET /b\"]\n")
        .file(
            "deploy.toml",
            "[app]\nname = \"shop\"\n\n[stages.v1]\nregion = \"us-east-1\"\napi = { id = \"NOT-AN-ID\", name = \"console\" }\n\n[stages.v1.services.a]\nfunction-name = \"shop-v1-b\"\n\n[stages.v1.services.b]\nmemory = 256\n",
        );
    insta::assert_snapshot!("import_adopted_name_errors", fx.redacted_errors());
}
