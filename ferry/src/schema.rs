//! `cargo xtask schema`: the JSON Schemas of deploy.toml and of a crate's
//! `[package.metadata.ferry]` table (service keys and the `layer` table).
//!
//! Both are generated from the serde types the loader parses
//! ([`crate::model::raw`]: `RawDeployToml` and `RawFerry`), with their doc
//! comments as descriptions, so they cannot drift from what ferry accepts.
//! This module also owns `.ferry/deploy.schema.json`, the copy of deploy.toml's
//! schema that every load refreshes for editors (a `#:schema
//! ./.ferry/deploy.schema.json` comment in deploy.toml points taplo at it).

use std::io::Write;
use std::path::Path;

use miette::IntoDiagnostic;
use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema};
use serde_json::Value;

use crate::cli::SchemaWhat;
use crate::model::raw::{RawDeployToml, RawFerry};

/// Where [`write_for_editors`] puts deploy.toml's schema, relative to the
/// workspace root.
pub const EDITOR_SCHEMA_PATH: &str = ".ferry/deploy.schema.json";

/// The JSON Schema of deploy.toml.
pub fn deploy_schema() -> serde_json::Value {
    schema_for::<RawDeployToml>()
}

/// The JSON Schema of a crate's `[package.metadata.ferry]` table.
pub fn metadata_schema() -> serde_json::Value {
    schema_for::<RawFerry>()
}

fn schema_for<T: JsonSchema>() -> serde_json::Value {
    SchemaSettings::draft2020_12()
        .with_transform(RecursiveTransform(without_null))
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

/// Takes out the `null` schemars allows for an `Option`: TOML has no null,
/// an optional key is one left out.
fn without_null(schema: &mut Schema) {
    let Some(schema) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(types)) = schema.get_mut("type") {
        types.retain(|t| t != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            schema.insert("type".into(), only);
        }
    }
    if let Some(Value::Array(choices)) = schema.get_mut("anyOf") {
        choices.retain(|c| c.get("type").is_none_or(|t| t != "null"));
        if let [Value::Object(only)] = choices.as_slice() {
            let only = only.clone();
            schema.remove("anyOf");
            for (key, value) in only {
                schema.entry(key).or_insert(value);
            }
        }
    }
}

/// The schema as written: pretty JSON with a final newline.
fn pretty(schema: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).expect("a JSON value always serializes");
    text.push('\n');
    text
}

