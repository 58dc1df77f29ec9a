//! The API Gateway REST (payload v1) proxy event a deployed stage sends, built
//! from a local HTTP request, and the proxy response turned back into HTTP.
//! Pure and unit-tested; `serve` uses it for every request.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{json, Map, Value};

/// The parts of an HTTP request the event is made of.
pub struct RequestParts<'a> {
    pub method: &'a str,
    /// The path without the query string, as received (percent-encoded).
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// Header names lower-cased, in arrival order, repeated names kept.
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
    pub source_ip: String,
}

/// Where the request goes: the matched resource and the stage serving it.
pub struct Target<'a> {
    pub resource: String,
    pub path_params: &'a BTreeMap<String, String>,
    pub stage: &'a str,
    pub request_id: &'a str,
    pub api_id: &'a str,
    pub account_id: &'a str,
    pub binary_media_types: &'a [String],
    pub time_epoch_ms: u128,
}

pub fn build(request: &RequestParts<'_>, target: &Target<'_>) -> Value {
    let mut headers = Map::new();
    let mut multi_headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &request.headers {
        headers.insert(name.clone(), json!(value));
        multi_headers
            .entry(name.clone())
            .or_default()
            .push(value.clone());
    }
    let mut query = Map::new();
    let mut multi_query: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pair in request
        .query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (key, value) = (percent_decode(key), percent_decode(value));
        query.insert(key.clone(), json!(value));
        multi_query.entry(key).or_default().push(value);
    }
    let content_type = request
        .headers
        .iter()
        .find(|(n, _)| n == "content-type")
        .map(|(_, v)| v.as_str());
    let (body, is_base64) = encode_body(request.body, content_type, target.binary_media_types);
    let path = percent_decode(request.path);
    let null_if_empty = |m: Map<String, Value>| {
        if m.is_empty() {
            Value::Null
        } else {
            Value::Object(m)
        }
    };
    let path_params: Map<String, Value> = target
        .path_params
        .iter()
        .map(|(k, v)| (k.clone(), json!(percent_decode(v))))
        .collect();
    json!({
        "resource": target.resource,
        "path": path,
        "httpMethod": request.method,
        "headers": null_if_empty(headers),
        "multiValueHeaders": if multi_headers.is_empty() { Value::Null } else { json!(multi_headers) },
        "queryStringParameters": null_if_empty(query),
        "multiValueQueryStringParameters": if multi_query.is_empty() { Value::Null } else { json!(multi_query) },
        "pathParameters": null_if_empty(path_params),
        "stageVariables": Value::Null,
        "requestContext": {
            "accountId": target.account_id,
            "apiId": target.api_id,
            "resourceId": "local",
            "resourcePath": target.resource,
            "httpMethod": request.method,
            "path": format!("/{}{}", target.stage, path),
            "protocol": "HTTP/1.1",
            "stage": target.stage,
            "requestId": target.request_id,
            "extendedRequestId": target.request_id,
            "requestTimeEpoch": target.time_epoch_ms as u64,
            "domainName": "localhost",
            "identity": {
                "sourceIp": request.source_ip,
                "userAgent": request.headers.iter().find(|(n, _)| n == "user-agent").map(|(_, v)| v.clone()),
            },
        },
        "body": body,
        "isBase64Encoded": is_base64,
    })
}

/// API Gateway base64-encodes a body whose content type is a binary media
/// type; ferry also does so for any body that is not UTF-8, which API Gateway
/// would corrupt.
fn encode_body(body: &[u8], content_type: Option<&str>, binary_types: &[String]) -> (Value, bool) {
    if body.is_empty() {
        return (Value::Null, false);
    }
    let binary_type =
        content_type.is_some_and(|ct| binary_types.iter().any(|t| media_type_matches(t, ct)));
    match std::str::from_utf8(body) {
        Ok(text) if !binary_type => (json!(text), false),
        _ => (
            json!(base64::engine::general_purpose::STANDARD.encode(body)),
            true,
        ),
    }
}

fn media_type_matches(pattern: &str, content_type: &str) -> bool {
    let content_type = content_type.split(';').next().unwrap_or("").trim();
    match pattern.split_once('/') {
        _ if pattern == "*/*" => true,
        Some((kind, "*")) => content_type.split('/').next() == Some(kind),
        _ => pattern.eq_ignore_ascii_case(content_type),
    }
}

