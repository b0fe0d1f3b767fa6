//! pgconn-top: who is connected to a PostgreSQL server, from its log alone.
pub mod source;
