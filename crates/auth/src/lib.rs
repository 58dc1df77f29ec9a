//! JWT verification for the example API: compact JWS tokens signed with EdDSA
//! (Ed25519), checked against a JWKS file that the `jwks` layer ships.
//!
//! On Lambda a layer's files are extracted under `/opt`; `ferry serve` extracts
//! them elsewhere and says where in `FERRY_OPT_DIR`, so [`Jwks::from_layer`]
//! finds the keys in both places without configuration.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

/// Where the `jwks` layer puts its key set, relative to the layer root (`/opt`).
pub const JWKS_LAYER_PATH: &str = "ferry/jwks/jwks.json";

/// Why a token was refused or the key set could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token")]
    MissingToken,
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    #[error("unknown signing key `{0}`")]
    UnknownKey(String),
    #[error("bad signature")]
    BadSignature,
    #[error("token expired")]
    Expired,
    #[error("cannot read key set {path}: {reason}")]
    KeySet { path: PathBuf, reason: String },
}

/// The claims the example API reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    crv: Option<String>,
    kid: String,
    x: Option<String>,
}

/// The verifying keys of a JWKS document (only Ed25519 `OKP` keys are kept).
pub struct Jwks {
    keys: Vec<(String, VerifyingKey)>,
}

impl Jwks {
    /// Reads the key set from the `jwks` layer: `$FERRY_OPT_DIR` when set, else `/opt`.
    pub fn from_layer() -> Result<Self, AuthError> {
        let root = std::env::var_os("FERRY_OPT_DIR").unwrap_or_else(|| "/opt".into());
        Self::from_file(&Path::new(&root).join(JWKS_LAYER_PATH))
    }

    pub fn from_file(path: &Path) -> Result<Self, AuthError> {
        let key_set = |reason: String| AuthError::KeySet {
            path: path.to_owned(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| key_set(e.to_string()))?;
        Self::from_json(&text).map_err(|e| key_set(e.to_string()))
    }

    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        let set: JwkSet = serde_json::from_str(text)?;
        let keys = set
            .keys
            .into_iter()
            .filter(|k| k.kty == "OKP" && k.crv.as_deref() == Some("Ed25519"))
            .filter_map(|k| {
                let raw = URL_SAFE_NO_PAD.decode(k.x?).ok()?;
                let bytes: [u8; 32] = raw.try_into().ok()?;
                Some((k.kid, VerifyingKey::from_bytes(&bytes).ok()?))
            })
            .collect();
        Ok(Self { keys })
    }

    /// Verifies `token` and returns its claims.
    pub fn verify(&self, token: &str, now: SystemTime) -> Result<Claims, AuthError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::Malformed("expected three dot-separated parts"));
        };
        let header: Header = decode_json(header)?;
        if header.alg != "EdDSA" {
            return Err(AuthError::Malformed("alg must be EdDSA"));
        }
        let kid = header
            .kid
            .ok_or(AuthError::Malformed("header has no kid"))?;
        let key = self
            .keys
            .iter()
            .find(|(id, _)| *id == kid)
            .map(|(_, key)| key)
            .ok_or_else(|| AuthError::UnknownKey(kid.clone()))?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .ok()
            .and_then(|raw| Signature::from_slice(&raw).ok())
            .ok_or(AuthError::Malformed("signature is not base64url Ed25519"))?;
        let signed = &token[..header_and_payload_len(token)];
        key.verify(signed.as_bytes(), &signature)
            .map_err(|_| AuthError::BadSignature)?;
        let claims: Claims = decode_json(payload)?;
        let now = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if claims.exp <= now {
            return Err(AuthError::Expired);
        }
        Ok(claims)
    }
}

/// Extracts the token from an `Authorization: Bearer <token>` header value.
pub fn bearer(header: Option<&str>) -> Result<&str, AuthError> {
    header
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::MissingToken)
}

/// Signs `claims` with a 32-byte Ed25519 seed; used by tests and local tooling
/// to mint tokens that the `jwks` layer's key verifies.
pub fn sign(seed: &[u8; 32], kid: &str, claims: &Claims) -> String {
    let header = serde_json::json!({ "alg": "EdDSA", "typ": "JWT", "kid": kid });
    let encode = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let claims = serde_json::to_value(claims).expect("claims serialize");
    let signed = format!("{}.{}", encode(&header), encode(&claims));
    let signature = SigningKey::from_bytes(seed).sign(signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

fn header_and_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(token.len())
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, AuthError> {
    let raw = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| AuthError::Malformed("part is not base64url"))?;
    serde_json::from_slice(&raw).map_err(|_| AuthError::Malformed("part is not the expected JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn dev_seed() -> [u8; 32] {
        let hex = include_str!("../testdata/dev-signing-key.hex").trim();
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        bytes.try_into().unwrap()
    }

    fn layer_keys() -> Jwks {
        Jwks::from_json(include_str!("../../../layers/jwks/keys/jwks.json")).unwrap()
    }

    fn claims(exp: u64) -> Claims {
        Claims {
            sub: "alice".into(),
            exp,
        }
    }

    #[test]
    fn dev_key_matches_the_layer_key_set() {
        let token = sign(&dev_seed(), "dev-1", &claims(2_000_000_000));
        let now = UNIX_EPOCH + Duration::from_secs(1_900_000_000);
        assert_eq!(layer_keys().verify(&token, now).unwrap().sub, "alice");
    }

    #[test]
    fn refuses_expired_tampered_and_unknown_keys() {
        let now = UNIX_EPOCH + Duration::from_secs(1_900_000_000);
        let keys = layer_keys();
        let expired = sign(&dev_seed(), "dev-1", &claims(1));
        assert!(matches!(
            keys.verify(&expired, now),
            Err(AuthError::Expired)
        ));
        let other = sign(&dev_seed(), "other", &claims(2_000_000_000));
        assert!(matches!(
            keys.verify(&other, now),
            Err(AuthError::UnknownKey(_))
        ));
        let good = sign(&dev_seed(), "dev-1", &claims(2_000_000_000));
        let forged = sign(&[7; 32], "dev-1", &claims(2_000_000_000));
        let spliced = format!(
            "{}.{}",
            &good[..good.rfind('.').unwrap()],
            &forged[forged.rfind('.').unwrap() + 1..]
        );
        assert!(matches!(
            keys.verify(&spliced, now),
            Err(AuthError::BadSignature)
        ));
        assert!(matches!(
            keys.verify("a.b", now),
            Err(AuthError::Malformed(_))
        ));
    }

    #[test]
    fn bearer_header_parsing() {
        assert_eq!(bearer(Some("Bearer abc")).unwrap(), "abc");
        assert!(matches!(
            bearer(Some("Basic abc")),
            Err(AuthError::MissingToken)
        ));
        assert!(matches!(bearer(None), Err(AuthError::MissingToken)));
    }
}
