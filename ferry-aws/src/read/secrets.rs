//! Resolves a stage's secret environment values at the start of a run,
//! before the build and before any write: variables of the deploying process
//! and SSM parameters (`GetParameters` with decryption, ten names a call).
//! The values go only into Lambda's configuration; errors name the source
//! and where it is declared, never a value.

use std::collections::BTreeMap;

use ferry::model::{SecretSource, Secrets, Stage, Workspace};

use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};

/// SSM's limit of names per `GetParameters` call.
const SSM_BATCH: usize = 10;

pub async fn resolve(
    c: &Clients,
    workspace: &Workspace,
    stage: &Stage,
) -> Result<Secrets, AwsError> {
    let sources = ferry::model::secret_sources(workspace, stage);
    let mut secrets = Secrets::default();
    let mut missing = Vec::new();
    let mut ssm = Vec::new();
    for (source, users) in &sources {
        match source {
            SecretSource::Env(var) => match std::env::var(var) {
                Ok(value) => secrets.insert(source.clone(), value),
                Err(_) => missing.push(format!("{source} (for {})", users.join(", "))),
            },
            SecretSource::Ssm(name) => ssm.push(name.clone()),
        }
    }
    for batch in ssm.chunks(SSM_BATCH) {
        let out = c
            .ssm
            .get_parameters()
            .set_names(Some(batch.to_vec()))
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| fail::call("ssm:GetParameters", e.into_service_error()))?;
        let mut found = BTreeMap::new();
        for p in out.parameters() {
            if let (Some(name), Some(value)) = (p.name(), p.value()) {
                found.insert(name.to_owned(), value.to_owned());
                if let Some(arn) = p.arn() {
                    found.insert(arn.to_owned(), value.to_owned());
                }
            }
        }
        for name in batch {
            let source = SecretSource::Ssm(name.clone());
            match found.remove(name) {
                Some(value) => secrets.insert(source, value),
                None => {
                    let users = sources
                        .get(&source)
                        .map(|u| u.join(", "))
                        .unwrap_or_default();
                    missing.push(format!("{source} in {} (for {users})", stage.region));
                }
            }
        }
    }
    if missing.is_empty() {
        Ok(secrets)
    } else {
        Err(AwsError::Secrets(missing.join("; ")))
    }
}
