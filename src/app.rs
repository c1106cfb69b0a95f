//! The app shell: the services every screen shares, navigation, the tab bar, and the background
//! loops that keep the sync bar true (sync worker status, server reachability).
//!
//! Screens get two contexts: [`Services`] (the store thread, the platform, the sync worker) and
//! [`Ui`] (signals: language, type size, navigation stack, a refresh counter bumped after every
//! write and every finished sync run, connectivity and the worker's status). A screen loads its
//! data with [`use_load`], which re-runs whenever `refresh` moves.

use crate::i18n::Lang;
use crate::platform::Platform;
use crate::screens;
use crate::widgets::{SyncBar, SyncBarState, TabBar};
use dioxus::prelude::*;
use gridmate_device::sync::{SyncClient, SyncWorker, Trigger, WorkerConfig, WorkerStatus};
use gridmate_device::{DeviceError, Session, Store, StoreThread};
use gridmate_model::{BuildingId, HouseholdId, IssueId, Role};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How long a phone may go without reaching the server before it forgets residents' data.
pub const MAX_SILENCE_DAYS: i64 = 30;

/// Where the user is. The stack's last entry is on screen; tabs reset the stack.
#[derive(Clone, Debug, PartialEq)]
pub enum Route {
    Home,
    Households,
    Building(BuildingId),
    Household(HouseholdId),
    RecordVisit(HouseholdId),
    Report {
        building: Option<BuildingId>,
        household: Option<HouseholdId>,
    },
    Issues,
    Issue(IssueId),
    Party,
    Service,
    Sync,
}

impl Route {
    /// The tab a route belongs to, for highlighting.
    pub fn tab(&self) -> Route {
        match self {
            Route::Home => Route::Home,
            Route::Households
            | Route::Building(_)
            | Route::Household(_)
            | Route::RecordVisit(_) => Route::Households,
            Route::Report { .. } | Route::Issues | Route::Issue(_) => Route::Issues,
            Route::Party | Route::Service => Route::Party,
            Route::Sync => Route::Sync,
        }
    }
}

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
    pub fn start_sync(&self, server: &str) -> Result<(), String> {
        self.stop_sync();
        // reqwest's blocking client owns a runtime of its own, which must not be created or
        // dropped on the UI's async runtime: build it (and the worker) on a plain thread.
        let (server, dir) = (server.to_string(), self.store.data_dir().to_path_buf());
        let worker = std::thread::spawn(move || {
            let client = SyncClient::new(&server).map_err(|e| e.message_zh())?;
            SyncWorker::start(dir, client, WorkerConfig::default()).map_err(|e| e.message_zh())
        })
        .join()
        .map_err(|_| "sync worker".to_string())??;
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

/// The signals every screen reads.
#[derive(Clone, Copy)]
pub struct Ui {
    pub lang: Signal<Lang>,
    pub big_type: Signal<bool>,
    pub stack: Signal<Vec<Route>>,
    pub refresh: Signal<u64>,
    pub online: Signal<bool>,
    pub worker: Signal<WorkerStatus>,
    pub session: Signal<Option<Session>>,
    pub server: Signal<Option<String>>,
    /// A one-line message shown above the tab bar ("已保存，联网后自动上传").
    pub notice: Signal<Option<String>>,
}

impl Ui {
    pub fn go(mut self, r: Route) {
        self.stack.write().push(r);
    }

    pub fn back(mut self) {
        let mut s = self.stack.write();
        if s.len() > 1 {
            s.pop();
        }
    }

    pub fn tab(mut self, r: Route) {
        self.stack.set(vec![r]);
    }

    /// Replace the screen on top (after saving a form, the form should not be "back").
    pub fn replace(mut self, r: Route) {
        let mut s = self.stack.write();
        s.pop();
        s.push(r);
    }

    pub fn changed(mut self) {
        *self.refresh.write() += 1;
    }

    pub fn say(mut self, text: impl Into<String>) {
        self.notice.set(Some(text.into()));
    }
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

/// Load a screen's data on the store thread; re-runs after writes and syncs.
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
        async move {
            match store.run(move |s| f(s)).await {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(e)) => Err(device_error(lang, &e)),
                Err(gone) => Err(gone.to_string()),
            }
        }
    })
}

/// A store error in the user's language.
pub fn device_error(lang: Lang, e: &DeviceError) -> String {
    match lang {
        Lang::Zh => e.message_zh(),
        Lang::En => e.to_string(),
    }
}

