//! End-to-end: `cargo xtask serve` runs the example API on loopback with the
//! real function binaries, and answers like the deployed API Gateway stage.

mod support;

#[path = "serve/authorizer.rs"]
mod authorizer;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use support::http::{request, Reply};

struct Serve {
    child: Child,
    address: String,
    /// serve's stderr so far (one line a request), also echoed.
    log: Arc<Mutex<Vec<String>>>,
}

impl Serve {
    fn start() -> Self {
        let root = support::example_root();
        let mut child = support::ferry(&root)
            .args([
                "serve",
                "--port",
                "0",
                "--stage",
                "test",
                "--concurrency",
                "3",
            ])
            // A target dir of its own: the test runs inside `cargo test`, which holds the main one.
            .env("CARGO_TARGET_DIR", root.join("target/ferry-test-serve"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let kept = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                eprintln!("{line}");
                kept.lock().unwrap().push(line);
            }
        });
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let address = loop {
            let line = lines
                .next()
                .expect("serve printed its address before exiting")
                .unwrap();
            if let Some(rest) = line.strip_prefix("ferry: serving ") {
                let url = rest
                    .split_whitespace()
                    .find(|w| w.starts_with("http://"))
                    .unwrap();
                break url.trim_start_matches("http://").to_owned();
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        Serve {
            child,
            address,
            log,
        }
    }

    /// The lines serve has logged so far that contain `text`.
    fn log_lines(&self, text: &str) -> Vec<String> {
        // A request's line is written as it is answered; give it a moment.
        std::thread::sleep(Duration::from_millis(50));
        let log = self.log.lock().unwrap();
        log.iter().filter(|l| l.contains(text)).cloned().collect()
    }

    fn get(&self, path: &str) -> Reply {
        request(&self.address, "GET", path, &[], b"")
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dev_token(sub: &str, exp: u64) -> String {
    let hex = include_str!("../../crates/auth/testdata/dev-signing-key.hex").trim();
    let seed: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    auth::sign(
        &seed.try_into().unwrap(),
        "dev-1",
        &auth::Claims {
            sub: sub.into(),
            exp,
        },
    )
}

/// Whether `pid` is a running process (a zombie awaiting its reaper is not).
fn alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next())
            != Some("Z")
    })
}

#[test]
fn serve_behaves_like_the_deployed_stage() {
    let serve = Serve::start();

    let list = serve.get("/items");
    assert_eq!(list.status, 200, "{}", list.text());
    assert_eq!(list.json()["items"].as_array().unwrap().len(), 3);
    let tagged = serve.get("/items?tag=travel&tag=safety");
    assert_eq!(
        tagged.json()["items"][0]["id"],
        "2",
        "repeated query keys reach the function"
    );
    assert_eq!(serve.get("/items/3").json()["name"], "deck chair");
    assert_eq!(serve.get("/items/999").status, 404);

    let echo = serve.get("/echo/a/b?x=1&x=2&y=%20z");
    let seen = echo.json();
    assert_eq!(seen["proxy"], "a/b");
    assert_eq!(seen["query"]["x"], serde_json::json!(["1", "2"]));
    assert_eq!(seen["query"]["y"], serde_json::json!([" z"]));
    assert_eq!(seen["stage"], "test");
    assert_eq!(seen["resource_path"], "/echo/{proxy+}");
    assert_eq!(seen["function"], "items-test-echo");
    assert_eq!(
        seen["jwks_layer_present"], true,
        "the function's layer files are where it is told"
    );

    let item = br#"{"name":"oar","price_cents":1500,"tags":["travel"]}"#;
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    let bearer = format!("Bearer {}", dev_token("tester", exp));
    let json = ("content-type", "application/json");
    let created = request(
        &serve.address,
        "POST",
        "/items",
        &[json, ("authorization", &bearer)],
        item,
    );
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(created.json()["item"]["name"], "oar");
    assert_eq!(created.json()["created_by"], "tester");
    assert_eq!(
        request(&serve.address, "POST", "/items", &[json], item).status,
        401
    );
    let expired = format!("Bearer {}", dev_token("tester", 1));
    assert_eq!(
        request(
            &serve.address,
            "POST",
            "/items",
            &[json, ("authorization", &expired)],
            item
        )
        .status,
        401
    );

    let binary: Vec<u8> = (0..=255u8).rev().collect();
    let raw = request(
        &serve.address,
        "POST",
        "/echo/raw",
        &[("content-type", "application/octet-stream")],
        &binary,
    );
    assert_eq!(
        (raw.status, raw.body.clone()),
        (200, binary),
        "binary bodies round-trip"
    );

    let missing = serve.get("/nowhere");
    assert_eq!(
        (missing.status, missing.json()["message"].as_str()),
        (403, Some("Missing Authentication Token"))
    );
    assert_eq!(
        serve.get("/items").header("content-type"),
        Some("application/json")
    );
    let failed = serve.get("/echo/fail");
    assert_eq!(
        (failed.status, failed.json()["message"].as_str()),
        (502, Some("Internal server error"))
    );
    let slow = serve.get("/echo/sleep/4000");
    assert_eq!(slow.status, 504, "echo's timeout is 3 s");

    // `invoke --local` sends one request to serve: the body on stdout and
    // exit 0; an HTTP error exits 2, and --json gives status and headers.
    let port = serve.address.rsplit(':').next().unwrap().to_owned();
    let invoke = |args: &[&str]| {
        support::ferry(&support::example_root())
            .args(["invoke", "--local", "--port", &port])
            .args(args)
            .output()
            .unwrap()
    };
    let auth = format!("authorization: {bearer}");
    let invoked = invoke(&[
        "POST",
        "/items",
        "-H",
        "content-type: application/json",
        "-H",
        &auth,
        "--data",
        std::str::from_utf8(item).unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&invoked.stderr);
    assert!(invoked.status.success(), "{stderr}");
    assert!(stderr.contains("/items -> HTTP 201"), "{stderr}");
    let answer: serde_json::Value = serde_json::from_slice(&invoked.stdout).unwrap();
    assert_eq!(answer["item"]["name"], "oar");
    let not_found = invoke(&["GET", "/items/999", "--json"]);
    assert_eq!(not_found.status.code(), Some(2));
    let answer: serde_json::Value = serde_json::from_slice(&not_found.stdout).unwrap();
    assert_eq!(answer["response"]["status"], 404);
    assert!(answer["url"].as_str().unwrap().ends_with("/items/999"));

    cors(&serve);
    authorizer::check(&serve);

    // Two slow requests at once run on two instances; neither waits for the other.
    let first_pid = serve.get("/echo/x").json()["instance"].as_u64().unwrap();
    let address = serve.address.clone();
    let started = std::time::Instant::now();
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let address = address.clone();
            std::thread::spawn(move || {
                request(&address, "GET", "/echo/sleep/1500", &[], b"").json()["instance"]
                    .as_u64()
                    .unwrap()
            })
        })
        .collect();
    let pids: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_ne!(pids[0], pids[1], "concurrent requests ran on two instances");
    assert!(
        started.elapsed() < Duration::from_millis(2900),
        "the requests ran in parallel: {:?}",
        started.elapsed()
    );

    // Ctrl-C stops every instance.
    let mut serve = serve;
    Command::new("kill")
        .args(["-INT", &serve.child.id().to_string()])
        .status()
        .unwrap();
    let status = serve.child.wait().unwrap();
    assert!(status.success(), "serve exits cleanly on Ctrl-C: {status}");
    std::thread::sleep(Duration::from_millis(300));
    for pid in pids.iter().chain([&first_pid]) {
        assert!(!alive(*pid), "instance {pid} outlived serve");
    }
}

