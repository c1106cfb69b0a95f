//! The wake channel's bell: which grids changed, told to every open phone of this process.
//!
//! An open app holds `GET /api/v1/sync/wake` (Server-Sent Events) and pulls when it hears
//! `pull`. What rings it is the record log moving: one watcher per process reads the log's head
//! every [`WATCH_EVERY`] — or at once when this process committed a push — and, when it moved,
//! which grids the new records are in, and broadcasts that to the process's connections. Each
//! connection passes on only what its user's grids are in, so 2,000 idle phones cost one small
//! query a second for the whole process, not one per phone, and a change in one grid wakes only
//! that grid's phones. A push through another process is seen within [`WATCH_EVERY`].

use crate::database::Database;
use crate::store::{Backend, Principal, scope};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, broadcast};
use uuid::Uuid;

/// How often the watcher reads the head when nothing in this process rang it.
pub const WATCH_EVERY: Duration = Duration::from_secs(1);

/// The log moved: to `head`, with records in these grids (`None`: a record of no grid).
#[derive(Clone, Debug, PartialEq)]
pub struct Moved {
    pub head: u64,
    pub grids: Vec<Option<Uuid>>,
}

impl Moved {
    /// Is anything new in what `p` sees? A record of no grid (an account's own) is told to all:
    /// a pull that finds nothing costs one round trip.
    pub fn concerns(&self, p: &Principal) -> bool {
        self.grids.iter().any(|g| match g {
            None => true,
            Some(g) => *g == scope::SHARED || p.grids.contains(g),
        })
    }
}

/// The bell: rung by this process's pushes, heard by its open phones.
#[derive(Clone)]
pub struct Bell {
    moved: broadcast::Sender<Arc<Moved>>,
    rung: Arc<Notify>,
}

impl Default for Bell {
    fn default() -> Bell {
        // A slow connection that falls this far behind misses some: it is told to pull anyway.
        let (moved, _) = broadcast::channel(64);
        Bell {
            moved,
            rung: Arc::new(Notify::new()),
        }
    }
}

impl Bell {
    /// This process committed something: look now rather than at the next tick.
    pub fn ring(&self) {
        self.rung.notify_one();
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Moved>> {
        self.moved.subscribe()
    }

    /// How many phones are listening in this process.
    pub fn listeners(&self) -> usize {
        self.moved.receiver_count()
    }

    /// Watch the log for the life of the process.
    pub fn watch(&self, db: Database) -> tokio::task::JoinHandle<()> {
        let bell = self.clone();
        tokio::spawn(async move {
            let mut seen = None;
            loop {
                match look(&db, seen).await {
                    Ok((head, grids)) => {
                        if seen.is_some_and(|s| s < head) && !grids.is_empty() {
                            // Nobody listening is no error: the next phone to connect pulls.
                            let _ = bell.moved.send(Arc::new(Moved { head, grids }));
                        }
                        seen = Some(head);
                    }
                    Err(e) => tracing::warn!(error = %e, "the wake watcher could not read the log"),
                }
                tokio::select! {
                    () = bell.rung.notified() => {}
                    () = tokio::time::sleep(WATCH_EVERY) => {}
                }
            }
        })
    }
}

/// The head, and the grids of the records after `seen` (none on the first look).
async fn look(db: &Database, seen: Option<u64>) -> crate::store::Result<(u64, Vec<Option<Uuid>>)> {
    db.read(move |tx| {
        let head = tx.head()?;
        let grids = match seen {
            Some(s) if s < head => tx.grids_changed_after(s)?,
            _ => Vec::new(),
        };
        Ok((head, grids))
    })
    .await
}
