//! The phone's own platform: what the system webview the app runs in already offers any page —
//! the W3C Geolocation API (`navigator.geolocation.watchPosition`: fix and accuracy), the
//! `online`/`offline` events, the Notifications API and `tel:` links — bridged to [`Platform`].
//! The same code runs in Android's and iOS's webviews, in the desktop webview and in the browser
//! end-to-end run, where Chromium's DevTools emulate the position.
//!
//! [`Platform`]'s calls are synchronous and may come from any thread, while the page can only be
//! reached from the UI. So [`serve_page`], called from the app's root component, runs one script in
//! the page that watches the position and the connection and sends each change back; the
//! platform keeps the latest of each for `location()` and `reachable()` to read. What the
//! platform must ask of the page (a notification, a call) it queues for the bridge to run.
//!
//! What a webview cannot tell: whether a fix came from a mock-location app (Android's
//! `isFromMockProvider` is not exposed to pages), so `mock_location` is always false here and the
//! server's own check of a check-in's distance and accuracy is what holds (docs/security.md).

use super::{DesktopPlatform, Platform};
use dioxus::prelude::*;
use gridmate_model::GpsFix;
use serde::Deserialize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// A fix older than this is not where the worker is now.
const FIX_MAX_AGE: Duration = Duration::from_secs(120);

/// Why there is no usable fix, as the page reported it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LocationProblem {
    /// The user (or the system) refused the app location.
    Denied,
    /// The phone could not work out where it is (indoors, no signal).
    Unavailable,
    /// No fix came within the time asked.
    TimedOut,
    /// This webview has no geolocation at all.
    Unsupported,
}

/// What the page's script sends back.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum PageReport {
    Fix { lat: f64, lon: f64, accuracy: f64 },
    LocationError { code: u32 },
    Online { online: bool },
}

/// What the platform asks of the page.
#[derive(Clone, Debug, PartialEq)]
enum PageRequest {
    Notify { title: String, body: String },
    Dial { number: String },
}

#[derive(Default)]
struct Sensed {
    fix: Option<(GpsFix, Instant)>,
    problem: Option<LocationProblem>,
}

pub struct WebviewPlatform {
    sensed: Mutex<Sensed>,
    /// What the page last said of the network; `None` until it has said.
    online: tokio::sync::watch::Sender<Option<bool>>,
    requests: UnboundedSender<PageRequest>,
    /// Held by the one bridge serving the page now (a reloaded page's bridge waits for the old
    /// one's to go).
    pending: Arc<tokio::sync::Mutex<UnboundedReceiver<PageRequest>>>,
    /// Device name, keystore stand-in and the TCP probe behind `reachable`.
    host: DesktopPlatform,
}

impl Default for WebviewPlatform {
    fn default() -> Self {
        WebviewPlatform::new()
    }
}

impl WebviewPlatform {
    pub fn new() -> WebviewPlatform {
        let (requests, pending) = unbounded_channel();
        WebviewPlatform {
            sensed: Mutex::new(Sensed::default()),
            online: tokio::sync::watch::Sender::new(None),
            requests,
            pending: Arc::new(tokio::sync::Mutex::new(pending)),
            host: DesktopPlatform::new(None, None),
        }
    }

    fn sensed(&self) -> std::sync::MutexGuard<'_, Sensed> {
        self.sensed.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn report(&self, r: PageReport) {
        let mut s = self.sensed();
        match r {
            PageReport::Fix { lat, lon, accuracy } => {
                match gridmate_model::validate::coordinates(lat, lon, Some(accuracy)) {
                    Ok(()) => {
                        s.fix = Some((
                            GpsFix {
                                lat,
                                lon,
                                accuracy_m: accuracy,
                                mock_location: false,
                            },
                            Instant::now(),
                        ));
                        s.problem = None;
                    }
                    Err(_) => s.problem = Some(LocationProblem::Unavailable),
                }
            }
            // The codes of GeolocationPositionError; 0 is this script's own "no geolocation".
            PageReport::LocationError { code } => {
                s.problem = Some(match code {
                    0 => LocationProblem::Unsupported,
                    1 => LocationProblem::Denied,
                    3 => LocationProblem::TimedOut,
                    _ => LocationProblem::Unavailable,
                });
            }
            PageReport::Online { online } => {
                self.online.send_replace(Some(online));
            }
        }
    }
}

