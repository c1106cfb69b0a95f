//! The targets. A target is prepared once (a store, a server database) and then fed inputs.

use gridmate_device::{ScopeData, Session, Store};
use gridmate_protocol::{Mutation, MutationPayload, PushRequest, RawPullPage, records};
use gridmate_server::sqlite::SqliteStore;
use gridmate_server::store::Backend;

pub trait Target {
    fn name(&self) -> &'static str;
    /// Run one input. `Err` is a broken invariant (a panic is caught by the engine).
    fn run(&mut self, input: &[u8]) -> Result<(), String>;
}

pub const TARGETS: [&str; 9] = [
    "push",
    "pull_page",
    "csv_import",
    "people_import",
    "base_map_import",
    "geojson_import",
    "address",
    "photo",
    "photo_upload",
];

pub fn make(name: &str) -> Option<Box<dyn Target>> {
    Some(match name {
        "push" => Box::new(Push),
        "pull_page" => Box::new(PullPage::new()),
        "csv_import" => Box::new(Import::new(false)),
        "geojson_import" => Box::new(Import::new(true)),
        "people_import" => Box::new(PeopleImport),
        "base_map_import" => Box::new(BaseMapImport::new()),
        "address" => Box::new(Address),
        "photo" => Box::new(Photo),
        "photo_upload" => Box::new(PhotoUpload),
        _ => return None,
    })
}

/// The body of `POST /sync/push` as the server decodes it: the envelope, then each mutation's
/// payload decoded and validated. A payload that decodes must encode to JSON that decodes to
/// the same payload.
struct Push;

impl Target for Push {
    fn name(&self) -> &'static str {
        "push"
    }

    fn run(&mut self, input: &[u8]) -> Result<(), String> {
        let Ok(req) = serde_json::from_slice::<PushRequest>(input) else {
            return Ok(());
        };
        for m in &req.mutations {
            let _ = m.hlc();
            if let Ok(p) = MutationPayload::decode(&m.kind, &m.data) {
                let again = MutationPayload::decode(p.kind(), &p.to_json())
                    .map_err(|e| format!("a valid payload did not survive encoding: {e}"))?;
                if again != p {
                    return Err(format!("round trip changed the payload: {p:?} → {again:?}"));
                }
                let rebuilt = Mutation {
                    data: p.to_json(),
                    ..m.clone()
                };
                rebuilt
                    .payload()
                    .map_err(|e| format!("a rebuilt mutation does not decode: {e}"))?;
            }
        }
        Ok(())
    }
}

/// A pulled page as the phone decodes and applies it, into a real store holding the demo
/// community. A page the store refuses must leave it as it was; the file stays sound.
struct PullPage {
    _dir: tempfile::TempDir,
    store: Store,
    runs: u64,
}

impl PullPage {
    fn new() -> PullPage {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = Store::open(dir.path()).expect("store");
        let demo = gridmate_demo::generate(&gridmate_demo::DemoConfig::scaled(200));
        store
            .load_scope(ScopeData::of_demo(&demo, true))
            .expect("demo loads");
        let u = demo.user(gridmate_model::Role::GridWorker);
        store
            .sign_in(&Session {
                user: u.user.clone(),
                assignments: u.assignments.clone(),
            })
            .expect("sign in");
        PullPage {
            _dir: dir,
            store,
            runs: 0,
        }
    }
}

impl Target for PullPage {
    fn name(&self) -> &'static str {
        "pull_page"
    }

    fn run(&mut self, input: &[u8]) -> Result<(), String> {
        let Ok(page) = serde_json::from_slice::<RawPullPage>(input) else {
            return Ok(());
        };
        for c in &page.changes {
            let _ = records::decode_raw(c.entity, c.data.get());
        }
        let before = self.store.local_digest().map_err(|e| e.to_string())?;
        if self.store.apply_pull_page(&page).is_err() {
            let after = self.store.local_digest().map_err(|e| e.to_string())?;
            if after != before {
                return Err("a refused page changed the store".into());
            }
        }
        self.runs += 1;
        if self.runs.is_multiple_of(500) {
            let check = self.store.integrity_check().map_err(|e| e.to_string())?;
            if check != "ok" {
                return Err(format!("integrity check: {check}"));
            }
        }
        Ok(())
    }
}

