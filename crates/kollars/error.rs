//! How a run ends: the exit status, the error that marks the operator's inputs as wrong, and
//! the one mapping from a failure to an exit code.
//!
//! Errors follow one rule throughout kollars: a type's `Display` says what failed at its own
//! level and returns its cause from `source()`, never both, so `{:#}` prints every cause once.
//! [`BadInput`] is transparent: it marks an error (and its chain) as the operator's, without
//! adding text of its own.

use std::error::Error as StdError;

/// How a run ended, as the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything done.
    Success = 0,
    /// Something failed while acting on hosts.
    Failure = 1,
    /// The inputs are wrong; nothing was changed.
    BadInput = 2,
    /// Some hosts failed, others succeeded.
    HostFailed = 3,
}

impl ExitStatus {
    /// The exit status of a command that failed with `err`: bad input (exit 2) when any error
    /// of its chain is [`BadInput`], a failure (exit 1) otherwise.
    pub fn of_error(err: &anyhow::Error) -> ExitStatus {
        if err.chain().any(|e| e.is::<BadInput>()) {
            ExitStatus::BadInput
        } else {
            ExitStatus::Failure
        }
    }

    /// The status of a run whose hosts ended with these results: success, every host failed
    /// (1), or some failed (3).
    pub fn of_hosts(failed: usize, total: usize) -> ExitStatus {
        match failed {
            0 => ExitStatus::Success,
            f if f == total => ExitStatus::Failure,
            _ => ExitStatus::HostFailed,
        }
    }
}

/// An error in the operator's inputs: reported with exit code 2, and nothing was changed. Its
/// text and causes are those of the error it wraps.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct BadInput(Box<dyn StdError + Send + Sync + 'static>);

impl BadInput {
    /// A bad-input error with this message.
    pub fn new(msg: impl Into<String>) -> BadInput {
        BadInput(msg.into().into())
    }

    /// Marks an error (a library error with its causes, or a message) as bad input.
    pub fn from_err<E: Into<Box<dyn StdError + Send + Sync + 'static>>>(e: E) -> anyhow::Error {
        anyhow::Error::new(BadInput(e.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("reading globals.yml failed")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn bad_input_keeps_the_chain_and_prints_each_cause_once() {
        let inner = std::io::Error::other("permission denied");
        let err = BadInput::from_err(Outer(inner)).context("loading inputs");
        assert_eq!(ExitStatus::of_error(&err), ExitStatus::BadInput);
        let text = format!("{err:#}");
        assert_eq!(
            text,
            "loading inputs: reading globals.yml failed: permission denied"
        );
        assert_eq!(
            err.chain().count(),
            3,
            "context, BadInput (as Outer), io error"
        );
    }

    #[test]
    fn other_errors_are_failures() {
        let err = anyhow::anyhow!("engine said no").context("host node1");
        assert_eq!(ExitStatus::of_error(&err), ExitStatus::Failure);
    }

    #[test]
    fn host_outcomes() {
        assert_eq!(ExitStatus::of_hosts(0, 3), ExitStatus::Success);
        assert_eq!(ExitStatus::of_hosts(1, 3), ExitStatus::HostFailed);
        assert_eq!(ExitStatus::of_hosts(3, 3), ExitStatus::Failure);
    }
}
