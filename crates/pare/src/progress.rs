//! Progress bars for long transfers (exports, loads, pulls, pushes): drawn
//! on stderr only when it is a terminal and `--quiet` was not given, so
//! they never mix into piped or `--format json` output (which goes to
//! stdout anyway).

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pare_image::progress::{Progress, ProgressSink, Task};

/// Bars when stderr is a terminal and not `quiet`, silence otherwise.
pub fn sink(quiet: bool) -> ProgressSink {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressSink::default();
    }
    ProgressSink::new(Arc::new(Bars))
}

struct Bars;

impl Progress for Bars {
    fn start(&self, what: &str, total: Option<u64>) -> Arc<dyn Task> {
        let bar = match total {
            Some(total) => ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
                .with_style(
                    ProgressStyle::with_template(
                        "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec}",
                    )
                    .expect("a valid template")
                    .progress_chars("=> "),
                ),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
                ProgressStyle::with_template("{spinner} {msg} {binary_bytes} {binary_bytes_per_sec}")
                    .expect("a valid template"),
            ),
        };
        // Image names come from the user or the image: shown escaped.
        bar.set_message(crate::escape::escape(what).into_owned());
        bar.enable_steady_tick(Duration::from_millis(200));
        Arc::new(Bar(bar))
    }
}

struct Bar(ProgressBar);

impl Task for Bar {
    fn set(&self, done: u64) {
        self.0.set_position(done);
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}
