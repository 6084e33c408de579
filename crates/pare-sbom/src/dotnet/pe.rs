//! The version resource (`VS_VERSIONINFO`) of a PE file, read as Syft 1.18
//! reads it: with saferwall/pe v1.5.6 (`file.go` `Parse`, `section.go`,
//! `helper.go` `GetOffsetFromRva`, `resource.go`
//! `doParseResourceDirectory`, `version.go` `ParseVersionResources`).
//!
//! The PE structures are `object`'s (`object::pe`, read with its
//! bounds-checked `pod` reads). The walk is written here because parity
//! is decided on the files saferwall reads oddly, and `object`'s own
//! readers (`PeFile`, `ResourceDirectory`) are right where saferwall is
//! not: saferwall reads a fixed 16-entry data directory whatever
//! `NumberOfRvaAndSizes` says, maps RVAs with its own alignment rounding,
//! stops a resource directory at its first null or unreadable entry, takes
//! only the first name under `RT_VERSION`, reads only the first string
//! table of a `StringFileInfo` (its loop guard ends the loop after one),
//! and finds a UTF-16 string's end at the first two zero bytes, aligned or
//! not. Each of these is mirrored below, with its source named.
//!
//! **Bounds.** Offsets are `u32` and wrap as Go's do, every read is checked
//! against the bytes held ([`Bytes`]), every loop ends: a resource
//! directory holds at most [`MAX_ENTRIES`] entries (saferwall's own
//! limit), the version walk's structure lengths are 16-bit so each loop
//! moves forward and is bounded by them, and all reads of one file
//! together may examine at most [`WORK_BYTES`]. Only the strings the
//! package rules read are kept ([`KEYS`]). One layout would make Syft loop
//! for ever (a string table of length 0 inside its `StringFileInfo`): pare
//! stops and reports it ([`Error::SyftLoops`]).

use std::collections::BTreeMap;

use object::pe::{
    ImageDosHeader, ImageFileHeader, ImageResourceDataEntry, ImageResourceDirectory,
    ImageResourceDirectoryEntry, ImageSectionHeader,
};
use object::pod::{Pod, from_bytes};
use object::{LittleEndian as LE, U16, U32};

/// saferwall's `TinyPESize`: a smaller file is no PE to it.
const TINY_PE: u64 = 97;
/// saferwall's `maxAllowedEntries`: a resource directory with more entries
/// is read as empty.
pub const MAX_ENTRIES: usize = 0x1000;
/// Bytes all reads of one file may examine (headers, tables, strings); a
/// real version resource needs a few KiB. Past it the file is not read.
pub const WORK_BYTES: u64 = 16 << 20;
/// `RT_VERSION`.
const RT_VERSION: u32 = 16;
/// The version strings the package rules and metadata read.
pub const KEYS: [&str; 10] = [
    "ProductName",
    "FileDescription",
    "InternalName",
    "OriginalFilename",
    "CompanyName",
    "ProductVersion",
    "FileVersion",
    "Assembly Version",
    "LegalCopyright",
    "Comments",
];

/// Why a PE file gives no version strings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Not a PE file, or one saferwall refuses (Syft: no package).
    #[error("not a PE file saferwall reads: {0}")]
    NotPe(&'static str),
    /// The version resource is malformed (Syft: no package).
    #[error("malformed version resource: {0}")]
    Malformed(&'static str),
    /// A read fell inside the file but outside the bytes pare kept.
    #[error("the version resource lies outside the {0} bytes pare reads of a PE file")]
    Clipped(u64),
    /// The reads went past [`WORK_BYTES`].
    #[error("the version resource needs more than {WORK_BYTES} bytes of reading")]
    TooCostly,
    /// saferwall's string-table loop would never end on this file.
    #[error("a string table of length 0: Syft 1.18 never finishes reading this file")]
    SyftLoops,
    /// saferwall indexes an empty list here: the Go panic fails Syft
    /// 1.18's whole run (exit 1, no SBOM).
    #[error("an RT_VERSION entry without a name directory: Syft 1.18 fails its whole scan on it")]
    SyftPanics,
}

/// The bytes of a file pare holds: its head and one window further on.
/// A read is served from either; outside both it fails like a read past
/// the end of the file (and is remembered when it was inside the file).
#[derive(Clone, Copy)]
pub struct Bytes<'a> {
    /// The file's length.
    pub len: u64,
    /// Bytes from offset 0.
    pub head: &'a [u8],
    /// Where `window` starts in the file.
    pub window_at: u64,
    pub window: &'a [u8],
}

