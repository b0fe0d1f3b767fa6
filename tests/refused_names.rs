//! A session PostgreSQL authorized and then refused (reserved slots, role or database limit,
//! no CONNECT right...) fails under the names its `connection authorized` line gave, even
//! when the FATAL itself names nobody and the prefix has no `%u` / `%d`.

use pgconn_top::engine::{Engine, EngineConfig};
use pgconn_top::report::{json_report, ReportOptions};
use serde_json::Value;
use std::path::Path;

fn failures(path: &Path) -> Value {
    let mut engine = Engine::new(EngineConfig::default());
    engine
        .read_path(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    json_report(&engine, &ReportOptions::default())["failures"].clone()
}

#[test]
fn refused_sessions_keep_the_authorized_names() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus/pg15-default");
    // '%m [%p] ': only the messages name users; csvlog's columns name them exactly.
    let stderr = failures(&dir.join("postgresql.log"));
    let csv = failures(&dir.join("postgresql.csv"));
    assert_eq!(stderr["total"], csv["total"]);
    let mut expected = csv["by_user"].as_object().unwrap().clone();
    // "sorry, too many clients already" comes before authentication: no line names its user,
    // so only csvlog's column knows it.
    let too_many = csv["by_reason"]["too_many_clients"].as_u64().unwrap();
    assert_eq!(too_many, 1);
    let postgres = expected["postgres"].as_u64().unwrap();
    if postgres == too_many {
        expected.remove("postgres");
    }
    expected.insert("unknown".into(), too_many.into());
    assert_eq!(stderr["by_user"].as_object().unwrap(), &expected);
    assert!(
        stderr["by_user"]["app_user"].as_u64().unwrap() >= 5,
        "the refused app_user sessions (reserved slots, limits) count under app_user"
    );
}
