//! What every handler can reach: the node's [`Core`] (store, settings, token service, clock, …)
//! and the metrics handle that `/metrics` renders.

use std::{ops::Deref, sync::Arc};

use gatehouse_core::Core;
use metrics_exporter_prometheus::PrometheusHandle;

/// Shared state of the HTTP server; cheap to clone (two reference counts: axum clones it for every
/// extractor of every request). Handlers reach the core's fields through it (`state.store`,
/// `state.tokens`, …).
#[derive(Clone)]
pub struct AppState {
    pub core: Arc<Core>,
    pub metrics: PrometheusHandle,
}

impl Deref for AppState {
    type Target = Core;

    fn deref(&self) -> &Core {
        &self.core
    }
}
