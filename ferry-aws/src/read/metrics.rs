//! The canary's numbers from CloudWatch: one `GetMetricData` per reading,
//! summing since the canary began each canary version's `Errors` and
//! `Invocations` (Lambda's metrics of an alias invocation, by the version it
//! executed: dimensions `FunctionName`, `Resource` = `function:alias`,
//! `ExecutedVersion`) and the stage's `5XXError` (`ApiName`, `Stage`).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use ferry::deploy::watch::{MetricSource, Observed};

use crate::sdk::clients::Clients;
use crate::sdk::fail;

/// One function of the canary: its name and the version the alias weights.
pub struct Shifted {
    pub function: String,
    pub version: String,
}

pub struct CloudWatch<'a> {
    pub c: &'a Clients,
    pub since: SystemTime,
    pub alias: String,
    pub functions: Vec<Shifted>,
    /// The REST API's name and the stage (API Gateway's metric dimensions).
    pub api: (String, String),
}

fn dim(name: &str, value: &str) -> Dimension {
    Dimension::builder().name(name).value(value).build()
}

fn query(id: String, namespace: &str, name: &str, dims: Vec<Dimension>) -> MetricDataQuery {
    let metric = Metric::builder()
        .namespace(namespace)
        .metric_name(name)
        .set_dimensions(Some(dims))
        .build();
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(metric)
                .period(60)
                .stat("Sum")
                .build(),
        )
        .return_data(true)
        .build()
}

/// The queries of one reading: `e<i>`/`i<i>` per function, `s5xx`.
fn queries(alias: &str, functions: &[Shifted], (api, stage): (&str, &str)) -> Vec<MetricDataQuery> {
    let mut queries = Vec::new();
    for (i, f) in functions.iter().enumerate() {
        let dims = || {
            vec![
                dim("FunctionName", &f.function),
                dim("Resource", &format!("{}:{alias}", f.function)),
                dim("ExecutedVersion", &f.version),
            ]
        };
        queries.push(query(format!("e{i}"), "AWS/Lambda", "Errors", dims()));
        queries.push(query(format!("i{i}"), "AWS/Lambda", "Invocations", dims()));
    }
    let dims = vec![dim("ApiName", api), dim("Stage", stage)];
    queries.push(query("s5xx".into(), "AWS/ApiGateway", "5XXError", dims));
    queries
}

impl CloudWatch<'_> {
    fn queries(&self) -> Vec<MetricDataQuery> {
        queries(&self.alias, &self.functions, (&self.api.0, &self.api.1))
    }

    async fn read(&self) -> Result<Observed, String> {
        // Whole minutes around the bake: CloudWatch keeps one point a minute.
        let minute = |t: SystemTime| {
            let s = t
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            DateTime::from_secs((s - s % 60) as i64)
        };
        let end = SystemTime::now() + Duration::from_secs(60);
        let pages: Vec<_> = self
            .c
            .cloudwatch
            .get_metric_data()
            .set_metric_data_queries(Some(self.queries()))
            .start_time(minute(self.since))
            .end_time(minute(end))
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| {
                fail::call("cloudwatch:GetMetricData", e.into_service_error()).to_string()
            })?;
        let mut sums: BTreeMap<String, f64> = BTreeMap::new();
        for result in pages.iter().flat_map(|p| p.metric_data_results()) {
            let id = result.id().unwrap_or_default().to_owned();
            *sums.entry(id).or_default() += result.values().iter().sum::<f64>();
        }
        let mut observed = Observed {
            stage_5xx: sums.get("s5xx").copied().unwrap_or_default(),
            ..Observed::default()
        };
        for (i, f) in self.functions.iter().enumerate() {
            let sum = |p: &str| sums.get(&format!("{p}{i}")).copied().unwrap_or_default();
            observed.errors.insert(f.function.clone(), sum("e"));
            observed.invocations.insert(f.function.clone(), sum("i"));
        }
        Ok(observed)
    }
}

impl MetricSource for CloudWatch<'_> {
    async fn observe(&mut self) -> Result<Observed, String> {
        self.read().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each query as `id namespace metric stat period dims`.
    fn shown(q: &MetricDataQuery) -> String {
        let stat = q.metric_stat().unwrap();
        let m = stat.metric().unwrap();
        let dims: Vec<String> = m
            .dimensions()
            .iter()
            .map(|d| format!("{}={}", d.name().unwrap(), d.value().unwrap()))
            .collect();
        format!(
            "{} {} {} {} {} {}",
            q.id().unwrap(),
            m.namespace().unwrap(),
            m.metric_name().unwrap(),
            stat.stat().unwrap(),
            stat.period().unwrap(),
            dims.join(",")
        )
    }

    #[test]
    fn the_canary_reads_its_versions_by_alias_and_the_stage_by_api_name() {
        let functions = [Shifted {
            function: "shop-prod-get".into(),
            version: "7".into(),
        }];
        let all: Vec<String> = queries("prod", &functions, ("shop-prod", "prod"))
            .iter()
            .map(shown)
            .collect();
        assert_eq!(
            all,
            [
                "e0 AWS/Lambda Errors Sum 60 FunctionName=shop-prod-get,Resource=shop-prod-get:prod,ExecutedVersion=7",
                "i0 AWS/Lambda Invocations Sum 60 FunctionName=shop-prod-get,Resource=shop-prod-get:prod,ExecutedVersion=7",
                "s5xx AWS/ApiGateway 5XXError Sum 60 ApiName=shop-prod,Stage=prod",
            ]
        );
    }
}
