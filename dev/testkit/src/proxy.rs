//! A recording proxy between a deploy tool and moto: every request passes
//! through it, so the tests and the deploy benchmark count reads, writes and
//! uploaded bytes where they cannot be missed. A call is a write unless its action reads (Get/List/Describe/Filter,
//! STS AssumeRole, or an HTTP GET/HEAD of a REST API).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use crate::faults::{answer, Fault, FaultPlan};

#[derive(Debug, Clone)]
pub struct Call {
    /// `service:Action` for JSON and query APIs, `service:METHOD /path` for REST.
    pub name: String,
    pub write: bool,
    pub bytes: usize,
}

#[derive(Clone)]
pub struct Proxy {
    pub port: u16,
    calls: Arc<Mutex<Vec<Call>>>,
    faults: Arc<Mutex<FaultPlan>>,
}

impl Proxy {
    pub fn start(upstream: u16) -> std::io::Result<Proxy> {
        let listener = listener()?;
        let port = listener.local_addr()?.port();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let faults = Arc::new(Mutex::new(FaultPlan::default()));
        let (recorded, planned) = (calls.clone(), faults.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (recorded, planned) = (recorded.clone(), planned.clone());
                std::thread::spawn(move || serve(client, upstream, &recorded, &planned));
            }
        });
        Ok(Proxy {
            port,
            calls,
            faults,
        })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Reads or changes the fault plan (none by default).
    pub fn faults<R>(&self, f: impl FnOnce(&mut FaultPlan) -> R) -> R {
        f(&mut self.faults.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Forgets what was recorded so far.
    pub fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.calls.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// A loopback listener whose connections buffer at most 256 KiB unread, as
/// a server does, so that an upload it stops reading stalls at the client.
fn listener() -> std::io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.set_recv_buffer_size(256 * 1024)?;
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], 0).into();
    socket.bind(&addr.into())?;
    socket.listen(128)?;
    Ok(socket.into())
}

/// The writes among `calls`, the deploy lock's included.
pub fn writes(calls: &[Call]) -> Vec<String> {
    calls
        .iter()
        .filter(|c| c.write)
        .map(|c| c.name.clone())
        .collect()
}

/// The writes to the stage's resources: [`writes`] without the deploy
/// lock's (`lock:CreateLogGroup`, `lock:DeleteLogGroup`).
pub fn stage_writes(calls: &[Call]) -> Vec<String> {
    writes(calls)
        .into_iter()
        .filter(|w| !w.starts_with("lock:"))
        .collect()
}

fn serve(client: TcpStream, upstream: u16, calls: &Mutex<Vec<Call>>, faults: &Mutex<FaultPlan>) {
    let Ok(read_half) = client.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut client = client;
    // One request after another on a keep-alive connection, until it closes.
    loop {
        let mut head = Vec::new();
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            headers.push(line);
        }
        let header = |name: &str| {
            headers.iter().find_map(|h| {
                let (k, v) = h.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
            })
        };
        let length: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        // A large upload is named from its first half, and may stall there.
        let half = if length > UPLOAD { length / 2 } else { 0 };
        if reader.read_exact(&mut body[..half]).is_err() {
            return;
        }
        if half > 0 {
            let name = classify(&request_line, &header, &body[..half]).name;
            let stall = faults
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .upload_stall(&name);
            if stall {
                std::thread::sleep(UPLOAD_STALL);
                return;
            }
        }
        if reader.read_exact(&mut body[half..]).is_err() {
            return;
        }
        let call = classify(&request_line, &header, &body);
        let fault = faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .next_for(&call.name, call.write);
        if let Some(fault) = fault.filter(|f| !f.forwards()) {
            let json = header("x-amz-target").is_some();
            let service = call.name.split(':').next().unwrap_or_default();
            let rest_json = matches!(service, "lambda" | "apigateway");
            if answer(&mut client, fault, json, rest_json) {
                continue;
            }
            return;
        }
        calls.lock().unwrap().push(call);
        head.extend_from_slice(request_line.as_bytes());
        for h in &headers {
            let name = h.split(':').next().unwrap_or_default().to_ascii_lowercase();
            if name != "connection" {
                head.extend_from_slice(h.as_bytes());
            }
        }
        head.extend_from_slice(b"connection: close\r\n\r\n");
        let Ok(mut up) = TcpStream::connect(("127.0.0.1", upstream)) else {
            return;
        };
        if up
            .write_all(&head)
            .and_then(|_| up.write_all(&body))
            .is_err()
        {
            return;
        }
        let mut response = Vec::new();
        if up.read_to_end(&mut response).is_err() || fault == Some(Fault::LoseResponse) {
            return;
        }
        let response = normalise(response);
        if fault == Some(Fault::StallBody) {
            stall(&mut client, &response);
            return;
        }
        if client.write_all(&response).is_err() {
            return;
        }
    }
}

