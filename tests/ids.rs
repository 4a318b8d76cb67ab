#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]
//! Ids print as `<type>:<uuid>` and parse back; an id of another type, a bare UUID or junk
//! is a typed error that never repeats the input.

use std::str::FromStr;

use crm_privacy::{
    ConsentId, GrantId, IdParseError, RecordId, RequestId, SessionId, StaffId, SubjectId,
};
use proptest::prelude::*;

macro_rules! roundtrip {
    ($($test:ident: $ty:ty, $prefix:literal;)*) => {$(
        proptest! {
            #[test]
            fn $test(bytes in any::<[u8; 16]>()) {
                let id = <$ty>::from_bytes(bytes);
                let text = id.to_string();
                prop_assert!(text.starts_with(concat!($prefix, ":")));
                prop_assert_eq!(<$ty>::from_str(&text), Ok(id));
                prop_assert_eq!(text.parse::<$ty>(), Ok(id));
                // Debug prints the same form, so a logged id can be pasted back.
                prop_assert_eq!(format!("{id:?}").parse::<$ty>(), Ok(id));
            }
        }
    )*};
}

roundtrip! {
    subject_roundtrip: SubjectId, "subject";
    grant_roundtrip: GrantId, "grant";
    session_roundtrip: SessionId, "session";
    staff_roundtrip: StaffId, "staff";
    consent_roundtrip: ConsentId, "consent";
    record_roundtrip: RecordId, "record";
    request_roundtrip: RequestId, "request";
}

#[test]
fn an_id_of_another_type_is_refused() {
    let grant = GrantId::new_random().to_string();
    assert_eq!(
        grant.parse::<SubjectId>(),
        Err(IdParseError::WrongPrefix {
            expected: "subject"
        })
    );
    let subject = SubjectId::new_random();
    assert_eq!(
        subject.as_uuid().to_string().parse::<SubjectId>(),
        Err(IdParseError::WrongPrefix {
            expected: "subject"
        }),
        "a bare uuid is not an id: the prefix says which type it is"
    );
    // The prefix is case-sensitive and takes no whitespace.
    for bad in [
        format!("Subject:{}", subject.as_uuid()),
        format!(" {subject}"),
        format!("subject {}", subject.as_uuid()),
    ] {
        assert!(matches!(
            bad.parse::<SubjectId>(),
            Err(IdParseError::WrongPrefix { .. })
        ));
    }
}

#[test]
fn junk_after_the_prefix_is_a_typed_error_without_the_input() {
    for bad in [
        "subject:",
        "subject:alice@example.com",
        "subject:00000000-0000-0000-0000-00000000000",
        "subject:00000000-0000-0000-0000-0000000000000",
        "subject:00000000-0000-0000-0000-000000000000 ",
        "subject:\u{0}",
    ] {
        let err = bad.parse::<SubjectId>().unwrap_err();
        assert_eq!(
            err,
            IdParseError::BadUuid {
                expected: "subject"
            },
            "{bad:?}"
        );
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("alice"), "the error repeats no input");
    }
    // Other spellings of the same UUID are refused: one text per id.
    let u = *SubjectId::new_random().as_uuid();
    for other in [
        format!("subject:{}", u.simple()),
        format!("subject:{}", u.braced()),
        format!("subject:{}", u.urn()),
    ] {
        assert_eq!(
            other.parse::<SubjectId>(),
            Err(IdParseError::BadUuid {
                expected: "subject"
            }),
            "{other}"
        );
    }
}

proptest! {
    /// Arbitrary text never panics and never parses unless it is the printed form.
    #[test]
    fn arbitrary_text_never_panics(s in ".{0,64}") {
        if let Ok(id) = s.parse::<RecordId>() {
            prop_assert_eq!(id.to_string().len(), s.len());
        }
        let _ = s.parse::<SubjectId>();
    }
}
