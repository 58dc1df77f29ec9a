//! Environment values: a literal written in the metadata, or a secret that
//! ferry resolves only when it deploys (from the deploying process's
//! environment, or an SSM parameter) and never prints, writes into the
//! manifest or keeps in a file.
//!
//! In TOML and in manifest.json a value is a string, `{ from-env = "VAR" }`
//! or `{ ssm = "/name" }`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::{Stage, Workspace};

/// Where a secret comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SecretSource {
    /// A variable of the process that deploys, e.g. a CI secret.
    Env(String),
    /// An SSM parameter (a SecureString is decrypted), by name or ARN.
    Ssm(String),
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(var) => write!(f, "environment variable `{var}`"),
            SecretSource::Ssm(name) => write!(f, "SSM parameter `{name}`"),
        }
    }
}

/// One environment variable's value as declared.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "Repr", try_from = "Repr")]
pub enum EnvValue {
    Plain(String),
    Secret(SecretSource),
}

impl EnvValue {
    /// The bytes this value counts towards Lambda's 4 KB before deploy
    /// resolves it (a secret's size is only known then).
    pub fn known_len(&self) -> usize {
        match self {
            EnvValue::Plain(v) => v.len(),
            EnvValue::Secret(_) => 0,
        }
    }
}

impl From<&str> for EnvValue {
    fn from(value: &str) -> Self {
        EnvValue::Plain(value.to_owned())
    }
}

/// Resolved secret values. Debug never shows them.
#[derive(Default, Clone, PartialEq, Eq)]
pub struct Secrets(BTreeMap<SecretSource, String>);

impl Secrets {
    pub fn insert(&mut self, source: SecretSource, value: String) {
        self.0.insert(source, value);
    }

    pub fn get(&self, source: &SecretSource) -> Option<&str> {
        self.0.get(source).map(String::as_str)
    }

    /// Every resolved value, for callers that must keep them out of output.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.0.values().map(String::as_str)
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// The secrets the functions of `stage` use, each with the places that
/// declare it (`services/x/Cargo.toml env.KEY`, `deploy.toml stages.s.env.KEY`),
/// for errors that point at the declaration.
pub fn secret_sources(workspace: &Workspace, stage: &Stage) -> BTreeMap<SecretSource, Vec<String>> {
    let mut sources: BTreeMap<SecretSource, Vec<String>> = BTreeMap::new();
    for service in workspace.services.values() {
        let settings = stage.settings(&workspace.app, service);
        let over = stage.overrides.get(service.name.as_str());
        for (key, value) in &settings.env {
            let EnvValue::Secret(source) = value else {
                continue;
            };
            let place = if over.is_some_and(|o| o.env.contains_key(key)) {
                format!(
                    "deploy.toml stages.{}.services.{}.env.{key}",
                    stage.name, service.name
                )
            } else if stage.env.contains_key(key) {
                format!("deploy.toml stages.{}.env.{key}", stage.name)
            } else {
                format!(
                    "{}/Cargo.toml package.metadata.ferry.env.{key}",
                    service.dir.display()
                )
            };
            let places = sources.entry(source.clone()).or_default();
            if !places.contains(&place) {
                places.push(place);
            }
        }
    }
    sources
}

/// The serialised shape: a string, or a one-key table.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Repr {
    Plain(String),
    Secret(SecretRepr),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct SecretRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ssm: Option<String>,
}

impl From<EnvValue> for Repr {
    fn from(value: EnvValue) -> Self {
        match value {
            EnvValue::Plain(v) => Repr::Plain(v),
            EnvValue::Secret(SecretSource::Env(var)) => Repr::Secret(SecretRepr {
                from_env: Some(var),
                ssm: None,
            }),
            EnvValue::Secret(SecretSource::Ssm(name)) => Repr::Secret(SecretRepr {
                from_env: None,
                ssm: Some(name),
            }),
        }
    }
}

impl TryFrom<Repr> for EnvValue {
    type Error = String;

