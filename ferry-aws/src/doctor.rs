//! `doctor`: the live state read as for a plan, plus each function's Lambda
//! state, judged link by link by `ferry::deploy::doctor`.

use std::collections::BTreeMap;
use std::process::ExitCode;

use ferry::deploy::{doctor, Desired, Live};
use futures::stream::{self, StreamExt};
use miette::IntoDiagnostic;

use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};

const READ_CONCURRENCY: usize = 8;

/// Prints the report; exit 0 when every link holds, 2 when one is broken.
/// `network`: the VPC check's problems (`read::vpc::problems`).
pub async fn run(
    c: &Clients,
    (desired, live): (&Desired, &Live),
    network: Vec<String>,
    json: bool,
) -> miette::Result<ExitCode> {
    let states = states(c, live).await?;
    let mut report = doctor::check(desired, live, &states);
    let in_vpc = desired
        .functions
        .values()
        .filter(|f| f.vpc.is_some())
        .count();
    if in_vpc > 0 {
        let ok = network.is_empty();
        report.ok &= ok;
        report.links.push(doctor::Link {
            link: "network",
            ok,
            detail: if ok {
                format!("the subnets and security groups of {in_vpc} functions exist, each function's in one VPC")
            } else {
                network.join("; ")
            },
            fix: (!ok).then(|| "fix the ids where each problem says, then deploy".to_owned()),
        });
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).into_diagnostic()?
        );
    } else {
        print!("{}", doctor::text(&report));
    }
    Ok(ExitCode::from(if report.ok { 0 } else { 2 }))
}

/// Each live function's `State` (ListFunctions leaves it out).
async fn states(c: &Clients, live: &Live) -> Result<BTreeMap<String, String>, AwsError> {
    let read: Vec<Result<(String, String), AwsError>> = stream::iter(live.functions.keys())
        .map(|name| async move {
            let out = c
                .lambda_paced()
                .await
                .get_function_configuration()
                .function_name(name)
                .send()
                .await
                .map_err(|e| {
                    fail::call("lambda:GetFunctionConfiguration", e.into_service_error())
                })?;
            let state = out
                .state()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default();
            Ok((name.clone(), state))
        })
        .buffer_unordered(READ_CONCURRENCY)
        .collect()
        .await;
    read.into_iter().collect()
}