/// Reads with saferwall's bounds rule, counting the bytes examined.
struct Reader<'a> {
    bytes: Bytes<'a>,
    work: u64,
    clipped: bool,
}

impl<'a> Reader<'a> {
    /// saferwall's `ReadBytesAtOffset`: `size` bytes at `offset`, `None`
    /// outside the file (or outside what pare holds).
    fn read(&mut self, offset: u32, size: u32) -> Result<Option<&'a [u8]>, Error> {
        // Every read costs its bytes, and one for itself (so that empty
        // reads in a loop count too).
        self.work += 1;
        if self.work > WORK_BYTES {
            return Err(Error::TooCostly);
        }
        let end = offset.wrapping_add(size);
        if (end > offset) != (size > 0) {
            return Ok(None);
        }
        let (offset, end) = (u64::from(offset), u64::from(end));
        if offset >= self.bytes.len || end > self.bytes.len {
            return Ok(None);
        }
        self.work += end - offset;
        if self.work > WORK_BYTES {
            return Err(Error::TooCostly);
        }
        let (o, e) = (offset as usize, end as usize);
        if e <= self.bytes.head.len() {
            return Ok(Some(&self.bytes.head[o..e]));
        }
        let at = self.bytes.window_at;
        if offset >= at && end - at <= self.bytes.window.len() as u64 {
            return Ok(Some(
                &self.bytes.window[(offset - at) as usize..(end - at) as usize],
            ));
        }
        self.clipped = true;
        Ok(None)
    }

    fn pod<T: Pod>(&mut self, offset: u32) -> Result<Option<&'a T>, Error> {
        let size = std::mem::size_of::<T>() as u32;
        Ok(self
            .read(offset, size)?
            .and_then(|b| from_bytes::<T>(b).ok())
            .map(|(t, _)| t))
    }

    fn u16(&mut self, offset: u32) -> Result<Option<u16>, Error> {
        Ok(self.pod::<U16<LE>>(offset)?.map(|v| v.get(LE)))
    }

    fn u32(&mut self, offset: u32) -> Result<Option<u32>, Error> {
        Ok(self.pod::<U32<LE>>(offset)?.map(|v| v.get(LE)))
    }
}

/// One section header, as the RVA mapping needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Section {
    virtual_size: u32,
    virtual_address: u32,
    size_of_raw_data: u32,
    pointer_to_raw_data: u32,
}

/// What saferwall's `Parse` keeps that the version walk needs.
#[derive(Debug, Clone)]
pub struct Layout {
    len: u32,
    file_alignment: u32,
    section_alignment: u32,
    /// Sorted by virtual address, as saferwall sorts them.
    sections: Vec<Section>,
    /// The resource data directory's RVA (0: none).
    pub resource_rva: u32,
}

/// The size of saferwall's optional header structs (fixed data
/// directory of 16 entries included), and where the resource directory's
/// entry sits in them.
const OPT32: (u32, u32) = (224, 96 + 2 * 8);
const OPT64: (u32, u32) = (240, 112 + 2 * 8);

/// saferwall's `Parse` up to the data directories: DOS header, NT
/// headers, section table.
pub fn layout(bytes: Bytes<'_>) -> Result<Layout, Error> {
    let mut r = Reader {
        bytes,
        work: 0,
        clipped: false,
    };
    let held = (bytes.head.len() + bytes.window.len()) as u64;
    match read_layout(&mut r) {
        Err(Error::NotPe(_)) if r.clipped => Err(Error::Clipped(held)),
        other => other,
    }
}

