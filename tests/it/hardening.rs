//! Hostile input and account security (issue "hardening"): images that declare enormous sizes,
//! control and bidi characters, guessed passwords, and tokens that must stop working — each
//! answered the same on SQLite and PostgreSQL, with nothing changed by a refusal.

use crate::exams::list_with_candidates;
use crate::helpers::*;
use crate::printing::issued_certificates;
use reqwest::StatusCode;
use serde_json::{json, Value};
use skillcard_media::samples::{jpeg_bomb, png_bomb};

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

#[tokio::test]
async fn candidate_photos_that_declare_huge_sizes_are_refused_and_good_ones_normalised() {
    let app = spawn_app().await;
    let (id, _) = list_with_candidates(&app).await;
    let path = format!("/api/v1/exam-lists/{id}/candidates");
    let body = |photo: &[u8]| {
        json!({ "national_id": "0067749828", "first_name": "مینا", "last_name": "رستمی",
                "father_name": "جواد", "birth_date": "1381/02/02", "written_score": "70",
                "photo_base64": b64(photo) })
    };
    for bomb in [
        png_bomb(100_000, 100_000),
        jpeg_bomb(65_000, 65_000),
        png_bomb(9_000, 9_000),
    ] {
        let b = app
            .post_rejected(
                &path,
                "examiner",
                &body(&bomb),
                UNPROCESSABLE,
                "image_too_large",
            )
            .await;
        assert_eq!(b["details"]["field"], "photo", "{b}");
    }
    app.post_rejected(
        &path,
        "examiner",
        &body(b"\x89PNG\r\n\x1a\ntruncated"),
        UNPROCESSABLE,
        "unreadable_image",
    )
    .await;

    // A real photo, larger than the card's frame and with an alpha channel, is stored as a
    // small JPEG of the product's own making.
    let img = image::RgbaImage::from_fn(1500, 2000, |x, y| {
        image::Rgba([
            (x % 256) as u8,
            (y % 256) as u8,
            90,
            if x < 50 { 0 } else { 255 },
        ])
    });
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png).unwrap();
    app.post_ok(&path, "examiner", &body(png.get_ref())).await;
    let (stored, kind): (Vec<u8>, String) =
        sqlx::query_as("SELECT photo, photo_type FROM candidates WHERE national_id = '0067749828'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(kind, "image/jpeg");
    assert!(stored.starts_with(&[0xFF, 0xD8, 0xFF]));
    let decoded = image::load_from_memory(&stored).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (480, 640));
    assert!(stored.len() < 200_000, "{} bytes", stored.len());
}

#[tokio::test]
async fn a_bad_photo_already_stored_cannot_take_the_face_render_down() {
    let app = spawn_app().await;
    let certs = issued_certificates(&app).await;
    let (cert, cand) = certs[0];
    let print = app
        .post_ok(
            &format!("/api/v1/certificates/{cert}/prints"),
            "clerk",
            &json!({ "chip_uid": "04a1b2c3d4e5f6" }),
        )
        .await;
    let print_id = print["id"].as_i64().unwrap();
    let face = format!("/api/v1/prints/{print_id}/face.pdf");

    // the printer's files are for the issuance staff only.
    for user in [
        "head", "officer", "examiner", "delivery", "dg", "board", "hq",
    ] {
        let t = app.token(user).await;
        let r = app
            .client
            .get(app.url(&face))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{user}");
        let v = app
            .get_ok(&format!("/api/v1/prints/{print_id}"), user)
            .await;
        assert_eq!(v["credential_hex"], "", "{user} sees the raw credential");
    }
    let clerk = app.token("clerk").await;
    let v = app
        .get_ok(&format!("/api/v1/prints/{print_id}"), "clerk")
        .await;
    assert!(!v["credential_hex"].as_str().unwrap().is_empty());

    // A photo that bypassed the upload check (written straight into the database).
    sqlx::query("UPDATE candidates SET photo = $1, photo_type = 'image/png' WHERE id = $2")
        .bind(png_bomb(100_000, 100_000))
        .bind(cand)
        .execute(app.store.pool())
        .await
        .unwrap();
    for path in [
        face.clone(),
        format!("/api/v1/prints/faces.pdf?ids={print_id}"),
    ] {
        let (s, b) = app.get_json(&path, Some(&clerk)).await;
        assert_eq!(s, UNPROCESSABLE, "{path}: {b}");
        assert_eq!(b["code"], "image_too_large", "{b}");
    }
    let (s, _) = app.get_json("/health", None).await;
    assert_eq!(s, StatusCode::OK, "the server is still up");
}

