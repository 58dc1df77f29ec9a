//! Adopting ferry: a workspace that ferry did not lay out (services under
//! `lambdas/`, a layer under `extensions/`, package fields inherited from
//! `[workspace.package]`, cargo-lambda deploy keys, a service with two
//! binaries) gets ferry through `init` with a path to this checkout, then
//! runs it as its users would, through `cargo xtask` and the generated shim:
//! `check`, `routes --json`, `build --arch all`, `serve`, a deploy to moto
//! and a no-op deploy that writes nothing. A second `init` writes nothing,
//! and `init` refuses to overwrite a shim file the user changed.

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use support::{run, stage_writes};

const ROOT_MANIFEST: &str = r#"[workspace]
resolver = "2"
members = ["lambdas/*", "extensions/*", "shared"]

[workspace.package]
version = "0.3.0"
edition = "2021"
license = "MIT"

[workspace.dependencies]
lambda_http = { version = "1", default-features = false, features = ["apigw_rest"] }
serde_json = "1"
tokio = { version = "1", features = ["macros"] }
shared = { path = "shared" }
"#;

fn service_manifest(name: &str, extra: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
version.workspace = true
edition.workspace = true
license.workspace = true
{extra}
[dependencies]
lambda_http = {{ workspace = true }}
serde_json = {{ workspace = true }}
shared = {{ workspace = true }}
tokio = {{ workspace = true }}
"#
    )
}

const SERVICE_MAIN: &str = r#"use lambda_http::{run, service_fn, Body, Error, Request, RequestExt, Response};

async fn handle(request: Request) -> Result<Response<Body>, Error> {
    let id = request.path_parameters().first("id").unwrap_or("all").to_owned();
    let body = serde_json::json!({ "service": env!("CARGO_PKG_NAME"), "id": id, "greeting": shared::greeting() });
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(body.to_string().into())?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(handle)).await
}
"#;

