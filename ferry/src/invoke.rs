//! `invoke`: one HTTP request to a stage, as a client of the API would send
//! it. The request is built and the response printed here for both targets:
//! `--local` sends it to a running `serve` over plain HTTP from this crate
//! (no AWS SDK compiled), and the AWS side sends it to the deployed stage
//! (its front door's domain, else the REST API's stage URL) over HTTPS.

use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use miette::{miette, IntoDiagnostic};
use serde::Serialize;

use crate::cli::InvokeArgs;

/// The request `invoke` sends, from its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// Path and query, starting with `/`.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    #[serde(serialize_with = "body_text")]
    pub body: Vec<u8>,
}

fn body_text<S: serde::Serializer>(body: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(body))
}

impl Request {
    /// Validates the arguments: a method API Gateway routes, a path from
    /// the root, `Name: value` headers, and the body (`@FILE` reads a file).
    pub fn from_args(args: &InvokeArgs) -> miette::Result<Request> {
        let method = args.method.to_ascii_uppercase();
        const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
        if !METHODS.contains(&method.as_str()) {
            return Err(miette!(
                help = format!("use one of {}", METHODS.join(", ")),
                "`{}` is not an HTTP method API Gateway routes",
                args.method
            ));
        }
        if !args.path.starts_with('/') {
            return Err(miette!(
                help = format!("write the path from the API's root: /{}", args.path),
                "the path `{}` does not start with /",
                args.path
            ));
        }
        let mut headers = Vec::new();
        for h in &args.headers {
            let Some((name, value)) = h.split_once(':').filter(|(n, _)| !n.trim().is_empty())
            else {
                return Err(miette!(
                    help = "write it as --header 'Name: value'",
                    "the header `{h}` has no name"
                ));
            };
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
        let body = match args.data.as_deref() {
            None => Vec::new(),
            Some(file) if file.starts_with('@') => std::fs::read(&file[1..]).map_err(|e| {
                miette!(
                    help = "give a readable file after @, or the body itself",
                    "cannot read the body from {}: {e}",
                    &file[1..]
                )
            })?,
            Some(text) => text.as_bytes().to_vec(),
        };
        Ok(Request {
            method,
            path: args.path.clone(),
            headers,
            body,
        })
    }
}

/// The base URL of a stage's REST API stage (without a front door).
pub fn api_stage_url(api_id: &str, region: &str, stage: &str) -> String {
    format!("https://{api_id}.execute-api.{region}.amazonaws.com/{stage}")
}

/// Prints the response: status and headers on stderr, the body on stdout
/// (or all of it as JSON); exit 0 below 400, 2 for an HTTP error.
pub fn print(url: &str, response: &Response, as_json: bool) -> miette::Result<ExitCode> {
    if as_json {
        let out = serde_json::json!({ "url": url, "response": response });
        println!("{}", serde_json::to_string_pretty(&out).into_diagnostic()?);
    } else {
        eprintln!("ferry: {url} -> HTTP {}", response.status);
        for (name, value) in &response.headers {
            eprintln!("ferry: < {name}: {value}");
        }
        use std::io::Write;
        let mut stdout = std::io::stdout();
        stdout.write_all(&response.body).into_diagnostic()?;
        if !response.body.ends_with(b"\n") && !response.body.is_empty() {
            writeln!(stdout).into_diagnostic()?;
        }
    }
    Ok(if response.status < 400 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// `invoke --local`: sends the request to `serve` on this machine.
pub fn run_local(args: &InvokeArgs) -> miette::Result<ExitCode> {
    let request = Request::from_args(args)?;
    let base = format!("http://127.0.0.1:{}", args.port);
    let url = format!("{base}{}", request.path);
    if args.dry_run {
        println!("{} {url}", request.method);
        return Ok(ExitCode::SUCCESS);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .into_diagnostic()?;
    let timeout = Duration::from_secs(args.timeout);
    let response = runtime
        .block_on(async { tokio::time::timeout(timeout, send_local(args.port, &request)).await })
        .map_err(|_| miette!("no answer from {url} within {} s", args.timeout))??;
    print(&url, &response, args.json)
}

async fn send_local(port: u16, request: &Request) -> miette::Result<Response> {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| {
            miette!(
                help =
                    format!("start it with `cargo xtask serve --port {port}` in another terminal"),
                "nothing answers on 127.0.0.1:{port} ({e}): is `serve` running?"
            )
        })?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .into_diagnostic()?;
    tokio::spawn(connection);
    let mut builder = hyper::Request::builder()
        .method(request.method.as_str())
        .uri(request.path.as_str())
        .header("host", format!("127.0.0.1:{port}"));
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let sent = builder
        .body(Full::new(Bytes::from(request.body.clone())))
        .into_diagnostic()?;
    let answer = sender.send_request(sent).await.into_diagnostic()?;
    let status = answer.status().as_u16();
    let headers = answer
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = answer.into_body().collect().await.into_diagnostic()?;
    Ok(Response {
        status,
        headers,
        body: body.to_bytes().to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(method: &str, path: &str, headers: &[&str], data: Option<&str>) -> InvokeArgs {
        InvokeArgs {
            stage: Some("test".into()),
            method: method.into(),
            path: path.into(),
            data: data.map(str::to_owned),
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            local: true,
            port: 9000,
            url: None,
            dry_run: false,
            json: false,
            timeout: 30,
        }
    }

    #[test]
    fn builds_the_request_and_refuses_what_api_gateway_would_not_route() {
        let r = Request::from_args(&args("post", "/items?x=1", &["X-Id: 7 "], Some("{}"))).unwrap();
        assert_eq!(r.method, "POST");
        assert_eq!(r.headers, [("X-Id".to_owned(), "7".to_owned())]);
        assert_eq!(r.body, b"{}");
        assert!(Request::from_args(&args("FETCH", "/", &[], None)).is_err());
        assert!(Request::from_args(&args("GET", "items", &[], None)).is_err());
        assert!(Request::from_args(&args("GET", "/", &[": v"], None)).is_err());
        assert!(Request::from_args(&args("GET", "/", &[], Some("@/no/such/file"))).is_err());
    }

    #[test]
    fn the_api_stage_url_names_api_region_and_stage() {
        assert_eq!(
            api_stage_url("abc123", "eu-west-1", "prod"),
            "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"
        );
    }
}
