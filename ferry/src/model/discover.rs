//! Where the workspace's crates are: deploy.toml's `app.services` and
//! `app.layers` globs (defaults `services/*` and `layers/*`). The loader reads
//! them leniently before it reads any crate (a missing or broken deploy.toml
//! gives the defaults, and the strict parse reports the problem), matches them
//! on disk once, and checks the globs written explicitly with the rest of `[app]`.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::PathBuf;

use toml::Spanned;

use super::diag::{Diagnostics, SourceFile};
use super::glob;
use super::load::CrateKind;
use super::raw::RawApp;

/// Where service crates are when deploy.toml does not say.
pub const DEFAULT_SERVICE_GLOBS: &[&str] = &["services/*", "authorizers/*"];
/// Where layer crates are when deploy.toml does not say.
pub const DEFAULT_LAYER_GLOBS: &[&str] = &["layers/*"];

/// One glob and the crate folders it matched on disk, relative to the root.
#[derive(Debug, Clone)]
pub struct GlobMatch {
    pub kind: CrateKind,
    pub pattern: String,
    pub dirs: Vec<PathBuf>,
}

impl CrateKind {
    /// The deploy.toml key that lists this kind's globs.
    pub fn globs_key(self) -> &'static str {
        match self {
            CrateKind::Service => "app.services",
            CrateKind::Layer => "app.layers",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            CrateKind::Service => "service",
            CrateKind::Layer => "layer",
        }
    }
}

/// The globs of `kind`: those deploy.toml lists, or the defaults (the one
/// place they are applied).
pub fn resolve(kind: CrateKind, declared: Option<Vec<String>>) -> Vec<String> {
    let defaults = match kind {
        CrateKind::Service => DEFAULT_SERVICE_GLOBS,
        CrateKind::Layer => DEFAULT_LAYER_GLOBS,
    };
    declared.unwrap_or_else(|| defaults.iter().map(|g| (*g).to_owned()).collect())
}

/// The globs of `kind` that deploy.toml's text (if any) lists, else the defaults.
pub fn globs_in(deploy_toml: Option<&str>, kind: CrateKind) -> Vec<String> {
    resolve(kind, declared(deploy_toml, kind))
}

/// The globs deploy.toml's text lists under `kind`'s key, read leniently:
/// anything missing, broken or of the wrong type gives `None`.
fn declared(deploy_toml: Option<&str>, kind: CrateKind) -> Option<Vec<String>> {
    let table: toml::Table = deploy_toml?.parse().ok()?;
    let key = kind.globs_key().trim_start_matches("app.");
    let list = table.get("app")?.as_table()?.get(key)?.as_array()?;
    list.iter().map(|v| v.as_str().map(str::to_owned)).collect()
}

/// Matches every glob of deploy.toml (or the defaults) under `root`. Globs
/// of bad form match nothing here; `check` reports them.
pub fn find(root: &std::path::Path, deploy_toml: Option<&str>) -> Vec<GlobMatch> {
    let mut out = Vec::new();
    for kind in [CrateKind::Service, CrateKind::Layer] {
        for pattern in resolve(kind, declared(deploy_toml, kind)) {
            let dirs = if glob::check(&pattern).is_ok() {
                glob::crate_dirs(root, &pattern)
            } else {
                Vec::new()
            };
            out.push(GlobMatch {
                kind,
                pattern,
                dirs,
            });
        }
    }
    out
}

/// The crate folders to read with their kinds, each once: services sorted,
/// then layers sorted. A folder matched by both kinds is left out (`check`
/// reports it).
pub fn crate_dirs(found: &[GlobMatch]) -> Vec<(CrateKind, PathBuf)> {
    let of = |kind: CrateKind| -> BTreeSet<&PathBuf> {
        found
            .iter()
            .filter(|m| m.kind == kind)
            .flat_map(|m| &m.dirs)
            .collect()
    };
    let (services, layers) = (of(CrateKind::Service), of(CrateKind::Layer));
    let only = |mine: &BTreeSet<&PathBuf>, theirs: &BTreeSet<&PathBuf>, kind: CrateKind| {
        mine.iter()
            .filter(|d| !theirs.contains(*d))
            .map(|d| (kind, (*d).clone()))
            .collect::<Vec<_>>()
    };
    let mut out = only(&services, &layers, CrateKind::Service);
    out.extend(only(&layers, &services, CrateKind::Layer));
    out
}

