//! End-to-end: builds the example workspace for both architectures in two
//! folders with different paths and mtimes, and checks that every zip is
//! byte-identical, well formed, under its glibc floor, and that the packed
//! `bootstrap` answers a real invocation (x86_64 natively, arm64 under qemu).
//! The second folder builds one architecture at a time and one service alone
//! first: every zip must equal the two-architecture build's, whatever the
//! invocation. A rebuild with nothing changed then runs no cargo and re-zips
//! nothing, and a `-p` build keeps the other artifacts in the manifest.

mod support;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use ferry::manifest::{ArtifactKind, Manifest};
use ferry::model::{Arch, GlibcVersion};
use support::runtime_api::{self, Outcome};

fn build(root: &Path, extra: &[&str]) -> (Manifest, String) {
    build_with(root, &[&["--arch", "all"], extra].concat())
}

fn build_with(root: &Path, args: &[&str]) -> (Manifest, String) {
    let out = support::ferry(root)
        .args(["build", "--json"])
        .args(args)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "build failed in {}:\n{stderr}",
        root.display()
    );
    let manifest: Manifest =
        serde_json::from_slice(&out.stdout).expect("--json prints the manifest");
    let on_disk = Manifest::read(&root.join("target/lambda/manifest.json"))
        .expect("manifest.json is written");
    assert_eq!(manifest, on_disk);
    (manifest, stderr)
}

#[test]
fn builds_are_reproducible_correct_and_incremental() {
    // Removed when the test ends, passed or failed.
    let scratch = ferry_testkit::Scratch::new("ferry-e2e-build");
    let base = scratch.path().to_owned();
    let (a, b) = (base.join("first"), base.join("elsewhere/second"));
    support::copy_example(&a);
    support::copy_example(&b);
    support::set_mtimes(
        &b,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000),
    );

    let (first, _) = build(&a, &[]);
    // The same bytes whatever the invocation: one architecture at a time,
    // one service alone (on its own architecture), then both at once.
    for args in [
        &["--arch", "arm64"][..],
        &["--arch", "x86_64"],
        &["-p", "get-item"],
    ] {
        let (partial, _) = build_with(&b, args);
        let mut compared = 0;
        for artifact in partial.artifacts {
            let whole = first
                .find(artifact.kind, &artifact.name, artifact.architecture)
                .expect("the whole build has every artifact");
            assert_eq!(
                artifact.sha256,
                whole.sha256,
                "{} for {} from `build {}` differs from `build --arch all`",
                artifact.name,
                artifact.architecture,
                args.join(" ")
            );
            compared += 1;
        }
        assert!(compared >= 1, "`build {}` made no artifact", args.join(" "));
    }
    let (second, _) = build(&b, &[]);
    assert_eq!(
        first.artifacts.len(),
        14,
        "4 services, 1 authorizer and 2 layers, for 2 architectures"
    );
    for (x, y) in first.artifacts.iter().zip(&second.artifacts) {
        assert_eq!((&x.name, x.architecture), (&y.name, y.architecture));
        assert_eq!(
            x.sha256, y.sha256,
            "{} for {} differs between two folders",
            x.name, x.architecture
        );
    }

    for artifact in &first.artifacts {
        check_zip(&a, artifact);
    }
    invoke_get_item(&a, &first, Arch::X86_64);
    invoke_get_item(&a, &first, Arch::Arm64);

    let zip = a.join(&first.artifacts[0].path);
    let before = std::fs::metadata(&zip).unwrap().modified().unwrap();
    let (again, stderr) = build(&a, &[]);
    assert_eq!(again, first);
    assert!(stderr.contains("(0 packed, 14 unchanged)"), "{stderr}");
    assert!(
        stderr.contains("no input changed since the last compile; cargo not run"),
        "a no-op build runs no cargo:\n{stderr}"
    );
    assert_eq!(
        std::fs::metadata(&zip).unwrap().modified().unwrap(),
        before,
        "a no-op build rewrote a zip"
    );

    // One layer file changed: exactly that layer's zips are packed again.
    std::fs::write(a.join("layers/jwks/keys/jwks.json"), "{\"keys\":[]}\n").unwrap();
    let (changed, stderr) = build(&a, &[]);
    assert!(stderr.contains("(2 packed, 12 unchanged)"), "{stderr}");
    assert!(
        stderr.contains("ferry: compiling"),
        "a changed workspace file hands the decision back to cargo:\n{stderr}"
    );
    for (old, new) in first.artifacts.iter().zip(&changed.artifacts) {
        assert_eq!(old.sha256 != new.sha256, old.name == "jwks", "{}", old.name);
    }

    // `-p` packs one service (both architectures); the manifest keeps
    // every other artifact from the build before.
    let (partial, stderr) = build(&a, &["-p", "get-item"]);
    assert!(
        stderr.contains("(0 packed, 2 unchanged, 12 kept from the last build)"),
        "{stderr}"
    );
    assert_eq!(partial, changed, "a -p build keeps the whole manifest");
}

