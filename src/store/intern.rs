//! Interned names, the dimensions ([`Dim`]: database, user, application, host, server) and
//! their combinations every figure is kept by.
//!
//! Names come from an untrusted log, so both tables are capped: past the cap new names fold
//! into one `(other)` entry and memory stays bounded.

/// Names come from clients: a seeded hasher of good quality, fast on short keys.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::quality::RandomState>;
use std::sync::Arc;

/// A raw name from the log (bytes, possibly invalid UTF-8), cheap to clone.
pub type Name = Arc<[u8]>;

/// An interned name.
pub type Sym = u32;
/// Index of a combination (one name per [`Dim`]).
pub type ComboId = u32;

/// The symbol of an unset value (`unknown`).
pub const UNKNOWN: Sym = 0;
/// The symbol every name past the cap folds into.
pub const OTHER: Sym = 1;

/// Distinct names kept before folding into `(other)`.
const MAX_NAMES: usize = 32_768;
/// Distinct combinations kept before folding into the all-`(other)` combination.
const MAX_COMBOS: usize = 16_384;

/// The dimensions of a combination, one symbol each (see [`Dim`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Combo {
    pub database: Sym,
    pub user: Sym,
    pub application: Sym,
    pub host: Sym,
    /// The server (source label) the session is on; [`UNKNOWN`] when the store was given none.
    pub server: Sym,
}

/// One dimension every figure is kept by: the one list that tables, filters, maps, JSON
/// sections and metric labels iterate over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dim {
    Database,
    User,
    Application,
    Host,
    /// The server a session is on (a fleet: several labelled sources).
    Server,
}

impl Dim {
    /// How many dimensions there are (the length of per-dimension arrays).
    pub const COUNT: usize = 5;

    /// Every dimension, in display order ([`Dim::index`] is the position here).
    pub const ALL: [Dim; Dim::COUNT] = [
        Dim::Database,
        Dim::User,
        Dim::Application,
        Dim::Host,
        Dim::Server,
    ];

    /// The dimensions that describe the client (all but [`Dim::Server`]): the Summary tables
    /// and metric labels, where the server is shown on its own.
    pub const CLIENT: [Dim; 4] = [Dim::Database, Dim::User, Dim::Application, Dim::Host];

    /// The position in [`Dim::ALL`], for per-dimension arrays.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The dimension's name in reports and JSON (`database`, `user`, `application`, `host`,
    /// `server`; JSON sections are `by_` + this).
    pub fn key(self) -> &'static str {
        match self {
            Dim::Database => "database",
            Dim::User => "user",
            Dim::Application => "application",
            Dim::Host => "host",
            Dim::Server => "server",
        }
    }

    /// The title of its table (`Database`, ...).
    pub fn title(self) -> &'static str {
        match self {
            Dim::Database => "Database",
            Dim::User => "User",
            Dim::Application => "Application",
            Dim::Host => "Host",
            Dim::Server => "Server",
        }
    }

    /// The filter key of the dimension (`db`, `user`, `app`, `host`, `server`).
    pub fn filter_key(self) -> &'static str {
        match self {
            Dim::Database => "db",
            Dim::User => "user",
            Dim::Application => "app",
            Dim::Host => "host",
            Dim::Server => "server",
        }
    }

    /// The dimension a filter key names: [`Dim::filter_key`] or [`Dim::key`].
    pub fn from_key(key: &str) -> Option<Dim> {
        Dim::ALL
            .into_iter()
            .find(|d| d.filter_key() == key || d.key() == key)
    }
}

impl Combo {
    /// The symbol for one dimension.
    pub fn get(&self, dim: Dim) -> Sym {
        match dim {
            Dim::Database => self.database,
            Dim::User => self.user,
            Dim::Application => self.application,
            Dim::Host => self.host,
            Dim::Server => self.server,
        }
    }

    /// Sets the symbol of one dimension.
    pub fn set(&mut self, dim: Dim, sym: Sym) {
        match dim {
            Dim::Database => self.database = sym,
            Dim::User => self.user = sym,
            Dim::Application => self.application = sym,
            Dim::Host => self.host = sym,
            Dim::Server => self.server = sym,
        }
    }

    /// Every dimension set to `sym`.
    pub fn all(sym: Sym) -> Combo {
        let mut c = Combo::default();
        for d in Dim::ALL {
            c.set(d, sym);
        }
        c
    }
}

/// Slots of [`Interner::recent`].
const RECENT: usize = 64;

/// Names and combinations, both capped.
#[derive(Debug)]
pub struct Interner {
    names: Vec<Name>,
    by_name: HashMap<Name, Sym>,
    /// Symbols of names looked up lately, by their length and last byte ([`OTHER`]: none).
    /// Events repeat the names of the ones before (a few users, databases, applications):
    /// a hit costs one compare of the name instead of hashing it whole.
    recent: [Sym; RECENT],
    combos: Vec<Combo>,
    by_combo: HashMap<Combo, ComboId>,
}

/// The [`Interner::recent`] slot of a name.
fn recent_slot(name: &[u8]) -> usize {
    let last = name.last().map_or(0, |&c| usize::from(c));
    (name.len() * 7 + last) % RECENT
}

impl Default for Interner {
    fn default() -> Self {
        let mut i = Interner {
            names: Vec::new(),
            by_name: HashMap::default(),
            recent: [OTHER; RECENT],
            combos: Vec::new(),
            by_combo: HashMap::default(),
        };
        i.clear();
        i
    }
}

impl Interner {
    /// Forgets every name and combination.
    pub fn clear(&mut self) {
        self.names.clear();
        self.by_name.clear();
        self.recent = [OTHER; RECENT];
        self.combos.clear();
        self.by_combo.clear();
        self.names.push(Arc::from(&b"unknown"[..]));
        self.names.push(Arc::from(&b"(other)"[..]));
    }

