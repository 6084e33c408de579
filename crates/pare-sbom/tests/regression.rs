//! Regression tests for hostile package databases (issue 10). The hostile
//! inputs are built here.

use std::time::{Duration, Instant};

use pare_sbom::rpm;

const PAGE: usize = 512;
const HEADER: usize = 26;

/// A Berkeley DB hash database (little-endian, 512-byte pages) of `pages`
/// pages after the metadata page; each page is filled by the caller.
fn database(pages: &[Vec<u8>]) -> Vec<u8> {
    let mut meta = vec![0u8; PAGE];
    meta[12..16].copy_from_slice(&0x0006_1561u32.to_le_bytes());
    meta[20..24].copy_from_slice(&(PAGE as u32).to_le_bytes());
    let mut db = meta;
    for p in pages {
        assert_eq!(p.len(), PAGE);
        db.extend_from_slice(p);
    }
    db
}

/// A hash page holding (key, value) pairs of raw items.
fn hash_page(items: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut page = vec![0u8; PAGE];
    page[25] = 13; // P_HASH
    page[20..22].copy_from_slice(&((items.len() * 2) as u16).to_le_bytes());
    let mut at = PAGE;
    for (i, (key, value)) in items.iter().enumerate() {
        for (k, item) in [(2 * i, key), (2 * i + 1, value)] {
            at -= item.len();
            page[at..at + item.len()].copy_from_slice(item);
            let index = HEADER + 2 * k;
            page[index..index + 2].copy_from_slice(&(at as u16).to_le_bytes());
        }
    }
    assert!(HEADER + 4 * items.len() <= at, "page overfull");
    page
}

fn key(n: u32) -> Vec<u8> {
    let mut item = vec![1u8];
    item.extend(n.to_le_bytes());
    item
}

/// An off-page value: `total` bytes starting on overflow page `first`.
fn offpage(first: u32, total: u32) -> Vec<u8> {
    let mut item = vec![3u8, 0, 0, 0];
    item.extend(first.to_le_bytes());
    item.extend(total.to_le_bytes());
    item
}

/// An overflow page holding `data`, followed by page `next` (0: the end).
fn overflow_page(data: &[u8], next: u32) -> Vec<u8> {
    let mut page = vec![0u8; PAGE];
    page[25] = 7; // P_OVERFLOW
    page[16..20].copy_from_slice(&next.to_le_bytes());
    page[22..24].copy_from_slice(&(data.len() as u16).to_le_bytes());
    page[HEADER..HEADER + data.len()].copy_from_slice(data);
    page
}

#[test]
fn an_overflow_chain_is_assembled_once() {
    // One value of 1000 bytes over three overflow pages (pages 2, 3, 4).
    let value: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
    let db = database(&[
        hash_page(&[(key(1), offpage(2, 1000))]),
        overflow_page(&value[..486], 3),
        overflow_page(&value[486..972], 4),
        overflow_page(&value[972..], 0),
    ]);
    assert_eq!(rpm::values(&db).unwrap(), [value]);
}

