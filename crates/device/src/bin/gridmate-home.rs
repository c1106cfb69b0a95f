//! Load the demo community into a device store and print what a grid worker's home screen shows.
//!
//! ```text
//! cargo run -p gridmate-device --bin gridmate-home -- [--data DIR] [--role grid_worker]
//! ```
//!
//! Until the app and the server run together, this is the product's main job: the same store and
//! the same typed reads the screens use, rendered as text.

use chrono::Utc;
use gridmate_demo::{DemoConfig, generate};
use gridmate_device::{ScopeData, Session, Store};
use gridmate_model::Role;
use std::error::Error;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn Error>> {
    let mut data = std::env::temp_dir().join("gridmate-home");
    let mut role = Role::GridWorker;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--data" => data = PathBuf::from(args.next().ok_or("--data needs a folder")?),
            "--role" => {
                let code = args.next().ok_or("--role needs a role code")?;
                role = Role::from_code(&code).ok_or(format!("unknown role {code:?}"))?;
            }
            "-h" | "--help" => {
                println!(
                    "gridmate-home [--data DIR] [--role grid_worker|grid_leader|building_leader|party_member|community_admin]"
                );
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    let cfg = DemoConfig::lianhe();
    let demo = generate(&cfg);
    let mut store = Store::open(&data)?;
    let started = std::time::Instant::now();
    let keep_phones = matches!(role, Role::GridWorker | Role::GridLeader);
    let stats = store.load_scope(ScopeData::of_demo(&demo, keep_phones))?;
    let loaded_in = started.elapsed();
    let user = demo.user(role);
    store.sign_in(&Session {
        user: user.user.clone(),
        assignments: user.assignments.clone(),
    })?;
    // The demo's history ends on its "today"; show the screen as of then.
    let as_of = cfg.as_of;
    let home = store.home(as_of)?;

    let rule = "─".repeat(44);
    println!("{rule}");
    println!(
        " {} · {}",
        home.user_name,
        home.roles
            .iter()
            .map(|r| r.label_zh())
            .collect::<Vec<_>>()
            .join("、")
    );
    for g in &home.grids {
        println!(
            " {}（{}）  {} 栋楼 · {} 户 · {} 人",
            g.grid.name, g.grid.code, g.buildings, g.households, g.residents
        );
    }
    println!("{rule}");
    let pct = if home.households == 0 {
        0.0
    } else {
        100.0 * f64::from(home.visited_this_month) / f64::from(home.households)
    };
    println!(
        " 本月走访   {} / {} 户（{pct:.0}%）",
        home.visited_this_month, home.households
    );
    println!(" 重点户待走访  {} 户，最久未访的：", home.due_visits);
    let first_grid = home.grids.first().map(|g| g.grid.id);
    for (i, d) in store.due_visits(first_grid, as_of, 5)?.iter().enumerate() {
        let h = &d.household;
        let tags: Vec<&str> = h
            .tags
            .iter()
            .filter(|t| t.is_vulnerable())
            .map(|t| t.label_zh())
            .collect();
        let when = match d.days_overdue {
            None => "从未走访".to_string(),
            Some(days) => format!("逾期 {days} 天"),
        };
        println!(
            "   {}. {:<10} {:<4} {:<10} {when}",
            i + 1,
            h.short_address(),
            h.head_name,
            tags.join("/")
        );
    }
    let open: u32 = home.open_issues.iter().map(|(_, n)| n).sum();
    println!(" 问题台账（未销号） {open} 件：");
    println!(
        "   {}",
        home.open_issues
            .iter()
            .map(|(s, n)| format!("{} {n}", s.label_zh()))
            .collect::<Vec<_>>()
            .join(" · ")
    );
    let sync = &home.sync;
    let last = sync.last_sync_at.map_or("从未同步".to_string(), |t| {
        t.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
            .format("%m-%d %H:%M")
            .to_string()
    });
    println!(
        " 同步  离线 · 待上传 {} 条 · 失败 {} 条 · {last}",
        sync.pending, sync.failed
    );
    println!("{rule}");
    println!(
        " （本地缓存 {}：{} 行，载入 {:.0} ms；当前时间 {}）",
        data.display(),
        stats.rows,
        loaded_in.as_secs_f64() * 1000.0,
        Utc::now().format("%Y-%m-%d")
    );
    Ok(())
}
