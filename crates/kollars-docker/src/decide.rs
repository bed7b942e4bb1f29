//! What to do with one container: kolla's `compare_container` and the choice
//! `recreate_or_restart_container` makes, as pure functions.
//!
//! Why pure: the rules are kolla's and are where regressions hide, so they take everything
//! they need as arguments — the desired state ([`DesiredContainer`]), what the engine showed
//! ([`Observed`]: the inspect response, the [`ImageFacts`], the applied config hash; or a
//! [`SurveyedContainer`]), the wanted config hash — and are tested table by table without an
//! engine. The engine I/O that gathers those arguments is [`crate::observe`].
//!
//! The rules:
//! - container missing → [`Action::Create`];
//! - any parameter differs ([`compare`]), or the state is `paused`/`restarting`/`dead` →
//!   [`Action::Recreate`] (apply pulls first if the image is missing, so a failed pull does not
//!   leave the service down; then stop, remove, create, start);
//! - only the config hash differs → [`Action::Restart`] (`COPY_ALWAYS` copies config again at
//!   every start), or [`Action::Recreate`] under `COPY_ONCE` (the config is copied only once
//!   per container);
//! - `exited`/`created` but otherwise current → [`Action::Start`];
//! - else [`Action::Nothing`].

use bollard::models::ContainerInspectResponse;
use serde::Serialize;

use crate::compare::{compare, Difference, ImageFacts};
use crate::desired::{DesiredContainer, COPY_ONCE, LABEL_SPEC_HASH};
use crate::primitives::state_status;
use crate::survey::SurveyedContainer;

/// What [`crate::Engine::apply`] would do to bring one container to its spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// The container does not exist: create and start it.
    Create,
    /// Parameters differ (or COPY_ONCE config changed): stop, remove, create, start.
    Recreate {
        /// What differs.
        reasons: Vec<Difference>,
    },
    /// Only the config changed: restart so `kolla_set_configs` copies it again.
    Restart {
        /// The config difference (`config`: applied hash → new hash).
        reason: Difference,
    },
    /// Current, but not running: start it.
    Start,
    /// Nothing to do.
    Nothing,
}

impl Action {
    /// Whether applying this changes anything.
    pub fn is_change(&self) -> bool {
        !matches!(self, Action::Nothing)
    }

    /// A short name: `create`, `recreate`, `restart`, `start`, `nothing`.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Recreate { .. } => "recreate",
            Action::Restart { .. } => "restart",
            Action::Start => "start",
            Action::Nothing => "nothing",
        }
    }
}

/// What [`compare_container`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// Whether the container exists.
    pub exists: bool,
    /// Parameter differences (kolla's `check_container_differs`).
    pub parameters: Vec<Difference>,
    /// State difference (`state: exited -> running`).
    pub state: Option<Difference>,
    /// Config difference (applied config hash → desired), when a config hash was given.
    pub config: Option<Difference>,
}

impl Comparison {
    /// kolla's `compare_container` `changed`: missing, or anything differs.
    pub fn changed(&self) -> bool {
        !self.exists || !self.parameters.is_empty() || self.state.is_some() || self.config.is_some()
    }
}

/// What the engine showed about one existing container: everything a decision needs besides
/// the desired state and the wanted config hash ([`crate::Engine::observe`] gathers it).
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// The container's inspect response.
    pub container: ContainerInspectResponse,
    /// The images involved.
    pub images: ImageFacts,
    /// The config hash it runs with (its newest config record, else its
    /// `kollars.config-hash` label); `None`: none known.
    pub applied_config: Option<String>,
}

