//! The fault test's scene: moto behind the fault proxy with the example's
//! front door, deploys with short stall limits, and the state compared.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::state::snapshot;
use super::{ferry, FaultCounts, Moto, Proxy, Readback};

const CERT: &str = "arn:aws:acm:us-east-1:123456789012:certificate/ferry-test";

/// A moto with a proxy in front, and the example's deploy.toml given a front
/// door whose hosted zone exists in that moto.
pub struct Cloud {
    pub moto: Moto,
    pub proxy: Proxy,
    pub aws: Readback,
}

pub fn cloud(rt: &tokio::runtime::Runtime) -> Cloud {
    let (moto, proxy) = super::moto_and_proxy();
    let aws = rt.block_on(Readback::new(&moto.url(), "us-east-1"));
    Cloud { moto, proxy, aws }
}

/// Empties moto, recreates the hosted zone and writes deploy.toml with a
/// front door in it.
pub fn reset(rt: &tokio::runtime::Runtime, cloud: &Cloud, base_toml: &str, ws: &Path) {
    super::moto_reset(cloud.moto.port);
    let zone = rt.block_on(super::hosted_zone(&cloud.aws, "items.test"));
    let door = format!(
        "{base_toml}\n[stages.test.cloudfront]\ndomain = \"api.items.test\"\ncertificate = \"{CERT}\"\nhosted-zone = \"{zone}\"\n"
    );
    std::fs::write(ws.join("deploy.toml"), door).unwrap();
}

/// Stall limits short enough for a test (20 s and 120 s by default); the
/// proxy holds a stalled transfer for longer.
pub fn limits(command: &mut Command) -> &mut Command {
    command
        .env("FERRY_STALL_SECS", "2")
        .env("FERRY_ANSWER_SECS", "10")
}

pub fn deploy(ws: &Path, cloud: &Cloud, max_attempts: Option<u32>) -> (bool, String, Value) {
    let mut command = ferry(ws, &cloud.proxy.url());
    limits(&mut command).args(["deploy", "--stage", "test", "--json"]);
    if let Some(n) = max_attempts {
        command.env("AWS_MAX_ATTEMPTS", n.to_string());
    }
    let out = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.success(), stderr, json)
}

pub fn per_mode(c: &FaultCounts) -> String {
    format!(
        "{} 500, {} 429, {} dropped, {} responses lost, {} odd-bodied 429, {} HTML 502/503, {} clock skew, {} responses stalled, {} uploads stalled",
        c.server_errors, c.throttles, c.dropped, c.lost, c.odd_throttles, c.gateway_errors, c.skews, c.stalls, c.upload_stalls
    )
}

pub fn add(a: FaultCounts, b: FaultCounts) -> FaultCounts {
    FaultCounts {
        server_errors: a.server_errors + b.server_errors,
        throttles: a.throttles + b.throttles,
        dropped: a.dropped + b.dropped,
        lost: a.lost + b.lost,
        odd_throttles: a.odd_throttles + b.odd_throttles,
        gateway_errors: a.gateway_errors + b.gateway_errors,
        skews: a.skews + b.skews,
        stalls: a.stalls + b.stalls,
        upload_stalls: a.upload_stalls + b.upload_stalls,
        expired: a.expired + b.expired,
        after_cut: a.after_cut + b.after_cut,
    }
}

pub fn deploy_manifest(ws: &Path, cloud: &Cloud, dir: &Path) -> (bool, String, Value) {
    let mut command = ferry(ws, &cloud.proxy.url());
    limits(&mut command)
        .args(["deploy", "--stage", "test", "--json", "--manifest"])
        .arg(dir.join("manifest.json"));
    let out = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.success(), stderr, json)
}

pub fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).unwrap();
        }
    }
}

pub fn state(rt: &tokio::runtime::Runtime, cloud: &Cloud) -> BTreeMap<String, String> {
    rt.block_on(snapshot(&cloud.aws, "items", "test"))
}

pub fn differences(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<String> {
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| format!("{k}: {:?} vs {:?}", a.get(k), b.get(k)))
        .collect()
}
