//! The CPU-bound thread pools that keep long computations off the async workers: password
//! hashing ([`hashing`]) and delivery signing ([`signing`]), over one job queue ([`work_queue`]).

pub mod hashing;
pub mod signing;
pub mod work_queue;
