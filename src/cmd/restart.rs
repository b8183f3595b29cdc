//! `kubectl initctl restart TARGET`: re-run init containers on purpose (see change::restart).

use std::io::Write;

use crate::change::context::ChangeContext;
use crate::change::restart;
use crate::cli::RestartArgs;
use crate::error::Result;
use crate::input::target::Target;
use crate::session::{Environment, Session};

pub(crate) async fn run(
    ctx: &Session,
    env: &Environment,
    args: &RestartArgs,
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
    let followed = match Target::parse(&args.target)? {
        Target::Pod(name) => restart::pod(&change, name, out, err).await?,
        Target::Workload(kind, name) => {
            restart::workload(&change, kind, &name, ctx.now, out, err).await?
        }
    };
    match followed {
        Some(followed) => change.follow(&followed, timeout, err).await,
        None => Ok(()),
    }
}