impl Platform for WebviewPlatform {
    fn location(&self) -> Option<GpsFix> {
        let s = self.sensed();
        s.fix
            .filter(|(_, at)| at.elapsed() <= FIX_MAX_AGE)
            .map(|(fix, _)| fix)
    }

    fn location_problem(&self) -> Option<LocationProblem> {
        let s = self.sensed();
        match s.fix {
            Some((_, at)) if at.elapsed() <= FIX_MAX_AGE => None,
            _ => s.problem,
        }
    }

    /// The camera is the page's own `<input type=file capture>`; there is nothing to take here.
    fn take_photo(&self) -> Option<Vec<u8>> {
        None
    }

    /// Offline as soon as the page says so; otherwise whether the server answers.
    fn reachable(&self, server: &str) -> bool {
        if *self.online.borrow() == Some(false) {
            return false;
        }
        self.host.reachable(server)
    }

    fn device_name(&self) -> String {
        self.host.device_name()
    }

    /// On a phone: the key the Android Keystore or the iOS Keychain keeps; elsewhere the
    /// desktop's stand-in.
    fn database_key(&self) -> Result<Option<gridmate_device::encryption::DatabaseKey>, String> {
        phone_database_key().unwrap_or_else(|| self.host.database_key())
    }

    fn notify(&self, title: &str, body: &str) {
        let _ = self.requests.send(PageRequest::Notify {
            title: title.into(),
            body: body.into(),
        });
    }

    fn dial(&self, number: &str) {
        let _ = self.requests.send(PageRequest::Dial {
            number: number.into(),
        });
    }

    fn connectivity(&self) -> Option<tokio::sync::watch::Receiver<Option<bool>>> {
        Some(self.online.subscribe())
    }

    fn webview(&self) -> Option<&WebviewPlatform> {
        Some(self)
    }
}

type KeyResult = Result<Option<gridmate_device::encryption::DatabaseKey>, String>;

/// A phone built with `encryption`: its key, made on the first start and kept by the platform
/// (`gridmate-keystore`); built without, no key. `None`: not a phone.
#[cfg(any(target_os = "android", target_os = "ios"))]
fn phone_database_key() -> Option<KeyResult> {
    if !gridmate_device::encryption::available() {
        return Some(Ok(None));
    }
    #[cfg(target_os = "android")]
    let vault = match gridmate_keystore::android::files_dir() {
        Ok(dir) => gridmate_keystore::android::vault(&dir),
        Err(e) => return Some(Err(e.to_string())),
    };
    #[cfg(target_os = "ios")]
    let vault = gridmate_keystore::ios::IosKeychain;
    Some(
        gridmate_keystore::database_key(&vault)
            .map(|k| Some(gridmate_device::encryption::DatabaseKey(k)))
            .map_err(|e| e.to_string()),
    )
}

#[cfg(not(any(target_os = "android", target_os = "ios")))]
fn phone_database_key() -> Option<KeyResult> {
    None
}

/// The script the bridge runs in the page: it watches the position and the connection and sends
/// every change back.
const WATCH: &str = r#"
const send = (m) => dioxus.send(m);
if (navigator.geolocation) {
  // A refused permission ends a watch: ask again every few seconds, so a worker who allows it in
  // the phone's settings and comes back gets a fix without restarting the app.
  const watch = () => {
    const id = navigator.geolocation.watchPosition(
      (p) => send({kind: "fix", lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy}),
      (e) => {
        send({kind: "location_error", code: e.code});
        if (e.code === 1) { navigator.geolocation.clearWatch(id); setTimeout(watch, 5000); }
      },
      {enableHighAccuracy: true, maximumAge: 10000, timeout: 30000});
  };
  watch();
} else {
  send({kind: "location_error", code: 0});
}
send({kind: "online", online: navigator.onLine});
window.addEventListener("online", () => send({kind: "online", online: true}));
window.addEventListener("offline", () => send({kind: "online", online: false}));
await new Promise(() => {});
"#;

