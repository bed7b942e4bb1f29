//! Looking one variable up for one host: precedence, the two caches, cycles.
//!
//! This is the heart of the lazy model: a name is evaluated the first time a template reads
//! it, and the result is kept once for every host when the evaluation read nothing
//! host-specific, else for this host only. Keeping the cache decisions and the cycle check in
//! one place is what makes "evaluated once" and "a cycle is named" hold for every caller.

use std::sync::Arc;

use minijinja::Value;

use super::diagnostics::{
    reset_diagnostics, set_fatal, taint, take_fatal, take_undefined, Frame, FRAMES, MISSES,
    UNDEFINED,
};
use super::report::What;
use super::HostScope;
use crate::error::VarError;

impl HostScope {
    /// The evaluated value of a variable.
    pub fn get(self: &Arc<Self>, key: &str) -> Result<Value, VarError> {
        reset_diagnostics();
        match self.lookup(key) {
            Some(v) => Ok(v),
            None => Err(take_fatal().unwrap_or_else(|| VarError::Undefined {
                host: self.name.clone(),
                name: format!("variable '{key}'"),
                chain: take_undefined().into_iter().filter(|c| c != key).collect(),
            })),
        }
    }

    /// Evaluates `raw` (no locals) once for every host when it reads nothing host-specific:
    /// `key` must name `raw` uniquely among the callers of this [`Vars`](crate::Vars) (e.g.
    /// `service nova-api`). Also says whether the result is the same on every host; a
    /// host-specific result is not kept.
    pub fn eval_shared(
        self: &Arc<Self>,
        key: &str,
        raw: &Value,
        what: &str,
    ) -> Result<(Value, bool), VarError> {
        self.eval_shared_with(key, raw, None, what)
    }

    /// [`HostScope::eval_shared`] with `locals`, which must be the same on every host that
    /// asks with this `key` (the key names them).
    pub fn eval_shared_with(
        self: &Arc<Self>,
        key: &str,
        raw: &Value,
        locals: Option<&Value>,
        what: &str,
    ) -> Result<(Value, bool), VarError> {
        if let Some(v) = self
            .globals
            .eval_cache
            .read()
            .expect("eval cache lock")
            .get(key)
        {
            return Ok((v.clone(), true));
        }
        let (v, same) = self.tracked(|| self.eval_value(raw, locals, &What::Text(what)))?;
        if same {
            self.globals
                .eval_cache
                .write()
                .expect("eval cache lock")
                .insert(key.to_string(), v.clone());
        }
        Ok((v, same))
    }

    /// Runs a top-level evaluation in a frame of its own, to learn whether it read anything
    /// host-specific.
    pub(super) fn tracked<T>(
        self: &Arc<Self>,
        f: impl FnOnce() -> Result<T, VarError>,
    ) -> Result<(T, bool), VarError> {
        reset_diagnostics();
        FRAMES.with(|s| {
            s.borrow_mut().push(Frame {
                scope: self.addr(),
                key: None,
                tainted: false,
            })
        });
        let out = f();
        let tainted = FRAMES.with(|s| s.borrow_mut().pop().is_some_and(|f| f.tainted));
        match out {
            Ok(v) => Ok((v, !tainted)),
            Err(e) => Err(take_fatal().unwrap_or(e)),
        }
    }

    /// Looks a variable up for a template: evaluated, cached; `None` when undefined or when
    /// its evaluation failed (the cause is kept for the caller).
    pub(super) fn lookup(self: &Arc<Self>, key: &str) -> Option<Value> {
        let me = self.addr();
        if let Some(v) = self.magic.get(key) {
            taint(me);
            return Some(v.clone());
        }
        let (raw, host_specific) = self.resolve(key);
        if host_specific {
            taint(me);
        } else if let Some(v) = self.globals.cache.read().expect("cache lock").get(key) {
            return Some(v.clone());
        }
        if let Some(v) = self.cache.lock().expect("cache lock").get(key) {
            // only host-specific results are cached per host
            taint(me);
            return Some(v.clone());
        }
        let Some(raw) = raw else {
            return self.special(key);
        };
        let cycle = FRAMES.with(|s| {
            let s = s.borrow();
            s.iter()
                .position(|f| f.scope == me && f.key.as_deref() == Some(key))
                .map(|pos| {
                    let mut chain: Vec<String> =
                        s[pos..].iter().filter_map(|f| f.key.clone()).collect();
                    chain.push(key.to_string());
                    chain
                })
        });
        if let Some(chain) = cycle {
            set_fatal(VarError::Cycle {
                host: self.name.clone(),
                chain: chain.join(" -> "),
            });
            return None;
        }
        FRAMES.with(|s| {
            s.borrow_mut().push(Frame {
                scope: me,
                key: Some(key.to_string()),
                tainted: false,
            })
        });
        let misses = MISSES.with(|m| m.borrow().len());
        let result = self.eval_value(raw, None, &What::Var(key));
        let tainted = FRAMES.with(|s| s.borrow_mut().pop().is_some_and(|f| f.tainted));
        if result.as_ref().is_ok_and(|v| !v.is_undefined()) {
            // what it did not find did not matter
            MISSES.with(|m| m.borrow_mut().truncate(misses));
        }
        if tainted {
            taint(me);
        }
        match result {
            Ok(v) if v.is_undefined() => {
                UNDEFINED.with(|u| u.borrow_mut().push(key.to_string()));
                None
            }
            Ok(v) => {
                if tainted || host_specific {
                    self.cache
                        .lock()
                        .expect("cache lock")
                        .insert(key.to_string(), v.clone());
                } else {
                    self.globals
                        .cache
                        .write()
                        .expect("cache lock")
                        .insert(key.to_string(), v.clone());
                }
                Some(v)
            }
            Err(e) => {
                if let VarError::Undefined { chain, .. } = &e {
                    UNDEFINED.with(|u| {
                        let mut u = u.borrow_mut();
                        u.extend(chain.iter().rev().cloned());
                        u.push(key.to_string());
                    });
                } else {
                    set_fatal(e);
                }
                None
            }
        }
    }
}
