//! `gridmate-server`: serve the sync API, and administer users and data from the command line.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use gridmate_demo::{DemoConfig, generate};
use gridmate_model::Role;
use gridmate_server::app::AppState;
use gridmate_server::database::Database;
use gridmate_server::import::ImportError;
use gridmate_server::reach::{LogProvider, SmsConfig, SmsProvider};
use gridmate_server::routes::router;
use gridmate_server::store::{Backend, admin, log};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "gridmate-server",
    about = "The central service Gridmate devices sync with"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the data lives: always a folder (photos; SQLite's file by default), and optionally a
/// PostgreSQL database for the records.
#[derive(clap::Args)]
struct Db {
    /// The data folder: photos, and the SQLite database unless --database is given.
    #[arg(long, env = "GRIDMATE_DATA")]
    data: PathBuf,
    /// A PostgreSQL URL (postgres://user:password@host:port/database) for a city's records,
    /// shared by several server processes. Absent: SQLite in the data folder.
    #[arg(long, env = "GRIDMATE_DATABASE", hide_env_values = true)]
    database: Option<String>,
    /// Where photos live when several server processes share them: an S3-compatible object
    /// store, `s3://BUCKET?endpoint=http://host:port` (keys from AWS_ACCESS_KEY_ID and
    /// AWS_SECRET_ACCESS_KEY). Absent: DATA/blobs.
    #[arg(long, env = "GRIDMATE_BLOBS")]
    blobs: Option<String>,
    /// The SMS provider's configuration (TOML: provider, keys, signature name, a template per
    /// notice). Absent: GRIDMATE_SMS_* from the environment, or else no SMS is sent and
    /// messages go to the log.
    #[arg(long, env = "GRIDMATE_SMS_CONFIG")]
    sms: Option<PathBuf>,
    /// The addresses of the TLS terminators in front of this server (nginx), comma-separated:
    /// their `X-Forwarded-Proto: https` marks cookies Secure and sends HSTS. Absent: none is
    /// believed (docs/deployment.md).
    #[arg(long, env = "GRIDMATE_TRUSTED_PROXY", value_delimiter = ',')]
    trusted_proxy: Vec<std::net::IpAddr>,
    /// The address residents reach this server at (https://wgt.example.gov.cn), printed in the
    /// buildings' QR codes. Absent: the address the console is opened at.
    #[arg(long, env = "GRIDMATE_PUBLIC_URL")]
    public_url: Option<String>,
}

impl Db {
    fn open(&self) -> Result<Database> {
        std::fs::create_dir_all(&self.data)
            .with_context(|| format!("creating {}", self.data.display()))?;
        Database::open(self.database.as_deref(), &self.data)
            .with_context(|| format!("opening the database ({})", self.describe()))
    }

    /// Where, without a password.
    fn describe(&self) -> String {
        match &self.database {
            Some(url) => match url.parse::<tokio_postgres::Config>() {
                Ok(c) => format!(
                    "postgres {:?} on {:?}",
                    c.get_dbname().unwrap_or("?"),
                    c.get_hosts()
                ),
                Err(_) => "postgres (unreadable url)".into(),
            },
            None => format!("sqlite in {}", self.data.display()),
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API.
    Serve {
        #[arg(long, env = "GRIDMATE_ADDR", default_value = "127.0.0.1:8787")]
        addr: SocketAddr,
        #[command(flatten)]
        db: Db,
    },
    /// Create or upgrade the database.
    Migrate {
        #[command(flatten)]
        db: Db,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Give a user a grid or a building (their devices re-pull their scope).
    Assign {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        phone: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        grid: Option<uuid::Uuid>,
        #[arg(long)]
        building: Option<uuid::Uuid>,
        /// Replace the user's assignments instead of adding to them.
        #[arg(long)]
        replace: bool,
    },
    /// Revoke every session of a user (a lost phone): its next request gets token_revoked.
    Revoke {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        phone: String,
    },
    /// Load grids (GeoJSON) or households (CSV, UTF-8 or GBK) into the database.
    Import {
        #[command(subcommand)]
        what: ImportCommand,
    },
    /// Remove a household that left (its residents with it): devices get a delete.
    RemoveHousehold {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        id: uuid::Uuid,
    },
    /// Drop tombstones older than the retention window (default 90 days).
    Purge {
        #[command(flatten)]
        db: Db,
        #[arg(long, default_value_t = log::TOMBSTONE_RETENTION_DAYS)]
        days: i64,
    },
    /// Write a consistent copy of the SQLite database to a new file while the server keeps
    /// serving (photos: copy DATA/blobs, whose files never change). On PostgreSQL, use pg_dump.
    Backup {
        #[command(flatten)]
        db: Db,
        /// The copy to write (must not exist).
        #[arg(long)]
        to: PathBuf,
    },
    /// Report overlaps and gaps between each community's grids, in square metres.
    CoverageCheck {
        #[command(flatten)]
        db: Db,
    },
    /// Build the demo community with one account per role (DIR/demo-accounts.json) and serve it.
    Demo {
        #[command(flatten)]
        db: Db,
        #[arg(long, default_value = "127.0.0.1:8787")]
        addr: SocketAddr,
        /// Seed and exit without serving.
        #[arg(long)]
        seed_only: bool,
    },
}

/// The file in the data folder that says which day (Beijing time) the demo was seeded for.
const DEMO_SEEDED_ON: &str = "demo-seeded-on";

#[derive(Subcommand)]
enum ImportCommand {
    /// A FeatureCollection of Polygon/MultiPolygon grids with code, name, kind, community.
    Grids {
        #[command(flatten)]
        db: Db,
        file: PathBuf,
    },
    /// A base map (底图): GeoJSON in WGS-84 of building footprints, roads, water and green,
    /// cut to every grid and stored as each grid's base map.
    BaseMap {
        #[command(flatten)]
        db: Db,
        file: PathBuf,
        /// Check and report, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// A spreadsheet of households: 网格编码, 楼栋, 单元, 房号, 户主姓名 (+ 地址, 小区, 标签, 走访周期, 户主电话).
    Households {
        #[command(flatten)]
        db: Db,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user. The password is read from GRIDMATE_PASSWORD or the first line of stdin.
    Add {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        phone: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_delimiter = ',')]
        role: Vec<String>,
    },
}

fn role(code: &str) -> Result<Role> {
    if code == Role::Resident.code() {
        anyhow::bail!(
            "residents sign themselves in on the resident page; no account is made for them"
        );
    }
    Role::from_code(code).with_context(|| format!("unknown role {code:?}; one of grid_worker, grid_leader, building_leader, party_member, community_admin"))
}

/// Serve `store`; a `demo` server without SMS credentials shows residents their sign-in code on
/// the page, since nothing can text it.
async fn serve(store: Database, db: &Db, addr: SocketAddr, demo: bool) -> Result<()> {
    tracing::info!(backend = store.kind(), "database open");
    let blobs = gridmate_server::blobs::open(db.blobs.as_deref(), db.data.join("blobs"))
        .context("opening the photo store")?;
    tracing::info!(photos = %blobs.describe(), "photo store open");
    let mut state = AppState::with_blobs(store, blobs, &db.data)?;
    let config = match &db.sms {
        Some(file) => Some(SmsConfig::from_file(file)?),
        None => SmsConfig::from_env(|name| std::env::var(name).ok())?,
    };
    state.demo_codes = demo && config.is_none();
    state.trusted_proxies = gridmate_server::proxy::TrustedProxies(db.trusted_proxy.clone().into());
    state.public_url = db.public_url.clone();
    if state.demo_codes {
        tracing::warn!("demo: residents' sign-in codes are shown on the resident page");
    }
    let provider: Arc<dyn SmsProvider> = match &config {
        Some(config) => config.provider()?,
        None => Arc::new(LogProvider),
    };
    let courier = state.courier(provider);
    match config {
        Some(_) => tracing::info!(
            provider = courier.provider_name(),
            "SMS provider configured"
        ),
        None => tracing::warn!(
            provider = courier.provider_name(),
            "no SMS credentials: messages are written to this log (numbers masked) and kept in the outbox, none is sent"
        ),
    }
    courier.spawn();
    state.bell.watch(state.store.clone());
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(%addr, "serving");
    eprintln!("gridmate-server listening on http://{addr}/api/v1");
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop_requested())
    .await?;
    tracing::info!("stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM (what systemd and container runtimes send). The server then stops taking
/// connections and finishes the requests in flight: a push being applied is answered.
async fn stop_requested() {
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
    tracing::info!("stopping: finishing the requests in flight");
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(gridmate_server::logging::filter("info,tower_http=info"))
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve { addr, db } => serve(db.open()?, &db, addr, false).await,
        Command::Migrate { db } => {
            db.open()?;
            eprintln!("database ({}) is up to date", db.describe());
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    db,
                    phone,
                    name,
                    role: roles,
                },
        } => {
            let phone =
                gridmate_model::validate::phone(&phone).map_err(|e| anyhow::anyhow!("{e}"))?;
            let roles = roles.iter().map(|r| role(r)).collect::<Result<Vec<_>>>()?;
            let password = match std::env::var("GRIDMATE_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            if password.chars().count() < 8 {
                bail!("a password needs at least 8 characters");
            }
            let store = db.open()?;
            store.admin(|tx| {
                admin::add_user(tx, uuid::Uuid::now_v7(), &phone, &name, &roles, &password)
            })?;
            eprintln!("added {name}");
            Ok(())
        }
        Command::Assign {
            db,
            phone,
            role: r,
            grid,
            building,
            replace,
        } => {
            if grid.is_none() == building.is_none() {
                bail!("give exactly one of --grid and --building");
            }
            let r = role(&r)?;
            let store = db.open()?;
            store.admin(|tx| {
                if replace {
                    admin::reassign(tx, &phone, r, grid, building)
                } else {
                    admin::assign(tx, &phone, r, grid, building)
                }
            })?;
            eprintln!("assigned");
            Ok(())
        }
        Command::Revoke { db, phone } => {
            let store = db.open()?;
            let n = store.admin(|tx| admin::revoke_user(tx, &phone))?;
            eprintln!("revoked {n} session(s)");
            Ok(())
        }
        Command::Import { what } => match what {
            ImportCommand::BaseMap { db, file, dry_run } => import_base_map(db, &file, dry_run),
            ImportCommand::Grids { db, file } => import_table(db, &file, true),
            ImportCommand::Households { db, file } => import_table(db, &file, false),
        },
        Command::RemoveHousehold { db, id } => {
            let store = db.open()?;
            let now = chrono::Utc::now().timestamp_millis();
            let n = store.admin(|tx| log::remove_household(tx, id, now))?;
            eprintln!("removed {n} record(s)");
            Ok(())
        }
        Command::Purge { db, days } => {
            let store = db.open()?;
            let cutoff = chrono::Utc::now().timestamp_millis() - days * 86_400_000;
            let n = store.admin(|tx| log::purge_tombstones(tx, cutoff))?;
            eprintln!("purged {n} tombstone(s)");
            Ok(())
        }
        Command::Backup { db, to } => match db.open()? {
            Database::Sqlite(store) => {
                store.backup(&to)?;
                eprintln!("backed up to {}", to.display());
                Ok(())
            }
            Database::Postgres(_) => bail!(
                "on PostgreSQL, back up with pg_dump: pg_dump --format=custom --file=FILE \"$GRIDMATE_DATABASE\" (README: On PostgreSQL)"
            ),
        },
        Command::CoverageCheck { db } => {
            let store = db.open()?;
            let mut clean = true;
            for r in gridmate_server::import::coverage_check(&store)? {
                println!("{}: {} grids, {:.0} m²", r.community, r.grids, r.total_m2);
                for (a, b, m2) in &r.overlaps {
                    clean = false;
                    println!("  overlap {a} × {b}: {m2:.0} m²");
                }
                for m2 in &r.gaps_m2 {
                    clean = false;
                    println!("  gap: {m2:.0} m² covered by no grid");
                }
            }
            if !clean {
                bail!("grids must tile without gap or overlap");
            }
            Ok(())
        }
        Command::Demo {
            db,
            addr,
            seed_only,
        } => {
            let now = chrono::Utc::now();
            let today = now
                .with_timezone(&gridmate_model::calendar::china())
                .format("%Y-%m-%d")
                .to_string();
            let marker = db.data.join(DEMO_SEEDED_ON);
            let seeded_on = std::fs::read_to_string(&marker).unwrap_or_default();
            let mut store = db.open()?;
            let mut fresh = store.admin(|tx| tx.user_count())? == 0;
            if !fresh && seeded_on.trim() != today {
                let was = if seeded_on.is_empty() {
                    "an earlier day".to_string()
                } else {
                    seeded_on.trim().to_string()
                };
                if db.database.is_some() {
                    eprintln!(
                        "the demo in this database was seeded on {was}: its figures are of that \
                         day; drop the database to seed it for today"
                    );
                } else {
                    // A demo shown on a later day than it was seeded on looks like a community
                    // that stopped working; it is seeded afresh for today.
                    eprintln!("the demo was seeded on {was}; seeding it afresh for {today}");
                    drop(store);
                    let file = db.data.join(gridmate_server::sqlite::DATABASE_FILE);
                    for suffix in ["", "-wal", "-shm"] {
                        let mut path = file.clone().into_os_string();
                        path.push(suffix);
                        match std::fs::remove_file(&path) {
                            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                                return Err(e).context("removing the stale demo database");
                            }
                            _ => {}
                        }
                    }
                    store = db.open()?;
                    fresh = true;
                }
            }
            if fresh {
                let community = generate(&DemoConfig::lianhe_at(now));
                let mut accounts = gridmate_server::demo::seed(&store, &community)?;
                accounts.extend(gridmate_server::demo::seed_residents(
                    &store, &community, now,
                )?);
                let path = db.data.join("demo-accounts.json");
                std::fs::write(&path, serde_json::to_string_pretty(&accounts)?)?;
                std::fs::write(&marker, &today)?;
                eprintln!(
                    "demo community seeded for {today}; accounts in {}",
                    path.display()
                );
            }
            if seed_only {
                return Ok(());
            }
            serve(store, &db, addr, true).await
        }
    }
}

/// `import base-map`: plan (and unless `dry_run`, write) the base maps of every grid.
fn import_base_map(db: Db, file: &std::path::Path, dry_run: bool) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let store = db.open()?;
    let plan = store
        .admin(|tx| {
            let grids: Vec<uuid::Uuid> = tx
                .live_data(gridmate_protocol::Entity::Grid)?
                .iter()
                .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
                .filter_map(|g| g["id"].as_str().and_then(|i| i.parse().ok()))
                .collect();
            gridmate_server::import::base_map::plan(tx, &grids, &bytes, !dry_run)
        })?
        .map_err(ImportError::Problems)?;
    for g in &plan.grids {
        eprintln!(
            "{}: {} features, {} vertices, {} KB, {}/{} footprints on a building",
            g.grid_name,
            g.features,
            g.vertices,
            g.bytes / 1024,
            g.footprints_matched,
            g.footprints
        );
    }
    eprintln!(
        "{} features read, {} outside every grid, {} cut at a grid's edge; {}",
        plan.features_read,
        plan.outside,
        plan.clipped,
        if plan.committed {
            "written"
        } else {
            "nothing written (dry run)"
        }
    );
    Ok(())
}

/// `import grids` (GeoJSON) or `import households` (CSV).
fn import_table(db: Db, file: &std::path::Path, grids: bool) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let text = gridmate_server::import::decode_text(&bytes);
    let store = db.open()?;
    let n = if grids {
        gridmate_server::import::import_grids(&store, &text)
    } else {
        gridmate_server::import::import_households(&store, &text)
    }?;
    eprintln!(
        "imported {n} {}",
        if grids { "grid(s)" } else { "household(s)" }
    );
    Ok(())
}
