//! `GET /items/{id}`: one item of the catalogue, or 404.

use lambda_http::{Body, Error, Request, RequestExt, Response};

async fn handle(request: Request) -> Result<Response<Body>, Error> {
    let params = request.path_parameters();
    let id = params.first("id").unwrap_or_default();
    let (status, body) = match catalog::find(id) {
        Some(item) => (200, serde_json::to_string(&item)?),
        None => (
            404,
            serde_json::json!({ "message": format!("no item {id}") }).to_string(),
        ),
    };
    Ok(Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.into())?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    web::serve(handle).await
}
