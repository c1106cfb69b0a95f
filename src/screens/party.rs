//! A party member on dual check-in (双报到): check in to my grid (the geofence verdict and the
//! distance to the boundary, worked out offline from the cached polygon), open tasks to take
//! (接单), and my year of service with a form to log more.

use crate::app::{Route, Services, Ui, device_error, use_load};
use crate::i18n::Lang;
use crate::map::GridMap;
use crate::screens::visit::{FixLine, add_photo};
use crate::widgets::edit;
use crate::widgets::{
    ErrorCard, Loading, PhotoStrip, TitleBar, category_icon, china_time, metres, thumb_urls,
    verdict_label,
};
use chrono::Utc;
use dioxus::prelude::*;
use gridmate_device::sync::Trigger;
use gridmate_device::{IssueFilter, IssueRow, NewService, ServiceSummary, Store};
use gridmate_model::geo_rules::locate_in_grid;
use gridmate_model::issue::allowed_actions;
use gridmate_model::{CheckIn, GeoVerdict, GpsFix, Grid, IssueAction, IssueId, PhotoRef, Role};

#[derive(Clone, Debug, PartialEq)]
pub struct PartyData {
    pub grid: Option<Grid>,
    pub checkins: Vec<CheckIn>,
    pub tasks: Vec<IssueRow>,
    pub service: ServiceSummary,
}

impl PartyData {
    pub fn read(store: &Store) -> Result<PartyData, gridmate_device::DeviceError> {
        let session = store
            .session()?
            .ok_or(gridmate_device::DeviceError::NoSession)?;
        let grid_id = session.grid_ids().first().copied();
        let grid = match grid_id {
            Some(g) => Some(store.grid(g)?),
            None => None,
        };
        let tasks = store
            .issues(&IssueFilter {
                grid_id,
                limit: 200,
                ..Default::default()
            })?
            .into_iter()
            .filter(|i| {
                allowed_actions(i.status, &[Role::PartyMember]).contains(&IssueAction::Accept)
            })
            .take(20)
            .collect();
        Ok(PartyData {
            grid,
            checkins: store.checkins(session.user.id, 5)?,
            tasks,
            service: store.service_summary(session.user.id, Utc::now())?,
        })
    }
}

#[component]
pub fn PartyView(
    data: PartyData,
    fix: Option<GpsFix>,
    error: Option<String>,
    lang: Lang,
    on_check_in: EventHandler<()>,
    on_accept: EventHandler<IssueId>,
    on_log_service: EventHandler<()>,
) -> Element {
    let preview = data
        .grid
        .as_ref()
        .zip(fix)
        .map(|(g, f)| locate_in_grid(&g.boundary, &f));
    let s = &data.service;
    rsx! {
        section { class: "card checkin",
            h2 { {lang.pick("网格报到", "Check in to my grid")} }
            if let Some(g) = &data.grid {
                p { class: "sub", "{g.name}" }
                GridMap { grid: g.clone(), buildings: vec![], lang, here: fix }
            }
            FixLine { fix, lang }
            if let Some(p) = preview {
                p { class: match p.verdict { GeoVerdict::Inside => "verdict inside", GeoVerdict::Outside => "verdict outside", GeoVerdict::Uncertain => "verdict uncertain" },
                    {verdict_label(p.verdict, lang)}
                    " · " {lang.pick("距边界", "to the boundary")} " {metres(p.distance_m.abs())}"
                }
            }
            if let Some(e) = error { p { class: "error-card", role: "alert", "{e}" } }
            button { class: "primary wide", "data-action": "check-in", disabled: fix.is_none() || data.grid.is_none(),
                onclick: move |_| on_check_in.call(()),
                {lang.pick("签到", "Check in")} }
            if !data.checkins.is_empty() {
                ul { class: "checkins",
                    for c in data.checkins.iter() {
                        li { class: "row",
                            span { {china_time(c.at)} }
                            span { {verdict_label(c.verdict, lang)} }
                            span { class: "muted small", "±{metres(c.fix.accuracy_m)}" }
                            if c.fix.mock_location { span { class: "tag", {lang.pick("模拟定位", "mock location")} } }
                        }
                    }
                }
            }
        }
        section { class: "card tasks",
            h2 { {lang.pick("可接的任务", "Tasks to take")} span { class: "count", " {data.tasks.len()}" } }
            if data.tasks.is_empty() { p { class: "empty", {lang.pick("暂时没有待接的任务", "No open tasks")} } }
            ul {
                for t in data.tasks.iter() {
                    li { class: "row",
                        span { class: "cat-icon cat-{t.category.code()}", {category_icon(t.category)} }
                        span { class: "name", "{t.title}" }
                        button { class: "secondary", "data-action": "take-task",
                            onclick: { let id = t.id; move |_| on_accept.call(id) },
                            {lang.pick("接单", "Take it")} }
                    }
                }
            }
        }
        section { class: "card service",
            h2 { "{s.year}" {lang.pick("年志愿服务", " volunteer service")} }
            p { class: "big",
                span { class: "num", "{s.hours_tenths / 10}.{s.hours_tenths % 10}" } {lang.pick(" 小时 · ", " hours · ")}
                "{s.records}" {lang.pick(" 次 · 服务 ", " times · ")} "{s.people_served}" {lang.pick(" 人", " people served")}
            }
            button { class: "primary wide", "data-action": "log-service", onclick: move |_| on_log_service.call(()),
                {lang.pick("记录服务", "Log service")} }
            ul {
                for r in s.recent.iter().take(5) {
                    li { class: "row",
                        span { class: "addr", {china_time(r.at)} }
                        span { class: "name", "{r.title}" }
                        span { class: "muted", "{r.hours_tenths / 10}.{r.hours_tenths % 10} h" }
                    }
                }
            }
        }
    }
}

