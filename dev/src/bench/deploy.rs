//! `cargo dev bench deploy`: deploys against moto on loopback, through the
//! recording proxy: wall time, reads, writes and bytes uploaded for a first
//! deploy, a no-op redeploy and a one-service change, for the example and for
//! a generated workspace of 50 services; and, in the same run, cargo-lambda
//! deploying the same 50 functions one run each, as its users do.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use miette::{miette, IntoDiagnostic};
use serde_json::Value;

use super::{print_table, Row};
use crate::tools::{self, Venv};
use ferry_testkit::moto::Moto;
use ferry_testkit::proxy::{Call, Proxy};

const SERVICES: usize = 50;
const ROLE: &str = "arn:aws:iam::123456789012:role/fifty-bench-ferry-lambda";

/// One measured deploy (or series of deploys).
#[derive(Clone, Copy, Default)]
struct Measure {
    wall: Duration,
    reads: usize,
    writes: usize,
    bytes: usize,
}

impl Measure {
    fn add(&mut self, wall: Duration, calls: &[Call]) {
        self.wall += wall;
        self.writes += calls.iter().filter(|c| c.write).count();
        self.reads += calls.iter().filter(|c| !c.write).count();
        self.bytes += calls
            .iter()
            .filter(|c| c.write)
            .map(|c| c.bytes)
            .sum::<usize>();
    }

    fn cell(&self) -> String {
        format!(
            "{:.2} s, {}r/{}w, {}",
            self.wall.as_secs_f64(),
            self.reads,
            self.writes,
            ferry::build::human_bytes(self.bytes as u64)
        )
    }
}

struct Bench {
    ferry_aws: PathBuf,
    proxy: Proxy,
    _moto: Moto,
}

impl Bench {
    /// `ferry-aws deploy` on `root`, timed, its calls counted.
    fn ferry(&self, root: &Path, args: &[&str]) -> miette::Result<Measure> {
        self.proxy.take();
        let mut command = Command::new(&self.ferry_aws);
        command
            .arg("--root")
            .arg(root)
            .arg("deploy")
            .args(args)
            .arg("--json");
        let mut m = Measure::default();
        let wall = run_quiet(aws_env(&mut command, &self.proxy.url()), "ferry-aws deploy")?;
        m.add(wall, &self.proxy.take());
        Ok(m)
    }
}

pub fn run(root: &Path, with_peer: bool) -> miette::Result<()> {
    let venv = Venv::new(root);
    venv.ensure(
        &[tools::MOTO],
        "moto, the AWS-compatible server the benchmark deploys to",
    )?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    tools::run(
        Command::new(cargo)
            .current_dir(root)
            .args(["build", "--quiet", "--package", "ferry-aws"]),
        "cargo build -p ferry-aws",
    )?;
    let target = ferry::build::compile::target_dir(root);
    let moto = Moto::start(&venv.bin("moto_server")).map_err(|e| miette!("{e}"))?;
    let proxy = Proxy::start(moto.port).into_diagnostic()?;
    let bench = Bench {
        ferry_aws: target.join("debug/ferry-aws"),
        proxy,
        _moto: moto,
    };
    let base = target.join("bench/deploy");

    // The example: built first (not timed), then deployed.
    let example = base.join("example");
    ferry_testkit::refresh_copy(root, &example).map_err(|e| miette!("{e}"))?;
    build(&example)?;
    let stage = ["--stage", "test"];
    let ex_first = bench.ferry(&example, &stage)?;
    let ex_noop = bench.ferry(&example, &stage)?;
    let source = example.join("services/get-item/src/main.rs");
    let text = std::fs::read_to_string(&source).into_diagnostic()?;
    std::fs::write(
        &source,
        text.replacen("no item {id}", "there is no item {id}", 1),
    )
    .into_diagnostic()?;
    build(&example)?;
    let ex_one = bench.ferry(&example, &stage)?;

    // 50 services that share the example's get-item code.
    let fifty = base.join("fifty");
    generate(&example, &fifty)?;
    let manifest = fifty.join("target/lambda/manifest.json");
    let manifest_arg = manifest.to_string_lossy().into_owned();
    let args = ["--stage", "bench", "--manifest", manifest_arg.as_str()];
    let first = bench.ferry(&fifty, &args)?;
    let noop = bench.ferry(&fifty, &args)?;
    change_one(&example, &fifty)?;
    let one = bench.ferry(&fifty, &args)?;

    let peer = if with_peer {
        Some(peer(root, &bench, &example, &fifty)?)
    } else {
        None
    };
    println!(
        "\nferry deploy against moto on 127.0.0.1 (wall time, reads/writes, bytes uploaded)\n"
    );
    let ratio = |a: &Measure, b: Option<&Measure>| {
        b.map_or("-".to_owned(), |b| {
            format!(
                "{:.3}x",
                a.wall.as_secs_f64() / b.wall.as_secs_f64().max(1e-9)
            )
        })
    };
    let peer_cell = |m: Option<&Measure>| m.map_or("-".to_owned(), Measure::cell);
    let rows = vec![
        Row(
            "example (5 functions, 2 layers): first deploy".into(),
            ex_first.cell(),
            "-".into(),
            "-".into(),
        ),
        Row(
            "example: no-op redeploy".into(),
            ex_noop.cell(),
            "-".into(),
            "-".into(),
        ),
        Row(
            "example: one service changed".into(),
            ex_one.cell(),
            "-".into(),
            "-".into(),
        ),
        Row(
            format!("{SERVICES} services: first deploy"),
            first.cell(),
            peer_cell(peer.as_ref().map(|p| &p[0])),
            ratio(&first, peer.as_ref().map(|p| &p[0])),
        ),
        Row(
            format!("{SERVICES} services: no-op redeploy"),
            noop.cell(),
            peer_cell(peer.as_ref().map(|p| &p[1])),
            ratio(&noop, peer.as_ref().map(|p| &p[1])),
        ),
        Row(
            format!("{SERVICES} services: one service changed"),
            one.cell(),
            peer_cell(peer.as_ref().map(|p| &p[2])),
            ratio(&one, peer.as_ref().map(|p| &p[2])),
        ),
        Row(
            "  the same, cargo-lambda told which function".into(),
            one.cell(),
            peer_cell(peer.as_ref().map(|p| &p[3])),
            ratio(&one, peer.as_ref().map(|p| &p[3])),
        ),
    ];
    print_table(&rows);
    println!(
        "\nferry: API Gateway REST API, routes, permissions and log groups included; \
         cargo-lambda: functions only, one `cargo lambda deploy` per function, every run \
         uploading its zip. Reads per function on a no-op: {:.1}.",
        noop.reads as f64 / SERVICES as f64
    );
    Ok(())
}

