//! The one text form of every built-in category: parse from text (simple kinds) or a JSON
//! object (compound kinds), render to JSON. The subject's export, the runtime-checked read
//! and the C ABI all go through it, so the per-category dispatch is written once.
//!
//! | category | text form |
//! |---|---|
//! | person name, email, phone, ip address, provider account ids, zoom token | the value |
//! | colleague contact | `{"name","email"}` |
//! | customer record | `{field: value, …}` |
//! | device info | `{"model","os_version","app_version","screen":[w,h]}` |
//! | device contact | `{"name","phone"?,"email"?}` |
//! | cookie preference | `{"language"?}` |

use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use super::{
    Category, ColleagueContact, CookiePreference, CustomerRecord, DataError, DataKind, DataReason,
    DeviceContact, DeviceInfo, Email, Facebook, Google, IpAddress, PersonName, Phone,
    ProviderAccountId, Zoom, ZoomAccessToken,
};

/// A value parsed from its text form, encoded for sealing.
pub(crate) struct Encoded {
    /// [`DataKind::encode`] of the parsed value.
    pub(crate) bytes: Zeroizing<Vec<u8>>,
    /// Its blind-index lookup key, for the kinds that have one.
    pub(crate) lookup: Option<Zeroizing<String>>,
}

fn encoded<K: DataKind>(v: &K) -> Encoded {
    Encoded {
        bytes: v.encode(),
        lookup: v.lookup_key(),
    }
}

fn object(kind: &'static str, text: &str) -> Result<Map<String, Value>, DataError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(DataError::new(kind, DataReason::Field("json object"))),
    }
}

fn field<'a>(
    m: &'a Map<String, Value>,
    k: &'static str,
    kind: &'static str,
) -> Result<&'a str, DataError> {
    m.get(k)
        .and_then(Value::as_str)
        .ok_or(DataError::new(kind, DataReason::Field(k)))
}

/// Parses the text form of a value of `category` (see the module docs).
///
/// # Errors
/// The [`DataError`] of the kind's parser, or [`DataReason::Field`] for a missing or
/// malformed field of a compound kind.
pub(crate) fn parse(category: Category, text: &str) -> Result<Encoded, DataError> {
    let k = category.name();
    Ok(match category {
        Category::PersonName => encoded(&PersonName::parse(text)?),
        Category::Email => encoded(&Email::parse(text)?),
        Category::Phone => encoded(&Phone::parse(text)?),
        Category::IpAddress => encoded(&IpAddress::parse(text)?),
        Category::GoogleAccountId => encoded(&ProviderAccountId::<Google>::parse(text)?),
        Category::FacebookAccountId => encoded(&ProviderAccountId::<Facebook>::parse(text)?),
        Category::ZoomAccountId => encoded(&ProviderAccountId::<Zoom>::parse(text)?),
        Category::ZoomAccessToken => encoded(&ZoomAccessToken::parse(text)?),
        Category::CookiePreference => {
            let m = object(k, text)?;
            let mut p = CookiePreference::new();
            if let Some(l) = m.get("language") {
                p.set_language(
                    l.as_str()
                        .ok_or(DataError::new(k, DataReason::Field("language")))?,
                )?;
            }
            encoded(&p)
        }
        Category::ColleagueContact => {
            let m = object(k, text)?;
            encoded(&ColleagueContact::new(
                PersonName::parse(field(&m, "name", k)?)?,
                Email::parse(field(&m, "email", k)?)?,
            ))
        }
        Category::DeviceContact => {
            let m = object(k, text)?;
            let opt = |f: &'static str| -> Result<Option<&str>, DataError> {
                match m.get(f) {
                    None | Some(Value::Null) => Ok(None),
                    Some(v) => v
                        .as_str()
                        .map(Some)
                        .ok_or(DataError::new(k, DataReason::Field(f))),
                }
            };
            let name = PersonName::parse(field(&m, "name", k)?)?;
            let phone = opt("phone")?.map(Phone::parse).transpose()?;
            let email = opt("email")?.map(Email::parse).transpose()?;
            encoded(&DeviceContact::new(name, phone, email))
        }
        Category::DeviceInfo => {
            let m = object(k, text)?;
            let screen = m
                .get("screen")
                .and_then(Value::as_array)
                .filter(|s| s.len() == 2)
                .ok_or(DataError::new(k, DataReason::Field("screen")))?;
            let dim = |i: usize| {
                screen
                    .get(i)
                    .and_then(Value::as_u64)
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or(DataError::new(k, DataReason::Field("screen")))
            };
            encoded(&DeviceInfo::new(
                field(&m, "model", k)?,
                field(&m, "os_version", k)?,
                field(&m, "app_version", k)?,
                dim(0)?,
                dim(1)?,
            )?)
        }
        Category::CustomerRecord => {
            let m = object(k, text)?;
            let mut r = CustomerRecord::new();
            for (name, v) in &m {
                r.set(
                    name,
                    v.as_str()
                        .ok_or(DataError::new(k, DataReason::Field("value")))?,
                )?;
            }
            encoded(&r)
        }
    })
}

