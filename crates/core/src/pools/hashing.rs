//! Password hashing off the async workers, on a small pool of threads: one per core.
//!
//! Each argon2id computation holds 19 MiB and one core for about 15 ms. Running more of them than
//! there are cores finishes none sooner: they evict each other's memory from the caches, and a
//! burst of sign-ins would allocate without bound. Each thread keeps its argon2id memory between
//! hashes ([`password::Memory`]), so a hash does not pay the kernel for 19 MiB of fresh pages, and
//! lets it go after [`IDLE`] without work, so an idle server does not hold it. Requests beyond the
//! pool's size wait in its queue.

use std::{
    sync::{
        OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use gatehouse_domain::{DomainError, password};
use tokio::sync::oneshot;

use super::work_queue::{self, Queue};

type Job = Box<dyn FnOnce(&mut password::Memory) + Send>;

/// How long a hashing thread keeps its memory after its last hash.
const IDLE: Duration = Duration::from_secs(2);

/// Hashing threads holding argon2id memory now.
static HOLDING: AtomicUsize = AtomicUsize::new(0);

/// Keeps [`HOLDING`] up to date with one thread's change from `was` to `is`; returns `is`.
fn counted(was: bool, is: bool) -> bool {
    match (was, is) {
        (false, true) => HOLDING.fetch_add(1, Ordering::Relaxed),
        (true, false) => HOLDING.fetch_sub(1, Ordering::Relaxed),
        _ => 0,
    };
    is
}

/// The pool's queue; its threads start on first use.
fn queue() -> Result<&'static Queue<Job>, PoolStopped> {
    static QUEUE: OnceLock<Option<&'static Queue<Job>>> = OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        work_queue::start_pool("gatehouse-hash", |queue: &'static Queue<Job>| {
            let mut memory = password::Memory::default();
            let mut holding = false;
            loop {
                let Some(job) = queue.next(IDLE) else {
                    memory = password::Memory::default();
                    holding = counted(holding, memory.held() > 0);
                    continue;
                };
                // A job that panics drops its result sender (its caller gets `PoolStopped`);
                // the thread lives on for the next one.
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut memory)));
                if ran.is_err() {
                    memory = password::Memory::default();
                }
                holding = counted(holding, memory.held() > 0);
            }
        })
    });
    queue.ok_or(PoolStopped)
}

/// The pool could not start, or the work panicked: no result.
#[derive(Debug, thiserror::Error)]
#[error("the password-hashing threads are not running")]
pub struct PoolStopped;

async fn run<T: Send + 'static>(
    work: impl FnOnce(&mut password::Memory) -> T + Send + 'static,
) -> Result<T, PoolStopped> {
    let (done, result) = oneshot::channel();
    let job: Job = Box::new(move |memory| {
        let _ = done.send(work(memory));
    });
    queue()?.push(job);
    result.await.map_err(|_| PoolStopped)
}

/// Checks `password` against a stored argon2id hash.
pub async fn verify(password: String, stored: String) -> Result<bool, PoolStopped> {
    run(move |memory| password::verify_with(memory, &password, &stored)).await
}

/// Hashes `password` with today's parameters.
pub async fn hash(password: String) -> Result<Result<String, DomainError>, PoolStopped> {
    run(move |memory| password::hash_with(memory, &password, &mut rand::thread_rng())).await
}

#[cfg(test)]
mod tests {
    use std::{sync::atomic::Ordering, time::Duration};

    #[tokio::test]
    async fn idle_hashing_threads_let_their_memory_go() {
        let holding = || super::HOLDING.load(Ordering::Relaxed);
        super::hash("violet tractor harbour 42".into()).await.unwrap().unwrap();
        // The thread counts itself just after it answers.
        let deadline = std::time::Instant::now() + super::IDLE;
        while holding() == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the thread that hashed holds no memory"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // Other tests in this process may hash meanwhile; every thread goes idle in the end.
        let deadline = std::time::Instant::now() + super::IDLE * 15;
        while holding() > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "hashing memory was kept while idle"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    #[tokio::test]
    async fn hashes_verify_and_wrong_passwords_do_not() {
        let stored = super::hash("violet tractor harbour 42".into()).await.unwrap().unwrap();
        let checks: Vec<_> = (0..6)
            .map(|i| {
                let stored = stored.clone();
                let pw = if i % 2 == 0 {
                    "violet tractor harbour 42"
                } else {
                    "violet tractor harbour 43"
                };
                tokio::spawn(async move { super::verify(pw.into(), stored).await.unwrap() })
            })
            .collect();
        let mut results = Vec::new();
        for c in checks {
            results.push(c.await.unwrap());
        }
        assert_eq!(results, [true, false, true, false, true, false]);
    }
}
