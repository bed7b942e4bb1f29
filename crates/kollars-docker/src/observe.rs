//! The read-only half of `plan`, `deploy` and `reconfigure`: gather what the engine shows
//! about a container, then let [`crate::decide`] choose.
//!
//! Why apart from [`crate::decide`]: the rules there are pure and tested without an engine;
//! this module is the engine I/O that feeds them — inspect the container, inspect the images
//! (once when the container runs the desired image), read its config records (from a
//! [`Survey`] when one is given) — and the batched [`Engine::decide_many`], which answers
//! from a survey for every container the survey shows current.

use bollard::models::ContainerInspectResponse;

use crate::compare::ImageFacts;
use crate::decide::{self, Action, Comparison, Observed};
use crate::desired::DesiredContainer;
use crate::engine::Engine;
use crate::error::Result;
use crate::spec::ContainerSpec;
use crate::survey::Survey;

impl Engine {
    /// What the engine shows about `desired`'s container now; `None` when it does not exist.
    /// The applied config hash is read only when `config_hash` is given (from `survey`'s
    /// config records when one is given, else listed now).
    pub async fn observe(
        &self,
        desired: &DesiredContainer,
        config_hash: Option<&str>,
        survey: Option<&Survey>,
    ) -> Result<Option<Observed>> {
        let Some(mut container) = self.inspect(&desired.name).await? else {
            return Ok(None);
        };
        if self.podman {
            crate::podman::normalize(&mut container, desired);
        }
        let images = self.image_facts(desired, &container).await?;
        let applied_config = match config_hash {
            Some(_) => {
                self.applied_config_hash(&container, survey.map(Survey::records))
                    .await?
            }
            None => None,
        };
        Ok(Some(Observed {
            container,
            images,
            applied_config,
        }))
    }

    /// kolla `compare_container` for `spec` on this engine: [`decide::compare_container`] on
    /// what [`Engine::observe`] sees now.
    pub async fn compare_container(
        &self,
        spec: &ContainerSpec,
        config_hash: Option<&str>,
    ) -> Result<Comparison> {
        let desired = self.resolve(spec)?;
        let observed = self.observe(&desired, config_hash, None).await?;
        Ok(decide::compare_container(
            &desired,
            observed.as_ref(),
            config_hash,
        ))
    }

    /// What [`Engine::apply`] would do for `spec` with config hash `config_hash` (the rendered
    /// `/etc/kolla/<service>/` tree; `None` skips the config check): [`decide::decide`] on what
    /// [`Engine::observe`] sees now. Changes nothing.
    pub async fn decide(&self, spec: &ContainerSpec, config_hash: Option<&str>) -> Result<Action> {
        let desired = self.resolve(spec)?;
        self.decide_desired(&desired, config_hash, None).await
    }

    async fn decide_desired(
        &self,
        desired: &DesiredContainer,
        config_hash: Option<&str>,
        survey: Option<&Survey>,
    ) -> Result<Action> {
        let observed = self.observe(desired, config_hash, survey).await?;
        Ok(decide::decide(desired, observed.as_ref(), config_hash))
    }

    /// [`decide::after_rewrite`] for `spec` on this engine (its common options give the
    /// config strategy).
    pub fn after_rewrite(
        &self,
        spec: &ContainerSpec,
        action: Action,
        files: &[String],
    ) -> Result<Action> {
        Ok(decide::after_rewrite(&self.resolve(spec)?, action, files))
    }

    /// [`Engine::decide`] for many containers of this host at once. `survey` ([`Engine::survey`],
    /// taken earlier; `None`: surveyed now, and a failed listing only costs the shortcut)
    /// answers for every container it shows current ([`decide::current_in_survey`]): those are
    /// [`Action::Nothing`] without an inspect. Any other container gets the full
    /// field-by-field comparison, with the survey's config records. A container changed
    /// behind kollars' back with `docker update` keeps its spec hash and is not noticed by
    /// the shortcut.
    pub async fn decide_many(
        &self,
        survey: Option<&Survey>,
        items: &[(&ContainerSpec, Option<&str>)],
    ) -> Vec<Result<Action>> {
        let surveyed_now;
        let survey = match survey {
            Some(s) => Some(s),
            None => {
                surveyed_now = self.survey().await.ok();
                surveyed_now.as_ref()
            }
        };
        futures_util::future::join_all(items.iter().map(|&(spec, hash)| async move {
            let desired = self.resolve(spec)?;
            if survey.is_some_and(|q| q.is_current(&desired, hash)) {
                return Ok(Action::Nothing);
            }
            self.decide_desired(&desired, hash, survey).await
        }))
        .await
    }

    /// The [`ImageFacts`] for comparing `current` with `desired`: the desired tag's local ID
    /// and the labels, volumes and healthcheck of the container's image.
    async fn image_facts(
        &self,
        desired: &DesiredContainer,
        current: &ContainerInspectResponse,
    ) -> Result<ImageFacts> {
        let wanted = self.inspect_image(&desired.image).await?;
        let desired_image_id = wanted.as_ref().and_then(|i| i.id.clone());
        let cur_id = current.image.clone().unwrap_or_default();
        // Usually the container runs the desired image: one inspect serves both.
        let image = if desired_image_id.as_deref() == Some(cur_id.as_str()) {
            wanted
        } else {
            self.inspect_image(&cur_id).await?
        };
        let config = image.and_then(|i| i.config).unwrap_or_default();
        Ok(ImageFacts {
            desired_image_id,
            image_labels: config.labels.unwrap_or_default().into_iter().collect(),
            image_volumes: config.volumes.unwrap_or_default().into_keys().collect(),
            image_healthcheck: config.healthcheck,
        })
    }
}
