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
