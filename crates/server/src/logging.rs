//! What the server logs, whatever the operator asks for. The PostgreSQL driver logs every
//! statement's parameters at debug level (phones, names, password hashes), so it is held at info
//! even under `RUST_LOG=trace`.

use tracing_subscriber::EnvFilter;

/// Libraries whose verbose levels carry personal data.
const QUIET: &[&str] = &["tokio_postgres=info"];

/// `RUST_LOG` if set, else `default`, with [`QUIET`] on top.
pub fn filter(default: &str) -> EnvFilter {
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    for directive in QUIET {
        if let Ok(d) = directive.parse() {
            filter = filter.add_directive(d);
        }
    }
    filter
}