/// kolla `compare_container`: every parameter difference, plus state and config
/// (`config_hash`: the rendered `/etc/kolla/<service>/` tree; `None` skips the config check).
/// `observed`: `None` when the container does not exist.
pub fn compare_container(
    desired: &DesiredContainer,
    observed: Option<&Observed>,
    config_hash: Option<&str>,
) -> Comparison {
    let Some(o) = observed else {
        return Comparison {
            exists: false,
            parameters: Vec::new(),
            state: None,
            config: None,
        };
    };
    let parameters = compare(desired, &o.container, &o.images);
    let status = state_status(&o.container);
    let state = (status != "running").then(|| Difference::new("state", status, "running"));
    let config = config_hash.and_then(|want| {
        (o.applied_config.as_deref() != Some(want)).then(|| {
            Difference::new(
                "config",
                o.applied_config.as_deref().unwrap_or("none"),
                want,
            )
        })
    });
    Comparison {
        exists: true,
        parameters,
        state,
        config,
    }
}

/// kolla's `recreate_or_restart_container` choice for `desired`, from what the engine showed
/// (`observed`, `None`: missing) and the wanted config hash. See the module docs for the rules.
pub fn decide(
    desired: &DesiredContainer,
    observed: Option<&Observed>,
    config_hash: Option<&str>,
) -> Action {
    action_for(desired, compare_container(desired, observed, config_hash))
}

/// The action a [`Comparison`] of `desired`'s container calls for.
pub fn action_for(desired: &DesiredContainer, cmp: Comparison) -> Action {
    if !cmp.exists {
        return Action::Create;
    }
    let copy_once = desired.config_strategy() == COPY_ONCE;
    let mut reasons = cmp.parameters;
    let recoverable_state = cmp
        .state
        .as_ref()
        .is_none_or(|s| s.current == "exited" || s.current == "created");
    if !recoverable_state {
        reasons.extend(cmp.state.clone());
    }
    if let Some(config) = &cmp.config {
        if copy_once {
            reasons.push(Difference::new(
                "config",
                config.current.clone(),
                format!("{} (COPY_ONCE)", config.desired),
            ));
        }
    }
    if !reasons.is_empty() {
        return Action::Recreate { reasons };
    }
    if cmp.state.is_some() {
        return Action::Start;
    }
    if let Some(reason) = cmp.config {
        return Action::Restart { reason };
    }
    Action::Nothing
}

/// `action` for a container whose config files this run found different on the host and
/// rewrote (`files`, for the reason): even with its recorded config hash current, it runs what
/// was on disk at its last start (someone edited `/etc/kolla`, or a previous tool wrote
/// there). As kolla's handlers do when a template task reports a change: [`Action::Nothing`]
/// becomes a restart (a recreate under `COPY_ONCE`); every other action already copies the
/// config again.
pub fn after_rewrite(desired: &DesiredContainer, action: Action, files: &[String]) -> Action {
    if action != Action::Nothing || files.is_empty() {
        return action;
    }
    let reason = Difference {
        field: "config files".to_owned(),
        current: "differed on the host".to_owned(),
        desired: files.join(", "),
    };
    match desired.config_strategy() == COPY_ONCE {
        true => Action::Recreate {
            reasons: vec![reason],
        },
        false => Action::Restart { reason },
    }
}

/// The survey shortcut: whether a container, as the engine's listing showed it (`c`, with
/// `applied_config`: its newest config record in the survey, else its `kollars.config-hash`
/// label), is current for `desired` and `config_hash`
/// without an inspect. It is when it runs, was created from the same desired state (its
/// `kollars.spec-hash` label equals [`DesiredContainer::spec_hash`]), runs the image its tag
/// names now (the listing shows the reference only while it still names the container's
/// image), and runs the wanted config. `false` means "compare field by field", not "differs":
/// kolla's rules (subset environment, image labels, ...) may still find it current.
pub fn current_in_survey(
    desired: &DesiredContainer,
    c: &SurveyedContainer,
    applied_config: Option<&str>,
    config_hash: Option<&str>,
) -> bool {
    if c.state != "running"
        || c.labels.get(LABEL_SPEC_HASH) != Some(&desired.spec_hash())
        || c.image != desired.image
    {
        return false;
    }
    config_hash.is_none_or(|want| applied_config == Some(want))
}

#[cfg(test)]
mod tests;
