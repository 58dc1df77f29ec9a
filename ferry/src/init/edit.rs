//! The edits `init` makes inside files the workspace already has, as text so
//! that the user's comments and layout survive: a workspace member, the
//! cargo alias, `.gitignore` lines, and a `[package.metadata.ferry]` stub per
//! crate. Each returns `Ok(None)` when the file already says what ferry needs,
//! so a second `init` writes nothing.

use crate::model::glob;

/// What an edit found that it must not change on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict(pub String);

/// Adds `member` to the root manifest's `[workspace] members`, unless a
/// member glob already covers it.
pub fn add_member(manifest: &str, member: &str) -> Result<Option<String>, String> {
    let table: toml::Table = manifest
        .parse()
        .map_err(|e| format!("Cargo.toml is not valid TOML: {e}"))?;
    let workspace = table.get("workspace").and_then(|w| w.as_table()).ok_or(
        "Cargo.toml has no [workspace] table; ferry works on a Cargo workspace (add `[workspace]` with your crates as `members`)",
    )?;
    let members: Vec<&str> = workspace
        .get("members")
        .and_then(|m| m.as_array())
        .map(|m| m.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let covered = members.iter().any(|pattern| {
        let (p, m): (Vec<&str>, Vec<&str>) =
            (pattern.split('/').collect(), member.split('/').collect());
        p.len() == m.len() && p.iter().zip(&m).all(|(p, m)| glob::segment_matches(p, m))
    });
    if covered {
        return Ok(None);
    }
    let entry = toml::Value::String(member.to_owned()).to_string();
    let lines: Vec<&str> = manifest.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.trim() == "[workspace]")
        .ok_or("Cargo.toml's [workspace] table must have its own `[workspace]` header line for init to edit it")?;
    let section_end = lines[header + 1..]
        .iter()
        .position(|l| l.trim_start().starts_with('['))
        .map_or(lines.len(), |i| header + 1 + i);
    let mut out: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    let members_line = (header + 1..section_end).find(|&i| {
        let l = lines[i].trim_start();
        l.starts_with("members") && l["members".len()..].trim_start().starts_with('=')
    });
    match members_line {
        Some(i) => {
            let line = &lines[i];
            let open = line
                .find('[')
                .ok_or("Cargo.toml's `members` is not an array")?;
            let rest = line[open + 1..].trim();
            let inserted = if rest.is_empty() {
                // A multi-line array: the new member on a line of its own.
                out.insert(i + 1, format!("    {entry},"));
                None
            } else if rest.starts_with(']') {
                Some(format!("{}{entry}{}", &line[..=open], &line[open + 1..]))
            } else {
                Some(format!("{}{entry}, {}", &line[..=open], &line[open + 1..]))
            };
            if let Some(line) = inserted {
                out[i] = line;
            }
        }
        None => out.insert(header + 1, format!("members = [{entry}]")),
    }
    Ok(Some(out.join("\n") + "\n"))
}

/// Makes `.cargo/config.toml` (`existing`, if any) define the alias `xtask`.
pub fn add_alias(existing: Option<&str>, alias: &str) -> Result<Option<String>, Conflict> {
    let line = format!("xtask = {}", toml::Value::String(alias.to_owned()));
    let Some(text) = existing else {
        return Ok(Some(format!("[alias]\n{line}\n")));
    };
    let table: toml::Table = text
        .parse()
        .map_err(|e| Conflict(format!("it is not valid TOML ({e})")))?;
    match table.get("alias").and_then(|a| a.get("xtask")) {
        Some(toml::Value::String(current)) if current == alias => return Ok(None),
        Some(current) => {
            return Err(Conflict(format!(
                "its alias `xtask` is {current}, not {}",
                toml::Value::String(alias.to_owned())
            )))
        }
        None => {}
    }
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    match lines.iter().position(|l| l.trim() == "[alias]") {
        Some(i) => lines.insert(i + 1, line),
        None => {
            if lines.last().is_some_and(|l| !l.trim().is_empty()) {
                lines.push(String::new());
            }
            lines.extend(["[alias]".to_owned(), line]);
        }
    }
    Ok(Some(lines.join("\n") + "\n"))
}