fn read_layout(r: &mut Reader<'_>) -> Result<Layout, Error> {
    if r.bytes.len < TINY_PE {
        return Err(Error::NotPe("shorter than 97 bytes"));
    }
    let len = u32::try_from(r.bytes.len).map_err(|_| Error::NotPe("over 4 GiB"))?;
    let dos = r
        .pod::<ImageDosHeader>(0)?
        .ok_or(Error::NotPe("no DOS header"))?;
    if !matches!(dos.e_magic.get(LE), 0x5a4d | 0x4d5a) {
        return Err(Error::NotPe("no MZ signature"));
    }
    let nt = dos.e_lfanew.get(LE);
    if nt < 4 || nt > len {
        return Err(Error::NotPe("e_lfanew out of the file"));
    }
    let signature = r.u32(nt)?.ok_or(Error::NotPe("no NT headers"))?;
    if signature != 0x0000_4550 {
        return Err(Error::NotPe("no PE signature"));
    }
    let file_header_at = nt.wrapping_add(4);
    let file_header = r
        .pod::<ImageFileHeader>(file_header_at)?
        .ok_or(Error::NotPe("no file header"))?;
    let optional_at = file_header_at.wrapping_add(20);
    let magic = r
        .u16(optional_at)?
        .ok_or(Error::NotPe("no optional header"))?;
    let ((size, resource_at), is64) = match magic {
        0x10b => (OPT32, false),
        0x20b => (OPT64, true),
        _ => return Err(Error::NotPe("unknown optional header magic")),
    };
    let optional = r
        .read(optional_at, size)?
        .ok_or(Error::NotPe("optional header out of the file"))?;
    let u32_at = |o: usize| u32::from_le_bytes(optional[o..o + 4].try_into().unwrap());
    let image_base_aligned = if is64 {
        u64::from_le_bytes(optional[24..32].try_into().unwrap()) % 0x10000 == 0
    } else {
        u32_at(28) % 0x10000 == 0
    };
    if !image_base_aligned {
        return Err(Error::NotPe("image base not 64 KiB aligned"));
    }
    let mut layout = Layout {
        len,
        section_alignment: u32_at(32),
        file_alignment: u32_at(36),
        sections: Vec::new(),
        resource_rva: u32_at(resource_at as usize),
    };
    // saferwall's `ParseSectionHeader`: a section with three anomalies
    // ends the table; an unreadable header fails the file.
    let mut at = optional_at.wrapping_add(u32::from(file_header.size_of_optional_header.get(LE)));
    for _ in 0..file_header.number_of_sections.get(LE) {
        let h = r
            .pod::<ImageSectionHeader>(at)?
            .ok_or(Error::NotPe("section table out of the file"))?;
        let s = Section {
            virtual_size: h.virtual_size.get(LE),
            virtual_address: h.virtual_address.get(LE),
            size_of_raw_data: h.size_of_raw_data.get(LE),
            pointer_to_raw_data: h.pointer_to_raw_data.get(LE),
        };
        let anomalies = [
            is_all_zero(h),
            s.size_of_raw_data.wrapping_add(s.pointer_to_raw_data) > len,
            layout.adjust_file(s.pointer_to_raw_data) > len,
            s.virtual_size > 0x1000_0000,
            layout.adjust_section(s.virtual_address) > 0x1000_0000,
            layout.file_alignment != 0
                && !s.pointer_to_raw_data.is_multiple_of(layout.file_alignment),
        ];
        if anomalies.iter().filter(|a| **a).count() >= 3 {
            break;
        }
        layout.sections.push(s);
        at = at.wrapping_add(40);
    }
    layout.sections.sort_by_key(|s| s.virtual_address);
    Ok(layout)
}

fn is_all_zero(h: &ImageSectionHeader) -> bool {
    object::pod::bytes_of(h).iter().all(|b| *b == 0)
}

impl Layout {
    /// saferwall's `adjustFileAlignment`.
    fn adjust_file(&self, va: u32) -> u32 {
        if self.file_alignment < 0x200 {
            va
        } else {
            (va / 0x200) * 0x200
        }
    }

    /// saferwall's `adjustSectionAlignment`.
    fn adjust_section(&self, va: u32) -> u32 {
        let alignment = if self.section_alignment < 0x1000 {
            self.file_alignment
        } else {
            self.section_alignment
        };
        if alignment != 0 && !va.is_multiple_of(alignment) {
            alignment * (va / alignment)
        } else {
            va
        }
    }

    /// saferwall's `Section.Contains`.
    fn contains(&self, i: usize, rva: u32) -> bool {
        let s = &self.sections[i];
        let pointer = self.adjust_file(s.pointer_to_raw_data);
        let mut size = if self.len.wrapping_sub(pointer) < s.size_of_raw_data {
            s.virtual_size
        } else {
            s.size_of_raw_data.max(s.virtual_size)
        };
        let va = self.adjust_section(s.virtual_address);
        // `NextHeaderAddr`: the next section (by address) of the first one
        // with this header; none for the last.
        let first = self.sections.iter().position(|o| o == s).unwrap_or(i);
        let next = self
            .sections
            .get(first + 1)
            .filter(|_| first + 1 < self.sections.len())
            .map_or(0, |n| n.virtual_address);
        if next != 0 && next > s.virtual_address && va.wrapping_add(size) > next {
            size = next.wrapping_sub(va);
        }
        va <= rva && rva < va.wrapping_add(size)
    }

