//! Deploys that meet faults, interruptions and each other, against moto
//! through the fault-injecting proxy. Every scenario ends in the state a
//! clean deploy of the example's `test` stage (with its front door) leaves,
//! compared resource by resource with generated ids masked:
//! - a fifth of all requests answered 500, 429, with a dropped connection,
//!   forwarded with their response lost (AWS acted; ferry cannot know) or
//!   stalled halfway, a 429 whose body no AWS parser reads, a gateway's
//!   HTML 502/503, a signature refused for clock skew, or a large upload
//!   the proxy stops reading halfway;
//! - each of those faults on the first answer of every kind of write a clean
//!   deploy makes, and an update;
//! - expired credentials, renewed from a web identity, or not renewable;
//! - a deploy cut after its N-th write, for every N, then a normal deploy;
//! - two deploys of the stage started at once.

mod support;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use support::faulted::{
    add, cloud, copy_dir, deploy, deploy_manifest, differences, limits, per_mode, reset, state,
};
use support::{ferry, run, writes};

#[test]
fn deploys_converge_through_faults_cuts_and_each_other() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (_lock, ws) = support::shared_workspace();
    let base_toml = std::fs::read_to_string(ws.join("deploy.toml")).unwrap();
    let cloud = cloud(&rt);

    // The reference: a clean deploy, and how many writes it makes.
    reset(&rt, &cloud, &base_toml, &ws);
    cloud.proxy.take();
    let (ok, stderr, _) = deploy(&ws, &cloud, None);
    assert!(ok, "{stderr}");
    let clean_calls = cloud.proxy.take();
    let full_writes = writes(&clean_calls).len();
    let clean = state(&rt, &cloud);
    assert_eq!(clean["distributions"], "1");
    assert_eq!(clean["rest apis named"], "1");
    eprintln!(
        "clean deploy: {full_writes} writes, {} resources compared",
        clean.len()
    );

    // 1. A fifth of all requests faulted: the deploy retries and converges.
    let mut lost = 0;
    let mut total = support::FaultCounts::default();
    for seed in [1, 2, 3] {
        reset(&rt, &cloud, &base_toml, &ws);
        cloud.proxy.take();
        cloud
            .proxy
            .faults(|f| *f = support::FaultPlan::new(20, seed));
        let started = std::time::Instant::now();
        let (ok, stderr, _) = deploy(&ws, &cloud, None);
        let seconds = started.elapsed().as_secs_f64();
        let counts = cloud.proxy.faults(std::mem::take).counts;
        let calls = cloud.proxy.take().len();
        assert!(ok, "seed {seed}, {counts:?}: {stderr}");
        let now = state(&rt, &cloud);
        assert_eq!(
            differences(&clean, &now),
            Vec::<String>::new(),
            "seed {seed}"
        );
        eprintln!(
            "faulted deploy (seed {seed}): {seconds:.1} s, {calls} requests forwarded, {} faults injected and retried: {}",
            counts.injected(),
            per_mode(&counts)
        );
        assert!(counts.injected() > 0);
        lost += counts.lost;
        total = add(total, counts);
    }
    assert!(lost > 0, "no response was lost: the seeds do not test that");
    eprintln!(
        "three faulted deploys: {} faults: {}",
        total.injected(),
        per_mode(&total)
    );

    // 2. The first answer of every kind of write the clean deploy made meets
    //    one fault, each fault in turn: lost (AWS acted; ferry cannot know)
    //    or stalled halfway, so each retry must recognise what it made; a 429
    //    with a body no parser reads (with and without Retry-After); a
    //    gateway's HTML 502 and 503; a signature refused for clock skew; and,
    //    for every kind of zip upload, an upload stalled halfway. Each deploy
    //    succeeds and leaves the clean state: nothing made twice.
    use ferry_testkit::faults::{kind, Fault};
    let write_kinds: BTreeSet<String> = clean_calls
        .iter()
        .filter(|c| c.write)
        .map(|c| kind(&c.name))
        .collect();
    let upload_kinds: BTreeSet<String> = clean_calls
        .iter()
        .filter(|c| c.write && c.bytes > 64 * 1024)
        .map(|c| kind(&c.name))
        .collect();
    assert!(upload_kinds.len() >= 2, "{upload_kinds:?}");
    eprintln!(
        "{} kinds of write in a clean deploy ({} upload zips): {write_kinds:?}",
        write_kinds.len(),
        upload_kinds.len()
    );
    let modes = [
        Fault::LoseResponse,
        Fault::StallBody,
        Fault::StallUpload,
        Fault::OddThrottle(0),
        Fault::OddThrottle(1),
        Fault::OddThrottle(2),
        Fault::GatewayError(0),
        Fault::GatewayError(1),
        Fault::Skew,
    ];
    for mode in modes {
        reset(&rt, &cloud, &base_toml, &ws);
        cloud.proxy.take();
        cloud.proxy.faults(|f| f.each_first = Some(mode));
        let started = std::time::Instant::now();
        let (ok, stderr, _) = deploy(&ws, &cloud, None);
        let plan = cloud.proxy.faults(std::mem::take);
        assert!(ok, "{mode:?} on the first answer of each write: {stderr}");
        let expected = if mode == Fault::StallUpload {
            &upload_kinds
        } else {
            &write_kinds
        };
        let missed: Vec<&String> = expected.difference(&plan.faulted_kinds).collect();
        assert_eq!(
            missed,
            Vec::<&String>::new(),
            "{mode:?}: kinds of write not faulted"
        );
        let now = state(&rt, &cloud);
        assert_eq!(
            differences(&clean, &now),
            Vec::<String>::new(),
            "{mode:?} on the first answer of each write"
        );
        eprintln!(
            "{mode:?} on the first answer of {} kinds of write: deploy succeeded in {:.1} s, nothing made twice",
            plan.faulted_kinds.len(),
            started.elapsed().as_secs_f64()
        );
    }

    // 2a. The same for the writes of an update: from the clean state, a
    //     deploy of a code change to get-item (a multi-MB zip upload) and a
    //     memory change to list-items, both builds given as manifests. Every
    //     kind of write it makes meets each fault in turn; each ends in the
    //     state the update leaves without faults.
    let base = ws.parent().unwrap().to_path_buf();
    let (before, after) = (base.join("faults-before"), base.join("faults-after"));
    let (ok, stderr, _) = deploy(&ws, &cloud, None);
    assert!(ok, "{stderr}");
    copy_dir(&ws.join("target/lambda"), &before);
    let get_item = ws.join("services/get-item/src/main.rs");
    let source = std::fs::read_to_string(&get_item).unwrap();
    assert!(source.contains("no item {id}"));
    std::fs::write(
        &get_item,
        source.replacen("no item {id}", "not an item: {id}", 1),
    )
    .unwrap();
    let out = run(ferry(&ws, &cloud.proxy.url()).args(["build"]));
    std::fs::write(&get_item, &source).unwrap();
    assert!(out.status.success(), "build of the code change");
    copy_dir(&ws.join("target/lambda"), &after);
    let update = |faults: Option<Fault>| {
        reset(&rt, &cloud, &base_toml, &ws);
        let (ok, stderr, _) = deploy_manifest(&ws, &cloud, &before);
        assert!(ok, "the deploy before the update: {stderr}");
        // The door's hosted zone is new after each reset: change its toml.
        let toml = std::fs::read_to_string(ws.join("deploy.toml")).unwrap();
        let changed = format!("{toml}\n[stages.test.services.list-items]\nmemory = 384\n");
        std::fs::write(ws.join("deploy.toml"), changed).unwrap();
        cloud.proxy.take();
        cloud.proxy.faults(|f| f.each_first = faults);
        let started = std::time::Instant::now();
        let (ok, stderr, _) = deploy_manifest(&ws, &cloud, &after);
        let seconds = started.elapsed().as_secs_f64();
        let plan = cloud.proxy.faults(std::mem::take);
        assert!(
            ok,
            "{faults:?} on the first answer of each write of an update: {stderr}"
        );
        (state(&rt, &cloud), cloud.proxy.take(), plan, seconds)
    };
    let (updated, calls, _, _) = update(None);
    let update_kinds: BTreeSet<String> = calls
        .iter()
        .filter(|c| c.write)
        .map(|c| kind(&c.name))
        .collect();
    let update_uploads: BTreeSet<String> = calls
        .iter()
        .filter(|c| c.write && c.bytes > 64 * 1024)
        .map(|c| kind(&c.name))
        .collect();
    assert!(
        update_kinds.contains("lambda:PUT /2015-03-31/functions/*/code")
            && update_kinds.contains("lambda:PUT /2015-03-31/functions/*/configuration"),
        "{update_kinds:?}"
    );
    assert_ne!(differences(&clean, &updated), Vec::<String>::new());
    for mode in modes {
        let (now, _, plan, seconds) = update(Some(mode));
        let expected = if mode == Fault::StallUpload {
            &update_uploads
        } else {
            &update_kinds
        };
        let missed: Vec<&String> = expected.difference(&plan.faulted_kinds).collect();
        assert_eq!(
            missed,
            Vec::<&String>::new(),
            "{mode:?}: kinds of update not faulted"
        );
        assert_eq!(
            differences(&updated, &now),
            Vec::<String>::new(),
            "{mode:?} on the first answer of each write of an update"
        );
        eprintln!(
            "{mode:?} on the first answer of {} kinds of write of an update: succeeded in {seconds:.1} s, state as without faults",
            plan.faulted_kinds.len()
        );
    }
    let _ = std::fs::remove_dir_all(&before);
    let _ = std::fs::remove_dir_all(&after);

    // 2b. Credentials that AWS calls expired mid-deploy, from a source that
    //     issues new ones (a CI job's web identity): renewed, and the refused
    //     writes made with the new ones; the deploy succeeds.
    reset(&rt, &cloud, &base_toml, &ws);
    cloud.proxy.take();
    let token = ws.join("target/ferry-web-identity-token");
    std::fs::write(&token, "a-ci-job-oidc-token").unwrap();
    cloud.proxy.faults(|f| {
        f.first = vec![
            ("iam:CreateRole".into(), "".into(), Fault::ExpiredToken),
            (
                "lambda:POST /2018-10-31/layers/".into(),
                "/versions".into(),
                Fault::ExpiredToken,
            ),
            (
                "lambda:POST /2015-03-31/functions".into(),
                "functions".into(),
                Fault::ExpiredToken,
            ),
        ]
    });
    let mut command = ferry(&ws, &cloud.proxy.url());
    let out = limits(&mut command)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", &token)
        .env("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ci-deploy")
        .env("AWS_ROLE_SESSION_NAME", "ferry-faults")
        .args(["deploy", "--stage", "test", "--json"])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&token);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let plan = cloud.proxy.faults(std::mem::take);
    assert!(out.status.success(), "renewable credentials: {stderr}");
    assert_eq!(plan.first, Vec::new(), "writes the deploy never made");
    let sessions = cloud
        .proxy
        .take()
        .iter()
        .filter(|c| c.name.ends_with(":AssumeRoleWithWebIdentity"))
        .count();
    assert!(
        (2..=4).contains(&sessions),
        "one session, then one renewal per refusal at most: {sessions}"
    );
    assert_eq!(
        differences(&clean, &state(&rt, &cloud)),
        Vec::<String>::new(),
        "after renewed credentials"
    );
    eprintln!(
        "expired web identity credentials: {} refusals, {sessions} sessions asked for, the deploy succeeded",
        plan.counts.expired
    );

    // 2c. Credentials that expire mid-deploy and cannot be renewed (static
    //     test keys): the deploy stops, saying what expired and that a rerun
    //     continues, and the rerun converges to the clean state.
    reset(&rt, &cloud, &base_toml, &ws);
    cloud.proxy.take();
    cloud.proxy.faults(|f| {
        f.first = vec![(
            "lambda:POST /2015-03-31/functions".into(),
            "functions".into(),
            Fault::ExpiredToken,
        )]
    });
    let (ok, stderr, _) = deploy(&ws, &cloud, None);
    cloud.proxy.faults(std::mem::take);
    assert!(!ok, "a deploy whose credentials expired must fail");
    assert!(stderr.contains("ExpiredToken"), "{stderr}");
    assert!(
        stderr.contains("continues where this one stopped"),
        "{stderr}"
    );
    let (ok, stderr, _) = deploy(&ws, &cloud, None);
    assert!(ok, "the rerun after expired credentials: {stderr}");
    assert_eq!(
        differences(&clean, &state(&rt, &cloud)),
        Vec::<String>::new(),
        "the rerun after expired credentials"
    );
    eprintln!("expired credentials: the deploy stopped naming them, the rerun converged");

    // 3. Cut after the N-th write (the process fails there, as if killed), then
    //    a normal deploy: the same state, no duplicates, then nothing to do.
    for n in 1..=full_writes {
        reset(&rt, &cloud, &base_toml, &ws);
        cloud.proxy.faults(|f| f.cut_after_writes = Some(n));
        let (cut_ok, _, _) = deploy(&ws, &cloud, Some(1));
        cloud.proxy.faults(|f| *f = support::FaultPlan::default());
        let (ok, stderr, _) = deploy(&ws, &cloud, None);
        assert!(ok, "after a cut at write {n}: {stderr}");
        let now = state(&rt, &cloud);
        assert_eq!(
            differences(&clean, &now),
            Vec::<String>::new(),
            "cut at write {n}"
        );
        cloud.proxy.take();
        let (ok, _, again) = deploy(&ws, &cloud, None);
        assert!(
            ok && again["noop"] == true,
            "cut at write {n}: not converged"
        );
        assert_eq!(writes(&cloud.proxy.take()), Vec::<String>::new());
        eprintln!(
            "cut after write {n}/{full_writes}: the cut deploy {}; converged",
            if cut_ok { "finished" } else { "failed" }
        );
    }

    // 4. Two deploys at once: one waits for the other and finds nothing to do.
    reset(&rt, &cloud, &base_toml, &ws);
    let spawn = || {
        let mut c: Command = ferry(&ws, &cloud.proxy.url());
        c.args(["deploy", "--stage", "test", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c.spawn().unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        a.status.success() && b.status.success(),
        "{}\n{}",
        err(&a),
        err(&b)
    );
    let waited: Vec<String> = [&a, &b]
        .iter()
        .map(|o| err(o))
        .filter(|e| e.contains("another deploy of items/test is running"))
        .collect();
    assert_eq!(
        waited.len(),
        1,
        "exactly one deploy reports the other:\n{}\n{}",
        err(&a),
        err(&b)
    );
    assert!(
        waited[0].contains(" pid "),
        "it names the other deploy: {}",
        waited[0]
    );
    let now = state(&rt, &cloud);
    assert_eq!(
        differences(&clean, &now),
        Vec::<String>::new(),
        "after two deploys at once"
    );
    let _ = run(ferry(&ws, &cloud.proxy.url()).args(["plan", "--stage", "test"]));
    std::fs::write(ws.join("deploy.toml"), base_toml).unwrap();
}