/// Checks the globs `[app]` lists against what they matched: each must be of
/// good form and match a crate folder, and no folder may be both a service
/// and a layer. Returns the service and layer globs, defaults applied.
pub(crate) fn check(
    file: &SourceFile,
    raw: &RawApp,
    found: &[GlobMatch],
    diags: &mut Diagnostics,
) -> (Vec<String>, Vec<String>) {
    let mut spans: BTreeMap<(CrateKind, &str), Range<usize>> = BTreeMap::new();
    for (kind, listed) in [
        (CrateKind::Service, &raw.services),
        (CrateKind::Layer, &raw.layers),
    ] {
        for pattern in listed.iter().flat_map(|l| l.get_ref()) {
            spans.insert((kind, pattern.get_ref()), pattern.span());
            check_one(file, kind, pattern, found, diags);
        }
    }
    let mut claimed: BTreeMap<&PathBuf, &GlobMatch> = BTreeMap::new();
    for m in found.iter().filter(|m| m.kind == CrateKind::Service) {
        for dir in &m.dirs {
            claimed.entry(dir).or_insert(m);
        }
    }
    let mut reported = BTreeSet::new();
    for layer in found.iter().filter(|m| m.kind == CrateKind::Layer) {
        for dir in &layer.dirs {
            let Some(service) = claimed.get(dir) else {
                continue;
            };
            if !reported.insert(dir) {
                continue;
            }
            let at = [layer, *service]
                .into_iter()
                .find_map(|m| Some((m.kind, spans.get(&(m.kind, m.pattern.as_str()))?.clone())));
            let (key, span) = at.map_or(("app", 0..0), |(kind, span)| (kind.globs_key(), span));
            let dir = dir.display();
            diags.error(
                file,
                span,
                key,
                format!(
                    "the crate folder `{dir}` is matched by the service glob `{}` and the layer glob `{}`",
                    service.pattern, layer.pattern
                ),
                Some(format!(
                    "a crate is a service or a layer, not both: change the globs so that only one matches `{dir}`"
                )),
            );
        }
    }
    let globs = |kind: CrateKind, listed: &Option<Spanned<Vec<Spanned<String>>>>| {
        let declared = listed
            .as_ref()
            .map(|l| l.get_ref().iter().map(|g| g.get_ref().clone()).collect());
        resolve(kind, declared)
    };
    (
        globs(CrateKind::Service, &raw.services),
        globs(CrateKind::Layer, &raw.layers),
    )
}

/// One explicitly written glob: its form, and that it matched a crate.
fn check_one(
    file: &SourceFile,
    kind: CrateKind,
    pattern: &Spanned<String>,
    found: &[GlobMatch],
    diags: &mut Diagnostics,
) {
    let text = pattern.get_ref();
    if let Err(why) = glob::check(text) {
        let help = "write a folder glob relative to the workspace root, e.g. `lambdas/*`; only `*` and `?` are special";
        diags.error(
            file,
            pattern.span(),
            kind.globs_key(),
            format!("`{text}` is not a valid glob: {why}"),
            Some(help.into()),
        );
        return;
    }
    let matched = found
        .iter()
        .any(|m| m.kind == kind && m.pattern == *text && !m.dirs.is_empty());
    if !matched {
        let noun = kind.noun();
        diags.error(
            file,
            pattern.span(),
            kind.globs_key(),
            format!("`{text}` matches no crate folder"),
            Some(format!(
                "move the {noun} crates into folders it matches, or correct the glob (it names folders holding a Cargo.toml, relative to the workspace root)"
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_pre_parse_falls_back_to_the_defaults() {
        let service = CrateKind::Service;
        let good = "[app]\nname = \"x\"\nservices = [\"lambdas/*\", \"jobs/?\"]\n";
        assert_eq!(
            declared(Some(good), service),
            Some(vec!["lambdas/*".to_owned(), "jobs/?".to_owned()])
        );
        assert_eq!(declared(Some(good), CrateKind::Layer), None);
        for text in [
            "[app\nservices = [\"lambdas/*\"]",
            "[app]\nservices = \"lambdas/*\"\n",
            "[app]\nservices = [\"lambdas/*\", 3]\n",
            "app = 1\n",
        ] {
            assert_eq!(declared(Some(text), service), None, "{text}");
        }
        assert_eq!(
            resolve(service, declared(None, service)),
            ["services/*", "authorizers/*"]
        );
        assert_eq!(resolve(CrateKind::Layer, None), ["layers/*"]);
        assert!(resolve(service, Some(Vec::new())).is_empty());
    }
}
