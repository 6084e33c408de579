//! # pare-daemon
//!
//! The two Docker Engine API calls pare needs, `docker save` (`GET
//! /images/{name}/get`) and `docker load` (`POST /images/load`), as a small
//! synchronous client over [`bollard`]. pare reads and writes images with
//! blocking `Read`/`Write`; this crate owns the one Tokio runtime that
//! bollard needs and bridges the streams, so no other crate sees async.
//!
//! What the Engine does, and why the API is shaped this way (measured on
//! Engine 20.10 and read in moby's sources; see
//! `docs/research/docker-daemon-and-registry.md`):
//! - A save arrives in the order of a hash (v1 id, diff_id or compressed
//!   digest), never base to top, and on the legacy store only after the
//!   daemon has written the whole export to its own temporary folder. The
//!   caller therefore receives the archive as a stream into a `Write` and
//!   decides where it goes.
//! - The response headers of a save or a load come only after the daemon
//!   did the whole job, so bollard's request timeout (which covers the time
//!   to headers) is raised to hours and pare applies its own idle timeout
//!   between chunks instead.
//! - A load answers 200 even when it fails: the failure is a JSON line in
//!   the body. It is turned into [`Error::Load`] here. A load whose request
//!   body stops half-way loads and tags nothing.
//!
//! `DOCKER_HOST` is honoured (`unix://` and `tcp://`; TLS and `ssh://` are
//! not built in). Docker contexts are not read, as bollard does not.

use std::io::{Read, Write};
use std::time::Duration;

use bollard::Docker;
use bollard::query_parameters::{ImportImageOptions, TagImageOptions};
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::runtime::Runtime;

/// What can go wrong talking to the Engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No Engine answers at the configured address.
    #[error("no Docker Engine answers at {host}: {cause}")]
    NoEngine { host: String, cause: String },
    /// The Engine has no image by that name.
    #[error("the Docker Engine at {host} has no image {name:?}")]
    NotFound { host: String, name: String },
    /// The Engine refused a request or broke off a response.
    #[error("the Docker Engine at {host} refused {what}: {message}")]
    Engine {
        host: String,
        what: String,
        message: String,
    },
    /// The Engine reported a failed load.
    #[error("the Docker Engine at {host} did not load the image: {message}")]
    Load { host: String, message: String },
    /// Nothing arrived for longer than the idle timeout.
    #[error("the Docker Engine at {host} sent nothing for {seconds} s while {what}")]
    Idle {
        host: String,
        what: String,
        seconds: u64,
    },
    /// A save grew past the caller's bound.
    #[error("the export of {name:?} from the Docker Engine passed {limit} bytes")]
    TooLarge { name: String, limit: u64 },
    /// Writing the export, or reading what is loaded, failed.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

/// How long the Engine may stay silent (no chunk of a save, no line of a
/// load's answer) before pare gives up. The first chunk of a save on the
/// legacy store comes only after the whole export is written daemon-side,
/// so this is generous.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(30 * 60);

/// Bytes per chunk of a load's request body.
const LOAD_CHUNK: usize = 256 * 1024;

/// An image as the Engine describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageInfo {
    /// The image ID (`sha256:` + the config's digest).
    pub id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    /// The diff_ids of its layers, base first.
    pub diff_ids: Vec<String>,
}

/// A connected Engine.
pub struct Engine {
    runtime: Runtime,
    docker: Docker,
    host: String,
    idle: Duration,
}

