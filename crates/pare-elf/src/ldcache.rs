//! `etc/ld.so.cache`, the index `ldconfig` writes and the loader consults
//! before its default folders. Hand-written: no crate reads this format.
//!
//! Layout of the format glibc has written by default since 2.32
//! (`glibc-ld.so.cache1.1`): a 48-byte header (magic and version, entry
//! count, string table length, flags, extension offset), then 24-byte
//! entries `{flags: i32, key: u32, value: u32, osversion: u32, hwcap: u64}`
//! whose key (the soname) and value (the path) are offsets from the start of
//! the file. The old `ld.so-1.7.0` format may come first, followed by the
//! new one; only the new part is read.

const NEW_MAGIC: &[u8] = b"glibc-ld.so.cache1.1";
const OLD_MAGIC: &[u8] = b"ld.so-1.7.0";
const NEW_HEADER: usize = 48;
const NEW_ENTRY: usize = 24;
const OLD_ENTRY: usize = 12;

/// `flags` of a glibc (libc6) ELF library; the high byte names the ABI.
pub const FLAG_ELF_LIBC6: i32 = 0x0003;
const FLAG_TYPE_MASK: i32 = 0x00ff;

/// One library the cache knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheEntry {
    pub name: String,
    pub path: String,
    pub flags: i32,
    /// Non-zero for a `glibc-hwcaps` subfolder variant.
    pub hwcap: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LdCache {
    pub entries: Vec<CacheEntry>,
}

/// The cache flags a loader for `machine` (ELF `e_machine`) and class
/// accepts, as glibc's `_dl_cache_check_flags`; `None` when unknown (then
/// any libc6 entry is taken).
pub fn flags_for(machine: u16, is_64: bool) -> Option<i32> {
    match (machine, is_64) {
        (62, true) => Some(0x0300 | FLAG_ELF_LIBC6),  // x86-64
        (183, true) => Some(0x0a00 | FLAG_ELF_LIBC6), // AArch64
        (3, false) => Some(FLAG_ELF_LIBC6),           // i386
        (40, false) => Some(0x0900 | FLAG_ELF_LIBC6), // ARM hard-float
        _ => None,
    }
}

impl LdCache {
    /// Parses a cache file; an error names what is wrong.
    pub fn parse(data: &[u8]) -> Result<LdCache, String> {
        let start = if data.starts_with(NEW_MAGIC) {
            0
        } else if data.starts_with(OLD_MAGIC) {
            // Old entries, then the new format at an 8-byte boundary.
            let count = u32_at(data, OLD_MAGIC.len() + 1).ok_or("truncated header")? as usize;
            let end = (OLD_MAGIC.len() + 1 + 4)
                .checked_add(
                    count
                        .checked_mul(OLD_ENTRY)
                        .ok_or("entry count overflows")?,
                )
                .ok_or("entry count overflows")?;
            let aligned = end
                .checked_next_multiple_of(8)
                .ok_or("entry count overflows")?;
            if !data
                .get(aligned..)
                .is_some_and(|d| d.starts_with(NEW_MAGIC))
            {
                return Err("only the old ld.so-1.7.0 format: not read".into());
            }
            aligned
        } else {
            return Err("not an ld.so.cache".into());
        };
        let header = data
            .get(start..start.checked_add(NEW_HEADER).ok_or("truncated header")?)
            .ok_or("truncated header")?;
        let count = u32_at(header, 20).ok_or("truncated header")? as usize;
        let table = start.checked_add(NEW_HEADER).ok_or("truncated header")?;
        let table_len = count
            .checked_mul(NEW_ENTRY)
            .ok_or("entry count overflows")?;
        let entries = data
            .get(table..table.saturating_add(table_len))
            .ok_or("entry table past the end of the file")?;
        let string = |offset: u32| -> Result<String, String> {
            // Offsets count from the start of the new-format part.
            let bytes = usize::try_from(offset)
                .ok()
                .and_then(|offset| start.checked_add(offset))
                .and_then(|at| data.get(at..))
                .ok_or("string offset past the end")?;
            let end = bytes
                .iter()
                .position(|b| *b == 0)
                .ok_or("unterminated string")?;
            Ok(String::from_utf8_lossy(&bytes[..end]).into_owned())
        };
        let mut out = Vec::with_capacity(count);
        for raw in entries.chunks_exact(NEW_ENTRY) {
            let flags = u32_at(raw, 0).unwrap_or(0) as i32;
            let key = u32_at(raw, 4).unwrap_or(0);
            let value = u32_at(raw, 8).unwrap_or(0);
            let hwcap = u64::from(u32_at(raw, 16).unwrap_or(0))
                | (u64::from(u32_at(raw, 20).unwrap_or(0)) << 32);
            out.push(CacheEntry {
                name: string(key)?,
                path: string(value)?,
                flags,
                hwcap,
            });
        }
        Ok(LdCache { entries: out })
    }

