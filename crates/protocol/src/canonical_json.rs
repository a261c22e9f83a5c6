//! Canonical JSON: the one byte encoding that every hash and signature in
//! Matrix is computed over.
//!
//! Two servers that hold "the same" event must produce the same bytes for
//! it, or their hashes and signatures disagree and the event looks forged.
//! The spec therefore fixes one encoding
//! (<https://spec.matrix.org/v1.16/appendices/#canonical-json>):
//!
//! - object keys sorted by Unicode code point, recursively; arrays keep order;
//! - no insignificant whitespace;
//! - strings as raw UTF-8, escaping only `"`, `\` and the control characters
//!   U+0000–U+001F (`\b \t \n \f \r` in short form, the rest as `\u00XX`);
//! - numbers only as integers in ±(2^53 − 1), the range an IEEE double holds
//!   exactly. Room version 6 and later reject events with anything else.
//!
//! A number written as a float (`1.5`, but also `1.0` and `1e10`) is
//! rejected, as Synapse rejects it in room v6+ events: servers must agree
//! on which events are valid, or their views of a room drift apart. The
//! spec's appendix shows `1e10` encoded as `10000000000`; room v6+ forbids
//! floats outright, and we follow the rule events are held to. `-0` is the
//! integer 0 (as Python reads it), although our JSON parser stores it as a
//! negative-zero float; [`parse`] looks at the text to tell `-0` from
//! `-0.0`. Errors say where the number is.

use serde_json::Value;
use std::fmt::Write;

/// The largest integer canonical JSON allows: 2^53 − 1.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Why a JSON value has no canonical form.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CanonicalJsonError {
    /// The text was not JSON at all.
    #[error("not valid JSON: {0}")]
    Syntax(String),
    /// A number written as a float, such as `1.5`, `1.0` or `1e10`.
    #[error("{path}: {value:?} is a float; canonical JSON allows only integers")]
    Float { path: String, value: f64 },
    /// An integer that an IEEE double cannot hold exactly.
    #[error("{path}: {value} is outside the integer range ±(2^53−1) of canonical JSON")]
    IntegerOutOfRange { path: String, value: String },
}

/// Parses JSON text and checks that it has a canonical form. A `-0` in
/// the text comes back as the integer 0.
pub fn parse(text: &str) -> Result<Value, CanonicalJsonError> {
    let mut value: Value =
        serde_json::from_str(text).map_err(|e| CanonicalJsonError::Syntax(e.to_string()))?;
    validate(&value)?;
    if let Some(path) = first_negative_zero(&value, &mut Path::default())
        && has_negative_zero_float_literal(text)
    {
        return Err(CanonicalJsonError::Float { path, value: -0.0 });
    }
    replace_negative_zero(&mut value);
    Ok(value)
}

/// Where the first negative zero in `value` is, if there is one.
fn first_negative_zero(value: &Value, path: &mut Path) -> Option<String> {
    match value {
        Value::Number(n) if is_negative_zero(n) => Some(path.render()),
        Value::Array(items) => items.iter().enumerate().find_map(|(index, item)| {
            path.0.push(PathSegment::Index(index));
            let found = first_negative_zero(item, path);
            path.0.pop();
            found
        }),
        Value::Object(object) => object.iter().find_map(|(key, item)| {
            path.0.push(PathSegment::Key(key.clone()));
            let found = first_negative_zero(item, path);
            path.0.pop();
            found
        }),
        _ => None,
    }
}

fn is_negative_zero(n: &serde_json::Number) -> bool {
    !n.is_i64() && !n.is_u64() && n.as_f64().is_some_and(|f| f == 0.0 && f.is_sign_negative())
}

/// True if the JSON text has a number token like `-0.0` or `-0e5`: a
/// negative zero written as a float. Outside strings, `-` only starts
/// numbers, so a scan that skips strings is enough.
fn has_negative_zero_float_literal(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut in_string = false;
    let mut index = 0;
    while index < bytes.len() {
        match (in_string, bytes[index]) {
            (true, b'\\') => index += 1,
            (true, b'"') | (false, b'"') => in_string = !in_string,
            (false, b'-') if bytes.get(index + 1) == Some(&b'0') => {
                if matches!(bytes.get(index + 2), Some(b'.' | b'e' | b'E')) {
                    return true;
                }
            }
            _ => {}
        }
        index += 1;
    }
    false
}

