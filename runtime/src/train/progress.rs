//! How a [`Trainer`](super::Trainer) reports progress: the setting, and the
//! bar it draws with the `progress` feature (indicatif). Without the
//! feature [`Bar`] has no values, so the trainer prints lines.

/// How the trainer reports progress on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Progress {
    /// A progress bar when stderr is a terminal, else one line per epoch.
    /// Without the `progress` feature, always one line per epoch.
    #[default]
    Auto,
    /// Always a progress bar. Without the `progress` feature, one line per
    /// epoch.
    Bar,
    /// One line per epoch.
    Lines,
    /// Nothing.
    Quiet,
}

pub(super) use bar::Bar;

#[cfg(feature = "progress")]
mod bar {
    use std::io::IsTerminal;
    use std::string::String;

    use indicatif::{ProgressBar, ProgressStyle};

    use super::Progress;

    /// The progress bar of a run: one pass over an epoch's samples.
    pub(in crate::train) struct Bar(ProgressBar);

    impl Bar {
        /// The bar for `len` samples per epoch, when `progress` asks for
        /// one.
        pub(in crate::train) fn new(progress: Progress, len: usize) -> Option<Bar> {
            let show = match progress {
                Progress::Bar => true,
                Progress::Auto => std::io::stderr().is_terminal(),
                Progress::Lines | Progress::Quiet => false,
            };
            show.then(|| {
                let bar = ProgressBar::new(len as u64);
                if let Ok(style) =
                    ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
                {
                    bar.set_style(style.progress_chars("=> "));
                }
                Bar(bar)
            })
        }

        /// Starts an epoch, labelled `prefix`, at sample `seen`.
        pub(in crate::train) fn start(&self, prefix: String, seen: usize) {
            self.0.reset();
            self.0.set_prefix(prefix);
            self.0.set_position(seen as u64);
        }

        /// Moves to sample `seen`, with `message` after the bar.
        pub(in crate::train) fn advance(&self, seen: usize, message: String) {
            self.0.set_position(seen as u64);
            self.0.set_message(message);
        }

        /// Prints `line` above the bar.
        pub(in crate::train) fn println(&self, line: String) {
            self.0.println(line);
        }

        /// Removes the bar.
        pub(in crate::train) fn finish(&self) {
            self.0.finish_and_clear();
        }
    }
}

#[cfg(not(feature = "progress"))]
mod bar {
    use std::string::String;

    use super::Progress;

    /// No bar: without the `progress` feature there is none to draw.
    pub(in crate::train) enum Bar {}

    impl Bar {
        /// Always `None`: the trainer prints lines.
        pub(in crate::train) fn new(_: Progress, _: usize) -> Option<Bar> {
            None
        }

        pub(in crate::train) fn start(&self, _: String, _: usize) {
            match *self {}
        }

        pub(in crate::train) fn advance(&self, _: usize, _: String) {
            match *self {}
        }

        pub(in crate::train) fn println(&self, _: String) {
            match *self {}
        }

        pub(in crate::train) fn finish(&self) {
            match *self {}
        }
    }
}