    /// saferwall's `GetOffsetFromRva`.
    pub fn offset_of(&self, rva: u32) -> u32 {
        match (0..self.sections.len()).find(|i| self.contains(*i, rva)) {
            Some(i) => {
                let s = &self.sections[i];
                rva.wrapping_sub(self.adjust_section(s.virtual_address))
                    .wrapping_add(self.adjust_file(s.pointer_to_raw_data))
            }
            None if rva < self.len => rva,
            None => u32::MAX,
        }
    }
}

/// saferwall's `alignDword`.
fn align_dword(offset: u32, base: u32) -> u32 {
    (offset.wrapping_add(base).wrapping_add(3) & 0xffff_fffc).wrapping_sub(base & 0xffff_fffc)
}

/// saferwall's `DecodeUTF16String`: up to the first two zero bytes (at
/// any alignment), plus one byte, decoded as UTF-16 with a byte-order mark
/// honoured (little-endian without one; an odd last byte and unpaired
/// surrogates become U+FFFD, as `golang.org/x/text` decodes); no two zero
/// bytes at all gives "".
pub fn decode_utf16(b: &[u8]) -> String {
    let Some(n) = b.windows(2).position(|w| w == [0, 0]) else {
        return String::new();
    };
    if n == 0 {
        return String::new();
    }
    let mut text = &b[..n + 1];
    let mut big_endian = false;
    if text.starts_with(&[0xff, 0xfe]) {
        text = &text[2..];
    } else if text.starts_with(&[0xfe, 0xff]) {
        text = &text[2..];
        big_endian = true;
    }
    let units = text.chunks_exact(2).map(|c| {
        if big_endian {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_le_bytes([c[0], c[1]])
        }
    });
    let mut out: String = char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    if !text.len().is_multiple_of(2) {
        out.push(char::REPLACEMENT_CHARACTER);
    }
    out
}

/// One directory entry as saferwall keeps it.
enum Entry {
    /// A sub-directory; its entries when it was read.
    Dir {
        id: u32,
        entries: Option<Vec<Entry>>,
    },
    /// A data entry: (RVA of the data, size); zeros when unreadable.
    Data { id: u32, rva: u32, size: u32 },
}

/// The three levels of a resource tree (type, name, language), and what
/// the version walk reads of each.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    /// Every entry; the sub-directory of each `RT_VERSION` entry.
    Types,
    /// The first entry only (saferwall's `e.Directory.Entries[0]`), and its
    /// sub-directory.
    Names,
    /// Every entry; no sub-directory (a directory here is no version data).
    Languages,
}

/// saferwall's `doParseResourceDirectory` for the directory at `rva`,
/// reading only what the version walk needs at `level`. `dirs` is
/// saferwall's list of directories met on the way (the root, ancestors and
/// earlier siblings): an entry pointing at one of them ends the directory.
/// What a sub-directory adds to the list its parent does not see (Go
/// appends to its own copy of the slice).
fn directory(
    r: &mut Reader<'_>,
    layout: &Layout,
    rva: u32,
    base: u32,
    dirs: &mut Vec<u32>,
    level: Level,
) -> Result<Option<Vec<Entry>>, Error> {
    let Some(table) = r.pod::<ImageResourceDirectory>(layout.offset_of(rva))? else {
        return Ok(None);
    };
    let count = usize::from(table.number_of_named_entries.get(LE))
        + usize::from(table.number_of_id_entries.get(LE));
    if count > MAX_ENTRIES {
        return Ok(Some(Vec::new()));
    }
    let mut entries = Vec::new();
    let mut at = rva.wrapping_add(16);
    for i in 0..count {
        let Some(e) = r.pod::<ImageResourceDirectoryEntry>(layout.offset_of(at))? else {
            break;
        };
        let (name, data) = (e.name_or_id.get(LE), e.offset_to_data_or_directory.get(LE));
        if name == 0 && data == 0 {
            break;
        }
        let id = if name & 0x8000_0000 == 0 {
            name
        } else {
            // The name's length must be readable; the name itself is not
            // needed.
            let at = layout.offset_of(base.wrapping_add(name & 0x7fff_ffff));
            if r.u16(at)?.is_none() {
                break;
            }
            0
        };
        let target = base.wrapping_add(data & 0x7fff_ffff);
        if data & 0x8000_0000 != 0 {
            if dirs.contains(&target) {
                break;
            }
            dirs.push(target);
            let below = match level {
                Level::Types if id == RT_VERSION => Some(Level::Names),
                Level::Names => Some(Level::Languages),
                _ => None,
            };
            let entries_below = match below {
                Some(below) => {
                    let mark = dirs.len();
                    let read = directory(r, layout, target, base, dirs, below)?;
                    dirs.truncate(mark);
                    // An unreadable sub-directory is an empty one.
                    Some(read.unwrap_or_default())
                }
                None => None,
            };
            entries.push(Entry::Dir {
                id,
                entries: entries_below,
            });
        } else {
            let (rva, size) = match r.pod::<ImageResourceDataEntry>(layout.offset_of(target))? {
                Some(d) => (d.offset_to_data.get(LE), d.size.get(LE)),
                None => (0, 0),
            };
            entries.push(Entry::Data { id, rva, size });
        }
        if level == Level::Names && i == 0 {
            break;
        }
        at = at.wrapping_add(8);
    }
    Ok(Some(entries))
}