/// Rewrites negative zero (how `-0` parses) as the integer 0, so that the
/// value prints as canonical JSON does.
fn replace_negative_zero(value: &mut Value) {
    match value {
        Value::Number(n) if n.as_f64() == Some(0.0) && !n.is_i64() && !n.is_u64() => {
            *value = Value::from(0)
        }
        Value::Array(items) => items.iter_mut().for_each(replace_negative_zero),
        Value::Object(object) => object.values_mut().for_each(replace_negative_zero),
        _ => {}
    }
}

/// Checks that every number in `value` is an integer within range.
pub fn validate(value: &Value) -> Result<(), CanonicalJsonError> {
    encode(value).map(drop)
}

/// Encodes `value` as canonical JSON text.
pub fn encode(value: &Value) -> Result<String, CanonicalJsonError> {
    let mut out = String::with_capacity(256);
    let mut path = Path::default();
    write_value(&mut out, value, &mut path)?;
    Ok(out)
}

/// Where in a document we are, so that errors can say `content.sizes[2]`.
#[derive(Default)]
struct Path(Vec<PathSegment>);

enum PathSegment {
    Key(String),
    Index(usize),
}

impl Path {
    fn render(&self) -> String {
        let mut text = String::new();
        for segment in &self.0 {
            match segment {
                PathSegment::Key(key) if text.is_empty() => text.push_str(key),
                PathSegment::Key(key) => write!(text, ".{key}").unwrap_or(()),
                PathSegment::Index(index) => write!(text, "[{index}]").unwrap_or(()),
            }
        }
        if text.is_empty() {
            text.push_str("(top level)");
        }
        text
    }
}

fn write_value(out: &mut String, value: &Value, path: &mut Path) -> Result<(), CanonicalJsonError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => write_number(out, number, path)?,
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                path.0.push(PathSegment::Index(index));
                write_value(out, item, path)?;
                path.0.pop();
            }
            out.push(']');
        }
        Value::Object(object) => {
            // Sorting the keys ourselves keeps the encoding right even if
            // some dependency switches serde_json to insertion order. Rust
            // compares `str` by UTF-8 bytes, which orders by code point.
            let mut entries: Vec<_> = object.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                path.0.push(PathSegment::Key(key.clone()));
                write_value(out, item, path)?;
                path.0.pop();
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_number(
    out: &mut String,
    number: &serde_json::Number,
    path: &Path,
) -> Result<(), CanonicalJsonError> {
    let out_of_range = || CanonicalJsonError::IntegerOutOfRange {
        path: path.render(),
        value: number.to_string(),
    };
    let integer = if let Some(i) = number.as_i64() {
        i
    } else if let Some(u) = number.as_u64() {
        i64::try_from(u).map_err(|_| out_of_range())?
    } else {
        float_as_integer(number.as_f64().unwrap_or(f64::NAN), path)?
    };
    if !(-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&integer) {
        return Err(out_of_range());
    }
    write!(out, "{integer}").unwrap_or(());
    Ok(())
}

/// Our JSON parser stores `-0` and any number written with `.` or an
/// exponent as a float. Only negative zero (the `-0` literal) is accepted.
fn float_as_integer(value: f64, path: &Path) -> Result<i64, CanonicalJsonError> {
    if value == 0.0 && value.is_sign_negative() {
        return Ok(0);
    }
    if value.fract() == 0.0 && value.abs() > MAX_SAFE_INTEGER as f64 {
        // An integer literal too large for 64 bits also arrives as a float.
        return Err(CanonicalJsonError::IntegerOutOfRange {
            path: path.render(),
            value: format!("{value}"),
        });
    }
    Err(CanonicalJsonError::Float {
        path: path.render(),
        value,
    })
}

fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32).unwrap_or(()),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests;