#[tokio::test]
async fn control_bidi_and_invisible_text_is_refused_the_same_on_both_backends() {
    let app = spawn_app().await;
    // Anonymous: the token exchange, the login form and public verification.
    let before = db_fingerprint(&app.store).await;
    let (s, b) = app
        .post_json(
            "/api/v1/tokens",
            None,
            &json!({ "username": "hq\u{0}", "password": "x" }),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (UNPROCESSABLE, Some("forbidden_character")),
        "{b}"
    );
    assert_eq!(b["details"]["codepoint"], "U+0000");
    let (s, b) = app
        .get_json(
            "/api/v1/public/verify?number=ESF-1405-1%00&national_id=0499370899",
            None,
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (UNPROCESSABLE, Some("forbidden_character")),
        "{b}"
    );
    let web = browser();
    let page = web.get(app.url("/login")).send().await.unwrap();
    let pre = extract_csrf(&page.text().await.unwrap()).unwrap();
    let r = web
        .post(app.url("/login"))
        .form(&[
            ("username", "hq\u{0}"),
            ("password", "x"),
            ("_csrf", pre.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), UNPROCESSABLE);
    assert!(r.text().await.unwrap().contains("نویسه‌ای نامجاز"));
    assert_eq!(before, db_fingerprint(&app.store).await);

    // Staff input: shipment carrier, trade title, candidate names.
    let ship = |carrier: &str| {
        json!({ "province_id": ISFAHAN, "ref_no": "۱۴۰۵-۹۹", "carrier": carrier, "declared_count": 10,
                "ranges": [{ "first": 900001, "last": 900010 }] })
    };
    for (carrier, code) in [
        ("پست\u{0}", "forbidden_character"),
        ("\u{202E}پست", "forbidden_character"),
        ("پست\u{7}", "forbidden_character"),
    ] {
        app.post_rejected(
            "/api/v1/shipments",
            "hq",
            &ship(carrier),
            UNPROCESSABLE,
            code,
        )
        .await;
    }
    app.post_rejected(
        "/api/v1/trades",
        "hq",
        &json!({ "standard_code": "1-2", "title": "جوشکاری\u{2066}" }),
        UNPROCESSABLE,
        "forbidden_character",
    )
    .await;
    let (id, _) = list_with_candidates(&app).await;
    let path = format!("/api/v1/exam-lists/{id}/candidates");
    let cand = |first: &str| {
        json!({ "national_id": "0067749828", "first_name": first, "last_name": "رستمی",
                "father_name": "جواد", "birth_date": "1381/02/02", "written_score": "70" })
    };
    for (first, code) in [
        ("مینا\u{0}", "forbidden_character"),
        ("\u{202D}مینا", "forbidden_character"),
        ("\u{200c}\u{200b}\u{200d}", "invisible_text"),
        ("\u{FEFF}", "invisible_text"),
    ] {
        let b = app
            .post_rejected(&path, "examiner", &cand(first), UNPROCESSABLE, code)
            .await;
        assert_eq!(b["details"]["field"], "first_name");
    }
    // A non-joiner inside a name is correct Persian; at its ends it is trimmed.
    let list = app
        .post_ok(&path, "examiner", &cand("\u{200c}مه\u{200c}لقا"))
        .await;
    assert!(list.to_string().contains("مه\u{200c}لقا"));
}

async fn token_attempt(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/tokens"))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap()
}

async fn audit_actions(app: &TestApp, action: &str) -> Vec<Value> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT after FROM audit_log WHERE action = $1 ORDER BY seq")
            .bind(action)
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    rows.into_iter()
        .map(|(a,)| serde_json::from_str(&a).unwrap())
        .collect()
}

