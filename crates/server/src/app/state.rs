//! What every request handler holds: the database, the photos, the upload folder, the counters
//! the server's clock, and the bell of its courier.

use super::clock::ServerClock;
use super::wake::Bell;
use crate::blobs::{BlobFolder, BlobStore};
use crate::database::Database;
use crate::metrics::Metrics;
use crate::reach::{Courier, SmsProvider};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use tokio::sync::Notify;

#[derive(Clone)]
pub struct AppState {
    /// The one database; its operations are named in [`crate::store`] and its generic
    /// `read`/`write` run a typed function of the store modules in one transaction.
    pub store: Database,
    /// The photos: `DATA/blobs` unless the server was given an object store.
    pub blobs: Arc<dyn BlobStore>,
    /// Ledgers uploaded to the console, held between the dry run and the import (by SHA-256).
    pub upload_dir: PathBuf,
    pub metrics: Arc<Metrics>,
    /// The stamps of the mutations the office makes on this server.
    pub clock: Arc<ServerClock>,
    /// Wakes this process's courier (`crate::reach`): a push may have queued messages.
    pub outbox: Arc<Notify>,
    /// The name of the SMS provider this process's courier sends through ("log" without
    /// credentials), once it has one.
    pub sms_provider: Arc<OnceLock<String>>,
    /// Rung when the log moves; open phones listen (`super::wake`).
    pub bell: Bell,
    /// The demo without an SMS provider: the resident page shows a sign-in code it texted
    /// nowhere. Never set by `serve`.
    pub demo_codes: bool,
    /// The TLS terminators whose `X-Forwarded-Proto` is believed (`crate::proxy`).
    pub trusted_proxies: crate::proxy::TrustedProxies,
    /// Where residents' phones reach this server (`https://wgt.example.gov.cn`), for the QR
    /// codes the console prints; absent, the address the console was asked on.
    pub public_url: Option<String>,
}

impl AppState {
    /// A server on `store`, its photos in `DATA/blobs`.
    pub fn new(store: impl Into<Database>, data_dir: &std::path::Path) -> std::io::Result<Self> {
        let blobs = BlobFolder::open(data_dir.join("blobs")).map_err(std::io::Error::other)?;
        AppState::with_blobs(store, Arc::new(blobs), data_dir)
    }

    /// A server on `store` with its photos in `blobs` (an object store several processes share).
    pub fn with_blobs(
        store: impl Into<Database>,
        blobs: Arc<dyn BlobStore>,
        data_dir: &std::path::Path,
    ) -> std::io::Result<Self> {
        let upload_dir = data_dir.join("uploads");
        std::fs::create_dir_all(&upload_dir)?;
        Ok(Self {
            store: store.into(),
            blobs,
            upload_dir,
            metrics: Arc::new(Metrics::default()),
            clock: Arc::new(ServerClock::default()),
            outbox: Arc::new(Notify::new()),
            sms_provider: Arc::new(OnceLock::new()),
            bell: Bell::default(),
            demo_codes: false,
            trusted_proxies: Default::default(),
            public_url: None,
        })
    }

    /// A push was committed in this process: wake its courier (the push may have queued
    /// messages) and its bell (open phones of the grids it touched pull at once).
    pub fn pushed(&self) {
        self.outbox.notify_one();
        self.bell.ring();
    }

    /// A message was queued outside a push (a resident's sign-in code): wake the courier only.
    pub fn queued(&self) {
        self.outbox.notify_one();
    }

    /// This process's courier over this state's database, woken by its pushes (start it with
    /// [`Courier::spawn`] inside the runtime).
    pub fn courier(&self, provider: Arc<dyn SmsProvider>) -> Courier {
        let _ = self.sms_provider.set(provider.name().to_string());
        Courier::new(self.store.clone(), provider, self.outbox.clone())
    }
}
