//! Drafts: a form's every edit saved on the store thread as it happens, and restored when the
//! form opens again — after the user left it, or after the phone killed the app in a stairwell.
//!
//! A form is any `Serialize + DeserializeOwned` struct; [`use_draft`] gives its signal and
//! applies [`Edit`]s to it. Saving is "latest wins": each edit puts the form's JSON in one cell
//! and queues a job that writes whatever the cell holds when the job runs, so jobs that run late
//! never put an older form back. A form that is saved for real calls [`Draft::finish`] first (no
//! later job writes the draft again) and discards the draft in the same store job that saves the
//! record, so a saved form never comes back as a draft; a refused save keeps it.

use crate::i18n::Msg;
use crate::state::{Services, Ui, run_store};
use crate::widgets::{Edit, add_photo, edit};
use dioxus::prelude::*;
use gridmate_device::{DeviceError, Store, StoreThread};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::{Arc, Mutex};

/// The JSON a draft job will write; `None` once the form is being saved.
type Pending = Arc<Mutex<Option<String>>>;

/// A form backed by a draft. Copy: hand it to every event handler.
pub struct Draft<F: 'static> {
    /// The form as typed so far.
    pub form: Signal<F>,
    /// False until the stored draft (if any) has been read: forms with uncontrolled fields draw
    /// only then, so a restored value is their initial value.
    pub ready: Signal<bool>,
    key: CopyValue<String>,
    store: CopyValue<StoreThread>,
    pending: CopyValue<Pending>,
}

impl<F> Clone for Draft<F> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<F> Copy for Draft<F> {}

/// The form kept under `key` (e.g. `"visit:<household id>"`), starting as `init()` when there is
/// no draft or it no longer parses (a form that changed shape between app versions).
pub fn use_draft<F>(key: String, init: impl FnOnce() -> F) -> Draft<F>
where
    F: Serialize + DeserializeOwned + Clone + Send + 'static,
{
    let services = use_context::<Services>();
    let mut form = use_signal(init);
    let mut ready = use_signal(|| false);
    let draft = Draft {
        form,
        ready,
        key: use_hook(|| CopyValue::new(key)),
        store: use_hook(|| CopyValue::new(services.store.clone())),
        pending: use_hook(|| CopyValue::new(Arc::new(Mutex::new(None)))),
    };
    use_hook(move || {
        let key = draft.key();
        let store = draft.store.cloned();
        spawn(async move {
            let restored = store
                .run(move |s| load_draft::<F>(s, &key))
                .await
                .ok()
                .flatten();
            if let Some(f) = restored {
                form.set(f);
            }
            ready.set(true);
        });
    });
    draft
}

/// The draft stored under `key`, if it parses as an `F`.
pub fn load_draft<F: DeserializeOwned>(store: &Store, key: &str) -> Option<F> {
    let body = store.draft(key).ok().flatten()?;
    serde_json::from_str(&body).ok()
}

impl<F> Draft<F>
where
    F: Serialize + Clone + 'static,
{
    pub fn key(self) -> String {
        self.key.cloned()
    }

    /// Apply one edit and save the draft.
    pub fn edit(mut self, e: Edit<F>) {
        e(&mut self.form.write());
        let Ok(body) = serde_json::to_string(&*self.form.peek()) else {
            return;
        };
        let pending = self.pending.cloned();
        *pending.lock().unwrap_or_else(|e| e.into_inner()) = Some(body);
        let key = self.key();
        let store = self.store.cloned();
        spawn(async move {
            let _ = store
                .run(move |s| {
                    let latest = pending.lock().unwrap_or_else(|e| e.into_inner()).take();
                    match latest {
                        Some(body) => s.save_draft(&key, &body),
                        None => Ok(()),
                    }
                })
                .await;
        });
    }

    /// The form is being saved: no queued job may write the draft again. The save itself
    /// discards the draft in its own store job (`Store::discard_draft`), after it succeeds.
    pub fn finish(self) -> F {
        self.pending
            .cloned()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        self.form.cloned()
    }

    /// Take a photo with the camera (`bytes: None`) or ingest a picked one, and add its name to
    /// the form's list that `list` picks (once); a failure, or no photo taken, goes to `error`
    /// in the user's words. Call it from an event handler.
    pub fn add_photo(
        self,
        bytes: Option<Vec<u8>>,
        mut error: Signal<Option<String>>,
        list: fn(&mut F) -> &mut Vec<String>,
    ) {
        let services = consume_context::<Services>();
        let lang = *consume_context::<Ui>().lang.peek();
        spawn(async move {
            match add_photo(&services, bytes, lang).await {
                Some(Ok(sha)) => {
                    let sha = sha.to_string();
                    self.edit(edit(move |f: &mut F| {
                        let photos = list(f);
                        if !photos.contains(&sha) {
                            photos.push(sha.clone());
                        }
                    }));
                    error.set(None);
                }
                Some(Err(e)) => error.set(Some(e)),
                None => error.set(Some(lang.t(Msg::NoPhotoTaken).into())),
            }
        });
    }

    /// Save the form for real: `write` runs on the store thread with the form and, when it
    /// succeeds, discards the draft in the same job; `done` then gets its result. A refusal goes
    /// to `error` in the user's words and the draft stays. Call it from an event handler.
    pub fn submit<T: Send + 'static>(
        self,
        mut error: Signal<Option<String>>,
        write: impl FnOnce(&mut Store, F) -> Result<T, DeviceError> + Send + 'static,
        done: impl FnOnce(T) + 'static,
    ) where
        F: Send,
    {
        let services = consume_context::<Services>();
        let lang = *consume_context::<Ui>().lang.peek();
        let form = self.finish();
        let key = self.key();
        spawn(async move {
            let saved = run_store(&services.store, lang, move |s| {
                let value = write(s, form)?;
                s.discard_draft(&key)?;
                Ok(value)
            })
            .await;
            match saved {
                Ok(value) => {
                    error.set(None);
                    done(value);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    }

    /// Start over with `form` (after a save, for forms that stay on screen).
    pub fn reset(mut self, form: F) {
        self.form.set(form);
    }
}
