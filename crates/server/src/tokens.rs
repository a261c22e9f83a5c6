//! Identifiers the server hands out: access tokens, device IDs, media IDs
//! and user-interactive-auth sessions.
//!
//! An access token is a password the server chooses: whoever presents it
//! *is* the user. So every token comes from the operating system's
//! cryptographic random source (`getrandom`), never from a seeded generator.
//! The lab seeds signing keys and clocks to make runs repeatable, but tokens
//! never appear in events or reports, so they can stay truly random.

use crate::error::ApiError;
use crate::state::IdSource;

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

/// The opaque part of an `mxc://server/media_id` URI, drawn from `ids`.
///
/// Unlike tokens, a media ID is public and can appear in events (a room
/// avatar's `url`), so it comes from the server's [`IdSource`]: the lab's
/// seeded one makes a replayed scenario upload to the same IDs.
pub fn media_id(ids: &dyn IdSource) -> Result<String, ApiError> {
    let size = ALPHANUMERIC.len();
    let limit = 256 - 256 % size;
    let mut out = String::with_capacity(24);
    while out.len() < 24 {
        let mut bytes = [0u8; 32];
        ids.fill(&mut bytes)
            .map_err(|e| ApiError::unknown(format!("the ID source failed: {e}")))?;
        for &byte in &bytes {
            if usize::from(byte) < limit && out.len() < 24 {
                out.push(char::from(ALPHANUMERIC[usize::from(byte) % size]));
            }
        }
    }
    Ok(out)
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
        let ids = crate::state::SystemIds;
        let media = media_id(&ids)?;
        assert!(media.len() == 24 && media.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(media, media_id(&ids)?, "two draws differ");
        Ok(())
    }
}
