//! The Ansible and kolla-ansible filters, tests and lookups that our defaults and templates
//! use, with Ansible's semantics (not Jinja2's where they differ, e.g. `bool`).
//!
//! Each is registered on the one environment in [`register`]; names and arguments are
//! Ansible's so that an operator's override file written for kolla-ansible renders the same.

use indexmap::IndexMap;
use minijinja::value::{Kwargs, Rest, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State, Value};

fn err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// Registers every filter, test and global function on `env`.
pub fn register(env: &mut Environment<'static>) {
    env.add_filter("bool", to_bool);
    // `default`, `is defined` and `is undefined` handle a missing name: it is not to blame
    // for a later failure
    env.add_filter("default", default);
    env.add_filter("d", default);
    env.add_test("defined", |v: &Value| {
        if v.is_undefined() {
            crate::scope::undefined_handled();
        }
        !v.is_undefined()
    });
    env.add_test("undefined", |v: &Value| {
        if v.is_undefined() {
            crate::scope::undefined_handled();
        }
        v.is_undefined()
    });
    env.add_filter("ternary", ternary);
    env.add_filter("combine", combine);
    env.add_filter("dict2items", dict2items);
    env.add_filter("items2dict", items2dict);
    env.add_filter("regex_replace", regex_replace);
    env.add_filter("regex_search", regex_search);
    env.add_filter("regex_findall", regex_findall);
    env.add_filter("to_json", to_json);
    env.add_filter("to_nice_json", to_nice_json);
    env.add_filter("to_yaml", to_yaml);
    env.add_filter("to_nice_yaml", to_nice_yaml);
    env.add_filter("from_yaml", from_yaml);
    env.add_filter("from_json", from_json);
    env.add_filter("ipwrap", ipwrap);
    env.add_filter("put_address_in_context", put_address_in_context);
    env.add_filter("kolla_address", kolla_address);
    env.add_filter("kolla_url", kolla_url);
    env.add_filter("unique", unique);
    env.add_filter("union", union);
    env.add_filter("difference", difference);
    env.add_filter("intersect", intersect);
    env.add_filter("flatten", flatten);
    env.add_filter("basename", basename);
    env.add_filter("dirname", dirname);
    env.add_filter("b64encode", b64encode);
    env.add_filter("quote", quote);
    env.add_filter("mandatory", mandatory);
    env.add_filter("split", split);
    env.add_filter("hash", hash);
    env.add_filter("type_debug", type_debug);
    env.add_filter("service_enabled", service_enabled);
    env.add_filter("service_mapped_to_host", service_mapped_to_host);
    env.add_filter(
        "service_enabled_and_mapped_to_host",
        service_enabled_and_mapped_to_host,
    );
    env.add_filter(
        "select_services_enabled_and_mapped_to_host",
        select_services_enabled_and_mapped_to_host,
    );
    env.add_filter("zip", zip);
    env.add_filter("extract", extract);
    env.add_filter("to_uuid", to_uuid);
    env.add_filter("bcrypt_hash", crate::crypt::bcrypt_hash);
    env.add_filter("random", random);
    env.add_filter("round", round);
    env.add_test("match", test_match);
    env.add_test("search", test_search);
    env.add_test("regex", test_search);
    env.add_test("version", test_version);
    env.add_test("bool", |v: Value| v.kind() == ValueKind::Bool);
    env.add_test("truthy", |v: Value| ansible_bool(&v));
    env.add_test("falsy", |v: Value| !ansible_bool(&v));
    env.add_test("subset", |a: Value, b: Value| -> Result<bool, Error> {
        let b: Vec<Value> = b.try_iter()?.collect();
        Ok(a.try_iter()?.all(|x| b.contains(&x)))
    });
    env.add_test("superset", |a: Value, b: Value| -> Result<bool, Error> {
        let a: Vec<Value> = a.try_iter()?.collect();
        Ok(b.try_iter()?.all(|x| a.contains(&x)))
    });
    env.add_filter("urlencode", urlencode);
    env.add_test("exists", |p: String| std::path::Path::new(&p).exists());
    env.add_test("file", |p: String| std::path::Path::new(&p).is_file());
    env.add_test("directory", |p: String| std::path::Path::new(&p).is_dir());
    env.add_function("lookup", lookup);
    env.add_function("query", lookup);
}