/// The version strings of a PE file ([`KEYS`] only), merged over every
/// language's version resource as saferwall merges them (a later one
/// overwrites). An empty map when the file has no version resource.
pub fn version_strings(bytes: Bytes<'_>) -> Result<BTreeMap<String, String>, Error> {
    let held = (bytes.head.len() + bytes.window.len()) as u64;
    let layout = layout(bytes)?;
    let mut r = Reader {
        bytes,
        work: 0,
        clipped: false,
    };
    let result = read_versions(&mut r, &layout);
    match result {
        Err(e @ (Error::TooCostly | Error::SyftLoops | Error::SyftPanics)) => Err(e),
        _ if r.clipped => Err(Error::Clipped(held)),
        other => other,
    }
}

fn read_versions(r: &mut Reader<'_>, layout: &Layout) -> Result<BTreeMap<String, String>, Error> {
    let mut found = BTreeMap::new();
    let root = layout.resource_rva;
    if root == 0 {
        return Ok(found);
    }
    let mut dirs = vec![root];
    let Some(types) = directory(r, layout, root, root, &mut dirs, Level::Types)? else {
        return Ok(found);
    };
    for t in types {
        let names = match t {
            Entry::Dir {
                id: RT_VERSION,
                entries,
            } => entries.unwrap_or_default(),
            Entry::Data { id: RT_VERSION, .. } => Vec::new(),
            _ => continue,
        };
        let languages = match names.into_iter().next() {
            None => return Err(Error::SyftPanics),
            Some(Entry::Dir { entries, .. }) => entries.unwrap_or_default(),
            Some(Entry::Data { .. }) => Vec::new(),
        };
        for language in languages {
            let (rva, size) = match language {
                Entry::Data { rva, size, .. } => (rva, size),
                Entry::Dir { .. } => (0, 0),
            };
            version_entry(r, layout, rva, size, &mut found)?;
        }
    }
    Ok(found)
}

/// saferwall's `parseVersionEntry` for the data at `rva` (`size` bytes).
fn version_entry(
    r: &mut Reader<'_>,
    layout: &Layout,
    rva: u32,
    size: u32,
    found: &mut BTreeMap<String, String>,
) -> Result<(), Error> {
    let base = rva;
    let fo = layout.offset_of(rva);
    // parseVersionInfo
    let info = r
        .read(fo, size)?
        .ok_or(Error::Malformed("version data outside the file"))?;
    if info.len() < 6 {
        return Err(Error::Malformed("version data shorter than its header"));
    }
    let info_length = u16::from_le_bytes([info[0], info[1]]);
    let value_length = u16::from_le_bytes([info[2], info[3]]);
    let key = r
        .read(fo.wrapping_add(6), u32::from(value_length))?
        .ok_or(Error::Malformed("VS_VERSION_INFO key outside the file"))?;
    if decode_utf16(key) != "VS_VERSION_INFO" {
        return Err(Error::Malformed("no VS_VERSION_INFO key"));
    }
    // parseFixedFileInfo
    let fixed = align_dword(fo.wrapping_add(6 + 31), base);
    let signature = r
        .u32(fixed)?
        .ok_or(Error::Malformed("VS_FIXEDFILEINFO outside the file"))?;
    if r.read(fixed, 52)?.is_none() {
        return Err(Error::Malformed("VS_FIXEDFILEINFO outside the file"));
    }
    if signature != 0xFEEF_04BD {
        return Err(Error::Malformed("bad VS_FIXEDFILEINFO signature"));
    }
    let mut offset = align_dword(6 + 31 + 52, base);
    loop {
        // parseStringFileInfo
        let at = align_dword(fo.wrapping_add(offset), base);
        let Some(header) = r.read(at, 6)? else { break };
        let block_length = u16::from_le_bytes([header[0], header[1]]);
        let Some(name) = r.read(at.wrapping_add(6), 29)? else {
            break;
        };
        if block_length == 0 {
            break;
        }
        if decode_utf16(name) == "StringFileInfo" {
            string_table(
                r,
                fo,
                base,
                offset.wrapping_add(6 + 29),
                block_length,
                found,
            )?;
        }
        offset = offset.wrapping_add(u32::from(block_length));
        if offset >= u32::from(info_length) {
            break;
        }
    }
    Ok(())
}

