//! The Lambda Runtime API, served on loopback for one function instance:
//! `GET /2018-06-01/runtime/invocation/next` hands out the next event with the
//! headers Lambda sends; `.../{id}/response`, `.../{id}/error` and `/init/error`
//! carry the function's answer back. One server per instance, so a runtime
//! client needs nothing but `AWS_LAMBDA_RUNTIME_API`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, Mutex};

/// Lambda's limit for a synchronous response payload.
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

/// One event for the instance, and where its answer goes.
pub struct Invocation {
    pub request_id: String,
    pub event: Bytes,
    pub deadline_ms: u128,
    pub trace_id: String,
    pub reply: oneshot::Sender<Outcome>,
}

/// What the function posted back.
#[derive(Debug)]
pub enum Outcome {
    Response(Bytes),
    Error(Bytes),
}

/// A running Runtime API for one instance.
pub struct RuntimeApi {
    pub address: SocketAddr,
    pub invocations: mpsc::Sender<Invocation>,
    /// Fires when the function reports an initialisation error.
    pub init_error: oneshot::Receiver<Bytes>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct State {
    function_arn: String,
    queue: Mutex<mpsc::Receiver<Invocation>>,
    pending: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<oneshot::Sender<Bytes>>>,
}

pub async fn start(function_arn: String) -> std::io::Result<RuntimeApi> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let (invocations, queue) = mpsc::channel(1);
    let (init_tx, init_error) = oneshot::channel();
    let state = Arc::new(State {
        function_arn,
        queue: Mutex::new(queue),
        pending: Mutex::new(HashMap::new()),
        init_error: Mutex::new(Some(init_tx)),
    });
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                break;
            };
            let state = Arc::clone(&state);
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |request| handle(Arc::clone(&state), request));
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    Ok(RuntimeApi {
        address,
        invocations,
        init_error,
        task,
    })
}

type Reply = Response<Full<Bytes>>;

async fn handle(
    state: Arc<State>,
    request: Request<Incoming>,
) -> Result<Reply, std::convert::Infallible> {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let rest = path.strip_prefix("/2018-06-01/runtime/").unwrap_or("");
    let reply = match (
        method.as_str(),
        rest.split('/').collect::<Vec<_>>().as_slice(),
    ) {
        ("GET", ["invocation", "next"]) => next(&state).await,
        ("POST", ["invocation", id, kind @ ("response" | "error")]) => {
            let id = (*id).to_owned();
            let error = *kind == "error";
            match read_body(request).await {
                Some(body) if !error => answer(&state, &id, Outcome::Response(body)).await,
                Some(body) => answer(&state, &id, Outcome::Error(body)).await,
                None => {
                    let message = format!("response exceeds {MAX_RESPONSE_BYTES} bytes");
                    let body = Bytes::from(serde_json::json!({ "errorType": "ResponseSizeTooLarge", "errorMessage": message }).to_string());
                    answer(&state, &id, Outcome::Error(body)).await
                }
            }
        }
        ("POST", ["init", "error"]) => {
            let body = read_body(request).await.unwrap_or_default();
            if let Some(tx) = state.init_error.lock().await.take() {
                let _ = tx.send(body);
            }
            json(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
        }
        _ => json(
            StatusCode::NOT_FOUND,
            r#"{"errorType":"NotFound","errorMessage":"unknown Runtime API path"}"#,
        ),
    };
    Ok(reply)
}

async fn next(state: &State) -> Reply {
    let Some(invocation) = state.queue.lock().await.recv().await else {
        return json(StatusCode::GONE, r#"{"errorType":"ShuttingDown"}"#);
    };
    state
        .pending
        .lock()
        .await
        .insert(invocation.request_id.clone(), invocation.reply);
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", &invocation.request_id)
        .header(
            "lambda-runtime-deadline-ms",
            invocation.deadline_ms.to_string(),
        )
        .header("lambda-runtime-invoked-function-arn", &state.function_arn)
        .header("lambda-runtime-trace-id", &invocation.trace_id)
        .body(Full::new(invocation.event))
        .expect("static response parts are valid")
}

async fn answer(state: &State, id: &str, outcome: Outcome) -> Reply {
    match state.pending.lock().await.remove(id) {
        Some(reply) => {
            let _ = reply.send(outcome);
            json(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
        }
        None => json(
            StatusCode::BAD_REQUEST,
            r#"{"errorType":"InvalidRequestID","errorMessage":"no such invocation"}"#,
        ),
    }
}

/// The body, or `None` when it is over Lambda's response limit.
async fn read_body(request: Request<Incoming>) -> Option<Bytes> {
    Limited::new(request.into_body(), MAX_RESPONSE_BYTES)
        .collect()
        .await
        .ok()
        .map(|b| b.to_bytes())
}

fn json(status: StatusCode, body: &'static str) -> Reply {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("static response parts are valid")
}
