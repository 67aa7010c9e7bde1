//! Abuse resistance of the public endpoints: a client address over its quota gets a clear 429
//! (JSON with a stable code and a Persian message for the API, a Persian page for people) and
//! `Retry-After`; signed-in work is not limited. What a trusted reverse proxy says (the client's
//! address, the request's id) counts only when it comes from that proxy.

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

/// A trusted proxy's `X-Request-Id` names the request in the server's logs and comes back; a
/// malformed one, or one from any other peer, is replaced by a fresh id.
#[tokio::test]
async fn request_ids_come_from_trusted_proxies_or_are_made_fresh() {
    let (store, _url) = fresh_store().await;
    let start = |trusted: Vec<std::net::IpAddr>| {
        serve_store_with(store.clone(), |s| {
            s.with_public_rate_limit_behind(0, 0, trusted)
        })
    };
    let client = reqwest::Client::new();
    let id_for = |addr: std::net::SocketAddr, sent: Option<&'static str>| {
        let client = client.clone();
        async move {
            let mut rb = client.get(format!("http://{addr}/api/v1/public/keys"));
            if let Some(v) = sent {
                rb = rb.header("x-request-id", v);
            }
            let r = rb.send().await.unwrap();
            r.headers()["x-request-id"].to_str().unwrap().to_owned()
        }
    };
    let fresh = |id: &str| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());

    // The test client connects from 127.0.0.1, here a trusted proxy.
    let proxied = start(vec!["127.0.0.1".parse().unwrap()]).await;
    assert_eq!(
        id_for(proxied.addr, Some("lb-0f8fad5b.7")).await,
        "lb-0f8fad5b.7"
    );
    for junk in ["two words", "\"quoted\""] {
        let id = id_for(proxied.addr, Some(junk)).await;
        assert!(fresh(&id), "{junk:?} gave {id:?}");
    }
    let long = Box::leak("x".repeat(65).into_boxed_str());
    assert!(fresh(&id_for(proxied.addr, Some(long)).await));
    let (a, b) = (
        id_for(proxied.addr, None).await,
        id_for(proxied.addr, None).await,
    );
    assert!(fresh(&a) && fresh(&b) && a != b, "{a} {b}");

    let direct = start(Vec::new()).await;
    let id = id_for(direct.addr, Some("lb-0f8fad5b.7")).await;
    assert!(fresh(&id), "an untrusted peer's id is not taken: {id}");
}