/// Writes the workspace a team had before ferry, at `ws`.
fn write_workspace(ws: &Path) {
    let _ = std::fs::remove_dir_all(ws);
    let files: Vec<(&str, String)> = vec![
        ("Cargo.toml", ROOT_MANIFEST.into()),
        (".gitignore", "/target\n".into()),
        (
            "shared/Cargo.toml",
            "[package]\nname = \"shared\"\nversion.workspace = true\nedition.workspace = true\n".into(),
        ),
        (
            "shared/src/lib.rs",
            "pub fn greeting() -> &'static str {\n    \"hello from shared\"\n}\n".into(),
        ),
        (
            "lambdas/orders/Cargo.toml",
            service_manifest(
                "orders",
                "\n[package.metadata.lambda.deploy]\nmemory = 256\ntimeout = 10\ntracing = \"Active\"\n",
            ),
        ),
        ("lambdas/orders/src/main.rs", SERVICE_MAIN.into()),
        ("lambdas/reports/Cargo.toml", service_manifest("reports", "")),
        ("lambdas/reports/src/main.rs", SERVICE_MAIN.into()),
        (
            "lambdas/reports/src/bin/backfill.rs",
            "fn main() {\n    println!(\"backfill\");\n}\n".into(),
        ),
        (
            "extensions/catalog-data/Cargo.toml",
            "[package]\nname = \"catalog-data\"\nversion.workspace = true\nedition.workspace = true\n".into(),
        ),
        ("extensions/catalog-data/src/lib.rs", String::new()),
        ("extensions/catalog-data/data/catalog.json", "{\"items\":[]}\n".into()),
    ];
    for (rel, content) in files {
        let path = ws.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    // The versions this repository's tests already compiled.
    std::fs::copy(
        support::example_root().join("Cargo.lock"),
        ws.join("Cargo.lock"),
    )
    .unwrap();
}

fn init(ws: &Path) -> std::process::Output {
    run(Command::new(env!("CARGO_BIN_EXE_ferry-aws")).args([
        "init".as_ref(),
        ws.as_os_str(),
        "--services".as_ref(),
        "lambdas/*".as_ref(),
        "--layers".as_ref(),
        "extensions/*".as_ref(),
        "--stage".as_ref(),
        "test".as_ref(),
    ]))
}

/// `cargo xtask ARGS` in the adopted workspace, with its own target dir.
fn xtask(ws: &Path, endpoint: &str) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.arg("xtask").current_dir(ws);
    command.env("CARGO_TARGET_DIR", ws.join("target"));
    for var in ["FERRY_ROOT", "RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS"] {
        command.env_remove(var);
    }
    ferry_testkit::aws_env(&mut command, ws, endpoint);
    command
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// Every file under `dir` but `target/`, with its content.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path
                .file_name()
                .is_some_and(|n| n == "target" || n == ".ferry")
            {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_workspace_adopts_ferry_and_deploys_through_its_shim() {
    let base = support::example_root().join("target/ferry-test-adopt");
    let ws = base.join("shop");
    // Keep the compiled target dir across runs; rewrite everything else.
    let keep = base.join("shop-target");
    if ws.join("target").exists() {
        let _ = std::fs::remove_dir_all(&keep);
        std::fs::rename(ws.join("target"), &keep).unwrap();
    }
    write_workspace(&ws);
    if keep.exists() {
        std::fs::rename(&keep, ws.join("target")).unwrap();
        // The last run's AWS binary: this run must show when it is built.
        let _ = std::fs::remove_file(ws.join("target/debug/xtask-aws"));
    }

    // init writes the shim, the alias, deploy.toml and the metadata stubs.
    let out = init(&ws);
    assert!(out.status.success(), "init");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("created   xtask/Cargo.toml"), "{stderr}");
    assert!(stderr.contains("routes` (marked TODO)"), "{stderr}");
    let orders = std::fs::read_to_string(ws.join("lambdas/orders/Cargo.toml")).unwrap();
    assert!(orders.contains("memory = 256  # from [package.metadata.lambda.deploy] memory"));
    let reports = std::fs::read_to_string(ws.join("lambdas/reports/Cargo.toml")).unwrap();
    assert!(reports.contains("bin = \"reports\""), "{reports}");
    let deploy_toml = std::fs::read_to_string(ws.join("deploy.toml")).unwrap();
    assert!(deploy_toml.starts_with("#:schema ./.ferry/deploy.schema.json"));
    assert!(deploy_toml.contains("services = [\"lambdas/*\"]"));

    // A second init writes nothing; a changed shim file is refused, with
    // nothing written.
    let before = snapshot(&ws);
    let out = init(&ws);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing written"));
    assert_eq!(snapshot(&ws), before, "a second init wrote something");
    let main_rs = ws.join("xtask/src/main.rs");
    std::fs::write(&main_rs, "fn main() { println!(\"mine\"); }\n").unwrap();
    let changed = snapshot(&ws);
    let out = init(&ws);
    assert_eq!(out.status.code(), Some(1), "init over a changed shim file");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("xtask/src/main.rs differs"), "{stderr}");
    assert_eq!(snapshot(&ws), changed, "a refused init wrote something");
    std::fs::remove_file(&main_rs).unwrap();
    assert!(
        init(&ws).status.success(),
        "init restores a deleted shim file"
    );

    // What the user fills in: routes, and the layer's data.
    let orders = ws.join("lambdas/orders/Cargo.toml");
    edit(
        &orders,
        "routes = []",
        "routes = [\"GET /orders\", \"GET /orders/{id}\"]\nlayers = [\"catalog-data\"]",
    );
    edit(
        &ws.join("lambdas/reports/Cargo.toml"),
        "routes = []",
        "routes = [\"GET /reports\"]",
    );
    edit(
        &ws.join("extensions/catalog-data/Cargo.toml"),
        "# files = { \"catalog-data\" = \"data\" }",
        "files = { \"catalog-data\" = \"data\" }",
    );

    let endpoint_unused = "http://127.0.0.1:9";
    let out = run(xtask(&ws, endpoint_unused).arg("check"));
    assert!(out.status.success(), "check");
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 services, 1 layers, 3 routes"));
    let out = run(xtask(&ws, endpoint_unused).args(["routes", "--json"]));
    assert!(out.status.success(), "routes");
    let routes: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(routes.as_array().unwrap().len(), 3, "{routes}");
    assert!(
        !ws.join("target/debug/xtask-aws").exists(),
        "check and routes compiled the AWS side"
    );

    let out = run(xtask(&ws, endpoint_unused).args(["build", "--arch", "all", "--json"]));
    assert!(out.status.success(), "build --arch all");
    let manifest: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        manifest["artifacts"].as_array().unwrap().len(),
        6,
        "2 services and 1 layer, 2 architectures"
    );

    serve_answers(&ws);

    let (_moto, proxy) = support::moto_and_proxy();
    let endpoint = proxy.url();
    let out = run(xtask(&ws, &endpoint).args(["deploy", "--stage", "test", "--json"]));
    assert!(out.status.success(), "deploy");
    let first: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!stage_writes(&proxy.take()).is_empty());
    assert_eq!(first["app"], "shop");
    let out = run(xtask(&ws, &endpoint).args(["deploy", "--stage", "test", "--json"]));
    assert!(out.status.success(), "second deploy");
    assert_eq!(
        stage_writes(&proxy.take()),
        Vec::<String>::new(),
        "a deploy with nothing changed writes nothing"
    );
    let out = run(xtask(&ws, &endpoint).args(["plan", "--stage", "test", "--detailed-exitcode"]));
    assert_eq!(out.status.code(), Some(0), "plan after deploy");
}

/// `cargo xtask serve` answers a route with the real binary.
fn serve_answers(ws: &Path) {
    let mut child = xtask(ws, "http://127.0.0.1:9")
        .args(["serve", "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        if let Some(rest) = line.strip_prefix("ferry: serving ") {
            let url = rest
                .split_whitespace()
                .find(|w| w.starts_with("http://"))
                .unwrap();
            break url.trim_start_matches("http://").to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    let reply = request(&address, "/orders/7");
    let _ = child.kill();
    let _ = child.wait();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(
        reply.contains("\"id\":\"7\"") && reply.contains("hello from shared"),
        "{reply}"
    );
}

fn request(address: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply
}
