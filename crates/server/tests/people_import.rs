//! Importing a community's 实有人口台账 over the office API, on a real database: a GBK CSV and an
//! XLSX as offices keep them (one row per person, header synonyms, combined addresses) planned in
//! a dry run, written once, and changing nothing the second time; and hostile workbooks — corrupt,
//! truncated, a zip bomb, a million rows, formulas, IDs stored as numbers, wrong columns — each
//! refused with its row and column, writing nothing.

mod common;

use common::server::*;
use gridmate_model::Role;
use reqwest::StatusCode;
use serde_json::Value;
use std::io::Write;

async fn import(s: &Server, token: &str, bytes: Vec<u8>, commit: bool) -> (StatusCode, Value) {
    let r = s
        .http
        .post(format!("{}/office/import/people?commit={commit}", s.base))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn grid_name(i: usize) -> String {
    demo().grids[i].name.clone()
}

const HEADER: [&str; 8] = [
    "姓名",
    "性别",
    "与户主关系",
    "公民身份号码",
    "手机号",
    "人员类别",
    "所属网格",
    "现住址",
];

/// A small roll: two households in a new building, one in another grid.
fn rows() -> Vec<[String; 8]> {
    let g0 = grid_name(0);
    let g1 = grid_name(1);
    let row = |a: &str, b: &str, c: &str, d: &str, e: &str, f: &str, g: &str, h: &str| {
        [a, b, c, d, e, f, g, h].map(str::to_string)
    };
    vec![
        row(
            "陈阿婆",
            "女",
            "户主",
            "440703194501011232",
            "13800138001",
            "独居老人",
            &g0,
            "联和新村88栋1单元101室",
        ),
        row(
            "刘国华",
            "男",
            "户主",
            "",
            "13800138002",
            "户籍人口",
            &g0,
            "联和新村88栋1单元102室",
        ),
        row("刘小明", "男", "子", "", "", "", &g0, "联和新村88-1-102"),
        row(
            "周桂英",
            "女",
            "户主",
            "",
            "",
            "低保",
            &g1,
            "联和新村89栋2单元201室",
        ),
    ]
}

fn csv(rows: &[[String; 8]]) -> String {
    let mut out = HEADER.join(",") + "\n";
    for r in rows {
        out += &(r.join(",") + "\n");
    }
    out
}

fn xlsx(rows: &[[String; 8]]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            sheet.write_string(r as u32 + 1, c as u16, v).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

async fn households_named(s: &Server, token: &str, q: &str) -> u64 {
    let r = s
        .get(token, &format!("/office/households?q={q}&limit=500"))
        .await;
    r.json::<Value>().await.unwrap()["total"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gbk_roll_is_planned_imported_once_and_changes_nothing_twice() {
    let s = Server::start().await;
    let admin = s.login(Role::CommunityAdmin, "office").await;
    let gbk = encoding_rs::GBK.encode(&csv(&rows())).0.to_vec();

    let before = s.dump();
    let (status, plan) = import(&s, &admin, gbk.clone(), false).await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(plan["committed"], false);
    assert_eq!(plan["people"], 4);
    assert_eq!(plan["households_new"], 3, "grouped by room");
    assert_eq!(plan["residents_new"], 4);
    assert_eq!(plan["buildings_new"], 2);
    let mapping: Vec<(String, Value)> = serde_json::from_value(plan["mapping"].clone()).unwrap();
    assert_eq!(
        mapping[3],
        ("公民身份号码".to_string(), Value::from("id_number"))
    );
    assert_eq!(mapping[7], ("现住址".to_string(), Value::from("address")));
    let preview = plan["preview"].to_string();
    assert!(
        !preview.contains("13800138001"),
        "phones masked in the preview"
    );
    assert!(!preview.contains("440703194501011232"));
    assert_eq!(s.dump(), before, "a dry run writes nothing");

    let (status, done) = import(&s, &admin, gbk.clone(), true).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["committed"], true);
    assert_eq!(
        households_named(&s, &admin, "联和新村88栋1单元102").await,
        1
    );
    let head = s
        .get(&admin, "/office/households?q=陈阿婆")
        .await
        .json::<Value>()
        .await
        .unwrap();
    let h = &head["items"][0];
    assert_eq!(h["head_name"], "陈阿婆");
    assert_eq!(h["tags"], serde_json::json!(["elderly_alone"]));
    assert_eq!(h["visit_cadence_days"], 7, "the tag sets the cadence");
    let full = s.number("SELECT COUNT(*) FROM records WHERE data LIKE '%440703194501011232%'");
    assert_eq!(full, 0, "the full ID number is stored nowhere");
    let her = s.number(
        "SELECT COUNT(*) FROM records WHERE entity = 'resident' AND data LIKE '%陈阿婆%' \
         AND data LIKE '%\"id_number_masked\":\"4407**********1232\"%' AND data LIKE '%\"birth_year\":1945%'",
    );
    assert_eq!(her, 1, "kept masked, with the birth year it carries");

    let after = s.dump();
    let (status, again) = import(&s, &admin, gbk, true).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            again["households_new"].as_u64(),
            again["residents_new"].as_u64()
        ),
        (Some(0), Some(0))
    );
    assert_eq!(again["households_existing"], 3);
    assert_eq!(again["residents_existing"], 4);
    assert_eq!(s.dump(), after, "the same file twice changes nothing");

    // A newcomer in an existing room joins that household.
    let mut more = rows();
    more.push(
        [
            "王芳",
            "女",
            "儿媳",
            "",
            "",
            "",
            &grid_name(0),
            "联和新村88栋1单元102室",
        ]
        .map(str::to_string),
    );
    let (_, plan) = import(&s, &admin, xlsx(&more), true).await;
    assert_eq!(
        (
            plan["households_new"].as_u64(),
            plan["residents_new"].as_u64()
        ),
        (Some(0), Some(1)),
        "{plan}"
    );

    let audit = s
        .get(&admin, "/office/audit")
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "import_people")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_community_office_imports_and_only_into_its_grids() {
    let s = Server::start().await;
    let leader = s.login(Role::GridLeader, "office").await;
    let (status, _) = import(&s, &leader, csv(&rows()).into_bytes(), false).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let admin = s.login(Role::CommunityAdmin, "office").await;
    let mut elsewhere = rows();
    elsewhere[1][6] = "别的社区第九网格".into();
    let before = s.dump();
    let (status, body) = import(&s, &admin, csv(&elsewhere).into_bytes(), true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["problems"][0]["line"], 3);
    assert_eq!(body["problems"][0]["field"], "所属网格");
    assert_eq!(s.dump(), before);
}

/// Each hostile file: refused with the row and column at fault, nothing written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_workbooks_are_refused_with_their_row_and_column() {
    let s = Server::start().await;
    let admin = s.login(Role::CommunityAdmin, "office").await;
    let good = xlsx(&rows());

    let mut formula_book = rust_xlsxwriter::Workbook::new();
    let sheet = formula_book.add_worksheet();
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (c, v) in rows()[0].iter().enumerate() {
        sheet.write_string(1, c as u16, v).unwrap();
    }
    sheet
        .write_formula(1, 4, "=HYPERLINK(\"http://evil\",\"x\")")
        .unwrap();
    let formula = formula_book.save_to_buffer().unwrap();

    let mut number_book = rust_xlsxwriter::Workbook::new();
    let sheet = number_book.add_worksheet();
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (c, v) in rows()[0].iter().enumerate() {
        sheet.write_string(1, c as u16, v).unwrap();
    }
    sheet.write_number(1, 3, 440703194501011232.0).unwrap();
    let id_as_number = number_book.save_to_buffer().unwrap();

    // A zip bomb: one part of 300 MB of zeros, a few hundred kB packed.
    let mut bomb = Vec::new();
    {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut bomb));
        zip.start_file(
            "xl/worksheets/sheet1.xml",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..300 {
            zip.write_all(&zeros).unwrap();
        }
        zip.finish().unwrap();
    }

    let mut big = HEADER.join(",") + "\n";
    for i in 0..100_001 {
        big += &format!(
            "居民{i},男,户主,,,,{},联和新村9栋1单元{}室\n",
            grid_name(0),
            100 + i % 900
        );
    }

    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "truncated xlsx",
            good[..good.len() / 2].to_vec(),
            "file",
            "readable",
        ),
        (
            "corrupt xlsx",
            [b"PK\x03\x04".as_slice(), &[0xAB; 4000]].concat(),
            "file",
            "readable",
        ),
        ("zip bomb", bomb, "file", "inflate"),
        ("a formula", formula, "E", "formula"),
        (
            "an ID stored as a number",
            id_as_number,
            "身份证号",
            "number",
        ),
        (
            "wrong columns",
            "名称,楼号\n张三,1\n".as_bytes().to_vec(),
            "姓名",
            "missing",
        ),
        (
            "an old .xls",
            [b"\xD0\xCF\x11\xE0".as_slice(), &[0; 100]].concat(),
            "file",
            ".xls",
        ),
        (
            "a bad ID",
            csv(&[[
                "张三",
                "男",
                "户主",
                "440703194501011234",
                "",
                "",
                &grid_name(0),
                "联和新村1栋1单元101室",
            ]
            .map(str::to_string)])
            .into_bytes(),
            "身份证号",
            "",
        ),
        (
            "an unknown category",
            csv(&[[
                "张三",
                "男",
                "户主",
                "",
                "",
                "外星人",
                &grid_name(0),
                "联和新村1栋1单元101室",
            ]
            .map(str::to_string)])
            .into_bytes(),
            "人员类别",
            "unknown",
        ),
        (
            "an address without a room",
            csv(&[[
                "张三",
                "男",
                "户主",
                "",
                "",
                "",
                &grid_name(0),
                "联和新村1栋",
            ]
            .map(str::to_string)])
            .into_bytes(),
            "地址",
            "room",
        ),
        (
            "the same name twice in a room",
            csv(&[rows()[0].clone(), rows()[0].clone()]).into_bytes(),
            "姓名",
            "twice",
        ),
        (
            "a hundred thousand and one people",
            big.into_bytes(),
            "file",
            "more than",
        ),
    ];
    let before = s.dump();
    for (what, bytes, field, words) in cases {
        let (status, body) = import(&s, &admin, bytes, true).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {body}");
        let p = &body["problems"][0];
        assert_eq!(p["field"], field, "{what}: {body}");
        assert!(
            p["message_en"].as_str().unwrap().contains(words),
            "{what}: {body}"
        );
        assert_eq!(s.dump(), before, "{what} wrote something");
    }

    // Larger than the limit: 413 (or the connection closed while still sending), nothing read.
    let sent = s
        .http
        .post(format!("{}/office/import/people", s.base))
        .bearer_auth(&admin)
        .body(vec![b'a'; 21 * 1024 * 1024])
        .send()
        .await;
    match sent {
        Ok(r) => assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE),
        Err(e) => assert!(e.is_request(), "{e}"),
    }
    assert_eq!(s.dump(), before);
}

