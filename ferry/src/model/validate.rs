//! Validation of service and layer crates: each crate on its own, then the
//! checks across crates (route conflicts, layer references), with every
//! problem pointing at its file, line and key.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use super::diag::{Diagnostics, SourceFile};
use super::load::{CrateFiles, CrateKind};
use super::raw::{RawCargoToml, RawFerry, RawLayer};
use super::route::{Route, RouteTable, Segment};
use super::{
    App, Arch, LambdaName, Layer, LayerRef, Service, DEFAULT_EPHEMERAL_MB, DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT_S, EPHEMERAL_MB, MAX_LAYERS, MEMORY_MB, RESERVED_CONCURRENCY, TIMEOUT_S,
};

mod auth;
mod cache;
mod cache_stage;
mod cors;
mod env;
mod front;
mod lambda_compat;
mod stage_api;

pub(crate) use auth::{cognito_names, stage_authorizers};
pub(crate) use cache_stage::{api_cache, stage_cache};
pub(crate) use cors::{key_on_origin, stage_cors};
pub(crate) use env::check_env;
pub(crate) use front::front_door;
pub(crate) use stage_api::stage_api;

/// What the loader hands over for one crate.
pub(crate) struct CrateInput<'a> {
    pub files: &'a CrateFiles,
    pub file: &'a SourceFile,
    pub raw: RawCargoToml,
    pub root: &'a Path,
}

/// A validated service with the spans the cross-crate checks point at.
struct ServiceDraft {
    service: Service,
    file: SourceFile,
    route_spans: Vec<Range<usize>>,
    layer_spans: Vec<Range<usize>>,
    /// Where `auth` is written, if it is.
    auth_span: Option<Range<usize>>,
}

/// Validated crates waiting for the cross-crate checks.
#[derive(Default)]
pub(crate) struct Drafts {
    services: Vec<ServiceDraft>,
    layers: BTreeMap<String, (Layer, SourceFile, Range<usize>)>,
}

const PREFIX: &str = "package.metadata.ferry";

