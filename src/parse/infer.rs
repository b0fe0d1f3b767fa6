//! PLACEHOLDER (replaced by the infer branch): `log_line_prefix` read off the lines.

use super::detect::{detect_prefix, DetectError};
use super::prefix::Prefix;

/// What a sample says about the prefix.
#[derive(Debug)]
pub enum Inference {
    Decided { prefix: Prefix, evidence: usize },
    Undecided,
    Failed { example: Vec<u8> },
    NotALog { example: Vec<u8> },
}

/// Infers the prefix from a sample of complete lines.
pub fn infer_prefix(sample: &[u8]) -> Inference {
    let example = || sample.split(|&c| c == b'\n').next().unwrap_or(b"").to_vec();
    match detect_prefix(sample) {
        Ok(prefix) => Inference::Decided {
            prefix,
            evidence: 1,
        },
        Err(DetectError::UnknownPrefix) => Inference::Failed { example: example() },
        Err(DetectError::NotALog) => Inference::NotALog { example: example() },
    }
}