/// Jinja2's `urlencode` for strings: percent-encodes all but unreserved characters and `/`.
fn urlencode(v: String) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Ansible's `fileglob` lookup: the files (not directories) matching a pattern whose last
/// component may hold `*` and `?`, sorted.
fn fileglob(pattern: &str) -> Vec<Value> {
    fn matches(pat: &[char], name: &[char]) -> bool {
        match (pat.first(), name.first()) {
            (None, None) => true,
            (Some('*'), _) => {
                matches(&pat[1..], name) || (!name.is_empty() && matches(pat, &name[1..]))
            }
            (Some('?'), Some(_)) => matches(&pat[1..], &name[1..]),
            (Some(p), Some(n)) if p == n => matches(&pat[1..], &name[1..]),
            _ => false,
        }
    }
    let path = std::path::Path::new(pattern);
    let (dir, pat) = match (path.parent(), path.file_name()) {
        (Some(d), Some(f)) => (d, f.to_string_lossy().chars().collect::<Vec<_>>()),
        _ => return Vec::new(),
    };
    let mut out: Vec<String> = std::fs::read_dir(if dir.as_os_str().is_empty() {
        std::path::Path::new(".")
    } else {
        dir
    })
    .map(|rd| {
        rd.filter_map(|e| e.ok())
            .filter(|e| e.path().is_file())
            .filter(|e| {
                let n: Vec<char> = e.file_name().to_string_lossy().chars().collect();
                (n.first() != Some(&'.') || pat.first() == Some(&'.')) && matches(&pat, &n)
            })
            .map(|e| dir.join(e.file_name()).to_string_lossy().into_owned())
            .collect()
    })
    .unwrap_or_default();
    out.sort();
    out.into_iter().map(Value::from).collect()
}

/// Ansible's `bool`: true for True, 1, and the strings yes/on/1/true (any case).
pub fn ansible_bool(v: &Value) -> bool {
    match v.kind() {
        ValueKind::Bool => v.is_true(),
        ValueKind::Number => v.as_i64().map(|n| n == 1).unwrap_or(false) || v.to_string() == "1.0",
        ValueKind::String => matches!(
            v.as_str()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
                .as_str(),
            "yes" | "on" | "1" | "true" | "y" | "t"
        ),
        _ => false,
    }
}

fn to_bool(v: Value) -> Result<Value, Error> {
    if v.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            "bool of an undefined value",
        ));
    }
    Ok(Value::from(ansible_bool(&v)))
}

fn ternary(v: Value, yes: Value, no: Value, none: Option<Value>) -> Value {
    if v.is_none() {
        if let Some(n) = none {
            return n;
        }
    }
    if v.is_true() {
        yes
    } else {
        no
    }
}

fn to_map(v: &Value) -> Result<IndexMap<String, Value>, Error> {
    if v.is_none() || v.is_undefined() {
        return Ok(IndexMap::new());
    }
    if v.kind() != ValueKind::Map {
        return Err(err(format!("expected a mapping, got {}", v.kind())));
    }
    let mut out = IndexMap::new();
    for k in v.try_iter()? {
        let val = v.get_item(&k)?;
        out.insert(k.to_string(), val);
    }
    Ok(out)
}

fn merge(a: &Value, b: &Value, recursive: bool, list_merge: &str) -> Result<Value, Error> {
    let mut out = to_map(a)?;
    for (k, v) in to_map(b)? {
        let merged = match out.get(&k) {
            Some(old)
                if recursive && old.kind() == ValueKind::Map && v.kind() == ValueKind::Map =>
            {
                merge(old, &v, true, list_merge)?
            }
            Some(old)
                if old.kind() == ValueKind::Seq
                    && v.kind() == ValueKind::Seq
                    && list_merge != "replace" =>
            {
                let mut items: Vec<Value> = old.try_iter()?.collect();
                match list_merge {
                    "append" => items.extend(v.try_iter()?),
                    "prepend" => {
                        let mut n: Vec<Value> = v.try_iter()?.collect();
                        n.extend(items);
                        items = n;
                    }
                    "append_rp" => {
                        let new: Vec<Value> = v.try_iter()?.collect();
                        items.retain(|x| !new.contains(x));
                        items.extend(new);
                    }
                    "keep" => {}
                    other => return Err(err(format!("combine: unknown list_merge {other:?}"))),
                }
                Value::from(items)
            }
            _ => v,
        };
        out.insert(k, merged);
    }
    Ok(Value::from_iter(out))
}

fn combine(base: Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let recursive: bool = kwargs.get::<Option<bool>>("recursive")?.unwrap_or(false);
    let list_merge: String = kwargs
        .get::<Option<String>>("list_merge")?
        .unwrap_or_else(|| "replace".into());
    kwargs.assert_all_used()?;
    let mut acc = base;
    for o in others.iter() {
        if o.kind() == ValueKind::Seq {
            for item in o.try_iter()? {
                acc = merge(&acc, &item, recursive, &list_merge)?;
            }
        } else {
            acc = merge(&acc, o, recursive, &list_merge)?;
        }
    }
    Ok(acc)
}

fn dict2items(v: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let key_name: String = kwargs
        .get::<Option<String>>("key_name")?
        .unwrap_or_else(|| "key".into());
    let value_name: String = kwargs
        .get::<Option<String>>("value_name")?
        .unwrap_or_else(|| "value".into());
    kwargs.assert_all_used()?;
    let items: Vec<Value> = to_map(&v)?
        .into_iter()
        .map(|(k, val)| {
            let mut m = IndexMap::new();
            m.insert(key_name.clone(), Value::from(k));
            m.insert(value_name.clone(), val);
            Value::from_iter(m)
        })
        .collect();
    Ok(Value::from(items))
}

