//! Random identifiers the server hands out: access tokens, device IDs,
//! media IDs and user-interactive-auth sessions.
//!
//! An access token is a password the server chooses: whoever presents it
//! *is* the user. So every token comes from the operating system's
//! cryptographic random source (`getrandom`), never from a seeded generator.
//! The lab seeds signing keys and clocks to make runs repeatable, but tokens
//! never appear in events or reports, so they can stay truly random.

use crate::error::ApiError;

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPERCASE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWERCASE_AND_DIGITS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// An access token: a prefix that says whose it is (handy in logs and
/// secret scanners) and 40 random characters, about 238 bits.
pub fn access_token() -> Result<String, ApiError> {
    Ok(format!("lf_{}", random_string(ALPHANUMERIC, 40)?))
}

/// A device ID: ten capital letters, the shape Synapse uses (`QWERTYUIOP`).
pub fn device_id() -> Result<String, ApiError> {
    random_string(UPPERCASE, 10)
}

/// The opaque part of an `mxc://server/media_id` URI.
pub fn media_id() -> Result<String, ApiError> {
    random_string(ALPHANUMERIC, 24)
}

/// A user-interactive-auth session ID.
pub fn session_id() -> Result<String, ApiError> {
    random_string(ALPHANUMERIC, 24)
}

/// A localpart for a registration that did not ask for one (the spec
/// says the server must then choose).
pub fn localpart() -> Result<String, ApiError> {
    Ok(format!("user-{}", random_string(LOWERCASE_AND_DIGITS, 10)?))
}

/// `len` characters drawn uniformly from `alphabet`.
///
/// A random byte modulo 62 would favour the first few letters (256 is not a
/// multiple of 62), so bytes at or above the largest multiple of the
/// alphabet's size are thrown away and drawn again: rejection sampling.
fn random_string(alphabet: &[u8], len: usize) -> Result<String, ApiError> {
    let size = alphabet.len();
    let limit = 256 - 256 % size;
    let mut out = String::with_capacity(len);
    let mut buffer = [0u8; 64];
    while out.len() < len {
        getrandom::fill(&mut buffer)
            .map_err(|e| ApiError::unknown(format!("the random source failed: {e}")))?;
        for &byte in &buffer {
            if usize::from(byte) < limit && out.len() < len {
                out.push(char::from(alphabet[usize::from(byte) % size]));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_their_documented_shapes() -> Result<(), ApiError> {
        let token = access_token()?;
        assert!(token.starts_with("lf_") && token.len() == 43, "{token}");
        let device = device_id()?;
        assert!(device.len() == 10 && device.bytes().all(|b| b.is_ascii_uppercase()));
        assert!(lostfound_protocol::ids::UserId::is_valid_for_registration(
            &localpart()?
        ));
        assert_ne!(media_id()?, media_id()?, "two draws differ");
        Ok(())
    }
}
