//! # pare-image
//!
//! The ground floor of pare: naming images (`docker-archive:`, `oci:`,
//! `oci-archive:`, `dir:` …), opening them without trusting them (every blob
//! checked against its digest while it streams), flattening their layers
//! into the [`FileTree`] a container would see without extracting anything,
//! and writing images back out atomically.
//!
//! ```no_run
//! use pare_image::{ImageRef, Platform, Source};
//! let source = Source::open(&ImageRef::parse("dir:/")?, &Platform::default())?;
//! let flat = source.flatten()?;
//! println!("{} files", flat.tree.non_dir_count());
//! # Ok::<(), pare_image::Error>(())
//! ```

pub mod compression;
mod daemon;
pub mod digest;
mod docker_archive;
pub mod error;
pub mod flatten;
mod gzip;
pub mod image;
pub mod inspect;
pub mod limits;
mod oci;
pub mod paths;
pub mod pgzip;
mod pipe;
pub mod progress;
pub mod reference;
mod registry;
pub mod rootfs;
pub mod scan;
pub mod source;
pub mod spool;
pub mod store;
mod targuard;
pub mod tree;
pub mod write;

/// pare-registry's test servers (Debian's `docker-registry` on loopback).
#[cfg(test)]
#[path = "../../pare-registry/tests/support/mod.rs"]
mod registry_support;
#[cfg(test)]
mod testutil;

pub use compression::Compression;
pub use digest::Digest;
pub use error::{Error, Result};
pub use flatten::LayerChanges;
pub use image::{Image, Layer, OpenOptions, Platform};
pub use limits::Limits;
pub use progress::{Progress, ProgressSink};
pub use reference::ImageRef;
pub use registry::RegistryOptions;
pub use source::{Flattened, Source};
pub use tree::{Content, DataSource, FileTree, Node, NodeKind};