fn items2dict(v: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let key_name: String = kwargs
        .get::<Option<String>>("key_name")?
        .unwrap_or_else(|| "key".into());
    let value_name: String = kwargs
        .get::<Option<String>>("value_name")?
        .unwrap_or_else(|| "value".into());
    kwargs.assert_all_used()?;
    let mut out = IndexMap::new();
    for item in v.try_iter()? {
        out.insert(
            item.get_attr(&key_name)?.to_string(),
            item.get_attr(&value_name)?,
        );
    }
    Ok(Value::from_iter(out))
}

fn regex(pattern: &str, ignorecase: bool) -> Result<regex::Regex, Error> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(ignorecase)
        .build()
        .map_err(|e| err(format!("invalid regular expression {pattern:?}: {e}")))
}

/// Python's `\1` / `\g<name>` replacement syntax, as `regex`'s `${1}` / `${name}`.
fn python_replacement(repl: &str) -> String {
    let mut out = String::new();
    let mut chars = repl.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.peek() {
                Some(d) if d.is_ascii_digit() => {
                    let mut num = String::new();
                    while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                        num.push(*d);
                        chars.next();
                    }
                    out.push_str(&format!("${{{num}}}"));
                }
                Some('g') => {
                    chars.next();
                    if chars.peek() == Some(&'<') {
                        chars.next();
                        let name: String = chars.by_ref().take_while(|c| *c != '>').collect();
                        out.push_str(&format!("${{{name}}}"));
                    } else {
                        out.push_str("\\g");
                    }
                }
                Some('n') => {
                    chars.next();
                    out.push('\n');
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

fn regex_replace(
    v: Value,
    pattern: String,
    repl: Option<String>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let ignorecase: bool = kwargs.get::<Option<bool>>("ignorecase")?.unwrap_or(false);
    let _multiline: Option<bool> = kwargs.get("multiline")?;
    kwargs.assert_all_used()?;
    let re = regex(&pattern, ignorecase)?;
    let s = v.to_string();
    Ok(Value::from(
        re.replace_all(&s, python_replacement(&repl.unwrap_or_default()).as_str())
            .into_owned(),
    ))
}

fn regex_search(v: Value, pattern: String, kwargs: Kwargs) -> Result<Value, Error> {
    let ignorecase: bool = kwargs.get::<Option<bool>>("ignorecase")?.unwrap_or(false);
    kwargs.assert_all_used()?;
    let re = regex(&pattern, ignorecase)?;
    Ok(re
        .find(&v.to_string())
        .map(|m| Value::from(m.as_str()))
        .unwrap_or(Value::from(())))
}

fn regex_findall(v: Value, pattern: String) -> Result<Value, Error> {
    let re = regex(&pattern, false)?;
    let s = v.to_string();
    Ok(Value::from(
        re.find_iter(&s)
            .map(|m| Value::from(m.as_str()))
            .collect::<Vec<_>>(),
    ))
}

fn test_match(v: Value, pattern: String, kwargs: Kwargs) -> Result<bool, Error> {
    let ignorecase: bool = kwargs.get::<Option<bool>>("ignorecase")?.unwrap_or(false);
    kwargs.assert_all_used()?;
    let re = regex(&format!("^(?:{pattern})"), ignorecase)?;
    Ok(re.is_match(&v.to_string()))
}

fn test_search(v: Value, pattern: String, kwargs: Kwargs) -> Result<bool, Error> {
    let ignorecase: bool = kwargs.get::<Option<bool>>("ignorecase")?.unwrap_or(false);
    kwargs.assert_all_used()?;
    Ok(regex(&pattern, ignorecase)?.is_match(&v.to_string()))
}

fn version_key(s: &str) -> Vec<u64> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse().unwrap_or(0))
        .collect()
}

fn test_version(v: Value, other: String, op: Option<String>) -> Result<bool, Error> {
    let a = version_key(&v.to_string());
    let b = version_key(&other);
    let ord = a.cmp(&b);
    use std::cmp::Ordering::*;
    Ok(match op.as_deref().unwrap_or("eq") {
        "<" | "lt" => ord == Less,
        "<=" | "le" => ord != Greater,
        ">" | "gt" => ord == Greater,
        ">=" | "ge" => ord != Less,
        "==" | "=" | "eq" => ord == Equal,
        "!=" | "<>" | "ne" => ord != Equal,
        other => return Err(err(format!("version test: unknown operator {other:?}"))),
    })
}

fn value_to_json(v: &Value) -> Result<serde_json::Value, Error> {
    serde_json::to_value(v).map_err(|e| err(format!("cannot serialize to JSON: {e}")))
}

