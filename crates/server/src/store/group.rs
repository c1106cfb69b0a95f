//! The queue in front of a backend's group-commit thread.
//!
//! A push is answered only once committed, and a commit waits for the database to flush: with a
//! transaction per push, pushes arriving together wait in line for one flush each. So a backend
//! may hand pushes to one thread of its own through this queue; the thread takes the first push
//! and every push already waiting behind it ([`next_group`]) and applies them in one transaction
//! (`crate::apply::push_group`). What to do when one push of a group fails at the database is
//! the backend's (SQLite retries with a savepoint per push, PostgreSQL with a transaction each).

use super::{Principal, Result, StoreError};
use gridmate_protocol::{Mutation, PushResult};
use std::sync::mpsc::{Receiver, Sender};

/// One push waiting for the group-commit thread, and where its answer goes.
pub(crate) struct PushJob {
    pub(crate) principal: Principal,
    pub(crate) mutations: Vec<Mutation>,
    pub(crate) reply: tokio::sync::oneshot::Sender<Result<Vec<PushResult>>>,
}

/// Hand a push to the thread behind `queue` (`None`: the store is closing) and wait for its
/// answer.
pub(crate) async fn enqueue(
    queue: Option<&Sender<PushJob>>,
    principal: Principal,
    mutations: Vec<Mutation>,
) -> Result<Vec<PushResult>> {
    let stopped = || StoreError::Join("the push writer stopped".into());
    let (reply, answer) = tokio::sync::oneshot::channel();
    queue
        .ok_or_else(stopped)?
        .send(PushJob {
            principal,
            mutations,
            reply,
        })
        .map_err(|_| stopped())?;
    answer.await.map_err(|_| stopped())?
}

/// The next group: the first push to arrive and those already waiting behind it, at most
/// `max`. `None` once the queue is closed and empty.
pub(crate) fn next_group(jobs: &Receiver<PushJob>, max: usize) -> Option<Vec<PushJob>> {
    let first = jobs.recv().ok()?;
    let mut group = vec![first];
    while group.len() < max {
        match jobs.try_recv() {
            Ok(job) => group.push(job),
            Err(_) => break,
        }
    }
    Some(group)
}

/// Send each push of `group` its result, in order.
pub(crate) fn answer(group: Vec<PushJob>, results: Vec<Result<Vec<PushResult>>>) {
    for (job, r) in group.into_iter().zip(results) {
        let _ = job.reply.send(r);
    }
}

/// The pushes of a group as `crate::apply::push_group` takes them.
pub(crate) fn batches(group: &[PushJob]) -> Vec<(&Principal, &[Mutation])> {
    group
        .iter()
        .map(|job| (&job.principal, job.mutations.as_slice()))
        .collect()
}
