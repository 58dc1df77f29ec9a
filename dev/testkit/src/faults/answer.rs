//! What the proxy sends back for a fault it answers itself: each AWS
//! protocol's error format for the well-formed faults, the odd bodies of
//! gateways and proxies for the others.

use std::io::Write;
use std::net::TcpStream;

use super::Fault;

/// Answers `fault` on `client`; `false` means the connection is closed.
/// `json` says whether the request used a JSON protocol (the error body
/// must be one the SDK parses to classify the error as retryable).
pub fn answer(client: &mut TcpStream, fault: Fault, json: bool, rest_json: bool) -> bool {
    let (status, code, extra) = match fault {
        Fault::Drop | Fault::LoseResponse | Fault::StallBody | Fault::StallUpload => return false,
        Fault::ServerError => (
            "500 Internal Server Error",
            "InternalFailure",
            String::new(),
        ),
        Fault::Throttle => (
            "429 Too Many Requests",
            "ThrottlingException",
            String::new(),
        ),
        Fault::OddThrottle(n) => {
            let (content_type, body) = match n % 4 {
                0 => ("text/plain", String::new()),
                1 => (
                    "text/html",
                    "<html><body><h1>429 Too Many Requests</h1></body></html>".to_owned(),
                ),
                2 => (
                    "application/json",
                    r#"{"message":"Too Many Requests"}"#.to_owned(),
                ),
                _ => (
                    "text/xml",
                    "<Error><Code>SlowDown</Code></Error>".to_owned(),
                ),
            };
            let retry_after = if n % 2 == 1 { "retry-after: 1\r\n" } else { "" };
            return raw(
                client,
                "429 Too Many Requests",
                content_type,
                retry_after,
                &body,
            );
        }
        Fault::GatewayError(n) => {
            let status = if n % 2 == 0 {
                "502 Bad Gateway"
            } else {
                "503 Service Unavailable"
            };
            let body =
                format!("<html><head><title>{status}</title></head><body>{status}</body></html>");
            return raw(client, status, "text/html", "", &body);
        }
        Fault::ExpiredToken => {
            let code = if json || rest_json {
                "ExpiredTokenException"
            } else {
                "ExpiredToken"
            };
            ("403 Forbidden", code, String::new())
        }
        Fault::Skew => {
            let ahead =
                httpdate(std::time::SystemTime::now() + std::time::Duration::from_secs(600));
            let code = if json || rest_json {
                "InvalidSignatureException"
            } else {
                "SignatureDoesNotMatch"
            };
            ("403 Forbidden", code, format!("date: {ahead}\r\n"))
        }
    };
    let message = match fault {
        Fault::Skew => {
            "Signature expired: the request's time is now earlier than the server's minus 5 min"
        }
        Fault::ExpiredToken => "The security token included in the request is expired",
        _ => "injected by ferry's test proxy",
    };
    let (content_type, body) = if json {
        (
            "application/x-amz-json-1.1",
            format!(r#"{{"__type":"{code}","message":"{message}"}}"#),
        )
    } else if rest_json {
        ("application/json", format!(r#"{{"message":"{message}"}}"#))
    } else {
        let code = if code == "ThrottlingException" {
            "Throttling"
        } else {
            code
        };
        (
            "text/xml",
            format!("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>ferry-fault</RequestId></ErrorResponse>"),
        )
    };
    let headers = format!("x-amzn-errortype: {code}\r\nx-amzn-requestid: ferry-fault\r\n{extra}");
    raw(client, status, content_type, &headers, &body)
}

fn raw(
    client: &mut TcpStream,
    status: &str,
    content_type: &str,
    headers: &str,
    body: &str,
) -> bool {
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\n{headers}content-length: {}\r\nconnection: keep-alive\r\n\r\n",
        body.len()
    );
    client.write_all(head.as_bytes()).is_ok() && client.write_all(body.as_bytes()).is_ok()
}

/// `SystemTime` as an HTTP date (`Tue, 14 Nov 2023 22:13:20 GMT`).
fn httpdate(at: std::time::SystemTime) -> String {
    aws_smithy_types::DateTime::from(at)
        .fmt(aws_smithy_types::date_time::Format::HttpDate)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn http_dates_are_written_as_servers_write_them() {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        assert_eq!(httpdate(at), "Tue, 14 Nov 2023 22:13:20 GMT");
        assert_eq!(
            httpdate(std::time::UNIX_EPOCH),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }
}
