//! `kollars logs SERVICE [--host H] [--follow] [--tail N]`: a service's container logs read
//! through each host's engine, like `docker logs` on every host that runs it. With several
//! hosts each line is prefixed with its host; with `--follow` the hosts' streams are merged
//! as lines come. Reads only.

use anyhow::Result;
use futures_util::stream::{self, StreamExt};

use crate::cli::LogsArgs;
use crate::commands::prepare::{prepare, Needs};
use crate::error::{BadInput, ExitStatus};
use crate::reporter::CliReporter;

/// `kollars logs`.
pub async fn logs(args: &LogsArgs) -> Result<ExitStatus> {
    let mut engine = args.engine.clone();
    if let Some(h) = &args.host {
        engine.input.limit = vec![h.clone()];
    }
    let reporter = CliReporter::new(engine.output);
    let prepared = prepare(&engine, reporter, Needs::READ).await?;
    let wanted = args.service.replace('_', "-");
    let mut sources = Vec::new();
    for t in &prepared.targets {
        for svc in &t.rendered.services {
            let Some(c) = t.containers.get(&svc.name) else {
                continue;
            };
            if svc.name == wanted || c.main.name.replace('_', "-") == wanted {
                sources.push((t.host(), &t.engine, c.main.name.as_str()));
            }
        }
    }
    if sources.is_empty() && prepared.unreachable.is_empty() {
        return Err(BadInput::new(format!(
            "no selected host runs a service or container {}{}; `kollars ps -i …` lists the \
             containers of every host",
            args.service,
            args.host
                .as_deref()
                .map(|h| format!(" on host {h}"))
                .unwrap_or_default()
        ))
        .into());
    }
    let prefix = sources.len() > 1;
    let streams = sources.iter().map(|(host, engine, name)| {
        engine
            .log_stream(name, args.follow, args.tail)
            .map(move |chunk| (*host, chunk))
    });
    let mut merged = stream::select_all(streams.map(|s| s.boxed_local()));
    let mut failed: Vec<(String, Result<()>)> = Vec::new();
    while let Some((host, chunk)) = merged.next().await {
        match chunk {
            Ok(text) if prefix => {
                for line in text.split_inclusive('\n') {
                    crate::out!("{host} | {line}");
                }
            }
            Ok(text) => crate::out!("{text}"),
            Err(e) => failed.push((host.to_owned(), Err(e.into()))),
        }
    }
    let ok = sources
        .iter()
        .filter(|(h, _, _)| !failed.iter().any(|(f, _)| f == h))
        .map(|(h, _, _)| (h.to_string(), Ok(())));
    let mut results: Vec<(String, Result<()>)> = ok.collect();
    results.extend(failed);
    drop(merged);
    drop(sources);
    Ok(prepared.finish(results))
}
