//! What a finished deploy reports: the invoke URL, the public URL and how
//! far CloudFront has propagated (waiting for `Deployed` with `--wait`), as
//! text for people or JSON for CI.

use std::time::{Duration, Instant};

use ferry::deploy::watch::Verdict;
use ferry::deploy::{render, Desired, Plan};
use miette::IntoDiagnostic;
use serde::Serialize;
use serde_json::json;

use crate::exec::apply::Outcome;
use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};

/// CloudFront usually propagates in a few minutes; past this, something is wrong.
const WAIT_LIMIT: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, Serialize)]
pub struct FrontStatus {
    pub distribution: String,
    pub domain_name: String,
    /// `InProgress` or `Deployed`.
    pub status: String,
    pub public_url: String,
}

/// The distribution's status after the deploy; with `wait`, once `Deployed`.
pub async fn front_status(
    c: &Clients,
    desired: &Desired,
    outcome: &Outcome,
    wait: bool,
) -> Result<Option<FrontStatus>, AwsError> {
    let (Some(front), Some((id, domain_name))) = (&desired.front, &outcome.distribution) else {
        return Ok(None);
    };
    let started = Instant::now();
    let mut delay = Duration::from_secs(1);
    let status = loop {
        let status = distribution_status(c, id).await?;
        if !wait || status == "Deployed" {
            break status;
        }
        if started.elapsed() > WAIT_LIMIT {
            return Err(AwsError::Timeout {
                what: format!("CloudFront distribution {id}"),
                seconds: WAIT_LIMIT.as_secs(),
                status,
            });
        }
        eprintln!(
            "ferry: CloudFront distribution {id} is {status} ({:.0} s); waiting for Deployed",
            started.elapsed().as_secs_f64()
        );
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(15));
    };
    let host = front.door.domain.as_deref().unwrap_or(domain_name);
    Ok(Some(FrontStatus {
        distribution: id.clone(),
        domain_name: domain_name.clone(),
        status,
        public_url: format!("https://{host}/"),
    }))
}

async fn distribution_status(c: &Clients, id: &str) -> Result<String, AwsError> {
    let out = c
        .cloudfront
        .get_distribution()
        .id(id)
        .send()
        .await
        .map_err(|e| fail::call("cloudfront:GetDistribution", e.into_service_error()))?;
    Ok(out
        .distribution()
        .map(|d| d.status().to_owned())
        .unwrap_or_default())
}

/// Prints the deploy's result on stdout.
pub fn deployed(
    desired: &Desired,
    plan: &Plan,
    outcome: &Outcome,
    // What followed the apply: the front door's status, the canary's end.
    (front, canary): (Option<&FrontStatus>, Option<&crate::canary::CanaryResult>),
    account: &str,
    seconds: f64,
    as_json: bool,
) -> miette::Result<()> {
    let url = outcome.api_id.as_ref().map(|id| {
        format!(
            "https://{id}.execute-api.{}.amazonaws.com/{}",
            desired.region, desired.stage
        )
    });
    if as_json {
        let result = json!({
            "app": desired.app,
            "stage": desired.stage,
            "region": desired.region,
            "account": account,
            "noop": plan.is_empty(),
            "summary": render::summary(plan),
            "actions": outcome.applied,
            "api_id": outcome.api_id,
            "deployment_id": outcome.deployment_id,
            "layer_versions": outcome.layer_versions,
            "invoke_url": url,
            "front": front,
            "waited_for": outcome.waited_for,
            "uploaded_bytes": outcome.uploaded_bytes,
            "seconds": seconds,
            "canary": canary,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&result).into_diagnostic()?
        );
        return Ok(());
    }
    if plan.is_empty() {
        println!(
            "Stage `{}` is up to date: nothing written ({seconds:.1} s).",
            desired.stage
        );
    } else {
        println!(
            "Deployed stage `{}`: {} changes in {seconds:.1} s, {} uploaded.",
            desired.stage,
            outcome.applied.len(),
            ferry::build::human_bytes(outcome.uploaded_bytes)
        );
    }
    if let Some(c) = canary {
        canary_lines(&desired.stage, c);
    }
    if let Some(other) = &outcome.waited_for {
        println!("Waited for another deploy of the stage first: {other}.");
    }
    if let Some(url) = &url {
        println!("Invoke URL: {url}");
    }
    if let Some(f) = front {
        let note = if f.status == "Deployed" {
            "Deployed".to_owned()
        } else {
            format!(
                "{}: edges pick up changes within minutes; `--wait` waits for Deployed",
                f.status
            )
        };
        println!(
            "Public URL: {} (CloudFront {} {}, {note})",
            f.public_url, f.distribution, f.domain_name
        );
    }
    Ok(())
}

fn canary_lines(stage: &str, c: &crate::canary::CanaryResult) {
    let versions: Vec<String> = c.versions.iter().map(|(f, v)| format!("{f}:{v}")).collect();
    match &c.verdict {
        Verdict::Complete { observed } => println!(
            "Canary completed after {} s ({} invocation(s), {} error(s), {} 5XX): {} now take(s) all traffic.",
            c.bake_s,
            observed.invocations.values().sum::<f64>(),
            observed.errors.values().sum::<f64>(),
            observed.stage_5xx,
            versions.join(", ")
        ),
        Verdict::Revert { reason, .. } => println!(
            "Canary REVERTED: {reason}. Stage `{stage}` serves its previous release again; {} got no more traffic.",
            versions.join(", ")
        ),
    }
}