/// Adds to `.gitignore` the folders ferry writes, where not already ignored.
pub fn add_ignores(existing: Option<&str>) -> Option<String> {
    let text = existing.unwrap_or("");
    let ignored = |name: &str| {
        text.lines().map(str::trim).any(|l| {
            let l = l.trim_start_matches('/').trim_end_matches('/');
            l == name
        })
    };
    let missing: Vec<&str> = [("target", "/target/"), (".ferry", ".ferry/")]
        .into_iter()
        .filter(|(name, _)| !ignored(name))
        .map(|(_, line)| line)
        .collect();
    if missing.is_empty() {
        return None;
    }
    let mut out = text.to_owned();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("# what ferry builds and installs (cargo xtask init)\n");
    for line in missing {
        out.push_str(line);
        out.push('\n');
    }
    Some(out)
}

/// The cargo-lambda keys ferry reads as its own, in the order a stub lists them.
const CARRIED_KEYS: &[(&str, &str)] = &[
    ("memory", "memory"),
    ("timeout", "timeout"),
    ("env", "env"),
    ("layers", "layers"),
    ("layer", "layers"),
    ("runtime", "runtime"),
];

/// A service crate's manifest with a `[package.metadata.ferry]` stub
/// appended, unless it has one. `bins` are the crate's binary targets.
pub fn service_stub(
    manifest: &str,
    package: &str,
    bins: &[String],
) -> Result<Option<String>, String> {
    let table: toml::Table = manifest
        .parse()
        .map_err(|e| format!("it is not valid TOML: {e}"))?;
    let metadata = table.get("package").and_then(|p| p.get("metadata"));
    if metadata.and_then(|m| m.get("ferry")).is_some() {
        return Ok(None);
    }
    let lambda = metadata
        .and_then(|m| m.get("lambda"))
        .and_then(|l| l.get("deploy"))
        .and_then(|d| d.as_table());
    let mut stub = String::from(
        "\n[package.metadata.ferry]\n\
         # TODO: the API routes this function serves, e.g. [\"GET /items\", \"POST /items/{id}\"]\n\
         # (ferry's README: \"Service metadata\").\n\
         routes = []\n",
    );
    for (from, to) in CARRIED_KEYS {
        if let Some(value) = lambda.and_then(|l| l.get(*from)) {
            stub.push_str(&format!(
                "{to} = {value}  # from [package.metadata.lambda.deploy] {from}\n"
            ));
        }
    }
    if bins.len() > 1 {
        let chosen = bins.iter().find(|b| *b == package).unwrap_or(&bins[0]);
        stub.push_str(&format!(
            "bin = {}  # which binary becomes `bootstrap`; this crate has {}\n",
            toml::Value::String(chosen.clone()),
            bins.join(", ")
        ));
    }
    Ok(Some(format!("{}{stub}", with_newline(manifest))))
}

/// A layer crate's manifest with a `[package.metadata.ferry.layer]` stub
/// appended, unless it has one.
pub fn layer_stub(manifest: &str, package: &str) -> Result<Option<String>, String> {
    let table: toml::Table = manifest
        .parse()
        .map_err(|e| format!("it is not valid TOML: {e}"))?;
    let ferry = table
        .get("package")
        .and_then(|p| p.get("metadata"))
        .and_then(|m| m.get("ferry"));
    if ferry.is_some() {
        return Ok(None);
    }
    let stub = format!(
        "\n[package.metadata.ferry.layer]\n\
         # Every binary of this crate is packed as extensions/<bin>. Data files to\n\
         # ship under /opt: destination = source relative to this crate.\n\
         # files = {{ \"{package}\" = \"data\" }}\n\
         # description = \"{package} (ferry layer)\"\n\
         # compatible-runtimes = [\"provided.al2\", \"provided.al2023\"]\n\
         # compatible-architectures = [\"arm64\", \"x86_64\"]\n"
    );
    Ok(Some(format!("{}{stub}", with_newline(manifest))))
}

