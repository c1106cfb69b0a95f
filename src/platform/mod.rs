//! What the phone gives the app beyond the screen: camera, location, connectivity, notifications.
//!
//! Screens see only the [`Platform`] trait, so the same screens run on Android, iOS and the Linux
//! desktop. Two implementations:
//! - [`WebviewPlatform`] (`webview`), the phone's: what the system webview gives any page
//!   (geolocation, online/offline, notifications, `tel:`), bridged from the page by
//!   [`serve_page`]; the camera is the page's `<input type=file capture>`. Chosen on Android
//!   and iOS, and by the browser end-to-end run.
//! - [`DesktopPlatform`], standing in for the phone in development and headless tests: photos
//!   come from a folder (the "camera roll") or a file picker, the location is set from the
//!   command line or environment, and connectivity is whether the server answers a TCP
//!   connection.

mod webview;

pub use webview::{LocationProblem, WebviewPlatform, serve_page};

use gridmate_model::GpsFix;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

pub trait Platform: Send + Sync {
    /// The current fix, or `None` when location is off or not yet available.
    fn location(&self) -> Option<GpsFix>;
    /// Take a photo: the JPEG/PNG bytes, `None` when the user cancelled.
    fn take_photo(&self) -> Option<Vec<u8>>;
    /// Whether the server can be reached now. Blocking: call it off the UI thread.
    fn reachable(&self, server: &str) -> bool;
    /// How this phone is named to the server ("Redmi Note 12", "linux-desktop").
    fn device_name(&self) -> String;
    /// The store's encryption key from the platform keystore (Android Keystore, iOS Keychain);
    /// `None` where the build stores its cache unencrypted. An error (the keystore refused, for
    /// now) means the store must not be opened at all: opened without its key it would be lost.
    fn database_key(&self) -> Result<Option<gridmate_device::encryption::DatabaseKey>, String>;
    /// Tell the user something happened while the app was in the background ("3 件新任务"): a
    /// local notification on the phone, a desktop notification here.
    fn notify(&self, title: &str, body: &str);
    /// Call a number (the phone's dialer, `tel:`). The number is never shown on the page.
    fn dial(&self, number: &str);
    /// Why `location` has no fix, when the platform knows (permission refused, no signal).
    fn location_problem(&self) -> Option<LocationProblem> {
        None
    }
    /// Where the platform hears of the network going and coming (the webview's `offline` and
    /// `online` events): each change, as it happens, so the app need not wait for its next probe.
    /// `None` where the only way to know is to probe.
    fn connectivity(&self) -> Option<tokio::sync::watch::Receiver<Option<bool>>> {
        None
    }
    /// The webview platform, for the bridge that serves it from the page.
    fn webview(&self) -> Option<&WebviewPlatform> {
        None
    }
}

/// The Linux desktop standing in for a phone.
pub struct DesktopPlatform {
    fix: Option<GpsFix>,
    camera_roll: Option<PathBuf>,
    taken: Mutex<usize>,
    notified: Mutex<Vec<(String, String)>>,
    dialled: Mutex<Vec<String>>,
}

impl DesktopPlatform {
    /// `GRIDMATE_LOCATION="lat,lon,accuracy_m[,mock]"` sets the fix; `GRIDMATE_CAMERA_DIR` is a
    /// folder of photos the camera hands out in name order, one per shot.
    pub fn from_env() -> DesktopPlatform {
        DesktopPlatform {
            fix: std::env::var("GRIDMATE_LOCATION")
                .ok()
                .and_then(|v| parse_fix(&v)),
            camera_roll: std::env::var_os("GRIDMATE_CAMERA_DIR").map(PathBuf::from),
            taken: Mutex::new(0),
            notified: Mutex::new(Vec::new()),
            dialled: Mutex::new(Vec::new()),
        }
    }

    pub fn new(fix: Option<GpsFix>, camera_roll: Option<PathBuf>) -> DesktopPlatform {
        DesktopPlatform {
            fix,
            camera_roll,
            taken: Mutex::new(0),
            notified: Mutex::new(Vec::new()),
            dialled: Mutex::new(Vec::new()),
        }
    }

    /// Every number dialled so far, oldest first.
    pub fn dialled(&self) -> Vec<String> {
        self.dialled.lock().map(|n| n.clone()).unwrap_or_default()
    }

    /// Every notification shown so far (title, body), oldest first.
    pub fn notified(&self) -> Vec<(String, String)> {
        self.notified.lock().map(|n| n.clone()).unwrap_or_default()
    }
}

