//! A small reader of `multipart/form-data` bodies, for the page forms that upload a scan of a
//! signed paper (Form 5, the minutes, a replacement request's document). The bodies are already
//! buffered by the authentication middleware (which reads the form's `_csrf` with this module),
//! so this only splits bytes; it never streams.

/// One field of a multipart form.
#[derive(Debug, Clone)]
pub struct Part {
    pub name: String,
    /// Set for a file input (possibly empty when no file was chosen).
    pub filename: Option<String>,
    pub data: Vec<u8>,
}

/// Whether a `Content-Type` is a multipart form.
pub fn is_multipart(content_type: &str) -> bool {
    content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
}

fn boundary(content_type: &str) -> Option<String> {
    if !is_multipart(content_type) {
        return None;
    }
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let v = v.trim().trim_matches('"');
        (!v.is_empty() && v.len() <= 200).then(|| v.to_string())
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = from;
    while i + needle.len() <= hay.len() {
        let off = hay[i..=hay.len() - needle.len()]
            .iter()
            .position(|&b| b == first)?;
        i += off;
        if &hay[i..i + needle.len()] == needle {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// `name="…"` or `filename="…"` of a `Content-Disposition` header.
fn disposition_param(header: &str, key: &str) -> Option<String> {
    header.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(key)
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

/// The fields of a multipart body, in order; `None` when the body is not a well-formed
/// multipart form of the given `Content-Type`.
pub fn parse(content_type: &str, body: &[u8]) -> Option<Vec<Part>> {
    let boundary = boundary(content_type)?;
    let delim = format!("--{boundary}").into_bytes();
    let next_delim = format!("\r\n--{boundary}").into_bytes();
    let mut at = find(body, &delim, 0)? + delim.len();
    let mut parts = Vec::new();
    loop {
        let rest = body.get(at..)?;
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        if !rest.starts_with(b"\r\n") {
            return None;
        }
        let start = at + 2;
        let end = find(body, &next_delim, start)?;
        let part = &body[start..end];
        let head_end = find(part, b"\r\n\r\n", 0)?;
        let head = std::str::from_utf8(&part[..head_end]).ok()?;
        let disposition = head
            .split("\r\n")
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-disposition"))
            .map(|(_, v)| v)?;
        parts.push(Part {
            name: disposition_param(disposition, "name")?,
            filename: disposition_param(disposition, "filename"),
            data: part[head_end + 4..].to_vec(),
        });
        at = end + next_delim.len();
    }
}

/// The text of a field, or `""` when the form has no such field.
pub fn text<'a>(parts: &'a [Part], name: &str) -> std::borrow::Cow<'a, str> {
    parts
        .iter()
        .find(|p| p.name == name && p.filename.is_none())
        .map(|p| String::from_utf8_lossy(&p.data))
        .unwrap_or_default()
}

/// The bytes of a file field; `None` when no file was chosen.
pub fn file<'a>(parts: &'a [Part], name: &str) -> Option<&'a [u8]> {
    parts
        .iter()
        .find(|p| p.name == name && p.filename.is_some())
        .map(|p| p.data.as_slice())
        .filter(|d| !d.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CT: &str = "multipart/form-data; boundary=----x1";

    fn body() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(
            b"------x1\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\nabc\r\n",
        );
        b.extend_from_slice(
            b"------x1\r\nContent-Disposition: form-data; name=\"letter_no\"\r\n\r\n\xdb\xb1\xdb\xb2/\xd8\xa8\r\n",
        );
        b.extend_from_slice(b"------x1\r\nContent-Disposition: form-data; name=\"scan\"; filename=\"m.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n\r\n--\r\n-x\r\n");
        b.extend_from_slice(b"------x1\r\nContent-Disposition: form-data; name=\"empty\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n");
        b.extend_from_slice(b"------x1--\r\n");
        b
    }

    #[test]
    fn fields_and_files() {
        let parts = parse(CT, &body()).unwrap();
        assert_eq!(parts.len(), 4);
        assert_eq!(text(&parts, "_csrf"), "abc");
        assert_eq!(text(&parts, "letter_no"), "۱۲/ب");
        assert_eq!(file(&parts, "scan"), Some(&b"%PDF-1.4\r\n\r\n--\r\n-x"[..]));
        assert_eq!(file(&parts, "empty"), None);
        assert_eq!(text(&parts, "missing"), "");
    }

    #[test]
    fn malformed_bodies_are_refused() {
        assert!(parse("application/x-www-form-urlencoded", &body()).is_none());
        assert!(parse(
            CT,
            b"------x1\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end"
        )
        .is_none());
        assert!(parse(CT, b"").is_none());
        assert!(parse("multipart/form-data; boundary=\"----x1\"", &body()).is_some());
    }
}