/// A request as the script that carries it out. Values go in as JSON strings, never as code.
fn script_for(r: &PageRequest) -> String {
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    match r {
        PageRequest::Notify { title, body } => format!(
            "if (window.Notification) {{ const show = () => new Notification({}, {{body: {}}}); \
             if (Notification.permission === 'granted') show(); \
             else if (Notification.permission !== 'denied') Notification.requestPermission().then((p) => p === 'granted' && show()); }}",
            quoted(title),
            quoted(body)
        ),
        // An anchor clicked, not a navigation: the page stays where it is; the webview hands
        // `tel:` to the phone's dialer.
        PageRequest::Dial { number } => format!(
            "const a = document.createElement('a'); a.href = 'tel:' + {}; a.style.display = 'none'; \
             document.body.appendChild(a); a.click(); a.remove();",
            quoted(number)
        ),
    }
}

/// The page side of [`WebviewPlatform`], when that is `platform` (on any other, nothing): call it
/// once from the app's root component, whose tasks it spawns and whose page it serves.
pub fn serve_page(platform: Arc<dyn Platform>) {
    let Some(web) = platform.webview() else {
        return;
    };
    let pending = web.pending.clone();
    let reports = platform.clone();
    spawn(async move {
        let mut watch = document::eval(WATCH);
        while let Ok(report) = watch.recv::<PageReport>().await {
            if let Some(web) = reports.webview() {
                web.report(report);
            }
        }
    });
    spawn(async move {
        let mut requests = pending.lock().await;
        while let Some(r) = requests.recv().await {
            let _ = document::eval(&script_for(&r)).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_s_reports_become_the_fix_its_problems_and_the_connection() {
        let w = WebviewPlatform::new();
        assert_eq!(w.location(), None);
        w.report(PageReport::LocationError { code: 1 });
        assert_eq!(w.location_problem(), Some(LocationProblem::Denied));
        w.report(PageReport::Fix {
            lat: 36.65,
            lon: 117.0,
            accuracy: 12.0,
        });
        let fix = w.location().expect("a fix");
        assert_eq!((fix.lat, fix.lon, fix.accuracy_m), (36.65, 117.0, 12.0));
        assert!(!fix.mock_location, "a page cannot tell; see the module doc");
        assert_eq!(w.location_problem(), None, "a fresh fix clears the problem");
        // A position no phone can be at is not a fix.
        w.report(PageReport::Fix {
            lat: 95.0,
            lon: 0.0,
            accuracy: 5.0,
        });
        assert_eq!(w.location().map(|f| f.lat), Some(36.65));
        let mut told = w.connectivity().expect("the page tells of the network");
        w.report(PageReport::Online { online: false });
        assert!(!w.reachable("http://127.0.0.1:1"), "offline at once");
        assert!(told.has_changed().unwrap_or(false), "the app is woken");
        assert_eq!(*told.borrow_and_update(), Some(false));
        for (code, problem) in [
            (0, LocationProblem::Unsupported),
            (2, LocationProblem::Unavailable),
            (3, LocationProblem::TimedOut),
        ] {
            let w = WebviewPlatform::new();
            w.report(PageReport::LocationError { code });
            assert_eq!(w.location_problem(), Some(problem));
        }
    }

    #[test]
    fn calls_and_notifications_wait_for_the_page_in_order() {
        let w = WebviewPlatform::new();
        w.notify("网格通", "3 件新任务");
        w.dial("13812345678");
        let mut pending = w.pending.try_lock().expect("no bridge holds it");
        assert_eq!(
            pending.try_recv().ok(),
            Some(PageRequest::Notify {
                title: "网格通".into(),
                body: "3 件新任务".into()
            })
        );
        assert_eq!(
            pending.try_recv().ok(),
            Some(PageRequest::Dial {
                number: "13812345678".into()
            })
        );
    }

    #[test]
    fn reports_are_read_from_the_page_s_json() {
        let r: PageReport =
            serde_json::from_str(r#"{"kind":"fix","lat":36.6,"lon":117.1,"accuracy":30}"#).unwrap();
        assert!(matches!(r, PageReport::Fix { accuracy, .. } if accuracy == 30.0));
        assert!(serde_json::from_str::<PageReport>(r#"{"kind":"eval","code":"x"}"#).is_err());
    }

    #[test]
    fn a_request_s_values_reach_the_page_as_strings_never_as_code() {
        let s = script_for(&PageRequest::Dial {
            number: "1'); alert(1); ('".into(),
        });
        assert!(s.contains(r#"'tel:' + "1'); alert(1); ('""#), "{s}");
        let s = script_for(&PageRequest::Notify {
            title: "3 件新任务".into(),
            body: "\"</script>".into(),
        });
        assert!(s.contains(r#""\"</script>""#), "{s}");
    }
}
