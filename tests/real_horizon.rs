//! Horizon on its real image (`images/real/horizon/`: the dashboard from PyPI, served by
//! uWSGI as kolla's config says, its static files collected and compressed at start) proven
//! in a browser nobody here wrote: Debian's headless Chromium, driven by Selenium through
//! Debian's chromedriver (`tests/horizon/browse.py`, set up by `scripts/browser.sh`).
//!
//! The dashboard joins the control-plane site (`real_control`): its project overview is
//! shown only when the catalogue has a compute service, so it needs nova's API, and the
//! images page needs glance. One site for both saves a whole deploy. Through the VIP (the
//! haproxy frontend kolla renders on port 80) the browser gets the login page, logs in as
//! kolla's admin, reaches the project overview and finds an image uploaded with
//! python-openstackclient on the images page. Each page's screenshot is kept in
//! `target/artifacts/horizon-{login,overview,images}.png`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::real::{docker, Site};
use crate::util::{engine_pid, root, stderr};

/// The dashboard through the VIP: haproxy's `horizon_front` binds `<vip>:80`.
const DASHBOARD: &str = "http://127.0.0.2/";
/// How long the first start may take: `manage.py compress` of every page's CSS and JS.
const FIRST_START: Duration = Duration::from_secs(300);

/// The python that runs `tests/horizon/browse.py`: `KOLLARS_BROWSER`, else a venv made by
/// `scripts/browser.sh` (which also installs chromium and chromedriver when missing).
fn browser() -> PathBuf {
    if let Ok(b) = std::env::var("KOLLARS_BROWSER") {
        return PathBuf::from(b);
    }
    let o = crate::real::run(&mut Command::new(root().join("scripts/browser.sh")));
    assert!(o.status.success(), "browser.sh: {}", stderr(&o));
    PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
}

/// Where the screenshots go: `artifacts/` in cargo's target directory.
fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The HTTP status of `url` from inside the host's network namespace ("000" when nothing
/// answers).
fn status_in_host(site: &Site, url: &str) -> String {
    let o = crate::real::run(
        Command::new("nsenter")
            .arg(format!("--net=/proc/{}/ns/net", engine_pid(&site.engine)))
            .args([
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-m",
                "20",
                url,
            ]),
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// Horizon on the site: the container runs its real uWSGI, the login page answers through
/// the VIP, and the browser logs in, sees the overview and finds the uploaded image.
pub(crate) fn dashboard_in_a_browser(site: &Site) {
    let o = docker(
        &site.engine,
        &["inspect", "-f", "{{.State.Running}}", "horizon"],
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "true",
        "horizon runs"
    );

    // an image to find, uploaded by the real client
    let image = "horizon-sees-me";
    let file = site.dir.path().join("horizon-image.raw");
    std::fs::write(
        &file,
        (0..65536u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    site.openstack_eventually(
        &[
            "--os-cloud",
            "kolla-admin",
            "image",
            "create",
            "--disk-format",
            "raw",
            "--container-format",
            "bare",
            "--file",
            &file.display().to_string(),
            "-f",
            "value",
            "-c",
            "id",
            image,
        ],
        Duration::from_secs(90),
    );

    // the first start compresses the static files before uWSGI listens
    let login = format!("{DASHBOARD}auth/login/");
    let start = Instant::now();
    loop {
        let code = status_in_host(site, &login);
        if code == "200" {
            eprintln!(
                "horizon's login page answers after {:.1}s",
                start.elapsed().as_secs_f64()
            );
            break;
        }
        assert!(
            start.elapsed() < FIRST_START,
            "{login}: HTTP {code}\n{}",
            horizon_log(site)
        );
        std::thread::sleep(Duration::from_secs(3));
    }
    // uWSGI itself, as kolla's command says (not a stand-in)
    let ps = docker(&site.engine, &["exec", "horizon", "ps", "-eo", "args"]);
    let ps = String::from_utf8_lossy(&ps.stdout);
    assert!(ps.contains("uwsgi /etc/horizon/horizon-uwsgi.ini"), "{ps}");
    // the static files compressed at start, as COMPRESS_OFFLINE requires
    let manifest = docker(
        &site.engine,
        &[
            "exec",
            "horizon",
            "test",
            "-s",
            "/var/lib/kolla/venv/lib/python3/site-packages/static/dashboard/manifest.json",
        ],
    );
    assert!(manifest.status.success(), "compress made its manifest");

    // the browser, in the host's network namespace; the password on its stdin
    let password = crate::real_heat::reference_password("keystone_admin_password");
    let out = artifacts();
    for shot in ["login", "overview", "images", "failed"] {
        let _ = std::fs::remove_file(out.join(format!("horizon-{shot}.png")));
    }
    let t0 = Instant::now();
    let mut child = Command::new("nsenter")
        .arg(format!("--net=/proc/{}/ns/net", engine_pid(&site.engine)))
        .arg(browser())
        .arg(root().join("tests/horizon/browse.py"))
        .args([DASHBOARD, "admin", &out.display().to_string(), image])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the browser");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    eprintln!("browser: {:.1}s\n{text}", t0.elapsed().as_secs_f64());
    assert!(o.status.success(), "browse.py: {}", stderr(&o));
    let seen: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("browse.py's report: {e}: {text}{}", stderr(&o)));
    assert!(
        seen.get("failed").is_none(),
        "the browser failed (horizon-failed.png): {}\n{}",
        seen["failed"],
        horizon_log(site)
    );
    assert!(!text.contains(&password), "no password in the report");

    // the login page: its title and its form
    let page = &seen["login"];
    assert_eq!(page["title"], "Login - OpenStack Dashboard", "{page}");
    let form = page["form"].to_string();
    assert!(
        form.contains("id_username") && form.contains("id_password"),
        "{page}"
    );

    // logged in: the project overview, with the admin's usage and no error
    let page = &seen["overview"];
    assert!(
        page["url"].as_str().unwrap().ends_with("/project/"),
        "{page}"
    );
    assert_eq!(page["title"], "Overview - OpenStack Dashboard", "{page}");
    assert!(page["headings"].to_string().contains("Overview"), "{page}");
    assert_eq!(page["errors"], serde_json::json!([]), "{page}");
    assert!(page["user"].to_string().contains("admin"), "{page}");

    // the images page lists the image by name, active
    let page = &seen["images"];
    assert_eq!(page["title"], "Images - OpenStack Dashboard", "{page}");
    let row = page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.as_str())
        .find(|r| r.contains(image))
        .unwrap_or_else(|| panic!("{image} on the images page: {page}"));
    assert!(row.contains("Active"), "{row}");
    assert_eq!(page["errors"], serde_json::json!([]), "{page}");
    for shot in ["login", "overview", "images"] {
        let png = std::fs::read(out.join(format!("horizon-{shot}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "horizon-{shot}.png is a PNG");
    }
}

/// The last lines of horizon's uWSGI log and the container's own, for a failure's message.
fn horizon_log(site: &Site) -> String {
    let log = docker(
        &site.engine,
        &[
            "exec",
            "horizon",
            "tail",
            "-n",
            "40",
            "/var/log/kolla/horizon/horizon-uwsgi.log",
        ],
    );
    let own = docker(&site.engine, &["logs", "--tail", "40", "horizon"]);
    format!(
        "{}{}{}",
        String::from_utf8_lossy(&log.stdout),
        String::from_utf8_lossy(&own.stdout),
        String::from_utf8_lossy(&own.stderr)
    )
}
