//! Operator YAML, read as Ansible reads it: PyYAML, which implements YAML 1.1.
//!
//! serde_yaml follows YAML 1.2 and forgets how a scalar was written, so it cannot tell
//! `enable_x: yes` (a boolean for Ansible) from `enable_x: 'yes'` (the string `yes`). This
//! loader reads the event stream of `yaml-rust2`, which keeps each scalar's style, and resolves
//! *plain* (unquoted, untagged) scalars with PyYAML's implicit resolver; quoted and block
//! scalars are always strings. What PyYAML resolves differently from YAML 1.2:
//! - booleans: `yes/no/on/off/true/false` in lower, Title and UPPER case (not `y`/`n`);
//! - integers: `0755` is octal (493), `0b1010` binary, `0x1F` hex, `1_000` has separators,
//!   `1:20` is sexagesimal (80); `0o755` is *not* an integer (a string);
//! - floats need a dot: `1.5`, `1.0e+3`, `.5`, `1:20.5`, `.inf`, `.nan`; `1e3` is a string;
//! - null: `~`, `null`, `Null`, `NULL` and nothing at all;
//! - merge keys: `<<: *anchor` (or a list of them) merges mappings, explicit keys win.
//!
//! Timestamps (`2024-01-01`) stay strings: Ansible's date object prints as the same text.
//! Explicit standard tags (`!!str`, `!!int`, `!!float`, `!!bool`, `!!null`) are honoured;
//! any other tag (`!unsafe`, `!vault`) is kept as a [`Value::Tagged`] around the raw text, as
//! serde_yaml did. Like Ansible, a document that is valid JSON is read as JSON first. A
//! duplicate key is what Ansible makes of it: the last value wins, with a warning naming the
//! file and line ([`parse_warn`]).
//!
//! Hostile documents are refused with an error naming the file and line, never a crash:
//! nesting deeper than [`MAX_DEPTH`] (the loader recurses per level, and so does everything
//! that walks the value later) and documents whose aliases expand to more than [`MAX_NODES`]
//! nodes ("billion laughs": each alias is a copy, so a few lines can ask for gigabytes).

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use regex::Regex;
use serde_yaml::value::{Tag, TaggedValue};
use serde_yaml::{Mapping, Number, Value};
use yaml_rust2::parser::{Event, Parser, Tag as YTag};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

use crate::error::{InputError, Location};

/// The prefix `!!` stands for.
const CORE: &str = "tag:yaml.org,2002:";

/// The deepest nesting of sequences and mappings a document may have (serde_json's and
/// serde_yaml's limit too); kolla's inputs nest a handful of levels.
pub const MAX_DEPTH: usize = 128;

/// The most nodes a document may stand for once its aliases are expanded, a scalar counting
/// one more node per 64 bytes of text (a copied string costs its length). Real inputs are
/// thousands; the limit keeps a hostile document to some hundred megabytes.
pub const MAX_NODES: usize = 1_000_000;

/// Parses one YAML (or JSON) document the way Ansible's loader does; an empty document is
/// `Null`. `path` names the source in errors, which carry the line. Warnings (duplicate keys)
/// are dropped: inputs the operator wrote go through [`parse_warn`].
pub fn parse(path: &Path, text: &str) -> Result<Value, InputError> {
    parse_warn(path, text, &mut Vec::new())
}

/// [`parse`], pushing to `warnings` what Ansible warns about and accepts: a duplicate key
/// (the last value wins), as `path:line: ...`.
pub fn parse_warn(
    path: &Path,
    text: &str,
    warnings: &mut Vec<String>,
) -> Result<Value, InputError> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Ok(v);
    }
    let mut loader = Loader {
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        path,
        depth: 0,
        nodes: 0,
        warnings,
    };
    loader.document()
}

