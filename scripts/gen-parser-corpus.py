#!/usr/bin/env python3
"""Generates the differential corpus for the Phone and Email parsers.

Labels come from the libraries people trust:
  * phone numbers: `phonenumbers` (the Python port of Google's libphonenumber, same metadata
    version as the Rust `phonenumber` crate pinned in Cargo.toml);
  * email addresses: `email-validator` in syntax mode (check_deliverability=False, all other
    options at their defaults).

Usage:
    pip install phonenumbers==9.0.33 email-validator==2.4.0
    python3 scripts/gen-parser-corpus.py            # writes tests/data/{phone,email}_corpus.jsonl

The output is deterministic for a given seed and library versions (recorded in
tests/data/corpus_versions.json). `cargo test --test data_parsers` reads the files.
CORPUS_SEED and CORPUS_OUT write a fresh corpus elsewhere; the test reads it from
CRM_PARSER_CORPUS_DIR (see tests/data/README.md).
"""

import json
import os
import random
import sys
import unicodedata

import email_validator
import idna
import phonenumbers
from phonenumbers import PhoneNumberFormat as F
from phonenumbers import PhoneNumberType as T

SEED = int(os.environ.get("CORPUS_SEED", "20261126"))
OUT = os.environ.get(
    "CORPUS_OUT", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data"))

TYPES = {
    T.FIXED_LINE: "fixed_line",
    T.MOBILE: "mobile",
    T.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    T.TOLL_FREE: "toll_free",
    T.PREMIUM_RATE: "premium_rate",
    T.SHARED_COST: "shared_cost",
    T.VOIP: "voip",
    T.PERSONAL_NUMBER: "personal_number",
    T.PAGER: "pager",
    T.UAN: "uan",
    T.VOICEMAIL: "voicemail",
    T.UNKNOWN: "unknown",
}
REASONS = {
    phonenumbers.ValidationResult.IS_POSSIBLE: "possible",
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "local_only",
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "invalid_country_code",
    phonenumbers.ValidationResult.TOO_SHORT: "too_short",
    phonenumbers.ValidationResult.INVALID_LENGTH: "invalid_length",
    phonenumbers.ValidationResult.TOO_LONG: "too_long",
}


def phone_label(text, region):
    row = {"input": text, "region": region}
    try:
        n = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as e:
        row.update(parsed=False, valid=False, possible="unparseable", error=str(e.error_type))
        return row
    row.update(
        parsed=True,
        valid=phonenumbers.is_valid_number(n),
        possible=REASONS[phonenumbers.is_possible_number_with_reason(n)],
        e164=phonenumbers.format_number(n, F.E164),
        type=TYPES.get(phonenumbers.number_type(n), "other"),
        extension=bool(n.extension),
    )
    return row


def mutate_digits(rng, digits):
    """One-digit typos: change, drop, add, swap."""
    i = rng.randrange(len(digits))
    kind = rng.randrange(4)
    if kind == 0:
        return digits[:i] + str((int(digits[i]) + rng.randrange(1, 10)) % 10) + digits[i + 1:]
    if kind == 1 and len(digits) > 1:
        return digits[:i] + digits[i + 1:]
    if kind == 2:
        return digits[:i] + str(rng.randrange(10)) + digits[i:]
    if len(digits) > 1 and i + 1 < len(digits):
        return digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:]
    return digits + "0"


IDD = {"GB": "00", "DE": "00", "FR": "00", "CH": "00", "IN": "00", "AU": "0011", "US": "011",
       "JP": "010", "BR": "0021", "RU": "810"}
SEPARATORS = [" ", "-", ".", " ", "", "\u00a0", "\u2011", "/"]