/// "22.58,113.08,12" or "22.58,113.08,12,mock".
pub fn parse_fix(text: &str) -> Option<GpsFix> {
    let mut parts = text.split(',').map(str::trim);
    let lat = parts.next()?.parse().ok()?;
    let lon = parts.next()?.parse().ok()?;
    let accuracy_m = parts.next().map_or(Some(10.0), |a| a.parse().ok())?;
    let mock_location = parts.next() == Some("mock");
    gridmate_model::validate::coordinates(lat, lon, Some(accuracy_m)).ok()?;
    Some(GpsFix {
        lat,
        lon,
        accuracy_m,
        mock_location,
    })
}

impl Platform for DesktopPlatform {
    fn location(&self) -> Option<GpsFix> {
        self.fix
    }

    fn take_photo(&self) -> Option<Vec<u8>> {
        let dir = self.camera_roll.as_ref()?;
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        if files.is_empty() {
            return None;
        }
        let mut taken = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        let file = &files[*taken % files.len()];
        *taken += 1;
        std::fs::read(file).ok()
    }

    fn reachable(&self, server: &str) -> bool {
        let Some(addr) = server_socket(server) else {
            return false;
        };
        TcpStream::connect_timeout(&addr, Duration::from_secs(3)).is_ok()
    }

    fn device_name(&self) -> String {
        std::env::var("HOSTNAME").unwrap_or_else(|_| "linux-desktop".into())
    }

    /// The desktop has no keystore: `GRIDMATE_DB_KEY` (64 hex digits) stands in for one, for
    /// trying an encrypted build (`--features encryption`).
    fn database_key(&self) -> Result<Option<gridmate_device::encryption::DatabaseKey>, String> {
        match std::env::var("GRIDMATE_DB_KEY") {
            Err(_) => Ok(None),
            Ok(h) => gridmate_device::encryption::DatabaseKey::from_hex(&h)
                .map(Some)
                .ok_or_else(|| "GRIDMATE_DB_KEY is not 64 hex digits".to_string()),
        }
    }

    fn notify(&self, title: &str, body: &str) {
        if let Ok(mut n) = self.notified.lock() {
            n.push((title.to_string(), body.to_string()));
        }
        desktop_notification(title, body);
    }

    /// A desktop has no dialer: the call is only noted (and the number never logged).
    fn dial(&self, number: &str) {
        if let Ok(mut d) = self.dialled.lock() {
            d.push(number.to_string());
        }
    }
}

/// The desktop's notification service through `notify-send` (libnotify) when the machine has
/// one; a headless run has none and only keeps the list.
fn desktop_notification(title: &str, body: &str) {
    let (title, body) = (title.to_string(), body.to_string());
    // Waited for on a thread of its own, so the UI never waits and no child is left a zombie.
    std::thread::spawn(move || {
        let _ = std::process::Command::new("notify-send")
            .args(["--app-name=网格通", &title, &body])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    });
}

/// "http://host:port/..." → the socket to try.
fn server_socket(server: &str) -> Option<SocketAddr> {
    let rest = server
        .strip_prefix("http://")
        .map(|r| (r, 80))
        .or_else(|| server.strip_prefix("https://").map(|r| (r, 443)))?;
    let (rest, default_port) = rest;
    let host_port = rest.split('/').next()?;
    let with_port = if host_port
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        host_port.to_string()
    } else {
        format!("{host_port}:{default_port}")
    };
    with_port.to_socket_addrs().ok()?.next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fix_is_parsed_and_checked() {
        let f = parse_fix("22.58, 113.08, 12").unwrap();
        assert_eq!(
            (f.lat, f.lon, f.accuracy_m, f.mock_location),
            (22.58, 113.08, 12.0, false)
        );
        assert!(parse_fix("22.58,113.08,5,mock").unwrap().mock_location);
        assert!(parse_fix("91,113,5").is_none(), "latitude out of range");
        assert!(parse_fix("abc").is_none());
    }

    #[test]
    fn reachability_is_a_real_connection() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let p = DesktopPlatform::new(None, None);
        assert!(p.reachable(&format!("http://{addr}")));
        drop(listener);
        assert!(!p.reachable(&format!("http://{addr}")));
        assert!(!p.reachable("not a url"));
    }

    #[test]
    fn the_camera_hands_out_the_roll_in_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.jpg"), b"second").unwrap();
        std::fs::write(dir.path().join("a.jpg"), b"first").unwrap();
        let p = DesktopPlatform::new(None, Some(dir.path().into()));
        assert_eq!(p.take_photo().unwrap(), b"first");
        assert_eq!(p.take_photo().unwrap(), b"second");
        assert!(DesktopPlatform::new(None, None).take_photo().is_none());
    }
}
