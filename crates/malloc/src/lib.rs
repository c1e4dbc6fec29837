//! Settings for glibc's allocator that keep a long-running Gatehouse small.
//!
//! glibc's defaults suit short programs badly here, in two ways:
//!
//! - **Arenas.** It gives threads up to eight arenas per core. Gatehouse runs more threads than
//!   cores (Tokio's workers, one per SQLite connection, the password-hashing pool), and memory freed
//!   in one arena cannot serve another, so each keeps its own high-water mark. One arena per core
//!   is enough for this many threads.
//! - **Large blocks.** Blocks of 128 KiB and more come straight from the kernel and go back on free,
//!   but the first such free raises that threshold to the freed size, after which large blocks
//!   come from the arenas and stay in them. A password hash's 19 MiB is such a block: freed when
//!   its thread goes idle, it would stay resident for the life of the process. A fixed threshold
//!   of 1 MiB keeps every block that large on the kernel's side, returned when freed.
//!
//! Elsewhere (musl, macOS) the system allocator is left as it is.

/// One arena per core, but at least two.
fn arenas() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).max(2)
}

/// Blocks this large and larger are mapped from the kernel and unmapped when freed.
pub const MMAP_THRESHOLD: usize = 1024 * 1024;

/// Applies the settings. Call it first thing in `main`, before any other thread starts.
/// Returns whether the allocator accepted them (always `false` off glibc).
pub fn tune() -> bool {
    imp::tune(arenas(), MMAP_THRESHOLD)
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod imp {
    use libc::{M_ARENA_MAX, M_MMAP_THRESHOLD, c_int, mallopt};

    pub fn tune(arenas: usize, mmap_threshold: usize) -> bool {
        let (Ok(arenas), Ok(threshold)) = (c_int::try_from(arenas), c_int::try_from(mmap_threshold)) else {
            return false;
        };
        // SAFETY: mallopt only changes the allocator's parameters, under its own lock; it reads
        // no memory of ours and is defined for these two parameters with any positive value.
        #[allow(unsafe_code)]
        let set = unsafe { mallopt(M_ARENA_MAX, arenas) == 1 && mallopt(M_MMAP_THRESHOLD, threshold) == 1 };
        set
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod imp {
    pub fn tune(_arenas: usize, _mmap_threshold: usize) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn glibc_accepts_the_settings() {
        assert!(super::tune());
    }
}
