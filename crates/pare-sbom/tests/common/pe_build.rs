//! Builds small PE files with a version resource, as the Windows resource
//! compiler and the C# compiler lay them out (`VS_VERSIONINFO` with a
//! `VS_FIXEDFILEINFO`, a `StringFileInfo` of string tables, a
//! `VarFileInfo`; a resource tree of type → name → language): the .NET
//! cataloger's unit tests (through `#[path]`) and the Syft parity tests
//! use the same files. Layouts are Microsoft's documented ones
//! (`VS_VERSIONINFO`, `StringFileInfo`, `String`, `IMAGE_RESOURCE_*`).

#![allow(dead_code)]

/// One version resource: string tables (language-codepage such as
/// `040904b0`, then key/value pairs), and whether a `VarFileInfo` follows.
#[derive(Clone, Debug)]
pub struct Version {
    pub tables: Vec<(String, Vec<(String, String)>)>,
    pub var_file_info: bool,
}

impl Version {
    /// One US-English table of these strings, and a `VarFileInfo`.
    pub fn strings(pairs: &[(&str, &str)]) -> Version {
        Version {
            tables: vec![(
                "040904b0".into(),
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )],
            var_file_info: true,
        }
    }
}

fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain([0])
        .flat_map(|u| u.to_le_bytes())
        .collect()
}

fn pad4(b: &mut Vec<u8>) {
    while !b.len().is_multiple_of(4) {
        b.push(0);
    }
}

/// One version structure: header (`wLength`, `wValueLength`, `wType`),
/// key, padding, value, padding, children (each after padding).
fn node(key: &str, value: &[u8], value_length: u16, text: bool, children: &[Vec<u8>]) -> Vec<u8> {
    let mut b = vec![0u8; 6];
    b.extend(utf16z(key));
    pad4(&mut b);
    b.extend_from_slice(value);
    for child in children {
        pad4(&mut b);
        b.extend_from_slice(child);
    }
    let length = b.len() as u16;
    b[0..2].copy_from_slice(&length.to_le_bytes());
    b[2..4].copy_from_slice(&value_length.to_le_bytes());
    b[4..6].copy_from_slice(&u16::from(text).to_le_bytes());
    b
}

/// A `VS_VERSIONINFO` block.
pub fn version_block(v: &Version) -> Vec<u8> {
    let mut fixed = Vec::new();
    for word in [
        0xFEEF_04BDu32,
        0x0001_0000,
        0x0001_0000,
        0,
        0x0001_0000,
        0,
        0x3f,
        0,
        0x4,
        0x2,
        0,
        0,
        0,
    ] {
        fixed.extend(word.to_le_bytes());
    }
    let tables: Vec<Vec<u8>> = v
        .tables
        .iter()
        .map(|(lang, pairs)| {
            let strings: Vec<Vec<u8>> = pairs
                .iter()
                .map(|(k, val)| {
                    let value = utf16z(val);
                    node(k, &value, (value.len() / 2) as u16, true, &[])
                })
                .collect();
            node(lang, &[], 0, true, &strings)
        })
        .collect();
    let mut children = vec![node("StringFileInfo", &[], 0, true, &tables)];
    if v.var_file_info {
        let translation = node("Translation", &[0x09, 0x04, 0xb0, 0x04], 4, false, &[]);
        children.push(node("VarFileInfo", &[], 0, true, &[translation]));
    }
    node("VS_VERSION_INFO", &fixed, 52, false, &children)
}

/// Where things are in a built file, for tests that corrupt them.
#[derive(Clone, Debug, Default)]
pub struct Offsets {
    /// File offset of the resource directory (start of `.rsrc`).
    pub resources: usize,
    /// File offset of each language's version block.
    pub blocks: Vec<usize>,
}

const FILE_ALIGNMENT: usize = 0x200;
const RSRC_RVA: u32 = 0x2000;

/// A PE32 (or PE32+) DLL with one `.rsrc` section holding `blocks` as
/// `RT_VERSION` resource 1, one language each (0x409, 0x40a, ...).
pub fn pe_with_blocks(blocks: &[Vec<u8>], pe64: bool) -> (Vec<u8>, Offsets) {
    pe_with_blocks_after(blocks, pe64, 0)
}

/// [`pe_with_blocks`] with `gap` bytes (rounded up to the file alignment)
/// between the headers and the resource section, as a big `.text` would
/// leave.
pub fn pe_with_blocks_after(blocks: &[Vec<u8>], pe64: bool, gap: usize) -> (Vec<u8>, Offsets) {
    let languages: Vec<usize> = (0..blocks.len()).collect();
    build(blocks, &languages, pe64, gap)
}

/// One block named by `languages` language entries (a resource tree no
/// compiler writes: the reader's work bound is tested with it).
pub fn pe_with_languages(block: &[u8], languages: usize) -> Vec<u8> {
    build(&[block.to_vec()], &vec![0; languages], false, 0).0
}

