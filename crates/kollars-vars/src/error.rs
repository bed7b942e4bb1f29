//! Errors of variable evaluation and template rendering. Each names the host and the
//! variable, template or expression that failed.

/// A variable or template that could not be evaluated for a host.
#[derive(Debug, Clone, thiserror::Error)]
pub enum VarError {
    /// A variable (or something it needs) is undefined.
    #[error("host {host}: {name} is undefined{}", fmt_chain(chain))]
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

fn fmt_chain(chain: &[String]) -> String {
    if chain.is_empty() {
        String::new()
    } else {
        format!(
            " (needs {})",
            chain
                .iter()
                .map(|c| format!("'{c}'"))
                .collect::<Vec<_>>()
                .join(" -> ")
        )
    }
}
