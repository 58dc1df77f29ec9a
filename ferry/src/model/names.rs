//! Closed enums and newtypes for the names ferry's domain is made of:
//! CPU architectures, Lambda runtimes with their glibc floors, HTTP methods,
//! and names that must be valid Lambda function or layer names.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A Lambda instruction set architecture.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Arch {
    #[serde(rename = "arm64")]
    Arm64,
    #[serde(rename = "x86_64")]
    X86_64,
}

impl Arch {
    pub const ALL: [Arch; 2] = [Arch::Arm64, Arch::X86_64];

    /// The name Lambda uses (`arm64`, `x86_64`).
    pub fn as_str(self) -> &'static str {
        match self {
            Arch::Arm64 => "arm64",
            Arch::X86_64 => "x86_64",
        }
    }

    /// The Rust target triple without a glibc suffix.
    pub fn triple(self) -> &'static str {
        match self {
            Arch::Arm64 => "aarch64-unknown-linux-gnu",
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
        }
    }

    /// The ELF `e_machine` value of binaries for this architecture.
    pub fn elf_machine(self) -> u16 {
        match self {
            Arch::Arm64 => 183,
            Arch::X86_64 => 62,
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// X-Ray tracing of a function: Lambda's `TracingConfig.Mode`.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Tracing {
    /// Lambda's default: traces only requests that arrive sampled.
    #[default]
    PassThrough,
    /// Samples and traces requests itself (the role needs X-Ray's
    /// `PutTraceSegments` and `PutTelemetryRecords`).
    Active,
}

impl Tracing {
    /// The mode as Lambda names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Tracing::PassThrough => "PassThrough",
            Tracing::Active => "Active",
        }
    }

    /// Lambda's name back to the mode (anything else: Lambda's default).
    pub fn from_lambda(mode: &str) -> Tracing {
        match mode {
            "Active" => Tracing::Active,
            _ => Tracing::PassThrough,
        }
    }
}

impl fmt::Display for Tracing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A glibc version, compared numerically (2.26 < 2.34).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GlibcVersion {
    pub major: u16,
    pub minor: u16,
}

impl GlibcVersion {
    pub const fn new(major: u16, minor: u16) -> Self {
        Self { major, minor }
    }

    /// Parses the `2.26` of a `GLIBC_2.26` symbol version (or `2.2.5` as 2.2).
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next().map_or(Some(0), |m| m.parse().ok())?;
        Some(Self { major, minor })
    }
}

impl fmt::Display for GlibcVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl Serialize for GlibcVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for GlibcVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("bad glibc version `{text}`")))
    }
}

/// An OS-only Lambda runtime, the kind a Rust `bootstrap` binary runs on.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Runtime {
    #[serde(rename = "provided.al2")]
    ProvidedAl2,
    #[serde(rename = "provided.al2023")]
    ProvidedAl2023,
}

impl Runtime {
    pub const ALL: [Runtime; 2] = [Runtime::ProvidedAl2, Runtime::ProvidedAl2023];

    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::ProvidedAl2 => "provided.al2",
            Runtime::ProvidedAl2023 => "provided.al2023",
        }
    }

    /// The glibc the runtime's OS ships: no binary may need a newer one.
    pub fn glibc_floor(self) -> GlibcVersion {
        match self {
            Runtime::ProvidedAl2 => GlibcVersion::new(2, 26),
            Runtime::ProvidedAl2023 => GlibcVersion::new(2, 34),
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An HTTP method as API Gateway knows it; `ANY` matches every method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
    Any,
}

impl Method {
    pub const ALL: [Method; 8] = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
        Method::Head,
        Method::Options,
        Method::Any,
    ];

    /// The methods `ANY` stands for.
    pub const ALL_CONCRETE: [Method; 7] = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
        Method::Head,
        Method::Options,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
            Method::Any => "ANY",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is valid for a Lambda function or layer: letters, digits,
/// hyphens and underscores, at most 64 characters (the function limit, which
/// is the stricter of the two).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LambdaName(String);

impl LambdaName {
    pub const MAX_LEN: usize = 64;

    /// Checks `name`; the error says what is wrong with it.
    pub fn new(name: &str) -> Result<Self, String> {
        if name.is_empty() {
            return Err("the name is empty".into());
        }
        if name.len() > Self::MAX_LEN {
            return Err(format!(
                "`{name}` is {} characters; Lambda allows {}",
                name.len(),
                Self::MAX_LEN
            ));
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(format!(
                "`{name}` contains `{bad}`; Lambda names allow only letters, digits, `-` and `_`"
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LambdaName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glibc_versions_compare_numerically() {
        assert!(GlibcVersion::parse("2.26").unwrap() < GlibcVersion::parse("2.34").unwrap());
        assert!(GlibcVersion::parse("2.9").unwrap() < GlibcVersion::parse("2.10").unwrap());
        assert_eq!(
            GlibcVersion::parse("2.2.5").unwrap(),
            GlibcVersion::new(2, 2)
        );
        assert_eq!(GlibcVersion::parse("x"), None);
    }

    #[test]
    fn lambda_names() {
        assert!(LambdaName::new("list-items_2").is_ok());
        assert!(LambdaName::new("bad.name").unwrap_err().contains('.'));
        assert!(LambdaName::new(&"a".repeat(65)).is_err());
        assert!(LambdaName::new("").is_err());
    }

    #[test]
    fn runtime_floors() {
        assert_eq!(Runtime::ProvidedAl2.glibc_floor().to_string(), "2.26");
        assert_eq!(Runtime::ProvidedAl2023.glibc_floor().to_string(), "2.34");
    }
}
