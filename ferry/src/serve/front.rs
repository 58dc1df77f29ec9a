//! The HTTP side of `serve`: routes each request with the workspace route
//! table, sends the function a REST v1 proxy event, and answers as API Gateway
//! does, including its 403, 502 and 504 responses. Logs one line a request.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use tokio::net::TcpListener;

use super::authorize::{self, Outcome};
use super::event::{self, RequestParts, Target};
use super::pool::InvokeResult;
use super::{router, App};
use crate::model::cache;

/// API Gateway's payload limit for a request.
const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;

pub async fn serve(listener: TcpListener, app: Arc<App>) -> miette::Result<()> {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("ferry: accept failed: {e}");
                continue;
            }
        };
        let app = Arc::clone(&app);
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |request| handle(Arc::clone(&app), peer, request));
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await;
        });
    }
}

type Reply = Response<Full<Bytes>>;

async fn handle(
    app: Arc<App>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Result<Reply, Infallible> {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let origin = request
        .headers()
        .get("origin")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (mut reply, service) = match preflight(&app, &method, &path, origin.as_deref()) {
        Some(reply) => (reply, Some("CORS preflight".to_owned())),
        None => respond(&app, peer, request).await,
    };
    if let (Some(cors), true) = (
        &app.stage.api.cors,
        reply.headers().contains_key("x-amzn-errortype"),
    ) {
        for (name, value) in super::cors::gateway(cors, origin.as_deref()) {
            if let Ok(value) = hyper::header::HeaderValue::from_str(&value) {
                reply.headers_mut().insert(name, value);
            }
        }
    }
    let cache = cache_decision(&app, &method, &path);
    eprintln!(
        "{method} {path} -> {} ({} ms){}{}",
        reply.status().as_u16(),
        started.elapsed().as_millis(),
        service.map(|s| format!(" [{s}]")).unwrap_or_default(),
        cache.map(|c| format!(" {c}")).unwrap_or_default()
    );
    Ok(reply)
}

/// API Gateway's answer to a CORS preflight on a path with CORS: the mock
/// integration ferry deploys there, which no function sees.
fn preflight(app: &App, method: &str, path: &str, origin: Option<&str>) -> Option<Reply> {
    if method != "OPTIONS" {
        return None;
    }
    let cors = app.stage.api.cors.as_ref()?;
    let decoded = event::percent_decode(path);
    let headers = super::cors::preflight(cors, &app.workspace.routes, &decoded, origin)?;
    let mut builder = Response::builder()
        .status(200)
        .header("content-type", "application/json");
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    builder.body(Full::new(Bytes::new())).ok()
}

/// What the stage's cache (CloudFront's, or API Gateway's) would do with
/// the request; `serve` itself caches nothing.
fn cache_decision(app: &App, method: &str, path: &str) -> Option<String> {
    let behaviors = app
        .stage
        .front
        .as_ref()
        .map(|f| f.cache.behaviors.as_slice());
    if let Some(line) = cache::decision(behaviors.unwrap_or_default(), method, path) {
        return Some(line);
    }
    let regional = app.stage.api.cache.as_ref()?;
    let decoded = event::percent_decode(path);
    let matched = router::find(&app.workspace.routes, method, &decoded)?;
    let route = format!("{} {}", matched.entry.method, matched.entry.path);
    Some(cache::api_decision(regional, &route, method))
}

async fn respond(
    app: &App,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> (Reply, Option<String>) {
    static REQUESTS: AtomicU64 = AtomicU64::new(0);
    let method = request.method().as_str().to_owned();
    let uri = request.uri().clone();
    let Some(matched) = router::find(
        &app.workspace.routes,
        &method,
        &event::percent_decode(uri.path()),
    ) else {
        return (
            gateway(403, r#"{"message":"Missing Authentication Token"}"#),
            None,
        );
    };
    let service = matched.entry.service.clone();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = match Limited::new(request.into_body(), MAX_REQUEST_BYTES)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(_) => {
            return (
                gateway(413, r#"{"message":"Request Too Long"}"#),
                Some(service),
            )
        }
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let request_id = format!(
        "{:016x}-{:08x}",
        now.as_nanos(),
        REQUESTS.fetch_add(1, Ordering::Relaxed)
    );
    let parts = RequestParts {
        method: &method,
        path: uri.path(),
        query: uri.query(),
        headers,
        body: &body,
        source_ip: peer.ip().to_string(),
    };
    let target = Target {
        resource: matched.entry.path.to_string(),
        path_params: &matched.params,
        stage: &app.stage.name,
        request_id: &request_id,
        api_id: "local",
        account_id: "123456789012",
        binary_media_types: &app.stage.api.binary_media_types,
        time_epoch_ms: now.as_millis(),
    };
    let mut event = event::build(&parts, &target);
    let mut label = service.clone();
    if let Some(name) = matched.entry.auth.as_ref().and_then(|a| a.authorizer()) {
        let method_arn = authorize::method_arn(
            &app.stage.region,
            target.account_id,
            target.api_id,
            &app.stage.name,
            &method,
            uri.path(),
        );
        let ask = authorize::Ask {
            event: &event,
            method_arn,
            request_id: &request_id,
        };
        match authorize(app, name, ask).await {
            Outcome::Allowed { context, note } => {
                event["requestContext"]["authorizer"] = context;
                label = format!("{service}; {note}");
            }
            Outcome::Refused { refusal, note } => {
                return (refused(&refusal), Some(format!("{service}; {note}")));
            }
        }
    }
    let event = Bytes::from(event.to_string());
    let Some(pool) = app.pools.get(&service) else {
        return (
            gateway(502, r#"{"message": "Internal server error"}"#),
            Some(service),
        );
    };
    let reply = match pool.invoke(&request_id, event).await {
        InvokeResult::Response(payload) => match event::parse_response(&payload) {
            Ok(proxy) => proxy_reply(proxy),
            Err(why) => {
                eprintln!("[{service}] malformed Lambda proxy response: {why}");
                gateway(502, r#"{"message": "Internal server error"}"#)
            }
        },
        InvokeResult::FunctionError(body) => {
            eprintln!(
                "[{service}] function error: {}",
                String::from_utf8_lossy(&body)
            );
            gateway(502, r#"{"message": "Internal server error"}"#)
        }
        InvokeResult::Timeout => {
            eprintln!(
                "[{service}] timed out after {} s; the instance was stopped",
                pool.spec.timeout.as_secs()
            );
            gateway(504, r#"{"message": "Endpoint request timed out"}"#)
        }
        InvokeResult::Crashed(why) => {
            eprintln!(
                "[{service}] the instance failed: {why}; a new one starts on the next request"
            );
            gateway(502, r#"{"message": "Internal server error"}"#)
        }
    };
    (reply, Some(label))
}

/// Runs the authorizer `name` the way the stage's API Gateway would.
async fn authorize(app: &App, name: &str, ask: authorize::Ask<'_>) -> Outcome {
    let lambda = app
        .workspace
        .services
        .get(name)
        .and_then(|s| Some((s.authorizer.as_ref()?, app.pools.get(name)?)));
    if let Some((authorizer, pool)) = lambda {
        return authorize::lambda(name, authorizer, pool, &app.authorizer_cache, ask).await;
    }
    // Without `--stage`, the first stage that declares the pool (serve
    // checks only that a token is there, which every declaration shares).
    let declared = app.stage.authorizers.get(name).or_else(|| {
        app.workspace
            .stages
            .values()
            .find_map(|s| s.authorizers.get(name))
    });
    match declared {
        Some(cognito) => authorize::cognito(name, cognito, ask.event),
        // The loader refuses a route naming an authorizer no stage declares.
        None => Outcome::Refused {
            refusal: authorize::CONFIGURATION,
            note: format!("{name}: unknown"),
        },
    }
}

/// API Gateway's answer to a request its authorizer refused.
fn refused(refusal: &authorize::Refusal) -> Reply {
    Response::builder()
        .status(refusal.status)
        .header("content-type", "application/json")
        .header("x-amzn-errortype", refusal.error_type)
        .body(Full::new(Bytes::from_static(refusal.body.as_bytes())))
        .expect("static response parts are valid")
}

fn proxy_reply(proxy: event::ProxyResponse) -> Reply {
    let mut builder = Response::builder().status(proxy.status);
    for (name, value) in &proxy.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder
        .body(Full::new(Bytes::from(proxy.body)))
        .unwrap_or_else(|_| gateway(502, r#"{"message": "Internal server error"}"#))
}

/// A response API Gateway itself produces.
fn gateway(status: u16, body: &'static str) -> Reply {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header(
            "x-amzn-errortype",
            if status == 403 {
                "MissingAuthenticationTokenException"
            } else {
                "InternalServerErrorException"
            },
        )
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("static response parts are valid")
}
