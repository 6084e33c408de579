//! rpm's "new database" (ndb) `Packages.db`, the default on SUSE since rpm
//! 4.16: a slot table naming where each package's header blob is.
//!
//! Hand-written because no Rust crate reads it, and the format is small.
//! Its only documentation is rpm's own source (`lib/backend/ndb/rpmpkg.c`)
//! and the summary in go-rpmdb (`pkg/ndb/ndb.go`, which Syft uses); this
//! follows that layout, all little-endian:
//!
//! - a 32-byte header: magic `RpmP`, format version 0, a generation
//!   number, the count of 4 KiB slot pages, four reserved words;
//! - the slot pages, from offset 0 (the header takes the first two 16-byte
//!   slots of the first page): each slot is magic `Slot`, the package
//!   index (0 for a free slot), and the offset and length of the package's
//!   block, both in 16-byte units;
//! - each block: a 16-byte blob header (magic `BlbS`, the package index
//!   again, an Adler-32 checksum, the blob's length), the blob (an rpm
//!   header, read by [`super::parse_header`]), a tail.
//!
//! Bounds: at most go-rpmdb's 2048 slot pages; every block inside the file
//! and inside the length its slot gives; blocks may not overlap, so the
//! blobs together never hold more bytes than the file (a hostile file with
//! every slot naming the same large block would otherwise multiply it).
//! The checksum is not verified (neither go-rpmdb nor Syft does).

/// The file's first four bytes.
pub const MAGIC: &[u8; 4] = b"RpmP";
const SLOT_MAGIC: &[u8; 4] = b"Slot";
const BLOB_MAGIC: &[u8; 4] = b"BlbS";
const HEADER_SIZE: usize = 32;
const SLOT_SIZE: usize = 16;
const PAGE_SIZE: usize = 4096;
const BLOCK_SIZE: usize = 16;
/// go-rpmdb's limit (about 524 000 slots, far above any real database).
const MAX_SLOT_PAGES: usize = 2048;

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(s))
}

/// One used slot.
struct Slot {
    package: u32,
    /// Where the block starts and how long it is, in bytes.
    start: usize,
    len: usize,
}