#[tokio::test]
async fn guessing_a_password_is_throttled_per_account_and_the_holder_is_told() {
    let app = spawn_app().await;
    // The allowance: five wrong passwords answer 401.
    for _ in 0..5 {
        let r = token_attempt(&app, "security", "wrong-password").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // The sixth locks the account for a second, the seventh for two; meanwhile even the right
    // password is refused (429, Retry-After) without being checked.
    let r = token_attempt(&app, "security", "wrong-password").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = token_attempt(&app, "security", "wrong-password").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = token_attempt(&app, "security", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["code"], "login_throttled");
    assert!(b["message"].as_str().unwrap().contains("ثانیه"));
    // The page says it in Persian, with the same status.
    let web = browser();
    let page = web.get(app.url("/login")).send().await.unwrap();
    let pre = extract_csrf(&page.text().await.unwrap()).unwrap();
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
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    assert!(r.text().await.unwrap().contains("ورود موقتاً بسته است"));
    // Another account from the same address is not locked by it.
    assert_eq!(
        token_attempt(&app, "head", PASSWORD).await.status(),
        StatusCode::OK
    );

    // Once the lock ends the right password works, and the holder learns of the failures.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = token_attempt(&app, "security", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let t = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, me) = app.get_json("/api/v1/me", Some(&t)).await;
    assert_eq!(me["failed_sign_ins_before_last"], 7, "{me}");
    // Every failure, the lockouts and the success are in the audit chain with the address.
    let failures = audit_actions(&app, "login.failure").await;
    assert_eq!(failures.len(), 7);
    assert!(failures
        .iter()
        .all(|f| f["username"] == "security" && f["address"] == "127.0.0.1"));
    assert_eq!(audit_actions(&app, "login.lockout").await.len(), 2);
    assert!(!audit_actions(&app, "login.success").await.is_empty());
    app.assert_check_ok().await;
}

#[tokio::test]
async fn one_address_guessing_many_accounts_is_throttled() {
    let app = spawn_app().await;
    for i in 0..21 {
        let r = token_attempt(&app, &format!("nobody{i}"), "guess").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // The address is now locked, whichever account it tries.
    let r = token_attempt(&app, "hq", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "login_throttled");
}

#[tokio::test]
async fn tokens_expire_can_be_listed_and_revoked_and_end_with_their_user() {
    let app = spawn_app().await;
    let issue = |label: &str, days: Option<i64>| {
        let mut b = json!({ "username": "clerk", "password": PASSWORD, "label": label });
        if let Some(d) = days {
            b["expires_in_days"] = json!(d);
        }
        b
    };
    let (s, a) = app
        .post_json("/api/v1/tokens", None, &issue("laptop", None))
        .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    let (_, b) = app
        .post_json("/api/v1/tokens", None, &issue("script", Some(1)))
        .await;
    let (s, e) = app
        .post_json("/api/v1/tokens", None, &issue("x", Some(400)))
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (UNPROCESSABLE, Some("invalid_value"))
    );
    let (ta, tb) = (a["token"].as_str().unwrap(), b["token"].as_str().unwrap());
    // 30 days by default.
    let exp = time::OffsetDateTime::parse(
        a["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let days = (exp - time::OffsetDateTime::now_utc()).whole_days();
    assert!((29..=30).contains(&days), "{days}");

    let (s, list) = app.get_json("/api/v1/tokens", Some(ta)).await;
    assert_eq!(s, StatusCode::OK);
    let labels: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["script", "laptop"]);
    assert!(!list.to_string().contains(ta), "secrets are never listed");

    // Revoking one token by id: 401 from the next request on; someone else's token is not found.
    let other = app.token("head").await;
    let (s, _) = app
        .send_delete(&format!("/api/v1/tokens/{}", b["id"]), &other)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app
        .send_delete(&format!("/api/v1/tokens/{}", b["id"]), ta)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, r) = app.get_json("/api/v1/me", Some(tb)).await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );

    // The presenting token revokes itself.
    let (s, _) = app.send_delete("/api/v1/tokens/current", ta).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get_json("/api/v1/me", Some(ta)).await.0,
        StatusCode::UNAUTHORIZED
    );

    // An expired token answers 401 with its own code (its expiry moved into the past, as time
    // would).
    let (_, c) = app
        .post_json("/api/v1/tokens", None, &issue("old", None))
        .await;
    sqlx::query("UPDATE api_tokens SET expires_at = '2020-01-01T00:00:00Z' WHERE id = $1")
        .bind(c["id"].as_i64().unwrap())
        .execute(app.store.pool())
        .await
        .unwrap();
    let (s, r) = app
        .get_json("/api/v1/me", Some(c["token"].as_str().unwrap()))
        .await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("token_expired"))
    );

    // Deactivating a user ends their tokens and sessions at once; reactivating does not revive
    // the tokens.
    let (_, d) = app
        .post_json("/api/v1/tokens", None, &issue("live", None))
        .await;
    let td = d["token"].as_str().unwrap();
    let web = crate::exam_pages::login(&app, "clerk").await;
    assert_eq!(
        web.get(app.url("/")).send().await.unwrap().status(),
        StatusCode::OK
    );
    app.store
        .set_user_active(skillcard_db::AccountAdmin::Operator, "clerk", false)
        .await
        .unwrap();
    assert_eq!(
        app.get_json("/api/v1/me", Some(td)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert!(web
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .status()
        .is_redirection());
    assert_eq!(
        token_attempt(&app, "clerk", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.store
        .set_user_active(skillcard_db::AccountAdmin::Operator, "clerk", true)
        .await
        .unwrap();
    assert_eq!(
        app.get_json("/api/v1/me", Some(td)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        token_attempt(&app, "clerk", PASSWORD).await.status(),
        StatusCode::OK
    );
    let revoked = audit_actions(&app, "token.revoke").await.len();
    assert_eq!(revoked, 2);
    let disabled = audit_actions(&app, "user.disable").await;
    // The live token and the expired one.
    assert_eq!(disabled[0]["ended"]["tokens"], 2, "{disabled:?}");
    app.assert_check_ok().await;
}

#[tokio::test]
async fn the_http_layer_refuses_in_the_same_shape_as_everything_else() {
    let app = spawn_app().await;
    let t = app.token("clerk").await;
    let long = format!("/api/v1/stock?x={}", "a".repeat(9000));
    let cases: [(reqwest::RequestBuilder, StatusCode, &str); 5] = [
        (
            app.client.get(app.url(&long)),
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
        ),
        // A path id that is not a number.
        (
            app.client.get(app.url("/api/v1/prints/abc")),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            app.client.get(app.url("/api/v1/no-such-thing")),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            app.client.put(app.url("/api/v1/stock")),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        // A JSON body over the limit.
        (
            app.client
                .post(app.url("/api/v1/exam-lists/1/candidates"))
                .header("content-type", "application/json")
                .body(format!("{{\"first_name\":\"{}\"}}", "x".repeat(3 << 20))),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
    ];
    for (rb, status, code) in cases {
        let r = rb.bearer_auth(&t).send().await.unwrap();
        assert_eq!(r.status(), status);
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["code"], code, "{b}");
        assert!(!b["message"].as_str().unwrap().is_empty());
    }
    // People get the Persian error page.
    let web = crate::exam_pages::login(&app, "clerk").await;
    let r = web
        .get(app.url("/issuance/not-a-number"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(r.text().await.unwrap().contains("درخواست نادرست است"));
}

/// Arbitrary text (NUL, controls, bidi overrides, zero-width characters, any Unicode) in the
/// fields anyone can reach — the token exchange, public verification by number — and in staff
/// input: never a 5xx, on either backend.
#[test]
fn arbitrary_text_never_gives_a_server_error() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = rt.block_on(spawn_app());
    let hq = rt.block_on(app.token("hq"));
    let text = prop_oneof![
        Just("\u{0}".to_string()),
        Just("\u{202E}".to_string()),
        Just("\u{200C}".to_string()),
        Just("۱۲۳".to_string()),
        any::<String>(),
        "\\PC{0,12}",
    ];
    let texts = proptest::collection::vec(text, 1..4).prop_map(|v| v.concat());
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&(texts.clone(), texts), |(a, b)| {
        rt.block_on(async {
            let (s1, b1) = app
                .post_json(
                    "/api/v1/tokens",
                    None,
                    &json!({ "username": a, "password": b }),
                )
                .await;
            let r = app
                .client
                .get(app.url("/api/v1/public/verify"))
                .query(&[("number", a.as_str()), ("national_id", b.as_str())])
                .send()
                .await
                .unwrap();
            let s2 = r.status();
            let (s3, b3) = app
                .post_json(
                    "/api/v1/trades",
                    Some(&hq),
                    &json!({ "standard_code": b, "title": a }),
                )
                .await;
            for (s, what) in [
                (s1, format!("{b1}")),
                (s2, "verify".into()),
                (s3, format!("{b3}")),
            ] {
                prop_assert!(!s.is_server_error(), "{s} {what} for {a:?} / {b:?}");
            }
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

async fn replace_first_password(app: &TestApp, token: &str, first: &str) {
    let (s, b) = app
        .post_json(
            "/api/v1/me/password",
            Some(token),
            &json!({ "current_password": first, "new_password": format!("{first}-mine") }),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
}

#[tokio::test]
async fn administrators_manage_accounts_and_nothing_else() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    // No business permission; HQ no longer manages users.
    assert_eq!(
        app.get_json("/api/v1/stock", Some(&admin)).await.0,
        StatusCode::FORBIDDEN
    );
    let hq = app.token("hq").await;
    let new = |username: &str, password: &str, role: &str, province: Option<i64>| {
        json!({ "username": username, "password": password, "full_name": "کاربر تازه",
                "role": role, "province_id": province })
    };
    let (s, b) = app
        .post_json(
            "/api/v1/users",
            Some(&hq),
            &new("u1", "a-fine-passphrase", "security", Some(ISFAHAN)),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    // The password policy, in Persian.
    for (password, reason) in [
        ("short", "too_short"),
        ("1234567890", "common"),
        ("u1-secret-u1", "like_username"),
    ] {
        let b = app
            .post_rejected(
                "/api/v1/users",
                "admin",
                &new("u1", password, "security", Some(ISFAHAN)),
                UNPROCESSABLE,
                "weak_password",
            )
            .await;
        assert_eq!(b["details"]["reason"], reason);
    }
    app.post_ok(
        "/api/v1/users",
        "admin",
        &new("u1", "a-fine-passphrase", "delivery_agent", Some(ISFAHAN)),
    )
    .await;
    // A provincial administrator reaches their province's users only.
    app.post_ok(
        "/api/v1/users",
        "admin",
        &new("admin_esf", "another-fine-one", "admin", Some(ISFAHAN)),
    )
    .await;
    let (_, t) = app
        .post_json(
            "/api/v1/tokens",
            None,
            &json!({ "username": "admin_esf", "password": "another-fine-one" }),
        )
        .await;
    let esf = t["token"].as_str().unwrap().to_string();
    // The administrator chose the first password: it is replaced before anything else.
    assert_eq!(
        app.get_json("/api/v1/users", Some(&esf)).await.0,
        StatusCode::FORBIDDEN
    );
    replace_first_password(&app, &esf, "another-fine-one").await;
    let (_, users) = app.get_json("/api/v1/users", Some(&esf)).await;
    let users = users.as_array().unwrap();
    assert!(
        users.iter().all(|u| u["province_id"] == ISFAHAN),
        "{users:?}"
    );
    assert!(users.iter().any(|u| u["username"] == "u1"));
    let (s, _) = app
        .post_json("/api/v1/users/hq/disable", Some(&esf), &json!({}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app
        .post_json(
            "/api/v1/users",
            Some(&esf),
            &new("hq2", "a-fine-passphrase", "hq", None),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Nobody manages their own account through the administrator's door.
    let (s, _) = app
        .post_json("/api/v1/users/admin/disable", Some(&admin), &json!({}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // A new role takes effect on the user's next request.
    let (_, t) = app
        .post_json(
            "/api/v1/tokens",
            None,
            &json!({ "username": "u1", "password": "a-fine-passphrase" }),
        )
        .await;
    let u1 = t["token"].as_str().unwrap().to_string();
    replace_first_password(&app, &u1, "a-fine-passphrase").await;
    assert_eq!(
        app.get_json("/api/v1/stock", Some(&u1)).await.0,
        StatusCode::FORBIDDEN
    );
    let (s, _) = app
        .put_json(
            "/api/v1/users/u1/role",
            Some(&admin),
            &json!({ "role": "security", "province_id": ISFAHAN }),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get_json("/api/v1/stock", Some(&u1)).await.0,
        StatusCode::OK
    );

    // A reset: the old token ends, the one-time password must be replaced before anything else.
    let clerk = app.token("clerk").await;
    let (s, r) = app
        .post_json(
            "/api/v1/users/clerk/reset-password",
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let otp = r["one_time_password"].as_str().unwrap().to_string();
    assert_eq!(
        app.get_json("/api/v1/me", Some(&clerk)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        token_attempt(&app, "clerk", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (s, t) = app
        .post_json(
            "/api/v1/tokens",
            None,
            &json!({ "username": "clerk", "password": otp }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let fresh = t["token"].as_str().unwrap().to_string();
    let (s, b) = app.get_json("/api/v1/stock", Some(&fresh)).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("password_change_required"))
    );
    // The page sends the user to the password form.
    let web = browser();
    let page = web.get(app.url("/login")).send().await.unwrap();
    let pre = extract_csrf(&page.text().await.unwrap()).unwrap();
    web.post(app.url("/login"))
        .form(&[
            ("username", "clerk"),
            ("password", otp.as_str()),
            ("_csrf", pre.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let r = web.get(app.url("/exams")).send().await.unwrap();
    assert_eq!(
        r.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/account/password")
    );
    let html = web
        .get(app.url("/account/password"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("بازنشانی شده است"), "{html}");
    let change =
        |current: &str, new: &str| json!({ "current_password": current, "new_password": new });
    let (s, b) = app
        .post_json(
            "/api/v1/me/password",
            Some(&fresh),
            &change(&otp, "1234567890"),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (UNPROCESSABLE, Some("weak_password"))
    );
    let (s, b) = app
        .post_json(
            "/api/v1/me/password",
            Some(&fresh),
            &change("wrong", "a-new-passphrase"),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (UNPROCESSABLE, Some("invalid_value"))
    );
    let (s, _) = app
        .post_json(
            "/api/v1/me/password",
            Some(&fresh),
            &change(&otp, "a-new-passphrase"),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get_json("/api/v1/stock", Some(&fresh)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        web.get(app.url("/exams")).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        token_attempt(&app, "clerk", &otp).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        token_attempt(&app, "clerk", "a-new-passphrase")
            .await
            .status(),
        StatusCode::OK
    );

    for action in [
        "user.create",
        "user.role",
        "user.password_reset",
        "user.password_change",
    ] {
        assert!(
            !audit_actions(&app, action).await.is_empty(),
            "{action} not audited"
        );
    }
    // Administrators' changes carry the address they were made from.
    for action in ["user.role", "user.password_reset"] {
        let events = audit_actions(&app, action).await;
        assert!(
            events.iter().all(|e| e["address"] == "127.0.0.1"),
            "{action}: {events:?}"
        );
    }
    app.assert_check_ok().await;
}

/// The current code of an authenticator holding `secret` (base32), made by the same RFC 6238
/// arithmetic an authenticator app uses, `steps` steps of 30 s from now.
fn authenticator_code(secret: &str, steps: i64) -> String {
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp() + 30 * steps;
    totp.generate(now as u64).to_string()
}

#[tokio::test]
async fn privileged_roles_sign_in_with_a_second_factor() {
    // A server that requires a second factor of HQ.
    let app = spawn_app_with(true, |s| {
        s.with_second_factor_roles(vec![skillcard_core::policy::Role::Hq])
    })
    .await;
    let hq = app.token("hq").await;
    // Until HQ sets one up, nothing else works.
    let (s, b) = app.get_json("/api/v1/stock", Some(&hq)).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("second_factor_required"))
    );
    // Other roles are not held up.
    assert_eq!(
        app.get_json("/api/v1/stock", Some(&app.token("security").await))
            .await
            .0,
        StatusCode::OK
    );

    let (s, en) = app
        .post_json("/api/v1/me/totp", Some(&hq), &json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{en}");
    let secret = en["secret"].as_str().unwrap().to_string();
    assert!(en["otpauth_url"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/"));
    let (s, b) = app
        .post_json(
            "/api/v1/me/totp/confirm",
            Some(&hq),
            &json!({ "otp": "000000" }),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (UNPROCESSABLE, Some("invalid_value"))
    );
    let (s, rc) = app
        .post_json(
            "/api/v1/me/totp/confirm",
            Some(&hq),
            &json!({ "otp": authenticator_code(&secret, 0) }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{rc}");
    let codes: Vec<String> = rc["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 10);
    assert_eq!(
        app.get_json("/api/v1/stock", Some(&hq)).await.0,
        StatusCode::OK
    );

    // Signing in now needs the code: without it 401 otp_required (before the password is
    // looked at), with a wrong one a counted failure, with the next step's code a token.
    let sign_in = |otp: Option<String>, password: &str| {
        let mut b = json!({ "username": "hq", "password": password });
        if let Some(o) = otp {
            b["otp"] = json!(o);
        }
        b
    };
    let (s, b) = app
        .post_json("/api/v1/tokens", None, &sign_in(None, PASSWORD))
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("otp_required"))
    );
    let (s, b) = app
        .post_json(
            "/api/v1/tokens",
            None,
            &sign_in(Some("123456".into()), PASSWORD),
        )
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_credentials"))
    );
    let next = authenticator_code(&secret, 1);
    let (s, b) = app
        .post_json(
            "/api/v1/tokens",
            None,
            &sign_in(Some(next.clone()), PASSWORD),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // The same code is accepted once.
    let (s, _) = app
        .post_json("/api/v1/tokens", None, &sign_in(Some(next), PASSWORD))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // A recovery code works once, in place of the app's code.
    let (s, _) = app
        .post_json(
            "/api/v1/tokens",
            None,
            &sign_in(Some(codes[0].to_uppercase()), PASSWORD),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app
        .post_json(
            "/api/v1/tokens",
            None,
            &sign_in(Some(codes[0].clone()), PASSWORD),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // A right code with a wrong password is still refused.
    let (s, _) = app
        .post_json(
            "/api/v1/tokens",
            None,
            &sign_in(Some(codes[1].clone()), "wrong-password"),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // The login page asks for the code too.
    let web = browser();
    let page = web.get(app.url("/login")).send().await.unwrap();
    let pre = extract_csrf(&page.text().await.unwrap()).unwrap();
    let r = web
        .post(app.url("/login"))
        .form(&[
            ("username", "hq"),
            ("password", PASSWORD),
            ("_csrf", pre.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("دومرحله‌ای"));
    let r = web
        .post(app.url("/login"))
        .form(&[
            ("username", "hq"),
            ("password", PASSWORD),
            ("otp", codes[2].as_str()),
            ("_csrf", pre.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection());
    let html = web
        .get(app.url("/account/2fa"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("data-second-factor=\"on\""), "{html}");
    assert!(!audit_actions(&app, "user.totp_enable").await.is_empty());
    app.assert_check_ok().await;
}

#[tokio::test]
async fn people_manage_their_account_and_administrators_users_through_the_pages() {
    use crate::exam_pages::{login, page};
    let app = spawn_app().await;
    // The administrator's page lists users and creates one; the new user must replace the
    // first password.
    let admin = login(&app, "admin").await;
    let (html, csrf) = page(&app, &admin, "/users").await;
    assert!(html.contains("data-user=\"clerk\""));
    // The role form starts from the user's own province, so changing a role keeps it.
    let clerk_row = html.split("data-user=\"clerk\"").nth(1).unwrap();
    let clerk_row = clerk_row.split("</tr>").next().unwrap();
    assert!(
        clerk_row.contains(&format!("value=\"{ISFAHAN}\" selected")),
        "{clerk_row}"
    );
    let r = admin
        .post(app.url("/users"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", "nasrin"),
            ("full_name", "نسرین امینی"),
            ("title", ""),
            ("role", "issuance_clerk"),
            ("province_id", &ISFAHAN.to_string()),
            ("password", "first-password-9"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("data-user=\"nasrin\""));
    let (s, b) = app
        .post_json(
            "/api/v1/tokens",
            None,
            &json!({ "username": "nasrin", "password": "first-password-9" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, b2) = app
        .get_json("/api/v1/exam-lists", Some(b["token"].as_str().unwrap()))
        .await;
    assert_eq!(
        (s, b2["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("password_change_required"))
    );
    // A reset from the page shows the one-time password.
    let r = admin
        .post(app.url("/users/clerk/reset-password"))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("data-one-time=\"clerk\""), "{html}");
    // Others may not open the page.
    let head = login(&app, "head").await;
    let r = head.get(app.url("/users")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // A user sees where they are signed in and ends another session; it is signed out.
    let first = login(&app, "officer").await;
    let second = login(&app, "officer").await;
    let (html, csrf) = page(&app, &second, "/account").await;
    assert_eq!(html.matches("data-session=").count(), 2, "{html}");
    assert!(html.contains("همین نشست"));
    let other: i64 = {
        let (_, list) = app
            .get_json("/api/v1/me/sessions", Some(&app.token("officer").await))
            .await;
        list.as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_i64().unwrap())
            .min()
            .unwrap()
    };
    let r = second
        .post(app.url(&format!("/account/sessions/{other}/end")))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection());
    assert!(first
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .status()
        .is_redirection());
    assert_eq!(
        second.get(app.url("/")).send().await.unwrap().status(),
        StatusCode::OK
    );
    // Tokens are listed and revoked from the same page.
    let (html, csrf) = page(&app, &second, "/account").await;
    let token_id = html
        .split("data-token=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    second
        .post(app.url(&format!("/account/tokens/{token_id}/revoke")))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let t = app.token("officer").await;
    assert_eq!(
        app.get_json("/api/v1/me", Some(&t)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert!(!audit_actions(&app, "session.end").await.is_empty());
}

/// Even a database administrator's direct `UPDATE` cannot put a value the core does not know
/// into a state column (the guards are generated from the core enums at migration).
#[tokio::test]
async fn the_database_refuses_unknown_states() {
    let app = spawn_app().await;
    let certs = issued_certificates(&app).await;
    app.post_ok(
        &format!("/api/v1/certificates/{}/prints", certs[0].0),
        "clerk",
        &json!({ "chip_uid": "04a1b2c3d4e5f6" }),
    )
    .await;
    let pool = app.store.pool();
    let before = db_fingerprint(&app.store).await;
    for sql in [
        "UPDATE cards SET state = 'lost'",
        "UPDATE card_prints SET status = 'stolen'",
        "UPDATE exam_lists SET status = 'approved_by_me'",
        "UPDATE exam_entries SET decision = 'maybe'",
        "UPDATE users SET role = 'root' WHERE username = 'hq'",
        "UPDATE shipments SET status = 'lost_in_the_post'",
        "UPDATE monthly_requests SET status = 'waived'",
    ] {
        let r = sqlx::query(sql).execute(pool).await;
        assert!(r.is_err(), "{sql} was accepted");
    }
    assert_eq!(before, db_fingerprint(&app.store).await);
    // Known values still go through.
    sqlx::query("UPDATE cards SET state = state")
        .execute(pool)
        .await
        .unwrap();
    // Every guard is installed, and migrating again leaves them as they are.
    app.store.migrate().await.unwrap();
    for g in skillcard_db::guards::guards() {
        let name = format!("guard_{}_{}", g.table, g.column);
        let found: Option<(i64,)> = match app.store.backend() {
            skillcard_db::Backend::Postgres => {
                sqlx::query_as("SELECT CAST(1 AS BIGINT) FROM pg_constraint WHERE conname = $1")
                    .bind(&name)
                    .fetch_optional(pool)
                    .await
                    .unwrap()
            }
            skillcard_db::Backend::Sqlite => sqlx::query_as(
                "SELECT CAST(1 AS BIGINT) FROM sqlite_master WHERE type = 'trigger' AND name = $1",
            )
            .bind(format!("{name}_update"))
            .fetch_optional(pool)
            .await
            .unwrap(),
        };
        assert!(found.is_some(), "{name} is not installed");
    }
}
