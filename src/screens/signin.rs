//! Sign in: server address, phone, password. Fields are uncontrolled (`initial_value`): a
//! re-render arriving between two keystrokes must never put an older value back. The device is remembered by its install id; errors
//! say what to do (wrong password, no network, app and server versions apart).

use crate::i18n::{ErrorWords, Lang, Msg};
use crate::state::{Services, Ui};
use crate::widgets::edit;
use dioxus::prelude::*;
use gridmate_device::sync::{SyncClient, SyncError, sign_in};

/// "192.168.1.5:8787" → "http://192.168.1.5:8787/api/v1".
pub fn normalize_server(input: &str) -> String {
    let s = input.trim().trim_end_matches('/');
    let s = if s.contains("://") {
        s.to_string()
    } else {
        format!("http://{s}")
    };
    if s.ends_with("/api/v1") {
        s
    } else {
        format!("{s}/api/v1")
    }
}

fn sign_in_error(lang: Lang, e: &SyncError) -> String {
    match e {
        SyncError::Offline(_) => lang.t(Msg::SignInUnreachable).to_string(),
        SyncError::Device(d) => lang.device_error(d),
        other => lang.sync_problem(other.problem()),
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SignInForm {
    pub server: String,
    pub phone: String,
    pub password: String,
}

#[component]
pub fn SignInView(
    form: SignInForm,
    error: Option<String>,
    busy: bool,
    lang: Lang,
    on_input: EventHandler<crate::widgets::Edit<SignInForm>>,
    on_submit: EventHandler<()>,
    on_lang: EventHandler<Lang>,
) -> Element {
    rsx! {
        main { class: "screen sign-in",
            div { class: "brand",
                h1 { {lang.t(Msg::AppName)} }
                p { {lang.t(Msg::TheOfflineCompanionForGridWorkers)} }
            }
            div { class: "card form",
                label { {lang.t(Msg::ServerAddress)}
                    input { name: "server", r#type: "url", inputmode: "url", autocomplete: "url",
                        placeholder: "http://192.168.1.5:8787", initial_value: "{form.server}",
                        oninput: move |e| { let v = e.value(); on_input.call(edit(move |f: &mut SignInForm| f.server = v.clone())) } }
                }
                label { {lang.t(Msg::PhoneNumber)}
                    input { name: "phone", r#type: "tel", inputmode: "numeric", autocomplete: "username",
                        maxlength: "11", initial_value: "{form.phone}",
                        oninput: move |e| { let v = e.value(); on_input.call(edit(move |f: &mut SignInForm| f.phone = v.clone())) } }
                }
                label { {lang.t(Msg::Password)}
                    input { name: "password", r#type: "password", autocomplete: "current-password",
                        initial_value: "{form.password}",
                        onkeydown: move |e: KeyboardEvent| if e.key() == Key::Enter { on_submit.call(()) },
                        oninput: move |e| { let v = e.value(); on_input.call(edit(move |f: &mut SignInForm| f.password = v.clone())) } }
                }
                if let Some(e) = error {
                    p { class: "error-card", role: "alert", "{e}" }
                }
                button { class: "primary", r#type: "button", "data-action": "sign-in", onclick: move |_| on_submit.call(()), disabled: busy,
                    if busy { {lang.t(Msg::SigningIn)} } else { {lang.t(Msg::SignIn)} }
                }
                p { class: "hint", {lang.t(Msg::AfterSignInYourGridIs)} }
            }
            p { class: "lang-switch",
                button { onclick: move |_| on_lang.call(lang.other()),
                    {lang.other().native_name()} }
            }
        }
    }
}

#[component]
pub fn SignInScreen(auto: Option<(String, String, String)>) -> Element {
    let mut ui = use_context::<Ui>();
    let services = use_context::<Services>();
    let mut form = use_signal(|| SignInForm {
        server: ui
            .server
            .peek()
            .clone()
            .map(|s| s.trim_end_matches("/api/v1").to_string())
            .unwrap_or_default(),
        ..Default::default()
    });
    let mut error = use_signal(|| None::<String>);
    let mut busy = use_signal(|| false);
    let lang = (ui.lang)();

    let submit = {
        let services = services.clone();
        move |_: ()| {
            if busy() {
                return;
            }
            let f = form();
            if f.phone.trim().is_empty() || f.password.is_empty() || f.server.trim().is_empty() {
                error.set(Some(lang.t(Msg::FillInTheServerPhoneAnd).into()));
                return;
            }
            busy.set(true);
            error.set(None);
            let services = services.clone();
            spawn(async move {
                let server = normalize_server(&f.server);
                let device_name = services.platform.device_name();
                let srv = server.clone();
                let result = services
                    .store
                    .run(move |s| {
                        let client = SyncClient::new(&srv)?;
                        sign_in(s, &client, &f.phone, &f.password, &device_name)
                    })
                    .await;
                busy.set(false);
                match result {
                    Ok(Ok(session)) => {
                        let _ = services.start_sync(&server);
                        ui.server.set(Some(server));
                        ui.session.set(Some(session));
                        ui.changed();
                    }
                    Ok(Err(e)) => error.set(Some(sign_in_error(lang, &e))),
                    Err(_) => error.set(Some(lang.t(Msg::StoreGone).to_string())),
                }
            });
        }
    };
    let mut submit_auto = submit.clone();
    use_hook(move || {
        if let Some((server, phone, password)) = auto {
            form.set(SignInForm {
                server,
                phone,
                password,
            });
            submit_auto(());
        }
    });
    let mut submit = submit;
    rsx! {
        SignInView {
            form: form(),
            error: error(),
            busy: busy(),
            lang,
            on_input: move |e: crate::widgets::Edit<SignInForm>| e(&mut form.write()),
            on_submit: move |_| submit(()),
            on_lang: move |l| ui.lang.set(l),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_address_becomes_the_api_base() {
        assert_eq!(
            normalize_server("192.168.1.5:8787"),
            "http://192.168.1.5:8787/api/v1"
        );
        assert_eq!(
            normalize_server(" https://grid.example.cn/ "),
            "https://grid.example.cn/api/v1"
        );
        assert_eq!(normalize_server("http://h:1/api/v1"), "http://h:1/api/v1");
    }

    fn render(error: Option<String>, busy: bool, lang: Lang) -> String {
        #[derive(Clone, PartialEq, Props)]
        struct P {
            error: Option<String>,
            busy: bool,
            lang: Lang,
        }
        fn wrap(p: P) -> Element {
            rsx! {
                SignInView {
                    form: SignInForm { server: "http://127.0.0.1:8787".into(), phone: "13800001001".into(), password: "x".into() },
                    error: p.error, busy: p.busy, lang: p.lang,
                    on_input: |_| {}, on_submit: |_| {}, on_lang: |_| {},
                }
            }
        }
        let mut dom = VirtualDom::new_with_props(wrap, P { error, busy, lang });
        dom.rebuild_in_place();
        dioxus_ssr::render(&dom)
    }

    #[test]
    fn the_form_asks_for_server_phone_password_and_shows_the_error() {
        let html = render(Some("手机号或密码错误".into()), false, Lang::Zh);
        for text in [
            "服务器地址",
            "手机号",
            "密码",
            "登录",
            "手机号或密码错误",
            "13800001001",
        ] {
            assert!(html.contains(text), "{text}");
        }
        assert!(html.contains(r#"type="password""#));
        assert!(
            !html.contains("x\"") || !html.contains(">x<"),
            "the password is not echoed as text"
        );
        let busy = render(None, true, Lang::En);
        assert!(busy.contains("Signing in…") && busy.contains("disabled"));
        assert!(!busy.contains("role=\"alert\""));
    }

    #[test]
    fn errors_are_plain_words_in_both_languages() {
        let offline = SyncError::Offline("connection refused".into());
        assert!(sign_in_error(Lang::Zh, &offline).contains("连不上服务器"));
        assert!(sign_in_error(Lang::En, &offline).contains("Cannot reach"));
        assert_eq!(
            sign_in_error(Lang::Zh, &SyncError::BadCredentials),
            "手机号或密码错误"
        );
        let old = SyncError::UnsupportedProtocol("426".into());
        assert!(sign_in_error(Lang::Zh, &old).contains("升级"));
        assert!(sign_in_error(Lang::En, &old).contains("update the app"));
    }
}
