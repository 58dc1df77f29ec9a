//! The `IfMatch` path of updating a distribution, against a store that
//! answers 412 the way CloudFront does (moto accepts any `IfMatch`, so only
//! these tests can make it fail), and the configuration of a new one.

use std::cell::RefCell;

use aws_sdk_cloudfront::types::{OriginProtocolPolicy, ViewerProtocolPolicy};

use super::*;
use ferry::deploy::front::CACHING_DISABLED;
use ferry::deploy::front::FERRY_ORIGIN_ID;

const CERT: &str = "arn:aws:acm:us-east-1:123456789012:certificate/c1";

fn config(path: &str) -> DistributionConfig {
    new_config(
        "ref",
        "ferry: shop test",
        "api.shop.example",
        CERT,
        "a1.execute-api.us-east-1.amazonaws.com",
        path,
        &[],
    )
    .unwrap()
}

/// Another writer's change to the configuration.
type Edit = Box<dyn Fn(&mut DistributionConfig)>;

/// A distribution whose ETag changes on every write; `meddle` runs between
/// ferry's read and ferry's write, the way a concurrent editor would.
struct Store {
    config: RefCell<DistributionConfig>,
    etag: RefCell<u32>,
    meddle: RefCell<Vec<Edit>>,
    puts: RefCell<u32>,
}

impl Store {
    fn new(config: DistributionConfig) -> Self {
        Store {
            config: RefCell::new(config),
            etag: RefCell::new(1),
            meddle: RefCell::new(Vec::new()),
            puts: RefCell::new(0),
        }
    }
}

impl ConfigStore for Store {
    async fn get(&self, _id: &str) -> Result<(DistributionConfig, String), AwsError> {
        let read = (
            self.config.borrow().clone(),
            format!("E{}", self.etag.borrow()),
        );
        if let Some(meddle) = self.meddle.borrow_mut().pop() {
            meddle(&mut self.config.borrow_mut());
            *self.etag.borrow_mut() += 1;
        }
        Ok(read)
    }

    async fn put(
        &self,
        _id: &str,
        config: DistributionConfig,
        etag: &str,
    ) -> Result<bool, AwsError> {
        *self.puts.borrow_mut() += 1;
        if etag != format!("E{}", self.etag.borrow()) {
            return Ok(false);
        }
        *self.config.borrow_mut() = config;
        *self.etag.borrow_mut() += 1;
        Ok(true)
    }
}

fn origin_path(c: &DistributionConfig) -> String {
    c.origins().unwrap().items()[0]
        .origin_path()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_concurrent_change_is_read_again_and_kept() {
    let store = Store::new(config("/prod"));
    store
        .meddle
        .borrow_mut()
        .push(Box::new(|c| c.comment = "edited by hand".into()));
    let domain = "a1.execute-api.us-east-1.amazonaws.com";
    let done = retarget(&store, "E1", FERRY_ORIGIN_ID, domain, "/test")
        .await
        .unwrap();
    assert_eq!(done, Retargeted::Updated { attempts: 2 });
    let now = store.config.borrow();
    assert_eq!(origin_path(&now), "/test");
    assert_eq!(
        now.comment(),
        "edited by hand",
        "the other writer's change survives"
    );
    assert_eq!(*store.puts.borrow(), 2);
}

#[tokio::test]
async fn an_origin_already_right_is_not_written() {
    let store = Store::new(config("/test"));
    let domain = "a1.execute-api.us-east-1.amazonaws.com";
    let done = retarget(&store, "E1", FERRY_ORIGIN_ID, domain, "/test")
        .await
        .unwrap();
    assert_eq!(done, Retargeted::AlreadyThere { attempts: 1 });
    assert_eq!(*store.puts.borrow(), 0);
}

#[tokio::test]
async fn an_editor_that_never_stops_is_reported_not_overwritten() {
    let store = Store::new(config("/prod"));
    for _ in 0..10 {
        store
            .meddle
            .borrow_mut()
            .push(Box::new(|c| c.comment.push('!')));
    }
    let domain = "a1.execute-api.us-east-1.amazonaws.com";
    let err = retarget(&store, "E1", FERRY_ORIGIN_ID, domain, "/test")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("412"), "{err}");
    assert_eq!(origin_path(&store.config.borrow()), "/prod");
    assert_eq!(*store.puts.borrow(), MAX_IF_MATCH_ATTEMPTS);
}