fn to_json(v: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let sort_keys: bool = kwargs.get::<Option<bool>>("sort_keys")?.unwrap_or(false);
    let _: Option<Value> = kwargs.get("ensure_ascii")?;
    kwargs.assert_all_used()?;
    let j = value_to_json(&v)?;
    let j = if sort_keys { sort_json(j) } else { j };
    Ok(Value::from(python_json(&j, None)))
}

fn to_nice_json(v: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let indent: usize = kwargs.get::<Option<usize>>("indent")?.unwrap_or(4);
    let _: Option<bool> = kwargs.get("sort_keys")?;
    kwargs.assert_all_used()?;
    let j = sort_json(value_to_json(&v)?);
    Ok(Value::from(python_json(&j, Some(indent))))
}

fn sort_json(j: serde_json::Value) -> serde_json::Value {
    match j {
        serde_json::Value::Object(m) => {
            let mut entries: Vec<(String, serde_json::Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sort_json(v)))
                    .collect(),
            )
        }
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.into_iter().map(sort_json).collect())
        }
        other => other,
    }
}

/// JSON as Python's `json.dumps` writes it (`", "` and `": "` separators without indent).
///
/// Written into one buffer: `ns.out | to_json` of a large structure (kolla's
/// `loadbalancer_haproxy_services`) runs once per host, and building a string per node
/// then copying it into its parent's was a good share of each host's render time.
fn python_json(j: &serde_json::Value, indent: Option<usize>) -> String {
    let mut out = Vec::new();
    write_python_json(&mut out, j, indent, 0);
    // serde_json writes UTF-8 and so do we: only ASCII punctuation is added around it
    String::from_utf8(out).expect("JSON text is UTF-8")
}

fn write_python_json(
    out: &mut Vec<u8>,
    j: &serde_json::Value,
    indent: Option<usize>,
    level: usize,
) {
    use serde_json::Value as J;
    let pad = |out: &mut Vec<u8>, l: usize| {
        if let Some(i) = indent {
            out.resize(out.len() + i * l, b' ');
        }
    };
    // `[`/`{`, the items (one per line, indented, with an indent), then the closing bracket
    let (open, close, len) = match j {
        J::Array(a) => (b'[', b']', a.len()),
        J::Object(o) => (b'{', b'}', o.len()),
        other => {
            serde_json::to_writer(&mut *out, other).expect("writing to memory");
            return;
        }
    };
    out.push(open);
    if len == 0 {
        out.push(close);
        return;
    }
    let sep: &[u8] = if indent.is_some() { b",\n" } else { b", " };
    if indent.is_some() {
        out.push(b'\n');
    }
    let item = |out: &mut Vec<u8>, n: usize| {
        if n > 0 {
            out.extend_from_slice(sep);
        }
        pad(out, level + 1);
    };
    match j {
        J::Array(a) => {
            for (n, x) in a.iter().enumerate() {
                item(out, n);
                write_python_json(out, x, indent, level + 1);
            }
        }
        J::Object(o) => {
            for (n, (k, v)) in o.iter().enumerate() {
                item(out, n);
                serde_json::to_writer(&mut *out, k).expect("writing to memory");
                out.extend_from_slice(b": ");
                write_python_json(out, v, indent, level + 1);
            }
        }
        _ => unreachable!("scalars are written above"),
    }
    if indent.is_some() {
        out.push(b'\n');
        pad(out, level);
    }
    out.push(close);
}

fn to_yaml(v: Value) -> Result<Value, Error> {
    let j = value_to_json(&v)?;
    serde_yaml::to_string(&j)
        .map(Value::from)
        .map_err(|e| err(format!("cannot serialize to YAML: {e}")))
}

fn to_nice_yaml(v: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let _: Option<usize> = kwargs.get("indent")?;
    let _: Option<usize> = kwargs.get("width")?;
    kwargs.assert_all_used()?;
    to_yaml(v)
}

/// YAML 1.1, as Ansible's `from_yaml` (PyYAML) reads it: plain `yes` is a boolean, `'yes'` a
/// string.
fn from_yaml(v: String) -> Result<Value, Error> {
    let y = kollars_inputs::yaml::parse(std::path::Path::new("from_yaml"), &v)
        .map_err(|e| err(format!("from_yaml: {e}")))?;
    Ok(crate::engine::operator_value(&y))
}

fn from_json(v: String) -> Result<Value, Error> {
    let j: serde_json::Value =
        serde_json::from_str(&v).map_err(|e| err(format!("from_json: {e}")))?;
    Ok(Value::from_serialize(&j))
}

fn ipwrap(v: Value) -> Value {
    match v.as_str() {
        Some(s) if s.parse::<std::net::Ipv6Addr>().is_ok() => Value::from(format!("[{s}]")),
        _ => v,
    }
}

