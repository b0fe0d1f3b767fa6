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