#[tokio::test]
async fn a_vanished_origin_stops_the_update() {
    let store = Store::new(config("/prod"));
    let err = retarget(&store, "E1", "someone-else", "x.example", "/test")
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("no longer has origin `someone-else`"),
        "{err}"
    );
    assert_eq!(*store.puts.borrow(), 0);
}

#[test]
fn a_new_distribution_is_https_only_uncached_and_aliased() {
    let c = config("/test");
    assert_eq!(c.aliases().unwrap().items(), ["api.shop.example"]);
    let origin = &c.origins().unwrap().items()[0];
    assert_eq!(
        (origin.domain_name(), origin.origin_path()),
        ("a1.execute-api.us-east-1.amazonaws.com", Some("/test"))
    );
    let policy = origin
        .custom_origin_config()
        .unwrap()
        .origin_protocol_policy();
    assert_eq!(policy, &OriginProtocolPolicy::HttpsOnly);
    let behaviour = c.default_cache_behavior().unwrap();
    assert_eq!(
        behaviour.viewer_protocol_policy(),
        &ViewerProtocolPolicy::HttpsOnly
    );
    assert_eq!(behaviour.cache_policy_id(), Some(CACHING_DISABLED));
    assert_eq!(behaviour.allowed_methods().unwrap().quantity(), 7);
    assert_eq!(
        c.viewer_certificate().unwrap().acm_certificate_arn(),
        Some(CERT)
    );
}

fn cached(pattern: &str, ttl: u64) -> Behavior {
    use ferry::model::cache::{CacheSettings, Caching, KeyNames};
    Behavior {
        pattern: pattern.into(),
        caching: Caching::On(CacheSettings {
            min_ttl: 0,
            default_ttl: ttl,
            max_ttl: 3600,
            query: KeyNames::Named(["limit".to_owned()].into()),
            headers: ["authorization".to_owned()].into(),
            cookies: KeyNames::None,
        }),
    }
}

#[tokio::test]
async fn behaviors_of_other_origins_stay_first_and_a_rerun_writes_nothing() {
    let mut start = config("/test");
    let static_site = cache_behavior(&cached("/assets/*", 86400), "site").unwrap();
    start.cache_behaviors = Some(
        aws_sdk_cloudfront::types::CacheBehaviors::builder()
            .quantity(1)
            .items(static_site)
            .build()
            .unwrap(),
    );
    let store = Store::new(start);
    let wanted = [cached("/items/*", 60), cached("/items", 30)];
    let done = set_behaviors(&store, "E1", FERRY_ORIGIN_ID, &wanted).await;
    assert_eq!(done.unwrap(), Retargeted::Updated { attempts: 1 });
    let now = store.config.borrow().clone();
    let patterns: Vec<(&str, &str)> = now
        .cache_behaviors()
        .unwrap()
        .items()
        .iter()
        .map(|b| (b.path_pattern(), b.target_origin_id()))
        .collect();
    assert_eq!(
        patterns,
        [
            ("/assets/*", "site"),
            ("/items/*", FERRY_ORIGIN_ID),
            ("/items", FERRY_ORIGIN_ID)
        ]
    );
    assert_eq!(behaviors_of(now.cache_behaviors(), FERRY_ORIGIN_ID), wanted);
    let again = set_behaviors(&store, "E1", FERRY_ORIGIN_ID, &wanted).await;
    assert_eq!(again.unwrap(), Retargeted::AlreadyThere { attempts: 1 });
    assert_eq!(*store.puts.borrow(), 1);
}
