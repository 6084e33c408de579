//! Anything pare can read an image from: an image, or a root folder.

use oci_spec::image::{
    Arch, ConfigBuilder, ImageConfiguration, ImageConfigurationBuilder, Os, RootFs,
};

use crate::error::{Error, Result};
use crate::flatten::LayerChanges;
use crate::image::{Image, Platform};
use crate::reference::ImageRef;
use crate::rootfs::{RootWarnings, read_root};
use crate::tree::FileTree;

/// An opened source of files.
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
            other => Ok(Source::Image(Image::open(other, platform)?)),
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

    /// The flattened tree; a root folder counts as one layer.
    pub fn flatten(&self) -> Result<Flattened> {
        match self {
            Source::Image(image) => {
                let (tree, layers) = image.flatten()?;
                Ok(Flattened {
                    tree,
                    layers,
                    warnings: RootWarnings::default(),
                })
            }
            Source::Root { reference, .. } => {
                let ImageRef::Dir { path } = reference else {
                    unreachable!("a Root source is always dir:")
                };
                let (tree, warnings) = read_root(path)?;
                Ok(Flattened {
                    tree,
                    layers: Vec::new(),
                    warnings,
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
