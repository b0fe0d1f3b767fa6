//! pgconn-top: who is connected to a PostgreSQL server, from its log alone.
//!
//! Data goes one way: source → parse → store → view. The core (`parse`, `store`, `engine`)
//! is synchronous and driven by the log's own timestamps.

pub mod cli;
pub mod engine;
pub mod envelope;
pub mod feedline;
pub mod live;
pub mod metrics;
pub mod model;
pub mod parse;
pub mod replay;
pub mod report;
pub mod sanitize;
pub mod source;
pub mod store;
pub mod synth;
pub mod ui;

/// Helpers of the unit tests.
#[cfg(test)]
pub(crate) mod test_support {
    use crate::engine::{Engine, EngineConfig};

    /// An engine that has read `file` of the Berlin corpus folder (tests/fixtures).
    pub fn corpus_engine(file: &str) -> Engine {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/corpus/pg15-debian-berlin")
            .join(file);
        let mut e = Engine::new(EngineConfig::default());
        let id = e.add_source("corpus");
        e.read_to_end(id, std::fs::File::open(path).unwrap())
            .unwrap();
        e
    }
}