#[component]
pub fn PartyScreen() -> Element {
    let ui = use_context::<Ui>();
    let services = use_context::<Services>();
    let lang = (ui.lang)();
    let fix = use_signal(|| services.platform.location());
    let mut error = use_signal(|| None::<String>);
    let data = use_load(|s| PartyData::read(s));
    let s1 = services.clone();
    let mut written =
        move |r: Result<Result<(), gridmate_device::DeviceError>, gridmate_device::StoreGone>,
              services: Services,
              said: &'static str| match r {
            Ok(Ok(())) => {
                error.set(None);
                services.trigger(Trigger::LocalWrite);
                ui.changed();
                ui.say(said);
            }
            Ok(Err(e)) => error.set(Some(device_error(lang, &e))),
            Err(g) => error.set(Some(g.to_string())),
        };
    let on_check_in = move |_| {
        let Some(f) = fix() else { return };
        let services = s1.clone();
        spawn(async move {
            let r = services
                .store
                .run(move |s| {
                    let grid = s
                        .session()?
                        .and_then(|x| x.grid_ids().first().copied())
                        .ok_or(gridmate_device::DeviceError::NoSession)?;
                    s.check_in(grid, f, Utc::now()).map(|_| ())
                })
                .await;
            written(
                r,
                services,
                lang.pick(
                    "已签到，联网后自动上传",
                    "Checked in; it uploads when online",
                ),
            );
        });
    };
    let on_accept = move |id: IssueId| {
        let services = services.clone();
        spawn(async move {
            let r = services
                .store
                .run(move |s| {
                    s.act_on_issue(id, IssueAction::Accept, "党员接单", vec![])
                        .map(|_| ())
                })
                .await;
            written(r, services, lang.pick("已接单", "Task taken"));
        });
    };
    rsx! {
        TitleBar { title: lang.pick("党员服务", "Party member service").to_string(), lang, on_back: None }
        match &*data.read() {
            None => rsx! { Loading { lang } },
            Some(Err(e)) => rsx! { ErrorCard { message: e.clone() } },
            Some(Ok(d)) => rsx! {
                PartyView { data: d.clone(), fix: fix(), error: error(), lang, on_check_in, on_accept,
                    on_log_service: move |_| ui.go(Route::Service) }
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ServiceForm {
    pub title: String,
    pub hours: String,
    pub people: String,
    pub photos: Vec<PhotoRef>,
}

impl ServiceForm {
    pub fn save(&self, store: &mut Store) -> Result<(), gridmate_device::DeviceError> {
        let grid = store
            .session()?
            .and_then(|s| s.grid_ids().first().copied())
            .ok_or(gridmate_device::DeviceError::NoSession)?;
        let hours: f64 = self.hours.trim().parse().map_err(|_| {
            gridmate_device::DeviceError::Invalid(gridmate_model::ValidationError::OutOfRange {
                field: "时长",
                value: f64::NAN,
            })
        })?;
        if !(0.1..=24.0).contains(&hours) {
            return Err(gridmate_device::DeviceError::Invalid(
                gridmate_model::ValidationError::OutOfRange {
                    field: "时长",
                    value: hours,
                },
            ));
        }
        store.record_service(NewService {
            grid_id: grid,
            issue_id: None,
            title: self.title.clone(),
            at: Utc::now(),
            hours_tenths: (hours * 10.0).round() as u16,
            people_served: self.people.trim().parse().unwrap_or(0),
            photos: self.photos.clone(),
        })?;
        Ok(())
    }
}

#[component]
pub fn ServiceFormView(
    form: ServiceForm,
    thumbs: Vec<String>,
    error: Option<String>,
    lang: Lang,
    on_edit: EventHandler<crate::widgets::Edit<ServiceForm>>,
    on_photo: EventHandler<()>,
    on_save: EventHandler<()>,
) -> Element {
    rsx! {
        div { class: "form",
            label { {lang.pick("服务内容", "What you did")}
                input { name: "title", initial_value: "{form.title}", placeholder: lang.pick("如：陪同独居老人就医", "e.g. took an elderly resident to the clinic"),
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut ServiceForm| f.title = v.clone())) } }
            }
            label { {lang.pick("时长（小时）", "Hours")}
                input { name: "hours", r#type: "number", step: "0.5", min: "0.5", max: "24", inputmode: "decimal", value: "{form.hours}",
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut ServiceForm| f.hours = v.clone())) } }
            }
            label { {lang.pick("服务人数", "People served")}
                input { name: "people", r#type: "number", min: "0", inputmode: "numeric", value: "{form.people}",
                    oninput: move |e: FormEvent| { let v = e.value(); on_edit.call(edit(move |f: &mut ServiceForm| f.people = v.clone())) } }
            }
            div { class: "photo-row",
                button { r#type: "button", class: "secondary", "data-action": "camera", onclick: move |_| on_photo.call(()), {lang.pick("拍照", "Take photo")} }
                span { class: "muted", " {form.photos.len()} " {lang.pick("张", "photos")} }
            }
            PhotoStrip { thumbs }
            if let Some(e) = error { p { class: "error-card", role: "alert", "{e}" } }
            button { class: "primary", r#type: "button", onclick: move |_| on_save.call(()), "data-action": "save-service", {lang.pick("保存", "Save")} }
        }
    }
}

