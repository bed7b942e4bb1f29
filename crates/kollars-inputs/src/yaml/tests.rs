//! The loader against PyYAML's readings, its limits and its errors.

use super::*;

fn load(text: &str) -> Value {
    parse(Path::new("t.yml"), text).unwrap()
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

#[test]
fn plain_booleans_are_booleans_quoted_ones_strings() {
    let v = load("a: yes\nb: 'yes'\nc: \"on\"\nd: On\ne: OFF\nf: n\ng: y\nh: |\n  no\n");
    assert_eq!(v["a"], Value::Bool(true));
    assert_eq!(v["b"], s("yes"));
    assert_eq!(v["c"], s("on"));
    assert_eq!(v["d"], Value::Bool(true));
    assert_eq!(v["e"], Value::Bool(false));
    assert_eq!(v["f"], s("n"));
    assert_eq!(v["g"], s("y"));
    assert_eq!(v["h"], s("no\n"));
}

#[test]
fn nested_in_lists_and_maps() {
    let v = load("l: [yes, 'no', {k: off, q: \"off\"}]\nm:\n  - Yes\n  - 'Yes'\n  - {on: 1}\n");
    assert_eq!(v["l"][0], Value::Bool(true));
    assert_eq!(v["l"][1], s("no"));
    assert_eq!(v["l"][2]["k"], Value::Bool(false));
    assert_eq!(v["l"][2]["q"], s("off"));
    assert_eq!(v["m"][0], Value::Bool(true));
    assert_eq!(v["m"][1], s("Yes"));
    // keys are resolved too, as PyYAML does
    assert_eq!(v["m"][2][&Value::Bool(true)], Value::Number(1.into()));
}

#[test]
fn yaml11_numbers() {
    let cases: &[(&str, Value)] = &[
        ("0755", Value::Number(493.into())),
        ("-010", Value::Number((-8).into())),
        ("0", Value::Number(0.into())),
        ("1_000", Value::Number(1000.into())),
        ("0x1F", Value::Number(31.into())),
        ("0b1010", Value::Number(10.into())),
        ("1:20", Value::Number(80.into())),
        ("+12", Value::Number(12.into())),
        ("1.5", Value::Number(1.5.into())),
        ("1.", Value::Number(1.0.into())),
        (".5", Value::Number(0.5.into())),
        ("1.0e+3", Value::Number(1000.0.into())),
        ("1:30.5", Value::Number(90.5.into())),
        ("-.inf", Value::Number(f64::NEG_INFINITY.into())),
        ("99999999999999999999", s("99999999999999999999")),
        // strings in YAML 1.1, numbers in YAML 1.2
        ("0o755", s("0o755")),
        ("1e3", s("1e3")),
        ("1.5e3", s("1.5e3")),
        ("09", s("09")),
        ("-.5", s("-.5")),
        ("2024-01-01", s("2024-01-01")),
        ("1.2.3", s("1.2.3")),
        ("192.0.2.1", s("192.0.2.1")),
    ];
    for (text, want) in cases {
        assert_eq!(&load(&format!("v: {text}\n"))["v"], want, "{text}");
        assert_eq!(load(&format!("v: '{text}'\n"))["v"], s(text), "'{text}'");
    }
    match &load("v: .nan\n")["v"] {
        Value::Number(n) => assert!(n.is_nan()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn nulls_tags_and_anchors() {
    let v = load(concat!(
        "a: ~\nb:\nc: null\nd: ''\n",
        "e: !!str yes\nf: !!int '0x10'\ng: !!bool 'Off'\nh: !unsafe '{{ x }}'\ni: ! 12\n",
        "base: &b {x: 1, y: on}\nj: *b\n",
    ));
    assert_eq!(v["a"], Value::Null);
    assert_eq!(v["b"], Value::Null);
    assert_eq!(v["c"], Value::Null);
    assert_eq!(v["d"], s(""));
    assert_eq!(v["e"], s("yes"));
    assert_eq!(v["f"], Value::Number(16.into()));
    assert_eq!(v["g"], Value::Bool(false));
    match &v["h"] {
        Value::Tagged(t) => {
            assert_eq!(t.tag, Tag::new("unsafe"));
            assert_eq!(t.value, s("{{ x }}"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(v["i"], s("12"));
    assert_eq!(v["j"]["y"], Value::Bool(true));
}

#[test]
fn merge_keys_as_pyyaml() {
    let v = load(concat!(
        "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\n",
        "one:\n  w: 0\n  <<: *a\n  x: 9\n",
        "two:\n  <<: [*a, *b]\n",
        "quoted:\n  '<<': 1\n",
    ));
    let keys = |m: &Value| -> Vec<String> {
        m.as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap().to_string())
            .collect()
    };
    // merged keys come first, the mapping's own win
    assert_eq!(keys(&v["one"]), ["x", "y", "w"]);
    assert_eq!(v["one"]["x"], Value::Number(9.into()));
    // of a list, the earlier mapping wins
    assert_eq!(v["two"]["y"], Value::Number(1.into()));
    assert_eq!(v["two"]["z"], Value::Number(2.into()));
    assert_eq!(v["quoted"]["<<"], Value::Number(1.into()));
    let err = parse(Path::new("m.yml"), "a: 1\nb:\n  <<: 3\n").unwrap_err();
    assert!(err.to_string().starts_with("m.yml:3: "), "{err}");
}

#[test]
fn json_is_read_as_json_first() {
    let v = load("{\"a\": \"yes\", \"b\": 1e3, \"c\": true}");
    assert_eq!(v["a"], s("yes"));
    assert_eq!(v["b"], Value::Number(1000.0.into()));
    assert_eq!(v["c"], Value::Bool(true));
}

#[test]
fn errors_name_file_and_line() {
    let err = |text: &str| parse(Path::new("g.yml"), text).unwrap_err().to_string();
    let e = err("a: 1\nb: [1,\nc: 2\n");
    assert!(e.starts_with("g.yml:3: malformed YAML: "), "{e}");
    let e = err("a: 1\n---\nb: 2\n");
    assert!(
        e.starts_with("g.yml:2: malformed YAML: expected a single"),
        "{e}"
    );
    let e = err("a: 1\nb: !!int nope\n");
    assert!(
        e.starts_with("g.yml:2: malformed YAML: invalid integer"),
        "{e}"
    );
    let e = err("a: *missing\n");
    assert!(e.starts_with("g.yml:1: malformed YAML: "), "{e}");
}

#[test]
fn a_duplicate_key_warns_and_the_last_wins_as_in_ansible() {
    let mut warnings = Vec::new();
    let v = parse_warn(Path::new("g.yml"), "a: 1\nb: 2\na: 3\n", &mut warnings).unwrap();
    assert_eq!(v["a"], Value::Number(3.into()));
    let keys: Vec<_> = v.as_mapping().unwrap().keys().cloned().collect();
    assert_eq!(keys, [s("a"), s("b")]);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("g.yml:3: duplicate key \"a\""),
        "{warnings:?}"
    );
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let err = |text: String| parse(Path::new("deep.yml"), &text).unwrap_err().to_string();
    let blocks: String = (0..1_000)
        .map(|i| format!("{}k:\n", " ".repeat(i)))
        .collect();
    let e = err(blocks);
    assert!(
        e.starts_with("deep.yml:129: malformed YAML: nested deeper than 128"),
        "{e}"
    );
    // flow collections: the scanner (its own limit of 255 levels) or the loader refuses
    let flow = |e: &str| {
        e.starts_with("deep.yml:1: malformed YAML: ")
            && (e.contains("nested deeper than 128") || e.contains("recursion limit"))
    };
    let e = err(format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000)));
    assert!(flow(&e), "{e}");
    let e = err(format!(
        "a: {}1{}",
        "{x: ".repeat(10_000),
        "}".repeat(10_000)
    ));
    assert!(flow(&e), "{e}");
    let e = err(format!("{}1{}", "[".repeat(200), "]".repeat(200)));
    assert!(e.contains("nested deeper than 128"), "{e}");
    // as deep as allowed still loads
    let ok = format!("{}1{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert!(parse(Path::new("ok.yml"), &ok).is_ok());
}

#[test]
fn an_alias_bomb_is_refused() {
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..12 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let e = parse(Path::new("bomb.yml"), &text).unwrap_err().to_string();
    assert!(e.starts_with("bomb.yml:"), "{e}");
    assert!(e.contains("more than 1000000 nodes"), "{e}");
    // a long string copied often counts its length
    let big = "x".repeat(1 << 20);
    let text = format!("s: &s {big}\nl: [{}]\n", vec!["*s"; 100].join(", "));
    let e = parse(Path::new("big.yml"), &text).unwrap_err().to_string();
    assert!(e.contains("more than 1000000 nodes"), "{e}");
    // aliases in moderation are fine
    let v = load("a: &a {x: [1, 2]}\nb: [*a, *a, *a]\n");
    assert_eq!(v["b"][2]["x"][1], Value::Number(2.into()));
}

#[test]
fn empty_document_is_null() {
    assert_eq!(load(""), Value::Null);
    assert_eq!(load("# only a comment\n"), Value::Null);
    assert_eq!(load("---\n"), Value::Null);
}
