//! A query-string parser that keeps repeated keys.
//!
//! `backfill` takes its starting events as `?v=$a&v=$b`. axum's `Query`
//! (through `serde_urlencoded`) keeps only one value per key, so we split
//! the query ourselves: `&`-separated `key=value` pairs, `+` for a space,
//! `%XX` for any byte, as HTML forms encode them
//! (<https://url.spec.whatwg.org/#application/x-www-form-urlencoded>).

/// Why a query string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("{0:?} is not a valid percent escape (expected % and two hex digits)")]
    BadEscape(String),
    #[error("query parameter {0:?} is not UTF-8 once decoded")]
    NotUtf8(String),
}

/// The `(key, value)` pairs of `query` (the part after `?`), decoded, in
/// order, repeated keys included. Empty pieces (`a=1&&b=2`) are skipped;
/// a piece without `=` has an empty value.
pub fn parse_query(query: &str) -> Result<Vec<(String, String)>, QueryError> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
            Ok((decode(key)?, decode(value)?))
        })
        .collect()
}

/// Every value of `key` in `pairs`, in order.
pub fn values<'a>(pairs: &'a [(String, String)], key: &'a str) -> impl Iterator<Item = &'a str> {
    pairs
        .iter()
        .filter(move |(k, _)| k == key)
        .map(|(_, value)| value.as_str())
}

/// Decodes one key or value: `+` is a space, `%XX` a byte.
pub fn decode(text: &str) -> Result<String, QueryError> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut input = text.as_bytes().iter().copied();
    while let Some(byte) = input.next() {
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => {
                let high = input.next();
                let low = input.next();
                let digit = |b: Option<u8>| b.and_then(|b| char::from(b).to_digit(16));
                match (digit(high), digit(low)) {
                    // Two hex digits make a byte: 16 × 15 + 15 ≤ 255.
                    (Some(high), Some(low)) => bytes.push((high * 16 + low) as u8),
                    _ => return Err(QueryError::BadEscape(text.to_owned())),
                }
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).map_err(|_| QueryError::NotUtf8(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str, expected: &[(&str, &str)]) {
        let pairs = parse_query(query).expect("a valid query");
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(pairs, expected, "parsing {query:?}");
    }

    #[test]
    fn repeated_keys_are_all_kept_in_order() {
        check(
            "v=a&limit=10&v=b",
            &[("v", "a"), ("limit", "10"), ("v", "b")],
        );
        let pairs = parse_query("v=a&limit=10&v=b").unwrap();
        assert_eq!(values(&pairs, "v").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(values(&pairs, "w").count(), 0);
    }

    #[test]
    fn event_ids_are_percent_decoded() {
        // `$` and `:` are escaped by careful clients, left alone by others.
        check("v=%24Ab-_c%3Ad&v=$xyz", &[("v", "$Ab-_c:d"), ("v", "$xyz")]);
        check("name=caf%C3%A9+au+lait", &[("name", "café au lait")]);
        check("a%3Db=c%26d", &[("a=b", "c&d")]);
    }

    #[test]
    fn odd_but_valid_shapes() {
        check("", &[]);
        check("&&a=1&", &[("a", "1")]);
        check("flag&a=", &[("flag", ""), ("a", "")]);
        check("a=b=c", &[("a", "b=c")]);
    }

    #[test]
    fn bad_escapes_and_bad_utf8_are_errors() {
        assert_eq!(parse_query("v=%2"), Err(QueryError::BadEscape("%2".into())));
        assert_eq!(
            parse_query("v=%zz"),
            Err(QueryError::BadEscape("%zz".into()))
        );
        assert_eq!(parse_query("v=%FF"), Err(QueryError::NotUtf8("%FF".into())));
    }
}