/// Every package header blob of an ndb database, in slot order.
pub fn values(db: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if !db.starts_with(MAGIC) {
        return Err("not an rpm ndb database".into());
    }
    let version = u32_at(db, 4).ok_or("truncated ndb header")?;
    if version != 0 {
        return Err(format!("ndb format version {version} is not supported"));
    }
    let pages = u32_at(db, 12).ok_or("truncated ndb header")? as usize;
    if pages == 0 || pages > MAX_SLOT_PAGES {
        return Err(format!(
            "{pages} slot pages (1 to {MAX_SLOT_PAGES} expected)"
        ));
    }
    let table_end = pages * PAGE_SIZE;
    let table = db
        .get(HEADER_SIZE..table_end)
        .ok_or("the slot table runs past the end of the file")?;
    let mut slots = Vec::new();
    for (i, slot) in table.chunks_exact(SLOT_SIZE).enumerate() {
        if &slot[0..4] != SLOT_MAGIC {
            return Err(format!("slot {i}: bad magic"));
        }
        let package = u32_at(slot, 4).ok_or("bad slot")?;
        if package == 0 {
            continue;
        }
        let offset = u32_at(slot, 8).ok_or("bad slot")? as usize;
        let count = u32_at(slot, 12).ok_or("bad slot")? as usize;
        let (Some(start), Some(len)) = (
            offset.checked_mul(BLOCK_SIZE),
            count.checked_mul(BLOCK_SIZE),
        ) else {
            return Err(format!("slot {i}: block out of range"));
        };
        if start < table_end || start.checked_add(len).is_none_or(|end| end > db.len()) {
            return Err(format!(
                "slot {i} (package {package}): block outside the file's data"
            ));
        }
        slots.push(Slot {
            package,
            start,
            len,
        });
    }
    // Blocks in file order must not overlap.
    let mut order: Vec<&Slot> = slots.iter().collect();
    order.sort_by_key(|s| s.start);
    for pair in order.windows(2) {
        if pair[0].start + pair[0].len > pair[1].start {
            return Err(format!(
                "the blocks of packages {} and {} overlap: refused",
                pair[0].package, pair[1].package
            ));
        }
    }
    let mut out = Vec::with_capacity(slots.len());
    for slot in &slots {
        let block = &db[slot.start..slot.start + slot.len];
        let package = slot.package;
        if block.get(0..4) != Some(&BLOB_MAGIC[..]) {
            return Err(format!("package {package}: bad blob magic"));
        }
        if u32_at(block, 4) != Some(package) {
            return Err(format!(
                "package {package}: its block names another package"
            ));
        }
        let len = u32_at(block, 12).ok_or("truncated blob header")? as usize;
        let blob = block
            .get(BLOCK_SIZE..BLOCK_SIZE.saturating_add(len))
            .ok_or_else(|| format!("package {package}: blob longer than its block"))?;
        out.push(blob.to_vec());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ndb database holding `blobs` (one slot page), as rpm lays it out.
    fn database(blobs: &[&[u8]]) -> Vec<u8> {
        let mut db = vec![0u8; PAGE_SIZE];
        db[0..4].copy_from_slice(MAGIC);
        db[12..16].copy_from_slice(&1u32.to_le_bytes());
        for slot in db[HEADER_SIZE..].chunks_exact_mut(SLOT_SIZE) {
            slot[0..4].copy_from_slice(SLOT_MAGIC);
        }
        for (i, blob) in blobs.iter().enumerate() {
            let start = db.len();
            let blocks = (16 + blob.len() + 16).div_ceil(BLOCK_SIZE);
            let at = HEADER_SIZE + i * SLOT_SIZE;
            db[at + 4..at + 8].copy_from_slice(&(i as u32 + 1).to_le_bytes());
            db[at + 8..at + 12].copy_from_slice(&((start / BLOCK_SIZE) as u32).to_le_bytes());
            db[at + 12..at + 16].copy_from_slice(&(blocks as u32).to_le_bytes());
            db.extend_from_slice(BLOB_MAGIC);
            db.extend_from_slice(&(i as u32 + 1).to_le_bytes());
            db.extend_from_slice(&0u32.to_le_bytes());
            db.extend_from_slice(&(blob.len() as u32).to_le_bytes());
            db.extend_from_slice(blob);
            db.resize(start + blocks * BLOCK_SIZE, 0);
        }
        db
    }

    fn set(db: &mut [u8], at: usize, value: u32) {
        db[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }

    #[test]
    fn blobs_come_back_in_slot_order() {
        let db = database(&[b"first blob", b"second, longer blob"]);
        assert_eq!(
            values(&db).unwrap(),
            [b"first blob".to_vec(), b"second, longer blob".to_vec()]
        );
    }

    #[test]
    fn hostile_databases_are_refused_not_followed() {
        let good = database(&[b"aaaaaaaaaaaaaaaaaaaa", b"bbbb"]);
        const SLOT0: usize = HEADER_SIZE;
        const SLOT1: usize = HEADER_SIZE + SLOT_SIZE;
        type Edit = fn(&mut Vec<u8>);
        let cases: &[(&str, Edit, &str)] = &[
            ("not ndb", |d| d[0] = b'X', "not an rpm ndb"),
            ("other version", |d| set(d, 4, 1), "version 1"),
            ("no slot pages", |d| set(d, 12, 0), "0 slot pages"),
            (
                "too many slot pages",
                |d| set(d, 12, 4096),
                "4096 slot pages",
            ),
            ("slot table past the end", |d| set(d, 12, 2), "past the end"),
            ("bad slot magic", |d| d[SLOT1 + 1] = 0, "slot 1: bad magic"),
            (
                "block past the end",
                |d| set(d, SLOT0 + 12, 1 << 20),
                "outside the file",
            ),
            (
                "block inside the slot table",
                |d| set(d, SLOT0 + 8, 4),
                "outside the file",
            ),
            (
                "two slots naming one block",
                |d| {
                    let first = u32_at(d, SLOT0 + 8).unwrap();
                    set(d, SLOT1 + 8, first);
                },
                "overlap",
            ),
            (
                "offset overflowing",
                |d| set(d, SLOT0 + 8, u32::MAX),
                "outside the file",
            ),
            (
                "blob magic",
                |d| {
                    let at = u32_at(d, SLOT0 + 8).unwrap() as usize * BLOCK_SIZE;
                    d[at] = b'X';
                },
                "bad blob magic",
            ),
            (
                "blob of another package",
                |d| {
                    let at = u32_at(d, SLOT0 + 8).unwrap() as usize * BLOCK_SIZE;
                    set(d, at + 4, 7);
                },
                "names another package",
            ),
            (
                "blob longer than its block",
                |d| {
                    let at = u32_at(d, SLOT0 + 8).unwrap() as usize * BLOCK_SIZE;
                    set(d, at + 12, u32::MAX);
                },
                "longer than its block",
            ),
            ("truncated header", |d| d.truncate(10), "truncated"),
        ];
        assert_eq!(values(&good).unwrap().len(), 2);
        for (name, edit, want) in cases {
            let mut db = good.clone();
            edit(&mut db);
            let got = values(&db);
            assert!(
                got.as_ref().is_err_and(|e| e.contains(want)),
                "{name}: {got:?}"
            );
        }
    }

    /// go-rpmdb's real SLE 15 database (tests/data/README.md): its 35
    /// packages, as go-rpmdb's `SLE15WithNDB` test case lists them.
    #[test]
    fn a_real_suse_database_is_read_in_full() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/syft-fixtures/rpm/go-rpmdb/sle15-bci/Packages.db"
        );
        let db = std::fs::read(path).unwrap();
        let headers: Vec<super::super::Header> = values(&db)
            .unwrap()
            .iter()
            .map(|b| super::super::parse_header(b).unwrap())
            .collect();
        assert_eq!(headers.len(), 35);
        let nevra = |name: &str| {
            let h = headers.iter().find(|h| h.name == name).unwrap();
            (h.version.as_str(), h.release.as_str(), h.arch.as_str())
        };
        assert_eq!(headers[0].name, "system-user-root");
        assert_eq!(nevra("glibc"), ("2.31", "9.3.2", "x86_64"));
        assert_eq!(nevra("bash"), ("4.4", "19.6.1", "x86_64"));
        assert_eq!(nevra("system-user-root"), ("20190513", "3.3.1", "noarch"));
    }

    #[test]
    fn free_slots_are_skipped() {
        let mut db = database(&[b"kept", b"freed"]);
        set(&mut db, HEADER_SIZE + SLOT_SIZE + 4, 0);
        assert_eq!(values(&db).unwrap(), [b"kept".to_vec()]);
    }
}