/// A resident ID number with its GB 11643 check digit, from its first 17 digits.
fn id_number(first17: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    format!(
        "{first17}{}",
        "10X98765432".as_bytes()[(sum % 11) as usize] as char
    )
}

fn sheet_of(rows: &[Vec<&str>]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                sheet.write_string(r as u32, c as u16, *v).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

fn csv_of(rows: &[Vec<&str>]) -> String {
    rows.iter().map(|r| r.join(",") + "\n").collect()
}

/// The street's 实有人口台账 (XLSX): a title and a line of who filled it in above the header, 序号
/// and 备注 columns, 户号 grouping a household whose members' address and grid are left blank, and
/// twins of one name in one room told apart by their ID numbers.
fn street_ledger(twin_b: &str, second_room: &str) -> Vec<u8> {
    let g0 = grid_name(0);
    let (head, twin_a) = (
        id_number("44070319600301123"),
        id_number("44070320150601002"),
    );
    sheet_of(&[
        vec!["联和社区实有人口台账（2026年12月）"],
        vec![
            "填报单位：联和社区居委会",
            "",
            "",
            "",
            "",
            "填报日期：2026-12-01",
        ],
        vec![
            "序号",
            "户号",
            "姓名",
            "性别",
            "与户主关系",
            "公民身份号码",
            "联系电话",
            "所属网格",
            "门牌地址",
            "备注",
        ],
        vec![
            "1",
            "H001",
            "李建国",
            "男",
            "户主",
            &head,
            "13800138011",
            &g0,
            "联和新村90栋1单元101室",
            "",
        ],
        vec![
            "2",
            "H001",
            "李小双",
            "女",
            "女儿",
            &twin_a,
            "",
            "",
            "",
            "双胞胎",
        ],
        vec![
            "3",
            "H001",
            "李小双",
            "女",
            "女儿",
            twin_b,
            "",
            "",
            "",
            "双胞胎",
        ],
        vec![
            "4",
            "H002",
            "张秀兰",
            "女",
            "户主",
            "",
            "",
            &g0,
            "联和新村90栋1单元102室",
            "",
        ],
        vec![
            "5",
            "H002",
            "王强",
            "男",
            "配偶",
            "",
            "",
            "",
            second_room,
            "",
        ],
    ])
}

/// A property company's list (GBK CSV): the address in 小区 / 楼栋 / 单元 / 房号 columns, each
/// written its own way ("91栋", "91", "91号楼"; "1单元" or nothing; "201室").
fn property_list(unit: &str, room: &str) -> Vec<u8> {
    let (g0, g1) = (grid_name(0), grid_name(1));
    let text = csv_of(&[
        vec![
            "小区",
            "楼栋",
            "单元",
            "房号",
            "姓名",
            "与户主关系",
            "手机号码",
            "人员类型",
            "网格",
        ],
        vec![
            "联和新村",
            "91栋",
            unit,
            "201室",
            "赵大爷",
            "户主",
            "",
            "独居老人",
            &g0,
        ],
        vec![
            "联和新村",
            "91",
            "2",
            room,
            "钱阿姨",
            "户主",
            "13800138012",
            "低保",
            &g0,
        ],
        vec![
            "联和新村",
            "91号楼",
            "",
            "301",
            "孙先生",
            "户主",
            "",
            "",
            &g1,
        ],
    ]);
    encoding_rs::GBK.encode(&text).0.to_vec()
}

/// A grid worker's roster (UTF-8 CSV with a BOM, as Excel saves "CSV UTF-8"): a title row, other
/// headers (居民姓名, 联系方式, 房屋坐落), the address written with dashes or in full.
fn grid_roster(phone: &str) -> Vec<u8> {
    let g1 = grid_name(1);
    let zhou = id_number("44070319851111004");
    let text = csv_of(&[
        vec!["联和社区第二网格居民花名册", "", "", "", "", ""],
        vec![
            "居民姓名",
            "身份证号码",
            "联系方式",
            "所属网格",
            "房屋坐落",
            "备注",
        ],
        vec!["周文", &zhou, phone, &g1, "联和新村92-1-101", ""],
        vec!["吴敏", "", "", &g1, "联和新村92栋1单元101室", "租户"],
    ]);
    [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat()
}

/// Three ledgers shaped as offices really keep them are each taken as they are; their dirty
/// copies are refused whole, every problem in Chinese with its row and column, nothing written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_ledgers_as_offices_keep_them() {
    let s = Server::start().await;
    let admin = s.login(Role::CommunityAdmin, "office").await;
    let twin_b = id_number("44070320150601028");

    // Dirty first: nothing of any of them may land.
    let before = s.dump();
    // (which ledger, its bytes, each problem: row, column, words of the Chinese message)
    type Expected<'a> = Vec<(u64, &'a str, &'a str)>;
    let dirty: Vec<(&str, Vec<u8>, Expected)> = vec![
        (
            "street ledger",
            street_ledger("440703201506010281", "联和新村90栋1单元103室"),
            vec![
                (6, "身份证号", "身份号码"),
                (8, "户号", "同一户号应为同一房间"),
            ],
        ),
        (
            "property list",
            property_list("二单元", ""),
            vec![(2, "单元", "1–99"), (3, "房号", "必填")],
        ),
        (
            "grid roster",
            grid_roster("1380013"),
            vec![(3, "联系电话", "手机号")],
        ),
    ];
    for (what, bytes, expected) in dirty {
        let (status, body) = import(&s, &admin, bytes, true).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {body}");
        let got: Vec<(u64, String, String)> = body["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["line"].as_u64().unwrap(),
                    p["field"].as_str().unwrap().to_string(),
                    p["message"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(got.len(), expected.len(), "{what}: {got:?}");
        for ((line, field, message), (want_line, want_field, words)) in got.iter().zip(&expected) {
            assert_eq!(
                (line, field.as_str()),
                (want_line, *want_field),
                "{what}: {got:?}"
            );
            assert!(message.contains(words), "{what}: {message}");
        }
        assert_eq!(s.dump(), before, "{what} wrote something");
    }

    // Clean: each as it is.
    let (status, street) = import(&s, &admin, street_ledger(&twin_b, ""), true).await;
    assert_eq!(status, StatusCode::OK, "{street}");
    assert_eq!(street["people"], 5);
    assert_eq!(street["households_new"], 2, "grouped by 户号 and room");
    assert_eq!(street["residents_new"], 5, "the twins are two people");
    let mapping: Vec<(String, Value)> = serde_json::from_value(street["mapping"].clone()).unwrap();
    assert_eq!(
        mapping[0],
        ("序号".to_string(), Value::Null),
        "not imported"
    );
    assert_eq!(
        mapping[1],
        ("户号".to_string(), Value::from("household_no"))
    );
    let twins =
        s.number("SELECT COUNT(*) FROM records WHERE entity = 'resident' AND data LIKE '%李小双%'");
    assert_eq!(twins, 2);
    assert_eq!(
        households_named(&s, &admin, "联和新村90栋1单元102").await,
        1,
        "王强's blank address is his household's"
    );

    let (status, property) = import(&s, &admin, property_list("1单元", "202室"), true).await;
    assert_eq!(status, StatusCode::OK, "{property}");
    assert_eq!(
        (
            property["households_new"].as_u64(),
            property["buildings_new"].as_u64()
        ),
        (Some(3), Some(2)),
        "building 91 in two grids: {property}"
    );
    assert_eq!(
        households_named(&s, &admin, "联和新村91栋2单元202").await,
        1
    );
    assert_eq!(
        households_named(&s, &admin, "联和新村91栋1单元301").await,
        1,
        "no unit: unit 1"
    );

    let (status, roster) = import(&s, &admin, grid_roster("13800138013"), true).await;
    assert_eq!(status, StatusCode::OK, "{roster}");
    assert_eq!(
        (
            roster["households_new"].as_u64(),
            roster["residents_new"].as_u64()
        ),
        (Some(1), Some(2)),
        "{roster}"
    );

    // Each again: nothing new, the twins found by their ID numbers.
    let after = s.dump();
    for bytes in [
        street_ledger(&twin_b, ""),
        property_list("1单元", "202室"),
        grid_roster("13800138013"),
    ] {
        let (status, again) = import(&s, &admin, bytes, true).await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again["residents_new"], 0, "{again}");
        assert_eq!(again["households_new"], 0, "{again}");
    }
    assert_eq!(s.dump(), after);
}
