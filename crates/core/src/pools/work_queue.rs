//! The job queue behind Gatehouse's CPU-bound thread pools (password hashing, delivery signing):
//! a FIFO under a mutex with a condition variable. Every idle thread waits on the condition
//! variable with its own timeout, so each notices its own idleness (threads queued on a shared
//! receiver's lock would not).

use std::{
    collections::VecDeque,
    sync::{Condvar, Mutex, MutexGuard},
    time::Duration,
};

pub struct Queue<J> {
    jobs: Mutex<VecDeque<J>>,
    ready: Condvar,
}

impl<J> Default for Queue<J> {
    fn default() -> Self {
        Self {
            jobs: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
        }
    }
}

impl<J> Queue<J> {
    fn jobs(&self) -> MutexGuard<'_, VecDeque<J>> {
        // A job runs outside the lock, so a panic in one cannot leave the queue half-changed.
        self.jobs.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The next job, or `None` after `idle` without one.
    pub fn next(&self, idle: Duration) -> Option<J> {
        let mut jobs = self.jobs();
        loop {
            if let Some(job) = jobs.pop_front() {
                return Some(job);
            }
            let (guard, wait) = self
                .ready
                .wait_timeout(jobs, idle)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            jobs = guard;
            if wait.timed_out() && jobs.is_empty() {
                return None;
            }
        }
    }

    pub fn push(&self, job: J) {
        self.jobs().push_back(job);
        self.ready.notify_one();
    }
}

/// Starts a pool of one thread per core named `name-0`, `name-1`, …, each running `run` over one
/// shared queue (which lives as long as the process). `None` when no thread could start.
pub fn start_pool<J: Send + 'static>(
    name: &str,
    run: impl Fn(&'static Queue<J>) + Send + Clone + 'static,
) -> Option<&'static Queue<J>> {
    let queue: &'static Queue<J> = Box::leak(Box::default());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut started = 0;
    for i in 0..threads {
        let run = run.clone();
        match std::thread::Builder::new()
            .name(format!("{name}-{i}"))
            .spawn(move || run(queue))
        {
            Ok(_) => started += 1,
            Err(e) => tracing::error!(error = %e, thread = %format!("{name}-{i}"), "cannot start a worker thread"),
        }
    }
    (started > 0).then_some(queue)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn an_idle_wait_ends_empty_and_queued_jobs_come_out_in_order() {
        let queue = super::Queue::default();
        assert!(queue.next(Duration::from_millis(10)).is_none());
        queue.push(1);
        queue.push(2);
        assert_eq!(queue.next(Duration::from_millis(10)), Some(1));
        assert_eq!(queue.next(Duration::from_millis(10)), Some(2));
        assert!(queue.next(Duration::from_millis(10)).is_none());
    }

    #[test]
    fn a_pool_runs_what_is_queued() {
        let queue = super::start_pool(
            "gatehouse-test",
            |q: &'static super::Queue<std::sync::mpsc::Sender<u8>>| {
                while let Some(reply) = q.next(Duration::from_secs(60)) {
                    let _ = reply.send(7);
                }
            },
        )
        .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        queue.push(tx);
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(7));
    }
}
