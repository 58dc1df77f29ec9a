//! An unsigned HTTP(S) request through the SDK's own connector (hyper with
//! rustls and ring): how `invoke` calls a deployed stage as a client of the
//! API would, with no second TLS stack in the build.

use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_http_client::Connector;
use aws_smithy_runtime_api::client::http::HttpConnector;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use ferry::invoke::{Request, Response};

/// Sends `request` to `url` (the base URL joined with the request's path)
/// and reads the whole answer.
pub async fn send(url: &str, request: &Request) -> Result<Response, String> {
    let mut http = HttpRequest::new(SdkBody::from(request.body.clone()));
    http.set_uri(url)
        .map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    http.set_method(&request.method)
        .map_err(|e| format!("bad method {}: {e}", request.method))?;
    for (name, value) in &request.headers {
        http.headers_mut()
            .try_append(name.clone(), value.clone())
            .map_err(|e| format!("bad header `{name}`: {e}"))?;
    }
    let connector = Connector::builder()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build();
    let answer = connector
        .call(http)
        .await
        .map_err(|e| format!("{url}: {}", error_chain(&e)))?;
    let status = answer.status().as_u16();
    let headers = answer
        .headers()
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let body = ByteStream::new(answer.into_body())
        .collect()
        .await
        .map_err(|e| format!("{url}: the answer broke off: {e}"))?;
    Ok(Response {
        status,
        headers,
        body: body.into_bytes().to_vec(),
    })
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};

    use super::*;

    /// A loopback server that answers one request and hands back what it got.
    fn one_answer(reply: &'static str) -> (u16, std::thread::JoinHandle<String>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                head.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let mut stream = stream;
            stream.write_all(reply.as_bytes()).unwrap();
            head + &String::from_utf8(body).unwrap()
        });
        (port, handle)
    }

    #[tokio::test]
    async fn sends_the_request_as_given_and_reads_the_answer() {
        let (port, server) = one_answer(
            "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 13\r\n\r\n{\"error\":\"x\"}",
        );
        let request = Request {
            method: "POST".into(),
            path: "/items?x=1".into(),
            headers: vec![("X-Id".into(), "7".into())],
            body: b"{\"a\":1}".to_vec(),
        };
        let url = format!("http://127.0.0.1:{port}/test/items?x=1");
        let response = send(&url, &request).await.unwrap();
        assert_eq!(response.status, 404);
        assert_eq!(response.body, b"{\"error\":\"x\"}");
        assert!(response
            .headers
            .contains(&("content-type".into(), "application/json".into())));
        let got = server.join().unwrap();
        assert!(
            got.starts_with("POST /test/items?x=1 HTTP/1.1\r\n"),
            "{got}"
        );
        assert!(got.to_ascii_lowercase().contains("x-id: 7\r\n"), "{got}");
        assert!(got.ends_with("{\"a\":1}"), "{got}");
    }

    #[tokio::test]
    async fn a_refused_connection_is_an_error_naming_the_url() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let request = Request {
            method: "GET".into(),
            path: "/".into(),
            headers: Vec::new(),
            body: Vec::new(),
        };
        let url = format!("http://127.0.0.1:{port}/");
        let err = send(&url, &request).await.unwrap_err();
        assert!(err.starts_with(&url), "{err}");
    }
}
