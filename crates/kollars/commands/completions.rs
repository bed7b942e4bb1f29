//! `kollars completions bash|zsh|fish`: the shell's completion script on stdout, generated
//! by clap_complete from the same definitions that parse the arguments, so it cannot drift.

use anyhow::Result;
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, CompletionShell, CompletionsArgs};
use crate::error::ExitStatus;

/// `kollars completions SHELL`.
pub fn completions(args: &CompletionsArgs) -> Result<ExitStatus> {
    let shell = match args.shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "kollars", &mut buf);
    crate::out!("{}", String::from_utf8_lossy(&buf));
    Ok(ExitStatus::Success)
}
