//! What every screen shares, and nothing that draws: the services the app is wired to, the
//! signals screens read, how a screen loads its data, and how it asks to go somewhere else.
//!
//! This module imports no screen and no widget. Screens import it; the shell (`shell`) provides
//! its contexts. Navigation goes through [`Nav`], a context the shell fills with the router's
//! navigator, so screens name a [`Destination`] and never the router's `Route` enum (which
//! names every screen's component, and would put every screen in an import circle with every
//! other).

use crate::i18n::{ErrorWords, Lang, Msg};
use crate::platform::Platform;
use dioxus::prelude::*;
use gridmate_device::sync::{
    SyncClient, SyncError, SyncWorker, Trigger, WorkerConfig, WorkerStatus,
};
use gridmate_device::{DeviceError, Session, Store, StoreThread};
use gridmate_model::{BuildingId, CommitmentId, HouseholdId, IssueId, OrderId, ResidentId};
use std::sync::{Arc, Mutex, MutexGuard};

/// How long a phone may go without reaching the server before it forgets residents' data.
pub const MAX_SILENCE_DAYS: i64 = 30;

/// What the app is wired to. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub store: StoreThread,
    pub platform: Arc<dyn Platform>,
    worker: Arc<Mutex<Option<SyncWorker>>>,
}

impl Services {
    pub fn new(store: StoreThread, platform: Arc<dyn Platform>) -> Services {
        Services {
            store,
            platform,
            worker: Arc::new(Mutex::new(None)),
        }
    }

    /// Start (or restart) syncing with `server` in the background.
    pub fn start_sync(&self, server: &str) -> Result<(), SyncError> {
        self.stop_sync();
        // reqwest's blocking client owns a runtime of its own, which must not be created or
        // dropped on the UI's async runtime: build it (and the worker) on a plain thread.
        let (server, dir) = (server.to_string(), self.store.data_dir().to_path_buf());
        let worker = std::thread::spawn(move || {
            let client = SyncClient::new(&server)?;
            SyncWorker::start(dir, client, WorkerConfig::default()).map_err(SyncError::from)
        })
        .join()
        .map_err(|_| SyncError::Cancelled)??;
        worker.trigger(Trigger::AppStarted);
        *self.lock() = Some(worker);
        Ok(())
    }