/// The string tables of one `StringFileInfo` at `table_offset` (relative
/// to the version data at file offset `fo`).
fn string_table(
    r: &mut Reader<'_>,
    fo: u32,
    base: u32,
    table_offset: u32,
    block_length: u16,
    found: &mut BTreeMap<String, String>,
) -> Result<(), Error> {
    // parseStringTable
    let at = align_dword(fo.wrapping_add(table_offset), base);
    let Some(header) = r.read(at, 6)? else {
        return Ok(());
    };
    let table_length = u16::from_le_bytes([header[0], header[1]]);
    let Some(lang) = r.read(at.wrapping_add(6), 17)? else {
        return Ok(());
    };
    if decode_utf16(lang).len() != 8 {
        return Ok(());
    }
    let end = table_offset.wrapping_add(u32::from(table_length));
    let mut string_offset = align_dword(table_offset.wrapping_add(6 + 17), base);
    while string_offset < end {
        // parseString
        let unaligned = fo.wrapping_add(string_offset);
        let at = align_dword(unaligned, base);
        let padding = at.wrapping_sub(unaligned) as u16;
        let Some(header) = r.read(at, 6)? else { break };
        let length = u16::from_le_bytes([header[0], header[1]]);
        let value_length = u16::from_le_bytes([header[2], header[3]]);
        let Some(key) = r.read(at.wrapping_add(6), 100)? else {
            break;
        };
        let key = decode_utf16(key);
        let value_at = align_dword(
            ((2 * (key.len() + 1)) as u32)
                .wrapping_add(at)
                .wrapping_add(6),
            base,
        );
        let value_size = 2u16.wrapping_mul(value_length.wrapping_add(1));
        let Some(value) = r.read(value_at, u32::from(value_size))? else {
            break;
        };
        if KEYS.contains(&key.as_str()) {
            found.insert(key, decode_utf16(value));
        }
        let step = length.wrapping_add(padding);
        string_offset = if step == 0 {
            end
        } else {
            string_offset.wrapping_add(u32::from(step))
        };
    }
    // saferwall's loop guard: after one table the loop ends, unless the
    // table's length is 0 and it starts within the block, where the loop
    // reads the same table again for ever.
    if u32::from(table_length).wrapping_add(table_offset) > table_offset
        || table_offset > u32::from(block_length)
    {
        Ok(())
    } else {
        Err(Error::SyftLoops)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::dotnet::pe_build::{Version, pe_with_blocks, version_block};

    fn whole(file: &[u8]) -> Bytes<'_> {
        Bytes {
            len: file.len() as u64,
            head: file,
            window_at: 0,
            window: &[],
        }
    }

    fn read(file: &[u8]) -> Result<BTreeMap<String, String>, Error> {
        version_strings(whole(file))
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const MONO: &[(&str, &str)] = &[
        ("Comments", "System.dll"),
        ("CompanyName", "Mono development team"),
        ("FileDescription", "System.dll"),
        ("FileVersion", "4.6.57.0"),
        ("InternalName", "System"),
        ("LegalCopyright", "(c) Various Mono authors"),
        ("OriginalFilename", "System.dll"),
        ("ProductName", "Mono Common Language Infrastructure"),
        ("ProductVersion", "4.6.57.0"),
    ];

    fn put16(file: &mut [u8], at: usize, v: u16) {
        file[at..at + 2].copy_from_slice(&v.to_le_bytes());
    }

    fn put32(file: &mut [u8], at: usize, v: u32) {
        file[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    #[test]
    fn well_formed_files_table() {
        let two_languages = pe_with_blocks(
            &[
                version_block(&Version::strings(&[
                    ("ProductName", "en"),
                    ("FileVersion", "1"),
                ])),
                version_block(&Version::strings(&[("ProductName", "es")])),
            ],
            false,
        )
        .0;
        let two_tables = version_block(&Version {
            tables: vec![
                (
                    "040904b0".into(),
                    vec![("ProductName".into(), "first".into())],
                ),
                (
                    "040704b0".into(),
                    vec![("ProductName".into(), "second".into())],
                ),
            ],
            var_file_info: false,
        });
        let table: Vec<(&str, Vec<u8>, BTreeMap<String, String>)> = vec![
            (
                "PE32",
                pe_with_blocks(&[version_block(&Version::strings(MONO))], false).0,
                map(MONO),
            ),
            (
                "PE32+",
                pe_with_blocks(&[version_block(&Version::strings(MONO))], true).0,
                map(MONO),
            ),
            (
                "a later language overwrites an earlier one",
                two_languages,
                map(&[("ProductName", "es"), ("FileVersion", "1")]),
            ),
            (
                "only the first string table is read (saferwall's loop guard)",
                pe_with_blocks(&[two_tables], false).0,
                map(&[("ProductName", "first")]),
            ),
            (
                "keys the rules do not read are not kept; empty values are",
                pe_with_blocks(
                    &[version_block(&Version::strings(&[
                        ("LegalTrademarks", "x"),
                        ("ProductName", ""),
                    ]))],
                    false,
                )
                .0,
                map(&[("ProductName", "")]),
            ),
            (
                "no string file info",
                pe_with_blocks(
                    &[version_block(&Version {
                        tables: vec![],
                        var_file_info: true,
                    })],
                    false,
                )
                .0,
                map(&[]),
            ),
            ("no languages", pe_with_blocks(&[], false).0, map(&[])),
        ];
        for (case, file, want) in table {
            assert_eq!(read(&file), Ok(want), "{case}");
        }
    }

    /// A valid file broken in one place, and what Syft's reader makes of
    /// it (each row names the saferwall behaviour it pins).
    #[test]
    fn hostile_files_table() {
        let (good, at) = pe_with_blocks(&[version_block(&Version::strings(MONO))], false);
        let block = at.blocks[0];
        let rsrc = at.resources;
        // Offsets inside the block: StringFileInfo at 92, its table at 128
        // (header 6 + "StringFileInfo\0" 30 = 36 → 128), first String at 152.
        let (sfi, table, first) = (block + 92, block + 128, block + 152);
        type Mutate = Box<dyn Fn(&mut Vec<u8>)>;
        let rows: Vec<(&str, Mutate, Result<usize, Error>)> = vec![
            ("untouched", Box::new(|_| {}), Ok(MONO.len())),
            (
                "no MZ",
                Box::new(|f| f[0] = b'X'),
                Err(Error::NotPe("no MZ signature")),
            ),
            (
                "e_lfanew past the end",
                Box::new(|f| put32(f, 0x3c, u32::MAX)),
                Err(Error::NotPe("e_lfanew out of the file")),
            ),
            (
                "image base not 64 KiB aligned",
                Box::new(|f| put32(f, 0x80 + 24 + 28, 0x1000_0001)),
                Err(Error::NotPe("image base not 64 KiB aligned")),
            ),
            (
                "no resource directory",
                Box::new(|f| put32(f, 0x80 + 24 + 96 + 16, 0)),
                Ok(0),
            ),
            (
                "VS_VERSION_INFO value length 0",
                Box::new(move |f| put16(f, block + 2, 0)),
                Err(Error::Malformed("no VS_VERSION_INFO key")),
            ),
            (
                "fixed file info signature",
                Box::new(move |f| f[block + 40] ^= 0xff),
                Err(Error::Malformed("bad VS_FIXEDFILEINFO signature")),
            ),
            (
                "data entry size past the end",
                Box::new(move |f| put32(f, rsrc + 16 * 3 + 8 * 3 + 4, u32::MAX)),
                Err(Error::Malformed("version data outside the file")),
            ),
            (
                "StringFileInfo length 0: nothing read",
                Box::new(move |f| put16(f, sfi, 0)),
                Ok(0),
            ),
            (
                "string table length 0: Syft never finishes",
                Box::new(move |f| put16(f, table, 0)),
                Err(Error::SyftLoops),
            ),
            (
                "language id not 8 characters",
                Box::new(move |f| f[table + 6] = 0),
                Ok(0),
            ),
            (
                "a string's length 0: the table ends there",
                Box::new(move |f| put16(f, first, 0)),
                Ok(1),
            ),
            (
                "a string's value length past the end: the table ends there",
                Box::new(move |f| put16(f, first + 2, 0x7ffe)),
                Ok(0),
            ),
            (
                "value length 0x7fff: 2 * (0x7fff + 1) wraps to 0 in 16 bits, an empty value",
                Box::new(move |f| put16(f, first + 2, 0x7fff)),
                Ok(MONO.len()),
            ),
            (
                "directory with more entries than saferwall allows",
                Box::new(move |f| put16(f, rsrc + 14, 0x1001)),
                Ok(0),
            ),
            (
                "RT_VERSION as a data entry: Syft's cataloger panics",
                Box::new(move |f| put32(f, rsrc + 16 + 4, 16 * 3 + 8 * 3)),
                Err(Error::SyftPanics),
            ),
            (
                "name directory pointing back at the root: Syft panics",
                Box::new(move |f| put32(f, rsrc + 16 + 8 + 16 + 4, 0x8000_0000)),
                Err(Error::SyftPanics),
            ),
            (
                "language entry pointing back at a directory: read as no data",
                Box::new(move |f| put32(f, rsrc + 2 * (16 + 8) + 16 + 4, 0x8000_0000 | 24)),
                Ok(0),
            ),
            (
                "a null entry ends the root directory",
                Box::new(move |f| {
                    put32(f, rsrc + 16, 0);
                    put32(f, rsrc + 20, 0);
                }),
                Ok(0),
            ),
        ];
        for (case, mutate, want) in rows {
            let mut file = good.clone();
            mutate(&mut file);
            let got = read(&file).map(|m| m.len());
            // Malformed version data is an error only when saferwall's
            // `parseVersionInfo`/`parseFixedFileInfo` fail; later problems
            // end a loop and keep what was read.
            assert_eq!(got, want, "{case}");
        }
    }

    #[test]
    fn truncated_files_never_panic() {
        let (good, _) = pe_with_blocks(&[version_block(&Version::strings(MONO))], true);
        for len in 0..good.len() {
            let _ = read(&good[..len]);
        }
        assert_eq!(read(&good).map(|m| m.len()), Ok(MONO.len()));
    }

    /// Many language entries naming one large block: the reads stop at
    /// the work bound instead of reading it thousands of times.
    #[test]
    fn repeated_blocks_stop_at_the_work_bound() {
        let long = "x".repeat(30_000);
        let block = version_block(&Version::strings(&[
            ("Comments", &long),
            ("ProductName", "p"),
        ]));
        let few = crate::dotnet::pe_build::pe_with_languages(&block, 4);
        assert_eq!(read(&few).map(|m| m.len()), Ok(2));
        let many = crate::dotnet::pe_build::pe_with_languages(&block, MAX_ENTRIES);
        assert_eq!(read(&many), Err(Error::TooCostly));
    }

    #[test]
    fn utf16_strings_end_as_saferwall_finds_their_end() {
        let table: &[(&[u8], &str)] = &[
            (b"A\0B\0\0\0", "AB"),
            (b"\0\0A\0", ""),
            (b"A\0B\0", ""),
            // The two zero bytes straddle characters: `A` then U+0100's
            // low byte end it.
            (b"A\0\0\x01\0\0", "A"),
            // An even end leaves an odd byte: U+FFFD.
            (b"A\x01\0\0", "\u{141}\u{fffd}"),
            (b"\xff\xfeA\0\0\0", "A"),
            // Big-endian after its mark; the zero pair's first byte is
            // `A`'s high byte, so an odd byte is left.
            (b"\xfe\xff\0A\0\0", "A\u{fffd}"),
            (b"\0\xd8A\0\0\0", "\u{fffd}A"),
        ];
        for (bytes, want) in table {
            assert_eq!(decode_utf16(bytes), *want, "{bytes:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any byte of a valid file changed, and the file cut anywhere: the
        /// reader ends, without a panic, within its work bound.
        #[test]
        fn mutated_files_never_panic(
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
            cut in any::<prop::sample::Index>(),
            pe64 in any::<bool>(),
        ) {
            let (mut file, _) = pe_with_blocks(&[version_block(&Version::strings(MONO))], pe64);
            for (at, byte) in flips {
                let i = at.index(file.len());
                file[i] = byte;
            }
            let len = cut.index(file.len() + 1);
            let _ = read(&file[..len]);
        }

        /// Random words written into the resource section (where lengths
        /// and offsets live) rather than anywhere.
        #[test]
        fn mutated_resource_sections_never_panic(
            words in proptest::collection::vec((0usize..1024, any::<u16>()), 1..16),
        ) {
            let (mut file, at) = pe_with_blocks(&[version_block(&Version::strings(MONO))], false);
            for (offset, word) in words {
                let i = (at.resources + offset * 2).min(file.len() - 2);
                put16(&mut file, i, word);
            }
            let _ = read(&file);
        }
    }
}
