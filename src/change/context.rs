//! What a pod-changing command (`edit`, `restart`) works with: the cluster and the one
//! namespace, the change flags, the process's surroundings; and the steps both commands take
//! with them (ask, recreate a bare pod, follow the result).

use std::io::Write;
use std::time::Duration;

use serde_json::Value;

use crate::change::backup;
use crate::change::follow::{self, Followed};
use crate::change::recreate::{self, RecreateOptions};
use crate::cli::{ChangeOpts, DEFAULT_TIMEOUT};
use crate::cluster::Cluster;
use crate::error::{Error, Result};
use crate::session::{Environment, Session, Source};
use crate::util::interrupt::Signal;

pub(crate) struct ChangeContext<'a> {
    pub(super) cluster: &'a Cluster,
    pub(super) namespace: String,
    pub(super) env: &'a Environment,
    pub(super) opts: &'a ChangeOpts,
    /// Names backup files by the time of the command.
    stamp: String,
}

impl<'a> ChangeContext<'a> {
    /// The session's cluster and single namespace; `offline` and `all_namespaces` are the
    /// command's words for a session without them.
    pub(crate) fn new(
        session: &'a Session,
        env: &'a Environment,
        opts: &'a ChangeOpts,
        offline: &str,
        all_namespaces: &str,
    ) -> Result<ChangeContext<'a>> {
        let Source::Cluster(cluster) = &session.source else {
            return Err(Error::Input(offline.into()));
        };
        let namespace = session
            .namespaces
            .single()
            .ok_or_else(|| Error::Input(all_namespaces.into()))?
            .to_string();
        Ok(ChangeContext {
            cluster,
            namespace,
            env,
            opts,
            stamp: session.now.strftime("%Y%m%dT%H%M%SZ").to_string(),
        })
    }

    /// `--timeout`; "0" means the default, as it always has.
    pub(crate) fn timeout(&self) -> Result<Duration> {
        let parse = crate::util::duration::parse_timeout;
        match parse(&self.opts.timeout)? {
            Some(timeout) => Ok(timeout),
            None => Ok(parse(DEFAULT_TIMEOUT)?.unwrap_or_default()),
        }
    }

    /// Asks before a change; never without a terminal.
    pub(super) fn confirm(&self, question: &str) -> Result<bool> {
        if self.opts.yes {
            return Ok(true);
        }
        if !self.env.interactive {
            return Err(Error::NotApplied(
                "not applied: there is no terminal to confirm on; run again with --yes to apply"
                    .into(),
            ));
        }
        dialoguer::Confirm::new()
            .with_prompt(question)
            .default(false)
            .interact()
            .map_err(|e| Error::Input(format!("cannot ask for confirmation: {e}")))
    }

    /// The safe recreate of the bare pod `live` as `desired` (backups first). Ok once the new
    /// pod exists, with the terminating signal that was held meanwhile, if one came: the caller
    /// says what was done, then stops (see [`stop_if_held`]).
    pub(super) async fn recreate(
        &self,
        live: &Value,
        desired: &Value,
        timeout: Duration,
        err: &mut dyn Write,
    ) -> Result<Option<Signal>> {
        let new = backup::for_create(desired, self.opts.keep_node);
        let opts = RecreateOptions {
            state_dir: self.env.state_dir.as_deref(),
            stamp: self.stamp.clone(),
            timeout,
        };
        recreate::recreate(self.cluster, live, &new, &opts, err).await
    }

    /// With --wait, follows the new pod(s) until they are Ready.
    pub(crate) async fn follow(
        &self,
        followed: &Followed,
        timeout: Duration,
        err: &mut dyn Write,
    ) -> Result<()> {
        if !self.opts.wait {
            return Ok(());
        }
        follow::follow(self.cluster, followed, timeout, self.env.interactive, err).await
    }
}

/// Stops after a recreate during which a terminating signal was held, saying what was done.
pub(super) fn stop_if_held(held: Option<Signal>, done: String) -> Result<()> {
    match held {
        Some(signal) => Err(Error::Interrupted {
            signal,
            after: Some(done),
        }),
        None => Ok(()),
    }
}
