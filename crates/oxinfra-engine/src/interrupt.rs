//! Ctrl-C during a run. The first SIGINT stops new work: no operation, and no command
//! of a running operation, starts after it. Commands already running get a grace
//! period to end on their own ([`GRACE`], or `OXINFRA_INTERRUPT_GRACE` seconds); then,
//! or at a second Ctrl-C, they are cut. The run then ends normally, so the results
//! table is printed, and the CLI exits with 130.
//!
//! Commands on `@local` run in process groups of their own, so a Ctrl-C typed at the
//! terminal reaches oxinfra and not them; the engine decides when they stop.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

/// How long running commands may go on after the first Ctrl-C.
pub const GRACE: Duration = Duration::from_secs(5);

/// The state of Ctrl-C for one run.
#[derive(Debug, Default)]
pub struct Interrupt {
    requested: AtomicBool,
    cut: AtomicBool,
    cut_notify: Notify,
}

impl Interrupt {
    /// Whether Ctrl-C was pressed: nothing new may start.
    pub fn requested(&self) -> bool {
        self.requested.load(Ordering::Acquire)
    }

    /// Whether running commands must stop now.
    pub fn is_cut(&self) -> bool {
        self.cut.load(Ordering::Acquire)
    }

    /// Records a Ctrl-C (what the signal listener does; also for tests and embedders).
    pub fn request(&self) {
        self.requested.store(true, Ordering::Release);
    }

    /// Stops running commands now.
    pub fn cut_now(&self) {
        self.request();
        self.cut.store(true, Ordering::Release);
        self.cut_notify.notify_waiters();
    }

    /// Runs `work` unless the commands are cut first; `None` when they were.
    pub async fn until_cut<T>(&self, work: impl Future<Output = T>) -> Option<T> {
        if self.is_cut() {
            return None;
        }
        let cut = self.cut_notify.notified();
        tokio::pin!(cut);
        // Registered before the check below, so a cut in between is not missed.
        cut.as_mut().enable();
        if self.is_cut() {
            return None;
        }
        tokio::select! {
            result = work => Some(result),
            () = cut => None,
        }
    }

    /// The grace period: `OXINFRA_INTERRUPT_GRACE` seconds when set, else [`GRACE`].
    pub fn grace() -> Duration {
        std::env::var("OXINFRA_INTERRUPT_GRACE")
            .ok()
            .and_then(|text| text.parse::<f64>().ok())
            .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
            .map_or(GRACE, Duration::from_secs_f64)
    }

    /// Waits for Ctrl-C and acts on it until the run ends (abort the task then):
    /// `on_first` is told once nothing new starts, `on_cut` once commands are cut.
    pub async fn listen(&self, on_first: impl Fn(Duration), on_cut: impl Fn()) {
        use tokio::signal::unix::{SignalKind, signal};

        let Ok(mut signals) = signal(SignalKind::interrupt()) else { return };
        if signals.recv().await.is_none() {
            return;
        }
        self.request();
        let grace = Self::grace();
        on_first(grace);
        tokio::select! {
            _ = signals.recv() => {}
            () = tokio::time::sleep(grace) => {}
        }
        self.cut_now();
        on_cut();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|error| unreachable!("{error}"))
    }

    #[test]
    fn work_finishes_when_not_cut() {
        let interrupt = Interrupt::default();
        interrupt.request();
        let result = runtime().block_on(interrupt.until_cut(async { 7 }));
        assert_eq!(result, Some(7));
    }

    #[test]
    fn cutting_stops_running_work() {
        let interrupt = std::sync::Arc::new(Interrupt::default());
        let result = runtime().block_on(async {
            let cutter = std::sync::Arc::clone(&interrupt);
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                cutter.cut_now();
            });
            interrupt.until_cut(tokio::time::sleep(Duration::from_secs(30))).await
        });
        assert_eq!(result, None);
        assert!(interrupt.requested());
    }
}
