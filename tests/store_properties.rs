//! Properties of the store under random event sequences: counts never negative, the
//! by-dimension maps always sum to the active total, the history ends at the active count,
//! and clear empties everything. Events come from two sources named as two servers (odd pids
//! on `b`), so the server dimension is exercised like the others.

use pgconn_top::model::SourceId;
use pgconn_top::model::{ConnectionEvent, EventKind, FailureReason, LogTime, ServerChange};
use pgconn_top::store::filter::Filter;
use pgconn_top::store::intern::Dim;
use pgconn_top::store::views::Summary;
use pgconn_top::store::{Store, StoreConfig};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Step {
    Received(u32),
    Authorized(u32, usize),
    Disconnected(u32, usize),
    Failed(u32, usize),
    Restart,
    Crash,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u32..30).prop_map(Step::Received),
        4 => (0u32..30, 0usize..4).prop_map(|(p, n)| Step::Authorized(p, n)),
        3 => (0u32..30, 0usize..4).prop_map(|(p, n)| Step::Disconnected(p, n)),
        1 => (0u32..30, 0usize..4).prop_map(|(p, n)| Step::Failed(p, n)),
        1 => Just(Step::Restart),
        1 => Just(Step::Crash),
    ]
}

const NAMES: [&[u8]; 4] = [b"alpha", b"beta", b"g a m m a", b"\x1b[31m"];

fn apply(store: &mut Store, t: i64, s: &Step) {
    let time = LogTime {
        millis: 1_764_000_000_000 + t * 7_000,
        offset_secs: 0,
    };
    let ev = |pid, kind| ConnectionEvent::new(time, pid, kind);
    let e = match *s {
        Step::Received(p) => {
            let mut e = ev(p, EventKind::Received);
            e.host = Some(b"10.0.0.1");
            e
        }
        Step::Authorized(p, n) => {
            let mut e = ev(
                p,
                EventKind::Authorized {
                    replication: false,
                    ssl: None,
                },
            );
            e.user = Some(NAMES[n]);
            e.database = Some(NAMES[(n + 1) % 4]);
            e.application = (n != 2).then_some(NAMES[(n + 2) % 4]);
            e
        }
        Step::Disconnected(p, n) => {
            let mut e = ev(
                p,
                EventKind::Disconnected {
                    session_millis: Some(1000),
                },
            );
            e.user = Some(NAMES[n]);
            e.database = Some(NAMES[(n + 1) % 4]);
            e
        }
        Step::Failed(p, n) => ev(
            p,
            EventKind::Failed {
                reason: [
                    FailureReason::PasswordFailed,
                    FailureReason::RoleLimit,
                    FailureReason::TooManyClients,
                    FailureReason::Other,
                ][n],
            },
        ),
        Step::Restart => ev(1, EventKind::Server(ServerChange::Starting)),
        Step::Crash => ev(1, EventKind::Server(ServerChange::CrashReset)),
    };
    store.apply(SourceId((e.pid % 2) as u16), &e);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn figures_stay_consistent(steps in proptest::collection::vec(step(), 0..200)) {
        let mut store = Store::new(StoreConfig::default());
        store.set_server_name(SourceId(0), "a");
        store.set_server_name(SourceId(1), "b");
        let all = Filter::default();
        let on_a = Filter::exact(Dim::Server, b"a");
        for (t, s) in steps.iter().enumerate() {
            let a_before = store.summary(&on_a).active_total;
            apply(&mut store, t as i64, s);
            if matches!(s, Step::Restart | Step::Crash) {
                // A restart of b (pid 1 is on b) ends only b's sessions.
                prop_assert_eq!(store.summary(&on_a).active_total, a_before);
                prop_assert_eq!(store.summary(&Filter::exact(Dim::Server, b"b")).active_total, 0);
            }
            let sum = store.summary(&all);
            for d in Dim::ALL {
                prop_assert_eq!(sum.by(d).iter().map(|x| x.1).sum::<u64>(), sum.active_total);
            }
            // Each server's own figures add up to the whole.
            let per = store.summary_by_server(&all);
            prop_assert_eq!(per.len(), 2);
            let figures: [fn(&Summary) -> u64; 4] = [
                |s| s.active_total,
                |s| s.connects,
                |s| s.failures_total,
                |s| s.lost,
            ];
            for f in figures {
                prop_assert_eq!(per.iter().map(|(_, s)| f(s)).sum::<u64>(), f(&sum));
            }
            prop_assert_eq!(store.active_sessions(&all).len() as u64, sum.active_total);
            prop_assert!(sum.connects >= sum.active_total);
            let hist = store.history_view(&all, 60, None);
            if let Some(last) = hist.last() {
                prop_assert_eq!(last.active_end as u64, sum.active_total);
                prop_assert!(hist.iter().all(|b| b.active_end >= 0 && b.connects >= 0));
            }
            // A filter on one database sees exactly that database's share.
            for (db, n) in sum.by(Dim::Database) {
                let f = Filter::exact(Dim::Database, db);
                if std::str::from_utf8(db).is_ok() {
                    prop_assert_eq!(store.summary(&f).active_total, *n);
                }
            }
        }
        let before = store.summary(&all);
        let open = store.active_sessions(&all).len();
        store.clear();
        let sum = store.summary(&all);
        // Counters, failures, history and feed reset; the open sessions are the server's state.
        prop_assert_eq!(sum.connects + sum.disconnects + sum.lost + sum.terminated + sum.failures_total, 0);
        prop_assert_eq!(sum.active_total, before.active_total);
        prop_assert_eq!(&sum.by, &before.by);
        prop_assert_eq!(store.active_sessions(&all).len(), open);
        prop_assert!(store.history_view(&all, 60, None).iter().all(|b| b.connects == 0 && b.failures == 0));
        prop_assert_eq!(store.feed().iter().count(), 0);
    }
}
