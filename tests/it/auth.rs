//! Authentication and CSRF: pages need a session, forms need their token, the API needs a bearer.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

fn receive_form(csrf: Option<&str>) -> Vec<(&'static str, String)> {
    let mut f = vec![
        ("counted", "۱۰۰۰".to_string()),
        ("missing", String::new()),
        ("damaged", String::new()),
        ("deliverer_name", "کامران یزدانی".to_string()),
        ("deliverer_title", "مأمور حمل".to_string()),
        ("receiver_name", "رضا کریمی".to_string()),
        ("receiver_title", "حراست".to_string()),
    ];
    if let Some(c) = csrf {
        f.push(("_csrf", c.to_string()));
    }
    f
}

#[tokio::test]
async fn auth_sessions_csrf_and_tokens() {
    let app = spawn_app().await;
    let anon = browser();
    // Pages redirect to /login without a session.
    for page in [
        "/",
        "/shipments",
        "/shipments/1",
        "/vault",
        "/requests",
        "/audit",
    ] {
        let r = anon.get(app.url(page)).send().await.unwrap();
        assert!(r.status().is_redirection(), "{page}: {}", r.status());
        assert_eq!(location(&r), "/login", "{page}");
    }
    // The API answers 401 without or with a bad token.
    let (s, b) = app.get_json("/api/v1/stock", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(b["code"], "unauthenticated");
    let (s, b) = app.get_json("/api/v1/stock", Some("not-a-token")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(b["code"], "unauthenticated");
    let before = db_fingerprint(&app.store).await;
    let (s, b) = app
        .post_json(
            "/api/v1/shipments/2/receipt",
            None,
            &receipt_body(1000, &[], &[]),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    assert_eq!(b["code"], "unauthenticated");
    assert_eq!(before, db_fingerprint(&app.store).await);
    // A wrong password changes nothing but the record of the failure (audited, counted).
    let (s, b) = app
        .post_json(
            "/api/v1/tokens",
            None,
            &json!({ "username": "security", "password": "wrong" }),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(b["code"], "invalid_credentials");
    let after = db_fingerprint(&app.store).await;
    let changed: Vec<&String> = after
        .keys()
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    assert_eq!(
        changed,
        ["audit_head", "count.audit_log", "count.login_throttle"],
        "{before:?} {after:?}"
    );

    // The login form without its pre-session cookie/token is refused.
    let r = anon
        .post(app.url("/login"))
        .form(&[
            ("username", "security"),
            ("password", PASSWORD),
            ("_csrf", "forged"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        extract_data_code(&r.text().await.unwrap()).as_deref(),
        Some("csrf_mismatch")
    );

    // Login through the form.
    let web = browser();
    let page = web.get(app.url("/login")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let pre = extract_csrf(&page.text().await.unwrap()).unwrap();
    // Wrong password: 401, no session.
    let r = web
        .post(app.url("/login"))
        .form(&[
            ("username", "security"),
            ("password", "nope"),
            ("_csrf", pre.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = web.get(app.url("/")).send().await.unwrap();
    assert!(r.status().is_redirection());
    let r = web
        .post(app.url("/login"))
        .form(&[
            ("username", "security"),
            ("password", PASSWORD),
            ("_csrf", pre.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    assert_eq!(location(&r), "/");
    let r = web.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = web.get(app.url("/shipments/2")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csrf = extract_csrf(&r.text().await.unwrap()).unwrap();
    // The session also works for API reads.
    let r = web.get(app.url("/api/v1/stock")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // A page form without, or with a wrong, CSRF token changes nothing.
    let before = db_fingerprint(&app.store).await;
    for token in [None, Some("0000"), Some(pre.as_str())] {
        let r = web
            .post(app.url("/shipments/2/receive"))
            .form(&receive_form(token))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "token {token:?}");
        let html = r.text().await.unwrap();
        assert_eq!(
            extract_data_code(&html).as_deref(),
            Some("csrf_mismatch"),
            "{html}"
        );
    }
    // Nor does an API write by cookie without the header.
    let r = web
        .post(app.url("/api/v1/shipments/2/receipt"))
        .json(&receipt_body(1000, &[], &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let b: serde_json::Value = r.json().await.unwrap();
    assert_eq!(b["code"], "csrf_mismatch");
    assert_eq!(before, db_fingerprint(&app.store).await);

    // With the right token the form works.
    let r = web
        .post(app.url("/shipments/2/receive"))
        .form(&receive_form(Some(&csrf)))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    assert_eq!(location(&r), "/shipments/2");
    let v = app.get_ok("/api/v1/shipments/2", "hq").await;
    assert_eq!(v["status"], "received");

    // A domain error on a page shows its code.
    let r = web
        .post(app.url("/shipments/2/receive"))
        .form(&receive_form(Some(&csrf)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(
        extract_data_code(&r.text().await.unwrap()).as_deref(),
        Some("shipment_not_in_transit")
    );

    // Logout ends the session.
    let r = web
        .post(app.url("/logout"))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection());
    let r = web.get(app.url("/")).send().await.unwrap();
    assert!(r.status().is_redirection());
    assert_eq!(location(&r), "/login");
    app.assert_check_ok().await;
}
