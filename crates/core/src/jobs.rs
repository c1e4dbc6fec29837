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