#[test]
fn one_overflow_chain_shared_by_every_item_is_refused_in_linear_time() {
    // Every item of 60 hash pages points at the same 400-page chain: a
    // 235 KiB file that would have assembled about 23 * 60 * 400 * 486
    // bytes (270 MB), quadratic in its size. Each overflow page may now
    // belong to one value only.
    let hash_pages = 60;
    let chain = 400u32;
    let first = hash_pages as u32 + 1;
    let total = chain * 486;
    let items: Vec<_> = (0..23).map(|n| (key(n), offpage(first, total))).collect();
    let mut pages: Vec<Vec<u8>> = (0..hash_pages).map(|_| hash_page(&items)).collect();
    for n in 0..chain {
        let next = if n + 1 == chain { 0 } else { first + n + 1 };
        pages.push(overflow_page(&[0x55; 486], next));
    }
    let db = database(&pages);
    let started = Instant::now();
    let error = rpm::values(&db).unwrap_err();
    assert!(error.contains("reached twice"), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn an_overflow_chain_that_loops_is_refused() {
    let db = database(&[
        hash_page(&[(key(1), offpage(2, 100_000))]),
        overflow_page(&[1; 100], 3),
        overflow_page(&[2; 100], 2),
    ]);
    let error = rpm::values(&db).unwrap_err();
    assert!(error.contains("reached twice"), "{error}");
}

#[test]
fn on_page_values_overlapping_beyond_the_file_size_are_refused() {
    // Each value item spans from its own offset to the previous item's:
    // offsets that do not decrease make every value cover most of the
    // page again, so a page could yield about page_size² / 4 bytes.
    let mut page = vec![0u8; PAGE];
    page[25] = 13;
    let entries = 200u16;
    page[20..22].copy_from_slice(&entries.to_le_bytes());
    for i in 0..entries as usize {
        // Keys (even) end the page, values (odd) start at byte 430.
        let offset: u16 = if i % 2 == 0 { PAGE as u16 } else { 430 };
        let index = HEADER + 2 * i;
        page[index..index + 2].copy_from_slice(&offset.to_le_bytes());
    }
    page[430] = 1; // H_KEYDATA
    let db = database(&[page.clone(), page]);
    let error = rpm::values(&db).unwrap_err();
    assert!(
        error.contains("more bytes than the database holds"),
        "{error}"
    );
}

/// An rpm header blob: index entries (tag, type, offset, count), then the
/// store.
fn rpm_header(entries: &[(u32, u32, u32, u32)], store: &[u8]) -> Vec<u8> {
    let mut blob = Vec::new();
    blob.extend((entries.len() as u32).to_be_bytes());
    blob.extend((store.len() as u32).to_be_bytes());
    for (tag, kind, offset, count) in entries {
        for v in [tag, kind, offset, count] {
            blob.extend(v.to_be_bytes());
        }
    }
    blob.extend_from_slice(store);
    blob
}

#[test]
fn rpm_header_repeating_a_string_array_tag_is_read_once() {
    // 20,000 BASENAMES entries, each an array of 100,000 empty strings over
    // the same store: 2·10⁹ strings before the fix, 10⁵ now.
    let mut store = b"bash\0".to_vec();
    store.resize(100_005, 0);
    let mut entries = vec![(1000, 6, 0, 1)];
    entries.extend((0..20_000).map(|_| (1117, 8, 5, 100_000)));
    let blob = rpm_header(&entries, &store);
    let started = Instant::now();
    let header = rpm::parse_header(&blob).unwrap();
    assert_eq!(header.name, "bash");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn rpm_header_with_more_tags_than_rpm_allows_is_refused() {
    let mut blob = rpm_header(&[], &[]);
    blob[..4].copy_from_slice(&0x10001u32.to_be_bytes());
    blob.resize(8 + 16 * 0x10001, 0);
    let error = rpm::parse_header(&blob).unwrap_err();
    assert!(error.contains("over rpm's own limit"), "{error}");
}

#[test]
fn apk_line_with_a_multibyte_key_is_not_a_panic() {
    // `€:x` has its `:` at byte 3: slicing the value at byte 2 panicked.
    for line in ["€:x", "é:x", "😀:x"] {
        let text = format!("P:musl\nV:1.2.4-r2\n{line}\nR:libc.so\n\n");
        let mut warnings = Vec::new();
        let packages = pare_sbom::apk::parse(&text, None, &mut warnings);
        assert_eq!(packages.len(), 1, "{line}");
        assert_eq!(packages[0].files, ["/libc.so"], "{line}");
    }
}

#[test]
fn go_vcs_revision_that_is_not_ascii_is_not_a_panic() {
    // The pseudo-version keeps the revision's first 12 bytes: byte 12 of
    // "a€€€€" lies inside the fourth "€".
    let modinfo = "path\tex.com/a\nmod\tex.com/a\t(devel)\t\n\
                   build\tvcs.revision=a€€€€\nbuild\tvcs.time=2023-01-02T03:04:05Z\n";
    let go = pare_sbom::executables::GoEmbedded {
        go_version: "go1.22.0".into(),
        modinfo: modinfo.into(),
        legacy: false,
        version_in_contents: None,
    };
    let packages = pare_sbom::golang::packages(&go, "/bin/a", None);
    let main = packages.iter().find(|p| p.name == "ex.com/a").unwrap();
    assert_eq!(main.version, "v0.0.0-20230102030405-a€€€");
}
