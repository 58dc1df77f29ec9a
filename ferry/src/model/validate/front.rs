//! Validation of `[stages.NAME.cloudfront]`: which distribution serves the
//! stage, the public domain, its certificate and hosted zone.

use toml::Spanned;

use crate::model::diag::{Diagnostics, SourceFile};
use crate::model::raw::RawCloudFront;
use crate::model::FrontDoor;

/// The validated front door, or `None` after reporting why not.
pub(crate) fn front_door(
    file: &SourceFile,
    raw: &Spanned<RawCloudFront>,
    key: &str,
    diags: &mut Diagnostics,
) -> Option<FrontDoor> {
    let before = diags.errors.len();
    let table = raw.get_ref();
    let text = |v: &Option<Spanned<String>>| v.as_ref().map(|s| s.get_ref().clone());
    let mut error = |span: std::ops::Range<usize>, sub: &str, message: String, help: &str| {
        let full = if sub.is_empty() {
            key.to_owned()
        } else {
            format!("{key}.{sub}")
        };
        diags.error(file, span, full, message, Some(help.to_owned()));
    };
    if table.domain.is_none() && table.distribution.is_none() {
        error(
            raw.span(),
            "",
            "a front door needs a `domain` or a `distribution`".into(),
            "set `domain = \"api.example.com\"` (with `certificate` to let ferry create the distribution), or `distribution = \"E…\"` to wire an existing one",
        );
    }
    if let Some(domain) = &table.domain {
        if let Err(why) = check_domain(domain.get_ref()) {
            error(
                domain.span(),
                "domain",
                format!("`{}` is not a domain name: {why}", domain.get_ref()),
                "use a lower-case DNS name such as `api.example.com`",
            );
        }
    }
    if let Some(cert) = &table.certificate {
        match acm_region(cert.get_ref()) {
            None => error(
                cert.span(),
                "certificate",
                format!("`{}` is not an ACM certificate ARN", cert.get_ref()),
                "give the ARN ACM shows: arn:aws:acm:us-east-1:123456789012:certificate/ID",
            ),
            Some(region) if region != "us-east-1" => error(
                cert.span(),
                "certificate",
                format!("the certificate is in {region}; CloudFront only uses certificates in us-east-1"),
                "request or import the certificate in us-east-1 (N. Virginia) and use that ARN",
            ),
            Some(_) => {}
        }
        if table.domain.is_none() {
            error(
                cert.span(),
                "certificate",
                "a certificate without a `domain` has nothing to cover".into(),
                "add `domain`, the name the certificate covers, or remove `certificate`",
            );
        }
    }
    if let Some(zone) = &table.hosted_zone {
        if !is_upper_id(zone.get_ref().trim_start_matches("/hostedzone/")) {
            error(
                zone.span(),
                "hosted-zone",
                format!("`{}` is not a Route 53 hosted zone id", zone.get_ref()),
                "use the zone's id from the Route 53 console, e.g. `Z0123456789ABCDEFGHIJ`",
            );
        }
        if table.domain.is_none() {
            error(
                zone.span(),
                "hosted-zone",
                "a hosted zone without a `domain` has no record to keep".into(),
                "add `domain`, the name whose alias records ferry keeps, or remove `hosted-zone`",
            );
        }
    }
    if let Some(id) = &table.distribution {
        if !is_upper_id(id.get_ref()) {
            error(
                id.span(),
                "distribution",
                format!("`{}` is not a CloudFront distribution id", id.get_ref()),
                "use the id the CloudFront console shows, e.g. `E2QWRUHAPOMQZL`",
            );
        }
    }
    if let Some(origin) = &table.origin {
        if table.distribution.is_none() {
            error(
                origin.span(),
                "origin",
                "`origin` names an origin of an existing `distribution`, and none is given".into(),
                "add `distribution = \"E…\"`, or remove `origin` (ferry names its own origin)",
            );
        }
    }
    if diags.errors.len() > before {
        return None;
    }
    Some(FrontDoor {
        domain: text(&table.domain),
        certificate: text(&table.certificate),
        hosted_zone: text(&table.hosted_zone)
            .map(|z| z.trim_start_matches("/hostedzone/").to_owned()),
        distribution: text(&table.distribution),
        origin: text(&table.origin),
        invalidate: table.invalidate.as_ref().is_some_and(|b| *b.get_ref()),
        cache: Default::default(),
    })
}

fn check_domain(name: &str) -> Result<(), &'static str> {
    if name.len() > 253 {
        return Err("longer than 253 characters");
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return Err("it needs at least two labels");
    }
    for label in labels {
        if label.is_empty() || label.len() > 63 {
            return Err("each label has 1 to 63 characters");
        }
        if !label
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err("labels use a-z, 0-9 and `-`");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a label cannot start or end with `-`");
        }
    }
    Ok(())
}

/// The region of an ACM certificate ARN.
fn acm_region(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "acm"
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5]
            .strip_prefix("certificate/")
            .is_some_and(|id| !id.is_empty());
    ok.then(|| parts[3])
}

fn is_upper_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_arns_and_ids() {
        assert!(check_domain("api.example.com").is_ok());
        assert!(check_domain("localhost").is_err() && check_domain("Api.example.com").is_err());
        assert!(check_domain("-a.example.com").is_err() && check_domain("a..com").is_err());
        let cert = "arn:aws:acm:us-east-1:123456789012:certificate/abc";
        assert_eq!(acm_region(cert), Some("us-east-1"));
        assert_eq!(acm_region("arn:aws:iam::123456789012:role/x"), None);
        assert_eq!(acm_region("my-cert"), None, "no panic on a short value");
        assert!(is_upper_id("E2QWRUHAPOMQZL") && !is_upper_id("e2q") && !is_upper_id(""));
    }
}
