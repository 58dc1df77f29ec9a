//! The stage's artifact bucket, read: that it exists (or is to be created),
//! belongs to the deploying account and lives in the stage's region, which
//! Lambda requires of code it takes from S3; and which of the stage's zips
//! it already holds. A bucket that fails a check stops the run before any
//! write, naming where deploy.toml declares it.

use std::collections::BTreeSet;

use ferry::deploy::state::Desired;
use ferry::deploy::store::LiveStore;
use ferry::model::store::ArtifactStore;
use futures::{stream, StreamExt};

use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};

/// HeadObject calls in flight at once.
const HEADS_AT_ONCE: usize = 4;

/// Whether the bucket exists; an error when it should and does not, or is
/// not the stage's.
pub async fn check(
    c: &Clients,
    store: &ArtifactStore,
    region: &str,
    account: &str,
) -> Result<bool, AwsError> {
    let refuse = |why: String, help: &str| AwsError::ArtifactBucket {
        bucket: store.bucket.clone(),
        place: store.origin.place(),
        why,
        help: help.to_owned(),
    };
    let head =
        c.s3.head_bucket()
            .bucket(&store.bucket)
            .expected_bucket_owner(account)
            .send()
            .await;
    let found_in = match head {
        Ok(out) => out.bucket_region().map(str::to_owned),
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16());
            let moved_to = e
                .raw_response()
                .and_then(|r| r.headers().get("x-amz-bucket-region"))
                .map(str::to_owned);
            match status {
                Some(404) if store.create => return Ok(false),
                Some(404) => {
                    let help = if store.origin.key.ends_with("log-archive.bucket") {
                        "create it in the stage's region, or add `create = true` to the stage's `log-archive` and ferry creates it (encrypted, public access blocked)"
                    } else {
                        "create it in the stage's region, or write `artifact-bucket = { name = \"…\", create = true }` and ferry creates it (encrypted, public access blocked)"
                    };
                    return Err(refuse(format!("no such bucket (account {account})"), help));
                }
                Some(403) => {
                    return Err(refuse(
                        format!("it exists, but not in account {account}, or these credentials may not read it"),
                        "bucket names are global: choose a name of your own (add the account id, say), or grant s3:ListBucket on it",
                    ))
                }
                Some(301) => moved_to,
                _ => return Err(fail::call("s3:HeadBucket", e.into_service_error())),
            }
        }
    };
    let found_in = match found_in {
        Some(r) => r,
        None => location(c, &store.bucket, account).await?,
    };
    if found_in != region {
        return Err(refuse(
            format!("it is in {found_in}, and Lambda takes code only from a bucket in the function's region, {region}"),
            "use a bucket in the stage's region (one per region, e.g. `items-artifacts-eu-west-1`) under [stages.NAME] in deploy.toml",
        ));
    }
    Ok(true)
}

/// The bucket's region by GetBucketLocation (S3 names us-east-1 by
/// nothing and eu-west-1 by `EU`).
async fn location(c: &Clients, bucket: &str, account: &str) -> Result<String, AwsError> {
    let out =
        c.s3.get_bucket_location()
            .bucket(bucket)
            .expected_bucket_owner(account)
            .send()
            .await
            .map_err(|e| fail::call("s3:GetBucketLocation", e.into_service_error()))?;
    Ok(match out.location_constraint().map(|l| l.as_str()) {
        None | Some("") => "us-east-1".to_owned(),
        Some("EU") => "eu-west-1".to_owned(),
        Some(other) => other.to_owned(),
    })
}

/// The bucket and the stage's zips in it; `None` without a bucket.
pub async fn read(
    c: &Clients,
    desired: &Desired,
    account: &str,
) -> Result<Option<LiveStore>, AwsError> {
    let Some(store) = &desired.store else {
        return Ok(None);
    };
    let declared = ArtifactStore {
        bucket: store.bucket.clone(),
        create: store.create,
        origin: store.origin.clone(),
    };
    if !check(c, &declared, &desired.region, account).await? {
        return Ok(Some(LiveStore::default()));
    }
    let heads: Vec<Result<Option<String>, AwsError>> = stream::iter(store.zips.values())
        .map(|zip| async move {
            let head =
                c.s3.head_object()
                    .bucket(&store.bucket)
                    .key(&zip.key)
                    .expected_bucket_owner(account)
                    .send()
                    .await;
            match head {
                // A partial or foreign object under the key is replaced.
                Ok(out) if out.content_length() == Some(zip.bytes as i64) => {
                    Ok(Some(zip.key.clone()))
                }
                Ok(_) => Ok(None),
                Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(None),
                Err(e) => Err(fail::call("s3:HeadObject", e.into_service_error())),
            }
        })
        .buffer_unordered(HEADS_AT_ONCE)
        .collect()
        .await;
    let mut present = BTreeSet::new();
    for head in heads {
        present.extend(head?);
    }
    Ok(Some(LiveStore {
        exists: true,
        present,
    }))
}

/// An object's bytes and its `ferry-commit` metadata; `None` when the key
/// is not there.
pub async fn object(
    c: &Clients,
    bucket: &str,
    key: &str,
) -> Result<Option<(Vec<u8>, Option<String>)>, AwsError> {
    let got = c.s3.get_object().bucket(bucket).key(key).send().await;
    let out = match got {
        Ok(out) => out,
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => return Ok(None),
        Err(e) => return Err(fail::call("s3:GetObject", e.into_service_error())),
    };
    let commit = out
        .metadata()
        .and_then(|m| m.get(ferry::model::store::COMMIT_METADATA))
        .cloned();
    let bytes = out.body.collect().await.map_err(|e| AwsError::Call {
        call: "s3:GetObject",
        message: format!("s3://{bucket}/{key}: {e}"),
        help: "run again; the download was cut".into(),
    })?;
    Ok(Some((bytes.into_bytes().to_vec(), commit)))
}