    pub fn stop_sync(&self) {
        if let Some(w) = self.lock().take() {
            // Stopping waits for the request in flight; the UI does not.
            std::thread::spawn(move || w.stop());
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<SyncWorker>> {
        self.worker.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn trigger(&self, t: Trigger) {
        if let Some(w) = self.lock().as_ref() {
            w.trigger(t);
        }
    }

    pub fn worker_status(&self) -> Option<WorkerStatus> {
        self.lock().as_ref().map(SyncWorker::status)
    }
}

/// A one-line message above the tab bar ("已保存，联网后自动上传"); with a destination, tapping
/// it goes there (a saved report's notice opens the report).
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub text: String,
    pub link: Option<Destination>,
    /// News from the server ("1 件新任务") stays until tapped: it may arrive through the wake
    /// channel while the phone lies in a pocket, and a notice gone in four seconds would be
    /// news nobody saw. What the user just did ("已保存") goes by itself.
    pub until_tapped: bool,
}

/// The signals every screen reads.
#[derive(Clone, Copy)]
pub struct Ui {
    pub lang: Signal<Lang>,
    pub big_type: Signal<bool>,
    /// Bumped by every write and every finished sync run; [`use_load`] re-reads when it moves.
    pub refresh: Signal<u64>,
    pub online: Signal<bool>,
    pub worker: Signal<WorkerStatus>,
    pub session: Signal<Option<Session>>,
    pub server: Signal<Option<String>>,
    pub notice: Signal<Option<Notice>>,
}

impl Ui {
    pub fn new(startup: &Startup) -> Ui {
        Ui {
            lang: Signal::new(startup.lang.unwrap_or_else(crate::i18n::lang_from_env)),
            big_type: Signal::new(startup.big_type),
            refresh: Signal::new(0),
            online: Signal::new(false),
            worker: Signal::new(WorkerStatus::default()),
            session: Signal::new(startup.session.clone()),
            server: Signal::new(startup.server.clone()),
            notice: Signal::new(None),
        }
    }

    pub fn changed(mut self) {
        *self.refresh.write() += 1;
    }

    pub fn say(mut self, msg: Msg) {
        let text = self.lang.peek().t(msg).to_string();
        self.notice.set(Some(Notice {
            text,
            link: None,
            until_tapped: false,
        }));
    }

    /// A user's write is on the phone: wake the sync worker, re-read what screens show, and say
    /// so in a notice (that opens `link` when tapped, if there is one).
    pub fn saved(mut self, services: &Services, msg: Msg, link: Option<Destination>) {
        services.trigger(Trigger::LocalWrite);
        self.changed();
        let text = self.lang.peek().t(msg).to_string();
        self.notice.set(Some(Notice {
            text,
            link,
            until_tapped: false,
        }));
    }
}

/// Every screen a user can be sent to, with its URL: the one list of the app's screens. Each
/// line makes a variant of [`Destination`] and its URL pattern (`:name` for each field, in
/// order), read both ways by [`Destination::path`] and [`Destination::from_path`]. A new screen
/// is one line here; the compiler then asks for its arm in [`Destination::tab`] and in the
/// shell's `Screen`, which draws it.
macro_rules! destinations {
    ($( $(#[$doc:meta])* $name:ident $( ( $($field:ident : $ty:ty),+ ) )? => $pattern:literal, )*) => {
        /// Where a screen can send the user. The shell's router shows each at its URL, so back,
        /// deep links and tabs are the router's.
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub enum Destination {
            $( $(#[$doc])* $name $( ( $($ty),+ ) )?, )*
        }

        impl Destination {
            /// Every URL pattern, in the order they are tried.
            pub const PATTERNS: &'static [&'static str] = &[$($pattern),*];

            /// Its URL: `/household/0190…/visit`.
            pub fn path(self) -> String {
                match self {
                    $( Destination::$name $( ( $($field),+ ) )? => {
                        fill_path($pattern, &[ $( $( &$field as &dyn std::fmt::Display ),+ )? ])
                    } )*
                }
            }

            /// The destination a URL names, or `None` for one no screen has (an older app's
            /// link, a mistyped one, an id that does not parse).
            pub fn from_path(path: &str) -> Option<Destination> {
                $(
                    // A destination without fields reads no value from its URL, so for it
                    // `values` is never advanced and `parse` captures nothing mutably.
                    #[allow(unused_mut, unused_variables)]
                    if let Some(mut values) = match_path($pattern, path) {
                        let mut parse = || -> Option<Destination> {
                            Some(Destination::$name $( ( $( values.next()?.parse::<$ty>().ok()? ),+ ) )?)
                        };
                        let found = parse();
                        if found.is_some() {
                            return found;
                        }
                    }
                )*
                None
            }
        }
    };
}

destinations! {
    Home => "/",
    Households => "/households",
    Building(building: BuildingId) => "/building/:building",
    Household(household: HouseholdId) => "/household/:household",
    RecordVisit(household: HouseholdId) => "/household/:household/visit",
    /// Report a problem with no place chosen yet.
    Report => "/report",
    ReportInBuilding(building: BuildingId) => "/building/:building/report",
    ReportForHousehold(household: HouseholdId) => "/household/:household/report",
    Issues => "/issues",
    Issue(issue: IssueId) => "/issue/:issue",
    Order(order: OrderId) => "/order/:order",
    /// Record a resident's request (群众点单) on a household.
    RecordRequest(household: HouseholdId) => "/household/:household/request",
    RegisterHousehold(building: BuildingId) => "/building/:building/register",
    AddResident(household: HouseholdId) => "/household/:household/add",
    CorrectResident(household: HouseholdId, resident: ResidentId) => "/household/:household/resident/:resident",
    EditHousehold(household: HouseholdId) => "/household/:household/edit",
    Party => "/party",
    Commitment(commitment: CommitmentId) => "/party/commitment/:commitment",
    Service => "/party/service",
    Sync => "/sync",
}

/// A URL pattern with its `:field` segments replaced by `values`, in order.
fn fill_path(pattern: &str, values: &[&dyn std::fmt::Display]) -> String {
    let mut values = values.iter();
    let segments: Vec<String> = pattern
        .split('/')
        .map(|segment| match segment.strip_prefix(':') {
            Some(_) => values.next().map(|v| v.to_string()).unwrap_or_default(),
            None => segment.to_string(),
        })
        .collect();
    segments.join("/")
}

/// The values of a URL's `:field` segments if it has the pattern's shape, in order.
fn match_path<'a>(pattern: &str, path: &'a str) -> Option<std::vec::IntoIter<&'a str>> {
    let split = |p: &'a str| {
        p.split('/')
            .filter(|s| !s.is_empty())
            .collect::<Vec<&'a str>>()
    };
    let wanted: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let got = split(path);
    if wanted.len() != got.len() {
        return None;
    }
    let mut values = Vec::new();
    for (w, g) in wanted.iter().zip(got) {
        if w.starts_with(':') {
            values.push(g);
        } else if *w != g {
            return None;
        }
    }
    Some(values.into_iter())
}

impl Destination {
    /// The tab a destination belongs to, for highlighting.
    pub fn tab(self) -> Destination {
        match self {
            Destination::Home => Destination::Home,
            Destination::Households
            | Destination::Building(_)
            | Destination::Household(_)
            | Destination::RecordVisit(_)
            | Destination::RecordRequest(_)
            | Destination::RegisterHousehold(_)
            | Destination::AddResident(_)
            | Destination::CorrectResident(..)
            | Destination::EditHousehold(_) => Destination::Households,
            Destination::Report
            | Destination::ReportInBuilding(_)
            | Destination::ReportForHousehold(_)
            | Destination::Issues
            | Destination::Issue(_) => Destination::Issues,
            Destination::Party
            | Destination::Service
            | Destination::Order(_)
            | Destination::Commitment(_) => Destination::Party,
            Destination::Sync => Destination::Sync,
        }
    }
}

/// One navigation request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NavOp {
    /// Open on top of the current screen.
    Go(Destination),
    /// Replace the current screen (after saving a form, the form should not be "back").
    Replace(Destination),
    Back,
}

/// The router's navigator as screens see it; provided by the shell.
#[derive(Clone, Copy)]
pub struct Nav(pub Callback<NavOp>);

impl Nav {
    pub fn go(self, d: Destination) {
        self.0.call(NavOp::Go(d));
    }
    pub fn replace(self, d: Destination) {
        self.0.call(NavOp::Replace(d));
    }
    pub fn back(self) {
        self.0.call(NavOp::Back);
    }
}

/// The navigator; outside the shell (component tests), a no-op.
pub fn use_nav() -> Nav {
    try_use_context::<Nav>().unwrap_or_else(|| Nav(Callback::new(|_: NavOp| {})))
}

/// What `main` learned before the window opened.
#[derive(Clone, Debug, Default)]
pub struct Startup {
    pub lang: Option<Lang>,
    pub big_type: bool,
    pub session: Option<Session>,
    pub server: Option<String>,
    /// Sign in at once with these (the demo's "run the main job"; tests).
    pub auto_sign_in: Option<(String, String, String)>,
}

impl Startup {
    /// Read the preferences and session from the store (on its own thread).
    pub fn read(store: &StoreThread) -> Result<Startup, DeviceError> {
        store
            .run_blocking(|s: &mut Store| -> Result<Startup, DeviceError> {
                s.wipe_if_out_of_contact(
                    chrono::Duration::days(MAX_SILENCE_DAYS),
                    chrono::Utc::now(),
                )?;
                Ok(Startup {
                    lang: s.preference("lang")?.map(|c| Lang::from_code(&c)),
                    big_type: s.preference("big_type")?.as_deref() == Some("1"),
                    session: s.session()?,
                    server: s.server_address()?,
                    auto_sign_in: None,
                })
            })
            .map_err(|_| DeviceError::Corrupt("store thread".into()))?
    }
}

/// Load a screen's data on the store thread; re-runs after writes and syncs. The error is
/// already in the user's language.
pub fn use_load<T, F>(f: F) -> Resource<Result<T, String>>
where
    T: Send + 'static,
    F: Fn(&mut Store) -> Result<T, DeviceError> + Send + Sync + Clone + 'static,
{
    let services = use_context::<Services>();
    let ui = use_context::<Ui>();
    use_resource(move || {
        let _ = (ui.refresh)();
        let lang = *ui.lang.peek();
        let f = f.clone();
        let store = services.store.clone();
        async move { run_store(&store, lang, f).await }
    })
}

/// A form seeded from `data` the first time it loads, and never again: `data` re-reads after
/// every sync run (one fails every few seconds while offline), and a re-seed would wipe what
/// the user has typed or ticked since. `None` until the first load.
pub fn use_seeded_form<D, F>(
    data: Resource<Result<D, String>>,
    seed: impl Fn(&D) -> F + 'static,
) -> Signal<Option<F>>
where
    D: 'static,
    F: 'static,
{
    let mut form = use_signal(|| None::<F>);
    use_effect(move || {
        if let Some(Ok(d)) = &*data.read()
            && form.peek().is_none()
        {
            form.set(Some(seed(d)));
        }
    });
    form
}

/// Run `f` on the store thread; its error, or the thread's absence, worded for the user.
pub async fn run_store<T, F>(store: &StoreThread, lang: Lang, f: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce(&mut Store) -> Result<T, DeviceError> + Send + 'static,
{
    match store.run(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(lang.device_error(&e)),
        Err(_) => Err(lang.t(Msg::StoreGone).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;

    /// The signals a test drives from outside the screen.
    #[derive(Clone, Default)]
    struct Handles(Rc<RefCell<Option<Driven>>>);

    /// How often the data was re-read, and the form.
    type Driven = (Signal<u32>, Signal<Option<String>>);

    impl PartialEq for Handles {
        fn eq(&self, other: &Handles) -> bool {
            Rc::ptr_eq(&self.0, &other.0)
        }
    }

    #[component]
    fn EditForm(handles: Handles) -> Element {
        let reloads = use_signal(|| 0u32);
        let data = use_resource(move || {
            let n = reloads();
            async move { Ok::<u32, String>(n) }
        });
        let form = use_seeded_form(data, |n: &u32| format!("loaded {n}"));
        *handles.0.borrow_mut() = Some((reloads, form));
        rsx! {}
    }

    async fn settle(dom: &mut VirtualDom) {
        for _ in 0..20 {
            let _ = tokio::time::timeout(Duration::from_millis(10), dom.wait_for_work()).await;
            dom.render_immediate(&mut dioxus::dioxus_core::NoOpMutations);
        }
    }

    #[test]
    fn a_seeded_form_keeps_what_the_user_ticked_when_its_data_reloads() {
        let handles = Handles::default();
        let h = handles.clone();
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(async move {
                let mut dom = VirtualDom::new_with_props(EditForm, EditFormProps { handles: h });
                dom.rebuild_in_place();
                settle(&mut dom).await;
                let (mut reloads, mut form) = handles.0.borrow().unwrap();
                assert_eq!(
                    dom.in_runtime(|| form.peek().clone()).as_deref(),
                    Some("loaded 0")
                );
                dom.in_runtime(|| {
                    form.set(Some("ticked 独居老人".into()));
                    // What a failed sync attempt does while the user is on the form.
                    reloads += 1;
                });
                settle(&mut dom).await;
                assert_eq!(
                    dom.in_runtime(|| form.peek().clone()).as_deref(),
                    Some("ticked 独居老人"),
                    "a reload must not wipe the user's edit"
                );
            });
    }
}
