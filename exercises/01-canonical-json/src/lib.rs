//! Exercise 1: canonical JSON.
//!
//! Write [`canonical_json`], the encoder that turns any JSON value into the
//! one string every Matrix server agrees on. Hashes and signatures are
//! computed over these bytes, so two servers that disagree by a single
//! space see each other's events as forged. The rules are in the spec's
//! appendix (<https://spec.matrix.org/v1.16/appendices/#canonical-json>)
//! and in this exercise's README.
//!
//! Grade it with `lostfound grade` (or
//! `cargo test -p ex01-canonical-json --features graded`).

use serde_json::Value;

/// The largest integer canonical JSON allows: 2^53 − 1. The smallest is
/// its negative, −(2^53 − 1).
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Why a JSON value has no canonical form. (Given: you only construct it.)
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CanonicalJsonError {
    /// A number that is not an integer, such as `1.5`, `1.0` or `1e10`.
    /// Carries the number as serde_json prints it.
    #[error("{0} is a float; canonical JSON allows only integers")]
    Float(String),
    /// An integer outside −(2^53 − 1) ..= 2^53 − 1. Carries the number as
    /// serde_json prints it.
    #[error("{0} is outside the integer range ±(2^53−1) of canonical JSON")]
    IntegerOutOfRange(String),
}

/// Encodes `value` as canonical JSON.
///
/// The contract, as the spec's appendix fixes it:
///
/// - **no whitespace** anywhere outside strings: `{"a":1,"b":[1,2]}`;
/// - **object keys sorted by Unicode code point**, at every depth (Rust's
///   `str` ordering, which compares UTF-8 bytes, is exactly that order);
///   arrays keep their order;
/// - **strings** as raw UTF-8 (`"日本語"`, never `\u65e5`), escaping only
///   `"` as `\"`, `\` as `\\`, and the control characters U+0000–U+001F:
///   `\b \t \n \f \r` in their short form, every other control as `\u00XX`
///   with lowercase hex (`\u001f`). Nothing else is escaped, not even `/`;
/// - **numbers** only as integers in −(2^53 − 1) ..= 2^53 − 1, written
///   plainly (`-42`). Any other number is an error:
///   [`CanonicalJsonError::IntegerOutOfRange`] for integers beyond the
///   range, [`CanonicalJsonError::Float`] for anything with a fraction or
///   an exponent. One exception: serde_json parses the text `-0` as the
///   float −0.0; canonical JSON treats it as the integer `0`;
/// - `null`, `true`, `false` as themselves.
pub fn canonical_json(value: &Value) -> Result<String, CanonicalJsonError> {
    let _ = value;
    todo!(
        "walk the value recursively: write null/true/false, integers in range, escaped strings, \
         arrays in order and objects with their keys sorted, with no whitespace"
    )
}
