//! Evaluating raw values and templates in one host's context.
//!
//! Service dicts, config values and templates all come through here, so a value means the
//! same thing wherever it is written. Most of kolla's defaults are `{{ name }}` or plain
//! interpolations; those are answered by lookups without compiling a template (see
//! [`syntax`](super::syntax)), which is where much of the speed of a render comes from.

use std::sync::Arc;

use indexmap::IndexMap;
use minijinja::Value;

use super::diagnostics::{blame, count_lookup, take_fatal, take_undefined};
use super::globals::RESULT_VAR;
use super::report::What;
use super::syntax::{is_identifier, is_template, plain_interpolation, single_expression};
use super::HostScope;
use crate::error::VarError;

impl HostScope {
    /// Evaluates a raw value (as written in YAML) in this host's context: strings are Jinja,
    /// lists and mappings are evaluated element by element. `locals` (a map) shadows variables.
    pub fn eval(
        self: &Arc<Self>,
        raw: &Value,
        locals: Option<&Value>,
        what: &str,
    ) -> Result<Value, VarError> {
        self.eval_tracked(raw, locals, what).map(|(v, _)| v)
    }

    /// [`HostScope::eval`], also saying whether the result is the same on every host: true
    /// when the evaluation read nothing host-specific of this scope (the caller answers for
    /// `locals`).
    pub fn eval_tracked(
        self: &Arc<Self>,
        raw: &Value,
        locals: Option<&Value>,
        what: &str,
    ) -> Result<(Value, bool), VarError> {
        self.tracked(|| self.eval_value(raw, locals, &What::Text(what)))
    }

    /// [`HostScope::render_template`], also saying whether the output is the same on every
    /// host (see [`HostScope::eval_tracked`]).
    pub fn render_template_tracked(
        self: &Arc<Self>,
        name: &str,
        locals: Option<&Value>,
    ) -> Result<(String, bool), VarError> {
        self.tracked(|| {
            let ctx = self.context(locals);
            let what = What::Text(name);
            let tmpl = self
                .globals
                .env
                .get_template(name)
                .map_err(|e| self.jinja_err(&what, e))?;
            tmpl.render(ctx)
                .map_err(|e| take_fatal().unwrap_or_else(|| self.jinja_err(&what, e)))
        })
    }

    /// Renders a template file (a name under the templates directory, or an absolute path of
    /// an operator's override) in this host's context.
    pub fn render_template(
        self: &Arc<Self>,
        name: &str,
        locals: Option<&Value>,
    ) -> Result<String, VarError> {
        self.render_template_tracked(name, locals).map(|(s, _)| s)
    }

    pub(super) fn eval_value(
        self: &Arc<Self>,
        raw: &Value,
        locals: Option<&Value>,
        what: &What,
    ) -> Result<Value, VarError> {
        if let Some(s) = raw.as_str() {
            return self.eval_str(s, locals, what);
        }
        match raw.kind() {
            minijinja::value::ValueKind::Seq => {
                let mut out = Vec::new();
                for item in raw.try_iter().map_err(|e| self.jinja_err(what, e))? {
                    out.push(self.eval_value(&item, locals, what)?);
                }
                Ok(Value::from(out))
            }
            minijinja::value::ValueKind::Map => {
                let mut out = IndexMap::new();
                for k in raw.try_iter().map_err(|e| self.jinja_err(what, e))? {
                    let v = raw.get_item(&k).map_err(|e| self.jinja_err(what, e))?;
                    out.insert(k.to_string(), self.eval_value(&v, locals, what)?);
                }
                Ok(Value::from_iter(out))
            }
            _ => Ok(raw.clone()),
        }
    }

    fn eval_str(
        self: &Arc<Self>,
        s: &str,
        locals: Option<&Value>,
        what: &What,
    ) -> Result<Value, VarError> {
        if !is_template(s) {
            return Ok(Value::from(s));
        }
        let globals = &self.globals;
        let single = single_expression(s);
        // `{{ name }}` (a good share of kolla's defaults): the lookup the template would make,
        // without compiling and running one
        if let Some(name) = single.filter(|e| is_identifier(e) && !globals.env_globals.contains(*e))
        {
            if let Some(v) = locals
                .and_then(|l| l.get_attr(name).ok())
                .filter(|v| !v.is_undefined())
            {
                return Ok(v);
            }
            let v = self.lookup(name);
            count_lookup((v.is_none() && self.raw(name).is_none()).then_some(name));
            return match v {
                Some(v) => Ok(v),
                None => Err(self.undefined(what, name)),
            };
        }
        if single.is_none() {
            if let Some(parts) = plain_interpolation(s) {
                if parts
                    .iter()
                    .all(|p| p.1.is_none_or(|n| !globals.env_globals.contains(n)))
                {
                    return self.interpolate(&parts, locals, what);
                }
            }
        }
        let ctx = self.context(locals);
        if let Some(expr) = single {
            let tmpl = globals
                .env
                .get_template(&globals.template_name(true, expr))
                .map_err(|e| self.jinja_err(what, e))?;
            let captured = tmpl
                .render_captured(ctx)
                .map_err(|e| self.jinja_err(what, e))?;
            let v = captured.state().lookup(RESULT_VAR).unwrap_or_default();
            if v.is_undefined() {
                return Err(self.undefined(what, expr));
            }
            return Ok(v);
        }
        let tmpl = globals
            .env
            .get_template(&globals.template_name(false, s))
            .map_err(|e| self.jinja_err(what, e))?;
        let out = tmpl.render(ctx).map_err(|e| self.jinja_err(what, e))?;
        Ok(Value::from(out))
    }

    /// `text{{ name }}text…` rendered as minijinja renders it (each value's `Display`, no
    /// escaping), without compiling a template.
    fn interpolate(
        self: &Arc<Self>,
        parts: &[(&str, Option<&str>)],
        locals: Option<&Value>,
        what: &What,
    ) -> Result<Value, VarError> {
        use std::fmt::Write;
        let mut out = String::new();
        for (text, name) in parts {
            out.push_str(text);
            let Some(name) = name else { continue };
            let local = locals
                .and_then(|l| l.get_attr(name).ok())
                .filter(|v| !v.is_undefined());
            let v = match local {
                Some(v) => v,
                None => {
                    let v = self.lookup(name);
                    count_lookup((v.is_none() && self.raw(name).is_none()).then_some(name));
                    match v {
                        Some(v) => v,
                        None => {
                            // as a template's strict undefined error (see `jinja_err`)
                            if let Some(fatal) = take_fatal() {
                                return Err(fatal);
                            }
                            let mut chain = take_undefined();
                            if let Some(n) = blame(Some(name)) {
                                if !chain.contains(&n) {
                                    chain.push(n);
                                }
                            }
                            return Err(VarError::Undefined {
                                host: self.name.clone(),
                                name: self.clean_name(&what.to_string()),
                                chain,
                            });
                        }
                    }
                }
            };
            let _ = write!(out, "{v}");
        }
        Ok(Value::from(out))
    }

    fn context(self: &Arc<Self>, locals: Option<&Value>) -> Value {
        let me = Value::from_dyn_object(self.clone());
        match locals {
            Some(l) => minijinja::value::merge_maps([l.clone(), me]),
            None => me,
        }
    }
}
