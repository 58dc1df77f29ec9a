//! `POST /items`: validates a bearer JWT against the `jwks` layer's keys, then
//! accepts a JSON item and answers 201 with the stored item.

use std::sync::Arc;
use std::time::SystemTime;

use lambda_http::{Body, Error, Request, Response};

fn json(status: u16, body: serde_json::Value) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.to_string().into())?)
}

async fn handle(keys: &auth::Jwks, request: Request) -> Result<Response<Body>, Error> {
    let header = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    let claims = match auth::bearer(header).and_then(|t| keys.verify(t, SystemTime::now())) {
        Ok(claims) => claims,
        Err(e) => return json(401, serde_json::json!({ "message": e.to_string() })),
    };
    let new: catalog::NewItem = match serde_json::from_slice(request.body().as_ref()) {
        Ok(new) => new,
        Err(e) => return json(400, serde_json::json!({ "message": e.to_string() })),
    };
    let id = format!("{}", catalog::items().len() + 1);
    let item = catalog::Item {
        id,
        name: new.name,
        price_cents: new.price_cents,
        tags: new.tags,
    };
    json(
        201,
        serde_json::json!({ "item": item, "created_by": claims.sub }),
    )
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Reading the key set at start-up makes a missing layer an init error,
    // which Lambda reports, rather than a 500 on every request.
    let keys = Arc::new(auth::Jwks::from_layer()?);
    web::serve(move |request| {
        let keys = Arc::clone(&keys);
        async move { handle(&keys, request).await }
    })
    .await
}
