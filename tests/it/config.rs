//! The configuration file: settings by the environment's names, the environment winning, a
//! malformed line named.

use crate::helpers::tempdir;

fn skillcard(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_skillcard"));
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env_remove("SKILLCARD_CONFIG")
        .env("RUST_LOG", "warn")
        .env("RUST_BACKTRACE", "0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn a_configuration_file_sets_what_the_environment_does_not() {
    let dir = tempdir();
    let (from_file, from_env) = (dir.join("from-file.db"), dir.join("from-env.db"));
    let conf = dir.join("skillcard.conf");
    std::fs::write(
        &conf,
        format!(
            "# the database\nDATABASE_URL = \"sqlite:{}\"\n",
            from_file.display()
        ),
    )
    .unwrap();
    let conf_s = conf.display().to_string();

    let (ok, out) = skillcard(&["--config", &conf_s, "migrate"], &[]);
    assert!(ok, "{out}");
    assert!(
        from_file.exists(),
        "the file's DATABASE_URL was not used: {out}"
    );

    // Named through the environment, and overridden by it.
    let env_url = format!("sqlite:{}", from_env.display());
    let (ok, out) = skillcard(
        &["migrate"],
        &[("SKILLCARD_CONFIG", &conf_s), ("DATABASE_URL", &env_url)],
    );
    assert!(ok, "{out}");
    assert!(from_env.exists(), "the environment did not win: {out}");

    std::fs::write(&conf, "DATABASE_URL sqlite:x.db\n").unwrap();
    let (ok, out) = skillcard(&["--config", &conf_s, "migrate"], &[]);
    assert!(!ok);
    assert!(out.contains("line 1") && out.contains("KEY=value"), "{out}");
    let (ok, out) = skillcard(&["--config", "/nonexistent/skillcard.conf", "migrate"], &[]);
    assert!(!ok && out.contains("/nonexistent/skillcard.conf"), "{out}");
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly() {
    let dir = tempdir();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_skillcard"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--key-dir")
        .arg(dir.join("keys"))
        .env(
            "DATABASE_URL",
            format!("sqlite:{}", dir.join("serve.db").display()),
        )
        .env("RUST_LOG", "info")
        .env_remove("SKILLCARD_CONFIG")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let health = format!("http://127.0.0.1:{port}/health");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..200 {
        if client
            .get(&health)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(up, "the server did not come up");
    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let out = tokio::time::timeout(std::time::Duration::from_secs(25), child.wait_with_output())
        .await
        .expect("the server did not stop within 25 s after SIGTERM")
        .unwrap();
    let log =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("skillcard stopped"), "{log}");
}