impl Engine {
    /// Connects to the Engine `DOCKER_HOST` names (default the unix socket
    /// `/var/run/docker.sock`), checks that it answers and agrees on an API
    /// version with it (bollard's newest version is refused by older
    /// Engines such as 20.10, which speaks 1.41).
    pub fn connect() -> Result<Engine> {
        let host = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "unix:///var/run/docker.sock".to_string());
        let no_engine = |cause: String| Error::NoEngine {
            host: host.clone(),
            cause,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| no_engine(format!("cannot start an I/O runtime: {e}")))?;
        let docker = Docker::connect_with_defaults()
            .map_err(|e| no_engine(one_line(&e)))?
            // Saves and loads send their headers only when the Engine has
            // done the whole job; the idle timeout below bounds them instead.
            .with_timeout(Duration::from_secs(24 * 3600));
        let docker = runtime.block_on(async {
            tokio::time::timeout(Duration::from_secs(30), async {
                docker.ping().await?;
                docker.negotiate_version().await
            })
            .await
        });
        let docker = match docker {
            Ok(Ok(docker)) => docker,
            Ok(Err(e)) => return Err(no_engine(one_line(&e))),
            Err(_) => return Err(no_engine("no answer within 30 s".into())),
        };
        Ok(Engine {
            runtime,
            docker,
            host,
            idle: DEFAULT_IDLE,
        })
    }

    /// Sets how long the Engine may stay silent during a save or a load.
    pub fn with_idle_timeout(mut self, idle: Duration) -> Self {
        self.idle = idle;
        self
    }

    /// Where the Engine is, as `DOCKER_HOST` names it.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Describes image `name` (`NAME[:TAG]`, `NAME@DIGEST` or an ID).
    pub fn inspect(&self, name: &str) -> Result<ImageInfo> {
        let found = self
            .runtime
            .block_on(self.docker.inspect_image(name))
            .map_err(|e| self.request_error(name, "inspecting the image", e))?;
        Ok(ImageInfo {
            id: found.id.unwrap_or_default(),
            repo_tags: found.repo_tags.unwrap_or_default(),
            repo_digests: found.repo_digests.unwrap_or_default(),
            diff_ids: found.root_fs.and_then(|r| r.layers).unwrap_or_default(),
        })
    }

    /// Streams `docker save NAME` into `out`; returns the bytes written.
    /// `progress` is called with the running total after every chunk. A
    /// save past `limit` bytes is cut off with [`Error::TooLarge`].
    pub fn export(
        &self,
        name: &str,
        out: &mut dyn Write,
        limit: u64,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64> {
        self.runtime.block_on(async {
            let mut stream = self.docker.export_image(name);
            let mut total = 0u64;
            loop {
                let next = tokio::time::timeout(self.idle, stream.next())
                    .await
                    .map_err(|_| self.idle_error("exporting the image"))?;
                let chunk = match next {
                    None => break,
                    Some(chunk) => chunk.map_err(|e| self.request_error(name, "the export", e))?,
                };
                total += chunk.len() as u64;
                if total > limit {
                    return Err(Error::TooLarge {
                        name: name.to_string(),
                        limit,
                    });
                }
                out.write_all(&chunk).map_err(|source| Error::Io {
                    what: format!("writing the export of {name:?}"),
                    source,
                })?;
                progress(total);
            }
            Ok(total)
        })
    }

    /// Streams a `docker save` archive from `archive` into `docker load`.
    /// Returns the Engine's lines (`Loaded image: NAME:TAG`). `progress`
    /// gets the bytes sent so far. A read error stops the request body, so
    /// the Engine loads nothing.
    pub fn load(
        &self,
        archive: Box<dyn Read + Send>,
        progress: Box<dyn FnMut(u64) + Send>,
    ) -> Result<Vec<String>> {
        // The body comes from a plain thread reading `archive`: the runtime
        // has one thread and must not block on file reads.
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(8);
        let reader = std::thread::spawn(move || feed(archive, sender, progress));
        let body = futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx));
        let options = ImportImageOptions {
            quiet: true,
            platform: None,
        };
        let answer = self.runtime.block_on(async {
            let mut stream = self.docker.import_image_stream(options, body, None);
            let mut lines = Vec::new();
            loop {
                let next = tokio::time::timeout(self.idle, stream.next())
                    .await
                    .map_err(|_| self.idle_error("loading the image"))?;
                match next {
                    None => break,
                    Some(Ok(info)) => {
                        if let Some(error) = info.error_detail.and_then(|d| d.message) {
                            return Err(self.load_error(error));
                        }
                        if let Some(line) = info.stream {
                            let line = line.trim();
                            if !line.is_empty() {
                                lines.push(line.to_string());
                            }
                        }
                    }
                    Some(Err(bollard::errors::Error::DockerStreamError { error })) => {
                        return Err(self.load_error(error));
                    }
                    Some(Err(e)) => return Err(self.request_error("", "the load", e)),
                }
            }
            Ok(lines)
        });
        // The reader's own error names what could not be read; it explains
        // a failed request better than the transport's view of it.
        let read = reader.join().unwrap_or_else(|_| {
            Err(std::io::Error::other(
                "the thread reading the archive panicked",
            ))
        });
        if let Err(source) = read {
            return Err(Error::Io {
                what: "reading the archive to load".into(),
                source,
            });
        }
        let lines = answer?;
        if !lines.iter().any(|l| l.starts_with("Loaded image")) {
            return Err(self.load_error(format!(
                "it reported no loaded image ({})",
                if lines.is_empty() {
                    "no answer".to_string()
                } else {
                    lines.join("; ")
                }
            )));
        }
        Ok(lines)
    }

    /// Tags image `id` as `repo:tag`.
    pub fn tag(&self, id: &str, repo: &str, tag: &str) -> Result<()> {
        let options = TagImageOptions {
            repo: Some(repo.to_string()),
            tag: Some(tag.to_string()),
        };
        self.runtime
            .block_on(self.docker.tag_image(id, Some(options)))
            .map_err(|e| self.request_error(id, "tagging the image", e))
    }

    fn idle_error(&self, what: &str) -> Error {
        Error::Idle {
            host: self.host.clone(),
            what: what.to_string(),
            seconds: self.idle.as_secs(),
        }
    }

    fn load_error(&self, message: String) -> Error {
        Error::Load {
            host: self.host.clone(),
            message: message.trim().to_string(),
        }
    }

    fn request_error(&self, name: &str, what: &str, e: bollard::errors::Error) -> Error {
        match e {
            bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            } if !name.is_empty() => Error::NotFound {
                host: self.host.clone(),
                name: name.to_string(),
            },
            bollard::errors::Error::DockerResponseServerError { message, .. } => Error::Engine {
                host: self.host.clone(),
                what: what.to_string(),
                message: message.trim().to_string(),
            },
            other => Error::Engine {
                host: self.host.clone(),
                what: what.to_string(),
                message: one_line(&other),
            },
        }
    }
}

/// Sends `archive` in chunks until it ends or fails; a failure is sent as
/// an error item, which makes the HTTP client abort the request body.
fn feed(
    mut archive: Box<dyn Read + Send>,
    sender: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
    mut progress: Box<dyn FnMut(u64) + Send>,
) -> std::io::Result<()> {
    let mut sent = 0u64;
    loop {
        let mut buf = vec![0u8; LOAD_CHUNK];
        let n = match archive.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = sender.blocking_send(Err(std::io::Error::new(e.kind(), e.to_string())));
                return Err(e);
            }
        };
        buf.truncate(n);
        if sender.blocking_send(Ok(Bytes::from(buf))).is_err() {
            // The request ended (the Engine answered or the client gave up):
            // what it said is reported by the caller.
            return Ok(());
        }
        sent += n as u64;
        progress(sent);
    }
}

/// An error and its causes on one line, without bollard's debug noise.
fn one_line(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text.replace('\n', " ")
}
