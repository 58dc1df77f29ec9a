//! Configuration problems as miette diagnostics: each names its file, points at
//! the line and key in the rendered source, and says how to fix it. The loader
//! collects every problem it finds and returns them together.

use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};

/// One TOML file's text, shared by every diagnostic that points into it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as shown to the user (relative to the workspace root).
    pub display: String,
    pub text: Arc<str>,
}

impl SourceFile {
    pub fn new(display: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        Self {
            display: display.into(),
            text: text.into(),
        }
    }

    /// A display path relative to `root` where possible.
    pub fn display_path(root: &Path, path: &Path) -> String {
        path.strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// The 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .matches('\n')
            .count()
            + 1
    }
}

/// Where a setting was written, for a problem found only once settings
/// from several files meet.
#[derive(Debug, Clone)]
pub struct Place {
    pub file: SourceFile,
    pub span: Range<usize>,
    /// The dotted key, e.g. `package.metadata.ferry.cache."GET /items"`.
    pub key: String,
}

impl PartialEq for Place {
    fn eq(&self, other: &Self) -> bool {
        self.file.display == other.file.display && self.span == other.span && self.key == other.key
    }
}

impl Eq for Place {}

impl Diagnostics {
    /// Records a problem at a setting's place.
    pub fn error_at(&mut self, at: &Place, message: impl Into<String>, help: impl Into<String>) {
        self.error(
            &at.file,
            at.span.clone(),
            at.key.clone(),
            message,
            Some(help.into()),
        );
    }
}

/// One problem in one file.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{file}:{line}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    /// The dotted key the problem is at, e.g. `package.metadata.ferry.memory`.
    pub key: String,
    pub message: String,
    #[source_code]
    pub source_code: NamedSource<Arc<str>>,
    #[label("{label}")]
    pub span: SourceSpan,
    pub label: String,
    #[help]
    pub help: Option<String>,
}

/// Every problem found, reported together; nothing runs while any is present.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{} in the workspace configuration; nothing was built or deployed", count(.errors.len()))]
#[diagnostic(
    code(ferry::config),
    help("fix the problems above, then run the command again")
)]
pub struct ConfigErrors {
    #[related]
    pub errors: Vec<ConfigError>,
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 problem".to_owned()
    } else {
        format!("{n} problems")
    }
}

/// Collects problems while the loader walks the workspace.
#[derive(Debug, Default)]
pub struct Diagnostics {
    pub errors: Vec<ConfigError>,
    pub warnings: Vec<String>,
}

impl Diagnostics {
    /// Records a problem at `span` of `file`, under the dotted `key`.
    pub fn error(
        &mut self,
        file: &SourceFile,
        span: Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        let key = key.into();
        let message = message.into();
        let label = if key.is_empty() {
            "here".to_owned()
        } else {
            format!("`{key}`")
        };
        let span = clamp(span, file.text.len());
        self.errors.push(ConfigError {
            file: file.display.clone(),
            line: file.line_of(span.start),
            message: if key.is_empty() {
                message
            } else {
                format!("`{key}`: {message}")
            },
            key,
            source_code: NamedSource::new(&file.display, file.text.clone()).with_language("TOML"),
            span: span.into(),
            label,
            help,
        });
    }

    pub fn warn(&mut self, message: impl fmt::Display) {
        self.warnings.push(message.to_string());
    }

    /// Ok when no error was recorded.
    pub fn finish(self) -> Result<Vec<String>, ConfigErrors> {
        if self.errors.is_empty() {
            Ok(self.warnings)
        } else {
            Err(ConfigErrors {
                errors: self.errors,
            })
        }
    }
}

fn clamp(span: Range<usize>, len: usize) -> Range<usize> {
    let start = span.start.min(len);
    start..span.end.clamp(start, len)
}

/// Renders a diagnostic as plain text (no colour), as tests and logs want it.
pub fn render_plain(diagnostic: &dyn Diagnostic) -> String {
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100);
    let mut out = String::new();
    handler
        .render_report(&mut out, diagnostic)
        .expect("rendering into a String cannot fail");
    out
}
