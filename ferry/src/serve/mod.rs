//! `cargo xtask serve`: the whole API on localhost. Builds the services for
//! the host, starts each function's real binary against an embedded Lambda
//! Runtime API, and serves HTTP on 127.0.0.1 the way the deployed API Gateway
//! REST stage does, using the same route table that deploy wires.

mod authorize;
mod cors;
pub mod event;
mod front;
pub mod pool;
mod prepare;
pub mod router;
pub mod runtime_api;
mod watch;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use miette::{miette, IntoDiagnostic};

use crate::cli::ServeArgs;
use crate::model::{EnvValue, SecretSource, Stage, Workspace};
use pool::{FunctionSpec, Pool};

/// API Gateway ends an integration after 29 seconds.
pub const API_GATEWAY_TIMEOUT: Duration = Duration::from_secs(29);

/// What the front server shares across requests.
pub struct App {
    pub workspace: Workspace,
    pub stage: Stage,
    pub pools: BTreeMap<String, Arc<Pool>>,
    /// The Lambda authorizers' answers, kept for their TTL.
    pub authorizer_cache: authorize::Cache,
}

pub fn run(root: &Path, args: &ServeArgs) -> miette::Result<()> {
    let workspace = crate::check::load(root)?;
    let stage = match &args.stage {
        None => Stage::local(),
        Some(name) => workspace.stages.get(name).cloned().ok_or_else(|| {
            let known: Vec<&str> = workspace.stages.keys().map(String::as_str).collect();
            miette!(
                help = format!("stages in deploy.toml: {}", known.join(", ")),
                "no stage `{name}` in deploy.toml"
            )
        })?,
    };
    prepare::build_host(root, &workspace, args.release)?;
    let opt_root = prepare::layer_dirs(&workspace)?;
    let profile_dir = if args.release { "release" } else { "debug" };
    let bin_dir = crate::build::compile::target_dir(root).join(profile_dir);
    let mut pools = BTreeMap::new();
    for service in workspace.services.values() {
        let settings = stage.settings(&workspace.app, service);
        let spec = FunctionSpec {
            service: service.name.to_string(),
            function_name: settings.function_name.clone(),
            binary: bin_dir.join(&service.bin),
            env: lambda_env(&stage, &settings, &opt_root.join(service.name.as_str())),
            timeout: Duration::from_secs(settings.timeout_s.into()).min(API_GATEWAY_TIMEOUT),
            region: stage.region.clone(),
        };
        pools.insert(service.name.to_string(), Pool::new(spec, args.concurrency));
    }
    let app = Arc::new(App {
        workspace,
        stage,
        pools,
        authorizer_cache: Default::default(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .into_diagnostic()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
            .await
            .into_diagnostic()?;
        let address = listener.local_addr().into_diagnostic()?;
        println!(
            "ferry: serving {} routes on http://{address} (stage `{}`); Ctrl-C stops",
            app.workspace.routes.entries.len(),
            app.stage.name
        );
        print!("{}", app.workspace.routes.render_text());
        let cloudfront = app.stage.front.as_ref().is_some_and(|f| !f.cache.behaviors.is_empty());
        if cloudfront || app.stage.api.cache.is_some() {
            println!("ferry: nothing is cached here; each request line says what the stage's cache would do");
        }
        for line in authorizer_notes(&app.workspace, &app.stage) {
            println!("ferry: {line}");
        }
        let throttle = &app.stage.api.throttle;
        if throttle.stage.is_some() || !throttle.routes.is_empty() {
            println!("ferry: throttling is not emulated here; the stage's rate limits apply only on AWS (429 beyond them)");
        }
        if args.watch {
            tokio::spawn(watch::run(Arc::clone(&app), args.release));
        }
        tokio::select! {
            result = front::serve(listener, Arc::clone(&app)) => result,
            () = shutdown_signal() => {
                eprintln!("ferry: stopping every function instance");
                for pool in app.pools.values() {
                    pool.stop_all().await;
                }
                Ok(())
            }
        }
    })?;
    // Dropping the pools kills every instance process (kill_on_drop); the
    // runtime's shutdown drops the tasks that hold busy ones.
    runtime.shutdown_timeout(Duration::from_secs(2));
    Ok(())
}

/// What serve says of each authorizer the routes use: a Lambda one runs
/// as on AWS; a Cognito one cannot be checked offline.
fn authorizer_notes(workspace: &Workspace, stage: &Stage) -> Vec<String> {
    let used: std::collections::BTreeSet<&str> = workspace
        .routes
        .entries
        .iter()
        .filter_map(|e| e.auth.as_ref()?.authorizer())
        .collect();
    used.into_iter()
        .map(|name| match workspace.services.get(name).and_then(|s| s.authorizer.as_ref()) {
            Some(a) => format!(
                "authorizer `{name}` runs before its routes, its answers cached {} s per identity as API Gateway does",
                a.ttl_s
            ),
            None if stage.authorizers.contains_key(name) => format!(
                "Cognito authorizer `{name}` is not checked locally: a request with a token passes, its claims unverified in requestContext.authorizer.claims"
            ),
            None => format!("authorizer `{name}` is not declared for stage `{}`", stage.name),
        })
        .collect()
}

/// The environment Lambda gives a function, plus `FERRY_OPT_DIR` pointing at
/// the function's extracted layers (Lambda's `/opt`). serve reads no AWS: a
/// secret comes from serve's own environment (`from-env`'s variable, or for
/// an SSM parameter the variable's own name) and is left out, with a note,
/// when that is not set.
fn lambda_env(
    stage: &Stage,
    settings: &crate::model::FunctionSettings,
    opt_dir: &Path,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for (key, value) in &settings.env {
        let (local, hint) = match value {
            EnvValue::Plain(v) => (Some(v.clone()), String::new()),
            EnvValue::Secret(source @ SecretSource::Env(var)) => (
                std::env::var(var).ok(),
                format!("it comes from the {source}; export {var} to set it locally"),
            ),
            EnvValue::Secret(source @ SecretSource::Ssm(_)) => (
                std::env::var(key).ok(),
                format!("it comes from the {source}, which serve does not read; export {key} to set it locally"),
            ),
        };
        match local {
            Some(v) => {
                env.insert(key.clone(), v);
            }
            None => eprintln!(
                "ferry: {} runs without `{key}`: {hint}",
                settings.function_name
            ),
        }
    }
    let name = &settings.function_name;
    let fixed = [
        ("AWS_REGION", stage.region.clone()),
        ("AWS_DEFAULT_REGION", stage.region.clone()),
        ("AWS_LAMBDA_FUNCTION_NAME", name.clone()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            settings.memory_mb.to_string(),
        ),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "local/[$LATEST]ferry".into()),
        ("LAMBDA_TASK_ROOT", "/var/task".into()),
        ("_HANDLER", "bootstrap".into()),
        ("TZ", ":UTC".into()),
        ("FERRY_OPT_DIR", opt_dir.display().to_string()),
    ];
    env.extend(fixed.into_iter().map(|(k, v)| (k.to_owned(), v)));
    env
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::lambda_env;
    use crate::model::{EnvValue, FunctionSettings, SecretSource, Stage};

    #[test]
    fn secrets_come_from_serves_own_environment_or_are_left_out() {
        let env = BTreeMap::from([
            ("MODE".to_owned(), EnvValue::from("x")),
            (
                "FROM_PATH".to_owned(),
                EnvValue::Secret(SecretSource::Env("PATH".into())),
            ),
            (
                "UNSET".to_owned(),
                EnvValue::Secret(SecretSource::Env("FERRY_TEST_SURELY_UNSET_4711".into())),
            ),
            (
                "HOME".to_owned(),
                EnvValue::Secret(SecretSource::Ssm("/app/home".into())),
            ),
        ]);
        let settings = FunctionSettings {
            function_name: "app-local-svc".into(),
            memory_mb: 128,
            timeout_s: 3,
            tracing: crate::model::Tracing::PassThrough,
            ephemeral_mb: 512,
            reserved_concurrency: None,
            vpc: None,
            env,
        };
        let out = lambda_env(&Stage::local(), &settings, Path::new("/tmp/opt"));
        assert_eq!(out["MODE"], "x");
        assert_eq!(out["FROM_PATH"], std::env::var("PATH").unwrap());
        assert_eq!(out["HOME"], std::env::var("HOME").unwrap());
        assert!(!out.contains_key("UNSET"));
        assert_eq!(out["AWS_LAMBDA_FUNCTION_NAME"], "app-local-svc");
    }
}
