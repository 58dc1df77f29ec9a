//! A plan saved for review and applied later: `plan --stage S --out FILE`
//! writes it, `deploy --stage S --plan FILE` applies exactly it. The file
//! holds the plan (whose actions carry everything they write, secrets as
//! their source only), the manifest its zips come from, and a digest of the
//! live state it was made against. Applying it plans again; any difference
//! in the plan, the live state or an artifact refuses the deploy before its
//! first write.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::plan::{Action, Plan};
use super::render;
use super::state::Live;

/// The saved plan's format; a file of another format is refused.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedPlan {
    pub format: u32,
    /// The ferry that made it: another version may plan differently.
    pub ferry_version: String,
    /// The manifest whose zips the plan uploads (absolute).
    pub manifest: PathBuf,
    pub prune: bool,
    /// [`live_digest`] of the state the plan was made against.
    pub live_digest: String,
    pub plan: Plan,
}

/// Why a saved plan cannot be applied. Each is found before any write.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SavedPlanError {
    #[error("cannot read the saved plan {path}: {message}")]
    #[diagnostic(help("pass the file `cargo xtask plan --stage STAGE --out FILE` wrote"))]
    Read { path: PathBuf, message: String },
    #[error("cannot write the saved plan {path}: {message}")]
    #[diagnostic(help("choose a --out path in a folder that exists and that you may write"))]
    Write { path: PathBuf, message: String },
    #[error("{path} was made by ferry {made_with} (plan format {format}); this is ferry {this}")]
    #[diagnostic(help(
        "make the plan again with this ferry: cargo xtask plan --stage STAGE --out FILE"
    ))]
    OtherFerry {
        path: PathBuf,
        made_with: String,
        format: u32,
        this: String,
    },
    #[error("the saved plan is for stage `{planned}`, not `{asked}`")]
    #[diagnostic(help(
        "run `cargo xtask deploy --stage {planned} --plan FILE`, or make a plan for `{asked}`"
    ))]
    OtherStage { planned: String, asked: String },
    #[error("the saved plan was made in AWS account {planned}; these credentials are for {now}")]
    #[diagnostic(help(
        "use the credentials of account {planned}, or make the plan again with these"
    ))]
    OtherAccount { planned: String, now: String },
    #[error("the artifact {zip} changed since the plan was made: the plan uploads CodeSha256 {planned}, the file has {found}")]
    #[diagnostic(help(
        "a build ran since; review a new plan: cargo xtask plan --stage STAGE --out FILE"
    ))]
    ArtifactChanged {
        zip: String,
        planned: String,
        found: String,
    },
    #[error("the stage changed since the plan was made; nothing was written{}", differences(.only_planned, .only_now))]
    #[diagnostic(help("review a new plan: cargo xtask plan --stage STAGE --out FILE"))]
    Stale {
        only_planned: Vec<String>,
        only_now: Vec<String>,
    },
}

fn differences(only_planned: &[String], only_now: &[String]) -> String {
    if only_planned.is_empty() && only_now.is_empty() {
        return ":\n  the plan is the same, but resources it did not touch changed".to_owned();
    }
    let mut out = String::from(":");
    for line in only_planned {
        out.push_str(&format!("\n  planned, no longer: {}", line.trim()));
    }
    for line in only_now {
        out.push_str(&format!("\n  now also needed:    {}", line.trim()));
    }
    out
}

impl SavedPlan {
    pub fn new(plan: Plan, live: &Live, manifest: PathBuf, prune: bool) -> Self {
        SavedPlan {
            format: FORMAT,
            ferry_version: env!("CARGO_PKG_VERSION").to_owned(),
            manifest,
            prune,
            live_digest: live_digest(live),
            plan,
        }
    }

