//! The per-thread state of evaluations in progress.
//!
//! Variables are evaluated inside minijinja callbacks (a template reads a name, the scope
//! evaluates it, which renders another template…), and a minijinja object can only answer
//! "undefined". So what the nested evaluations learn travels here, on the thread: the stack of
//! frames (to find cycles and to know whether anything host-specific was read), the first hard
//! failure, and the names that came out undefined, to blame the right one in the error.

use std::cell::RefCell;

use crate::error::VarError;

/// One evaluation in progress on this thread.
pub(super) struct Frame {
    /// The scope it runs in (its address).
    pub(super) scope: usize,
    /// The variable being evaluated (`None` for a top-level evaluation: a service dict, a
    /// config file's values, a template).
    pub(super) key: Option<String>,
    /// Whether it read anything host-specific of its own scope.
    pub(super) tainted: bool,
}

thread_local! {
    /// Evaluations in progress on this thread. A variable that repeats is a cycle.
    pub(super) static FRAMES: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
    /// The first hard failure inside a nested evaluation (cycle, syntax, filter error): minijinja
    /// objects can only answer "undefined", so the real cause travels here.
    pub(super) static FATAL: RefCell<Option<VarError>> = const { RefCell::new(None) };
    /// Why a nested variable came out undefined, innermost cause last.
    pub(super) static UNDEFINED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Marks the innermost evaluation as host-specific if it runs in scope `scope`.
pub(super) fn taint(scope: usize) {
    FRAMES.with(|f| {
        if let Some(top) = f.borrow_mut().last_mut() {
            if top.scope == scope {
                top.tainted = true;
            }
        }
    });
}

thread_local! {
    /// Names looked up and not found, with the lookup count at that moment, most recent last.
    /// One of them is usually why an expression came out undefined (see [`blame`]).
    pub(super) static MISSES: RefCell<Vec<(String, u64)>> = const { RefCell::new(Vec::new()) };
    /// Lookups made on this thread.
    pub(super) static LOOKUPS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Counts a lookup; records `missing` as not found.
pub(super) fn count_lookup(missing: Option<&str>) {
    let n = LOOKUPS.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    if let Some(name) = missing {
        MISSES.with(|m| m.borrow_mut().push((name.to_string(), n)));
    }
}

/// An undefined value was handled (`is defined`, `is undefined`, `default`): when it came
/// from the last lookup, that missing name explains nothing that fails later.
pub(crate) fn undefined_handled() {
    let n = LOOKUPS.with(|c| c.get());
    MISSES.with(|m| {
        let mut m = m.borrow_mut();
        if m.last().is_some_and(|(_, at)| *at == n) {
            m.pop();
        }
    });
}

/// The missing name to blame for an undefined failure: the most recent one not handled that
/// appears (as a whole name) in `span`, the failing part of the source, when it is known.
pub(super) fn blame(span: Option<&str>) -> Option<String> {
    let misses = MISSES.with(|m| std::mem::take(&mut *m.borrow_mut()));
    let mentions = |text: &str, name: &str| {
        let ident = |c: char| c.is_alphanumeric() || c == '_';
        text.match_indices(name).any(|(i, _)| {
            !text[..i].chars().next_back().is_some_and(ident)
                && !text[i + name.len()..].chars().next().is_some_and(ident)
        })
    };
    misses
        .into_iter()
        .rev()
        .map(|(name, _)| name)
        .find(|name| span.is_none_or(|text| mentions(text, name)))
}

pub(super) fn reset_diagnostics() {
    if FRAMES.with(|s| s.borrow().is_empty()) {
        FATAL.with(|f| f.borrow_mut().take());
        UNDEFINED.with(|u| u.borrow_mut().clear());
        MISSES.with(|m| m.borrow_mut().clear());
    }
}

pub(super) fn set_fatal(e: VarError) {
    FATAL.with(|f| {
        let mut f = f.borrow_mut();
        if f.is_none() {
            *f = Some(e);
        }
    });
}

pub(super) fn take_fatal() -> Option<VarError> {
    FATAL.with(|f| f.borrow_mut().take())
}

pub(super) fn take_undefined() -> Vec<String> {
    let mut v = UNDEFINED.with(|u| std::mem::take(&mut *u.borrow_mut()));
    v.reverse();
    v
}