/// Bodies larger than this are uploads that may stall halfway.
const UPLOAD: usize = 64 * 1024;
/// How long a stalled upload is held, unread, before the proxy closes it:
/// longer than the limits the fault tests give ferry (FERRY_STALL_SECS,
/// FERRY_ANSWER_SECS).
const UPLOAD_STALL: std::time::Duration = std::time::Duration::from_secs(30);

/// How long a stalled response hangs before the proxy closes it: longer
/// than the SDK's stalled-stream protection waits (5 s grace, 1 s window).
const STALL: std::time::Duration = std::time::Duration::from_secs(10);

/// Sends the head and half the body of `response`, then nothing for
/// [`STALL`], then closes the connection.
fn stall(client: &mut TcpStream, response: &[u8]) {
    let head_end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(response.len(), |p| p + 4);
    // Half the body; with no body, half the head.
    let half = if response.len() > head_end {
        head_end + (response.len() - head_end) / 2
    } else {
        head_end / 2
    };
    if client.write_all(&response[..half]).is_ok() && client.flush().is_ok() {
        std::thread::sleep(STALL);
    }
}

/// The upstream response with a Content-Length (moto may close instead), so
/// the client's connection can carry the next request.
fn normalise(response: Vec<u8>) -> Vec<u8> {
    let Some(split) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return response;
    };
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let mut body = response[split + 4..].to_vec();
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    if chunked {
        body = dechunk(&body);
    }
    let mut out = String::new();
    for (i, line) in head.split("\r\n").enumerate() {
        let lower = line.to_ascii_lowercase();
        if i > 0
            && (lower.starts_with("content-length:")
                || lower.starts_with("transfer-encoding:")
                || lower.starts_with("connection:"))
        {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: keep-alive\r\n\r\n",
        body.len()
    ));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&body);
    bytes
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = end + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}

fn classify(request_line: &str, header: &dyn Fn(&str) -> Option<String>, body: &[u8]) -> Call {
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts
        .next()
        .unwrap_or_default()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    // SigV4: Credential=KEY/DATE/REGION/SERVICE/aws4_request
    let service = header("authorization")
        .and_then(|a| {
            a.split("Credential=")
                .nth(1)
                .and_then(|c| c.split('/').nth(3).map(str::to_owned))
        })
        .unwrap_or_else(|| "?".into());
    let action = header("x-amz-target")
        .map(|t| t.rsplit('.').next().unwrap_or_default().to_owned())
        .or_else(|| {
            String::from_utf8_lossy(body)
                .split('&')
                .find_map(|kv| kv.strip_prefix("Action=").map(str::to_owned))
        });
    // ferry's deploy lock is a log group under /ferry/lock/: named apart,
    // so that tests can tell the lock's writes from the stage's.
    let service = if service == "logs" && String::from_utf8_lossy(body).contains("/ferry/lock/") {
        "lock".to_owned()
    } else {
        service
    };
    let (name, write) = match action {
        Some(action) => {
            // Assuming a role changes nothing in the account: credentials.
            let read = ["Get", "List", "Describe", "Filter"]
                .iter()
                .any(|p| action.starts_with(p))
                || (service == "sts" && action == "AssumeRole");
            (format!("{service}:{action}"), !read)
        }
        None => (
            format!("{service}:{method} {path}"),
            !(method == "GET" || method == "HEAD"),
        ),
    };
    Call {
        name,
        write,
        bytes: body.len(),
    }
}