/// kolla's `put_address_in_context`: IPv6 addresses in URL, memcache or Erlang form.
pub fn address_in_context(address: &str, context: &str) -> Result<String, Error> {
    if !matches!(context, "url" | "memcache" | "rabbitmq") {
        return Err(err(format!(
            "put_address_in_context: unknown context {context:?}"
        )));
    }
    if !address.contains(':') && context != "rabbitmq" {
        return Ok(address.to_string());
    }
    match context {
        "url" => Ok(format!("[{address}]")),
        "memcache" => Ok(format!("inet6:[{address}]")),
        _ => match address.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V6(a)) => Ok(a
                .segments()
                .iter()
                .map(|s| format!("16#{s:x}"))
                .collect::<Vec<_>>()
                .join(",")),
            _ => Ok(address.replace('.', ",")),
        },
    }
}

fn put_address_in_context(address: String, context: String) -> Result<Value, Error> {
    address_in_context(&address, &context).map(Value::from)
}

fn kolla_url(
    fqdn: String,
    protocol: String,
    port: Value,
    path: Option<String>,
    context: Option<String>,
) -> Result<Value, Error> {
    let fqdn = address_in_context(&fqdn, context.as_deref().unwrap_or("url"))?;
    let port: i64 = match port.as_i64() {
        Some(p) => p,
        None => port
            .to_string()
            .trim()
            .parse()
            .map_err(|_| err(format!("kolla_url: invalid port {port}")))?,
    };
    let path = path.unwrap_or_default();
    let default_port = matches!(
        (protocol.as_str(), port),
        ("http" | "ws", 80) | ("https" | "wss", 443)
    );
    Ok(Value::from(if default_port {
        format!("{protocol}://{fqdn}{path}")
    } else {
        format!("{protocol}://{fqdn}:{port}{path}")
    }))
}

fn is_loopback(addr: &str) -> bool {
    addr.parse::<std::net::IpAddr>()
        .is_ok_and(|a| a.is_loopback())
}