/// `gridmate-server import households|grids` on bytes as a spreadsheet or GIS tool wrote them
/// (UTF-8, BOM, GBK). A file with problems imports nothing.
struct Import {
    geojson: bool,
    _dir: tempfile::TempDir,
    store: SqliteStore,
}

impl Import {
    fn new(geojson: bool) -> Import {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path()).expect("server store");
        // One grid for households to land in.
        gridmate_server::import::import_grids(
            &store,
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"A","name":"A网格","kind":"居民","community":"测试社区"},"geometry":{"type":"Polygon","coordinates":[[[113.0,22.0],[113.005,22.0],[113.005,22.005],[113.0,22.005],[113.0,22.0]]]}}]}"#,
        )
        .expect("seed grid");
        Import {
            geojson,
            _dir: dir,
            store,
        }
    }

    fn records(&self) -> Result<i64, String> {
        self.store
            .admin(|tx| tx.head())
            .map(|head| head as i64)
            .map_err(|e| e.to_string())
    }
}

impl Target for Import {
    fn name(&self) -> &'static str {
        if self.geojson {
            "geojson_import"
        } else {
            "csv_import"
        }
    }

    fn run(&mut self, input: &[u8]) -> Result<(), String> {
        let text = gridmate_server::import::decode_text(input);
        let before = self.records()?;
        let result = if self.geojson {
            gridmate_server::import::import_grids(&self.store, &text)
        } else {
            gridmate_server::import::import_households(&self.store, &text)
        };
        if let Err(gridmate_server::import::ImportError::Problems(problems)) = result {
            if problems.is_empty() {
                return Err("refused with no problem named".into());
            }
            if problems.iter().any(|p| p.line == 0 && !self.geojson) {
                return Err(format!("a CSV problem without a line: {problems:?}"));
            }
            if self.records()? != before {
                return Err("a refused file imported something".into());
            }
        }
        Ok(())
    }
}

/// The search box's "12-2-301" / "12栋2单元301室" parser: anything it accepts prints back to
/// something it parses to the same address — except a bare lettered building ("B栋" prints
/// "B"), which on its own is a name search by design, not an address.
/// A community's per-person ledger (XLSX or CSV, UTF-8 or GBK) as the office uploads it: it is
/// read or refused, never a panic; every person read has a name, a room and a masked ID number
/// only (a full one never survives the parse).
struct PeopleImport;

impl Target for PeopleImport {
    fn name(&self) -> &'static str {
        "people_import"
    }

    fn run(&mut self, input: &[u8]) -> Result<(), String> {
        let Ok((_, people)) = gridmate_server::import::people::parse(input) else {
            return Ok(());
        };
        for p in people {
            if p.name.is_empty() || p.room.is_empty() {
                return Err(format!("row {} read without a name or a room", p.line));
            }
            if let Some(id) = &p.id_number_masked
                && !id.contains('*')
            {
                return Err(format!("row {} kept an ID number unmasked", p.line));
            }
        }
        Ok(())
    }
}

/// A base map (GeoJSON) as the office uploads it, planned and written on a real server store
/// with the demo's grids and buildings: refused files write nothing and name a problem; an
/// accepted one gives each grid a base map within the bounds, every feature inside its grid.
struct BaseMapImport {
    _dir: tempfile::TempDir,
    store: SqliteStore,
    grids: Vec<gridmate_model::Grid>,
}

impl BaseMapImport {
    fn new() -> BaseMapImport {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path()).expect("server store");
        let demo = gridmate_demo::generate(&gridmate_demo::DemoConfig::scaled(200));
        gridmate_server::demo::seed(&store, &demo).expect("demo");
        BaseMapImport {
            _dir: dir,
            store,
            grids: demo.grids,
        }
    }
}

