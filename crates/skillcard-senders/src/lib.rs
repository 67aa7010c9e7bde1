//! The real senders behind the notices outbox (`skillcard_db::notify`): an SMS gateway over
//! HTTP and e-mail over SMTP, each chosen per notice by the kind of the applicant's contact
//! (`notice::parse_contact`: a mobile number or an e-mail address).
//!
//! Iranian SMS providers each have their own REST API, so the gateway is configured rather than
//! coded: a URL, an optional authorisation header, and a JSON body template in which `{to}`,
//! `{text}` and `{id}` are replaced by the recipient, the notice's text and its id (as JSON
//! string contents, escaped). Any 2xx answer is a hand-over; its body is kept as the receipt
//! (the provider's message id). A refusal, a timeout or a broken connection is an `Err`, which
//! the outbox retries with back-off and finally marks failed.

use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use skillcard_core::notice::{parse_contact, Contact};
use skillcard_db::notify::{LogSender, Outgoing, Receipt, Sender};
use std::time::Duration;

/// What is wrong with a sender's configuration (found at start-up, not at the first notice).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the SMS gateway URL {0:?} is not an http(s) URL")]
    SmsUrl(String),
    #[error("the SMS authorisation header must be `Name: value`")]
    SmsAuth,
    #[error("the SMS body template must mention {{to}} and {{text}}")]
    SmsTemplate,
    #[error("the SMS message id {0:?} is not a JSON pointer (like /messageid)")]
    SmsMessageId(String),
    #[error("the SMTP URL: {0}")]
    SmtpUrl(String),
    #[error("the e-mail sender address {0:?} is not a mailbox")]
    From(String),
    #[error("building the HTTP client: {0}")]
    Client(String),
}

/// The body most gateways accept when none is configured.
pub const DEFAULT_SMS_TEMPLATE: &str = r#"{"to": "{to}", "text": "{text}"}"#;

/// An SMS provider's HTTP API.
#[derive(Debug, Clone)]
pub struct SmsGateway {
    client: reqwest::Client,
    url: String,
    auth: Option<(String, String)>,
    template: String,
    /// Where the provider's message id is in its answer (a JSON pointer), for delivery reports.
    message_id: Option<String>,
}

impl SmsGateway {
    /// `auth` is one header as `Name: value` (e.g. `Authorization: Bearer …` or `apikey: …`);
    /// a request that takes longer than `timeout` fails (and is retried).
    pub fn new(
        url: &str,
        auth: Option<&str>,
        template: Option<&str>,
        timeout: Duration,
    ) -> Result<Self, ConfigError> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ConfigError::SmsUrl(url.to_string()));
        }
        let auth = match auth.map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) => {
                let (name, value) = a.split_once(':').ok_or(ConfigError::SmsAuth)?;
                let (name, value) = (name.trim(), value.trim());
                if name.is_empty() || value.is_empty() {
                    return Err(ConfigError::SmsAuth);
                }
                Some((name.to_string(), value.to_string()))
            }
            None => None,
        };
        let template = template
            .filter(|t| !t.trim().is_empty())
            .unwrap_or(DEFAULT_SMS_TEMPLATE)
            .to_string();
        if !(template.contains("{to}") && template.contains("{text}")) {
            return Err(ConfigError::SmsTemplate);
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| ConfigError::Client(e.to_string()))?;
        Ok(SmsGateway {
            client,
            url: url.to_string(),
            auth,
            template,
            message_id: None,
        })
    }

    /// Keep only the provider's message id as the receipt: the value at `pointer` (RFC 6901,
    /// e.g. `/messageid` or `/entries/0/messageid`) in its JSON answer. Delivery reports name
    /// the message by that id. An answer without it keeps the whole text, as without a pointer.
    pub fn with_message_id(mut self, pointer: &str) -> Result<Self, ConfigError> {
        let pointer = pointer.trim();
        if !pointer.starts_with('/') {
            return Err(ConfigError::SmsMessageId(pointer.to_string()));
        }
        self.message_id = Some(pointer.to_string());
        Ok(self)
    }

    /// The receipt to keep for an accepted message: its id, when configured and present.
    fn receipt(&self, answer: &str) -> String {
        let id = self.message_id.as_deref().and_then(|p| {
            let v: serde_json::Value = serde_json::from_str(answer).ok()?;
            match v.pointer(p)? {
                serde_json::Value::String(s) => Some(s.trim().to_string()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
        });
        if self.message_id.is_some() && id.is_none() {
            tracing::warn!("the SMS gateway's answer has no message id where configured: delivery reports cannot be matched to it");
        }
        id.unwrap_or_else(|| answer.trim().to_string())
            .chars()
            .take(200)
            .collect()
    }

    /// The request body for one notice.
    pub fn body(&self, to: &str, n: &Outgoing) -> String {
        self.template
            .replace("{to}", &json_contents(to))
            .replace("{text}", &json_contents(&n.body))
            .replace("{id}", &n.id.to_string())
    }

    async fn send_to(&self, to: &str, n: &Outgoing) -> Result<Receipt, String> {
        let mut request = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(self.body(to, n));
        if let Some((name, value)) = &self.auth {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                "the SMS gateway did not answer in time".to_string()
            } else {
                format!("the SMS gateway could not be reached: {e}")
            }
        })?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if status.is_success() {
            Ok(Some(self.receipt(&text)))
        } else {
            Err(format!(
                "the SMS gateway answered {status}: {}",
                text.trim().chars().take(200).collect::<String>()
            ))
        }
    }
}

