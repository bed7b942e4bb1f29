//! kollars' integration tests: one binary, one module per area.

/// Shared helpers: running the real binary, temp config dirs.
mod util;

/// Semantic parity of `genconfig` against kolla-ansible's own output (tests/reference/).
mod parity;

/// Evaluated container dicts against kolla-ansible's (scenarios' expected.containers.json).
mod containers;
/// Evaluated container dicts against the ones kolla-ansible logged for the same scenario.
mod kolla_dicts;

/// Bad input: each case fails with a message naming the culprit and writes nothing.
mod bad_input;

/// `genpwd` and `mergepwd` on temporary password files.
mod passwords;

/// The deploy / reconfigure / restart lifecycle on real Docker engines.
mod deploy;

/// Hosts reached only through their engines: facts and config files through the engine.
mod remote;

/// The lifecycle on hosts reached only through a real sshd (`ssh://`), one ssh connection per
/// host per run, and ssh's failures named with host and endpoint.
mod ssh;

/// The lifecycle on a podman host (`kolla_container_engine: podman`), privileged containers.
mod podman;

/// nova-libvirt (real image) on a podman compute host boots a guest from Debian's kernel.
mod podman_libvirt;

/// Project switches and relative paths.
mod switches;

/// The deploy graph across hosts: dependencies, run-once bootstraps, failed hosts.
mod schedule;

/// Operator YAML read with YAML 1.1's (PyYAML's) types; our definitions read the same.
mod yaml11;

/// `copy:` entries byte for byte: binary files written locally and through engines, and in plan.
mod copies;

/// Authenticated pulls from a real registry (Debian's docker-registry, htpasswd).
mod registry;

/// A host over TCP with TLS (dockerd --tlsverify, the test's own CA): the lifecycle, and wrong
/// certificates refused naming host and endpoint.
mod tls;

/// The hosts' lock: two operators on the same hosts, a killed run's lock, --break-lock.
mod hosts_lock;

/// `post-deploy` byte for byte against kolla-ansible's own (clouds.yaml, openrc files).
mod post_deploy;

/// `prechecks` on real engines: the good site passes, each check fails where prepared to.
mod prechecks;

/// `certificates`: kolla's layout, checked by openssl; genconfig copies them into services.
mod certificates;

/// `stop --ignore-missing`, `prune-images`, `destroy --include-images --include-dev`.
mod destroy;

/// `gather-facts`: the fact cache through the engines, read back by `--facts`.
mod gather_facts;

/// `rabbitmq-reset-state`: its phases in order, in each member's container.
mod rabbitmq_reset;

/// `nova-libvirt-cleanup`: refused while enabled or with guests running, then removed.
mod libvirt_cleanup;

/// The run lock: two runs take turns, waits are bounded, the lock is its user's alone.
mod run_lock;

/// No secret in what plan prints, old or new, in any output mode.
mod secrets;

/// A first deploy killed at seeded moments: every rerun converges, each bootstrap once.
mod kills;

/// Engines frozen, unanswering or killed mid-run: that host fails within the engine timeout,
/// named with its endpoint; the others complete; a rerun converges.
mod frozen;

/// A full disk under node_config_directory: a clear error, no torn file, no restart.
mod full_disk;

/// A reader that goes away (`kollars plan | head -1`) ends the run quietly.
mod closed_stdout;

/// The first real services (MariaDB, memcached, RabbitMQ, HAProxy, the toolbox, keystone,
/// glance, placement) on the real images, proven by python-openstackclient.
mod real;

/// The same services on three hosts (a LAN of network namespaces): a Galera cluster of three,
/// a RabbitMQ cluster of three, fernet keys shared, a member lost and brought back.
mod real_cluster;

/// Nova's and neutron's control planes (nova's api, metadata, scheduler, conductor, noVNC
/// proxy with cell0 and cell1; neutron's server, RPC server and periodic workers with ML2/OVS,
/// ovsdb-server) on the real images, proven by python-openstackclient.
mod real_control;

/// Heat (api, api-cfn, engine) on the real images: its stack user domain registered, a stack
/// of one `OS::Heat::RandomString` made and deleted, proven by python-openstackclient.
mod real_heat;

/// The operator's companions: run history and its HTML page (in headless Chromium), ps, logs,
/// plan --graph, the JSON event kinds and exit codes, completions, man pages, --help examples.
mod ops;

/// Horizon on its real image in headless Chromium (Selenium): the login page through the VIP,
/// the admin's project overview, the uploaded image on the images page; run by `real_control`'s
/// site, which has the nova and glance it shows.
mod real_horizon;

/// A server booted through nova: the control plane on the real images, a `[compute]` host on
/// podman with the real nova-compute and nova-libvirt, discovered into cell1 by kollars, a
/// guest from glance reaching ACTIVE and printing its line in its console log.
mod real_compute;
