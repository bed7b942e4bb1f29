//! Turning a failed evaluation into the error the operator reads.
//!
//! minijinja reports inline sources under internal loader names and an undefined value
//! without saying which variable it was; an operator needs the host, the variable chain and
//! the source as written. The naming rules live here so every error reads the same way.

use minijinja::ErrorKind;

use super::diagnostics::{blame, take_fatal, take_undefined};
use super::globals::{EXPR_PREFIX, INLINE_PREFIX};
use super::HostScope;
use crate::error::VarError;

/// What is being evaluated, for error messages (formatted only when one is needed).
pub(super) enum What<'a> {
    Var(&'a str),
    Text(&'a str),
}

impl std::fmt::Display for What<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            What::Var(k) => write!(f, "variable '{k}'"),
            What::Text(t) => f.write_str(t),
        }
    }
}

impl HostScope {
    /// The error for an expression that came out undefined.
    pub(super) fn undefined(&self, what: &What, expr: &str) -> VarError {
        let mut chain = take_undefined();
        if let Some(name) = blame(Some(expr)) {
            if !chain.contains(&name) {
                chain.push(name);
            }
        }
        VarError::Undefined {
            host: self.name.clone(),
            name: what.to_string(),
            chain,
        }
    }

    pub(super) fn jinja_err(&self, what: &What, e: minijinja::Error) -> VarError {
        if let Some(fatal) = take_fatal() {
            return fatal;
        }
        let chain = take_undefined();
        if e.kind() == ErrorKind::UndefinedError {
            let mut chain = chain;
            let source = e
                .name()
                .and_then(|n| self.globals.env.get_template(n).ok())
                .map(|t| t.source().to_string());
            let span = source
                .as_deref()
                .and_then(|src| match (e.range(), e.line()) {
                    (Some(r), _) => src.get(r),
                    (None, Some(line)) => src.lines().nth(line.saturating_sub(1)),
                    (None, None) => None,
                });
            if let Some(name) = blame(span) {
                if !chain.contains(&name) {
                    chain.push(name);
                }
            }
            return VarError::Undefined {
                host: self.name.clone(),
                name: self.clean_name(&what.to_string()),
                chain,
            };
        }
        let mut detail = e
            .detail()
            .map(str::to_string)
            .unwrap_or_else(|| e.kind().to_string());
        let mut src = std::error::Error::source(&e);
        while let Some(inner) = src {
            detail.push_str(&format!(": {inner}"));
            src = inner.source();
        }
        let template = match (what, e.name()) {
            // a variable's own text is never printed: it may be a password
            (What::Var(k), Some(n)) if self.is_inline(n) => format!("variable '{k}'"),
            (What::Var(k), None) => format!("variable '{k}'"),
            (_, Some(n)) => self.clean_name(n),
            (_, None) => self.clean_name(&what.to_string()),
        };
        VarError::Template {
            host: self.name.clone(),
            template,
            line: e.line().unwrap_or(0),
            message: format!("{}: {detail}", e.kind()),
        }
    }

    /// Whether a template name stands for inline text (a variable's value, an expression).
    fn is_inline(&self, name: &str) -> bool {
        name.starts_with(INLINE_PREFIX)
            || name.starts_with(EXPR_PREFIX)
            || self
                .globals
                .inline
                .read()
                .expect("inline lock")
                .source(name)
                .is_some()
    }

    /// A template name as the operator should read it (inline sources shown as source).
    pub(super) fn clean_name(&self, name: &str) -> String {
        if let Some(src) = self
            .globals
            .inline
            .read()
            .expect("inline lock")
            .source(name)
        {
            return clean_name(src);
        }
        clean_name(name)
    }
}

fn clean_name(name: &str) -> String {
    if let Some(expr) = name.strip_prefix(EXPR_PREFIX) {
        format!("expression {{{{ {expr} }}}}")
    } else if let Some(src) = name.strip_prefix(INLINE_PREFIX) {
        format!("string {:?}", src.chars().take(80).collect::<String>())
    } else {
        name.to_string()
    }
}
