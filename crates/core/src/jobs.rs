//! The node's background jobs, started by the `app` crate (never as a side effect of building a
//! router) and stopped together on shutdown.

use tokio::task::JoinHandle;

/// Running background jobs, by name; [`Jobs::abort`] stops them all (also on drop).
#[derive(Default)]
pub struct Jobs {
    running: Vec<(&'static str, JoinHandle<()>)>,
}

impl Jobs {
    pub fn add(&mut self, name: &'static str, job: JoinHandle<()>) {
        self.running.push((name, job));
    }

    /// The names of the jobs that are running, in start order.
    pub fn names(&self) -> Vec<&'static str> {
        self.running
            .iter()
            .filter(|(_, j)| !j.is_finished())
            .map(|(n, _)| *n)
            .collect()
    }

    pub fn abort(&self) {
        for (_, job) in &self.running {
            job.abort();
        }
    }
}

impl Drop for Jobs {
    fn drop(&mut self) {
        self.abort();
    }
}