/// The file: `languages[i]` is the block language entry `i` names.
fn build(blocks: &[Vec<u8>], languages: &[usize], pe64: bool, gap: usize) -> (Vec<u8>, Offsets) {
    let raw_at = FILE_ALIGNMENT + gap.div_ceil(FILE_ALIGNMENT) * FILE_ALIGNMENT;
    // The resource section: root (1 entry), name (1 entry), language
    // (n entries) directories, data entries, then the blocks.
    let n = blocks.len();
    let dir = |count: usize| 16 + 8 * count;
    let names_at = dir(1);
    let langs_at = names_at + dir(1);
    let data_at = langs_at + dir(languages.len());
    let mut blocks_at = data_at + 16 * n;
    blocks_at = (blocks_at + 3) & !3;
    let mut rsrc = vec![0u8; blocks_at];
    let mut put_dir = |at: usize, entries: &[(u32, u32)]| {
        rsrc[at + 14..at + 16].copy_from_slice(&(entries.len() as u16).to_le_bytes());
        for (i, (id, off)) in entries.iter().enumerate() {
            let e = at + 16 + 8 * i;
            rsrc[e..e + 4].copy_from_slice(&id.to_le_bytes());
            rsrc[e + 4..e + 8].copy_from_slice(&off.to_le_bytes());
        }
    };
    put_dir(0, &[(16, 0x8000_0000 | names_at as u32)]);
    put_dir(names_at, &[(1, 0x8000_0000 | langs_at as u32)]);
    let langs: Vec<(u32, u32)> = languages
        .iter()
        .enumerate()
        .map(|(i, block)| (0x409 + i as u32, (data_at + 16 * block) as u32))
        .collect();
    put_dir(langs_at, &langs);
    let mut offsets = Offsets::default();
    let mut placed = Vec::new();
    for block in blocks {
        let at = rsrc.len();
        placed.push((at, block.len()));
        rsrc.extend_from_slice(block);
        pad4(&mut rsrc);
    }
    for (i, (at, len)) in placed.iter().enumerate() {
        let e = data_at + 16 * i;
        rsrc[e..e + 4].copy_from_slice(&(RSRC_RVA + *at as u32).to_le_bytes());
        rsrc[e + 4..e + 8].copy_from_slice(&(*len as u32).to_le_bytes());
        offsets.blocks.push(raw_at + at);
    }
    offsets.resources = raw_at;
    let raw_size = rsrc.len().div_ceil(FILE_ALIGNMENT) * FILE_ALIGNMENT;

    let mut f = vec![0u8; FILE_ALIGNMENT];
    f[0..2].copy_from_slice(b"MZ");
    f[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
    let pe = 0x80;
    f[pe..pe + 4].copy_from_slice(b"PE\0\0");
    let fh = pe + 4;
    let optional_size: u16 = if pe64 { 240 } else { 224 };
    f[fh..fh + 2].copy_from_slice(&(if pe64 { 0x8664u16 } else { 0x14c }).to_le_bytes());
    f[fh + 2..fh + 4].copy_from_slice(&1u16.to_le_bytes());
    f[fh + 16..fh + 18].copy_from_slice(&optional_size.to_le_bytes());
    f[fh + 18..fh + 20].copy_from_slice(&0x2102u16.to_le_bytes());
    let oh = fh + 20;
    let put32 =
        |f: &mut Vec<u8>, at: usize, v: u32| f[at..at + 4].copy_from_slice(&v.to_le_bytes());
    f[oh..oh + 2].copy_from_slice(&(if pe64 { 0x20bu16 } else { 0x10b }).to_le_bytes());
    if pe64 {
        f[oh + 24..oh + 32].copy_from_slice(&0x1_8000_0000u64.to_le_bytes());
    } else {
        put32(&mut f, oh + 28, 0x1000_0000);
    }
    put32(&mut f, oh + 32, 0x2000); // SectionAlignment
    put32(&mut f, oh + 36, FILE_ALIGNMENT as u32);
    f[oh + 40..oh + 42].copy_from_slice(&4u16.to_le_bytes()); // OS version
    f[oh + 48..oh + 50].copy_from_slice(&4u16.to_le_bytes()); // subsystem version
    put32(&mut f, oh + 56, RSRC_RVA + 0x2000); // SizeOfImage
    put32(&mut f, oh + 60, FILE_ALIGNMENT as u32); // SizeOfHeaders
    f[oh + 68..oh + 70].copy_from_slice(&3u16.to_le_bytes()); // console
    let dirs = if pe64 { oh + 112 } else { oh + 96 };
    put32(&mut f, dirs - 4, 16); // NumberOfRvaAndSizes
    put32(&mut f, dirs + 16, RSRC_RVA);
    put32(&mut f, dirs + 20, rsrc.len() as u32);
    let sh = oh + optional_size as usize;
    f[sh..sh + 8].copy_from_slice(b".rsrc\0\0\0");
    put32(&mut f, sh + 8, rsrc.len() as u32);
    put32(&mut f, sh + 12, RSRC_RVA);
    put32(&mut f, sh + 16, raw_size as u32);
    put32(&mut f, sh + 20, raw_at as u32);
    put32(&mut f, sh + 36, 0x4000_0040);
    rsrc.resize(raw_size, 0);
    f.resize(raw_at, 0);
    f.extend_from_slice(&rsrc);
    (f, offsets)
}

/// A PE32 DLL whose version resource holds these strings.
pub fn pe_with_strings(pairs: &[(&str, &str)]) -> Vec<u8> {
    pe_with_blocks(&[version_block(&Version::strings(pairs))], false).0
}
