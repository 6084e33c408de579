//! How long transfers (an export from the Engine, a load, a pull, a push)
//! report how far they are. Libraries only report; the command line decides
//! whether to draw bars (a terminal) or stay quiet (a pipe, `--quiet`,
//! `--format json`).

use std::fmt;
use std::sync::Arc;

/// One transfer being reported.
pub trait Task: Send + Sync {
    /// Bytes done so far.
    fn set(&self, done: u64);
    /// The transfer ended (well or not).
    fn finish(&self);
}

/// Starts the report of a transfer.
pub trait Progress: Send + Sync {
    /// `what` says what moves (`exporting docker-daemon:app:1`); `total` is
    /// its size in bytes when known.
    fn start(&self, what: &str, total: Option<u64>) -> Arc<dyn Task>;
}

/// Reports nothing.
struct Silent;

impl Task for Silent {
    fn set(&self, _: u64) {}
    fn finish(&self) {}
}

impl Progress for Silent {
    fn start(&self, _: &str, _: Option<u64>) -> Arc<dyn Task> {
        Arc::new(Silent)
    }
}

/// Where an operation reports its progress; silent by default.
#[derive(Clone)]
pub struct ProgressSink(Arc<dyn Progress>);

impl ProgressSink {
    pub fn new(progress: Arc<dyn Progress>) -> Self {
        ProgressSink(progress)
    }

    pub fn start(&self, what: &str, total: Option<u64>) -> Arc<dyn Task> {
        self.0.start(what, total)
    }
}

impl Default for ProgressSink {
    fn default() -> Self {
        ProgressSink(Arc::new(Silent))
    }
}

impl fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProgressSink")
    }
}