    /// The symbol of a name (`None` → `unknown`); allocates only for a name not seen before.
    pub fn sym(&mut self, name: Option<&[u8]>) -> Sym {
        let Some(name) = name else { return UNKNOWN };
        let slot = recent_slot(name);
        let seen = self.recent[slot];
        // Slots hold names' symbols only (never UNKNOWN's or OTHER's placeholder text).
        if seen != OTHER && *self.names[seen as usize] == *name {
            return seen;
        }
        let s = match self.by_name.get(name) {
            Some(&s) => s,
            None if self.names.len() >= MAX_NAMES => return OTHER,
            None => {
                let s = self.names.len() as Sym;
                let n: Name = Arc::from(name);
                self.names.push(n.clone());
                self.by_name.insert(n, s);
                s
            }
        };
        self.recent[slot] = s;
        s
    }

    /// The symbol of a name if it is known, without adding it (a real name `unknown` is a name
    /// like any other, never the unset value).
    pub fn lookup(&self, name: &[u8]) -> Option<Sym> {
        self.by_name.get(name).copied()
    }

    /// The name of a symbol.
    pub fn name(&self, s: Sym) -> &Name {
        &self.names[s as usize]
    }

    /// The id of a combination, adding it if new (folded past the cap).
    pub fn combo(&mut self, c: Combo) -> ComboId {
        if let Some(&id) = self.by_combo.get(&c) {
            return id;
        }
        if self.combos.len() >= MAX_COMBOS {
            // The fold keeps the server: a fleet's figures still add up per server.
            let other = Combo {
                server: c.server,
                ..Combo::all(OTHER)
            };
            if let Some(&id) = self.by_combo.get(&other) {
                return id;
            }
            let id = self.combos.len() as ComboId;
            self.combos.push(other);
            self.by_combo.insert(other, id);
            return id;
        }
        let id = self.combos.len() as ComboId;
        self.combos.push(c);
        self.by_combo.insert(c, id);
        id
    }

    /// The combination behind an id (all `unknown` for an id not given out, such as the
    /// one a server reset carries before any session was seen).
    pub fn combo_of(&self, id: ComboId) -> Combo {
        self.combos.get(id as usize).copied().unwrap_or_default()
    }

    /// How many combinations exist.
    pub fn combo_count(&self) -> usize {
        self.combos.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dimension_is_at_its_index_with_distinct_keys() {
        for (i, d) in Dim::ALL.into_iter().enumerate() {
            assert_eq!(d.index(), i);
            assert_eq!(Dim::from_key(d.key()), Some(d));
            assert_eq!(Dim::from_key(d.filter_key()), Some(d));
        }
        let mut keys: Vec<&str> = Dim::ALL.iter().map(|d| d.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), Dim::COUNT);
        assert!(Dim::CLIENT.iter().all(|d| *d != Dim::Server));
        assert_eq!(Dim::from_key("colour"), None);
    }

    #[test]
    fn names_sharing_a_recent_slot_keep_their_own_symbols_and_the_cap_holds() {
        let mut names = Interner::default();
        // Same length and last byte: one slot of the recent cache, asked in turn.
        let words: Vec<Vec<u8>> = (0..40u8).map(|i| vec![b'a' + i % 26, i, b'z']).collect();
        let first: Vec<Sym> = words.iter().map(|w| names.sym(Some(w))).collect();
        for _ in 0..3 {
            for (w, &s) in words.iter().zip(&first) {
                assert_eq!(names.sym(Some(w)), s);
                assert_eq!(names.lookup(w), Some(s));
                assert_eq!(**names.name(s), **w);
            }
        }
        // The placeholders' texts are names like any other.
        let unknown = names.sym(Some(b"unknown"));
        assert!(unknown > OTHER);
        assert_eq!(names.sym(Some(b"unknown")), unknown);
        assert_eq!(names.sym(None), UNKNOWN);
        // Past the cap a new name folds into (other), however often it is asked.
        let mut n = 0u32;
        while names.names.len() < MAX_NAMES {
            names.sym(Some(format!("n{n}").as_bytes()));
            n += 1;
        }
        for _ in 0..2 {
            assert_eq!(names.sym(Some(b"late")), OTHER);
        }
        assert_eq!(names.sym(Some(&words[3])), first[3]);
        names.clear();
        assert_ne!(names.sym(Some(&words[3])), OTHER);
        assert_eq!(names.lookup(&words[4]), None);
    }

    #[test]
    fn combo_get_reads_what_set_wrote_and_the_fold_keeps_the_server() {
        let mut c = Combo::default();
        for (i, d) in Dim::ALL.into_iter().enumerate() {
            c.set(d, 10 + i as Sym);
        }
        for (i, d) in Dim::ALL.into_iter().enumerate() {
            assert_eq!(c.get(d), 10 + i as Sym);
        }
        let mut names = Interner::default();
        let a = names.sym(Some(b"a"));
        let b = names.sym(Some(b"b"));
        for n in 0..MAX_COMBOS as u32 {
            names.combo(Combo {
                user: n,
                server: a,
                ..Combo::default()
            });
        }
        let past = |server| Combo {
            user: 7,
            database: 7,
            server,
            ..Combo::default()
        };
        let (fa, fb) = (names.combo(past(a)), names.combo(past(b)));
        assert_ne!(fa, fb, "past the cap each server keeps its own (other)");
        assert_eq!(names.combo_of(fb).server, b);
        assert_eq!(names.combo_of(fb).user, OTHER);
    }
}
