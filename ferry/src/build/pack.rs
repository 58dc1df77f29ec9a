//! Reproducible zips: entries sorted by name, every timestamp 1980-01-01, modes
//! normalised (0755 for executables, 0644 for data), deflate at a fixed level,
//! no directory entries and no extra fields. Equal inputs give equal bytes.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::manifest::Entry;

pub const EXECUTABLE: u32 = 0o755;
pub const DATA: u32 = 0o644;
/// Bumped when the packing itself changes, so old zips are not reused.
const PACKER_VERSION: &str = "ferry-zip-1";
const DEFLATE_LEVEL: i64 = 9;

/// One file to put in a zip.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct EntrySpec {
    /// The path inside the zip, `/`-separated.
    pub name: String,
    pub mode: u32,
    pub source: PathBuf,
}

/// What packing produced, as the manifest records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed {
    pub sha256: String,
    pub code_sha256: String,
    pub zipped_size: u64,
    pub unzipped_size: u64,
    pub entries: Vec<Entry>,
}

/// Hex SHA-256 over every entry's name, mode and content, in name order.
pub fn inputs_sha256(entries: &[EntrySpec]) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    hasher.update(PACKER_VERSION);
    for entry in sorted(entries) {
        let content = std::fs::read(&entry.source)?;
        hasher.update((entry.name.len() as u64).to_le_bytes());
        hasher.update(&entry.name);
        hasher.update(entry.mode.to_le_bytes());
        hasher.update((content.len() as u64).to_le_bytes());
        hasher.update(&content);
    }
    Ok(hex(&hasher.finalize()))
}

/// Writes the zip to `dest` (through a temporary file, so a reader never sees
/// half a zip) and describes it.
pub fn pack(entries: &[EntrySpec], dest: &Path) -> std::io::Result<Packed> {
    let mut buffer = std::io::Cursor::new(Vec::new());
    let mut zip = ZipWriter::new(&mut buffer);
    let mut described = Vec::with_capacity(entries.len());
    let mut unzipped_size = 0;
    for entry in sorted(entries) {
        let content = std::fs::read(&entry.source)?;
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(DEFLATE_LEVEL))
            .last_modified_time(DateTime::default())
            .unix_permissions(entry.mode)
            .large_file(false);
        zip.start_file(entry.name.as_str(), options)?;
        zip.write_all(&content)?;
        unzipped_size += content.len() as u64;
        described.push(Entry {
            name: entry.name.clone(),
            mode: format!("{:04o}", entry.mode),
            size: content.len() as u64,
        });
    }
    zip.finish()?;
    let bytes = buffer.into_inner();
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let partial = dest.with_extension("zip.partial");
    std::fs::write(&partial, &bytes)?;
    std::fs::rename(&partial, dest)?;
    Ok(describe(&bytes, unzipped_size, described))
}

/// Lambda's CodeSha256 of a zip: the base64 of its SHA-256.
pub fn code_sha256(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

fn describe(bytes: &[u8], unzipped_size: u64, entries: Vec<Entry>) -> Packed {
    let digest = Sha256::digest(bytes);
    Packed {
        sha256: hex(&digest),
        code_sha256: code_sha256(bytes),
        zipped_size: bytes.len() as u64,
        unzipped_size,
        entries,
    }
}

/// The entries for a layer's `files` item: a file goes into the `dest`
/// directory under its own name, a directory's contents go under `dest`.
/// Every entry gets the data mode; symbolic links are refused.
pub fn data_entries(source: &Path, dest: &str) -> std::io::Result<Vec<EntrySpec>> {
    let mut out = Vec::new();
    if std::fs::symlink_metadata(source)?.is_file() {
        let name = source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        walk(source, format!("{dest}/{name}"), &mut out)?;
    } else {
        walk(source, dest.to_owned(), &mut out)?;
    }
    out.sort();
    Ok(out)
}

fn walk(source: &Path, name: String, out: &mut Vec<EntrySpec>) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(source)?;
    if meta.file_type().is_symlink() {
        let message = format!(
            "{} is a symbolic link; layers take regular files only",
            source.display()
        );
        return Err(std::io::Error::other(message));
    }
    if meta.is_file() {
        out.push(EntrySpec {
            name,
            mode: DATA,
            source: source.to_owned(),
        });
        return Ok(());
    }
    for child in std::fs::read_dir(source)? {
        let child = child?.path();
        let child_name = child
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        walk(&child, format!("{name}/{child_name}"), out)?;
    }
    Ok(())
}