#[component]
pub fn ServiceScreen() -> Element {
    let ui = use_context::<Ui>();
    let services = use_context::<Services>();
    let lang = (ui.lang)();
    let mut form = use_signal(|| ServiceForm {
        title: String::new(),
        hours: "1".into(),
        people: "1".into(),
        photos: vec![],
    });
    let mut thumbs = use_signal(Vec::<String>::new);
    let mut error = use_signal(|| None::<String>);
    let s1 = services.clone();
    let on_photo = move |_| {
        let services = s1.clone();
        spawn(async move {
            match add_photo(&services, None, lang).await {
                Some(Ok(sha)) => {
                    form.write().photos.push(sha);
                    let refs = form().photos;
                    if let Ok(t) = services.store.run(move |s| thumb_urls(s, &refs)).await {
                        thumbs.set(t);
                    }
                }
                Some(Err(e)) => error.set(Some(e)),
                None => error.set(Some(lang.pick("没有拍到照片", "No photo taken").into())),
            }
        });
    };
    let on_save = move |_| {
        let f = form();
        let services = services.clone();
        spawn(async move {
            match services.store.run(move |s| f.save(s)).await {
                Ok(Ok(())) => {
                    services.trigger(Trigger::LocalWrite);
                    ui.changed();
                    ui.say(lang.pick(
                        "服务已记录，联网后自动上传",
                        "Service logged; it uploads when online",
                    ));
                    ui.back();
                }
                Ok(Err(e)) => error.set(Some(device_error(lang, &e))),
                Err(g) => error.set(Some(g.to_string())),
            }
        });
    };
    rsx! {
        TitleBar { title: lang.pick("记录服务", "Log service").to_string(), lang, on_back: move |_| ui.back() }
        ServiceFormView { form: form(), thumbs: thumbs(), error: error(), lang, on_edit: move |e: crate::widgets::Edit<ServiceForm>| e(&mut form.write()), on_photo, on_save }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screens::fixtures::{demo, demo_store, render};

    #[test]
    fn check_in_shows_the_verdict_and_the_distance_before_tapping() {
        let (_dir, store) = demo_store(Role::PartyMember);
        let data = PartyData::read(&store).unwrap();
        let grid = data.grid.clone().expect("a party member's grid");
        let b = demo()
            .buildings
            .iter()
            .find(|b| b.grid_id == grid.id)
            .unwrap();
        let inside = GpsFix {
            lat: b.lat,
            lon: b.lon,
            accuracy_m: 5.0,
            mock_location: false,
        };
        let far = GpsFix {
            lat: b.lat + 0.05,
            lon: b.lon,
            accuracy_m: 5.0,
            mock_location: true,
        };
        let d1 = data.clone();
        let html = render(move || {
            rsx! {
                PartyView { data: d1.clone(), fix: Some(inside), error: None, lang: Lang::Zh, on_check_in: |_| {}, on_accept: |_| {}, on_log_service: |_| {} }
            }
        });
        assert!(html.contains("在网格内") && html.contains("距边界"));
        assert!(html.contains("签到"));
        assert_eq!(html.contains("接单"), !data.tasks.is_empty());
        let d2 = data.clone();
        let out = render(move || {
            rsx! {
                PartyView { data: d2.clone(), fix: Some(far), error: None, lang: Lang::En, on_check_in: |_| {}, on_accept: |_| {}, on_log_service: |_| {} }
            }
        });
        assert!(out.contains("Outside the grid") && out.contains("mock location"));
        let none = render(move || {
            rsx! {
                PartyView { data: data.clone(), fix: None, error: None, lang: Lang::Zh, on_check_in: |_| {}, on_accept: |_| {}, on_log_service: |_| {} }
            }
        });
        assert!(
            none.contains("暂无定位") && none.contains("disabled"),
            "no fix, no check-in"
        );
    }

    #[test]
    fn service_hours_are_checked_and_add_up() {
        let (_dir, mut store) = demo_store(Role::PartyMember);
        let me = store.session().unwrap().unwrap().user.id;
        let before = store.service_summary(me, Utc::now()).unwrap();
        let bad = ServiceForm {
            title: "x".into(),
            hours: "30".into(),
            people: "1".into(),
            photos: vec![],
        };
        assert!(bad.save(&mut store).is_err());
        let nan = ServiceForm {
            hours: "abc".into(),
            ..bad.clone()
        };
        assert!(nan.save(&mut store).is_err());
        let ok = ServiceForm {
            title: "清理楼道小广告".into(),
            hours: "1.5".into(),
            people: "20".into(),
            photos: vec![],
        };
        ok.save(&mut store).unwrap();
        let after = store.service_summary(me, Utc::now()).unwrap();
        assert_eq!(after.hours_tenths, before.hours_tenths + 15);
        assert_eq!(after.records, before.records + 1);
        let data = PartyData::read(&store).unwrap();
        let html = render(move || {
            rsx! {
                PartyView { data: data.clone(), fix: None, error: None, lang: Lang::Zh, on_check_in: |_| {}, on_accept: |_| {}, on_log_service: |_| {} }
            }
        });
        assert!(html.contains("清理楼道小广告"));
    }
}
