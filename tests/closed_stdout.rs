//! A reader that goes away (`kollars plan | head -1`) ends the run quietly: no panic, no
//! exit 101, the command's own exit status.

use std::process::{Command, Stdio};

use crate::util::{
    engines, kollars, site_args, site_inputs, site_inventory, standin_globals, stderr,
};

/// A plan of cron on one engine (read-only: no turn needed), whatever its containers' state.
fn plan_args(dir: &std::path::Path, output: &str) -> Vec<String> {
    let engines = engines();
    site_inputs(dir, &["node1"], &standin_globals());
    site_inventory(dir, "common", &[("node1", &engines[0], "")], &["cron"]);
    site_args(dir, "plan", "cron", &["--output", output])
}

#[test]
fn plan_into_a_closed_pipe_ends_quietly() {
    for output in ["text", "json"] {
        let dir = tempfile::tempdir().unwrap();
        let args = plan_args(dir.path(), output);
        // with a reader, it prints (text: the plan and its summary; json: a line per service)
        let o = kollars(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).lines().count()
                >= if output == "text" { 2 } else { 1 },
            "{}",
            String::from_utf8_lossy(&o.stdout)
        );

        // stdout, then stderr, a pipe whose reader is already gone: the first write fails
        for closed in ["stdout", "stderr"] {
            let (reader, writer) = std::io::pipe().unwrap();
            drop(reader);
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_kollars"));
            cmd.args(&args).env_remove("KOLLA_CONFIG_PATH");
            match closed {
                "stdout" => cmd.stdout(writer).stderr(Stdio::piped()),
                _ => cmd.stderr(writer).stdout(Stdio::piped()),
            };
            let o = cmd.output().unwrap();
            let said = format!("{}{}", stderr(&o), String::from_utf8_lossy(&o.stdout));
            assert!(
                !said.contains("panicked"),
                "{output}, {closed} closed: {said}"
            );
            assert_eq!(
                o.status.code(),
                Some(0),
                "{output}, {closed} closed: {said}"
            );
        }

        // as an operator types it
        let o = Command::new("bash")
            .args([
                "-c",
                r#""$@" | head -1; echo "kollars exited ${PIPESTATUS[0]}" >&2"#,
                "_",
                env!("CARGO_BIN_EXE_kollars"),
            ])
            .args(&args)
            .env_remove("KOLLA_CONFIG_PATH")
            .output()
            .unwrap();
        let err = stderr(&o);
        assert!(!err.contains("panicked"), "{output}: {err}");
        assert!(
            err.contains("kollars exited 0") || err.contains("kollars exited 141"),
            "{output}: {err}"
        );
        assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1);
    }
}
