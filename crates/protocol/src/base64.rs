//! Unpadded base64, as Matrix writes hashes, keys and signatures.
//!
//! Matrix drops the trailing `=` padding everywhere
//! (<https://spec.matrix.org/v1.16/appendices/#unpadded-base64>). Hashes and
//! signatures use the standard alphabet; room v4+ event IDs use the URL-safe
//! one (`-` and `_` instead of `+` and `/`) so they can sit in a URL path.
//! Decoders must accept padded input too, so ours do.

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_encode_padding(false)
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    // The spec's own test seed ends in a character with stray low bits,
    // which Python's decoder ignores; so do we.
    .with_decode_allow_trailing_bits(true);

const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Why a base64 string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid base64: {0}")]
pub struct Base64Error(String);

/// Encodes with the standard alphabet and no padding (`"fo"` → `"Zm8"`).
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    STANDARD.encode(bytes)
}

/// Encodes with the URL-safe alphabet and no padding, as in event IDs.
pub fn encode_url_safe(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE.encode(bytes)
}

/// Decodes standard-alphabet base64, padded or not.
pub fn decode(text: &str) -> Result<Vec<u8>, Base64Error> {
    STANDARD
        .decode(text)
        .map_err(|e| Base64Error(e.to_string()))
}

/// Decodes URL-safe base64, padded or not.
pub fn decode_url_safe(text: &str) -> Result<Vec<u8>, Base64Error> {
    URL_SAFE
        .decode(text)
        .map_err(|e| Base64Error(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The RFC 4648 examples the spec quotes, without their padding.
    #[test]
    fn spec_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(encode(plain), encoded);
            assert_eq!(decode(encoded).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn padded_input_is_accepted() {
        assert_eq!(decode("Zg==").unwrap(), b"f");
        assert_eq!(decode_url_safe("Zm8=").unwrap(), b"fo");
    }

    #[test]
    fn alphabets_differ_only_in_two_characters() {
        let bytes = [0xfb, 0xff, 0xbf];
        assert_eq!(encode(bytes), "+/+/");
        assert_eq!(encode_url_safe(bytes), "-_-_");
        assert!(decode("-_-_").is_err());
    }
}
