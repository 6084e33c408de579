//! Anything pare can read an image from: an image, or a root folder.

use oci_spec::image::{
    Arch, ConfigBuilder, ImageConfiguration, ImageConfigurationBuilder, Os, RootFs,
};

use crate::error::{Error, Result};
use crate::flatten::LayerChanges;
use crate::image::{Image, OpenOptions, Platform};
use crate::reference::ImageRef;
use crate::rootfs::{RootWarnings, read_root};
use std::borrow::Cow;
use std::collections::HashMap;

use crate::flatten::{CapturePredicate, Captured, Extracts, Flattener};
use crate::reference::read_bounded;
use crate::scan::{ContentScanner, Finding};
use crate::store::open_regular;
use crate::tree::{ContentId, DataSource, FileTree, NodeKind};

/// What to keep while flattening, besides the tree.
#[derive(Default)]
pub struct FlattenOptions {
    /// Files whose bytes to keep (metadata: package databases and such).
    pub capture: Option<Box<CapturePredicate>>,
    /// Scanners to run over the bytes of the files they pick.
    pub scanners: Vec<Box<dyn ContentScanner>>,
}

/// An opened source of files.
// One Source per run: boxing the larger variant would save nothing.
#[allow(clippy::large_enum_variant)]
pub enum Source {
    /// A real image with manifest, config and layers.
    Image(Image),
    /// A root folder (`dir:`): files only, a default config.
    Root {
        reference: ImageRef,
        config: ImageConfiguration,
    },
}

impl Source {
    /// Opens `reference`; nothing is read beyond metadata yet.
    pub fn open(reference: &ImageRef, platform: &Platform) -> Result<Self> {
        Source::open_with(
            reference,
            &OpenOptions {
                platform: platform.clone(),
                limits: Default::default(),
                progress: Default::default(),
                registry: Default::default(),
            },
        )
    }

    /// [`Source::open`] with explicit options (platform and limits).
    pub fn open_with(reference: &ImageRef, options: &OpenOptions) -> Result<Self> {
        let platform = &options.platform;
        match reference {
            ImageRef::Dir { path } => {
                let meta = std::fs::metadata(path).map_err(|e| Error::io(path.display(), e))?;
                if !meta.is_dir() {
                    return Err(Error::malformed(path.display().to_string(), "not a folder"));
                }
                Ok(Source::Root {
                    reference: reference.clone(),
                    config: default_config(platform),
                })
            }
            other => Ok(Source::Image(Image::open_with(other, options)?)),
        }
    }

    pub fn reference(&self) -> &ImageRef {
        match self {
            Source::Image(image) => &image.reference,
            Source::Root { reference, .. } => reference,
        }
    }

    pub fn config(&self) -> &ImageConfiguration {
        match self {
            Source::Image(image) => &image.config,
            Source::Root { config, .. } => config,
        }
    }

    /// The flattened tree; a root folder has no layers.
    pub fn flatten(&self) -> Result<Flattened> {
        self.flatten_with(FlattenOptions::default())
    }

    /// Flattens, keeping the bytes of the files `options.capture` picks so
    /// they can be read back with [`Flattened::read`] without another pass,
    /// and what `options.scanners` find in the files they pick.
    pub fn flatten_with(&self, options: FlattenOptions) -> Result<Flattened> {
        let FlattenOptions { capture, scanners } = options;
        match self {
            Source::Image(image) => {
                let mut flattener = Flattener::with_limits(image.limits.clone());
                if let Some(capture) = capture {
                    flattener = flattener.capturing(capture);
                }
                for scanner in scanners {
                    flattener = flattener.scanning(scanner);
                }
                image.apply_layers(&mut flattener)?;
                let (tree, layers, Extracts { captured, found }) = flattener.finish_with_extracts();
                Ok(Flattened {
                    tree,
                    layers,
                    warnings: RootWarnings::default(),
                    captured,
                    found,
                })
            }
            Source::Root { reference, .. } => {
                let ImageRef::Dir { path } = reference else {
                    unreachable!("a Root source is always dir:")
                };
                let (tree, mut warnings) = read_root(path)?;
                let found = scan_host_files(&tree, &scanners, &mut warnings);
                Ok(Flattened {
                    tree,
                    layers: Vec::new(),
                    warnings,
                    captured: HashMap::new(),
                    found,
                })
            }
        }
    }
}

