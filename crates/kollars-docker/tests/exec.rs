//! Commands in running containers on real engines: output, exit codes, input on stdin that
//! never shows on the command line the engine records.

mod common;

use common::{cleanup, engine, spec, unique, Cleanup};
use kollars_docker::{DockerError, ExecRequest};

#[tokio::test]
async fn exec_returns_output_and_exit_code_and_takes_secrets_on_stdin() {
    let e = engine(0).await;
    let name = unique("exec");
    let _guard = Cleanup::new(&[&e], &[&name], &[]);
    cleanup(&e, &name).await;
    e.converge(&spec(&name), None).await.unwrap();

    // stdout, stderr and the exit code, kept apart
    let out = e
        .exec(
            &name,
            &ExecRequest::new(["sh", "-c", "echo out; echo err >&2; exit 3"]),
        )
        .await
        .unwrap();
    assert_eq!(out.exit_code, 3);
    assert_eq!(out.stdout, "out\n");
    assert_eq!(out.stderr, "err\n");

    // a secret read from stdin reaches the command; the engine's record of the exec does not
    // hold it
    let secret = "s3cret-on-stdin-91c4";
    let req = ExecRequest::new([
        "sh",
        "-c",
        "read -r pw; echo \"got ${#pw} chars\"; ps -o args",
    ])
    .stdin(format!("{secret}\n"));
    let out = e.exec_ok(&name, &req).await.unwrap();
    assert!(out.stdout.starts_with("got 20 chars\n"), "{}", out.stdout);
    assert!(
        !out.stdout.contains(secret),
        "not on any command line: {}",
        out.stdout
    );
    assert!(
        !format!("{req:?}").contains(secret),
        "Debug hides the input"
    );

    // a non-zero exit through exec_ok names host, container and program, not the arguments
    let err = e
        .exec_ok(
            &name,
            &ExecRequest::new(["sh", "-c", "echo nope-arg-secret >&2; exit 7"]),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, DockerError::ExecFailed { exit_code: 7, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains(&name) && text.contains("`sh`"), "{text}");
    assert!(text.contains("exited with 7"), "{text}");

    // as another user
    let out = e
        .exec_ok(&name, &ExecRequest::new(["id", "-u"]).user("42"))
        .await
        .unwrap();
    assert_eq!(out.stdout.trim(), "42");
}

#[tokio::test]
async fn exec_in_a_missing_container_names_it() {
    let e = engine(0).await;
    let name = unique("exec-missing");
    cleanup(&e, &name).await;
    let err = e
        .exec(&name, &ExecRequest::new(["true"]))
        .await
        .unwrap_err();
    assert!(err.to_string().contains(&name), "{err}");
}
