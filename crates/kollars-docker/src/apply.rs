//! The mutating half of `deploy` and `reconfigure`: carry out an [`Action`].
//!
//! Why a module of its own: each action is a fixed sequence of [`crate::primitives`] whose
//! order is the point — a recreate pulls before it stops (a failed pull must not leave the
//! service down), a restart writes its config record only after the restart succeeded — and
//! `kollars deploy` needs the create and the start of a new container as two calls
//! ([`Engine::create_stopped`], [`Engine::start_created`]) so it can create every new
//! container of a host at once and start each when its dependencies are up.
//!
//! A [`crate::Survey`] taken before a change describes the engine as it was; take a new one
//! for the next round of decisions.

use crate::decide::Action;
use crate::desired::DesiredContainer;
use crate::engine::Engine;
use crate::error::Result;
use crate::reporter::Step;
use crate::spec::ContainerSpec;

impl Engine {
    /// Carries out `action` (from [`Engine::decide`]) for `spec`.
    pub async fn apply(
        &self,
        spec: &ContainerSpec,
        config_hash: Option<&str>,
        action: &Action,
    ) -> Result<()> {
        let desired = self.resolve(spec)?;
        let name = desired.name.as_str();
        match action {
            Action::Nothing => Ok(()),
            Action::Create => {
                self.step(name, Step::Create, async {
                    self.create_fresh(&desired, config_hash).await?;
                    self.start(name).await
                })
                .await
            }
            Action::Recreate { .. } => {
                self.step(name, Step::Recreate, async {
                    // Pull before stopping: a failed pull must not leave the service down.
                    self.ensure_image(&desired.image).await?;
                    self.stop(name, Some(desired.stop_timeout), true).await?;
                    self.remove(name).await?;
                    self.create_from(&desired, config_hash).await?;
                    self.start(name).await
                })
                .await
            }
            Action::Restart { .. } => {
                self.step(name, Step::Restart, async {
                    self.restart(name, Some(desired.stop_timeout)).await?;
                    if let Some(h) = config_hash {
                        self.write_config_record(name, h).await?;
                    }
                    Ok(())
                })
                .await
            }
            Action::Start => {
                self.step(name, Step::Start, async {
                    self.start(name).await?;
                    if let Some(h) = config_hash {
                        self.write_config_record(name, h).await?;
                    }
                    Ok(())
                })
                .await
            }
        }
    }

    /// The first half of [`Action::Create`]: pulls the image if missing and creates the
    /// container, not started. `kollars deploy` creates every new container of a host at once
    /// (creating is most of the engine's work) and starts each with [`Engine::start_created`]
    /// when its dependencies are up. A run that dies in between leaves created containers,
    /// which the next decision finds and starts ([`Action::Start`]).
    pub async fn create_stopped(
        &self,
        spec: &ContainerSpec,
        config_hash: Option<&str>,
    ) -> Result<()> {
        let desired = self.resolve(spec)?;
        self.step(
            &desired.name,
            Step::Create,
            self.create_fresh(&desired, config_hash),
        )
        .await
    }

    /// The second half of [`Action::Create`]: starts a container [`Engine::create_stopped`]
    /// created (its labels already carry the config hash; no record needed).
    pub async fn start_created(&self, spec: &ContainerSpec) -> Result<()> {
        let desired = self.resolve(spec)?;
        self.step(&desired.name, Step::Start, self.start(&desired.name))
            .await
    }

    /// Pulls if missing and creates. A container of that name that appeared after the decision
    /// (an interrupted run's create completing late; the engine reserves the name before
    /// inspect can see it) is waited for, then replaced.
    pub(crate) async fn create_fresh(
        &self,
        desired: &DesiredContainer,
        config_hash: Option<&str>,
    ) -> Result<()> {
        let name = desired.name.as_str();
        self.ensure_image(&desired.image).await?;
        if let Err(e) = self.create_from(desired, config_hash).await {
            let mut appeared = false;
            for _ in 0..50 {
                if self.inspect(name).await?.is_some() {
                    appeared = true;
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            if !appeared {
                return Err(e);
            }
            self.stop(name, Some(desired.stop_timeout), true).await?;
            self.remove(name).await?;
            self.create_from(desired, config_hash).await?;
        }
        Ok(())
    }

    /// kolla `recreate_or_restart_container`: [`Engine::decide`] then [`Engine::apply`];
    /// returns what was done.
    pub async fn converge(
        &self,
        spec: &ContainerSpec,
        config_hash: Option<&str>,
    ) -> Result<Action> {
        let action = self.decide(spec, config_hash).await?;
        self.apply(spec, config_hash, &action).await?;
        Ok(action)
    }
}
