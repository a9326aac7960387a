//! The AWS documentation's own examples and the error messages.

use super::FilterPattern;
use serde_json::value::RawValue;

fn on(json: &str, pattern: &str) -> bool {
    let raw: Box<RawValue> = serde_json::from_str(json).unwrap();
    FilterPattern::parse(pattern).unwrap_or_else(|e| panic!("{e}")).matches_fields(raw.as_ref(), raw.get())
}

const DOC_OBJECT: &str = r#"{"eventType": "UpdateTrail", "sourceIPAddress": "111.111.111.111", "arrayKey": ["value", "another value"], "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}], "SomeObject": null}"#;

#[test]
fn aws_selector_and_is_examples() {
    for p in [
        r#"{ $.eventType = "UpdateTrail" }"#,
        "{ $.sourceIPAddress != 123.123.* }",
        r#"{ $.arrayKey[0] = "value" }"#,
        "{ $.objectList[1].id = 2 }",
        "{ $.SomeObject IS NULL }",
        "{ $.SomeOtherObject NOT EXISTS }",
        r#"{ $.eventType = "*" && $.sourceIPAddress != 123.123.* }"#,
        r#"{ $.objectList[*].name = "b" }"#,
        r#"{ $.* = "UpdateTrail" }"#,
    ] {
        assert!(on(DOC_OBJECT, p), "{p} should match");
    }
    for p in [
        r#"{ $.eventType = "updatetrail" }"#,
        "{ $.sourceIPAddress != 111.111.* }",
        "{ $.objectList = 1 }",
        r#"{ $.objectList != "x" }"#,
        r#"{ $.arrayKey != "x" }"#,
        "{ $.SomeObject NOT EXISTS }",
        r#"{ $.SomeObject != "x" }"#,
        r#"{ $.missing != "x" }"#,
        "{ $.eventType IS NULL }",
    ] {
        assert!(!on(DOC_OBJECT, p), "{p} should not match");
    }
}

const USERS: &str = r#"{"user":{"id":1,"email":"John.Stiles@example.com"},"users":[{"id":2,"email":"John.Doe@example.com"},{"id":3,"email":"Jane.Doe@example.com"}],"actions":["GET","PUT","DELETE"],"coordinates":[[0,1,2],[4,5,6],[7,8,9]]}"#;

