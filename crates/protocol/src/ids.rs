//! Matrix identifiers: who (`@user:server`), where (`!room:server`,
//! `#alias:server`), what (`$event`), and which key (`ed25519:1`).
//!
//! Every identifier is a sigil, a local part and, except for room v4+ event
//! IDs, the name of the server that minted it
//! (<https://spec.matrix.org/v1.16/appendices/#identifier-grammar>). The
//! server part matters for this project: it is how a server knows which
//! rooms and users it is the authority for, and whom to ask about the rest.
//!
//! Parsing is strict where the spec is strict and says what is wrong, so a
//! student who mistypes `@alice` gets "missing ':server_name'", not a panic.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// The spec's length limit for every identifier, in bytes, sigil included.
pub const MAX_ID_LENGTH: usize = 255;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("identifier is empty")]
    Empty,
    #[error("{kind} must start with '{sigil}', got {got:?}")]
    MissingSigil {
        kind: &'static str,
        sigil: char,
        got: String,
    },
    #[error("{kind} {got:?} is missing ':server_name'")]
    MissingServerName { kind: &'static str, got: String },
    #[error("{kind} {got:?} has an empty local part")]
    EmptyLocalpart { kind: &'static str, got: String },
    #[error("{kind} local part {localpart:?} contains {bad:?}, which is not allowed")]
    InvalidLocalpart {
        kind: &'static str,
        localpart: String,
        bad: char,
    },
    #[error("{kind} is {len} bytes long; the limit is 255")]
    TooLong { kind: &'static str, len: usize },
    #[error("server name {got:?} is invalid: {reason}")]
    InvalidServerName { got: String, reason: &'static str },
    #[error("key ID {got:?} is invalid: {reason}")]
    InvalidKeyId { got: String, reason: &'static str },
}

/// Declares a validated string newtype with the usual conversions.
///
/// One macro for the boilerplate (Display, FromStr, serde, `as_str`) so that
/// each identifier below shows only what is particular to it: its rules.
macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $validate:path) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The identifier as the spec writes it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(text: &str) -> Result<Self, IdError> {
                $validate(text)?;
                Ok(Self(text.to_owned()))
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(text: String) -> Result<Self, IdError> {
                $validate(&text)?;
                Ok(Self(text))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Self::try_from(text).map_err(serde::de::Error::custom)
            }
        }
    };
}

string_id!(
    /// A server name: a DNS name, an IPv4 address or a bracketed IPv6
    /// address, with an optional port (`tomesh.lab`, `127.0.0.1:8448`).
    ServerName,
    validate_server_name
);
string_id!(
    /// `@localpart:server_name`. Parsing accepts the historical local parts
    /// that old servers minted; [`UserId::is_valid_for_registration`] applies
    /// the stricter rule for new accounts.
    UserId,
    validate_user_id
);
string_id!(
    /// `!opaque:server_name`. The server part names the room's creator's
    /// server, but any server in the room can serve it.
    RoomId,
    validate_room_id
);
string_id!(
    /// `#alias:server_name`, a human-readable pointer to a room ID.
    RoomAlias,
    validate_room_alias
);
string_id!(
    /// `$` and an opaque string. In room v4+ the opaque part is the URL-safe
    /// unpadded base64 of the event's reference hash, so it is never sent:
    /// every server recomputes it.
    EventId,
    validate_event_id
);
string_id!(
    /// `algorithm:version`, such as `ed25519:1`, naming one of a server's keys.
    KeyId,
    validate_key_id
);

impl UserId {
    /// The part between `@` and the first `:`.
    pub fn localpart(&self) -> &str {
        let rest = &self.0[1..];
        &rest[..rest.find(':').unwrap_or(rest.len())]
    }

    /// The server that owns this user: the authority for their account.
    pub fn server_name(&self) -> ServerName {
        ServerName(server_part(&self.0).to_owned())
    }

    /// Builds `@localpart:server`, checking the local part.
    pub fn new(localpart: &str, server: &ServerName) -> Result<Self, IdError> {
        format!("@{localpart}:{server}").parse()
    }

    /// New accounts may only use `a-z 0-9 . _ = - / +`.
    pub fn is_valid_for_registration(localpart: &str) -> bool {
        !localpart.is_empty()
            && localpart
                .chars()
                .all(|c| matches!(c, 'a'..='z' | '0'..='9' | '.' | '_' | '=' | '-' | '/' | '+'))
    }
}

impl RoomId {
    /// The server that created the room.
    pub fn server_name(&self) -> ServerName {
        ServerName(server_part(&self.0).to_owned())
    }
}

impl RoomAlias {
    /// The server that holds the alias mapping.
    pub fn server_name(&self) -> ServerName {
        ServerName(server_part(&self.0).to_owned())
    }
}

impl KeyId {
    /// `ed25519` in `ed25519:1`.
    pub fn algorithm(&self) -> &str {
        self.0
            .split_once(':')
            .map_or("", |(algorithm, _)| algorithm)
    }

    /// `1` in `ed25519:1`.
    pub fn version(&self) -> &str {
        self.0.split_once(':').map_or("", |(_, version)| version)
    }
}

impl ServerName {
    /// The host without the port.
    pub fn host(&self) -> &str {
        split_port(&self.0).0
    }

    /// The explicit port, if the name has one.
    pub fn port(&self) -> Option<u16> {
        split_port(&self.0).1.and_then(|p| p.parse().ok())
    }
}

/// Everything after the first `:`, which validation guarantees exists.
fn server_part(id: &str) -> &str {
    id.split_once(':').map_or("", |(_, server)| server)
}

fn split_port(name: &str) -> (&str, Option<&str>) {
    if name.starts_with('[') {
        // IPv6 literals contain colons themselves; the port follows `]`.
        match name.find(']') {
            Some(end) => match name[end + 1..].strip_prefix(':') {
                Some(port) => (&name[..=end], Some(port)),
                None => (&name[..=end], None),
            },
            None => (name, None),
        }
    } else {
        match name.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (name, None),
        }
    }
}