#[component]
pub fn App() -> Element {
    let startup = use_context::<Startup>();
    let services = use_context::<Services>();
    let ui = use_context_provider(|| Ui {
        lang: Signal::new(startup.lang.unwrap_or_else(Lang::from_env)),
        big_type: Signal::new(startup.big_type),
        stack: Signal::new(vec![Route::Home]),
        refresh: Signal::new(0),
        online: Signal::new(false),
        worker: Signal::new(WorkerStatus::default()),
        session: Signal::new(startup.session.clone()),
        server: Signal::new(startup.server.clone()),
        notice: Signal::new(None),
    });
    // A device that was signed in starts syncing at once.
    use_hook({
        let services = services.clone();
        let startup = startup.clone();
        move || {
            if let (Some(_), Some(server)) = (&startup.session, &startup.server) {
                let _ = services.start_sync(server);
            }
        }
    });
    use_background_loops(services.clone(), ui);
    let lang = (ui.lang)();
    let class = if (ui.big_type)() {
        "app big-type"
    } else {
        "app"
    };
    rsx! {
        style { {crate::STYLE} }
        div { class, lang: lang.code(),
            if (ui.session)().is_none() {
                screens::signin::SignInScreen { auto: startup.auto_sign_in.clone() }
            } else {
                Signed {}
            }
        }
    }
}

/// Poll the worker's status and the server's reachability; neither ever blocks the UI thread.
fn use_background_loops(services: Services, mut ui: Ui) {
    let status_services = services.clone();
    use_future(move || {
        let services = status_services.clone();
        async move {
            let mut last_runs = 0;
            loop {
                if let Some(st) = services.worker_status() {
                    if st.runs != last_runs {
                        last_runs = st.runs;
                        // A run that reached the server proves the network; one that could
                        // not is as good as a failed probe.
                        let reached = st.last_error.is_none();
                        if *ui.online.peek() != reached {
                            ui.online.set(reached);
                        }
                        // A revoked token signs the device out; the store knows.
                        let session = services
                            .store
                            .run(|s| s.session().ok().flatten())
                            .await
                            .ok()
                            .flatten();
                        if session.is_none() && ui.session.peek().is_some() {
                            services.stop_sync();
                            ui.session.set(None);
                        }
                        ui.changed();
                    }
                    if *ui.worker.peek() != st {
                        ui.worker.set(st);
                    }
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    });
    use_future(move || {
        let services = services.clone();
        async move {
            loop {
                let server = ui.server.peek().clone();
                let online = match server {
                    Some(server) => {
                        let platform = services.platform.clone();
                        tokio::task::spawn_blocking(move || platform.reachable(&server))
                            .await
                            .unwrap_or(false)
                    }
                    None => false,
                };
                let was = *ui.online.peek();
                if online != was {
                    ui.online.set(online);
                    if online {
                        services.trigger(Trigger::NetworkUp);
                    }
                }
                tokio::time::sleep(Duration::from_secs(if online { 10 } else { 3 })).await;
            }
        }
    });
}

/// How long a notice ("已保存…") stays before it goes by itself.
const NOTICE_FOR: Duration = Duration::from_secs(4);

/// The signed-in app: sync bar, the screen on top of the stack, notice, tab bar.
#[component]
fn Signed() -> Element {
    let ui = use_context::<Ui>();
    let services = use_context::<Services>();
    let lang = (ui.lang)();
    let route = ui.stack.read().last().cloned().unwrap_or(Route::Home);
    let roles: Vec<Role> = ui
        .session
        .read()
        .as_ref()
        .map(|s| s.user.roles.clone())
        .unwrap_or_default();
    let status = use_load(|s| s.sync_status());
    let bar = SyncBarState {
        status: status
            .read()
            .as_ref()
            .and_then(|r| r.as_ref().ok().cloned())
            .unwrap_or_default(),
        online: (ui.online)(),
        worker: (ui.worker)(),
    };
    let notice = (ui.notice)();
    use_effect(move || {
        if let Some(text) = (ui.notice)() {
            let mut n = ui.notice;
            spawn(async move {
                tokio::time::sleep(NOTICE_FOR).await;
                if n.peek().as_deref() == Some(text.as_str()) {
                    n.set(None);
                }
            });
        }
    });
    rsx! {
        SyncBar {
            state: bar,
            lang,
            on_retry: move |_| services.trigger(Trigger::Now),
        }
        main { class: "screen",
            {match route.clone() {
                Route::Home => rsx! { screens::home::HomeScreen {} },
                Route::Households => rsx! { screens::households::HouseholdsScreen {} },
                Route::Building(b) => rsx! { screens::households::BuildingScreen { key: "{b}", building: b } },
                Route::Household(h) => rsx! { screens::household::HouseholdScreen { key: "{h}", household: h } },
                Route::RecordVisit(h) => rsx! { screens::visit::VisitScreen { key: "{h}", household: h } },
                Route::Report { building, household } => rsx! {
                    screens::report::ReportScreen { building, household }
                },
                Route::Issues => rsx! { screens::issues::IssuesScreen {} },
                Route::Issue(i) => rsx! { screens::issues::IssueScreen { key: "{i}", issue: i } },
                Route::Party => rsx! { screens::party::PartyScreen {} },
                Route::Service => rsx! { screens::party::ServiceScreen {} },
                Route::Sync => rsx! { screens::settings::SettingsScreen {} },
            }}
        }
        if let Some(text) = notice {
            div { class: "notice", role: "status",
                onclick: move |_| { let mut n = ui.notice; n.set(None) },
                "{text}"
            }
        }
        TabBar { current: route.tab(), roles, lang, on_tab: move |r| ui.tab(r) }
    }
}
