//! `kubectl initctl check OLD NEW`: the edit guard offline, for CI and pre-commit hooks. Prints
//! the classification, the diff and the plan edit would follow. Exit 0 allowed, 3 refused.

use std::io::{Read, Write};

use serde_json::Value;

use crate::change::guard::{self, Classification};
use crate::change::plan;
use crate::cli::{CheckArgs, DocumentOutput};
use crate::cluster::owner;
use crate::error::{Error, Result};
use crate::input::manifest;
use crate::render::{Palette, change, write_json, write_yaml};

pub(crate) fn run(
    args: &CheckArgs,
    stdin: &mut dyn Read,
    out: &mut dyn Write,
    palette: Palette,
) -> Result<()> {
    if args.old.as_os_str() == "-" && args.new.as_os_str() == "-" {
        return Err(Error::Input(
            "only one of OLD and NEW can be read from stdin".into(),
        ));
    }
    let old = manifest::one_pod(&args.old, stdin)?;
    let new = manifest::one_pod(&args.new, stdin)?;
    let classification = guard::classify(&old, &new);
    let typed_old: k8s_openapi::api::core::v1::Pod = serde_json::from_value(old.clone())
        .map_err(|e| Error::Input(format!("{}: {e}", args.old.display())))?;
    let name = old
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("pod");
    let planned = match &classification {
        Classification::InitImages { images, others } => {
            let ownership = owner::from_manifest(&old);
            let plan = plan::for_edit(&typed_old, images, others, args.restart, &ownership);
            Some((plan, ownership))
        }
        _ => None,
    };
    let plan = planned.as_ref().map(|(plan, ownership)| (plan, ownership));
    match args.output {
        None => change::write_verdict(out, palette, name, &classification, plan)?,
        Some(format) => {
            let doc = change::verdict_document(name, &classification, plan);
            match format {
                DocumentOutput::Json => write_json(out, &doc),
                DocumentOutput::Yaml => write_yaml(out, &doc),
            }
            .map_err(Error::Output)?;
        }
    }
    match &classification {
        Classification::Rejected(violations) => Err(Error::Rejected(format!(
            "pod/{name}: {} field(s) cannot be changed on a live pod",
            violations.len()
        ))),
        _ => Ok(()),
    }
}