fn validate_server_name(name: &str) -> Result<(), IdError> {
    let invalid = |reason| IdError::InvalidServerName {
        got: name.to_owned(),
        reason,
    };
    if name.is_empty() {
        return Err(invalid("it is empty"));
    }
    let (host, port) = split_port(name);
    if let Some(port) = port
        && (port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(invalid("the port must be 1 to 5 digits"));
    }
    if let Some(inner) = host.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| invalid("an IPv6 literal needs a closing ']'"))?;
        if inner.is_empty()
            || !inner
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err(invalid(
                "an IPv6 literal may hold only hex digits, ':' and '.'",
            ));
        }
        return Ok(());
    }
    if host.is_empty() || host.len() > 255 {
        return Err(invalid("the host must be 1 to 255 characters"));
    }
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(invalid("a host may hold only letters, digits, '-' and '.'"));
    }
    Ok(())
}

/// Checks `<sigil><localpart>:<server_name>` and the length limit.
fn validate_sigil_id(
    text: &str,
    kind: &'static str,
    sigil: char,
    localpart_ok: fn(char) -> bool,
) -> Result<(), IdError> {
    check_sigil_and_length(text, kind, sigil)?;
    let (localpart, server) =
        text[1..]
            .split_once(':')
            .ok_or_else(|| IdError::MissingServerName {
                kind,
                got: text.to_owned(),
            })?;
    if localpart.is_empty() {
        return Err(IdError::EmptyLocalpart {
            kind,
            got: text.to_owned(),
        });
    }
    if let Some(bad) = localpart.chars().find(|&c| !localpart_ok(c)) {
        return Err(IdError::InvalidLocalpart {
            kind,
            localpart: localpart.to_owned(),
            bad,
        });
    }
    validate_server_name(server)
}

fn check_sigil_and_length(text: &str, kind: &'static str, sigil: char) -> Result<(), IdError> {
    if text.is_empty() {
        return Err(IdError::Empty);
    }
    if !text.starts_with(sigil) {
        return Err(IdError::MissingSigil {
            kind,
            sigil,
            got: text.to_owned(),
        });
    }
    if text.len() > MAX_ID_LENGTH {
        return Err(IdError::TooLong {
            kind,
            len: text.len(),
        });
    }
    Ok(())
}

/// Historical user IDs allow any printable ASCII except ':' (spec: "Historical user IDs").
fn historical_user_char(c: char) -> bool {
    matches!(c, '\u{21}'..='\u{39}' | '\u{3b}'..='\u{7e}')
}

/// Opaque parts (room IDs, aliases) may be anything but ':' and whitespace
/// and control characters.
fn opaque_char(c: char) -> bool {
    c != ':' && !c.is_whitespace() && !c.is_control()
}

fn validate_user_id(text: &str) -> Result<(), IdError> {
    validate_sigil_id(text, "user ID", '@', historical_user_char)
}

fn validate_room_id(text: &str) -> Result<(), IdError> {
    validate_sigil_id(text, "room ID", '!', opaque_char)
}

fn validate_room_alias(text: &str) -> Result<(), IdError> {
    validate_sigil_id(text, "room alias", '#', opaque_char)
}

/// Event IDs come in two shapes: `$base64` (room v4+, ours) and the older
/// `$local:server`. Both are accepted; neither may contain whitespace.
fn validate_event_id(text: &str) -> Result<(), IdError> {
    check_sigil_and_length(text, "event ID", '$')?;
    let rest = &text[1..];
    if rest.is_empty() {
        return Err(IdError::EmptyLocalpart {
            kind: "event ID",
            got: text.to_owned(),
        });
    }
    if let Some(bad) = rest.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(IdError::InvalidLocalpart {
            kind: "event ID",
            localpart: rest.to_owned(),
            bad,
        });
    }
    Ok(())
}

fn validate_key_id(text: &str) -> Result<(), IdError> {
    let invalid = |reason| IdError::InvalidKeyId {
        got: text.to_owned(),
        reason,
    };
    let (algorithm, version) = text
        .split_once(':')
        .ok_or_else(|| invalid("expected 'algorithm:version'"))?;
    if algorithm.is_empty() || version.is_empty() {
        return Err(invalid("algorithm and version must both be non-empty"));
    }
    if !version
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(invalid("the version may hold only letters, digits and '_'"));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
