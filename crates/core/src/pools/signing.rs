//! Adobe's delivery signatures off the async workers, on one thread per core that yields to them.
//!
//! Each one-event delivery costs two RSA-2048 signatures, about half a millisecond of a core. On
//! the async workers that time is taken from whatever else is queued there, every request among
//! them: at 1,000 deliveries a second, publishes waited from tens of milliseconds to seconds for a
//! worker (BENCHMARKS.md). Here the signing threads run at a lower scheduling priority (a nice
//! value of [`SIGNING_NICENESS`] on Linux), so the kernel hands a core to a request as soon as one
//! needs it, and signing takes whatever time is left; it still uses every core when nothing else
//! wants them. At the same priority as the workers they were measured no better than the workers.
//! The price: when other processes fill the cores, deliveries lag rather than requests.

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use tokio::sync::oneshot;

use super::work_queue::{self, Queue};
use crate::events::keys::{KeyError, Signers};

type Job = Box<dyn FnOnce() + Send>;

/// How much lower the signing threads' priority is (nice 0 is the default; 19 the lowest).
pub const SIGNING_NICENESS: i32 = 10;

/// The pool's queue; its threads start on first use.
fn queue() -> Result<&'static Queue<Job>, KeyError> {
    static QUEUE: OnceLock<Option<&'static Queue<Job>>> = OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        work_queue::start_pool("gatehouse-sign", |queue: &'static Queue<Job>| {
            lower_priority();
            loop {
                if let Some(job) = queue.next(Duration::from_secs(3600)) {
                    // A job that panics drops its result sender; the thread lives on.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            }
        })
    });
    queue.ok_or_else(|| KeyError("the delivery-signing threads are not running".into()))
}

/// Lowers the calling thread's priority by [`SIGNING_NICENESS`] (on Linux a nice value belongs
/// to a thread; elsewhere it would apply to the whole process, so it is left alone).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        let lowered = getpriority_process(None).map(|now| (now + SIGNING_NICENESS).min(19));
        if let Err(e) = lowered.and_then(|nice| setpriority_process(None, nice)) {
            tracing::warn!(error = %e, "cannot lower the delivery-signing threads' priority");
        }
    }
}

type Headers = [(&'static str, String); 4];

/// The four Adobe signature headers for `body`, computed on the signing threads; `body` comes
/// back with them.
pub async fn headers(signers: Arc<Signers>, body: Vec<u8>) -> Result<(Vec<u8>, Headers), KeyError> {
    let (done, result) = oneshot::channel();
    let job: Job = Box::new(move || {
        let signed = signers.headers(&body);
        let _ = done.send(signed.map(|h| (body, h)));
    });
    queue()?.push(job);
    result
        .await
        .map_err(|_| KeyError("a delivery-signing thread stopped".into()))?
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_os = "linux")]
    fn signing_threads_run_at_a_lower_priority() {
        use rustix::process::getpriority_process;
        let (before, after) = std::thread::spawn(|| {
            let before = getpriority_process(None).unwrap();
            super::lower_priority();
            (before, getpriority_process(None).unwrap())
        })
        .join()
        .unwrap();
        assert_eq!(after, (before + super::SIGNING_NICENESS).min(19));
        // Only that thread: this one keeps its priority.
        assert_eq!(getpriority_process(None).unwrap(), before);
    }
}
