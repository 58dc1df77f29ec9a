//! `ANY /echo/{proxy+}`: a diagnostic service that shows what a function sees.
//!
//! - `/echo/raw` answers with the request body bytes and content type unchanged
//!   (a binary round trip);
//! - `/echo/fail` returns a function error;
//! - `/echo/sleep/{ms}` sleeps before answering;
//! - anything else answers a JSON description of the request and the instance.

use std::time::Duration;

use lambda_http::request::RequestContext;
use lambda_http::{Body, Error, Request, RequestExt, Response};

fn query_map(request: &Request) -> serde_json::Value {
    let query = request.query_string_parameters();
    let mut out = serde_json::Map::new();
    for (key, _) in query.iter() {
        let values = query.all(key).unwrap_or_default();
        out.insert(key.to_owned(), serde_json::json!(values));
    }
    serde_json::Value::Object(out)
}

async fn handle(request: Request) -> Result<Response<Body>, Error> {
    let proxy = request
        .path_parameters()
        .first("proxy")
        .unwrap_or_default()
        .to_owned();
    if proxy == "fail" {
        return Err("echo was asked to fail".into());
    }
    if proxy == "raw" {
        let content_type = request
            .headers()
            .get("content-type")
            .cloned()
            .unwrap_or_else(|| "application/octet-stream".parse().expect("static header"));
        let bytes = request.body().as_ref().to_vec();
        return Ok(Response::builder()
            .status(200)
            .header("content-type", content_type)
            .body(Body::Binary(bytes))?);
    }
    if let Some(ms) = proxy.strip_prefix("sleep/") {
        tokio::time::sleep(Duration::from_millis(ms.parse().unwrap_or(0))).await;
    }
    let (stage, resource_path) = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => (ctx.stage.clone(), ctx.resource_path.clone()),
        _ => (None, None),
    };
    let jwks =
        std::env::var("FERRY_OPT_DIR").unwrap_or_else(|_| "/opt".into()) + "/ferry/jwks/jwks.json";
    let body = serde_json::json!({
        "method": request.method().as_str(),
        "path": request.uri().path(),
        "raw_http_path": request.raw_http_path(),
        "proxy": proxy,
        "query": query_map(&request),
        "stage": stage,
        "resource_path": resource_path,
        "body": String::from_utf8_lossy(request.body().as_ref()),
        "function": std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok(),
        "instance": std::process::id(),
        "jwks_layer_present": std::path::Path::new(&jwks).exists(),
    });
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(body.to_string().into())?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    web::serve(handle).await
}