fn check_zip(root: &Path, artifact: &ferry::manifest::Artifact) {
    let file = std::fs::File::open(root.join(&artifact.path)).unwrap();
    let mut archive = zip::ZipArchive::new(file).unwrap();
    let names: Vec<String> = archive.file_names().map(str::to_owned).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "entries of {} are sorted", artifact.path);
    let expected: Vec<&str> = match (artifact.kind, artifact.name.as_str()) {
        (ArtifactKind::Function, _) => vec!["bootstrap"],
        (ArtifactKind::Layer, "jwks") => vec!["ferry/jwks/jwks.json"],
        (ArtifactKind::Layer, "request-logger") => vec!["extensions/request-logger"],
        (_, other) => panic!("unexpected artifact {other}"),
    };
    assert_eq!(names, expected);
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        assert_eq!(entry.last_modified().unwrap(), zip::DateTime::default());
        let executable = entry.name() == "bootstrap" || entry.name().starts_with("extensions/");
        assert_eq!(
            entry.unix_mode().unwrap() & 0o777,
            if executable { 0o755 } else { 0o644 },
            "{}",
            entry.name()
        );
        if executable {
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            let facts = ferry::build::elf::read(&data).unwrap();
            assert_eq!(facts.machine, artifact.architecture.elf_machine());
            let max = facts.max_glibc().unwrap();
            assert!(
                max <= artifact.glibc_floor,
                "{} needs glibc {max} > {}",
                artifact.path,
                artifact.glibc_floor
            );
            assert!(max <= GlibcVersion::new(2, 34));
            let text = String::from_utf8_lossy(&data);
            assert!(
                !text.contains(&root.display().to_string()),
                "{} contains the build folder path",
                artifact.path
            );
        }
    }
    let bytes = std::fs::read(root.join(&artifact.path)).unwrap();
    assert_eq!(bytes.len() as u64, artifact.zipped_size);
}

fn invoke_get_item(root: &Path, manifest: &Manifest, arch: Arch) {
    let artifact = manifest
        .find(ArtifactKind::Function, "get-item", arch)
        .unwrap();
    let dir = root.join(format!("target/run-{arch}"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut archive =
        zip::ZipArchive::new(std::fs::File::open(root.join(&artifact.path)).unwrap()).unwrap();
    archive.extract(&dir).unwrap();
    let bootstrap = dir.join("bootstrap");
    let (api, answer) =
        runtime_api::serve_one(runtime_api::get_item_event("2"), Duration::from_secs(60));
    let mut command = match arch {
        Arch::X86_64 => Command::new(&bootstrap),
        Arch::Arm64 => {
            let (qemu, sysroot) = support::qemu();
            let mut c = Command::new(qemu);
            c.arg("-L").arg(sysroot).arg(&bootstrap);
            c
        }
    };
    let mut child = command
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "items-test-get-item")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let outcome = answer.recv_timeout(Duration::from_secs(60));
    let _ = child.kill();
    let _ = child.wait();
    match outcome {
        Ok(Outcome::Response(body)) => {
            let response: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(response["statusCode"], 200, "{body}");
            let item: serde_json::Value =
                serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
            assert_eq!(item["name"], "life jacket", "{body}");
        }
        other => panic!("get-item for {arch} did not answer: {other:?}"),
    }
}
