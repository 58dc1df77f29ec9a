//! Secret environment values against moto: a stage whose functions take one
//! value from an SSM SecureString and one from the deploying process's
//! environment. The values reach Lambda's configuration and appear in no
//! output of plan or deploy (text or JSON), nor in a saved plan; rotating
//! the parameter is a configuration update; a missing variable or parameter
//! stops the run before any write, naming it and where it is declared.

mod support;

use std::path::Path;
use std::process::Output;

use aws_sdk_ssm::types::ParameterType;
use support::{ferry, run, stage_writes, Readback};

const PARAM: &str = "/items/test/db-password";
const VAR: &str = "FERRY_TEST_API_TOKEN";
const DB: &str = "db-6f0c2a91-from-ssm";
const ROTATED: &str = "db-77e1b4c0-rotated";
const TOKEN: &str = "tok-3d9e5b12-from-ci";

fn with_secrets(base: &str) -> String {
    let old = "env = { LOG_FORMAT = \"text\" }";
    assert!(base.contains(old), "the example's test stage sets {old}");
    base.replacen(
        old,
        &format!("env = {{ LOG_FORMAT = \"text\", DB_PASSWORD = {{ ssm = \"{PARAM}\" }}, API_TOKEN = {{ from-env = \"{VAR}\" }} }}"),
        1,
    )
}

/// Everything a run printed, which must never contain a secret.
fn printed(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Whether an error names `needle`, however the terminal renderer wrapped it.
fn mentions(text: &str, needle: &str) -> bool {
    let flat = |s: &str| {
        s.chars()
            .filter(|c| !c.is_whitespace() && *c != '│')
            .collect::<String>()
    };
    flat(text).contains(&flat(needle))
}

fn assert_secret_free(what: &str, text: &str) {
    for value in [DB, ROTATED, TOKEN] {
        assert!(
            !text.contains(value),
            "{what} shows a secret value:\n{text}"
        );
    }
}

async fn put_param(aws: &Readback, value: &str) {
    aws.ssm
        .put_parameter()
        .name(PARAM)
        .value(value)
        .r#type(ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .unwrap();
}

async fn env_of(aws: &Readback, function: &str) -> std::collections::HashMap<String, String> {
    let out = aws
        .lambda
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
        .unwrap();
    out.environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default()
}

fn deploy(ws: &Path, endpoint: &str, json: bool) -> Output {
    let mut command = ferry(ws, endpoint);
    command.env(VAR, TOKEN).args(["deploy", "--stage", "test"]);
    if json {
        command.arg("--json");
    }
    run(&mut command)
}

#[test]
fn secrets_reach_lambda_and_no_output() {
    let (moto, proxy) = support::moto_and_proxy();
    let (_lock, ws) = support::shared_workspace();
    let endpoint = proxy.url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let aws = rt.block_on(Readback::new(&moto.url(), "us-east-1"));
    rt.block_on(put_param(&aws, DB));
    let deploy_toml = ws.join("deploy.toml");
    let base_toml = std::fs::read_to_string(&deploy_toml).unwrap();
    std::fs::write(&deploy_toml, with_secrets(&base_toml)).unwrap();

    // A plan and a first deploy: the values are in Lambda, not in any output.
    let plan = run(ferry(&ws, &endpoint)
        .env(VAR, TOKEN)
        .args(["plan", "--stage", "test", "--json"]));
    assert!(plan.status.success());
    assert_secret_free("plan --json", &printed(&plan));
    let first = deploy(&ws, &endpoint, true);
    assert!(first.status.success(), "{}", printed(&first));
    assert_secret_free("deploy --json", &printed(&first));
    let env = rt.block_on(env_of(&aws, "items-test-get-item"));
    assert_eq!(env["DB_PASSWORD"], DB);
    assert_eq!(env["API_TOKEN"], TOKEN);
    assert_eq!(env["LOG_FORMAT"], "text");
    proxy.take();

    // Unchanged secrets: nothing to write.
    let again = deploy(&ws, &endpoint, false);
    assert!(again.status.success());
    assert_eq!(stage_writes(&proxy.take()), Vec::<String>::new());

    // A rotated parameter: the plan names the variable, never the value, and
    // the deploy updates each function's configuration and nothing else.
    //    Saved for review, the plan holds each secret's source and no value;
    //    applied, it resolves the values then.
    rt.block_on(put_param(&aws, ROTATED));
    let saved = ws.join("target/rotation.plan.json");
    let plan = run(ferry(&ws, &endpoint)
        .env(VAR, TOKEN)
        .args(["plan", "--stage", "test", "--detailed-exitcode", "--out"])
        .arg(&saved));
    assert_eq!(plan.status.code(), Some(2));
    let file = std::fs::read_to_string(&saved).unwrap();
    assert_secret_free("the saved plan file", &file);
    assert!(file.contains(&format!(r#""ssm": "{PARAM}""#)), "{file}");
    assert!(file.contains(&format!(r#""from-env": "{VAR}""#)), "{file}");
    let text = printed(&plan);
    assert_secret_free("plan", &text);
    assert!(
        text.contains("environment: DB_PASSWORD -> DB_PASSWORD (new value)"),
        "{text}"
    );
    proxy.take();
    let rotated = run(ferry(&ws, &endpoint)
        .env(VAR, TOKEN)
        .args(["deploy", "--stage", "test", "--plan"])
        .arg(&saved));
    assert!(rotated.status.success(), "{}", printed(&rotated));
    assert_secret_free("deploy", &printed(&rotated));
    // Configurations, then the versions published from them and the alias
    // moves, then the release record.
    let writes = stage_writes(&proxy.take());
    assert!(
        writes.iter().any(|w| w.ends_with("/configuration"))
            && writes.iter().all(|w| {
                (w.starts_with("lambda:PUT ") && w.ends_with("/configuration"))
                    || (w.starts_with("lambda:POST ") && w.ends_with("/versions"))
                    || (w.starts_with("lambda:PUT ") && w.ends_with("/aliases/test"))
                    || w == "ssm:PutParameter"
            }),
        "{writes:?}"
    );
    let record = rt
        .block_on(
            aws.ssm
                .get_parameter()
                .name("/ferry/items/test/release")
                .send(),
        )
        .unwrap();
    assert_secret_free(
        "release record",
        record.parameter().unwrap().value().unwrap(),
    );
    let env = rt.block_on(env_of(&aws, "items-test-get-item"));
    assert_eq!(env["DB_PASSWORD"], ROTATED);

    // A variable the deploying process lacks, then a parameter that does not
    // exist: each stops the run before any write, naming what and where.
    let out = run(ferry(&ws, &endpoint)
        .env_remove(VAR)
        .args(["deploy", "--stage", "test"]));
    let text = printed(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        mentions(&text, VAR) && mentions(&text, "deploy.toml stages.test.env.API_TOKEN"),
        "{text}"
    );
    rt.block_on(aws.ssm.delete_parameter().name(PARAM).send())
        .unwrap();
    let out = deploy(&ws, &endpoint, false);
    let text = printed(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        mentions(&text, PARAM) && mentions(&text, "deploy.toml stages.test.env.DB_PASSWORD"),
        "{text}"
    );
    assert_eq!(stage_writes(&proxy.take()), Vec::<String>::new());

    std::fs::write(&deploy_toml, base_toml).unwrap();
}