    pub fn write(&self, path: &Path) -> Result<(), SavedPlanError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| SavedPlanError::Write {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        std::fs::write(path, text + "\n").map_err(|e| SavedPlanError::Write {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    /// Reads a saved plan for `stage`, refusing another format, ferry
    /// version or stage.
    pub fn read(path: &Path, stage: &str) -> Result<Self, SavedPlanError> {
        let read_error = |message: String| SavedPlanError::Read {
            path: path.to_owned(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| read_error(e.to_string()))?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| read_error(format!("not JSON: {e}")))?;
        let format = value.get("format").and_then(|f| f.as_u64()).unwrap_or(0) as u32;
        let made_with = value
            .get("ferry_version")
            .and_then(|v| v.as_str())
            .unwrap_or("(unknown)");
        let this = env!("CARGO_PKG_VERSION");
        if format != FORMAT || made_with != this {
            return Err(SavedPlanError::OtherFerry {
                path: path.to_owned(),
                made_with: made_with.to_owned(),
                format,
                this: this.to_owned(),
            });
        }
        let saved: SavedPlan = serde_json::from_value(value)
            .map_err(|e| read_error(format!("not a ferry plan: {e}")))?;
        if saved.plan.stage != stage {
            return Err(SavedPlanError::OtherStage {
                planned: saved.plan.stage,
                asked: stage.to_owned(),
            });
        }
        Ok(saved)
    }

    /// Every zip the plan uploads still has the bytes it was planned with.
    pub fn check_artifacts(&self) -> Result<(), SavedPlanError> {
        for (zip, planned) in self.plan.actions.iter().filter_map(upload) {
            let found = std::fs::read(zip)
                .map(|bytes| crate::build::pack::code_sha256(&bytes))
                .unwrap_or_else(|e| format!("(unreadable: {e})"));
            if found != planned {
                return Err(SavedPlanError::ArtifactChanged {
                    zip: zip.to_owned(),
                    planned: planned.to_owned(),
                    found,
                });
            }
        }
        Ok(())
    }

    /// The plan made now against the live state read now must be the saved
    /// one, in the same account, against the same live state.
    pub fn check(&self, now: &Plan, live: &Live) -> Result<(), SavedPlanError> {
        if now.account != self.plan.account {
            return Err(SavedPlanError::OtherAccount {
                planned: self.plan.account.clone(),
                now: now.account.clone(),
            });
        }
        if *now == self.plan && live_digest(live) == self.live_digest {
            return Ok(());
        }
        let lines = |p: &Plan| -> BTreeSet<String> { p.actions.iter().map(render::line).collect() };
        let (planned, current) = (lines(&self.plan), lines(now));
        Err(SavedPlanError::Stale {
            only_planned: planned.difference(&current).cloned().collect(),
            only_now: current.difference(&planned).cloned().collect(),
        })
    }
}

/// The zip an action uploads and the CodeSha256 it was planned with.
fn upload(action: &Action) -> Option<(&str, &str)> {
    match action {
        Action::PublishLayerVersion {
            zip, code_sha256, ..
        }
        | Action::CreateFunction {
            zip, code_sha256, ..
        }
        | Action::UpdateFunctionCode {
            zip,
            to: code_sha256,
            ..
        }
        | Action::UploadArtifact {
            zip, code_sha256, ..
        } => Some((zip, code_sha256)),
        _ => None,
    }
}

/// A digest of the live state a plan was made against. Function
/// environment values are left out (they may be secrets, and a changed value
/// shows in the plan itself), and so is CloudFront's propagation status,
/// which moves without anyone changing anything.
pub fn live_digest(live: &Live) -> String {
    let mut live = live.clone();
    for function in live.functions.values_mut() {
        function.env.values_mut().for_each(String::clear);
    }
    if let Some(d) = live.front.as_mut().and_then(|f| f.distribution.as_mut()) {
        d.status.clear();
    }
    let bytes = serde_json::to_vec(&live).unwrap_or_default();
    crate::build::pack::hex(&Sha256::digest(bytes))
}