pub fn run(what: SchemaWhat) -> miette::Result<()> {
    let schema = match what {
        SchemaWhat::Deploy => deploy_schema(),
        SchemaWhat::Metadata => metadata_schema(),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(pretty(&schema).as_bytes())
        .and_then(|()| out.flush())
        .into_diagnostic()
}

/// Writes deploy.toml's schema to `<root>/.ferry/deploy.schema.json` when the
/// file is missing or differs, so that the copy editors read always matches
/// the ferry that runs, and an unchanged one is left alone (mtime included).
pub fn write_for_editors(root: &Path) -> std::io::Result<()> {
    let path = root.join(EDITOR_SCHEMA_PATH);
    let text = pretty(&deploy_schema());
    if std::fs::read(&path).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // Through a temporary file, so that an editor never reads half a schema.
    let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, &path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;

    const README: &str = include_str!("../../README.md");

    #[test]
    fn deploy_schema_snapshot() {
        insta::assert_snapshot!("deploy_schema", pretty(&deploy_schema()));
    }

    #[test]
    fn metadata_schema_snapshot() {
        insta::assert_snapshot!("metadata_schema", pretty(&metadata_schema()));
    }

    /// `schema` with `$ref`s to `#/$defs/NAME` followed.
    fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str() {
            Some(reference) => {
                let name = reference
                    .strip_prefix("#/$defs/")
                    .unwrap_or_else(|| panic!("unexpected $ref {reference}"));
                resolve(root, &root["$defs"][name])
            }
            None => schema,
        }
    }

    /// The schema of `key` in the object `schema`: a property, or the schema
    /// of a map's values.
    fn member<'a>(root: &'a Value, schema: &'a Value, key: &str) -> Option<&'a Value> {
        let schema = resolve(root, schema);
        let sub = schema["properties"].get(key).or_else(|| {
            schema["additionalProperties"]
                .as_object()
                .map(|_| &schema["additionalProperties"])
        })?;
        Some(resolve(root, sub))
    }

    fn property_names(root: &Value, schema: &Value) -> Vec<String> {
        let schema = resolve(root, schema);
        schema["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Every key of `table`, at any depth, that the schema does not know.
    fn unknown_keys(
        root: &Value,
        schema: &Value,
        table: &toml::Table,
        at: &str,
        out: &mut Vec<String>,
    ) {
        for (key, value) in table {
            let path = format!("{at}{key}");
            let Some(sub) = member(root, schema, key) else {
                out.push(path);
                continue;
            };
            let is_object =
                sub.get("properties").is_some() || sub["additionalProperties"].is_object();
            if let (toml::Value::Table(inner), true) = (value, is_object) {
                unknown_keys(root, sub, inner, &format!("{path}."), out);
            }
        }
    }

    /// The README section that starts with `heading`, up to the next `## `.
    fn readme_section(heading: &str) -> &'static str {
        let start = README
            .find(heading)
            .unwrap_or_else(|| panic!("README has no `{heading}`"));
        let rest = &README[start + heading.len()..];
        &rest[..rest.find("\n## ").unwrap_or(rest.len())]
    }

    /// The first-column keys of a README table: rows starting "| `key` |".
    fn readme_table_keys(heading: &str) -> Vec<&'static str> {
        readme_section(heading)
            .lines()
            .filter_map(|line| line.strip_prefix("| `")?.split_once('`'))
            .map(|(key, _)| key)
            .collect()
    }

    #[test]
    fn every_documented_key_is_in_the_schemas() {
        let deploy = deploy_schema();
        let stages = member(&deploy, &deploy, "stages").expect("deploy.toml has stages");
        let stage = member(&deploy, stages, "prod").expect("stages is a map of stages");
        let stage_keys = property_names(&deploy, stage);
        for key in [
            "region",
            "role",
            "log-retention-days",
            "env",
            "tags",
            "api",
            "cloudfront",
            "services",
        ] {
            assert!(
                stage_keys.iter().any(|k| k == key),
                "[stages.NAME] lacks `{key}`: {stage_keys:?}"
            );
        }

        let metadata = metadata_schema();
        let service_keys = property_names(&metadata, &metadata);
        let listed = [
            "routes",
            "memory",
            "timeout",
            "env",
            "layers",
            "architecture",
            "runtime",
            "bin",
            "layer",
        ];
        for key in listed {
            assert!(
                service_keys.iter().any(|k| k == key),
                "[package.metadata.ferry] lacks `{key}`: {service_keys:?}"
            );
        }

        // What the README's own tables and deploy.toml example say.
        let documented = readme_table_keys("## Service metadata");
        assert!(
            documented.len() >= 8,
            "README's service table: {documented:?}"
        );
        for key in documented {
            assert!(
                service_keys.iter().any(|k| k == key),
                "README documents `{key}`"
            );
        }
        let layer = member(&metadata, &metadata, "layer").unwrap();
        let layer_keys = property_names(&metadata, layer);
        let documented = readme_table_keys("## Layer metadata");
        assert!(
            documented.len() >= 4,
            "README's layer table: {documented:?}"
        );
        for key in documented {
            assert!(
                layer_keys.iter().any(|k| k == key),
                "README documents layer `{key}`"
            );
        }
        let example = readme_section("## deploy.toml");
        let example = example
            .split("```toml\n")
            .nth(1)
            .and_then(|block| block.split("```").next())
            .expect("README's deploy.toml example");
        let example: toml::Table = toml::from_str(example).expect("README's example parses");
        assert!(example["stages"]["prod"].get("cloudfront").is_some());
        let mut unknown = Vec::new();
        unknown_keys(&deploy, &deploy, &example, "", &mut unknown);
        assert_eq!(
            unknown,
            Vec::<String>::new(),
            "README's deploy.toml keys the schema lacks"
        );
    }

    #[test]
    fn readme_deploy_example_parses_with_the_raw_types() {
        // The example deploy.toml of the README is accepted by the loader's
        // types too, so the walk above compares like with like.
        let example = readme_section("## deploy.toml");
        let example = example
            .split("```toml\n")
            .nth(1)
            .unwrap()
            .split("```")
            .next()
            .unwrap();
        toml::from_str::<RawDeployToml>(example).expect("the loader's types accept the example");
    }

    #[test]
    fn editors_schema_is_written_only_when_it_changes() {
        let root = std::env::temp_dir().join(format!("ferry-schema-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let path = root.join(EDITOR_SCHEMA_PATH);

        write_for_editors(&root).unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&written).unwrap(),
            deploy_schema()
        );

        // Backdate the file: a rewrite would move its mtime to now.
        let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(old)
            .unwrap();
        write_for_editors(&root).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), old);

        // A stale schema (an older ferry's) is replaced.
        std::fs::write(&path, "{}").unwrap();
        write_for_editors(&root).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), written);
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, ["deploy.schema.json"]);

        std::fs::remove_dir_all(&root).unwrap();
    }
}
