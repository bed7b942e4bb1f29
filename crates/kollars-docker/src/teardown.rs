//! What `kollars destroy` and `kollars prune-images` take away besides containers: named
//! volumes, kollars' record volumes, images.
//!
//! kolla's destroy (its `cleanup-containers` and `cleanup-images` scripts) removes every kolla
//! container, the named volumes they mount, and with `--include-images` the kolla images; its
//! prune-images removes the kolla images no container uses. Here the same reads and removals
//! go through the engine, each naming host and object when it fails.

use std::collections::{BTreeSet, HashMap};

use bollard::query_parameters::{
    ListImagesOptions, ListVolumesOptions, RemoveImageOptions, RemoveVolumeOptions,
};

use crate::bootstrap::LABEL_BOOTSTRAP_RECORD;
use crate::engine::Engine;
use crate::error::{is_not_found, Result};
use crate::records::{LABEL_CONFIG_RECORD, LABEL_TASK_RECORD};

/// An image on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostImage {
    /// Its ID.
    pub id: String,
    /// Its `repo:tag` names (empty for a dangling image).
    pub tags: Vec<String>,
    /// Its labels (kolla's images carry `kolla_version`).
    pub labels: HashMap<String, String>,
}

impl Engine {
    /// The named volumes a container mounts, and its image ID; `None` when it does not exist.
    pub async fn container_footprint(&self, name: &str) -> Result<Option<(Vec<String>, String)>> {
        let Some(c) = self.inspect(name).await? else {
            return Ok(None);
        };
        let volumes = c
            .mounts
            .unwrap_or_default()
            .into_iter()
            .filter(|m| matches!(m.typ, Some(bollard::models::MountPointTypeEnum::VOLUME)))
            .filter_map(|m| m.name)
            .collect();
        Ok(Some((volumes, c.image.unwrap_or_default())))
    }

    /// Every record volume kollars keeps on the host (config, task and bootstrap records).
    pub async fn record_volumes(&self) -> Result<Vec<String>> {
        let mut out = BTreeSet::new();
        for label in [
            LABEL_CONFIG_RECORD,
            LABEL_TASK_RECORD,
            LABEL_BOOTSTRAP_RECORD,
        ] {
            let filters = HashMap::from([("label".to_owned(), vec![label.to_owned()])]);
            let list = self
                .docker
                .list_volumes(Some(ListVolumesOptions {
                    filters: Some(filters),
                }))
                .await
                .map_err(self.volume_err(label, "list"))?;
            out.extend(list.volumes.unwrap_or_default().into_iter().map(|v| v.name));
        }
        Ok(out.into_iter().collect())
    }

    /// Removes a volume; `false` when it was not there.
    pub async fn remove_volume(&self, name: &str) -> Result<bool> {
        match self
            .docker
            .remove_volume(name, None::<RemoveVolumeOptions>)
            .await
        {
            Ok(()) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(self.volume_err(name, "remove")(e)),
        }
    }

    /// Every image on the host (`docker images -a`).
    pub async fn list_images(&self) -> Result<Vec<HostImage>> {
        let list = self
            .docker
            .list_images(Some(ListImagesOptions {
                all: true,
                ..ListImagesOptions::default()
            }))
            .await
            .map_err(self.image_err("*", "list"))?;
        Ok(list
            .into_iter()
            .map(|i| HostImage {
                id: i.id,
                tags: i
                    .repo_tags
                    .into_iter()
                    .filter(|t| t != "<none>:<none>")
                    .collect(),
                labels: i.labels,
            })
            .collect())
    }

    /// The image IDs of every container on the host, running or not, kollars' or not.
    pub async fn images_in_use(&self) -> Result<BTreeSet<String>> {
        let list = self
            .docker
            .list_containers(Some(bollard::query_parameters::ListContainersOptions {
                all: true,
                ..Default::default()
            }))
            .await
            .map_err(self.list_err())?;
        Ok(list.into_iter().filter_map(|c| c.image_id).collect())
    }

    /// Removes an image by ID or name, with every tag it has (`docker rmi -f`); `false` when
    /// it was not there.
    pub async fn remove_image(&self, image: &str) -> Result<bool> {
        match self
            .docker
            .remove_image(
                image,
                Some(RemoveImageOptions {
                    force: true,
                    ..RemoveImageOptions::default()
                }),
                None,
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(self.image_err(image, "remove")(e)),
        }
    }
}
