//! The residents' door end to end, in headless Chromium at a phone's 390 × 844 against the real
//! server, with the office's console and a grid worker's phone store on the other sides: a
//! resident signs in with the texted code, is matched to the roll, reports a problem with a
//! 12-megapixel photo (shrunk by the page before it is sent); the office assigns it in the
//! console; the worker resolves it on the phone; the resident, texted at each step, sees the
//! result and rates it 不满意; it is back on the office's board. Screenshots of each resident
//! screen go to `docs/screenshots/resident-*.png`.

mod support;

use gridmate_model::{IssueAction, Role};
use std::path::Path;
use support::webdriver::{Browser, available};
use support::{Device, Server};

/// The newest message of `notice` to `phone`: its parameters.
fn messages_to(server: &Server, notice: &str, phone: &str) -> Vec<Vec<(String, String)>> {
    let db = server.database();
    let mut st = db
        .prepare(
            "SELECT params FROM messages WHERE notice = ?1 AND address = ?2
             ORDER BY created_at DESC",
        )
        .unwrap();
    st.query_map([notice, phone], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|p| serde_json::from_str(&p.unwrap()).unwrap())
        .collect()
}

/// A camera's photo: 4000 × 3000, with detail enough to weigh megabytes.
fn twelve_megapixels(path: &Path) {
    let img = image::RgbImage::from_fn(4000, 3000, |x, y| {
        image::Rgb([
            (x * 7 % 251) as u8,
            (y * 13 % 241) as u8,
            ((x ^ y) % 239) as u8,
        ])
    });
    img.save_with_format(path, image::ImageFormat::Jpeg)
        .unwrap();
}

