//! Part 2 of the regulation, issuance: the fee is paid (R-6.5), the clerk matches the candidate's
//! data against the approved exam record and issues the certificate (R-6.6).
//!
//! The regulation orders R-6.4 before R-6.5: the fee is taken only once the head has approved a
//! passing practical score, so no one pays for a certificate they will not get and there is no
//! refund to owe. A bank receipt before that is refused; so is the gateway's callback, which is
//! the merchant's verification of the charge — an unverified charge is returned to the payer by
//! the gateway (Shaparak's verify step), so refusing it loses nothing.

use crate::error::DomainError;
use crate::exam::Decision;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// R-6.5: a payment must be for exactly the fee in force.
pub fn r6_5_check_amount(amount_rial: i64, fee_rial: i64) -> Result<(), DomainError> {
    if amount_rial != fee_rial {
        return Err(DomainError::WrongAmount {
            paid: amount_rial,
            fee: fee_rial,
        });
    }
    Ok(())
}

/// R-6.5 after R-6.4: a fee is payable only for an approved practical score that passes.
pub fn r6_5_check_payable(decision: Decision, passes: Option<bool>) -> Result<(), DomainError> {
    if decision != Decision::Approved {
        return Err(DomainError::NotApproved);
    }
    if passes != Some(true) {
        return Err(DomainError::NotPassed);
    }
    Ok(())
}

/// The HMAC-SHA256 the payment gateway puts on its callback body, hex-encoded.
pub fn gateway_signature(secret: &[u8], body: &[u8]) -> String {
    match <Hmac<Sha256> as Mac>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(body);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// R-6.5: checks a gateway callback's signature in constant time.
pub fn verify_gateway_signature(
    secret: &[u8],
    body: &[u8],
    signature_hex: &str,
) -> Result<(), DomainError> {
    let sig = hex::decode(signature_hex.trim()).map_err(|_| DomainError::BadSignature)?;
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret).map_err(|_| DomainError::BadSignature)?;
    mac.update(body);
    mac.verify_slice(&sig)
        .map_err(|_| DomainError::BadSignature)
}

stored_words! {
    /// What a fee is for: the certificate (R-6.5) or a replacement card (Note 4).
    pub enum FeeKind {
        Issuance => "issuance",
        Replacement => "replacement",
    }
}

stored_words! {
    /// How a fee was paid (R-6.5): a verified gateway callback or a bank receipt the clerk keyed.
    pub enum PaymentSource {
        Gateway => "gateway",
        BankReceipt => "bank_receipt",
    }
}

/// R-6.6: a certificate is issued only for an approved practical score that passes the policy,
/// after the issuance fee is paid, and once the clerk has confirmed the data match.
pub fn r6_6_check_issuable(
    decision: Decision,
    passes: bool,
    paid: bool,
    data_confirmed: bool,
) -> Result<(), DomainError> {
    if decision != Decision::Approved {
        return Err(DomainError::NotApproved);
    }
    if !passes {
        return Err(DomainError::NotPassed);
    }
    if !paid {
        return Err(DomainError::NotPaid);
    }
    if !data_confirmed {
        return Err(DomainError::Required { field: "confirm" });
    }
    Ok(())
}

/// The certificate number: `<province code>-<Solar Hijri year>-<6-digit sequence>`, e.g.
/// `ESF-1405-000123`; the sequence restarts each year per province. Unique by construction and
/// printed on the card and in the credential.
pub fn certificate_number(province_code: &str, year: i32, seq: i64) -> String {
    format!("{province_code}-{year}-{seq:06}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_hmac() {
        let body = br#"{"reference":"R1","amount_rial":1500000}"#;
        let sig = gateway_signature(b"secret", body);
        assert!(verify_gateway_signature(b"secret", body, &sig).is_ok());
        assert_eq!(
            verify_gateway_signature(b"other", body, &sig),
            Err(DomainError::BadSignature)
        );
        assert_eq!(
            verify_gateway_signature(b"secret", b"{}", &sig),
            Err(DomainError::BadSignature)
        );
        assert_eq!(
            verify_gateway_signature(b"secret", body, "zz"),
            Err(DomainError::BadSignature)
        );
    }

    #[test]
    fn issuable() {
        assert!(r6_6_check_issuable(Decision::Approved, true, true, true).is_ok());
        assert_eq!(
            r6_6_check_issuable(Decision::Pending, true, true, true),
            Err(DomainError::NotApproved)
        );
        assert_eq!(
            r6_6_check_issuable(Decision::Approved, false, true, true),
            Err(DomainError::NotPassed)
        );
        assert_eq!(
            r6_6_check_issuable(Decision::Approved, true, false, true),
            Err(DomainError::NotPaid)
        );
        assert!(r6_6_check_issuable(Decision::Approved, true, true, false).is_err());
        assert!(r6_5_check_amount(10, 11).is_err());
        assert_eq!(certificate_number("ESF", 1405, 123), "ESF-1405-000123");
    }
}