/// What flattening produced.
pub struct Flattened {
    pub tree: FileTree,
    pub layers: Vec<LayerChanges>,
    pub warnings: RootWarnings,
    /// Captured file versions by content id (superseded ones included).
    pub captured: HashMap<ContentId, Captured>,
    /// What the scanners found, by content id (superseded files included).
    pub found: HashMap<ContentId, Vec<Finding>>,
}

/// Scans the host files of a root folder's tree (hardlinked files once).
/// Each scanner reads the file on its own, so it may read only parts of it.
fn scan_host_files(
    tree: &FileTree,
    scanners: &[Box<dyn ContentScanner>],
    warnings: &mut RootWarnings,
) -> HashMap<ContentId, Vec<Finding>> {
    let mut found: HashMap<ContentId, Vec<Finding>> = HashMap::new();
    let mut seen = std::collections::HashSet::new();
    for (path, node) in tree.iter() {
        let NodeKind::File(id) = node.kind else {
            continue;
        };
        let content = tree.content(id);
        let DataSource::Host(host) = &content.source else {
            continue;
        };
        if !seen.insert(id) {
            continue;
        }
        for scanner in scanners {
            let Some(scan) = scanner.start(&path, content.size, node.mode) else {
                continue;
            };
            // Files can vanish or turn unreadable under a live root: warn, go on.
            // ... or turn into a FIFO: opened without blocking, refused.
            let result = match open_regular(host) {
                Ok((file, _)) => scanner.scan_file(file, scan).map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match result {
                Ok(Some(finding)) => found.entry(id).or_default().push(finding),
                Ok(None) => {}
                Err(e) => warnings.unreadable.push((host.clone(), e)),
            }
        }
    }
    found
}

impl Flattened {
    /// The bytes of the regular file at `path` (symlinks followed inside
    /// the image): captured bytes for images, the file itself for root
    /// folders. `None` when there is no such file or it was not captured.
    pub fn read(&self, path: &str) -> Result<Option<Cow<'_, [u8]>>> {
        let Ok(Some(resolved)) = self.tree.resolve_id(path, true) else {
            return Ok(None);
        };
        let NodeKind::File(id) = &self.tree.node(resolved).kind else {
            return Ok(None);
        };
        if let Some(captured) = self.captured.get(id) {
            return Ok(Some(Cow::Borrowed(&captured.bytes)));
        }
        match &self.tree.content(*id).source {
            DataSource::Host(host) => {
                let (file, _) = open_regular(host)?;
                let bytes = read_bounded(
                    file,
                    crate::Limits::default().metadata_file_bytes,
                    &host.display().to_string(),
                )?;
                Ok(Some(Cow::Owned(bytes)))
            }
            DataSource::Layer { .. } => Ok(None),
        }
    }

    /// What a scanner of type `T`'s findings found in the file with
    /// content `id`.
    pub fn found<T: std::any::Any>(&self, id: ContentId) -> Option<&T> {
        self.found
            .get(&id)?
            .iter()
            .find_map(|f| f.downcast_ref::<T>())
    }

    /// Every captured version of files at `path`, oldest layer first.
    pub fn versions(&self, path: &str) -> Vec<&Captured> {
        let mut found: Vec<&Captured> = self.captured.values().filter(|c| c.path == path).collect();
        found.sort_by_key(|c| c.layer);
        found
    }
}

/// The config given to a root folder: the platform, nothing to run.
pub fn default_config(platform: &Platform) -> ImageConfiguration {
    ImageConfigurationBuilder::default()
        .architecture(Arch::from(platform.architecture.as_str()))
        .os(Os::from(platform.os.as_str()))
        .config(
            ConfigBuilder::default()
                .env(vec![
                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
                ])
                .build()
                .expect("all fields optional"),
        )
        .rootfs(RootFs::default())
        .build()
        .expect("all required fields set")
}
