//! In-container tests: the local image chain (images/build.sh) on a real Docker engine.
//!
//! The engine is `KOLLARS_TEST_DOCKER_HOST` when set, else the one `scripts/engines.sh up 1`
//! starts or reuses. The images are built once per run as `kollars-test/*:kstart` (cached
//! builds take seconds); set `KOLLA_START_BIN_DIR` to a directory holding static
//! `kolla-start` and `kolla-standin` binaries to skip the cargo build inside build.sh.
//! There is no skipping: without an engine these tests fail.
//!
//! One test binary (`--test container`), so the engine is found and the images are built
//! once per run (`support`); the tests are grouped by what they exercise in the image.

mod health;
mod set_configs;
mod stand_in;
mod start;
mod support;
