//! Writes to the stage's artifact bucket: creating it private (objects
//! owned by the bucket's account, public access blocked, encrypted with
//! S3's keys, tagged like the stage's resources), and uploading one zip
//! under its content hash with the SHA-256 S3 checks the bytes against.
//! Both are safe to repeat: a retry meets its own bucket or rewrites the
//! same bytes.

use std::collections::BTreeMap;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, ObjectOwnership, OwnershipControls,
    OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tag, Tagging,
};

use ferry::model::store::COMMIT_METADATA;

use crate::sdk::clients::Clients;
use crate::sdk::fail::{self, AwsError};

/// Creates `bucket` in `region` and makes it private.
pub async fn create_bucket(
    c: &Clients,
    bucket: &str,
    region: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    // us-east-1 is the one region S3 takes no location constraint for.
    let config = (region != "us-east-1").then(|| {
        CreateBucketConfiguration::builder()
            .location_constraint(BucketLocationConstraint::from(region))
            .build()
    });
    let created =
        c.s3.create_bucket()
            .bucket(bucket)
            .set_create_bucket_configuration(config)
            .object_ownership(ObjectOwnership::BucketOwnerEnforced)
            .send()
            .await;
    if let Err(e) = created {
        let e = e.into_service_error();
        // A retry whose first attempt landed.
        if !e.is_bucket_already_owned_by_you() {
            return Err(fail::call("s3:CreateBucket", e));
        }
    }
    let account = c.account_id().await?;
    c.s3.put_bucket_ownership_controls()
        .bucket(bucket)
        .expected_bucket_owner(&account)
        .ownership_controls(
            OwnershipControls::builder()
                .rules(
                    OwnershipControlsRule::builder()
                        .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                        .build()
                        .map_err(|e| fail::unbuilt("s3:PutBucketOwnershipControls", e))?,
                )
                .build()
                .map_err(|e| fail::unbuilt("s3:PutBucketOwnershipControls", e))?,
        )
        .send()
        .await
        .map_err(|e| fail::call("s3:PutBucketOwnershipControls", e.into_service_error()))?;
    c.s3.put_public_access_block()
        .bucket(bucket)
        .expected_bucket_owner(&account)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(|e| fail::call("s3:PutPublicAccessBlock", e.into_service_error()))?;
    let by_default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::Aes256)
        .build()
        .map_err(|e| fail::unbuilt("s3:PutBucketEncryption", e))?;
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(by_default)
        .build();
    c.s3.put_bucket_encryption()
        .bucket(bucket)
        .expected_bucket_owner(&account)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()
                .map_err(|e| fail::unbuilt("s3:PutBucketEncryption", e))?,
        )
        .send()
        .await
        .map_err(|e| fail::call("s3:PutBucketEncryption", e.into_service_error()))?;
    if !tags.is_empty() {
        let tag_set = tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| fail::unbuilt("s3:PutBucketTagging", e))?;
        let tagging = Tagging::builder()
            .set_tag_set(Some(tag_set))
            .build()
            .map_err(|e| fail::unbuilt("s3:PutBucketTagging", e))?;
        c.s3.put_bucket_tagging()
            .bucket(bucket)
            .expected_bucket_owner(&account)
            .tagging(tagging)
            .send()
            .await
            .map_err(|e| fail::call("s3:PutBucketTagging", e.into_service_error()))?;
    }
    Ok(())
}

/// Uploads `zip` to `key`; S3 refuses it unless its SHA-256 is
/// `code_sha256` (base64, as Lambda reports CodeSha256).
pub async fn upload(
    c: &Clients,
    (bucket, key): (&str, &str),
    zip: Vec<u8>,
    code_sha256: &str,
) -> Result<(), AwsError> {
    let account = c.account_id().await?;
    c.s3.put_object()
        .bucket(bucket)
        .key(key)
        .expected_bucket_owner(&account)
        .content_type("application/zip")
        .checksum_sha256(code_sha256)
        .body(ByteStream::from(zip))
        .send()
        .await
        .map_err(|e| fail::call("s3:PutObject", e.into_service_error()))?;
    Ok(())
}

/// Keeps the release's build manifest at `key`, after checking the file is
/// still the one deployed.
pub async fn upload_manifest(
    c: &Clients,
    (bucket, key): (&str, &str),
    manifest: &str,
    sha256: &str,
    commit: Option<&str>,
) -> Result<(), AwsError> {
    let bytes = tokio::fs::read(manifest)
        .await
        .map_err(|e| AwsError::Call {
            call: "reading the build manifest",
            message: format!("{manifest}: {e}"),
            help: "deploy again from the build that made the plan".into(),
        })?;
    if ferry::build::pack::sha256_hex(&bytes) != sha256 {
        return Err(AwsError::Call {
            call: "reading the build manifest",
            message: format!("{manifest} changed since the plan was made"),
            help: "plan again: a build ran in between".into(),
        });
    }
    let account = c.account_id().await?;
    c.s3.put_object()
        .bucket(bucket)
        .key(key)
        .expected_bucket_owner(&account)
        .content_type("application/json")
        .set_metadata(commit.map(|c| [(COMMIT_METADATA.to_owned(), c.to_owned())].into()))
        .body(ByteStream::from(bytes))
        .send()
        .await
        .map_err(|e| fail::call("s3:PutObject", e.into_service_error()))?;
    Ok(())
}
