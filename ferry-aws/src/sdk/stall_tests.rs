//! The guard against a real HTTP server on loopback that stops reading an
//! upload halfway, or reads it all and never answers, or answers; the
//! requests are the Lambda SDK's own, through ferry's HTTP client.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_sdk_lambda::types::LayerVersionContentInput;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::Blob;
use base64::Engine;

use super::*;
use crate::sdk::clients::http_client;

#[derive(Clone, Copy)]
enum Server {
    /// Read this many bytes of the request, then read nothing more.
    StallAfter(usize),
    /// Read the whole request, then say nothing.
    Silent,
    /// Read the whole request and answer as Lambda does.
    Answer,
    /// As `Answer`, reading a chunk of this many bytes every 300 ms.
    Slowly(usize),
}

/// A one-connection server with a small receive buffer, so that a stalled
/// reader stalls the sender soon; it holds its connection until told.
fn serve(mode: Server) -> (String, mpsc::Sender<()>, JoinHandle<Vec<u8>>) {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(64 * 1024).unwrap();
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    socket.bind(&addr.into()).unwrap();
    socket.listen(1).unwrap();
    let listener: TcpListener = socket.into();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (release, released) = mpsc::channel::<()>();
    let handle = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut seen = Vec::new();
        let mut buf = vec![0u8; 16 * 1024];
        let limit = match mode {
            Server::StallAfter(n) => n,
            _ => usize::MAX,
        };
        let mut tick = (std::time::Instant::now(), 0);
        while seen.len() < limit && !complete(&seen) {
            if let Server::Slowly(chunk) = mode {
                if tick.1 >= chunk {
                    std::thread::sleep(Duration::from_millis(300).saturating_sub(tick.0.elapsed()));
                    tick = (std::time::Instant::now(), 0);
                }
            }
            let n = conn.read(&mut buf).unwrap();
            tick.1 += n;
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
        }
        if let Server::Answer | Server::Slowly(_) = mode {
            let body = r#"{"LayerVersionArn":"arn:aws:lambda:us-east-1:123456789012:layer:l:1"}"#;
            let head = format!(
                "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            conn.write_all(head.as_bytes()).unwrap();
            conn.write_all(body.as_bytes()).unwrap();
        }
        // Bounded: the test releases it, or it gives up after a minute.
        let _ = released.recv_timeout(Duration::from_secs(60));
        seen
    });
    (url, release, handle)
}

/// Whether `seen` holds a whole request (head and `content-length` body).
fn complete(seen: &[u8]) -> bool {
    let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    seen.len() >= end + 4 + length
}

fn body_of(request: &[u8]) -> &[u8] {
    let end = request.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    &request[end + 4..]
}

async fn publish(url: &str, limits: Limits, zip: Vec<u8>) -> Result<String, String> {
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(guarded(http_client(), limits))
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKID", "SECRET", None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .build();
    let out = aws_sdk_lambda::Client::from_conf(config)
        .publish_layer_version()
        .layer_name("l")
        .content(
            LayerVersionContentInput::builder()
                .zip_file(Blob::new(zip))
                .build(),
        )
        .send()
        .await;
    match out {
        Ok(o) => Ok(o.layer_version_arn().unwrap_or_default().to_owned()),
        Err(e @ SdkError::DispatchFailure(_)) => {
            let text = DisplayErrorContext(&e).to_string();
            match e {
                SdkError::DispatchFailure(f) if f.is_timeout() => Err(text),
                _ => panic!("not a timeout: {text}"),
            }
        }
        Err(e) => panic!("not a timeout: {}", DisplayErrorContext(&e)),
    }
}

fn limits(stall: u64, answer: u64) -> Limits {
    Limits {
        stall: Duration::from_secs(stall),
        answer: Duration::from_secs(answer),
        attempt: Duration::from_secs(300),
    }
}

/// A zip of 16 MiB: more than the kernel's send and receive buffers and
/// hyper's own can hold, so a reader that stops stops the upload.
fn big_zip() -> Vec<u8> {
    (0..16 * 1024 * 1024).map(|i| (i % 251) as u8).collect()
}