    fn try_from(repr: Repr) -> Result<Self, String> {
        match repr {
            Repr::Plain(v) => Ok(EnvValue::Plain(v)),
            Repr::Secret(SecretRepr {
                from_env: Some(var),
                ssm: None,
            }) => Ok(EnvValue::Secret(SecretSource::Env(var))),
            Repr::Secret(SecretRepr {
                from_env: None,
                ssm: Some(name),
            }) => Ok(EnvValue::Secret(SecretSource::Ssm(name))),
            Repr::Secret(_) => Err("a secret names exactly one of `from-env` and `ssm`".into()),
        }
    }
}

/// Parses one TOML value of an `env` table, or says what is wrong with it.
pub(crate) fn from_toml(value: &toml::Value) -> Result<EnvValue, String> {
    const SHAPES: &str =
        "a string, `{ from-env = \"VAR\" }` (the deploying process's variable) or `{ ssm = \"/name\" }` (an SSM parameter)";
    let table = match value {
        toml::Value::String(s) => return Ok(EnvValue::Plain(s.clone())),
        toml::Value::Table(t) => t,
        other => {
            return Err(format!(
                "a {} is not a value; use {SHAPES}",
                other.type_str()
            ))
        }
    };
    let mut keys = table.iter();
    let (Some((key, source)), None) = (keys.next(), keys.next()) else {
        return Err(format!("a secret is one key; use {SHAPES}"));
    };
    let Some(source) = source.as_str() else {
        return Err(format!("`{key}` takes a string"));
    };
    match key.as_str() {
        "from-env" if valid_var(source) => Ok(EnvValue::Secret(SecretSource::Env(source.into()))),
        "from-env" => Err(format!(
            "`{source}` is not a variable name: letters, digits and `_`, not starting with a digit"
        )),
        "ssm" if valid_ssm(source) => Ok(EnvValue::Secret(SecretSource::Ssm(source.into()))),
        "ssm" => Err(format!(
            "`{source}` is not an SSM parameter name: letters, digits and `_.-/`, at most 2048 characters, or its ARN"
        )),
        other => Err(format!("`{other}` is not a kind of value; use {SHAPES}")),
    }
}

fn valid_var(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn valid_ssm(name: &str) -> bool {
    if let Some(rest) = name.strip_prefix("arn:") {
        return rest.contains(":ssm:") && rest.contains(":parameter/");
    }
    !name.is_empty()
        && name.len() <= 2048
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_the_manifest_shape() {
        let values = [
            EnvValue::from("json"),
            EnvValue::Secret(SecretSource::Env("CI_TOKEN".into())),
            EnvValue::Secret(SecretSource::Ssm("/items/prod/db".into())),
        ];
        let json = serde_json::to_string(&values).unwrap();
        assert_eq!(
            json,
            r#"["json",{"from-env":"CI_TOKEN"},{"ssm":"/items/prod/db"}]"#
        );
        let back: Vec<EnvValue> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, values);
        assert!(serde_json::from_str::<EnvValue>(r#"{"ssm":"/a","from-env":"B"}"#).is_err());
    }

    #[test]
    fn toml_values_are_checked() {
        let parse = |s: &str| from_toml(&toml::from_str::<toml::Value>(s).unwrap()["v"]);
        assert_eq!(parse(r#"v = "x""#), Ok(EnvValue::from("x")));
        assert_eq!(
            parse(r#"v = { ssm = "/a/b" }"#),
            Ok(EnvValue::Secret(SecretSource::Ssm("/a/b".into())))
        );
        assert!(parse("v = 5").unwrap_err().contains("integer"));
        assert!(parse(r#"v = { ssm = "" }"#).is_err());
        assert!(parse(r#"v = { from-env = "1X" }"#).is_err());
        assert!(parse(r#"v = { vault = "x" }"#)
            .unwrap_err()
            .contains("`vault`"));
        assert!(parse(r#"v = { ssm = "/a", from-env = "B" }"#).is_err());
    }

    #[test]
    fn debug_never_shows_a_secret_value() {
        let mut secrets = Secrets::default();
        secrets.insert(SecretSource::Env("TOKEN".into()), "hunter2".into());
        assert!(!format!("{secrets:?}").contains("hunter2"));
    }
}
