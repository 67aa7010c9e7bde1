//! The configuration file: `KEY=value` lines with the very names of the environment variables
//! (`DATABASE_URL`, `SKILLCARD_LISTEN`, …), `#` comments and blank lines allowed, values
//! optionally in double quotes. Named by `--config FILE` or `SKILLCARD_CONFIG`; the
//! environment wins over the file, and a command-line flag over both. Read before anything
//! else runs, so every setting has one meaning however it is given.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

/// The file named on the command line (`--config FILE` / `--config=FILE`) or in
/// `SKILLCARD_CONFIG`, if any.
pub fn named(args: &[String]) -> Option<PathBuf> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(p) = a.strip_prefix("--config=") {
            return Some(PathBuf::from(p));
        }
    }
    std::env::var_os("SKILLCARD_CONFIG").map(PathBuf::from)
}

/// The settings of the file at `path`, in order.
pub fn read(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the configuration file {}", path.display()))?;
    parse(&text).with_context(|| format!("in {}", path.display()))
}

fn parse(text: &str) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            bail!("line {}: expected KEY=value", n + 1);
        };
        let key = key.trim();
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        {
            bail!(
                "line {}: {key:?} is not a setting's name (upper case, digits, _)",
                n + 1
            );
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        out.push((key.to_string(), value.to_string()));
    }
    Ok(out)
}

/// Puts the file's settings into the environment where the environment has none. Called
/// before any thread starts.
pub fn apply(settings: Vec<(String, String)>) {
    for (key, value) in settings {
        if std::env::var_os(&key).is_none() {
            std::env::set_var(key, value);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lines_comments_and_quotes() {
        let s = parse("# national deployment\n\nDATABASE_URL = postgres://db/skillcard\nSKILLCARD_SMTP_FROM=\"اداره کل <no-reply@x.ir>\"\n").unwrap();
        assert_eq!(
            s,
            vec![
                ("DATABASE_URL".into(), "postgres://db/skillcard".into()),
                (
                    "SKILLCARD_SMTP_FROM".into(),
                    "اداره کل <no-reply@x.ir>".into()
                ),
            ]
        );
        assert!(parse("no equals sign").is_err());
        assert!(parse("lower=case").is_err());
    }

    #[test]
    fn the_file_is_named_by_flag_or_environment() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            named(&args(&["skillcard", "--config", "/etc/s.conf", "serve"])),
            Some("/etc/s.conf".into())
        );
        assert_eq!(
            named(&args(&["skillcard", "--config=/etc/s.conf"])),
            Some("/etc/s.conf".into())
        );
    }
}
