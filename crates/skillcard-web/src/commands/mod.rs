//! One input type per operation, read by the same serde code from an API's JSON body and from
//! a page's form (their fields accept both shapes: numbers as JSON numbers or typed text in any
//! digit system, ranges as a list or a textarea, yes/no as a boolean or a button's value), and
//! parsed by one `input` method into the store's typed input with the core's parsers. The API
//! handler and the page handler of an operation are then thin adapters over the same command:
//! a rule added to the parsing holds on both sides.
//!
//! Laid out by the regulation's parts; path parameters (the record's id) stay in the handlers.

pub mod accounts;
pub mod aftercare;
pub mod custody;
pub mod issuance;

#[cfg(test)]
mod tests {
    use super::aftercare::{DecideReplacement, PayReplacementFee};
    use super::custody::{HandOver, ReceiveShipment};
    use skillcard_core::DomainError;

    fn from_form<T: serde::de::DeserializeOwned>(form: &str) -> T {
        serde_urlencoded::from_str(form).unwrap()
    }

    fn from_json<T: serde::de::DeserializeOwned>(json: serde_json::Value) -> T {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_receipt_reads_the_same_from_json_and_from_a_form() {
        let json: ReceiveShipment = from_json(serde_json::json!({
            "counted": 998, "missing": [{ "first": 102001, "last": "۱۰۲۰۰۲" }],
            "deliverer_name": "رضا", "deliverer_title": "پست",
            "receiver_name": "امین", "receiver_title": "حراست",
        }));
        let form: ReceiveShipment = from_form(
            "counted=%DB%B9%DB%B9%DB%B8&missing=102001-102002&damaged=&deliverer_name=%D8%B1%D8%B6%D8%A7\
             &deliverer_title=%D9%BE%D8%B3%D8%AA&receiver_name=%D8%A7%D9%85%DB%8C%D9%86\
             &receiver_title=%D8%AD%D8%B1%D8%A7%D8%B3%D8%AA",
        );
        let (json, form) = (json.input().unwrap(), form.input().unwrap());
        assert_eq!(json.counted, 998);
        assert_eq!((json.counted, &json.missing), (form.counted, &form.missing));
        assert_eq!(json.damaged, form.damaged);
        assert_eq!(form.missing.len(), 1);
    }

    #[test]
    fn empty_and_missing_fields_are_refused_alike() {
        let form: ReceiveShipment = from_form(
            "counted=&deliverer_name=a&deliverer_title=b&receiver_name=c&receiver_title=d",
        );
        assert_eq!(
            form.input().unwrap_err(),
            DomainError::Required { field: "counted" }
        );
        let json: HandOver = from_json(serde_json::json!({
            "letter_no": "1", "deliverer_name": "a", "deliverer_title": "b",
            "receiver_name": "c", "receiver_title": "d",
        }));
        let form: HandOver = from_form(
            "count=&ranges=&letter_no=1&deliverer_name=a&deliverer_title=b&receiver_name=c&receiver_title=d",
        );
        let (json, form) = (json.input().unwrap(), form.input().unwrap());
        assert_eq!((json.count, json.ranges), (None, Some(vec![])));
        assert_eq!((form.count, form.ranges), (None, Some(vec![])));
    }

    #[test]
    fn scores_and_accounts_read_the_same_from_both() {
        use super::accounts::CreateUser;
        use super::issuance::RecordScores;
        let json: RecordScores = from_json(serde_json::json!({ "scores": [
            { "national_id": "0012345679", "score": "75.5" },
            { "national_id": "0499370899", "score": "80" },
        ]}));
        let form: RecordScores = from_form("scores=0012345679+75.5%0A%0A0499370899+80");
        let (json, form) = (json.input(), form.input());
        let key = |l: &skillcard_db::exams::ScoreLine| (l.national_id.clone(), l.score.clone());
        assert_eq!(
            json.iter().map(key).collect::<Vec<_>>(),
            form.iter().map(key).collect::<Vec<_>>()
        );
        // A form's row number is the line the user typed it on (the blank line counts).
        assert_eq!(form.iter().map(|l| l.row).collect::<Vec<_>>(), vec![1, 3]);
        let json: CreateUser = from_json(serde_json::json!({
            "username": "u", "password": "p", "full_name": "f", "role": "hq",
        }));
        let form: CreateUser = from_form("username=u&password=p&full_name=f&role=hq&province_id=");
        assert_eq!(json.input().unwrap().province_id, None);
        assert_eq!(form.input().unwrap().province_id, None);
        let form: CreateUser =
            from_form("username=u&password=p&full_name=f&role=security&province_id=%DB%B5");
        assert_eq!(form.input().unwrap().province_id, Some(5));
    }

    #[test]
    fn a_decision_and_a_fee_read_the_same_from_both() {
        let json: DecideReplacement = from_json(serde_json::json!({ "approve": false }));
        let form: DecideReplacement = from_form("approve=false&reason=");
        assert!(!json.approve.get() && !form.approve.get());
        assert!(from_form::<DecideReplacement>("approve=true").approve.get());
        assert!(serde_urlencoded::from_str::<DecideReplacement>("approve=maybe").is_err());
        let json: PayReplacementFee =
            from_json(serde_json::json!({ "reference": "F-1", "amount_rial": 800_000 }));
        let form: PayReplacementFee =
            from_form("reference=F-1&amount_rial=%DB%B8%DB%B0%DB%B0%DB%B0%DB%B0%DB%B0");
        assert_eq!(json.input().unwrap(), form.input().unwrap());
    }
}
