//! The filter (database, user, application, host; exact, AND) that narrows every figure.

use super::intern::{Combo, Dim, Interner, Sym};

/// Exact values to keep; `None` keeps everything for that dimension.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub db: Option<String>,
    pub user: Option<String>,
    pub app: Option<String>,
    pub host: Option<String>,
}

/// Why a filter text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("unknown key '{0}': use db=, user=, app= or host=")]
    UnknownKey(String),
    #[error("'{0}' needs the form key=value")]
    MissingEquals(String),
    #[error("a quote is not closed")]
    Unclosed,
}

impl Filter {
    /// True when nothing is filtered.
    pub fn is_empty(&self) -> bool {
        self.db.is_none() && self.user.is_none() && self.app.is_none() && self.host.is_none()
    }

    /// The value for one dimension.
    pub fn get(&self, dim: Dim) -> Option<&str> {
        match dim {
            Dim::Database => self.db.as_deref(),
            Dim::User => self.user.as_deref(),
            Dim::Application => self.app.as_deref(),
            Dim::Host => self.host.as_deref(),
        }
    }

    /// Sets the value for one dimension.
    pub fn set(&mut self, dim: Dim, value: Option<String>) {
        let slot = match dim {
            Dim::Database => &mut self.db,
            Dim::User => &mut self.user,
            Dim::Application => &mut self.app,
            Dim::Host => &mut self.host,
        };
        *slot = value;
    }

    /// Reads `db=X user=Y app="metabase reporting" host=W` (any order, any subset).
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let mut f = Filter::default();
        let mut chars = text.chars().peekable();
        loop {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            if chars.peek().is_none() {
                return Ok(f);
            }
            let mut key = String::new();
            while let Some(&c) = chars.peek() {
                if c == '=' || c.is_whitespace() {
                    break;
                }
                key.push(c);
                chars.next();
            }
            if chars.next() != Some('=') {
                return Err(FilterError::MissingEquals(key));
            }
            let mut value = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => value.extend(chars.next()),
                        '"' => {
                            closed = true;
                            break;
                        }
                        _ => value.push(c),
                    }
                }
                if !closed {
                    return Err(FilterError::Unclosed);
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
            let dim = match key.as_str() {
                "db" | "database" => Dim::Database,
                "user" => Dim::User,
                "app" | "application" => Dim::Application,
                "host" => Dim::Host,
                _ => return Err(FilterError::UnknownKey(key)),
            };
            f.set(dim, Some(value));
        }
    }

    /// The filter as text that `parse` reads back.
    pub fn to_text(&self) -> String {
        let mut parts = Vec::new();
        for dim in Dim::ALL {
            if let Some(v) = self.get(dim) {
                if v.is_empty() || v.contains(|c: char| c.is_whitespace() || c == '"') {
                    parts.push(format!(
                        "{}=\"{}\"",
                        dim.key(),
                        v.replace('\\', "\\\\").replace('"', "\\\"")
                    ));
                } else {
                    parts.push(format!("{}={v}", dim.key()));
                }
            }
        }
        parts.join(" ")
    }

    /// The filter resolved against the interned names, for fast matching.
    pub fn resolve(&self, names: &Interner) -> Resolved {
        let one = |v: Option<&str>| match v {
            None => Want::Any,
            Some(v) => names.lookup(v.as_bytes()).map_or(Want::Nothing, Want::Sym),
        };
        Resolved([
            one(self.db.as_deref()),
            one(self.user.as_deref()),
            one(self.app.as_deref()),
            one(self.host.as_deref()),
        ])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Any,
    Nothing,
    Sym(Sym),
}

/// A filter ready to test combinations.
#[derive(Debug, Clone, Copy)]
pub struct Resolved([Want; 4]);

impl Resolved {
    /// Whether a combination passes.
    pub fn matches(&self, c: &Combo) -> bool {
        let ok = |w: Want, s: Sym| match w {
            Want::Any => true,
            Want::Nothing => false,
            Want::Sym(x) => x == s,
        };
        ok(self.0[0], c.database)
            && ok(self.0[1], c.user)
            && ok(self.0[2], c.application)
            && ok(self.0[3], c.host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        let f = Filter::parse(r#"db=production app="metabase reporting" host=::1"#).unwrap();
        assert_eq!(f.db.as_deref(), Some("production"));
        assert_eq!(f.app.as_deref(), Some("metabase reporting"));
        assert_eq!(f.host.as_deref(), Some("::1"));
        assert_eq!(Filter::parse(&f.to_text()).unwrap(), f);
        assert_eq!(
            Filter::parse("colour=red"),
            Err(FilterError::UnknownKey("colour".into()))
        );
        assert_eq!(Filter::parse("app=\"x"), Err(FilterError::Unclosed));
        assert_eq!(
            Filter::parse("production"),
            Err(FilterError::MissingEquals("production".into()))
        );
        assert!(Filter::parse("  ").unwrap().is_empty());
    }
}
