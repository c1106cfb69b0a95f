//! Photos in forms: the camera and gallery buttons, the strip of thumbnails, and taking a photo
//! through the platform into the photo pipeline on the store thread.

use crate::i18n::{ErrorWords, Lang, Msg};
use crate::state::Services;
use dioxus::prelude::*;
use gridmate_model::PhotoRef;

/// Thumbnails, as `data:` URLs so they show with no file server and no network.
#[component]
pub fn PhotoStrip(thumbs: Vec<String>) -> Element {
    rsx! {
        if !thumbs.is_empty() {
            div { class: "photos",
                for t in thumbs.iter() {
                    img { src: "{t}", alt: "" }
                }
            }
        }
    }
}

/// Thumbnails of `photos` as `data:` URLs; photos this device does not hold are skipped (the
/// server has them; the list says how many). Runs on the store thread.
pub fn thumb_urls(
    store: &gridmate_device::Store,
    photos: &[gridmate_model::PhotoRef],
) -> Vec<String> {
    use base64::Engine;
    photos
        .iter()
        .filter_map(|p| store.photo(p).ok().flatten())
        .filter_map(|p| std::fs::read(&p.thumb_path).ok())
        .map(|bytes| {
            format!(
                "data:image/jpeg;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            )
        })
        .collect()
}

/// The camera and gallery buttons of a form. `on_photo` gets the picked file's bytes, or `None`
/// for "take one with the camera".
#[component]
pub fn PhotoButtons(
    count: usize,
    lang: Lang,
    on_photo: EventHandler<Option<Vec<u8>>>,
    /// The camera button's `data-action` (tests and the e2e run find buttons by it).
    #[props(default = "camera".to_string())]
    action: String,
    #[props(default = false)] after: bool,
) -> Element {
    // In a webview the camera is the page's: a file input that asks for the back camera.
    let camera_in_page =
        try_use_context::<Services>().is_some_and(|s| s.platform.webview().is_some());
    let gallery = format!("{action}-gallery");
    // What became of the last pick in the page, when it gave no photo.
    let mut said = use_signal(|| None::<Msg>);
    let label = if after {
        lang.t(Msg::PhotoAfterHandling)
    } else {
        lang.t(Msg::TakePhoto)
    };
    rsx! {
        div { class: "photo-row",
            if camera_in_page {
                label { class: "file-pick secondary", "data-action": "{action}",
                    {label}
                    input { r#type: "file", accept: "image/*", capture: "environment", name: "{action}",
                        onchange: move |_| {
                            let action = action.clone();
                            async move { take(read_in_page(&action).await, on_photo, said) }
                        },
                        oncancel: move |_| said.set(Some(Msg::PhotoCancelled)),
                    }
                }
            } else {
                button { r#type: "button", class: "secondary", "data-action": "{action}", onclick: move |_| on_photo.call(None),
                    {label}
                }
            }
            label { class: "file-pick secondary",
                {lang.t(Msg::FromGallery)}
                input { r#type: "file", accept: "image/*", name: "{gallery}",
                    onchange: move |e: FormEvent| {
                        let gallery = gallery.clone();
                        async move {
                            if camera_in_page {
                                take(read_in_page(&gallery).await, on_photo, said);
                            } else if let Some(bytes) = picked_bytes(&e).await {
                                on_photo.call(Some(bytes));
                            }
                        }
                    },
                    oncancel: move |_| said.set(Some(Msg::PhotoCancelled)),
                }
            }
            span { class: "muted", " {count} " {lang.t(Msg::PhotoUnit)} }
        }
        PhotoSaid { said: said(), lang }
    }
}

/// Why a pick gave no photo, under the buttons until the next pick: the form itself is untouched.
#[component]
pub fn PhotoSaid(said: Option<Msg>, lang: Lang) -> Element {
    rsx! {
        if let Some(m) = said {
            p { class: "photo-said", role: "status", {lang.t(m)} }
        }
    }
}

/// Hand a photo the page read to the form, or say why there is none.
fn take(picked: PagePick, on_photo: EventHandler<Option<Vec<u8>>>, mut said: Signal<Option<Msg>>) {
    match picked {
        PagePick::Photo(bytes) => {
            said.set(None);
            on_photo.call(Some(bytes));
        }
        PagePick::Nothing => said.set(Some(Msg::PhotoCancelled)),
        PagePick::Unreadable => said.set(Some(Msg::PhotoUnreadable)),
    }
}

/// What the page's file input gave.
enum PagePick {
    Photo(Vec<u8>),
    /// No file: the picker was closed without one.
    Nothing,
    /// A file the page could not read (gone from the gallery, a cloud photo not downloaded).
    Unreadable,
}

/// Take a photo through the platform (`bytes: None`), or ingest picked bytes; both on the store
/// thread. `None` when the user took no photo; the error is in the user's language.
pub async fn add_photo(
    services: &Services,
    bytes: Option<Vec<u8>>,
    lang: Lang,
) -> Option<Result<PhotoRef, String>> {
    let platform = services.platform.clone();
    services
        .store
        .run(move |s| {
            let bytes = bytes.or_else(|| platform.take_photo())?;
            Some(
                s.ingest_photo(&bytes)
                    .map(|p| p.sha256)
                    .map_err(|e| lang.device_error(&e)),
            )
        })
        .await
        .ok()
        .flatten()
}

/// The photo the page's camera input `name` holds, read by the page itself (FileReader) and sent
/// back as base64, then the input cleared for the next shot. Not the event's file engine, which
/// neither liveview nor iOS's webview fills in Dioxus 0.7 (dioxus#2930, #5135).
async fn read_in_page(name: &str) -> PagePick {
    use base64::Engine;
    let Ok(selector) = serde_json::to_string(&format!("input[name=\"{name}\"]")) else {
        return PagePick::Nothing;
    };
    let mut eval = document::eval(&format!(
        r#"const input = document.querySelector({selector});
           const file = input && input.files && input.files[0];
           if (!file) {{ dioxus.send({{kind: "nothing"}}); }} else {{
             const reader = new FileReader();
             reader.onload = () => {{ const url = String(reader.result); input.value = "";
                                     dioxus.send({{kind: "photo", b64: url.slice(url.indexOf(",") + 1)}}); }};
             reader.onerror = () => {{ input.value = ""; dioxus.send({{kind: "unreadable"}}); }};
             reader.readAsDataURL(file);
           }}"#
    ));
    #[derive(serde::Deserialize)]
    struct Sent {
        kind: String,
        #[serde(default)]
        b64: String,
    }
    match eval.recv::<Sent>().await {
        Ok(s) if s.kind == "nothing" => PagePick::Nothing,
        Ok(s) if s.kind == "photo" => base64::engine::general_purpose::STANDARD
            .decode(s.b64.as_bytes())
            .ok()
            .filter(|b| !b.is_empty())
            .map_or(PagePick::Unreadable, PagePick::Photo),
        _ => PagePick::Unreadable,
    }
}

/// The bytes of the first file an `<input type=file>` gave.
pub async fn picked_bytes(e: &FormEvent) -> Option<Vec<u8>> {
    let file = e.files().into_iter().next()?;
    file.read_bytes().await.ok().map(|b| b.to_vec())
}

/// The thumbnails of `photos` (hashes as the forms keep them), re-read on the store thread
/// whenever the list changes.
pub fn use_thumbs(photos: impl Fn() -> Vec<String> + 'static) -> Memo<Vec<String>> {
    let services = use_context::<Services>();
    let list = use_memo(photos);
    let thumbs = use_resource(move || {
        let refs: Vec<PhotoRef> = list().iter().filter_map(|p| PhotoRef::parse(p)).collect();
        let store = services.store.clone();
        async move {
            store
                .run(move |s| thumb_urls(s, &refs))
                .await
                .unwrap_or_default()
        }
    });
    use_memo(move || thumbs.read().clone().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screens::fixtures::render;

    #[test]
    fn a_pick_without_a_photo_is_said_in_both_languages() {
        for (said, zh, en) in [
            (Msg::PhotoCancelled, "没有拍照", "No photo taken"),
            (Msg::PhotoUnreadable, "照片没有读出来", "could not be read"),
        ] {
            let html = render(move || rsx! { PhotoSaid { said: Some(said), lang: Lang::Zh } });
            assert!(
                html.contains(zh) && html.contains("role=\"status\""),
                "{html}"
            );
            let html = render(move || rsx! { PhotoSaid { said: Some(said), lang: Lang::En } });
            assert!(html.contains(en), "{html}");
        }
        let html = render(move || rsx! { PhotoSaid { said: None, lang: Lang::Zh } });
        assert!(!html.contains("photo-said"), "{html}");
    }
}