#[test]
fn aws_compound_examples_and_precedence() {
    assert!(on(USERS, r#"{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }"#));
    assert!(on(USERS, r#"{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }"#));
    assert!(!on(
        USERS,
        r#"{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }"#
    ));
    assert!(!on(USERS, r#"{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }"#));
    assert!(on(USERS, "{ $.coordinates[1][2] >= 6 && $.coordinates[1][2] < 6.5 }"));
}

#[test]
fn numbers() {
    let ev = r#"{"bandwidth": 80, "latency": 40, "number": [0.001, 1000], "acct": "012345678901", "code": "400", "f": 1.0}"#;
    for p in ["{ $.bandwidth > 75 }", "{ $.latency < 50 }", "{ $.number[0] = 1e-3 }", "{ $.number[1] != 1e+3 } || { $.number[1] = 1000 }"] {
        // The last one is not one pattern: only its first `{…}` would be valid.
        if p.contains("} ||") {
            assert!(FilterPattern::parse(p).is_err());
            continue;
        }
        assert!(on(ev, p), "{p}");
    }
    assert!(!on(ev, "{ $.number[1] != 1e+3 }"));
    assert!(on(ev, "{ $.acct = 012345678901 }"), "a string holding the same digits");
    assert!(on(ev, "{ $.code = 400 }") && on(ev, "{ $.code >= 400 }") && !on(ev, "{ $.code > 400 }"));
    assert!(on(ev, "{ $.f = 1 }") && on(ev, "{ $.bandwidth = 8* }"));
    assert!(!on(ev, "{ $.bandwidth > 75.5e1 }") && on(ev, "{ $.bandwidth >= +80 }"));
}

#[test]
fn booleans_wildcards_and_escapes() {
    let ev = r#"{"readOnly": true, "flag": false, "s": "a \"quoted\" b\\c", "empty": "", "t": "true"}"#;
    assert!(on(ev, "{ $.readOnly IS TRUE }") && on(ev, "{ $.flag IS FALSE }") && !on(ev, "{ $.t IS TRUE }"));
    assert!(on(ev, "{ $.readOnly = true }") && on(ev, "{ $.t = true }") && !on(ev, "{ $.readOnly = false }"));
    assert!(on(ev, r#"{ $.s = "a \"quoted\" b\\c" }"#));
    assert!(on(ev, r#"{ $.s = "*quoted*" }"#) && on(ev, r#"{ $.empty = "*" }"#) && !on(ev, r#"{ $.empty != "*" }"#));
    assert!(on(ev, r#"{ $.['readOnly'] IS TRUE }"#));
    let dotted = r#"{"a": {"b.c": "x"}}"#;
    assert!(on(dotted, "{ $.a.['b.c'] = x }") && !on(dotted, "{ $.a.b.c = x }"));
}

#[test]
fn regex_values_and_whole_pattern() {
    let ev = r#"{"eventType": "UpdateTrail", "errorCode": "Client.UnauthorizedOperation"}"#;
    assert!(on(ev, "{ $.eventType = %Trail% }") && on(ev, "{ $.eventType = %^Update[A-Z]%}") && !on(ev, "{ $.eventType != %Trail% }"));
    assert!(!on(ev, "%AUTHORIZED%") && on(ev, "%Unauthorized%"));
    for (p, at, msg) in [
        ("{ $.a = %(x)% }", 9, "parentheses"),
        ("{ $.a = %a b% }", 10, "not allowed"),
        ("{ $.a = %x% || $.b = %y% || $.c = %z% }", 34, "at most 2"),
        ("%é%", 1, "multi-byte"),
    ] {
        let e = FilterPattern::parse(p).unwrap_err();
        assert_eq!((e.position, e.message.contains(msg)), (at, true), "{p}: {e}");
    }
}

#[test]
fn term_patterns() {
    let lines = [
        "[ERROR 400] BAD REQUEST",
        "[ERROR 401] UNAUTHORIZED REQUEST",
        "[ERROR 419] MISSING ARGUMENTS",
        "[ERROR 420] INVALID ARGUMENTS",
        "[ERROR 500] INTERNAL SERVER ERROR",
    ];
    let hits = |p: &str| -> Vec<usize> {
        let f = FilterPattern::parse(p).unwrap();
        lines.iter().enumerate().filter(|(_, l)| f.matches_fields(&*empty(), l)).map(|(i, _)| i).collect()
    };
    assert_eq!(hits("ERROR"), [0, 1, 2, 3, 4]);
    assert_eq!(hits("ERROR ARGUMENTS"), [2, 3]);
    assert_eq!(hits("?ERROR ?ARGUMENTS"), [0, 1, 2, 3, 4]);
    assert_eq!(hits("\"INTERNAL SERVER ERROR\""), [4]);
    assert_eq!(hits("ERROR -ARGUMENTS"), [0, 1, 4]);
    assert_eq!(hits("\" \""), [0, 1, 2, 3, 4]);
    assert_eq!(hits(""), [0, 1, 2, 3, 4]);
    assert_eq!(hits("?MISSING ?INVALID -419"), [3]);
    assert_eq!(hits("error"), Vec::<usize>::new());
}

fn empty() -> Box<RawValue> {
    serde_json::from_str("{}").unwrap()
}

#[test]
fn errors_point_at_the_fault() {
    for (p, at, msg) in [
        ("{ $.a = 1 $.b = 2 }", 10, "expected `&&`"),
        ("{ ($.a = 1 }", 11, "expected `)`"),
        ("{ $.a }", 6, "expected a comparison"),
        ("{ a = 1 }", 2, "starting with `$.`"),
        ("{ $.a > \"x\" }", 8, "strings compare only"),
        ("{ $.a = \"x }", 8, "unclosed string"),
        ("{ $.a is null }", 6, "upper case"),
        ("{ $.a IS NOT NULL }", 9, "IS NOT"),
        ("{ $.a EXISTS }", 6, "not supported"),
        (" { $.a = 1 }", 0, "outside the braces"),
        ("{ $.a = 1 } ", 11, "outside the braces"),
        ("[ip, user]", 0, "space-delimited"),
        ("{ $.a = 1 &&  }", 14, "expected a comparison"),
        ("{ $. = 1 }", 2, "names no property"),
        ("-", 0, "right before a term"),
        ("{ $.a = 1 ", 9, "ends with `}`"),
        ("{", 1, "ends with `}`"),
    ] {
        let e = FilterPattern::parse(p).unwrap_err();
        assert_eq!(e.position, at, "{p}: {e}");
        assert!(e.message.contains(msg), "{p}: {e}");
    }
    let long = format!("{{ $.a = \"{}\" }}", "x".repeat(1100));
    assert!(FilterPattern::parse(&long).unwrap_err().message.contains("1024"));
    let shown = FilterPattern::parse("{ $.a = 1 $.b = 2 }").unwrap_err().to_string();
    assert_eq!(shown.lines().nth(2).unwrap(), format!("  {}^", " ".repeat(10)), "{shown}");
}

/// The byte screen in front of string tests (see `Cond::new`) never changes an answer: bare
/// numbers and booleans, escaped text, keys that look like values.
#[test]
fn needle_screen_keeps_answers() {
    for (json, pattern, want) in [
        (r#"{"readOnly": true}"#, r#"{ $.readOnly = "true" }"#, true),
        (r#"{"readOnly": false}"#, r#"{ $.readOnly = tru* }"#, false),
        (r#"{"code": 404}"#, "{ $.code = 40* }", true),
        (r#"{"code": 404}"#, "{ $.code = *04 }", true),
        (r#"{"type": "\u0052oot"}"#, r#"{ $.type = "Root" }"#, true),
        (r#"{"type": "Ro\u006ft"}"#, r#"{ $.type = "Ro*" }"#, true),
        (r#"{"Root": "x"}"#, r#"{ $.type = "Root" }"#, false),
        (r#"{"a": {"type": "Root"}}"#, r#"{ $.type = "Root" }"#, false),
        (r#"{"errorCode": "Client.UnauthorizedOperation"}"#, r#"{ $.errorCode = "*UnauthorizedOperation" }"#, true),
        (r#"{"errorCode": "AccessDeniedException"}"#, r#"{ $.errorCode = "AccessDenied*" }"#, true),
        (r#"{"errorCode": "xAccessDenied"}"#, r#"{ $.errorCode = "AccessDenied*" }"#, false),
        // Nested selectors, the ones that get the screen.
        (r#"{"a": {"readOnly": true}}"#, r#"{ $.a.readOnly = "true" }"#, true),
        (r#"{"a": {"code": 404}}"#, "{ $.a.code = 40* }", true),
        (r#"{"a": {"type": "\u0052oot"}}"#, r#"{ $.a.type = "Root" }"#, true),
        (r#"{"a": {"type": "Ro\u006ft"}}"#, r#"{ $.a.type = "Ro*" }"#, true),
        (r#"{"a": {"Root": "x"}, "type": "Root"}"#, r#"{ $.a.type = "Root" }"#, false),
        (r#"{"a": {"type": "Root"}}"#, r#"{ $.a.type = "Root" }"#, true),
        (r#"{"a": {"type": "Rooted"}}"#, r#"{ $.a.type = "Root" }"#, false),
        (r#"{"a": [{"type": "x"}, {"type": "AccessDeniedX"}]}"#, r#"{ $.a[1].type = "AccessDenied*" }"#, true),
    ] {
        assert_eq!(on(json, pattern), want, "{pattern} on {json}");
    }
}

/// `||` alternatives on one selector, folded into one test (see `Expr::merge_alternatives`),
/// answer as the alternatives do one by one: wildcard selectors, numbers and booleans written
/// bare, nesting, and tests that are not folded mixed in.
#[test]
fn merged_alternatives_keep_answers() {
    let alternatives = [
        r#"$.eventName = "Create*""#,
        "$.eventName = DeleteTrail",
        r#"$.errorCode = "*Denied""#,
        "$.a[*].b = x",
        r#"$.a[*].b = "y*""#,
        "$.a[*].b = 5",
        "$.eventName != StopLogging",
        "$.n = tru*",
        r#"$.n = "4*""#,
        "$.c.d = Root",
    ];
    let events = [
        r#"{"eventName": "CreateUser"}"#,
        r#"{"eventName": "DeleteTrail", "errorCode": "AccessDenied"}"#,
        r#"{"eventName": "StopLogging", "a": [{"b": "q"}, {"b": "yes"}]}"#,
        r#"{"eventName": "StopLogging", "a": [{"b": 5}, {"b": "x"}], "n": true}"#,
        r#"{"eventName": "StopLogging", "n": 42, "c": {"d": "Root"}}"#,
        r#"{"eventName": "StopLogging", "a": {"b": "x"}, "n": null}"#,
    ];
    for ev in events {
        for n in 2..=alternatives.len() {
            for start in 0..=alternatives.len() - n {
                let alts = &alternatives[start..start + n];
                let want = alts.iter().any(|a| on(ev, &format!("{{ {a} }}")));
                let flat = format!("{{ {} }}", alts.join(" || "));
                assert_eq!(on(ev, &flat), want, "{flat} on {ev}");
                let (left, right) = alts.split_at(n / 2);
                let nested = format!("{{ ({}) || ({}) }}", left.join(" || "), right.join(" || "));
                assert_eq!(on(ev, &nested), want, "{nested} on {ev}");
            }
        }
    }
}

/// Text tests on members the record decoded while reading (see `Expr::eval`) answer as the
/// record's lookup of the member does: numbers and booleans written bare, `null`, objects,
/// duplicate keys (the last counts), escapes, and a lone surrogate that does not decode.
#[test]
fn decoded_members_keep_answers() {
    /// The record without its decoded members.
    struct Walk<'r, 'a>(&'r crate::event::Record<'a>);
    impl crate::event::FieldLookup for Walk<'_, '_> {
        fn visit_path<'s>(
            &'s self,
            path: &[crate::event::Segment],
            f: &mut dyn FnMut(crate::event::Value<'s>) -> std::ops::ControlFlow<()>,
        ) -> std::ops::ControlFlow<()> {
            self.0.visit_path(path, f)
        }
    }
    let events = [
        r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"X","errorCode":"AccessDenied"}"#,
        r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"X","errorCode":404}"#,
        r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"X","errorCode":true}"#,
        r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"X","errorCode":null}"#,
        r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"X","errorCode":{"a":"AccessDenied"}}"#,
        r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"X","errorCode":"AccessDenied","errorCode":null}"#,
        r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"X","errorCode":null,"errorCode":"AccessDenied"}"#,
        r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"X","errorCode":"Access\u0044enied"}"#,
        r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"X","errorCode":"\ud800"}"#,
        r#"{"eventTime":"2024-01-01T00:00:00Z","eventName":"X","error\u0043ode":"AccessDenied","userAgent":"a\"b"}"#,
    ];
    let patterns = [
        r#"{ $.errorCode = "AccessDenied*" }"#,
        r#"{ $.errorCode != "AccessDenied" }"#,
        r#"{ $.errorCode = "*" }"#,
        "{ $.errorCode = 404 }",
        r#"{ $.errorCode = "tru*" }"#,
        "{ $.errorCode = %^Acc% }",
        r#"{ $.errorCode = "A*" || $.errorCode = "4*" }"#,
        r#"{ $.userAgent = "a\"b" }"#,
        "{ $.errorCode NOT EXISTS }",
        "{ $.errorCode IS NULL }",
    ];
    for ev in events {
        let rec = crate::event::Record::parse(ev).unwrap();
        for p in patterns {
            let p = FilterPattern::parse(p).unwrap();
            assert_eq!(p.matches(&rec), p.matches_fields(&Walk(&rec), ev), "{} on {ev}", p.text());
        }
    }
}
