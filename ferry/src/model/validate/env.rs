//! Environment variable checks shared by service metadata and deploy.toml:
//! names Lambda accepts, names Lambda reserves, and the 4 KB total.

use std::collections::BTreeMap;

use toml::Spanned;

use crate::model::diag::{Diagnostics, SourceFile};
use crate::model::{env_value, EnvValue, MAX_ENV_BYTES};

/// Keys Lambda sets itself and refuses in a function's configuration.
const RESERVED: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// The size Lambda counts for a set of variables: every key and value
/// (secrets count only their keys until deploy resolves them).
pub fn env_bytes(env: &BTreeMap<String, EnvValue>) -> usize {
    env.iter().map(|(k, v)| k.len() + v.known_len()).sum()
}

/// Validates an `env` table: names, values (strings or secret references)
/// and the size of what is known before deploy.
pub(crate) fn check_env(
    env: &Spanned<BTreeMap<String, Spanned<toml::Value>>>,
    key: &str,
    file: &SourceFile,
    diags: &mut Diagnostics,
) -> BTreeMap<String, EnvValue> {
    let mut out = BTreeMap::new();
    for (name, value) in env.get_ref() {
        let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            let help =
                "environment variable names start with a letter and use letters, digits and `_`";
            diags.error(
                file,
                value.span(),
                key,
                format!("`{name}` is not a valid variable name"),
                Some(help.into()),
            );
            continue;
        }
        if name == ferry_cors::ENV {
            let help =
                "ferry sets it from the stage's [stages.NAME.api.cors] table; choose another name";
            diags.error(
                file,
                value.span(),
                key,
                format!("`{name}` is set by ferry"),
                Some(help.into()),
            );
            continue;
        }
        if RESERVED.contains(&name.as_str()) {
            let help = "Lambda sets this variable itself; choose another name";
            diags.error(
                file,
                value.span(),
                key,
                format!("`{name}` is reserved by Lambda"),
                Some(help.into()),
            );
            continue;
        }
        match env_value::from_toml(value.get_ref()) {
            Ok(v) => {
                out.insert(name.clone(), v);
            }
            Err(why) => {
                let help = "write a string, `{ from-env = \"VAR\" }` for a variable of the deploying process (a CI secret), or `{ ssm = \"/name\" }` for an SSM parameter; ferry never prints secret values";
                diags.error(
                    file,
                    value.span(),
                    key,
                    format!("`{name}`: {why}"),
                    Some(help.into()),
                );
            }
        }
    }
    let bytes = env_bytes(&out);
    if bytes > MAX_ENV_BYTES {
        let help = "keep large values in a layer's files or in SSM Parameter Store";
        let message =
            format!("the variables take {bytes} bytes; Lambda allows {MAX_ENV_BYTES} bytes in all");
        diags.error(file, env.span(), key, message, Some(help.into()));
    }
    out
}
