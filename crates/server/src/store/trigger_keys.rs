//! The trigger keys of the messages a page reads back by person: the rules (`apply::notices`,
//! `apply::sweep`) queue under them, the call-up page (`store::office`) looks them up. One place,
//! so the two never drift.

use uuid::Uuid;

/// A call-up's text to one person.
pub fn callup(callup: Uuid, person: Uuid) -> String {
    format!("callup:{callup}:{person}")
}

/// The second text to one person silent after a call-up.
pub fn callup_recall(callup: Uuid, person: Uuid) -> String {
    format!("callup-recall:{callup}:{person}")
}
