//! The rows the Summary tab lists, keyed so a selection follows its row: the active count by
//! interned name of each dimension (the unset value its own row, never merged with a real
//! name that reads the same), and the open sessions in the chosen order.

use super::app::App;
use super::state::{Pane, RowKey};
use crate::store::filter::{display_name, Cond, Filter};
use crate::store::intern::{Dim, Name, Sym, OTHER, UNKNOWN};
use crate::store::views::ActiveSession;
use crate::store::Store;
use std::collections::HashMap;

/// One row of a by-dimension table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DimRow {
    /// The interned name ([`UNKNOWN`]: the log gave none).
    pub sym: Sym,
    /// The raw name.
    pub name: Name,
    /// How it is drawn (`(none)` for the unset value).
    pub label: String,
    /// Active sessions.
    pub count: u64,
}

impl DimRow {
    /// The row of the unset value, drawn dim.
    pub fn is_none(&self) -> bool {
        self.sym == UNKNOWN
    }

    /// The filter condition that keeps this row's sessions (`None` for the folded `(other)`).
    pub fn cond(&self) -> Option<Cond> {
        match self.sym {
            UNKNOWN => Some(Cond::missing()),
            OTHER => None,
            _ => Some(Cond::exact(&self.name)),
        }
    }
}

/// Active sessions by name of `dim` under `filter`, largest first, then by name; the servers
/// are every named server (one with no session too), in the order they were named.
pub fn dim_rows(store: &Store, filter: &Filter, dim: Dim) -> Vec<DimRow> {
    if dim == Dim::Server {
        return super::servers::server_dim_rows(store, filter);
    }
    let names = store.names();
    let f = filter.resolve(names);
    let mut counts: HashMap<Sym, u64> = HashMap::new();
    for (id, st) in store.combo_stats().iter().enumerate() {
        if st.active == 0 {
            continue;
        }
        let c = names.combo_of(id as u32);
        if f.matches(&c) {
            *counts.entry(c.get(dim)).or_default() += u64::from(st.active);
        }
    }
    let mut v: Vec<DimRow> = counts
        .into_iter()
        .map(|(sym, count)| DimRow {
            sym,
            name: names.name(sym).clone(),
            label: display_name(names, sym),
            count,
        })
        .collect();
    v.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| (a.sym == UNKNOWN).cmp(&(b.sym == UNKNOWN)))
            .then_with(|| a.name.cmp(&b.name))
    });
    v
}

impl App {
    /// The open sessions under the filter, in the chosen order.
    pub fn session_rows(&self) -> Vec<ActiveSession> {
        let mut v = self.engine.store.active_sessions(&self.filter);
        self.summary.sort.sort(&mut v);
        if self.summary.reversed {
            v.reverse();
        }
        v
    }

    /// The keys of a pane's rows, in order (the Failures pane has lines, not keyed rows).
    pub fn row_keys(&self, pane: Pane) -> Vec<RowKey> {
        match pane {
            Pane::By(d) => dim_rows(&self.engine.store, &self.filter, d)
                .iter()
                .map(|r| RowKey::Name(r.sym))
                .collect(),
            Pane::Sessions => self
                .session_rows()
                .iter()
                .map(|s| RowKey::Session(s.source, s.pid))
                .collect(),
            Pane::Failures => Vec::new(),
        }
    }

    /// The selected row of a pane among `keys`: the row picked, wherever it moved to, else the
    /// same position (clamped) when it is gone.
    pub fn selected_in(&self, pane: Pane, keys: &[RowKey]) -> usize {
        let i = pane.index();
        self.summary.picked[i]
            .and_then(|k| keys.iter().position(|x| *x == k))
            .unwrap_or(self.summary.selected[i])
            .min(keys.len().saturating_sub(1))
    }
}