fn build(ws: &Path) -> miette::Result<()> {
    let workspace = ferry::check::load(ws)?;
    let plan = ferry::build::select::plan(&workspace, None, &[]).map_err(|e| miette!("{e}"))?;
    ferry::build::build(&workspace, &plan).map(|_| ())
}

/// The environment of a deploy against the proxy: dummy credentials and
/// nothing of the host's AWS configuration.
fn aws_env<'a>(command: &'a mut Command, endpoint: &str) -> &'a mut Command {
    ferry_testkit::aws_env(command, Path::new("/nonexistent"), endpoint)
        .env_remove("CARGO_TARGET_DIR")
}

fn run_quiet(command: &mut Command, what: &str) -> miette::Result<Duration> {
    let started = Instant::now();
    let out = command.output().into_diagnostic()?;
    let wall = started.elapsed();
    if !out.status.success() {
        return Err(miette!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(wall)
}

/// The example's get-item (arm64) artifact record and zip path.
fn artifact(example: &Path, name: &str) -> miette::Result<(Value, PathBuf)> {
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(example.join("target/lambda/manifest.json")).into_diagnostic()?,
    )
    .into_diagnostic()?;
    let record = manifest["artifacts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["name"] == name && a["architecture"] == "arm64")
        .cloned()
        .ok_or_else(|| miette!("the example's manifest has no arm64 {name}"))?;
    let zip = example.join(record["path"].as_str().unwrap_or_default());
    Ok((record, zip))
}

fn svc(i: usize) -> String {
    format!("svc-{i:02}")
}

/// A workspace of 50 services with a manifest whose zips are the example's
/// get-item, so that deploys are measured without building 50 crates.
fn generate(example: &Path, dir: &Path) -> miette::Result<()> {
    let _ = std::fs::remove_dir_all(dir);
    let write = |rel: String, text: String| -> miette::Result<()> {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap_or(dir)).into_diagnostic()?;
        std::fs::write(path, text).into_diagnostic()
    };
    write(
        "Cargo.toml".into(),
        "[workspace]\nresolver = \"2\"\nmembers = [\"services/*\"]\n".into(),
    )?;
    write(
        "deploy.toml".into(),
        "[app]\nname = \"fifty\"\n\n[stages.bench]\nregion = \"us-east-1\"\nlog-retention-days = 7\n".into(),
    )?;
    let (record, zip) = artifact(example, "get-item")?;
    let mut artifacts = Vec::new();
    for i in 1..=SERVICES {
        let name = svc(i);
        write(
            format!("services/{name}/Cargo.toml"),
            format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                 [package.metadata.ferry]\nroutes = [\"GET /{name}/{{id}}\"]\n"
            ),
        )?;
        write(
            format!("services/{name}/src/main.rs"),
            "fn main() {}\n".into(),
        )?;
        let rel = format!("target/lambda/arm64/{name}.zip");
        std::fs::create_dir_all(dir.join("target/lambda/arm64")).into_diagnostic()?;
        std::fs::copy(&zip, dir.join(&rel)).into_diagnostic()?;
        let mut a = record.clone();
        a["name"] = name.clone().into();
        a["path"] = rel.into();
        a["function"]["routes"] = serde_json::json!([{"method": "GET", "path": format!("/{name}/{{id}}"), "service": name}]);
        a["function"]["layers"] = serde_json::json!([]);
        artifacts.push(a);
    }
    let manifest = serde_json::json!({
        "schema_version": ferry::manifest::SCHEMA_VERSION,
        "app": "fifty",
        "ferry_version": env!("CARGO_PKG_VERSION"),
        "artifacts": artifacts,
        "routes": [],
    });
    write(
        "target/lambda/manifest.json".into(),
        serde_json::to_string_pretty(&manifest).into_diagnostic()?,
    )
}

/// Service 7 gets other code (the example's list-items).
fn change_one(example: &Path, dir: &Path) -> miette::Result<()> {
    let (other, zip) = artifact(example, "list-items")?;
    let path = dir.join("target/lambda/manifest.json");
    let mut manifest: Value =
        serde_json::from_slice(&std::fs::read(&path).into_diagnostic()?).into_diagnostic()?;
    let name = svc(7);
    for a in manifest["artifacts"].as_array_mut().into_iter().flatten() {
        if a["name"] == name.as_str() {
            for key in [
                "sha256",
                "code_sha256",
                "zipped_size",
                "unzipped_size",
                "inputs_sha256",
                "entries",
            ] {
                a[key] = other[key].clone();
            }
        }
    }
    std::fs::copy(zip, dir.join(format!("target/lambda/arm64/{name}.zip"))).into_diagnostic()?;
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&manifest).into_diagnostic()?,
    )
    .into_diagnostic()
}

