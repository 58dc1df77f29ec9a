//! Reads a linked ELF binary's architecture and the glibc symbol versions it
//! needs, so the build can refuse a binary that would not load on its runtime.

use std::collections::BTreeMap;

use object::elf::{FileHeader64, SHT_DYNSYM};
use object::read::elf::{FileHeader, Sym};
use object::{Endianness, SymbolIndex};

use crate::model::GlibcVersion;

/// What the glibc check needs to know about one binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfFacts {
    pub machine: u16,
    /// Each required `GLIBC_x.y` version with the imported symbols that need it.
    pub glibc: BTreeMap<GlibcVersion, Vec<String>>,
}

impl ElfFacts {
    /// The newest glibc the binary needs, if it links glibc at all.
    pub fn max_glibc(&self) -> Option<GlibcVersion> {
        self.glibc.keys().next_back().copied()
    }

    /// The versions newer than `floor`, each with up to three symbols that need it.
    pub fn above(&self, floor: GlibcVersion) -> Vec<String> {
        self.glibc
            .range(..)
            .filter(|(v, _)| **v > floor)
            .map(|(v, symbols)| {
                let shown: Vec<&str> = symbols.iter().take(3).map(String::as_str).collect();
                format!("GLIBC_{v} (needed by {})", shown.join(", "))
            })
            .collect()
    }
}

/// Parses a 64-bit little-endian ELF file (both Lambda architectures are).
pub fn read(data: &[u8]) -> Result<ElfFacts, String> {
    let header = FileHeader64::<Endianness>::parse(data)
        .map_err(|e| format!("not a 64-bit ELF file: {e}"))?;
    let endian = header.endian().map_err(|e| e.to_string())?;
    let machine = header.e_machine(endian).0;
    let sections = header.sections(endian, data).map_err(|e| e.to_string())?;
    let mut glibc: BTreeMap<GlibcVersion, Vec<String>> = BTreeMap::new();
    let Some(versions) = sections.versions(endian, data).map_err(|e| e.to_string())? else {
        return Ok(ElfFacts { machine, glibc });
    };
    let symbols = sections
        .symbols(endian, data, SHT_DYNSYM)
        .map_err(|e| e.to_string())?;
    for (index, symbol) in symbols.symbols().iter().enumerate() {
        if !symbol.is_undefined(endian) {
            continue;
        }
        let version_index = versions.version_index(endian, SymbolIndex(index));
        let Ok(Some(version)) = versions.version(version_index.index()) else {
            continue;
        };
        let Some(number) = std::str::from_utf8(version.name())
            .ok()
            .and_then(|n| n.strip_prefix("GLIBC_"))
        else {
            continue;
        };
        let Some(number) = GlibcVersion::parse(number) else {
            continue;
        };
        let name = symbol
            .name(endian, symbols.strings())
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        glibc.entry(number).or_default().push(name.into_owned());
    }
    for names in glibc.values_mut() {
        names.sort();
        names.dedup();
    }
    Ok(ElfFacts { machine, glibc })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_running_test_binary() {
        let data = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let facts = read(&data).unwrap();
        assert_eq!(facts.machine, crate::model::Arch::X86_64.elf_machine());
        let max = facts.max_glibc().expect("the test binary links glibc");
        assert!(max >= GlibcVersion::new(2, 2));
        assert!(facts.glibc.values().flatten().any(|s| !s.is_empty()));
        assert!(facts
            .above(GlibcVersion::new(2, 0))
            .iter()
            .all(|l| l.starts_with("GLIBC_2.")));
    }

    #[test]
    fn rejects_non_elf() {
        assert!(read(b"#!/bin/sh\necho hi\n").is_err());
    }
}
