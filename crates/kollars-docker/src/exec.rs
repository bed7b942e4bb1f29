//! Commands run inside a running container: kolla's `<engine> exec` of its tasks around the
//! containers (a `mysql` client in `kolla_toolbox`, `keystone-manage bootstrap` in
//! `keystone`, `rabbitmqctl` in `rabbitmq`).
//!
//! Why a module of its own: these commands carry secrets (database and admin passwords), and a
//! command line is what `ps` on the host and `docker inspect` of the exec show. So an
//! [`ExecRequest`] has the program and its non-secret arguments, and a separate `stdin` for
//! everything secret; the program reads it (a shell `read`, a client's
//! `--defaults-extra-file=/dev/stdin`). A failure names host, container and program, with the
//! end of stderr, never the arguments or the input.

use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::ExecConfig;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use crate::engine::Engine;
use crate::error::{DockerError, Result};

/// One command to run in a container.
#[derive(Clone, Default)]
pub struct ExecRequest {
    /// Program and arguments (no secrets: they are visible on the host).
    pub cmd: Vec<String>,
    /// Written to the command's stdin, then closed (secrets go here).
    pub stdin: Option<Vec<u8>>,
    /// User to run as (`None`: the container's).
    pub user: Option<String>,
}

impl std::fmt::Debug for ExecRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecRequest")
            .field("cmd", &self.cmd)
            .field(
                "stdin",
                &self.stdin.as_ref().map(|s| format!("{} bytes", s.len())),
            )
            .field("user", &self.user)
            .finish()
    }
}

impl ExecRequest {
    /// A command with these words.
    pub fn new<I, S>(cmd: I) -> ExecRequest
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ExecRequest {
            cmd: cmd.into_iter().map(Into::into).collect(),
            ..ExecRequest::default()
        }
    }

    /// With this input on stdin.
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> ExecRequest {
        self.stdin = Some(input.into());
        self
    }

    /// As this user.
    pub fn user(mut self, user: impl Into<String>) -> ExecRequest {
        self.user = Some(user.into());
        self
    }

    fn program(&self) -> String {
        self.cmd.first().cloned().unwrap_or_default()
    }
}

/// What a finished command said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// Its exit code.
    pub exit_code: i64,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

impl Engine {
    /// Runs `req` in the running container `container` and waits for it; a non-zero exit is
    /// still an [`ExecOutput`] (the caller knows what the code means).
    pub async fn exec(&self, container: &str, req: &ExecRequest) -> Result<ExecOutput> {
        let config = ExecConfig {
            cmd: Some(req.cmd.clone()),
            user: req.user.clone(),
            attach_stdin: Some(req.stdin.is_some()),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: Some(false),
            ..ExecConfig::default()
        };
        let err = |source| self.container_err(container, "exec in")(source);
        let created = self
            .docker
            .create_exec(container, config)
            .await
            .map_err(err)?;
        let started = self
            .docker
            .start_exec(
                &created.id,
                Some(StartExecOptions {
                    detach: false,
                    tty: false,
                    output_capacity: None,
                }),
            )
            .await
            .map_err(err)?;
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        if let StartExecResults::Attached {
            mut output,
            mut input,
        } = started
        {
            if let Some(bytes) = &req.stdin {
                let program = req.program();
                let broken = |e: std::io::Error| DockerError::ExecInput {
                    host: self.host.clone(),
                    container: container.to_owned(),
                    program: program.clone(),
                    source: e,
                };
                input.write_all(bytes).await.map_err(broken)?;
                input.shutdown().await.map_err(broken)?;
            }
            drop(input);
            let read = async {
                while let Some(chunk) = output.next().await {
                    match chunk.map_err(err)? {
                        bollard::container::LogOutput::StdErr { message } => {
                            stderr.extend_from_slice(&message)
                        }
                        other => stdout.extend_from_slice(&other.into_bytes()),
                    }
                }
                Ok(())
            };
            let what = format!("`{}` in container `{container}`", req.program());
            self.while_answering(&what, read).await?;
        }
        let inspected = self.docker.inspect_exec(&created.id).await.map_err(err)?;
        Ok(ExecOutput {
            exit_code: inspected.exit_code.unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        })
    }

    /// [`Engine::exec`] that must succeed: a non-zero exit is [`DockerError::ExecFailed`]
    /// naming host, container and program with the end of its stderr.
    pub async fn exec_ok(&self, container: &str, req: &ExecRequest) -> Result<ExecOutput> {
        let out = self.exec(container, req).await?;
        if out.exit_code != 0 {
            let lines: Vec<&str> = out.stderr.lines().collect();
            return Err(DockerError::ExecFailed {
                host: self.host.clone(),
                container: container.to_owned(),
                program: req.program(),
                exit_code: out.exit_code,
                stderr_tail: lines[lines.len().saturating_sub(10)..].join("\n"),
            });
        }
        Ok(out)
    }
}
