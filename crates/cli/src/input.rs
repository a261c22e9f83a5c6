//! Reading events from a file or standard input, one document or one per line.

use anyhow::{Context, Result};
use std::io::Read;
use std::path::PathBuf;

/// Reads all of `path`, or standard input when it is `-` or absent.
pub fn read_text(path: Option<&PathBuf>) -> Result<String> {
    match path {
        Some(path) if path.as_os_str() != "-" => {
            std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
        }
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read standard input")?;
            Ok(text)
        }
    }
}

/// Names the input for messages: the file name, or "standard input".
pub fn describe(path: Option<&PathBuf>) -> String {
    match path {
        Some(path) if path.as_os_str() != "-" => path.display().to_string(),
        _ => "standard input".to_owned(),
    }
}

/// The non-blank lines of a JSON Lines document, with 1-based line numbers.
pub fn json_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty())
}
