//! `kubectl initctl edit POD`: kubectl's editing loop with the guard in front of the server (see
//! change::edit).

use std::io::Write;

use crate::change::edit::EditSession;
use crate::cli::EditArgs;
use crate::error::Result;
use crate::session::{Environment, Session};

pub(crate) async fn run(
    ctx: &Session,
    env: &Environment,
    args: &EditArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    EditSession::open(ctx, env, args).await?.run(out, err).await
}