def phone_inputs(rng):
    out = []
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    for region in regions:
        for t in TYPES:
            ex = phonenumbers.example_number_for_type(region, t)
            if ex is None:
                continue
            nsn = phonenumbers.national_significant_number(ex)
            cc = ex.country_code
            e164 = phonenumbers.format_number(ex, F.E164)
            out.append((e164, None))
            out.append((phonenumbers.format_number(ex, F.INTERNATIONAL), None))
            out.append((phonenumbers.format_number(ex, F.NATIONAL), region))
            out.append((phonenumbers.format_number(ex, F.RFC3966), None))
            sep = rng.choice(SEPARATORS)
            out.append((f"+{cc}{sep}{nsn[:3]}{sep}{nsn[3:]}", None))
            # National input without a hint (must be refused) and with a foreign hint.
            out.append((phonenumbers.format_number(ex, F.NATIONAL), None))
            out.append((phonenumbers.format_number(ex, F.NATIONAL), rng.choice(regions)))
            # Trunk prefix in international form, as written in the UK: +44 (0)20 ...
            meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
            if meta is not None and meta.national_prefix:
                out.append((f"+{cc} ({meta.national_prefix}){nsn}", None))
            # International prefix of the region dialled from.
            src = rng.choice(sorted(IDD))
            out.append((f"{IDD[src]} {cc} {nsn}", src))
            out.append((f"{IDD[src]} {cc} {nsn}", None))
            # Typos.
            for _ in range(3):
                out.append(("+" + str(cc) + mutate_digits(rng, nsn), None))
            national_digits = "".join(c for c in phonenumbers.format_number(ex, F.NATIONAL) if c.isdigit())
            out.append((mutate_digits(rng, national_digits), region))
    # Random digit strings behind a plus, and random national strings with a hint.
    for _ in range(1500):
        n = rng.randrange(4, 18)
        out.append(("+" + "".join(rng.choice("0123456789") for _ in range(n)), None))
    for _ in range(500):
        n = rng.randrange(4, 14)
        out.append(("".join(rng.choice("0123456789") for _ in range(n)), rng.choice(regions)))
    # Extensions, letters, junk, other scripts' digits, short codes.
    out += [
        ("+44 20 7946 0958 ext. 123", None), ("+1 415 555 2671 x12", None),
        ("+1-800-FLOWERS", None), ("1-800-FLOWERS", "US"), ("call me", None), ("", None),
        ("+", None), ("++44 20 7946 0958", None), ("+44 20 7946 0958#", None),
        ("+\u0664\u0664 \u0662\u0660 \u0667\u0669\u0664\u0666 \u0660\u0669\u0665\u0668", None),
        ("\uff0b\uff14\uff14 \uff12\uff10 \uff17\uff19\uff14\uff16 \uff10\uff19\uff15\uff18", None),
        ("112", "DE"), ("911", "US"), ("+1670234567", None), ("+65432106283", None),
        ("0011 44 20 7946 0958", "AU"), ("0011 44 20 7946 0958", None),
        ("+44 (0)20 7946 0958", None), ("tel:+1-201-555-0123", None),
    ]
    return out


# --- email ----------------------------------------------------------------------------------

LOCALS = ["john", "john.doe", "j.o.h.n", "first.last+tag", "user_name", "x", "a1", "UPPER",
          "MiXeD.Case", "o'reilly", "!#$%&'*+-/=?^_`{|}~", "用户", "пользователь", "josé",
          "jose\u0301", "müller", "δοκιμή", "θσερ", "ユーザー", "user-", "-user", "1234",
          "Dörte", "Ærøskøbing", "ñandú", "مستخدم", "משתמש", "सम्पर्क", "e\u0301mile",
          "postmaster", "Postmaster", "POSTMASTER", "a" * 64, "b" * 65]
DOMAINS = ["example.com", "EXAMPLE.COM", "sub.example.co.uk", "b\u00fccher.example",
           "BÜCHER.example", "例子.广告", "例子。广告", "xn--bcher-kva.example", "пример.рф",
           "例え.テスト", "mail.example", "a-b.c0m", "exa\u00e4mple.com", "müller.de",
           "مثال.إختبار", "דוגמה.com", "παράδειγμα.δοκιμή", "1.example", "x.org",
           "straße.de", "faß.de", "xn--fa-hia.de", "mañana.com", "ab.cd", "co.jp"]
BAD_DOMAINS = ["-example.com", "example-.com", "-exaämple.com", "exaämple-.com", "ab--c.com",
               "xn--zz.com", "ab--cä.com", "example..com", ".example.com", "example.com.",
               "localhost", "example", "host.local", "host.onion", "x.invalid", "x.test",
               "10.in-addr.arpa", "host.localhost", "example.123", "example.co1", "x_y.com",
               "[192.0.2.1]", "[IPv6:2001:db8::1]", "1.אב.com", "אב.1.com", "a" * 64 + ".com",
               ".".join(["a" * 63] * 4) + ".com", "exa mple.com", "é.com", "\u0301x.com",
               "x\u200d.com", "\u0644\u200d.com"]
INVISIBLE = ["\u200b", "\u00ad", "\u200c", "\u200d", "\u2060", "\ufeff", "\ue000", "\U000f0000",
             "\u0378", "\U000e0041", "\ufffe", "\u202e", "\u2066", "\u061c", "\u00a0", "\u2003",
             "\u3000", "\u2028", "\u0085", "\u0007", "\u180e", "\U0001d173", "\u034f", "\ufe0f"]
