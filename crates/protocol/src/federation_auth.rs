//! Request authentication between servers: the `X-Matrix` scheme
//! (<https://spec.matrix.org/v1.16/server-server-api/#request-authentication>).
//!
//! Events carry their own signatures, but a *request* needs one too: "give
//! me the events before `$x`" or "here is a transaction" must come from the
//! server it claims to come from, or anyone could ask a server for a
//! private room's history, or inject events under a peer's name.
//!
//! So the sending server wraps what identifies the request in a JSON object,
//!
//! ```text
//! {"method": "POST", "uri": "/_matrix/federation/v1/get_missing_events/!r:b.lab",
//!  "origin": "a.lab", "destination": "b.lab", "content": {…the parsed body…}}
//! ```
//!
//! signs it like any other JSON, and sends the signature in a header:
//!
//! ```text
//! Authorization: X-Matrix origin="a.lab",destination="b.lab",key="ed25519:1",sig="…"
//! ```
//!
//! The receiver rebuilds the same object from what it received (its own
//! name as the destination) and checks the signature with the origin's
//! published key. Changing the method, the path, the query, the body, the
//! origin or the destination changes the signed bytes, so the signature
//! fails. The signature does *not* cover time: replay protection is TLS's
//! job in real Matrix (and absent in our plain-HTTP classroom setup).

use crate::JsonObject;
use crate::ids::{IdError, KeyId, ServerName};
use crate::signing::{SignatureError, SigningKey, VerifyKey, sign_json, verify_json};
use serde_json::Value;
use std::fmt;

/// Why an `Authorization` header is not a usable `X-Matrix` header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XMatrixError {
    #[error("the Authorization header does not use the X-Matrix scheme")]
    NotXMatrix,
    #[error("the X-Matrix header is malformed: {0}")]
    Malformed(String),
    #[error("the X-Matrix header has no `{0}` parameter")]
    MissingParameter(&'static str),
    #[error("the X-Matrix header's `{parameter}` is invalid: {error}")]
    InvalidParameter {
        parameter: &'static str,
        error: IdError,
    },
}

/// The parameters of an `Authorization: X-Matrix …` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XMatrix {
    /// Who signed the request.
    pub origin: ServerName,
    /// Whom it was meant for. Required since spec v1.3, but older servers
    /// leave it out, so a receiver must tolerate its absence.
    pub destination: Option<ServerName>,
    /// Which of the origin's keys signed it.
    pub key_id: KeyId,
    /// The unpadded base64 signature.
    pub signature: String,
}

/// The JSON object a request signature covers. `content` is the parsed
/// body, left out when the request has none (a GET).
pub fn request_json(
    method: &str,
    uri: &str,
    origin: &ServerName,
    destination: &ServerName,
    content: Option<&Value>,
) -> JsonObject {
    let mut object = JsonObject::new();
    object.insert("method".into(), Value::String(method.to_owned()));
    object.insert("uri".into(), Value::String(uri.to_owned()));
    object.insert("origin".into(), Value::String(origin.to_string()));
    object.insert("destination".into(), Value::String(destination.to_string()));
    if let Some(content) = content {
        object.insert("content".into(), content.clone());
    }
    object
}

/// Signs a request from `key`'s server to `destination`. `uri` is the path
/// and query exactly as they will be sent (`/_matrix/…?a=b`).
pub fn sign_request(
    key: &SigningKey,
    method: &str,
    uri: &str,
    destination: &ServerName,
    content: Option<&Value>,
) -> Result<XMatrix, SignatureError> {
    let origin = key.server_name();
    let mut object = request_json(method, uri, &origin, destination, content);
    sign_json(&mut object, key)?;
    let signature = object
        .get("signatures")
        .and_then(|s| s.get(origin.as_str()))
        .and_then(|s| s.get(key.key_id().as_str()))
        .and_then(Value::as_str)
        .ok_or(SignatureError::MalformedSignatures)?
        .to_owned();
    Ok(XMatrix {
        origin,
        destination: Some(destination.clone()),
        key_id: key.key_id().clone(),
        signature,
    })
}

