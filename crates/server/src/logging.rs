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

/// `text` with every run of seven or more digits (a phone, an ID number — its final X too)
/// masked but for its first three and last four, for words that go to the log and may carry
/// what someone typed.
pub fn mask_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..]
            .iter()
            .enumerate()
            .take_while(|(k, c)| c.is_ascii_digit() || (*k > 0 && matches!(c, 'x' | 'X')))
            .count();
        if run >= 7 {
            for (k, c) in chars[i..i + run].iter().enumerate() {
                out.push(if k < 3 || k >= run - 4 { *c } else { '*' });
            }
            i += run;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::mask_numbers;

    #[test]
    fn long_numbers_are_masked_and_short_ones_kept() {
        assert_eq!(
            mask_numbers("电话13812345678，3号楼"),
            "电话138****5678，3号楼"
        );
        assert_eq!(
            mask_numbers("身份证11010519491231002X"),
            "身份证110***********002X"
        );
        assert_eq!(mask_numbers("12月7日18:30 门牌502"), "12月7日18:30 门牌502");
        assert_eq!(mask_numbers("GM-2026-000123"), "GM-2026-000123");
        assert_eq!(mask_numbers(""), "");
    }
}