fn sorted(entries: &[EntrySpec]) -> Vec<&EntrySpec> {
    let mut sorted: Vec<&EntrySpec> = entries.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    sorted
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(bytes))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch folder, removed when the test ends (pass or fail).
    struct Temp(PathBuf);

    impl std::ops::Deref for Temp {
        type Target = Path;
        fn deref(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Temp {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn temp(name: &str) -> Temp {
        let dir = std::env::temp_dir().join(format!("ferry-pack-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Temp(dir)
    }

    #[test]
    fn equal_inputs_give_equal_zips_whatever_the_order_and_mtime() {
        let dir = temp("equal");
        std::fs::write(dir.join("a"), b"alpha").unwrap();
        std::fs::write(dir.join("b"), vec![7u8; 10_000]).unwrap();
        let a = EntrySpec {
            name: "bootstrap".into(),
            mode: EXECUTABLE,
            source: dir.join("a"),
        };
        let b = EntrySpec {
            name: "data/b.bin".into(),
            mode: DATA,
            source: dir.join("b"),
        };
        let first = pack(&[a.clone(), b.clone()], &dir.join("one.zip")).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        std::fs::write(dir.join("a"), b"alpha").unwrap();
        let second = pack(&[b.clone(), a.clone()], &dir.join("two.zip")).unwrap();
        assert_eq!(first, second);
        assert_eq!(
            std::fs::read(dir.join("one.zip")).unwrap(),
            std::fs::read(dir.join("two.zip")).unwrap()
        );
        assert_eq!(
            inputs_sha256(&[a.clone(), b.clone()]).unwrap(),
            inputs_sha256(&[b, a]).unwrap()
        );
        assert_eq!(first.entries[0].name, "bootstrap");
        assert_eq!(first.entries[0].mode, "0755");
        assert_eq!(first.unzipped_size, 10_005);
    }

    #[test]
    fn zip_records_modes_and_fixed_times() {
        let dir = temp("modes");
        std::fs::write(dir.join("x"), b"#!/bin/true").unwrap();
        let spec = EntrySpec {
            name: "extensions/x".into(),
            mode: EXECUTABLE,
            source: dir.join("x"),
        };
        let packed = pack(&[spec], &dir.join("x.zip")).unwrap();
        let mut archive =
            zip::ZipArchive::new(std::fs::File::open(dir.join("x.zip")).unwrap()).unwrap();
        let file = archive.by_index(0).unwrap();
        assert_eq!(file.name(), "extensions/x");
        assert_eq!(file.unix_mode().unwrap() & 0o777, 0o755);
        assert_eq!(file.last_modified().unwrap(), DateTime::default());
        assert_eq!(packed.code_sha256.len(), 44);
        assert_eq!(packed.sha256.len(), 64);
    }

    #[test]
    fn data_entries_place_files_and_directories() {
        let dir = temp("data");
        std::fs::create_dir_all(dir.join("keys/sub")).unwrap();
        std::fs::write(dir.join("keys/z.json"), b"{}").unwrap();
        std::fs::write(dir.join("keys/sub/a.pem"), b"pem").unwrap();
        let names: Vec<String> = data_entries(&dir.join("keys"), "ferry/jwks")
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["ferry/jwks/sub/a.pem", "ferry/jwks/z.json"]);
        let single = data_entries(&dir.join("keys/z.json"), "conf").unwrap();
        assert_eq!(single[0].name, "conf/z.json");
        assert_eq!(single[0].mode, DATA);
    }
}
