//! Bad input stops `plan` and `deploy` before their first AWS call, with a
//! message that names the place and the fix; the recording proxy in front of
//! moto proves that nothing was sent.

mod support;

use std::path::Path;

use support::Proxy;
use support::{ferry, fresh_copy, run};

fn stderr_of(root: &Path, proxy: &Proxy, args: &[&str], env: &[(&str, Option<&str>)]) -> String {
    let mut command = ferry(root, &proxy.url());
    command.args(args);
    for (key, value) in env {
        match value {
            Some(v) => command.env(key, v),
            None => command.env_remove(key),
        };
    }
    let out = run(&mut command);
    assert_eq!(out.status.code(), Some(1), "{args:?} must fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bad_input_fails_before_any_call() {
    let (_moto, proxy) = support::moto_and_proxy();
    let ws = support::example_root().join("target/ferry-test-deploy/bad-input");
    fresh_copy(&ws);
    let _ = std::fs::remove_dir_all(ws.join("target"));

    let text = stderr_of(&ws, &proxy, &["deploy", "--stage", "nope"], &[]);
    assert!(
        text.contains("deploy.toml has no stage `nope`") && text.contains("prod, test"),
        "{text}"
    );
    assert_eq!(proxy.take().len(), 0);

    let text = stderr_of(
        &ws,
        &proxy,
        &["plan", "--stage", "test", "--manifest", "missing.json"],
        &[],
    );
    assert!(text.contains("missing.json"), "{text}");
    assert_eq!(proxy.take().iter().filter(|c| c.write).count(), 0);

    let creds = [("AWS_ACCESS_KEY_ID", None), ("AWS_SECRET_ACCESS_KEY", None)];
    let text = stderr_of(&ws, &proxy, &["deploy", "--stage", "test"], &creds);
    assert!(
        text.contains("no usable AWS credentials") && text.contains("AWS_PROFILE"),
        "{text}"
    );
    assert_eq!(proxy.take().len(), 0, "no request without credentials");

    let service = ws.join("services/get-item/Cargo.toml");
    let manifest = std::fs::read_to_string(&service).unwrap();
    std::fs::write(
        &service,
        manifest.replace(
            "[package.metadata.ferry]",
            "[package.metadata.ferry]\nmemory = 64",
        ),
    )
    .unwrap();
    let text = stderr_of(&ws, &proxy, &["deploy", "--stage", "test"], &[]);
    assert!(
        text.contains("services/get-item/Cargo.toml") && text.contains("memory"),
        "{text}"
    );
    assert_eq!(proxy.take().len(), 0);
    assert!(!ws.join("target/lambda").exists(), "nothing was built");
}
