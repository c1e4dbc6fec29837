//! Measures how many argon2id password verifications per second this machine does with the
//! parameters Gatehouse uses (see `gatehouse_domain::password`), on N threads at once: the
//! ceiling for password sign-ins. Each thread reuses its argon2id memory, as Gatehouse's hashing
//! threads do. Used by `bench/signin`.
//!
//! Usage: cargo run --release --example argon2_rate -- [SECONDS] [THREADS]

use std::time::{Duration, Instant};

use gatehouse_domain::password;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let threads: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2);
    let Ok(hash) = password::hash("violet tractor harbour 42", &mut rand::thread_rng()) else {
        eprintln!("hashing failed");
        std::process::exit(1);
    };
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let hash = hash.clone();
            std::thread::spawn(move || {
                let mut n = 0u64;
                let mut memory = password::Memory::default();
                while Instant::now() < until {
                    if password::verify_with(&mut memory, "violet tractor harbour 42", &hash) {
                        n += 1;
                    }
                }
                n
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "RESULT verifications={total} seconds={elapsed:.3} rate={:.1} threads={threads} params={}",
        total as f64 / elapsed,
        hash.split('$').nth(3).unwrap_or("?")
    );
}