/// Checks `header`'s signature over the request as the receiver saw it.
/// `destination` is the receiver's own name: if the header omitted it, the
/// sender must still have signed it.
pub fn verify_request(
    header: &XMatrix,
    method: &str,
    uri: &str,
    destination: &ServerName,
    content: Option<&Value>,
    key: &VerifyKey,
) -> Result<(), SignatureError> {
    let mut object = request_json(method, uri, &header.origin, destination, content);
    let mut by_key = JsonObject::new();
    by_key.insert(
        header.key_id.to_string(),
        Value::String(header.signature.clone()),
    );
    let mut signatures = JsonObject::new();
    signatures.insert(header.origin.to_string(), Value::Object(by_key));
    object.insert("signatures".into(), Value::Object(signatures));
    verify_json(&object, header.origin.as_str(), &header.key_id, key)
}

impl XMatrix {
    /// Parses the value of an `Authorization` header. Following RFC 9110
    /// (as the spec asks): the scheme is case-insensitive; parameter names
    /// are case-insensitive and in any order; values may be quoted (with
    /// backslash escapes) or bare, and bare values may contain colons;
    /// spaces and tabs around commas are allowed; unknown parameters are
    /// ignored.
    pub fn parse(header: &str) -> Result<Self, XMatrixError> {
        let header = header.trim();
        let (scheme, rest) = header.split_once([' ', '\t']).unwrap_or((header, ""));
        if !scheme.eq_ignore_ascii_case("X-Matrix") {
            return Err(XMatrixError::NotXMatrix);
        }
        let (mut origin, mut destination, mut key, mut sig) = (None, None, None, None);
        for (name, value) in parameters(rest)? {
            let slot = match name.to_ascii_lowercase().as_str() {
                "origin" => &mut origin,
                "destination" => &mut destination,
                "key" => &mut key,
                "sig" => &mut sig,
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(XMatrixError::Malformed(format!("`{name}` appears twice")));
            }
        }
        let invalid = |parameter| move |error| XMatrixError::InvalidParameter { parameter, error };
        Ok(Self {
            origin: origin
                .ok_or(XMatrixError::MissingParameter("origin"))?
                .parse()
                .map_err(invalid("origin"))?,
            destination: destination
                .map(|d| d.parse())
                .transpose()
                .map_err(invalid("destination"))?,
            key_id: key
                .ok_or(XMatrixError::MissingParameter("key"))?
                .parse()
                .map_err(invalid("key"))?,
            signature: sig.ok_or(XMatrixError::MissingParameter("sig"))?,
        })
    }
}

/// Writes the header value the way the spec asks senders to: one space,
/// lower-case names, quoted values, no spaces around commas.
impl fmt::Display for XMatrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "X-Matrix origin=\"{}\"", self.origin)?;
        if let Some(destination) = &self.destination {
            write!(f, ",destination=\"{destination}\"")?;
        }
        write!(f, ",key=\"{}\",sig=\"{}\"", self.key_id, self.signature)
    }
}

/// Splits `name=value, name="quoted \"value\""` into pairs.
fn parameters(text: &str) -> Result<Vec<(String, String)>, XMatrixError> {
    let malformed = |reason: &str| XMatrixError::Malformed(reason.to_owned());
    let mut pairs = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| matches!(c, ' ' | '\t' | ',')).is_some() {}
        if chars.peek().is_none() {
            return Ok(pairs);
        }
        let name: String =
            std::iter::from_fn(|| chars.next_if(|&c| c != '=' && c != ',')).collect();
        let name = name.trim().to_owned();
        if chars.next() != Some('=') || name.is_empty() {
            return Err(malformed("expected name=value pairs"));
        }
        while chars.next_if(|c| matches!(c, ' ' | '\t')).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => value.push(
                        chars
                            .next()
                            .ok_or_else(|| malformed("a backslash ends the header"))?,
                    ),
                    Some(c) => value.push(c),
                    None => return Err(malformed("a quoted value is not closed")),
                }
            }
            while chars.next_if(|c| matches!(c, ' ' | '\t')).is_some() {}
            if chars.peek().is_some_and(|&c| c != ',') {
                return Err(malformed("expected a comma after a quoted value"));
            }
        } else {
            value = std::iter::from_fn(|| chars.next_if(|&c| c != ',')).collect();
            value = value.trim().to_owned();
        }
        pairs.push((name, value));
    }
}

#[cfg(test)]
mod tests;