    /// Every path the cache gives for `name` with acceptable flags, the
    /// loader's first choice first (hwcaps variants before the baseline,
    /// as the cache orders them).
    pub fn lookup(&self, name: &str, flags: Option<i32>) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|e| e.name == name)
            .filter(|e| match flags {
                Some(wanted) => e.flags == wanted,
                None => e.flags & FLAG_TYPE_MASK == FLAG_ELF_LIBC6,
            })
            .map(|e| e.path.as_str())
            .collect()
    }
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A cache in the new format with `entries` (name, path, flags, hwcap).
    pub(crate) fn build(entries: &[(&str, &str, i32, u64)]) -> Vec<u8> {
        let mut strings = Vec::new();
        let strings_at = NEW_HEADER + entries.len() * NEW_ENTRY;
        let mut table = Vec::new();
        for (name, path, flags, hwcap) in entries {
            let key = (strings_at + strings.len()) as u32;
            strings.extend_from_slice(name.as_bytes());
            strings.push(0);
            let value = (strings_at + strings.len()) as u32;
            strings.extend_from_slice(path.as_bytes());
            strings.push(0);
            table.extend(flags.to_le_bytes());
            table.extend(key.to_le_bytes());
            table.extend(value.to_le_bytes());
            table.extend(0u32.to_le_bytes());
            table.extend(hwcap.to_le_bytes());
        }
        let mut out = NEW_MAGIC.to_vec();
        out.extend((entries.len() as u32).to_le_bytes());
        out.extend((strings.len() as u32).to_le_bytes());
        out.resize(NEW_HEADER, 0);
        out.extend(table);
        out.extend(strings);
        out
    }

    #[test]
    fn reads_the_cache_of_this_machine() {
        // glibc writes the new format; every entry must parse and libc be there.
        let Ok(data) = std::fs::read("/etc/ld.so.cache") else {
            // CI runs on Debian, which has one: there it must be read.
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "no /etc/ld.so.cache in CI"
            );
            return; // not a glibc system
        };
        let cache = LdCache::parse(&data).unwrap();
        assert!(!cache.entries.is_empty());
        let libc = cache.lookup("libc.so.6", flags_for(62, true));
        assert!(libc.iter().any(|p| p.ends_with("/libc.so.6")), "{libc:?}");
    }

    #[test]
    fn lookup_honours_the_abi_flags() {
        let data = build(&[
            (
                "libz.so.1",
                "/usr/lib/x86_64-linux-gnu/libz.so.1",
                0x0303,
                0,
            ),
            ("libz.so.1", "/usr/lib/i386-linux-gnu/libz.so.1", 0x0003, 0),
        ]);
        let cache = LdCache::parse(&data).unwrap();
        assert_eq!(
            cache.lookup("libz.so.1", flags_for(62, true)),
            ["/usr/lib/x86_64-linux-gnu/libz.so.1"]
        );
        assert_eq!(
            cache.lookup("libz.so.1", flags_for(3, false)),
            ["/usr/lib/i386-linux-gnu/libz.so.1"]
        );
        assert!(cache.lookup("libnone.so", None).is_empty());
    }

    #[test]
    fn broken_caches_are_errors_not_panics() {
        let good = build(&[("a.so", "/lib/a.so", 0x0303, 0)]);
        assert!(LdCache::parse(b"not a cache").is_err());
        for cut in 0..good.len() {
            let _ = LdCache::parse(&good[..cut]);
        }
        let mut huge = good.clone();
        huge[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(LdCache::parse(&huge).is_err());
        let mut bad_offset = good.clone();
        bad_offset[NEW_HEADER + 4..NEW_HEADER + 8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(LdCache::parse(&bad_offset).is_err());
    }
}