/// The blind-index lookup key of an encoded value of `category` ([`DataKind::lookup_key`]
/// of the decoded value): what a re-index under a new blind-index key recomputes the index
/// from, without the value leaving the crate.
///
/// # Errors
/// [`DataError`] when the bytes do not decode as the category.
pub(crate) fn lookup_key(
    c: Category,
    plain: &[u8],
) -> Result<Option<Zeroizing<String>>, DataError> {
    Ok(match c {
        Category::PersonName => DataKind::lookup_key(&PersonName::decode(plain)?),
        Category::Email => DataKind::lookup_key(&Email::decode(plain)?),
        Category::Phone => DataKind::lookup_key(&Phone::decode(plain)?),
        Category::ColleagueContact => DataKind::lookup_key(&ColleagueContact::decode(plain)?),
        Category::CustomerRecord => DataKind::lookup_key(&CustomerRecord::decode(plain)?),
        Category::IpAddress => DataKind::lookup_key(&IpAddress::decode(plain)?),
        Category::DeviceInfo => DataKind::lookup_key(&DeviceInfo::decode(plain)?),
        Category::GoogleAccountId => {
            DataKind::lookup_key(&ProviderAccountId::<Google>::decode(plain)?)
        }
        Category::FacebookAccountId => {
            DataKind::lookup_key(&ProviderAccountId::<Facebook>::decode(plain)?)
        }
        Category::ZoomAccountId => DataKind::lookup_key(&ProviderAccountId::<Zoom>::decode(plain)?),
        Category::ZoomAccessToken => DataKind::lookup_key(&ZoomAccessToken::decode(plain)?),
        Category::DeviceContact => DataKind::lookup_key(&DeviceContact::decode(plain)?),
        Category::CookiePreference => DataKind::lookup_key(&CookiePreference::decode(plain)?),
    })
}

