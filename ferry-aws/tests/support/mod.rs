//! Helpers for the deploy tests: moto and the recording proxy, copies of the
//! example workspace, running ferry's AWS side, and SDK clients that read
//! moto directly (past the proxy) to check what a deploy left behind.
#![allow(dead_code)]

pub mod auth;
pub mod cache;
pub mod cors;
pub mod faulted;
pub mod lifecycle;
pub mod roles;
pub mod settings;
pub mod stage;
pub mod state;

#[allow(unused_imports)]
pub use ferry_testkit::faults::{FaultCounts, FaultPlan};
pub use ferry_testkit::moto::Moto;
#[allow(unused_imports)]
pub use ferry_testkit::proxy::{stage_writes, writes, Proxy};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_lambda::config::Credentials;

/// The example workspace this repository is.
pub fn example_root() -> PathBuf {
    ferry_testkit::repo_root()
}

/// A copy of the example's sources at `dest`, keeping `dest/target` (so a
/// second run of the tests builds incrementally).
pub fn fresh_copy(dest: &Path) {
    ferry_testkit::refresh_copy(&example_root(), dest).expect("copy the example workspace");
}

/// The copy of the example both deploy scenarios use (one build serves
/// both), held under an exclusive lock while a scenario runs.
pub fn shared_workspace() -> (std::fs::File, PathBuf) {
    let base = example_root().join("target/ferry-test-deploy");
    std::fs::create_dir_all(&base).unwrap();
    let lock = std::fs::File::create(base.join(".lock")).unwrap();
    lock.lock().expect("lock the shared test workspace");
    let ws = base.join("ws");
    fresh_copy(&ws);
    (lock, ws)
}

/// ferry's AWS side on `root`, talking to `endpoint` with dummy credentials
/// and nothing of the host's AWS configuration.
pub fn ferry(root: &Path, endpoint: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ferry-aws"));
    command.arg("--root").arg(root).current_dir(root);
    command.env_remove("CARGO_TARGET_DIR");
    ferry_testkit::aws_env(&mut command, root, endpoint);
    command
}

/// Runs `command`, echoing its stderr, and returns its output.
pub fn run(command: &mut Command) -> Output {
    let out = command.output().expect("run ferry-aws");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    out
}

/// What `invoke --stage test --dry-run GET /items` would call.
pub fn invoke_url(root: &Path, endpoint: &str) -> String {
    let out = run(ferry(root, endpoint).args([
        "invoke",
        "--stage",
        "test",
        "--dry-run",
        "GET",
        "/items",
    ]));
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
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

/// Empties moto (its `/moto-api/reset`), for a scenario that starts over.
pub fn moto_reset(port: u16) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"POST /moto-api/reset HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "moto reset: {answer}");
}

/// SDK clients that read moto directly.
pub struct Readback {
    pub lambda: aws_sdk_lambda::Client,
    pub apigw: aws_sdk_apigateway::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub cloudfront: aws_sdk_cloudfront::Client,
    pub route53: aws_sdk_route53::Client,
    pub iam: aws_sdk_iam::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub s3: aws_sdk_s3::Client,
    pub firehose: aws_sdk_firehose::Client,
}

impl Readback {
    pub async fn new(endpoint: &str, region: &str) -> Readback {
        let testing = Credentials::new("testing", "testing", None, None, "tests");
        Readback::with(Self::config(endpoint, region, testing).await)
    }

    /// Clients with the credentials of `role` (moto keeps the resources of
    /// each account apart: those of the role's account).
    pub async fn assumed(endpoint: &str, region: &str, role: &str) -> Readback {
        let testing = Credentials::new("testing", "testing", None, None, "tests");
        let sts = aws_sdk_sts::Client::new(&Self::config(endpoint, region, testing).await);
        let out = sts
            .assume_role()
            .role_arn(role)
            .role_session_name("readback")
            .send()
            .await
            .expect("assume the role in moto");
        let c = out.credentials().expect("credentials");
        let assumed = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            None,
            "assumed",
        );
        Readback::with(Self::config(endpoint, region, assumed).await)
    }

    async fn config(endpoint: &str, region: &str, credentials: Credentials) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .http_client(ferry_aws::http_client())
            .region(Region::new(region.to_owned()))
            .endpoint_url(endpoint)
            .credentials_provider(credentials)
            .load()
            .await
    }

    fn with(config: SdkConfig) -> Readback {
        Readback {
            lambda: aws_sdk_lambda::Client::new(&config),
            apigw: aws_sdk_apigateway::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            cloudfront: aws_sdk_cloudfront::Client::new(&config),
            route53: aws_sdk_route53::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            ssm: aws_sdk_ssm::Client::new(&config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&config),
            ec2: aws_sdk_ec2::Client::new(&config),
            firehose: aws_sdk_firehose::Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&config)
                    .force_path_style(true)
                    .build(),
            ),
        }
    }
}

/// A new hosted zone for `name` in moto; returns its id without `/hostedzone/`.
pub async fn hosted_zone(aws: &Readback, name: &str) -> String {
    let out = aws
        .route53
        .create_hosted_zone()
        .name(name)
        .caller_reference(format!("{:?}", std::time::SystemTime::now()))
        .send()
        .await
        .unwrap();
    out.hosted_zone()
        .unwrap()
        .id()
        .trim_start_matches("/hostedzone/")
        .to_owned()
}
