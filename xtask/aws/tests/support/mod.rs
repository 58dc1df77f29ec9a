//! Helpers for the deploy tests: moto and the recording proxy, copies of the
//! example workspace, running ferry's AWS side, and SDK clients that read
//! moto directly (past the proxy) to check what a deploy left behind.
#![allow(dead_code)]

pub use ferry::bench::moto::Moto;
#[allow(unused_imports)]
pub use ferry::bench::proxy::{writes, Proxy};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aws_config::{BehaviorVersion, Region};

/// The example workspace this repository is.
pub fn example_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A copy of the example's sources at `dest`, keeping `dest/target` (so a
/// second run of the tests builds incrementally).
pub fn fresh_copy(dest: &Path) {
    ferry::refresh_copy(&example_root(), dest).expect("copy the example workspace");
}

/// ferry's AWS side on `root`, talking to `endpoint` with dummy credentials
/// and nothing of the host's AWS configuration.
pub fn ferry(root: &Path, endpoint: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ferry-aws"));
    command.arg("--root").arg(root).current_dir(root);
    command.env_remove("CARGO_TARGET_DIR");
    for var in [
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_SESSION_TOKEN",
    ] {
        command.env_remove(var);
    }
    command
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", root.join(".no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            root.join(".no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
    command
}

/// Runs `command`, echoing its stderr, and returns its output.
pub fn run(command: &mut Command) -> Output {
    let out = command.output().expect("run ferry-aws");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Runs a `--json` command that must succeed and parses its stdout.
pub fn run_json(command: &mut Command) -> serde_json::Value {
    let out = run(command.arg("--json"));
    assert!(out.status.success(), "ferry-aws failed: {:?}", out.status);
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// moto from the tool venv (or `FERRY_MOTO_SERVER`), or a failure that says how to get it.
pub fn moto() -> Moto {
    let server = std::env::var_os("FERRY_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| example_root().join(".ferry/tools/venv/bin/moto_server"));
    Moto::start(&server).unwrap_or_else(|e| panic!("{e}"))
}

/// moto with a recording proxy in front of it.
pub fn moto_and_proxy() -> (Moto, Proxy) {
    let moto = moto();
    let proxy = Proxy::start(moto.port).expect("start the recording proxy");
    (moto, proxy)
}

/// SDK clients that read moto directly.
pub struct Readback {
    pub lambda: aws_sdk_lambda::Client,
    pub apigw: aws_sdk_apigateway::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
}

impl Readback {
    pub async fn new(endpoint: &str, region: &str) -> Readback {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(endpoint)
            .credentials_provider(aws_sdk_lambda::config::Credentials::new(
                "testing", "testing", None, None, "tests",
            ))
            .load()
            .await;
        Readback {
            lambda: aws_sdk_lambda::Client::new(&config),
            apigw: aws_sdk_apigateway::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
        }
    }
}