/// cargo-lambda 1.9.2 deploying the same functions (as `cl-svc-NN`), one run
/// per function: creating them, redeploying them unchanged, redeploying them
/// with one changed (it cannot tell which, so a release job deploys all), and
/// the changed one alone (when its user knows which).
fn peer(root: &Path, bench: &Bench, example: &Path, fifty: &Path) -> miette::Result<[Measure; 4]> {
    let venv = Venv::new(root);
    venv.ensure(&[tools::CARGO_LAMBDA], "the benchmark's peer")?;
    let cargo_lambda = venv.bin("cargo-lambda");
    let bins = fifty.join("peer");
    for (name, label) in [("get-item", "same"), ("list-items", "changed")] {
        let (_, zip) = artifact(example, name)?;
        let file = std::fs::File::open(&zip).into_diagnostic()?;
        let mut archive = zip::ZipArchive::new(file).into_diagnostic()?;
        let mut entry = archive.by_name("bootstrap").into_diagnostic()?;
        let dest = bins.join(label);
        std::fs::create_dir_all(&dest).into_diagnostic()?;
        let mut out = std::fs::File::create(dest.join("bootstrap")).into_diagnostic()?;
        std::io::copy(&mut entry, &mut out).into_diagnostic()?;
    }
    let deploy = |name: &str, label: &str| -> miette::Result<Measure> {
        bench.proxy.take();
        let mut command = Command::new(&cargo_lambda);
        command.current_dir(fifty).args(["lambda", "deploy", name]);
        command
            .arg("--binary-path")
            .arg(bins.join(label).join("bootstrap"))
            .args([
                "--region",
                "us-east-1",
                "--iam-role",
                ROLE,
                "--endpoint-url",
            ])
            .arg(bench.proxy.url())
            .arg("--manifest-path")
            .arg(fifty.join(format!(
                "services/{}/Cargo.toml",
                name.trim_start_matches("cl-")
            )));
        let wall = run_quiet(
            aws_env(&mut command, &bench.proxy.url()),
            "cargo lambda deploy",
        )?;
        let mut m = Measure::default();
        m.add(wall, &bench.proxy.take());
        Ok(m)
    };
    let mut out = [Measure::default(); 4];
    for (round, total) in out.iter_mut().take(3).enumerate() {
        eprintln!(
            "bench: cargo-lambda, {SERVICES} deploys (round {})",
            round + 1
        );
        for i in 1..=SERVICES {
            let label = if round == 2 && i == 7 {
                "changed"
            } else {
                "same"
            };
            let m = deploy(&format!("cl-{}", svc(i)), label)?;
            total.wall += m.wall;
            total.reads += m.reads;
            total.writes += m.writes;
            total.bytes += m.bytes;
        }
    }
    out[3] = deploy(&format!("cl-{}", svc(7)), "changed")?;
    Ok(out)
}
