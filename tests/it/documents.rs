//! The documents render as PDFs whose text carries Persian words and numbers.

use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test]
async fn documents_render_with_persian_text() {
    let app = spawn_app().await;
    let t = app.token("security").await;
    let docs = [
        (
            "/api/v1/shipments/1/form1.pdf",
            vec!["۱۰۰۰۰۱", "۱۹۹۳", "اصفهان"],
        ),
        (
            "/api/v1/shipments/1/receipt-notice.pdf",
            vec!["۱۰۰۰۰۱", "اصفهان"],
        ),
        ("/api/v1/provinces/4/form2.pdf", vec!["۱۰۰۰۰۱", "اصفهان"]),
        ("/api/v1/requests/1/form3.pdf", vec!["۵۰۰", "اصفهان"]),
        (
            "/api/v1/handovers/1/form4.pdf",
            vec!["۱۰۰۰۰۱", "۵۰۰", "اصفهان"],
        ),
        (
            "/api/v1/handovers/1/letter.pdf",
            vec!["۱۰۰۰۰۱", "۵۰۰", "اصفهان"],
        ),
    ];
    for (path, words) in docs {
        let r = app
            .client
            .get(app.url(path))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}: {:?}", r.text().await);
        assert_eq!(
            r.headers()[reqwest::header::CONTENT_TYPE].to_str().unwrap(),
            "application/pdf"
        );
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with(b"%PDF"), "{path}");
        let text = pdf_text(&bytes);
        for w in words {
            assert!(text.contains(w), "{path} lacks {w:?}; text:\n{text}");
        }
    }
    // A document of another province is refused.
    app.create_user(
        "sec_tehran",
        skillcard_core::policy::Role::Security,
        Some(8),
    )
    .await;
    let t8 = app.token("sec_tehran").await;
    let (s, b) = app
        .get_json("/api/v1/shipments/1/form1.pdf", Some(&t8))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    assert_eq!(b["code"], "wrong_province");
}

/// The exam list as the "special exam form": every candidate with Persian digits.
#[tokio::test]
async fn exam_sheet_pdf_lists_every_candidate() {
    let app = spawn_app().await;
    let (id, _) = crate::exams::list_with_candidates(&app).await;
    let r = app
        .client
        .get(app.url(&format!("/api/v1/exam-lists/{id}/sheet.pdf")))
        .bearer_auth(app.token("officer").await)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = pdf_text(&r.bytes().await.unwrap());
    for w in [
        "۰۴۹۹۳۷۰۸۹۹",
        "۱۲۳۴۵۶۷۸۹۱",
        "زهرا",
        "ساختمان",
        "مرکز شماره",
        "اصفهان",
        "۱۴۰۵/۰۹/۱۰",
    ] {
        assert!(text.contains(w), "exam sheet lacks {w:?}:\n{text}");
    }
}