#[test]
fn a_resident_reports_with_a_photo_follows_it_and_sends_it_back_as_unsatisfactory() {
    if !available() {
        eprintln!("chromium or chromedriver missing: scripts/deps.sh installs them");
        return;
    }
    let server = Server::start();
    let worker_account = server.account(Role::GridWorker);
    let grid: uuid::Uuid = worker_account.grids[0].parse().unwrap();
    let d = support::demo();
    let person = d
        .residents
        .iter()
        .find(|r| {
            !r.moved_out
                && r.phone.is_some()
                && d.households
                    .iter()
                    .any(|h| h.id == r.household_id && h.grid_id.0 == grid)
        })
        .unwrap();
    let phone = person.phone.clone().unwrap();
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let site = format!("http://{}/resident", server.addr);
    let b = Browser::start();

    // Scanned the poster: the door. The phone, the texted code, the roll.
    b.open(&format!("{site}/"));
    b.wait_text("居民登录", 10);
    b.screenshot(&shots.join("resident-door.png"));
    b.type_into("input[name=phone]", &phone);
    b.click("button[type=submit]");
    b.wait_text("输入验证码", 10);
    let code = messages_to(&server, "resident_code", &phone)[0][0]
        .1
        .clone();
    b.type_into("input[name=code]", &code);
    b.screenshot(&shots.join("resident-code.png"));
    b.click("button[type=submit]");
    b.wait_text("确认住户身份", 10);
    b.type_into("input[name=name]", &person.name);
    b.screenshot(&shots.join("resident-verify.png"));
    b.click("button[type=submit]");
    b.wait_text("我的诉求", 10);

    // A problem at home, with a camera's photo the page shrinks before sending.
    b.click("a.button.primary");
    b.wait_text("问题类别", 10);
    let photo = std::env::temp_dir().join(format!("resident-12mp-{}.jpg", std::process::id()));
    twelve_megapixels(&photo);
    let original = std::fs::metadata(&photo).unwrap().len();
    let title = "卫生间天花板渗水";
    b.type_into("input[name=title]", title);
    b.type_into(
        "textarea[name=description]",
        "楼上卫生间漏水，天花板一直在滴",
    );
    b.script(
        "const s = document.querySelector('select[name=category]'); \
         s.value = 'broken_facility'; return true;",
    );
    b.type_into("input[type=file]", &photo.display().to_string());
    // The page has shrunk it when the file input holds a JPEG of a few hundred kilobytes.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let size = b.script(
            "const f = document.querySelector('input[type=file]').files[0]; \
             const busy = document.querySelector('form button[type=submit]').disabled; \
             return (f && !busy && f.type === 'image/jpeg') ? f.size : 0;",
        );
        let size = size.as_u64().unwrap_or(0);
        if size > 0 && size < original / 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the photo was never shrunk"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    b.screenshot(&shots.join("resident-ask.png"));
    b.click("form button[type=submit]");
    b.wait_text("已收到", 20);
    b.screenshot(&shots.join("resident-sent.png"));
    let issue: uuid::Uuid = b
        .script("return location.pathname.split('/').pop()")
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let record = server.record("issue", issue);
    assert_eq!(record["source"], "resident");
    assert_eq!(record["household_id"], person.household_id.0.to_string());
    let sha = record["photos"][0].as_str().unwrap().to_string();
    let kept = std::fs::read(server.data.path().join("blobs").join(&sha)).unwrap();
    let (w, h) = image::load_from_memory(&kept)
        .map(|i| (i.width(), i.height()))
        .unwrap();
    assert_eq!((w, h), (1600, 1200), "shrunk to the contract's long side");
    let _ = std::fs::remove_file(&photo);

    // The office finds it on the board as a resident's report and gives it to the worker.
    let office = server.account(Role::CommunityAdmin);
    let console = format!("http://{}/console", server.addr);
    let desk = Browser::start_sized(1366, 900);
    desk.open(&format!("{console}/login"));
    desk.type_into("input[name=phone]", &office.phone);
    desk.type_into("input[name=password]", &office.password);
    desk.click("button.primary");
    desk.wait_text("问题调度", 10);
    desk.open(&format!("{console}/issues/{issue}"));
    desk.wait_text("居民自报", 10);
    desk.script(&format!(
        "const s = document.querySelector('form.action select[name=assignee]'); \
         const o = [...s.options].find(o => o.text.includes({})); s.value = o.value; return true;",
        serde_json::to_string(&worker_account.name).unwrap()
    ));
    desk.click("form.action:has(select[name=assignee]) button");
    desk.wait_text("已保存", 10);

    // The worker resolves it on the phone.
    let mut worker = Device::new(server.addr);
    worker.sign_in(&server, Role::GridWorker);
    worker.sync_until_ok(3);
    worker
        .store
        .act_on_issue(
            gridmate_model::IssueId(issue),
            IssueAction::Resolve,
            "已请楼上住户修好防水，天花板已不滴水",
            vec![],
        )
        .unwrap();
    worker.sync_until_ok(3);

    // The resident was texted each step, and sees the result.
    let told = messages_to(&server, "resident_update", &phone);
    let steps: Vec<&str> = told.iter().map(|p| p[1].1.as_str()).collect();
    assert_eq!(steps, ["已办结待核查", "已派单"], "newest first: {told:?}");
    b.open(&format!("{site}/items/{issue}"));
    b.wait_text("已请楼上住户修好防水", 10);
    b.wait_text("您对办理结果满意吗", 10);
    b.screenshot(&shots.join("resident-rate.png"));
    b.click("input[value=dissatisfied]");
    b.type_into("textarea[name=comment]", "还在滴水，请再来看看");
    b.click("form.rate button[type=submit]");
    b.wait_text("谢谢您的评价", 10);
    b.wait_text("退回重新办理", 10);
    b.screenshot(&shots.join("resident-sent-back.png"));
    b.open(&format!("{site}/"));
    b.wait_text(title, 10);
    b.screenshot(&shots.join("resident-home.png"));
    b.open(&format!("{site}/board?grid={grid}"));
    b.wait_text("网格员公示牌", 10);
    b.screenshot(&shots.join("resident-board.png"));

    // Back on the office's board, with the resident's words.
    let record = server.record("issue", issue);
    assert_eq!(record["status"], "reopened");
    assert_eq!(record["satisfaction"], "dissatisfied");
    desk.open(&format!("{console}/issues/{issue}"));
    desk.wait_text("不满意退回", 10);
    desk.wait_text("还在滴水，请再来看看", 10);
    desk.screenshot(&shots.join("console-sent-back.png"));

    // The posters to put up by each building's door: printed, the QR code reads back as the
    // resident page of that building.
    desk.open(&format!("{console}/posters?grid={grid}"));
    desk.wait_text("扫码反映问题", 10);
    let poster = shots.join("console-poster.png");
    desk.screenshot(&poster);
    let picture = image::open(&poster).unwrap().to_luma8();
    let (w, h) = picture.dimensions();
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
            picture.get_pixel(x as u32, y as u32).0[0]
        });
    let grids = prepared.detect_grids();
    assert!(!grids.is_empty(), "no QR code on the printed poster");
    let (_, read) = grids[0].decode().unwrap();
    let first = desk
        .script("return document.querySelector('.poster p.url').textContent")
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(read, first);
    assert!(read.starts_with(&format!("{site}/?b=")), "{read}");
    b.open(&read);
    b.wait_text("我的诉求", 10);
    // A neighbour who scans it is told which building and grid they are at.
    let neighbour = Browser::start();
    neighbour.open(&read);
    neighbour.wait_text("居民登录", 10);
    neighbour.wait_text("联和花园", 10);
    neighbour.screenshot(&shots.join("resident-scanned.png"));
}