#[tokio::test]
async fn an_upload_stalled_halfway_is_abandoned_as_a_timeout() {
    let (url, release, _) = serve(Server::StallAfter(1024 * 1024));
    let started = std::time::Instant::now();
    let err = publish(&url, limits(1, 60), big_zip()).await.unwrap_err();
    let _ = release.send(());
    assert!(err.contains("the upload stalled"), "{err}");
    assert!(err.contains("FERRY_STALL_SECS"), "{err}");
    // It moved before it stalled: the frames taken were counted.
    let sent: u64 = err
        .split("the upload stalled: ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(sent > 0, "{err}");
    // Long before the server's minute, and before the answer limit.
    assert!(started.elapsed() < Duration::from_secs(30), "{err}");
}

#[tokio::test]
async fn a_slow_upload_that_keeps_moving_is_not_abandoned() {
    // About 11 MB of request at 768 KiB per 300 ms (2.5 MB/s): over four
    // seconds of upload, twice the stall limit. Progress shows as the kernel
    // takes bytes, and it wakes a writer only when part of its send buffer
    // (4 MiB at most by default) has drained: well under a second here.
    let (url, release, _) = serve(Server::Slowly(768 * 1024));
    let zip: Vec<u8> = big_zip().into_iter().take(8 * 1024 * 1024).collect();
    let arn = publish(&url, limits(2, 60), zip).await;
    let _ = release.send(());
    assert!(arn.is_ok(), "{arn:?}");
}

#[tokio::test]
async fn a_request_sent_and_never_answered_is_abandoned() {
    let (url, release, _) = serve(Server::Silent);
    let started = std::time::Instant::now();
    let err = publish(&url, limits(30, 1), vec![1; 100])
        .await
        .unwrap_err();
    let _ = release.send(());
    assert!(err.contains("no answer within 1 s"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20), "{err}");
}

#[tokio::test]
async fn a_framed_upload_arrives_whole() {
    let (url, release, handle) = serve(Server::Answer);
    let zip = big_zip();
    let arn = publish(&url, limits(5, 60), zip.clone()).await.unwrap();
    let _ = release.send(());
    assert!(arn.ends_with(":layer:l:1"));
    let request = handle.join().unwrap();
    let json: serde_json::Value = serde_json::from_slice(body_of(&request)).unwrap();
    let sent = base64::engine::general_purpose::STANDARD
        .decode(json["Content"]["ZipFile"].as_str().unwrap())
        .unwrap();
    assert!(sent == zip, "the zip arrived changed");
}

#[test]
fn limits_come_from_the_environment_and_bad_ones_are_named() {
    assert_eq!(Limits::from_vars(|_| None).unwrap(), Limits::default());
    let set = Limits::from_vars(|n| (n == "FERRY_STALL_SECS").then(|| "3".to_owned())).unwrap();
    assert_eq!(set.stall, Duration::from_secs(3));
    assert_eq!(set.answer, Limits::default().answer);
    for bad in ["0", "ten", "-1", "99999"] {
        let err = Limits::from_vars(|n| (n == "FERRY_ANSWER_SECS").then(|| bad.to_owned()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("FERRY_ANSWER_SECS") && err.contains(bad),
            "{err}"
        );
    }
}

#[test]
fn a_stall_is_measured_from_the_last_frame_taken() {
    let start = Instant::now();
    let l = limits(20, 120);
    let mut p = Progress::new(10 * FRAME, start);
    assert_eq!(p.overdue(l, start + Duration::from_secs(19)), None);
    assert!(p
        .overdue(l, start + Duration::from_secs(20))
        .unwrap()
        .contains("0 of 655360 bytes sent"));
    p.sent = 5 * FRAME;
    p.moved = start + Duration::from_secs(15);
    assert_eq!(p.overdue(l, start + Duration::from_secs(34)), None);
    p.sent = 10 * FRAME;
    assert_eq!(p.overdue(l, start + Duration::from_secs(134)), None);
    assert!(p
        .overdue(l, start + Duration::from_secs(135))
        .unwrap()
        .contains("no answer within 120 s"));
    // A small body goes in one piece: only the answer is waited for.
    let small = Progress::new(100, start);
    assert!(small.done());
}
