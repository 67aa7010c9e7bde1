//! The OpenAPI document describes the API.

use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test]
async fn openapi_document_lists_the_custody_paths() {
    let app = spawn_empty_app().await;
    let (s, doc) = app.get_json("/api/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc.is_object(), "not JSON: {doc}");
    assert!(doc["openapi"].as_str().unwrap().starts_with('3'));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/health/ready",
        "/api/v1/public/keys",
        "/api/v1/public/status-list",
        "/api/v1/public/log/tree-head",
        "/api/v1/public/log/inclusion",
        "/api/v1/public/log/consistency",
        "/api/v1/public/log/entries",
        "/api/v1/shipments",
        "/api/v1/requests/{id}/handovers",
        "/api/v1/shipments/{id}/receipt",
        "/api/v1/tokens",
    ] {
        assert!(paths.contains_key(p), "missing {p}");
    }
    assert!(paths["/api/v1/shipments"]["post"].is_object());
    assert!(paths["/api/v1/requests/{id}/handovers"]["post"].is_object());
    assert!(app.addr.ip().is_loopback());
    let (s, h) = app.get_json("/health", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["status"], "ok");
    let (s, h) = app.get_json("/health/ready", None).await;
    assert_eq!((s, h["status"].as_str()), (StatusCode::OK, Some("ok")));
    // The database gone: not ready, with a clear answer; still alive.
    app.store.pool().close().await;
    let (s, h) = app.get_json("/health/ready", None).await;
    assert_eq!(
        (s, h["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable"))
    );
    assert_eq!(app.get_json("/health", None).await.0, StatusCode::OK);
}

/// Every `(method, path)` routed under `/api/v1` and `/health`, read from the router's source
/// (`.route("…", get(…).post(…))` in `crates/skillcard-web/src/api/`).
fn routed() -> std::collections::BTreeSet<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/skillcard-web/src/api");
    let mut out = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let src = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let mut rest = src.as_str();
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            let open = rest.find('"').unwrap();
            let close = open + 1 + rest[open + 1..].find('"').unwrap();
            let path = rest[open + 1..close].to_string();
            let (mut depth, mut end) = (1i32, close);
            for (i, c) in rest[close..].char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    end = close + i;
                    break;
                }
            }
            let call = &rest[close..end];
            for m in ["get", "post", "put", "delete", "patch"] {
                let needle = format!("{m}(");
                let found = call.match_indices(&needle).any(|(i, _)| {
                    !call[..i]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                if found && (path.starts_with("/api/v1/") || path.starts_with("/health")) {
                    out.insert((m.to_string(), path.clone()));
                }
            }
            rest = &rest[end..];
        }
    }
    out
}

#[tokio::test]
async fn openapi_document_matches_the_router() {
    let app = spawn_empty_app().await;
    let (_, doc) = app.get_json("/api/openapi.json", None).await;
    let mut documented = std::collections::BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for m in ops.as_object().unwrap().keys() {
            documented.insert((m.clone(), path.clone()));
        }
    }
    let routed = routed();
    assert!(
        routed.len() > 60,
        "the route reader found only {}",
        routed.len()
    );
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routed but not documented: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:?}"
    );

    // Bearer authentication is declared, required where it is, and the refusals are listed.
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let stock = &doc["paths"]["/api/v1/stock"]["get"];
    assert_eq!(stock["security"][0]["bearer"], serde_json::json!([]));
    for status in ["401", "403"] {
        assert!(
            stock["responses"][status].is_object(),
            "GET /stock lacks {status}"
        );
    }
    let tokens = &doc["paths"]["/api/v1/tokens"]["post"];
    assert!(tokens.get("security").is_none());
    assert!(tokens["responses"]["429"].is_object());
    let ship = &doc["paths"]["/api/v1/shipments"]["post"];
    for status in ["400", "401", "403", "409", "422"] {
        assert!(
            ship["responses"][status].is_object(),
            "POST /shipments lacks {status}"
        );
    }
    let one = &doc["paths"]["/api/v1/shipments/{id}"]["get"];
    assert!(one["responses"]["404"].is_object());
    let public = &doc["paths"]["/api/v1/public/verify"]["get"];
    assert!(
        public.get("security").is_none(),
        "public verification needs no token"
    );
    assert!(public["responses"]["429"].is_object());
    // Nullable fields say so.
    let before = &doc["components"]["schemas"]["AuditView"]["properties"]["before"];
    assert!(
        before.to_string().contains("null"),
        "AuditView.before: {before}"
    );
}
