//! `cargo dev bench serve`: throughput and latency of one route under a
//! fixed concurrent load on loopback, for `ferry serve` and, in the same run,
//! `cargo lambda watch` serving the same function (release builds, the same
//! number of instances), with the ratios.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use miette::{miette, IntoDiagnostic};

use super::load::{self, LoadReport};
use super::{print_table, with_tools, Row};
use crate::tools::{self, Venv};

const CONNECTIONS: usize = 16;
const REQUESTS: usize = 20_000;
const INSTANCES: &str = "4";
const LIMIT: Duration = Duration::from_secs(60);

/// Kills the server it holds when dropped, so a failed run leaves nothing behind.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn run(root: &Path, with_peer: bool) -> miette::Result<()> {
    let logs = ferry::build::compile::target_dir(root).join("bench/serve");
    std::fs::create_dir_all(&logs).into_diagnostic()?;
    let exe = std::env::current_exe().into_diagnostic()?;
    let port = free_port()?;
    eprintln!("bench: ferry serve --release on port {port}");
    let log = std::fs::File::create(logs.join("ferry-serve.log")).into_diagnostic()?;
    let ferry = Server(
        Command::new(exe)
            .arg("--root")
            .arg(root)
            .args([
                "serve",
                "--release",
                "--concurrency",
                INSTANCES,
                "--port",
                &port.to_string(),
            ])
            .stdout(log.try_clone().into_diagnostic()?)
            .stderr(log)
            .spawn()
            .into_diagnostic()?,
    );
    let address = format!("127.0.0.1:{port}");
    let ours = measure(&address, "/echo/hello")?;
    drop(ferry);

    let theirs = if with_peer {
        let venv = Venv::new(root);
        venv.ensure(&[tools::CARGO_LAMBDA], "the benchmark's peer")?;
        let zig = tools::ensure_build_tools(root, &[])?;
        let port = free_port()?;
        eprintln!("bench: cargo lambda watch --release on port {port}");
        let log = std::fs::File::create(logs.join("cargo-lambda-watch.log")).into_diagnostic()?;
        let mut command = with_tools(Command::new(venv.bin("cargo-lambda")), &zig, root);
        command
            .args([
                "lambda",
                "watch",
                "--release",
                "-p",
                "echo",
                "--concurrency",
                INSTANCES,
                "--ignore-changes",
            ])
            .args(["-A", "127.0.0.1", "-P", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().into_diagnostic()?)
            .stderr(log);
        let _peer = Server(command.spawn().into_diagnostic()?);
        Some(measure(
            &format!("127.0.0.1:{port}"),
            "/lambda-url/echo/hello",
        )?)
    } else {
        None
    };

    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
    let t = theirs.as_ref();
    let ratio =
        |ours: f64, theirs: Option<f64>| theirs.map_or("-".into(), |t| format!("{:.2}x", ours / t));
    let rows = vec![
        Row(
            format!("requests/s, {CONNECTIONS} connections, {INSTANCES} instances"),
            format!("{:.0}", ours.rps()),
            t.map_or("-".into(), |t| format!("{:.0}", t.rps())),
            ratio(ours.rps(), t.map(LoadReport::rps)),
        ),
        Row(
            "p50 latency".into(),
            ms(ours.p50),
            t.map_or("-".into(), |t| ms(t.p50)),
            ratio(ours.p50.as_secs_f64(), t.map(|t| t.p50.as_secs_f64())),
        ),
        Row(
            "p99 latency".into(),
            ms(ours.p99),
            t.map_or("-".into(), |t| ms(t.p99)),
            ratio(ours.p99.as_secs_f64(), t.map(|t| t.p99.as_secs_f64())),
        ),
        Row(
            "requests (errors)".into(),
            format!("{} ({})", ours.requests, ours.errors),
            t.map_or("-".into(), |t| format!("{} ({})", t.requests, t.errors)),
            "-".into(),
        ),
    ];
    print_table(&rows);
    eprintln!("logs: {}", logs.display());
    Ok(())
}

/// Waits for the server to answer (it may be compiling), warms it up, then loads it.
fn measure(address: &str, path: &str) -> miette::Result<LoadReport> {
    let deadline = Instant::now() + Duration::from_secs(900);
    loop {
        if load::run(address, path, 1, 1, Duration::from_secs(5)).requests == 1 {
            break;
        }
        if Instant::now() > deadline {
            return Err(miette!(
                "the server at {address} did not answer {path} within 15 minutes"
            ));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    load::run(address, path, CONNECTIONS, 2_000, LIMIT);
    Ok(load::run(address, path, CONNECTIONS, REQUESTS, LIMIT))
}

fn free_port() -> miette::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").into_diagnostic()?;
    Ok(listener.local_addr().into_diagnostic()?.port())
}
