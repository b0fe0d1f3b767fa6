//! Prefix inference over real logs (every stderr file of the shared corpus), the issue's
//! prefixes, a freshly started server, generated logs of random prefixes and hostile input.

use pgconn_top::parse::infer::{infer_prefix, Inference};
use std::path::Path;

const CORPUS: &str = "/work/shared/corpus";

fn decided(sample: &[u8]) -> (String, usize, bool) {
    match infer_prefix(sample) {
        Inference::Decided { prefix, evidence } => {
            (prefix.as_str().to_string(), evidence, prefix.has_pid())
        }
        other => panic!("not decided: {other:?}"),
    }
}

fn truth_prefix(dir: &Path) -> String {
    let t: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap();
    t["log_line_prefix"].as_str().unwrap().to_string()
}

#[test]
fn corpus_files_infer_the_servers_setting() {
    let mut checked = 0;
    for set in ["real", "versions"] {
        for dir in std::fs::read_dir(Path::new(CORPUS).join(set)).unwrap() {
            let dir = dir.unwrap().path();
            let want = truth_prefix(&dir);
            for f in ["postgresql.log", "postgresql.after-restart.log"] {
                let bytes = std::fs::read(dir.join(f)).unwrap();
                let sample = &bytes[..bytes.len().min(64 << 10)];
                let (got, ev, pid) = decided(sample);
                eprintln!("{} {f}: {got:?} ({ev})", dir.display());
                assert_eq!(got, want, "{}/{f}", dir.display());
                assert!(pid);
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 14);
}
