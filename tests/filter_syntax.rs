//! The filter's text syntax and matching: exact names as raw bytes, `(none)` for no value,
//! alternatives, negation, regexes, errors for empty or repeated keys, hints for names never
//! seen (issue 9, bugs 3, 5 and 7).

use pgconn_top::store::filter::{Cond, Filter, FilterError};
use pgconn_top::store::intern::{Combo, Dim, Interner, UNKNOWN};

#[test]
fn parse_and_print() {
    let f = Filter::parse(r#"db=production app="metabase reporting" host=::1"#).unwrap();
    assert_eq!(f.exact_value(Dim::Database), Some(&b"production"[..]));
    assert_eq!(
        f.exact_value(Dim::Application),
        Some(&b"metabase reporting"[..])
    );
    assert_eq!(f.exact_value(Dim::Host), Some(&b"::1"[..]));
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

#[test]
fn empty_and_repeated_values_are_errors() {
    assert_eq!(
        Filter::parse("db="),
        Err(FilterError::EmptyValue("db=".into()))
    );
    assert_eq!(
        Filter::parse("db=a db=b"),
        Err(FilterError::Repeated("db".into()))
    );
    assert!(Filter::parse("app~(")
        .unwrap_err()
        .to_string()
        .starts_with("'(' is not a regex"));
    let empty = Filter::parse("db=\"\"").unwrap();
    assert_eq!(empty.exact_value(Dim::Database), Some(&b""[..]));
    assert_eq!(empty.to_text(), "db=\"\"");
}

#[test]
fn none_keyword_alternatives_negation_regex_round_trip() {
    let f = Filter::parse(r#"db=a,"b c" user!=postgres app=(none) host~^10\."#).unwrap();
    assert_eq!(f.get(Dim::Application), Some(&Cond::missing()));
    assert_eq!(f.get(Dim::Database).unwrap().values.len(), 2);
    assert!(f.get(Dim::User).unwrap().negate);
    assert_eq!(Filter::parse(&f.to_text()).unwrap(), f);
    assert_eq!(
        f.to_text(),
        r#"db=a,"b c" user!=postgres app=(none) host~^10\."#
    );
    // A real application named `(none)` is written quoted and is not the keyword.
    let literal = Filter::exact(Dim::Application, b"(none)");
    assert_eq!(literal.to_text(), "app=\"(none)\"");
    assert_eq!(Filter::parse(&literal.to_text()).unwrap(), literal);
}

#[test]
fn raw_bytes_round_trip_and_match() {
    let raw = b"caf\xe9 \"x\"";
    let f = Filter::exact(Dim::Application, raw);
    assert_eq!(f.to_text(), r#"app="caf\xe9 \"x\"""#);
    assert_eq!(Filter::parse(&f.to_text()).unwrap(), f);
    let mut names = Interner::default();
    let app = names.sym(Some(raw));
    let lossy = names.sym(Some("caf\u{fffd} \"x\"".as_bytes()));
    let c = |application| Combo {
        application,
        ..Combo::default()
    };
    names.combo(c(app));
    let r = f.resolve(&names);
    assert!(r.matches(&c(app)));
    assert!(!r.matches(&c(lossy)));
    assert!(!r.matches(&c(UNKNOWN)));
}

#[test]
fn missing_is_not_a_name_called_unknown() {
    let mut names = Interner::default();
    let real = names.sym(Some(b"unknown"));
    assert_ne!(real, UNKNOWN);
    let c = |application| Combo {
        application,
        ..Combo::default()
    };
    names.combo(c(real));
    names.combo(c(UNKNOWN));
    let none = Filter::parse("app=(none)").unwrap().resolve(&names);
    assert!(none.matches(&c(UNKNOWN)) && !none.matches(&c(real)));
    let named = Filter::parse("app=unknown").unwrap().resolve(&names);
    assert!(named.matches(&c(real)) && !named.matches(&c(UNKNOWN)));
    let not = Filter::parse("app!=unknown").unwrap().resolve(&names);
    assert!(!not.matches(&c(real)) && not.matches(&c(UNKNOWN)));
    let re = Filter::parse("app~unk").unwrap().resolve(&names);
    assert!(re.matches(&c(real)) && !re.matches(&c(UNKNOWN)));
    let hint = Filter::parse("db=nosuch").unwrap().unknown_names(&names);
    assert_eq!(hint, vec!["no session ever had database 'nosuch'"]);
}

#[test]
fn reports_get_a_single_name_as_itself() {
    let f = Filter::parse(r#"app="metabase reporting" db=a,b user!=x"#).unwrap();
    assert_eq!(
        f.text_of(Dim::Application).as_deref(),
        Some("metabase reporting")
    );
    assert_eq!(f.text_of(Dim::Database).as_deref(), Some("a,b"));
    assert_eq!(f.text_of(Dim::User).as_deref(), Some("!=x"));
    assert_eq!(f.text_of(Dim::Host), None);
}