/// What a value is, for errors: never the value itself, which may be a secret.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// Resolves a plain scalar as PyYAML's implicit resolver and constructors do. `None` when
/// the text matches an integer or float pattern but cannot be converted (PyYAML fails too).
pub fn resolve_plain(text: &str) -> Option<Value> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Some(Value::Bool(true))
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Some(Value::Bool(false))
        }
        _ => {}
    }
    // Every number starts with one of these; most strings are settled without a regex.
    if !text.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.')) {
        return Some(Value::String(text.to_string()));
    }
    if float_re().is_match(text) {
        return construct_float(text).map(Value::Number);
    }
    if int_re().is_match(text) {
        return construct_int(text);
    }
    Some(Value::String(text.to_string()))
}

/// PyYAML's `Resolver` float pattern.
fn float_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            r"\A(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?",
            r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?",
            r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*",
            r"|[-+]?\.(?:inf|Inf|INF)",
            r"|\.(?:nan|NaN|NAN))\z",
        ))
        .expect("float pattern")
    })
}

/// PyYAML's `Resolver` int pattern.
fn int_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            r"\A(?:[-+]?0b[0-1_]+",
            r"|[-+]?0[0-7_]+",
            r"|[-+]?(?:0|[1-9][0-9_]*)",
            r"|[-+]?0x[0-9a-fA-F_]+",
            r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)\z",
        ))
        .expect("int pattern")
    })
}

/// Splits the sign off and drops `_` separators, as PyYAML's constructors do.
fn sign_and_digits(text: &str) -> (bool, String) {
    let v: String = text.chars().filter(|c| *c != '_').collect();
    match v.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (false, v.strip_prefix('+').unwrap_or(&v).to_string()),
    }
}

/// PyYAML's `construct_yaml_int`. A value beyond 64 bits (Python ints have no limit) becomes
/// its decimal text, which prints the same.
fn construct_int(text: &str) -> Option<Value> {
    let (neg, v) = sign_and_digits(text);
    let magnitude: i128 = if v == "0" {
        0
    } else if let Some(bin) = v.strip_prefix("0b") {
        i128::from_str_radix(bin, 2).ok()?
    } else if let Some(hex) = v.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()?
    } else if v.starts_with('0') {
        i128::from_str_radix(&v, 8).ok()?
    } else if v.contains(':') {
        v.split(':').try_fold(0i128, |acc, part| {
            acc.checked_mul(60)?.checked_add(part.parse::<i128>().ok()?)
        })?
    } else {
        v.parse().ok()?
    };
    let n = if neg { -magnitude } else { magnitude };
    Some(match (i64::try_from(n), u64::try_from(n)) {
        (Ok(i), _) => Value::Number(i.into()),
        (_, Ok(u)) => Value::Number(u.into()),
        _ => Value::String(n.to_string()),
    })
}

/// PyYAML's `construct_yaml_float`.
fn construct_float(text: &str) -> Option<Number> {
    let (neg, v) = sign_and_digits(text);
    let v = v.to_ascii_lowercase();
    let magnitude = if v == ".inf" {
        f64::INFINITY
    } else if v == ".nan" {
        return Some(Number::from(f64::NAN));
    } else if v.contains(':') {
        v.split(':').try_fold(0f64, |acc, part| {
            Some(acc * 60.0 + part.parse::<f64>().ok()?)
        })?
    } else {
        v.parse().ok()?
    };
    Some(Number::from(if neg { -magnitude } else { magnitude }))
}

/// Builds a serde_yaml [`Value`] from yaml-rust2's events.
struct Loader<'a> {
    parser: Parser<std::str::Chars<'a>>,
    /// Finished anchored nodes, by yaml-rust2's anchor id, with the nodes each stands for.
    anchors: HashMap<usize, (Value, usize)>,
    path: &'a Path,
    /// Collections open around the node being read.
    depth: usize,
    /// Nodes built so far, aliases counted as the nodes they copy (see [`MAX_NODES`]).
    nodes: usize,
    warnings: &'a mut Vec<String>,
}