/// The test stage's `[api.cors]`: preflights answered without a function,
/// only listed origins reflected, the functions' own responses carrying the
/// headers from `FERRY_CORS`, and serve's own errors carrying them too.
fn cors(serve: &Serve) {
    let app = "http://localhost:3000";
    let preflight = |path: &str, origin: &str| {
        request(
            &serve.address,
            "OPTIONS",
            path,
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
            ],
            b"",
        )
    };
    let allowed = preflight("/items", app);
    assert_eq!(allowed.status, 200);
    assert_eq!(allowed.header("access-control-allow-origin"), Some(app));
    assert_eq!(
        allowed.header("access-control-allow-methods"),
        Some("GET,OPTIONS,POST")
    );
    assert_eq!(
        allowed.header("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(allowed.header("access-control-max-age"), Some("300"));
    assert_eq!(allowed.header("vary"), Some("Origin"));
    assert!(
        allowed.body.is_empty(),
        "no function answered the preflight"
    );
    let refused = preflight("/items/3", "https://evil.example");
    assert_eq!(refused.status, 200);
    assert_eq!(refused.header("access-control-allow-origin"), None);
    assert_eq!(
        refused.header("access-control-allow-methods"),
        Some("GET,OPTIONS")
    );
    // The echo path's own policy: any origin, and its ANY route does not
    // see the preflight.
    let echo = preflight("/echo/x", "https://evil.example");
    assert_eq!(echo.header("access-control-allow-origin"), Some("*"));
    assert!(echo.body.is_empty());

    let from =
        |path: &str, origin: &str| request(&serve.address, "GET", path, &[("origin", origin)], b"");
    let listed = from("/items", app);
    assert_eq!(listed.status, 200);
    assert_eq!(listed.header("access-control-allow-origin"), Some(app));
    assert_eq!(
        listed.header("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(listed.header("access-control-expose-headers"), Some("ETag"));
    assert_eq!(listed.header("vary"), Some("Origin"));
    let other = from("/items/3", "https://evil.example");
    assert_eq!(other.status, 200);
    assert_eq!(other.header("access-control-allow-origin"), None);
    assert_eq!(other.header("vary"), Some("Origin"));

    // API Gateway's own answers: with two listed origins, its gateway
    // responses can only reflect the request's (README: "CORS").
    let missing = from("/nowhere", app);
    assert_eq!(missing.status, 403);
    assert_eq!(missing.header("access-control-allow-origin"), Some(app));
    assert_eq!(
        missing.header("access-control-allow-credentials"),
        Some("true")
    );
    let failed = from("/echo/fail", app);
    assert_eq!(failed.status, 502);
    assert_eq!(failed.header("access-control-allow-origin"), Some(app));
}
