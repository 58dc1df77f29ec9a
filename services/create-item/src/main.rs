//! `POST /items`: accepts a JSON item and answers 201 with the stored item.
//! API Gateway has already run the `jwt` authorizer (`auth = "jwt"`): the
//! caller is `requestContext.authorizer.principalId`.

use lambda_http::request::RequestContext;
use lambda_http::{Body, Error, Request, RequestExt, Response};

fn json(status: u16, body: serde_json::Value) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.to_string().into())?)
}

/// Who the authorizer let in; `None` only when the route is deployed
/// without it, which the function refuses rather than trust.
fn principal(request: &Request) -> Option<String> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV1(c) => c
            .authorizer
            .fields
            .get("principalId")?
            .as_str()
            .map(str::to_owned),
        _ => None,
    }
}

async fn handle(request: Request) -> Result<Response<Body>, Error> {
    let Some(caller) = principal(&request) else {
        return json(401, serde_json::json!({ "message": "Unauthorized" }));
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
        serde_json::json!({ "item": item, "created_by": caller }),
    )
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    web::serve(handle).await
}