/// kolla's `kolla_address`: the host's address on a named network (`api`, `storage`, …),
/// from `<network>_interface` and `<network>_address_family` and the host's facts.
fn kolla_address(
    state: &State,
    network: String,
    hostname: Option<String>,
    override_var: Option<String>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    // kolla's templates pass hostname and override_var by name as well as by position.
    let hostname = hostname.or(kwargs.get::<Option<String>>("hostname")?);
    let override_var = override_var.or(kwargs.get::<Option<String>>("override_var")?);
    kwargs.assert_all_used()?;
    let hostname = match hostname {
        Some(h) => h,
        None => state
            .lookup("inventory_hostname")
            .and_then(|v| v.as_str().map(str::to_string))
            .ok_or_else(|| err("kolla_address: 'inventory_hostname' is unavailable"))?,
    };
    let hostvars = state
        .lookup("hostvars")
        .ok_or_else(|| err("kolla_address: 'hostvars' is unavailable"))?;
    let host = hostvars.get_item(&Value::from(hostname.as_str()))?;
    if host.is_undefined() {
        return Err(err(format!(
            "kolla_address: '{hostname}' not in 'hostvars'"
        )));
    }
    let get = |k: &str| -> Result<Value, Error> { host.get_attr(k) };
    if let Some(ov) = override_var {
        let v = get(&ov)?;
        if !v.is_undefined() {
            let s = v.to_string();
            return s
                .parse::<std::net::IpAddr>()
                .map(|ip| Value::from(ip.to_string()))
                .map_err(|_| err(format!("variable '{ov}' for host '{hostname}' is set to '{s}', which is not a valid IPv4 or IPv6 address")));
        }
    }
    let iface = get(&format!("{network}_interface"))?;
    if iface.is_undefined() || iface.is_none() {
        return Err(err(format!(
            "Interface name undefined for network '{network}' (set '{network}_interface')"
        )));
    }
    let family = get(&format!("{network}_address_family"))?;
    if family.is_undefined() || family.is_none() {
        return Err(err(format!(
            "Address family undefined for network '{network}' (set '{network}_address_family')"
        )));
    }
    let family = family.to_string().to_lowercase();
    if family != "ipv4" && family != "ipv6" {
        return Err(err(format!(
            "Unknown address family '{family}' for network '{network}'"
        )));
    }
    let iface = iface.to_string();
    let facts = get("ansible_facts")?;
    let interface = facts.get_attr(&iface.replace('-', "_"))?;
    if interface.is_undefined() || interface.is_none() {
        return Err(err(format!(
            "Interface '{iface}' not present on host '{hostname}'"
        )));
    }
    let af = interface.get_attr(&family)?;
    if af.is_undefined() || af.is_none() {
        return Err(err(format!(
            "Address family '{family}' undefined on interface '{iface}' for host: '{hostname}'"
        )));
    }
    let address: Option<String> = if family == "ipv4" {
        let mut address = af.get_attr("address")?.as_str().map(str::to_string);
        if address.as_deref().is_some_and(is_loopback) {
            let secondaries = interface.get_attr("ipv4_secondaries")?;
            if !secondaries.is_undefined() && !secondaries.is_none() {
                for sec in secondaries.try_iter()? {
                    if let Some(a) = sec.get_attr("address")?.as_str() {
                        if !is_loopback(a) {
                            address = Some(a.to_string());
                            break;
                        }
                    }
                }
            }
        }
        address
    } else {
        let haproxy = get("enable_haproxy")?;
        if haproxy.is_undefined() {
            return Err(err("'enable_haproxy' variable is unavailable"));
        }
        let vips: Vec<String> = if ansible_bool(&haproxy) {
            ["kolla_internal_vip_address", "kolla_external_vip_address"]
                .iter()
                .filter_map(|k| {
                    get(k)
                        .ok()
                        .filter(|v| !v.is_undefined())
                        .map(|v| v.to_string())
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut found = None;
        for a in af.try_iter()? {
            let scope = a.get_attr("scope")?;
            let addr = a.get_attr("address")?.to_string();
            if scope.as_str() == Some("global") && !vips.contains(&addr) {
                found = Some(addr);
                break;
            }
        }
        found
    };
    address.map(Value::from).ok_or_else(|| {
        err(format!(
            "{family} address missing on interface '{iface}' for host '{hostname}'"
        ))
    })
}

fn seq(v: &Value) -> Result<Vec<Value>, Error> {
    if v.is_none() || v.is_undefined() {
        return Ok(Vec::new());
    }
    Ok(v.try_iter()?.collect())
}

fn unique(v: Value) -> Result<Value, Error> {
    let mut out: Vec<Value> = Vec::new();
    for x in seq(&v)? {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    Ok(Value::from(out))
}

fn union(a: Value, b: Value) -> Result<Value, Error> {
    let mut out: Vec<Value> = Vec::new();
    for x in seq(&a)?.into_iter().chain(seq(&b)?) {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    Ok(Value::from(out))
}

fn difference(a: Value, b: Value) -> Result<Value, Error> {
    let b = seq(&b)?;
    let mut out: Vec<Value> = Vec::new();
    for x in seq(&a)? {
        if !b.contains(&x) && !out.contains(&x) {
            out.push(x);
        }
    }
    Ok(Value::from(out))
}

fn intersect(a: Value, b: Value) -> Result<Value, Error> {
    let b = seq(&b)?;
    let mut out: Vec<Value> = Vec::new();
    for x in seq(&a)? {
        if b.contains(&x) && !out.contains(&x) {
            out.push(x);
        }
    }
    Ok(Value::from(out))
}

fn flatten(v: Value, levels: Option<usize>) -> Result<Value, Error> {
    fn go(v: &Value, depth: Option<usize>, out: &mut Vec<Value>) -> Result<(), Error> {
        for x in v.try_iter()? {
            if x.kind() == ValueKind::Seq && depth != Some(0) {
                go(&x, depth.map(|d| d - 1), out)?;
            } else if !x.is_none() {
                out.push(x);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    go(&v, levels, &mut out)?;
    Ok(Value::from(out))
}

fn basename(v: String) -> String {
    v.rsplit('/').next().unwrap_or("").to_string()
}

fn dirname(v: String) -> String {
    match v.rfind('/') {
        Some(0) => "/".into(),
        Some(i) => v[..i].to_string(),
        None => String::new(),
    }
}

fn b64encode(v: String) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = v.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = match chunk.len() {
            3 => (chunk[0] as u32) << 16 | (chunk[1] as u32) << 8 | chunk[2] as u32,
            2 => (chunk[0] as u32) << 16 | (chunk[1] as u32) << 8,
            _ => (chunk[0] as u32) << 16,
        };
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn quote(v: String) -> String {
    if !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c))
    {
        v
    } else {
        format!("'{}'", v.replace('\'', "'\"'\"'"))
    }
}

fn mandatory(v: Value, msg: Option<String>) -> Result<Value, Error> {
    if v.is_undefined() {
        // with a message, Ansible raises a filter error carrying it (shown as written);
        // without, an undefined-variable error (which names the variable)
        return Err(match msg {
            Some(msg) => Error::new(ErrorKind::InvalidOperation, msg),
            None => Error::new(ErrorKind::UndefinedError, "mandatory variable not defined"),
        });
    }
    Ok(v)
}

fn split(v: String, sep: Option<String>, maxsplit: Option<i64>) -> Value {
    let parts: Vec<Value> = match (sep.as_deref(), maxsplit) {
        (None, _) => v.split_whitespace().map(Value::from).collect(),
        (Some(s), Some(n)) if n >= 0 => v.splitn(n as usize + 1, s).map(Value::from).collect(),
        (Some(s), _) => v.split(s).map(Value::from).collect(),
    };
    Value::from(parts)
}

fn hash(v: String, algo: Option<String>) -> Result<Value, Error> {
    use sha2::Digest;
    match algo.as_deref().unwrap_or("sha1") {
        "sha256" => Ok(Value::from(format!(
            "{:x}",
            sha2::Sha256::digest(v.as_bytes())
        ))),
        "sha512" => Ok(Value::from(format!(
            "{:x}",
            sha2::Sha512::digest(v.as_bytes())
        ))),
        // Ansible's default; valkey's sentinel ids are sha1 of the host name.
        "sha1" => Ok(Value::from(
            sha1(v.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
        )),
        other => Err(err(format!("hash: unsupported algorithm {other:?}"))),
    }
}

fn type_debug(v: Value) -> &'static str {
    match v.kind() {
        ValueKind::Bool => "bool",
        ValueKind::Number if v.as_i64().is_some() => "int",
        ValueKind::Number => "float",
        ValueKind::String => "str",
        ValueKind::Seq => "list",
        ValueKind::Map => "dict",
        ValueKind::None => "NoneType",
        _ => "AnsibleUndefined",
    }
}

fn zip(a: Value, others: Rest<Value>) -> Result<Value, Error> {
    let lists: Vec<Vec<Value>> = std::iter::once(seq(&a))
        .chain(others.iter().map(seq))
        .collect::<Result<_, _>>()?;
    let n = lists.iter().map(Vec::len).min().unwrap_or(0);
    Ok(Value::from(
        (0..n)
            .map(|i| Value::from(lists.iter().map(|l| l[i].clone()).collect::<Vec<_>>()))
            .collect::<Vec<_>>(),
    ))
}

fn svc_enabled(svc: &Value) -> Result<bool, Error> {
    let enabled = svc.get_attr("enabled")?;
    if enabled.is_undefined() {
        return Err(err("service definition has no 'enabled' key"));
    }
    Ok(ansible_bool(&enabled))
}

fn svc_mapped(state: &State, svc: &Value) -> Result<bool, Error> {
    let hig = svc.get_attr("host_in_groups")?;
    if !hig.is_undefined() {
        return Ok(ansible_bool(&hig));
    }
    let group = svc.get_attr("group")?;
    if group.is_undefined() {
        return Err(err(
            "service definition has neither 'group' nor 'host_in_groups'",
        ));
    }
    let group = group.to_string();
    if group == "all" {
        return Ok(true);
    }
    let names = state.lookup("group_names").unwrap_or_default();
    Ok(seq(&names)?
        .iter()
        .any(|g| g.as_str() == Some(group.as_str())))
}

fn service_enabled(svc: Value) -> Result<bool, Error> {
    svc_enabled(&svc)
}

fn service_mapped_to_host(state: &State, svc: Value) -> Result<bool, Error> {
    svc_mapped(state, &svc)
}

fn service_enabled_and_mapped_to_host(state: &State, svc: Value) -> Result<bool, Error> {
    Ok(svc_enabled(&svc)? && svc_mapped(state, &svc)?)
}

fn select_services_enabled_and_mapped_to_host(
    state: &State,
    services: Value,
) -> Result<Value, Error> {
    let mut out = IndexMap::new();
    for (k, v) in to_map(&services)? {
        if svc_enabled(&v)? && svc_mapped(state, &v)? {
            out.insert(k, v);
        }
    }
    Ok(Value::from_iter(out))
}

/// Jinja's `default`.
fn default(state: &State, value: &Value, args: Rest<Value>) -> Result<Value, Error> {
    if value.is_undefined() {
        crate::scope::undefined_handled();
    }
    minijinja::filters::default(state, value, args)
}

/// `lookup('vars', name[, default=…])`, `lookup('env', NAME)`, `lookup('file', path)`.
fn lookup(state: &State, kind: String, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let default: Option<Value> = kwargs.get("default")?;
    let _: Option<bool> = kwargs.get("wantlist")?;
    kwargs.assert_all_used()?;
    match kind.as_str() {
        "vars" => {
            let mut out = Vec::new();
            for name in args.iter() {
                let name = name.to_string();
                match state.lookup(&name).filter(|v| !v.is_undefined()) {
                    Some(v) => out.push(v),
                    None => match &default {
                        Some(d) => {
                            crate::scope::undefined_handled();
                            out.push(d.clone())
                        }
                        None => {
                            return Err(Error::new(
                                ErrorKind::UndefinedError,
                                format!("No variable named '{name}' was found"),
                            ))
                        }
                    },
                }
            }
            Ok(if out.len() == 1 {
                out.remove(0)
            } else {
                Value::from(out)
            })
        }
        "env" => Ok(Value::from(
            args.first()
                .and_then(|n| std::env::var(n.to_string()).ok())
                .unwrap_or_default(),
        )),
        "file" => {
            let path = args.first().map(|p| p.to_string()).unwrap_or_default();
            std::fs::read_to_string(&path)
                .map(|s| Value::from(s.trim_end_matches('\n').to_string()))
                .map_err(|e| err(format!("lookup('file', {path:?}): {e}")))
        }
        "fileglob" => Ok(Value::from(
            args.iter()
                .flat_map(|p| fileglob(&p.to_string()))
                .collect::<Vec<_>>(),
        )),
        other => Err(err(format!("unsupported lookup plugin {other:?}"))),
    }
}

/// `extract(key, container[, morekey])`: `container[key][morekey]`, as in Ansible.
fn extract(key: Value, container: Value, morekey: Option<Value>) -> Result<Value, Error> {
    let v = container.get_item(&key)?;
    match morekey {
        Some(m) if m.kind() == ValueKind::Seq => {
            let mut cur = v;
            for k in m.try_iter()? {
                cur = cur.get_item(&k)?;
            }
            Ok(cur)
        }
        Some(m) => v.get_item(&m),
        None => Ok(v),
    }
}

/// Ansible's `random`: an item of a list, or a number of `range(start, end, step)`; with
/// `seed`, Python's pick for that seed (so the same as kolla-ansible's), else any.
fn random(end: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let seed: Option<Value> = kwargs.get("seed")?;
    let start: Option<i64> = kwargs.get("start")?;
    let step: Option<i64> = kwargs.get("step")?;
    kwargs.assert_all_used()?;
    let mut rng = match &seed {
        Some(s) if s.is_none() || s.is_undefined() => None,
        Some(s) => Some(match s.as_i64() {
            Some(n) if s.kind() == ValueKind::Number => {
                crate::pyrandom::PyRandom::from_int_seed(n.into())
            }
            _ => crate::pyrandom::PyRandom::from_str_seed(&s.to_string()),
        }),
        None => None,
    };
    let mut below = |n: u64| -> u64 {
        match rng.as_mut() {
            Some(r) => r.below(n),
            None => {
                use std::hash::{BuildHasher, Hasher};
                let mut h = std::collections::hash_map::RandomState::new().build_hasher();
                h.write_u64(n);
                h.finish() % n
            }
        }
    };
    if let Some(end) = end.as_i64().filter(|_| end.kind() == ValueKind::Number) {
        let (start, step) = (start.unwrap_or(0), step.unwrap_or(1));
        if step <= 0 {
            return Err(err(format!("random: step must be positive, not {step}")));
        }
        let count = (end - start + step - 1) / step;
        if count <= 0 {
            return Err(err(format!("random: empty range({start}, {end}, {step})")));
        }
        return Ok(Value::from(start + step * below(count as u64) as i64));
    }
    if start.is_some() || step.is_some() {
        return Err(err("random: start and step only apply to a number"));
    }
    let items: Vec<Value> = end.try_iter()?.collect();
    if items.is_empty() {
        return Err(err("random: cannot choose from an empty sequence"));
    }
    Ok(items[below(items.len() as u64) as usize].clone())
}

/// Jinja2's `round(value, precision=0, method='common')`: `common` is Python's `round` (half to
/// even), `ceil` and `floor` always up or down; the result stays a float.
fn round(value: f64, precision: Option<i32>, method: Option<String>) -> Result<Value, Error> {
    let scale = 10f64.powi(precision.unwrap_or(0));
    let x = value * scale;
    let r = match method.as_deref().unwrap_or("common") {
        "common" => x.round_ties_even(),
        "ceil" => x.ceil(),
        "floor" => x.floor(),
        other => {
            return Err(err(format!(
                "round: method must be common, ceil or floor, not {other:?}"
            )))
        }
    };
    Ok(Value::from(r / scale))
}

/// Ansible's `to_uuid`: a name-based (v5) UUID in Ansible's namespace, or in `namespace`.
fn to_uuid(name: String, namespace: Option<String>) -> Result<String, Error> {
    let ns = namespace.unwrap_or_else(|| "361E6D51-FAEC-444A-9079-341386DA8E2E".into());
    let hex: String = ns.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 {
        return Err(err(format!("to_uuid: invalid namespace {ns:?}")));
    }
    let mut data = Vec::with_capacity(16 + name.len());
    for i in 0..16 {
        data.push(
            u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
                .map_err(|_| err(format!("to_uuid: invalid namespace {ns:?}")))?,
        );
    }
    data.extend_from_slice(name.as_bytes());
    let digest = sha1(&data);
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    Ok(uuid_text(b, 5))
}

/// 16 bytes as an RFC 4122 UUID of `version` (variant bits set), in its dashed hex text:
/// the one formatter for name-based UUIDs here and `genpwd`'s random ones.
pub fn uuid_text(mut b: [u8; 16], version: u8) -> String {
    b[6] = (b[6] & 0x0f) | (version << 4);
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// SHA-1 (FIPS 180-4): name-based UUIDs and `hash('sha1')`.
fn sha1(msg: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut data = msg.to_vec();
    data.push(0x80);
    while data.len() % 64 != 56 {
        data.push(0);
    }
    data.extend_from_slice(&((msg.len() as u64) * 8).to_be_bytes());
    for chunk in data.chunks(64) {
        let mut w = [0u32; 80];
        for i in 0..16 {
            w[i] = u32::from_be_bytes([
                chunk[4 * i],
                chunk[4 * i + 1],
                chunk[4 * i + 2],
                chunk[4 * i + 3],
            ]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, x) in h.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}
