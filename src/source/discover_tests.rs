//! Unit tests of discovery on fake /proc, $PGDATA and /var/log/postgresql trees.

use super::*;
use std::os::unix::fs::symlink;

struct Fake {
    root: tempfile::TempDir,
}

impl Fake {
    fn new() -> Self {
        let f = Fake {
            root: tempfile::tempdir().unwrap(),
        };
        fs::create_dir_all(f.p("proc")).unwrap();
        f
    }
    fn p(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.p(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, text).unwrap();
        p
    }
    fn process(&self, pid: u32, args: &[&str], cwd: &Path, stderr: Option<&Path>) {
        let dir = self.p(&format!("proc/{pid}"));
        fs::create_dir_all(dir.join("fd")).unwrap();
        let mut cmd = args.join("\0").into_bytes();
        cmd.push(0);
        fs::write(dir.join("cmdline"), cmd).unwrap();
        fs::write(dir.join("environ"), b"HOME=/x\0PGDATA=/ignored\0").unwrap();
        symlink(cwd, dir.join("cwd")).unwrap();
        if let Some(e) = stderr {
            symlink(e, dir.join("fd/2")).unwrap();
        }
    }
    fn env(&self, pgdata: Option<PathBuf>) -> DiscoverEnv {
        DiscoverEnv {
            proc_root: self.p("proc"),
            pgdata,
            var_log: self.p("var/log/postgresql"),
            etc: self.p("etc/postgresql"),
        }
    }
}

#[test]
fn nothing_found_lists_what_was_tried() {
    let f = Fake::new();
    let err = discover_in(&f.env(None)).unwrap_err().to_string();
    let proc = f.p("proc");
    let var = f.p("var/log/postgresql");
    assert_eq!(
        err,
        format!(
            "no PostgreSQL log found: tried {} (no running postmaster), $PGDATA (unset), {} (missing); pass a log path, e.g. pgconn-top /var/log/postgresql/postgresql-15-main.log, or try --demo",
            proc.display(),
            var.display()
        )
    );
    fs::create_dir_all(&var).unwrap();
    let err = discover_in(&f.env(None)).unwrap_err().to_string();
    assert!(err.contains(&format!("{} (empty)", var.display())), "{err}");
}

#[test]
fn debian_postmaster_with_stderr_redirected_to_a_file() {
    let f = Fake::new();
    let data = f.p("var/lib/postgresql/15/main");
    fs::create_dir_all(&data).unwrap();
    let conf = f.write(
        "etc/postgresql/15/main/postgresql.conf",
        &format!(
            "data_directory = '{}'\nlog_line_prefix = '%m [%p] %q%u@%d '\nlog_timezone = 'Etc/UTC'\n",
            data.display()
        ),
    );
    f.write(
        "var/lib/postgresql/15/main/postgresql.auto.conf",
        "log_timezone = 'Europe/Berlin'\n",
    );
    let log = f.write("var/log/postgresql/postgresql-15-main.log", "x\n");
    // A child process (renamed argv) must not be taken for the postmaster.
    f.process(
        99,
        &["postgres: 15/main: checkpointer "],
        Path::new("/"),
        None,
    );
    f.process(
        100,
        &[
            "/usr/lib/postgresql/15/bin/postgres",
            "-D",
            data.to_str().unwrap(),
            "-c",
            &format!("config_file={}", conf.display()),
        ],
        Path::new("/"),
        Some(&log),
    );
    let d = discover_in(&f.env(None)).unwrap();
    assert_eq!(d.sources, vec![SourceSpec::File(log)]);
    assert_eq!(d.format, Format::Stderr);
    assert_eq!(d.log_line_prefix.as_deref(), Some("%m [%p] %q%u@%d "));
    assert_eq!(d.log_timezone.as_deref(), Some("Europe/Berlin"));
    assert_eq!(d.data_directory.as_deref(), Some(data.as_path()));
    assert_eq!(d.tried, vec!["postmaster 100".to_string()]);
}

#[test]
fn collector_directory_relative_to_data_dir_with_cmdline_override() {
    let f = Fake::new();
    let data = f.p("pgdata");
    f.write(
        "pgdata/postgresql.conf",
        "logging_collector = on\nlog_directory = 'pg_log'\nlog_destination = 'csvlog'\n",
    );
    f.write(
        "pgdata/postgresql.auto.conf",
        "log_filename = 'pg-%Y%m%d.log'\n",
    );
    // Relative -D resolved against the process's cwd.
    f.process(
        7,
        &["postmaster", "-Dpgdata", "--log-destination=jsonlog,stderr"],
        f.root.path(),
        None,
    );
    let d = discover_in(&f.env(None)).unwrap();
    assert_eq!(
        d.sources,
        vec![SourceSpec::Dir(DirSpec {
            dir: data.join("pg_log"),
            filename_pattern: Some("pg-%Y%m%d.log".into()),
            format: Format::Jsonlog, // several destinations: jsonlog, it carries exact fields
            data_dir: Some(data.clone()),
        })]
    );
}

#[test]
fn pgdata_then_var_log_fallbacks() {
    let f = Fake::new();
    f.write("pgdata/postgresql.conf", "logging_collector = 'true'\n");
    let env = f.env(Some(f.p("pgdata")));
    let d = discover_in(&env).unwrap();
    assert_eq!(
        d.sources,
        vec![SourceSpec::Dir(DirSpec {
            dir: f.p("pgdata/log"),
            filename_pattern: Some("postgresql-%Y-%m-%d_%H%M%S.log".into()),
            format: Format::Stderr,
            data_dir: Some(f.p("pgdata")),
        })]
    );
    // Collector off: $PGDATA alone cannot tell where stderr goes; fall back to /var/log/postgresql.
    f.write(
        "pgdata/postgresql.conf",
        "logging_collector = off\nlog_line_prefix='%t '\n",
    );
    let old = f.write("var/log/postgresql/postgresql-14-main.log", "");
    let new = f.write("var/log/postgresql/postgresql-15-main.log", "");
    let t = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(t)
        .unwrap();
    f.write("var/log/postgresql/postgresql-15-main.log.1", "");
    let d = discover_in(&env).unwrap();
    assert_eq!(d.sources, vec![SourceSpec::File(new.clone())]);
    assert_eq!(d.log_line_prefix.as_deref(), Some("%t "));
    assert_eq!(d.tried.len(), 3, "{:?}", d.tried);
    // Without $PGDATA, the prefix comes from /etc/postgresql/15/main.
    f.write(
        "etc/postgresql/15/main/postgresql.conf",
        "log_line_prefix = '%m [%p] '\n",
    );
    let d = discover_in(&f.env(None)).unwrap();
    assert_eq!(d.sources, vec![SourceSpec::File(new)]);
    assert_eq!(d.log_line_prefix.as_deref(), Some("%m [%p] "));
}