MARKS = ["\u0301", "\u0308", "\u0903", "\u20dd", "\u05b4"]


def email_label(text):
    # Characters unassigned in this Python's Unicode tables (the Rust side uses newer ones);
    # docs/validation.md lists such rows as a documented exception.
    row = {"input": text, "py_unassigned": any(unicodedata.category(c) == "Cn" for c in text)}
    try:
        v = email_validator.validate_email(text, check_deliverability=False)
    except email_validator.EmailNotValidError as e:
        row.update(valid=False, error=str(e)[:120])
        return row
    row.update(valid=True, local=v.local_part, ascii_domain=v.ascii_domain,
               normalized=v.normalized)
    return row


def random_unicode(rng):
    while True:
        c = chr(rng.randrange(0xA0, 0x30000))
        if not (0xD800 <= ord(c) <= 0xDFFF):
            return c


def email_inputs(rng):
    out = []
    for l in LOCALS:
        for d in DOMAINS:
            out.append(f"{l}@{d}")
    for l in LOCALS[:12]:
        for d in BAD_DOMAINS:
            out.append(f"{l}@{d}")
    for _ in range(1500):
        l, d = rng.choice(LOCALS), rng.choice(DOMAINS)
        kind = rng.randrange(9)
        if kind == 0:
            i = rng.randrange(len(l) + 1)
            l = l[:i] + rng.choice(INVISIBLE) + l[i:]
        elif kind == 1:
            i = rng.randrange(len(d) + 1)
            d = d[:i] + rng.choice(INVISIBLE) + d[i:]
        elif kind == 2:
            l = rng.choice(MARKS) + l
        elif kind == 3:
            i = rng.randrange(len(l) + 1)
            l = l[:i] + random_unicode(rng) + l[i:]
        elif kind == 4:
            i = rng.randrange(len(d) + 1)
            d = d[:i] + random_unicode(rng) + d[i:]
        elif kind == 5:
            l = l + rng.choice([".", "..", "@", " ", "\"", "(", ",", "\\"]) + "x"
        elif kind == 6:
            labels = d.split(".")
            j = rng.randrange(len(labels))
            labels[j] = rng.choice(["-", "", "xn--", "ab--"]) + labels[j] + rng.choice(["", "-"])
            d = ".".join(labels)
        elif kind == 7:
            d = d + "." + rng.choice(["local", "onion", "test", "invalid", "arpa", "localhost",
                                      "example", "com", "123", "c0m", "xn--p1ai"])
        else:
            l = l.upper() if rng.randrange(2) else unicodedata.normalize("NFD", l)
        out.append(f"{l}@{d}")
    out += ["", "@", "a@", "@example.com", "a@b@example.com", "\"a b\"@example.com",
            "a(comment)@example.com", "a@[192.0.2.1]", "user@example.com ", " user@example.com",
            "\u00a0user@example.com", "user@example.com\u3000", "Dora@example.org",
            "dora@example.org", "john@-exaämple.com", "\u200bjohn@example.com"]
    return out


def main():
    rng = random.Random(SEED)
    os.makedirs(OUT, exist_ok=True)
    seen = set()
    phones = []
    for text, region in phone_inputs(rng):
        if (text, region) not in seen:
            seen.add((text, region))
            phones.append(phone_label(text, region))
    with open(os.path.join(OUT, "phone_corpus.jsonl"), "w", encoding="utf-8") as f:
        for row in phones:
            f.write(json.dumps(row, ensure_ascii=True, sort_keys=True) + "\n")
    seen = set()
    emails = []
    for text in email_inputs(rng):
        if text not in seen:
            seen.add(text)
            emails.append(email_label(text))
    with open(os.path.join(OUT, "email_corpus.jsonl"), "w", encoding="utf-8") as f:
        for row in emails:
            f.write(json.dumps(row, ensure_ascii=True, sort_keys=True) + "\n")
    versions = {
        "python": sys.version.split()[0],
        "python_unicodedata": unicodedata.unidata_version,
        "phonenumbers": phonenumbers.__version__,
        "email_validator": email_validator.__version__,
        "idna": idna.__version__,
        "seed": SEED,
        "phone_rows": len(phones),
        "email_rows": len(emails),
    }
    with open(os.path.join(OUT, "corpus_versions.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(versions, indent=2, sort_keys=True) + "\n")
    print(json.dumps(versions))


if __name__ == "__main__":
    main()
