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
mod tests;
