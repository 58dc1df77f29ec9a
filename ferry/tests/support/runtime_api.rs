//! A minimal Lambda Runtime API on loopback for one invocation: it hands out
//! one event on `/next` with the headers Lambda sends, and records what the
//! function posts back. Everything is bounded: one event, a deadline, then stop.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What the function answered.
#[derive(Debug)]
pub enum Outcome {
    Response(String),
    Error(String),
}

/// Serves `event` once on a free loopback port; returns the `host:port` and a
/// receiver for the function's answer.
pub fn serve_one(event: String, deadline: Duration) -> (String, mpsc::Receiver<Outcome>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().unwrap().to_string();
    listener.set_nonblocking(true).unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let stop_at = Instant::now() + deadline;
        let mut handed_out = false;
        while Instant::now() < stop_at {
            let stream = match listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
                Err(_) => break,
            };
            stream.set_nonblocking(false).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            match handle(stream, &event, &mut handed_out, stop_at) {
                Some(outcome) => {
                    let _ = tx.send(outcome);
                    return;
                }
                None => continue,
            }
        }
    });
    (address, rx)
}

fn handle(
    mut stream: TcpStream,
    event: &str,
    handed_out: &mut bool,
    stop_at: Instant,
) -> Option<Outcome> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let mut content_length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        if line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body).ok()?;
    let body = String::from_utf8_lossy(&body).into_owned();
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    if path.ends_with("/invocation/next") {
        if *handed_out {
            // The function asks for a second event after answering; hold it
            // until the test is done rather than hand out another.
            std::thread::sleep(
                stop_at
                    .saturating_duration_since(Instant::now())
                    .min(Duration::from_secs(5)),
            );
            return None;
        }
        *handed_out = true;
        let deadline_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            + 30_000;
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nlambda-runtime-aws-request-id: req-1\r\n\
             lambda-runtime-deadline-ms: {deadline_ms}\r\nlambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:123456789012:function:test\r\n\
             lambda-runtime-trace-id: Root=1-00000000-000000000000000000000000\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{event}",
            event.len()
        );
        stream.write_all(response.as_bytes()).ok()?;
        return None;
    }
    let _ = stream
        .write_all(b"HTTP/1.1 202 Accepted\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}");
    if path.contains("/invocation/req-1/response") {
        return Some(Outcome::Response(body));
    }
    if path.contains("/error") {
        return Some(Outcome::Error(body));
    }
    None
}

/// An API Gateway REST (payload v1) proxy event for `GET /items/{id}` with `id`.
pub fn get_item_event(id: &str) -> String {
    serde_json::json!({
        "resource": "/items/{id}",
        "path": format!("/items/{id}"),
        "httpMethod": "GET",
        "headers": { "accept": "application/json" },
        "multiValueHeaders": { "accept": ["application/json"] },
        "queryStringParameters": null,
        "multiValueQueryStringParameters": null,
        "pathParameters": { "id": id },
        "stageVariables": null,
        "requestContext": {
            "resourcePath": "/items/{id}",
            "httpMethod": "GET",
            "path": format!("/test/items/{id}"),
            "stage": "test",
            "requestId": "req-1",
            "accountId": "123456789012",
            "apiId": "abc123",
            "identity": { "sourceIp": "127.0.0.1" }
        },
        "body": null,
        "isBase64Encoded": false
    })
    .to_string()
}