fn with_newline(text: &str) -> String {
    if text.ends_with('\n') {
        text.to_owned()
    } else {
        format!("{text}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_added_once_in_the_array_style_found() {
        let one_line = "[workspace]\nmembers = [\"lambdas/*\"]\n";
        assert_eq!(
            add_member(one_line, "xtask").unwrap().unwrap(),
            "[workspace]\nmembers = [\"xtask\", \"lambdas/*\"]\n"
        );
        let multi = "[workspace]\nresolver = \"2\"\nmembers = [\n    \"a\",\n]\n\n[workspace.package]\nedition = \"2021\"\n";
        let edited = add_member(multi, "xtask").unwrap().unwrap();
        assert!(
            edited.contains("members = [\n    \"xtask\",\n    \"a\",\n]"),
            "{edited}"
        );
        assert_eq!(
            add_member(&edited, "xtask").unwrap(),
            None,
            "a second run changes nothing"
        );
        assert_eq!(
            add_member("[workspace]\nmembers = [\"*\"]\n", "xtask").unwrap(),
            None
        );
        let none = add_member("[workspace]\nresolver = \"2\"\n", "xtask")
            .unwrap()
            .unwrap();
        assert!(
            none.starts_with("[workspace]\nmembers = [\"xtask\"]\n"),
            "{none}"
        );
        assert!(add_member("[package]\nname = \"a\"\n", "xtask")
            .unwrap_err()
            .contains("no [workspace]"));
    }

    #[test]
    fn the_alias_is_added_kept_or_a_conflict() {
        let alias = "run --package xtask --bin xtask --";
        let new = add_alias(None, alias).unwrap().unwrap();
        assert_eq!(add_alias(Some(&new), alias).unwrap(), None);
        let other = add_alias(Some("[build]\njobs = 2\n"), alias)
            .unwrap()
            .unwrap();
        assert!(
            other.starts_with("[build]\njobs = 2\n\n[alias]\nxtask = "),
            "{other}"
        );
        let joined = add_alias(Some("[alias]\nb = \"build\"\n"), alias)
            .unwrap()
            .unwrap();
        assert!(joined.starts_with("[alias]\nxtask = "), "{joined}");
        assert!(add_alias(Some("[alias]\nxtask = \"run -p tools\"\n"), alias).is_err());
    }

    #[test]
    fn ignores_are_added_only_when_missing() {
        assert_eq!(add_ignores(Some("/target\n.ferry/\n")), None);
        let added = add_ignores(Some("target/\n*.log")).unwrap();
        assert_eq!(
            added,
            "target/\n*.log\n# what ferry builds and installs (cargo xtask init)\n.ferry/\n"
        );
        assert_eq!(add_ignores(Some(&added)), None);
    }

    #[test]
    fn a_service_stub_carries_cargo_lambda_keys_and_picks_a_binary() {
        let manifest = "[package]\nname = \"orders\"\n\n[package.metadata.lambda.deploy]\nmemory = 256\ntimeout = 10\nenv = { MODE = \"x\" }\ntracing = \"active\"\n";
        let bins = ["migrate".to_owned(), "orders".to_owned()];
        let stubbed = service_stub(manifest, "orders", &bins).unwrap().unwrap();
        let table: toml::Table = stubbed.parse().unwrap();
        let ferry = &table["package"]["metadata"]["ferry"];
        assert_eq!(ferry["memory"].as_integer(), Some(256));
        assert_eq!(ferry["timeout"].as_integer(), Some(10));
        assert_eq!(ferry["env"]["MODE"].as_str(), Some("x"));
        assert_eq!(ferry["bin"].as_str(), Some("orders"));
        assert!(
            ferry.get("tracing").is_none(),
            "only keys ferry reads are carried"
        );
        assert!(stubbed.contains("# TODO: the API routes"));
        assert_eq!(service_stub(&stubbed, "orders", &bins).unwrap(), None);
        let layer = layer_stub("[package]\nname = \"keys\"\n", "keys")
            .unwrap()
            .unwrap();
        let table: toml::Table = layer.parse().unwrap();
        assert!(table["package"]["metadata"]["ferry"]["layer"].is_table());
        assert_eq!(layer_stub(&layer, "keys").unwrap(), None);
    }
}
