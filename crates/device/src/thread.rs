//! The store on its own thread, for screens.
//!
//! A screen's event loop must never wait on SQLite or on photo decoding: a `fsync` can take tens
//! of milliseconds on a cheap phone, a 12-megapixel photo over a hundred. [`StoreThread`] owns the
//! one writing [`Store`] on a dedicated thread; the UI sends it closures and `await`s their
//! answers, so the event loop keeps drawing while the work runs. Closures run one at a time, in
//! the order sent, which is also what keeps the outbox in the order the user acted.

use crate::{Result, Store};
use futures_channel::oneshot;
use std::path::PathBuf;
use std::sync::mpsc;

type Job = Box<dyn FnOnce(&mut Store) + Send>;

/// A cheap, cloneable handle to the store thread. The thread ends when the last handle drops.
#[derive(Clone)]
pub struct StoreThread {
    jobs: mpsc::Sender<Job>,
    data_dir: PathBuf,
}

/// The store thread is gone (it could not open the store, or a job panicked).
#[derive(Debug, thiserror::Error)]
#[error("the local store stopped")]
pub struct StoreGone;

impl StoreThread {
    /// Open the store in `dir` (migrating it) on a new thread.
    pub fn open(dir: PathBuf) -> Result<StoreThread> {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (jobs, rx) = mpsc::channel::<Job>();
        let thread_dir = dir.clone();
        std::thread::Builder::new()
            .name("gridmate-store".into())
            .spawn(move || {
                let mut store = match Store::open(&thread_dir) {
                    Ok(s) => {
                        let _ = ready_tx.send(Ok(()));
                        s
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                while let Ok(job) = rx.recv() {
                    job(&mut store);
                }
            })?;
        ready_rx.recv().map_err(|_| {
            crate::DeviceError::Corrupt("the store thread ended while opening".into())
        })??;
        Ok(StoreThread {
            jobs,
            data_dir: dir,
        })
    }

    /// The folder the store lives in (the sync worker opens its own connection there).
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    /// Run `f` on the store thread and wait for its answer without blocking the caller's thread.
    pub async fn run<R, F>(&self, f: F) -> Result<R, StoreGone>
    where
        F: FnOnce(&mut Store) -> R + Send + 'static,
        R: Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Box::new(move |store: &mut Store| {
                let _ = tx.send(f(store));
            }))
            .map_err(|_| StoreGone)?;
        rx.await.map_err(|_| StoreGone)
    }

    /// Run `f` and block this thread for the answer: for tests and command-line tools, never
    /// for a UI thread.
    pub fn run_blocking<R, F>(&self, f: F) -> Result<R, StoreGone>
    where
        F: FnOnce(&mut Store) -> R + Send + 'static,
        R: Send + 'static,
    {
        let (tx, rx) = mpsc::channel();
        self.jobs
            .send(Box::new(move |store: &mut Store| {
                let _ = tx.send(f(store));
            }))
            .map_err(|_| StoreGone)?;
        rx.recv().map_err(|_| StoreGone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_in_order_on_another_thread() {
        let dir = tempfile::tempdir().unwrap();
        let st = StoreThread::open(dir.path().to_path_buf()).unwrap();
        let caller = std::thread::current().id();
        let (ran_on, version) = st
            .run_blocking(|s| (std::thread::current().id(), s.schema_version().unwrap()))
            .unwrap();
        assert_ne!(ran_on, caller);
        assert_eq!(version, crate::migrate::latest_version());
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        for i in 0..20 {
            let order = order.clone();
            let rx = st.run(move |_| order.lock().unwrap().push(i));
            drop(rx);
        }
        st.run_blocking(|_| ()).unwrap();
        assert!(
            order.lock().unwrap().is_empty(),
            "an un-awaited job never runs"
        );
        let futures: Vec<_> = (0..20)
            .map(|i| {
                let order = order.clone();
                st.run(move |_| order.lock().unwrap().push(i))
            })
            .collect();
        for f in futures {
            futures_executor_block_on(f).unwrap();
        }
        assert_eq!(*order.lock().unwrap(), (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn a_store_that_cannot_open_is_an_error_not_a_hang() {
        let file = tempfile::NamedTempFile::new().unwrap();
        assert!(StoreThread::open(file.path().to_path_buf()).is_err());
    }

    /// A minimal executor: the future resolves from another thread.
    fn futures_executor_block_on<F: std::future::Future>(f: F) -> F::Output {
        use std::task::{Context, Poll, Wake, Waker};
        struct Unpark(std::thread::Thread);
        impl Wake for Unpark {
            fn wake(self: std::sync::Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park();
        }
    }
}