impl Target for BaseMapImport {
    fn name(&self) -> &'static str {
        "base_map_import"
    }

    fn run(&mut self, input: &[u8]) -> Result<(), String> {
        use gridmate_server::import::base_map;
        let ids: Vec<uuid::Uuid> = self.grids.iter().map(|g| g.id.0).collect();
        let head = |s: &SqliteStore| s.admin(|tx| tx.head()).map_err(|e| e.to_string());
        let before = head(&self.store)?;
        let outcome = self
            .store
            .admin(|tx| base_map::plan(tx, &ids, input, true))
            .map_err(|e| e.to_string())?;
        match outcome {
            Err(p) => {
                if p.is_empty() {
                    return Err("refused with no problem named".into());
                }
                if head(&self.store)? != before {
                    return Err("a refused base map wrote something".into());
                }
            }
            Ok(plan) => {
                for g in &plan.grids {
                    if g.features > gridmate_model::basemap::MAX_FEATURES
                        || g.vertices > gridmate_model::basemap::MAX_VERTICES
                    {
                        return Err(format!("grid {} over its bounds: {g:?}", g.grid_name));
                    }
                }
                let maps: Vec<records::BaseMapRecord> = self
                    .store
                    .admin(|tx| tx.live_data(gridmate_protocol::Entity::BaseMap))
                    .map_err(|e| e.to_string())?
                    .iter()
                    .filter_map(|d| serde_json::from_str(d).ok())
                    .collect();
                for m in maps {
                    let grid = self
                        .grids
                        .iter()
                        .find(|g| g.id.0 == m.grid_id)
                        .ok_or("a base map of no grid")?;
                    let Some(outline) = geo::BoundingRect::bounding_rect(&grid.boundary) else {
                        continue;
                    };
                    for f in m.to_model().features {
                        let Some((x0, y0, x1, y1)) = f.shape.bounds() else {
                            return Err("an empty feature was kept".into());
                        };
                        // Coordinates are kept to 6 decimals: allow that much past the edge.
                        let e = 1e-6;
                        if x0 < outline.min().x - e
                            || y0 < outline.min().y - e
                            || x1 > outline.max().x + e
                            || y1 > outline.max().y + e
                        {
                            return Err(format!("a {:?} outside its grid", f.kind));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

struct Address;

impl Target for Address {
    fn name(&self) -> &'static str {
        "address"
    }

    fn run(&mut self, input: &[u8]) -> Result<(), String> {
        let text = String::from_utf8_lossy(input);
        let _ = gridmate_model::address::normalize(&text);
        if let Some(a) = gridmate_model::address::parse(&text) {
            let printed = a.to_string();
            if !printed.contains('-') && !printed.bytes().any(|b| b.is_ascii_digit()) {
                return Ok(());
            }
            let again = gridmate_model::address::parse(&printed)
                .ok_or_else(|| format!("{text:?} parsed, but its print {printed:?} does not"))?;
            if again != a {
                return Err(format!("{text:?} → {a:?} → {printed:?} → {again:?}"));
            }
        }
        Ok(())
    }
}

/// The photo pipeline on whatever a gallery or camera hands over. What comes out is a JPEG of
/// at most 1600 px a side, named by its hash.
struct Photo;

impl Target for Photo {
    fn name(&self) -> &'static str {
        "photo"
    }

    fn run(&mut self, input: &[u8]) -> Result<(), String> {
        let Ok(p) = gridmate_device::photos::process(input) else {
            return Ok(());
        };
        if p.width.max(p.height) > gridmate_device::photos::MAX_SIDE {
            return Err(format!("{}×{} is over the size limit", p.width, p.height));
        }
        if let Err(problem) = gridmate_protocol::photo::check_jpeg(&p.jpeg) {
            return Err(format!(
                "the server would refuse the pipeline's photo: {problem}"
            ));
        }
        use sha2::Digest;
        let sha = gridmate_model::hex::encode(&sha2::Sha256::digest(&p.jpeg));
        if sha != p.sha256.as_str() {
            return Err("the photo's name is not its hash".into());
        }
        Ok(())
    }
}

/// The server's check of an uploaded photo, from its headers. Whatever it accepts is a JPEG whose
/// frame a real decoder reads as the same size, within the contract's 1600 px.
struct PhotoUpload;

impl Target for PhotoUpload {
    fn name(&self) -> &'static str {
        "photo_upload"
    }

    fn run(&mut self, input: &[u8]) -> Result<(), String> {
        let Ok(size) = gridmate_protocol::photo::check_jpeg(input) else {
            return Ok(());
        };
        if size.width.max(size.height) > gridmate_protocol::photo::MAX_SIDE {
            return Err(format!("accepted {}×{}", size.width, size.height));
        }
        let reader =
            image::ImageReader::with_format(std::io::Cursor::new(input), image::ImageFormat::Jpeg);
        if let Ok((w, h)) = reader.into_dimensions()
            && (w, h) != (size.width, size.height)
        {
            return Err(format!(
                "accepted as {}×{}, but a decoder reads {w}×{h}",
                size.width, size.height
            ));
        }
        Ok(())
    }
}
