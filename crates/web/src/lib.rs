//! Runs a service's handler on Lambda with the stage's CORS headers added
//! to every response it gives: the policy ferry puts in `FERRY_CORS`
//! (deploy.toml's `[stages.NAME.api.cors]`), read once at start-up, applied
//! by the `ferry-cors` crate for the route's path and the request's
//! `Origin`. A stage without CORS adds nothing.

use std::future::Future;
use std::sync::Arc;

use lambda_http::request::RequestContext;
use lambda_http::{service_fn, Body, Error, Request, RequestExt, Response};

/// `lambda_http::run` for `handler`, with CORS.
pub async fn serve<F, Fut>(handler: F) -> Result<(), Error>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, Error>> + Send,
{
    // A policy ferry did not write is an init error Lambda reports, not a
    // response without its headers.
    let cors = Arc::new(ferry_cors::Cors::from_env()?);
    lambda_http::run(service_fn(move |request: Request| {
        let cors = Arc::clone(&cors);
        let resource = resource(&request);
        let origin = request
            .headers()
            .get("origin")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let response = handler(request);
        async move {
            let mut response = response.await?;
            let headers = response.headers_mut();
            for (name, value) in cors.headers(&resource, origin.as_deref()) {
                // `Vary` and the exposed headers are lists: the handler's
                // own entries stay. The other CORS headers are the stage's.
                if name == "vary" || name == "access-control-expose-headers" {
                    headers.append(name, value.parse()?);
                } else {
                    headers.insert(name, value.parse()?);
                }
            }
            Ok::<_, Error>(response)
        }
    }))
    .await
}

/// The matched route's path pattern (API Gateway's `resource`), e.g.
/// `/items/{id}`.
fn resource(request: &Request) -> String {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(c)) => c.resource_path.clone().unwrap_or_default(),
        _ => String::new(),
    }
}