/// Renders a decoded value of `category` as JSON. The Zoom access token renders as a
/// placeholder unless `reveal_secret` (only a conference grant reveals it, clause 3.7).
///
/// # Errors
/// [`DataError`] when the bytes do not decode as the category.
pub(crate) fn render(c: Category, plain: &[u8], reveal_secret: bool) -> Result<Value, DataError> {
    Ok(match c {
        Category::PersonName => json!(PersonName::decode(plain)?.as_str()),
        Category::Email => json!(Email::decode(plain)?.as_str()),
        Category::Phone => json!(Phone::decode(plain)?.as_e164()),
        Category::ColleagueContact => {
            let v = ColleagueContact::decode(plain)?;
            json!({"name": v.name().as_str(), "email": v.email().as_str()})
        }
        Category::CustomerRecord => {
            let v = CustomerRecord::decode(plain)?;
            Value::Object(
                v.field_names()
                    .map(|k| (k.to_owned(), json!(v.get(k))))
                    .collect(),
            )
        }
        Category::IpAddress => json!(IpAddress::decode(plain)?.ip().to_string()),
        Category::DeviceInfo => {
            let v = DeviceInfo::decode(plain)?;
            let (w, h) = v.screen_resolution();
            json!({"model": v.model(), "os_version": v.os_version(), "app_version": v.app_version(), "screen": [w, h]})
        }
        Category::GoogleAccountId => json!(ProviderAccountId::<Google>::decode(plain)?.as_str()),
        Category::FacebookAccountId => {
            json!(ProviderAccountId::<Facebook>::decode(plain)?.as_str())
        }
        Category::ZoomAccountId => json!(ProviderAccountId::<Zoom>::decode(plain)?.as_str()),
        Category::ZoomAccessToken => {
            let t = ZoomAccessToken::decode(plain)?;
            if reveal_secret {
                json!(t.as_str())
            } else {
                json!("<stored secret: used only to create conferences>")
            }
        }
        Category::DeviceContact => {
            let v = DeviceContact::decode(plain)?;
            json!({"name": v.name().as_str(), "phone": v.phone().map(Phone::as_e164), "email": v.email().map(Email::as_str)})
        }
        Category::CookiePreference => {
            let v = CookiePreference::decode(plain)?;
            json!({"language": v.language()})
        }
    })
}

/// Renders as text: simple kinds as their value, compound kinds as JSON, in a zeroizing
/// buffer.
///
/// # Errors
/// As [`render`].
pub(crate) fn render_text(
    c: Category,
    plain: &[u8],
    reveal_secret: bool,
) -> Result<Zeroizing<String>, DataError> {
    Ok(Zeroizing::new(match render(c, plain, reveal_secret)? {
        Value::String(s) => s,
        other => other.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_round_trips_through_its_text_form() {
        let samples: &[(Category, &str)] = &[
            (Category::PersonName, "Ada Lovelace"),
            (Category::Email, "ada@example.com"),
            (Category::Phone, "+442079460958"),
            (Category::IpAddress, "192.0.2.7"),
            (Category::GoogleAccountId, "1234567890"),
            (Category::FacebookAccountId, "1234567890"),
            (Category::ZoomAccountId, "zoomuser1"),
            (Category::ZoomAccessToken, "tok_abcdef123456"),
            (Category::CookiePreference, r#"{"language":"en"}"#),
            (
                Category::ColleagueContact,
                r#"{"email":"bob@example.com","name":"Bob"}"#,
            ),
            (
                Category::DeviceContact,
                r#"{"email":null,"name":"Carol","phone":"+442079460958"}"#,
            ),
            (
                Category::DeviceInfo,
                r#"{"app_version":"1.0","model":"Pixel","os_version":"14","screen":[1080,2400]}"#,
            ),
            (Category::CustomerRecord, r#"{"company":"Acme"}"#),
        ];
        for &c in Category::ALL {
            let (_, text) = samples
                .iter()
                .find(|(k, _)| *k == c)
                .copied()
                .unwrap_or((c, ""));
            let enc = parse(c, text).unwrap_or_else(|e| panic!("{c:?}: {e}"));
            let back = render_text(c, &enc.bytes, true).unwrap_or_else(|e| panic!("{c:?}: {e}"));
            assert_eq!(back.as_str(), text, "{c:?}");
            assert_eq!(
                enc.lookup.is_some(),
                matches!(c, Category::Email | Category::Phone)
            );
        }
    }

    #[test]
    fn malformed_compound_values_are_typed_errors() {
        for &c in Category::ALL {
            assert!(parse(c, "").is_err(), "{c:?}");
        }
        assert!(
            parse(
                Category::DeviceInfo,
                r#"{"model":"m","os_version":"o","app_version":"a","screen":[1]}"#
            )
            .is_err()
        );
    }
}
