//! Errors of variable evaluation and template rendering. Each names the host and the
//! variable, template or expression that failed.

/// A variable or template that could not be evaluated for a host.
#[derive(Debug, Clone, thiserror::Error)]
pub enum VarError {
    /// A variable (or something it needs) is undefined.
    #[error("host {host}: {}", fmt_undefined(name, chain))]
    Undefined {
        /// The inventory host.
        host: String,
        /// What was being evaluated (a variable, template or expression).
        name: String,
        /// The undefined names it led to, outermost first.
        chain: Vec<String>,
    },
    /// Variables that need themselves.
    #[error("host {host}: variable cycle: {chain}")]
    Cycle {
        /// The inventory host.
        host: String,
        /// `a -> b -> a`.
        chain: String,
    },
    /// A template that failed to parse or render.
    #[error("host {host}: {template}{}: {message}", if *line > 0 { format!(" line {line}") } else { String::new() })]
    Template {
        /// The inventory host.
        host: String,
        /// Template name or the variable holding it.
        template: String,
        /// 1-based line, 0 if unknown.
        line: usize,
        /// What went wrong.
        message: String,
    },
    /// A host that is not in the inventory.
    #[error("unknown host {0:?}: not in the inventory")]
    UnknownHost(String),
}

/// The undefined name first (the operator's culprit, often a variable of globals.yml), then
/// what needed it and through which variables.
fn fmt_undefined(name: &str, chain: &[String]) -> String {
    let Some((last, through)) = chain.split_last() else {
        return format!("{name} is undefined");
    };
    let through = match through.is_empty() {
        true => String::new(),
        false => format!(
            " through {}",
            through
                .iter()
                .map(|c| format!("'{c}'"))
                .collect::<Vec<_>>()
                .join(" -> ")
        ),
    };
    format!("'{last}' is undefined (needed by {name}{through})")
}
