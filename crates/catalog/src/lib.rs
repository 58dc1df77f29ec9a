//! The example API's item model and its fixed seed catalogue.
//!
//! The services are stateless examples, so the catalogue is compiled in; a real
//! API would read a database here. Shared code like this is an ordinary library
//! crate, statically linked into each service, not a Lambda layer.

use serde::{Deserialize, Serialize};

/// One item of the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub name: String,
    pub price_cents: u64,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// The body `POST /items` accepts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    pub name: String,
    pub price_cents: u64,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// The fixed seed catalogue.
pub fn items() -> Vec<Item> {
    let item = |id: &str, name: &str, price_cents, tags: &[&str]| Item {
        id: id.to_owned(),
        name: name.to_owned(),
        price_cents,
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
    };
    vec![
        item("1", "ferry ticket", 1250, &["travel"]),
        item("2", "life jacket", 4900, &["safety", "travel"]),
        item("3", "deck chair", 2999, &["comfort"]),
    ]
}

/// Looks one item up by id.
pub fn find(id: &str) -> Option<Item> {
    items().into_iter().find(|item| item.id == id)
}

/// The items carrying every one of `tags` (all items when `tags` is empty),
/// at most `limit` of them.
pub fn filter(tags: &[String], limit: Option<usize>) -> Vec<Item> {
    items()
        .into_iter()
        .filter(|item| tags.iter().all(|t| item.tags.contains(t)))
        .take(limit.unwrap_or(usize::MAX))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_requires_every_tag() {
        let both = filter(&["safety".into(), "travel".into()], None);
        assert_eq!(both.len(), 1);
        assert_eq!(both[0].id, "2");
        assert_eq!(filter(&[], Some(2)).len(), 2);
    }

    #[test]
    fn find_unknown_is_none() {
        assert!(find("404").is_none());
        assert_eq!(find("3").unwrap().name, "deck chair");
    }
}
