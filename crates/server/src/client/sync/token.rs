//! Pagination and sync tokens: a position in this server's event stream.
//!
//! Every event this server persists gets the next *stream position*, a
//! number that only grows. (History fetched with backfill is the
//! exception: it is placed *below* zero, before everything, so a
//! `/messages` token may be negative.) A token `s42` means "just after
//! position 42":
//! `/sync?since=s42` returns what came after it, and `/messages?from=s42`
//! pages from there. The spec calls tokens opaque; ours are readable on
//! purpose, so a student can watch them move (and can see, after a server
//! is restored from an old backup, clients holding tokens from a future
//! the server no longer has).

use crate::error::ApiError;
use lostfound_store::StreamPosition;
use std::fmt;

/// A point in the stream, between position `N` and `N + 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct StreamToken(pub StreamPosition);

impl StreamToken {
    /// Parses `s<position>`; anything else is `M_INVALID_PARAM` naming the
    /// parameter. A position may be negative (`s-7`): backfilled history
    /// sits below zero, and `/messages` pages into it.
    pub fn parse(parameter: &str, text: &str) -> Result<Self, ApiError> {
        text.strip_prefix('s')
            .filter(|number| {
                let digits = number.strip_prefix('-').unwrap_or(number);
                !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
            })
            .and_then(|number| number.parse().ok())
            .map(Self)
            .ok_or_else(|| {
                ApiError::invalid_param(format!(
                    "{parameter}: {text:?} is not a token of this server (they look like s42)"
                ))
            })
    }
}

impl fmt::Display for StreamToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::StreamToken;

    #[test]
    fn tokens_round_trip_and_reject_strangers() {
        assert_eq!(
            StreamToken::parse("since", "s42").map(|t| t.to_string()),
            Ok("s42".to_owned())
        );
        assert_eq!(StreamToken::parse("from", "s-7").map(|t| t.0), Ok(-7));
        for bad in [
            "42",
            "s",
            "s-",
            "s--1",
            "s+1",
            "s4x",
            "t42",
            "s99999999999999999999",
        ] {
            let error = StreamToken::parse("since", bad).expect_err(bad);
            assert_eq!(error.errcode, "M_INVALID_PARAM", "{bad}");
        }
    }
}
