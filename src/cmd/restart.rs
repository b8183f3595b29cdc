//! `kubectl initctl restart TARGET`: re-run init containers on purpose (see change::restart).

use std::io::{Read, Write};

use crate::change::context::ChangeContext;
use crate::change::restart;
use crate::cli::RestartArgs;
use crate::error::{Error, Result};
use crate::input::manifest;
use crate::input::target::Target;
use crate::session::{Environment, Session};

pub(crate) async fn run(
    ctx: &Session,
    env: &Environment,
    args: &RestartArgs,
    stdin: &mut dyn Read,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    let change = ChangeContext::new(
        ctx,
        env,
        &args.change,
        "restart needs a cluster, not -f",
        "restart works in one namespace; use -n NAMESPACE",
    )?;
    let timeout = change.timeout()?;
    let followed = match (Target::parse(&args.target)?, &args.from) {
        (Target::Pod(name), Some(path)) => {
            let manifest = manifest::one_pod(path, stdin)?;
            let from = path.display().to_string();
            restart::pod_from_manifest(&change, name, manifest, &from, out, err).await?
        }
        (Target::Workload(kind, name), Some(_)) => {
            return Err(Error::Input(format!(
                "--from recreates one bare pod, not {}/{name}: change the workload's template instead",
                kind.resource()
            )));
        }
        (Target::Pod(name), None) => restart::pod(&change, name, out, err).await?,
        (Target::Workload(kind, name), None) => {
            restart::workload(&change, kind, &name, ctx.now, out, err).await?
        }
    };
    match followed {
        Some(followed) => change.follow(&followed, timeout, err).await,
        None => Ok(()),
    }
}
