//! `kollars genpwd` and `kollars mergepwd`.

use anyhow::{bail, Result};

use crate::cli::{GenpwdArgs, MergepwdArgs};
use crate::ExitStatus;

/// Fills the empty keys of a passwords file.
pub fn genpwd(_args: &GenpwdArgs) -> Result<ExitStatus> {
    bail!("genpwd: not implemented yet")
}

/// Merges an old passwords file into a new template.
pub fn mergepwd(_args: &MergepwdArgs) -> Result<ExitStatus> {
    bail!("mergepwd: not implemented yet")
}
