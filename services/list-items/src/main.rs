//! `GET /items`: lists the catalogue, filtered by every `?tag=` given and cut to `?limit=`.

use lambda_http::{Body, Error, Request, RequestExt, Response};

async fn handle(request: Request) -> Result<Response<Body>, Error> {
    let query = request.query_string_parameters();
    let tags: Vec<String> = query
        .all("tag")
        .unwrap_or_default()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let limit = match query.first("limit").map(str::parse::<usize>) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => {
            return Ok(Response::builder()
                .status(400)
                .header("content-type", "application/json")
                .body(r#"{"message":"limit must be a non-negative integer"}"#.into())?)
        }
    };
    let body = serde_json::json!({ "items": catalog::filter(&tags, limit) });
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(body.to_string().into())?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    web::serve(handle).await
}
