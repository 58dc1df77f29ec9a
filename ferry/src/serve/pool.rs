//! The instances of one function: real `bootstrap` processes, each connected to
//! its own Runtime API. A request takes an idle instance or starts a new one,
//! up to a bound, as Lambda scales; an instance that times out or crashes is
//! killed and replaced on a later request.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{oneshot, Mutex, Semaphore};

use super::runtime_api::{self, Invocation, Outcome, RuntimeApi};

/// Everything needed to start an instance of one function.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    pub service: String,
    pub function_name: String,
    pub binary: PathBuf,
    pub env: BTreeMap<String, String>,
    /// The function's timeout, capped at API Gateway's 29 s.
    pub timeout: Duration,
    pub region: String,
}

/// How one invocation ended.
#[derive(Debug)]
pub enum InvokeResult {
    Response(Bytes),
    FunctionError(Bytes),
    Timeout,
    Crashed(String),
}

struct Instance {
    child: Child,
    api: RuntimeApi,
    generation: u64,
}

pub struct Pool {
    pub spec: FunctionSpec,
    idle: Mutex<Vec<Instance>>,
    permits: Semaphore,
    generation: AtomicU64,
    started: AtomicU32,
}

impl Pool {
    pub fn new(spec: FunctionSpec, max_instances: usize) -> Arc<Self> {
        Arc::new(Self {
            spec,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(max_instances.max(1)),
            generation: AtomicU64::new(0),
            started: AtomicU32::new(0),
        })
    }

    /// How many instances this pool has started so far.
    pub fn instances_started(&self) -> u32 {
        self.started.load(Ordering::Relaxed)
    }

    /// Stops every idle instance; busy ones stop when their request ends.
    /// The next request starts a fresh instance (used after a rebuild).
    pub async fn restart(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.idle.lock().await.clear();
    }

    /// Stops every idle instance and waits for it to exit, so that none is
    /// left behind when serve stops.
    pub async fn stop_all(&self) {
        let instances: Vec<Instance> = std::mem::take(&mut *self.idle.lock().await);
        for mut instance in instances {
            let _ = instance.child.start_kill();
            let _ = instance.child.wait().await;
        }
    }

    /// Runs one event on an instance.
    pub async fn invoke(&self, request_id: &str, event: Bytes) -> InvokeResult {
        let Ok(_permit) = self.permits.acquire().await else {
            return InvokeResult::Crashed("pool closed".into());
        };
        let generation = self.generation.load(Ordering::SeqCst);
        let reused = loop {
            match self.idle.lock().await.pop() {
                Some(instance) if instance.generation == generation => break Some(instance),
                Some(_stale) => continue,
                None => break None,
            }
        };
        let mut instance = match reused {
            Some(instance) => instance,
            None => match self.spawn(generation).await {
                Ok(instance) => instance,
                Err(e) => {
                    return InvokeResult::Crashed(format!(
                        "cannot start {}: {e}",
                        self.spec.binary.display()
                    ))
                }
            },
        };
        let (reply, answer) = oneshot::channel();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let invocation = Invocation {
            request_id: request_id.to_owned(),
            event,
            deadline_ms: (now + self.spec.timeout).as_millis(),
            trace_id: format!(
                "Root=1-{:08x}-{:024x};Sampled=0",
                now.as_secs(),
                now.as_nanos()
            ),
            reply,
        };
        if instance.api.invocations.send(invocation).await.is_err() {
            return InvokeResult::Crashed("the instance's Runtime API stopped".into());
        }
        let result = tokio::select! {
            answer = answer => match answer {
                Ok(Outcome::Response(body)) => InvokeResult::Response(body),
                Ok(Outcome::Error(body)) => InvokeResult::FunctionError(body),
                Err(_) => InvokeResult::Crashed("the invocation was dropped".into()),
            },
            status = instance.child.wait() => {
                InvokeResult::Crashed(format!("the process exited ({})", status.map_or_else(|e| e.to_string(), |s| s.to_string())))
            }
            init = &mut instance.api.init_error => {
                InvokeResult::Crashed(format!("init error: {}", init.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()))
            }
            () = tokio::time::sleep(self.spec.timeout) => InvokeResult::Timeout,
        };
        match result {
            InvokeResult::Response(_) | InvokeResult::FunctionError(_) => {
                self.idle.lock().await.push(instance)
            }
            // Dropping the instance kills its process (kill_on_drop).
            InvokeResult::Timeout | InvokeResult::Crashed(_) => drop(instance),
        }
        result
    }

    async fn spawn(&self, generation: u64) -> std::io::Result<Instance> {
        let spec = &self.spec;
        let arn = format!(
            "arn:aws:lambda:{}:123456789012:function:{}",
            spec.region, spec.function_name
        );
        let api = runtime_api::start(arn).await?;
        let n = self.started.fetch_add(1, Ordering::Relaxed) + 1;
        let mut command = Command::new(&spec.binary);
        command
            .env_clear()
            .envs(passthrough())
            .envs(&spec.env)
            .env("AWS_LAMBDA_RUNTIME_API", api.address.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn()?;
        let label = if n == 1 {
            spec.service.clone()
        } else {
            format!("{}#{n}", spec.service)
        };
        if let Some(out) = child.stdout.take() {
            tokio::spawn(prefix_lines(label.clone(), out));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(prefix_lines(label, err));
        }
        Ok(Instance {
            child,
            api,
            generation,
        })
    }
}

/// Host variables a function may need locally: credentials and tool settings.
fn passthrough() -> Vec<(String, String)> {
    const KEEP: &[&str] = &[
        "PATH",
        "HOME",
        "RUST_LOG",
        "RUST_BACKTRACE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    ];
    std::env::vars()
        .filter(|(k, _)| KEEP.contains(&k.as_str()))
        .collect()
}

async fn prefix_lines(label: String, stream: impl tokio::io::AsyncRead + Unpin) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        eprintln!("[{label}] {line}");
    }
}
