//! Every line kollars prints goes through here, so a reader that goes away does not crash it.
//!
//! `println!` panics when its write fails (exit 101): Rust ignores SIGPIPE, so
//! `kollars plan | head -1` gets EPIPE on its second line and dies with a panic message.
//! kollars does not restore SIGPIPE's default action instead: that would also kill it on a
//! write to an engine's socket whose peer went away, in the middle of a deploy. So once a
//! stream cannot be written (its reader gone, or anything else), its later lines are dropped
//! and the command goes on to its normal end and exit status: a plan ends as it would have,
//! and a deploy is not cut in half because whoever read its log quit. A stream that fails
//! for another reason than a gone reader says so once, on the other stream.
//!
//! **Secrets**: once the inputs are read, [`set_masker`] installs their
//! [`kollars_inputs::Masker`], and every line written here — progress, JSON events, warnings,
//! a failed one-shot's log, the final error — has the known secret values (passwords.yml's)
//! and URL passwords masked ([`kollars_inputs::Masker::mask_values`]), whatever produced it;
//! `plan` masks its diffs by place too, before they get here.

use std::fmt::Arguments;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use kollars_inputs::Masker;

/// The masker of this run's inputs, once they are read.
static MASKER: OnceLock<Masker> = OnceLock::new();

/// Installs the masker every later line goes through (the first one installed stays: one
/// run reads one configuration directory).
pub fn set_masker(masker: Masker) {
    let _ = MASKER.set(masker);
}

/// `text` with the known secrets masked (see the [module](self)); as is before the inputs
/// are read.
pub fn masked(text: &str) -> std::borrow::Cow<'_, str> {
    match MASKER.get() {
        Some(m) if !m.knows_nothing() || text.contains("://") => m.mask_values(text).into(),
        _ => text.into(),
    }
}

/// Stdout or stderr, and whether it can still be written.
pub struct Stream {
    out: bool,
    gone: AtomicBool,
}

/// Standard output: plan and check results, JSON events.
pub static STDOUT: Stream = Stream::new(true);
/// Standard error: progress lines, warnings, errors.
pub static STDERR: Stream = Stream::new(false);

impl Stream {
    const fn new(out: bool) -> Stream {
        Stream {
            out,
            gone: AtomicBool::new(false),
        }
    }

    fn name(&self) -> &'static str {
        if self.out {
            "stdout"
        } else {
            "stderr"
        }
    }

    /// Writes `args` (a whole line or more, newline included) unless this stream has failed.
    pub fn write(&self, args: Arguments<'_>) {
        if self.gone.load(Ordering::Relaxed) {
            return;
        }
        let text = std::fmt::format(args);
        let text = masked(&text);
        let r = match self.out {
            true => {
                let mut w = std::io::stdout().lock();
                w.write_all(text.as_bytes()).and_then(|()| w.flush())
            }
            false => std::io::stderr().lock().write_all(text.as_bytes()),
        };
        if let Err(e) = r {
            // the first failure only: later ones find the flag set
            if !self.gone.swap(true, Ordering::Relaxed)
                && e.kind() != std::io::ErrorKind::BrokenPipe
            {
                let other = if self.out { &STDERR } else { &STDOUT };
                other.write(format_args!(
                    "kollars: cannot write to {}: {e}; its further output is dropped\n",
                    self.name()
                ));
            }
        }
    }
}

/// `println!` that does not panic (see the [module](self)).
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::out::STDOUT.write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` that does not panic (see the [module](self)).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::out::STDOUT.write(format_args!($($arg)*))
    };
}

/// `eprintln!` that does not panic (see the [module](self)).
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::out::STDERR.write(format_args!("{}\n", format_args!($($arg)*)))
    };
}