/// Validates one crate on its own and adds it to `drafts`.
pub(crate) fn add_crate(
    drafts: &mut Drafts,
    input: CrateInput<'_>,
    app: Option<&App>,
    diags: &mut Diagnostics,
) {
    let file = input.file;
    let Some(package) = input.raw.package else {
        diags.error(
            file,
            0..0,
            "package",
            "this crate has no `[package]` table",
            Some("add `[package]` with a `name`".into()),
        );
        return;
    };
    let name_span = package.name.span();
    let name = match LambdaName::new(package.name.get_ref()) {
        Ok(name) => name,
        Err(why) => {
            let help = "rename the package (and its folder) to letters, digits, `-` and `_`, at most 64 characters";
            diags.error(
                file,
                name_span,
                "package.name",
                format!("not a valid Lambda name: {why}"),
                Some(help.into()),
            );
            return;
        }
    };
    let metadata = package.metadata.unwrap_or(super::raw::RawPackageMetadata {
        ferry: None,
        lambda: None,
    });
    let ferry = metadata.ferry.map(Spanned::into_inner).unwrap_or_default();
    let ferry = lambda_compat::merge(ferry, metadata.lambda, file, diags);
    let mut bins: Vec<String> = input
        .raw
        .bin
        .iter()
        .filter_map(|b| b.name.clone())
        .collect();
    for bin in &input.files.implicit_bins {
        let bin = if bin.is_empty() {
            name.as_str().to_owned()
        } else {
            bin.clone()
        };
        if !bins.contains(&bin) {
            bins.push(bin);
        }
    }
    match input.files.kind {
        CrateKind::Service => {
            if let Some(draft) =
                service(name, name_span, ferry, bins, input.files, file, app, diags)
            {
                drafts.services.push(draft);
            }
        }
        CrateKind::Layer => {
            if let Some(layer) = layer(name, ferry, bins, input.files, input.root, file, diags) {
                drafts
                    .layers
                    .insert(layer.name.to_string(), (layer, file.clone(), name_span));
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn service(
    name: LambdaName,
    name_span: Range<usize>,
    ferry: RawFerry,
    bins: Vec<String>,
    files: &CrateFiles,
    file: &SourceFile,
    app: Option<&App>,
    diags: &mut Diagnostics,
) -> Option<ServiceDraft> {
    if let Some(layer) = &ferry.layer {
        let help = format!(
            "move this crate to a folder `app.layers` matches, or remove `[{PREFIX}.layer]`"
        );
        diags.error(
            file,
            layer.span(),
            format!("{PREFIX}.layer"),
            "a service crate cannot declare a layer",
            Some(help),
        );
    }
    let bin = match (&ferry.bin, bins.as_slice()) {
        (Some(bin), _) if bins.contains(bin.get_ref()) => bin.get_ref().clone(),
        (Some(bin), _) => {
            let help = format!("name one of this crate's binaries: {}", bins.join(", "));
            diags.error(
                file,
                bin.span(),
                format!("{PREFIX}.bin"),
                format!("no binary target `{}`", bin.get_ref()),
                Some(help),
            );
            return None;
        }
        (None, [only]) => only.clone(),
        (None, []) => {
            let help = "add src/main.rs with a lambda_http or lambda_runtime `main`";
            diags.error(
                file,
                name_span,
                "package.name",
                "a service crate needs a binary target",
                Some(help.into()),
            );
            return None;
        }
        (None, many) => {
            let help = format!(
                "set `bin = \"...\"` in [{PREFIX}] to one of: {}",
                many.join(", ")
            );
            diags.error(
                file,
                name_span,
                "package.name",
                "this service crate has several binary targets",
                Some(help),
            );
            return None;
        }
    };
    let mut routes = Vec::new();
    let mut route_spans = Vec::new();
    for text in &ferry.routes {
        match Route::parse(text.get_ref()) {
            Ok(route) => {
                routes.push(route);
                route_spans.push(text.span());
            }
            Err(why) => {
                let help = "write routes as `METHOD /path`, e.g. `GET /items/{id}` or `ANY /files/{proxy+}`";
                diags.error(
                    file,
                    text.span(),
                    format!("{PREFIX}.routes"),
                    why,
                    Some(help.into()),
                );
            }
        }
    }
    let memory = in_range(&ferry.memory, MEMORY_MB, "memory", "MB", file, diags)
        .unwrap_or(DEFAULT_MEMORY_MB);
    let timeout = in_range(&ferry.timeout, TIMEOUT_S, "timeout", "seconds", file, diags)
        .unwrap_or(DEFAULT_TIMEOUT_S);
    let ephemeral = in_range(
        &ferry.ephemeral_storage,
        EPHEMERAL_MB,
        "ephemeral-storage",
        "MB",
        file,
        diags,
    )
    .unwrap_or(DEFAULT_EPHEMERAL_MB);
    let reserved = ferry.reserved_concurrency.as_ref().and_then(|n| {
        if RESERVED_CONCURRENCY.contains(n.get_ref()) {
            return Some(*n.get_ref() as u32);
        }
        let message = format!("{} is not a number of concurrent executions Lambda can reserve", n.get_ref());
        let help = "set `reserved-concurrency` from 0 (refuses every request) up to your account's concurrency limit less the 100 Lambda keeps unreserved, or remove it";
        diags.error(file, n.span(), format!("{PREFIX}.reserved-concurrency"), message, Some(help.into()));
        None
    });
    let vpc = ferry
        .vpc
        .as_ref()
        .and_then(|v| super::vpc::check(v, &format!("{PREFIX}.vpc"), file, diags));
    let permissions = super::permissions::check(
        &ferry.permissions,
        &format!("{PREFIX}.permissions"),
        file,
        diags,
    );
    let env = ferry
        .env
        .as_ref()
        .map(|e| check_env(e, &format!("{PREFIX}.env"), file, diags))
        .unwrap_or_default();
    let (layers, layer_spans) = layer_refs(ferry.layers.as_ref(), file, diags);
    let (auth_header, cache) = cache::service_cache(&ferry, &routes, file, PREFIX, diags);
    let authorizer = ferry.authorizer.as_ref().and_then(|a| {
        let key = format!("{PREFIX}.authorizer");
        if !routes.is_empty() || ferry.auth.is_some() || ferry.cache.is_some() {
            let help = "an authorizer answers API Gateway, not HTTP requests: remove `routes`, `auth` and `cache`, or move them to a service";
            diags.error(file, a.span(), key.clone(), "an authorizer crate cannot serve routes", Some(help.into()));
        }
        if name.as_str() == super::auth::PUBLIC {
            let help = "rename the crate: `public` marks a route anyone may call";
            diags.error(file, name_span.clone(), "package.name", "an authorizer cannot be named `public`", Some(help.into()));
        }
        super::auth::check_authorizer(a.get_ref(), &key, file, diags)
    });
    let auth = ferry
        .auth
        .as_ref()
        .map(|a| super::auth::check_route_auth(a, &routes, &format!("{PREFIX}.auth"), file, diags))
        .unwrap_or_default();
    let auth_span = ferry.auth.as_ref().map(Spanned::span);
    let app = app?;
    let service = Service {
        name,
        dir: files.dir.clone(),
        bin,
        routes,
        memory_mb: memory,
        timeout_s: timeout,
        tracing: ferry.tracing.map(Spanned::into_inner).unwrap_or_default(),
        ephemeral_mb: ephemeral,
        reserved_concurrency: reserved,
        vpc,
        permissions,
        env,
        layers,
        architecture: ferry
            .architecture
            .map_or(app.architecture, Spanned::into_inner),
        runtime: ferry.runtime.map_or(app.runtime, Spanned::into_inner),
        auth_header,
        cache,
        authorizer,
        auth,
    };
    Some(ServiceDraft {
        service,
        file: file.clone(),
        route_spans,
        layer_spans,
        auth_span,
    })
}

fn in_range(
    value: &Option<Spanned<i64>>,
    range: std::ops::RangeInclusive<i64>,
    key: &str,
    unit: &str,
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> Option<u32> {
    let value = value.as_ref()?;
    if range.contains(value.get_ref()) {
        return u32::try_from(*value.get_ref()).ok();
    }
    let (lo, hi) = (range.start(), range.end());
    let message = format!(
        "{} is out of range: Lambda allows {lo} to {hi} {unit}",
        value.get_ref()
    );
    diags.error(
        file,
        value.span(),
        format!("{PREFIX}.{key}"),
        message,
        Some(format!("set `{key}` to a value from {lo} to {hi}")),
    );
    None
}

fn layer_refs(
    layers: Option<&Spanned<Vec<Spanned<String>>>>,
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> (Vec<LayerRef>, Vec<Range<usize>>) {
    let Some(layers) = layers else {
        return (Vec::new(), Vec::new());
    };
    if layers.get_ref().len() > MAX_LAYERS {
        let message = format!(
            "{} layers listed; Lambda allows at most {MAX_LAYERS} per function",
            layers.get_ref().len()
        );
        let help =
            "merge layers, or move shared Rust code into a library crate (it links statically)";
        diags.error(
            file,
            layers.span(),
            format!("{PREFIX}.layers"),
            message,
            Some(help.into()),
        );
    }
    let mut refs = Vec::new();
    let mut spans = Vec::new();
    for layer in layers.get_ref() {
        let text = layer.get_ref();
        let layer_ref = if text.starts_with("arn:") {
            if !is_layer_version_arn(text) {
                let help =
                    "a layer ARN looks like arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION";
                diags.error(
                    file,
                    layer.span(),
                    format!("{PREFIX}.layers"),
                    format!("`{text}` is not a layer version ARN"),
                    Some(help.into()),
                );
                continue;
            }
            LayerRef::Arn(text.clone())
        } else {
            LayerRef::Workspace(text.clone())
        };
        refs.push(layer_ref);
        spans.push(layer.span());
    }
    (refs, spans)
}

fn is_layer_version_arn(text: &str) -> bool {
    let parts: Vec<&str> = text.split(':').collect();
    parts.len() == 8
        && parts[1].starts_with("aws")
        && parts[2] == "lambda"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5] == "layer"
        && LambdaName::new(parts[6]).is_ok()
        && parts[7].parse::<u32>().is_ok()
}

fn layer(
    name: LambdaName,
    ferry: RawFerry,
    extensions: Vec<String>,
    files: &CrateFiles,
    root: &Path,
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> Option<Layer> {
    let service_only = [
        ("routes", ferry.routes.first().map(Spanned::span)),
        ("memory", ferry.memory.as_ref().map(Spanned::span)),
        ("timeout", ferry.timeout.as_ref().map(Spanned::span)),
        ("tracing", ferry.tracing.as_ref().map(Spanned::span)),
        (
            "ephemeral-storage",
            ferry.ephemeral_storage.as_ref().map(Spanned::span),
        ),
        (
            "reserved-concurrency",
            ferry.reserved_concurrency.as_ref().map(Spanned::span),
        ),
        ("vpc", ferry.vpc.as_ref().map(Spanned::span)),
        ("permissions", ferry.permissions.first().map(Spanned::span)),
        ("env", ferry.env.as_ref().map(Spanned::span)),
        ("layers", ferry.layers.as_ref().map(Spanned::span)),
        (
            "architecture",
            ferry.architecture.as_ref().map(Spanned::span),
        ),
        ("runtime", ferry.runtime.as_ref().map(Spanned::span)),
        ("bin", ferry.bin.as_ref().map(Spanned::span)),
    ];
    for (key, span) in service_only {
        if let Some(span) = span {
            let help =
                format!("layer settings go in [{PREFIX}.layer]; `{key}` belongs to service crates");
            diags.error(
                file,
                span,
                format!("{PREFIX}.{key}"),
                "this key is for services, not layers",
                Some(help),
            );
        }
    }
    let raw = ferry.layer.map(Spanned::into_inner).unwrap_or_default();
    let layer_files = layer_files(&raw, &files.dir, root, file, diags);
    if extensions.is_empty() && layer_files.is_empty() {
        let help = format!("add a binary target (an extension) or `files` in [{PREFIX}.layer]");
        diags.error(
            file,
            0..0,
            format!("{PREFIX}.layer"),
            format!("layer `{name}` has nothing to pack"),
            Some(help),
        );
    }
    let description = raw
        .description
        .map(Spanned::into_inner)
        .unwrap_or_else(|| format!("{name} (ferry layer)"));
    Some(Layer {
        name,
        dir: files.dir.clone(),
        description,
        extensions,
        files: layer_files,
        compatible_runtimes: or_all(raw.compatible_runtimes, &super::Runtime::ALL),
        compatible_architectures: or_all(raw.compatible_architectures, &Arch::ALL),
    })
}

/// The listed values, or all of them when the key is absent or empty.
fn or_all<T: Copy + Ord>(
    listed: Option<Spanned<Vec<T>>>,
    all: &[T],
) -> std::collections::BTreeSet<T> {
    match listed.map(Spanned::into_inner) {
        Some(v) if !v.is_empty() => v.into_iter().collect(),
        _ => all.iter().copied().collect(),
    }
}

fn layer_files(
    raw: &RawLayer,
    dir: &Path,
    root: &Path,
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> BTreeMap<String, std::path::PathBuf> {
    let mut out = BTreeMap::new();
    let Some(files) = &raw.files else { return out };
    let key = format!("{PREFIX}.layer.files");
    for (dest, src) in files.get_ref() {
        let bad_dest = dest.is_empty()
            || dest.starts_with('/')
            || dest.split('/').any(|p| p == ".." || p.is_empty());
        if bad_dest {
            let help = "give a relative path under /opt, e.g. `myapp/config`";
            diags.error(
                file,
                src.span(),
                key.clone(),
                format!("destination `{dest}` must be a relative path inside /opt"),
                Some(help.into()),
            );
            continue;
        }
        let source = Path::new(src.get_ref());
        if source.is_absolute()
            || source
                .components()
                .any(|c| c == std::path::Component::ParentDir)
        {
            let help = "layer files must live inside the layer crate";
            diags.error(
                file,
                src.span(),
                key.clone(),
                format!("source `{}` leaves the crate", src.get_ref()),
                Some(help.into()),
            );
            continue;
        }
        if !root.join(dir).join(source).exists() {
            let help = format!("create {} or fix the path", dir.join(source).display());
            diags.error(
                file,
                src.span(),
                key.clone(),
                format!("source `{}` does not exist", src.get_ref()),
                Some(help),
            );
            continue;
        }
        out.insert(dest.clone(), source.to_path_buf());
    }
    out
}

/// The checks that need every crate: workspace layer references and route conflicts.
pub(crate) fn cross_check(
    drafts: Drafts,
    cognito: &std::collections::BTreeSet<String>,
    diags: &mut Diagnostics,
) -> (
    BTreeMap<String, Service>,
    BTreeMap<String, Layer>,
    RouteTable,
) {
    for draft in &drafts.services {
        for (layer_ref, span) in draft.service.layers.iter().zip(&draft.layer_spans) {
            let LayerRef::Workspace(name) = layer_ref else {
                continue;
            };
            let key = format!("{PREFIX}.layers");
            match drafts.layers.get(name) {
                None => {
                    let known: Vec<&str> = drafts.layers.keys().map(String::as_str).collect();
                    let help = format!(
                        "use a layer crate's name ({}) or a full layer version ARN",
                        known.join(", ")
                    );
                    diags.error(
                        &draft.file,
                        span.clone(),
                        key,
                        format!("no layer crate named `{name}`"),
                        Some(help),
                    );
                }
                Some((layer, _, _)) => {
                    let service = &draft.service;
                    if !layer
                        .compatible_architectures
                        .contains(&service.architecture)
                    {
                        let help = format!(
                            "add `{}` to the layer's compatible-architectures, or drop the layer",
                            service.architecture
                        );
                        diags.error(
                            &draft.file,
                            span.clone(),
                            key,
                            format!("layer `{name}` is not built for {}", service.architecture),
                            Some(help),
                        );
                    } else if !layer.compatible_runtimes.contains(&service.runtime) {
                        let help = format!(
                            "add `{}` to the layer's compatible-runtimes, or drop the layer",
                            service.runtime
                        );
                        diags.error(
                            &draft.file,
                            span.clone(),
                            key,
                            format!("layer `{name}` is not compatible with {}", service.runtime),
                            Some(help),
                        );
                    }
                }
            }
        }
    }
    check_routes(&drafts.services, diags);
    let by_name: BTreeMap<&str, &Service> = drafts
        .services
        .iter()
        .map(|d| (d.service.name.as_str(), &d.service))
        .collect();
    let uses: Vec<auth::AuthUse<'_>> = drafts
        .services
        .iter()
        .filter_map(|d| {
            Some(auth::AuthUse {
                service: &d.service,
                file: &d.file,
                span: d.auth_span.clone()?,
            })
        })
        .collect();
    auth::check_names(&uses, &by_name, cognito, &format!("{PREFIX}.auth"), diags);
    let mut routes = RouteTable::new(drafts.services.iter().flat_map(|d| {
        d.service
            .routes
            .iter()
            .map(|r| (r.clone(), d.service.name.to_string()))
    }));
    for entry in &mut routes.entries {
        entry.auth = by_name
            .get(entry.service.as_str())
            .and_then(|s| s.auth.get(&format!("{} {}", entry.method, entry.path)))
            .cloned();
    }
    let services = drafts
        .services
        .into_iter()
        .map(|d| (d.service.name.to_string(), d.service))
        .collect();
    let layers = drafts
        .layers
        .into_iter()
        .map(|(name, (layer, _, _))| (name, layer))
        .collect();
    (services, layers, routes)
}

fn check_routes(services: &[ServiceDraft], diags: &mut Diagnostics) {
    let key = format!("{PREFIX}.routes");
    let mut claimed: BTreeMap<(super::Method, Vec<Segment>), (usize, usize)> = BTreeMap::new();
    let mut variables: BTreeMap<String, (String, usize, usize)> = BTreeMap::new();
    let place = |(s, r): (usize, usize)| {
        let d = &services[s];
        format!(
            "`{}` in {}:{}",
            d.service.name,
            d.file.display,
            d.file.line_of(d.route_spans[r].start)
        )
    };
    for (s, draft) in services.iter().enumerate() {
        for (r, route) in draft.service.routes.iter().enumerate() {
            let here = (s, r);
            if let Some(&first) = claimed.get(&(route.method, route.path.shape())) {
                let help = "each method and path belongs to one service: remove the route from one of them";
                let other = &services[first.0];
                diags.error(
                    &draft.file,
                    draft.route_spans[r].clone(),
                    key.clone(),
                    format!("`{route}` is also claimed by {}", place(first)),
                    Some(help.into()),
                );
                diags.error(
                    &other.file,
                    other.route_spans[first.1].clone(),
                    key.clone(),
                    format!(
                        "`{}` is also claimed by {}",
                        other.service.routes[first.1],
                        place(here)
                    ),
                    Some(help.into()),
                );
            } else {
                claimed.insert((route.method, route.path.shape()), here);
            }
            for (i, seg) in route.path.segments.iter().enumerate() {
                if matches!(seg, Segment::Literal(_)) {
                    continue;
                }
                let parent = super::RoutePath {
                    segments: route.path.segments[..i].to_vec(),
                }
                .to_string();
                let this = super::RoutePath {
                    segments: vec![seg.clone()],
                }
                .to_string();
                match variables.get(&parent) {
                    Some((other, os, or)) if *other != this => {
                        let help = format!("API Gateway allows one variable segment under `{parent}`: use `{}` here too", &other[1..]);
                        let message = format!(
                            "`{}` conflicts with `{}` of {}",
                            &this[1..],
                            &other[1..],
                            place((*os, *or))
                        );
                        diags.error(
                            &draft.file,
                            draft.route_spans[r].clone(),
                            key.clone(),
                            message,
                            Some(help),
                        );
                    }
                    Some(_) => {}
                    None => {
                        variables.insert(parent, (this, s, r));
                    }
                }
            }
        }
    }
}
