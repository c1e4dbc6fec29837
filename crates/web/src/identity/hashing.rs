//! Password hashing off the async workers, at most one argon2id computation per core at a time.
//!
//! Each computation holds 19 MiB and one core for about 15 ms. Running more of them than there
//! are cores finishes none sooner: they evict each other's memory from the caches, and a burst of
//! sign-ins would allocate without bound. Those beyond the limit wait their turn here instead.

use std::sync::OnceLock;

use gatehouse_domain::{DomainError, password};
use tokio::{sync::Semaphore, task::JoinError};

fn permits() -> &'static Semaphore {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| Semaphore::new(std::thread::available_parallelism().map_or(1, |n| n.get())))
}

async fn run<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, JoinError> {
    // The semaphore is never closed, so acquiring cannot fail; without a permit it would only
    // mean running unthrottled.
    let _permit = permits().acquire().await.ok();
    tokio::task::spawn_blocking(work).await
}

/// Checks `password` against a stored argon2id hash.
pub async fn verify(password: String, stored: String) -> Result<bool, JoinError> {
    run(move || password::verify(&password, &stored)).await
}

/// Hashes `password` with today's parameters.
pub async fn hash(password: String) -> Result<Result<String, DomainError>, JoinError> {
    run(move || password::hash(&password, &mut rand::thread_rng())).await
}
