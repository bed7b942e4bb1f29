//! A survey: what one engine held at one moment, from two listings, so that the decisions
//! for a whole host need no request per container.
//!
//! Why it exists: `deploy`, `reconfigure` and `plan` decide every container of a host at
//! once, and most of them are current. [`Engine::survey`] lists the managed containers (name,
//! labels, state, image) and every config record; [`Engine::decide_many`] then answers
//! [`crate::Action::Nothing`] for each container the survey shows current
//! ([`crate::decide::current_in_survey`]) without an inspect, and gives the others the
//! field-by-field comparison with the survey's config records.
//!
//! A survey is a plain value: the caller takes it ([`Engine::survey`]), keeps it beside the
//! engine and passes it to the decisions. It describes the engine as it was when it was
//! taken; after a change made through the engine, take a new one for the next round of
//! decisions.

use std::collections::HashMap;

use crate::decide::current_in_survey;
use crate::desired::DesiredContainer;
use crate::engine::Engine;
use crate::error::Result;
use crate::records::ConfigRecords;

/// One container as the engine's container listing shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SurveyedContainer {
    /// Container ID.
    pub id: String,
    /// The image reference the container was created with **if that reference still names
    /// the container's image**; otherwise the engine shows the image ID instead (moby's
    /// `refreshImage` in `daemon/list.go`, the same since API 1.2x). So the listing alone
    /// tells whether a tag moved (new build or pull), with no image inspect per container.
    pub image: String,
    /// Engine state (`running`, `exited`, ...).
    pub state: String,
    /// Its labels.
    pub labels: HashMap<String, String>,
}

/// What an engine held at one moment: its managed containers by name and its config
/// records. Made by [`Engine::survey`], read by [`Engine::decide_many`].
#[derive(Debug, Clone, Default)]
pub struct Survey {
    pub(crate) containers: HashMap<String, SurveyedContainer>,
    pub(crate) records: ConfigRecords,
}

impl Survey {
    /// The managed container called `name`, as the listing showed it.
    pub fn container(&self, name: &str) -> Option<&SurveyedContainer> {
        self.containers.get(name)
    }

    /// How many managed containers the engine held.
    pub fn len(&self) -> usize {
        self.containers.len()
    }

    /// Whether the engine held no managed container.
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty()
    }

    /// The config hash `c` runs with, from the survey's config records, else its label.
    pub fn applied_config(&self, c: &SurveyedContainer) -> Option<String> {
        let label = c.labels.get(crate::desired::LABEL_CONFIG_HASH);
        self.records.applied(&c.id, label.map(String::as_str))
    }

    /// Whether the survey alone shows `desired`'s container current with config
    /// `config_hash` (see [`current_in_survey`]).
    pub fn is_current(&self, desired: &DesiredContainer, config_hash: Option<&str>) -> bool {
        self.container(&desired.name).is_some_and(|c| {
            current_in_survey(desired, c, self.applied_config(c).as_deref(), config_hash)
        })
    }

    /// The config records the survey listed.
    pub(crate) fn records(&self) -> &ConfigRecords {
        &self.records
    }
}

impl Engine {
    /// Lists this engine's managed containers and config records now (two requests, in
    /// parallel). Read-only; call it as early as the run allows (kollars does while it
    /// renders), so the engine answers while the CPU renders, and pass the result to
    /// [`Engine::decide_many`].
    pub async fn survey(&self) -> Result<Survey> {
        let (containers, records) =
            futures_util::future::join(self.list_managed_summaries(), self.list_config_records())
                .await;
        let records = records?;
        let mut containers = containers?;
        if self.podman {
            self.refresh_podman_images(&mut containers).await?;
        }
        let mut by_name = HashMap::new();
        for c in containers {
            let Some(name) = c.names.and_then(|n| n.into_iter().next()) else {
                continue;
            };
            by_name.insert(
                name.trim_start_matches('/').to_owned(),
                SurveyedContainer {
                    id: c.id.unwrap_or_default(),
                    image: c.image.unwrap_or_default(),
                    state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                    labels: c.labels.unwrap_or_default(),
                },
            );
        }
        Ok(Survey {
            containers: by_name,
            records,
        })
    }

    /// What dockerd's listing shows by itself, for podman's: the image reference without the
    /// registry podman qualifies it with, or the image ID when that reference names another
    /// image now (podman keeps showing the name after the tag moved). One image inspect per
    /// distinct image.
    async fn refresh_podman_images(
        &self,
        containers: &mut [bollard::models::ContainerSummary],
    ) -> Result<()> {
        let names: std::collections::BTreeSet<String> = containers
            .iter()
            .filter_map(|c| c.image.as_deref())
            .map(crate::podman::unqualified)
            .collect();
        let ids = futures_util::future::join_all(names.into_iter().map(|n| async move {
            let id = self.image_id(&n).await;
            (n, id)
        }))
        .await;
        let mut now = HashMap::new();
        for (n, id) in ids {
            now.insert(n, id?);
        }
        for c in containers.iter_mut() {
            let Some(image) = c.image.as_deref() else {
                continue;
            };
            let name = crate::podman::unqualified(image);
            let current = now.get(&name).cloned().flatten();
            c.image = Some(match current {
                Some(id) if Some(&id) == c.image_id.as_ref() => name,
                _ => c.image_id.clone().unwrap_or_default(),
            });
        }
        Ok(())
    }
}
