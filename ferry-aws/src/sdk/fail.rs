//! The errors of the AWS side, typed where the user can act on them: each
//! names the call that failed and says what to do.

use aws_smithy_runtime_api::client::result::{CreateUnhandledError, SdkError};
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum AwsError {
    #[error("no usable AWS credentials: {0}")]
    #[diagnostic(help(
        "set AWS_PROFILE (after `aws sso login` for SSO), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; for an emulator also set AWS_ENDPOINT_URL"
    ))]
    Credentials(String),

    #[error("the credentials reach account {actual}, but stage `{stage}` is in account {expected} ({place})")]
    #[diagnostic(help(
        "use credentials of account {expected} for this stage: {how}; or correct `account` at {place}"
    ))]
    WrongAccount {
        stage: String,
        expected: String,
        actual: String,
        place: String,
        /// How this stage gets its credentials, and so what to change.
        how: String,
    },

    #[error("profile `{profile}` of stage `{stage}` gives no usable credentials: {why}")]
    #[diagnostic(help(
        "define [profile {profile}] in your AWS config file (`aws configure list-profiles` lists them; AWS_CONFIG_FILE moves it), log in if it uses SSO (`aws sso login --profile {profile}`), or remove `profile` from the stage in deploy.toml"
    ))]
    Profile {
        profile: String,
        stage: String,
        why: String,
    },

    #[error("the execution role {role} cannot be used: {why}")]
    #[diagnostic(help(
        "give deploy.toml's `role` an existing role that Lambda may assume, or remove `role` and ferry manages one"
    ))]
    Role { role: String, why: String },

    #[error("IAM already has a role named {role}, at path {found}, not ferry's {expected} for this stage")]
    #[diagnostic(help(
        "IAM role names are unique in an account, whatever their path: delete or rename that role, or give the stage a `role` you manage"
    ))]
    ForeignRole {
        role: String,
        found: String,
        expected: String,
    },

    #[error("{call} failed: {message}")]
    #[diagnostic(help("{help}"))]
    Call {
        call: &'static str,
        message: String,
        help: String,
    },

    /// What the stage's settings need of live state and it lacks.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Stage(#[from] ferry::deploy::stage_checks::StageSettingsError),

    #[error("{0}")]
    #[diagnostic(help(
        "rename or delete the extra resource by hand; ferry finds the stage's resources by name"
    ))]
    Ambiguous(String),

    #[error("{message}")]
    #[diagnostic(help("{help}"))]
    Front { message: String, help: String },

    /// The stage's artifact bucket is missing, another account's, or in
    /// another region.
    #[error("S3 bucket {bucket} ({place}): {why}")]
    #[diagnostic(help("{help}"))]
    ArtifactBucket {
        bucket: String,
        place: String,
        why: String,
        help: String,
    },

    /// Subnets or security groups that EC2 does not have as deploy.toml says.
    #[error("{message}")]
    #[diagnostic(help("{help}"))]
    Vpc { message: String, help: String },

    /// A resource deploy.toml adopts (`function-name`, the API's `id`), or
    /// one `import` names, that is not there.
    #[error("{message}")]
    #[diagnostic(help("{help}"))]
    Adopted { message: String, help: String },

    #[error("another deploy of {stage} is running: {holder} (waited {seconds} s)")]
    #[diagnostic(help(
        "run again when it has finished (or wait longer with --lock-wait); a crashed deploy's lock expires 30 minutes after it was taken, or delete the log group {lock} if you are sure no deploy runs"
    ))]
    Locked {
        stage: String,
        holder: String,
        seconds: u64,
        lock: String,
    },

    #[error("secret environment values cannot be resolved: {0}")]
    #[diagnostic(help(
        "export each variable in the deploying process (in CI, from its secret store); create each parameter (`aws ssm put-parameter --type SecureString --name NAME --value ...` in the stage's region) or fix its name where it is declared; the credentials need ssm:GetParameters (and kms:Decrypt for a customer key)"
    ))]
    Secrets(String),

    #[error("{name}={value:?} is not usable: it must be {why}")]
    #[diagnostic(help("set {name} to {why}, or unset it for the default"))]
    Setting {
        name: &'static str,
        value: String,
        why: String,
    },

    #[error("{what} did not settle within {seconds} s: {status}")]
    #[diagnostic(help("look at the function in the Lambda console, then run the deploy again"))]
    Timeout {
        what: String,
        seconds: u64,
        status: String,
    },
}

/// A failed call as an [`AwsError::Call`] with advice for common codes.
pub fn call<E>(call: &'static str, err: E) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = err.code().unwrap_or_default().to_owned();
    let message = match err.message() {
        Some(m) => format!("{code}: {m}"),
        None => DisplayErrorContext(&err).to_string(),
    };
    let help = match code.as_str() {
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => {
            format!("the credentials may not call {call}; grant it to the deploying role or user")
        }
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => {
            "the credentials expired during the run and their source could not renew them; get fresh ones (`aws sso login`, or a new CI session) and run again: a deploy continues where this one stopped".to_owned()
        }
        "UnrecognizedClientException" => {
            "refresh the credentials (e.g. `aws sso login`) and run again".to_owned()
        }
        "TooManyRequestsException" | "Throttling" | "ThrottlingException" => {
            "AWS throttled the account; run again in a minute".to_owned()
        }
        _ => "run again; a deploy converges from wherever a failed one stopped".to_owned(),
    };
    AwsError::Call {
        call,
        message,
        help,
    }
}

/// A deletion's answer, where the service's not-found code `gone` counts as
/// done: a retry after a lost answer, or a rerun, meets its own effect.
pub fn deleted<O, E, R>(
    name: &'static str,
    out: Result<O, SdkError<E, R>>,
    gone: &str,
) -> Result<(), AwsError>
where
    E: ProvideErrorMetadata + CreateUnhandledError + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match out {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().and_then(|s| s.code()) == Some(gone) => Ok(()),
        Err(e) => Err(call(name, e.into_service_error())),
    }
}

/// A failure of the first call, which is about credentials more often than not.
pub fn credentials<E>(err: &E) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let text = DisplayErrorContext(err).to_string();
    match err.code() {
        Some(code) => {
            AwsError::Credentials(format!("{code}: {}", err.message().unwrap_or_default()))
        }
        None => AwsError::Credentials(text),
    }
}

/// A request ferry could not put together: a bug, not the account's doing.
pub fn unbuilt(call: &'static str, e: aws_smithy_types::error::operation::BuildError) -> AwsError {
    AwsError::Call {
        call,
        message: e.to_string(),
        help: "this is a bug in ferry; please report it with the plan".into(),
    }
}