/// Decodes `%XX` escapes; malformed escapes are kept as they are.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A proxy response, ready to become an HTTP response.
#[derive(Debug, PartialEq, Eq)]
pub struct ProxyResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Reads the function's proxy response; `Err` is what API Gateway treats as a
/// malformed Lambda proxy response (502).
pub fn parse_response(payload: &[u8]) -> Result<ProxyResponse, String> {
    let value: Value =
        serde_json::from_slice(payload).map_err(|e| format!("response is not JSON: {e}"))?;
    let object = value.as_object().ok_or("response is not a JSON object")?;
    let status = object
        .get("statusCode")
        .and_then(Value::as_u64)
        .unwrap_or(200);
    let status = u16::try_from(status)
        .ok()
        .filter(|s| (100..600).contains(s))
        .ok_or("statusCode is out of range")?;
    let mut headers = Vec::new();
    if let Some(map) = object.get("multiValueHeaders").and_then(Value::as_object) {
        for (name, values) in map {
            for value in values.as_array().into_iter().flatten() {
                headers.push((name.clone(), scalar(value)?));
            }
        }
    }
    if let Some(map) = object.get("headers").and_then(Value::as_object) {
        for (name, value) in map {
            if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                headers.push((name.clone(), scalar(value)?));
            }
        }
    }
    let body = match object.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(text))
            if object.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) =>
        {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| "body is not valid base64")?
        }
        Some(Value::String(text)) => text.clone().into_bytes(),
        Some(_) => return Err("body is not a string".into()),
    };
    Ok(ProxyResponse {
        status,
        headers,
        body,
    })
}

fn scalar(value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err("a header value is not a string".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target<'a>(params: &'a BTreeMap<String, String>, binary: &'a [String]) -> Target<'a> {
        Target {
            resource: "/items/{id}".into(),
            path_params: params,
            stage: "test",
            request_id: "r-1",
            api_id: "local",
            account_id: "123456789012",
            binary_media_types: binary,
            time_epoch_ms: 0,
        }
    }

    #[test]
    fn event_has_the_rest_v1_shape() {
        let params = BTreeMap::from([("id".to_owned(), "a%20b".to_owned())]);
        let request = RequestParts {
            method: "GET",
            path: "/items/a%20b",
            query: Some("tag=x&tag=y%21&limit=2"),
            headers: vec![
                ("accept".into(), "a".into()),
                ("x-many".into(), "1".into()),
                ("x-many".into(), "2".into()),
            ],
            body: b"",
            source_ip: "127.0.0.1".into(),
        };
        let event = build(&request, &target(&params, &[]));
        assert_eq!(event["path"], "/items/a b");
        assert_eq!(event["pathParameters"]["id"], "a b");
        assert_eq!(event["queryStringParameters"]["tag"], "y!");
        assert_eq!(
            event["multiValueQueryStringParameters"]["tag"],
            json!(["x", "y!"])
        );
        assert_eq!(event["multiValueHeaders"]["x-many"], json!(["1", "2"]));
        assert_eq!(event["headers"]["x-many"], "2");
        assert_eq!(event["requestContext"]["path"], "/test/items/a b");
        assert_eq!(event["requestContext"]["identity"]["sourceIp"], "127.0.0.1");
        assert_eq!(event["body"], Value::Null);
        assert_eq!(event["stageVariables"], Value::Null);
    }

    #[test]
    fn binary_bodies_are_base64() {
        let params = BTreeMap::new();
        let binary = vec!["application/octet-stream".to_owned()];
        let mut request = RequestParts {
            method: "POST",
            path: "/x",
            query: None,
            headers: vec![],
            body: &[0xff, 0, 1],
            source_ip: String::new(),
        };
        assert_eq!(
            build(&request, &target(&params, &[]))["isBase64Encoded"],
            true
        );
        request.body = b"text";
        request.headers = vec![("content-type".into(), "application/octet-stream".into())];
        let event = build(&request, &target(&params, &binary));
        assert_eq!(
            (event["body"].as_str(), event["isBase64Encoded"].as_bool()),
            (Some("dGV4dA=="), Some(true))
        );
        request.headers = vec![("content-type".into(), "application/json".into())];
        assert_eq!(build(&request, &target(&params, &binary))["body"], "text");
    }

    #[test]
    fn responses_parse_or_are_malformed() {
        let ok = parse_response(br#"{"statusCode":201,"headers":{"a":"1"},"multiValueHeaders":{"b":["x","y"]},"body":"hi"}"#).unwrap();
        assert_eq!(ok.status, 201);
        assert_eq!(ok.body, b"hi");
        assert_eq!(ok.headers.len(), 3);
        let binary =
            parse_response(br#"{"statusCode":200,"body":"AAE=","isBase64Encoded":true}"#).unwrap();
        assert_eq!(binary.body, [0, 1]);
        assert!(parse_response(b"not json").is_err());
        assert!(parse_response(br#"{"statusCode":999}"#).is_err());
        assert!(parse_response(br#"{"body":{"a":1}}"#).is_err());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Fb%zz%4"), "a/b%zz%4");
    }
}