impl Loader<'_> {
    fn error(&self, mark: Marker, message: impl std::fmt::Display) -> InputError {
        InputError::syntax(
            Location::new(self.path, mark.line()),
            format!("malformed YAML: {message}"),
        )
    }

    fn scan_error(&self, e: ScanError) -> InputError {
        self.error(*e.marker(), e.info())
    }

    fn next(&mut self) -> Result<(Event, Marker), InputError> {
        self.parser.next_token().map_err(|e| self.scan_error(e))
    }

    /// The stream's single document (PyYAML's `load` refuses several).
    fn document(&mut self) -> Result<Value, InputError> {
        let mut doc = None;
        loop {
            let (event, mark) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::StreamEnd => return Ok(doc.unwrap_or(Value::Null)),
                Event::DocumentStart if doc.is_some() => {
                    return Err(self.error(mark, "expected a single document in the stream"))
                }
                Event::DocumentStart => {
                    let (event, mark) = self.next()?;
                    doc = Some(self.node(event, mark)?);
                }
                other => return Err(self.error(mark, format!("unexpected {other:?}"))),
            }
        }
    }

    /// One node, starting with `event` (read at `mark`).
    fn node(&mut self, event: Event, mark: Marker) -> Result<Value, InputError> {
        let before = self.nodes;
        match event {
            Event::Alias(id) => {
                let (v, weight) = self
                    .anchors
                    .get(&id)
                    .ok_or_else(|| self.error(mark, "an alias refers to its own enclosing node"))?;
                let (v, weight) = (v.clone(), *weight);
                self.count(weight, mark)?;
                Ok(v)
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.count(1 + text.len() / 64, mark)?;
                let v = self.scalar(text, style, tag, mark)?;
                self.anchor(anchor, &v, before);
                Ok(v)
            }
            Event::SequenceStart(anchor, tag) => {
                self.open(mark)?;
                let mut items = Vec::new();
                loop {
                    let (event, mark) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(event, mark)?);
                }
                self.depth -= 1;
                let v = tagged(tag, Value::Sequence(items));
                self.anchor(anchor, &v, before);
                Ok(v)
            }
            Event::MappingStart(anchor, tag) => {
                self.open(mark)?;
                let v = tagged(tag, Value::Mapping(self.mapping()?));
                self.depth -= 1;
                self.anchor(anchor, &v, before);
                Ok(v)
            }
            other => Err(self.error(mark, format!("unexpected {other:?}"))),
        }
    }

    /// Enters a collection, one level deeper (see [`MAX_DEPTH`]).
    fn open(&mut self, mark: Marker) -> Result<(), InputError> {
        self.count(1, mark)?;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(
                mark,
                format!("nested deeper than {MAX_DEPTH} levels of lists and mappings"),
            ));
        }
        Ok(())
    }

    /// Counts `weight` more nodes (see [`MAX_NODES`]).
    fn count(&mut self, weight: usize, mark: Marker) -> Result<(), InputError> {
        self.nodes = self.nodes.saturating_add(weight);
        if self.nodes > MAX_NODES {
            return Err(self.error(
                mark,
                format!(
                    "the document expands to more than {MAX_NODES} nodes \
                     (aliases repeating anchors, a \"billion laughs\")"
                ),
            ));
        }
        Ok(())
    }

    /// Keeps an anchored node for its aliases, with the nodes it stands for (counted since
    /// `before`).
    fn anchor(&mut self, anchor: usize, v: &Value, before: usize) {
        if anchor > 0 {
            self.anchors
                .insert(anchor, (v.clone(), self.nodes.saturating_sub(before)));
        }
    }

    /// A mapping's entries up to its end, with merge keys applied as PyYAML's
    /// `flatten_mapping` does: merged entries first (of a list, the earlier mapping wins),
    /// then the mapping's own, which win.
    fn mapping(&mut self) -> Result<Mapping, InputError> {
        let mut merged: Vec<(Value, Value)> = Vec::new();
        let mut own = Mapping::new();
        loop {
            let (event, mark) = self.next()?;
            if matches!(event, Event::MappingEnd) {
                break;
            }
            let is_merge =
                matches!(&event, Event::Scalar(k, TScalarStyle::Plain, _, None) if k == "<<");
            let key = self.node(event, mark)?;
            let (event, value_mark) = self.next()?;
            let value = self.node(event, value_mark)?;
            if is_merge {
                let sources = match value {
                    Value::Mapping(m) => vec![m],
                    Value::Sequence(items) => items
                        .into_iter()
                        .map(|item| match item {
                            Value::Mapping(m) => Ok(m),
                            _ => Err(self.error(
                                value_mark,
                                "expected a mapping for merging (`<<`), found another value",
                            )),
                        })
                        .collect::<Result<_, _>>()?,
                    _ => {
                        return Err(self.error(
                            value_mark,
                            "expected a mapping or list of mappings for merging (`<<`)",
                        ))
                    }
                };
                for m in sources.into_iter().rev() {
                    merged.extend(m);
                }
            } else {
                if own.contains_key(&key) {
                    let name = match &key {
                        Value::String(s) => s.clone(),
                        other => format!("{other:?}"),
                    };
                    // Ansible's words: "found a duplicate dict key (…). Using last defined
                    // value only."
                    self.warnings.push(format!(
                        "{}: duplicate key {name:?}: using the last value only, as Ansible does",
                        Location::new(self.path, mark.line())
                    ));
                }
                own.insert(key, value);
            }
        }
        if merged.is_empty() {
            return Ok(own);
        }
        let mut out = Mapping::new();
        for (k, v) in merged.into_iter().chain(own) {
            out.insert(k, v);
        }
        Ok(out)
    }

    fn scalar(
        &self,
        text: String,
        style: TScalarStyle,
        tag: Option<YTag>,
        mark: Marker,
    ) -> Result<Value, InputError> {
        let bad = |what: &str| self.error(mark, format!("invalid {what} {text:?}"));
        match tag {
            None if style == TScalarStyle::Plain => resolve_plain(&text).ok_or_else(|| {
                bad(if text.contains('.') {
                    "float"
                } else {
                    "integer"
                })
            }),
            None => Ok(Value::String(text)),
            Some(t) if t.handle == CORE => match t.suffix.as_str() {
                "null" => Ok(Value::Null),
                "bool" => match text.to_ascii_lowercase().as_str() {
                    "yes" | "true" | "on" => Ok(Value::Bool(true)),
                    "no" | "false" | "off" => Ok(Value::Bool(false)),
                    _ => Err(bad("boolean")),
                },
                "int" => construct_int(&text).ok_or_else(|| bad("integer")),
                "float" => construct_float(&text)
                    .map(Value::Number)
                    .ok_or_else(|| bad("float")),
                "str" | "timestamp" | "binary" => Ok(Value::String(text)),
                _ => Ok(tagged(Some(t), Value::String(text))),
            },
            // `! text`: the non-specific tag, a string
            Some(t) if t.handle.is_empty() && t.suffix == "!" => Ok(Value::String(text)),
            Some(t) => Ok(tagged(Some(t), Value::String(text))),
        }
    }
}

/// Wraps a value in its tag, except the standard collection tags, which change nothing.
fn tagged(tag: Option<YTag>, value: Value) -> Value {
    let Some(t) = tag else { return value };
    let name = if t.handle == CORE {
        if matches!(t.suffix.as_str(), "map" | "seq" | "omap" | "set") {
            return value;
        }
        format!("!!{}", t.suffix)
    } else {
        format!("{}{}", t.handle, t.suffix)
    };
    Value::Tagged(Box::new(TaggedValue {
        tag: Tag::new(name),
        value,
    }))
}

#[cfg(test)]
mod tests {
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
}