/// `s` as the inside of a JSON string literal.
fn json_contents(s: &str) -> String {
    let quoted = serde_json::Value::String(s.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

/// E-mail through an SMTP relay.
#[derive(Clone)]
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Smtp {
    /// `url` is `smtp://[user:password@]host[:port]` (plain: a relay on the same host or
    /// network), `smtp://…?tls=required` (STARTTLS) or `smtps://…` (TLS from the first byte,
    /// port 465); `from` is the
    /// sending mailbox, e.g. `اداره کل <no-reply@example.ir>`.
    pub fn new(url: &str, from: &str, timeout: Duration) -> Result<Self, ConfigError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| ConfigError::SmtpUrl(e.to_string()))?
            .timeout(Some(timeout))
            .build();
        let from = from
            .parse::<Mailbox>()
            .map_err(|_| ConfigError::From(from.to_string()))?;
        Ok(Smtp { transport, from })
    }

    async fn send_to(&self, to: &str, n: &Outgoing) -> Result<Receipt, String> {
        let to = to
            .parse::<Mailbox>()
            .map_err(|e| format!("the recipient {to:?} is not a mailbox: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(skillcard_core::fa::NOTICE_SUBJECT)
            .header(ContentType::TEXT_PLAIN)
            .body(n.body.clone())
            .map_err(|e| format!("building the message: {e}"))?;
        let response = self
            .transport
            .send(message)
            .await
            .map_err(|e| format!("the SMTP server refused or could not be reached: {e}"))?;
        Ok(Some(
            response
                .message()
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .take(200)
                .collect(),
        ))
    }
}

/// The outbox's sender: SMS for mobile numbers, e-mail for addresses. A channel with no
/// gateway configured writes its notices to the log, as in development.
#[derive(Clone, Default)]
pub struct Senders {
    pub sms: Option<SmsGateway>,
    pub email: Option<Smtp>,
}

impl Sender for Senders {
    async fn send(&self, n: &Outgoing) -> Result<Receipt, String> {
        match parse_contact(&n.recipient) {
            Ok(Contact::Mobile(to)) => match &self.sms {
                Some(g) => g.send_to(&to, n).await,
                None => LogSender.send(n).await,
            },
            Ok(Contact::Email(to)) => match &self.email {
                Some(s) => s.send_to(&to, n).await,
                None => LogSender.send(n).await,
            },
            Err(_) => Err(format!(
                "{:?} is neither a mobile number nor an e-mail address",
                n.recipient
            )),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn outgoing(body: &str) -> Outgoing {
        Outgoing {
            id: 7,
            kind: "card_ready".into(),
            recipient: "09121234567".into(),
            body: body.into(),
        }
    }

    #[test]
    fn the_receipt_is_the_message_id_where_the_pointer_says() {
        let plain = SmsGateway::new(
            "http://127.0.0.1:1/send",
            None,
            None,
            Duration::from_secs(1),
        )
        .unwrap();
        let answer = r#"{"return": {"status": 200}, "entries": [{"messageid": 8792343}]}"#;
        assert_eq!(plain.receipt(answer), answer);
        let g = plain
            .clone()
            .with_message_id("/entries/0/messageid")
            .unwrap();
        assert_eq!(g.receipt(answer), "8792343");
        assert_eq!(
            g.receipt(r#"{"entries": [{"messageid": " ab-1 "}]}"#),
            "ab-1"
        );
        assert_eq!(g.receipt("not json"), "not json");
        assert!(plain.with_message_id("messageid").is_err());
    }

    #[test]
    fn the_body_template_escapes_what_it_is_given() {
        let g = SmsGateway::new(
            "http://127.0.0.1:1/send",
            Some("apikey: s3cret"),
            Some(r#"{"receptor": "{to}", "message": "{text}", "ref": {id}}"#),
            Duration::from_secs(1),
        )
        .unwrap();
        let body = g.body("09121234567", &outgoing("کارت \"شما\"\nآماده است"));
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["receptor"], "09121234567");
        assert_eq!(v["message"], "کارت \"شما\"\nآماده است");
        assert_eq!(v["ref"], 7);
    }

    #[test]
    fn a_configuration_mistake_is_named_at_start_up() {
        let t = Duration::from_secs(1);
        assert!(matches!(
            SmsGateway::new("ftp://x", None, None, t),
            Err(ConfigError::SmsUrl(_))
        ));
        assert!(matches!(
            SmsGateway::new("http://x", Some("no colon"), None, t),
            Err(ConfigError::SmsAuth)
        ));
        assert!(matches!(
            SmsGateway::new("http://x", None, Some(r#"{"text": "{text}"}"#), t),
            Err(ConfigError::SmsTemplate)
        ));
        assert!(matches!(
            Smtp::new("smtp://127.0.0.1:2525", "not a mailbox", t),
            Err(ConfigError::From(_))
        ));
    }
}
