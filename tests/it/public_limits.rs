//! Abuse resistance of the public endpoints: a client address over its quota gets a clear 429
//! (JSON with a stable code and a Persian message for the API, a Persian page for people) and
//! `Retry-After`; signed-in work is not limited.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn public_verification_is_rate_limited_per_address() {
    let (store, _url) = fresh_store().await;
    skillcard_db::demo::seed(&store).await.unwrap();
    let server = serve_store_with(store, |s| s.with_public_rate_limit(6, 3)).await;
    let addr = server.addr;
    let client = reqwest::Client::new();
    let api =
        format!("http://{addr}/api/v1/public/verify?number=ESF-1405-1&national_id=0499370899");
    for _ in 0..3 {
        let r = client.get(&api).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = client.get(&api).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers()[reqwest::header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=11).contains(&wait), "{wait}");
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["code"], "rate_limited");
    assert!(b["message"].as_str().unwrap().contains("ثانیه"), "{b}");
    // The page shares the address's quota and answers in Persian.
    let r = client
        .get(format!("http://{addr}/verify"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().await.unwrap().contains("ثانیه"));
    // Signed-in and non-public paths are not limited.
    let r = client
        .get(format!("http://{addr}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

/// Behind a trusted reverse proxy each client named in `X-Forwarded-For` has its own quota;
/// from an untrusted peer the header changes nothing.
#[tokio::test]
async fn behind_a_trusted_proxy_the_limit_is_per_forwarded_client() {
    let (store, _url) = fresh_store().await;
    skillcard_db::demo::seed(&store).await.unwrap();
    let start = |trusted: Vec<std::net::IpAddr>| {
        serve_store_with(store.clone(), |s| {
            s.with_public_rate_limit_behind(6, 2, trusted)
        })
    };
    let client = reqwest::Client::new();
    let status = |addr: std::net::SocketAddr, forwarded: &'static str| {
        let client = client.clone();
        async move {
            client
                .get(format!("http://{addr}/api/v1/public/keys"))
                .header("x-forwarded-for", forwarded)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // The test client connects from 127.0.0.1, here a trusted proxy.
    let proxied_server = start(vec!["127.0.0.1".parse().unwrap()]).await;
    let proxied = proxied_server.addr;
    for _ in 0..2 {
        assert_eq!(status(proxied, "203.0.113.1").await, StatusCode::OK);
    }
    assert_eq!(
        status(proxied, "203.0.113.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        status(proxied, "203.0.113.2").await,
        StatusCode::OK,
        "another client"
    );
    // Not trusted: a new forwarded address per request does not escape the peer's quota.
    let direct_server = start(Vec::new()).await;
    let direct = direct_server.addr;
    assert_eq!(status(direct, "203.0.113.1").await, StatusCode::OK);
    assert_eq!(status(direct, "203.0.113.2").await, StatusCode::OK);
    assert_eq!(
        status(direct, "203.0.113.3").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}
