//! # pare-elf
//!
//! What a dynamically linked program loads, worked out the way glibc's
//! dynamic loader does it, inside an image root and never on the host:
//!
//! * [`elf`]: the loader's view of an ELF file (`PT_INTERP`, `DT_NEEDED`,
//!   `DT_RPATH`, `DT_RUNPATH`, `DT_SONAME`), read from a bounded prefix of
//!   the file so layers can be streamed;
//! * [`ldcache`], the reader of `etc/ld.so.cache`;
//! * [`image`]: those headers read while an image's layers stream past,
//!   and the image as the loader's root;
//! * [`search`]: the search order and the closure of an entry point, with
//!   every symlink on the way and the reason each file is kept.

pub mod elf;
pub mod image;
pub mod ldcache;
pub mod ldconf;
pub mod search;

pub use elf::{ElfError, ElfInfo, Parsed, parse, parse_prefix};
pub use ldcache::LdCache;
pub use search::{Closure, Loader, Missing, Reason, Root};
